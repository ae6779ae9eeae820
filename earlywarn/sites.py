"""Sites (service, read-only): the wage check for the site list and page, the chain, the monthly series,
a worker's months across projects, and the data for a rectification notice."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from earlywarn.balances import worker_months
from earlywarn.chain import Link, build_chain, chain_issues, companies_owing_most, liable_parties
from earlywarn.config import Settings
from earlywarn.notice import NoticeData, NoticeViolation
from earlywarn.rules import RuleSet
from earlywarn.tables import Company, ImportBatch, Project, Report, RosterEntry, Subcontract, Worker
from earlywarn.wagecheck import ProjectCheck, run_check


class CheckCache:
    """The county-wide check for a date, recomputed only when data changed (a new import or report).

    A check of the reference county takes seconds; the site list is opened far more often than data
    arrives, so one computed result per (date, data version) is kept."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key = None
        self._value: list[ProjectCheck] = []

    def get(self, *, session: Session, settings: Settings, ruleset: RuleSet, as_of: date) -> list[ProjectCheck]:
        # What the check depends on: finished imports (a queued upload has an id before its data is in)
        # and reports (new ones, and changes to links and flags, which bump updated_at).
        imports = session.exec(select(func.count(), func.max(ImportBatch.finished_at))
                               .where(ImportBatch.status == "succeeded")).one()
        reports = session.exec(select(func.count(), func.max(Report.updated_at))).one()
        key = (as_of, tuple(imports), tuple(reports), id(ruleset))
        with self._lock:
            if key != self._key:
                self._value = run_check(session=session, ruleset=ruleset, as_of=as_of,
                                        min_wage_tier=settings.min_wage_tier, pay_day=settings.pay_day,
                                        report_window_days=settings.report_window_days)
                self._key = key
            return self._value


LEVEL_RANK = {"red": 4, "orange": 3, "yellow": 2, "green": 1}


def filter_sort(checks: list[ProjectCheck], *, township: str | None, level: str | None, sort: str,
                descending: bool, min_owed_fen: int = 0) -> list[ProjectCheck]:
    rows = [c for c in checks if (not township or c.township == township) and (not level or c.level == level)
            and c.amount_owed_fen >= min_owed_fen]
    keys = {"amount": lambda c: c.amount_owed_fen, "level": lambda c: (LEVEL_RANK.get(c.level, 0), c.amount_owed_fen),
            "workers": lambda c: c.workers_owed, "overdue": lambda c: c.oldest_overdue_days,
            "township": lambda c: c.township, "code": lambda c: c.code}
    return sorted(rows, key=keys.get(sort, keys["level"]), reverse=descending)


def project_by_code(*, session: Session, code: str) -> Project | None:
    return session.exec(select(Project).where(Project.code == code)).first()


def load_chains(*, session: Session, projects: list[Project]) -> dict[int, object]:
    """The chain graphs of these projects, from one query over their links."""
    if not projects:
        return {}
    parent = Company.__table__.alias("parent")
    child = Company.__table__.alias("child")
    q = (select(Subcontract.project_id, parent.c.name, child.c.name, Subcontract.kind, child.c.kind)
         .select_from(Subcontract)
         .join(parent, parent.c.id == Subcontract.parent_id).join(child, child.c.id == Subcontract.child_id)
         .where(Subcontract.project_id.in_([p.id for p in projects])))
    links: dict[int, list[Link]] = defaultdict(list)
    for pid, p, c, k, ck in session.exec(q):
        links[pid].append(Link(p, c, k, ck))
    names = dict(session.exec(select(Company.id, Company.name)
                              .where(Company.id.in_({p.general_contractor_id for p in projects}))).all())
    return {p.id: build_chain(names[p.general_contractor_id], links[p.id]) for p in projects}


def load_chain(*, session: Session, project: Project):
    return load_chains(session=session, projects=[project])[project.id]


