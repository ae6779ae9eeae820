"""The retaliation watch (service): after a case opens, its claimants' attendance on the project is watched
(earlywarn.retaliation_watch decides); a finding becomes a protected flag on the case, once per claimant and kind.

"Protected" means the claimant's identity goes no further than it must: the flag (with the claimant's name) is
shown only to the case's mediator (the assignee; every mediator while it is unassigned) and to leaders, on the
case page and in the case API. The reminder each mediator receives names the case, never the claimant; the audit
log records party ids, not names. Nothing of it reaches the agreement, the informant's receipt channel or any
page the employer side could be shown. Informants are not involved at all: flags come from the wage data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from earlywarn import retaliation_watch as rw
from earlywarn.audit import record_audit
from earlywarn.balances import worker_months
from earlywarn.case_states import FINAL
from earlywarn.db import utcnow
from earlywarn.enums import PartyRole, Role
from earlywarn.tables import Attendance, CaseParty, MediationCase, Reminder, RetaliationFlag, RosterEntry, UserAccount
from earlywarn.workdays import is_workday

WATCH_LOCK = 734102  # PostgreSQL advisory lock: the morning job and an import's run must not both raise a flag


@dataclass
class WatchResult:
    cases: int = 0  # open cases with claimants on a project, looked at
    raised: int = 0  # new flags
    reminders: int = 0


def may_see(user: UserAccount | None, case: MediationCase) -> bool:
    """Who may see a case's retaliation flags: leaders, and the case's own mediator (any mediator while the
    case has none, as its reminders go to all). Not other mediators, not admins, not wage checkers."""
    if user is None:
        return False
    if user.role == Role.leader:
        return True
    return user.role == Role.mediator and case.assignee_id in (None, user.id)


def _local_day(case: MediationCase) -> date:
    from earlywarn.config import local_date

    return local_date(case.opened_at)


def _claimants(session: Session, case: MediationCase, today: date, pay_day: int) -> list[rw.Claimant]:
    parties = session.exec(select(CaseParty).where(CaseParty.case_id == case.id, CaseParty.role == PartyRole.worker,
                                                   CaseParty.worker_id.is_not(None))).all()
    if not parties:
        return []
    wids = [p.worker_id for p in parties]
    last = dict(session.exec(select(Attendance.worker_id, func.max(Attendance.work_date))
                             .where(Attendance.project_id == case.project_id, Attendance.worker_id.in_(wids),
                                    Attendance.work_date <= today)
                             .group_by(Attendance.worker_id)).all())
    exits = dict(session.exec(select(RosterEntry.worker_id, RosterEntry.exit_date)
                              .where(RosterEntry.project_id == case.project_id,
                                     RosterEntry.worker_id.in_(wids))).all())
    owed: dict[int, int] = defaultdict(int)
    for wm in worker_months(session=session, as_of=today, pay_day=pay_day, project_ids=[case.project_id]):
        if wm.worker_id in exits:
            owed[wm.worker_id] += wm.owed_fen
    return [rw.Claimant(p.id, _as_date(last.get(p.worker_id)), exits.get(p.worker_id), owed[p.worker_id])
            for p in parties]


def _as_date(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _project_days(session: Session, project_id: int, after: date, today: date) -> list[date]:
    rows = session.exec(select(Attendance.work_date).where(Attendance.project_id == project_id,
                                                           Attendance.work_date > after,
                                                           Attendance.work_date <= today).distinct())
    return sorted(_as_date(d) for d in rows)


def _recipients(session: Session, case: MediationCase) -> list[int]:
    if case.assignee_id is not None:
        return [case.assignee_id]
    return list(session.exec(select(UserAccount.id).where(UserAccount.role == Role.mediator,
                                                          UserAccount.is_active.is_(True))))


def watch_cases(*, session: Session, today: date, pay_day: int = 25, case_ids: list[int] | None = None,
                threshold: int = rw.STOP_WORKING_DAYS) -> WatchResult:
    """Look at every open case with a project (or ``case_ids``) and raise the flags not raised before; each new
    flag reminds the case's mediator(s) once. Idempotent: running it again the same day or later adds nothing
    for the same claimant and signal."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WATCH_LOCK})
    q = select(MediationCase).where(MediationCase.status.not_in(FINAL), MediationCase.project_id.is_not(None))
    if case_ids is not None:
        q = q.where(MediationCase.id.in_(case_ids))
    result = WatchResult()
    for case in session.exec(q.order_by(MediationCase.id)).all():
        claimants = _claimants(session, case, today, pay_day)
        if not claimants:
            continue
        result.cases += 1
        seen = {(f.party_id, f.kind) for f in session.exec(select(RetaliationFlag)
                                                           .where(RetaliationFlag.case_id == case.id))}
        todo = [c for c in claimants if any((c.party_id, k) not in seen for k in rw.KINDS)]
        known = [c.last_day for c in todo if c.last_day is not None]
        if not todo or (not known and all(c.exit_date is None for c in todo)):
            continue
        days = _project_days(session, case.project_id, min(known), today) if known else []
        found = [f for f in rw.findings(todo, project_days=days, watch_from=_local_day(case), as_of=today,
                                        is_workday=is_workday, threshold=threshold) if (f.party_id, f.kind) not in seen]
        if not found:
            continue
        for f in found:
            session.add(RetaliationFlag(case_id=case.id, party_id=f.party_id, kind=f.kind, since=f.since,
                                        owed_fen=f.owed_fen, raised_on=today))
        result.raised += len(found)
        counts = "、".join(f"{rw.KIND_ZH[k]} {n} 人" for k in rw.KINDS if (n := sum(f.kind == k for f in found)))
        message = (f"{case.case_no}：{len(found)} 名申请人疑似遭受打击报复（{counts}），请尽快核实。"
                   "详情仅在案件页向承办调解员和领导显示。")
        key = f"retaliation:{case.id}"
        for user_id in _recipients(session, case):
            if session.exec(select(Reminder.id).where(Reminder.user_id == user_id, Reminder.key == key,
                                                      Reminder.on_date == today)).first():
                continue  # already reminded about this case today: the case page lists every flag
            session.add(Reminder(user_id=user_id, case_id=case.id, key=key, on_date=today,
                                 message=message[:500], link=f"/cases/{case.id}#retaliation"))
            result.reminders += 1
        record_audit(session=session, action="case.retaliation_flag", actor=None, object_type="mediation_case",
                     object_id=case.id, detail={"case_no": case.case_no, "as_of": today.isoformat(),
                                                "flags": [{"party_id": f.party_id, "kind": f.kind} for f in found]})
    try:
        session.commit()
    except IntegrityError:  # another run raised them first (or already reminded today): its rows stand
        session.rollback()
        return WatchResult(cases=result.cases)
    return result


