"""All projects of a county stepped together day by day, so that a policy can act between weeks.

``simulate_county`` runs the projects one after another: a project is built and staffed after the earlier
ones have run the whole window (who is free, which crews exist, which ID numbers are taken). A policy that
reacts week by week needs every project at the same date, so here each project gets its own copy of that
registry (persons with their busy intervals, crews, ID numbers) exactly as it was when the one-after-another
run reached it, recorded in a first pass without visits. With no visits every project then draws exactly as
in ``simulate_county``: the same disputes. With visits a project's own course changes (pay, exits, disputes)
while the other projects' labour market stays the recorded one: the labour market is exogenous to visits,
which is the approximation this engine makes (a worker kept on by a visited project may, rarely, also be
hired by another one).
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from earlywarn.simulation.county import _County
from earlywarn.simulation.people import _Crew, _Person
from earlywarn.simulation.project import _Project
from earlywarn.simulation.reports import _noise_reports
from earlywarn.simulation.writer import draw_projects, project_row, roster_row


class _Lines:
    """A file-like sink the day loop writes CSV lines into; drained at each week's end."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.write = self.lines.append

    def drain(self) -> list[str]:
        out = self.lines[:]
        self.lines.clear()  # the same list: the day loop holds on to its bound ``append``
        return out


def _registry(c: _County) -> tuple[list[_Person], dict[str, list[_Crew]], set[str]]:
    """A deep copy of the persons, crews and ID numbers as they are now (pid is the index in persons)."""
    persons = []
    for p in c.persons:
        q = _Person(p.pid, p.idn, p.name, p.surname, p.male, p.phone, p.area)
        q.intervals = list(p.intervals)
        persons.append(q)
    crews = {}
    for trade, pool in c.crews.items():
        crews[trade] = []
        for cr in pool:
            k = _Crew(persons[cr.leader.pid], cr.trade, cr.home, cr.spider, cr.wage_base)
            k.members = [persons[m.pid] for m in cr.members]
            crews[trade].append(k)
    return persons, crews, set(c.used_ids)


def _recorded_registries(args: tuple) -> list[tuple]:
    """First pass: the one-after-another run without output, copying the registry before each project."""
    c = _County(*args)
    projects = draw_projects(c)
    sink, out = _Lines(), []
    for p in projects:
        out.append(_registry(c))
        p.build()
        p.rng.random()  # the projects.csv credit-code draw, in its place
        p.simulate(sink, sink, [], [])
        sink.drain()
    return out


@dataclass
class WeekRows:
    """What became known up to a day: rows for the six input files (CSV lines or lists) and the truth."""
    projects: list[list[str]] = field(default_factory=list)
    subcontracts: list[tuple] = field(default_factory=list)
    workers: list[list[str]] = field(default_factory=list)
    attendance: list[str] = field(default_factory=list)
    payroll: list[str] = field(default_factory=list)
    reports: list[list[str]] = field(default_factory=list)
    disputes: list[tuple] = field(default_factory=list)


class LockstepCounty:
    """The county of ``simulate_county(seed, scale, start, months, mechanism, vary_forms)`` run in lockstep."""

    def __init__(self, *, seed: int = 1, scale: float = 1.0, start: date = date(2024, 7, 1), months: int = 18,
                 mechanism: str = "grievance", vary_forms: bool = False) -> None:
        args = (Path("."), seed, scale, start, months, mechanism, vary_forms)
        registries = _recorded_registries(args)
        c = self.county = _County(*args)
        self.projects = draw_projects(c)
        self._att, self._pay = _Lines(), _Lines()
        self._reports: list[tuple] = []
        self.disputes: list[tuple] = []
        self._rows: dict[str, list[str]] = {}
        self._steps = []
        for p, (persons, crews, used_ids) in zip(self.projects, registries, strict=True):
            view = copy.copy(c)  # the calendar, organisations and mechanism are shared and read-only
            view.persons, view.crews, view.used_ids = persons, crews, used_ids
            p.c = view
            p.build()
            self._rows[p.code] = project_row(p)
            self._steps.append(p.steps(self._att, self._pay, self._reports, self.disputes))
        noise: list[tuple] = []
        _noise_reports(c, self.projects, noise)
        self._reports.extend(noise)
        self.day = -1  # the last day index done
        self._known: set[str] = set()
        self._roster_seen: dict[int, tuple] = {}
        self._n_reports = 0
        self._n_disputes = 0

    @property
    def n_days(self) -> int:
        return self.county.n_days

    def date_of(self, di: int) -> date:
        return self.county.days[di]

    def advance_to(self, di: int) -> WeekRows:
        """Run every project through day di; return the rows dated up to di not handed out before."""
        di = min(di, self.n_days - 1)
        if di > self.day:
            for st in self._steps:
                for done in st:
                    if done >= di:
                        break
            self.day = di
        return self._collect()

    def _collect(self) -> WeekRows:
        c, o = self.county, self.county.o0 + self.day
        out = WeekRows(attendance=self._att.drain(), payroll=self._pay.drain())
        for p in self.projects:
            if p.s_ord > o and not p.roster:
                continue
            if p.code not in self._known:
                self._known.add(p.code)
                out.projects.append(self._rows[p.code])
                out.subcontracts.extend(p.links)
            for w in p.roster:
                key = (w.entry, w.exit)
                if self._roster_seen.get(id(w)) != key:
                    self._roster_seen[id(w)] = key
                    out.workers.append(roster_row(p, w))
        today = c.dstr[self.day]
        due = [r for r in self._reports if r[0][:10] <= today]
        self._reports[:] = [r for r in self._reports if r[0][:10] > today]
        due.sort(key=lambda r: r[0])
        for r in due:
            self._n_reports += 1
            out.reports.append([f"R{self._n_reports:06d}", *r])
        out.disputes = self.disputes[self._n_disputes:]
        self._n_disputes = len(self.disputes)
        return out

    def project(self, code: str) -> _Project:
        return next(p for p in self.projects if p.code == code)

    def visit(self, code: str, rng: random.Random, p_resolve: float) -> bool:
        """A mediator visits the project on the day after the last day done; True if the arrears get paid."""
        return self.project(code).visit(self.day + 1, rng, p_resolve)

    def recovered_fen(self) -> int:
        return sum(p.visit_recovered for p in self.projects)
