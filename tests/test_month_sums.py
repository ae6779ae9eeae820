"""New worker-months summed in memory (earlywarn.month_sums) and the attendance import's use of them: the sums equal
a plain-Python groupby (month and year ends, ids at the packing limits), and after each kind of attendance import
(over a payments-only month, a new month only, an existing worker-month touched) the whole summary table equals
what the SQL rebuild (balances.refresh_month_summary) makes of the same data. The importer tests run on SQLite and
PostgreSQL (conftest), through the chunk path and the row-by-row path.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import select

from earlywarn import import_writers, importer
from earlywarn.balances import refresh_month_summary
from earlywarn.month_sums import WrittenDays, sum_worker_months
from earlywarn.tables import AttendanceMonth
from tests.test_balances import (
    GC,
    TEAM,
    WA,
    WB,
    WD,
    P,
    days,
    import_county,
    pay,
    project_ids,
    project_row,
    reimport,
    worker_ids,
    worker_row,
)

MAX_PROJECT, MAX_WORKER = (1 << 23) - 1, (1 << 24) - 1


def reference(rows: list[tuple[int, int, int, int]]) -> list[tuple]:
    """(project, worker, 'YYYY-MM', Σ hours, days, first, last) per worker-month, by a plain groupby."""
    groups: dict[tuple, list[date]] = defaultdict(list)
    hours: dict[tuple, int] = defaultdict(int)
    for p, w, ordinal, centi in rows:
        day = date.fromordinal(ordinal)
        key = (p, w, f"{day.year:04d}-{day.month:02d}")
        groups[key].append(day)
        hours[key] += centi
    return sorted((*k, hours[k], len(d), min(d), max(d)) for k, d in groups.items())


def summed(*parts: list[tuple[int, int, int, int]]):
    written = WrittenDays()
    for part in parts:
        written.add(*(np.array(column, dtype=np.int64) for column in zip(*part, strict=True)))
    return sum_worker_months(written)


def as_rows(sums) -> list[tuple]:
    return sorted(zip(sums.project, sums.worker, sums.period, sums.hours_centi, sums.days, sums.first_day,
                      sums.last_day, strict=True))


ENDS = [date(y, m, d).toordinal() for y, m, d in ((2024, 2, 29), (2024, 3, 1), (2024, 12, 31), (2025, 1, 1),
                                                  (2025, 1, 31), (2025, 2, 1), (2025, 2, 28), (2025, 3, 1),
                                                  (2025, 12, 31), (2026, 1, 1))]
some_day = st.one_of(st.sampled_from(ENDS), st.integers(date(2023, 12, 1).toordinal(), date(2026, 1, 31).toordinal()))
a_row = st.tuples(st.one_of(st.integers(0, 3), st.just(MAX_PROJECT)), st.one_of(st.integers(0, 4), st.just(MAX_WORKER)),
                  some_day, st.integers(0, 2400))


@hyp_settings(max_examples=300, deadline=None)
@given(rows=st.lists(a_row, min_size=1, max_size=150, unique_by=lambda r: r[:3]), cuts=st.lists(st.integers(1, 149)))
def test_sums_equal_a_plain_groupby(rows, cuts):
    bounds = sorted({0, len(rows), *(c for c in cuts if c < len(rows))})
    parts = [rows[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]  # written in several chunks
    sums = summed(*parts)
    assert len(sums) == len(reference(rows))
    assert as_rows(sums) == reference(rows)


def test_month_and_year_ends_by_hand():
    rows = [(1, 7, date(2024, 12, 31), 800), (1, 7, date(2025, 1, 1), 750), (1, 7, date(2025, 1, 31), 0),
            (1, 7, date(2025, 2, 1), 800), (2, 7, date(2025, 1, 15), 400), (1, 8, date(2024, 12, 1), 800)]
    sums = summed([(p, w, d.toordinal(), c) for p, w, d, c in rows[3:]], [(p, w, d.toordinal(), c)
                                                                          for p, w, d, c in rows[:3]])
    assert as_rows(sums) == [(1, 7, "2024-12", 800, 1, date(2024, 12, 31), date(2024, 12, 31)),
                             (1, 7, "2025-01", 750, 2, date(2025, 1, 1), date(2025, 1, 31)),
                             (1, 7, "2025-02", 800, 1, date(2025, 2, 1), date(2025, 2, 1)),
                             (1, 8, "2024-12", 800, 1, date(2024, 12, 1), date(2024, 12, 1)),
                             (2, 7, "2025-01", 400, 1, date(2025, 1, 15), date(2025, 1, 15))]
    assert len(sum_worker_months(WrittenDays())) == 0


@pytest.mark.parametrize(("project", "worker"), [(MAX_PROJECT + 1, 1), (1, MAX_WORKER + 1), (-1, 1), (1, -1),
                                                 (1 << 40, 1)])
def test_ids_too_large_to_pack_give_none(project, worker):
    day = date(2025, 3, 3).toordinal()
    assert summed([(1, 1, day, 800), (project, worker, day, 800)]) is None


def test_largest_packable_ids_come_back_whole():
    day = date(2025, 12, 31).toordinal()
    rows = [(MAX_PROJECT, MAX_WORKER, day, 800), (MAX_PROJECT, MAX_WORKER, day - 1, 100), (0, 0, day, 5)]
    assert as_rows(summed(rows)) == reference(rows)
    assert {p for p, *_ in as_rows(summed(rows))} == {0, MAX_PROJECT}


# ------------------------------------------------------------------------------------------ through the importer

Q, TEAM_Q = "AJ-B-002", "钱七泥瓦班组"
SMALL = {
    "projects": [project_row(P, "递铺街道安置房一期", "递铺街道", GC), project_row(Q, "孝丰镇安置小区", "孝丰镇", GC)],
    "subcontracts": [[P, GC, "", TEAM, "", "班组"], [Q, GC, "", TEAM_Q, "", "班组"]],
    # WA works on both projects, at two wages.
    "workers": [worker_row(P, WA, "陈一", TEAM, "300"), worker_row(P, WB, "林二", TEAM, "200.50"),
                worker_row(Q, WA, "陈一", TEAM_Q, "320"), worker_row(Q, WD, "周四", TEAM_Q, "250")],
}
MARCH = days(P, WA, date(2025, 3, 3), 12) + days(P, WB, date(2025, 3, 3), 8, "7.5") + days(Q, WD, date(2025, 3, 28), 6)


@pytest.fixture(params=["chunks", "rows"])
def path(request, monkeypatch):
    """Attendance through the chunk path (small chunks) or row by row; the in-memory sums are fed by both."""
    if request.param == "chunks":
        monkeypatch.setattr(importer, "COLUMN_CHUNK", 5)
    else:
        monkeypatch.setattr(importer, "COLUMN_PATHS", {})
    return request.param


@pytest.fixture
def resummed(monkeypatch) -> list[set[int]]:
    """The projects each refresh_month_summary call of the import writers re-summed in SQL."""
    calls: list[set[int]] = []

    def spy(*, session, project_ids):
        calls.append(set(project_ids))
        return refresh_month_summary(session=session, project_ids=project_ids)

    monkeypatch.setattr(import_writers, "refresh_month_summary", spy)
    return calls


def summary(session) -> list[tuple]:
    columns = ", ".join(c for c in AttendanceMonth.__table__.c.keys() if c != "id")
    session.expire_all()
    return sorted((tuple(r) for r in session.execute(text(f"SELECT {columns} FROM attendance_month"))), key=repr)


def assert_equals_the_sql_rebuild(session) -> dict[tuple, dict]:
    """The summary as the import left it equals a rebuild of every project in SQL; returns it by worker-month."""
    before = summary(session)
    refresh_month_summary(session=session, project_ids=set(project_ids(session).values()))
    after = summary(session)
    session.rollback()
    assert before == after
    session.expire_all()
    return {(r.project_id, r.worker_id, r.period): r.model_dump() for r in session.exec(select(AttendanceMonth))}


def test_attendance_after_payroll_keeps_the_payments_side(session, settings, tmp_path, path, resummed):
    folder = tmp_path / "county"
    paid = [pay(P, WA, "2025-03", "3,600", "1,000", "2025-04-10"),
            pay(P, WA, "2025-03", "3,600", "500", "2025-03-20", "现金"),
            pay(P, WB, "2025-03", "1,200", "1,200", "2025-03-05", "")]
    import_county(session, settings, folder, **SMALL, payroll=paid)  # paid before any attendance
    ids, pid = worker_ids(session, settings, WA, WB, WD), project_ids(session)
    payments_only = {(pid[P], ids[WA], "2025-03"): 0, (pid[P], ids[WB], "2025-03"): 0}
    assert {k: v["days"] for k, v in assert_equals_the_sql_rebuild(session).items()} == payments_only
    resummed.clear()
    reimport(session, settings, folder / "attendance.csv", "attendance", MARCH)
    assert resummed == [set()]  # every worker-month was new: summed in memory, nothing re-summed in SQL
    rows = assert_equals_the_sql_rebuild(session)
    a, b = rows[(pid[P], ids[WA], "2025-03")], rows[(pid[P], ids[WB], "2025-03")]
    assert (a["days"], a["earned_x800"], a["first_day"], a["last_day"]) == (12, 30000 * 800 * 12, date(2025, 3, 3),
                                                                          date(2025, 3, 14))
    assert (a["paid_fen"], a["payments"], a["paid_cash_fen"], a["payments_outside_special_account"],
            a["last_pay_date"], a["last_data_day"]) == (150000, 2, 50000, 1, date(2025, 4, 10), date(2025, 4, 10))
    assert (b["days"], b["earned_x800"], b["last_day"], b["paid_fen"], b["payments_without_channel"],
            b["last_pay_date"], b["last_data_day"]) == (8, 20050 * 750 * 8, date(2025, 3, 10), 120000, 1,
                                                        date(2025, 3, 5), date(2025, 3, 10))
    assert rows[(pid[Q], ids[WD], "2025-03")]["days"] == 4  # 03-28 … 03-31; April is another month
    assert len(rows) == 4


def test_a_new_month_only_is_summed_in_memory(session, settings, tmp_path, path, resummed):
    folder = tmp_path / "county"
    import_county(session, settings, folder, **SMALL, attendance=MARCH)
    ids, pid = worker_ids(session, settings, WA, WB, WD), project_ids(session)
    march = assert_equals_the_sql_rebuild(session)
    resummed.clear()
    april = days(P, WA, date(2025, 4, 1), 10, "4") + days(Q, WA, date(2025, 4, 20), 11)
    reimport(session, settings, folder / "april.csv", "attendance", april)
    assert resummed == [set()]
    rows = assert_equals_the_sql_rebuild(session)
    assert {k: v for k, v in rows.items() if k in march} == march  # March as it was
    assert (rows[(pid[P], ids[WA], "2025-04")]["days"], rows[(pid[P], ids[WA], "2025-04")]["earned_x800"]) == (
        10, 30000 * 400 * 10)
    q = rows[(pid[Q], ids[WA], "2025-04")]  # WA's wage on Q, not on P
    assert (q["days"], q["earned_x800"], q["first_day"], q["last_day"]) == (11, 32000 * 800 * 11, date(2025, 4, 20),
                                                                          date(2025, 4, 30))
    assert len(rows) == len(march) + 2


def test_a_touched_worker_month_is_resummed_in_sql_and_new_ones_in_memory(session, settings, tmp_path, path,
                                                                          resummed):
    folder = tmp_path / "county"
    import_county(session, settings, folder, **SMALL, attendance=MARCH,
                  payroll=[pay(Q, WA, "2025-05", "1,000", "800", "2025-06-30")])
    ids, pid = worker_ids(session, settings, WA, WB, WD), project_ids(session)
    resummed.clear()
    more = [[P, WA, "2025-03-03", "4"], *days(P, WA, date(2025, 3, 20), 2),  # a day changed, two added
            *days(P, WB, date(2025, 4, 1), 3),  # a new month on the same project
            *days(Q, WA, date(2025, 5, 30), 2), *days(Q, WD, date(2025, 5, 5), 5)]  # new months on the other
    reimport(session, settings, folder / "more.csv", "attendance", more)
    assert resummed == [{pid[P]}]
    rows = assert_equals_the_sql_rebuild(session)
    a = rows[(pid[P], ids[WA], "2025-03")]
    assert (a["days"], a["earned_x800"], a["last_day"]) == (14, 30000 * (13 * 800 + 400), date(2025, 3, 21))
    assert rows[(pid[P], ids[WB], "2025-04")]["days"] == 3
    may = rows[(pid[Q], ids[WA], "2025-05")]  # was payments only
    assert (may["days"], may["earned_x800"], may["paid_fen"], may["last_day"], may["last_data_day"]) == (
        2, 32000 * 800 * 2, 80000, date(2025, 5, 31), date(2025, 6, 30))
    assert [rows[(pid[Q], ids[WD], m)]["days"] for m in ("2025-03", "2025-04", "2025-05")] == [4, 2, 5]
    assert len(rows) == 7
