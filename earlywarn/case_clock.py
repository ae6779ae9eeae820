"""The legal clocks of cases (service): deadlines opened, met and cancelled as a case moves; the extension
with both parties' consent; the supervision opinion; the daily reminders; the overdue list.

Deadline rows are the one source of "due" and "overdue": lists, pages and reminders all read them."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from earlywarn import case_deadlines as cd
from earlywarn.config import LOCAL_TZ, local_date
from earlywarn.db import utcnow
from earlywarn.enums import DeadlineKind as K
from earlywarn.enums import ReferralBody, Role
from earlywarn.tables import CaseDeadline, MediationCase, Reminder, UserAccount
from earlywarn.workdays import Due

KIND_ZH = {K.mediation: "调解期限", K.confirmation: "申请司法确认/仲裁审查确认", K.limitation: "仲裁时效",
           K.supervision_reply: "监督意见书答复", K.rejection_notice: "受理审查/不予受理书面告知",
           K.referral_answer: "移送单位答复", K.instalment: "协议履行"}
NEXT_STEP = {K.instalment: "下一步：督促履行；拒不履行的，可向法院申请支付令（调解仲裁法第十六条）"
                           "或申请仲裁（第十五条）",
             K.mediation: "下一步：征得双方同意后延长，或终止调解并告知可申请仲裁",
             K.limitation: "下一步：提醒职工在时效届满前申请仲裁",
             K.confirmation: "下一步：协助双方申请司法确认或仲裁审查确认",
             K.supervision_reply: "下一步：未答复的，发出工会劳动法律监督建议书（监督条例第二十三条）",
             K.referral_answer: "下一步：催告接收单位答复", K.rejection_notice: "下一步：作出受理决定或书面告知"}


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), LOCAL_TZ)


def open_deadlines(*, session: Session, case: MediationCase) -> list[CaseDeadline]:
    return list(session.exec(select(CaseDeadline).where(CaseDeadline.case_id == case.id,
                                                        CaseDeadline.done_at.is_(None),
                                                        CaseDeadline.cancelled_at.is_(None))
                             .order_by(CaseDeadline.due_on, CaseDeadline.id)))


def all_deadlines(*, session: Session, case: MediationCase) -> list[CaseDeadline]:
    return list(session.exec(select(CaseDeadline).where(CaseDeadline.case_id == case.id)
                             .order_by(CaseDeadline.due_on, CaseDeadline.id)))


def add_deadline(session: Session, case: MediationCase, kind: str, due: Due, *, basis: str | None = None,
                 note: str = "", **refs) -> CaseDeadline:
    row = CaseDeadline(case_id=case.id, kind=kind, due_on=due.on, provisional=due.provisional,
                       basis=(basis or cd.BASIS[kind])[:200], note=note[:200], **refs)
    session.add(row)
    session.flush()
    refresh_due(session, case)
    return row


def close(session: Session, case: MediationCase, kinds, *, cancelled: bool = False, note: str = "",
          **refs) -> int:
    """Mark open deadlines of ``kinds`` (optionally one party/referral/instalment) met or cancelled."""
    now, n = utcnow(), 0
    for row in open_deadlines(session=session, case=case):
        if row.kind in kinds and all(getattr(row, k) == v for k, v in refs.items()):
            if cancelled:
                row.cancelled_at = now
            else:
                row.done_at = now
            row.note = (f"{row.note}；{note}" if row.note and note else note or row.note)[:200]
            session.add(row)
            n += 1
    session.flush()
    refresh_due(session, case)
    return n


def refresh_due(session: Session, case: MediationCase) -> None:
    """``mediation_case.due_at``: the end of the day of the earliest open deadline, for sorting lists."""
    first = next(iter(open_deadlines(session=session, case=case)), None)
    case.due_at = _end_of(first.due_on) if first else None
    session.add(case)


def start_intake(*, session: Session, case: MediationCase, received_on: date) -> None:
    add_deadline(session, case, K.rejection_notice, cd.intake_decision_due(received_on))


def on_transition(*, session: Session, case: MediationCase, action: str, today: date,
                  referred_to: str | None = None) -> None:
    """The clocks a transition starts and stops."""
    if action == "accept":
        close(session, case, {K.rejection_notice}, note="已受理")
        add_deadline(session, case, K.mediation, cd.mediation_due(today, case.extension_days))
    elif action == "reject":  # the written notice stays due until it is recorded as sent
        close(session, case, set(K) - {K.rejection_notice, K.referral_answer}, cancelled=True, note="不予受理")
    elif action == "reach_agreement":
        close(session, case, {K.mediation}, note="达成协议")
        add_deadline(session, case, K.confirmation, cd.confirmation_due(today))
    elif action == "fail":
        close(session, case, {K.mediation}, note="调解不成")
    elif action == "close_performed":
        close(session, case, set(K) - {K.referral_answer}, cancelled=True, note="协议已履行完毕")
    elif action == "withdraw":
        close(session, case, set(K) - {K.referral_answer}, cancelled=True, note="申请人撤回")
    elif action == "refer":
        interrupts = referred_to in (ReferralBody.arbitration, ReferralBody.court, ReferralBody.labour_inspection)
        close(session, case, {K.limitation} if interrupts else set(), note="已请求权利救济，时效中断")
        close(session, case, {K.mediation, K.instalment, K.confirmation, K.supervision_reply}, cancelled=True,
              note="已移送")


def extend_mediation(*, session: Session, case: MediationCase, days: int, worker_consent: str,
                     employer_consent: str, actor: UserAccount | None, expected_version: int | None = None
                     ) -> MediationCase:
    """Extend the 15 days only with both parties' recorded consent (浙江省劳动人事争议调解仲裁条例 Art. 10)."""
    from earlywarn.case_states import MEDIATING
    from earlywarn.cases import CaseConflict, CaseError, add_event, audit, claim

    worker_consent, employer_consent = worker_consent.strip(), employer_consent.strip()
    if case.status not in MEDIATING or case.accepted_at is None:
        raise CaseConflict("只有已受理、尚在调解中的案件可以延长调解期限")
    if len(worker_consent) < 2:
        raise CaseError("延长调解期限须经双方同意：请记录职工一方的同意（谁、何时、何种方式）", field="worker_consent")
    if len(employer_consent) < 2:
        raise CaseError("延长调解期限须经双方同意：请记录用人单位一方的同意（谁、何时、何种方式）",
                        field="employer_consent")
    total = case.extension_days + days
    if days < 1 or total > cd.MAX_EXTENSION_DAYS:
        raise CaseError(f"延长天数须为 1 天以上，累计不超过 {cd.MAX_EXTENSION_DAYS} 天"
                        f"（已延长 {case.extension_days} 天）",
                        field="days")
    claim(session, case, expected_version)
    due = cd.mediation_due(local_date(case.accepted_at), total)
    close(session, case, {K.mediation}, cancelled=True, note=f"经双方同意延长 {days} 天")
    case.extension_days = total
    add_deadline(session, case, K.mediation, due, note=f"已延长 {total} 天")
    add_event(session, case, "extension", actor, f"延长调解期限 {days} 天至 {due.on.isoformat()}",
              days=days, worker_consent=worker_consent[:500], employer_consent=employer_consent[:500])
    audit(session, case, "extend", actor, days=days, due_on=due.on.isoformat())
    session.commit()
    return case


