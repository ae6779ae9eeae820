"""The risk scorer's features (earlywarn.risk_features): hand-computed values on a small county imported through
the importer, the 30-day scoring rule, the leakage gates (no id-like columns; features as of a date unchanged by
data dated after it), one project = its row of the county, the matrix, and the SQL arrears aggregate against
balances.worker_months on a simulated county.

Every DB-backed test runs on SQLite and, when reachable, PostgreSQL (conftest).
"""

from __future__ import annotations

import csv
import math
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from earlywarn.balances import worker_months
from earlywarn.config import LOCAL_TZ
from earlywarn.importer import import_paths
from earlywarn.project_arrears import arrears_by_project, projects_to_score
from earlywarn.risk_features import (
    FEATURE_COLUMNS,
    FEATURE_GROUPS,
    MONOTONE_INCREASING,
    NEVER_DAYS,
    ProjectFeatures,
    compute_features,
    feature_matrix,
    festival_days,
)
from earlywarn.tables import Company, MediationCase, Report, RiskWarning
from tests.test_balances import days, import_county, pay, project_ids, worker_row
from tests.test_importer import make_id

GC1, GC2 = "浙江安吉建工集团有限公司", "湖州华宇建设有限公司"
LABOUR, LABOUR2 = "安吉力源劳务有限公司", "长兴众诚劳务有限公司"
TEAM_A, TEAM_B, TEAM_C, TEAM_D = "张三木工班组", "李四钢筋班组", "王五泥瓦班组", "赵六杂工班组"
P1, P2, P3, P4, P5 = (f"AJ-R-00{i}" for i in range(1, 6))
W1, W2, W3, W4, W5, W6, W7, W8 = (make_id(f"330523198{i}0101{i:02d}1") for i in range(1, 9))
AS_OF = date(2025, 5, 10)  # March's pay day (04-25) passed 15 days ago; April's (05-25) has not come


def project(code: str, name: str, contractor: str, *, end: str = "", board: str = "是") -> list[str]:
    return [code, name, "递铺街道", contractor, "", "", "2025-01-01", end, "1,000,000.00", "是", "50,000.00", board]


def report(rid: str, at: str, informant: str, code: str, employer: str, text: str, workers: str = "") -> list[str]:
    return [rid, at, informant, "递铺街道", code, employer, text, workers, ""]


