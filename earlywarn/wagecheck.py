"""The wage check (service): balances → features → rules → a level per project, as of a date.

Read-only. :mod:`earlywarn.balances` does the heavy aggregation in SQL and hands back the county's
worker-months as numpy columns; :mod:`earlywarn.check_columns` turns them into the named features of
:mod:`earlywarn.check_features` for every worker-month and worker at once, and this module adds the project
features, evaluates each rule once over all its subjects and rolls the hits up to the project: its compliance
level (green/yellow/orange/red), rule hits with counts, workers and amount owed, the oldest overdue days, and
per worker the months owed. Python loops over projects and over the workers owed, never over worker-months.
:func:`run_checks_at` checks a few projects each as of several dates the same way, all in one table (the
corroboration of a batch of reports).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

import numpy as np
from sqlmodel import Session, select

from earlywarn.balances import MonthColumns, WorkerMonth, month_columns
from earlywarn.check_columns import (
    MinimumWage,
    RosterRow,
    WorkerRuns,
    owed_months,
    worker_columns,
    worker_month_columns,
)
from earlywarn.check_features import FEATURES, SUBJECTS
from earlywarn.config import LOCAL_TZ
from earlywarn.month_columns import month_of
from earlywarn.parsing import fen_to_yuan_str
from earlywarn.rules import Rule, RuleSet, find_escalation, worst_level
from earlywarn.tables import Company, Project, Report, RosterEntry, Worker


@dataclass
class RuleHit:
    rule: Rule
    fired: int = 0
    not_checked: int = 0

    @property
    def live(self) -> bool:
        return self.rule.mode == "live"


@dataclass
class WorkerOwed:
    worker_id: int
    name: str
    id_masked: str
    team: str
    owed_fen: int = 0
    oldest_overdue_days: int = 0
    months: list[tuple[str, int, int]] = field(default_factory=list)  # (period, owed fen, overdue days)


@dataclass
class ProjectCheck:
    project_id: int
    code: str
    name: str
    township: str
    contractor: str
    level: str = "green"
    hits: list[RuleHit] = field(default_factory=list)
    workers_owed: int = 0
    amount_owed_fen: int = 0
    oldest_overdue_days: int = 0
    owed: list[WorkerOwed] = field(default_factory=list)
    features: dict = field(default_factory=dict)

    @property
    def fired_rule_ids(self) -> list[str]:
        """Live rules that fired (the CSV's ``rules`` column); monitor-mode rules are a dry run."""
        return [h.rule.id for h in self.hits if h.fired and h.live]


def run_check(*, session: Session, ruleset: RuleSet, as_of: date, min_wage_tier: int = 2, pay_day: int = 25,
              project_code: str | None = None, report_window_days: int = 30, project_ids: list[int] | None = None,
              months: list[WorkerMonth] | None = None) -> list[ProjectCheck]:
    """The wage check of every project with attendance or payroll on or before ``as_of`` (or of the one project
    ``project_code``, or of those in ``project_ids``: each project's check depends on its own data only).

    ``months`` are the worker-months as of ``as_of`` already read by the caller (the scorer reads them once for
    its features and the check); they must cover every project checked."""
    q = select(Project, Company.name).join(Company, Company.id == Project.general_contractor_id)
    if project_code is not None:
        q = q.where(Project.code == project_code)
    if project_ids is not None:
        q = q.where(Project.id.in_(list(project_ids)))
    projects = {p.id: (p, gc) for p, gc in session.exec(q)}
    if not projects:
        return []
    ids = list(projects) if project_code is not None or project_ids is not None else None
    if months is None:
        table = month_columns(session=session, as_of=as_of, pay_day=pay_day, project_ids=ids)
    else:
        table = MonthColumns.from_months(months, as_of)
        if ids is not None:
            table = table.take(np.isin(table.project_id, ids))
    roster = load_roster(session=session, project_ids=ids)
    reports = recent_reports(session=session, as_of=as_of, days=report_window_days, phrases=ruleset.escalation_phrases,
                              project_ids=ids)
    checked = {pid: Checked(*projects[pid], as_of, reports.get(pid, []))
               for pid in np.unique(table.project_id).tolist()}
    return list(evaluate_checks(ruleset, min_wage_tier, table, roster, checked).values())


def run_checks_at(*, session: Session, ruleset: RuleSet, dates: dict[int, Iterable[date]], min_wage_tier: int = 2,
                  pay_day: int = 25, report_window_days: int = 30) -> dict[tuple[int, date], ProjectCheck]:
    """The check of each project of ``dates`` as of each of its dates — what ``run_check(project_ids=[project],
    as_of=date)`` gives — by (project, date), all computed together (a batch of reports, each corroborated as of
    the day it came in). A project without data by a date has no check then, as run_check returns none.

    One read of the worker-months for every date (:mod:`earlywarn.dated_months`), of the rosters and of the
    reports, and one evaluation of every rule over all the checks: a check per call cost ~10 ms, nearly all of it
    fixed costs."""
    from earlywarn.dated_months import dated_month_columns

    q = (select(Project, Company.name).join(Company, Company.id == Project.general_contractor_id)
         .where(Project.id.in_(list(dates))))
    projects = {p.id: (p, gc) for p, gc in session.exec(q)}
    if not projects:
        return {}
    ids = list(projects)
    table, checks = dated_month_columns(session=session, dates={pid: dates[pid] for pid in ids}, pay_day=pay_day)
    roster = load_roster(session=session, project_ids=ids)
    windows = {day: _report_window(day, report_window_days) for _, day in checks}
    reports = _reports_between(session=session, start=min(start for start, _ in windows.values()),
                               end=max(end for _, end in windows.values()), phrases=ruleset.escalation_phrases,
                               project_ids=ids) if checks else {}
    checked = {}
    for key in np.unique(table.project_id).tolist():
        pid, day = checks[key]
        start, end = windows[day]
        recent = [(w, esc) for at, w, esc in reports.get(pid, ()) if start <= at < end]
        checked[key] = Checked(*projects[pid], day, recent)
    results = evaluate_checks(ruleset, min_wage_tier, table, roster, checked)
    return {checks[key]: pc for key, pc in results.items()}


class Checked(NamedTuple):
    """One check of :func:`evaluate_checks`: the project, its general contractor, the date and its recent reports."""

    project: Project
    contractor: str
    as_of: date
    reports: list[tuple[int | None, bool]]


def load_roster(*, session: Session, project_ids: list[int] | None) -> dict[tuple[int, int], RosterRow]:
    """The roster entries (with worker and team) of these projects, or of all, by (project, worker)."""
    r = RosterEntry
    q = (select(r.project_id, r.worker_id, r.daily_wage_fen, r.exit_date, Worker.name, Worker.id_masked,
                Worker.birth_date, Worker.gender, Company.name)
         .join(Worker, Worker.id == r.worker_id).join(Company, Company.id == r.team_id))
    if project_ids is not None:
        q = q.where(r.project_id.in_(project_ids))
    return {(pid, wid): RosterRow(*rest) for pid, wid, *rest in session.exec(q)}


def evaluate_checks(ruleset: RuleSet, min_wage_tier: int, table: MonthColumns,
                    roster: dict[tuple[int, int], RosterRow], checked: dict[int, Checked]) -> dict[int, ProjectCheck]:
    """The checks ``checked`` over their worker-months ``table``, by key, in order of project code (then date).

    Pure. A check's key is its rows' ``table.project_id``: the project id, or for checks at several dates
    (:func:`earlywarn.dated_months.dated_month_columns`) a number per check. Every key of ``table`` must be in
    ``checked``; ``roster`` is by (project, worker)."""
    present = np.unique(table.project_id).tolist()
    order = sorted(present, key=lambda key: (checked[key].project.code, checked[key].as_of))
    position = {key: i for i, key in enumerate(order)}
    runs = WorkerRuns(table, roster, {key: checked[key].project.id for key in present})
    owner = np.array([position[key] for key in runs.project_id.tolist()], dtype=np.intp)
    minimum = MinimumWage(ruleset, min_wage_tier)
    subjects = _Subjects()
    subjects.columns["worker_month"] = worker_month_columns(table, runs, minimum, owner[runs.of_row])
    worker_cols, worker_owner, figures = worker_columns(table, runs, minimum, owner)
    subjects.columns["worker"] = (worker_cols, worker_owner)
    # Rows and runs are in key order: each check is one slice of both.
    row_bounds = np.searchsorted(table.project_id, present + [np.iinfo(np.int64).max])
    run_bounds = np.searchsorted(runs.project_id, present + [np.iinfo(np.int64).max])
    slices = {key: (slice(row_bounds[i], row_bounds[i + 1]), range(run_bounds[i], run_bounds[i + 1]))
              for i, key in enumerate(present)}
    months_owed = owed_months(table, runs)
    results = {}
    for key in order:
        project, contractor, as_of, reports = checked[key]
        rows, project_runs = slices[key]
        pc = ProjectCheck(project.id, project.code, project.name, project.township, contractor)
        pc.owed = _workers_owed(runs, figures, months_owed, project_runs)
        pc.workers_owed = len(pc.owed)
        pc.amount_owed_fen = sum(w.owed_fen for w in pc.owed)
        pc.oldest_overdue_days = max((w.oldest_overdue_days for w in pc.owed), default=0)
        pc.features = _project_features(project, table, rows, pc, reports, as_of)
        subjects.add("project", pc.features, len(results))
        results[key] = pc
    _apply_rules(ruleset, subjects, list(results.values()))
    return results


def _workers_owed(runs: WorkerRuns, figures, months_owed: dict[int, list], project_runs: range) -> list[WorkerOwed]:
    """The project's workers on its roster with overdue months, most owed first."""
    owed = []
    for run in project_runs:
        entry = runs.entries[run]
        if entry is None or not figures.overdue_months[run]:
            continue
        owed.append(WorkerOwed(int(runs.worker_id[run]), entry.name, entry.id_masked, entry.team,
                               int(figures.owed_fen[run]), int(figures.oldest_overdue_days[run]), months_owed[run]))
    owed.sort(key=lambda w: (-w.owed_fen, w.name))
    return owed


class _Subjects:
    """Feature rows of every subject of the county, with the position of each row's project."""

    def __init__(self):
        self.rows: dict[str, list[dict]] = {s: [] for s in SUBJECTS}
        self.owner: dict[str, list[int]] = {s: [] for s in SUBJECTS}
        self.columns: dict[str, tuple[dict, np.ndarray]] = {}  # subjects built straight into columns

    def add(self, subject: str, features: dict, position: int) -> None:
        self.rows[subject].append(features)
        self.owner[subject].append(position)


def _columns(rows: list[dict], names) -> dict:
    cols = {}
    for name in names:
        values = [row.get(name) for row in rows]
        cols[name] = (np.array([0.0 if v is None else float(v) for v in values], dtype=float),
                      np.array([v is None for v in values], dtype=bool))
    return cols


def _apply_rules(ruleset: RuleSet, subjects: _Subjects, results: list[ProjectCheck]) -> None:
    """Every rule once over all its subjects in the county (numpy columns), counted back per project."""
    n_projects = len(results)
    hits: list[dict[str, RuleHit]] = [{} for _ in results]
    for subject in SUBJECTS:
        if subject in subjects.columns:
            cols, owner = subjects.columns[subject]
        else:
            cols = _columns(subjects.rows[subject], FEATURES[subject])
            owner = np.array(subjects.owner[subject], dtype=np.intp)
        n = len(owner)
        for rule in ruleset.for_subject(subject):
            fired, missing = rule.evaluate_columns(cols, n)
            fired_n = np.bincount(owner, weights=fired, minlength=n_projects).astype(int)
            missing_n = np.bincount(owner, weights=missing, minlength=n_projects).astype(int)
            for i in np.flatnonzero(fired_n | missing_n):
                hits[i][rule.id] = RuleHit(rule, int(fired_n[i]), int(missing_n[i]))
    for pc, project_hits in zip(results, hits, strict=True):
        pc.hits = sorted(project_hits.values(), key=lambda h: (-_LEVEL_RANK[h.rule.level], h.rule.id))
        pc.level = worst_level([h.rule.level for h in pc.hits if h.fired and h.live])


def recent_reports(*, session: Session, as_of: date, days: int, phrases,
                   project_ids: list[int] | None = None) -> dict[int, list[tuple[int | None, bool]]]:
    """Per project, its reports of the last ``days`` calendar days (the as-of day included): (workers named,
    escalation signal — the flag set on arrival, or a phrase of rules/escalation.yaml as it reads now)."""
    start, end = _report_window(as_of, days)
    found = _reports_between(session=session, start=start, end=end, phrases=phrases, project_ids=project_ids)
    return defaultdict(list, {pid: [(w, esc) for _, w, esc in rows] for pid, rows in found.items()})


def _report_window(as_of: date, days: int) -> tuple[datetime, datetime]:
    """The last ``days`` calendar days in the county, the as-of day included: [start, end)."""
    end = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=LOCAL_TZ)
    return end - timedelta(days=days), end


