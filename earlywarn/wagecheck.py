"""The wage check (service): balances → features → rules → a level per project, as of a date.

Read-only. :mod:`earlywarn.balances` does the heavy aggregation in SQL; this module turns the
worker-months into the named features of :mod:`earlywarn.check_features`, evaluates the rule set per
subject and rolls the hits up to the project: its compliance level (green/yellow/orange/red), rule hits
with counts, workers and amount owed, the oldest overdue days, and per worker the months owed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from sqlmodel import Session, select

from earlywarn.balances import OVERDUE_TOLERANCE_FEN, WorkerMonth, worker_months
from earlywarn.check_features import FEATURES, SUBJECTS
from earlywarn.parsing import fen_to_yuan_str
from earlywarn.rules import Rule, RuleSet, find_escalation, minimum_wage, worst_level
from earlywarn.tables import Company, Project, Report, RosterEntry, Worker

PAID_DAYS_PER_MONTH = 21.75  # 劳社部发〔2008〕3号: 月计薪天数


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


def _age(birth: date | None, on: date | None) -> float | None:
    if birth is None or on is None:
        return None
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return years


def _month_start(period: str) -> date:
    return date(int(period[:4]), int(period[5:7]), 1)


class _MinWage:
    def __init__(self, ruleset: RuleSet, tier: int):
        self.ruleset, self.tier, self.cache = ruleset, tier, {}

    def monthly_fen(self, on: date) -> int:
        key = (on.year, on.month)
        if key not in self.cache:
            self.cache[key] = minimum_wage(self.ruleset.minimum_wage, self.tier, on)[0]
        return self.cache[key]


_PERIODS: dict[str, tuple[date, date]] = {}


def _period_bounds(period: str) -> tuple[date, date]:
    bounds = _PERIODS.get(period)
    if bounds is None:
        start = _month_start(period)
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        bounds = _PERIODS[period] = (start, end)
    return bounds


def _worker_month_columns(months: list[WorkerMonth], roster, minimum: _MinWage, position: dict[int, int],
                          as_of: date) -> tuple[dict, np.ndarray]:
    """The worker_month features (check_features.FEATURES["worker_month"]) of the whole county, as numpy columns."""
    def col(values) -> np.ndarray:
        return np.fromiter(values, dtype=float, count=len(months))

    no = np.zeros(len(months), dtype=bool)
    entries = [roster.get((wm.project_id, wm.worker_id)) for wm in months]
    earned, paid = col(wm.earned_fen for wm in months), col(wm.paid_fen for wm in months)
    due = col(wm.pay_day.toordinal() for wm in months)
    passed = due < as_of.toordinal()
    owed = np.maximum(earned - paid, 0)
    overdue = passed & (owed > OVERDUE_TOLERANCE_FEN)
    days = col(wm.attended_days for wm in months)
    minimum_month = col(minimum.monthly_fen(_period_bounds(wm.period)[0]) for wm in months)
    month_end = col(_period_bounds(wm.period)[1].toordinal() for wm in months)
    exit_day = col(e.exit_date.toordinal() if e and e.exit_date else np.inf for e in entries)
    wage = col(e.daily_wage_fen if e else 0 for e in entries)
    cols = {
        "earned_fen": (earned, no), "paid_fen": (paid, no), "owed_fen": (owed, no), "attended_days": (days, no),
        "pay_day_passed": (passed.astype(float), no), "overdue": (overdue.astype(float), no),
        "overdue_days": (np.where(overdue, as_of.toordinal() - due, 0.0), no),
        "paid_nothing": ((passed & (earned > 0) & (paid == 0)).astype(float), no),
        "payments": (col(wm.payments for wm in months), no),
        "paid_cash_fen": (col(wm.paid_cash_fen for wm in months), no),
        "paid_team_leader_fen": (col(wm.paid_team_leader_fen for wm in months), no),
        "paid_outside_special_account_fen": (col(wm.paid_outside_special_account_fen for wm in months), no),
        "payments_without_channel": (col(wm.payments_without_channel for wm in months), no),
        "daily_wage_fen": (wage, np.array([e is None for e in entries], dtype=bool)),
        # Python's round() and numpy's rint both round half to even: the two forms agree to the fen.
        "min_wage_prorata_fen": (np.rint(minimum_month / PAID_DAYS_PER_MONTH * days), no),
        "exited_by_month_end": ((exit_day <= month_end).astype(float), no),
    }
    owner = np.fromiter((position[wm.project_id] for wm in months), dtype=np.intp, count=len(months))
    return cols, owner


@dataclass(slots=True)
class _RosterRow:
    daily_wage_fen: int
    exit_date: date | None
    name: str
    id_masked: str
    birth_date: date | None
    gender: str | None
    team: str


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
        months = worker_months(session=session, as_of=as_of, pay_day=pay_day, project_ids=ids)
    elif ids is not None:
        months = [wm for wm in months if wm.project_id in projects]
    by_project: dict[int, list[WorkerMonth]] = defaultdict(list)
    for wm in months:
        by_project[wm.project_id].append(wm)

    r = RosterEntry
    roster_q = (select(r.project_id, r.worker_id, r.daily_wage_fen, r.exit_date, Worker.name, Worker.id_masked,
                       Worker.birth_date, Worker.gender, Company.name)
                .join(Worker, Worker.id == r.worker_id).join(Company, Company.id == r.team_id))
    if ids is not None:
        roster_q = roster_q.where(r.project_id.in_(ids))
    roster = {(pid, wid): _RosterRow(*rest) for pid, wid, *rest in session.exec(roster_q)}
    reports = _recent_reports(session=session, as_of=as_of, days=report_window_days, phrases=ruleset.escalation_phrases,
                              project_ids=ids)

    minimum = _MinWage(ruleset, min_wage_tier)
    subjects = _Subjects()
    results = []
    order = sorted(by_project, key=lambda pid: projects[pid][0].code)
    position = {pid: i for i, pid in enumerate(order)}
    subjects.columns["worker_month"] = _worker_month_columns(months, roster, minimum, position, as_of)
    for project_id in order:
        project, contractor = projects[project_id]
        results.append(_check_project(project, contractor, by_project[project_id], roster,
                                      reports.get(project_id, []), minimum, as_of, subjects, len(results)))
    _apply_rules(ruleset, subjects, results)
    return results


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


def _recent_reports(*, session: Session, as_of: date, days: int, phrases,
                    project_ids: list[int] | None = None) -> dict[int, list[tuple[int | None, bool]]]:
    from datetime import datetime, time

    from earlywarn.config import LOCAL_TZ

    end = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=LOCAL_TZ)
    start = end - timedelta(days=days)  # the last ``days`` calendar days, the as-of day included
    q = (select(Report.project_id, Report.workers_involved, Report.escalation, Report.text)
         .where(Report.project_id.is_not(None), Report.received_at >= start, Report.received_at < end))
    if project_ids is not None:
        q = q.where(Report.project_id.in_(project_ids))
    out: dict[int, list[tuple[int | None, bool]]] = defaultdict(list)
    for pid, workers, escalation, text in session.exec(q):
        out[pid].append((workers, bool(escalation) or bool(find_escalation(text, phrases))))
    return out


def _check_project(project: Project, contractor: str, months: list[WorkerMonth], roster, reports,
                   minimum: _MinWage, as_of: date, subjects: _Subjects, position: int) -> ProjectCheck:
    """A project's figures and the feature rows of its subjects; the rules run county-wide afterwards."""
    pc = ProjectCheck(project.id, project.code, project.name, project.township, contractor)

    def apply(subject: str, features: dict) -> None:
        subjects.add(subject, features, position)

    per_worker: dict[int, list[WorkerMonth]] = defaultdict(list)
    for wm in months:  # worker-month rules run on columns built once for the county (_worker_month_columns)
        per_worker[wm.worker_id].append(wm)

    for worker_id, wms in per_worker.items():
        r = roster.get((project.id, worker_id))
        if r is None:
            continue
        name, masked, birth, gender, team = r.name, r.id_masked, r.birth_date, r.gender, r.team
        first = min((wm.first_day for wm in wms if wm.first_day), default=None)
        last = max((wm.last_day for wm in wms if wm.last_day), default=None)
        overdue = [wm for wm in wms if wm.overdue]
        exited = r.exit_date is not None and r.exit_date <= as_of
        yearly: dict[str, int] = defaultdict(int)
        for wm in wms:
            yearly[wm.period[:4]] += wm.paid_fen
        owed = sum(wm.owed_fen for wm in overdue)
        features = {
            "age_at_first_day": _age(birth, first), "age_at_last_day": _age(birth, last),
            "is_female": None if gender is None else gender == "F", "daily_wage_fen": r.daily_wage_fen,
            "daily_minimum_fen": round(minimum.monthly_fen(last or as_of) / PAID_DAYS_PER_MONTH),
            "exited": exited, "owed_fen": owed, "overdue_months": len(overdue),
            "oldest_overdue_days": max((wm.overdue_days for wm in overdue), default=0),
            "owed_after_exit_fen": owed if exited else 0,
            "paid_month_max_fen": max((wm.paid_fen for wm in wms), default=0),
            "paid_year_max_fen": max(yearly.values(), default=0),
        }
        apply("worker", features)
        if overdue:
            pc.owed.append(WorkerOwed(worker_id, name, masked, team, owed, features["oldest_overdue_days"],
                                      [(wm.period, wm.owed_fen, wm.overdue_days) for wm in overdue]))

    pc.owed.sort(key=lambda w: (-w.owed_fen, w.name))
    pc.workers_owed = len(pc.owed)
    pc.amount_owed_fen = sum(w.owed_fen for w in pc.owed)
    pc.oldest_overdue_days = max((w.oldest_overdue_days for w in pc.owed), default=0)
    pc.features = _project_features(project, months, pc, reports, as_of)
    apply("project", pc.features)
    return pc


