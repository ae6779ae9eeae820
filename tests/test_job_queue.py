"""Import jobs on the Redis queue: the web process only enqueues, a real `earlywarn worker` process imports.

Against the real Redis at 127.0.0.1:6379 (database 14, a namespace of its own per test); in CI an unreachable
Redis is a failure, elsewhere a skip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
from sqlmodel import select

from earlywarn.job_queue import QueuedJobs, QueueSettingsError, RedisProgress, claim_daily, serve
from earlywarn.jobs import JobState, MemorySink, run_import
from earlywarn.tables import ImportBatch, Project
from tests.conftest import csrf_of, login

REDIS_URL = "redis://127.0.0.1:6379/14"
PROJECTS = (
    "项目编号,项目名称,所属乡镇,施工总承包单位,开工日期\n"
    "AJ-Q1,递铺队列小区,递铺街道,浙江测试建设有限公司,2025/3/5\n"
    "AJ-Q2,孝丰队列工程,孝丰镇,浙江测试建设有限公司,2025-04-01\n"
)


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail("Redis at 127.0.0.1:6379 is required in CI")
        pytest.skip("Redis not reachable")
    yield client
    client.close()


@pytest.fixture
def queued(settings, redis_client):
    """Settings for the queue, in a namespace no other test shares; its keys are removed afterwards."""
    namespace = f"ew-test-{uuid.uuid4().hex[:10]}"
    yield settings.model_copy(update={"job_queue": "redis", "redis_url": REDIS_URL, "job_namespace": namespace})
    for key in redis_client.scan_iter(f"{namespace}*"):
        redis_client.delete(key)


def _worker_env(settings) -> dict:
    return {**os.environ, "EARLYWARN_DATABASE_URL": settings.database_url, "EARLYWARN_DATA_DIR": str(settings.data_dir),
            "EARLYWARN_SECRET_KEY": settings.secret_key, "EARLYWARN_JOB_QUEUE": "redis",
            "EARLYWARN_REDIS_URL": REDIS_URL, "EARLYWARN_JOB_NAMESPACE": settings.job_namespace}


def _status(client, job_id):
    return client.get(f"/api/imports/{job_id}").json()


def test_the_web_only_enqueues_and_a_worker_process_imports(queued, make_user, session):
    from fastapi.testclient import TestClient

    from earlywarn.app import create_app

    with TestClient(create_app(queued), base_url="https://testserver") as client:
        assert isinstance(client.app.state.jobs, QueuedJobs)
        make_user("wage_checker")
        login(client, "u_wage_checker")
        token = csrf_of(client, "/imports")
        r = client.post("/api/imports", headers={"X-CSRF-Token": token},
                        files=[("files", ("projects.csv", PROJECTS.encode("gbk"), "text/csv"))])
        assert r.status_code == 202
        job_id = r.json()["job_id"]
        time.sleep(0.5)
        # No worker yet: nothing ran inside the web process.
        [queued_file] = _status(client, job_id)["files"]
        assert queued_file["status"] == "queued" and queued_file["progress"] is None
        assert session.exec(select(Project).where(Project.code == "AJ-Q1")).first() is None

        worker = subprocess.Popen([str(Path(sys.executable).with_name("earlywarn")), "worker"], env=_worker_env(queued),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not (data := _status(client, job_id))["finished"]:
                assert time.monotonic() < deadline, "the worker did not finish the job"
                assert worker.poll() is None, worker.communicate()
                time.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGTERM)
            _, stderr = worker.communicate(timeout=30)
        assert worker.returncode == 0, stderr
        assert "工作进程已退出" in stderr
    [f] = data["files"]
    assert (f["status"], f["kind"], f["rows_imported"]) == ("succeeded", "projects", 2)
    session.rollback()  # end the snapshot read before the worker wrote
    assert {p.code for p in session.exec(select(Project))} >= {"AJ-Q1", "AJ-Q2"}
    # The uploaded file (it could hold ID numbers) is gone from the shared folder once imported.
    assert not list((queued.data_dir / "uploads" / job_id).glob("*.csv"))


def test_progress_written_by_a_worker_is_read_by_any_web_process(queued, redis_client):
    sink = RedisProgress(redis_client, queued.job_namespace, "job-1")
    sink.file(7, 5000, 120_000)
    sink.file(8, 0, None)
    reader = RedisProgress(redis.Redis.from_url(REDIS_URL), queued.job_namespace, "job-1")
    state = reader.state()
    assert (state.files[7].done, state.files[7].total, state.files[8].total) == (5000, 120_000, None)
    assert not state.finished and state.error is None
    sink.failed("导入过程中出现内部错误，已全部回滚，请联系管理员")
    sink.finished()
    state = reader.state()
    assert state.finished and state.error.startswith("导入过程中出现内部错误")
    assert 0 < redis_client.ttl(sink.key) <= 7 * 24 * 3600
    assert RedisProgress(redis_client, queued.job_namespace, "no-such-job").state() is None


def test_a_job_delivered_twice_does_not_redo_a_finished_file(settings, engine, session, make_user, tmp_path):
    """Redelivery after a worker died: the batch it committed stays as it was; the rest is imported."""
    user = make_user("wage_checker")
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "01-projects.csv").write_text(PROJECTS, encoding="utf-8")
    batch = ImportBatch(filename="projects.csv", file_sha256="0" * 64, job_id="j2", uploaded_by=user.id,
                        status="queued")
    session.add(batch)
    session.commit()
    state = JobState("j2")
    args = dict(engine=engine, settings=settings, job_id="j2", folder=folder, files=[(folder / "01-projects.csv",
                batch.id)], kind=None, skip_invalid=False, user_id=user.id, sink=MemorySink(state))
    run_import(**args)
    session.refresh(batch)
    assert (batch.status, batch.rows_imported) == ("succeeded", 2) and state.finished
    assert not folder.exists()  # the upload is removed once imported
    folder.mkdir()  # as a worker killed before its clean-up would have left it
    (folder / "01-projects.csv").write_text(PROJECTS, encoding="utf-8")
    run_import(**args)
    session.refresh(batch)
    assert (batch.status, batch.rows_imported) == ("succeeded", 2)  # not turned into "duplicate"
    assert len(session.exec(select(ImportBatch)).all()) == 1


def test_one_worker_a_day_runs_the_morning_refresh(queued, redis_client):
    from datetime import date

    day = date(2026, 11, 28)
    claims = [claim_daily(redis_client, queued.job_namespace, day, who) for who in ("w1", "w2", "w1")]
    assert claims == [True, False, False]
    assert claim_daily(redis_client, queued.job_namespace, date(2026, 11, 29), "w2") is True
    assert redis_client.get(f"{queued.job_namespace}:daily:2026-11-28") == b"w1"


def test_the_queue_needs_a_redis_url(settings):
    with pytest.raises(QueueSettingsError, match="EARLYWARN_REDIS_URL"):
        QueuedJobs(settings=settings.model_copy(update={"job_queue": "redis", "redis_url": None}), engine=None)


def test_the_worker_command_refuses_without_the_queue(settings):
    from typer.testing import CliRunner

    from earlywarn.cli import app
    from earlywarn.config import get_settings

    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["worker"], env={"EARLYWARN_DATABASE_URL": settings.database_url,
                                                     "EARLYWARN_DATA_DIR": str(settings.data_dir),
                                                     "EARLYWARN_JOB_QUEUE": "thread"})
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 2 and "EARLYWARN_JOB_QUEUE=redis" in r.output


def test_serve_stops_when_told(queued):
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(queued,), kwargs={"stop": stop})
    thread.start()
    time.sleep(0.5)
    stop.set()
    thread.join(timeout=20)
    assert not thread.is_alive()
