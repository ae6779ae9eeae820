"""Reports and what they are about (service): linking to a project and company, the "needs linking" queue, manual
linking by a mediator, corroboration against the wage check, and incidents (clusters of reports).

The matching itself is pure (:mod:`earlywarn.linking`, :mod:`earlywarn.incidents`); this module loads the
candidates, writes the outcome on the report and audits every change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import date, datetime
from typing import NamedTuple

from sqlmodel import Session, select

from earlywarn.audit import record_audit
from earlywarn.config import local_date
from earlywarn.db import utcnow
from earlywarn.enums import ReportCategory, ReportStatus
from earlywarn.incidents import WINDOW_DAYS, Incident, ReportNode, cluster_reports
from earlywarn.linking import (
    CandidateIndex,
    LinkResult,
    company_candidate,
    link_report,
    make_candidates,
    project_candidate,
)
from earlywarn.rules import RuleSet
from earlywarn.tables import Company, Informant, Project, Report, Subcontract, UserAccount
from earlywarn.wagecheck import ProjectCheck, run_check, run_checks_at

MANUAL = "manual"
LINK_THRESHOLD = 0.85
CORROBORATED, NOT_CORROBORATED, NO_DATA = "corroborated", "not_corroborated", "no_data"
# Attendance with nothing paid past the pay day is the arrears an informant reports, even below ￥1 owed.
ARREARS_RULES = frozenset({"wages.attendance_without_pay", "wages.attendance_without_pay_month_later"})


class LinkCandidates(NamedTuple):
    index: CandidateIndex
    codes: dict[str, int]


def load_candidates(*, session: Session) -> LinkCandidates:
    """Every project and every company with the projects it works on (general contractor or in the chain)."""
    projects = session.exec(select(Project)).all()
    sites: dict[int, set[int]] = defaultdict(set)
    for p in projects:
        sites[p.general_contractor_id].add(p.id)
    for project_id, parent_id, child_id in session.exec(
            select(Subcontract.project_id, Subcontract.parent_id, Subcontract.child_id)):
        sites[parent_id].add(project_id)
        sites[child_id].add(project_id)
    candidates = [project_candidate(p.id, p.name, p.township, p.start_date, p.planned_end_date) for p in projects]
    candidates += [company_candidate(c.id, c.name, c.kind, sites.get(c.id, ()))
                   for c in session.exec(select(Company))]
    return LinkCandidates(CandidateIndex(make_candidates(candidates)), {p.code: p.id for p in projects})


def _touch(report: Report, **analysis) -> None:
    # A new dict, so the JSON column is seen as changed.
    report.analysis = {**(report.analysis or {}), **analysis}
    report.updated_at = utcnow()


def link_report_record(*, session: Session, report: Report, candidates: LinkCandidates | None = None,
                       threshold: float = LINK_THRESHOLD, commit: bool = True, audit: bool = True) -> LinkResult | None:
    """Link one report automatically. A mediator's manual link is never overwritten (returns None)."""
    if report.link_method == MANUAL:
        return None
    candidates = candidates or load_candidates(session=session)
    result = link_report(project_code=report.project_code_text, employer=report.employer_text, text=report.text,
                         township=report.township, candidates=candidates.index, codes=candidates.codes,
                         threshold=threshold, on=local_date(report.received_at))
    report.project_id, report.company_id = result.project_id, result.company_id
    report.link_method, report.link_confidence = result.method, result.confidence
    _touch(report, link={"matched": result.matched, "via_company": result.project_via_company,
                         "alternatives": [asdict(a) for a in result.alternatives]})
    session.add(report)
    if audit:
        record_audit(session=session, action="report.link", object_type="report", object_id=report.id,
                     detail={"method": result.method, "confidence": result.confidence,
                             "project_id": result.project_id, "company_id": result.company_id})
    if commit:
        session.commit()
    return result


def relink_unlinked(*, session: Session, threshold: float = LINK_THRESHOLD, commit: bool = True) -> int:
    """Try every report the linker has not resolved yet (new reports, or new projects since); returns how many
    are now linked. One audit entry for the run: per-report entries would bury the log under a bulk job."""
    reports = session.exec(select(Report).where(Report.link_method.is_(None)).order_by(Report.id)).all()
    candidates = load_candidates(session=session)
    linked = []
    for report in reports:
        result = link_report_record(session=session, report=report, candidates=candidates, threshold=threshold,
                                    commit=False, audit=False)
        if result is not None and result.resolved:
            linked.append(report.id)
    record_audit(session=session, action="report.relink", object_type="report",
                 detail={"checked": len(reports), "linked": len(linked), "report_ids": linked[:500]})
    if commit:
        session.commit()
    return len(linked)


def needs_linking(*, session: Session, limit: int = 200) -> list[Report]:
    """The mediator's queue: open reports linked to neither a project nor a company, newest first."""
    q = (select(Report).where(Report.project_id.is_(None), Report.company_id.is_(None),
                              Report.status != ReportStatus.closed.value)
         .order_by(Report.received_at.desc(), Report.id.desc()).limit(limit))
    return list(session.exec(q).all())


