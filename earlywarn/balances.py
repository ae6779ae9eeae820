"""Worker-month wage balances as of a date, computed in the database (service; read-only).

One set-based statement, the same on SQLite and PostgreSQL: attendance × roster gives what was earned per
worker-month (whole months from the ``attendance_month`` summary the importer keeps, the as-of month from
``attendance`` itself), the payroll what was paid by the as-of date; they are combined with
``UNION ALL`` + ``GROUP BY`` so months with only attendance or only payments appear too. Python then
walks the worker-months (tens of thousands), never the attendance rows (a million). Definitions follow
formats.md: earned = Σ daily_wage × hours / 8 over the month's attendance up to the as-of date; paid =
Σ amount_paid with pay_date up to the as-of date; a worker-month is overdue when its pay day (the
configured day of the following month) is before the as-of date and more than ￥1 of it is unpaid.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, Integer, String, and_, case, cast, delete, func, insert, literal, null, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlmodel import Session

from earlywarn.tables import Attendance, AttendanceMonth, PayrollPayment, RosterEntry

OVERDUE_TOLERANCE_FEN = 100  # "more than one yuan unpaid"


class year_month(FunctionElement):  # noqa: N801 — reads as SQL
    """'YYYY-MM' of a date column, portable across the two backends."""

    type = String()
    inherit_cache = True


@compiles(year_month, "sqlite")
def _ym_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(year_month, "postgresql")
def _ym_postgres(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


def pay_day_of(period: str, pay_day: int) -> date:
    """The pay day of a month's wages: ``pay_day`` of the following month (clamped to the month's end)."""
    year, month = int(period[:4]), int(period[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(year, month, min(pay_day, calendar.monthrange(year, month)[1]))


def _as_date(value) -> date | None:
    # Aggregates over a UNION lose the column type on SQLite, which hands back ISO text.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


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


def refresh_month_summary(*, session: Session, project_ids: set[int] | list[int]) -> None:
    """Rebuild ``attendance_month`` for these projects from attendance × roster (flush only: the caller's
    transaction — an import — commits it together with the data it summarises)."""
    ids = sorted(project_ids)
    if not ids:
        return
    a, r, m = Attendance, RosterEntry, AttendanceMonth
    session.execute(delete(m).where(m.project_id.in_(ids)))
    ym = year_month(a.work_date)
    source = (select(a.project_id, a.worker_id, ym, func.sum(r.daily_wage_fen * a.hours_centi), func.count(),
                     func.min(a.work_date), func.max(a.work_date))
              .join(r, and_(r.project_id == a.project_id, r.worker_id == a.worker_id))
              .where(a.project_id.in_(ids)).group_by(a.project_id, a.worker_id, ym))
    session.execute(insert(m).from_select(["project_id", "worker_id", "period", "earned_x800", "days", "first_day",
                                           "last_day"], source))


def worker_months(*, session: Session, as_of: date, pay_day: int = 25,
                  project_ids: list[int] | None = None) -> list[WorkerMonth]:
    """Every worker-month with attendance or a payment on or before ``as_of``.

    Whole months before the as-of date's month come from ``attendance_month``; that month itself is summed
    from ``attendance`` up to the as-of date, so the answer is exact for any date."""
    a, r, p, m = Attendance, RosterEntry, PayrollPayment, AttendanceMonth
    zero = literal(0, Integer)
    null_date = cast(null(), Date)
    current = as_of.strftime("%Y-%m")
    month_start = as_of.replace(day=1)
    rest = (zero.label("paid"), zero.label("payments"), zero.label("cash"), zero.label("leader"),
            zero.label("outside"), zero.label("outside_n"), zero.label("no_channel"))
    whole = (select(m.project_id.label("project_id"), m.worker_id.label("worker_id"), m.period.label("period"),
                    m.earned_x800.label("earned_x800"), m.days.label("days"), *rest,
                    m.first_day.label("first_day"), m.last_day.label("last_day"))
             .where(m.period < current))
    partial = (
        select(a.project_id, a.worker_id, literal(current, String), func.sum(r.daily_wage_fen * a.hours_centi),
               func.count(), *rest,
               func.min(a.work_date), func.max(a.work_date))
        .join(r, and_(r.project_id == a.project_id, r.worker_id == a.worker_id))
        .where(a.work_date >= month_start, a.work_date <= as_of)
        .group_by(a.project_id, a.worker_id)
    )

    def paid_via(*channels: str):
        return func.sum(case((p.channel.in_(channels), p.amount_paid_fen), else_=0))

    paid = (
        select(p.project_id, p.worker_id, p.period, zero, zero,
               func.sum(p.amount_paid_fen), func.count(), paid_via("cash"), paid_via("team_leader"),
               func.sum(case((p.channel == "special_account", 0), else_=p.amount_paid_fen)),
               func.sum(case((p.channel == "special_account", 0), else_=1)),
               func.sum(case((p.channel.is_(None), 1), else_=0)), null_date, null_date)
        .where(p.pay_date <= as_of)
        .group_by(p.project_id, p.worker_id, p.period)
    )
    if project_ids is not None:
        whole = whole.where(m.project_id.in_(project_ids))
        partial = partial.where(a.project_id.in_(project_ids))
        paid = paid.where(p.project_id.in_(project_ids))
    both = union_all(whole, partial, paid).subquery()
    q = (select(both.c.project_id, both.c.worker_id, both.c.period, func.sum(both.c.earned_x800),
                func.sum(both.c.days), func.sum(both.c.paid), func.sum(both.c.payments), func.sum(both.c.cash),
                func.sum(both.c.leader), func.sum(both.c.outside), func.sum(both.c.outside_n),
                func.sum(both.c.no_channel), func.min(both.c.first_day), func.max(both.c.last_day))
         .group_by(both.c.project_id, both.c.worker_id, both.c.period)
         .order_by(both.c.project_id, both.c.worker_id, both.c.period))
    pay_days: dict[str, date] = {}
    out = []
    rows = session.execute(q)
    for pid, wid, period, x800, days, paid_fen, n, cash, leader, outside, outside_n, no_channel, first, last in rows:
        pd = pay_days.get(period)
        if pd is None:
            pd = pay_days[period] = pay_day_of(period, pay_day)
        # Round half up once per month, after summing exact hundredths of hours.
        out.append(WorkerMonth(pid, wid, period, (int(x800) + 400) // 800, int(days), int(paid_fen), int(n),
                               int(cash), int(leader), int(outside), int(outside_n), int(no_channel),
                               _as_date(first), _as_date(last), pd, as_of))
    return out
