"""Import benchmark: the simulator's scale-1.0 county into SQLite and PostgreSQL, against a floor.

    python bench/import_bench.py [--scale 1.0] [--seed 1] [--repeat 3] [--pg-url postgresql+psycopg://postgres@127.0.0.1/postgres]

For each backend it prints rows per second, wall time, peak memory (RSS of a child process that does only
the import) and the ratio to a floor measured in the same run: a plain bulk insert of the same rows with no
validation — reading the CSV with the csv module, then sqlite3 ``executemany`` in one transaction or
PostgreSQL ``COPY``. Import and floors take turns, ``--repeat`` rounds of each, and the medians are compared
(a shared machine's speed drifts by tens of per cent within minutes). Goals (issue 3): within 2× of
the floor, under 30 s for SQLite, peak memory under 1 GB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FILES = ("projects", "subcontracts", "workers", "attendance", "payroll", "reports")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_import(url: str, folder: str, data_dir: str) -> None:
    """Runs in a fresh process so its peak RSS is the import's own."""
    from earlywarn.config import Settings
    from earlywarn.importer import import_file
    from earlywarn.orgs import seed_org_tree
    from earlywarn.services_common import open_session

    settings = Settings(database_url=url, data_dir=Path(data_dir), secret_key="bench")
    per_file, results = {}, []
    # What a web process loads in its lifespan and a worker on its first job, once: the report classifier
    # (scikit-learn) and the rules. Timed apart from the import; the floor pays no module loading either.
    t = time.perf_counter()
    from earlywarn.rules import cached_rules
    from earlywarn.understanding import load_analyser

    load_analyser(settings.model_dir, settings.rules_dir)
    cached_rules(settings.rules_dir)
    startup = time.perf_counter() - t
    with open_session(settings) as session:
        seed_org_tree(session=session, path=settings.reference_file)
        start = time.perf_counter()
        for name in FILES:  # dependency order, as import_paths would take them
            t = time.perf_counter()
            results.append(import_file(session=session, settings=settings, path=Path(folder) / f"{name}.csv"))
            per_file[name] = round(time.perf_counter() - t, 2)
        elapsed = time.perf_counter() - start
    bad = [(r.filename, r.status, r.message, [e.as_dict() for e in r.errors[:3]]) for r in results
           if r.status != "succeeded"]
    print(json.dumps({"seconds": elapsed, "startup": startup, "rows": sum(r.rows_total for r in results),
                      "per_file": per_file,
                      "imported": sum(r.rows_imported for r in results), "peak_mb": _peak_rss_mb(), "bad": bad}))


def _rows(folder: Path, name: str):
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, list(reader)


# The natural keys the import must keep unique (issue 3); the "keyed" floor pays for these indexes too.
KEYS = {"projects": ("project_code",), "subcontracts": ("project_code", "child"),
        "workers": ("project_code", "id_number"), "attendance": ("project_code", "date", "id_number"),
        "payroll": ("project_code", "id_number", "period", "pay_date", "amount_paid"), "reports": ("report_id",)}


def floor_sqlite(folder: Path, keyed: bool = False) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        total = 0.0
        for name in FILES:
            start = time.perf_counter()
            header, rows = _rows(folder, name)
            conn.execute(f"CREATE TABLE {name} ({', '.join(h + ' TEXT' for h in header)})")
            if keyed:
                conn.execute(f"CREATE UNIQUE INDEX uq_{name} ON {name} ({', '.join(KEYS[name])})")
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' for _ in header)})", rows)
            conn.execute("COMMIT")
            total += time.perf_counter() - start
        conn.close()
    return total


