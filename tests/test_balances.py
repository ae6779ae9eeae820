"""Worker-month balances (earlywarn.balances): hand-computed figures of a tiny county imported through the
importer, the summary / partial-month split, the pay day, and hypothesis properties (owed = earned − paid,
a payment never raises what is owed, data after the as-of date changes nothing, earned computed independently).
tests/test_month_summary.py holds the summary path equal to summing the raw tables.

The hand-built tests run on SQLite and PostgreSQL (conftest); the properties run on one SQLite file.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from earlywarn.balances import OVERDUE_TOLERANCE_FEN, pay_day_of, refresh_month_summary, worker_months
from earlywarn.config import ROOT
from earlywarn.db import make_engine
from earlywarn.importer import import_paths
from earlywarn.migrate import upgrade_database
from earlywarn.privacy import Vault
from earlywarn.rules import load_rules
from earlywarn.tables import (
    Attendance,
    AttendanceMonth,
    Company,
    PayrollPayment,
    Project,
    RosterEntry,
    Worker,
)
from earlywarn.wagecheck import run_check
from tests.conftest import _base_settings
from tests.test_importer import en, make_id, write_csv

# ------------------------------------------------------------------------------------------ shared helpers
# (also used by test_wagecheck.py and test_site_pages.py)

KIND_FILES = ("projects", "subcontracts", "workers", "attendance", "payroll")


def project_row(code: str, name: str, township: str, contractor: str, *, wage_account: str = "是",
                deposit: str = "50,000.00", contract: str = "1,000,000.00", notice_board: str = "是",
                start: str = "2025-01-01") -> list[str]:
    return [code, name, township, contractor, "", "", start, "", contract, wage_account, deposit, notice_board]


def worker_row(project: str, idn: str, name: str, team: str, wage: str, entry: str = "2025-01-01",
               exit_: str = "") -> list[str]:
    return [project, idn, name, team, "木工", wage, entry, exit_, ""]


def days(project: str, idn: str, first: date, n: int, hours: str = "8") -> list[list[str]]:
    return [[project, idn, (first + timedelta(days=i)).isoformat(), hours] for i in range(n)]


def pay(project: str, idn: str, period: str, due: str, paid: str, when: str, channel: str = "专用账户代发"):
    return [project, idn, period, due, paid, when, channel]


def import_county(session, settings, folder: Path, **kinds: list[list]) -> dict[str, Path]:
    """Write the given kinds as CSV files into ``folder`` and import them (in dependency order); every file
    must import completely."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: write_csv(folder / f"{kind}.csv", en(kind), rows) for kind, rows in kinds.items() if rows}
    results = import_paths(session=session, settings=settings, paths=list(paths.values()))
    for r in results:
        assert (r.status, r.error_count, r.rows_rejected) == ("succeeded", 0, 0), (r.filename, r.message,
                                                                                   r.errors[:5])
    return paths


def reimport(session, settings, path: Path, kind: str, rows: list[list]) -> None:
    write_csv(path, en(kind), rows)
    [r] = import_paths(session=session, settings=settings, paths=[path])
    assert (r.status, r.error_count) == ("succeeded", 0), (r.message, r.errors[:5])


def worker_ids(session, settings, *id_numbers: str) -> dict[str, int]:
    vault = Vault(settings)
    session.expire_all()
    by_hash = dict(session.exec(select(Worker.id_hash, Worker.id)).all())
    return {idn: by_hash[vault.blind_index(idn)] for idn in id_numbers}


def project_ids(session) -> dict[str, int]:
    return dict(session.exec(select(Project.code, Project.id)).all())


def months_of(session, as_of: date, **kw) -> dict[tuple[int, int, str], object]:
    session.expire_all()
    return {(wm.project_id, wm.worker_id, wm.period): wm for wm in worker_months(session=session, as_of=as_of, **kw)}


# ------------------------------------------------------------------------------------------ the tiny county

