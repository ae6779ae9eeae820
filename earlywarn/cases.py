"""Mediation cases (service): opening, reading, state changes and their effects, the optimistic lock.

Every write that changes a case checks and bumps ``mediation_case.version`` in one UPDATE … WHERE version = ?:
a mediator saving a page another has saved since it was loaded gets ``CaseConflict`` and nothing is written.
Appends to the timeline do not conflict with anything and do not take the lock.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from earlywarn import case_clock
from earlywarn.audit import record_audit
from earlywarn.case_states import FINAL, TRANSITIONS, CaseStateError, target_of
from earlywarn.config import LOCAL_TZ, local_today
from earlywarn.db import utcnow
from earlywarn.enums import CaseSource, CaseStatus, PartyRole, ReportCategory, Role
from earlywarn.tables import (
    CaseAgreement,
    CaseEvent,
    CaseInstalment,
    CaseParty,
    CaseReport,
    CaseTransition,
    MediationCase,
    Project,
    Report,
    UserAccount,
)

COLLECTIVE_WORKERS = 10  # 劳动争议调解仲裁法 Art. 7; 浙江省劳动人事争议调解仲裁条例 Art. 40
REPRESENTATIVES = (3, 5)


class CaseError(ValueError):
    """A refused change, worded for the mediator; ``field`` names the form input at fault, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class CaseConflict(CaseError):
    """Someone else saved the case since this form was loaded (or the transition no longer applies)."""


def claim(session: Session, case: MediationCase, expected_version: int | None) -> None:
    """The optimistic lock: bump the version if it is still the one the form was loaded with."""
    expected = case.version if expected_version is None else expected_version
    done = session.execute(update(MediationCase).where(MediationCase.id == case.id,
                                                       MediationCase.version == expected)
                           .values(version=expected + 1, updated_at=utcnow()))
    if done.rowcount != 1:
        session.rollback()
        raise CaseConflict("该案件已被他人修改，您的这次保存没有生效。请刷新页面，查看最新内容后再操作。")
    set_committed_value(case, "version", expected + 1)


def audit(session: Session, case: MediationCase, action: str, actor: UserAccount | None, **detail) -> None:
    record_audit(session=session, action=f"case.{action}", actor=actor, object_type="mediation_case",
                 object_id=case.id, detail={"case_no": case.case_no, **detail})


def add_event(session: Session, case: MediationCase, kind: str, actor: UserAccount | None, body: str = "",
              **data) -> CaseEvent:
    event = CaseEvent(case_id=case.id, kind=kind, actor_id=actor.id if actor else None, body=body[:5000], data=data)
    session.add(event)
    return event


# ------------------------------------------------------------------------------------------------ opening


def open_case(*, session: Session, source: str, title: str, summary: str, actor: UserAccount | None,
              township: str | None = None, project_id: int | None = None, report_ids: list[int] | tuple = (),
              case_type: str = ReportCategory.wage_arrears, union_rep_name: str | None = None,
              received_on: date | None = None, townships: list[str] | None = None) -> MediationCase:
    """Open a case from reports, a walk-in or a hotline call, or by the union for anonymous workers."""
    from earlywarn.case_routing import route_by_township
    from earlywarn.warnings import next_case_no

    title, summary, rep = title.strip(), summary.strip(), (union_rep_name or "").strip() or None
    if source not in set(CaseSource) - {CaseSource.warning}:
        raise CaseError("请选择案件来源", field="source")
    if case_type not in set(ReportCategory):
        raise CaseError("请选择争议类型", field="case_type")
    if not 2 <= len(title) <= 200:
        raise CaseError("请填写案由（2–200 字）", field="title")
    if not 4 <= len(summary) <= 2000:
        raise CaseError("请写明争议事项和请求（至少 4 个字，最多 2000 字）", field="summary")
    if source == CaseSource.union and not rep:
        raise CaseError("工会代为申请的案件须写明承办的工会代表姓名", field="union_rep_name")
    reports = [session.get(Report, rid) for rid in dict.fromkeys(report_ids)]
    if any(r is None for r in reports):
        raise CaseError("报告编号不存在", field="report_ids")
    if source == CaseSource.reports and not reports:
        raise CaseError("由报告立案时请至少选择一份报告", field="report_ids")
    project = session.get(Project, project_id) if project_id else None
    if project_id and project is None:
        raise CaseError("项目不存在", field="project_id")
    linked = {r.project_id for r in reports if r.project_id}
    if project is None and len(linked) == 1:
        project = session.get(Project, linked.pop())
    township = project.township if project else (township or next((r.township for r in reports if r.township), None))
    if not township or (townships is not None and township not in townships):
        raise CaseError("请选择乡镇/街道", field="township")
    received = received_on or local_today()
    if received > local_today():
        raise CaseError("收到申请的日期不能晚于今天", field="received_on")
    now = utcnow()
    org = route_by_township(session=session, township=township)
    case = MediationCase(case_no=next_case_no(session=session, year=now.astimezone(LOCAL_TZ).year), title=title,
                         status=CaseStatus.intake, project_id=project.id if project else None,
                         mediation_org_id=org.id if org else None, township=township, source=source,
                         case_type=case_type, summary=summary, union_rep_name=rep, opened_at=now, updated_at=now,
                         assignee_id=actor.id if actor is not None and actor.role == Role.mediator else None)
    session.add(case)
    session.flush()
    for r in reports:
        session.add(CaseReport(case_id=case.id, report_id=r.id))
    started(session, case, actor, received)
    add_event(session, case, "opened", actor, f"立案：{summary}", source=source, report_ids=[r.id for r in reports])
    audit(session, case, "open", actor, source=source, reports=[r.id for r in reports])
    session.commit()
    from earlywarn.emergencies import check_emergency

    check_emergency(session=session, case=case, actor=actor)
    return case


