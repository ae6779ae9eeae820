"""Mediation case services on both backends: intake from a warning with parties pre-filled from the wage data,
routing, the full path to a performed agreement, refusals, the extension, the optimistic lock, reminders."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from earlywarn import agreements, case_clock, case_parties, case_routing, cases, referrals
from earlywarn import warnings as wsvc
from earlywarn.db import make_engine
from earlywarn.orgs import seed_org_tree
from earlywarn.tables import (
    AuditLog,
    CaseDeadline,
    CaseParty,
    CaseTransition,
    MediationCase,
    MediationOrg,
    Project,
    Reminder,
    RiskWarning,
)
from earlywarn.warnings import ProjectScore
from tests.test_balances import import_county, project_row, worker_row
from tests.test_importer import make_id

P, GC, SUB, TEAM = "AJ-M-001", "安吉宏建建设有限公司", "湖州安兴劳务有限公司", "李四泥工班组"
IDS = [make_id(f"330523198{i % 10}0101{200 + i:03d}") for i in range(12)]
NAMES = [f"工人{i:02d}" for i in range(12)]


def _days(idn: str) -> list[list[str]]:
    return [[P, idn, (date(2025, 9, 1) + timedelta(days=i)).isoformat(), "8"] for i in range(10)]


@pytest.fixture
def site(session, settings, tmp_path) -> Project:
    """12 workers at ￥300/day, 10 days in September 2025, nothing paid: ￥3,000.00 owed each; one left 20 Sep."""
    seed_org_tree(session=session, path=settings.reference_file)
    import_county(session, settings, tmp_path / "county",
                  projects=[project_row(P, "梅溪镇安置房二期", "梅溪镇", GC)],
                  subcontracts=[[P, GC, "", SUB, "", "劳务分包"], [P, SUB, "", TEAM, "", "班组"]],
                  workers=[worker_row(P, idn, name, TEAM, "300", "2025-08-01", "2025-09-20" if i == 0 else "")
                           for i, (idn, name) in enumerate(zip(IDS, NAMES, strict=True))],
                  attendance=[row for idn in IDS for row in _days(idn)])
    return session.exec(select(Project).where(Project.code == P)).one()


def open_from_warning(session, project, actor) -> MediationCase:
    wsvc.apply_scores(session=session, scores=[ProjectScore(project.id, 0.9, "red", {"summary": "9 月工资未发"})],
                      as_of=date(2025, 11, 3))
    warning = session.exec(select(RiskWarning).where(RiskWarning.project_id == project.id)).one()
    return wsvc.open_case_from_warning(session=session, warning=warning, actor=actor)


def parties(session, case, role=None) -> list[CaseParty]:
    rows = cases.parties_of(session=session, case=case)
    return [p for p in rows if role is None or p.role == role]


def open_kinds(session, case) -> dict[str, date]:
    return {d.kind: d.due_on for d in case_clock.open_deadlines(session=session, case=case)}


def test_open_from_warning_prefills_workers_claims_and_the_chain(session, site, make_user):
    mediator = make_user("mediator")
    case = open_from_warning(session, site, mediator)
    assert session.get(MediationOrg, case.mediation_org_id).name == "梅溪镇劳动争议调解委员会"
    workers = parties(session, case, "worker")
    assert [w.name for w in workers] == NAMES
    assert {w.claim_fen for w in workers} == {300_000}
    assert workers[0].claim_basis == "工资核查：2025-09 应发未发 ￥3,000.00"
    assert workers[0].id_masked.startswith("330523") and "*" in workers[0].id_masked
    assert (case.workers_count, case.amount_claimed_fen, case.is_collective) == (12, 3_600_000, True)
    assert (case.source, case.township, case.status) == ("warning", "梅溪镇", "intake")
    others = {(p.role, p.name) for p in parties(session, case) if p.role != "worker"}
    assert others == {("general_contractor", GC), ("employer", TEAM), ("subcontractor", SUB)}
    sub = next(p for p in parties(session, case) if p.role == "subcontractor")
    assert f"{GC} → {SUB} → {TEAM}" in sub.chain_note
    kinds = open_kinds(session, case)
    assert kinds["limitation"] == date(2026, 9, 20)  # a Sunday, but swapped to work before National Day 2026
    assert "rejection_notice" in kinds
    assert [t.to_status for t in cases.transitions_of(session=session, case=case)] == ["intake"]


def test_routing_by_township_and_transfers_up_and_across(session, site, make_user):
    mediator = make_user("mediator")
    assert case_routing.route_by_township(session=session, township="孝丰镇").name == "孝丰镇劳动争议调解委员会"
    assert case_routing.route_by_township(session=session, township="不存在镇").name == "安吉县劳动争议调解中心"
    case = open_from_warning(session, site, mediator)
    orgs = {o.name: o for o, _u in case_routing.mediation_orgs(session=session)}
    with pytest.raises(cases.CaseError, match="请写明移交理由"):
        case_routing.transfer_case(session=session, case=case, org_id=orgs["安吉县劳动争议调解中心"].id, reason="",
                                   actor=mediator)
    way = case_routing.transfer_case(session=session, case=case, org_id=orgs["安吉县劳动争议调解中心"].id,
                                     reason="涉及 12 人，报县中心", actor=mediator)
    assert way == "up" and case.assignee_id is None and case.version == 2
    way = case_routing.transfer_case(session=session, case=case,
                                     org_id=orgs["安吉县建筑业工会联合会劳动争议调解委员会"].id,
                                     reason="建筑业行业调解", actor=mediator)
    assert way == "across"


def _to_mediation(session, case, mediator, today):
    case_routing.assign_case(session=session, case=case, assignee_id=mediator.id, volunteer_id=None, actor=mediator)
    cases.change_status(session=session, case=case, action="accept", actor=mediator, today=today)
    for p in parties(session, case, "worker")[:3]:
        case_parties.set_representative(session=session, case=case, party_id=p.id, on=True, actor=mediator)
    cases.change_status(session=session, case=case, action="start_mediation", actor=mediator, today=today)


def test_full_path_to_a_performed_agreement(session, site, make_user):
    mediator = make_user("mediator")
    case = open_from_warning(session, site, None)  # opened by an admin: nobody holds it yet
    with pytest.raises(cases.CaseError, match="请先指派承办调解员"):
        cases.change_status(session=session, case=case, action="accept", actor=None)
    case_routing.assign_case(session=session, case=case, assignee_id=mediator.id, volunteer_id=None, actor=mediator)
    today = date(2026, 2, 2)
    cases.change_status(session=session, case=case, action="accept", actor=mediator, today=today)
    assert open_kinds(session, case)["mediation"] == date(2026, 2, 24)  # day 15 is 初一
    assert "rejection_notice" not in open_kinds(session, case)
    with pytest.raises(cases.CaseError, match="须推选 3–5 名代表，现有 0 名"):
        cases.change_status(session=session, case=case, action="start_mediation", actor=mediator)
    workers = parties(session, case, "worker")
    for p in workers[:5]:
        case_parties.set_representative(session=session, case=case, party_id=p.id, on=True, actor=mediator)
    with pytest.raises(cases.CaseError, match="代表最多 5 名"):
        case_parties.set_representative(session=session, case=case, party_id=workers[5].id, on=True, actor=mediator)
    cases.change_status(session=session, case=case, action="start_mediation", actor=mediator, today=today)
    with pytest.raises(cases.CaseError, match="调解协议尚未定稿"):
        cases.change_status(session=session, case=case, action="reach_agreement", actor=mediator)

    with pytest.raises(cases.CaseError) as exc:
        agreements.finalise(session=session, case=case, actor=mediator, today=today)
    for missing in ("主要事实", "协议内容", "履行方式", "每名职工的协议金额：工人00", "履行期次", "调解组织盖章"):
        assert missing in str(exc.value)
    agreed = {w.id: 300_000 for w in workers}
    agreements.save_agreement(session=session, case=case,
                              facts="2025 年 9 月 12 名职工工资未发放，总包单位认可欠薪事实。",
                              terms="总包单位先行清偿全部欠薪。", performance_method="工资专用账户代发至职工本人银行卡",
                              agreed=agreed, signatures={"employer_signed_at", "workers_signed_at"}, actor=mediator)
    agreements.add_instalment(session=session, case=case, due_on=date(2026, 2, 10), amount_fen=1_800_000,
                              party_id=None, actor=mediator, today=today)
    with pytest.raises(cases.CaseError, match="履行期限不能早于今天"):
        agreements.add_instalment(session=session, case=case, due_on=date(2026, 2, 1), amount_fen=1,
                                  party_id=None, actor=mediator, today=today)
    with pytest.raises(cases.CaseError) as exc:
        agreements.finalise(session=session, case=case, actor=mediator, today=today)
    assert "各期金额合计 ￥18,000.00 与协议金额合计 ￥36,000.00 不符" in str(exc.value)
    assert "调解员签名" in str(exc.value) and "用人单位" not in str(exc.value).split("缺少：")[1]
    agreements.add_instalment(session=session, case=case, due_on=date(2026, 3, 10), amount_fen=1_800_000,
                              party_id=None, actor=mediator, today=today)
    agreements.save_agreement(session=session, case=case,
                              facts="2025 年 9 月 12 名职工工资未发放，总包单位认可欠薪事实。",
                              terms="总包单位先行清偿全部欠薪。", performance_method="工资专用账户代发至职工本人银行卡",
                              agreed=agreed, signatures=set(agreements.SIGNATURES), actor=mediator)
    agreements.finalise(session=session, case=case, actor=mediator, today=today)
    assert case.status == "agreement"
    kinds = open_kinds(session, case)
    assert kinds["confirmation"] == date(2026, 3, 4)  # 30 days after 2 February
    assert sorted(d.due_on for d in case_clock.open_deadlines(session=session, case=case)
                  if d.kind == "instalment") == [date(2026, 2, 10), date(2026, 3, 10)]
    assert "mediation" not in kinds
    with pytest.raises(cases.CaseConflict, match="调解协议已定稿|只有调解中的案件"):
        agreements.add_instalment(session=session, case=case, due_on=date(2026, 3, 1), amount_fen=1,
                                  party_id=None, actor=mediator, today=today)
    cases.change_status(session=session, case=case, action="start_performance", actor=mediator)
    first, second = agreements.instalments_of(session=session, case=case)
    for too_much, message in ((1_800_001, "实付金额超过本期未付金额 ￥18,000.00"), (0, "实付金额须大于零")):
        with pytest.raises(cases.CaseError, match=message):
            agreements.mark_paid(session=session, case=case, instalment_id=first.id, paid_on=date(2026, 2, 9),
                                 paid_fen=too_much, worker_confirmed=True, note="", actor=mediator,
                                 today=date(2026, 2, 9))
    with pytest.raises(cases.CaseError, match="职工未确认收款的"):
        agreements.mark_paid(session=session, case=case, instalment_id=first.id, paid_on=date(2026, 2, 9),
                             paid_fen=1_800_000, worker_confirmed=False, note="", actor=mediator,
                             today=date(2026, 2, 9))
    agreements.mark_paid(session=session, case=case, instalment_id=first.id, paid_on=date(2026, 2, 9),
                         paid_fen=1_800_000, worker_confirmed=True, note="", actor=mediator, today=date(2026, 2, 9))
    with pytest.raises(cases.CaseError, match="还有 1 期未履行"):
        cases.change_status(session=session, case=case, action="close_performed", actor=mediator)
    agreements.mark_paid(session=session, case=case, instalment_id=second.id, paid_on=date(2026, 3, 12),
                         paid_fen=1_800_000, worker_confirmed=False, note="银行回单 0312", actor=mediator,
                         today=date(2026, 3, 12))
    cases.change_status(session=session, case=case, action="close_performed", actor=mediator)
    assert case.status == "closed_performed" and case.closed_at is not None
    assert case_clock.open_deadlines(session=session, case=case) == []
    steps = [t.to_status for t in cases.transitions_of(session=session, case=case)]
    assert steps == ["intake", "accepted", "in_mediation", "agreement", "performing", "closed_performed"]
    notes = {d.kind: d.note for d in case_clock.all_deadlines(session=session, case=case) if d.instalment_id}
    assert notes  # both instalment clocks met
    late = [d for d in case_clock.all_deadlines(session=session, case=case)
            if d.kind == "instalment" and "逾期履行" in d.note]
    assert len(late) == 1
    session.commit()
    audited = set(session.exec(select(AuditLog.action).where(AuditLog.object_type == "mediation_case")))
    assert {"case.accept", "case.start_mediation", "case.reach_agreement", "case.instalment_paid",
            "case.close_performed", "case.agreement_save", "case.assign", "case.prefill"} <= audited


def test_refusals_reasons_and_exits(session, site, make_user):
    mediator = make_user("mediator")
    case = open_from_warning(session, site, mediator)
    with pytest.raises(cases.CaseConflict, match="不能开始调解：案件当前状态为“待受理”"):
        cases.change_status(session=session, case=case, action="start_mediation", actor=mediator)
    with pytest.raises(cases.CaseError, match="请写明理由") as exc:
        cases.change_status(session=session, case=case, action="reject", actor=mediator, reason=" ")
    assert exc.value.field == "reason"
    cases.change_status(session=session, case=case, action="reject", actor=mediator,
                        reason="属工伤认定事项，不属受理范围",
                        today=date(2026, 2, 10))
    assert open_kinds(session, case) == {"rejection_notice": case_clock.open_deadlines(
        session=session, case=case)[0].due_on}
    notice = case_clock.open_deadlines(session=session, case=case)[0]
    case_clock.mark_met(session=session, case=case, deadline_id=notice.id, note="书面告知书已当面送达", actor=mediator)
    assert case_clock.open_deadlines(session=session, case=case) == []
    with pytest.raises(cases.CaseConflict, match="不能受理：案件当前状态为“不予受理”"):
        cases.change_status(session=session, case=case, action="accept", actor=mediator)


def test_extension_needs_both_consents(session, site, make_user):
    mediator = make_user("mediator")
    case = open_from_warning(session, site, mediator)
    with pytest.raises(cases.CaseConflict, match="只有已受理"):
        case_clock.extend_mediation(session=session, case=case, days=10, worker_consent="同意", employer_consent="同意",
                                    actor=mediator)
    _to_mediation(session, case, mediator, date(2026, 3, 2))
    assert open_kinds(session, case)["mediation"] == date(2026, 3, 17)
    for worker, employer, field in (("代表张三书面同意", "", "employer_consent"),
                                    ("", "总包项目经理签字同意", "worker_consent")):
        with pytest.raises(cases.CaseError, match="延长调解期限须经双方同意") as exc:
            case_clock.extend_mediation(session=session, case=case, days=10, worker_consent=worker,
                                        employer_consent=employer, actor=mediator)
        assert exc.value.field == field
    with pytest.raises(cases.CaseError, match="累计不超过 15 天"):
        case_clock.extend_mediation(session=session, case=case, days=16, worker_consent="同意", employer_consent="同意",
                                    actor=mediator)
    case_clock.extend_mediation(session=session, case=case, days=10, worker_consent="代表张三 3 月 16 日书面同意",
                                employer_consent="总包项目经理 3 月 16 日签字同意", actor=mediator)
    assert open_kinds(session, case)["mediation"] == date(2026, 3, 27) and case.extension_days == 10
    events = [e for e in cases.events_of(session=session, case=case) if e.kind == "extension"]
    assert events[0].data["employer_consent"] == "总包项目经理 3 月 16 日签字同意"


def test_concurrent_saves_the_second_gets_a_conflict(settings, session, site, make_user):
    mediator, other = make_user("mediator"), make_user("mediator", "u_mediator2")
    case = open_from_warning(session, site, mediator)
    loaded = case.version
    session.commit()  # both mediators loaded the form at version ``loaded``; each save is its own request
    engine = make_engine(settings)  # the app's engine (BEGIN IMMEDIATE on SQLite)
    try:
        with Session(engine, expire_on_commit=False) as a:
            case_routing.assign_case(session=a, case=a.get(MediationCase, case.id), assignee_id=other.id,
                                     volunteer_id=None, actor=other, expected_version=loaded)
        with Session(engine, expire_on_commit=False) as b:
            with pytest.raises(cases.CaseConflict, match="该案件已被他人修改"):
                case_routing.assign_case(session=b, case=b.get(MediationCase, case.id), assignee_id=mediator.id,
                                         volunteer_id=None, actor=mediator, expected_version=loaded)
    finally:
        engine.dispose()
    session.expire_all()
    fresh = session.get(MediationCase, case.id)
    assert (fresh.assignee_id, fresh.version) == (other.id, loaded + 1)


def test_overdue_instalment_reminds_with_the_next_step(session, site, make_user):
    mediator = make_user("mediator")
    case = open_from_warning(session, site, mediator)
    today = date(2026, 3, 2)
    _to_mediation(session, case, mediator, today)
    workers = parties(session, case, "worker")
    agreements.save_agreement(session=session, case=case, facts="十二名职工 2025 年 9 月工资未发放。", terms="一次付清",
                              performance_method="银行转账", agreed={w.id: 300_000 for w in workers},
                              signatures=set(agreements.SIGNATURES), actor=mediator)
    agreements.add_instalment(session=session, case=case, due_on=date(2026, 3, 10), amount_fen=3_600_000,
                              party_id=None, actor=mediator, today=today)
    agreements.finalise(session=session, case=case, actor=mediator, today=today)
    cases.change_status(session=session, case=case, action="start_performance", actor=mediator)
    assert case_clock.send_daily_reminders(session=session, today=date(2026, 3, 11)) >= 1
    again = case_clock.send_daily_reminders(session=session, today=date(2026, 3, 11))
    assert again == 0  # once per day
    mine = case_clock.reminders_for(session=session, user=mediator)
    text = next(r.message for r in mine if "协议履行" in r.message)
    assert "协议履行已逾期 1 天（2026-03-10）" in text and "支付令" in text
    overdue_events = [e for e in cases.events_of(session=session, case=case) if e.kind == "instalment_overdue"]
    assert len(overdue_events) == 1
    case_clock.send_daily_reminders(session=session, today=date(2026, 3, 12))
    assert len([e for e in cases.events_of(session=session, case=case) if e.kind == "instalment_overdue"]) == 1
    assert [c.case_no for _d, c in case_clock.overdue(session=session, today=date(2026, 3, 11))
            if _d.kind == "instalment"] == [case.case_no]
    assert case_clock.dismiss_reminder(session=session, user=mediator, reminder_id=mine[0].id)
    assert session.exec(select(Reminder).where(Reminder.id == mine[0].id)).one().read_at is not None


def test_failed_mediation_referred_to_arbitration_with_answer_tracking(session, site, make_user):
    mediator = make_user("mediator")
    case = open_from_warning(session, site, mediator)
    _to_mediation(session, case, mediator, date(2026, 3, 2))
    cases.change_status(session=session, case=case, action="fail", actor=mediator, reason="用人单位拒绝调解")
    with pytest.raises(cases.CaseError, match="请填写移送文号"):
        cases.change_status(session=session, case=case, action="refer", actor=mediator, reason="调解不成，移送仲裁",
                            referral={"body": "arbitration", "reference": ""})
    cases.change_status(session=session, case=case, action="refer", actor=mediator, reason="调解不成，移送仲裁",
                        referral={"body": "arbitration", "reference": "安劳人仲〔2026〕15号",
                                  "sent_on": date(2026, 3, 20)}, today=date(2026, 3, 20))
    [ref] = referrals.referrals_of(session=session, case=case)
    assert (ref.answer_due_on, case.status) == (date(2026, 3, 25), "referred")
    kinds = {d.kind: d for d in case_clock.all_deadlines(session=session, case=case)}
    assert kinds["limitation"].done_at is not None and "时效中断" in kinds["limitation"].note
    referrals.record_answer(session=session, case=case, referral_id=ref.id, answered_on=date(2026, 3, 27),
                            answer="已立案受理", actor=mediator, today=date(2026, 3, 30))
    stats = {r.body: r for r in referrals.on_time_by_body(session=session, today=date(2026, 3, 30))}
    arb = stats["arbitration"]
    assert (arb.sent, arb.answered_late, arb.on_time_rate) == (1, 1, 0.0)
    assert stats["court"].on_time_rate is None
    with pytest.raises(cases.CaseError, match="已登记答复"):
        referrals.record_answer(session=session, case=case, referral_id=ref.id, answered_on=date(2026, 3, 27),
                                answer="重复", actor=mediator, today=date(2026, 3, 30))


def test_union_case_for_anonymous_workers_and_hardship(session, site, make_user):
    mediator = make_user("mediator")
    with pytest.raises(cases.CaseError, match="工会代表姓名"):
        cases.open_case(session=session, source="union", title="匿名职工欠薪", summary="三名职工要求匿名，工会代为主张",
                        township="梅溪镇", actor=mediator)
    case = cases.open_case(session=session, source="union", title="匿名职工欠薪",
                           summary="三名职工要求匿名，工会代为主张",
                           township="梅溪镇", actor=mediator, union_rep_name="王工会", townships=["梅溪镇"])
    assert case.union_rep_name == "王工会" and case.assignee_id == mediator.id
    anon = case_parties.add_party(session=session, case=case, role="worker", name="", is_anonymous=True,
                                  claim_fen=450_000, actor=mediator, today=date(2026, 3, 2))
    assert anon.name == "匿名职工" and case.amount_claimed_fen == 450_000
    with pytest.raises(cases.CaseError, match="只有职工可以匿名"):
        case_parties.add_party(session=session, case=case, role="employer", name="某公司", is_anonymous=True,
                               actor=mediator, today=date(2026, 3, 2))
    with pytest.raises(cases.CaseError, match="离职日期不能晚于今天"):
        case_parties.add_party(session=session, case=case, role="worker", name="赵六",
                               employment_ended_on=date(2026, 3, 3), actor=mediator, today=date(2026, 3, 2))
    with pytest.raises(cases.CaseError, match="转介理由"):
        case_parties.refer_hardship(session=session, case=case, party_id=anon.id, reason="", actor=mediator)
    case_parties.refer_hardship(session=session, case=case, party_id=anon.id, reason="家庭成员重病，欠薪后无生活来源",
                                actor=mediator)
    assert anon.id in case_parties.hardship_of(session=session, case=case)
    with pytest.raises(cases.CaseError, match="已转介过"):
        case_parties.refer_hardship(session=session, case=case, party_id=anon.id, reason="再次转介测试", actor=mediator)


def test_walk_in_input_is_checked(session, site, make_user):
    mediator = make_user("mediator")
    base = dict(session=session, source="walk_in", title="来访欠薪", summary="要求支付 2025 年 12 月工资",
                township="梅溪镇", actor=mediator, townships=["梅溪镇"])
    for bad, field in ((dict(source="warning"), "source"), (dict(title="x"), "title"), (dict(summary="钱"), "summary"),
                       (dict(township="火星"), "township"), (dict(received_on=date(2099, 1, 1)), "received_on"),
                       (dict(source="reports"), "report_ids"), (dict(report_ids=[999]), "report_ids")):
        with pytest.raises(cases.CaseError) as exc:
            cases.open_case(**{**base, **bad})
        assert exc.value.field == field
    case = cases.open_case(**base, received_on=date(2025, 10, 9))
    assert case.status == "intake" and open_kinds(session, case)["rejection_notice"] == date(2025, 10, 15)
    assert session.exec(select(CaseTransition).where(CaseTransition.case_id == case.id)).one().to_status == "intake"
    assert session.exec(select(CaseDeadline).where(CaseDeadline.case_id == case.id)).one().kind == "rejection_notice"
