"""Opening a session outside a request (CLI, jobs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from earlywarn.config import Settings
from earlywarn.db import make_engine
from earlywarn.migrate import upgrade_database


@contextmanager
def open_session(settings: Settings, *, upgrade: bool = True) -> Iterator[Session]:
    if upgrade:
        upgrade_database(settings)
    engine = make_engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()