COUNTY = {
    "projects": [project(P1, "递铺街道中学改扩建工程", GC1, end="2025-05-01", board="否"),
                 project(P2, "递铺街道安置房一期", GC1), project(P3, "天子湖镇厂房", GC2),
                 project(P4, "孝丰镇卫生院", GC2)],
    # P1: GC1 → LABOUR → TEAM_A, and LABOUR re-subcontracts to LABOUR2 → TEAM_B (depth 3, one unlawful link).
    # P3 shares LABOUR with P1 under another contractor; P2 shares only the contractor.
    "subcontracts": [[P1, GC1, "", LABOUR, "", "劳务分包"], [P1, LABOUR, "", TEAM_A, "", "班组"],
                     [P1, LABOUR, "", LABOUR2, "", "再分包"], [P1, LABOUR2, "", TEAM_B, "", "班组"],
                     [P2, GC1, "", TEAM_C, "", "班组"], [P3, GC2, "", LABOUR, "", "劳务分包"],
                     [P3, LABOUR, "", TEAM_D, "", "班组"], [P4, GC2, "", TEAM_C, "", "班组"]],
    "workers": [worker_row(P1, W1, "陈一", TEAM_A, "300"),
                worker_row(P1, W2, "林二", TEAM_A, "400", exit_="2025-03-07"),
                worker_row(P1, W3, "黄三", TEAM_B, "300", exit_="2025-04-20"),
                worker_row(P1, W4, "周四", TEAM_B, "200"),
                worker_row(P2, W5, "吴五", TEAM_C, "300"), worker_row(P3, W6, "郑六", TEAM_D, "300"),
                worker_row(P4, W7, "王七", TEAM_C, "300")],
    "attendance": days(P1, W1, date(2025, 2, 3), 10) + days(P1, W1, date(2025, 3, 3), 10)
    + days(P1, W1, date(2025, 4, 1), 10) + days(P1, W1, date(2025, 5, 1), 9) + days(P1, W2, date(2025, 3, 3), 5)
    + days(P1, W3, date(2025, 4, 1), 20) + days(P1, W4, date(2025, 3, 3), 10) + days(P1, W4, date(2025, 4, 21), 19)
    + days(P2, W5, date(2025, 3, 3), 10) + days(P2, W5, date(2025, 5, 1), 5)
    + days(P3, W6, date(2025, 3, 3), 5) + days(P3, W6, date(2025, 4, 5), 5)  # last day 04-09: 31 days before
    + days(P4, W7, date(2025, 4, 1), 10),  # last day 04-10: exactly 30 days before
    "payroll": [pay(P1, W1, "2025-02", "3000", "3000", "2025-04-20", "班组长代领"),  # February, paid late
                pay(P1, W1, "2025-03", "3000", "1000", "2025-04-20", "现金"),
                pay(P1, W4, "2025-03", "2000", "2000", "2025-04-15"),
                pay(P4, W7, "2025-04", "3000", "3000", "2025-04-30", "银行代发")],
    "reports": [report("R1", "2025-05-08 10:00", "INF-1", P1, "", "中学工地张三班组十几个人三四月份工资都没发", "12"),
                report("R2", "2025-05-09 20:00", "", P1, "", "中学工地的工人说再不发工资就去爬塔吊"),
                report("R3", "2025-04-01 09:00", "INF-2", P1, "", "中学工地有人讨薪"),  # before the window
                report("R4", "2025-05-01 09:00", "INF-1", "", LABOUR, "安吉力源劳务有限公司拖欠工资两个月了")],
}
LATER = {  # everything dated after AS_OF, plus a new project of the same contractor sharing LABOUR
    "projects": [project(P5, "递铺街道幼儿园", GC1)],
    "subcontracts": [[P5, GC1, "", LABOUR, "", "劳务分包"], [P5, LABOUR, "", TEAM_A, "", "班组"]],
    "workers": [worker_row(P1, W1, "陈一", TEAM_A, "300", exit_="2025-05-30"),
                worker_row(P1, W8, "钱八", TEAM_A, "300", entry="2025-05-15"),
                worker_row(P5, W6, "郑六", TEAM_A, "300", entry="2025-06-01")],
    "attendance": days(P1, W1, date(2025, 5, 11), 19) + days(P1, W8, date(2025, 5, 15), 10)
    + days(P3, W6, date(2025, 5, 12), 5) + days(P5, W6, date(2025, 6, 2), 10),
    "payroll": [pay(P1, W1, "2025-03", "3000", "2000", "2025-05-20", "专用账户代发"),
                pay(P1, W2, "2025-03", "2000", "2000", "2025-05-11", "现金"),
                pay(P1, W3, "2025-04", "6000", "6000", "2025-05-25", "现金")],
    "reports": [report("R5", "2025-05-11 00:30", "INF-3", P1, "", "中学工地工人堵门讨薪", "30"),
                report("R6", "2025-05-20 09:00", "INF-1", P2, GC1, "安置房工地拖欠工资")],
}


def local(y, m, d, h=12) -> datetime:
    return datetime(y, m, d, h, tzinfo=LOCAL_TZ).astimezone(UTC)


def add_history(session, ids: dict[str, int]) -> None:
    """A warning and two cases before AS_OF, and rows opened on or after it that must not count."""
    session.add_all([
        RiskWarning(project_id=ids[P1], level="yellow", opened_at=local(2025, 4, 1)),
        RiskWarning(project_id=ids[P2], level="orange", opened_at=local(2025, 4, 20)),
        RiskWarning(project_id=ids[P2], level="red", opened_at=local(2025, 5, 10, 8)),  # the as-of day itself
        MediationCase(case_no="C-1", title="安置房欠薪", project_id=ids[P2], status="mediation_failed",
                      is_collective=True, opened_at=local(2025, 3, 1), closed_at=local(2025, 4, 1)),
        # Failed, but only after AS_OF: as of AS_OF it is an open case with no outcome yet.
        MediationCase(case_no="C-2", title="中学欠薪", project_id=ids[P1], status="mediation_failed",
                      opened_at=local(2025, 4, 15), closed_at=local(2025, 5, 20)),
    ])
    session.commit()


