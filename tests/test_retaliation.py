"""The retaliation watch: the pure decision (exact working-day counts, the threshold's edge, stops and exits before
the case), and the service on a small imported county on both backends — a claimant who stops after the case
opened is flagged once, a claimant still working or paid off is not, an exit without settlement is flagged;
who sees the flags and what the reminder says."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlmodel import select

from earlywarn import case_clock, case_parties, cases, retaliation
from earlywarn import retaliation_watch as rw
from earlywarn.config import LOCAL_TZ
from earlywarn.orgs import seed_org_tree
from earlywarn.tables import AuditLog, Project, Reminder, RetaliationFlag
from earlywarn.workdays import is_workday
from tests.test_balances import days, import_county, pay, project_row, reimport, worker_row
from tests.test_importer import make_id

# ------------------------------------------------------------------------------------------------ pure

MON = date(2025, 10, 27)  # a Monday; 1–8 October 2025 is the National Day holiday, 11 October a swapped workday
EVERY_DAY = [date(2025, 9, 29) + timedelta(days=i) for i in range(40)]


def claimant(last=None, exit_=None, owed=300_000, pid=1) -> rw.Claimant:
    return rw.Claimant(pid, last, exit_, owed)


def assess(c, project_days=EVERY_DAY, watch_from=MON, as_of=date(2025, 11, 7), **kw):
    return rw.assess(c, project_days=project_days, watch_from=watch_from, as_of=as_of, is_workday=is_workday, **kw)


def test_days_missed_counts_only_the_projects_working_days():
    # After Friday 24 October: 27–31 October are five working days; the weekend in between does not count.
    assert rw.days_missed(date(2025, 10, 24), EVERY_DAY, until=date(2025, 11, 1), is_workday=is_workday) == 5
    # Over National Day: 30 September, then 9, 10 and Saturday 11 October (a swapped working day).
    assert rw.days_missed(date(2025, 9, 29), EVERY_DAY, until=date(2025, 10, 12), is_workday=is_workday) == 4
    # The site itself stopped: no project days, nothing missed.
    assert rw.days_missed(date(2025, 10, 24), [], is_workday=is_workday) == 0


def test_the_threshold_edge_and_the_paid_off():
    last = date(2025, 10, 24)
    assert assess(claimant(last), as_of=date(2025, 10, 30),
                  project_days=[d for d in EVERY_DAY if d <= date(2025, 10, 30)]) is None  # four days
    found = assess(claimant(last), as_of=date(2025, 10, 31), project_days=[d for d in EVERY_DAY
                                                                          if d <= date(2025, 10, 31)])
    assert found == rw.Finding(1, "stopped", last, 300_000, 5)
    assert assess(claimant(last, owed=100)) is None  # ￥1.00 left is not owed (as the wage check)
    assert assess(claimant(last, owed=101)).kind == "stopped"
    with pytest.raises(ValueError):
        assess(claimant(last), threshold=0)


def test_a_site_that_stopped_altogether_flags_nobody():
    site_days = [d for d in EVERY_DAY if d <= date(2025, 10, 24)]
    assert assess(claimant(date(2025, 10, 24)), project_days=site_days) is None


def test_stops_and_exits_before_the_case_are_not_its_consequence():
    assert assess(claimant(date(2025, 10, 17))) is None  # away 20–24 October: five working days before the case
    assert assess(claimant(date(2025, 10, 20))).working_days == 14  # away four days before it, then on
    assert assess(claimant(date(2025, 10, 20), exit_=date(2025, 10, 24))) is None
    left = assess(claimant(date(2025, 10, 28), exit_=date(2025, 10, 28)))
    assert left == rw.Finding(1, "left_unpaid", date(2025, 10, 28), 300_000, 0)
    assert assess(claimant(date(2025, 10, 28), exit_=date(2025, 10, 28), owed=0)) is None
    # An exit date later than the as-of date is a plan, not a departure; attendance still counts.
    assert assess(claimant(date(2025, 11, 6), exit_=date(2025, 11, 30))) is None
    assert [f.party_id for f in rw.findings([claimant(date(2025, 10, 24), pid=7), claimant(date(2025, 11, 6), pid=8)],
                                            project_days=EVERY_DAY, watch_from=MON, as_of=date(2025, 11, 7),
                                            is_workday=is_workday)] == [7]


# ------------------------------------------------------------------------------------------------ service

P, GC, TEAM = "AJ-R-001", "安吉恒远建设有限公司", "王五钢筋班组"
IDS = {n: make_id(f"33052319900{i + 1}01{300 + i:03d}") for i, n in enumerate("ABCDE")}
NAMES = {n: f"申请人{n}" for n in IDS}


@pytest.fixture
def watched(session, settings, tmp_path, make_user):
    """Five steel fixers at ￥300/day, every day from 1 September to 24 October 2025, nothing paid (E only
    1–5 September); a walk-in case opened on Monday 27 October with the five prefilled from the wage data."""
    seed_org_tree(session=session, path=settings.reference_file)
    folder = tmp_path / "county"
    paths = import_county(
        session, settings, folder, projects=[project_row(P, "递铺街道人才公寓", "递铺街道", GC)],
        subcontracts=[[P, GC, "", TEAM, "", "班组"]],
        workers=[worker_row(P, idn, NAMES[n], TEAM, "300", "2025-09-01") for n, idn in IDS.items()],
        attendance=[r for n, idn in IDS.items() for r in days(P, idn, date(2025, 9, 1), 5 if n == "E" else 54)])
    mediator = make_user("mediator")
    project = session.exec(select(Project).where(Project.code == P)).one()
    case = cases.open_case(session=session, source="walk_in", title="钢筋班组欠薪",
                           summary="五名钢筋工九、十月工资未发", project_id=project.id, actor=mediator)
    case.opened_at = datetime(2025, 10, 27, 9, tzinfo=LOCAL_TZ)
    session.add(case)
    session.commit()
    assert case_parties.prefill_from_wage_data(session=session, case=case, as_of=date(2025, 10, 27)) == 5
    return case, mediator, folder, paths


def _later_data(session, settings, folder, paths):
    """B works on to 14 November; C stops but is paid in full; D works to 31 October and leaves unpaid;
    A simply stops."""
    reimport(session, settings, folder / "attendance-2.csv", "attendance",
             days(P, IDS["B"], date(2025, 10, 27), 19) + days(P, IDS["D"], date(2025, 10, 27), 5))
    reimport(session, settings, folder / "payroll.csv", "payroll",
             [pay(P, IDS["C"], "2025-09", "9000", "9000", "2025-10-28"),
              pay(P, IDS["C"], "2025-10", "7200", "7200", "2025-10-28")])
    reimport(session, settings, folder / "workers-2.csv", "workers",
             [worker_row(P, IDS["D"], NAMES["D"], TEAM, "300", "2025-09-01", "2025-10-31")])


def _flags(session, case) -> dict[str, tuple]:
    session.expire_all()
    names = {p.id: p.name for p in cases.parties_of(session=session, case=case)}
    return {names[f.party_id]: (f.kind, f.since, f.owed_fen) for f in
            session.exec(select(RetaliationFlag).where(RetaliationFlag.case_id == case.id))}


def test_a_claimant_who_stops_is_flagged_once_the_working_and_the_paid_are_not(session, settings, watched):
    case, mediator, folder, paths = watched
    assert retaliation.watch_cases(session=session, today=date(2025, 10, 27)).raised == 0
    _later_data(session, settings, folder, paths)
    assert retaliation.watch_cases(session=session, today=date(2025, 10, 30)).raised == 0  # four days, and D not yet
    result = retaliation.watch_cases(session=session, today=date(2025, 10, 31))
    assert (result.cases, result.raised, result.reminders) == (1, 2, 1)
    assert _flags(session, case) == {"申请人A": ("stopped", date(2025, 10, 24), 1_620_000),
                                     "申请人D": ("left_unpaid", date(2025, 10, 31), 1_770_000)}
    again = retaliation.watch_cases(session=session, today=date(2025, 10, 31))
    later = retaliation.watch_cases(session=session, today=date(2025, 11, 14))
    assert (again.raised, again.reminders, later.raised, later.reminders) == (0, 0, 0, 0)
    assert len(_flags(session, case)) == 2  # B works on, C was paid in full, E had left before the case

    [reminder] = case_clock.reminders_for(session=session, user=mediator)
    assert reminder.message == (f"{case.case_no}：2 名申请人疑似遭受打击报复（立案后考勤中断 1 人、"
                                "立案后离场且工资未结清 1 人），请尽快核实。详情仅在案件页向承办调解员和领导显示。")
    assert not any(name in reminder.message for name in NAMES.values())
    assert reminder.link == f"/cases/{case.id}#retaliation"
    audit = session.exec(select(AuditLog).where(AuditLog.action == "case.retaliation_flag")).one()
    assert "申请人" not in str(audit.detail) and len(audit.detail["flags"]) == 2


def test_who_sees_the_flags_and_handling_one(session, settings, watched, make_user):
    case, mediator, folder, paths = watched
    _later_data(session, settings, folder, paths)
    retaliation.watch_cases(session=session, today=date(2025, 11, 3))
    other, leader, admin = make_user("mediator", "u_mediator2"), make_user("leader"), make_user("admin")
    assert retaliation.flags_of(session=session, case=case, user=other) is None
    assert retaliation.flags_of(session=session, case=case, user=admin) is None
    assert len(retaliation.flags_of(session=session, case=case, user=leader)) == 2
    flag, party = retaliation.flags_of(session=session, case=case, user=mediator)[0]
    with pytest.raises(cases.CaseError, match="只有本案承办调解员"):
        retaliation.handle_flag(session=session, case=case, flag_id=flag.id, note="已走访", actor=leader)
    with pytest.raises(cases.CaseError, match="请写明核实和处理情况") as exc:
        retaliation.handle_flag(session=session, case=case, flag_id=flag.id, note=" ", actor=mediator)
    assert exc.value.field == "note"
    retaliation.handle_flag(session=session, case=case, flag_id=flag.id,
                            note="已走访，班组长承认停工是因其讨薪，已责令复工", actor=mediator)
    with pytest.raises(cases.CaseError, match="已核实办结"):
        retaliation.handle_flag(session=session, case=case, flag_id=flag.id, note="再次", actor=mediator)
    assert retaliation.flags_of(session=session, case=case, user=mediator)[-1][0].id == flag.id  # handled last
    assert retaliation.watch_cases(session=session, today=date(2025, 11, 4)).raised == 0  # handled stays handled


def test_closed_cases_and_cases_without_a_project_are_not_watched(session, settings, watched):
    case, mediator, folder, paths = watched
    _later_data(session, settings, folder, paths)
    cases.change_status(session=session, case=case, action="withdraw", actor=mediator, reason="申请人撤回申请")
    assert retaliation.watch_cases(session=session, today=date(2025, 11, 3)).cases == 0
    assert session.exec(select(Reminder).where(Reminder.key.startswith("retaliation:"))).all() == []