def issue_supervision_opinion(*, session: Session, case: MediationCase, served_on: date, summary: str,
                              actor: UserAccount | None, today: date) -> CaseDeadline:
    """A 工会劳动法律监督意见书 served on the employer: its written reply is due in 15 working days."""
    from earlywarn.cases import CaseError, add_event, audit

    summary = summary.strip()
    if served_on > today:
        raise CaseError("送达日期不能晚于今天", field="served_on")
    if len(summary) < 4:
        raise CaseError("请写明监督意见的主要内容", field="summary")
    row = add_deadline(session, case, K.supervision_reply, cd.supervision_reply_due(served_on),
                       note=f"{served_on.isoformat()} 送达")
    add_event(session, case, "supervision_opinion", actor, summary[:2000], served_on=served_on.isoformat(),
              due_on=row.due_on.isoformat())
    audit(session, case, "supervision_opinion", actor, served_on=served_on.isoformat())
    session.commit()
    return row


def mark_met(*, session: Session, case: MediationCase, deadline_id: int, note: str,
             actor: UserAccount | None) -> CaseDeadline:
    """Record by hand that a deadline was met: the employer's reply, the notice sent, confirmation applied for."""
    from earlywarn.cases import CaseError, add_event, audit

    row = session.get(CaseDeadline, deadline_id)
    if row is None or row.case_id != case.id or row.done_at or row.cancelled_at:
        raise CaseError("该期限不存在或已办结")
    if row.kind in (K.instalment, K.referral_answer, K.mediation):
        raise CaseError("该期限随履行登记、移送答复或调解结果自动办结")
    note = note.strip()
    if len(note) < 2:
        raise CaseError("请写明办理情况", field="note")
    close(session, case, {row.kind}, note=note[:200], **{"party_id": row.party_id} if row.party_id else {})
    add_event(session, case, "deadline_met", actor, f"{KIND_ZH.get(row.kind, row.kind)}：{note}", deadline_id=row.id)
    audit(session, case, "deadline_met", actor, deadline_id=row.id, kind=row.kind)
    session.commit()
    return row


