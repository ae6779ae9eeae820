"""Every table of the system (SQLModel). Money is integer fen (``*_fen``), timestamps aware UTC.

Personal identifiers are never stored in plain text: an ID number is kept as a Fernet ciphertext
(``*_cipher``), a keyed hash for matching (``*_hash``) and a masked form for display (``*_masked``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, MetaData, UniqueConstraint
from sqlmodel import Field, SQLModel

from earlywarn.db import UTCDateTime, utcnow

# Stable constraint names make Alembic's batch mode (SQLite table rebuilds) predictable.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _now() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime)


def _fen(**kw: Any) -> Any:
    """Money in integer fen; 64-bit because a contract value passes 2^31 fen (￥21 million)."""
    return Field(sa_type=BigInteger, **kw)


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# ---------------------------------------------------------------- organisations and people


class OrgUnit(SQLModel, table=True):
    """A node of the union tree: county federation → township/street unions → grassroots; industry unions."""

    __tablename__ = "org_unit"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    kind: str = Field(max_length=32)
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    township: str | None = Field(default=None, max_length=32, index=True)


class MediationOrg(SQLModel, table=True):
    """A mediation organisation (调解委员会/调解中心) attached to an org unit."""

    __tablename__ = "mediation_org"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)


class UserAccount(SQLModel, table=True):
    __tablename__ = "user_account"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=32, index=True)
    org_unit_id: int | None = Field(default=None, foreign_key="org_unit.id")
    locale: str | None = Field(default=None, max_length=16)
    is_active: bool = True
    created_at: datetime = _now()
    last_login_at: datetime | None = _ts(default=None)


class UserSession(SQLModel, table=True):
    """Server-side session: the cookie carries a random token, the table only its SHA-256."""

    __tablename__ = "user_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    csrf_secret: str = Field(max_length=64)
    created_at: datetime = _now()
    last_seen_at: datetime = _now()
    expires_at: datetime = _ts()
    revoked_at: datetime | None = _ts(default=None)


# ---------------------------------------------------------------- sites and the subcontract chain


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
    # Key order follows the files (project, then day): inserts append to the index instead of scattering,
    # and "a project's days up to a date" — the wage check — is an index range. No separate worker index:
    # a worker's days are found through the roster's projects.
    # No foreign keys on this, the one table of a million rows: PostgreSQL runs two trigger checks per row
    # (measured: 9 s instead of 4.5 s for 860,000 rows). The importer admits a row only for a worker on the
    # project's roster, whose own foreign keys guarantee both exist, and nothing deletes projects or workers.
    __table_args__ = (UniqueConstraint("project_id", "work_date", "worker_id"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int
    worker_id: int
    work_date: date
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
    project_id: int = Field(foreign_key="project.id")
    worker_id: int = Field(foreign_key="worker.id")
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
    project_id: int = Field(foreign_key="project.id")
    worker_id: int = Field(foreign_key="worker.id", index=True)
    period: str = Field(max_length=7)  # 'YYYY-MM', sorts and compares as text on both backends
    amount_due_fen: int = _fen()
    amount_paid_fen: int = _fen()
    pay_date: date
    channel: str | None = Field(default=None, max_length=32)


# ---------------------------------------------------------------- informants and reports


class Informant(SQLModel, table=True):
    """A registered informant. Mediators see only ``信息员 #pseudonym_no``; identity is encrypted."""

    __tablename__ = "informant"
    id: int | None = Field(default=None, primary_key=True)
    pseudonym_no: int = Field(unique=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", unique=True)
    ref_hash: str | None = Field(default=None, max_length=64, unique=True)  # keyed hash of the sender's code
    name_cipher: str | None = Field(default=None, max_length=255)
    phone_cipher: str | None = Field(default=None, max_length=255)
    township: str | None = Field(default=None, max_length=32, index=True)
    org_unit_id: int | None = Field(default=None, foreign_key="org_unit.id")
    is_active: bool = True
    registered_at: datetime = _now()


class Report(SQLModel, table=True):
    """An informant report. Nothing identifying is stored for an anonymous one: no IP, no user agent."""

    __tablename__ = "report"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=80, unique=True)  # the sender's report_id, or a hash of the content
    received_at: datetime = _ts(index=True)
    informant_id: int | None = Field(default=None, foreign_key="informant.id", index=True)
    township: str | None = Field(default=None, max_length=32, index=True)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    project_code_text: str | None = Field(default=None, max_length=64)
    employer_text: str | None = Field(default=None, max_length=200)
    text: str = Field(max_length=5000)
    workers_involved: int | None = None
    amount_claimed_fen: int | None = _fen(default=None)
    category: str | None = Field(default=None, max_length=32)
    escalation: bool = False
    collective: bool = False
    status: str = Field(default="received", max_length=16)
    source: str = Field(default="web", max_length=16)
    receipt_hash: str | None = Field(default=None, max_length=64, unique=True)
    import_batch_id: int | None = Field(default=None, foreign_key="import_batch.id")
    # Understanding: the classifier's verdict (category confidence, probabilities, reasons, model version).
    category_confidence: float | None = None  # a probability, not money
    analysis: dict = _json()
    # Linking to a project and company: how (code, name, fuzzy, manual) and how sure.
    company_id: int | None = Field(default=None, foreign_key="company.id", index=True)
    link_method: str | None = Field(default=None, max_length=16)
    link_confidence: float | None = None
    corroboration: str | None = Field(default=None, max_length=20)  # corroborated | not_corroborated | no_data
    updated_at: datetime = _now()