@pytest.fixture
def county(session, settings, tmp_path) -> dict[str, int]:
    import_county(session, settings, tmp_path / "county", **COUNTY)
    ids = project_ids(session)
    add_history(session, ids)
    return ids


def by_code(rows: list[ProjectFeatures]) -> dict[str, ProjectFeatures]:
    return {r.project_code: r for r in rows}


# ------------------------------------------------------------------------------------------ the feature list


def test_feature_list_is_grouped_and_has_no_identifiers():
    assert len(FEATURE_COLUMNS) == len(set(FEATURE_COLUMNS))
    assert sorted(c for cols in FEATURE_GROUPS.values() for c in cols) == sorted(FEATURE_COLUMNS)
    assert set(FEATURE_GROUPS) == {"欠薪", "考勤", "发放方式", "项目情况", "信息员报告", "季节", "关联企业", "历史"}
    assert set(MONOTONE_INCREASING) <= set(FEATURE_COLUMNS)
    forbidden = re.compile(r"(^|_)(id|ids|code|codes|date|dates|name|names|uid|uscc|township|no)(_|$)")
    for column in FEATURE_COLUMNS:
        assert not forbidden.search(column), column
        # Stricter than needed, so a careless substring test elsewhere never trips either.
        assert not any(bad in column for bad in ("id", "code", "date", "name")), column


def test_festival_days():
    assert festival_days(date(2025, 1, 1)) == (28, (date(2025, 1, 1) - date(2024, 2, 10)).days)
    assert festival_days(date(2025, 1, 29)) == (0, 0)
    assert festival_days(date(2025, 1, 30)) == ((date(2026, 2, 17) - date(2025, 1, 30)).days, 1)
    assert all(math.isnan(v) for v in festival_days(date(2040, 6, 1)))


# ------------------------------------------------------------------------------------------ exact values


def test_projects_to_score_follows_the_30_day_rule(session, county):
    ids = county
    assert projects_to_score(session=session, as_of=AS_OF) == [ids[P1], ids[P2], ids[P4]]  # P3: 31 days ago
    assert projects_to_score(session=session, as_of=AS_OF + timedelta(days=1)) == [ids[P1], ids[P2]]
    assert projects_to_score(session=session, as_of=date(2025, 1, 31)) == []
    assert projects_to_score(session=session, as_of=AS_OF, project_ids=[ids[P3], ids[P4]]) == [ids[P4]]
    assert [r.project_code for r in compute_features(session=session, as_of=AS_OF)] == [P1, P2, P4]


