"""The retaliation watch (pure): which claimants of an open case look pushed off the site after they complained.

Two signals, each raised only for a claimant still owed wages (a claimant who stops once paid in full is the
ordinary end of a job, not a warning):

* **stopped** — no attendance on the case's project for ``STOP_WORKING_DAYS`` working days on which the project
  itself still recorded attendance (so rain days, the Spring Festival shutdown or a site that stopped altogether
  do not count against the worker);
* **left_unpaid** — the real-name roster marks the claimant as having left (exit date) on or after the day the
  case opened, with wages still owed: on leaving, wages are due at once (工资支付暂行规定第九条).

A stop or an exit that came before the case opened is not the case's consequence: it is not raised.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

# Five working days: one working week. Construction attendance is daily, and ordinary absences (a rest day,
# an illness, a trip home) last one to three days; a full working week away while the crew keeps clocking in is
# no longer ordinary. It is also short enough to act before a migrant worker has left the county: the written
# notice of a refusal (5 working days) and the mediation clock (15 days) run on the same scale.
STOP_WORKING_DAYS = 5
OWED_TOLERANCE_FEN = 100  # as the wage check: more than ￥1 unpaid is owed (earlywarn.balances)
KINDS = ("stopped", "left_unpaid")
KIND_ZH = {"stopped": "立案后考勤中断", "left_unpaid": "立案后离场且工资未结清"}


@dataclass(frozen=True, slots=True)
class Claimant:
    party_id: int
    last_day: date | None  # last attendance on the project (None: never attended there)
    exit_date: date | None  # the roster's exit date
    owed_fen: int


@dataclass(frozen=True, slots=True)
class Finding:
    party_id: int
    kind: str
    since: date
    owed_fen: int
    working_days: int = 0  # stopped: the project's working days since the claimant's last day


def days_missed(last_day: date, project_days: Sequence[date], until: date | None = None,
                is_workday: Callable[[date], bool] = lambda d: True) -> int:
    """The project's attendance days after ``last_day`` (before ``until`` when given) that are working days.

    ``project_days`` are the distinct days on which anyone attended the project, sorted ascending."""
    start = bisect_right(project_days, last_day)
    return sum(1 for d in project_days[start:] if (until is None or d < until) and is_workday(d))


def assess(claimant: Claimant, *, project_days: Sequence[date], watch_from: date, as_of: date,
           is_workday: Callable[[date], bool], threshold: int = STOP_WORKING_DAYS) -> Finding | None:
    """One claimant's finding as of ``as_of``, or None. ``watch_from``: the day the case opened."""
    if threshold < 1:
        raise ValueError("threshold must be at least one working day")
    if claimant.owed_fen <= OWED_TOLERANCE_FEN:
        return None
    if claimant.exit_date is not None and claimant.exit_date <= as_of:  # a planned exit is not a departure yet
        if claimant.exit_date < watch_from:
            return None  # left before the case: not its consequence (the limitation clock watches that)
        return Finding(claimant.party_id, "left_unpaid", claimant.exit_date, claimant.owed_fen)
    if claimant.last_day is None:
        return None
    if days_missed(claimant.last_day, project_days, until=watch_from, is_workday=is_workday) >= threshold:
        return None  # already away before the case opened
    missed = days_missed(claimant.last_day, project_days, is_workday=is_workday)
    if missed < threshold:
        return None
    return Finding(claimant.party_id, "stopped", claimant.last_day, claimant.owed_fen, missed)


def findings(claimants: Sequence[Claimant], *, project_days: Sequence[date], watch_from: date, as_of: date,
             is_workday: Callable[[date], bool], threshold: int = STOP_WORKING_DAYS) -> list[Finding]:
    days = sorted(d for d in set(project_days) if d <= as_of)
    out = (assess(c, project_days=days, watch_from=watch_from, as_of=as_of, is_workday=is_workday,
                  threshold=threshold)
           for c in claimants)
    return [f for f in out if f is not None]
