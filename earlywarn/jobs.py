"""Background work for the web app: an in-process job runner (the single-machine default).

The request only stores the upload and enqueues; a worker thread runs the import in its own session.
Progress lives in memory (SQLite allows one writer, and the import transaction holds it), the outcome in
``import_batch``. Batches left ``running`` by a crash are marked failed at the next start-up. Past one
machine, :mod:`earlywarn.job_queue` runs the same :func:`run_import` in ``earlywarn worker`` processes.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from earlywarn.config import Settings, local_today
from earlywarn.db import utcnow
from earlywarn.tables import ImportBatch, UserAccount

log = logging.getLogger("earlywarn.jobs")


@dataclass
class FileProgress:
    done: int = 0
    total: int | None = None


@dataclass
class JobState:
    job_id: str
    files: dict[int, FileProgress] = field(default_factory=dict)  # batch id → progress
    finished: bool = False
    error: str | None = None


class ProgressSink(Protocol):
    """Where a running import reports: memory for the thread runner, Redis for the queue's workers."""

    def file(self, batch_id: int, done: int, total: int | None) -> None: ...

    def failed(self, message: str) -> None: ...

    def finished(self) -> None: ...


class Jobs(Protocol):
    """What the web process needs of a job runner: :class:`JobRunner` here, or ``job_queue.QueuedJobs``."""

    def state(self, job_id: str) -> JobState | None: ...

    def submit_import(self, *, job_id: str, folder: Path, files: list[tuple[Path, int]], kind: str | None,
                      skip_invalid: bool, user_id: int | None) -> object: ...


class MemorySink:
    def __init__(self, state: JobState):
        self.state = state

    def file(self, batch_id: int, done: int, total: int | None) -> None:
        fp = self.state.files.setdefault(batch_id, FileProgress())
        fp.done, fp.total = done, total

    def failed(self, message: str) -> None:
        self.state.error = message

    def finished(self) -> None:
        self.state.finished = True


def run_import(*, engine: Engine, settings: Settings, job_id: str, folder: Path, files: list[tuple[Path, int]],
               kind: str | None, skip_invalid: bool, user_id: int | None, sink: ProgressSink) -> None:
    """One upload's import job, wherever it runs: each file in dependency order in its own transaction, the
    plain uploads removed afterwards, then the checks and scores refreshed. A batch already finished is left
    alone, so a job delivered twice (a queue worker died after committing a file) does not redo it."""
    from earlywarn.import_rows import KIND_ORDER
    from earlywarn.importer import import_file, peek_kind

    current: list[int] = [0]

    def progress(_name: str, done: int, total: int | None) -> None:
        sink.file(current[0], done, total)

    try:
        ordered = sorted(files, key=lambda f: (KIND_ORDER.index(k) if (k := peek_kind(f[0], kind)) in KIND_ORDER
                                               else len(KIND_ORDER), f[0].name))
        with Session(engine, expire_on_commit=False) as session:
            user = session.get(UserAccount, user_id) if user_id else None
            for path, batch_id in ordered:
                current[0] = batch_id
                batch = session.get(ImportBatch, batch_id)
                if batch is None or batch.status not in ("queued", "running"):
                    continue
                batch.status = "running"
                session.add(batch)
                session.commit()
                result = import_file(session=session, settings=settings, path=path, kind=kind,
                                     skip_invalid=skip_invalid, user=user, progress=progress, job_id=job_id,
                                     batch_id=batch_id)
                if result.rejected_path is not None:
                    from earlywarn.import_jobs import seal_rejected

                    seal_rejected(settings=settings, path=result.rejected_path)
    except Exception as exc:  # recorded for the page; the batch rows say which file failed
        log.exception("import job %s failed", job_id)
        sink.failed("导入过程中出现内部错误，已全部回滚，请联系管理员")
        _mark_unfinished(engine, job_id, str(type(exc).__name__))
    finally:
        sink.finished()
        _cleanup(folder)
    from earlywarn.after_import import refresh_after_import

    refresh_after_import(session_factory=lambda: Session(engine, expire_on_commit=False), settings=settings,
                         today=local_today())


def start_daily_refresh(*, engine: Engine, settings: Settings, hour: int, stop: threading.Event,
                        claim: Callable[[date], bool] | None = None) -> threading.Thread:
    """Score every morning at ``hour`` (Asia/Shanghai), then send the day's case reminders and run the
    retaliation watch, on a daemon thread of this process (until ``stop`` is set). With several processes,
    ``claim(day)`` lets only the first of them run a day's refresh (job_queue.claim_daily)."""

    def loop() -> None:
        from earlywarn.config import LOCAL_TZ

        while not stop.is_set():
            now = utcnow().astimezone(LOCAL_TZ)
            target = now.replace(hour=hour, minute=0, second=0, microsecond=0)
            if target <= now:
                target += timedelta(days=1)
            if stop.wait((target - now).total_seconds()):
                return
            from earlywarn.after_import import refresh_daily

            today = local_today()
            if claim is not None and not claim(today):
                continue
            refresh_daily(session_factory=lambda: Session(engine, expire_on_commit=False), settings=settings,
                          today=today)

    thread = threading.Thread(target=loop, name="earlywarn-daily-scoring", daemon=True)
    thread.start()
    return thread


def _cleanup(folder: Path) -> None:
    """Uploaded files hold ID numbers in plain text: they live only while their import runs."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if not path.name.endswith(".rejected.csv.enc"):
            path.unlink(missing_ok=True)
    if not any(folder.iterdir()):
        shutil.rmtree(folder, ignore_errors=True)


class JobRunner:
    """The single-machine default: a thread pool inside the web process."""

    def __init__(self, *, settings: Settings, engine: Engine, workers: int = 1):
        self.settings = settings
        self.engine = engine
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="earlywarn-job")
        self._states: dict[str, JobState] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def state(self, job_id: str) -> JobState | None:
        with self._lock:
            return self._states.get(job_id)

    def submit_import(self, *, job_id: str, folder: Path, files: list[tuple[Path, int]], kind: str | None,
                      skip_invalid: bool, user_id: int | None) -> Future:
        state = JobState(job_id=job_id, files={batch_id: FileProgress() for _, batch_id in files})
        with self._lock:
            self._states[job_id] = state
        return self._pool.submit(run_import, engine=self.engine, settings=self.settings, job_id=job_id,
                                 folder=folder, files=files, kind=kind, skip_invalid=skip_invalid, user_id=user_id,
                                 sink=MemorySink(state))

    def start_daily_scoring(self, hour: int = 6) -> threading.Thread:
        return start_daily_refresh(engine=self.engine, settings=self.settings, hour=hour, stop=self._stop)

    def shutdown(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=False)


def _mark_unfinished(engine: Engine, job_id: str | None, reason: str) -> int:
    with Session(engine) as session:
        q = select(ImportBatch).where(ImportBatch.status.in_(("queued", "running")))
        if job_id:
            q = q.where(ImportBatch.job_id == job_id)
        rows = session.exec(q).all()
        for batch in rows:
            batch.status = "failed"
            batch.finished_at = utcnow()
            batch.summary = {**(batch.summary or {}), "message": f"导入中断（{reason}），未导入任何数据"}
            session.add(batch)
        session.commit()
        return len(rows)


def recover_interrupted(engine: Engine) -> int:
    """At start-up: imports that were running when the process died hold nothing; say so in the history."""
    return _mark_unfinished(engine, None, "服务重启")
