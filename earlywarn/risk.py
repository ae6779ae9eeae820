"""The risk model (pure): a calibrated, monotone gradient-boosting classifier of the onset of a collective
dispute within the horizon, its machine-checked model card, levels from thresholds, and explanations.

Follows the scikit-learn contract: :func:`build_pipeline` returns an unfitted estimator; nothing is fitted
at import or in ``__init__``. A model is loaded only when its card's sha256 and library versions match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import joblib
import numpy as np
import yaml
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier

from earlywarn.artifacts import file_sha256, library_versions

LEVELS = ("red", "orange", "yellow", "blue")
DEFAULT_THRESHOLDS = {"red": 0.5, "orange": 0.3, "yellow": 0.15, "blue": 0.07}


class RiskModelError(RuntimeError):
    """The artifact does not match its card (hash or library versions), or the card is unusable."""


class InformativeColumnsBooster(ClassifierMixin, BaseEstimator):
    """A histogram gradient-boosting classifier fitted on the columns that vary in its training data.

    scikit-learn 1.9's binning fails outright on a column with fewer than two distinct values (all NaN, or one
    value): ``ValueError: window shape cannot be larger than input array shape``. A small county's outcomes or
    one calibration fold easily has such a column (no cash payments anywhere, no earlier cases). Such a column
    carries nothing to learn from, so it is left out of the fit and of every prediction, and the monotone
    constraints follow the columns kept."""

    def __init__(self, booster=None, monotonic_cst=None):
        self.booster = booster
        self.monotonic_cst = monotonic_cst

    def fit(self, x, y):
        x = np.asarray(x, dtype=np.float64)
        self.columns_ = np.array([np.unique(c[~np.isnan(c)]).size >= 2 for c in x.T], dtype=bool)
        if not self.columns_.any():
            raise ValueError("every feature column is constant in the training data: nothing to learn from")
        cst = None if self.monotonic_cst is None else [c for c, k in zip(self.monotonic_cst, self.columns_,
                                                                          strict=True) if k]
        base = self.booster if self.booster is not None else HistGradientBoostingClassifier()
        self.model_ = clone(base).set_params(monotonic_cst=cst).fit(x[:, self.columns_], y)
        self.classes_ = self.model_.classes_
        self.n_features_in_ = x.shape[1]
        return self

    def predict_proba(self, x):
        return self.model_.predict_proba(np.asarray(x, dtype=np.float64)[:, self.columns_])

    def decision_function(self, x):
        return self.model_.decision_function(np.asarray(x, dtype=np.float64)[:, self.columns_])

    def predict(self, x):
        return self.model_.predict(np.asarray(x, dtype=np.float64)[:, self.columns_])


@lru_cache(maxsize=1)
def _threadpools():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def column_medians(x: np.ndarray) -> np.ndarray:
    """Per-column medians ignoring NaN; NaN for a column with no value at all (no warning for it)."""
    out = np.full(x.shape[1], np.nan)
    seen = ~np.isnan(x).all(axis=0)
    if seen.any():
        out[seen] = np.nanmedian(x[:, seen], axis=0)
    return out


def build_pipeline(feature_columns: Sequence[str], monotone_increasing: Sequence[str], *,
                   random_state: int = 0, min_samples_leaf: int = 80) -> CalibratedClassifierCV:
    """Unfitted: gradient boosting, monotone where the domain is obvious (more unpaid months never lowers the
    risk), calibrated so that the score reads as a probability. Isotonic and sigmoid calibration are both
    monotone, so the monotone constraints survive calibration.

    Few small trees with large leaves: chosen by training on one family of simulated dispute mechanisms and
    testing on the other (grievance → threshold and back), never on the held-out family. Mean AP over the base
    rate across families: 5.19 for these settings; 5.13 with 150 trees of 7 leaves and strong L2, 5.01 with 200
    trees of 15 leaves — the simpler model fits the problem rather than one simulator's quirks."""
    cst = [1 if c in monotone_increasing else 0 for c in feature_columns]
    booster = HistGradientBoostingClassifier(max_iter=60, learning_rate=0.05, max_leaf_nodes=4,
                                             min_samples_leaf=min_samples_leaf, l2_regularization=1.0,
                                             random_state=random_state)
    return CalibratedClassifierCV(InformativeColumnsBooster(booster, cst), method="sigmoid", cv=3)


def level_for(score: float, thresholds: Mapping[str, float]) -> str | None:
    """The highest level whose threshold the score reaches; None below all (no warning)."""
    for level in LEVELS:
        if score >= thresholds[level]:
            return level
    return None


# Below these calibrated probabilities a project gets no level however quiet the county: a warning must
# mean a real risk, not just "among the top K of a small county".
MIN_PROBABILITY = {"red": 0.3, "orange": 0.15, "yellow": 0.08, "blue": 0.04}


