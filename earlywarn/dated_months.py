"""Worker-months of a few projects, each as of several dates, in one table (service; read-only).

Corroborating a batch of reports asks for the wage check of each report's project as of the day the report came
in: hundreds of (project, date) checks of a few hundred worker-months each. One
:func:`earlywarn.balances.month_columns` per check read each project's settled months again for every date and
cost ~2 ms a check, most of it fixed costs. Here three statements serve every check: the projects' summary rows,
read once, from which each check takes its settled rows and the complete side of the others (numpy); the as-of
month's attendance up to each check's date, summed per worker; and the payments of the worker-months paid in
several instalments (a month paid at once has nothing paid before its one pay date). The checks travel as a
JSON parameter, expanded into rows by the database.

The rows of each check are those :func:`earlywarn.balances.month_columns` gives for its project and date, figure
for figure: the same summary rows kept whole or by side, and the same sums of what came before the date (tests
hold the two equal).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import numpy as np
from sqlalchemy import BigInteger, Date, Integer, String, and_, bindparam, cast, func, or_, select, text, true
from sqlmodel import Session

from earlywarn.balances import PAY_COLUMNS, _month_number, _payroll_sums, day_number
from earlywarn.month_columns import ROW_WIDTH, MonthColumns, int_table
from earlywarn.tables import Attendance, AttendanceMonth, PayrollPayment, RosterEntry

# The checks as rows (k, project_id, as_of, month_start, period), from a JSON list of objects.
_CHECKS_SQL = {
    "sqlite": "SELECT json_extract(value, '$.k') AS k, json_extract(value, '$.project_id') AS project_id, "
              "json_extract(value, '$.as_of') AS as_of, json_extract(value, '$.month_start') AS month_start, "
              "json_extract(value, '$.period') AS period FROM json_each(:checks)",
    "postgresql": "SELECT k, project_id, as_of, month_start, period FROM json_to_recordset(CAST(:checks AS json)) "
                  "AS c(k integer, project_id integer, as_of date, month_start date, period varchar)",
}
_FIRST, _LAST, _LAST_PAY = ROW_WIDTH - 2, ROW_WIDTH - 1, ROW_WIDTH  # day columns of a summary row
_PAY = slice(5, 5 + len(PAY_COLUMNS))  # the payroll side of a row
_NEVER = np.iinfo(np.int64).max


def _checks(dialect: str):
    checks = (text(_CHECKS_SQL[dialect])
              .columns(k=Integer(), project_id=Integer(), as_of=Date(), month_start=Date(), period=String())
              .cte("checks"))
    # Materialised where the database knows the word (SQLite from 3.35): SQLite would otherwise parse the JSON
    # again for every row joined to a check.
    materialised = dialect != "sqlite" or sqlite3.sqlite_version_info >= (3, 35)
    return checks.prefix_with("MATERIALIZED") if materialised else checks


def _span(checks):
    """Per project, its first and last date."""
    c = checks.c
    return (select(c.project_id, func.min(c.as_of).label("since"), func.max(c.as_of).label("until"))
            .group_by(c.project_id).subquery())


def _ordinal(day):
    return func.coalesce(day_number(day), 0)


@lru_cache(maxsize=4)
def _statements(dialect: str):
    """(summary, attendance so far, instalments): the three reads of :func:`dated_month_columns`."""
    a, r, p, m = (t.__table__.c for t in (Attendance, RosterEntry, PayrollPayment, AttendanceMonth))
    checks = _checks(dialect)
    c, span = checks.c, _span(checks)
    # The projects also as a list: PostgreSQL cannot tell how many rows the JSON holds, and would scan whole
    # tables for one check; with the list it reads a few projects through their index.
    projects = bindparam("project_ids", expanding=True)
    # Rows with a side complete by the project's last date: only those are settled, or kept by side, for a check.
    summary = (select(m.project_id, m.worker_id, _month_number(m.period), m.earned_x800, m.days,
                      *(m[col] for col in PAY_COLUMNS), _ordinal(m.first_day), _ordinal(m.last_day),
                      _ordinal(m.last_pay_date))
               .join(span, and_(span.c.project_id == m.project_id,
                                or_(m.last_day <= span.c.until, m.last_pay_date <= span.c.until)))
               .where(m.project_id.in_(projects)))
    # Each check's as-of month up to its date, per worker: hours summed first and priced once (one wage per
    # roster entry), then only the months with days after the date (the others are in the summary).
    sums = (a.worker_id, func.sum(a.hours_centi).label("hours"), func.count().label("days"),
            func.min(a.work_date).label("first_day"), func.max(a.work_date).label("last_day"))
    in_month = and_(a.project_id == c.project_id, a.work_date >= c.month_start, a.work_date <= c.as_of)
    if dialect == "postgresql":
        # Laterally, so that each check reads its index range (a hash join would scan all attendance), and
        # materialised, or the planner sums a check's month again for each of its workers.
        per_check = select(*sums).where(in_month).group_by(a.worker_id).lateral()
        so_far = (select(c.k, c.project_id, c.period, c.as_of, *per_check.c).join_from(checks, per_check, true())
                  .cte("so_far").prefix_with("MATERIALIZED"))
    else:
        # By check and worker alone: the fewer keys SQLite sorts 130,000 days by, the sooner.
        g = select(c.k, *sums).join_from(checks, Attendance.__table__, in_month).group_by(c.k, a.worker_id).subquery()
        so_far = select(c.k, c.project_id, c.period, c.as_of, *list(g.c)[1:]).join_from(g, checks, c.k == g.c.k)
        so_far = so_far.subquery()
    s = so_far.c
    attended = (select(s.k, s.worker_id, _month_number(m.period), r.daily_wage_fen * s.hours, s.days,
                       day_number(s.first_day), day_number(s.last_day))
                .join(RosterEntry.__table__, and_(r.project_id == s.project_id, r.worker_id == s.worker_id))
                .join(AttendanceMonth.__table__, and_(m.project_id == s.project_id, m.worker_id == s.worker_id,
                                                      m.period == s.period))
                .where(m.last_day > s.as_of))
    # Payments of months paid in instalments, per pay date, that some check falls among.
    instalments = (select(p.project_id, p.worker_id, _month_number(p.period), day_number(p.pay_date),
                          day_number(m.last_pay_date), *(cast(x, BigInteger) for x in _payroll_sums(p)))
                   .join(AttendanceMonth.__table__, and_(m.project_id == p.project_id, m.worker_id == p.worker_id,
                                                         m.period == p.period))
                   .join(span, span.c.project_id == p.project_id)
                   .where(m.project_id.in_(projects), m.payments > 1, m.last_pay_date > span.c.since,
                          p.pay_date <= span.c.until)
                   .group_by(p.project_id, p.worker_id, p.period, p.pay_date, m.last_pay_date))
    return summary, attended, instalments


def dated_month_columns(*, session: Session, dates: dict[int, Iterable[date]], pay_day: int = 25
                        ) -> tuple[MonthColumns, list[tuple[int, date]]]:
    """The worker-months of each project of ``dates`` as of each of its dates, stacked in one table, and the
    checks: check ``k`` is ``checks[k]`` = (project, date), and its rows have ``k`` for ``project_id`` and the
    date's ordinal for ``as_of_day``. A check without data by its date has no rows."""
    checks = sorted({(pid, day) for pid, days in dates.items() for day in days})
    summary_q, attended_q, instalments_q = _statements(session.get_bind().dialect.name)
    param = {"checks": json.dumps([{"k": k, "project_id": pid, "as_of": day.isoformat(),
                                    "month_start": day.replace(day=1).isoformat(), "period": day.strftime("%Y-%m")}
                                   for k, (pid, day) in enumerate(checks)]),
             "project_ids": sorted({pid for pid, _ in checks})}
    summary = _fetch(session, summary_q, param, ROW_WIDTH + 1)
    attended = _fetch(session, attended_q, param, 7)
    instalments = _fetch(session, instalments_q, param, 5 + len(PAY_COLUMNS))
    day_of = np.array([day.toordinal() for _, day in checks], dtype=np.int64)
    projects = np.array([pid for pid, _ in checks], dtype=np.int64)

    check, rows = _per_check(summary, projects)
    day, last, last_pay = day_of[check], summary[rows, _LAST], summary[rows, _LAST_PAY]
    days_done, pay_done = (last == 0) | (last <= day), (last_pay == 0) | (last_pay <= day)
    settled = _numbered(summary, rows[days_done & pay_done], check[days_done & pay_done])
    # A row with data after the date keeps its complete side, when it has one.
    one_side = ~(days_done & pay_done) & (((last != 0) & (last <= day)) | ((last_pay != 0) & (last_pay <= day)))
    kept = _numbered(summary, rows[one_side], check[one_side])
    kept[~days_done[one_side], 3:5] = 0
    kept[~days_done[one_side], _FIRST:] = 0
    kept[~pay_done[one_side], _PAY] = 0

    so_far = np.zeros((len(attended), ROW_WIDTH), dtype=np.int64)
    so_far[:, :5], so_far[:, _FIRST:] = attended[:, :5], attended[:, 5:]

    check, rows = _per_check(instalments, projects)
    day = day_of[check]
    before = (instalments[rows, 4] > day) & (instalments[rows, 3] <= day)  # a later last payment, this one before
    paid = np.zeros((int(before.sum()), ROW_WIDTH), dtype=np.int64)
    paid[:, :3], paid[:, _PAY] = instalments[rows[before], :3], instalments[rows[before], 5:]
    paid[:, 0] = check[before]

    table = np.concatenate([settled, _merge(np.concatenate([kept, so_far, paid]))])
    return MonthColumns.from_table(table, as_of=None, pay_day=pay_day, as_of_day=day_of[table[:, 0]]), checks


