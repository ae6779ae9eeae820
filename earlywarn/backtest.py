"""Backtest (service): import a folder of input files into a scratch database and score it date by date.

Writes exactly the backtest output of formats.md (as_of, project_code, score, level, reasons) and, beside it,
``<out>.components.csv``: the same rows with what the evaluation's ablations need — the model's probability
and its own level, the wage check's level, and the naive baseline (the most days any worker's wage is
overdue). The formats.md file stays exactly as specified; the side file is for ``earlywarn evaluate``.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import select

from earlywarn.config import Settings
from earlywarn.tables import Project

BACKTEST_COLUMNS = ["as_of", "project_code", "score", "level", "reasons"]
COMPONENT_COLUMNS = ["as_of", "project_code", "model_score", "model_level", "check_level", "overdue_days"]


class BacktestError(RuntimeError):
    """The input folder could not be imported; the message names the files (in Chinese)."""


@dataclass
class BacktestResult:
    dates: int
    rows: int
    out: Path
    components: Path


def components_path(out: Path) -> Path:
    return out.with_name(out.stem + ".components.csv")


def scoring_dates(start: date, end: date, every_days: int) -> list[date]:
    days, day = [], start
    while day <= end:
        days.append(day)
        day += timedelta(days=every_days)
    return days


def run_backtest(*, settings: Settings, data_dir: Path, days: list[date], out: Path, console=None,
                 advance: Callable[[], None] | None = None, workers: int = 1) -> BacktestResult:
    """Import ``data_dir`` into a scratch SQLite database (never the live one) and score every date."""
    from earlywarn.importer import import_paths
    from earlywarn.orgs import seed_org_tree
    from earlywarn.rules import load_rules
    from earlywarn.scoring import load_risk_model
    from earlywarn.services_common import open_session

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Settings(**{**settings.model_dump(), "database_url": f"sqlite:///{tmp}/backtest.db",
                              "data_dir": Path(tmp)})
        ruleset, model = load_rules(scratch.rules_dir), load_risk_model(scratch.model_dir, scratch.risk_model)
        with open_session(scratch) as session:
            seed_org_tree(session=session, path=scratch.reference_file)
            failed = [r for r in import_paths(session=session, settings=scratch, paths=[data_dir], console=console)
                      if r.status == "failed"]
            if failed:
                raise BacktestError(f"导入失败：{'、'.join(r.filename for r in failed)}")
            n = write_scores(session=session, settings=scratch, ruleset=ruleset, model=model, days=days, out=out,
                             advance=advance, workers=workers)
    return BacktestResult(len(days), n, out, components_path(out))


def write_scores(*, session, settings: Settings, ruleset, model, days: list[date], out: Path,
                 advance: Callable[[], None] | None = None, workers: int = 1) -> int:
    """Score every date over the data already in the database and write both files; returns the row count.

    With ``workers`` > 1 (a SQLite file only) the dates are shared among that many processes, each reading the
    same database: scoring a date is independent of every other date, and a backtest is CPU-bound."""
    n = 0
    with out.open("w", encoding="utf-8", newline="") as fh, \
            components_path(out).open("w", encoding="utf-8", newline="") as side:
        main, extra = csv.writer(fh, lineterminator="\n"), csv.writer(side, lineterminator="\n")
        main.writerow(BACKTEST_COLUMNS)
        extra.writerow(COMPONENT_COLUMNS)
        for rows in _scored(session, settings, ruleset, model, days, workers):
            for a, b in rows:
                main.writerow(a)
                extra.writerow(b)
            n += len(rows)
            if advance:
                advance()
    return n


def _scored(session, settings: Settings, ruleset, model, days: list[date], workers: int):
    """Each date's rows, in date order."""
    if workers > 1 and len(days) > 1 and settings.database_url.startswith("sqlite:///"):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        session.commit()  # nothing pending: the workers read what is on disk
        # spawn, not fork: the parent holds threads and open SQLite handles that a fork would copy.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            yield from pool.map(_score_in_worker, [settings.model_dump()] * len(days), days)
        return
    codes = dict(session.exec(select(Project.id, Project.code)).all())
    for day in days:
        yield score_rows(session=session, settings=settings, ruleset=ruleset, model=model, day=day, codes=codes)


def _score_in_worker(settings: dict, day: date) -> list[tuple[list, list]]:
    from earlywarn.rules import cached_rules
    from earlywarn.scoring import load_risk_model
    from earlywarn.services_common import open_session

    s = Settings(**settings)
    with open_session(s, upgrade=False) as session:  # the parent imported into it: the schema is current
        codes = dict(session.exec(select(Project.id, Project.code)).all())
        return score_rows(session=session, settings=s, ruleset=cached_rules(s.rules_dir),
                          model=load_risk_model(s.model_dir, s.risk_model), day=day, codes=codes)


def score_rows(*, session, settings: Settings, ruleset, model, day: date, codes: dict[int, str]):
    """One date's rows of the backtest file and of the side file."""
    from earlywarn.scoring import reason_codes, score_projects

    out = []
    for s in score_projects(session=session, settings=settings, ruleset=ruleset, model=model, as_of=day):
        code, r = codes[s.project_id], s.reasons
        out.append(([day.isoformat(), code, f"{r['full_score']:.4f}", s.level or "none", ";".join(reason_codes(s))],
                    [day.isoformat(), code, f"{s.score:.4f}", r["model_level"] or "none", r["check_level"],
                     r["oldest_overdue_days"]]))
    return out
