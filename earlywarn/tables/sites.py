"""Sites and the subcontract chain: companies, projects, subcontracts, workers, rosters, attendance, the
worker-month summary and payroll payments. Money is integer fen; ID numbers are never stored in plain text."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from earlywarn.tables._fields import _fen, _now


class Company(SQLModel, table=True):
    """A unit in a subcontract chain: a company (with USCC), a work team (班组) or an individual."""

    __tablename__ = "company"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    credit_code: str | None = Field(default=None, max_length=18, unique=True)
    kind: str = Field(default="company", max_length=16)


class Project(SQLModel, table=True):
    __tablename__ = "project"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    township: str = Field(max_length=32, index=True)
    general_contractor_id: int = Field(foreign_key="company.id", index=True)
    owner: str | None = Field(default=None, max_length=200)
    start_date: date
    planned_end_date: date | None = None
    contract_value_fen: int | None = _fen(default=None)
    has_wage_account: bool | None = None
    wage_deposit_fen: int | None = _fen(default=None)
    has_notice_board: bool | None = None
    updated_at: datetime = _now()


class Subcontract(SQLModel, table=True):
    """One link parent → child in a project's chain; each child has one parent (the links form a tree)."""

    __tablename__ = "subcontract"
    __table_args__ = (UniqueConstraint("project_id", "child_id"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    parent_id: int = Field(foreign_key="company.id")
    child_id: int = Field(foreign_key="company.id")
    kind: str | None = Field(default=None, max_length=32)


class Worker(SQLModel, table=True):
    __tablename__ = "worker"
    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(max_length=64, unique=True)
    id_cipher: str = Field(max_length=255)
    id_masked: str = Field(max_length=18)
    name: str = Field(max_length=64)
    birth_date: date | None = None
    gender: str | None = Field(default=None, max_length=1)
    phone_cipher: str | None = Field(default=None, max_length=255)
    phone_masked: str | None = Field(default=None, max_length=16)


class RosterEntry(SQLModel, table=True):
    """A worker on a project's real-name roster, in a team, at an agreed daily wage."""

    __tablename__ = "roster_entry"
    __table_args__ = (UniqueConstraint("project_id", "worker_id"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    worker_id: int = Field(foreign_key="worker.id", index=True)
    team_id: int = Field(foreign_key="company.id", index=True)
    trade: str | None = Field(default=None, max_length=32)
    daily_wage_fen: int = _fen()
    entry_date: date
    exit_date: date | None = None


class Attendance(SQLModel, table=True):
    """One worker-day on a project. Hours in hundredths (8.5 h = 850) so sums stay exact integers."""

    __tablename__ = "attendance"
    # Keyed by the natural key, in the files' order (project, then day): inserts append instead of scattering,
    # and "a project's days up to a date" — the wage check — is a key range. On SQLite the table is WITHOUT
    # ROWID, so the key is the table itself: one B-tree per row written instead of a rowid table plus a unique
    # index (measured: 0.72 s instead of 0.98 s for 875,000 upserts). No separate worker index: a worker's
    # days are found through the roster's projects.
    # No foreign keys on this, the one table of a million rows: PostgreSQL runs two trigger checks per row
    # (measured: 9 s instead of 4.5 s for 860,000 rows). The importer admits a row only for a worker on the
    # project's roster, whose own foreign keys guarantee both exist, and nothing deletes projects or workers.
    __table_args__ = {"sqlite_with_rowid": False}
    project_id: int = Field(primary_key=True)
    work_date: date = Field(primary_key=True)
    worker_id: int = Field(primary_key=True)
    hours_centi: int


class AttendanceMonth(SQLModel, table=True):
    """Attendance and payroll summed per worker-month, kept by the importer (derived data, rebuilt per project
    after attendance, roster and payroll files).

    A worker-month whose data all lies on or before a check's as-of date (``last_data_day``) is exactly its row
    here: the wage check reads such rows as they are and sums only the others (the as-of month while later days
    exist, months paid after the date) from ``attendance`` and ``payroll_payment``. A month with payments but no
    attendance has a row with no days and no first or last day."""

    __tablename__ = "attendance_month"
    __table_args__ = (UniqueConstraint("project_id", "period", "worker_id"),)
    id: int | None = Field(default=None, primary_key=True)
    # No foreign keys (migration 0008): derived data, written only from attendance and payments, whose
    # projects and workers exist; PostgreSQL's trigger per row cost most of writing a county's summary.
    project_id: int
    worker_id: int
    period: str = Field(max_length=7)
    earned_x800: int = Field(default=0, sa_type=BigInteger)  # Σ daily_wage_fen × hours_centi (÷ 800 = fen)
    days: int = 0
    first_day: date | None = None
    last_day: date | None = None
    paid_fen: int = _fen(default=0)
    payments: int = 0
    paid_cash_fen: int = _fen(default=0)
    paid_team_leader_fen: int = _fen(default=0)
    paid_outside_special_account_fen: int = _fen(default=0)
    payments_outside_special_account: int = 0
    payments_without_channel: int = 0
    last_pay_date: date | None = None
    # The later of last_day and last_pay_date: as of this day or after, the row is the worker-month's figures.
    # The index finds the few rows that are not, as of a date.
    last_data_day: date = Field(index=True)


class PayrollPayment(SQLModel, table=True):
    __tablename__ = "payroll_payment"
    __table_args__ = (
        UniqueConstraint("project_id", "worker_id", "period", "pay_date", "amount_paid_fen"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # No foreign keys, like attendance (migration 0008): the importer admits a payment only for a worker on the
    # project's roster, whose own foreign keys guarantee both exist (measured: the per-row trigger checks were
    # 1.0 s of a 1.3 s COPY of a county's 48,000 payments).
    project_id: int
    worker_id: int = Field(index=True)
    period: str = Field(max_length=7)  # 'YYYY-MM', sorts and compares as text on both backends
    amount_due_fen: int = _fen()
    amount_paid_fen: int = _fen()
    pay_date: date
    channel: str | None = Field(default=None, max_length=32)