GC = "浙江安吉建工集团有限公司"
TEAM = "张三木工班组"
P = "AJ-B-001"
WA = make_id("33052319800101101")  # ￥300/day: 8 h × 10 days + 4 h × 2 days in March = ￥3,300.00
WB = make_id("33052319810202102")  # ￥200, one day; paid ￥199.00: exactly ￥1 unpaid
WC = make_id("33052319820303103")  # ￥200, one day; paid ￥198.99: ￥1.01 unpaid
WD = make_id("33052319830404104")  # payroll for April, no attendance at all
WE = make_id("33052319840505105")  # ￥300, 8 h every day 03-01 … 03-20 (the partial-month worker)

ATT_WA = days(P, WA, date(2025, 3, 3), 10) + days(P, WA, date(2025, 3, 13), 2, "4")
COUNTY = {
    "projects": [project_row(P, "递铺街道安置房一期", "递铺街道", GC)],
    "subcontracts": [[P, GC, "", TEAM, "", "班组"]],
    "workers": [worker_row(P, WA, "陈一", TEAM, "300"), worker_row(P, WB, "林二", TEAM, "200"),
                worker_row(P, WC, "黄三", TEAM, "200.00"), worker_row(P, WD, "周四", TEAM, "250"),
                worker_row(P, WE, "吴五", TEAM, "￥300.00")],
    "attendance": ATT_WA + days(P, WB, date(2025, 3, 3), 1) + days(P, WC, date(2025, 3, 3), 1)
    + days(P, WE, date(2025, 3, 1), 20),
    "payroll": [pay(P, WA, "2025-03", "3,300.00", "1,000.00", "2025-04-10"),
                pay(P, WA, "2025-03", "3,300.00", "500.00", "2025-05-02", "银行代发"),
                pay(P, WB, "2025-03", "200", "199.00", "2025-04-10"),
                pay(P, WC, "2025-03", "200", "198.99", "2025-04-10"),
                pay(P, WD, "2025-04", "500", "500", "2025-04-30")],
}


@pytest.fixture
def county(session, settings, tmp_path):
    paths = import_county(session, settings, tmp_path / "county", **COUNTY)
    ids = worker_ids(session, settings, WA, WB, WC, WD, WE)
    pid = project_ids(session)[P]
    return paths, pid, ids


def test_earned_paid_owed_and_overdue_at_several_dates(session, county):
    _, pid, ids = county
    key = (pid, ids[WA], "2025-03")

    before = months_of(session, date(2025, 4, 24))[key]
    assert (before.earned_fen, before.attended_days, before.paid_fen, before.payments) == (330000, 12, 100000, 1)
    assert (before.owed_fen, before.pay_day, before.pay_day_passed, before.overdue, before.overdue_days) == (
        230000, date(2025, 4, 25), False, False, 0)
    assert (before.first_day, before.last_day) == (date(2025, 3, 3), date(2025, 3, 14))

    on_pay_day = months_of(session, date(2025, 4, 25))[key]  # "before the as-of date": the day itself is not late
    assert (on_pay_day.pay_day_passed, on_pay_day.overdue, on_pay_day.overdue_days) == (False, False, 0)

    day_after = months_of(session, date(2025, 4, 26))[key]
    assert (day_after.paid_fen, day_after.owed_fen, day_after.overdue, day_after.overdue_days) == (
        100000, 230000, True, 1)

    later = months_of(session, date(2025, 5, 3))[key]
    assert (later.earned_fen, later.paid_fen, later.payments, later.owed_fen, later.overdue_days) == (
        330000, 150000, 2, 180000, 8)
    assert (later.paid_outside_special_account_fen, later.payments_outside_special_account) == (50000, 1)

    # Before any attendance: nothing at all; mid-March: only the days so far.
    assert months_of(session, date(2025, 3, 2)).get(key) is None
    assert months_of(session, date(2025, 3, 7))[key].earned_fen == 5 * 30000