class ReportMessage(SQLModel, table=True):
    """A message between the (possibly anonymous) reporter and the handling mediator."""

    __tablename__ = "report_message"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    at: datetime = _now()
    sender: str = Field(max_length=16)  # reporter | mediator
    author_id: int | None = Field(default=None, foreign_key="user_account.id")  # the mediator; never the reporter
    body: str = Field(max_length=2000)


class ReportPhoto(SQLModel, table=True):
    """A photo attached to a report: re-encoded without metadata, encrypted on disk outside the database."""

    __tablename__ = "report_photo"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    stored_name: str = Field(max_length=64, unique=True)
    content_type: str = Field(max_length=32)
    size: int
    width: int
    height: int


# ---------------------------------------------------------------- warnings, cases, audit


class RiskWarning(SQLModel, table=True):
    """A warning (预警) on a project; at most one open per project, updated by re-scoring."""

    __tablename__ = "risk_warning"
    __table_args__ = (Index("ix_risk_warning_open", "project_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    level: str = Field(max_length=8)
    score: float = 0.0  # a probability, not money: float is right here
    status: str = Field(default="new", max_length=16)
    reasons: dict = _json()
    history: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    opened_at: datetime = _now()
    updated_at: datetime = _now()
    closed_at: datetime | None = _ts(default=None)
    dismiss_reason: str | None = Field(default=None, max_length=500)


class LegalVolunteer(SQLModel, table=True):
    """The roster of 职工法律服务志愿者 (lawyers, legal workers) who may join a case."""

    __tablename__ = "legal_volunteer"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    organisation: str = Field(default="", max_length=100)
    phone_masked: str | None = Field(default=None, max_length=16)
    is_active: bool = True


class MediationCase(SQLModel, table=True):
    """A mediation case. ``status`` moves only through ``earlywarn.case_states``; ``version`` is the optimistic
    lock every write checks; ``due_at`` mirrors the earliest open deadline (end of that day) for sorting."""

    __tablename__ = "mediation_case"
    id: int | None = Field(default=None, primary_key=True)
    case_no: str = Field(max_length=32, unique=True)
    title: str = Field(max_length=200)
    status: str = Field(default="intake", max_length=24, index=True)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    warning_id: int | None = Field(default=None, foreign_key="risk_warning.id")
    mediation_org_id: int | None = Field(default=None, foreign_key="mediation_org.id")
    assignee_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    is_collective: bool = False
    workers_count: int | None = None
    amount_claimed_fen: int | None = _fen(default=None)
    opened_at: datetime = _now()
    accepted_at: datetime | None = _ts(default=None)
    due_at: datetime | None = _ts(default=None)
    closed_at: datetime | None = _ts(default=None)
    source: str = Field(default="warning", max_length=16)
    case_type: str = Field(default="wage_arrears", max_length=32)
    township: str | None = Field(default=None, max_length=32, index=True)
    summary: str = Field(default="", max_length=2000)  # the matters in dispute and the claims (Art. 12)
    volunteer_id: int | None = Field(default=None, foreign_key="legal_volunteer.id")
    union_rep_name: str | None = Field(default=None, max_length=64)  # the union carries it for anonymous workers
    extension_days: int = 0
    version: int = 1
    updated_at: datetime = _now()


class CaseTransition(SQLModel, table=True):
    """Every state a case entered, when, by whom and why: the timestamps of the state machine."""

    __tablename__ = "case_transition"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="mediation_case.id", index=True)
    at: datetime = _now()
    action: str = Field(max_length=24)
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str = Field(max_length=24)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    reason: str = Field(default="", max_length=1000)


class CaseParty(SQLModel, table=True):
    """A party: a worker (claim per worker, amount agreed), the employer, the general contractor, a subcontractor."""

    __tablename__ = "case_party"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="mediation_case.id", index=True)
    role: str = Field(max_length=24)
    name: str = Field(max_length=200)
    worker_id: int | None = Field(default=None, foreign_key="worker.id")
    company_id: int | None = Field(default=None, foreign_key="company.id")
    id_masked: str | None = Field(default=None, max_length=18)
    is_representative: bool = False
    is_anonymous: bool = False
    claim_fen: int | None = _fen(default=None)
    claim_basis: str = Field(default="", max_length=500)
    agreed_fen: int | None = _fen(default=None)
    employment_ended_on: date | None = None
    chain_note: str = Field(default="", max_length=500)


