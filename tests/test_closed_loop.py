"""Closed loop: weekly top-K mediator visits in a simulated county, on a small county over a short window."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from earlywarn.closed_loop import ClosedLoopError, parse_policies, run_closed_loop, run_policy
from earlywarn.config import Settings
from earlywarn.simulation import simulate_county

ROOT = Path(__file__).resolve().parent.parent
EARLYWARN = shutil.which("earlywarn") or str(Path(sys.executable).parent / "earlywarn")
# a county where one dispute happens without visits and three visits a week can prevent it
SMALL = {"seed": 5, "scale": 0.1, "months": 6}


@pytest.fixture(scope="module")
def loop_settings(tmp_path_factory) -> Settings:
    tmp = tmp_path_factory.mktemp("loop")
    return Settings(database_url=f"sqlite:///{tmp}/unused.db", data_dir=tmp, secret_key="test-secret-do-not-use",
                    rules_dir=ROOT / "rules", model_dir=ROOT / "models", web_dir=ROOT / "web",
                    reference_file=ROOT / "seed" / "anji.yaml")


@pytest.fixture(scope="module")
def outcomes(loop_settings):
    return {o.policy: o for o in run_closed_loop(settings=loop_settings, policies=list(parse_policies(
        "scorer,rules,random")), capacity=3, **SMALL)}


def _plain_disputes(tmp: Path, **kw) -> list[tuple]:
    simulate_county(tmp, **kw)
    with (tmp / "truth" / "disputes.csv").open(encoding="utf-8", newline="") as f:
        return [(r["project_code"], r["date"], int(r["workers"]), r["amount_owed"]) for r in csv.DictReader(f)]


def test_none_equals_the_plain_simulation(tmp_path, loop_settings, outcomes):
    plain = _plain_disputes(tmp_path / "g", **SMALL)
    assert outcomes["none"].dispute_rows == plain and len(plain) == 1
    assert outcomes["none"].visits == 0 and outcomes["none"].recovered_fen == 0
    # another family and a county with more disputes
    kw = {"seed": 3, "scale": 0.1, "months": 12, "mechanism": "trigger", "vary_forms": True}
    none = run_policy(settings=loop_settings, policy="none", **kw)
    plain = _plain_disputes(tmp_path / "t", **kw)
    assert none.dispute_rows == plain and len(plain) >= 3


def test_visits_prevent_disputes_and_recover_arrears(outcomes):
    assert list(outcomes) == ["none", "rules", "random", "scorer"]
    for name in ("rules", "random", "scorer"):
        o = outcomes[name]
        assert o.visits == 3 * 26  # three a week for the 26 weeks that have a next day
        assert 0 < o.resolved < o.visits
        assert o.disputes == 0 and o.prevented == 1
        assert o.recovered_fen > 5_000_000  # more than 50,000 yuan of overdue wages paid after visits
    # (ten projects and three visits a week: every policy reaches the one project in trouble; which policy is
    # better shows only at a realistic scale, see the command's report)
    assert (outcomes["rules"].resolved, outcomes["rules"].recovered_fen) == (5, 5_990_500)


def test_same_inputs_same_outcome(loop_settings, outcomes):
    for name in ("rules", "random"):
        again = run_policy(settings=loop_settings, policy=name, capacity=3, **SMALL)
        first = outcomes[name]
        assert (again.dispute_rows, again.recovered_fen, again.visits, again.resolved) == (
            first.dispute_rows, first.recovered_fen, first.visits, first.resolved)


def test_capacity_zero_is_no_visits(loop_settings, outcomes):
    for name in ("scorer", "random"):
        o = run_policy(settings=loop_settings, policy=name, capacity=0, **SMALL)
        assert o.dispute_rows == outcomes["none"].dispute_rows
        assert (o.visits, o.resolved, o.recovered_fen) == (0, 0, 0)


def test_unknown_policy_is_refused(loop_settings, tmp_path):
    assert parse_policies("random, scorer") == ["none", "random", "scorer"]
    with pytest.raises(ClosedLoopError, match="未知的策略 oracle"):
        parse_policies("scorer,oracle")
    with pytest.raises(ClosedLoopError, match="未知的策略"):
        run_closed_loop(settings=loop_settings, policies=["best"], seed=1, scale=0.05)
    env = {**os.environ, "COLUMNS": "200", "EARLYWARN_DATA_DIR": str(tmp_path),
           "EARLYWARN_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "EARLYWARN_SECRET_KEY": "test-secret-do-not-use"}
    r = subprocess.run([EARLYWARN, "simulate", str(tmp_path / "out"), "--policy", "oracle"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 2
    assert "未知的策略 oracle" in r.stderr and "scorer" in r.stderr


def test_cli_closed_loop_writes_its_report(tmp_path):
    env = {**os.environ, "COLUMNS": "200", "EARLYWARN_DATA_DIR": str(tmp_path),
           "EARLYWARN_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "EARLYWARN_SECRET_KEY": "test-secret-do-not-use"}
    r = subprocess.run([EARLYWARN, "simulate", str(tmp_path / "out"), "--seed", "5", "--scale", "0.1", "--months",
                        "6", "--policy", "random", "--capacity", "3"], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "走访闭环" in r.stderr and "random 随机走访" in r.stderr and "￥" in r.stderr
    with (tmp_path / "out" / "closed_loop.csv").open(encoding="utf-8", newline="") as f:
        rows = {row["policy"]: row for row in csv.DictReader(f)}
    assert list(rows) == ["none", "random"]
    assert rows["none"]["disputes"] == "1" and rows["random"]["prevented"] == "1"
    assert rows["random"]["visits"] == "78" and float(rows["random"]["recovered"]) > 0
    assert (tmp_path / "out" / "truth" / "disputes-none.csv").is_file()
