"""Staffing of a project: hiring, exits, the Spring Festival break, completion."""

from __future__ import annotations

from datetime import date

from earlywarn.simulation.people import _Person, _Roster, _Team
from earlywarn.simulation.tables import REUSE_P, S_DISTRESS, S_HEALTHY, TENURE_DAYS, _clamp


class _Staffing:
    """Headcount per team day by day, who is hired, and what an exit means for the pay.

    A mixin of ``_Project``, which holds all the state (see ``project.py``).
    """

    def _staff(self, di: int, o: int, mi: int) -> None:
        c, rng = self.c, self.rng
        stall = 1.0 - 0.5 * c.shock(self.owner, mi) - 0.3 * self.pshock[mi + c.months_pad]
        k_sf = c.sf_phase[di]
        no_hiring = -8 <= k_sf <= 20 or any(0 <= di - s <= 8 for s in c.sf_di)
        first = di == 0
        for t in self.teams:
            # scheduled exits
            if t.active:
                keep = []
                for w in t.active:
                    if o > w.exit_plan or o > t.te:
                        self._exit(w, di, min(w.exit_plan, t.te, o - 1), in_loop=True)
                    else:
                        keep.append(w)
                t.active = keep
            if o == t.te + 1 and t.members:  # the team's work is done: final settlement with the team
                self._schedule(di + rng.randint(0, 20), ("settle", t))
            if not (t.ts <= o <= t.te):
                continue
            span = max(1, t.te - t.ts)
            f = (o - t.ts) / span
            shape = min(1.0, f / 0.2 + 0.15, (1 - f) / 0.2 + 0.15)
            target = max(1, int(round(t.peak * shape * stall)))
            n = len(t.active)
            if n < target and (not no_hiring or first):
                for _ in range(target - n if first else min(target - n, 1 + (target - n) // 3)):
                    self._hire(t, di, o, back=first)
            elif n > target + 1 and rng.random() < 0.3:
                cand = [w for w in t.active if not w.leader]
                if cand:
                    w = cand[rng.randrange(len(cand))]
                    t.active.remove(w)
                    self._exit(w, di, max(w.entry, o - 1), in_loop=True)

    def _hire(self, t: _Team, di: int, o: int, back: bool = False) -> None:
        c, rng = self.c, self.rng
        crew = t.crew
        entry = o
        if back:  # already on site when the window opens
            entry = max(t.ts, self.s_ord, o - rng.randint(0, 200))
        leader_needed = not any(w.leader for w in t.members)

        def available(p: _Person) -> tuple[bool, int | None]:
            """Free on the entry day and for at least two weeks from today (no overlapping sites)."""
            if p.pid in self.in_project:
                return False, None
            ok, nxt = p.free_at(entry)
            return ok and (nxt is None or nxt > o + 14), nxt

        person = None
        nxt = None
        if leader_needed:
            ok, nxt = available(crew.leader)
            if ok:
                person = crew.leader
        if person is None:
            leader_needed = False
            if crew.members and rng.random() < 0.9:  # someone who worked with this leader before
                for _ in range(5):
                    p = crew.members[rng.randrange(len(crew.members))]
                    ok, nxt = available(p)
                    if ok:
                        person = p
                        break
            if person is None and c.persons and rng.random() < REUSE_P:  # someone from another site
                for _ in range(5):
                    p = c.persons[rng.randrange(len(c.persons))]
                    ok, nxt = available(p)
                    if ok:
                        person = p
                        break
            if person is None:
                nxt = None
                fem = 0.2 if t.trade in ("杂工", "油漆工") else 0.04
                home_p = 0.85 if crew.spider else 0.3
                area = crew.home if rng.random() < home_p else None
                person = c.new_person(rng, area, female_p=fem)
                crew.members.append(person)
        wage = crew.wage_base + (40 if leader_needed else 0) + rng.choice((-20, -10, 0, 0, 0, 10, 20))
        wage = int(_clamp(round(wage / 10) * 10, 250, 520))
        w = _Roster(person, t, wage * 100, entry, c.n_months)
        w.leader = leader_needed
        w.first_mi = max(0, (date.fromordinal(entry).year * 12 + date.fromordinal(entry).month - 1) - c.m0)
        w.lo = w.first_mi
        if leader_needed:
            w.exit_plan = t.te
        else:
            w.exit_plan = o + int(rng.expovariate(1 / TENURE_DAYS))
        if nxt is not None:
            w.exit_plan = min(w.exit_plan, nxt - 1)
        if w.exit_plan < o:
            w.exit_plan = o
        self.in_project.add(person.pid)
        t.members.append(w)
        t.active.append(w)
        self.roster.append(w)

    def _exit(self, w: _Roster, di: int, exit_ord: int, in_loop: bool = False) -> None:
        """Worker leaves the site; exit_ord is the last day on the roster."""
        if w.exit is not None:
            return
        w.exit = max(w.entry, exit_ord)
        if not in_loop:
            try:
                w.team.active.remove(w)
            except ValueError:
                pass
        t = w.team
        rng = self.rng
        s = self.stress(t, di)
        if t.la and not t.la_broken:
            p = 0.75 if s < S_DISTRESS else 0.3
        elif s < S_HEALTHY:
            p = 0.9
        elif s < S_DISTRESS:
            p = 0.35
        else:
            p = 0.05
        if rng.random() < p:
            self._schedule(di + rng.randint(0, 5), ("worker", w, self._channel(s)))
        elif w.owed_months:  # gone home unpaid: what the others on site see
            self.c.mech.trigger(self, di, "leave", 1)

    def _festival(self, di: int, sf: int) -> None:
        rng = self.rng
        for t in self.teams:
            for w in list(t.active):
                local = w.person.area.startswith("33")
                dep = sf - (rng.randint(3, 7) if local else rng.randint(7, 14))
                ret = sf + (rng.randint(6, 10) if local else rng.randint(8, 16))
                w.away_from, w.away_to = dep, ret
                stay_p = 0.12 + (0.3 if w.owed_months else 0.0)
                if not w.leader and rng.random() < stay_p * (0.5 if local else 1.0):
                    w.exit_plan = min(w.exit_plan, self.c.o0 + dep - 1)
            # year-end settlement
            self._schedule(sf - rng.randint(12, 25), ("yearend", t))

    def _complete(self, di: int) -> None:
        self.ended = True
        rng = self.rng
        for t in self.teams:
            for w in list(t.active):
                self._exit(w, di, self.e_ord)
            t.active = []
        s = max((self.stress(t, di) for t in self.teams), default=0.0)
        if rng.random() < _clamp(1.1 - 1.3 * s, 0.1, 0.95):
            self._schedule(di + rng.randint(5, 45), ("clear", 1.0, self._channel(0.0)))
        else:
            self.c.mech.trigger(self, di, "complete", self.owed)
            for t in self.teams:
                if t.la:
                    self._set_la_broken(t)
            if rng.random() < 0.5:
                self._schedule(di + rng.randint(20, 90), ("clear", rng.uniform(0.3, 0.7), self._channel(s)))
