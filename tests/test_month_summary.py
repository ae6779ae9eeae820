"""The worker-month summary (attendance_month with the payroll side) and the as-of read over it
(earlywarn.balances): the summary path agrees with summing the raw tables on every day around late payments,
mid-month and month ends; imports of every kind keep the summary in step; migration 0006 rebuilds it from
existing data; the columns and the WorkerMonth list are the same figures.

Runs on SQLite and PostgreSQL (conftest); the property at the end runs on one SQLite file.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from alembic import command
from hypothesis import given
from sqlmodel import Session, select

from earlywarn.balances import (
    month_columns,
    pay_day_of,
    refresh_month_summary,
    refresh_payroll_summary,
    worker_months,
)
from earlywarn.migrate import alembic_config, upgrade_database
from earlywarn.month_columns import MonthColumns, WorkerMonth
from earlywarn.tables import Attendance, AttendanceMonth, PayrollPayment, RosterEntry
from tests.test_balances import (
    COUNTY,
    PROPS,
    START,
    TEAM,
    WA,
    WB,
    WD,
    P,
    _insert,
    as_of_days,
    attendance_rows,
    days,
    import_county,
    pay,
    payment_rows,
    prop_db,  # noqa: F401 — the property's fixture
    reimport,
    worker_ids,
    worker_row,
)
from tests.test_importer import make_id

# Paid in cash, by a team leader and with no channel; in June paid on the 1st and 2nd while still at work: as of
# 06-01 both sides of June are summed from the raw tables, as of 06-02 only the days.
WF = make_id("33052319860606106")

RICH = {
    **COUNTY,
    "workers": [*COUNTY["workers"], worker_row(P, WF, "郑六", TEAM, "280")],
    "attendance": COUNTY["attendance"] + days(P, WF, date(2025, 4, 28), 6) + days(P, WF, date(2025, 5, 26), 10),
    "payroll": [*COUNTY["payroll"],
                pay(P, WF, "2025-04", "840", "300", "2025-05-10", "现金"),
                pay(P, WF, "2025-04", "840", "200", "2025-05-24", "班组长代领"),
                pay(P, WF, "2025-04", "840", "340", "2025-06-30", ""),
                pay(P, WF, "2025-05", "1680", "1000", "2025-05-31", "银行代发"),
                pay(P, WF, "2025-06", "1120", "100", "2025-06-01", "专用账户代发"),
                pay(P, WF, "2025-06", "1120", "100", "2025-06-02", "专用账户代发"),
                pay(P, WB, "2025-03", "200", "1.00", "2025-07-01", "现金")],
}


def raw_months(session, as_of: date, pay_day: int = 25) -> list[tuple]:
    """The worker-months as of ``as_of`` summed in Python from attendance, the roster and the payroll, without
    the summary: the reference the summary path must equal, figure for figure and in the same order."""
    wages = {(r.project_id, r.worker_id): r.daily_wage_fen for r in session.exec(select(RosterEntry))}
    x800: dict[tuple, int] = defaultdict(int)
    figures: dict[tuple, list] = defaultdict(lambda: [0] * 9 + [None, None])
    for a in session.exec(select(Attendance).where(Attendance.work_date <= as_of)):
        wage = wages.get((a.project_id, a.worker_id))
        if wage is None:
            continue
        key = (a.project_id, a.worker_id, a.work_date.strftime("%Y-%m"))
        f = figures[key]
        x800[key] += wage * a.hours_centi
        f[1] += 1
        f[9] = min(f[9] or a.work_date, a.work_date)
        f[10] = max(f[10] or a.work_date, a.work_date)
    for p in session.exec(select(PayrollPayment).where(PayrollPayment.pay_date <= as_of)):
        f = figures[(p.project_id, p.worker_id, p.period)]
        outside = p.channel != "special_account"
        f[2] += p.amount_paid_fen
        f[3] += 1
        f[4] += p.amount_paid_fen if p.channel == "cash" else 0
        f[5] += p.amount_paid_fen if p.channel == "team_leader" else 0
        f[6] += p.amount_paid_fen if outside else 0
        f[7] += outside
        f[8] += p.channel is None
    out = []
    for key in sorted(figures):
        f = figures[key]
        f[0] = int((Decimal(x800[key]) / 800).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        out.append((*key, *f, pay_day_of(key[2], pay_day), as_of))
    return out


def summary_months(session, as_of: date, pay_day: int = 25, **kw) -> list[tuple]:
    session.expire_all()
    return [dataclasses.astuple(wm) for wm in worker_months(session=session, as_of=as_of, pay_day=pay_day, **kw)]


def test_summary_path_equals_the_raw_tables_on_every_day(session, settings, tmp_path):
    import_county(session, settings, tmp_path / "county", **RICH)
    # Named days first: before any data, mid-month (the as-of month summed so far), month ends, the day of a
    # late payment and either side of it, payments while the month's days go on, the pay day and after the last data.
    named = [date(2025, 2, 28), date(2025, 3, 1), date(2025, 3, 10), date(2025, 3, 31), date(2025, 4, 10),
             date(2025, 4, 30), date(2025, 5, 1), date(2025, 5, 2), date(2025, 5, 3), date(2025, 5, 24),
             date(2025, 5, 31), date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 3), date(2025, 6, 4),
             date(2025, 6, 29), date(2025, 6, 30), date(2025, 7, 1), date(2025, 12, 31)]
    every_day = [date(2025, 2, 27) + timedelta(n) for n in range(130)]
    for as_of in named + every_day:
        expected = raw_months(session, as_of)
        assert summary_months(session, as_of) == expected, as_of
    assert summary_months(session, date(2025, 5, 20), pay_day=10) == raw_months(session, date(2025, 5, 20), 10)
    assert summary_months(session, date(2025, 5, 2)) != summary_months(session, date(2025, 5, 1))


def test_project_filter_reads_the_same_rows(session, settings, tmp_path):
    import_county(session, settings, tmp_path / "county", **RICH)
    pid = session.exec(select(AttendanceMonth.project_id)).first()
    for as_of in (date(2025, 5, 2), date(2025, 5, 28), date(2025, 7, 1)):
        assert summary_months(session, as_of, project_ids=[pid]) == raw_months(session, as_of)
        assert summary_months(session, as_of, project_ids=[pid + 1000]) == []


def test_imports_of_every_kind_keep_the_summary_in_step(session, settings, tmp_path):
    paths = import_county(session, settings, tmp_path / "county", **RICH)
    ids = worker_ids(session, settings, WA, WD, WF)
    rows = {(r.worker_id, r.period): r for r in session.exec(select(AttendanceMonth))}
    d = rows[(ids[WD], "2025-04")]  # payments only: a row without days
    assert (d.days, d.earned_x800, d.first_day, d.last_day, d.paid_fen, d.payments, d.last_pay_date,
            d.last_data_day) == (0, 0, None, None, 50000, 1, date(2025, 4, 30), date(2025, 4, 30))
    assert rows[(ids[WA], "2025-03")].last_data_day == date(2025, 5, 2)  # the late payment, after the last day
    f = rows[(ids[WF], "2025-04")]
    assert (f.paid_fen, f.payments, f.paid_cash_fen, f.paid_team_leader_fen, f.paid_outside_special_account_fen,
            f.payments_outside_special_account, f.payments_without_channel, f.last_pay_date) == (
        84000, 3, 30000, 20000, 84000, 3, 1, date(2025, 6, 30))
    june = rows[(ids[WF], "2025-06")]
    assert (june.days, june.last_day, june.paid_fen, june.last_pay_date, june.last_data_day) == (
        4, date(2025, 6, 4), 20000, date(2025, 6, 2), date(2025, 6, 4))
    # A payroll re-import alone (a channel corrected, a payment added) updates the payroll side.
    payroll = [row if row[1] != WF or row[4] != "300" else pay(P, WF, "2025-04", "840", "300", "2025-05-10")
               for row in RICH["payroll"]] + [pay(P, WA, "2025-03", "3,300.00", "1,800.00", "2025-08-01")]
    reimport(session, settings, paths["payroll"], "payroll", payroll)
    session.expire_all()
    f = session.exec(select(AttendanceMonth).where(AttendanceMonth.worker_id == ids[WF],
                                                   AttendanceMonth.period == "2025-04")).one()
    assert (f.paid_cash_fen, f.paid_outside_special_account_fen, f.payments_outside_special_account) == (0, 54000, 2)
    a = session.exec(select(AttendanceMonth).where(AttendanceMonth.worker_id == ids[WA])).one()
    assert (a.paid_fen, a.payments, a.last_pay_date, a.days) == (330000, 3, date(2025, 8, 1), 12)
    # Attendance and roster re-imports keep the payroll side they do not touch.
    more_days = RICH["attendance"] + days(P, WA, date(2025, 3, 17), 1)
    reimport(session, settings, paths["attendance"], "attendance", more_days)
    workers = [r if r[1] != WA else worker_row(P, WA, "陈一", TEAM, "320") for r in RICH["workers"]]
    reimport(session, settings, paths["workers"], "workers", workers)
    session.expire_all()
    a = session.exec(select(AttendanceMonth).where(AttendanceMonth.worker_id == ids[WA])).one()
    assert (a.paid_fen, a.payments, a.days, a.earned_x800) == (330000, 3, 13, 32000 * (11 * 800 + 2 * 400))
    for as_of in (date(2025, 3, 17), date(2025, 5, 2), date(2025, 7, 31), date(2025, 8, 1)):
        assert summary_months(session, as_of) == raw_months(session, as_of), as_of


def test_migration_0006_rebuilds_the_summary_from_existing_data(session, settings, tmp_path):
    import_county(session, settings, tmp_path / "county", **RICH)
    columns = [c for c in AttendanceMonth.__table__.c.keys() if c != "id"]

    def summary() -> set[tuple]:
        session.expire_all()
        return {tuple(getattr(r, c) for c in columns) for r in session.exec(select(AttendanceMonth))}

    before = summary()
    session.close()
    command.downgrade(alembic_config(settings), "0005")
    upgrade_database(settings)
    assert summary() == before
    assert summary_months(session, date(2025, 5, 24)) == raw_months(session, date(2025, 5, 24))


def test_columns_and_worker_months_hold_the_same_figures(session, settings, tmp_path):
    import_county(session, settings, tmp_path / "county", **RICH)
    as_of = date(2025, 5, 28)
    cols = month_columns(session=session, as_of=as_of)
    months = worker_months(session=session, as_of=as_of)
    assert all(isinstance(wm, WorkerMonth) for wm in months) and len(cols) == len(months)
    again = MonthColumns.from_months(months, as_of).as_list()
    assert again == months
    for i, wm in enumerate(months):
        assert (cols.owed_fen[i], bool(cols.overdue[i]), cols.overdue_days[i], bool(cols.pay_day_passed[i])) == (
            wm.owed_fen, wm.overdue, wm.overdue_days, wm.pay_day_passed)
    assert worker_months(session=session, as_of=date(2024, 1, 1)) == []
    assert len(month_columns(session=session, as_of=date(2024, 1, 1))) == 0


@PROPS
@given(attendance=attendance_rows, payments=payment_rows, as_of_day=as_of_days)
def test_property_summary_path_equals_the_raw_tables(prop_db, attendance, payments, as_of_day):  # noqa: F811
    engine, ids, _ = prop_db
    as_of = START + timedelta(as_of_day)
    with Session(engine) as session:
        try:
            _insert(session, ids, attendance, payments)
            for day in (as_of, as_of.replace(day=1), as_of + timedelta(days=1)):
                assert summary_months(session, day) == raw_months(session, day), day
        finally:
            session.rollback()


def test_payroll_refresh_equals_a_rebuild_when_payments_go(session, settings, tmp_path):
    """The payroll-only refresh (after payroll files) leaves the summary as a full rebuild would, also when
    payments disappear: a month of payments only goes, a month with attendance keeps its days."""
    import_county(session, settings, tmp_path / "county", **RICH)
    ids = worker_ids(session, settings, WD, WF)
    p = PayrollPayment
    gone = session.exec(select(p).where(p.worker_id.in_([ids[WD], ids[WF]]), p.period.in_(["2025-04", "2025-06"])))
    for payment in gone.all():
        session.delete(payment)
    session.flush()
    pid = session.exec(select(AttendanceMonth.project_id)).first()
    columns = [c for c in AttendanceMonth.__table__.c.keys() if c != "id"]

    def summary() -> set[tuple]:
        session.expire_all()
        return {tuple(getattr(r, c) for c in columns) for r in session.exec(select(AttendanceMonth))}

    refresh_payroll_summary(session=session, project_ids=[pid])
    refreshed = summary()
    refresh_month_summary(session=session, project_ids=[pid])
    assert summary() == refreshed
    keys = {(row[1], row[2]) for row in refreshed}
    assert (ids[WD], "2025-04") not in keys and (ids[WF], "2025-04") in keys
    for as_of in (date(2025, 5, 10), date(2025, 6, 1), date(2025, 7, 1)):
        assert summary_months(session, as_of) == raw_months(session, as_of), as_of
