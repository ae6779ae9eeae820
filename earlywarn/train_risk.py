"""Train the risk scorer on the simulator's ground truth (python -m earlywarn.train_risk --out models/risk-…/).

For each seed a county is simulated, imported into a scratch SQLite database and scored weekly; a
(project, week) row is positive when a collective dispute starts on the project within the horizon after
that week. Projects already in a dispute (one in the horizon before the week) are left out: the scorer is
about onsets.

So as not to fit the simulator rather than the problem, the training seeds mix dispute-onset mechanism
families with functional forms drawn per seed (``simulate --mechanism --vary-forms``), and one family is
kept out of training altogether: the held-out seed runs it, so the card's headline figures measure a
mechanism the model never saw. The split is also temporal: training uses weeks before ``split``; the
held-out figures use weeks from ``split`` on (the temporal figures on the training counties use them too).
Calibration uses internal cross-validation. The card records data, seeds, families, features, held-out
metrics, thresholds chosen for the mediators' capacity, library versions and the artifact's sha256.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
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


def county_dataset(seed: int, scale: float, workdir: Path, *, every_days: int = 7, mechanism: str = "grievance",
                   vary_forms: bool = False, months: int = 18, start: date = date(2024, 7, 1)) -> Dataset:
    from earlywarn.importer import import_paths
    from earlywarn.orgs import seed_org_tree
    from earlywarn.services_common import open_session
    from earlywarn.simulation import simulate_county

    folder = workdir / f"seed{seed}-{mechanism}"
    summary = simulate_county(folder, seed=seed, scale=scale, mechanism=mechanism, vary_forms=vary_forms,
                              months=months, start=start)
    settings = Settings(database_url=f"sqlite:///{workdir / f'seed{seed}-{mechanism}.db'}", data_dir=workdir,
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


@dataclass(frozen=True)
class SeedSpec:
    seed: int
    mechanism: str

    @classmethod
    def parse(cls, text: str) -> SeedSpec:
        """``101`` or ``101:threshold``."""
        seed, _, mechanism = text.partition(":")
        return cls(int(seed), mechanism or "grievance")


def _before(ds: Dataset, split: date, *, before: bool) -> Dataset:
    keep = np.array([(w < split) == before for w in ds.weeks], dtype=bool)
    return Dataset(ds.x[keep], ds.y[keep], [w for w, k in zip(ds.weeks, keep, strict=True) if k],
                   [c for c, k in zip(ds.codes, keep, strict=True) if k])


def _metrics(p: np.ndarray, ds: Dataset, capacity: int) -> dict:
    return {
        "rows": int(len(ds.y)), "positives": int(ds.y.sum()),
        "average_precision": round(float(average_precision_score(ds.y, p)), 4) if ds.y.any() else None,
        "base_rate": round(float(ds.y.mean()), 4) if len(ds.y) else None,
        "brier": round(float(brier_score_loss(ds.y, p)), 4) if len(ds.y) else None,
        f"precision_top_{capacity}_per_week": round(precision_at_k(p, ds.y, ds.weeks, capacity), 4),
    }


def cached_dataset(cache: Path | None, key: str, build) -> Dataset:
    """A county's rows, read from ``cache`` when the same county was built before with today's feature list
    (simulating, importing and scoring a county takes minutes; the rows are a few hundred kilobytes)."""
    if cache is None:
        return build()
    digest = hashlib.sha256("|".join(FEATURE_COLUMNS).encode()).hexdigest()[:12]
    path = cache / f"{key}-{digest}.npz"
    if path.exists():
        data = np.load(path, allow_pickle=False)
        return Dataset(data["x"], data["y"], [date.fromordinal(int(d)) for d in data["weeks"]],
                       [str(c) for c in data["codes"]])
    ds = build()
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=ds.x, y=ds.y, weeks=np.array([w.toordinal() for w in ds.weeks]), codes=np.array(ds.codes))
    return ds


def train(*, seeds: list[SeedSpec], test: SeedSpec, scale: float, out: Path, capacity: int = 10,
          split: date = date(2024, 7, 1), months: int = 42, start: date = date(2022, 7, 1),
          cache: Path | None = None) -> dict:
    families = {s.mechanism for s in seeds}
    if test.mechanism in families:
        raise ValueError(f"the held-out family {test.mechanism} must not be among the training families {families}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        def make(seed: int, mechanism: str) -> Dataset:
            return cached_dataset(cache, f"seed{seed}-{mechanism}-s{scale}-m{months}-{start}", lambda: county_dataset(
                seed, scale, work, mechanism=mechanism, vary_forms=True, months=months, start=start))

        parts = [make(s.seed, s.mechanism) for s in seeds]
        held_out = make(test.seed, test.mechanism)
        same_family = make(test.seed, seeds[0].mechanism)
    early = [_before(p, split, before=True) for p in parts]
    x = np.vstack([p.x for p in early])
    y = np.concatenate([p.y for p in early])
    estimator = build_pipeline(FEATURE_COLUMNS, MONOTONE_INCREASING).fit(x, y)
    model = RiskModel(estimator, tuple(FEATURE_COLUMNS), {k: tuple(v) for k, v in FEATURE_GROUPS.items()},
                      np.nanmedian(x, axis=0))
    later_test = _before(held_out, split, before=False)
    p = model.predict(later_test.x)
    by_week: dict[date, list[float]] = defaultdict(list)
    for score, week in zip(p, later_test.weeks, strict=True):
        by_week[week].append(float(score))
    thresholds = thresholds_for_capacity(list(by_week.values()), capacity)
    later_train = [_before(q, split, before=False) for q in parts]
    temporal = Dataset(np.vstack([q.x for q in later_train]), np.concatenate([q.y for q in later_train]),
                       [w for q in later_train for w in q.weeks], [c for q in later_train for c in q.codes])
    later_same = _before(same_family, split, before=False)
    card = {
        "name": out.name, "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "task": "onset of a collective dispute on a project within 8 weeks of the scoring date",
        "data": {"source": "earlywarn.simulation", "scale": scale,
                 "training_seeds": [f"{s.seed}:{s.mechanism}" for s in seeds], "forms": "drawn per seed",
                 "held_out": f"{test.seed}:{test.mechanism}", "held_out_family": test.mechanism,
                 "start": start.isoformat(), "months": months, "temporal_split": split.isoformat(),
                 "rows": int(len(y)), "positives": int(y.sum()),
                 "every_days": 7, "horizon_days": HORIZON.days},
        "metrics_held_out_family": _metrics(p, later_test, capacity),
        "metrics_held_out_seed_trained_family": _metrics(model.predict(later_same.x), later_same, capacity),
        "metrics_temporal_training_seeds": _metrics(model.predict(temporal.x), temporal, capacity),
        "thresholds": thresholds, "capacity_per_week": capacity,
        "monotone_increasing": list(MONOTONE_INCREASING),
        "intended_use": "ranking building-site projects for mediators' visits; a probability, not a verdict",
        "limitations": "trained on simulated counties only; re-train on real outcomes (earlywarn train --from-db) "
                       "before relying on the probabilities",
    }
    return save_model(model, out, card)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="train the risk scorer on simulated counties")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", nargs="+", default=["101:grievance", "102:threshold", "103:grievance",
                                                        "105:threshold"], help="seed:mechanism")
    parser.add_argument("--test", default="104:trigger", help="held-out seed:mechanism (a family not trained on)")
    parser.add_argument("--split", default="2024-07-01", help="temporal split: train before, test from")
    parser.add_argument("--months", type=int, default=42, help="months simulated (three Spring Festivals)")
    parser.add_argument("--start", default="2022-07-01", help="first simulated day (the data must end before today)")
    parser.add_argument("--scale", type=float, default=0.6)
    parser.add_argument("--capacity", type=int, default=10)
    parser.add_argument("--cache", type=Path, help="keep each county's rows here and reuse them")
    args = parser.parse_args(argv)
    card = train(seeds=[SeedSpec.parse(s) for s in args.seeds], test=SeedSpec.parse(args.test), scale=args.scale,
                 out=args.out, capacity=args.capacity, split=date.fromisoformat(args.split), months=args.months,
                 start=date.fromisoformat(args.start), cache=args.cache)
    print({k: v for k, v in card.items() if k.startswith(("data", "metrics", "thresholds"))})


if __name__ == "__main__":
    main()
