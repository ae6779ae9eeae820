"""Wage-check rules: the shipped files, each rule's truth table at its boundaries, the loader's refusals."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest

from earlywarn.check_features import FEATURES, MISSING_DATA, SUBJECTS
from earlywarn.config import ROOT
from earlywarn.rules import (
    LEVEL_ORDER,
    SEVERITY_LEVEL,
    RuleError,
    RuleSet,
    evaluate_subjects,
    find_escalation,
    load_escalation_phrases,
    load_rule_file,
    load_rules,
    minimum_wage,
    missing_label,
    worst_level,
)

RULES_DIR = ROOT / "rules"
REQUIRED_REFS = {f"R{n}" for n in (*range(1, 13), 15, 16, 18, 20, 21, 22, 24)}


@pytest.fixture(scope="module")
def rs() -> RuleSet:
    return load_rules(RULES_DIR)


def check(rs: RuleSet, rule_id: str, **features):
    return rs.get(rule_id).evaluate(features)


# ----------------------------------------------------------------------------- the shipped files


def test_shipped_rules_load_and_are_well_formed(rs):
    ids = [r.id for r in rs.rules]
    assert len(ids) == len(set(ids))
    for r in rs.rules:
        assert r.id.split(".")[0] == Path(r.file).stem
        assert r.level == SEVERITY_LEVEL[r.severity] and r.level in LEVEL_ORDER
        assert r.subject in SUBJECTS and r.mode in ("live", "monitor")
        assert re.search(r"[\u4e00-\u9fff]", r.title) and re.search(r"[\u4e00-\u9fff]", r.description)
        assert r.legal_basis and all(b.law for b in r.legal_basis)
        assert all(p.source for p in r.params.values())
        assert r.features_used <= set(FEATURES[r.subject])
        assert set(r.requires) <= set(MISSING_DATA)
        assert bool(r.when) != bool(r.requires)  # a rule is either computable or declared as waiting for data
    assert REQUIRED_REFS <= {r.ref for r in rs.rules}


def test_rules_needing_absent_data_are_declared_not_silently_dropped(rs):
    declared = {r.id: r.requires for r in rs.rules if r.requires}
    assert declared == {
        "wages.payee_not_worker": ("payee_accounts",),
        "workers.no_contract": ("labour_contracts",),
        "projects.labour_cost_transfer_overdue": ("special_account_transactions",),
        "projects.special_account_balance_low": ("special_account_transactions",),
        "projects.payroll_unsigned": ("payroll_signatures",),
        "projects.no_labour_officer": ("staff_roster",),
        "projects.payment_order_unpaid": ("payment_orders",),
    }
    full = {name: 1 for name in FEATURES["project"]}
    assert check(rs, "projects.no_labour_officer", **full) is None


def test_for_subject_and_get(rs):
    assert {r.subject for r in rs.for_subject("worker")} == {"worker"}
    assert sum(len(rs.for_subject(s)) for s in SUBJECTS) == len(rs.rules)
    with pytest.raises(ValueError):
        rs.for_subject("company")
    with pytest.raises(KeyError):
        rs.get("wages.no_such_rule")


# ----------------------------------------------------------------------------- truth tables per rule

T, F, N = True, False, None
CASES = [
    # R6: attendance without pay, then a month later
    ("wages.attendance_without_pay", dict(attended_days=5, paid_nothing=T, overdue_days=0), F),
    ("wages.attendance_without_pay", dict(attended_days=5, paid_nothing=T, overdue_days=1), T),
    ("wages.attendance_without_pay", dict(attended_days=5, paid_nothing=F, overdue_days=40), F),
    ("wages.attendance_without_pay", dict(attended_days=0, paid_nothing=T, overdue_days=40), F),
    ("wages.attendance_without_pay", dict(attended_days=5, paid_nothing=T, overdue_days=N), N),
    ("wages.attendance_without_pay", dict(attended_days=5, paid_nothing=F, overdue_days=N), F),
    ("wages.attendance_without_pay_month_later", dict(attended_days=5, paid_nothing=T, overdue_days=29), F),
    ("wages.attendance_without_pay_month_later", dict(attended_days=5, paid_nothing=T, overdue_days=30), T),
    # R10
    ("wages.paid_to_team_leader", dict(paid_team_leader_fen=0), F),
    ("wages.paid_to_team_leader", dict(paid_team_leader_fen=1), T),
    ("wages.paid_to_team_leader", dict(paid_team_leader_fen=N), N),
    # R9 (monthly, monitor) and R9 (agreed daily wage)
    ("wages.below_minimum_month", dict(attended_days=20, earned_fen=207816, min_wage_prorata_fen=207816), F),
    ("wages.below_minimum_month", dict(attended_days=20, earned_fen=207815, min_wage_prorata_fen=207816), T),
    ("workers.below_minimum_wage", dict(daily_wage_fen=10391, daily_minimum_fen=10391), F),
    ("workers.below_minimum_wage", dict(daily_wage_fen=10390, daily_minimum_fen=10391), T),
    ("workers.below_minimum_wage", dict(daily_wage_fen=N, daily_minimum_fen=10391), N),
    # R1
    ("workers.birth_after_first_day", dict(age_at_first_day=-1), T),
    ("workers.birth_after_first_day", dict(age_at_first_day=0), F),
    ("workers.birth_after_first_day_paid", dict(age_at_first_day=-1, paid_month_max_fen=0), F),
    ("workers.birth_after_first_day_paid", dict(age_at_first_day=-1, paid_month_max_fen=1), T),
    ("workers.birth_after_first_day_paid", dict(age_at_first_day=30, paid_month_max_fen=N), F),
    # R2, R3: 15.99 / 16 / 17 / 18
    ("workers.child_labour", dict(age_at_first_day=15.99), T),
    ("workers.child_labour", dict(age_at_first_day=16), F),
    ("workers.child_labour", dict(age_at_first_day=-1), F),  # a wrong birth date is R1's, not child labour
    ("workers.child_labour", dict(age_at_first_day=N), N),
    ("workers.minor", dict(age_at_first_day=15.99), F),
    ("workers.minor", dict(age_at_first_day=16), T),
    ("workers.minor", dict(age_at_first_day=17), T),
    ("workers.minor", dict(age_at_first_day=17.99), T),
    ("workers.minor", dict(age_at_first_day=18), F),
    # R4: men 60, women 50; unknown sex decides only when the age clears both lines
    ("workers.over_age", dict(is_female=T, age_at_last_day=49), F),
    ("workers.over_age", dict(is_female=T, age_at_last_day=50), T),
    ("workers.over_age", dict(is_female=F, age_at_last_day=59), F),
    ("workers.over_age", dict(is_female=F, age_at_last_day=60), T),
    ("workers.over_age", dict(is_female=N, age_at_last_day=45), F),
    ("workers.over_age", dict(is_female=N, age_at_last_day=55), N),
    ("workers.over_age", dict(is_female=T, age_at_last_day=N), N),
    # R11: ¥50,000 vs ¥50,000.01 a month, ¥300,000 a year
    ("workers.pooling_outlier", dict(paid_month_max_fen=5_000_000, paid_year_max_fen=30_000_000), F),
    ("workers.pooling_outlier", dict(paid_month_max_fen=5_000_001, paid_year_max_fen=5_000_001), T),
    ("workers.pooling_outlier", dict(paid_month_max_fen=100, paid_year_max_fen=30_000_001), T),
    ("workers.pooling_outlier", dict(paid_month_max_fen=N, paid_year_max_fen=30_000_001), T),
    ("workers.pooling_outlier", dict(paid_month_max_fen=N, paid_year_max_fen=0), N),
    # R20
    ("workers.departed_unsettled", dict(owed_after_exit_fen=0), F),
    ("workers.departed_unsettled", dict(owed_after_exit_fen=1), T),
    # R24: one worker 3 months and ¥5,000; ten workers and ¥30,000
    ("workers.criminal_threshold", dict(overdue_months=3, owed_fen=500_000), T),
    ("workers.criminal_threshold", dict(overdue_months=3, owed_fen=499_999), F),
    ("workers.criminal_threshold", dict(overdue_months=2, owed_fen=9_000_000), F),
    ("workers.criminal_threshold", dict(overdue_months=2, owed_fen=N), F),
    ("projects.criminal_threshold", dict(workers_owed=10, amount_owed_fen=3_000_000), T),
    ("projects.criminal_threshold", dict(workers_owed=10, amount_owed_fen=2_999_999), F),
    ("projects.criminal_threshold", dict(workers_owed=9, amount_owed_fen=90_000_000), F),
    # R7
    ("projects.pay_coverage_gap", dict(pay_coverage=1.0), F),
    ("projects.pay_coverage_gap", dict(pay_coverage=0.99), T),
    ("projects.pay_coverage_gap", dict(pay_coverage=N), N),
    ("projects.unpaid_share_high", dict(unpaid_share=0.0999), F),
    ("projects.unpaid_share_high", dict(unpaid_share=0.10), T),
    ("projects.unpaid_share_high", dict(unpaid_share=1 / 10), T),
    # R12
    ("projects.no_wage_account", dict(has_wage_account=F), T),
    ("projects.no_wage_account", dict(has_wage_account=T), F),
    ("projects.no_wage_account", dict(has_wage_account=N), N),
    ("projects.paid_outside_special_account", dict(payments_outside_special_account=0), F),
    ("projects.paid_outside_special_account", dict(payments_outside_special_account=1), T),
    # R15: none at all decides even without a contract amount
    ("projects.deposit_missing", dict(wage_deposit_fen=0, deposit_ratio=N), T),
    ("projects.deposit_missing", dict(wage_deposit_fen=99, deposit_ratio=0.0099), T),
    ("projects.deposit_missing", dict(wage_deposit_fen=100, deposit_ratio=0.01), F),
    ("projects.deposit_missing", dict(wage_deposit_fen=100, deposit_ratio=N), N),
    ("projects.deposit_missing", dict(wage_deposit_fen=N, deposit_ratio=N), N),
    # R16, R18
    ("projects.payments_without_channel", dict(payments_without_channel=0), F),
    ("projects.payments_without_channel", dict(payments_without_channel=2), T),
    ("projects.no_notice_board", dict(has_notice_board=F), T),
    ("projects.no_notice_board", dict(has_notice_board=T), F),
    ("projects.no_notice_board", dict(has_notice_board=N), N),
    # R21, R22
    ("reports.collective_dispute", dict(reports_workers_max=9), F),
    ("reports.collective_dispute", dict(reports_workers_max=10), T),
    ("reports.collective_emergency", dict(reports_workers_max=29), F),
    ("reports.collective_emergency", dict(reports_workers_max=30), T),
    ("reports.escalation_signal", dict(escalation_reports=0), F),
    ("reports.escalation_signal", dict(escalation_reports=1), T),
]


@pytest.mark.parametrize(("rule_id", "features", "expected"), CASES,
                         ids=[f"{c[0]}-{'-'.join(map(str, c[1].values()))}" for c in CASES])
def test_rule_truth_table(rs, rule_id, features, expected):
    assert check(rs, rule_id, **features) is expected


ARREARS = ("projects.arrears_under_month", "projects.arrears_one_to_two_months", "projects.arrears_over_two_months")


@pytest.mark.parametrize(("days", "band"), [(0, 0), (29, 0), (30, 1), (60, 1), (61, 2), (400, 2)])
def test_arrears_ageing_bands_are_exclusive(rs, days, band):
    fired = [check(rs, rid, workers_owed=3, oldest_overdue_days=days) for rid in ARREARS]
    assert fired == [i == band for i in range(3)]
    assert [check(rs, rid, workers_owed=0, oldest_overdue_days=days) for rid in ARREARS] == [False] * 3


def test_arrears_bands_cover_every_day(rs):
    for days in range(0, 200):
        assert sum(check(rs, rid, workers_owed=1, oldest_overdue_days=days) for rid in ARREARS) == 1


def test_absent_feature_is_missing_not_passing(rs):
    assert check(rs, "workers.child_labour") is None
    assert rs.get("workers.over_age").missing({"is_female": True}) == ("age_at_last_day",)


# ----------------------------------------------------------------------------- the expression language


def one_rule(tmp_path: Path, when: str, *, subject: str = "project", params: str = "", stem: str = "probe",
             extra: str = ""):
    """A one-rule file in tmp_path, loaded on its own; returns the Rule."""
    path = tmp_path / f"{stem}.yaml"
    path.write_text(rule_yaml(f"{stem}.probe", when=when, subject=subject, params=params, extra=extra), "utf-8")
    (rule,) = load_rule_file(path)
    return rule


def rule_yaml(rid: str, *, when: str = "workers_owed > 0", subject: str = "project", params: str = "",
              extra: str = "", severity: str = "P3") -> str:
    body = f"""\
    - id: {rid}
      title: 测试规则
      description: 仅用于测试。
      legal_basis:
        - {{law: 保障农民工工资支付条例, article: 第三条}}
      severity: {severity}
      subject: {subject}
    """
    body = textwrap.dedent(body)
    if params:
        body += "  params:\n" + textwrap.indent(textwrap.dedent(params).strip(), "    ") + "\n"
    if extra:
        body += textwrap.indent(textwrap.dedent(extra).strip(), "  ") + "\n"
    if when:
        body += f"  when: {json.dumps(when, ensure_ascii=False)}\n"  # a JSON string is a YAML string
    return "rules:\n" + body


KLEENE = [  # (a, b, a and b, a or b)
    (T, T, T, T), (T, F, F, T), (F, T, F, T), (F, F, F, F),
    (T, N, N, T), (N, T, N, T), (F, N, F, N), (N, F, F, N), (N, N, N, N),
]


@pytest.mark.parametrize(("a", "b", "conj", "disj"), KLEENE)
def test_three_valued_and_or(tmp_path, a, b, conj, disj):
    feats = {"has_wage_account": a, "has_notice_board": b}
    assert one_rule(tmp_path, "has_wage_account and has_notice_board").evaluate(feats) is conj
    assert one_rule(tmp_path, "has_wage_account or has_notice_board").evaluate(feats) is disj
    assert one_rule(tmp_path, "not has_wage_account").evaluate(feats) is (None if a is None else not a)


def test_chained_comparison_arithmetic_and_membership(tmp_path):
    r = one_rule(tmp_path, "0 < workers_owed * 2 + 1 <= limit and reports_recent in (1, 3)",
                 params="limit: {value: 7, source: 测试}")
    assert r.evaluate({"workers_owed": 3, "reports_recent": 3}) is True
    assert r.evaluate({"workers_owed": 4, "reports_recent": 3}) is False
    assert r.evaluate({"workers_owed": 3, "reports_recent": 2}) is False
    assert r.evaluate({"workers_owed": N, "reports_recent": 2}) is False  # decided by the known part
    assert r.evaluate({"workers_owed": N, "reports_recent": 1}) is None
    r = one_rule(tmp_path, "reports_recent not in [0] and -amount_owed_fen / workers_owed < -100")
    assert r.evaluate({"reports_recent": 2, "amount_owed_fen": 1000, "workers_owed": 2}) is True
    assert r.evaluate({"reports_recent": 2, "amount_owed_fen": 1000, "workers_owed": 0}) is None  # ÷ 0: no data


def test_params_are_values_and_features_used_excludes_them(tmp_path):
    r = one_rule(tmp_path, "escalation_reports >= n", params="n: {value: 2, source: 测试, note: 两份}")
    assert r.params["n"].value == 2 and r.params["n"].source == "测试"
    assert r.features_used == {"escalation_reports"}
    assert r.evaluate({"escalation_reports": 2, "n": 99}) is True  # a feature row cannot override a param


# ----------------------------------------------------------------------------- load failures


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    """An empty rule directory with the two tables the loader needs."""
    d = tmp_path / "rules"
    d.mkdir()
    for name in ("minimum_wage.yaml", "escalation.yaml"):
        shutil.copy(RULES_DIR / name, d / name)
    return d


def load_error(rules_dir: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (rules_dir / name).write_text(text, "utf-8")
    with pytest.raises(RuleError) as ei:
        load_rules(rules_dir)
    assert isinstance(ei.value, ValueError)
    return str(ei.value)


def test_tmp_dir_loads_when_valid(rules_dir):
    (rules_dir / "wages.yaml").write_text(rule_yaml("wages.ok", when="paid_nothing", subject="worker_month"))
    rs = load_rules(rules_dir)
    assert [r.id for r in rs.rules] == ["wages.ok"] and rs.get("wages.ok").file.endswith("wages.yaml")


def test_unknown_feature_names_file_rule_feature_and_lists_features(rules_dir):
    msg = load_error(rules_dir, {"wages.yaml": rule_yaml("wages.typo", when="paid_nothin and overdue_days > 0",
                                                         subject="worker_month")})
    assert "wages.yaml" in msg and "wages.typo" in msg and "paid_nothin" in msg
    assert all(f in msg for f in FEATURES["worker_month"])


def test_feature_of_another_subject_is_unknown(rules_dir):
    msg = load_error(rules_dir, {"workers.yaml": rule_yaml("workers.x", when="workers_owed > 0", subject="worker")})
    assert "workers.x" in msg and "workers_owed" in msg and "age_at_first_day" in msg


def test_duplicate_id(rules_dir):
    text = rule_yaml("wages.twice", when="paid_nothing", subject="worker_month")
    text += rule_yaml("wages.twice", when="overdue", subject="worker_month").removeprefix("rules:\n")
    msg = load_error(rules_dir, {"wages.yaml": text})
    assert "wages.yaml" in msg and "wages.twice" in msg and "重复" in msg


def test_same_slug_in_two_files_is_two_ids(rules_dir):
    (rules_dir / "wages.yaml").write_text(rule_yaml("wages.same", when="paid_nothing", subject="worker_month"))
    (rules_dir / "projects.yaml").write_text(rule_yaml("projects.same"))
    assert {r.id for r in load_rules(rules_dir).rules} == {"wages.same", "projects.same"}


@pytest.mark.parametrize(("rid", "fragment"), [("payroll.x", "payroll.x"), ("wages.Upper", "wages.Upper"),
                                                ("wages", "wages"), ("wages.a-b", "wages.a-b")])
def test_id_must_match_file_stem_and_pattern(rules_dir, rid, fragment):
    msg = load_error(rules_dir, {"wages.yaml": rule_yaml(rid, when="paid_nothing", subject="worker_month")})
    assert "wages.yaml" in msg and fragment in msg and "wages." in msg


BAD_PARAMS = [
    ("n: {value: 3}", "source"),
    ("n: {source: 测试}", "value"),
    ("n: {value: '3', source: 测试}", "数字"),
    ("n: {value: [1], source: 测试}", "数字"),
    ("n: {value: 3, source: ''}", "source"),
    ("n: {value: 3, source: 测试, unit: 天}", "unit"),
    ("workers_owed: {value: 3, source: 测试}", "同名"),
    ("N-1: {value: 3, source: 测试}", "N-1"),
]


@pytest.mark.parametrize(("params", "fragment"), BAD_PARAMS)
def test_bad_param(rules_dir, params, fragment):
    msg = load_error(rules_dir, {"projects.yaml": rule_yaml("projects.p", when="workers_owed > 0", params=params)})
    assert "projects.yaml" in msg and "projects.p" in msg and fragment in msg


FORBIDDEN = [
    ("__import__('os')", "函数调用"),
    ("abs(workers_owed) > 0", "函数调用"),
    ("workers_owed.real > 0", "属性访问"),
    ("workers_owed[0] > 0", "下标"),
    ("(lambda: 1)()", "函数调用"),
    ("[x for x in (1, 2)]", "推导式"),
    ("workers_owed ** 2 > 4", "乘方"),
    ("workers_owed % 2 == 0", "取余"),
    ("1 if workers_owed else 0", "条件表达式"),
    ("workers_owed is None", "is"),
    ("workers_owed in reports_recent", "in / not in"),
    ("workers_owed > None", "None"),
    ("workers_owed >", "无法解析"),
    ("workers_owed = 1", "无法解析"),
]


@pytest.mark.parametrize(("when", "fragment"), FORBIDDEN)
def test_forbidden_constructs(rules_dir, when, fragment):
    msg = load_error(rules_dir, {"projects.yaml": rule_yaml("projects.bad", when=when)})
    assert "projects.yaml" in msg and "projects.bad" in msg and fragment in msg


BAD_FIELDS = [
    ("severity: P5", "P5"),
    ("subject: company", "company"),
    ("mode: shadow", "shadow"),
    ("level: purple", "purple"),
    ("ref: 7", "ref"),
    ("requires: [bank_statements]", "bank_statements"),
    ("serverity: P2", "serverity"),
    ("title: Attendance without pay", "中文"),
    ("legal_basis: []", "legal_basis"),
    ("legal_basis: [{article: 第三条}]", "law"),
]


@pytest.mark.parametrize(("line", "fragment"), BAD_FIELDS)
def test_bad_fields(rules_dir, line, fragment):
    key = line.split(":")[0]
    lines = [ln for ln in rule_yaml("projects.f").splitlines() if not ln.strip().startswith(f"{key}:")]
    lines = [ln for ln in lines if not (key == "legal_basis" and ln.strip().startswith("- {law"))]
    msg = load_error(rules_dir, {"projects.yaml": "\n".join(lines) + f"\n  {line}\n"})
    assert "projects.yaml" in msg and "projects.f" in msg and fragment in msg


def test_missing_required_key_and_missing_condition(rules_dir):
    text = "\n".join(ln for ln in rule_yaml("projects.m").splitlines() if not ln.strip().startswith("title:"))
    msg = load_error(rules_dir, {"projects.yaml": text + "\n"})
    assert "projects.m" in msg and "title" in msg
    msg = load_error(rules_dir, {"projects.yaml": rule_yaml("projects.m", when="")})
    assert "projects.m" in msg and "when" in msg


def test_requires_rule_needs_no_condition_and_is_never_evaluated(rules_dir):
    (rules_dir / "projects.yaml").write_text(rule_yaml("projects.r", when="", extra="requires: [staff_roster]"))
    rule = load_rules(rules_dir).get("projects.r")
    assert rule.evaluate({name: 1 for name in FEATURES["project"]}) is None
    assert rule.missing({}) == ("staff_roster",)


@pytest.mark.parametrize(("text", "fragment"), [
    ("rules:\n  - id: [unclosed\n", "YAML"),
    ("rules:\n  - id: projects.a\n    id: projects.b\n", "重复的键"),
    ("rule:\n  - id: projects.a\n", "rules"),
    ("rules: {}\n", "rules"),
    ("rules:\n  - just a string\n", "映射"),
])
def test_malformed_file(rules_dir, text, fragment):
    msg = load_error(rules_dir, {"projects.yaml": text})
    assert "projects.yaml" in msg and fragment in msg


def test_directory_problems(rules_dir):
    assert "没有找到" in load_error(rules_dir, {})
    (rules_dir / "wages.yml").write_text("rules: []\n")
    assert "wages.yml" in load_error(rules_dir, {"projects.yaml": rule_yaml("projects.ok")})
    (rules_dir / "wages.yml").unlink()
    (rules_dir / "minimum_wage.yaml").unlink()
    assert "minimum_wage.yaml" in load_error(rules_dir, {})


# ----------------------------------------------------------------------------- levels, monitor mode, many subjects


def test_worst_level():
    assert worst_level([]) == "green"
    assert worst_level(["none", "none"]) == "green"  # P4 is information, not a colour
    assert worst_level(["blue"]) == "blue"
    assert worst_level(["yellow", "red", "orange"]) == "red"
    with pytest.raises(ValueError):
        worst_level(["purple"])


def test_level_override(rules_dir):
    (rules_dir / "projects.yaml").write_text(rule_yaml("projects.b", severity="P4", extra="level: yellow"))
    assert load_rules(rules_dir).get("projects.b").level == "yellow"
    (rules_dir / "projects.yaml").write_text(rule_yaml("projects.b", severity="P4", extra="level: blue"))
    with pytest.raises(RuleError, match="projects.b"):  # blue is a risk-warning level, not a wage-check level
        load_rules(rules_dir)


def test_monitor_mode_fires_and_counts_but_raises_no_level(rules_dir):
    text = rule_yaml("projects.live", when="workers_owed >= 1", severity="P3")
    text += rule_yaml("projects.watch", when="workers_owed >= 5", severity="P1",
                      extra="mode: monitor").removeprefix("rules:\n")
    (rules_dir / "projects.yaml").write_text(text)
    rs = load_rules(rules_dir)
    rows = [{"code": "A", "workers_owed": 0}, {"code": "B", "workers_owed": 7}, {"code": "C", "workers_owed": None}]
    out = evaluate_subjects(rs, "project", rows, key="code")
    watch, live = out["projects.watch"], out["projects.live"]
    assert (watch.mode, watch.fired, watch.subjects_fired) == ("monitor", 1, ["B"])
    assert (watch.checked, watch.not_checked, watch.subjects_not_checked) == (2, 1, ["C"])
    assert watch.raises_level == "none" and not watch.live
    assert (live.fired, live.raises_level) == (1, "yellow")
    assert worst_level(o.raises_level for o in out.values()) == "yellow"  # not red: the P1 rule is a dry run


def test_shipped_monitor_rule_is_counted_without_colour(rs):
    rows = [{"attended_days": 20, "earned_fen": 100, "min_wage_prorata_fen": 200000, "paid_nothing": False,
             "overdue_days": 0, "paid_team_leader_fen": 0}]
    out = evaluate_subjects(rs, "worker_month", rows)
    assert out["wages.below_minimum_month"].fired == 1 and out["wages.below_minimum_month"].mode == "monitor"
    assert worst_level(o.raises_level for o in out.values()) == "green"


def test_evaluate_subjects_counts_not_checked_with_reasons(rs):
    rows = [{"key": k, "age_at_first_day": a, "age_at_last_day": a, "is_female": f}
            for k, a, f in [("w1", 15, False), ("w2", 17, True), ("w3", None, True), ("w4", 65, None)]]
    out = evaluate_subjects(rs, "worker", rows, key="key")
    assert out["workers.child_labour"].subjects_fired == ["w1"]
    assert out["workers.minor"].subjects_fired == ["w2"]
    assert out["workers.over_age"].subjects_not_checked == ["w3", "w4"]
    assert out["workers.over_age"].missing == {"age_at_last_day": 1, "is_female": 1}
    assert out["workers.no_contract"].not_checked == 4 and out["workers.no_contract"].fired == 0
    assert out["workers.no_contract"].missing == {"labour_contracts": 4}
    assert out["workers.child_labour"].subjects_not_checked == ["w3"]
    assert missing_label("worker", "labour_contracts") == "劳动合同签订情况"
    assert missing_label("worker", "is_female").startswith("女性")
    assert evaluate_subjects(rs, "worker", [], key="key")["workers.minor"].checked == 0


# ----------------------------------------------------------------------------- minimum wage


@pytest.mark.parametrize(("tier", "on", "expected"), [
    (1, date(2023, 12, 31), (228_000, 2_200)), (1, date(2024, 1, 1), (249_000, 2_400)),
    (2, date(2023, 12, 31), (207_000, 2_000)), (2, date(2024, 1, 1), (226_000, 2_200)),
    (3, date(2021, 8, 1), (184_000, 1_800)), (3, date(2026, 5, 1), (201_000, 2_000)),
])
def test_minimum_wage_in_force(rs, tier, on, expected):
    assert minimum_wage(rs.minimum_wage, tier, on) == expected


def test_minimum_wage_unknown_tier_or_date_raises(rs):
    with pytest.raises(ValueError, match="第 4 档"):
        minimum_wage(rs.minimum_wage, 4, date(2024, 6, 1))
    with pytest.raises(ValueError, match="2021-08-01"):
        minimum_wage(rs.minimum_wage, 2, date(2021, 7, 31))


@pytest.mark.parametrize(("text", "fragment"), [
    ("minimum_wage:\n  - {tier: 1, from: 2024-01-01, monthly: 2490, hourly: 24, source: 甲}\n"
     "  - {tier: 2, from: 2024-01-01, monthly: 2260, hourly: 22, source: 甲}\n"
     "  - {tier: 1, from: 2025-01-01, monthly: 2600, hourly: 25, source: 乙}\n", "缺少第 2 档"),
    ("minimum_wage:\n  - {tier: 1, from: 2024-01-01, monthly: 2490, hourly: 24}\n", "第 1 项"),
    ("minimum_wage:\n  - {tier: 1, from: '2024-01-01', monthly: 2490, hourly: 24, source: 甲}\n", "第 1 项"),
    ("minimum_wage:\n  - {tier: 1, from: 2024-01-01, monthly: -1, hourly: 24, source: 甲}\n", "第 1 项"),
    ("minimum_wage:\n  - {tier: 1, from: 2024-01-01, monthly: 2490, hourly: 24, source: 甲}\n"
     "  - {tier: 1, from: 2024-01-01, monthly: 2500, hourly: 24, source: 乙}\n", "重复"),
    ("minimum_wage: []\n", "为空"),
])
def test_minimum_wage_table_validated(rules_dir, text, fragment):
    msg = load_error(rules_dir, {"projects.yaml": rule_yaml("projects.ok"), "minimum_wage.yaml": text})
    assert "minimum_wage.yaml" in msg and fragment in msg


# ----------------------------------------------------------------------------- escalation phrases


@pytest.mark.parametrize(("text", "found"), [
    ("工人说明天要去堵政府大门讨薪", ["堵*门"]),
    ("有几个人爬上了3号楼的塔吊，扬言要跳楼", ["爬*塔吊", "跳楼"]),
    ("准备拉横幅去镇政府，还要去省里上访", ["拉*横幅", "上访", "去省里"]),
    ("二十多人在项目部门口聚集，拦住了领导的车", ["拦*车", "聚集"]),
    ("班组长说月底前一定发工资，大家在等", []),
    ("因下雨停工两天，工人拿瓦刀砌墙", []),
    ("堵车，门口排队", []),  # "*" does not cross punctuation
    ("", []),
])
def test_find_escalation(rs, text, found):
    assert sorted(find_escalation(text, rs.escalation_phrases)) == sorted(found)


def test_escalation_phrases_file_and_a_mediators_addition(rs, tmp_path):
    assert list(rs.escalation_phrases) == load_escalation_phrases(RULES_DIR / "escalation.yaml")
    text = (RULES_DIR / "escalation.yaml").read_text("utf-8")
    path = tmp_path / "escalation.yaml"
    path.write_text(text + "  - group: 新增\n    phrases: [\"讨个说法\"]\n    source: 调解员补充\n", "utf-8")
    assert find_escalation("要到公司讨个说法", load_escalation_phrases(path)) == ["讨个说法"]
    path.write_text(text + "  - group: 重复\n    phrases: [\"上访\"]\n    source: 调解员补充\n", "utf-8")
    with pytest.raises(RuleError, match="上访"):
        load_escalation_phrases(path)
    path.write_text("escalation:\n  - {group: 空, phrases: [], source: 甲}\n", "utf-8")
    with pytest.raises(RuleError, match="escalation.yaml"):
        load_escalation_phrases(path)


@pytest.mark.parametrize("text", ["电梯坏了只能爬楼梯上班", "工地门口挂了招工横幅", "明天上午拉闸限电",
                                  "我们不会去上访，只想要个说法"])
def test_ordinary_uses_of_the_words_are_not_escalation(rs, text):
    assert find_escalation(text, rs.escalation_phrases) == []


def test_an_exclusion_does_not_hide_a_real_signal_in_the_same_text(rs):
    found = find_escalation("电梯坏了只能爬楼梯，后来有人爬上塔吊说要跳楼", rs.escalation_phrases)
    assert "爬*塔吊" in found and "跳楼" in found