def test_one_yuan_tolerance(session, county):
    _, pid, ids = county
    months = months_of(session, date(2025, 5, 3))
    b, c = months[(pid, ids[WB], "2025-03")], months[(pid, ids[WC], "2025-03")]
    assert (b.earned_fen, b.paid_fen, b.owed_fen, b.overdue, b.overdue_days) == (20000, 19900, 100, False, 0)
    assert b.owed_fen == OVERDUE_TOLERANCE_FEN
    assert (c.earned_fen, c.paid_fen, c.owed_fen, c.overdue, c.overdue_days) == (20000, 19899, 101, True, 8)


def test_month_with_payroll_but_no_attendance_appears(session, county):
    _, pid, ids = county
    months = months_of(session, date(2025, 6, 1))
    d = months[(pid, ids[WD], "2025-04")]
    assert (d.earned_fen, d.attended_days, d.paid_fen, d.payments, d.owed_fen, d.overdue) == (
        0, 0, 50000, 1, 0, False)
    assert (d.first_day, d.last_day, d.pay_day) == (None, None, date(2025, 5, 25))
    assert not any(k[1] == ids[WD] and k[2] != "2025-04" for k in months)
    # Not yet paid as of the day before the payment: the month does not exist yet.
    assert (pid, ids[WD], "2025-04") not in months_of(session, date(2025, 4, 29))


def test_configured_pay_day(session, county):
    _, pid, ids = county
    key = (pid, ids[WA], "2025-03")
    on = months_of(session, date(2025, 4, 15), pay_day=15)[key]
    assert (on.pay_day, on.overdue) == (date(2025, 4, 15), False)
    after = months_of(session, date(2025, 4, 16), pay_day=15)[key]
    assert (after.pay_day, after.overdue, after.overdue_days, after.owed_fen) == (date(2025, 4, 15), True, 1, 230000)
    # The default (25th) on the same date: not yet due.
    assert months_of(session, date(2025, 4, 16))[key].overdue is False


def test_partial_as_of_month_counts_only_days_up_to_the_as_of_date(session, county):
    _, pid, ids = county
    key = (pid, ids[WE], "2025-03")
    # The summary holds the whole month …
    (summary,) = session.exec(select(AttendanceMonth).where(AttendanceMonth.worker_id == ids[WE])).all()
    assert (summary.period, summary.earned_x800, summary.days, summary.first_day, summary.last_day) == (
        "2025-03", 20 * 30000 * 800, 20, date(2025, 3, 1), date(2025, 3, 20))
    # … but as of 03-10 only ten days count (summed from attendance: the month has later days).
    mid = months_of(session, date(2025, 3, 10))[key]
    assert (mid.earned_fen, mid.attended_days, mid.first_day, mid.last_day) == (300000, 10, date(2025, 3, 1),
                                                                              date(2025, 3, 10))
    end = months_of(session, date(2025, 3, 31))[key]  # the as-of month, complete: the summary row as it is
    nxt = months_of(session, date(2025, 4, 1))[key]  # a whole earlier month: the summary row as it is
    assert (end.earned_fen, end.attended_days) == (nxt.earned_fen, nxt.attended_days) == (600000, 20)
    assert (end.first_day, end.last_day) == (nxt.first_day, nxt.last_day) == (date(2025, 3, 1), date(2025, 3, 20))
    # The first day of the month, and the day before the first attendance.
    assert months_of(session, date(2025, 3, 1))[key].earned_fen == 30000
    assert key not in months_of(session, date(2025, 2, 28))


def test_project_filter(session, county):
    _, pid, _ = county
    assert months_of(session, date(2025, 5, 3), project_ids=[pid + 1000]) == {}
    assert months_of(session, date(2025, 5, 3), project_ids=[pid]) == months_of(session, date(2025, 5, 3))


