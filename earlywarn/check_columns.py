"""The wage check's feature columns of a whole county (pure: numpy over worker-months and the roster).

:mod:`earlywarn.wagecheck` evaluates every rule once over all its subjects; this module builds the subjects'
features (:data:`earlywarn.check_features.FEATURES`) for the worker-months and the workers of the county as
numpy columns, straight from :class:`earlywarn.month_columns.MonthColumns`. A worker's months are one run of
rows (the columns are sorted by project, worker and month), so per-worker figures are ``reduceat`` over the
runs: no Python loop over worker-months.

A column is ``(values as floats, no-data flags)``, what :meth:`earlywarn.rules.Rule.evaluate_columns` takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from earlywarn.month_columns import MonthColumns, period_of
from earlywarn.rules import RuleSet, minimum_wage

PAID_DAYS_PER_MONTH = 21.75  # 劳社部发〔2008〕3号: 月计薪天数


class MinimumWage:
    """The monthly minimum wage in force on the first of the month: one figure per calendar month, whichever day
    of it is asked and in whatever order (checks at several dates share one, and must agree with each alone)."""

    def __init__(self, ruleset: RuleSet, tier: int):
        self.ruleset, self.tier, self.cache = ruleset, tier, {}

    def monthly_fen(self, on: date) -> int:
        key = (on.year, on.month)
        if key not in self.cache:
            self.cache[key] = minimum_wage(self.ruleset.minimum_wage, self.tier, on.replace(day=1))[0]
        return self.cache[key]


@dataclass(slots=True)
class RosterRow:
    daily_wage_fen: int
    exit_date: date | None
    name: str
    id_masked: str
    birth_date: date | None
    gender: str | None
    team: str


class WorkerRuns:
    """Each (project, worker)'s run of worker-months: where it starts, which run each row is in, and the roster
    entry of each run (None for a worker paid or attending without one).

    ``project_of``: the project of each value of ``months.project_id`` when that names a check rather than a
    project (checks at several dates stacked in one table)."""

    def __init__(self, months: MonthColumns, roster: dict[tuple[int, int], RosterRow],
                 project_of: dict[int, int] | None = None):
        new = np.ones(len(months), dtype=bool)
        new[1:] = (months.project_id[1:] != months.project_id[:-1]) | (months.worker_id[1:] != months.worker_id[:-1])
        self.starts = np.flatnonzero(new)
        self.of_row = np.cumsum(new) - 1
        self.project_id = months.project_id[self.starts]
        self.worker_id = months.worker_id[self.starts]
        projects = self.project_id.tolist()
        if project_of is not None:
            projects = [project_of[key] for key in projects]
        self.entries = [roster.get(k) for k in zip(projects, self.worker_id.tolist(), strict=True)]
        self.on_roster = np.array([e is not None for e in self.entries], dtype=bool)

    def __len__(self) -> int:
        return len(self.starts)

    def reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        """``ufunc`` over each run's rows (np.add: the sum, np.fmax: the largest ignoring NaN, …)."""
        return ufunc.reduceat(values, self.starts) if len(self) else values[:0]


def _distinct_months(months: MonthColumns) -> tuple[np.ndarray, list[int]]:
    """Each row's index into the distinct month numbers, and those numbers."""
    numbers, inverse = np.unique(months.month, return_inverse=True)
    return inverse.reshape(-1), numbers.tolist()