def thresholds_for_capacity(weekly_scores: Sequence[Sequence[float]], capacity: int) -> dict[str, float]:
    """Thresholds a handful of mediators can act on: red ≈ the score of the capacity-th project in a typical
    week, orange ≈ twice the capacity, yellow ≈ four times, blue ≈ eight times (medians over weeks), never
    below :data:`MIN_PROBABILITY` and strictly ordered."""
    def kth(k: int) -> float:
        values = [sorted(week, reverse=True)[min(k, len(week)) - 1] for week in weekly_scores if len(week)]
        return float(np.median(values)) if values else 1.0

    found = {"red": kth(capacity), "orange": kth(2 * capacity), "yellow": kth(4 * capacity),
             "blue": kth(8 * capacity)}
    floor = 0.0
    for level in reversed(LEVELS):  # blue first, each level above the one below it
        found[level] = max(found[level], MIN_PROBABILITY[level], floor + 1e-3)
        floor = found[level]
    return {k: round(v, 4) for k, v in found.items()}


@dataclass
class RiskModel:
    estimator: CalibratedClassifierCV
    feature_columns: tuple[str, ...]
    groups: dict[str, tuple[str, ...]]
    reference: np.ndarray  # per-column medians of the training data: the "nothing unusual" point for explanations
    version: str = ""
    card: dict = field(default_factory=dict)

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        # One OpenMP thread: the batches are small (a county is a few hundred rows) and the trees' parallel
        # regions spin-wait; beside another busy process, or in the backtest's worker processes, the default
        # thread count was measured 30-40x slower (698 ms against 18 ms for 660 rows on 2 cores).
        with _threadpools().limit(limits=1, user_api="openmp"):
            return self.estimator.predict_proba(matrix)[:, 1]

    def contributions(self, matrix: np.ndarray) -> list[dict[str, float]]:
        return self.explain(matrix)[0]

    def explain(self, matrix: np.ndarray) -> tuple[list[dict[str, float]], np.ndarray]:
        """The contributions and the scores themselves (one model call for both). Per row, how much each
        feature group adds to the score: the score minus the score with that group's columns set to the
        training medians (an occlusion estimate, cheap and readable). All the occluded copies go through the
        model in one call: per-call overhead dominates at county size."""
        index = {c: i for i, c in enumerate(self.feature_columns)}
        groups = [(g, [index[c] for c in cols if c in index]) for g, cols in self.groups.items()]
        groups = [(g, cols) for g, cols in groups if cols]
        n = len(matrix)
        stacked = np.tile(matrix, (len(groups) + 1, 1))
        for k, (_, cols) in enumerate(groups, start=1):
            stacked[k * n:(k + 1) * n][:, cols] = self.reference[cols]
        scores = self.predict(stacked)
        base = scores[:n]
        out = [dict() for _ in range(n)]
        for k, (group, _) in enumerate(groups, start=1):
            delta = base - scores[k * n:(k + 1) * n]
            for row, value in zip(out, delta, strict=True):
                row[group] = float(value)
        return out, base






def save_model(model: RiskModel, folder: Path, card: dict) -> dict:
    folder.mkdir(parents=True, exist_ok=False)
    artifact = folder / "model.joblib"
    joblib.dump({"estimator": model.estimator, "feature_columns": list(model.feature_columns),
                 "groups": {k: list(v) for k, v in model.groups.items()}, "reference": model.reference}, artifact)
    full = {**card, "artifact": "model.joblib", "sha256": file_sha256(artifact), "versions": library_versions(),
            "features": list(model.feature_columns)}
    (folder / "card.yaml").write_text(yaml.safe_dump(full, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return full


def load_model(folder: Path) -> RiskModel:
    card_path = folder / "card.yaml"
    try:
        card = yaml.safe_load(card_path.read_text(encoding="utf-8"))
        artifact = folder / card["artifact"]
        expected, versions = card["sha256"], card["versions"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise RiskModelError(f"model card {card_path} is missing or malformed: {exc!r}") from None
    if file_sha256(artifact) != expected:
        raise RiskModelError(f"{artifact} does not match the sha256 in its card: refusing to load it")
    here = library_versions()
    for lib in ("scikit-learn", "numpy"):
        if versions.get(lib) != here[lib]:
            raise RiskModelError(f"{folder.name} was trained with {lib} {versions.get(lib)}, this is {here[lib]}: "
                                 "retrain it (cross-version loading is unsupported)")
    data = joblib.load(artifact)
    if list(data["feature_columns"]) != list(card["features"]):
        raise RiskModelError(f"{folder.name}: the artifact's features differ from its card's")
    return RiskModel(data["estimator"], tuple(data["feature_columns"]),
                     {k: tuple(v) for k, v in data["groups"].items()}, np.asarray(data["reference"]),
                     folder.name, card)


def latest_model_dir(models_dir: Path, prefix: str = "risk-") -> Path | None:
    found = sorted(p for p in models_dir.glob(f"{prefix}*") if (p / "card.yaml").exists())
    return found[-1] if found else None
