"""The synthetic county simulator: determinism, the formats.md contract, internal consistency of the truth."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import networkx as nx
import pytest
from stdnum.cn import ric, uscc

from earlywarn.simulation import (
    HEADERS,
    MECHANISMS,
    TOWNSHIPS,
    SimulationSummary,
    draw_forms,
    simulate_county,
    spring_festival,
)
from earlywarn.simulation.lockstep import LockstepCounty

EARLYWARN = shutil.which("earlywarn") or str(Path(sys.executable).parent / "earlywarn")
INPUT_FILES = ["projects", "subcontracts", "workers", "attendance", "payroll", "reports"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


def _digests(outdir: Path) -> dict[str, str]:
    return {str(p.relative_to(outdir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(outdir.rglob("*.csv"))}


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> tuple[Path, SimulationSummary]:
    """One small county (10 projects) shared by the contract tests; this seed has disputes."""
    out = tmp_path_factory.mktemp("county")
    calls: list[tuple[str, int, int]] = []
    summary = simulate_county(out, seed=3, scale=0.1, progress=lambda *a: calls.append(a))
    assert calls and calls[-1][1] == calls[-1][2]
    assert [c for c in calls if c[0] == "projects"][-1] == ("projects", 10, 10)
    return out, summary


@pytest.fixture(scope="module")
def data(county) -> dict[str, list[dict[str, str]]]:
    out, _ = county
    d = {name: _rows(out / f"{name}.csv") for name in INPUT_FILES}
    d["disputes"] = _rows(out / "truth" / "disputes.csv")
    return d


# ---- determinism -------------------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files(tmp_path):
    a = simulate_county(tmp_path / "a", seed=7, scale=0.04)
    b = simulate_county(tmp_path / "b", seed=7, scale=0.04)
    da, db = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert len(da) == 7
    assert da == db
    assert a.attendance_rows == b.attendance_rows and a.disputes == b.disputes


def test_different_seed_gives_different_files(tmp_path):
    simulate_county(tmp_path / "a", seed=7, scale=0.04)
    simulate_county(tmp_path / "b", seed=8, scale=0.04)
    da, db = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    for name in ("projects.csv", "workers.csv", "attendance.csv", "payroll.csv"):
        assert da[name] != db[name], name


def test_scale_changes_the_number_of_projects(tmp_path):
    small = simulate_county(tmp_path / "s", seed=2, scale=0.03)
    larger = simulate_county(tmp_path / "l", seed=2, scale=0.07)
    assert small.projects == 3
    assert larger.projects == 7
    assert len(_rows(tmp_path / "l" / "projects.csv")) == 7
    assert larger.attendance_rows > small.attendance_rows
    tiny = simulate_county(tmp_path / "t", seed=2, scale=0.001)
    assert tiny.projects == 3  # minimum


# ---- the formats.md contract -------------------------------------------------------------------------

def test_files_and_headers(county):
    out, summary = county
    top = sorted(p.name for p in out.iterdir() if p.is_file())
    assert top == sorted(f"{n}.csv" for n in INPUT_FILES)
    assert not (out / "disputes.csv").exists()
    assert (out / "truth" / "disputes.csv").is_file()
    for name in INPUT_FILES:
        assert _header(out / f"{name}.csv") == HEADERS[name], name
    assert _header(out / "truth" / "disputes.csv") == ["project_code", "date", "workers", "amount_owed"]
    raw = (out / "projects.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    raw.decode("utf-8")
    assert summary.start == date(2024, 7, 1) and summary.end == date(2025, 12, 31)


def test_summary_counts_match_files(county, data):
    out, s = county
    assert s.outdir == out
    assert s.projects == len(data["projects"]) == 10
    assert s.subcontracts == len(data["subcontracts"])
    assert s.workers == len(data["workers"])
    assert s.attendance_rows == len(data["attendance"])
    assert s.payroll_rows == len(data["payroll"])
    assert s.reports == len(data["reports"])
    assert s.disputes == len(data["disputes"])
    assert s.attendance_rows > 10_000 and s.payroll_rows > 500 and s.reports > 20


def test_projects(data):
    codes = [p["project_code"] for p in data["projects"]]
    assert len(set(codes)) == len(codes)
    gcs = set()
    for p in data["projects"]:
        assert p["project_code"].startswith("AJ") and p["project_code"][2:6].isdigit()
        assert p["township"] in TOWNSHIPS
        assert p["has_wage_account"] in ("yes", "no") and p["has_notice_board"] in ("yes", "no")
        assert date.fromisoformat(p["planned_end_date"]) > date.fromisoformat(p["start_date"])
        assert Decimal(p["contract_value"]) > 0 and Decimal(p["wage_deposit"]) >= 0
        assert p["contract_value"].split(".")[1].__len__() == 2
        if p["contractor_credit_code"]:
            assert uscc.is_valid(p["contractor_credit_code"])
        gcs.add(p["general_contractor"])
    assert len(gcs) <= len(codes)


def test_credit_codes_pass_gb32100(data):
    codes = {r["contractor_credit_code"] for r in data["projects"] if r["contractor_credit_code"]}
    for s in data["subcontracts"]:
        codes.update(c for c in (s["parent_credit_code"], s["child_credit_code"]) if c)
    assert len(codes) >= 5
    for code in codes:
        assert len(code) == 18
        assert uscc.calc_check_digit(code[:17]) == code[17], code
        assert uscc.is_valid(code)


def test_id_numbers_pass_gb11643(data):
    ids = {w["id_number"] for w in data["workers"]}
    assert len(ids) > 100
    for idn in ids:
        assert len(idn) == 18 and idn[:17].isdigit()
        assert ric.calc_check_digit(idn) == idn[17], idn
        born = date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14]))
        assert date(1960, 1, 1) <= born <= date(2004, 12, 31)
    assert any(i[:2] == "33" for i in ids) and any(i[:2] != "33" for i in ids)


def test_subcontracts_form_a_tree_rooted_at_the_general_contractor(data):
    gc = {p["project_code"]: p["general_contractor"] for p in data["projects"]}
    by_project: dict[str, list[dict[str, str]]] = defaultdict(list)
    for s in data["subcontracts"]:
        by_project[s["project_code"]].append(s)
    assert set(by_project) == set(gc)
    for code, links in by_project.items():
        g = nx.DiGraph()
        g.add_edges_from((s["parent"], s["child"]) for s in links)
        assert nx.is_arborescence(g), code
        roots = [n for n, d in g.in_degree() if d == 0]
        assert roots == [gc[code]]
        depth = max(nx.shortest_path_length(g, gc[code]).values())
        assert 1 <= depth <= 4
        for s in links:
            assert s["kind"] in ("专业分包", "劳务分包", "再分包", "班组")
            is_team = s["kind"] == "班组"
            assert is_team == s["child"].endswith("班组")
            assert (s["child_credit_code"] == "") == is_team
            if s["kind"] == "再分包":  # only a labour subcontractor passes its work on illegally
                parent_kind = next(x["kind"] for x in links if x["child"] == s["parent"])
                assert parent_kind == "劳务分包"
        # work teams and only work teams are leaves
        for n in g.nodes:
            assert (g.out_degree(n) == 0) == n.endswith("班组"), (code, n)


def test_workers_belong_to_teams_of_their_project(data):
    teams = defaultdict(set)
    for s in data["subcontracts"]:
        teams[s["project_code"]].add(s["child"])
    seen = set()
    for w in data["workers"]:
        key = (w["project_code"], w["id_number"])
        assert key not in seen  # one roster row per worker per project
        seen.add(key)
        assert w["team"] in teams[w["project_code"]]
        assert w["team"].endswith("班组")
        wage = Decimal(w["daily_wage"])
        assert Decimal(250) <= wage <= Decimal(520) and wage == wage.quantize(Decimal("0.01"))
        if w["exit_date"]:
            assert w["exit_date"] >= w["entry_date"]
        if w["phone"]:
            assert len(w["phone"]) == 11 and w["phone"][0] == "1" and w["phone"][1] in "3456789"
    # workers move between projects
    per_person = defaultdict(int)
    for w in data["workers"]:
        per_person[w["id_number"]] += 1
    assert max(per_person.values()) >= 2


def test_attendance_and_payroll_rows_refer_to_rostered_workers(data, county):
    out, summary = county
    roster = {(w["project_code"], w["id_number"]): w for w in data["workers"]}
    for a in data["attendance"]:
        w = roster[(a["project_code"], a["id_number"])]
        assert w["entry_date"] <= a["date"]
        if w["exit_date"]:
            assert a["date"] <= w["exit_date"]
        assert 0 < float(a["hours"]) <= 24
        assert summary.start.isoformat() <= a["date"] <= summary.end.isoformat()
    per_day = {(a["id_number"], a["date"]) for a in data["attendance"]}
    assert len(per_day) == len(data["attendance"])  # one row per worker-day, and one site at a time
    last_day: dict[tuple[str, str, str], str] = {}
    for a in data["attendance"]:
        k = (a["project_code"], a["id_number"], a["date"][:7])
        last_day[k] = max(last_day.get(k, ""), a["date"])
    channels = set()
    for p in data["payroll"]:
        assert (p["project_code"], p["id_number"]) in roster
        # a month is paid once it is worked: after its end, or at the worker's exit settlement
        assert len(p["period"]) == 7 and p["pay_date"] >= last_day[(p["project_code"], p["id_number"], p["period"])]
        assert p["period"] <= p["pay_date"][:7]
        assert Decimal(p["amount_paid"]) > 0 and Decimal(p["amount_paid"]) <= Decimal(p["amount_due"])
        channels.add(p["channel"])
    assert channels <= {"专用账户代发", "银行代发", "现金", "班组长代领"}
    assert "专用账户代发" in channels


def test_payroll_amount_due_is_earned_wage_and_never_overpaid(data):
    wage = {(w["project_code"], w["id_number"]): Decimal(w["daily_wage"]) for w in data["workers"]}
    earned: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for a in data["attendance"]:
        k = (a["project_code"], a["id_number"])
        earned[(*k, a["date"][:7])] += wage[k] * Decimal(a["hours"]) / 8
    paid: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for p in data["payroll"]:
        k = (p["project_code"], p["id_number"], p["period"])
        assert Decimal(p["amount_due"]) == earned[k], k  # the same on every row of the month
        paid[k] += Decimal(p["amount_paid"])
    assert all(paid[k] <= earned[k] for k in paid)
    fully = sum(1 for k, e in earned.items() if paid.get(k, 0) == e)
    assert fully / len(earned) > 0.5  # most months are paid in full


def test_reports(data, county):
    out, summary = county
    reports = data["reports"]
    ids = [r["report_id"] for r in reports]
    assert len(set(ids)) == len(ids)
    codes = {p["project_code"] for p in data["projects"]}
    for r in reports:
        assert len(r["received_at"]) == 16 and r["received_at"][10] == " "
        assert r["text"].strip()
        assert r["project_code"] == "" or r["project_code"] in codes
        assert r["township"] == "" or r["township"] in TOWNSHIPS
        if r["informant_id"]:
            assert len(r["informant_id"]) == 7 and r["informant_id"][2] == "-"
        if r["workers_involved"]:
            assert int(r["workers_involved"]) > 0
        if r["amount_claimed"]:
            assert Decimal(r["amount_claimed"]) > 0
    assert any(not r["informant_id"] for r in reports)  # anonymous ones
    assert any(r["informant_id"] for r in reports)
    assert len({r["text"] for r in reports}) > len(reports) / 3  # varied wording
    assert any("欠" in r["text"] or "工资" in r["text"] for r in reports)


# ---- the ground truth is consistent with the files --------------------------------------------------

def _pay_day(period: str) -> date:
    y, m = map(int, period.split("-"))
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return date(y, m, 25)


def _wage_check(data, project: str, as_of: date) -> tuple[set[str], Decimal]:
    """formats.md "Wage-check output": owed workers and amount owed of one project as of a date."""
    s = as_of.isoformat()
    wage = {w["id_number"]: Decimal(w["daily_wage"]) for w in data["workers"] if w["project_code"] == project}
    earned: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for a in data["attendance"]:
        if a["project_code"] == project and a["date"] <= s:
            earned[(a["id_number"], a["date"][:7])] += wage[a["id_number"]] * Decimal(a["hours"]) / 8
    paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for p in data["payroll"]:
        if p["project_code"] == project and p["pay_date"] <= s:
            paid[(p["id_number"], p["period"])] += Decimal(p["amount_paid"])
    owed, amount = set(), Decimal(0)
    for (idn, period), e in earned.items():
        unpaid = e - paid.get((idn, period), Decimal(0))
        if _pay_day(period) < as_of and unpaid > 1:
            owed.add(idn)
            amount += max(Decimal(0), unpaid)
    return owed, amount


def test_every_dispute_falls_where_arrears_exist(data):
    disputes = data["disputes"]
    assert disputes, "this seed and scale are expected to produce disputes"
    codes = {p["project_code"] for p in data["projects"]}
    for d in disputes:
        assert d["project_code"] in codes
        when = date.fromisoformat(d["date"])
        owed, amount = _wage_check(data, d["project_code"], when)
        assert owed, d  # at least one overdue worker-month
        assert int(d["workers"]) >= 10
        assert int(d["workers"]) == max(10, len(owed))
        assert Decimal(d["amount_owed"]) == amount > 0


def test_disputes_cluster_before_the_spring_festival(tmp_path):
    """Across a few small counties, the 7 weeks before 春节 carry far more than their share of disputes."""
    sf = spring_festival(2025)
    n_all = n_season = 0
    for seed in (1, 2, 3, 4):
        simulate_county(tmp_path / str(seed), seed=seed, scale=0.2)
        for d in _rows(tmp_path / str(seed) / "truth" / "disputes.csv"):
            n_all += 1
            days = (sf - date.fromisoformat(d["date"])).days
            n_season += 0 < days <= 49
    assert n_all >= 10
    assert n_season / n_all > 49 / 549 * 2  # at least twice the share of days


def test_spring_festival_table():
    assert spring_festival(2025) == date(2025, 1, 29)
    assert spring_festival(2026) == date(2026, 2, 17)
    with pytest.raises(ValueError):
        spring_festival(1990)


# ---- families of dispute-onset mechanisms ---------------------------------------------------------------

def _combined_digest(outdir: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(outdir.rglob("*.csv")):
        h.update(p.read_bytes())
    return h.hexdigest()


def test_default_output_is_unchanged_by_the_mechanism_families(tmp_path):
    """The digest of seed 7, scale 0.04 as the simulator wrote it before families and form variation existed."""
    s = simulate_county(tmp_path / "a", seed=7, scale=0.04)
    assert _combined_digest(tmp_path / "a") == "9b2d7396445bc0bc1655446a0cf18b3013c3537e09ceb91484d1a0340307ea8e"
    assert s.mechanism == "grievance" and s.forms == draw_forms("grievance", 7)
    simulate_county(tmp_path / "b", seed=7, scale=0.04, mechanism="grievance", vary_forms=False)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")


def test_forms_vary_by_seed_only_when_asked():
    for mechanism in MECHANISMS:
        fixed = draw_forms(mechanism, 1)
        assert draw_forms(mechanism, 2) == fixed
        a, b = draw_forms(mechanism, 1, vary=True), draw_forms(mechanism, 2, vary=True)
        assert a == draw_forms(mechanism, 1, vary=True)  # deterministic
        assert a.keys() == b.keys() == fixed.keys()
        assert a != b and a != fixed
    with pytest.raises(ValueError, match="unknown mechanism"):
        draw_forms("contagion", 1)


@pytest.fixture(scope="module")
def families(tmp_path_factory) -> dict[tuple[str, bool], Path]:
    """Seed 3 at scale 0.1 (the contract county) under every family, fixed and varied forms."""
    out = {}
    for mechanism in MECHANISMS:
        for vary in (False, True):
            folder = tmp_path_factory.mktemp(f"{mechanism}-{int(vary)}")
            simulate_county(folder, seed=3, scale=0.1, mechanism=mechanism, vary_forms=vary)
            out[(mechanism, vary)] = folder
    return out


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_each_family_is_deterministic(tmp_path, families, mechanism):
    for vary in (False, True):
        again = simulate_county(tmp_path / str(vary), seed=3, scale=0.1, mechanism=mechanism, vary_forms=vary)
        assert _digests(tmp_path / str(vary)) == _digests(families[(mechanism, vary)])
        assert again.mechanism == mechanism and again.forms == draw_forms(mechanism, 3, vary)


def test_families_differ(families):
    truths = {key: (folder / "truth" / "disputes.csv").read_bytes() for key, folder in families.items()}
    assert len(set(truths.values())) == len(truths)  # every family and form gives its own disputes
    # the same projects (later ones may staff differently: people freed or held by earlier disputes)
    projects = {tuple((r["project_code"], r["project_name"], r["start_date"]) for r in _rows(folder / "projects.csv"))
                for folder in families.values()}
    assert len(projects) == 1


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_every_family_puts_disputes_on_overdue_arrears(families, mechanism):
    for vary in (False, True):
        folder = families[(mechanism, vary)]
        d = {name: _rows(folder / f"{name}.csv") for name in ("workers", "attendance", "payroll")}
        disputes = _rows(folder / "truth" / "disputes.csv")
        assert disputes, (mechanism, vary)
        for row in disputes:
            owed, amount = _wage_check(d, row["project_code"], date.fromisoformat(row["date"]))
            assert owed, (mechanism, vary, row)
            assert int(row["workers"]) == max(10, len(owed))
            assert Decimal(row["amount_owed"]) == amount > 0


def test_unknown_mechanism_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown mechanism 'contagion'"):
        simulate_county(tmp_path / "x", seed=1, scale=0.03, mechanism="contagion")
    assert not (tmp_path / "x").exists()  # refused before anything is written
    r = subprocess.run([EARLYWARN, "simulate", str(tmp_path / "y"), "--scale", "0.03", "--mechanism", "contagion"],
                       capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, timeout=120)
    assert r.returncode == 2
    assert "未知的纠纷机制 contagion" in r.stderr and "grievance" in r.stderr
    assert not (tmp_path / "y").exists()


def test_cli_simulates_a_family_with_varied_forms(tmp_path):
    r = subprocess.run([EARLYWARN, "simulate", str(tmp_path / "z"), "--seed", "3", "--scale", "0.03",
                        "--mechanism", "trigger", "--vary-forms"],
                       capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "机制=trigger" in r.stderr
    simulate_county(tmp_path / "api", seed=3, scale=0.03, mechanism="trigger", vary_forms=True)
    assert _digests(tmp_path / "z") == _digests(tmp_path / "api")


def test_lockstep_run_without_visits_gives_the_same_rows(county, data):
    """Projects stepped together week by week (the closed loop's engine) write what the plain run writes."""
    out, summary = county
    lc = LockstepCounty(seed=3, scale=0.1)
    rows: dict[str, list] = defaultdict(list)
    day = 6
    while lc.day < lc.n_days - 1:
        week = lc.advance_to(day)
        today = lc.date_of(lc.day).isoformat()
        assert all(a.split(",")[2] <= today for a in week.attendance)  # nothing from the future
        assert all(r[1][:10] <= today for r in week.reports)
        for kind in ("projects", "workers", "attendance", "payroll", "reports", "disputes"):
            rows[kind].extend(getattr(week, kind))
        day += 7

    def lines(name: str) -> list[str]:
        return sorted((out / name).read_text(encoding="utf-8").splitlines()[1:])

    assert sorted(a.rstrip("\n") for a in rows["attendance"]) == lines("attendance.csv")
    assert sorted(p.rstrip("\n") for p in rows["payroll"]) == lines("payroll.csv")
    assert sorted(",".join(r) for r in rows["projects"]) == lines("projects.csv")
    latest = {(w[0], w[1]): w for w in rows["workers"]}  # a later row updates the exit date
    assert sorted(tuple(w.values()) for w in data["workers"]) == sorted(tuple(w) for w in latest.values())
    texts = sorted((r[1], r[6]) for r in rows["reports"])
    assert texts == sorted((r["received_at"], r["text"]) for r in data["reports"])
    truth = [(d["project_code"], d["date"], int(d["workers"]), d["amount_owed"]) for d in data["disputes"]]
    assert sorted(rows["disputes"], key=lambda x: (x[1], x[0])) == truth
