"""The legal clocks of a mediation case (pure): each deadline's date, its basis, and whether it is due.

Periods in days run on calendar days and, when the last day is a rest day, end on the next working day;
periods in working days count working days (``earlywarn.workdays``: holidays and swapped working days).
"""

from __future__ import annotations

from datetime import date

from earlywarn.enums import DeadlineKind as K
from earlywarn.enums import ReferralBody as B
from earlywarn.workdays import Due, add_days, add_working_days, add_years

MEDIATION_DAYS = 15
CONFIRMATION_DAYS = 30
SUPERVISION_REPLY_WORKDAYS = 15
INTAKE_DECISION_WORKDAYS = 5
MAX_EXTENSION_DAYS = 15  # one extension at most as long as the period itself (企业劳动争议协商调解规定 practice)

BASIS = {
    K.mediation: "《劳动争议调解仲裁法》第十四条、《浙江省劳动人事争议调解仲裁条例》第十条："
                 "自受理之日起 15 日内结束调解",
    K.confirmation: "《人民调解法》第三十三条、《浙江省劳动人事争议调解仲裁条例》第十一条："
                    "协议生效后 30 日内申请司法确认或仲裁审查确认",
    K.limitation: "《劳动争议调解仲裁法》第二十七条：劳动关系终止之日起 1 年内申请仲裁",
    K.supervision_reply: "《浙江省工会劳动法律监督条例》第二十二条：用人单位 15 个工作日内书面答复",
    K.rejection_notice: "《浙江省工会劳动法律监督条例》第十七条：不属受理范围的，5 个工作日内书面告知",
    K.referral_answer: "移送单位答复期限",
    K.instalment: "调解协议约定的履行期限",
}

# body → (period, in working days?, basis). Where no statute binds the body, the county's practice is named.
REFERRAL_ANSWER: dict[str, tuple[int, bool, str]] = {
    B.arbitration: (5, False, "《劳动争议调解仲裁法》第二十九条：5 日内决定是否受理"),
    B.labour_inspection: (5, True, "《浙江省劳动保障监察条例》第二十三条：5 个工作日内决定是否受理"),
    B.construction_bureau: (10, True, "县总工会与住建局工作约定：10 个工作日内反馈（无法定时限）"),
    B.court: (7, False, "《民事诉讼法》第一百二十六条：7 日内决定是否立案"),
    B.petitions: (15, False, "《信访工作条例》：15 日内告知是否受理"),
}

# How many days ahead of its date a deadline starts to remind (a year-long clock warns a month ahead).
WARN_DAYS = {K.limitation: 30, K.confirmation: 5, K.mediation: 3, K.supervision_reply: 3, K.referral_answer: 2,
             K.rejection_notice: 2, K.instalment: 3}


def mediation_due(accepted_on: date, extension_days: int = 0) -> Due:
    if not 0 <= extension_days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"延长天数须在 0 到 {MAX_EXTENSION_DAYS} 天之间")
    return add_days(accepted_on, MEDIATION_DAYS + extension_days)


def confirmation_due(effective_on: date) -> Due:
    return add_days(effective_on, CONFIRMATION_DAYS)


def limitation_due(employment_ended_on: date) -> Due:
    return add_years(employment_ended_on, 1)


def supervision_reply_due(served_on: date) -> Due:
    return add_working_days(served_on, SUPERVISION_REPLY_WORKDAYS)


def intake_decision_due(received_on: date) -> Due:
    return add_working_days(received_on, INTAKE_DECISION_WORKDAYS)


def referral_answer_due(body: str, sent_on: date) -> tuple[Due, str]:
    if body not in REFERRAL_ANSWER:
        raise ValueError(f"未知的移送单位：{body}")
    n, working, basis = REFERRAL_ANSWER[body]
    return (add_working_days(sent_on, n) if working else add_days(sent_on, n)), basis


def due_state(due_on: date, today: date, *, done: bool = False, kind: str | None = None) -> str:
    """``done``, ``overdue`` (the day has passed), ``today``, ``soon`` (within the kind's warning window), ``ok``."""
    if done:
        return "done"
    if due_on < today:
        return "overdue"
    if due_on == today:
        return "today"
    return "soon" if (due_on - today).days <= WARN_DAYS.get(kind, 3) else "ok"
