"""Wage-check benchmark: ``earlywarn check`` over the scale-1.0 county on SQLite and PostgreSQL, against the
same aggregation written for DuckDB over the same CSV files (the floor).

    python bench/check_bench.py [--scale 1.0] [--seed 1] [--as-of 2025-12-31]

Goal (issue 4): under 5 s on SQLite on a 2-core machine, within 3× of DuckDB. The import that fills the
databases is not timed here (bench/import_bench.py measures it). The DuckDB query computes the same
per-project figures (workers owed, amount owed, oldest overdue days), and the benchmark checks they agree.
Each figure is the second of two calls (warm, like a running server); nothing is kept from the first call.

How the check gets there: the importer keeps a worker-month summary (attendance *and* payroll per worker-month,
with the last day that has data), so as of a date the settled worker-months are read as they are and only
those with data after the date are summed from the raw tables (balances.py); the rows come back through the
DB-API cursor straight into numpy columns, and every rule feature of the worker-months and the workers is
computed on those columns (check_columns.py), with no object per worker-month.

Measured on a 2-core machine shared with other work (47,306 worker-months, 875k attendance rows, 48k payments;
DuckDB's own figure moves with the load, so the ratio is the one to read):

    before: DuckDB 0.27 s; SQLite check 1.01 s (3.79×), aggregation 0.93 s; PostgreSQL 1.04 s (3.90×), 0.67 s
    after:  DuckDB 0.31 s; SQLite check 0.34 s (1.09×), aggregation 0.12 s; PostgreSQL 0.24 s (0.75×), 0.13 s
            (five runs: SQLite 0.57–1.47×, PostgreSQL 0.63–1.00×; the list of WorkerMonth objects 0.17–0.44 s)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DUCK_SQL = """
WITH roster AS (
  SELECT project_code, id_number, CAST(daily_wage AS DECIMAL(12,2)) AS wage
  FROM read_csv('{d}/workers.csv', all_varchar=true)
), att AS (
  SELECT a.project_code, a.id_number, strftime(CAST(a.date AS DATE), '%Y-%m') AS period,
         SUM(r.wage * 100 * CAST(a.hours AS DECIMAL(6,2)) * 100) AS x800
  FROM read_csv('{d}/attendance.csv', all_varchar=true) a
  JOIN roster r USING (project_code, id_number)
  WHERE CAST(a.date AS DATE) <= DATE '{as_of}'
  GROUP BY ALL
), pay AS (
  SELECT project_code, id_number, period, SUM(CAST(amount_paid AS DECIMAL(12,2)) * 100) AS paid
  FROM read_csv('{d}/payroll.csv', all_varchar=true)
  WHERE CAST(pay_date AS DATE) <= DATE '{as_of}'
  GROUP BY ALL
), wm AS (
  SELECT COALESCE(att.project_code, pay.project_code) AS project_code,
         COALESCE(att.id_number, pay.id_number) AS id_number,
         COALESCE(att.period, pay.period) AS period,
         CAST(FLOOR((COALESCE(att.x800, 0) + 400) / 800) AS BIGINT) AS earned, COALESCE(pay.paid, 0) AS paid
  FROM att FULL OUTER JOIN pay USING (project_code, id_number, period)
), due AS (
  SELECT *, (CAST(period || '-01' AS DATE) + INTERVAL 1 MONTH + INTERVAL 24 DAY) AS pay_day FROM wm
), overdue AS (
  SELECT *, GREATEST(0, earned - paid) AS owed FROM due
  WHERE pay_day < DATE '{as_of}' AND earned - paid > 100
)
SELECT p.project_code, COUNT(DISTINCT o.id_number) AS workers_owed, COALESCE(SUM(o.owed), 0) AS owed,
       COALESCE(MAX(DATE '{as_of}' - CAST(o.pay_day AS DATE)), 0) AS oldest
