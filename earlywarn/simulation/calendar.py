"""The county's calendar: Spring Festival dates, month arithmetic, the weather and the festival season."""

from __future__ import annotations

import random
from datetime import date

# 春节 (first day of the lunar year)
_SPRING_FESTIVAL = {
    2020: date(2020, 1, 25), 2021: date(2021, 2, 12), 2022: date(2022, 2, 1), 2023: date(2023, 1, 22),
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17), 2027: date(2027, 2, 6),
    2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3), 2031: date(2031, 1, 23),
    2032: date(2032, 2, 11), 2033: date(2033, 1, 31), 2034: date(2034, 2, 19), 2035: date(2035, 2, 8),
}


def spring_festival(year: int) -> date:
    """The date of 春节 in ``year`` (table for 2020–2035)."""
    try:
        return _SPRING_FESTIVAL[year]
    except KeyError:
        raise ValueError(f"no Spring Festival date for {year} (table covers 2020–2035)") from None


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def heavy_rain(seed: int, days: list[date]) -> list[bool]:
    """Heavy rain (outdoor trades stop) per day: a two-state wet/dry chain plus plum rain and typhoon spells."""
    # its own random stream: the weather must not change when the county's draws change
    r = random.Random(f"earlywarn-sim:{seed}:weather")
    wet_p = [0.30, 0.35, 0.40, 0.40, 0.40, 0.45, 0.40, 0.33, 0.33, 0.25, 0.25, 0.25]
    heavy: list[bool] = []
    wet = False
    typhoon = 0
    for d in days:
        p = wet_p[d.month - 1]
        plum = (d.month == 6 and d.day >= 12) or (d.month == 7 and d.day <= 12)
        if plum:
            p = 0.62
        wet = r.random() < (0.55 + 0.25 * p if wet else p * 0.75)
        if typhoon == 0 and d.month in (8, 9) and r.random() < 0.012:
            typhoon = r.randint(2, 4)
        if typhoon:
            typhoon -= 1
            heavy.append(True)
            continue
        heavy.append(wet and r.random() < (0.6 if plum else 0.42))
    return heavy


def festival_season(sf_di: list[int], n_days: int, amp: float = 14.0,
                    power: float = 1.2) -> tuple[list[float], list[bool], list[int]]:
    """Per day: the dispute-hazard multiplier (steep rise over the 7 weeks before the festival, to 1 + amp
    with the shape power), whether sites are closed for the festival, and the days to the next festival (999
    if none)."""
    season: list[float] = []
    closures: list[bool] = []  # site closure around the festival
    sf_phase: list[int] = []  # (days to next festival)
    for di in range(n_days):
        nxt = min((s for s in sf_di if s >= di - 20), default=None)
        prev = max((s for s in sf_di if s <= di), default=None)
        mult = 1.0
        closed = False
        if nxt is not None:
            k = nxt - di  # may be negative (just after)
            if 7 < k <= 49:
                mult = 1.0 + amp * ((49 - k) / 42.0) ** power
            elif 49 < k <= 75:
                mult = 1.3
            elif -7 <= k <= 7:
                mult = 0.1
                closed = -7 <= k <= 4
        if prev is not None and 8 < di - prev <= 45:
            mult = max(mult, 1.6)
        season.append(mult)
        closures.append(closed)
        sf_phase.append(nxt - di if nxt is not None else 999)
    return season, closures, sf_phase
