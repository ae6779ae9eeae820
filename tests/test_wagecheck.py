"""The wage check (earlywarn.wagecheck) and the ``earlywarn check`` command: per-project levels, rule hits,
workers and amounts owed, the CSV of formats.md ("Wage-check output"), JSON, monitor-mode rules.

A small county with hand-computed figures is imported through the importer; both backends (conftest).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.parsing import fen_to_yuan_str as yuan
from earlywarn.rules import RuleError, load_rules
from earlywarn.wagecheck import CSV_COLUMNS, as_json, csv_rows, run_check
from tests.test_balances import days, import_county, pay, project_row, worker_ids, worker_row
from tests.test_importer import make_id

# ------------------------------------------------------------------------------------------ the county

GC1, GC2 = "浙江安吉建工集团有限公司", "湖州华宇建设有限公司"
LABOUR = "安吉力源劳务有限公司"
TEAM_A, TEAM_C, TEAM_D, TEAM_E = "张三木工班组", "王五泥瓦班组", "赵六钢筋班组", "钱七木工班组"
P1, P2, P3, P4, P5 = (f"AJ-C-00{i}" for i in range(1, 6))
W1 = make_id("33052319800101201")  # on P1 (￥300) and P5 (￥250.50)
W2 = make_id("33052319850315202")  # P1, ￥400, never paid
W3 = make_id("33052219900620303")  # P2, fully paid
W4 = make_id("33052319781111404")  # P3, 1 h a day (the monitor-mode minimum-wage rule fires)
ALL_IDS = (W1, W2, W3, W4)
MAR = date(2025, 3, 3)

COUNTY = {
    "projects": [
        project_row(P1, "递铺街道中学改扩建工程", "递铺街道", GC1),
        project_row(P2, "孝丰镇安置小区二期", "孝丰镇", GC2),
        project_row(P3, "天子湖镇厂房", "天子湖镇", GC2, notice_board="否"),
        project_row(P4, "递铺街道道路工程", "递铺街道", GC1),  # no attendance, no payroll: not checked
        project_row(P5, "孝丰镇卫生院", "孝丰镇", GC2),
    ],
    "subcontracts": [[P1, GC1, "", LABOUR, "", "劳务分包"], [P1, LABOUR, "", TEAM_A, "", "班组"],
                     [P2, GC2, "", TEAM_C, "", "班组"], [P3, GC2, "", TEAM_D, "", "班组"],
                     [P5, GC2, "", TEAM_E, "", "班组"]],
    "workers": [worker_row(P1, W1, "陈一", TEAM_A, "300"), worker_row(P1, W2, "林二", TEAM_A, "400"),
                worker_row(P2, W3, "黄三", TEAM_C, "300"), worker_row(P3, W4, "周四", TEAM_D, "300"),
                worker_row(P5, W1, "陈一", TEAM_E, "250.50")],
    "attendance": days(P1, W1, MAR, 10) + days(P1, W2, MAR, 5) + days(P2, W3, MAR, 5)
    + days(P3, W4, MAR, 4, "1") + days(P5, W1, date(2025, 3, 20), 4),
    "payroll": [pay(P1, W1, "2025-03", "3000", "1000", "2025-04-20"),
                pay(P2, W3, "2025-03", "1500", "1500", "2025-04-15"),
                pay(P3, W4, "2025-03", "150", "150", "2025-04-15"),
                pay(P5, W1, "2025-03", "1002", "400.25", "2025-04-20")],
}
AS_OF = date(2025, 5, 10)  # March's pay day (04-25) passed 15 days ago
HEADER = "project_code,level,workers_owed,amount_owed,oldest_overdue_days,rules"
EXPECTED = {  # as of 2025-05-10: (level, workers_owed, amount_owed, oldest_overdue_days, rules)
    P1: ("orange", "2", "4000.00", "15", {"wages.attendance_without_pay", "projects.unpaid_share_high",
                                          "projects.pay_coverage_gap", "projects.arrears_under_month"}),
    P2: ("green", "0", "0.00", "0", set()),
    P3: ("yellow", "0", "0.00", "0", {"projects.no_notice_board"}),
    P5: ("yellow", "1", "601.75", "15", {"projects.arrears_under_month"}),
}


@pytest.fixture
def county(session, settings, tmp_path):
    import_county(session, settings, tmp_path / "county", **COUNTY)
    return worker_ids(session, settings, *ALL_IDS)


@pytest.fixture
def ruleset(settings):
    return load_rules(settings.rules_dir)


def _as_table(rows: list[list[str]]) -> dict[str, tuple]:
    out = {}
    for code, level, workers, amount, oldest, rules in rows:
        assert rules == rules.strip() and " " not in rules
        out[code] = (level, workers, amount, oldest, set(rules.split(";")) if rules else set())
    return out


def monitor_rules_dir(tmp_path: Path, rule_id: str) -> Path:
    """A copy of rules/ in which ``rule_id`` runs in monitor mode."""
    target = tmp_path / "rules_monitor"
    shutil.copytree(Path(__file__).resolve().parents[1] / "rules", target)
    stem = rule_id.split(".")[0]
    path = target / f"{stem}.yaml"
    text = path.read_text(encoding="utf-8")
    marker = f"  - id: {rule_id}\n"
    assert text.count(marker) == 1
    path.write_text(text.replace(marker, f"{marker}    mode: monitor\n"), encoding="utf-8")
    assert load_rules(target).get(rule_id).mode == "monitor"
    return target


# ------------------------------------------------------------------------------------------ run_check / csv_rows


def test_yuan():
    assert [yuan(v) for v in (0, 5, 100, 123456, 100000000, -150)] == [
        "0.00", "0.05", "1.00", "1234.56", "1000000.00", "-1.50"]


def test_run_check_figures_and_csv_rows(session, county, ruleset):
    results = run_check(session=session, ruleset=ruleset, as_of=AS_OF)
    assert [pc.code for pc in results] == [P1, P2, P3, P5]  # P4 has no attendance or payroll
    assert CSV_COLUMNS == tuple(HEADER.split(","))
    rows = csv_rows(results)
    assert all(len(r) == 6 and all(isinstance(c, str) for c in r) for r in rows)
    assert _as_table(rows) == EXPECTED
    p1 = results[0]
    assert (p1.amount_owed_fen, p1.township, p1.contractor) == (400000, "递铺街道", GC1)
    by_name = {w.name: w for w in p1.owed}
    assert {n: (w.owed_fen, w.oldest_overdue_days, w.months, w.team) for n, w in by_name.items()} == {
        "陈一": (200000, 15, [("2025-03", 200000, 15)], TEAM_A),
        "林二": (200000, 15, [("2025-03", 200000, 15)], TEAM_A)}
    assert {w.worker_id for w in p1.owed} == {county[W1], county[W2]}
    assert by_name["陈一"].id_masked == W1[:6] + "********" + W1[-4:]
    fired = {h.rule.id: h.fired for h in p1.hits if h.fired}
    assert fired == {"wages.attendance_without_pay": 1, "projects.unpaid_share_high": 1,
                     "projects.pay_coverage_gap": 1, "projects.arrears_under_month": 1}
    # Rules that need data the system lacks are counted as not checked, never as passed or fired.
    not_checked = {h.rule.id for h in p1.hits if h.not_checked}
    assert {"wages.payee_not_worker", "workers.no_contract", "projects.payroll_unsigned"} <= not_checked


def test_levels_move_with_the_as_of_date(session, county, ruleset):
    def table(day):
        return _as_table(csv_rows(run_check(session=session, ruleset=ruleset, as_of=day)))

    # Before the pay day nobody is overdue.
    early = table(date(2025, 4, 25))
    assert {c: v[1:4] for c, v in early.items()} == {c: ("0", "0.00", "0") for c in (P1, P2, P3, P5)}
    assert early[P2][0] == "green"
    # More than a month after the pay day with a month unpaid: red.
    late = table(date(2025, 6, 1))
    assert late[P1] == ("red", "2", "4000.00", "37", {
        "wages.attendance_without_pay", "wages.attendance_without_pay_month_later", "projects.unpaid_share_high",
        "projects.pay_coverage_gap", "projects.arrears_one_to_two_months"})
    assert late[P5] == ("orange", "1", "601.75", "37", {"projects.arrears_one_to_two_months"})
    # Before any data: nothing to check.
    assert table(date(2025, 3, 2)) == {}


def test_project_filter_and_pay_day(session, county, ruleset):
    [only] = run_check(session=session, ruleset=ruleset, as_of=AS_OF, project_code=P5)
    assert (only.code, only.amount_owed_fen, only.oldest_overdue_days) == (P5, 60175, 15)
    assert run_check(session=session, ruleset=ruleset, as_of=AS_OF, project_code=P4) == []
    assert run_check(session=session, ruleset=ruleset, as_of=AS_OF, project_code="NOPE") == []
    [p1] = run_check(session=session, ruleset=ruleset, as_of=AS_OF, project_code=P1, pay_day=15)
    assert (p1.oldest_overdue_days, p1.amount_owed_fen) == (25, 400000)


def test_monitor_rules_are_counted_but_not_in_the_csv(session, county, ruleset, tmp_path):
    # wages.below_minimum_month ships in monitor mode and fires on P3 (1 h a day).
    [p3] = run_check(session=session, ruleset=ruleset, as_of=AS_OF, project_code=P3)
    assert "wages.below_minimum_month" not in p3.fired_rule_ids
    [p3_json] = as_json([p3], AS_OF)["projects"]
    rules = {r["id"]: r for r in p3_json["rules"]}
    assert (rules["wages.below_minimum_month"]["mode"], rules["wages.below_minimum_month"]["fired"]) == ("monitor", 1)
    assert (rules["projects.no_notice_board"]["mode"], rules["projects.no_notice_board"]["fired"]) == ("live", 1)

    monitored = load_rules(monitor_rules_dir(tmp_path, "projects.no_notice_board"))
    results = run_check(session=session, ruleset=monitored, as_of=AS_OF)
    table = _as_table(csv_rows(results))
    assert table[P3] == ("green", "0", "0.00", "0", set())
    assert {c: v for c, v in table.items() if c != P3} == {c: v for c, v in EXPECTED.items() if c != P3}
    [p3_json] = [p for p in as_json(results, AS_OF)["projects"] if p["project_code"] == P3]
    [rule] = [r for r in p3_json["rules"] if r["id"] == "projects.no_notice_board"]
    assert (rule["mode"], rule["fired"], rule["level"]) == ("monitor", 1, "yellow")
    assert rule["legal_basis"] == ["《保障农民工工资支付条例》第三十四条、第五十六条"]
    assert p3_json["level"] == "green"


def test_as_json_masks_ids(session, county, ruleset):
    data = as_json(run_check(session=session, ruleset=ruleset, as_of=AS_OF), AS_OF)
    assert data["as_of"] == "2025-05-10"
    p1 = data["projects"][0]
    assert (p1["project_code"], p1["level"], p1["workers_owed"], p1["amount_owed"], p1["oldest_overdue_days"]) == (
        P1, "orange", 2, "4000.00", 15)
    assert {w["id_masked"] for w in p1["workers"]} == {W1[:6] + "********" + W1[-4:], W2[:6] + "********" + W2[-4:]}
    assert p1["workers"][0]["months"] == [{"period": "2025-03", "owed": "2000.00", "overdue_days": 15}]
    text = json.dumps(data, ensure_ascii=False)
    for idn in ALL_IDS:
        assert idn not in text


# ------------------------------------------------------------------------------------------ the CLI


@pytest.fixture
def cli(session, settings, county, monkeypatch):
    from earlywarn.config import get_settings

    env = {"EARLYWARN_DATABASE_URL": settings.database_url, "EARLYWARN_DATA_DIR": str(settings.data_dir),
           "EARLYWARN_SECRET_KEY": settings.secret_key, "COLUMNS": "200"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    runner = CliRunner()

    def invoke(*args: str, extra_env: dict[str, str] | None = None):
        session.rollback()
        for k, v in (extra_env or {}).items():
            monkeypatch.setenv(k, v)
        get_settings.cache_clear()
        try:
            return runner.invoke(app, ["check", *args], env={**env, **(extra_env or {})})
        finally:
            for k in extra_env or {}:
                monkeypatch.delenv(k)
            get_settings.cache_clear()

    yield invoke
    get_settings.cache_clear()


def _parse_csv(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def test_cli_csv_on_stdout_only(cli):
    r = cli("--as-of", "2025-05-10", "--format", "csv")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[0] == HEADER
    header, rows = _parse_csv(r.stdout)
    assert header == list(CSV_COLUMNS)
    assert _as_table(rows) == EXPECTED
    assert [row[0] for row in rows] == [P1, P2, P3, P5]
    assert "核查日 2025-05-10" in r.stderr  # the progress notice goes to stderr
    assert "核查" not in r.stdout


def test_cli_out_file(cli, tmp_path):
    target = tmp_path / "out" / "check.csv"
    target.parent.mkdir()
    r = cli("--as-of", "2025-05-10", "--format", "csv", "--out", str(target))
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert str(target) in r.stderr.replace("\n", "")
    text = target.read_text(encoding="utf-8")
    header, rows = _parse_csv(text)
    assert header == HEADER.split(",") and _as_table(rows) == EXPECTED


def test_cli_json_is_valid_and_masked(cli):
    r = cli("--as-of", "2025-05-10", "--format", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert [p["project_code"] for p in data["projects"]] == [P1, P2, P3, P5]
    masked = {w["id_masked"] for p in data["projects"] for w in p["workers"]}
    assert masked == {W1[:6] + "********" + W1[-4:], W2[:6] + "********" + W2[-4:]}
    for idn in ALL_IDS:
        assert idn not in r.stdout and idn not in r.stderr


def test_cli_project_filter_and_table(cli):
    r = cli("--as-of", "2025-05-10", "--format", "csv", "--project", P5)
    assert r.exit_code == 0, r.stderr
    _, rows = _parse_csv(r.stdout)
    assert _as_table(rows) == {P5: EXPECTED[P5]}
    table = cli("--as-of", "2025-05-10", "--project", P1)
    assert table.exit_code == 0, table.stderr
    assert P1 in table.stdout and "林二" in table.stdout and P5 not in table.stdout
    assert W2 not in table.stdout and W2[:6] + "********" + W2[-4:] in table.stdout
    missing = cli("--as-of", "2025-05-10", "--format", "csv", "--project", "NOPE")
    assert missing.exit_code == 0
    assert missing.stdout == HEADER + "\n"
    assert "NOPE" in missing.stderr


def test_cli_pay_day_and_rules_dir_settings(cli, tmp_path):
    r = cli("--as-of", "2025-05-10", "--format", "csv", extra_env={"EARLYWARN_PAY_DAY": "15"})
    assert r.exit_code == 0, r.stderr
    _, rows = _parse_csv(r.stdout)
    assert _as_table(rows)[P1][1:4] == ("2", "4000.00", "25")
    rules_dir = monitor_rules_dir(tmp_path, "projects.no_notice_board")
    r = cli("--as-of", "2025-05-10", "--format", "csv", extra_env={"EARLYWARN_RULES_DIR": str(rules_dir)})
    assert r.exit_code == 0, r.stderr
    _, rows = _parse_csv(r.stdout)
    assert _as_table(rows)[P3] == ("green", "0", "0.00", "0", set())


@pytest.mark.parametrize("bad", ["2025-13-01", "next tuesday", "2025/02/30"])
def test_cli_bad_as_of(cli, bad):
    r = cli("--as-of", bad, "--format", "csv")
    assert r.exit_code == 2
    assert "--as-of" in r.stderr and "日期" in r.stderr
    assert r.stdout == ""


def test_cli_bad_format(cli):
    r = cli("--as-of", "2025-05-10", "--format", "xml")
    assert r.exit_code == 2
    assert "--format" in r.stderr and r.stdout == ""


def test_cli_default_as_of_is_today(cli):
    r = cli("--format", "csv")
    assert r.exit_code == 0, r.stderr
    _, rows = _parse_csv(r.stdout)
    assert [row[0] for row in rows] == [P1, P2, P3, P5]
    today = date.today()
    assert any((today + timedelta(days=d)).isoformat() in r.stderr for d in (-1, 0, 1))


# ------------------------------------------------------------------------------------------ known bugs


REPORT_HEADER = ["report_id", "received_at", "informant_id", "township", "project_code", "employer", "text",
                 "workers_involved", "amount_claimed"]


def test_cli_honours_the_report_window_setting(cli, session, settings, tmp_path):
    """BUG: Settings.report_window_days (EARLYWARN_REPORT_WINDOW_DAYS) is never passed to run_check
    (cli.py check, sites.CheckCache.get, sites.site_detail): the window is always run_check's default 30."""
    import_county(session, settings, tmp_path / "reports", reports=[
        ["R-1", "2025-04-25 09:00", "", "孝丰镇", P2, GC2, "三月份的工资还欠着，班组十二个人都没拿到", "12", ""]])
    session.commit()
    # run_check itself takes the window: 15 days ago is inside 30 days, outside 10.
    ruleset = load_rules(settings.rules_dir)
    [wide] = run_check(session=session, ruleset=ruleset, as_of=AS_OF, project_code=P2)
    [narrow] = run_check(session=session, ruleset=ruleset, as_of=AS_OF, project_code=P2, report_window_days=10)
    assert "reports.collective_dispute" in wide.fired_rule_ids
    assert "reports.collective_dispute" not in narrow.fired_rule_ids
    r = cli("--as-of", "2025-05-10", "--format", "csv")
    assert _as_table(_parse_csv(r.stdout)[1])[P2][4] == {"reports.collective_dispute"}
    r = cli("--as-of", "2025-05-10", "--format", "csv", extra_env={"EARLYWARN_REPORT_WINDOW_DAYS": "10"})
    assert r.exit_code == 0, r.stderr
    assert _as_table(_parse_csv(r.stdout)[1])[P2] == EXPECTED[P2]