class CaseReport(SQLModel, table=True):
    __tablename__ = "case_report"
    __table_args__ = (UniqueConstraint("case_id", "report_id"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="mediation_case.id", index=True)
    report_id: int = Field(foreign_key="report.id", index=True)


class CaseReferral(SQLModel, table=True):
    """A referral to another body (arbitration, 人社监察, 住建局, court, 信访) and the answer it owes."""

    __tablename__ = "case_referral"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="mediation_case.id", index=True)
    body: str = Field(max_length=24, index=True)
    reference: str = Field(max_length=64)
    reason: str = Field(default="", max_length=1000)
    sent_on: date
    answer_due_on: date
    answered_on: date | None = None
    answer: str = Field(default="", max_length=1000)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")


class CaseDeadline(SQLModel, table=True):
    """A legal clock on a case; open until ``done_at`` (met) or ``cancelled_at`` (no longer applies)."""

    __tablename__ = "case_deadline"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="mediation_case.id", index=True)
    kind: str = Field(max_length=24)
    due_on: date = Field(index=True)
    provisional: bool = False  # computed over a year the holiday calendar does not cover yet
    basis: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=200)
    party_id: int | None = Field(default=None, foreign_key="case_party.id")
    referral_id: int | None = Field(default=None, foreign_key="case_referral.id")
    instalment_id: int | None = Field(default=None, foreign_key="case_instalment.id")
    created_at: datetime = _now()
    done_at: datetime | None = _ts(default=None)
    cancelled_at: datetime | None = _ts(default=None)


class CaseAgreement(SQLModel, table=True):
    """The mediation agreement (调解仲裁法 Art. 14, 人民调解法 Art. 29); amounts per worker are on ``case_party``."""

    __tablename__ = "case_agreement"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="mediation_case.id", unique=True)
    facts: str = Field(default="", max_length=5000)
    terms: str = Field(default="", max_length=5000)
    performance_method: str = Field(default="", max_length=1000)
    employer_signed_at: datetime | None = _ts(default=None)
    workers_signed_at: datetime | None = _ts(default=None)
    mediator_signed_at: datetime | None = _ts(default=None)
    sealed_at: datetime | None = _ts(default=None)
    finalised_at: datetime | None = _ts(default=None)
    confirmation: str | None = Field(default=None, max_length=16)  # judicial | arbitral, once applied for
    confirmation_applied_on: date | None = None


class CaseInstalment(SQLModel, table=True):
    """One instalment of the agreement, to one worker (or to all when ``party_id`` is None)."""

    __tablename__ = "case_instalment"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="mediation_case.id", index=True)
    party_id: int | None = Field(default=None, foreign_key="case_party.id")
    seq: int
    due_on: date
    amount_fen: int = _fen()
    paid_on: date | None = None
    paid_fen: int | None = _fen(default=None)
    worker_confirmed: bool = False
    confirmation_note: str = Field(default="", max_length=200)


