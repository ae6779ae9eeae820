"""The working-day calendar on the real 2025/2026 arrangements (holidays and swapped working days)."""

from datetime import date

import pytest

from earlywarn.workdays import (
    LAST_YEAR,
    add_days,
    add_working_days,
    add_years,
    covered,
    holiday_name,
    is_workday,
    working_days_between,
)


@pytest.mark.parametrize("day, working", [
    (date(2025, 10, 1), False),  # National Day
    (date(2025, 10, 8), False),  # the 2025 National Day + Mid-Autumn holiday runs to 8 October
    (date(2025, 9, 28), True),  # Sunday, swapped to work
    (date(2025, 10, 11), True),  # Saturday, swapped to work
    (date(2025, 10, 12), False),  # an ordinary Sunday
    (date(2026, 2, 14), True),  # Saturday before the 2026 Spring Festival, swapped to work
    (date(2026, 2, 16), False),  # 除夕 2026
    (date(2026, 2, 23), False),  # last day of the 2026 Spring Festival holiday (a Monday)
    (date(2026, 2, 24), True),
    (date(2026, 2, 28), True),  # Saturday after, swapped to work
    (date(2026, 1, 4), True),  # Sunday after New Year 2026, swapped to work
])
def test_holidays_and_swapped_days(day, working):
    assert is_workday(day) is working


def test_holiday_names():
    assert holiday_name(date(2026, 2, 17)) == "Spring Festival"
    assert holiday_name(date(2025, 10, 11)) is None and holiday_name(date(2026, 3, 3)) is None


def test_working_days_across_the_spring_festival_and_a_swapped_saturday():
    # 11, 12, 13 (Wed–Fri), 14 (Saturday worked), then nine days off, then 24 February.
    due = add_working_days(date(2026, 2, 10), 5)
    assert due.on == date(2026, 2, 24) and not due.provisional
    assert add_working_days(date(2025, 10, 9), 2).on == date(2025, 10, 11)  # the Saturday counts
    assert add_working_days(date(2025, 9, 26), 1).on == date(2025, 9, 28)  # Sunday 28 September worked
    assert working_days_between(date(2026, 2, 10), date(2026, 2, 24)) == 5
    assert working_days_between(date(2026, 2, 24), date(2026, 2, 10)) == -5


def test_calendar_day_period_ending_in_the_holiday_moves_to_the_next_working_day():
    assert add_days(date(2026, 2, 2), 15).on == date(2026, 2, 24)  # 17 February is 初一
    assert add_days(date(2026, 1, 30), 15).on == date(2026, 2, 14)  # a swapped Saturday is a working day
    assert add_days(date(2025, 9, 26), 15).on == date(2025, 10, 11)
    assert add_days(date(2025, 9, 20), 15).on == date(2025, 10, 9)  # 5 October falls in the holiday
    assert add_days(date(2026, 3, 2), 15).on == date(2026, 3, 17)  # an ordinary Tuesday stays


def test_years_and_leap_days():
    assert add_years(date(2025, 2, 17), 1).on == date(2026, 2, 24)  # 17 Feb 2026 is a holiday
    assert add_years(date(2024, 2, 29), 1).on == date(2025, 2, 28)
    assert add_years(date(2025, 3, 4), 1).on == date(2026, 3, 4)


def test_uncovered_year_falls_back_to_weekdays_and_says_so():
    assert covered(2026) and not covered(LAST_YEAR + 1)
    nxt = LAST_YEAR + 1
    assert is_workday(date(nxt, 1, 4)) is (date(nxt, 1, 4).weekday() < 5)
    due = add_working_days(date(LAST_YEAR, 12, 30), 3)
    assert due.provisional and due.on.year == nxt
    assert not add_working_days(date(2026, 3, 2), 3).provisional
    assert add_years(date(2026, 6, 1), 1).provisional


@pytest.mark.parametrize("bad", [0, -1])
def test_bad_periods_are_refused(bad):
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 2), bad)
    with pytest.raises(ValueError):
        add_days(date(2026, 3, 2), bad)
