"""What new data sets going (service): today's scores and warnings, and the retaliation watch over open cases.

Run after every import that wrote rows — an upload job (earlywarn/jobs.py) or ``earlywarn import``. Each step
commits on its own; a failure of one is reported and the other still runs, and the import itself stands either
way (both run again the next morning).
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
    flags: int = 0
    failed: list[str] = field(default_factory=list)  # which steps failed, in Chinese


def refresh_after_import(*, session_factory: Callable[[], Session], settings: Settings, today: date) -> Refreshed:
    from earlywarn.retaliation import watch_cases
    from earlywarn.scoring import run_scoring

    out = Refreshed()
    try:
        with session_factory() as session:
            scores, result = run_scoring(session=session, settings=settings, as_of=today)
        out.scored, out.created, out.updated, out.resolved = len(scores), result.created, result.updated, \
            result.resolved
    except Exception:  # the import stands; scoring runs again tomorrow morning
        log.exception("scoring after an import failed")
        out.failed.append("风险评分")
    try:  # new attendance or exits may show a claimant pushed off a site
        with session_factory() as session:
            out.flags = watch_cases(session=session, today=today, pay_day=settings.pay_day).raised
    except Exception:  # the watch runs again tomorrow morning
        log.exception("retaliation watch after an import failed")
        out.failed.append("打击报复监测")
    return out
