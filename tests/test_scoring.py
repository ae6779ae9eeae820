"""Scoring: rule floors, the model's probability and levels, Chinese reasons; the score and backtest commands."""

from __future__ import annotations

import csv
from datetime import date

import numpy as np
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.risk import RiskModel, build_pipeline
from earlywarn.risk_features import FEATURE_COLUMNS, FEATURE_GROUPS, MONOTONE_INCREASING
from earlywarn.rules import load_rules
from earlywarn.scoring import reason_codes, score_projects
from earlywarn.tables import Project, RiskWarning
from tests.test_balances import import_county
from tests.test_wagecheck import COUNTY, P1, P2, P3, P5

AS_OF = date(2025, 4, 1)  # March attendance lies within the 30 days before: every site with work is scored


@pytest.fixture
def county(session, settings, tmp_path):
    reports = [["R-9", "2025-03-30 10:00", "", "孝丰镇", P2, "", "工人说明天要去堵政府大门讨薪，十几个人", "15", ""]]
    import_county(session, settings, tmp_path / "county", reports=reports, **COUNTY)


@pytest.fixture(scope="module")
def tiny_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, len(FEATURE_COLUMNS)))
    owed = FEATURE_COLUMNS.index("workers_owed")
    y = (x[:, owed] + rng.normal(scale=0.5, size=600) > 1).astype(int)
    est = build_pipeline(FEATURE_COLUMNS, MONOTONE_INCREASING).fit(x, y)
    return RiskModel(est, FEATURE_COLUMNS, FEATURE_GROUPS, np.zeros(len(FEATURE_COLUMNS)), "risk-test",
                     {"thresholds": {"red": 0.9, "orange": 0.7, "yellow": 0.5, "blue": 0.3}})


def _codes(session):
    return dict(session.exec(select(Project.id, Project.code)).all())


def test_escalation_makes_a_project_red_whatever_the_model_says(session, settings, county):
    scores = score_projects(session=session, settings=settings, ruleset=load_rules(settings.rules_dir), model=None,
                            as_of=AS_OF)
    by_code = {_codes(session)[s.project_id]: s for s in scores}
    assert set(by_code) == {P1, P2, P3, P5}
    assert by_code[P2].level == "red" and by_code[P2].reasons["floor"] == "red"
    assert "reports.escalation_signal" in reason_codes(by_code[P2])
    rule = next(r for r in by_code[P2].reasons["rules"] if r["id"] == "reports.escalation_signal")
    assert rule["legal_basis"] and rule["legal_basis"][0].startswith("《")
    assert by_code[P1].level is None and by_code[P1].score == 0.0  # no model, no floor: no warning
    assert "信息员报告有激化信号" in by_code[P2].reasons["summary"]


@pytest.mark.parametrize(("report_day", "red"), [("2025-03-26 09:00", True),  # the 7th day back, as-of day included
                                                  ("2025-03-25 23:30", False), ("2025-03-05 10:00", False)])
def test_the_escalation_floor_needs_a_fresh_report(session, settings, tmp_path, report_day, red):
    """R22 fires on the reports of the last 30 days, but makes the site red only while the report is at most
    ``floor_fresh_days`` (7) old; a stale one is still listed as a rule hit, with a note why it sets no floor."""
    reports = [["R-9", report_day, "", "孝丰镇", P2, "", "工人说明天要去堵政府大门讨薪", "", ""]]
    import_county(session, settings, tmp_path / "county", reports=reports, **COUNTY)
    scores = score_projects(session=session, settings=settings, ruleset=load_rules(settings.rules_dir), model=None,
                            as_of=AS_OF)
    p2 = {_codes(session)[s.project_id]: s for s in scores}[P2]
    assert "reports.escalation_signal" in reason_codes(p2)
    if red:
        assert p2.level == "red" and p2.reasons["floor"] == "red" and "floor_note" not in p2.reasons
    else:
        assert p2.level is None and p2.reasons["floor"] is None
        assert p2.reasons["floor_note"] == "出现激化信号的报告已超过 7 天且未再出现，不再设定最低等级（仍列为规则命中）"


def test_an_emergency_crowd_report_floors_red_only_while_fresh(session, settings, tmp_path):
    """R21's 30-worker line is the other red floor; the 10-worker line and the criminal thresholds are not."""
    reports = [["R-1", "2025-03-31 08:00", "", "孝丰镇", P2, "", "三十多个工人工资没发", "35", ""],
               ["R-2", "2025-03-31 09:00", "", "孝丰镇", P3, "", "十几个工人工资没发", "12", ""]]
    import_county(session, settings, tmp_path / "county", reports=reports, **COUNTY)
    ruleset = load_rules(settings.rules_dir)
    scores = {_codes(session)[s.project_id]: s for s in score_projects(
        session=session, settings=settings, ruleset=ruleset, model=None, as_of=AS_OF)}
    assert scores[P2].level == "red" and "reports.collective_emergency" in reason_codes(scores[P2])
    assert "reports.collective_dispute" in reason_codes(scores[P3]) and scores[P3].level is None
    [later] = score_projects(session=session, settings=settings, ruleset=ruleset, model=None, as_of=date(2025, 4, 8),
                             project_ids=[scores[P2].project_id])  # eight days on, the same report
    assert "reports.collective_emergency" in reason_codes(later) and later.level is None
    assert later.reasons["floor_note"].startswith("群体性事件风险（30 人以上）的报告已超过 7 天")


