"""Background work for the web app: an in-process job runner (the single-machine default).

The request only stores the upload and enqueues; a worker thread runs the import in its own session.
Progress lives in memory (SQLite allows one writer, and the import transaction holds it), the outcome in
``import_batch``. Batches left ``running`` by a crash are marked failed at the next start-up.
"""

from __future__ import annotations

import logging
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

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


class JobRunner:
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
        return self._pool.submit(self._run_import, state, folder, files, kind, skip_invalid, user_id)

    def _run_import(self, state: JobState, folder: Path, files: list[tuple[Path, int]], kind: str | None,
                    skip_invalid: bool, user_id: int | None) -> None:
        from earlywarn.import_rows import KIND_ORDER
        from earlywarn.importer import import_file, peek_kind

        current: list[int] = [0]

        def progress(_name: str, done: int, total: int | None) -> None:
            fp = state.files.setdefault(current[0], FileProgress())
            fp.done, fp.total = done, total

        try:
            ordered = sorted(files, key=lambda f: (KIND_ORDER.index(k) if (k := peek_kind(f[0], kind)) in KIND_ORDER
                                                   else len(KIND_ORDER), f[0].name))
            with Session(self.engine, expire_on_commit=False) as session:
                user = session.get(UserAccount, user_id) if user_id else None
                for path, batch_id in ordered:
                    current[0] = batch_id
                    batch = session.get(ImportBatch, batch_id)
                    batch.status = "running"
                    session.add(batch)
                    session.commit()
                    result = import_file(session=session, settings=self.settings, path=path, kind=kind,
                                         skip_invalid=skip_invalid, user=user, progress=progress,
                                         job_id=state.job_id, batch_id=batch_id)
                    if result.rejected_path is not None:
                        from earlywarn.import_jobs import seal_rejected

                        seal_rejected(settings=self.settings, path=result.rejected_path)
        except Exception as exc:  # recorded for the page; the batch rows say which file failed
            log.exception("import job %s failed", state.job_id)
            state.error = "导入过程中出现内部错误，已全部回滚，请联系管理员"
            _mark_unfinished(self.engine, state.job_id, str(type(exc).__name__))
        finally:
            state.finished = True
            self._cleanup(folder)
        from earlywarn.after_import import refresh_after_import

        refresh_after_import(session_factory=lambda: Session(self.engine, expire_on_commit=False),
                             settings=self.settings, today=local_today())

    def start_daily_scoring(self, hour: int = 6) -> threading.Thread:
        """Score every morning at ``hour`` (Asia/Shanghai), then send the day's case reminders and run the
        retaliation watch, on a daemon thread of this process."""

        def loop() -> None:
            from earlywarn.config import LOCAL_TZ

            while not self._stop.is_set():
                now = utcnow().astimezone(LOCAL_TZ)
                target = now.replace(hour=hour, minute=0, second=0, microsecond=0)
                if target <= now:
                    target += timedelta(days=1)
                if self._stop.wait((target - now).total_seconds()):
                    return
                from earlywarn.after_import import refresh_daily

                refresh_daily(session_factory=lambda: Session(self.engine, expire_on_commit=False),
                              settings=self.settings, today=local_today())

        thread = threading.Thread(target=loop, name="earlywarn-daily-scoring", daemon=True)
        thread.start()
        return thread

    @staticmethod
    def _cleanup(folder: Path) -> None:
        """Uploaded files hold ID numbers in plain text: they live only while their import runs."""
        for path in folder.iterdir():
            if not path.name.endswith(".rejected.csv.enc"):
                path.unlink(missing_ok=True)
        if not any(folder.iterdir()):
            shutil.rmtree(folder, ignore_errors=True)

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