def _reports_between(*, session: Session, start: datetime, end: datetime, phrases, project_ids: list[int] | None
                     ) -> dict[int, list[tuple[datetime, int | None, bool]]]:
    """Per project, its reports received in [start, end): (received, workers named, escalation signal)."""
    q = (select(Report.project_id, Report.received_at, Report.workers_involved, Report.escalation, Report.text)
         .where(Report.project_id.is_not(None), Report.received_at >= start, Report.received_at < end))
    if project_ids is not None:
        q = q.where(Report.project_id.in_(project_ids))
    out: dict[int, list[tuple[datetime, int | None, bool]]] = defaultdict(list)
    for pid, at, workers, escalation, text in session.exec(q):
        out[pid].append((at, workers, bool(escalation) or bool(find_escalation(text, phrases))))
    return out


_LEVEL_RANK = {"none": 0, "blue": 1, "yellow": 2, "orange": 3, "red": 4}


RECENT_MONTHS = 3  # how far back a payment habit (e.g. paying outside the special account) is still "current"


def _months_back(day: date, n: int) -> str:
    index = day.year * 12 + day.month - 1 - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _project_features(project: Project, months: MonthColumns, rows: slice, pc: ProjectCheck, reports,
                      as_of: date) -> dict:
    month, days, paid = months.month[rows], months.attended_days[rows], months.paid_fen[rows]
    due = months.pay_day_passed[rows] & (days > 0)
    attended = due & (month == month[due].max()) if due.any() else due
    n_attended, n_paid = int(attended.sum()), int((attended & (paid > 0)).sum())
    deposit, value = project.wage_deposit_fen, project.contract_value_fen
    recent = month_of(_months_back(as_of, RECENT_MONTHS))
    return {
        "workers_owed": pc.workers_owed, "amount_owed_fen": pc.amount_owed_fen,
        "oldest_overdue_days": pc.oldest_overdue_days,
        "overdue_worker_months": sum(len(w.months) for w in pc.owed),
        "has_wage_account": project.has_wage_account, "has_notice_board": project.has_notice_board,
        "wage_deposit_fen": deposit, "contract_value_fen": value,
        "deposit_ratio": deposit / value if value and deposit is not None else None,
        "last_due_month_attended": n_attended, "last_due_month_paid": n_paid,
        "pay_coverage": n_paid / n_attended if n_attended else None,
        "unpaid_share": (n_attended - n_paid) / n_attended if n_attended else None,
        # Recent months only: a habit corrected long ago should not keep the project orange for ever.
        "payments_outside_special_account": int(months.payments_outside_special_account[rows][month >= recent].sum()),
        "payments_without_channel": int(months.payments_without_channel[rows].sum()),
        "reports_recent": len(reports),
        "reports_workers_max": max((w or 0 for w, _ in reports), default=0),
        "escalation_reports": sum(1 for _, esc in reports if esc),
    }