def companies_owing(*, session: Session, checks: list[ProjectCheck], top: int = 20):
    """Across projects: the companies whose projects owe most, each with the chains through which it owes."""
    owing = [c for c in checks if c.owed]
    projects = {p.id: p for p in session.exec(select(Project).where(Project.id.in_([c.project_id for c in owing])))}
    graphs = load_chains(session=session, projects=list(projects.values()))
    return companies_owing_most([(c.code, graphs[c.project_id], owed_by_team(c)) for c in owing], top=top)


def owed_by_team(check: ProjectCheck) -> dict[str, tuple[int, int]]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for w in check.owed:
        totals[w.team][0] += w.owed_fen
        totals[w.team][1] += 1
    return {team: (fen, n) for team, (fen, n) in totals.items()}


@dataclass
class SiteDetail:
    project: Project
    check: ProjectCheck
    graph: object
    issues: list
    liable: list
    months: list[tuple[str, int, int]]  # (period, earned fen, paid fen)
    as_of: date


def site_detail(*, session: Session, settings: Settings, ruleset: RuleSet, project: Project,
                as_of: date) -> SiteDetail | None:
    checks = run_check(session=session, ruleset=ruleset, as_of=as_of, min_wage_tier=settings.min_wage_tier,
                       pay_day=settings.pay_day, project_code=project.code,
                       report_window_days=settings.report_window_days)
    if not checks:
        return None
    check = checks[0]
    graph = load_chain(session=session, project=project)
    series: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for wm in worker_months(session=session, as_of=as_of, pay_day=settings.pay_day, project_ids=[project.id]):
        series[wm.period][0] += wm.earned_fen
        series[wm.period][1] += wm.paid_fen
    return SiteDetail(project, check, graph, chain_issues(graph), liable_parties(graph, owed_by_team(check)),
                      [(p, e, pd) for p, (e, pd) in sorted(series.items())], as_of)


@dataclass
class WorkerProjectMonths:
    project: Project
    team: str
    daily_wage_fen: int
    entry_date: date
    exit_date: date | None
    months: list  # WorkerMonth


def worker_detail(*, session: Session, settings: Settings, worker_id: int, as_of: date):
    worker = session.get(Worker, worker_id)
    if worker is None:
        return None, []
    q = (select(RosterEntry, Project, Company.name).join(Project, Project.id == RosterEntry.project_id)
         .join(Company, Company.id == RosterEntry.team_id).where(RosterEntry.worker_id == worker_id)
         .order_by(RosterEntry.entry_date))
    entries = list(session.exec(q))
    months = worker_months(session=session, as_of=as_of, pay_day=settings.pay_day,
                           project_ids=[p.id for _, p, _ in entries]) if entries else []
    mine = defaultdict(list)
    for wm in months:
        if wm.worker_id == worker_id:
            mine[wm.project_id].append(wm)
    return worker, [WorkerProjectMonths(p, team, r.daily_wage_fen, r.entry_date, r.exit_date, mine[p.id])
                    for r, p, team in entries]


def notice_data(*, detail: SiteDetail, issuer: str, issued_on: date, deadline: date, notice_no: str) -> NoticeData:
    violations = []
    for hit in detail.check.hits:
        if hit.fired and hit.live and hit.rule.level in ("red", "orange", "yellow"):
            basis = "；".join(f"《{b.law}》{b.article}" for b in hit.rule.legal_basis)
            violations.append(NoticeViolation(hit.rule.title, basis, f"{hit.rule.description}（涉及 {hit.fired} 项）"))
    for issue in detail.issues:
        if issue.violation:
            violations.append(NoticeViolation(f"违法分包：{issue.unit}", issue.legal_basis, issue.message_zh))
    contractor = detail.check.contractor
    return NoticeData(notice_no=notice_no, issued_on=issued_on, issuer=issuer, project_code=detail.project.code,
                      project_name=detail.project.name, township=detail.project.township,
                      general_contractor=contractor, violations=violations, workers_owed=detail.check.workers_owed,
                      amount_owed_fen=detail.check.amount_owed_fen, deadline=deadline,
                      checked_on=detail.as_of)
