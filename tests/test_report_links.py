"""Reports and their subjects (earlywarn.report_links, service) on SQLite and PostgreSQL: candidates from the
database, automatic linking written on the report and audited, the "needs linking" queue, re-linking once the
project exists, manual linking (audited, never overwritten), corroboration against the wage check (three outcomes,
as of the report's day) and incidents built from the stored reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from earlywarn.audit import verify_chain
from earlywarn.balances import refresh_month_summary
from earlywarn.report_links import (
    corroborate,
    incidents,
    link_manually,
    link_report_record,
    load_candidates,
    needs_linking,
    relink_unlinked,
)
from earlywarn.rules import load_rules
from earlywarn.tables import (
    Attendance,
    AuditLog,
    Company,
    Informant,
    PayrollPayment,
    Project,
    Report,
    RosterEntry,
    Subcontract,
    Worker,
)


def _company(session, name, kind="company"):
    c = Company(name=name, kind=kind)
    session.add(c)
    session.flush()
    return c


def _project(session, code, name, township, gc, start=date(2025, 1, 1)):
    p = Project(code=code, name=name, township=township, general_contractor_id=gc.id, start_date=start)
    session.add(p)
    session.flush()
    return p


@pytest.fixture
def county(session):
    """银河 builds 阳光苑 (递铺); 恒达 builds the 卫生院 (孝丰) with 宏盛 as labour subcontractor."""
    yinhe, hengda = _company(session, "湖州银河建设有限公司"), _company(session, "浙江恒达建设集团有限公司")
    hongsheng, team = _company(session, "湖州宏盛建筑劳务有限公司"), _company(session, "王建国班组", "team")
    sun = _project(session, "AJ2025-001", "安吉县阳光苑一期", "递铺街道", yinhe)
    clinic = _project(session, "AJ2025-002", "孝丰卫生院迁建工程", "孝丰镇", hengda)
    session.add(Subcontract(project_id=clinic.id, parent_id=hengda.id, child_id=hongsheng.id, kind="labour"))
    session.add(Subcontract(project_id=clinic.id, parent_id=hongsheng.id, child_id=team.id, kind="team"))
    session.commit()
    return {"yinhe": yinhe, "hengda": hengda, "hongsheng": hongsheng, "team": team, "sun": sun, "clinic": clinic}


_n = iter(range(1, 10_000))


def _report(session, text, *, at=datetime(2025, 4, 30, 2, 0, tzinfo=UTC), code=None, employer=None, township=None,
            category="wage_arrears", informant=None, **kw):
    r = Report(uid=f"t:{next(_n)}", received_at=at, text=text, project_code_text=code, employer_text=employer,
               township=township, category=category, informant_id=informant.id if informant else None, **kw)
    session.add(r)
    session.commit()
    return r


def _actions(session, action):
    return [e for e in session.exec(select(AuditLog).where(AuditLog.action == action))]


def test_candidates_come_from_projects_companies_and_chains(session, county):
    cands = load_candidates(session=session)
    assert cands.codes == {"AJ2025-001": county["sun"].id, "AJ2025-002": county["clinic"].id}
    by_name = {c.names[0]: c for c in cands.index.candidates}
    assert by_name["湖州宏盛建筑劳务有限公司"].project_ids == (county["clinic"].id,)
    assert by_name["王建国班组"].project_ids == (county["clinic"].id,)
    assert "银河建设" in by_name["湖州银河建设有限公司"].names
    assert by_name["孝丰卫生院迁建工程"].township == "孝丰镇"


def test_linking_by_code_name_and_fuzzily_is_written_and_audited(session, county):
    by_code = _report(session, "工资没发", code="AJ2025-002")
    by_name = _report(session, "安吉县阳光苑一期的工人被欠薪")
    fuzzy = _report(session, "宏盛劳务的老板欠我们三个月工资")
    cands = load_candidates(session=session)
    for r in (by_code, by_name, fuzzy):
        link_report_record(session=session, report=r, candidates=cands)
    session.expire_all()
    by_code, by_name, fuzzy = (session.get(Report, r.id) for r in (by_code, by_name, fuzzy))
    assert (by_code.project_id, by_code.link_method, by_code.link_confidence) == (county["clinic"].id, "code", 1.0)
    assert (by_name.project_id, by_name.link_method) == (county["sun"].id, "name")
    assert (fuzzy.company_id, fuzzy.project_id, fuzzy.link_method) == (county["hongsheng"].id, county["clinic"].id,
                                                                       "fuzzy")
    assert fuzzy.analysis["link"]["matched"] == "宏盛劳务" and fuzzy.analysis["link"]["via_company"] is True
    assert 0.85 <= fuzzy.link_confidence < 0.95
    entries = _actions(session, "report.link")
    assert {e.object_id for e in entries} == {str(by_code.id), str(by_name.id), str(fuzzy.id)}
    assert verify_chain(session=session) == (True, None)


def test_unknown_project_goes_to_the_needs_linking_queue(session, county):
    older = _report(session, "金鼎建设拖欠工资", at=datetime(2025, 4, 1, tzinfo=UTC))
    newer = _report(session, "银河建筑的工地欠薪", at=datetime(2025, 4, 2, tzinfo=UTC))
    closed = _report(session, "测试", at=datetime(2025, 4, 3, tzinfo=UTC), status="closed")
    linked = _report(session, "阳光苑一期欠薪")
    for r in (older, newer, closed, linked):
        link_report_record(session=session, report=r)
    assert newer.link_method is None and newer.project_id is None
    assert newer.analysis["link"]["alternatives"][0]["name"] == "湖州银河建设有限公司"
    assert [r.id for r in needs_linking(session=session)] == [newer.id, older.id]
    assert len(needs_linking(session=session, limit=1)) == 1


def test_relink_finds_a_project_registered_after_the_report(session, county):
    report = _report(session, "凤凰·金地府二期拖欠工资", township="梅溪镇")
    link_report_record(session=session, report=report)
    assert report.link_method is None
    _project(session, "AJ2025-009", "凤凰·金地府二期", "梅溪镇", county["yinhe"])
    session.commit()
    assert relink_unlinked(session=session) == 1
    assert report.project_id is not None and report.link_method == "name"
    [entry] = _actions(session, "report.relink")
    assert entry.detail["linked"] == 1 and entry.detail["report_ids"] == [report.id]
    assert relink_unlinked(session=session) == 0  # nothing left to try


def test_manual_link_is_audited_and_kept(session, county, make_user):
    mediator = make_user("mediator")
    report = _report(session, "那个工地欠钱不给")
    link_report_record(session=session, report=report)
    assert report in needs_linking(session=session)
    link_manually(session=session, report=report, project_id=county["sun"].id, actor=mediator)
    assert (report.project_id, report.link_method, report.link_confidence) == (county["sun"].id, "manual", 1.0)
    [entry] = _actions(session, "report.link_manual")
    assert entry.actor_id == mediator.id and entry.detail["project_id"] == county["sun"].id
    assert entry.detail["before"]["method"] is None
    assert report not in needs_linking(session=session)
    # The automatic linker never overrides the mediator, even by code.
    report.project_code_text = "AJ2025-002"
    assert link_report_record(session=session, report=report) is None
    assert report.project_id == county["sun"].id
    assert relink_unlinked(session=session) == 0
    with pytest.raises(ValueError, match="项目或单位"):
        link_manually(session=session, report=report, actor=mediator)
    with pytest.raises(ValueError, match="不存在"):
        link_manually(session=session, report=report, company_id=99_999, actor=mediator)
    assert verify_chain(session=session) == (True, None)


# ------------------------------------------------------------------------------------------ corroboration


def _worked(session, project, team, *, march_paid: bool):
    """One worker, ten days in March 2025 at ￥300 a day; paid in full on 20 April, or not at all."""
    w = Worker(id_hash=f"h{project.id}", id_cipher="x", id_masked="3305**********0011", name="张三")
    session.add(w)
    session.flush()
    session.add(RosterEntry(project_id=project.id, worker_id=w.id, team_id=team.id, daily_wage_fen=30_000,
                            entry_date=date(2025, 3, 1)))
    session.flush()
    for day in range(3, 13):
        session.add(Attendance(project_id=project.id, worker_id=w.id, work_date=date(2025, 3, day), hours_centi=800))
    if march_paid:
        session.add(PayrollPayment(project_id=project.id, worker_id=w.id, period="2025-03", amount_due_fen=300_000,
                                   amount_paid_fen=300_000, pay_date=date(2025, 4, 20), channel="special_account"))
    session.flush()
    refresh_month_summary(session=session, project_ids={project.id})
    session.commit()


def test_corroboration_three_outcomes(session, settings, county):
    ruleset = load_rules(settings.rules_dir)
    _worked(session, county["sun"], county["yinhe"], march_paid=False)
    _worked(session, county["clinic"], county["team"], march_paid=True)
    third = _project(session, "AJ2025-003", "递铺人才公寓", "递铺街道", county["yinhe"])
    session.commit()

    owed = _report(session, "阳光苑一期欠薪")
    link_report_record(session=session, report=owed)
    assert corroborate(session=session, ruleset=ruleset, report=owed) == "corroborated"
    assert owed.corroboration == "corroborated"
    detail = owed.analysis["corroboration"]
    assert detail["as_of"] == "2025-04-30" and detail["workers_owed"] == 1
    assert detail["amount_owed_fen"] == 300_000 and "wages.attendance_without_pay" in detail["rules"]

    paid = _report(session, "卫生院欠薪", project_id=county["clinic"].id)
    assert corroborate(session=session, ruleset=ruleset, report=paid) == "not_corroborated"
    assert paid.analysis["corroboration"]["workers_owed"] == 0

    no_data = _report(session, "人才公寓欠薪", project_id=third.id)
    assert corroborate(session=session, ruleset=ruleset, report=no_data) == "no_data"
    assert no_data.analysis["corroboration"]["reason"] == "no_wage_data"
    unlinked = _report(session, "那个工地欠薪")
    assert corroborate(session=session, ruleset=ruleset, report=unlinked) == "no_data"
    assert unlinked.analysis["corroboration"]["reason"] == "no_project"

    other = _report(session, "工地有人受伤", category="injury", project_id=county["sun"].id)
    assert corroborate(session=session, ruleset=ruleset, report=other) is None and other.corroboration is None
    assert len(_actions(session, "report.corroborate")) == 4
    assert verify_chain(session=session) == (True, None)


def test_corroboration_is_as_of_the_report_day(session, settings, county):
    ruleset = load_rules(settings.rules_dir)
    _worked(session, county["sun"], county["yinhe"], march_paid=False)
    # 10 April (Shanghai): March's pay day, the 25th, has not come yet, so nothing is owed.
    early = _report(session, "阳光苑欠薪", project_id=county["sun"].id, at=datetime(2025, 4, 10, 1, 0, tzinfo=UTC))
    assert corroborate(session=session, ruleset=ruleset, report=early) == "not_corroborated"
    # Before any attendance there is nothing to compare with.
    before = _report(session, "阳光苑欠薪", project_id=county["sun"].id, at=datetime(2025, 2, 1, tzinfo=UTC))
    assert corroborate(session=session, ruleset=ruleset, report=before) == "no_data"
    # 30 April 23:30 UTC is already 1 May in Anji.
    late = _report(session, "阳光苑欠薪", project_id=county["sun"].id, at=datetime(2025, 4, 30, 23, 30, tzinfo=UTC))
    corroborate(session=session, ruleset=ruleset, report=late)
    assert late.analysis["corroboration"]["as_of"] == "2025-05-01"


# ------------------------------------------------------------------------------------------ incidents


def test_incidents_from_stored_reports(session, county):
    informants = [Informant(pseudonym_no=n) for n in (7, 8)]
    session.add_all(informants)
    session.commit()
    sun, clinic = county["sun"].id, county["clinic"].id
    t0 = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    for day, project, who in ((0, sun, informants[0]), (3, sun, informants[1]), (6, sun, informants[0]),
                              (8, sun, None), (2, clinic, None), (40, sun, informants[1])):
        _report(session, "欠薪", at=t0 + timedelta(days=day), project_id=project, informant=who)
    _report(session, "某公司欠薪", at=t0)  # unlinked: in no incident
    found = incidents(session=session)
    assert [(i.project_id, i.reports) for i in found] == [(sun, 1), (sun, 4), (clinic, 1)]
    big = found[1]
    assert big.informants == 2 and big.anonymous == 1 and big.informant_keys == ["#7", "#8"]
    assert [(i.project_id, i.reports) for i in incidents(session=session, project_id=clinic)] == [(clinic, 1)]
    assert len(incidents(session=session, since=t0 + timedelta(days=30))) == 1
