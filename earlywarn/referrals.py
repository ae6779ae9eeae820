"""Referrals that report back (service): a case handed to arbitration, 人社监察, 住建局, a court or 信访 carries
a reference and the date the receiving body owes its answer; answers are recorded, and each body gets an
on-time figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from earlywarn import case_clock
from earlywarn import case_deadlines as cd
from earlywarn.config import local_today
from earlywarn.enums import DeadlineKind, ReferralBody
from earlywarn.tables import CaseReferral, MediationCase, UserAccount

BODY_ZH = {ReferralBody.arbitration: "劳动人事争议仲裁委员会", ReferralBody.labour_inspection: "人社局劳动保障监察",
           ReferralBody.construction_bureau: "住建局", ReferralBody.court: "人民法院", ReferralBody.petitions: "信访局"}


def check_referral(*, body: str = "", reference: str = "", sent_on: date | None = None, today: date) -> None:
    """Refuse a bad referral (CaseError) before anything is written."""
    _checked(body, reference.strip(), sent_on, today)


def _checked(body: str, reference: str, sent_on: date | None, today: date) -> tuple[str, date]:
    from earlywarn.cases import CaseError

    if body not in set(ReferralBody):
        raise CaseError("请选择接收单位", field="body")
    if not 2 <= len(reference) <= 64:
        raise CaseError("请填写移送文号或接收单位的登记号", field="reference")
    sent_on = sent_on or today
    if sent_on > today:
        raise CaseError("移送日期不能晚于今天", field="sent_on")
    return reference, sent_on


def add_referral_row(*, session: Session, case: MediationCase, actor: UserAccount | None, body: str = "",
                     reference: str = "", reason: str = "", sent_on: date | None = None,
                     today: date | None = None) -> CaseReferral:
    """Insert the referral and its answer deadline (flush only; the caller commits)."""
    reference, sent_on = _checked(body, reference.strip(), sent_on, today or local_today())
    due, basis = cd.referral_answer_due(body, sent_on)
    row = CaseReferral(case_id=case.id, body=body, reference=reference, reason=reason[:1000], sent_on=sent_on,
                       answer_due_on=due.on, actor_id=actor.id if actor else None)
    session.add(row)
    session.flush()
    case_clock.add_deadline(session, case, DeadlineKind.referral_answer, due, basis=basis,
                            note=f"{BODY_ZH[body]} {reference}", referral_id=row.id)
    return row


def refer_without_closing(*, session: Session, case: MediationCase, body: str, reference: str, reason: str,
                          sent_on: date | None, actor: UserAccount | None, today: date) -> CaseReferral:
    """A referral while the case goes on (e.g. 住建局 to act on the site): the case keeps its state."""
    from earlywarn.cases import CaseError, add_event, audit

    reason = reason.strip()
    if len(reason) < 2:
        raise CaseError("请写明移送事项", field="reason")
    row = add_referral_row(session=session, case=case, actor=actor, body=body, reference=reference, reason=reason,
                           sent_on=sent_on, today=today)
    add_event(session, case, "referral", actor, f"移送{BODY_ZH[body]}（{row.reference}）：{reason}",
              referral_id=row.id, body=body)
    audit(session, case, "referral", actor, referral_id=row.id, body=body, reference=row.reference)
    session.commit()
    return row


def record_answer(*, session: Session, case: MediationCase, referral_id: int, answered_on: date, answer: str,
                  actor: UserAccount | None, today: date) -> CaseReferral:
    from earlywarn.cases import CaseError, add_event, audit

    row = session.get(CaseReferral, referral_id)
    answer = answer.strip()
    if row is None or row.case_id != case.id:
        raise CaseError("移送记录不存在")
    if row.answered_on is not None:
        raise CaseError("该移送已登记答复")
    if answered_on < row.sent_on or answered_on > today:
        raise CaseError("答复日期应在移送日期和今天之间", field="answered_on")
    if len(answer) < 2:
        raise CaseError("请填写答复内容", field="answer")
    row.answered_on, row.answer = answered_on, answer[:1000]
    session.add(row)
    on_time = answered_on <= row.answer_due_on
    case_clock.close(session, case, {DeadlineKind.referral_answer}, note="按期答复" if on_time else "逾期答复",
                     referral_id=row.id)
    add_event(session, case, "referral_answer", actor, f"{BODY_ZH[row.body]}答复：{answer}", referral_id=row.id,
              on_time=on_time)
    audit(session, case, "referral_answer", actor, referral_id=row.id, on_time=on_time)
    session.commit()
    return row


def referrals_of(*, session: Session, case: MediationCase) -> list[CaseReferral]:
    return list(session.exec(select(CaseReferral).where(CaseReferral.case_id == case.id).order_by(CaseReferral.id)))


@dataclass
class BodyRecord:
    body: str
    sent: int = 0
    answered_on_time: int = 0
    answered_late: int = 0
    waiting: int = 0
    waiting_overdue: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """Answers on time over everything whose answer is due by now (late and still-missing count against)."""
        due = self.answered_on_time + self.answered_late + self.waiting_overdue
        return self.answered_on_time / due if due else None


def on_time_by_body(*, session: Session, today: date) -> list[BodyRecord]:
    records = {b.value: BodyRecord(b.value) for b in ReferralBody}
    for r in session.exec(select(CaseReferral)):
        rec = records[r.body]
        rec.sent += 1
        if r.answered_on is not None:
            if r.answered_on <= r.answer_due_on:
                rec.answered_on_time += 1
            else:
                rec.answered_late += 1
        else:
            rec.waiting += 1
            rec.waiting_overdue += r.answer_due_on < today
    return list(records.values())