def test_exact_values_of_a_hand_built_project(session, county):
    rows = by_code(compute_features(session=session, as_of=AS_OF))
    v = rows[P1].values
    assert list(v) == list(FEATURE_COLUMNS)
    expected = {
        # March: W1 owes ￥2,000 (3,000 earned, 1,000 paid), W2 ￥2,000 (5 × 400, nothing paid); 04-25 → 05-10.
        "workers_owed": 2, "owed_amount_log": math.log1p(4000), "oldest_overdue_days": 15, "overdue_months": 1,
        "owed_workforce_share": 2 / 3,  # W1, W3, W4 attended in the last four weeks
        "zero_pay_share_last_due_month": 1 / 3,  # March: W1, W2, W4 attended, W2 got nothing
        # Four weeks earlier (04-12) only February was due: W1's ￥3,000, 18 days overdue (paid on 04-20).
        "workers_owed_change_4w": 1, "owed_amount_change_4w": math.log1p(4000) - math.log1p(3000),
        "oldest_overdue_change_4w": 15 - 18,
        # Last two weeks (04-27 … 05-10): W1 9 days, W4 13; the two before (04-13 … 04-26): W3 8, W4 6.
        "headcount_2w": 2, "headcount_change_2w": 0.0, "worker_days_change_2w": (22 - 14) / 14,
        # W3 left on 04-20 owed all of April (20 × 300, not yet due); W2 left in March, too long ago.
        "leavers_30d": 1, "leavers_unsettled_30d": 1, "leavers_unsettled_amount_log": math.log1p(6000),
        # Wage months February–May paid by 05-10: 3,000 via the team leader, 1,000 cash, 2,000 special account.
        "cash_share_3m": 1000 / 6000, "team_leader_share_3m": 3000 / 6000, "off_account_share_3m": 4000 / 6000,
        "unrecorded_channel_share_3m": 0.0,
        "has_wage_account": 1, "has_notice_board": 0, "deposit_log": math.log1p(50_000), "deposit_ratio": 0.05,
        "contract_value_log": math.log1p(1_000_000), "chain_depth": 3, "chain_too_deep": 0, "chain_teams": 2,
        "unlawful_links": 1, "resubcontract_links": 1, "days_to_planned_end": -9, "planned_end_passed": 1,
        "project_age_days": 129,
        # R1 and R2 in the window (R3 is 39 days old); R4 names LABOUR (in P1's chain) but no project.
        "reports_recent": 2, "informants_recent": 1, "anonymous_reports_recent": 1, "reports_last_7d": 2,
        "reports_workers_max": 12, "days_since_last_report": 1, "escalation_reports_recent": 1,
        "chain_units_reports_recent": 1,
        "days_to_spring_festival": (date(2026, 2, 17) - AS_OF).days,
        "days_since_spring_festival": (AS_OF - date(2025, 1, 29)).days,
        # P2 (same contractor) owes W5 ￥3,000 and is active; P3 (shares LABOUR) owes W6 ￥1,500.
        "contractor_other_projects_active": 1, "contractor_other_projects_owing": 1,
        "contractor_other_workers_owed": 1, "contractor_other_owed_log": math.log1p(3000),
        "chain_other_projects_owing": 1, "chain_other_workers_owed": 1,
        # One warning on P1 (04-01); P2's two before the day count for the contractor, not its as-of-day one.
        "prior_warnings": 1, "days_since_last_warning": 39, "contractor_prior_warnings": 1,
        # C-2 on P1 is open as of AS_OF (closed later); C-1 on P2 failed before it and was collective.
        "prior_cases": 1, "open_cases": 1, "contractor_prior_cases": 1, "prior_cases_failed": 1,
        "prior_collective_cases": 1,
    }
    assert {k: v[k] for k in expected} == pytest.approx(expected)
    # Category and collective flags come from the text classifier; the features count what it stored.
    stored = session.exec(select(Report).where(Report.uid.in_(["ext:R1", "ext:R2"]))).all()  # the importer's uid
    assert len(stored) == 2
    assert v["wage_reports_recent"] == sum(r.category == "wage_arrears" for r in stored)
    assert v["other_reports_recent"] == 2 - v["wage_reports_recent"]
    assert v["collective_reports_recent"] == sum(r.collective for r in stored)
    assert v["corroborated_reports_recent"] == sum(r.corroboration == "corroborated" for r in stored)
    labour = session.exec(select(Company.id).where(Company.name == LABOUR)).one()
    assert session.exec(select(Report.company_id).where(Report.uid == "ext:R4")).one() == labour

    facts = rows[P1].facts
    assert (facts["workers_owed"], facts["amount_owed_fen"], facts["months_owed"]) == (2, 400_000, 1)
    assert facts["contractor_other_owing_codes"] == [P2] and facts["chain_other_owing_codes"] == [P3]
    assert facts["general_contractor"] == GC1 and facts["days_to_spring_festival"] == 283
    assert (facts["reports_recent"], facts["escalation_reports"], facts["chain_depth"]) == (2, 1, 3)

    # P4: fully paid, no planned end, nobody in the last two weeks.
    w = rows[P4].values
    assert (w["workers_owed"], w["headcount_2w"], w["leavers_30d"]) == (0, 0, 1)
    assert math.isnan(w["days_to_planned_end"]) and math.isnan(w["planned_end_passed"])
    assert math.isnan(w["headcount_change_2w"]) and w["days_since_last_warning"] == NEVER_DAYS
    assert w["off_account_share_3m"] == 1.0 and w["chain_depth"] == 1