def floor_postgres(folder: Path, url: str, keyed: bool = False) -> float:
    import psycopg
    from scratch_pg import scratch_postgres

    total = 0.0
    with scratch_postgres(url, "ew_bench_floor") as scratch:
        with psycopg.connect(scratch.replace("postgresql+psycopg://", "postgresql://")) as conn:
            for name in FILES:
                start = time.perf_counter()
                header, rows = _rows(folder, name)
                conn.execute(f"CREATE TABLE {name} ({', '.join(h + ' TEXT' for h in header)})")
                if keyed:
                    conn.execute(f"CREATE UNIQUE INDEX uq_{name} ON {name} ({', '.join(KEYS[name])})")
                with conn.cursor() as cur, cur.copy(f"COPY {name} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                conn.commit()
                total += time.perf_counter() - start
    return total


def run_child(url: str, folder: Path) -> dict:
    with tempfile.TemporaryDirectory() as data_dir:
        out = subprocess.run([sys.executable, __file__, "--child", url, str(folder), data_dir],
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg-url", default=os.environ.get("EARLYWARN_BENCH_PG_URL",
                                                          "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--repeat", type=int, default=3, help="rounds of import and floors; medians are compared")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child_import(*args.child)
        return

    from earlywarn.simulation import simulate_county

    folder = ROOT / "bench" / "out" / f"county-seed{args.seed}-scale{args.scale}"
    if not (folder / "reports.csv").exists():
        print(f"simulating {folder.name} …", flush=True)
        simulate_county(folder, seed=args.seed, scale=args.scale)
    counts = {name: sum(1 for _ in (folder / f"{name}.csv").open(encoding="utf-8")) - 1 for name in FILES}
    print("rows:", ", ".join(f"{k} {v:,}" for k, v in counts.items()))

    # Shared machines drift by tens of per cent from minute to minute: each measurement is repeated, import and
    # floors taking turns, and the medians are compared (with the range of the per-round ratios).
    rounds = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            result = run_child(f"sqlite:///{tmp}/bench.db", folder)
        rounds.append((result, floor_sqlite(folder), floor_sqlite(folder, keyed=True)))
    _report("SQLite", rounds, "CSV read + sqlite3 executemany, one transaction")

    from scratch_pg import scratch_postgres

    rounds = []
    for _ in range(args.repeat):
        with scratch_postgres(args.pg_url, "ew_bench") as url:
            if url is None:
                return
            result = run_child(url, folder)
        rounds.append((result, floor_postgres(folder, args.pg_url), floor_postgres(folder, args.pg_url, keyed=True)))
    _report("PostgreSQL", rounds, "CSV read + COPY")


def _report(name: str, rounds: list[tuple[dict, float, float]], floor_what: str) -> None:
    results = [r for r, _, _ in rounds]
    for result in results:
        if result["bad"]:
            print(f"{name}: files not imported cleanly: {result['bad']}")
    seconds = median(r["seconds"] for r in results)
    floor, keyed = median(f for _, f, _ in rounds), median(k for _, _, k in rounds)
    ratios = [r["seconds"] / f for r, f, _ in rounds]
    keyed_ratios = [r["seconds"] / k for r, _, k in rounds]
    rows = results[0]["rows"]
    per_file = {k: round(median(r["per_file"][k] for r in results), 2) for k in results[0]["per_file"]}

    def spread(values: list[float]) -> str:
        return f"rounds {min(values):.2f}–{max(values):.2f}×" if len(values) > 1 else "one round"

    print(f"{name} (median of {len(rounds)}): {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s; "
          f"peak RSS {max(r['peak_mb'] for r in results):.0f} MB "
          f"(goal < 1024 MB{'; < 30 s' if name == 'SQLite' else ''})\n"
          f"  floor ({floor_what}, plain tables) {floor:.1f} s → ratio {seconds / floor:.2f}× "
          f"({spread(ratios)}; goal ≤ 2×)\n"
          f"  floor with the natural-key unique indexes an idempotent import needs {keyed:.1f} s "
          f"→ ratio {seconds / keyed:.2f}× ({spread(keyed_ratios)})\n"
          f"  per file (s): {per_file} — reports include classifying, linking and corroborating each one\n"
          f"  not counted: loading the classifier and rules once, as a web process does at start-up, "
          f"{median(r['startup'] for r in results):.1f} s")


if __name__ == "__main__":
    main()
