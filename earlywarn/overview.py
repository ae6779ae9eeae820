"""Read services behind the role home pages: the county at a glance, sites, reports, informants."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from earlywarn.tables import (
    ImportBatch,
    Informant,
    MediationCase,
    Project,
    Report,
    RiskWarning,
    RosterEntry,
    UserAccount,
)

OPEN_WARNING = ("new", "acknowledged", "case_opened")  # as in earlywarn/warnings.py
OPEN_CASE_EXCLUDED = ("closed_performed", "referred", "withdrawn", "rejected")


@dataclass
class TownshipRow:
    township: str
    projects: int = 0
    workers: int = 0
    reports: int = 0
    open_warnings: int = 0


@dataclass
class CountyOverview:
    projects: int
    workers: int
    reports: int
    open_warnings: int
    open_cases: int
    townships: list[TownshipRow] = field(default_factory=list)


def county_overview(*, session: Session, townships: list[str]) -> CountyOverview:
    rows = {t: TownshipRow(t) for t in townships}

    def bucket(name: str | None) -> TownshipRow:
        key = name or "（未填写）"
        return rows.setdefault(key, TownshipRow(key))

    for township, n in session.exec(select(Project.township, func.count()).group_by(Project.township)):
        bucket(township).projects = n
    worker_q = (select(Project.township, func.count(func.distinct(RosterEntry.worker_id)))
                .select_from(RosterEntry).join(Project, Project.id == RosterEntry.project_id)
                .group_by(Project.township))
    for township, n in session.exec(worker_q):
        bucket(township).workers = n
    for township, n in session.exec(select(Report.township, func.count()).group_by(Report.township)):
        bucket(township).reports = n
    warn_q = (select(Project.township, func.count()).select_from(RiskWarning)
              .join(Project, Project.id == RiskWarning.project_id)
              .where(RiskWarning.status.in_(OPEN_WARNING)).group_by(Project.township))
    for township, n in session.exec(warn_q):
        bucket(township).open_warnings = n
    return CountyOverview(
        projects=session.exec(select(func.count()).select_from(Project)).one(),
        workers=session.exec(select(func.count(func.distinct(RosterEntry.worker_id)))).one(),
        reports=session.exec(select(func.count()).select_from(Report)).one(),
        open_warnings=session.exec(select(func.count()).select_from(RiskWarning)
                                   .where(RiskWarning.status.in_(OPEN_WARNING))).one(),
        open_cases=session.exec(select(func.count()).select_from(MediationCase)
                                .where(MediationCase.status.not_in(OPEN_CASE_EXCLUDED))).one(),
        townships=list(rows.values()),
    )


def list_reports(*, session: Session, limit: int = 200, informant_id: int | None = None) -> list[tuple]:
    q = (select(Report, Informant.pseudonym_no, Project.code)
         .outerjoin(Informant, Informant.id == Report.informant_id)
         .outerjoin(Project, Project.id == Report.project_id)
         .order_by(Report.received_at.desc()).limit(limit))
    if informant_id is not None:
        q = q.where(Report.informant_id == informant_id)
    return list(session.exec(q))


def informant_for_user(*, session: Session, user: UserAccount) -> Informant | None:
    return session.exec(select(Informant).where(Informant.user_id == user.id)).first()


def list_imports(*, session: Session, limit: int = 100) -> list[ImportBatch]:
    return list(session.exec(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)))


@dataclass
class OverdueSummary:
    deadlines: int
    cases: int
    by_kind: dict[str, int]  # deadline kind → overdue count, most first
    oldest: list[tuple]  # (deadline, case, days overdue), oldest first


def summarise_overdue(rows: list[tuple], today: date, limit: int = 5) -> OverdueSummary:
    """Pure: the leaders' overdue list (deadline, case pairs, oldest first) in a few figures and its oldest rows."""
    kinds = Counter(d.kind for d, _c in rows)
    return OverdueSummary(deadlines=len(rows), cases=len({c.id for _d, c in rows}),
                          by_kind=dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
                          oldest=[(d, c, (today - d.due_on).days) for d, c in rows[:limit]])


def overdue_summary(*, session: Session, today: date, limit: int = 5) -> OverdueSummary:
    from earlywarn.case_clock import overdue

    return summarise_overdue(overdue(session=session, today=today), today, limit)
