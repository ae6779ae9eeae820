"""Partial instalment payments (the remainder stays due on the same clock) and the union representative named
or changed after opening, on both backends and through the page."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from earlywarn import agreements, case_clock, case_routing, case_stats, cases
from earlywarn.tables import AuditLog, MediationCase
from tests.conftest import csrf_of, login
from tests.test_cases import _to_mediation, open_from_warning, parties, site  # noqa: F401  (fixture)


def _performing(session, case, mediator):
    today = date(2026, 3, 2)
    _to_mediation(session, case, mediator, today)
    agreements.save_agreement(session=session, case=case, facts="十二名职工 2025 年 9 月工资未发放。", terms="一次付清",
                              performance_method="银行转账",
                              agreed={w.id: 300_000 for w in parties(session, case, "worker")},
                              signatures=set(agreements.SIGNATURES), actor=mediator)
    row = agreements.add_instalment(session=session, case=case, due_on=date(2026, 3, 10), amount_fen=3_600_000,
                                    party_id=None, actor=mediator, today=today)
    agreements.finalise(session=session, case=case, actor=mediator, today=today)
    cases.change_status(session=session, case=case, action="start_performance", actor=mediator)
    return row


def _pay(session, case, row, mediator, fen, on, confirmed=True, note=""):
    return agreements.mark_paid(session=session, case=case, instalment_id=row.id, paid_on=on, paid_fen=fen,
                                worker_confirmed=confirmed, note=note, actor=mediator, today=on)


def _instalment_deadline(session, case):
    return next(d for d in case_clock.all_deadlines(session=session, case=case) if d.kind == "instalment")


def test_a_partial_payment_leaves_the_remainder_due(session, site, make_user):  # noqa: F811
    mediator = make_user("mediator")
    case = open_from_warning(session, site, mediator)
    row = _performing(session, case, mediator)
    _pay(session, case, row, mediator, 1_000_000, date(2026, 3, 9))
    assert (row.paid_fen, row.paid_on) == (1_000_000, None)
    deadline = _instalment_deadline(session, case)
    assert deadline.done_at is None and deadline.note == "第 1 期 ￥36,000.00；已部分履行 ￥10,000.00，尚欠 ￥26,000.00"
    with pytest.raises(cases.CaseError, match="还有 1 期未履行"):
        cases.change_status(session=session, case=case, action="close_performed", actor=mediator)

    case_clock.send_daily_reminders(session=session, today=date(2026, 3, 11))  # the remainder goes overdue
    [text] = [r.message for r in case_clock.reminders_for(session=session, user=mediator) if "协议履行" in r.message]
    assert "协议履行已逾期 1 天（2026-03-10）：第 1 期 ￥36,000.00；已部分履行 ￥10,000.00，尚欠 ￥26,000.00" in text
    assert "支付令" in text
    _pay(session, case, row, mediator, 600_000, date(2026, 3, 11), confirmed=False, note="银行回单 0311")
    note = _instalment_deadline(session, case).note
    assert note == "第 1 期 ￥36,000.00；已逾期；已部分履行 ￥16,000.00，尚欠 ￥20,000.00"
    with pytest.raises(cases.CaseError, match="实付金额超过本期未付金额 ￥20,000.00"):
        _pay(session, case, row, mediator, 2_000_001, date(2026, 3, 12))
    _pay(session, case, row, mediator, 2_000_000, date(2026, 3, 12))
    assert (row.paid_fen, row.paid_on, row.worker_confirmed) == (3_600_000, date(2026, 3, 12), True)
    assert _instalment_deadline(session, case).done_at is not None
    cases.change_status(session=session, case=case, action="close_performed", actor=mediator)
    assert case_stats.case_stats(session=session, today=date(2026, 3, 12)).paid_fen == 3_600_000
    events = [e for e in cases.events_of(session=session, case=case) if e.kind in ("partial_payment", "paid")]
    assert [e.body for e in reversed(events)] == [
        "第 1 期部分支付 ￥10,000.00（2026-03-09），尚欠 ￥26,000.00，职工已确认收款",
        "第 1 期部分支付 ￥6,000.00（2026-03-11），尚欠 ￥20,000.00（职工未确认：银行回单 0311）",
        "第 1 期 ￥20,000.00 已支付（含此前部分支付共 ￥36,000.00，本期付清），职工已确认收款"]
    session.commit()
    assert len(session.exec(select(AuditLog).where(AuditLog.action == "case.instalment_partial")).all()) == 2


def test_the_union_representative_after_opening(session, site, make_user):  # noqa: F811
    mediator = make_user("mediator")
    walk_in = cases.open_case(session=session, source="walk_in", title="来访欠薪", summary="要求支付 12 月工资",
                              township="梅溪镇", actor=mediator)
    case_routing.set_union_rep(session=session, case=walk_in, name=" 王  工会 ", actor=mediator)
    assert (walk_in.union_rep_name, walk_in.version) == ("王 工会", 2)
    with pytest.raises(cases.CaseError, match="工会代表没有变化"):
        case_routing.set_union_rep(session=session, case=walk_in, name="王 工会", actor=mediator)
    with pytest.raises(cases.CaseError, match="至少 2 个字"):
        case_routing.set_union_rep(session=session, case=walk_in, name="王", actor=mediator)
    with pytest.raises(cases.CaseConflict, match="该案件已被他人修改"):
        case_routing.set_union_rep(session=session, case=walk_in, name="李工会", actor=mediator, expected_version=1)
    case_routing.set_union_rep(session=session, case=walk_in, name="", actor=mediator)  # a walk-in may drop it
    assert walk_in.union_rep_name is None

    union = cases.open_case(session=session, source="union", title="匿名职工欠薪",
                            summary="三名职工要求匿名，工会代为主张", township="梅溪镇", actor=mediator,
                            union_rep_name="王工会")
    with pytest.raises(cases.CaseError, match="须有承办的工会代表") as exc:
        case_routing.set_union_rep(session=session, case=union, name=" ", actor=mediator)
    assert exc.value.field == "union_rep_name"
    case_routing.set_union_rep(session=session, case=union, name="赵工会", actor=mediator)
    [event] = [e for e in cases.events_of(session=session, case=union) if e.kind == "union_rep"]
    assert event.body == "工会代表：王工会 → 赵工会"
    cases.change_status(session=session, case=union, action="withdraw", actor=mediator, reason="职工撤回申请")
    with pytest.raises(cases.CaseConflict, match="已结束的案件不能再更换工会代表"):
        case_routing.set_union_rep(session=session, case=union, name="钱工会", actor=mediator)


def test_the_union_representative_through_the_page(client, session, site, make_user):  # noqa: F811
    mediator = make_user("mediator")
    case = open_from_warning(session, site, mediator)
    assert login(client, "u_mediator").status_code == 303
    page = f"/cases/{case.id}"
    r = client.post(f"{page}/union-rep", data={"csrf_token": csrf_of(client, page), "union_rep_name": "孙工会",
                                               "version": case.version}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{page}#handling"
    assert "工会代表：孙工会" in client.get(page).text
    r = client.post(f"{page}/union-rep", data={"csrf_token": csrf_of(client, page), "union_rep_name": "周工会",
                                               "version": case.version}, follow_redirects=False)
    assert r.status_code == 409 and "该案件已被他人修改" in r.text
    session.commit()
    session.expire_all()
    assert session.get(MediationCase, case.id).union_rep_name == "孙工会"


def test_the_performance_table_shows_a_partial_payment(client, session, site, make_user):  # noqa: F811
    mediator = make_user("mediator")
    case = open_from_warning(session, site, mediator)
    row = _performing(session, case, mediator)
    _pay(session, case, row, mediator, 1_000_000, date(2026, 3, 9))
    assert login(client, "u_mediator").status_code == 303
    page = f"/cases/{case.id}"
    html = client.get(page).text
    assert "已部分支付 ￥10,000.00，尚欠 ￥26,000.00" in html and 'value="26000.00"' in html
    r = client.post(f"{page}/instalments/{row.id}/paid", data={
        "csrf_token": csrf_of(client, page), "paid_on": "2026-03-09", "amount": "26000.01", "confirmed": "1"},
        follow_redirects=False)
    assert r.status_code == 400 and "实付金额超过本期未付金额 ￥26,000.00" in r.text