def test_model_probability_levels_and_group_factors(session, settings, county, tiny_model):
    scores = score_projects(session=session, settings=settings, ruleset=load_rules(settings.rules_dir),
                            model=tiny_model, as_of=AS_OF)
    for s in scores:
        assert 0.0 <= s.score <= 1.0
        assert set(s.reasons) >= {"summary", "probability", "rules", "factors", "floor"}
        for factor in s.reasons["factors"]:
            assert factor["group"] in FEATURE_GROUPS and factor["contribution"] > 0
            assert "个百分点" in factor["text"]
    # On demand, a quiet site is scored too: as of 2025-05-10 P1 owes its two workers March's wages.
    p1_id = next(pid for pid, code in _codes(session).items() if code == P1)
    [p1] = score_projects(session=session, settings=settings, ruleset=load_rules(settings.rules_dir),
                          model=tiny_model, as_of=date(2025, 5, 10), project_ids=[p1_id])
    # The tiny model leans on workers_owed, so the 欠薪 group carries the score.
    assert p1.score > 0.5 and p1.reasons["factors"][0]["group"] == "欠薪"
    assert "2 名工人" in p1.reasons["summary"] and p1.level in ("red", "orange", "yellow")


def _run(settings, *args):
    env = {"EARLYWARN_DATABASE_URL": settings.database_url, "EARLYWARN_DATA_DIR": str(settings.data_dir),
           "EARLYWARN_SECRET_KEY": settings.secret_key}
    from earlywarn.config import get_settings

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        get_settings.cache_clear()


def test_score_command_opens_warnings_once(session, settings, county):
    first = _run(settings, "score", "--as-of", AS_OF.isoformat())
    assert first.exit_code == 0, first.output
    assert "红 1" in first.output
    again = _run(settings, "score", "--as-of", AS_OF.isoformat())
    assert again.exit_code == 0
    warnings = session.exec(select(RiskWarning)).all()
    assert [(w.level, w.status) for w in warnings] == [("red", "new")]


def test_backtest_writes_the_formats_md_file(settings, tmp_path):
    from tests.test_importer import en, write_csv

    folder = tmp_path / "files"
    folder.mkdir()
    for kind, rows in COUNTY.items():
        write_csv(folder / f"{kind}.csv", en(kind), rows)
    out = tmp_path / "bt.csv"
    r = _run(settings, "backtest", str(folder), "--from", "2025-03-10", "--to", "2025-04-07", "--every", "7d",
             "--out", str(out))
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["as_of", "project_code", "score", "level", "reasons"]
    dates = sorted({row[0] for row in rows[1:]})
    assert dates == ["2025-03-10", "2025-03-17", "2025-03-24", "2025-03-31", "2025-04-07"]
    assert all(row[3] in {"red", "orange", "yellow", "blue", "none"} for row in rows[1:])
    assert all(0 <= float(row[2]) <= 1 for row in rows[1:])
    # the side file for the evaluation's ablations: the same (as_of, project) rows, in the same order
    side = list(csv.reader((tmp_path / "bt.components.csv").open(encoding="utf-8")))
    assert side[0] == ["as_of", "project_code", "model_score", "model_level", "check_level", "overdue_days"]
    assert [r[:2] for r in side[1:]] == [r[:2] for r in rows[1:]]
    assert all(r[4] in {"green", "yellow", "orange", "red"} and int(r[5]) >= 0 for r in side[1:])
    # the written score never disagrees with the level (a floor lifts the score to its threshold)
    assert all(float(a[2]) >= float(b[2]) for a, b in zip(rows[1:], side[1:], strict=True))
    bad = _run(settings, "backtest", str(folder), "--from", "2025-04-07", "--to", "2025-03-10", "--out", str(out))
    assert bad.exit_code == 2


def test_import_command_rescores_today_unless_told_not_to(session, settings, tmp_path, monkeypatch):
    """`earlywarn import` refreshes the scores that depend on the data, as an upload does (issue 3): a county whose
    escalation report makes P2 red opens its warning right after the import; --no-score leaves warnings alone."""
    from tests.test_importer import en, write_csv

    monkeypatch.setattr("earlywarn.cli._today", lambda: AS_OF)
    folder = tmp_path / "files"
    folder.mkdir()
    reports = [["R-9", "2025-03-30 10:00", "", "孝丰镇", P2, "", "工人说明天要去堵政府大门讨薪，十几个人", "15", ""]]
    for kind, rows in {**COUNTY, "reports": reports}.items():
        write_csv(folder / f"{kind}.csv", en(kind), rows)
    quiet = _run(settings, "import", "--no-score", str(folder / "projects.csv"), str(folder / "subcontracts.csv"))
    assert quiet.exit_code == 0, quiet.output
    assert "重新评分" not in quiet.output and session.exec(select(RiskWarning)).all() == []
    session.rollback()  # end our read snapshot before the command writes
    done = _run(settings, "import", str(folder))
    assert done.exit_code == 0, done.output
    assert "已按今日重新评分" in done.output and "预警新增 1" in done.output
    session.rollback()
    codes = _codes(session)
    assert [(codes[w.project_id], w.level) for w in session.exec(select(RiskWarning))] == [(P2, "red")]
    again = _run(settings, "import", str(folder))  # nothing new: no rows written, no re-scoring
    assert again.exit_code == 0 and "重新评分" not in again.output
