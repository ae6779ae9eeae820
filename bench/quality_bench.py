"""Quality benchmark: the full scorer against its ablations on counties the shipped model never saw (issue 6).

    python bench/quality_bench.py [--scale 0.6] [--months 24] [--capacity 5 10] [--workers 2]

Three simulated counties, one per mechanism family, on seeds never used in training (training used 101–103
and 105; see the model card): 201 ``grievance``, 302 ``threshold`` and 104 ``trigger`` — the family kept
out of training altogether. Each is backtested weekly from 2024-09-02 (`earlywarn backtest`: a scratch
database, the shipped model) and evaluated against its truth as `earlywarn evaluate` does, for the full
scorer (rule floors + model), model only, rules only (the wage check) and the naive baseline (most days
overdue). It prints average precision, AP on first disputes, the weekly top-K precision for each capacity
and the share of disputes warned two weeks ahead, then whether the full scorer beats every other scorer on
AP and top-K. Quality is a property of a scorer over counties, not a speed: this is a benchmark rather than
a test because a county large enough to tell the scorers apart takes minutes to simulate and score
(tests/test_quality.py asserts a small version).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COUNTIES = ((201, "grievance"), (302, "threshold"), (104, "trigger"))
START = date(2024, 9, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.6)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--capacity", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from earlywarn.backtest import run_backtest, scoring_dates
    from earlywarn.config import Settings
    from earlywarn.evaluation import attach_components, evaluate, read_backtest, read_truth
    from earlywarn.simulation import simulate_county
    verdicts = []
    for seed, mechanism in COUNTIES:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            t = time.perf_counter()
            summary = simulate_county(work / "county", seed=seed, scale=args.scale, mechanism=mechanism,
                                      vary_forms=True, months=args.months)
            settings = Settings(database_url=f"sqlite:///{work / 'bt.db'}", data_dir=work, secret_key="bench")
            out = work / "bt.csv"
            # up to the simulation's last day (rows whose horizon runs past it go unlabelled)
            run_backtest(settings=settings, data_dir=work / "county", out=out, workers=args.workers,
                         days=scoring_dates(START, summary.end, 7))
            rows = read_backtest(out)
            attach_components(rows, work / "bt.components.csv")
            truth = read_truth(work / "county" / "truth" / "disputes.csv")
            evaluations = {k: evaluate(rows, truth, capacity=k) for k in args.capacity}
        first = evaluations[args.capacity[0]]
        print(f"\nseed {seed} · {mechanism}{'（未参与训练的机制族）' if mechanism == 'trigger' else ''} · scale "
              f"{args.scale} · {first.rows:,} project-weeks, {first.positives} positive, base rate "
              f"{first.base_rate:.3f}, {first.disputes} disputes · {time.perf_counter() - t:.0f} s")
        print(f"  {'scorer':<7} {'AP':>6} {'AP-first':>9} " + " ".join(f"{'top-' + str(k):>7}" for k in args.capacity)
              + f" {'warned≥14d':>11}")
        for scorer in ("full", "model", "rules", "naive"):
            f = first.by_scorer()[scorer]
            tops = " ".join(f"{evaluations[k].by_scorer()[scorer].precision_top_k:>7.3f}" for k in args.capacity)
            print(f"  {scorer:<7} {f.average_precision:>6.3f} {f.average_precision_first:>9.3f} {tops} "
                  f"{f.warned_14d:>11.2f}")
        for other in ("model", "rules", "naive"):
            ap = first.by_scorer()["full"].average_precision > first.by_scorer()[other].average_precision
            top = all(evaluations[k].by_scorer()["full"].precision_top_k
                      >= evaluations[k].by_scorer()[other].precision_top_k for k in args.capacity)
            verdicts.append((seed, other, ap, top))
            print(f"  full vs {other}: AP {'better' if ap else 'NOT better'}; top-K "
                  f"{'at least as good at every K' if top else 'WORSE at some K'}")
    beaten = sum(ap and top for *_, ap, top in verdicts)
    print(f"\nfull scorer beats the other scorer on AP (and is no worse on top-K) in {beaten} of {len(verdicts)} "
          "county-scorer pairs")


if __name__ == "__main__":
    main()