def test_reimport_with_changed_hours_and_wage_updates_the_summary(session, settings, county):
    paths, pid, ids = county
    key = (pid, ids[WA], "2025-03")
    # 03-13 and 03-14 become full days: 12 × 300.
    changed = days(P, WA, date(2025, 3, 3), 12) + days(P, WB, date(2025, 3, 3), 1)
    reimport(session, settings, paths["attendance"], "attendance", changed)
    session.expire_all()
    row = session.exec(select(AttendanceMonth).where(AttendanceMonth.worker_id == ids[WA])).one()
    assert (row.earned_x800, row.days) == (12 * 30000 * 800, 12)
    assert months_of(session, date(2025, 5, 3))[key].earned_fen == 360000
    assert months_of(session, date(2025, 5, 3))[key].owed_fen == 210000
    # A new daily wage on the roster re-prices the month too (summary and partial month alike).
    workers = [r if r[1] != WA else worker_row(P, WA, "陈一", TEAM, "320") for r in COUNTY["workers"]]
    reimport(session, settings, paths["workers"], "workers", workers)
    assert months_of(session, date(2025, 5, 3))[key].earned_fen == 12 * 32000
    assert months_of(session, date(2025, 3, 31))[key].earned_fen == 12 * 32000


def test_pay_day_of():
    assert pay_day_of("2025-03", 25) == date(2025, 4, 25)
    assert pay_day_of("2025-12", 25) == date(2026, 1, 25)
    assert pay_day_of("2025-03", 15) == date(2025, 4, 15)
    assert pay_day_of("2025-01", 31) == date(2025, 2, 28)
    assert pay_day_of("2025-01", 29) == date(2025, 2, 28)
    assert pay_day_of("2025-12", 31) == date(2026, 1, 31)
    assert pay_day_of("2025-01", 1) == date(2025, 2, 1)


@pytest.mark.parametrize(("period", "pay_day", "expected"), [
    ("2024-01", 31, date(2024, 2, 29)),  # leap year: February has 29 days
    ("2024-01", 30, date(2024, 2, 29)),
    ("2025-03", 31, date(2025, 4, 30)),  # April has 30 days
    ("2025-05", 31, date(2025, 6, 30)),
])
def test_pay_day_of_clamps_to_the_last_day_of_the_month(period, pay_day, expected):
    """BUG: pay_day_of falls back to the 28th instead of the month's last day ("clamped to the month's end")."""
    assert pay_day_of(period, pay_day) == expected


# ------------------------------------------------------------------------------------------ properties

START = date(2025, 1, 1)
SPAN = 240  # days: 2025-01-01 … 2025-08-28
# (project index, worker index, daily wage fen) — W0 is on both projects.
ROSTER = [(0, 0, 35050), (0, 1, 30000), (1, 0, 12345), (1, 2, 20001)]
CHANNELS = ["special_account", "bank", "cash", "team_leader", None]


@pytest.fixture(scope="module")
def prop_db(tmp_path_factory):
    """One migrated SQLite file with two projects, three workers and four roster entries (no attendance)."""
    tmp = tmp_path_factory.mktemp("balances_props")
    s = _base_settings(tmp, f"sqlite:///{tmp / 'props.db'}")
    upgrade_database(s)
    engine = make_engine(s)
    with Session(engine) as session:
        gc = Company(name="湖州华宇建设有限公司")
        team = Company(name="李四钢筋班组", kind="team")
        session.add_all([gc, team])
        session.flush()
        projects = [Project(code=f"HP-{i}", name=f"工程{i}", township="递铺街道", general_contractor_id=gc.id,
                            start_date=START, has_wage_account=True, has_notice_board=True) for i in range(2)]
        workers = [Worker(id_hash=f"{i:064d}", id_cipher="x", id_masked="330523********0011", name=f"工人{i}",
                          birth_date=date(1980, 1, 1), gender="M") for i in range(3)]
        session.add_all(projects + workers)
        session.flush()
        session.add_all([RosterEntry(project_id=projects[p].id, worker_id=workers[w].id, team_id=team.id,
                                     daily_wage_fen=wage, entry_date=START) for p, w, wage in ROSTER])
        session.commit()
        ids = ([p.id for p in projects], [w.id for w in workers])
    yield engine, ids, load_rules(ROOT / "rules")
    engine.dispose()