CSV_COLUMNS = ("project_code", "level", "workers_owed", "amount_owed", "oldest_overdue_days", "rules")


def csv_rows(results: list[ProjectCheck]) -> list[list[str]]:
    """Exactly the wage-check output of formats.md."""
    return [[pc.code, pc.level, str(pc.workers_owed), fen_to_yuan_str(pc.amount_owed_fen), str(pc.oldest_overdue_days),
             ";".join(pc.fired_rule_ids)] for pc in results]


def as_json(results: list[ProjectCheck], as_of: date) -> dict:
    return {"as_of": as_of.isoformat(), "projects": [{
        "project_code": pc.code, "project_name": pc.name, "township": pc.township,
        "general_contractor": pc.contractor, "level": pc.level, "workers_owed": pc.workers_owed,
        "amount_owed": fen_to_yuan_str(pc.amount_owed_fen), "oldest_overdue_days": pc.oldest_overdue_days,
        "rules": [{"id": h.rule.id, "title": h.rule.title, "severity": h.rule.severity, "level": h.rule.level,
                   "mode": h.rule.mode, "fired": h.fired, "not_checked": h.not_checked,
                   "legal_basis": [f"《{b.law}》{b.article}" for b in h.rule.legal_basis]} for h in pc.hits],
        "workers": [{"name": w.name, "id_masked": w.id_masked, "team": w.team, "owed": fen_to_yuan_str(w.owed_fen),
                     "months": [{"period": p, "owed": fen_to_yuan_str(o), "overdue_days": d} for p, o, d in w.months]}
                    for w in pc.owed],
    } for pc in results]}
