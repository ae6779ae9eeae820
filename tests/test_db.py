"""Migrations on both backends, timestamps, the append-only audit log."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from earlywarn.audit import GENESIS, record_audit, record_audits, verify_chain
from earlywarn.migrate import alembic_config, current_revision, upgrade_database
from earlywarn.tables import AuditLog, UserAccount, metadata


def test_migrations_reach_head_and_match_the_tables(settings, engine):
    assert current_revision(settings) == "0008"
    names = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= names
    command.check(alembic_config(settings))  # raises if tables.py and the migrations drift apart


def test_migrations_go_down_and_up_again(settings, engine):
    cfg = alembic_config(settings)
    command.downgrade(cfg, "base")
    assert "worker" not in inspect(engine).get_table_names()
    upgrade_database(settings)
    assert "worker" in inspect(engine).get_table_names()


def test_attendance_is_keyed_by_its_natural_key(settings, engine):
    # Migration 0007: the one table of a million rows has no surrogate id; on SQLite the key is the table.
    inspector = inspect(engine)
    assert inspector.get_pk_constraint("attendance")["constrained_columns"] == ["project_id", "work_date", "worker_id"]
    assert "id" not in {c["name"] for c in inspector.get_columns("attendance")}
    if settings.is_sqlite:
        with engine.connect() as conn:
            ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'attendance'")).scalar()
        assert ddl.rstrip().endswith("WITHOUT ROWID")


def test_payments_and_the_summary_carry_no_foreign_keys(settings, engine):
    # Migration 0008: the per-row trigger checks were most of writing them on PostgreSQL; 0007 had them.
    tables = ("payroll_payment", "attendance_month")
    assert [inspect(engine).get_foreign_keys(t) for t in tables] == [[], []]
    command.downgrade(alembic_config(settings), "0007")
    engine.dispose()  # a pooled SQLite connection answers PRAGMA foreign_key_list from the schema it read before
    inspector = inspect(engine)
    assert [sorted(fk["referred_table"] for fk in inspector.get_foreign_keys(t)) for t in tables] == [
        ["project", "worker"], ["project", "worker"]]
    upgrade_database(settings)
    assert [inspect(engine).get_foreign_keys(t) for t in tables] == [[], []]


def test_sqlite_pragmas(settings, engine):
    if not settings.is_sqlite:
        pytest.skip("SQLite only")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_timestamps_are_stored_utc_and_come_back_aware(session):
    shanghai = timezone(timedelta(hours=8))
    user = UserAccount(username="tz", display_name="tz", password_hash="x", role="admin",
                       created_at=datetime(2026, 1, 15, 9, 30, tzinfo=shanghai))
    session.add(user)
    session.commit()
    session.expire_all()
    back = session.get(UserAccount, user.id)
    assert back.created_at == datetime(2026, 1, 15, 1, 30, tzinfo=UTC)
    assert back.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(session):
    session.add(UserAccount(username="naive", display_name="n", password_hash="x", role="admin",
                            created_at=datetime(2026, 1, 15, 9, 30)))
    with pytest.raises(Exception, match="naive datetime"):
        session.commit()


def test_audit_log_is_hash_chained(session):
    a = record_audit(session=session, action="test.one", detail={"n": 1, "id_number": "330523198001010011"})
    b = record_audit(session=session, action="test.two", object_type="case", object_id=7)
    session.commit()
    assert a.prev_hash == GENESIS and b.prev_hash == a.hash
    assert a.detail["id_number"] == "[redacted]"  # never an ID number in the audit log
    assert verify_chain(session=session) == (True, None)


def test_audit_entries_written_together_chain_as_one_by_one(session):
    first = record_audit(session=session, action="test.before")
    batch = record_audits(session=session, entries=[
        dict(action="test.a", object_type="informant", object_id=1, detail={"phone": "13812345678"}),
        dict(action="test.b", object_type="informant", object_id=2)])
    session.commit()
    assert [e.prev_hash for e in batch] == [first.hash, batch[0].hash]
    assert batch[0].detail == {"phone": "[redacted]"} and batch[1].object_id == "2"
    assert batch[0].id < batch[1].id and verify_chain(session=session) == (True, None)
    assert record_audits(session=session, entries=[]) == []


def test_audit_log_refuses_update_and_delete(session):
    entry = record_audit(session=session, action="test.one")
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("UPDATE audit_log SET action = 'forged' WHERE id = :id"), {"id": entry.id})
    session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("DELETE FROM audit_log"))
    session.rollback()
    assert session.exec(select(AuditLog.action)).all() == ["test.one"]