def _period(d: date) -> str:
    return d.strftime("%Y-%m")


attendance_rows = st.lists(
    st.tuples(st.integers(0, len(ROSTER) - 1), st.integers(0, SPAN - 1), st.integers(0, 2400)),
    max_size=25, unique_by=lambda t: (t[0], t[1]))
payment_rows = st.lists(
    st.tuples(st.integers(0, len(ROSTER) - 1), st.integers(1, 8), st.integers(0, 70), st.integers(0, 800_000),
              st.sampled_from(CHANNELS)),
    max_size=12)
as_of_days = st.integers(0, SPAN + 20)


def _insert(session, ids, attendance, payments) -> set[tuple]:
    """Insert generated rows (duplicates under the unique keys dropped) and rebuild the summary."""
    project_of, worker_of = ids
    seen = set()
    for r, offset, hours in attendance:
        p, w, _ = ROSTER[r]
        session.add(Attendance(project_id=project_of[p], worker_id=worker_of[w], work_date=START + timedelta(offset),
                               hours_centi=hours))
    for r, month, delay, amount, channel in payments:
        p, w, _ = ROSTER[r]
        period = f"2025-{month:02d}"
        when = date(2025, month, 1) + timedelta(delay)
        key = (project_of[p], worker_of[w], period, when, amount)
        if key in seen:
            continue
        seen.add(key)
        session.add(PayrollPayment(project_id=project_of[p], worker_id=worker_of[w], period=period,
                                   amount_due_fen=amount, amount_paid_fen=amount, pay_date=when, channel=channel))
    session.flush()
    refresh_month_summary(session=session, project_ids=project_of)
    return seen


def _snapshot(session, as_of: date, ruleset) -> tuple[dict, list]:
    months = {(wm.project_id, wm.worker_id, wm.period): dataclasses.astuple(wm)
              for wm in worker_months(session=session, as_of=as_of)}
    checks = [(pc.code, pc.level, pc.workers_owed, pc.amount_owed_fen, pc.oldest_overdue_days, pc.fired_rule_ids,
               sorted((h.rule.id, h.fired, h.not_checked) for h in pc.hits),
               [(w.worker_id, w.owed_fen, w.oldest_overdue_days, w.months) for w in pc.owed])
              for pc in run_check(session=session, ruleset=ruleset, as_of=as_of)]
    return months, checks


