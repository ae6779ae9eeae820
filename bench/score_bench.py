"""Scoring benchmark: a 48-date weekly backtest of the scale-1.0 county, and scoring one project on demand.

    python bench/score_bench.py [--scale 1.0] [--seed 7] [--dates 48] [--workers 2] [--data DIR]

Goals (issue 6): the backtest's 48 weekly dates in under 60 s on a 2-core machine (the import not counted:
bench/import_bench.py measures it), and one project scored on demand in under 50 ms. Each figure is printed
beside a floor measured in the same run on the same database: for the backtest, one read of the county's
worker-month balances per date (the data every score needs, with no features, rules or model); for one
project, that project's balances alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dates", type=int, default=48)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, help="an already simulated county (else one is simulated)")
    args = parser.parse_args()

    from sqlmodel import func, select

    from earlywarn.backtest import write_scores
    from earlywarn.balances import worker_months
    from earlywarn.config import Settings
    from earlywarn.importer import import_paths
    from earlywarn.orgs import seed_org_tree
    from earlywarn.project_arrears import projects_to_score
    from earlywarn.rules import load_rules
    from earlywarn.scoring import load_risk_model, score_projects
    from earlywarn.services_common import open_session
    from earlywarn.simulation import simulate_county
    from earlywarn.tables import Attendance

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = args.data
        if folder is None:
            folder = work / "county"
            t = time.perf_counter()
            simulate_county(folder, seed=args.seed, scale=args.scale)
            print(f"simulated scale {args.scale} seed {args.seed} in {time.perf_counter() - t:.1f} s", flush=True)
        settings = Settings(database_url=f"sqlite:///{work / 'bench.db'}", data_dir=work, secret_key="bench")
        ruleset, model = load_rules(settings.rules_dir), load_risk_model(settings.model_dir)
        with open_session(settings) as session:
            seed_org_tree(session=session, path=settings.reference_file)
            t = time.perf_counter()
            results = import_paths(session=session, settings=settings, paths=[folder])
            assert all(r.status == "succeeded" for r in results), [(r.filename, r.message) for r in results]
            rows = sum(r.rows_imported for r in results)
            print(f"imported {rows:,} rows in {time.perf_counter() - t:.1f} s (not counted)", flush=True)
            end = session.exec(select(func.max(Attendance.work_date))).one()
            days = [end - timedelta(weeks=k) for k in range(args.dates)][::-1]

            t = time.perf_counter()
            for day in days:
                worker_months(session=session, as_of=day, pay_day=settings.pay_day,
                              project_ids=projects_to_score(session=session, as_of=day))
            floor = time.perf_counter() - t

            out = work / "bt.csv"
            t = time.perf_counter()
            n = write_scores(session=session, settings=settings, ruleset=ruleset, model=model, days=days, out=out,
                             workers=args.workers)
            elapsed = time.perf_counter() - t
            print(f"\nbacktest: {len(days)} weekly dates {days[0]}…{days[-1]}, {n:,} project-dates, "
                  f"{args.workers} worker process(es)")
            print(f"  {elapsed:.1f} s ({elapsed / len(days) * 1000:.0f} ms a date); goal < 60 s: "
                  f"{'met' if elapsed < 60 else 'NOT met'}")
            print(f"  floor (one balance read per date, one process): {floor:.1f} s; ratio {elapsed / floor:.2f}×")

            day = days[-1]
            ids = projects_to_score(session=session, as_of=day)

            def one_each() -> tuple[list[float], list[float]]:
                times, floors = [], []
                for pid in ids:
                    t = time.perf_counter()
                    score_projects(session=session, settings=settings, ruleset=ruleset, model=model, as_of=day,
                                   project_ids=[pid])
                    times.append((time.perf_counter() - t) * 1000)
                    t = time.perf_counter()
                    worker_months(session=session, as_of=day, pay_day=settings.pay_day, project_ids=[pid])
                    floors.append((time.perf_counter() - t) * 1000)
                return times, floors

            for pid in ids[:3]:  # warm the page cache and the model, not the arrears cache
                worker_months(session=session, as_of=day, pay_day=settings.pay_day, project_ids=[pid])
            cold, floors = one_each()
            # The web process scores the county every morning; a site page opened later that day finds the
            # county's arrears of the date already aggregated (risk_features._county_arrears).
            score_projects(session=session, settings=settings, ruleset=ruleset, model=model, as_of=day)
            warm, _ = one_each()
            floor = statistics.median(floors)
            for label, times in (("before the county run of the day", cold), ("after the county run (web)", warm)):
                med, p95 = statistics.median(times), sorted(times)[int(0.95 * (len(times) - 1))]
                print(f"\non-demand, {label}: one project as of {day}, {len(ids)} projects: median {med:.1f} ms, "
                      f"p95 {p95:.1f} ms, first {times[0]:.1f} ms; goal < 50 ms: {'met' if med < 50 else 'NOT met'};"
                      f" ratio to the floor {med / floor:.1f}×")
            print("  (the first project of a date aggregates the county's arrears once; later ones reuse them)")
            print(f"  floor (that project's balances alone): median {floor:.1f} ms")
    print(f"\nmachine: {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
