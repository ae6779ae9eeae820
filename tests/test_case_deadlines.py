"""Deadline arithmetic of the legal clocks (pure)."""

from datetime import date

import pytest

from earlywarn import case_deadlines as cd


def test_mediation_fifteen_days_across_the_spring_festival():
    assert cd.mediation_due(date(2026, 2, 2)).on == date(2026, 2, 24)  # day 15 = 初一 → first working day
    assert cd.mediation_due(date(2026, 3, 2)).on == date(2026, 3, 17)
    assert cd.mediation_due(date(2026, 3, 2), extension_days=15).on == date(2026, 4, 1)
    for bad in (-1, 16):
        with pytest.raises(ValueError, match="延长天数"):
            cd.mediation_due(date(2026, 3, 2), extension_days=bad)


def test_confirmation_limitation_supervision_intake():
    assert cd.confirmation_due(date(2026, 1, 2)).on == date(2026, 2, 2)  # 1 Feb is a Sunday
    assert cd.confirmation_due(date(2025, 9, 5)).on == date(2025, 10, 9)  # 5 Oct in the National Day holiday
    assert cd.limitation_due(date(2025, 2, 17)).on == date(2026, 2, 24)
    # 9–13 Feb (5), Sat 14 (6), holiday to 23 Feb, 24–27 (10), Sat 28 (11), 2–5 March (15)
    assert cd.supervision_reply_due(date(2026, 2, 6)).on == date(2026, 3, 5)
    assert cd.intake_decision_due(date(2025, 10, 9)).on == date(2025, 10, 15)  # 10, Sat 11 (worked), 13, 14, 15


def test_referral_answer_by_body():
    due, basis = cd.referral_answer_due("labour_inspection", date(2026, 2, 12))
    assert due.on == date(2026, 2, 26) and "第二十三条" in basis  # 13, 14(Sat), 24, 25, 26
    assert cd.referral_answer_due("court", date(2026, 3, 2))[0].on == date(2026, 3, 9)
    with pytest.raises(ValueError, match="未知的移送单位"):
        cd.referral_answer_due("police", date(2026, 3, 2))


def test_due_state():
    today = date(2026, 3, 10)
    assert cd.due_state(date(2026, 3, 9), today) == "overdue"
    assert cd.due_state(date(2026, 3, 10), today) == "today"
    assert cd.due_state(date(2026, 3, 12), today, kind="mediation") == "soon"
    assert cd.due_state(date(2026, 3, 20), today, kind="mediation") == "ok"
    assert cd.due_state(date(2026, 4, 1), today, kind="limitation") == "soon"
    assert cd.due_state(date(2026, 3, 1), today, done=True) == "done"
