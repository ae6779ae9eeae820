"""Learning from outcomes: which warnings and cases become labels, the new model beside the old, the command."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.config import LOCAL_TZ
from earlywarn.risk import load_model
from earlywarn.scoring import load_risk_model
from earlywarn.tables import MediationCase, Project, RiskWarning
from earlywarn.train_outcomes import OutcomeLabel, OutcomeTrainingError, outcome_labels, train_from_outcomes
from tests.test_balances import import_county
from tests.test_wagecheck import COUNTY

TODAY = date(2025, 4, 1)


@pytest.fixture
def county(session, settings, tmp_path):
    import_county(session, settings, tmp_path / "county", **COUNTY)
    return {p.code: p.id for p in session.exec(select(Project))}


def at(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=LOCAL_TZ)


def warn(session, pid, day, status):
    w = RiskWarning(project_id=pid, level="orange", score=0.2, status=status, reasons={}, opened_at=at(day),
                    updated_at=at(day))
    session.add(w)
    session.flush()
    return w


_cases = iter(range(1, 10_000))


def case(session, pid, day, status="intake", warning_id=None):
    n = next(_cases)
    session.add(MediationCase(case_no=f"AJ调〔2025〕{n:04d}号", title="欠薪", status=status, project_id=pid,
                              warning_id=warning_id, opened_at=at(day), updated_at=at(day)))
    session.flush()


def test_which_warnings_and_cases_become_labels(session, county):
    p1, p2, p3, p4, p5 = (county[c] for c in sorted(county))
    warn(session, p1, date(2025, 2, 3), "dismissed")                          # no case: 0
    w = warn(session, p2, date(2025, 2, 10), "case_opened")                   # 1
    case(session, p2, date(2025, 2, 11), "closed_performed", warning_id=w.id)
    warn(session, p3, date(2025, 3, 3), "acknowledged")                       # a case 17 days later: 1
    case(session, p3, date(2025, 3, 20), "in_mediation")
    warn(session, p4, date(2025, 3, 25), "new")                               # still inside its horizon: left out
    warn(session, p4, date(2025, 1, 6), "acknowledged")                       # 56 days passed, no case: 0
    case(session, p5, date(2025, 3, 30), "referred")                          # no warning: 1, two weeks before
    case(session, p1, date(2025, 2, 20), "rejected")                          # out of scope: no label, and p1's
    session.commit()                                                          # dismissal stays a 0
    got = outcome_labels(session=session, today=TODAY)
    assert got == [
        OutcomeLabel(p4, date(2025, 1, 6), 0, "warning"),
        OutcomeLabel(p1, date(2025, 2, 3), 0, "warning"),
        OutcomeLabel(p2, date(2025, 2, 10), 1, "warning"),
        OutcomeLabel(p3, date(2025, 3, 3), 1, "warning"),
        OutcomeLabel(p5, date(2025, 3, 16), 1, "case"),
    ]


def test_too_few_outcomes_is_a_clear_refusal(session, settings, county, tmp_path):
    warn(session, county[sorted(county)[0]], date(2025, 2, 3), "dismissed")
    session.commit()
    with pytest.raises(OutcomeTrainingError, match="结果标签不足：共 1 条"):
        train_from_outcomes(session=session, settings=settings, baseline=None, out=tmp_path / "m", today=TODAY)
    assert not (tmp_path / "m").exists()


def _many_outcomes(session, county):
    """Weekly warnings Jan–Mar 2025 on every project: the two projects owing most became cases, the rest
    were dismissed (what a mediator would have found)."""
    owing = {county[c] for c in sorted(county)[:2]}
    day = date(2025, 1, 6)
    while day < date(2025, 3, 31):
        for pid in county.values():
            w = warn(session, pid, day, "case_opened" if pid in owing else "dismissed")
            if pid in owing:
                case(session, pid, day + timedelta(days=1), "closed_performed", warning_id=w.id)
        day += timedelta(days=7)
    session.commit()


def test_a_new_version_beside_the_simulator_model_with_a_comparison(session, settings, county, tmp_path):
    _many_outcomes(session, county)
    baseline = load_risk_model(settings.model_dir)
    folder = tmp_path / "outcomes-risk-test"
    card = train_from_outcomes(session=session, settings=settings, baseline=baseline, out=folder, today=TODAY)
    comparison = card["comparison_on_outcome_labels"]
    labels = len(county) * 12
    assert comparison["labels"] == labels and comparison["positives"] == 2 * 12
    assert comparison["base_rate"] == pytest.approx(round(24 / labels, 4))
    assert set(comparison) == {"labels", "positives", "base_rate", "this_model_out_of_fold",
                               f"simulator_model_{baseline.version}"}
    for figures in (comparison["this_model_out_of_fold"], comparison[f"simulator_model_{baseline.version}"]):
        assert 0 <= figures["brier"] <= 1 and 0 < figures["average_precision"] <= 1
    # the owing projects are easy to tell apart from their arrears: the county's own model learns that
    assert comparison["this_model_out_of_fold"]["average_precision"] > comparison["base_rate"] + 0.3
    assert card["data"]["source"] == "database outcomes" and card["thresholds"] == baseline.card["thresholds"]
    loaded = load_model(folder)
    assert loaded.version == "outcomes-risk-test" and loaded.predict(
        loaded.reference.reshape(1, -1)).shape == (1,)


def test_the_outcomes_model_is_served_only_when_named(settings, tmp_path):
    import shutil

    models = tmp_path / "models"
    shutil.copytree(settings.model_dir, models)
    shipped = load_risk_model(models)
    (models / "outcomes-risk-20990101-0000").mkdir()
    shutil.copy(models / shipped.version / "card.yaml", models / "outcomes-risk-20990101-0000" / "card.yaml")
    shutil.copy(models / shipped.version / "model.joblib", models / "outcomes-risk-20990101-0000" / "model.joblib")
    load_risk_model.cache_clear()
    assert load_risk_model(models).version == shipped.version
    assert load_risk_model(models, "outcomes-risk-20990101-0000").version == "outcomes-risk-20990101-0000"
    from earlywarn.risk import RiskModelError

    with pytest.raises(RiskModelError, match="EARLYWARN_RISK_MODEL=nope"):
        load_risk_model(models, "nope")
    load_risk_model.cache_clear()


def test_train_from_db_command(session, settings, county, tmp_path, monkeypatch):
    monkeypatch.setenv("EARLYWARN_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("EARLYWARN_DATA_DIR", str(settings.data_dir))
    from earlywarn.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    few = runner.invoke(app, ["train", "--from-db", "--out", str(tmp_path / "m1")])
    assert few.exit_code == 1 and "结果标签不足" in few.output
    _many_outcomes(session, county)
    monkeypatch.setattr("earlywarn.risk_cli.today", lambda: TODAY)
    done = runner.invoke(app, ["train", "--from-db", "--out", str(tmp_path / "m2")], env={"COLUMNS": "160"})
    assert done.exit_code == 0, done.output
    assert "新模型（交叉验证）" in done.output and "EARLYWARN_RISK_MODEL=m2" in done.output
    assert (tmp_path / "m2" / "card.yaml").exists()
    again = runner.invoke(app, ["train", "--from-db", "--out", str(tmp_path / "m2")])
    assert again.exit_code == 2 and "已存在" in again.output
    get_settings.cache_clear()
