"""What new data and a new day set going (service): today's scores and warnings, the case clocks' reminders and
the retaliation watch over open cases.

After every import that wrote rows — an upload job (earlywarn/jobs.py) or ``earlywarn import`` — the scores and
the watch run; every morning the reminders too (the job runner's daily thread). Each step commits on its own; a
failure of one is logged and named, the others still run, and the import itself stands either way (everything
runs again the next morning).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from earlywarn.config import Settings

log = logging.getLogger(__name__)


@dataclass
class Refreshed:
    scored: int = 0
    created: int = 0
    updated: int = 0
    resolved: int = 0
    reminders: int = 0
    flags: int = 0
    failed: list[str] = field(default_factory=list)  # which steps failed, in Chinese


def _score(session: Session, settings: Settings, today: date, out: Refreshed) -> None:
    from earlywarn.scoring import run_scoring

    scores, result = run_scoring(session=session, settings=settings, as_of=today)
    out.scored, out.created, out.updated, out.resolved = len(scores), result.created, result.updated, result.resolved


def _remind(session: Session, settings: Settings, today: date, out: Refreshed) -> None:
    from earlywarn.case_clock import send_daily_reminders

    out.reminders = send_daily_reminders(session=session, today=today)


def _watch(session: Session, settings: Settings, today: date, out: Refreshed) -> None:
    from earlywarn.retaliation import watch_cases  # new attendance or exits may show a claimant pushed off a site

    out.flags = watch_cases(session=session, today=today, pay_day=settings.pay_day).raised


_STEPS = {"风险评分": _score, "案件提醒": _remind, "打击报复监测": _watch}


def _run(steps: list[str], session_factory: Callable[[], Session], settings: Settings, today: date) -> Refreshed:
    out = Refreshed()
    for name in steps:
        try:
            with session_factory() as session:
                _STEPS[name](session, settings, today, out)
        except Exception:  # the data stands; the step runs again tomorrow morning
            log.exception("%s failed", name)
            out.failed.append(name)
    return out


def refresh_after_import(*, session_factory: Callable[[], Session], settings: Settings, today: date) -> Refreshed:
    return _run(["风险评分", "打击报复监测"], session_factory, settings, today)


def refresh_daily(*, session_factory: Callable[[], Session], settings: Settings, today: date) -> Refreshed:
    return _run(["风险评分", "案件提醒", "打击报复监测"], session_factory, settings, today)