def test_empty_history_tables_and_empty_county(session, settings, tmp_path):
    assert compute_features(session=session, as_of=AS_OF) == []
    assert feature_matrix([]).shape == (0, len(FEATURE_COLUMNS))
    import_county(session, settings, tmp_path / "county", **COUNTY)
    row = by_code(compute_features(session=session, as_of=AS_OF))[P1].values
    assert (row["prior_warnings"], row["prior_cases"], row["contractor_prior_cases"]) == (0, 0, 0)
    assert row["days_since_last_warning"] == NEVER_DAYS


# ------------------------------------------------------------------------------------------ one project, matrix


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
                                        for x, y in ((a[k], b[k]) for k in a))


def test_one_project_equals_its_row_of_the_county(session, county):
    for as_of in (AS_OF, date(2025, 4, 12), date(2025, 3, 20)):
        for row in compute_features(session=session, as_of=as_of):
            [one] = compute_features(session=session, as_of=as_of, project_ids=[row.project_id])
            assert same(one.values, row.values), (as_of, row.project_code)
            assert one.facts == row.facts
    # Asked for explicitly, a quiet project still gets a row.
    [quiet] = compute_features(session=session, as_of=AS_OF, project_ids=[county[P3]])
    assert quiet.project_code == P3 and quiet.values["workers_owed"] == 1
    assert compute_features(session=session, as_of=AS_OF, project_ids=[]) == []


def test_feature_matrix_shape_order_and_nan(session, county):
    rows = compute_features(session=session, as_of=AS_OF)
    x = feature_matrix(rows)
    assert x.shape == (3, len(FEATURE_COLUMNS)) and x.dtype == np.float64
    assert x[0, FEATURE_COLUMNS.index("workers_owed")] == 2
    assert np.isnan(x[2, FEATURE_COLUMNS.index("days_to_planned_end")])
    gappy = ProjectFeatures(1, "X", AS_OF, {"workers_owed": 3.0, "cash_share_3m": None})
    y = feature_matrix([gappy])
    assert y[0, FEATURE_COLUMNS.index("workers_owed")] == 3 and np.isnan(y).sum() == len(FEATURE_COLUMNS) - 1


# ------------------------------------------------------------------------------------------ leakage gates


def test_later_data_changes_nothing_as_of_an_earlier_date(session, settings, county, tmp_path):
    before = {as_of: compute_features(session=session, as_of=as_of) for as_of in (AS_OF, date(2025, 4, 12))}
    singles = {r.project_code: compute_features(session=session, as_of=AS_OF, project_ids=[r.project_id])[0]
               for r in before[AS_OF]}
    import_county(session, settings, tmp_path / "later", **LATER)
    ids = project_ids(session)
    session.add_all([RiskWarning(project_id=ids[P1], level="red", opened_at=local(2025, 6, 1)),
                     MediationCase(case_no="C-3", title="中学欠薪二", project_id=ids[P1], status="intake",
                                   opened_at=local(2025, 5, 15))])
    session.commit()
    session.expire_all()
    for as_of, rows in before.items():
        after = compute_features(session=session, as_of=as_of)
        assert [r.project_code for r in after] == [r.project_code for r in rows]
        for old, new in zip(rows, after, strict=True):
            assert same(old.values, new.values), (as_of, old.project_code,
                                                  {k for k in old.values if not same({k: old.values[k]},
                                                                                     {k: new.values[k]})})
            assert old.facts == new.facts
    for code, old in singles.items():
        [new] = compute_features(session=session, as_of=AS_OF, project_ids=[ids[code]])
        assert same(old.values, new.values) and old.facts == new.facts
    # The later data is really there: a month on, it shows.
    later = by_code(compute_features(session=session, as_of=date(2025, 6, 10)))
    assert later[P1].values["prior_warnings"] == 2 and later[P1].values["days_since_last_report"] == 30
    assert P5 in later


# ------------------------------------------------------------------------------------------ simulated county


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Path:
    from earlywarn.simulation import simulate_county

    folder = tmp_path_factory.mktemp("risk-sim") / "county"
    simulate_county(folder, seed=3, scale=0.03)
    return folder


