"""The emergency workflow of a collective incident (service): started when a case or warning involves 30 or
more people or carries an escalation signal; leaders are notified at once (a reminder row each), the
contingency checklist is worked through, and the emergency keeps its own timeline."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from earlywarn.audit import record_audit
from earlywarn.config import local_today
from earlywarn.db import utcnow
from earlywarn.enums import Role
from earlywarn.tables import (
    CaseReport,
    Emergency,
    EmergencyEvent,
    MediationCase,
    Reminder,
    Report,
    RiskWarning,
    UserAccount,
)

PEOPLE_THRESHOLD = 30
# The scorer's rules whose hit on a warning starts the workflow by itself (rules/reports.yaml R22, R21).
WARNING_TRIGGERS = {"reports.escalation_signal": "escalation", "reports.collective_emergency": "people"}
WARNING_LOCK = 734103  # PostgreSQL advisory lock: two scoring runs must not both start one for a warning
# The contingency checklist (劳动保障监察条例 Art. 14 ¶4; 浙江省劳动保障监察条例 Art. 33; 人民调解法 Art. 25).
CHECKLIST = {
    "leaders": "报告县总工会分管领导（系统已即时通知）",
    "on_site": "调解员赶赴现场，核实人数、诉求和所涉项目",
    "government": "报告属地乡镇（街道）及人社、住建部门，按应急预案联动处置",
    "police": "可能引发治安案件的，及时报告公安机关（人民调解法第二十五条）",
    "representatives": "引导职工推选 3–5 名代表，依法有序表达诉求",
    "funds": "核实工资保证金、工资专用账户，督促总包单位先行垫付",
    "publicity": "关注舆情，统一信息发布口径",
    "report": "事态平息后形成书面情况报告",
}


class EmergencyError(ValueError):
    pass


def trigger_of(*, people: int | None, escalation: bool) -> str | None:
    """Pure: why an incident is an emergency, or None."""
    if escalation:
        return "escalation"
    if people is not None and people >= PEOPLE_THRESHOLD:
        return "people"
    return None


def open_for(*, session: Session, case_id: int | None = None, warning_id: int | None = None) -> Emergency | None:
    q = select(Emergency).where(Emergency.status == "open")
    q = q.where(Emergency.case_id == case_id) if case_id is not None else q.where(Emergency.warning_id == warning_id)
    return session.exec(q).first()


def start_emergency(*, session: Session, trigger: str, reason: str, actor: UserAccount | None,
                    case: MediationCase | None = None, warning: RiskWarning | None = None,
                    people: int | None = None) -> Emergency:
    if case is None and warning is None:
        raise EmergencyError("应急处置须关联案件或预警")
    if trigger not in ("people", "escalation"):
        raise EmergencyError("启动条件应为人数达 30 人以上或出现激化信号")
    reason = reason.strip()
    if len(reason) < 2:
        raise EmergencyError("请写明启动理由")
    if case is None:  # a warning has one emergency, ever: a closed one is not started again by a re-score
        existing = session.exec(select(Emergency).where(Emergency.warning_id == warning.id)
                                .order_by(Emergency.id.desc())).first()
    else:
        existing = open_for(session=session, case_id=case.id)
    if existing:
        return existing
    em = Emergency(case_id=case.id if case else None, warning_id=warning.id if warning else None, trigger=trigger,
                   people=people, reason=reason[:1000], started_by=actor.id if actor else None,
                   checklist={"leaders": {"at": utcnow().isoformat(), "by": None, "by_name": "系统"}})
    session.add(em)
    session.flush()
    subject = case.case_no if case else f"预警 #{warning.id}"
    text = f"应急处置：{subject} {reason}"[:500]
    today = local_today()
    for leader_id in session.exec(select(UserAccount.id).where(UserAccount.role == Role.leader,
                                                               UserAccount.is_active.is_(True))):
        session.add(Reminder(user_id=leader_id, case_id=case.id if case else None, key=f"emergency:{em.id}",
                             on_date=today, message=text, link=f"/emergencies/{em.id}"))
    session.add(EmergencyEvent(emergency_id=em.id, actor_id=actor.id if actor else None,
                               body=f"启动应急处置：{reason}"))
    if case is not None:
        from earlywarn.cases import add_event

        add_event(session, case, "emergency", actor, f"启动应急处置：{reason}", emergency_id=em.id)
    record_audit(session=session, action="emergency.start", actor=actor, object_type="emergency", object_id=em.id,
                 detail={"trigger": trigger, "case_id": em.case_id, "warning_id": em.warning_id, "people": people})
    session.commit()
    return em


def check_emergency(*, session: Session, case: MediationCase, actor: UserAccount | None) -> Emergency | None:
    """Start the workflow for a case that now qualifies: 30+ workers, or a linked report with an escalation
    signal or 30+ people involved. Once per case while one is open."""
    if open_for(session=session, case_id=case.id):
        return None
    if case.warning_id is not None:  # the warning's own emergency (started by scoring) is this case's too
        em = open_for(session=session, warning_id=case.warning_id)
        if em is not None:
            if em.case_id is None:
                em.case_id = case.id
                session.add(em)
                session.add(EmergencyEvent(emergency_id=em.id, actor_id=actor.id if actor else None,
                                           body=f"预警已立案：{case.case_no}"))
                session.commit()
            return None
    reports = session.exec(select(Report).join(CaseReport, CaseReport.report_id == Report.id)
                           .where(CaseReport.case_id == case.id)).all()
    people = max([case.workers_count or 0, *(r.workers_involved or 0 for r in reports)])
    escalation = any(r.escalation for r in reports)
    trigger = trigger_of(people=people or None, escalation=escalation)
    if trigger is None:
        return None
    reason = "报告中出现激化信号" if trigger == "escalation" else f"涉及 {people} 人，达到群体性事件标准（30 人）"
    return start_emergency(session=session, trigger=trigger, reason=reason, actor=actor, case=case, people=people)


def warning_trigger(reasons: dict | None) -> tuple[str, list[str]] | None:
    """Pure: (trigger, titles of the rules behind it) when a warning's reasons carry an escalation signal or a
    collective report of 30 or more people; None otherwise. Escalation wins when both are there."""
    rules = [r for r in (reasons or {}).get("rules") or [] if isinstance(r, dict) and r.get("id") in WARNING_TRIGGERS]
    if not rules:
        return None
    kinds = {WARNING_TRIGGERS[r["id"]] for r in rules}
    return ("escalation" if "escalation" in kinds else "people"), [str(r.get("title") or r["id"]) for r in rules]


REPORT_WINDOW_DAYS = 30  # how far back a report's head count is read for the emergency (as the scorer's window)


def check_warnings(*, session: Session, warning_ids: list[int], as_of: date | None = None,
                   actor: UserAccount | None = None) -> list[Emergency]:
    """After scoring as of ``as_of``: start the workflow for each of these warnings whose reasons qualify, once per
    warning (not again after it was closed), and not when a case opened from the warning already has one open."""
    from datetime import datetime, time, timedelta

    from sqlalchemy import func, text

    from earlywarn.config import LOCAL_TZ

    if not warning_ids:
        return []
    candidates = [(w, t) for w in session.exec(select(RiskWarning).where(RiskWarning.id.in_(warning_ids))
                                                .order_by(RiskWarning.id))
                  if (t := warning_trigger(w.reasons)) is not None]
    if not candidates:
        return []
    started = []
    for warning, (trigger, titles) in candidates:
        if session.get_bind().dialect.name == "postgresql":  # held until start_emergency commits
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WARNING_LOCK})
        if session.exec(select(Emergency.id).where(Emergency.warning_id == warning.id)).first():
            continue
        if session.exec(select(Emergency.id).join(MediationCase, MediationCase.id == Emergency.case_id)
                        .where(MediationCase.warning_id == warning.id, Emergency.status == "open")).first():
            continue
        day = as_of or warning.opened_at.astimezone(LOCAL_TZ).date()
        since = datetime.combine(day - timedelta(days=REPORT_WINDOW_DAYS), time.min, LOCAL_TZ)
        until = datetime.combine(day + timedelta(days=1), time.min, LOCAL_TZ)
        people = session.exec(select(func.max(Report.workers_involved)).where(
            Report.project_id == warning.project_id, Report.received_at >= since, Report.received_at < until)).one()
        reason = f"评分触发：{'；'.join(titles)}" + (f"（报告涉及 {people} 人）" if people else "")
        started.append(start_emergency(session=session, trigger=trigger, reason=reason, actor=actor,
                                       warning=warning, people=people))
    session.commit()  # releases the lock when nothing was started
    return started


def emergency_of_warning(*, session: Session, warning: RiskWarning) -> Emergency | None:
    return session.exec(select(Emergency).where(Emergency.warning_id == warning.id)
                        .order_by(Emergency.id.desc())).first()


def tick(*, session: Session, emergency: Emergency, item: str, actor: UserAccount, note: str = "") -> Emergency:
    if emergency.status != "open":
        raise EmergencyError("应急处置已结束")
    if item not in CHECKLIST:
        raise EmergencyError("未知的清单项")
    if item in emergency.checklist:
        raise EmergencyError("该项已完成")
    emergency.checklist = {**emergency.checklist,
                           item: {"at": utcnow().isoformat(), "by": actor.id, "by_name": actor.display_name}}
    session.add(emergency)
    session.add(EmergencyEvent(emergency_id=emergency.id, actor_id=actor.id,
                               body=f"完成：{CHECKLIST[item]}" + (f"。{note.strip()}" if note.strip() else "")))
    record_audit(session=session, action="emergency.tick", actor=actor, object_type="emergency",
                 object_id=emergency.id, detail={"item": item})
    session.commit()
    return emergency


def add_entry(*, session: Session, emergency: Emergency, body: str, actor: UserAccount) -> EmergencyEvent:
    body = body.strip()
    if not 2 <= len(body) <= 2000:
        raise EmergencyError("请填写处置情况（最多 2000 字）")
    row = EmergencyEvent(emergency_id=emergency.id, actor_id=actor.id, body=body)
    session.add(row)
    record_audit(session=session, action="emergency.entry", actor=actor, object_type="emergency",
                 object_id=emergency.id)
    session.commit()
    return row


def close_emergency(*, session: Session, emergency: Emergency, note: str, actor: UserAccount) -> Emergency:
    if emergency.status != "open":
        raise EmergencyError("应急处置已结束")
    missing = [CHECKLIST[k] for k in CHECKLIST if k not in emergency.checklist and k != "police"]
    if missing:
        raise EmergencyError("清单尚未完成：" + "；".join(missing))
    if len(note.strip()) < 2:
        raise EmergencyError("请写明结束说明")
    emergency.status, emergency.closed_at = "closed", utcnow()
    session.add(emergency)
    session.add(EmergencyEvent(emergency_id=emergency.id, actor_id=actor.id, body=f"结束应急处置：{note.strip()}"))
    record_audit(session=session, action="emergency.close", actor=actor, object_type="emergency",
                 object_id=emergency.id)
    session.commit()
    return emergency


def events_of(*, session: Session, emergency: Emergency) -> list[EmergencyEvent]:
    return list(session.exec(select(EmergencyEvent).where(EmergencyEvent.emergency_id == emergency.id)
                             .order_by(EmergencyEvent.at, EmergencyEvent.id)))


def list_emergencies(*, session: Session, status: str | None = "open") -> list[Emergency]:
    q = select(Emergency).order_by(Emergency.started_at.desc(), Emergency.id.desc())
    return list(session.exec(q.where(Emergency.status == status) if status else q))