def worker_month_columns(months: MonthColumns, runs: WorkerRuns, minimum: MinimumWage,
                         owner: np.ndarray) -> tuple[dict, np.ndarray]:
    """The worker_month features of the whole county, and the project position of each row."""
    no = np.zeros(len(months), dtype=bool)
    wage = np.array([e.daily_wage_fen if e else 0 for e in runs.entries], dtype=float)[runs.of_row]
    exit_day = np.array([e.exit_date.toordinal() if e and e.exit_date else np.inf for e in runs.entries],
                        dtype=float)[runs.of_row]
    inverse, numbers = _distinct_months(months)
    firsts = [date(n // 12, n % 12 + 1, 1) for n in numbers]
    minimum_month = np.array([float(minimum.monthly_fen(d)) for d in firsts])[inverse]
    month_end = np.array([float(((d + timedelta(days=32)).replace(day=1) - timedelta(days=1)).toordinal())
                          for d in firsts])[inverse]
    earned, paid = months.earned_fen.astype(float), months.paid_fen.astype(float)
    days = months.attended_days.astype(float)
    passed, overdue = months.pay_day_passed, months.overdue

    def f(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return values.astype(float), no

    cols = {
        "earned_fen": (earned, no), "paid_fen": (paid, no), "owed_fen": f(months.owed_fen),
        "attended_days": (days, no), "pay_day_passed": f(passed), "overdue": f(overdue),
        "overdue_days": f(months.overdue_days), "paid_nothing": f(passed & (earned > 0) & (paid == 0)),
        "payments": f(months.payments), "paid_cash_fen": f(months.paid_cash_fen),
        "paid_team_leader_fen": f(months.paid_team_leader_fen),
        "paid_outside_special_account_fen": f(months.paid_outside_special_account_fen),
        "payments_without_channel": f(months.payments_without_channel),
        "daily_wage_fen": (wage, ~runs.on_roster[runs.of_row]),
        # Python's round() and numpy's rint both round half to even: the two forms agree to the fen.
        "min_wage_prorata_fen": (np.rint(minimum_month / PAID_DAYS_PER_MONTH * days), no),
        "exited_by_month_end": ((exit_day <= month_end).astype(float), no),
    }
    return cols, owner


@dataclass
class WorkerFigures:
    """Per run (every worker of every project): what the worker subject and the list of workers owed need."""

    owed_fen: np.ndarray
    overdue_months: np.ndarray
    oldest_overdue_days: np.ndarray


def worker_columns(months: MonthColumns, runs: WorkerRuns, minimum: MinimumWage,
                   owner: np.ndarray) -> tuple[dict, np.ndarray, WorkerFigures]:
    """The worker features of the workers on a roster (the others are no worker subject), their project
    positions, and the overdue figures of every run."""
    overdue = months.overdue
    figures = WorkerFigures(runs.reduce(np.add, np.where(overdue, months.owed_fen, 0)),
                            runs.reduce(np.add, overdue.astype(np.int64)), runs.reduce(np.maximum, months.overdue_days))
    keep = runs.on_roster
    entries = [e for e in runs.entries if e is not None]
    first = runs.reduce(np.fmin, months.first_day)[keep]
    last = runs.reduce(np.fmax, months.last_day)[keep]
    as_of = months.as_of_day[runs.starts][keep]
    exit_day = np.array([e.exit_date.toordinal() if e.exit_date is not None else np.inf for e in entries], dtype=float)
    exited = exit_day <= as_of
    owed = figures.owed_fen[keep]
    birth = [e.birth_date for e in entries]
    gender = [e.gender for e in entries]
    # Each last day's minimum, as the check asks it: the month of the last attendance, else the as-of date.
    last_days, last_inverse = np.unique(np.where(np.isnan(last), as_of, last), return_inverse=True)
    daily_minimum = np.array([float(round(minimum.monthly_fen(date.fromordinal(int(d))) / PAID_DAYS_PER_MONTH))
                              for d in last_days.tolist()])
    no = np.zeros(len(entries), dtype=bool)

    def f(values) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(values, dtype=float), no

    cols = {
        "age_at_first_day": _ages(birth, first), "age_at_last_day": _ages(birth, last),
        "is_female": (np.array([g == "F" for g in gender], dtype=float),
                      np.array([g is None for g in gender], dtype=bool)),
        "daily_wage_fen": f([e.daily_wage_fen for e in entries]),
        "daily_minimum_fen": (daily_minimum[last_inverse.reshape(-1)], no),
        "exited": f(exited), "owed_fen": f(owed), "overdue_months": f(figures.overdue_months[keep]),
        "oldest_overdue_days": f(figures.oldest_overdue_days[keep]),
        "owed_after_exit_fen": f(np.where(exited, owed, 0)),
        "paid_month_max_fen": f(runs.reduce(np.maximum, months.paid_fen)[keep]),
        "paid_year_max_fen": f(_paid_year_max(months, runs)[keep]),
    }
    return cols, owner[keep], figures


def _paid_year_max(months: MonthColumns, runs: WorkerRuns) -> np.ndarray:
    """Per run, the most paid in one calendar year (of the wage months)."""
    if not len(runs):
        return months.paid_fen[:0]
    year = months.month // 12
    new = np.ones(len(months), dtype=bool)
    new[1:] = (runs.of_row[1:] != runs.of_row[:-1]) | (year[1:] != year[:-1])
    year_starts = np.flatnonzero(new)
    totals = np.add.reduceat(months.paid_fen, year_starts)
    run_of_year = runs.of_row[year_starts]
    first_year_of_run = np.flatnonzero(np.r_[True, run_of_year[1:] != run_of_year[:-1]])
    return np.maximum.reduceat(totals, first_year_of_run)


def _ymd(ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    days = (np.nan_to_num(ordinals, nan=1.0).astype(np.int64) - date(1970, 1, 1).toordinal()).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    years = months.astype("datetime64[Y]")
    return (years.astype(np.int64) + 1970, (months - years).astype(np.int64) + 1,
            (days - months).astype(np.int64) + 1)


def _ages(birth: list[date | None], on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whole years of age on each day (NaN: no day), missing without a birth date or a day."""
    missing = np.array([b is None for b in birth], dtype=bool) | np.isnan(on)
    born = np.array([b.toordinal() if b else 1 for b in birth], dtype=float)
    by, bm, bd = _ymd(born)
    oy, om, od = _ymd(on)
    years = oy - by - ((om * 100 + od) < (bm * 100 + bd))
    return np.where(missing, 0.0, years.astype(float)), missing


def owed_months(months: MonthColumns, runs: WorkerRuns) -> dict[int, list[tuple[str, int, int]]]:
    """Per run with overdue months, their (period, owed fen, overdue days), oldest first: one pass over the
    overdue rows of the whole table."""
    rows = np.flatnonzero(months.overdue)
    numbers, inverse = np.unique(months.month[rows], return_inverse=True)
    periods = [period_of(m) for m in numbers.tolist()]
    out: dict[int, list[tuple[str, int, int]]] = {}
    for run, i, owed, late in zip(runs.of_row[rows].tolist(), inverse.reshape(-1).tolist(),
                                  months.owed_fen[rows].tolist(), months.overdue_days[rows].tolist(), strict=True):
        out.setdefault(run, []).append((periods[i], owed, late))
    return out
