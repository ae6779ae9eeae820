"""The entry point: draws the projects, runs them one after the other and writes the CSV files."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from earlywarn.simulation.county import _County
from earlywarn.simulation.mechanisms import MECHANISMS
from earlywarn.simulation.project import _Project
from earlywarn.simulation.reports import _noise_reports
from earlywarn.simulation.tables import _TOWNSHIP_WEIGHTS, HEADERS, TOWNSHIPS, _money


@dataclass(frozen=True)
class SimulationSummary:
    outdir: Path
    projects: int
    subcontracts: int
    workers: int
    attendance_rows: int
    payroll_rows: int
    reports: int
    disputes: int
    start: date
    end: date
    mechanism: str = "grievance"
    forms: dict = field(default_factory=dict)  # the mechanism's functional-form constants (mechanisms.py)


def _csv_writer(path: Path, header: list[str]):
    f = path.open("w", encoding="utf-8", newline="")
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    return f, w


def draw_projects(c: _County) -> list[_Project]:
    """The county's projects, numbered by start date (not yet built: ``build`` reads earlier projects' crews)."""
    rng, start, seed = c.rng, c.start, c.seed
    n = c.n_projects
    # a stationary stream of starts; a project already finished (or nearly) when the window opens is redrawn
    projects: list[_Project] = []
    while len(projects) < n:
        s0 = start + timedelta(days=rng.randint(-720, max(1, c.n_days - 45)))
        township = rng.choices(TOWNSHIPS, _TOWNSHIP_WEIGHTS)[0]
        p = _Project(c, random.Random(f"earlywarn-sim:{seed}:{rng.getrandbits(64)}"), s0, township)
        if p.e_ord >= c.o0 + 30:
            projects.append(p)
        else:
            c.used_names.discard(p.name)
    projects.sort(key=lambda p: (p.start, p.name))
    seq: dict[int, int] = {}
    for p in projects:
        seq[p.start.year] = seq.get(p.start.year, 0) + 1
        p.code = f"AJ{p.start.year}-{seq[p.start.year]:03d}"
    return projects


def project_row(p: _Project) -> list[str]:
    """The project's row of projects.csv (one draw from its stream: whether the credit code is given)."""
    return [p.code, p.name, p.township, p.gc.name, p.gc.code if p.rng.random() < 0.95 else "", p.owner.name,
            p.start.isoformat(), p.planned_end.isoformat(), _money(p.value), "yes" if p.has_account else "no",
            _money(p.deposit), "yes" if p.board else "no"]


def roster_row(p: _Project, w) -> list[str]:
    exit_date = date.fromordinal(w.exit).isoformat() if w.exit is not None else ""
    return [p.code, w.person.idn, w.person.name, w.team.name, w.team.trade, _money(w.wage_fen),
            date.fromordinal(w.entry).isoformat(), exit_date, w.person.phone]


def simulate_county(outdir: Path, *, seed: int = 1, scale: float = 1.0, start: date = date(2024, 7, 1),
                    months: int = 18, mechanism: str = "grievance", vary_forms: bool = False,
                    progress: Callable[[str, int, int], None] | None = None) -> SimulationSummary:
    """Simulate the county and write the six input files plus ``truth/disputes.csv`` into ``outdir``.

    ``mechanism`` picks the family of dispute-onset mechanisms (``MECHANISMS``); ``vary_forms`` draws its
    functional-form constants from a seed-derived stream of their own. The defaults give the same files as
    before families existed.

    ``progress(stage, done, total)`` is called after each project (stage ``"projects"``) and once when the
    reports and the truth are written (stage ``"reports"``).
    """
    if mechanism not in MECHANISMS:
        raise ValueError(f"unknown mechanism {mechanism!r}; choose one of {', '.join(MECHANISMS)}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "truth").mkdir(exist_ok=True)
    c = _County(outdir, seed, scale, start, months, mechanism, vary_forms)
    projects = draw_projects(c)
    n = len(projects)

    counts = dict.fromkeys(("subcontracts", "workers", "attendance", "payroll"), 0)
    reports: list[tuple] = []
    disputes: list[tuple] = []
    files = {}
    try:
        fp, wp = _csv_writer(outdir / "projects.csv", HEADERS["projects"])
        files["projects"] = fp
        fs, ws = _csv_writer(outdir / "subcontracts.csv", HEADERS["subcontracts"])
        files["subcontracts"] = fs
        fw, ww = _csv_writer(outdir / "workers.csv", HEADERS["workers"])
        files["workers"] = fw
        fa, _ = _csv_writer(outdir / "attendance.csv", HEADERS["attendance"])
        files["attendance"] = fa
        fy, _ = _csv_writer(outdir / "payroll.csv", HEADERS["payroll"])
        files["payroll"] = fy
        for i, p in enumerate(projects):
            p.build()
            wp.writerow(project_row(p))
            for lk in p.links:
                ws.writerow(lk)
            counts["subcontracts"] += len(p.links)
            n_att, n_pay = p.simulate(fa, fy, reports, disputes)
            counts["attendance"] += n_att
            counts["payroll"] += n_pay
            for w in p.roster:
                ww.writerow(roster_row(p, w))
            counts["workers"] += len(p.roster)
            if progress:
                progress("projects", i + 1, n)
            # free memory of finished projects
            p.events = []
            for t in p.teams:
                t.members = []
                t.active = []
            p.roster = []
        _noise_reports(c, projects, reports)
        reports.sort(key=lambda r: r[0])
        fr, wr = _csv_writer(outdir / "reports.csv", HEADERS["reports"])
        files["reports"] = fr
        for k, r in enumerate(reports, 1):
            wr.writerow([f"R{k:06d}", *r])
        disputes.sort(key=lambda x: (x[1], x[0]))
        fd, wd = _csv_writer(outdir / "truth" / "disputes.csv", HEADERS["disputes"])
        files["disputes"] = fd
        for row in disputes:
            wd.writerow(row)
        if progress:
            progress("reports", 1, 1)
    finally:
        for f in files.values():
            f.close()
    return SimulationSummary(outdir=outdir, projects=n, subcontracts=counts["subcontracts"],
                             workers=counts["workers"], attendance_rows=counts["attendance"],
                             payroll_rows=counts["payroll"], reports=len(reports), disputes=len(disputes),
                             start=c.start, end=c.end, mechanism=mechanism, forms=dict(c.mech.f))
