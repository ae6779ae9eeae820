"""Which projects are scored on a date, and their overdue wages, county-wide (services over the balance tables).

The scorer's network features need every project's arrears as of the date; one aggregate serves the county,
and a cache keyed by the balance tables' state lets an on-demand score reuse the morning run's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import BigInteger, cast, distinct, exists, func, literal, select, union_all
from sqlmodel import Session

from earlywarn.balances import OVERDUE_TOLERANCE_FEN, pay_day_of
from earlywarn.tables import Attendance, AttendanceMonth, PayrollPayment, Project

SCORED_WINDOW_DAYS = 30  # formats.md: scored when it had attendance in the 30 days before the as-of date


@dataclass(slots=True)
class Arrears:
    """Overdue wages of one project as of a date (formats.md: pay day passed, more than ￥1 unpaid)."""

    workers: int = 0
    owed_fen: int = 0
    oldest_overdue_days: int = 0
    months: int = 0


def month_of_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def last_due_period(as_of: date, pay_day: int = 25) -> str:
    """The latest wage month whose pay day is before ``as_of``: it and every earlier month can be overdue."""
    previous = month_of_index(as_of.year * 12 + as_of.month - 2)
    return previous if pay_day_of(previous, pay_day) < as_of else month_of_index(as_of.year * 12 + as_of.month - 3)


def projects_to_score(*, session: Session, as_of: date, project_ids: list[int] | None = None) -> list[int]:
    """Projects with attendance in the 30 days up to ``as_of`` (both ends included), in project-code order."""
    a = Attendance
    # EXISTS per project is an index range on (project_id, work_date); a county-wide date filter would scan.
    active = exists().where(a.project_id == Project.id, a.work_date >= as_of - timedelta(days=SCORED_WINDOW_DAYS),
                            a.work_date <= as_of)
    q = select(Project.id).where(active).order_by(Project.code)
    if project_ids is not None:
        q = q.where(Project.id.in_(list(project_ids)))
    return list(session.execute(q).scalars())


def arrears_by_project(*, session: Session, as_of: date, pay_day: int = 25,
                       project_ids: list[int] | None = None) -> dict[int, Arrears]:
    """Overdue wages per project in one aggregate, without materialising worker-months in Python.

    The same figures as :func:`worker_months` (a test holds them equal): an overdue month is always a whole month
    before the as-of month, so the ``attendance_month`` summary alone gives what was earned."""
    last = last_due_period(as_of, pay_day)
    m, p = AttendanceMonth, PayrollPayment
    zero = literal(0, BigInteger)
    earned = select(m.project_id.label("project_id"), m.worker_id.label("worker_id"), m.period.label("period"),
                    m.earned_x800.label("x800"), zero.label("paid")).where(m.period <= last)
    paid = (select(p.project_id, p.worker_id, p.period, zero, p.amount_paid_fen)
            .where(p.period <= last, p.pay_date <= as_of))
    if project_ids is not None:
        earned = earned.where(m.project_id.in_(list(project_ids)))
        paid = paid.where(p.project_id.in_(list(project_ids)))
    u = union_all(earned, paid).subquery()
    # Round half up once per worker-month, exactly as balances does (x800 is never negative).
    # PostgreSQL sums bigints into numeric, whose division is exact: back to bigint so ``/`` truncates.
    owed = (cast(func.sum(u.c.x800) + 400, BigInteger) // 800 - func.sum(u.c.paid)).label("owed")
    wm = select(u.c.project_id, u.c.worker_id, u.c.period, owed).group_by(u.c.project_id, u.c.worker_id,
                                                                          u.c.period).subquery()
    q = (select(wm.c.project_id, func.count(distinct(wm.c.worker_id)), func.sum(wm.c.owed), func.min(wm.c.period),
                func.count(distinct(wm.c.period)))
         .where(wm.c.owed > OVERDUE_TOLERANCE_FEN).group_by(wm.c.project_id))
    return {pid: Arrears(int(n), int(fen), (as_of - pay_day_of(oldest, pay_day)).days, int(months))
            for pid, n, fen, oldest, months in session.execute(q)}


# County-wide arrears by (database, as-of date, pay day, state of the balance tables). The morning's county run
# fills it; a project scored on demand later that day reads its network (the same contractor's other projects)
# from it instead of re-aggregating their worker-months. The state is the newest id of both tables the arrears
# are computed from: the importer replaces a project's attendance_month rows (new ids) and adds payroll rows
# (new ids; an upsert in place changes only columns the arrears do not read). Two index look-ups, no scan.
_ARREARS: dict[tuple, dict[int, Arrears]] = {}
_ARREARS_KEEP = 8


def balance_state(session: Session) -> tuple:
    return (session.execute(select(func.max(AttendanceMonth.id))).scalar(),
            session.execute(select(func.max(PayrollPayment.id))).scalar())


def county_arrears(session: Session, as_of: date, pay_day: int, scope: list[int] | None,
                    state: tuple) -> dict[int, Arrears]:
    key = (str(session.get_bind().url), as_of, pay_day, state)
    found = _ARREARS.get(key)
    if found is not None:
        wanted = None if scope is None else set(scope)
        return found if wanted is None else {pid: a for pid, a in found.items() if pid in wanted}
    # Even for one project, aggregate the whole county once: a user opening one site page usually opens
    # several, and the county costs about three times one project's network, once per date and data state.
    county = arrears_by_project(session=session, as_of=as_of, pay_day=pay_day)
    while len(_ARREARS) >= _ARREARS_KEEP:
        _ARREARS.pop(next(iter(_ARREARS)))
    _ARREARS[key] = county
    return county_arrears(session, as_of, pay_day, scope, state)
