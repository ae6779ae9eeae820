"""Bulk writes inside the caller's transaction (earlywarn.bulk), on SQLite and PostgreSQL: upserts by natural key,
update expressions, and inserts of rows believed new that fall back to the upsert when a key exists after all."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from earlywarn.bulk import NewRowsStream, bulk_insert_new, bulk_upsert

COLUMNS = ("project_id", "work_date", "worker_id", "hours_centi")
KEY = ("project_id", "work_date", "worker_id")


def attendance(session) -> list[tuple]:
    rows = session.execute(text("SELECT project_id, work_date, worker_id, hours_centi FROM attendance "
                                "ORDER BY project_id, work_date, worker_id")).all()
    return [(p, d if isinstance(d, str) else d.isoformat(), w, h) for p, d, w, h in rows]


def test_upsert_inserts_then_updates_by_key(session):
    assert bulk_upsert(session, "attendance", COLUMNS, [(1, date(2025, 3, 5), 7, 800), (1, "2025-03-06", 7, 400)],
                       KEY, ("hours_centi",)) == 2
    bulk_upsert(session, "attendance", COLUMNS, [(1, "2025-03-05", 7, 750), (2, "2025-03-05", 7, 800)], KEY,
                ("hours_centi",))
    assert attendance(session) == [(1, "2025-03-05", 7, 750), (1, "2025-03-06", 7, 400), (2, "2025-03-05", 7, 800)]
    bulk_upsert(session, "attendance", COLUMNS, [(1, "2025-03-05", 7, 100)], KEY)  # no update columns: kept
    assert attendance(session)[0] == (1, "2025-03-05", 7, 750)
    assert bulk_upsert(session, "attendance", COLUMNS, [], KEY) == 0


def test_upsert_with_an_update_expression(session):
    bulk_upsert(session, "attendance", COLUMNS, [(1, "2025-03-05", 7, 800)], KEY)
    bulk_upsert(session, "attendance", COLUMNS, [(1, "2025-03-05", 7, 50)], KEY,
                {"hours_centi": "attendance.hours_centi + excluded.hours_centi"})
    assert attendance(session) == [(1, "2025-03-05", 7, 850)]


def test_insert_new_rows(session):
    rows = [(3, f"2025-03-{d:02d}", w, 800) for d in range(1, 11) for w in (1, 2)]
    assert bulk_insert_new(session, "attendance", COLUMNS, rows, KEY, ("hours_centi",)) == 20
    assert attendance(session) == rows
    session.commit()
    assert attendance(session) == rows


def test_insert_new_rows_falls_back_to_the_upsert_when_a_key_exists(session):
    # Another import wrote one of these days first: nothing is lost, nothing doubled, the transaction goes on.
    bulk_upsert(session, "attendance", COLUMNS, [(3, "2025-03-02", 1, 400)], KEY)
    rows = [(3, f"2025-03-{d:02d}", 1, 800) for d in range(1, 4)]
    assert bulk_insert_new(session, "attendance", COLUMNS, rows, KEY, ("hours_centi",)) == 3
    assert attendance(session) == rows
    bulk_upsert(session, "attendance", COLUMNS, [(3, "2025-03-04", 1, 200)], KEY)
    session.commit()
    assert attendance(session) == [*rows, (3, "2025-03-04", 1, 200)]


def test_unknown_table_is_refused_on_postgresql(session, settings):
    if settings.is_sqlite:
        pytest.skip("PostgreSQL names the staging table after the target")
    with pytest.raises(ValueError, match="unknown table"):
        bulk_upsert(session, "no_such_table", ("a",), [(1,)], ("a",))
    with pytest.raises(ValueError, match="unknown table"):
        bulk_insert_new(session, "no_such_table", ("a",), [(1,)], ("a",))


def test_insert_new_rows_given_as_csv(session):
    rows = [(4, "2025-03-01", 1, 800), (4, "2025-03-02", 1, 750)]
    made: list[int] = []

    def as_csv() -> bytes:
        made.append(1)
        return b"4,2025-03-01,1,800\n4,2025-03-02,1,750\n"

    assert bulk_insert_new(session, "attendance", COLUMNS, rows, KEY, ("hours_centi",), csv_rows=as_csv) == 2
    assert attendance(session) == rows
    assert made == ([1] if session.get_bind().dialect.name == "postgresql" else [])  # SQLite takes the tuples
    # A key that exists after all: the tuples are upserted instead.
    again = [(4, "2025-03-02", 1, 400), (4, "2025-03-03", 1, 800)]
    bulk_insert_new(session, "attendance", COLUMNS, again, KEY, ("hours_centi",),
                    csv_rows=lambda: b"4,2025-03-02,1,400\n4,2025-03-03,1,800\n")
    assert attendance(session) == [rows[0], *again]


def _csv(rows) -> bytes:
    return "".join(f"{p},{d},{w},{h}\n" for p, d, w, h in rows).encode()


def test_stream_sends_chunks_in_one_copy(session):
    stream = NewRowsStream(session, "attendance", COLUMNS, KEY, ("hours_centi",))
    chunks = [[(5, f"2025-04-{d:02d}", w, 700 + d) for w in (1, 2)] for d in range(1, 6)]
    assert [stream.send(rows, lambda rows=rows: _csv(rows)) for rows in chunks] == [2] * 5
    # PostgreSQL: one COPY stays open across the chunks; SQLite has written each already.
    assert stream.is_open == (session.get_bind().dialect.name == "postgresql")
    stream.close()
    assert not stream.is_open
    stream.close()  # closing twice is harmless
    assert attendance(session) == [r for rows in chunks for r in rows]
    assert stream.send([], lambda: b"") == 0 and not stream.is_open
    session.commit()
    assert len(attendance(session)) == 10


def test_stream_falls_back_to_the_upsert_of_every_chunk_when_a_key_exists(session):
    bulk_upsert(session, "attendance", COLUMNS, [(6, "2025-04-03", 1, 100)], KEY)
    stream = NewRowsStream(session, "attendance", COLUMNS, KEY, ("hours_centi",))
    chunks = [[(6, f"2025-04-{d:02d}", 1, 800)] for d in range(1, 6)]
    for rows in chunks:
        stream.send(rows, lambda rows=rows: _csv(rows))
    stream.close()  # the third chunk met the row already there: all five upserted instead
    assert attendance(session) == [rows[0] for rows in chunks]
    bulk_upsert(session, "attendance", COLUMNS, [(6, "2025-04-06", 1, 200)], KEY)  # the transaction goes on
    session.commit()
    assert len(attendance(session)) == 6


def test_stream_cut_off_midway_leaves_the_session_able_to_roll_back(session):
    bulk_upsert(session, "attendance", COLUMNS, [(7, "2025-04-01", 1, 100)], KEY)
    session.commit()
    stream = NewRowsStream(session, "attendance", COLUMNS, KEY, ("hours_centi",))
    rows = [(7, "2025-04-02", 1, 800)]
    stream.send(rows, lambda: _csv(rows))
    stream.abort(RuntimeError("the file broke off"))
    assert not stream.is_open
    stream.abort(RuntimeError("again"))  # nothing open: nothing to do
    session.rollback()
    assert attendance(session) == [(7, "2025-04-01", 1, 100)]


def test_stream_refuses_an_unknown_table(session):
    with pytest.raises(ValueError, match="unknown table"):
        NewRowsStream(session, "no_such_table", ("a",), ("a",))
