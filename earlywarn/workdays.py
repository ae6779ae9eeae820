"""The working-day calendar of mainland China (pure): public holidays and the swapped working days (调休).

Backed by the ``chinese-calendar`` package, which carries the State Council's yearly 放假安排 notice for the
years it knows (2004–2026 in the pinned 1.11.0). The notice for a year is published only in November or
December of the year before, so a deadline may run into a year the package does not cover yet. For such a day
this module falls back to **Monday–Friday working, Saturday and Sunday rest** (no holidays, no swapped days),
and every result that relied on the fallback says so (``provisional``), so a page can tell the mediator that
the date must be re-checked once the year's arrangement is published (upgrade ``chinese-calendar``).

Legal periods (民法典 Arts. 200–204, 民事诉讼法 Art. 85):
- a period in days, months or years starts the day *after* the event (the starting day is not counted);
- a period counted in days, months or years whose last day is a statutory rest day ends on the next working day;
- a period in working days counts working days only.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

FIRST_YEAR, LAST_YEAR = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year


def covered(year: int) -> bool:
    """Whether the package holds the year's official holiday arrangement."""
    return FIRST_YEAR <= year <= LAST_YEAR


def is_workday(day: date) -> bool:
    """A working day, swapped working days (e.g. Saturday 2025-10-11) included; weekday fallback outside the
    covered years (see the module docstring)."""
    if covered(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def holiday_name(day: date) -> str | None:
    """The holiday's name (English, as the package has it: 'Spring Festival'), or None."""
    if not covered(day.year):
        return None
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    return name if on_holiday else None


@dataclass(frozen=True, slots=True)
class Due:
    """A computed due date; ``provisional`` when a day it passed over lies in a year without official data."""

    on: date
    provisional: bool = False


def _next_workday(day: date) -> tuple[date, bool]:
    provisional = not covered(day.year)
    while not is_workday(day):
        day += timedelta(days=1)
        provisional = provisional or not covered(day.year)
    return day, provisional


def add_working_days(start: date, n: int) -> Due:
    """The ``n``-th working day after ``start`` (the starting day never counts). ``n`` must be ≥ 1."""
    if n < 1:
        raise ValueError("工作日天数必须至少为 1")
    day, seen, provisional = start, 0, False
    while seen < n:
        day += timedelta(days=1)
        provisional = provisional or not covered(day.year)
        if is_workday(day):
            seen += 1
    return Due(day, provisional)


def add_days(start: date, n: int) -> Due:
    """A period of ``n`` calendar days from ``start``: day ``start + n``, moved to the next working day when it
    falls on a rest day (holiday or weekend not swapped to work)."""
    if n < 1:
        raise ValueError("期间天数必须至少为 1")
    end, provisional = _next_workday(start + timedelta(days=n))
    return Due(end, provisional)


def add_years(start: date, n: int = 1) -> Due:
    """A period of ``n`` years: the same date ``n`` years on (29 February → 28 February), then as ``add_days``."""
    year = start.year + n
    day = min(start.day, calendar.monthrange(year, start.month)[1])
    end, provisional = _next_workday(date(year, start.month, day))
    return Due(end, provisional)


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``; negative when ``end`` is before ``start``."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for i in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=i)))
