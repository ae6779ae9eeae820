"""Closed loop (service): a policy's weekly top K drives simulated mediator visits in a simulated county.

Every week the simulated county (``simulation.lockstep``) is advanced to the week's last day; the week's new
rows are written as small input files and imported into a scratch SQLite database by the real importer (with
that day as "today", so nothing dated later can enter); the policy ranks the projects as of that day and
the mediators visit its top K on the next day. A visit to a project with arrears resolves them with a
probability (the payer pays all or most within days, the project is supervised, the workers calm down).

Policies: ``scorer`` (the risk scorer's levels then scores), ``rules`` (the wage check's levels then the
amount owed), ``random`` (K of the projects with workers on the roster lately, seeded) and ``none`` (no
visits: the counterfactual; it equals the plain simulation). Every policy runs on the same county and the
same visit draws (a visit to a project on a day succeeds or fails alike under every policy), so the
differences are the policies'.
"""

from __future__ import annotations

import csv
import random
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlmodel import select

from earlywarn.config import Settings
from earlywarn.parsing import fen_to_yuan_str
from earlywarn.simulation.lockstep import LockstepCounty, WeekRows
from earlywarn.simulation.tables import HEADERS
from earlywarn.tables import Project

POLICIES = ("none", "rules", "random", "scorer")
_LEVEL_RANK = {"red": 4, "orange": 3, "yellow": 2, "blue": 1}  # the scorer's and the check's levels; else 0
_FILE_ORDER = ("projects", "subcontracts", "workers", "attendance", "payroll", "reports")


class ClosedLoopError(ValueError):
    """Bad arguments or a week that could not be imported; the message is for people (Chinese)."""


@dataclass
class PolicyOutcome:
    policy: str
    disputes: int
    recovered_fen: int  # overdue wages paid because of visits
    visits: int
    resolved: int
    seconds: float
    prevented: int = 0  # disputes of ``none`` minus this policy's
    dispute_rows: list[tuple] = field(default_factory=list)