def flags_of(*, session: Session, case: MediationCase, user: UserAccount | None
             ) -> list[tuple[RetaliationFlag, CaseParty]] | None:
    """The case's flags (open first, newest first) for a user who may see them; None for anyone else."""
    if not may_see(user, case):
        return None
    rows = session.exec(select(RetaliationFlag, CaseParty).join(CaseParty, CaseParty.id == RetaliationFlag.party_id)
                        .where(RetaliationFlag.case_id == case.id)
                        .order_by(RetaliationFlag.handled_at.is_not(None), RetaliationFlag.raised_on.desc(),
                                  RetaliationFlag.id.desc())).all()
    return [(f, p) for f, p in rows]


def handle_flag(*, session: Session, case: MediationCase, flag_id: int, note: str,
                actor: UserAccount) -> RetaliationFlag:
    """The mediator records what was found and done (visited, the worker re-instated, paid …)."""
    from earlywarn.cases import CaseError

    if not may_see(actor, case) or actor.role != Role.mediator:
        raise CaseError("只有本案承办调解员可以办结该提示")
    flag = session.get(RetaliationFlag, flag_id)
    if flag is None or flag.case_id != case.id:
        raise CaseError("该提示不存在")
    if flag.handled_at is not None:
        raise CaseError("该提示已核实办结")
    note = note.strip()
    if not 2 <= len(note) <= 500:
        raise CaseError("请写明核实和处理情况（2–500 字）", field="note")
    flag.handled_at, flag.handled_by, flag.handled_note = utcnow(), actor.id, note
    session.add(flag)
    record_audit(session=session, action="case.retaliation_handled", actor=actor, object_type="mediation_case",
                 object_id=case.id, detail={"case_no": case.case_no, "flag_id": flag.id, "kind": flag.kind})
    session.commit()
    return flag