FROM (SELECT DISTINCT project_code FROM wm) p LEFT JOIN overdue o USING (project_code)
GROUP BY p.project_code ORDER BY p.project_code
"""


def duck_floor(folder: Path, as_of: date) -> tuple[float, dict]:
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    rows = con.execute(DUCK_SQL.format(d=folder, as_of=as_of.isoformat())).fetchall()
    return time.perf_counter() - start, {r[0]: (r[1], int(r[2]), int(r[3])) for r in rows}


def load(url: str, folder: Path, data_dir: Path):
    from earlywarn.config import Settings
    from earlywarn.importer import import_paths
    from earlywarn.orgs import seed_org_tree
    from earlywarn.services_common import open_session

    settings = Settings(database_url=url, data_dir=data_dir, secret_key="bench")
    with open_session(settings) as session:
        seed_org_tree(session=session, path=settings.reference_file)
        results = import_paths(session=session, settings=settings, paths=[folder])
        assert all(r.status == "succeeded" for r in results), [(r.filename, r.message) for r in results]
    return settings


def timed_check(settings, as_of: date) -> tuple[float, float, float, dict]:
    """(seconds for the whole check, for its balance aggregation alone, for the same balances as a list of
    WorkerMonth — what the scorer and the site pages read —, per-project figures)."""
    from earlywarn.balances import month_columns, worker_months
    from earlywarn.rules import load_rules
    from earlywarn.services_common import open_session
    from earlywarn.wagecheck import run_check

    ruleset = load_rules(settings.rules_dir)
    with open_session(settings) as session:
        start = time.perf_counter()
        month_columns(session=session, as_of=as_of)
        aggregation = time.perf_counter() - start
        start = time.perf_counter()
        worker_months(session=session, as_of=as_of)
        listed = time.perf_counter() - start
        start = time.perf_counter()
        results = run_check(session=session, ruleset=ruleset, as_of=as_of)
        elapsed = time.perf_counter() - start
    return elapsed, aggregation, listed, {pc.code: (pc.workers_owed, pc.amount_owed_fen, pc.oldest_overdue_days)
                                          for pc in results}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default="2025-12-31")
    parser.add_argument("--pg-url", default=os.environ.get("EARLYWARN_BENCH_PG_URL",
                                                          "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    as_of = date.fromisoformat(args.as_of)

    from earlywarn.simulation import simulate_county

    folder = ROOT / "bench" / "out" / f"county-seed{args.seed}-scale{args.scale}"
    if not (folder / "reports.csv").exists():
        simulate_county(folder, seed=args.seed, scale=args.scale)
    duck_s, duck = duck_floor(folder, as_of)
    duck_s = min(duck_s, duck_floor(folder, as_of)[0])  # the second run is warm, like ours
    print(f"DuckDB over the CSV files (floor): {duck_s:.2f} s, {len(duck)} projects")

    with tempfile.TemporaryDirectory() as tmp:
        settings = load(f"sqlite:///{tmp}/check.db", folder, Path(tmp))
        timed_check(settings, as_of)  # warm the page cache, as a running server would be
        sqlite_s, sqlite_agg, sqlite_list, ours = timed_check(settings, as_of)
    _report("SQLite", sqlite_s, sqlite_agg, sqlite_list, duck_s, ours, duck, goal=" (goal < 5 s)")

    from scratch_pg import scratch_postgres

    with scratch_postgres(args.pg_url, "ew_check_bench") as url:
        if url is None:
            return
        with tempfile.TemporaryDirectory() as tmp:
            settings = load(url, folder, Path(tmp))
            timed_check(settings, as_of)
            pg_s, pg_agg, pg_list, ours = timed_check(settings, as_of)
        _report("PostgreSQL", pg_s, pg_agg, pg_list, duck_s, ours, duck, goal="")


def _report(name: str, seconds: float, aggregation: float, listed: float, floor: float, ours: dict, duck: dict,
            goal: str) -> None:
    same = ours == duck
    print(f"{name}: earlywarn check {seconds:.2f} s{goal}; ratio to DuckDB {seconds / floor:.2f}× (goal ≤ 3×); "
          f"per-project figures {'agree' if same else 'DIFFER'} with DuckDB\n"
          f"  of which the balance aggregation (the same work as the DuckDB query) {aggregation:.2f} s "
          f"= {aggregation / floor:.2f}× DuckDB; the rest is 34 rules over every worker-month, worker and project\n"
          f"  (the same balances as WorkerMonth objects, for the scorer and the site pages: {listed:.2f} s)")
    if not same:
        diff = [(k, ours.get(k), duck.get(k)) for k in sorted(set(ours) | set(duck)) if ours.get(k) != duck.get(k)]
        print("  first differences:", diff[:5])


if __name__ == "__main__":
    main()