def _county_at(src: Path, dst: Path, cut: date, *, then: bool) -> Path:
    """``then``: the county as it stood at the end of ``cut`` (rows dated later dropped, later exits not yet
    known). Otherwise the whole county, except that reports.csv keeps only the reports received after ``cut``."""
    dst.mkdir(parents=True)
    dated = {"attendance.csv": "date", "payroll.csv": "pay_date", "reports.csv": "received_at",
             "workers.csv": "entry_date"}
    for path in src.glob("*.csv"):
        with open(path, encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows, fields = list(reader), reader.fieldnames
        if then and path.name in dated:
            rows = [r for r in rows if date.fromisoformat(r[dated[path.name]][:10]) <= cut]
        elif path.name == "reports.csv":
            rows = [r for r in rows if date.fromisoformat(r["received_at"][:10]) > cut]
        for r in rows if then and path.name == "workers.csv" else ():
            if r["exit_date"] and date.fromisoformat(r["exit_date"]) > cut:
                r["exit_date"] = ""
        with open(dst / path.name, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return dst


def _import(session, settings, folder: Path) -> None:
    results = import_paths(session=session, settings=settings, paths=[folder])
    # Projects and subcontracts carry no dates: the second import finds them unchanged.
    assert all(r.status in ("succeeded", "duplicate") for r in results), [(r.filename, r.message) for r in results]


def test_simulated_county_scores_the_same_with_or_without_the_future(session, settings, simulated, tmp_path):
    cut = date(2025, 1, 8)  # three weeks before the festival, when arrears run high
    _import(session, settings, _county_at(simulated, tmp_path / "then", cut, then=True))
    then = compute_features(session=session, as_of=cut)
    assert then, "nothing to score: pick another date"
    # Only the new reports: re-importing a report drops its automatic link (ReportWriter resets project_id but
    # keeps link_method, so understand_reports does not link it again) — an importer matter, not a feature one.
    _import(session, settings, _county_at(simulated, tmp_path / "now", cut, then=False))
    session.expire_all()
    now = compute_features(session=session, as_of=cut)
    assert [(r.project_code, r.facts) for r in then] == [(r.project_code, r.facts) for r in now]
    for a, b in zip(then, now, strict=True):
        assert same(a.values, b.values), (a.project_code, {k: (a.values[k], b.values[k]) for k in a.values
                                                           if not same({k: a.values[k]}, {k: b.values[k]})})


def test_arrears_aggregate_matches_worker_months(session, settings, simulated):
    _import(session, settings, simulated)
    for as_of in (date(2024, 10, 26), date(2025, 1, 8), date(2025, 2, 25), date(2025, 7, 1)):
        expected: dict[int, tuple] = {}
        by_project: dict[int, list] = {}
        for wm in worker_months(session=session, as_of=as_of):
            if wm.overdue:
                by_project.setdefault(wm.project_id, []).append(wm)
        for pid, wms in by_project.items():
            expected[pid] = (len({w.worker_id for w in wms}), sum(w.owed_fen for w in wms),
                             max(w.overdue_days for w in wms), len({w.period for w in wms}))
        got = {pid: (a.workers, a.owed_fen, a.oldest_overdue_days, a.months)
               for pid, a in arrears_by_project(session=session, as_of=as_of).items()}
        assert got == expected, as_of
        assert any(expected.values()) or as_of == date(2024, 10, 26)


def test_cached_county_arrears_follow_a_new_import(session, settings, county, tmp_path):
    """An on-demand score reads the network from the county run's arrears of the same date, but never stale ones:
    a payroll file imported in between changes the balance tables' state and so the cache key."""
    from earlywarn import project_arrears

    day = date(2025, 6, 1)
    project_arrears._ARREARS.clear()
    compute_features(session=session, as_of=day)  # the county run fills the cache
    assert any(k[1] == day for k in project_arrears._ARREARS)
    [before] = compute_features(session=session, as_of=day, project_ids=[county[P2]])
    owed_before = before.values["contractor_other_owed_log"]
    assert before.facts["contractor_other_owing_codes"] == [P1]
    import_county(session, settings, tmp_path / "later-pay", payroll=LATER["payroll"])
    [after] = compute_features(session=session, as_of=day, project_ids=[county[P2]])
    project_arrears._ARREARS.clear()
    [fresh] = compute_features(session=session, as_of=day, project_ids=[county[P2]])
    assert same(after.values, fresh.values) and after.facts == fresh.facts
    assert after.values["contractor_other_owed_log"] < owed_before  # P1 paid part of March in May
