"""Import jobs past one machine: Dramatiq on Redis (``EARLYWARN_JOB_QUEUE=redis``).

The web process stores the upload, records the queued batches, commits, and only then sends a message;
``earlywarn worker`` processes — on this machine or on others that share the data folder and the database —
run :func:`earlywarn.jobs.run_import`, the same code as the in-process runner. Progress lives in Redis,
where every web process can read it; the outcome in ``import_batch`` as before.

A worker that dies mid-import leaves nothing behind (one transaction per file). Its unacknowledged message is
delivered again once the broker's heartbeat times out; ``run_import`` skips the batches already finished and
the import is idempotent, so the job simply completes. That is also why the web process does not mark
``running`` batches failed at start-up in this mode: a worker elsewhere may be running them.

The morning refresh (scores, reminders, the retaliation watch) runs in the workers too, claimed in Redis by
one of them a day, not in every web process.

Dramatiq rather than a hand-written Redis list: acknowledgement, redelivery after a worker's death, time
limits and graceful shutdown are what a queue is for (shared/reference/eco-reliability.md §7).
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import date
from pathlib import Path

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy.engine import Engine

from earlywarn.config import Settings
from earlywarn.jobs import FileProgress, JobState, run_import, start_daily_refresh

log = logging.getLogger("earlywarn.job_queue")

QUEUE = "imports"
ACTOR = "earlywarn_import"
TIME_LIMIT_MS = 6 * 3600 * 1000  # a province's payroll file may take long; Dramatiq's default is 10 minutes
PROGRESS_TTL_S = 7 * 24 * 3600


class QueueSettingsError(ValueError):
    """The queue was asked for without what it needs (message in Chinese and English)."""


def _redis_url(settings: Settings) -> str:
    if not settings.redis_url:
        raise QueueSettingsError("EARLYWARN_JOB_QUEUE=redis 需要同时设置 EARLYWARN_REDIS_URL / "
                                 "the Redis job queue needs EARLYWARN_REDIS_URL")
    return settings.redis_url


def make_broker(settings: Settings) -> RedisBroker:
    broker = RedisBroker(url=_redis_url(settings), namespace=settings.job_namespace)
    broker.declare_queue(QUEUE)
    return broker


class RedisProgress:
    """One job's progress in a Redis hash (``<namespace>:progress:<job id>``): ``<batch id>`` → ``done/total``,
    plus ``error`` and ``finished``. Written by the worker, read by any web process; it expires after a week
    (the outcome itself is in ``import_batch``)."""

    def __init__(self, client: redis.Redis, namespace: str, job_id: str):
        self.client = client
        self.job_id = job_id
        self.key = f"{namespace}:progress:{job_id}"

    def _set(self, field: str, value: str) -> None:
        with self.client.pipeline() as pipe:
            pipe.hset(self.key, field, value)
            pipe.expire(self.key, PROGRESS_TTL_S)
            pipe.execute()

    def file(self, batch_id: int, done: int, total: int | None) -> None:
        self._set(str(batch_id), f"{done}/{'' if total is None else total}")

    def failed(self, message: str) -> None:
        self._set("error", message)

    def finished(self) -> None:
        self._set("finished", "1")

    def state(self) -> JobState | None:
        raw = self.client.hgetall(self.key)
        if not raw:
            return None
        state = JobState(job_id=self.job_id)
        for field, value in ((k.decode(), v.decode()) for k, v in raw.items()):
            if field == "error":
                state.error = value
            elif field == "finished":
                state.finished = True
            elif field.isdigit():
                done, _, total = value.partition("/")
                state.files[int(field)] = FileProgress(int(done), int(total) if total else None)
        return state


class QueuedJobs:
    """The web process's side: the same interface as :class:`earlywarn.jobs.JobRunner`, but the work is sent
    to the queue."""

    def __init__(self, *, settings: Settings, engine: Engine):
        self.settings = settings
        self.engine = engine
        self.broker = make_broker(settings)
        self.client = redis.Redis.from_url(_redis_url(settings))
        self._stop = threading.Event()

    def state(self, job_id: str) -> JobState | None:
        return RedisProgress(self.client, self.settings.job_namespace, job_id).state()

    def submit_import(self, *, job_id: str, folder: Path, files: list[tuple[Path, int]], kind: str | None,
                      skip_invalid: bool, user_id: int | None) -> dramatiq.Message:
        # Ids and paths, never objects: the message outlives this request and may cross machines.
        message = dramatiq.Message(queue_name=QUEUE, actor_name=ACTOR, args=(), options={}, kwargs={
            "job_id": job_id, "folder": str(folder), "files": [[str(p), b] for p, b in files], "kind": kind,
            "skip_invalid": skip_invalid, "user_id": user_id})
        return self.broker.enqueue(message)

    def start_daily_scoring(self, hour: int = 6) -> None:
        """Nothing in a web process: the workers run the morning refresh, one of them a day (:func:`serve`)."""
        return None

    def shutdown(self) -> None:
        self._stop.set()
        self.broker.close()
        self.client.close()


def claim_daily(client: redis.Redis, namespace: str, day: date, who: str) -> bool:
    """True for the first process to ask for ``day``'s morning refresh; the claim outlives the day."""
    return bool(client.set(f"{namespace}:daily:{day.isoformat()}", who, nx=True, ex=36 * 3600))


def serve(settings: Settings, *, threads: int = 1, stop: threading.Event | None = None) -> None:
    """``earlywarn worker``: consume import jobs until SIGINT/SIGTERM (or ``stop``), then finish the job in hand
    and exit; with ``daily_scoring``, also the morning refresh, which one worker a day runs. Runs no
    migrations: the web process upgrades the database at its start."""
    from earlywarn.db import make_engine

    engine = make_engine(settings)
    broker = make_broker(settings)
    client = redis.Redis.from_url(_redis_url(settings))

    def import_job(job_id: str, folder: str, files: list, kind: str | None, skip_invalid: bool,
                   user_id: int | None) -> None:
        log.info("import job %s: %d file(s)", job_id, len(files))
        run_import(engine=engine, settings=settings, job_id=job_id, folder=Path(folder),
                   files=[(Path(p), int(b)) for p, b in files], kind=kind, skip_invalid=skip_invalid,
                   user_id=user_id, sink=RedisProgress(client, settings.job_namespace, job_id))

    # The import records its own failures in import_batch: a retry would only repeat them.
    dramatiq.actor(import_job, broker=broker, actor_name=ACTOR, queue_name=QUEUE, max_retries=0,
                   time_limit=TIME_LIMIT_MS)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    worker = dramatiq.Worker(broker, worker_threads=threads, queues={QUEUE}, worker_timeout=500)
    worker.start()
    if settings.daily_scoring:
        start_daily_refresh(engine=engine, settings=settings, hour=settings.daily_scoring_hour, stop=stop,
                            claim=lambda day: claim_daily(client, settings.job_namespace, day, broker.broker_id))
    try:
        stop.wait()
    finally:
        worker.stop()  # waits for the job in hand
        broker.close()
        client.close()
        engine.dispose()