SOON = st.integers(1, 2) | st.integers(1, 60)  # days after the as-of date, often just after it
PROPS = hyp_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(attendance=attendance_rows, payments=payment_rows, as_of_day=as_of_days)
def test_property_owed_is_earned_minus_paid_and_earned_is_exact(prop_db, attendance, payments, as_of_day):
    engine, ids, _ = prop_db
    as_of = START + timedelta(as_of_day)
    project_of, worker_of = ids
    with Session(engine) as session:
        try:
            seen = _insert(session, ids, attendance, payments)
            got = {(wm.project_id, wm.worker_id, wm.period): wm for wm in worker_months(session=session, as_of=as_of)}
        finally:
            session.rollback()

    x800: dict[tuple, int] = defaultdict(int)
    day_count: dict[tuple, int] = defaultdict(int)
    paid: dict[tuple, int] = defaultdict(int)
    for r, offset, hours in attendance:
        p, w, wage = ROSTER[r]
        d = START + timedelta(offset)
        if d <= as_of:
            key = (project_of[p], worker_of[w], _period(d))
            x800[key] += wage * hours
            day_count[key] += 1
    for pid, wid, period, when, amount in seen:
        if when <= as_of:
            paid[(pid, wid, period)] += amount
            day_count.setdefault((pid, wid, period), 0)
    assert set(got) == set(day_count)
    for key, wm in got.items():
        earned = int((Decimal(x800.get(key, 0)) / 800).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        assert (wm.earned_fen, wm.attended_days, wm.paid_fen) == (earned, day_count[key], paid.get(key, 0)), key
        assert wm.owed_fen == max(0, wm.earned_fen - wm.paid_fen)
        assert wm.overdue == (wm.pay_day < as_of and wm.owed_fen > 100)
        assert wm.overdue_days == ((as_of - wm.pay_day).days if wm.overdue else 0)


@PROPS
@given(attendance=attendance_rows, payments=payment_rows, as_of_day=as_of_days,
       extra=st.tuples(st.integers(0, len(ROSTER) - 1), st.integers(1, 8), st.integers(0, 70),
                       st.integers(1, 800_000), st.sampled_from(CHANNELS)))
def test_property_a_payment_never_raises_what_is_owed(prop_db, attendance, payments, as_of_day, extra):
    engine, ids, ruleset = prop_db
    as_of = START + timedelta(as_of_day)
    with Session(engine) as session:
        try:
            _insert(session, ids, attendance, payments)
            before = {k: wm.owed_fen for k, wm in months_of(session, as_of).items()}
            checks_before = {pc.code: pc for pc in run_check(session=session, ruleset=ruleset, as_of=as_of)}
            session.rollback()
            _insert(session, ids, attendance, [*payments, extra])
            after = {k: wm.owed_fen for k, wm in months_of(session, as_of).items()}
            checks_after = {pc.code: pc for pc in run_check(session=session, ruleset=ruleset, as_of=as_of)}
        finally:
            session.rollback()
    for key, owed in after.items():
        assert owed <= before.get(key, 0), key
    for code, pc in checks_after.items():
        old = checks_before.get(code)
        assert pc.amount_owed_fen <= (old.amount_owed_fen if old else 0)
        assert pc.workers_owed <= (old.workers_owed if old else 0)


@PROPS
@given(attendance=attendance_rows, payments=payment_rows, as_of_day=st.integers(0, SPAN - 1),
       later_attendance=st.lists(st.tuples(st.integers(0, len(ROSTER) - 1), SOON,
                                           st.integers(0, 2400)), max_size=8),
       later_payments=st.lists(st.tuples(st.integers(0, len(ROSTER) - 1), st.integers(0, 3), SOON,
                                         st.integers(1, 800_000), st.sampled_from(CHANNELS)), max_size=6))
def test_property_data_after_the_as_of_date_changes_nothing(prop_db, attendance, payments, as_of_day,
                                                            later_attendance, later_payments):
    engine, ids, ruleset = prop_db
    as_of = START + timedelta(as_of_day)
    taken = {(r, off) for r, off, _ in attendance}
    extra_att = []
    for r, ahead, hours in later_attendance:
        offset = as_of_day + ahead
        if (r, offset) not in taken:
            taken.add((r, offset))
            extra_att.append((r, offset, hours))
    # Payments dated after the as-of date, for the as-of month or up to three months before it.
    extra_pay = []
    for r, back, ahead, amount, channel in later_payments:
        month_start = as_of.replace(day=1)
        for _ in range(back):
            month_start = (month_start - timedelta(days=1)).replace(day=1)
        if month_start.year != 2025:
            continue
        when = as_of + timedelta(ahead)
        extra_pay.append((r, month_start.month, (when - month_start).days, amount, channel))
    with Session(engine) as session:
        try:
            _insert(session, ids, attendance, payments)
            base = _snapshot(session, as_of, ruleset)
            session.rollback()
            _insert(session, ids, attendance + extra_att, payments + extra_pay)
            more = _snapshot(session, as_of, ruleset)
        finally:
            session.rollback()
    assert more[0] == base[0]
    assert more[1] == base[1]
