"""Informant reports (service): filing from the web and the API, receipts, follow-up messages, the inbox.

An anonymous report keeps nothing that could identify its sender: no address, no browser, no account; its
time is kept to the hour only. Its receipt code (96 random bits) is shown once and stored as a keyed hash.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from earlywarn.audit import record_audit
from earlywarn.config import Settings
from earlywarn.db import utcnow
from earlywarn.identity import InvalidValue
from earlywarn.parsing import is_blank, parse_date, parse_int, parse_money_fen, parse_text
from earlywarn.photos import CleanPhoto, store_photo
from earlywarn.privacy import Vault
from earlywarn.tables import Informant, Project, Report, ReportMessage, ReportPhoto, UserAccount
from earlywarn.understanding import understand_reports

RECEIPT_BYTES = 12  # 96 bits: far beyond guessing, and still short enough to write down


class ReportInputError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(errors.values()))
        self.errors = errors


@dataclass
class ReportInput:
    text: str
    township: str | None = None
    project_code: str | None = None
    employer: str | None = None
    workers_involved: int | None = None
    amount_claimed_fen: int | None = None
    since: date | None = None
    extra: dict = field(default_factory=dict)


def validate_report_input(raw: dict, *, townships: list[str], today: date) -> ReportInput:
    """Form or JSON fields → ReportInput; every problem named per field, in Chinese."""
    errors: dict[str, str] = {}

    def get(name: str, parser, required: bool = False):
        value = raw.get(name)
        if is_blank(value):
            if required:
                errors[name] = "请填写"
            return None
        try:
            return parser(value)
        except InvalidValue as exc:
            errors[name] = str(exc)
            return None

    text = get("text", lambda v: parse_text(v, max_len=2000), required=True)
    if text is not None and len(text) < 4:
        errors["text"] = "请用几句话说明发生了什么（至少 4 个字）"
    township = get("township", lambda v: parse_text(v, max_len=32))
    if township is not None and township not in townships:
        errors["township"] = "请选择本县的乡镇或街道"
    project_code = get("project_code", lambda v: parse_text(v, max_len=64))
    employer = get("employer", lambda v: parse_text(v, max_len=200))
    workers = get("workers_involved", lambda v: parse_int(v, min=1, max=100_000, suffixes=("人", "名")))
    amount = get("amount_claimed", parse_money_fen)
    since = get("since", parse_date)
    if since is not None and since > today:
        errors["since"] = "日期不能晚于今天"
    if errors:
        raise ReportInputError(errors)
    return ReportInput(text, township, project_code, employer, workers, amount, since)


def new_receipt() -> str:
    raw = base64.b32encode(secrets.token_bytes(RECEIPT_BYTES)).decode().rstrip("=")
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def normalize_receipt(text: str) -> str:
    # Written down by hand: spaces, dashes, lower case and 0/1 for O/I are forgiven.
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    return cleaned.replace("0", "O").replace("1", "I").replace("8", "B")


def receipt_hash(vault: Vault, receipt: str) -> str:
    return vault.blind_index(normalize_receipt(receipt), "receipt")


def file_report(*, session: Session, settings: Settings, data: ReportInput,
                informant: Informant | None, actor: UserAccount | None, photos: list[CleanPhoto] = (),
                source: str = "web") -> tuple[Report, str | None]:
    """Store, understand and link a new report; returns it and, for an anonymous one, its receipt code."""
    vault = Vault(settings)
    now = utcnow()
    anonymous = informant is None
    receipt = new_receipt() if anonymous else None
    report = Report(
        uid=f"{source}:{secrets.token_hex(12)}",
        received_at=now.replace(minute=0, second=0, microsecond=0) if anonymous else now,
        informant_id=None if anonymous else informant.id, township=data.township,
        project_code_text=data.project_code, employer_text=data.employer, text=data.text,
        workers_involved=data.workers_involved, amount_claimed_fen=data.amount_claimed_fen, source=source,
        receipt_hash=receipt_hash(vault, receipt) if receipt else None,
        analysis={"since": data.since.isoformat()} if data.since else {},
    )
    if data.project_code:
        report.project_id = session.exec(select(Project.id).where(Project.code == data.project_code)).first()
        report.link_method, report.link_confidence = ("code", 1.0) if report.project_id else (None, None)
    session.add(report)
    session.flush()
    for photo in photos:
        name = store_photo(photo, vault=vault, folder=settings.data_dir / "photos")
        session.add(ReportPhoto(report_id=report.id, stored_name=name, content_type="image/jpeg",
                                size=len(photo.data), width=photo.width, height=photo.height))
    understand_reports(session=session, settings=settings, reports=[report])
    record_audit(session=session, action="report.filed", actor=None if anonymous else actor, object_type="report",
                 object_id=report.id, detail={"source": source, "anonymous": anonymous, "photos": len(photos)})
    session.commit()
    return report, receipt


def find_by_receipt(*, session: Session, settings: Settings, receipt: str) -> Report | None:
    wanted = receipt_hash(Vault(settings), receipt)
    report = session.exec(select(Report).where(Report.receipt_hash == wanted)).first()
    if report is None or not hmac.compare_digest(report.receipt_hash or "", wanted):
        return None
    return report


def messages_of(*, session: Session, report: Report) -> list[ReportMessage]:
    return list(session.exec(select(ReportMessage).where(ReportMessage.report_id == report.id)
                             .order_by(ReportMessage.at, ReportMessage.id)))


def add_message(*, session: Session, report: Report, sender: str, body: str,
                author: UserAccount | None = None) -> ReportMessage:
    body = body.strip()
    if not body:
        raise ReportInputError({"body": "消息不能为空"})
    if len(body) > 2000:
        raise ReportInputError({"body": "消息最多 2000 字"})
    message = ReportMessage(report_id=report.id, sender=sender, author_id=author.id if author else None, body=body)
    session.add(message)
    if sender == "mediator" and report.status == "received":
        report.status = "triaged"
    report.updated_at = utcnow()
    session.add(report)
    session.flush()
    record_audit(session=session, action=f"report.message_{sender}", actor=author, object_type="report",
                 object_id=report.id, detail={"message_id": message.id})
    session.commit()
    return message


def set_status(*, session: Session, report: Report, status: str, actor: UserAccount) -> None:
    if status not in ("received", "triaged", "linked", "closed"):
        raise ReportInputError({"status": "未知状态"})
    before = report.status
    report.status = status
    report.updated_at = utcnow()
    session.add(report)
    record_audit(session=session, action="report.status", actor=actor, object_type="report", object_id=report.id,
                 detail={"from": before, "to": status})
    session.commit()


def photos_of(*, session: Session, report: Report) -> list[ReportPhoto]:
    return list(session.exec(select(ReportPhoto).where(ReportPhoto.report_id == report.id).order_by(ReportPhoto.id)))


def list_inbox(*, session: Session, category: str | None = None, township: str | None = None,
               flag: str | None = None, linked: str | None = None, limit: int = 300) -> list[tuple]:
    """The mediators' inbox, newest first: (report, informant pseudonym or None, project code)."""
    q = (select(Report, Informant.pseudonym_no, Project.code)
         .outerjoin(Informant, Informant.id == Report.informant_id)
         .outerjoin(Project, Project.id == Report.project_id)
         .order_by(Report.received_at.desc(), Report.id.desc()).limit(limit))
    if category:
        q = q.where(Report.category == category)
    if township:
        q = q.where(Report.township == township)
    if flag == "escalation":
        q = q.where(Report.escalation.is_(True))
    elif flag == "collective":
        q = q.where(Report.collective.is_(True))
    if linked == "yes":
        q = q.where((Report.project_id.is_not(None)) | (Report.company_id.is_not(None)))
    elif linked == "no":
        q = q.where(Report.project_id.is_(None), Report.company_id.is_(None))
    return list(session.exec(q))
