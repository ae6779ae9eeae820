"""The subcontract tree of a project and the work teams at its leaves."""

from __future__ import annotations

from earlywarn.simulation.county import _Company
from earlywarn.simulation.people import _MIGRANT_AREAS, _ZJ_AREAS, _Crew, _Team
from earlywarn.simulation.tables import _TRADES, _clamp


class _SubcontractTree:
    """Builds the chain general contractor → 专业分包 / 劳务分包 (→ 再分包) → 班组, and picks crews.

    A mixin of ``_Project``, which holds all the state (see ``project.py``).
    """

    def build(self) -> None:
        c, rng = self.c, self.rng
        dur = self.e_ord - self.s_ord
        # teams per trade
        team_specs: list[tuple[str, int, int, int]] = []
        for trade, (_w, _sd, _out, (a, b), share) in _TRADES.items():
            if trade == "电焊工" and rng.random() < 0.5:
                continue
            n = max(1, int(round(self.peak * share / 16 + rng.uniform(-0.4, 0.4))))
            for k in range(n):
                aa = _clamp(a + rng.uniform(-0.05, 0.05) + (k * 0.08 if n > 1 else 0), 0, 0.9)
                bb = _clamp(b + rng.uniform(-0.05, 0.05), aa + 0.1, 1.0)
                size = max(3, int(round(self.peak * share / n * rng.uniform(0.8, 1.4))))
                team_specs.append((trade, self.s_ord + int(aa * dur), self.s_ord + int(bb * dur), size))
        # subcontractors
        gc = self.gc
        spec_pool = [s for s in c.specs]
        rng.shuffle(spec_pool)
        specs_by_trade: dict[str, _Company] = {}
        n_spec = rng.choice([0, 1, 1, 2, 2, 3]) if self.peak >= 25 else rng.choice([0, 0, 1])
        for s in spec_pool[:n_spec]:
            specs_by_trade.setdefault(s.spec, s)
        lab_pool = [x for x in c.labours]
        rng.shuffle(lab_pool)
        n_lab = 1 + (self.peak >= 40) + (self.peak >= 90) + (rng.random() < 0.25)
        labs = lab_pool[:n_lab]
        rest = lab_pool[n_lab:]
        resub: dict[str, _Company] = {}
        for lab in labs:
            if rest and rng.random() < 0.08 + 0.15 * gc.weak:
                resub[lab.name] = rest.pop()
        spec_lab: dict[str, _Company] = {}
        for s in specs_by_trade.values():
            if rest and rng.random() < 0.3:
                spec_lab[s.name] = rest.pop()
                if rest and rng.random() < 0.15:
                    resub[spec_lab[s.name].name] = rest.pop()
        # create teams and attach them
        used_leader_names: set[str] = set()
        edges: dict[str, tuple[str, str, str, str, str]] = {}

        def link(parent: _Company, child: _Company, kind: str) -> None:
            if child.name not in edges:
                edges[child.name] = (self.code, parent.name, parent.code, child.name, child.code, kind)

        for trade, ts, te, size in team_specs:
            t = _Team()
            t.trade = trade
            t.outdoor = _TRADES[trade][2]
            t.ts, t.te, t.peak = ts, te, size
            chain: list[_Company] = []
            if trade in specs_by_trade and rng.random() < 0.9:
                s = specs_by_trade[trade]
                link(gc, s, "专业分包")
                chain.append(s)
                if s.name in spec_lab:
                    lab = spec_lab[s.name]
                    link(s, lab, "劳务分包")
                    chain.append(lab)
                    if lab.name in resub:
                        link(lab, resub[lab.name], "再分包")
                        chain.append(resub[lab.name])
            elif rng.random() < 0.72:
                lab = labs[rng.randrange(len(labs))]
                link(gc, lab, "劳务分包")
                chain.append(lab)
                if lab.name in resub:
                    link(lab, resub[lab.name], "再分包")
                    chain.append(resub[lab.name])
            t.parent = chain[-1] if chain else gc
            t.resub = any(edges[x.name][5] == "再分包" for x in chain)
            t.weak = rng.betavariate(1.2, 7)
            t.chain_weak = max([x.weak for x in chain] + [t.weak])
            crew = self._crew(trade, ts, te, used_leader_names)
            t.crew = crew
            t.name = f"{crew.leader.name}班组"
            used_leader_names.add(crew.leader.name)
            t.la = rng.random() < (0.02 + (0.12 if t.resub else 0.0) + 0.06 * t.chain_weak)
            t.la_amount = rng.choice([1500, 2000, 2000, 2500, 3000]) * 100
            t.weight = 0.35 if crew.spider else 1.0
            self.teams.append(t)
            self.links.append((self.code, t.parent.name, t.parent.code, t.name, "", "班组"))
        self.links = list(edges.values()) + self.links

    def _crew(self, trade: str, ts: int, te: int, used: set[str]) -> _Crew:
        c, rng = self.c, self.rng
        pool = c.crews[trade]
        if pool and rng.random() < 0.5:
            for _ in range(4):
                cr = pool[rng.randrange(len(pool))]
                if (cr.leader.name not in used and cr.leader.pid not in self.in_project
                        and cr.leader.free_during(ts, te)):
                    return cr
        spider = rng.random() < 0.45
        home = rng.choice(_ZJ_AREAS) if rng.random() < 0.3 else rng.choice(_MIGRANT_AREAS)
        for _ in range(20):
            leader = c.new_person(rng, home, female_p=0.0, year_range=(1962, 1990, 1974))
            if leader.name not in used:
                break
        wb = _TRADES[trade][0] + int(rng.gauss(0, _TRADES[trade][1] / 2))
        cr = _Crew(leader, trade, home, spider, wb)
        pool.append(cr)
        return cr
