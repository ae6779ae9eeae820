"""Informants and their reports, with messages and photos."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from earlywarn.tables._fields import _fen, _json, _now, _ts


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
