"""The risk scorer's features per project as of a date — the one definition training, backtest and live scoring use.

Service (read-only SQL). Every value is computed from data dated on or before the as-of date only, so scoring a
past date gives the same row whether or not later data has arrived since: wage balances through
:func:`earlywarn.balances.worker_months` (attendance up to the date, payments with ``pay_date`` up to it);
attendance windows end on the date; reports count up to the end of the as-of day (Asia/Shanghai); roster exits
count only once they happened; warnings and cases count only when opened before the as-of day (a warning the
same day's scoring opens must not feed back into that score), and a case's outcome only when it was closed before.
Project facts and the subcontract chain carry no dates and are taken as they stand.

Encoding: booleans 0/1; money as log1p(yuan); counts and days as they are; "no data" (no wage account recorded,
no planned end, no payment to take a share of) is NaN, which HistGradientBoosting routes on its own. No ids,
codes, names or dates are columns: they reach ``ProjectFeatures.facts`` for explanations, never the model.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
from sqlalchemy import case, func, or_, select
from sqlmodel import Session

from earlywarn.balances import OVERDUE_TOLERANCE_FEN, WorkerMonth, worker_months
from earlywarn.chain import DEFAULT_MAX_DEPTH, TEAM, chain_depth, chain_issues
from earlywarn.config import LOCAL_TZ
from earlywarn.enums import CaseStatus, ReportCategory, SubcontractKind
from earlywarn.project_arrears import (
    Arrears,
    balance_state,
    county_arrears,
    month_of_index,
    projects_to_score,
)
from earlywarn.simulation import spring_festival
from earlywarn.sites import load_chains
from earlywarn.tables import (
    Attendance,
    Company,
    MediationCase,
    Project,
    Report,
    RiskWarning,
    RosterEntry,
    Subcontract,
)

TREND_DAYS = 28  # arrears now vs four weeks ago
HEADCOUNT_DAYS = 14  # last two weeks' headcount vs the two weeks before
LEAVER_DAYS = 30  # a worker gone within the last 30 days ...
QUIET_DAYS = 7  # ... meaning not seen for a week (or exited on the roster)
CHANNEL_MONTHS = 3  # wage months whose payment channels describe the current habit
FAILED_CASES = (CaseStatus.mediation_failed.value, CaseStatus.referred.value)

FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "欠薪": ("workers_owed", "owed_amount_log", "oldest_overdue_days", "overdue_months", "owed_workforce_share",
             "zero_pay_share_last_due_month", "workers_owed_change_4w", "owed_amount_change_4w",
             "oldest_overdue_change_4w"),
    "考勤": ("headcount_2w", "headcount_change_2w", "worker_days_change_2w", "leavers_30d", "leavers_unsettled_30d",
             "leavers_unsettled_amount_log"),
    "发放方式": ("cash_share_3m", "team_leader_share_3m", "off_account_share_3m", "unrecorded_channel_share_3m"),
    "项目情况": ("has_wage_account", "has_notice_board", "deposit_log", "deposit_ratio", "contract_value_log",
                 "chain_depth", "chain_too_deep", "chain_teams", "unlawful_links", "resubcontract_links",
                 "days_to_planned_end", "planned_end_passed", "project_age_days"),
    "信息员报告": ("reports_recent", "wage_reports_recent", "other_reports_recent", "escalation_reports_recent",
                   "collective_reports_recent", "informants_recent", "anonymous_reports_recent",
                   "corroborated_reports_recent", "reports_last_7d", "reports_workers_max", "days_since_last_report"),
    "季节": ("days_to_spring_festival", "days_since_spring_festival"),
    "关联企业": ("contractor_other_projects_active", "contractor_other_projects_owing", "contractor_other_workers_owed",
                 "contractor_other_owed_log", "chain_other_projects_owing", "chain_other_workers_owed",
                 "chain_units_reports_recent"),
    "历史": ("prior_warnings", "days_since_last_warning", "contractor_prior_warnings", "prior_cases", "open_cases",
             "contractor_prior_cases", "prior_cases_failed", "prior_collective_cases"),
}
NEVER_DAYS = 3650.0  # "days since" for something that never happened

FEATURE_COLUMNS: tuple[str, ...] = tuple(c for cols in FEATURE_GROUPS.values() for c in cols)
GROUP_OF: dict[str, str] = {c: g for g, cols in FEATURE_GROUPS.items() for c in cols}
# Only what is risk by definition (own arrears, their age, workers walking away unpaid, escalation and collective
# reports); shares, trends and network counts are left free for the model to shape.
MONOTONE_INCREASING: tuple[str, ...] = (
    "workers_owed", "owed_amount_log", "oldest_overdue_days", "overdue_months", "leavers_unsettled_30d",
    "leavers_unsettled_amount_log", "wage_reports_recent", "escalation_reports_recent", "collective_reports_recent",
)


@dataclass
class ProjectFeatures:
    project_id: int
    project_code: str
    as_of: date
    values: dict[str, float]
    facts: dict = field(default_factory=dict)


def _log_yuan(fen: float | None) -> float:
    return math.nan if fen is None else math.log1p(max(fen, 0) / 100)


def _share(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def _flag(value: bool | None) -> float:
    return math.nan if value is None else float(bool(value))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL_TZ)


def _festival(year: int) -> date | None:
    try:
        return spring_festival(year)
    except ValueError:  # outside the simulator's table: the season is unknown, not a reason to stop scoring
        return None


def festival_days(as_of: date) -> tuple[float, float]:
    """Days to the next Spring Festival (0 on the day) and since the last one; NaN beyond the date table."""
    this = _festival(as_of.year)
    if this is None:
        return math.nan, math.nan
    following = this if this >= as_of else _festival(as_of.year + 1)
    last = this if this <= as_of else _festival(as_of.year - 1)
    return (math.nan if following is None else (following - as_of).days,
            math.nan if last is None else (as_of - last).days)


# ------------------------------------------------------------------------------------------ queries


@dataclass
class _Context:
    """Everything loaded for one as-of date, shared by the per-project assembly."""

    as_of: date
    projects: dict[int, tuple[str, int]]  # id → (code, general contractor id)
    units: dict[int, set[int]]  # id → every company of its chain, the general contractor included
    neighbours: dict[int, set[int]]  # id → other projects sharing a subcontractor or team with it
    active: set[int]
    arrears: dict[int, Arrears]
    arrears_before: dict[int, Arrears]
    months: dict[int, list[WorkerMonth]]
    attendance: dict[int, list[tuple[int, int]]]  # id → per worker (days in last 2 weeks, days in the 2 before)
    exits: dict[int, set[int]]
    reports: list[tuple]
    last_report: dict[int, date]
    warnings: dict[int, list[date]]
    cases: dict[int, list[tuple[date, date | None, str, bool]]]


def _chains(session: Session, projects: dict[int, tuple[str, int]], targets: list[int]) -> tuple[dict, dict]:
    """Every project's chain companies (general contractor included), and per target the other projects that
    share a subcontractor or team with it. All links are read (a thousand rows for the county) so the one-project
    call walks exactly the graph the county call does."""
    units: dict[int, set[int]] = {pid: {gc} for pid, (_, gc) in projects.items()}
    s = Subcontract
    for pid, parent, child in session.execute(select(s.project_id, s.parent_id, s.child_id)):
        units[pid] |= {parent, child}
    holders: dict[int, set[int]] = defaultdict(set)
    for pid, companies in units.items():
        for company in companies:
            holders[company].add(pid)
    neighbours = {t: {q for u in units[t] - {projects[t][1]} for q in holders[u]} - {t} for t in targets}
    return units, neighbours


def _load(session: Session, as_of: date, pay_day: int, targets: list[int], everything: bool,
          window_days: int, known_months: list[WorkerMonth] | None) -> _Context:
    projects = {pid: (code, gc) for pid, code, gc in session.execute(
        select(Project.id, Project.code, Project.general_contractor_id))}
    units, neighbours = _chains(session, projects, targets)
    gcs = {projects[t][1] for t in targets}
    same_gc = {pid for pid, (_, gc) in projects.items() if gc in gcs}
    related = sorted(same_gc.union(targets, *(neighbours.get(t, set()) for t in targets)))
    scope = None if everything else related
    active = set(projects_to_score(session=session, as_of=as_of, project_ids=scope))
    state = balance_state(session)
    arrears = county_arrears(session, as_of, pay_day, scope, state)
    before = county_arrears(session, as_of - timedelta(days=TREND_DAYS), pay_day, None if everything else targets,
                             state)
    months: dict[int, list[WorkerMonth]] = defaultdict(list)
    wanted = set(targets)
    if known_months is None:
        known_months = worker_months(session=session, as_of=as_of, pay_day=pay_day, project_ids=targets)
    for wm in known_months:
        if wm.project_id in wanted:
            months[wm.project_id].append(wm)

    a, mid = Attendance, as_of - timedelta(days=HEADCOUNT_DAYS)
    recent = func.sum(case((a.work_date > mid, 1), else_=0))
    attendance: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pid, _, new, n in session.execute(
            select(a.project_id, a.worker_id, recent, func.count())
            .where(a.project_id.in_(targets), a.work_date > mid - timedelta(days=HEADCOUNT_DAYS), a.work_date <= as_of)
            .group_by(a.project_id, a.worker_id)):
        attendance[pid].append((int(new), int(n) - int(new)))
    r = RosterEntry
    exits: dict[int, set[int]] = defaultdict(set)
    for pid, wid in session.execute(select(r.project_id, r.worker_id).where(
            r.project_id.in_(targets), r.exit_date >= as_of - timedelta(days=LEAVER_DAYS), r.exit_date <= as_of)):
        exits[pid].add(wid)

    end = _day_start(as_of + timedelta(days=1))
    companies = set().union(*(units.get(t, set()) for t in targets))
    rq = (select(Report.received_at, Report.project_id, Report.company_id, Report.category, Report.escalation,
                 Report.collective, Report.informant_id, Report.corroboration, Report.workers_involved)
          .where(Report.received_at >= end - timedelta(days=window_days), Report.received_at < end))
    if not everything:
        rq = rq.where(or_(Report.project_id.in_(targets), Report.company_id.in_(companies)))
    reports = list(session.execute(rq))
    last_report = {pid: at.astimezone(LOCAL_TZ).date() for pid, at in session.execute(
        select(Report.project_id, func.max(Report.received_at))
        .where(Report.project_id.in_(targets), Report.received_at < end).group_by(Report.project_id))}

    start, history_ids = _day_start(as_of), sorted(same_gc | set(targets))
    warnings: dict[int, list[date]] = defaultdict(list)
    for pid, opened in session.execute(select(RiskWarning.project_id, RiskWarning.opened_at).where(
            RiskWarning.project_id.in_(history_ids), RiskWarning.opened_at < start)):
        warnings[pid].append(opened.astimezone(LOCAL_TZ).date())
    c = MediationCase
    cases: dict[int, list] = defaultdict(list)
    for pid, opened, closed, status, collective in session.execute(
            select(c.project_id, c.opened_at, c.closed_at, c.status, c.is_collective)
            .where(c.project_id.in_(history_ids), c.opened_at < start)):
        cases[pid].append((opened, closed if closed is not None and closed < start else None, status, collective))
    return _Context(as_of, projects, units, neighbours, active, arrears, before, months, attendance, exits,
                    reports, last_report, warnings, cases)


# ------------------------------------------------------------------------------------------ assembly


def _wage_features(ctx: _Context, pid: int, headcount_4w: int) -> dict[str, float]:
    now, then = ctx.arrears.get(pid, Arrears()), ctx.arrears_before.get(pid, Arrears())
    months = ctx.months.get(pid, [])
    due = [wm for wm in months if wm.pay_day_passed and wm.attended_days > 0]
    last = max((wm.period for wm in due), default=None)
    attended = [wm for wm in due if wm.period == last]
    return {
        "workers_owed": now.workers, "owed_amount_log": _log_yuan(now.owed_fen),
        "oldest_overdue_days": now.oldest_overdue_days, "overdue_months": now.months,
        "owed_workforce_share": _share(now.workers, headcount_4w),
        "zero_pay_share_last_due_month": _share(sum(wm.paid_fen == 0 for wm in attended), len(attended)),
        "workers_owed_change_4w": now.workers - then.workers,
        "owed_amount_change_4w": _log_yuan(now.owed_fen) - _log_yuan(then.owed_fen),
        "oldest_overdue_change_4w": now.oldest_overdue_days - then.oldest_overdue_days,
    }


def _attendance_features(ctx: _Context, pid: int) -> dict[str, float]:
    rows = ctx.attendance.get(pid, [])
    head_new, head_old = sum(n > 0 for n, _ in rows), sum(o > 0 for _, o in rows)
    days_new, days_old = sum(n for n, _ in rows), sum(o for _, o in rows)
    per_worker: dict[int, list[WorkerMonth]] = defaultdict(list)
    for wm in ctx.months.get(pid, []):
        per_worker[wm.worker_id].append(wm)
    first_gone, quiet = ctx.as_of - timedelta(days=LEAVER_DAYS), ctx.as_of - timedelta(days=QUIET_DAYS)
    leavers = unsettled = 0
    unsettled_fen = 0
    for wid, wms in per_worker.items():
        seen = max((wm.last_day for wm in wms if wm.last_day), default=None)
        if wid in ctx.exits.get(pid, ()) or (seen is not None and first_gone <= seen <= quiet):
            leavers += 1
            owed = sum(wm.owed_fen for wm in wms)
            if owed > OVERDUE_TOLERANCE_FEN:
                unsettled, unsettled_fen = unsettled + 1, unsettled_fen + owed
    return {
        "headcount_2w": head_new, "headcount_change_2w": _share(head_new - head_old, head_old),
        "worker_days_change_2w": _share(days_new - days_old, days_old), "leavers_30d": leavers,
        "leavers_unsettled_30d": unsettled, "leavers_unsettled_amount_log": _log_yuan(unsettled_fen),
    }


def _channel_features(ctx: _Context, pid: int) -> dict[str, float]:
    first = month_of_index(ctx.as_of.year * 12 + ctx.as_of.month - 1 - CHANNEL_MONTHS)
    recent = [wm for wm in ctx.months.get(pid, []) if wm.period >= first and wm.payments]
    total = sum(wm.paid_fen for wm in recent)
    return {
        "cash_share_3m": _share(sum(wm.paid_cash_fen for wm in recent), total),
        "team_leader_share_3m": _share(sum(wm.paid_team_leader_fen for wm in recent), total),
        "off_account_share_3m": _share(sum(wm.paid_outside_special_account_fen for wm in recent), total),
        "unrecorded_channel_share_3m": _share(sum(wm.payments_without_channel for wm in recent),
                                              sum(wm.payments for wm in recent)),
    }


def _project_features(project: Project, graph, as_of: date) -> dict[str, float]:
    issues = chain_issues(graph)
    depth = chain_depth(graph)
    value, deposit, end = project.contract_value_fen, project.wage_deposit_fen, project.planned_end_date
    resub = SubcontractKind.sub_subcontract.value
    return {
        "has_wage_account": _flag(project.has_wage_account), "has_notice_board": _flag(project.has_notice_board),
        "deposit_log": _log_yuan(deposit),
        "deposit_ratio": deposit / value if value and deposit is not None else math.nan,
        "contract_value_log": _log_yuan(value), "chain_depth": depth,
        "chain_too_deep": float(depth > DEFAULT_MAX_DEPTH),
        "chain_teams": sum(1 for _, kind in graph.nodes(data="kind") if kind == TEAM),
        "unlawful_links": sum(1 for i in issues if i.violation),
        "resubcontract_links": sum(1 for *_, kind in graph.edges(data="kind") if kind == resub),
        "days_to_planned_end": math.nan if end is None else (end - as_of).days,
        "planned_end_passed": math.nan if end is None else float(end < as_of),
        "project_age_days": (as_of - project.start_date).days,
    }


def _report_features(ctx: _Context, pid: int) -> dict[str, float]:
    units = ctx.units.get(pid, set())
    own = [r for r in ctx.reports if r.project_id == pid]
    week = _day_start(ctx.as_of + timedelta(days=1 - QUIET_DAYS))
    wage = ReportCategory.wage_arrears.value
    last = ctx.last_report.get(pid)
    return {
        "reports_recent": len(own), "wage_reports_recent": sum(r.category == wage for r in own),
        "other_reports_recent": sum(r.category != wage for r in own),
        "escalation_reports_recent": sum(bool(r.escalation) for r in own),
        "collective_reports_recent": sum(bool(r.collective) for r in own),
        "informants_recent": len({r.informant_id for r in own if r.informant_id is not None}),
        "anonymous_reports_recent": sum(r.informant_id is None for r in own),
        "corroborated_reports_recent": sum(r.corroboration == "corroborated" for r in own),
        "reports_last_7d": sum(r.received_at >= week for r in own),
        "reports_workers_max": max((r.workers_involved or 0 for r in own), default=0),
        "days_since_last_report": NEVER_DAYS if last is None else (ctx.as_of - last).days,
        "chain_units_reports_recent": sum(1 for r in ctx.reports if r.project_id != pid and r.company_id in units),
    }


def _network_features(ctx: _Context, pid: int) -> tuple[dict[str, float], dict]:
    gc = ctx.projects[pid][1]
    siblings = [q for q, (_, g) in ctx.projects.items() if g == gc and q != pid]
    owing = [q for q in siblings if q in ctx.arrears]
    chain_owing = [q for q in sorted(ctx.neighbours.get(pid, ())) if q in ctx.arrears]
    values = {
        "contractor_other_projects_active": sum(q in ctx.active for q in siblings),
        "contractor_other_projects_owing": len(owing),
        "contractor_other_workers_owed": sum(ctx.arrears[q].workers for q in owing),
        "contractor_other_owed_log": _log_yuan(sum(ctx.arrears[q].owed_fen for q in owing)),
        "chain_other_projects_owing": len(chain_owing),
        "chain_other_workers_owed": sum(ctx.arrears[q].workers for q in chain_owing),
    }
    facts = {"contractor_other_projects_owing": len(owing),
             "contractor_other_owing_codes": sorted(ctx.projects[q][0] for q in owing),
             "chain_other_owing_codes": sorted(ctx.projects[q][0] for q in chain_owing)}
    return values, facts


def _history_features(ctx: _Context, pid: int) -> dict[str, float]:
    gc = ctx.projects[pid][1]
    siblings = [q for q, (_, g) in ctx.projects.items() if g == gc and q != pid]
    w = ctx.warnings.get(pid, [])
    cases = ctx.cases.get(pid, [])
    gc_cases = [c for q in siblings for c in ctx.cases.get(q, [])]
    return {
        # "Never" is a long time ago, not missing data (and a column that is all NaN breaks the booster's binning).
        "prior_warnings": len(w), "days_since_last_warning": (ctx.as_of - max(w)).days if w else NEVER_DAYS,
        "contractor_prior_warnings": sum(len(ctx.warnings.get(q, [])) for q in siblings),
        "prior_cases": len(cases), "open_cases": sum(closed is None for _, closed, _, _ in cases),
        "contractor_prior_cases": len(gc_cases),
        "prior_cases_failed": sum(closed is not None and status in FAILED_CASES
                                  for _, closed, status, _ in cases + gc_cases),
        "prior_collective_cases": sum(bool(collective) for *_, collective in cases + gc_cases),
    }


def scoring_targets(*, session: Session, as_of: date, project_ids: list[int] | None = None) -> list[int]:
    """The projects to score (``project_ids=None``: those active in the last 30 days), else exactly those
    projects, active or not (an on-demand score of a quiet site is still wanted). Ordered by project code."""
    if project_ids is None:
        return projects_to_score(session=session, as_of=as_of)
    return list(session.execute(select(Project.id).where(Project.id.in_(list(project_ids)))
                                .order_by(Project.code)).scalars())


def compute_features(*, session: Session, as_of: date, pay_day: int = 25, project_ids: list[int] | None = None,
                     report_window_days: int = 30, targets: list[int] | None = None,
                     months: list[WorkerMonth] | None = None) -> list[ProjectFeatures]:
    """Feature rows as of ``as_of`` of :func:`scoring_targets` (or of ``targets`` already found by the caller,
    with ``months``, their worker-months as of ``as_of``, when the caller has read them too)."""
    if targets is None:
        targets = scoring_targets(session=session, as_of=as_of, project_ids=project_ids)
    if not targets:
        return []
    ctx = _load(session, as_of, pay_day, targets, project_ids is None, report_window_days, months)
    objects = {p.id: p for p in session.execute(select(Project).where(Project.id.in_(targets))).scalars()}
    graphs = load_chains(session=session, projects=list(objects.values()))
    contractors = dict(session.execute(select(Company.id, Company.name).where(
        Company.id.in_({p.general_contractor_id for p in objects.values()}))).all())
    to_festival, since_festival = festival_days(as_of)
    rows = []
    for pid in targets:
        project = objects[pid]
        attendance = _attendance_features(ctx, pid)
        headcount_4w = len(ctx.attendance.get(pid, []))
        network, network_facts = _network_features(ctx, pid)
        values = {**_wage_features(ctx, pid, headcount_4w), **attendance, **_channel_features(ctx, pid),
                  **_project_features(project, graphs[pid], as_of), **_report_features(ctx, pid),
                  "days_to_spring_festival": to_festival, "days_since_spring_festival": since_festival, **network,
                  **_history_features(ctx, pid)}
        values = {c: float(values[c]) for c in FEATURE_COLUMNS}
        owed = ctx.arrears.get(pid, Arrears())
        facts = {"general_contractor": contractors.get(project.general_contractor_id), "workers_owed": owed.workers,
                 "amount_owed_fen": owed.owed_fen, "months_owed": owed.months,
                 "oldest_overdue_days": owed.oldest_overdue_days, "headcount_2w": attendance["headcount_2w"],
                 "leavers_unsettled_30d": attendance["leavers_unsettled_30d"],
                 "days_to_spring_festival": to_festival, "chain_depth": int(values["chain_depth"]),
                 "reports_recent": int(values["reports_recent"]),
                 "escalation_reports": int(values["escalation_reports_recent"]), **network_facts}
        rows.append(ProjectFeatures(pid, project.code, as_of, values, facts))
    return rows


def feature_matrix(rows: list[ProjectFeatures]) -> np.ndarray:
    """Rows × FEATURE_COLUMNS, float64; a missing value is NaN."""
    out = np.full((len(rows), len(FEATURE_COLUMNS)), np.nan, dtype=np.float64)
    for i, row in enumerate(rows):
        out[i] = [math.nan if (v := row.values.get(c)) is None else v for c in FEATURE_COLUMNS]
    return out