def parse_policies(text: str) -> list[str]:
    """``"scorer,rules,random"`` → the policies in run order, ``none`` (the counterfactual) first."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in POLICIES]
    if bad or not names:
        raise ClosedLoopError(f"未知的策略 {'、'.join(bad) or '（空）'}，应为：{'、'.join(POLICIES)}")
    return [p for p in POLICIES if p == "none" or p in names]


def run_closed_loop(*, settings: Settings, policies: list[str], seed: int, scale: float, months: int = 18,
                    mechanism: str = "grievance", vary_forms: bool = False, capacity: int = 10,
                    p_resolve: float = 0.6, revisit_days: int = 14, start: date = date(2024, 7, 1),
                    progress: Callable[[str, int, int], None] | None = None) -> list[PolicyOutcome]:
    """Run each policy on the same county; ``prevented`` is counted against ``none`` when it is run."""
    for name in policies:
        if name not in POLICIES:
            raise ClosedLoopError(f"未知的策略 {name}，应为：{'、'.join(POLICIES)}")
    if capacity < 0 or not 0.0 <= p_resolve <= 1.0:
        raise ClosedLoopError("每周走访数不能为负，化解概率应在 0 到 1 之间")
    outcomes = [run_policy(settings=settings, policy=name, seed=seed, scale=scale, months=months,
                           mechanism=mechanism, vary_forms=vary_forms, capacity=capacity, p_resolve=p_resolve,
                           revisit_days=revisit_days, start=start, progress=progress) for name in policies]
    base = next((o for o in outcomes if o.policy == "none"), None)
    for o in outcomes:
        o.prevented = base.disputes - o.disputes if base else 0
    return outcomes


def run_policy(*, settings: Settings, policy: str, seed: int, scale: float, months: int = 18,
               mechanism: str = "grievance", vary_forms: bool = False, capacity: int = 10, p_resolve: float = 0.6,
               revisit_days: int = 14, start: date = date(2024, 7, 1),
               progress: Callable[[str, int, int], None] | None = None) -> PolicyOutcome:
    """One policy over the whole window; the scratch database lives and dies inside this call."""
    t0 = time.perf_counter()
    county = LockstepCounty(seed=seed, scale=scale, start=start, months=months, mechanism=mechanism,
                            vary_forms=vary_forms)
    weeks = list(range(6, county.n_days, 7))
    if weeks[-1] != county.n_days - 1:
        weeks.append(county.n_days - 1)
    acting = policy != "none" and capacity > 0
    picker = random.Random(f"earlywarn-closed-loop:{seed}:random-policy")
    last_visit: dict[str, int] = {}
    visits = resolved = 0
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        db = _ScratchDatabase(settings, Path(tmp), stack) if acting and policy in ("rules", "scorer") else None
        for k, di in enumerate(weeks, 1):
            rows = county.advance_to(di)
            day = county.date_of(county.day)
            if db:
                db.import_week(rows, day, k)
            if acting and county.day < county.n_days - 1:
                if db:
                    ranked = db.rank(policy, day)
                else:
                    ranked = _roster_active(county)
                    picker.shuffle(ranked)
                chosen = [c for c in ranked if last_visit.get(c, -10 ** 6) <= county.day - revisit_days]
                for code in chosen[:capacity]:
                    # common random numbers: this visit succeeds or fails alike under every policy
                    rng = random.Random(f"earlywarn-closed-loop:{seed}:{code}:{county.day}")
                    resolved += county.visit(code, rng, p_resolve)
                    visits += 1
                    last_visit[code] = county.day
            if progress:
                progress(policy, k, len(weeks))
    rows = sorted(county.disputes, key=lambda x: (x[1], x[0]))
    return PolicyOutcome(policy, len(rows), county.recovered_fen(), visits, resolved, time.perf_counter() - t0,
                         dispute_rows=rows)


def _roster_active(county: LockstepCounty) -> list[str]:
    """Projects with someone on the roster within the last 60 days (what random visits choose among)."""
    o = county.county.o0 + county.day
    return [p.code for p in county.projects
            if any(w.entry <= o and (w.exit is None or w.exit >= o - 60) for w in p.roster)]


class _ScratchDatabase:
    """A throwaway SQLite database fed week by week through the real importer, and the two rankings."""

    def __init__(self, settings: Settings, folder: Path, stack: ExitStack) -> None:
        from earlywarn.orgs import seed_org_tree
        from earlywarn.rules import load_rules
        from earlywarn.scoring import load_risk_model
        from earlywarn.services_common import open_session

        self.folder = folder
        self.settings = Settings(**{**settings.model_dump(), "database_url": f"sqlite:///{folder}/loop.db",
                                    "data_dir": folder})
        self.ruleset, self.model = load_rules(self.settings.rules_dir), load_risk_model(self.settings.model_dir)
        self.session = stack.enter_context(open_session(self.settings))
        seed_org_tree(session=self.session, path=self.settings.reference_file)

    def import_week(self, rows: WeekRows, day: date, k: int) -> None:
        from earlywarn.importer import describe, import_file

        week = self.folder / f"week-{k:03d}"
        week.mkdir()
        for kind in _FILE_ORDER:
            data = getattr(rows, kind)
            if not data:
                continue
            path = week / f"{kind}.csv"
            with path.open("w", encoding="utf-8", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(HEADERS[kind])
                if kind in ("attendance", "payroll"):
                    f.writelines(data)  # already CSV lines, as the day loop writes them
                else:
                    w.writerows(data)
            result = import_file(session=self.session, settings=self.settings, path=path, kind=kind, today=day)
            if result.status != "succeeded":
                raise ClosedLoopError(f"第 {k} 周（{day}）{kind}.csv 导入失败：{describe(result)}")
            path.unlink()
        week.rmdir()

    def rank(self, policy: str, day: date) -> list[str]:
        """Project codes, most urgent first, as the policy sees them on ``day``."""
        s = self.settings
        if policy == "rules":
            from earlywarn.wagecheck import run_check

            checks = run_check(session=self.session, ruleset=self.ruleset, as_of=day, min_wage_tier=s.min_wage_tier,
                               pay_day=s.pay_day, report_window_days=s.report_window_days)
            checks.sort(key=lambda c: (-_LEVEL_RANK.get(c.level, 0), -c.amount_owed_fen, c.code))
            return [c.code for c in checks]
        from earlywarn.scoring import score_projects

        codes = dict(self.session.exec(select(Project.id, Project.code)).all())
        scores = score_projects(session=self.session, settings=s, ruleset=self.ruleset, model=self.model, as_of=day)
        scores.sort(key=lambda r: (-_LEVEL_RANK.get(r.level or "", 0), -r.score, codes[r.project_id]))
        return [codes[r.project_id] for r in scores]


def write_outcomes(outdir: Path, outcomes: list[PolicyOutcome], capacity: int) -> Path:
    """``OUTDIR/closed_loop.csv`` (one row per policy) and each policy's disputes in ``OUTDIR/truth/``."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "truth").mkdir(exist_ok=True)
    path = outdir / "closed_loop.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["policy", "capacity", "disputes", "prevented", "recovered", "visits", "resolved", "seconds"])
        for o in outcomes:
            w.writerow([o.policy, capacity, o.disputes, o.prevented, fen_to_yuan_str(o.recovered_fen), o.visits,
                        o.resolved, f"{o.seconds:.1f}"])
    for o in outcomes:
        with (outdir / "truth" / f"disputes-{o.policy}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(HEADERS["disputes"])
            w.writerows(o.dispute_rows)
    return path
