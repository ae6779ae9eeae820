"""Worker-months as values (pure: no database): one :class:`WorkerMonth`, or a county's as numpy columns.

:mod:`earlywarn.balances` reads them from the database; the wage check works on :class:`MonthColumns` (tens of
thousands of rows, one array per figure), other callers on a list of :class:`WorkerMonth`. Both forms hold the
same figures in the same order (project, worker, period) and convert into each other.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import chain, repeat

import numpy as np

OVERDUE_TOLERANCE_FEN = 100  # "more than one yuan unpaid"


def pay_day_of(period: str, pay_day: int) -> date:
    """The pay day of a month's wages: ``pay_day`` of the following month (clamped to the month's end)."""
    year, month = int(period[:4]), int(period[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, min(pay_day, calendar.monthrange(year, month)[1]))


def period_of(month: int) -> str:
    """'YYYY-MM' of a month number (year × 12 + month − 1)."""
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def month_of(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


@dataclass(slots=True)
class WorkerMonth:
    project_id: int
    worker_id: int
    period: str
    earned_fen: int
    attended_days: int
    paid_fen: int
    payments: int
    paid_cash_fen: int
    paid_team_leader_fen: int
    paid_outside_special_account_fen: int
    payments_outside_special_account: int
    payments_without_channel: int
    first_day: date | None
    last_day: date | None
    pay_day: date
    as_of: date

    @property
    def owed_fen(self) -> int:
        return max(0, self.earned_fen - self.paid_fen)

    @property
    def pay_day_passed(self) -> bool:
        return self.pay_day < self.as_of

    @property
    def overdue(self) -> bool:
        return self.pay_day_passed and self.owed_fen > OVERDUE_TOLERANCE_FEN

    @property
    def overdue_days(self) -> int:
        return (self.as_of - self.pay_day).days if self.overdue else 0


# The integer figures, in WorkerMonth's order after the key and period.
FIGURES = ("earned_fen", "attended_days", "paid_fen", "payments", "paid_cash_fen", "paid_team_leader_fen",
           "paid_outside_special_account_fen", "payments_outside_special_account", "payments_without_channel")
ROW_WIDTH = 5 + len(FIGURES)  # a row of MonthColumns.from_rows
_ARRAYS = ("project_id", "worker_id", "month", *FIGURES, "first_day", "last_day", "pay_day", "as_of_day")


class MonthColumns:
    """Worker-months as of a date, one numpy array per field, sorted by project, worker and month.

    ``month`` is year × 12 + month − 1; days are ordinals (``date.toordinal``), ``first_day`` and ``last_day``
    as floats with NaN for a month without attendance.

    Several checks at different dates can share one table (:mod:`earlywarn.dated_months`): ``project_id`` then
    names a check rather than a project, ``as_of`` is None and ``as_of_day`` holds each row's as-of day."""

    project_id: np.ndarray
    worker_id: np.ndarray
    month: np.ndarray
    earned_fen: np.ndarray
    attended_days: np.ndarray
    paid_fen: np.ndarray
    payments: np.ndarray
    paid_cash_fen: np.ndarray
    paid_team_leader_fen: np.ndarray
    paid_outside_special_account_fen: np.ndarray
    payments_outside_special_account: np.ndarray
    payments_without_channel: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    pay_day: np.ndarray
    as_of_day: np.ndarray

    def __init__(self, as_of: date | None, *, as_of_day: np.ndarray | None = None, **arrays: np.ndarray):
        self.as_of = as_of
        if as_of_day is None:
            as_of_day = np.full(len(arrays["month"]), as_of.toordinal(), dtype=np.int64)
        arrays["as_of_day"] = as_of_day
        order = np.lexsort((arrays["month"], arrays["worker_id"], arrays["project_id"]))
        in_order = np.array_equal(order, np.arange(len(order)))  # the summary's rows mostly are: no copies then
        for name in _ARRAYS:
            setattr(self, name, arrays[name] if in_order else arrays[name][order])

    def __len__(self) -> int:
        return len(self.project_id)

    @classmethod
    def from_rows(cls, rows: list[tuple], *, as_of: date, pay_day: int) -> MonthColumns:
        """From integer rows (project, worker, month, earned × 800, days, the payroll figures in FIGURES' order,
        first day, last day; 0 for no day), in any order."""
        return cls.from_table(int_table(rows, ROW_WIDTH), as_of=as_of, pay_day=pay_day)

    @classmethod
    def from_table(cls, table: np.ndarray, *, as_of: date | None, pay_day: int,
                   as_of_day: np.ndarray | None = None) -> MonthColumns:
        """From the rows of :meth:`from_rows` as one integer array of ROW_WIDTH columns."""
        table = np.ascontiguousarray(table.T)
        cols = dict(zip(("project_id", "worker_id", "month", *FIGURES, "first_day", "last_day"), table, strict=True))
        # Earned comes as × 800: round half up once per month, after summing exact hundredths of hours.
        cols["earned_fen"] = (cols["earned_fen"] + 400) // 800
        for name in ("first_day", "last_day"):
            cols[name] = np.where(cols[name] == 0, np.nan, cols[name])
        return cls(as_of, as_of_day=as_of_day, **cols, pay_day=_pay_days(cols["month"], pay_day))

    @classmethod
    def from_months(cls, months: list[WorkerMonth], as_of: date) -> MonthColumns:
        n = len(months)

        def col(values, dtype=np.int64) -> np.ndarray:
            return np.fromiter(values, dtype=dtype, count=n)

        return cls(as_of, project_id=col(wm.project_id for wm in months), worker_id=col(wm.worker_id for wm in months),
                   month=col(month_of(wm.period) for wm in months),
                   **{f: col(getattr(wm, f) for wm in months) for f in FIGURES},
                   first_day=col((wm.first_day.toordinal() if wm.first_day else np.nan for wm in months), float),
                   last_day=col((wm.last_day.toordinal() if wm.last_day else np.nan for wm in months), float),
                   pay_day=col(wm.pay_day.toordinal() for wm in months))

    def take(self, index: np.ndarray) -> MonthColumns:
        """The rows at ``index`` (a boolean mask or positions in order)."""
        return MonthColumns(self.as_of, **{name: getattr(self, name)[index] for name in _ARRAYS})

    def as_list(self) -> list[WorkerMonth]:
        n = len(self)
        months, inverse = np.unique(self.month, return_inverse=True)
        periods = np.array([period_of(m) for m in months.tolist()], dtype=object)[inverse.reshape(-1)].tolist()
        return list(map(WorkerMonth, self.project_id.tolist(), self.worker_id.tolist(), periods,
                        *(getattr(self, f).tolist() for f in FIGURES), _dates(self.first_day),
                        _dates(self.last_day), _dates(self.pay_day),
                        repeat(self.as_of, n) if self.as_of is not None else _dates(self.as_of_day)))

    @cached_property
    def owed_fen(self) -> np.ndarray:
        return np.maximum(self.earned_fen - self.paid_fen, 0)

    @cached_property
    def pay_day_passed(self) -> np.ndarray:
        return self.pay_day < self.as_of_day

    @cached_property
    def overdue(self) -> np.ndarray:
        return self.pay_day_passed & (self.owed_fen > OVERDUE_TOLERANCE_FEN)

    @cached_property
    def overdue_days(self) -> np.ndarray:
        return np.where(self.overdue, self.as_of_day - self.pay_day, 0)


def int_table(rows: list[tuple], width: int) -> np.ndarray:
    """Rows of ``width`` integers as one (rows × width) int64 array, in one pass."""
    return np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=len(rows) * width).reshape(-1, width)


def _dates(ordinals: np.ndarray) -> list[date | None]:
    """Ordinals as dates (NaN as None), one date object per distinct day."""
    days, inverse = np.unique(ordinals, return_inverse=True)
    found = np.array([None if d != d else date.fromordinal(int(d)) for d in days.tolist()], dtype=object)
    return found[inverse.reshape(-1)].tolist()


def _pay_days(month: np.ndarray, pay_day: int) -> np.ndarray:
    months, inverse = np.unique(month, return_inverse=True)
    due = np.array([pay_day_of(period_of(m), pay_day).toordinal() for m in months.tolist()], dtype=np.int64)
    return due[inverse].reshape(-1)