def link_manually(*, session: Session, report: Report, actor: UserAccount | None, project_id: int | None = None,
                  company_id: int | None = None, commit: bool = True) -> Report:
    """A mediator links a report by hand; it then stays linked so, whatever the automatic linker says later."""
    if project_id is None and company_id is None:
        raise ValueError("请选择该报告涉及的项目或单位")
    if project_id is not None and session.get(Project, project_id) is None:
        raise ValueError(f"项目 {project_id} 不存在")
    if company_id is not None and session.get(Company, company_id) is None:
        raise ValueError(f"单位 {company_id} 不存在")
    before = {"project_id": report.project_id, "company_id": report.company_id, "method": report.link_method,
              "confidence": report.link_confidence}
    report.project_id, report.company_id = project_id, company_id
    report.link_method, report.link_confidence = MANUAL, 1.0
    link = dict((report.analysis or {}).get("link") or {})
    _touch(report, link={**link, "matched": None, "via_company": False, "manual_by": actor.id if actor else None})
    session.add(report)
    record_audit(session=session, action="report.link_manual", actor=actor, object_type="report",
                 object_id=report.id, detail={"before": before, "project_id": project_id, "company_id": company_id})
    if commit:
        session.commit()
    return report


def corroborate(*, session: Session, ruleset: RuleSet, report: Report, as_of: date | None = None,
                min_wage_tier: int = 2, pay_day: int = 25, commit: bool = True, audit: bool = True) -> str | None:
    """Cross-check a wage-arrears report with its project's wage check as of the day it was received.

    corroborated: the check shows workers owed (or attendance unpaid past the pay day); not_corroborated: the
    project has attendance or payroll by then and nothing is owed; no_data: no project, or nothing uploaded
    for it by then. Other categories are not checked (returns None, nothing written)."""
    if report.category != ReportCategory.wage_arrears.value:
        return None
    as_of = as_of or local_date(report.received_at)
    project = session.get(Project, report.project_id) if report.project_id is not None else None
    checks = run_check(session=session, ruleset=ruleset, as_of=as_of, min_wage_tier=min_wage_tier, pay_day=pay_day,
                       project_code=project.code) if project is not None else []
    outcome = _record_corroboration(session=session, report=report, as_of=as_of, has_project=project is not None,
                                    check=checks[0] if checks else None, audit=audit)
    if commit:
        session.commit()
    return outcome


def corroborate_many(*, session: Session, ruleset: RuleSet, reports: list[Report], min_wage_tier: int = 2,
                     pay_day: int = 25, commit: bool = True, audit: bool = True) -> list[str | None]:
    """:func:`corroborate` for each report (each as of the day it was received), with the same outcomes and
    details, in one wage-check computation for all their projects and days instead of one per report (an import
    of a county's reports spent seconds there). The outcome of each report, in order."""
    wanted = [r for r in reports if r.category == ReportCategory.wage_arrears.value]
    ids = {r.project_id for r in wanted if r.project_id is not None}
    projects = set(session.exec(select(Project.id).where(Project.id.in_(ids)))) if ids else set()
    days: dict[int, set[date]] = defaultdict(set)
    for r in wanted:
        if r.project_id in projects:
            days[r.project_id].add(local_date(r.received_at))
    checks = run_checks_at(session=session, ruleset=ruleset, dates=days, min_wage_tier=min_wage_tier,
                           pay_day=pay_day) if days else {}
    outcomes = []
    for r in reports:
        if r.category != ReportCategory.wage_arrears.value:
            outcomes.append(None)
            continue
        as_of = local_date(r.received_at)
        outcomes.append(_record_corroboration(session=session, report=r, as_of=as_of,
                                              has_project=r.project_id in projects,
                                              check=checks.get((r.project_id, as_of)), audit=audit))
    if commit:
        session.commit()
    return outcomes


def _record_corroboration(*, session: Session, report: Report, as_of: date, has_project: bool,
                          check: ProjectCheck | None, audit: bool) -> str:
    """Write the outcome of a report's corroboration (its project's check as of ``as_of``, None when the project
    has no data by then) on the report, and audit it."""
    detail: dict = {"as_of": as_of.isoformat()}
    if not has_project:
        outcome, detail["reason"] = NO_DATA, "no_project"
    elif check is None:
        outcome, detail["reason"] = NO_DATA, "no_wage_data"
    else:
        fired = sorted(h.rule.id for h in check.hits if h.fired and h.rule.id in ARREARS_RULES)
        outcome = CORROBORATED if check.workers_owed > 0 or fired else NOT_CORROBORATED
        detail |= {"workers_owed": check.workers_owed, "amount_owed_fen": check.amount_owed_fen,
                   "level": check.level, "rules": fired}
    report.corroboration = outcome
    _touch(report, corroboration=detail)
    session.add(report)
    if audit:
        record_audit(session=session, action="report.corroborate", object_type="report", object_id=report.id,
                     detail={"outcome": outcome, **detail})
    return outcome


def incidents(*, session: Session, since: datetime | None = None, project_id: int | None = None,
              window_days: int = WINDOW_DAYS) -> list[Incident]:
    """Incidents among the linked reports received since ``since`` (all when None), optionally of one project.

    An incident already running at ``since`` shows only its later reports."""
    q = (select(Report.id, Report.received_at, Report.project_id, Report.company_id, Informant.pseudonym_no)
         .outerjoin(Informant, Informant.id == Report.informant_id)
         .where((Report.project_id.is_not(None)) | (Report.company_id.is_not(None))))
    if since is not None:
        q = q.where(Report.received_at >= since)
    if project_id is not None:
        q = q.where(Report.project_id == project_id)
    nodes = [ReportNode(rid, at, pid, cid, None if no is None else f"#{no}")
             for rid, at, pid, cid, no in session.exec(q)]
    return cluster_reports(nodes, window_days=window_days)


def incident_of(*, session: Session, report: Report, window_days: int = WINDOW_DAYS) -> Incident | None:
    """The incident a report belongs to, when other reports joined it (a lone report is no incident)."""
    if report.project_id is None and report.company_id is None:
        return None
    candidates = incidents(session=session, project_id=report.project_id, window_days=window_days)
    found = next((i for i in candidates if report.id in i.report_ids), None)
    return found if found is not None and len(found.report_ids) > 1 else None
