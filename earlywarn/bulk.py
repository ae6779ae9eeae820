"""Dialect-aware bulk upsert inside the caller's transaction.

SQLite: one ``executemany`` of ``INSERT … ON CONFLICT DO UPDATE`` on the raw DB-API cursor (the ORM's
per-object path is ~10× slower). PostgreSQL: ``COPY`` into a temporary staging table, then one
``INSERT … SELECT … ON CONFLICT`` — the same two statements whatever the chunk size.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from sqlmodel import Session

from earlywarn.tables import metadata

# SQLAlchemy's Date type stores ISO text on SQLite; raw inserts must match it exactly. An adapter does the
# conversion in C (per-value Python conversion cost more than the insert itself). It is registered for the
# exact type ``date`` only; datetimes never take this path.
sqlite3.register_adapter(date, date.isoformat)


def _known(table: str) -> None:
    """Table names are put into SQL text (the staging table is named after its target): only the schema's own."""
    if table not in metadata.tables:
        raise ValueError(f"unknown table {table}")


def bulk_upsert(session: Session, table: str, columns: Sequence[str], rows: list[tuple],
                conflict: Sequence[str], update: Sequence[str] | Mapping[str, str] = ()) -> int:
    """Insert ``rows`` (tuples in ``columns`` order); on a natural-key conflict update ``update`` columns
    (or leave the row as it is when ``update`` is empty). ``update`` may map a column to an SQL expression
    instead, over ``excluded.<column>`` (the new row) and ``<table>.<column>`` (the row there). Returns the
    number of rows sent.

    The rows of one call must have distinct keys (the importer's in-file checks see to it): PostgreSQL
    refuses an ``ON CONFLICT DO UPDATE`` that touches one row twice."""
    if not rows:
        return 0
    conn = session.connection()
    cols = ", ".join(columns)
    target = ", ".join(conflict)
    sets = update if isinstance(update, Mapping) else {c: f"excluded.{c}" for c in update}
    action = ("DO UPDATE SET " + ", ".join(f"{c} = {expr}" for c, expr in sets.items())) if sets else "DO NOTHING"
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT ({target}) {action}"
        raw = conn.connection.dbapi_connection
        cur = raw.cursor()
        try:
            cur.executemany(sql, rows)
        finally:
            cur.close()
        return len(rows)
    _known(table)
    stage = f"stage_{table}_{len(columns)}"
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DROP "
                    f"AS SELECT {cols} FROM {table} WITH NO DATA")
        cur.execute(f"TRUNCATE {stage}")
        with cur.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT ({target}) {action}")
    return len(rows)


def bulk_insert_new(session: Session, table: str, columns: Sequence[str], rows: Sequence[tuple],
                    conflict: Sequence[str], update: Sequence[str] | Mapping[str, str] = (),
                    csv_rows: Callable[[], bytes] | None = None) -> int:
    """:func:`bulk_upsert` for rows believed new (their keys lie past anything the table held before): a
    :class:`NewRowsStream` of one chunk. ``csv_rows``, when given, makes the same rows as CSV for the COPY
    (cheaper than the driver's row-by-row formatting; ``rows`` is then read only for the fallback)."""
    stream = NewRowsStream(session, table, columns, conflict, update, csv=csv_rows is not None)
    try:
        sent = stream.send(rows, csv_rows)
    except BaseException as exc:
        stream.abort(exc)
        raise
    stream.close()
    return sent


class NewRowsStream:
    """Chunks of rows believed new (their keys lie past anything the table held before), for a file's worth.

    PostgreSQL: ``COPY`` straight into the table under a savepoint — half the server's work of the staging
    table and ``ON CONFLICT`` (measured: 1.2 s against 1.9 s for 875,000 attendance rows) — and one ``COPY``
    kept open while the importer reads and checks the next chunk, so the server writes one chunk while the
    client works on the next (two cores instead of one in turn). Nothing else may use the connection until
    :meth:`close` — the writer closes the stream before any other statement of its own, and the importer when
    the rows end. Should a key exist after all (another import of the same site committed first), the
    savepoint is rolled back and every row sent is upserted instead; the chunks are kept until then (their
    arrays: tens of MB for a million rows).

    SQLite: each chunk is upserted at once, which costs there what a plain insert does."""

    SAVEPOINT = "new_rows_stream"

    def __init__(self, session: Session, table: str, columns: Sequence[str], conflict: Sequence[str],
                 update: Sequence[str] | Mapping[str, str] = (), *, csv: bool = True):
        _known(table)
        self.session, self.table, self.columns = session, table, tuple(columns)
        self.conflict, self.update = conflict, update
        self.csv = csv  # chunks come as CSV (send's csv_rows); else the driver formats the tuples
        self._cursor = None
        self._copy_block = None  # the cursor's copy() context while a COPY is open …
        self._copy = None  # … and psycopg's Copy it gave
        self._sent: list[Sequence[tuple]] = []

    @property
    def is_open(self) -> bool:
        return self._copy is not None

    def send(self, rows: Sequence[tuple], csv_rows: Callable[[], bytes] | None = None) -> int:
        """Send ``rows``; in a CSV stream they are given as CSV by ``csv_rows`` and the tuples are read only
        should the COPY fail. Returns how many."""
        if not len(rows):
            return 0
        conn = self.session.connection()
        if conn.dialect.name != "postgresql":
            return bulk_upsert(self.session, self.table, self.columns, rows, self.conflict, self.update)
        if self._copy is None:
            self._cursor = conn.connection.dbapi_connection.cursor()
            self._cursor.execute(f"SAVEPOINT {self.SAVEPOINT}")
            options = " WITH (FORMAT csv)" if self.csv else ""
            self._copy_block = self._cursor.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN{options}")
            self._copy = self._copy_block.__enter__()
        self._sent.append(rows)
        if self.csv:
            self._copy.write(csv_rows())
        else:
            for row in rows:
                self._copy.write_row(row)
        return len(rows)

    def close(self) -> None:
        """End the COPY and wait for the server: the connection is free again. Upserts every row sent instead
        when a key turned out to exist."""
        if self._copy is None:
            return
        import psycopg

        block, cursor, sent = self._copy_block, self._cursor, self._sent
        self._copy = self._copy_block = self._cursor = None
        self._sent = []
        try:
            try:
                block.__exit__(None, None, None)
            except psycopg.errors.UniqueViolation:
                cursor.execute(f"ROLLBACK TO SAVEPOINT {self.SAVEPOINT}")
                for rows in sent:
                    bulk_upsert(self.session, self.table, self.columns, rows, self.conflict, self.update)
            cursor.execute(f"RELEASE SAVEPOINT {self.SAVEPOINT}")
        finally:
            cursor.close()

    def abort(self, exc: BaseException) -> None:
        """End an open COPY with an error (the server discards it and the transaction is left for the caller to
        roll back), so that a failure midway does not leave the connection stuck in the COPY."""
        if self._copy is None:
            return
        block, cursor = self._copy_block, self._cursor
        self._copy = self._copy_block = self._cursor = None
        self._sent = []
        try:
            block.__exit__(type(exc), exc, exc.__traceback__)
        except Exception:  # noqa: BLE001 — the server's answer to the abort; the original error is what matters
            pass
        finally:
            cursor.close()