# ------------------------------------------------------------------------------------------------ reminders


def _recipients(session: Session, case: MediationCase) -> list[int]:
    if case.assignee_id is not None:
        return [case.assignee_id]  # unassigned: every active mediator, so it cannot fall through
    return list(session.exec(select(UserAccount.id).where(UserAccount.role == Role.mediator,
                                                          UserAccount.is_active.is_(True))))


def reminder_text(case: MediationCase, row: CaseDeadline, today: date) -> str:
    days = (row.due_on - today).days
    when = f"已逾期 {-days} 天" if days < 0 else "今天到期" if days == 0 else f"{days} 天后到期"
    text = f"{case.case_no} {KIND_ZH.get(row.kind, row.kind)}{when}（{row.due_on.isoformat()}）"
    if row.note:
        text += f"：{row.note}"
    if days <= 0 and row.kind in NEXT_STEP:
        text += f"。{NEXT_STEP[row.kind]}"
    return text[:500]


def send_daily_reminders(*, session: Session, today: date) -> int:
    """One reminder per assignee, deadline and day for every open deadline inside its warning window or
    overdue; idempotent for the day (a unique key). An instalment overdue also enters the case timeline once."""
    from earlywarn.cases import add_event

    q = (select(CaseDeadline, MediationCase).join(MediationCase, MediationCase.id == CaseDeadline.case_id)
         .where(CaseDeadline.done_at.is_(None), CaseDeadline.cancelled_at.is_(None))
         .order_by(CaseDeadline.due_on, CaseDeadline.id))
    created = 0
    for row, case in session.exec(q).all():
        if cd.due_state(row.due_on, today, kind=row.kind) in ("ok", "done"):
            continue
        key = f"deadline:{row.id}"
        for user_id in _recipients(session, case):
            if session.exec(select(Reminder.id).where(Reminder.user_id == user_id, Reminder.key == key,
                                                      Reminder.on_date == today)).first():
                continue
            session.add(Reminder(user_id=user_id, case_id=case.id, key=key, on_date=today,
                                 message=reminder_text(case, row, today), link=f"/cases/{case.id}"))
            created += 1
        if row.kind == K.instalment and row.due_on < today and "已逾期" not in row.note:
            row.note = (f"{row.note}；已逾期" if row.note else "已逾期")[:200]
            session.add(row)
            add_event(session, case, "instalment_overdue", None, reminder_text(case, row, today),
                      deadline_id=row.id, instalment_id=row.instalment_id)
    try:
        session.commit()
    except IntegrityError:  # two processes ran the same morning: the other one's rows stand
        session.rollback()
        return 0
    return created


def reminders_for(*, session: Session, user: UserAccount, limit: int = 50) -> list[Reminder]:
    return list(session.exec(select(Reminder).where(Reminder.user_id == user.id, Reminder.read_at.is_(None))
                             .order_by(Reminder.on_date.desc(), Reminder.id.desc()).limit(limit)))


def dismiss_reminder(*, session: Session, user: UserAccount, reminder_id: int) -> bool:
    row = session.get(Reminder, reminder_id)
    if row is None or row.user_id != user.id or row.read_at is not None:
        return False
    row.read_at = utcnow()
    session.add(row)
    session.commit()
    return True


def overdue(*, session: Session, today: date) -> list[tuple[CaseDeadline, MediationCase]]:
    """Every open deadline already past, oldest first: the leaders' overdue list."""
    q = (select(CaseDeadline, MediationCase).join(MediationCase, MediationCase.id == CaseDeadline.case_id)
         .where(CaseDeadline.done_at.is_(None), CaseDeadline.cancelled_at.is_(None), CaseDeadline.due_on < today)
         .order_by(CaseDeadline.due_on, CaseDeadline.id))
    return [(d, c) for d, c in session.exec(q)]