def test_a_rule_cannot_claim_a_level_outside_the_wage_check_levels(tmp_path):
    """formats.md allows red, orange, yellow or green for a site: a rule file asking for blue is refused at load."""
    target = tmp_path / "rules_blue"
    shutil.copytree(Path(__file__).resolve().parents[1] / "rules", target)
    path = target / "projects.yaml"
    marker = "  - id: projects.no_notice_board\n"
    path.write_text(path.read_text(encoding="utf-8").replace(marker, f"{marker}    level: blue\n"), encoding="utf-8")
    with pytest.raises(RuleError, match="projects.no_notice_board"):
        load_rules(target)


def test_payments_outside_the_special_account_count_only_the_last_three_months(session, settings, county, tmp_path):
    """check_features: payments_outside_special_account counts "近三个月（工资所属月份）" only."""
    import_county(session, settings, tmp_path / "cash",
                  payroll=[pay(P2, W3, "2025-03", "1500", "0.50", "2025-04-16", "现金")])
    ruleset = load_rules(settings.rules_dir)
    [recent] = run_check(session=session, ruleset=ruleset, as_of=AS_OF, project_code=P2)
    assert recent.fired_rule_ids == ["projects.paid_outside_special_account"]
    # Eight months later the March cash payment is long outside the last three wage months.
    [later] = run_check(session=session, ruleset=ruleset, as_of=date(2025, 12, 1), project_code=P2)
    assert later.features["payments_outside_special_account"] == 0
    assert later.fired_rule_ids == []