class HardshipReferral(SQLModel, table=True):
    """A worker met in a case, referred to the hardship-worker file (困难职工档案)."""

    __tablename__ = "hardship_referral"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="mediation_case.id", index=True)
    party_id: int = Field(foreign_key="case_party.id")
    reason: str = Field(max_length=1000)
    referred_at: datetime = _now()
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")


class Emergency(SQLModel, table=True):
    """The emergency workflow of a collective incident (≥ 30 people or an escalation signal)."""

    __tablename__ = "emergency"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="mediation_case.id", index=True)
    warning_id: int | None = Field(default=None, foreign_key="risk_warning.id")
    trigger: str = Field(max_length=16)  # people | escalation
    people: int | None = None
    reason: str = Field(default="", max_length=1000)
    status: str = Field(default="open", max_length=16, index=True)
    checklist: dict = _json()  # item code → {"at": iso, "by": user id, "by_name": name}
    started_at: datetime = _now()
    started_by: int | None = Field(default=None, foreign_key="user_account.id")
    closed_at: datetime | None = _ts(default=None)


class EmergencyEvent(SQLModel, table=True):
    __tablename__ = "emergency_event"
    id: int | None = Field(default=None, primary_key=True)
    emergency_id: int = Field(foreign_key="emergency.id", index=True)
    at: datetime = _now()
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    body: str = Field(max_length=2000)


class Reminder(SQLModel, table=True):
    """A reminder a user sees on their case list (no e-mail): one per user, subject (``key``) and day."""

    __tablename__ = "reminder"
    __table_args__ = (UniqueConstraint("user_id", "key", "on_date"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="mediation_case.id")
    key: str = Field(max_length=64)
    on_date: date
    message: str = Field(max_length=500)
    link: str = Field(max_length=200)
    created_at: datetime = _now()
    read_at: datetime | None = _ts(default=None)


class RetaliationFlag(SQLModel, table=True):
    """A protected warning of the retaliation watch: a claimant whose attendance on the case's project stopped,
    or who left the roster still owed wages, after the case opened. Shown only to the case's mediator and to
    leaders (never the employer side); it names a case party, never an informant. One per party and kind."""

    __tablename__ = "retaliation_flag"
    __table_args__ = (UniqueConstraint("case_id", "party_id", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="mediation_case.id", index=True)
    party_id: int = Field(foreign_key="case_party.id")
    kind: str = Field(max_length=16)  # stopped | left_unpaid
    since: date  # the last day of attendance, or the roster's exit date
    owed_fen: int = _fen(default=0)
    raised_on: date
    raised_at: datetime = _now()
    handled_at: datetime | None = _ts(default=None)
    handled_by: int | None = Field(default=None, foreign_key="user_account.id")
    handled_note: str = Field(default="", max_length=500)


class CaseEvent(SQLModel, table=True):
    """The case timeline (sessions, calls, visits, state changes). Narrative; the audit log is separate."""

    __tablename__ = "case_event"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="mediation_case.id", index=True)
    at: datetime = _now()
    kind: str = Field(max_length=32)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    body: str = Field(default="", max_length=5000)
    data: dict = _json()


class ImportBatch(SQLModel, table=True):
    """One imported file: who, when, its hashes, counts and errors."""

    __tablename__ = "import_batch"
    id: int | None = Field(default=None, primary_key=True)
    kind: str | None = Field(default=None, max_length=16)
    filename: str = Field(max_length=255)
    job_id: str | None = Field(default=None, max_length=32, index=True)  # files uploaded together
    file_sha256: str = Field(max_length=64, index=True)
    content_sha256: str | None = Field(default=None, max_length=64, index=True)
    status: str = Field(default="queued", max_length=16)
    uploaded_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = _now()
    finished_at: datetime | None = _ts(default=None)
    rows_total: int = 0
    rows_processed: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    error_count: int = 0
    errors: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    summary: dict = _json()


class AuditLog(SQLModel, table=True):
    """Append-only (database triggers refuse UPDATE and DELETE) and hash-chained."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _now()
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_role: str | None = Field(default=None, max_length=32)
    action: str = Field(max_length=64, index=True)
    object_type: str | None = Field(default=None, max_length=32)
    object_id: str | None = Field(default=None, max_length=64)
    detail: dict = _json()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
