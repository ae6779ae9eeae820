"""Train the risk scorer on the simulator's ground truth (python -m earlywarn.train_risk --out models/risk-…/).

For each seed a county is simulated, imported into a scratch SQLite database and scored weekly; a
(project, week) row is positive when a collective dispute starts on the project within the horizon after
that week. Projects already in a dispute (one in the horizon before the week) are left out: the scorer is
about onsets. Training seeds and a held-out seed never meet; within training, calibration uses internal
cross-validation. The card records data, seeds, features, held-out metrics, thresholds chosen for the
mediators' capacity, library versions and the artifact's sha256.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss

from earlywarn.config import Settings
from earlywarn.risk import RiskModel, build_pipeline, save_model, thresholds_for_capacity
from earlywarn.risk_features import (
    FEATURE_COLUMNS,
    FEATURE_GROUPS,
    MONOTONE_INCREASING,
    compute_features,
    feature_matrix,
)

HORIZON = timedelta(weeks=8)


@dataclass
class Dataset:
    x: np.ndarray
    y: np.ndarray
    weeks: list[date]
    codes: list[str]


def read_truth(path: Path) -> dict[str, list[date]]:
    out: dict[str, list[date]] = defaultdict(list)
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["project_code"]].append(date.fromisoformat(row["date"]))
    return out


def county_dataset(seed: int, scale: float, workdir: Path, *, every_days: int = 7) -> Dataset:
    from earlywarn.importer import import_paths
    from earlywarn.orgs import seed_org_tree
    from earlywarn.services_common import open_session
    from earlywarn.simulation import simulate_county

    folder = workdir / f"seed{seed}"
    summary = simulate_county(folder, seed=seed, scale=scale)
    settings = Settings(database_url=f"sqlite:///{workdir / f'seed{seed}.db'}", data_dir=workdir,
                        secret_key="training")
    truth = read_truth(folder / "truth" / "disputes.csv")
    xs, ys, weeks, codes = [], [], [], []
    with open_session(settings) as session:
        seed_org_tree(session=session, path=settings.reference_file)
        bad = [r for r in import_paths(session=session, settings=settings, paths=[folder]) if r.status != "succeeded"]
        if bad:
            raise RuntimeError(f"seed {seed}: import failed: {[(r.filename, r.message) for r in bad]}")
        day = summary.start + timedelta(days=90)
        while day + HORIZON <= summary.end:
            rows = compute_features(session=session, as_of=day)
            keep = []
            for row in rows:
                dates = truth.get(row.project_code, [])
                if any(day - HORIZON < d <= day for d in dates):
                    continue  # already in a dispute: not an onset
                keep.append(row)
                ys.append(int(any(day < d <= day + HORIZON for d in dates)))
                weeks.append(day)
                codes.append(row.project_code)
            if keep:
                xs.append(feature_matrix(keep))
            day += timedelta(days=every_days)
    return Dataset(np.vstack(xs), np.array(ys), weeks, codes)


def precision_at_k(scores: np.ndarray, labels: np.ndarray, weeks: list[date], k: int) -> float:
    by_week: dict[date, list[int]] = defaultdict(list)
    for i, w in enumerate(weeks):
        by_week[w].append(i)
    hits = []
    for idx in by_week.values():
        top = sorted(idx, key=lambda i: -scores[i])[:k]
        hits.append(labels[top].mean() if top else 0.0)
    return float(np.mean(hits))


def train(*, seeds: list[int], test_seed: int, scale: float, out: Path, capacity: int = 10) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        parts = [county_dataset(s, scale, work) for s in seeds]
        test = county_dataset(test_seed, scale, work)
    x = np.vstack([p.x for p in parts])
    y = np.concatenate([p.y for p in parts])
    estimator = build_pipeline(FEATURE_COLUMNS, MONOTONE_INCREASING).fit(x, y)
    model = RiskModel(estimator, tuple(FEATURE_COLUMNS), {k: tuple(v) for k, v in FEATURE_GROUPS.items()},
                      np.nanmedian(x, axis=0))
    p = model.predict(test.x)
    by_week: dict[date, list[float]] = defaultdict(list)
    for score, week in zip(p, test.weeks, strict=True):
        by_week[week].append(float(score))
    thresholds = thresholds_for_capacity(list(by_week.values()), capacity)
    card = {
        "name": out.name, "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "task": "onset of a collective dispute on a project within 8 weeks of the scoring date",
        "data": {"source": "earlywarn.simulation", "scale": scale, "training_seeds": seeds, "test_seed": test_seed,
                 "rows": int(len(y)), "positives": int(y.sum()), "test_rows": int(len(test.y)),
                 "test_positives": int(test.y.sum()), "every_days": 7, "horizon_days": HORIZON.days},
        "metrics_held_out_seed": {
            "average_precision": round(float(average_precision_score(test.y, p)), 4) if test.y.any() else None,
            "base_rate": round(float(test.y.mean()), 4),
            "brier": round(float(brier_score_loss(test.y, p)), 4),
            f"precision_top_{capacity}_per_week": round(precision_at_k(p, test.y, test.weeks, capacity), 4),
        },
        "thresholds": thresholds, "capacity_per_week": capacity,
        "monotone_increasing": list(MONOTONE_INCREASING),
        "intended_use": "ranking building-site projects for mediators' visits; a probability, not a verdict",
        "limitations": "trained on simulated counties only; re-train on real outcomes (closed cases, dismissed "
                       "warnings) before relying on the probabilities",
    }
    return save_model(model, out, card)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="train the risk scorer on simulated counties")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103])
    parser.add_argument("--test-seed", type=int, default=104)
    parser.add_argument("--scale", type=float, default=0.6)
    parser.add_argument("--capacity", type=int, default=10)
    args = parser.parse_args(argv)
    card = train(seeds=args.seeds, test_seed=args.test_seed, scale=args.scale, out=args.out, capacity=args.capacity)
    print({k: card[k] for k in ("data", "metrics_held_out_seed", "thresholds")})


if __name__ == "__main__":
    main()
