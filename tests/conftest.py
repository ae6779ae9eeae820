"""Fixtures: every DB-backed test runs on SQLite and, when reachable, on PostgreSQL.

PostgreSQL is selected with ``--postgres-url`` or EARLYWARN_TEST_POSTGRES_URL (default: the local server at
127.0.0.1:5432 if it answers; EARLYWARN_TEST_POSTGRES=required makes an unreachable server an error, as CI
does). Each run migrates one fresh template database; each test gets its own copy of it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlmodel import Session

from earlywarn.config import ROOT, Settings
from earlywarn.db import make_engine
from earlywarn.migrate import upgrade_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RUN_ID = uuid.uuid4().hex[:8]


def pytest_addoption(parser):
    parser.addoption("--postgres-url", default=os.environ.get("EARLYWARN_TEST_POSTGRES_URL", DEFAULT_PG),
                     help="admin URL of a PostgreSQL server for the PostgreSQL half of the suite ('' to skip)")


def _pg_reachable(url: str) -> bool:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        url = metafunc.config.getoption("--postgres-url")
        if url and metafunc.config.stash.setdefault(_PG_OK, None) is None:
            metafunc.config.stash[_PG_OK] = _pg_reachable(url)
        if url and metafunc.config.stash[_PG_OK]:
            backends.append("postgresql")
        elif os.environ.get("EARLYWARN_TEST_POSTGRES") == "required":
            raise pytest.UsageError(f"PostgreSQL required but not reachable at {url}")
        metafunc.parametrize("backend", backends, scope="session")


_PG_OK = pytest.StashKey[bool | None]()


def _base_settings(tmp: Path, url: str) -> Settings:
    return Settings(database_url=url, data_dir=tmp, secret_key="test-secret-do-not-use-in-production",
                    rules_dir=ROOT / "rules", model_dir=ROOT / "models", web_dir=ROOT / "web",
                    reference_file=ROOT / "seed" / "anji.yaml")


@pytest.fixture(scope="session")
def template_db(backend, tmp_path_factory, pytestconfig) -> Iterator[str]:
    """A migrated database to copy from, one per backend per run."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade_database(_base_settings(path.parent, f"sqlite:///{path}"))
        yield str(path)
        return
    admin_url = pytestconfig.getoption("--postgres-url")
    name = f"ew_tpl_{RUN_ID}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    upgrade_database(_base_settings(tmp_path_factory.mktemp("pg"), url))
    # A template must have no open connections when it is copied.
    create_engine(url).dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(backend, template_db, tmp_path, pytestconfig) -> Iterator[Settings]:
    if backend == "sqlite":
        path = tmp_path / "earlywarn.db"
        shutil.copy(template_db, path)
        yield _base_settings(tmp_path, f"sqlite:///{path}")
        return
    admin_url = pytestconfig.getoption("--postgres-url")
    name = f"ew_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
    yield _base_settings(tmp_path, admin_url.rsplit("/", 1)[0] + f"/{name}")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(settings):
    # Deferred transactions: a test's session stays open across requests and must not block the app's writes.
    eng = make_engine(settings, immediate=False)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def app(settings):
    from earlywarn.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    # __Host- cookies are Secure: TestClient only sends them back over https.
    with TestClient(app, base_url="https://testserver") as c:
        yield c


PASSWORD = "correct-horse-battery"


@pytest.fixture
def make_user(session):
    from earlywarn import auth

    def _make(role: str, username: str | None = None):
        return auth.create_user(session=session, username=username or f"u_{role}", password=PASSWORD, role=role)

    return _make


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """The CSRF token a real browser would find in the page's form."""
    import re

    html = client.get(path).text
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, f"no csrf token on {path}"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD):
    token = csrf_of(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)