def _fetch(session: Session, statement, params: dict, width: int) -> np.ndarray:
    result = session.execute(statement, params)
    try:
        return int_table(result.cursor.fetchall(), width)  # plain integers: no SQLAlchemy rows needed
    finally:
        result.close()


def _per_check(table: np.ndarray, projects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every check, every row of its project (``table``'s first column): (check numbers, row positions),
    one run per check, in one pass without a loop over checks."""
    order = np.argsort(table[:, 0], kind="stable")
    keys = table[order, 0]
    starts = np.searchsorted(keys, projects, side="left")
    lengths = np.searchsorted(keys, projects, side="right") - starts
    check = np.repeat(np.arange(len(projects)), lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return check, order[np.repeat(starts, lengths) + offset]


def _numbered(summary: np.ndarray, rows: np.ndarray, check: np.ndarray) -> np.ndarray:
    """Summary rows (a copy) as rows of MonthColumns.from_table, numbered by check."""
    out = summary[rows, :ROW_WIDTH]
    out[:, 0] = check
    return out


def _merge(parts: np.ndarray) -> np.ndarray:
    """Rows of the same check, worker and month summed into one (first day the earliest, last day the latest,
    0 for none), as the statement of :func:`earlywarn.balances.month_columns` groups its parts."""
    if not len(parts):
        return parts
    parts = parts[np.lexsort((parts[:, 2], parts[:, 1], parts[:, 0]))]
    new = np.ones(len(parts), dtype=bool)
    new[1:] = np.any(parts[1:, :3] != parts[:-1, :3], axis=1)
    starts = np.flatnonzero(new)
    merged = np.add.reduceat(parts, starts, axis=0)
    merged[:, :3] = parts[starts, :3]
    first = np.minimum.reduceat(np.where(parts[:, _FIRST] == 0, _NEVER, parts[:, _FIRST]), starts)
    merged[:, _FIRST] = np.where(first == _NEVER, 0, first)
    merged[:, _LAST] = np.maximum.reduceat(parts[:, _LAST], starts)
    return merged