def started(session: Session, case: MediationCase, actor: UserAccount | None, received_on: date) -> None:
    """A new case's first transition row and its intake clock (decide, or give written notice, in 5 working days)."""
    session.add(CaseTransition(case_id=case.id, at=case.opened_at, action="open", to_status=CaseStatus.intake,
                               actor_id=actor.id if actor else None))
    case_clock.start_intake(session=session, case=case, received_on=received_on)


# ------------------------------------------------------------------------------------------------ reading


def parties_of(*, session: Session, case: MediationCase) -> list[CaseParty]:
    order = {r.value: i for i, r in enumerate(PartyRole)}
    rows = session.exec(select(CaseParty).where(CaseParty.case_id == case.id).order_by(CaseParty.id)).all()
    return sorted(rows, key=lambda p: (order.get(p.role, 9), not p.is_representative, p.id))


def transitions_of(*, session: Session, case: MediationCase) -> list[CaseTransition]:
    return list(session.exec(select(CaseTransition).where(CaseTransition.case_id == case.id)
                             .order_by(CaseTransition.at, CaseTransition.id)))


def events_of(*, session: Session, case: MediationCase) -> list[CaseEvent]:
    return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())))


def reports_of(*, session: Session, case: MediationCase) -> list[Report]:
    return list(session.exec(select(Report).join(CaseReport, CaseReport.report_id == Report.id)
                             .where(CaseReport.case_id == case.id).order_by(Report.id)))


def representatives_problem(parties: list[CaseParty]) -> str | None:
    """Pure: a collective case (≥ 10 workers) needs 3–5 representatives among its workers."""
    workers = [p for p in parties if p.role == PartyRole.worker]
    if len(workers) < COLLECTIVE_WORKERS:
        return None
    reps = sum(1 for p in workers if p.is_representative)
    lo, hi = REPRESENTATIVES
    return None if lo <= reps <= hi else f"集体争议（{len(workers)} 名职工）须推选 {lo}–{hi} 名代表，现有 {reps} 名"


# ------------------------------------------------------------------------------------------------ state changes


def change_status(*, session: Session, case: MediationCase, action: str, actor: UserAccount | None,
                  reason: str = "", expected_version: int | None = None, today: date | None = None,
                  referral: dict | None = None) -> MediationCase:
    """Move the case through the transition table, with the clocks and records each step carries."""
    session.refresh(case)
    try:
        target = target_of(case.status, action)
    except CaseStateError as exc:
        raise CaseConflict(str(exc)) from exc
    reason = reason.strip()
    if TRANSITIONS[action].needs_reason and len(reason) < 2:
        raise CaseError("请写明理由", field="reason")
    if len(reason) > 1000:
        raise CaseError("理由最多 1000 字", field="reason")
    _guard(session, case, action)
    today = today or local_today()
    if action == "refer":  # checked before the lock is taken: a refusal leaves nothing half-written
        from earlywarn.referrals import check_referral

        referral = {"today": today, **(referral or {})}
        check_referral(**referral)
    claim(session, case, expected_version)
    before, now = case.status, utcnow()
    case.status = target
    if action == "accept":  # the day the clock starts from: ``today`` (a back-dated acceptance keeps its day)
        case.accepted_at = datetime.combine(today, now.astimezone(LOCAL_TZ).timetz())
    if target in FINAL:
        case.closed_at = now
    session.add(case)
    session.add(CaseTransition(case_id=case.id, at=now, action=action, from_status=before, to_status=target,
                               actor_id=actor.id if actor else None, reason=reason))
    extra = {}
    if action == "refer":
        from earlywarn.referrals import add_referral_row

        ref = add_referral_row(session=session, case=case, actor=actor, reason=reason, **referral)
        extra = {"referral_id": ref.id, "referred_to": ref.body, "reference": ref.reference}
    case_clock.on_transition(session=session, case=case, action=action, today=today,
                             referred_to=extra.get("referred_to"))
    add_event(session, case, "status", actor, reason, action=action, from_status=before, to_status=target, **extra)
    audit(session, case, action, actor, **{"from": before, "to": target, "reason": reason, **extra})
    session.commit()
    return case


def _guard(session: Session, case: MediationCase, action: str) -> None:
    """What the table cannot say: the conditions a step needs besides the current state."""
    if action in ("accept", "start_mediation") and case.assignee_id is None:
        raise CaseError("请先指派承办调解员")
    if action == "start_mediation":
        problem = representatives_problem(parties_of(session=session, case=case))
        if problem:
            raise CaseError(problem)
    if action == "reach_agreement":
        agreement = session.exec(select(CaseAgreement).where(CaseAgreement.case_id == case.id)).first()
        if agreement is None or agreement.finalised_at is None:
            raise CaseError("调解协议尚未定稿：请在“调解协议”中填写完整并定稿")
    if action == "start_performance" and not _instalments(session, case):
        raise CaseError("调解协议没有履行期次，不能进入履行")
    if action == "close_performed":
        unpaid = [i for i in _instalments(session, case) if i.paid_on is None]
        if unpaid:
            raise CaseError(f"还有 {len(unpaid)} 期未履行，不能履行结案")


def _instalments(session: Session, case: MediationCase) -> list[CaseInstalment]:
    return list(session.exec(select(CaseInstalment).where(CaseInstalment.case_id == case.id)))
