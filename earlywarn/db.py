"""Engines, sessions and the portable column types; the only place an engine is made."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from earlywarn.config import Settings


class UTCDateTime(TypeDecorator):
    """Timezone-aware timestamps stored as UTC on both backends.

    SQLite silently drops the offset of ``DateTime(timezone=True)``; this converts aware values to UTC on the
    way in, re-attaches UTC on the way out, and refuses naive datetimes so no local time sneaks in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json_dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


def make_engine(settings: Settings, *, immediate: bool = True) -> Engine:
    """``immediate``: SQLite transactions take the write lock when they begin (the app's setting: a request
    that reads and then writes never fails on a lock upgrade). Tests and read-only tools that keep a session
    open across requests pass False, so their reads do not hold the writers up."""
    url = settings.database_url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               json_serializer=_json_dumps)

        @event.listens_for(engine, "connect")
        def _sqlite_on_connect(dbapi_conn, _record):
            # pysqlite's implicit BEGIN would defer the write lock; we issue BEGIN IMMEDIATE ourselves.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000",
                           "cache_size=-65536", "temp_store=MEMORY"):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=_json_dumps)
