"""Risk warnings and mediation cases: parties, transitions, referrals, deadlines, agreements, instalments,
hardship referrals, emergencies, reminders, retaliation flags and the case timeline."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from earlywarn.tables._fields import _fen, _json, _now, _ts


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
