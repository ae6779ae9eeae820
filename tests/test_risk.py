"""The risk model: the scikit-learn contract, monotonicity, calibration, the machine-checked card, levels."""

import shutil

import numpy as np
import pytest
import yaml
from sklearn.base import clone

from earlywarn.risk import (
    DEFAULT_THRESHOLDS,
    RiskModel,
    RiskModelError,
    build_pipeline,
    latest_model_dir,
    level_for,
    load_model,
    save_model,
    thresholds_for_capacity,
)

COLUMNS = ("months_owed", "workers_owed", "noise")
GROUPS = {"欠薪": ("months_owed", "workers_owed"), "其他": ("noise",)}


def _data(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    months = rng.integers(0, 6, n).astype(float)
    workers = rng.integers(0, 60, n).astype(float)
    noise = rng.normal(size=n)
    logit = -4 + 0.9 * months + 0.03 * workers
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return np.column_stack([months, workers, noise]), y.astype(int)


@pytest.fixture(scope="module")
def fitted():
    x, y = _data()
    est = build_pipeline(COLUMNS, ("months_owed", "workers_owed")).fit(x, y)
    return RiskModel(est, COLUMNS, GROUPS, np.median(x, axis=0))


def test_pipeline_follows_the_sklearn_contract():
    est = build_pipeline(COLUMNS, ("months_owed",))
    assert not hasattr(est, "calibrated_classifiers_")  # nothing fitted before fit
    twin = clone(est)
    assert twin.get_params()["estimator__monotonic_cst"] == [1, 0, 0]
    x, y = _data(400)
    assert est.fit(x, y) is est


def test_constant_and_empty_columns_are_left_out_not_fatal():
    """scikit-learn 1.9's binning raises on a column with fewer than two distinct values; a small county's
    outcomes often have one. The booster fits on the varying columns, monotone constraints following them."""
    x, y = _data(400)
    x[:, 1] = 7.0          # constant
    x[:, 2] = np.nan       # empty
    est = build_pipeline(COLUMNS, ("months_owed",)).fit(x, y)
    inner = est.calibrated_classifiers_[0].estimator
    assert inner.columns_.tolist() == [True, False, False]
    assert inner.model_.monotonic_cst == [1]
    p = est.predict_proba(np.array([[0.0, 1.0, 2.0], [6.0, -5.0, np.nan]]))[:, 1]
    assert p[1] > p[0]  # still the months owed that drive it, and new values in dropped columns are ignored
    x[:, 0] = 1.0
    with pytest.raises(ValueError, match="every feature column is constant"):
        build_pipeline(COLUMNS, ("months_owed",)).fit(x, y)


def test_more_unpaid_months_never_lower_the_risk(fitted):
    rows = np.array([[m, 20.0, 0.0] for m in range(0, 7)])
    scores = fitted.predict(rows)
    assert all(b >= a - 1e-12 for a, b in zip(scores, scores[1:], strict=False))
    assert scores[-1] > scores[0] + 0.3


def test_scores_are_calibrated_probabilities(fitted):
    x, y = _data(3000, seed=7)
    p = fitted.predict(x)
    assert 0 <= p.min() and p.max() <= 1
    for lo, hi in ((0.0, 0.2), (0.2, 0.5), (0.5, 1.01)):
        band = (p >= lo) & (p < hi)
        assert band.sum() > 50
        assert abs(p[band].mean() - y[band].mean()) < 0.06  # reliability within a few points


def test_contributions_name_the_group_that_drives_the_score(fitted):
    rows = np.array([[5.0, 40.0, 0.0], [0.0, 0.0, 0.0]])
    contrib = fitted.contributions(rows)
    assert contrib[0]["欠薪"] > 0.3 and abs(contrib[0]["其他"]) < 0.05
    assert contrib[1]["欠薪"] <= 0


def test_levels_from_thresholds():
    assert [level_for(s, DEFAULT_THRESHOLDS) for s in (0.9, 0.35, 0.2, 0.08, 0.01)] == [
        "red", "orange", "yellow", "blue", None]


def test_thresholds_follow_capacity():
    rng = np.random.default_rng(1)
    weeks = [list(rng.random(100)) for _ in range(20)]
    t = thresholds_for_capacity(weeks, capacity=5)
    assert t["red"] > t["orange"] > t["yellow"] > t["blue"] > 0
    # About five projects a week reach red.
    assert 3 <= np.mean([sum(s >= t["red"] for s in week) for week in weeks]) <= 7


def test_card_round_trip_and_refusals(fitted, tmp_path):
    folder = tmp_path / "models" / "risk-20260101"
    card = save_model(fitted, folder, {"name": "test"})
    assert card["features"] == list(COLUMNS) and len(card["sha256"]) == 64
    loaded = load_model(folder)
    assert np.allclose(loaded.predict(np.array([[3.0, 10.0, 0.0]])), fitted.predict(np.array([[3.0, 10.0, 0.0]])))
    assert latest_model_dir(tmp_path / "models") == folder
    tampered = tmp_path / "tampered"
    shutil.copytree(folder, tampered)
    with (tampered / "model.joblib").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(RiskModelError, match="sha256"):
        load_model(tampered)
    old = tmp_path / "old"
    shutil.copytree(folder, old)
    c = yaml.safe_load((old / "card.yaml").read_text(encoding="utf-8"))
    c["versions"]["scikit-learn"] = "0.24.2"
    (old / "card.yaml").write_text(yaml.safe_dump(c), encoding="utf-8")
    with pytest.raises(RiskModelError, match="scikit-learn"):
        load_model(old)
    (old / "card.yaml").write_text("not: [valid", encoding="utf-8")
    with pytest.raises(RiskModelError, match="malformed"):
        load_model(old)


def test_the_shipped_risk_model_loads_and_beats_the_base_rate():
    from pathlib import Path

    from earlywarn.risk_features import FEATURE_COLUMNS

    folder = latest_model_dir(Path(__file__).resolve().parents[1] / "models")
    assert folder is not None
    model = load_model(folder)
    assert model.feature_columns == FEATURE_COLUMNS  # the card was made with today's feature list
    card = model.card
    # a family of dispute mechanisms the model never saw in training is the test, not just a new seed
    trained = {s.split(":")[1] for s in card["data"]["training_seeds"]}
    assert card["data"]["held_out_family"] not in trained and len(trained) >= 2
    same = card["metrics_held_out_seed_trained_family"]
    assert same["average_precision"] > 3 * same["base_rate"]
    unseen = card["metrics_held_out_family"]
    assert unseen["average_precision"] > 1.5 * unseen["base_rate"]
    temporal = card["metrics_temporal_training_seeds"]
    assert temporal["average_precision"] > 3 * temporal["base_rate"]
    t = model.card["thresholds"]
    assert t["red"] > t["orange"] > t["yellow"] > t["blue"] > 0
