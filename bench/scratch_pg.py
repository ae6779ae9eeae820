"""A scratch PostgreSQL database for a benchmark run, dropped afterwards (shared by the benchmarks)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def scratch_postgres(pg_url: str, name: str) -> Iterator[str | None]:
    """The SQLAlchemy URL of a fresh database ``name`` on the server of ``pg_url``; None (with the reason
    printed) when the server cannot be reached, so the benchmark reports SQLite alone."""
    import psycopg

    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
            admin.execute(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL: skipped ({exc})")
        yield None
        return
    try:
        yield pg_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
