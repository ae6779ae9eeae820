"""The case timeline (service): sessions, calls, site visits, notes, evidence files (encrypted at rest, like
report photos) and messages to an informant through their receipt channel (the informant stays anonymous:
the case only knows the report)."""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path

from sqlmodel import Session

from earlywarn import reports as report_svc
from earlywarn.config import Settings
from earlywarn.enums import TimelineKind
from earlywarn.privacy import Vault
from earlywarn.tables import CaseEvent, CaseReport, MediationCase, UserAccount
from earlywarn.tables import Report as ReportRow

EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
EVIDENCE_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
                  ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  ".txt": "text/plain", ".mp3": "audio/mpeg", ".m4a": "audio/mp4"}


def evidence_dir(settings: Settings) -> Path:
    return settings.data_dir / "evidence"


def add_entry(*, session: Session, settings: Settings, case: MediationCase, kind: str, on: date, body: str,
              actor: UserAccount | None, today: date, place: str = "", attendees: str = "",
              file: tuple[str, bytes] | None = None) -> CaseEvent:
    from earlywarn.cases import CaseError, add_event, audit

    body, place, attendees = body.strip(), place.strip(), attendees.strip()
    if kind not in set(TimelineKind):
        raise CaseError("请选择记录类型", field="kind")
    if on > today:
        raise CaseError("日期不能晚于今天", field="on")
    if not 2 <= len(body) <= 5000:
        raise CaseError("请填写内容（2–5000 字）", field="body")
    if kind == TimelineKind.session and (not place or not attendees):
        raise CaseError("调解会须记录地点和参加人员", field="place" if not place else "attendees")
    data: dict = {"on": on.isoformat(), "place": place[:200], "attendees": attendees[:500]}
    if kind == TimelineKind.evidence:
        if file is None or not file[1]:
            raise CaseError("请选择证据文件", field="file")
        name, raw = file
        suffix = Path(name).suffix.lower()
        if suffix not in EVIDENCE_TYPES:
            raise CaseError("证据文件只接受 PDF、图片、Word、Excel、文本和录音", field="file")
        if len(raw) > EVIDENCE_MAX_BYTES:
            raise CaseError("证据文件不能超过 20 MB", field="file")
        stored = secrets.token_hex(16)
        folder = evidence_dir(settings)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / stored).write_bytes(Vault(settings).encrypt_bytes(raw))
        data.update(stored_name=stored, filename=Path(name).name[:120], content_type=EVIDENCE_TYPES[suffix],
                    size=len(raw))
    event = add_event(session, case, kind, actor, body, **data)
    session.flush()
    audit(session, case, f"timeline_{kind}", actor, event_id=event.id)
    session.commit()
    return event


def read_evidence(*, settings: Settings, event: CaseEvent) -> bytes | None:
    stored = (event.data or {}).get("stored_name")
    if event.kind != TimelineKind.evidence or not stored or not str(stored).isalnum():
        return None
    path = evidence_dir(settings) / stored
    return Vault(settings).decrypt_bytes(path.read_bytes()) if path.exists() else None


def message_informant(*, session: Session, case: MediationCase, report_id: int, body: str,
                      actor: UserAccount | None) -> None:
    """Write to the reporter of a linked report; they read it with their receipt code, as on the report page."""
    from earlywarn.cases import CaseError, add_event

    link = session.exec(CaseReport.__table__.select().where(CaseReport.case_id == case.id,
                                                            CaseReport.report_id == report_id)).first()
    report = session.get(ReportRow, report_id) if link else None
    if report is None:
        raise CaseError("该报告未关联本案", field="report_id")
    if not body.strip():
        raise CaseError("消息不能为空", field="body")
    add_event(session, case, "message", actor, body.strip()[:2000], report_id=report.id)
    try:
        report_svc.add_message(session=session, report=report, sender="mediator", body=body, author=actor)
    except report_svc.ReportInputError as exc:
        session.rollback()
        raise CaseError(next(iter(exc.errors.values())), field="body") from exc


def link_report(*, session: Session, case: MediationCase, report_id: int, actor: UserAccount | None) -> None:
    from earlywarn.cases import CaseError, add_event, audit

    report = session.get(ReportRow, report_id)
    if report is None:
        raise CaseError("报告编号不存在", field="report_id")
    exists = session.exec(CaseReport.__table__.select().where(CaseReport.case_id == case.id,
                                                              CaseReport.report_id == report_id)).first()
    if exists:
        raise CaseError("该报告已关联本案", field="report_id")
    session.add(CaseReport(case_id=case.id, report_id=report_id))
    add_event(session, case, "report_linked", actor, f"关联报告 #{report_id}", report_id=report_id)
    audit(session, case, "report_link", actor, report_id=report_id)
    session.commit()
    from earlywarn.emergencies import check_emergency

    check_emergency(session=session, case=case, actor=actor)