_LEVEL_RANK = {"none": 0, "blue": 1, "yellow": 2, "orange": 3, "red": 4}


RECENT_MONTHS = 3  # how far back a payment habit (e.g. paying outside the special account) is still "current"


def _months_back(day: date, n: int) -> str:
    index = day.year * 12 + day.month - 1 - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _project_features(project: Project, months: list[WorkerMonth], pc: ProjectCheck, reports, as_of: date) -> dict:
    due = [wm for wm in months if wm.pay_day_passed and wm.attended_days > 0]
    last_period = max((wm.period for wm in due), default=None)
    attended = [wm for wm in due if wm.period == last_period]
    paid = [wm for wm in attended if wm.paid_fen > 0]
    deposit, value = project.wage_deposit_fen, project.contract_value_fen
    recent = _months_back(as_of, RECENT_MONTHS)
    return {
        "workers_owed": pc.workers_owed, "amount_owed_fen": pc.amount_owed_fen,
        "oldest_overdue_days": pc.oldest_overdue_days,
        "overdue_worker_months": sum(len(w.months) for w in pc.owed),
        "has_wage_account": project.has_wage_account, "has_notice_board": project.has_notice_board,
        "wage_deposit_fen": deposit, "contract_value_fen": value,
        "deposit_ratio": deposit / value if value and deposit is not None else None,
        "last_due_month_attended": len(attended), "last_due_month_paid": len(paid),
        "pay_coverage": len(paid) / len(attended) if attended else None,
        "unpaid_share": (len(attended) - len(paid)) / len(attended) if attended else None,
        # Recent months only: a habit corrected long ago should not keep the project orange for ever.
        "payments_outside_special_account": sum(wm.payments_outside_special_account for wm in months
                                                if wm.period >= recent),
        "payments_without_channel": sum(wm.payments_without_channel for wm in months),
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
