"""Corroborating many reports at once (report_links.corroborate_many, wagecheck.run_checks_at,
dated_months.dated_month_columns) gives what corroborating each alone gives, on SQLite and PostgreSQL (conftest).

The county is the wage check's five projects (tests/test_wagecheck.py) and the summary's project with late,
partial and channel-less payments (tests/test_month_summary.py), so that checks fall mid-month, between the
instalments of a month, before any data and after all of it.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import numpy as np
import pytest
from sqlmodel import select

from earlywarn.balances import month_columns
from earlywarn.dated_months import dated_month_columns
from earlywarn.month_columns import _ARRAYS
from earlywarn.report_links import corroborate, corroborate_many
from earlywarn.rules import load_rules
from earlywarn.tables import AuditLog, Project, Report
from earlywarn.wagecheck import run_check, run_checks_at
from tests.test_balances import import_county, pay
from tests.test_month_summary import RICH
from tests.test_wagecheck import COUNTY, P1, P2, P4, P5, W3

P6 = RICH["projects"][0][0]  # the summary's project, paid in instalments
BOTH = {kind: COUNTY[kind] + RICH[kind] for kind in COUNTY}
# A month paid in three instalments on P2 as well, so that two projects have checks between payments.
BOTH["payroll"] = BOTH["payroll"] + [pay(P2, W3, "2025-03", "1500", "0.50", "2025-06-10"),
                                     pay(P2, W3, "2025-03", "1500", "0.50", "2025-06-20")]
# Before any data, mid-month, month ends, between instalments, pay days, after the last data.
DATES = [date(2025, 2, 15), date(2025, 3, 1), date(2025, 3, 10), date(2025, 3, 31), date(2025, 4, 10),
         date(2025, 4, 25), date(2025, 4, 26), date(2025, 5, 2), date(2025, 5, 10), date(2025, 5, 24),
         date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 15), date(2025, 6, 30), date(2025, 7, 1),
         date(2025, 12, 31)]


@pytest.fixture
def county(session, settings, tmp_path):
    import_county(session, settings, tmp_path / "county", **BOTH)
    return dict(session.exec(select(Project.code, Project.id)).all())


@pytest.fixture
def ruleset(settings):
    return load_rules(settings.rules_dir)


def _at(day: date, hour: int = 2) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)  # 10:00 in Anji, the same day


_uids = iter(range(1, 10_000))


def _report(session, project_id, day, *, category="wage_arrears", text="老板拖欠工资", workers=None):
    r = Report(uid=f"b:{next(_uids)}", received_at=_at(day), text=text, category=category, project_id=project_id,
               workers_involved=workers)
    session.add(r)
    return r


def test_dated_month_columns_equal_month_columns_for_every_project_and_date(session, county):
    dates = {pid: DATES for pid in county.values()}
    table, checks = dated_month_columns(session=session, dates=dates)
    assert checks == sorted((pid, day) for pid in county.values() for day in DATES)
    seen = 0
    for k, (pid, day) in enumerate(checks):
        alone = month_columns(session=session, as_of=day, project_ids=[pid])
        mine = table.take(table.project_id == k)
        assert len(mine) == len(alone), (pid, day)
        seen += len(alone)
        for name in _ARRAYS:
            expected = np.full(len(alone), k) if name == "project_id" else getattr(alone, name)
            assert np.array_equal(getattr(mine, name), expected, equal_nan=True), (pid, day, name)
        assert np.array_equal(mine.overdue_days, alone.overdue_days), (pid, day)
    assert seen == len(table) > 0
    # The instalment month of P6 between its payments: ￥500 of ￥840 paid as of 05-24, all as of 06-30.
    k = checks.index((county[P6], date(2025, 5, 24)))
    april = table.take((table.project_id == k) & (table.month == 2025 * 12 + 3) & (table.paid_fen > 0))
    assert sorted(april.paid_fen.tolist())[-1] == 50_000 and april.payments.max() == 2


def test_checks_at_several_dates_equal_one_check_at_a_time(session, county, ruleset):
    # Reports in the window move the project features (reports_recent, escalation, workers named).
    for day, workers, text in ((date(2025, 5, 1), 12, "工人说要去堵政府大门讨薪"), (date(2025, 5, 20), 3, "欠薪")):
        _report(session, county[P1], day, text=text, workers=workers)
    session.flush()
    batch = run_checks_at(session=session, ruleset=ruleset, dates={pid: DATES for pid in county.values()})
    compared = 0
    for code, pid in county.items():
        for day in DATES:
            alone = run_check(session=session, ruleset=ruleset, as_of=day, project_code=code)
            if not alone:
                assert (pid, day) not in batch, (code, day)
                continue
            [one] = alone
            mine = batch[(pid, day)]
            assert _figures(mine) == _figures(one), (code, day)
            compared += 1
    assert compared == len(batch) > 30
    # The hand-computed figures of tests/test_wagecheck.py as of 2025-05-10, red with the threat of 05-01.
    p1 = batch[(county[P1], date(2025, 5, 10))]
    assert (p1.level, p1.workers_owed, p1.amount_owed_fen, p1.oldest_overdue_days) == ("red", 2, 400_000, 15)
    assert {"wages.attendance_without_pay", "projects.arrears_under_month", "reports.escalation_signal",
            "reports.collective_dispute"} <= set(p1.fired_rule_ids)
    assert (p1.features["reports_recent"], p1.features["escalation_reports"], p1.features["reports_workers_max"]) == (
        1, 1, 12)
    later = batch[(county[P1], date(2025, 6, 15))].features  # the window (30 days) holds the 05-20 report alone
    assert (later["reports_recent"], later["escalation_reports"], later["reports_workers_max"]) == (1, 0, 3)
    assert batch[(county[P1], date(2025, 5, 24))].features["reports_recent"] == 2
    assert (county[P4], date(2025, 5, 10)) not in batch and (county[P1], date(2025, 2, 15)) not in batch
    assert batch[(county[P5], date(2025, 5, 10))].amount_owed_fen == 60_175


def _figures(pc) -> tuple:
    return (pc.code, pc.level, pc.workers_owed, pc.amount_owed_fen, pc.oldest_overdue_days,
            [(h.rule.id, h.fired, h.not_checked) for h in pc.hits], [dataclasses.asdict(w) for w in pc.owed],
            pc.features)


def test_batch_corroboration_equals_corroborating_each_report(session, county, ruleset):
    reports = [_report(session, county[code], day) for code in (P1, P2, P4, P5, P6) for day in DATES]
    reports += [_report(session, county[P1], date(2025, 5, 10)),  # a second report of the same project and day
                _report(session, None, date(2025, 5, 10)),  # linked to no project
                _report(session, county[P1], date(2025, 5, 10), category="injury", text="工地有人受伤")]
    session.flush()
    alone = []
    for r in reports:
        outcome = corroborate(session=session, ruleset=ruleset, report=r, commit=False, audit=False)
        alone.append((outcome, r.corroboration, (r.analysis or {}).get("corroboration")))
        r.corroboration, r.analysis = None, {}
    outcomes = corroborate_many(session=session, ruleset=ruleset, reports=reports, commit=False, audit=False)
    together = [(o, r.corroboration, (r.analysis or {}).get("corroboration")) for o, r in zip(outcomes, reports,
                                                                                               strict=True)]
    assert together == alone
    by = {(r.project_id, r.received_at.date(), r.category): r.analysis.get("corroboration") for r in reports}
    assert by[(county[P1], date(2025, 5, 10), "wage_arrears")] == {
        "as_of": "2025-05-10", "workers_owed": 2, "amount_owed_fen": 400_000, "level": "orange",
        "rules": ["wages.attendance_without_pay"]}
    assert by[(county[P2], date(2025, 5, 10), "wage_arrears")] == {
        "as_of": "2025-05-10", "workers_owed": 0, "amount_owed_fen": 0, "level": "green", "rules": []}
    assert by[(county[P4], date(2025, 5, 10), "wage_arrears")] == {"as_of": "2025-05-10", "reason": "no_wage_data"}
    assert by[(county[P1], date(2025, 2, 15), "wage_arrears")] == {"as_of": "2025-02-15", "reason": "no_wage_data"}
    assert by[(None, date(2025, 5, 10), "wage_arrears")] == {"as_of": "2025-05-10", "reason": "no_project"}
    assert by[(county[P1], date(2025, 5, 10), "injury")] is None and outcomes[-1] is None
    counts = {o: outcomes.count(o) for o in set(outcomes)}
    assert counts[None] == 1 and counts["no_data"] >= len(DATES) + 2 and counts["corroborated"] > 10


def test_batch_corroboration_is_audited_per_report_when_asked(session, county, ruleset):
    reports = [_report(session, county[P1], date(2025, 5, 10)), _report(session, county[P4], date(2025, 5, 10)),
               _report(session, county[P1], date(2025, 5, 10), category="injury")]
    session.flush()
    assert corroborate_many(session=session, ruleset=ruleset, reports=reports) == [
        "corroborated", "no_data", None]
    entries = session.exec(select(AuditLog).where(AuditLog.action == "report.corroborate")).all()
    assert sorted((e.object_id, e.detail["outcome"]) for e in entries) == sorted(
        [(str(reports[0].id), "corroborated"), (str(reports[1].id), "no_data")])
    assert corroborate_many(session=session, ruleset=ruleset, reports=[]) == []


def test_imported_reports_are_corroborated_as_each_alone(session, settings, tmp_path, ruleset):
    rows = [[f"R-{i}", f"{day.isoformat()} 10:00", "", "", code, "", "项目老板拖欠我们工资两个月了，一直不发", "", ""]
            for i, (code, day) in enumerate((c, d) for c in (P1, P2, P4, P5) for d in DATES[::3])]
    import_county(session, settings, tmp_path / "county", reports=rows, **BOTH)
    session.expire_all()
    imported = session.exec(select(Report).where(Report.category == "wage_arrears")).all()
    assert len(imported) >= len(rows) - 2 and all(r.project_id is not None for r in imported)
    stored = {r.id: (r.corroboration, r.analysis["corroboration"]) for r in imported}
    for r in imported:
        corroborate(session=session, ruleset=ruleset, report=r, commit=False, audit=False)
        assert (r.corroboration, r.analysis["corroboration"]) == stored[r.id], r.uid
    assert {c for c, _ in stored.values()} == {"corroborated", "not_corroborated", "no_data"}
