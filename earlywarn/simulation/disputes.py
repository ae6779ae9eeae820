"""Collective disputes of a project: grievance, onset hazard, brewing, the dispute and interventions."""

from __future__ import annotations

import random
from datetime import date

from earlywarn.simulation.tables import REPORT_RATE, _money


class _Disputes:
    """The hazard of a dispute and its consequences (the truth file's rows).

    A mixin of ``_Project``, which holds all the state (see ``project.py``).
    """

    def _grievance(self, di: int) -> tuple[float, int]:
        """Owed workers and overdue amount weighted by how readily the teams act on them."""
        gw = 0.0
        gf = 0
        # before the festival everyone wants the year's wages before going home
        season = 7 < self.c.sf_phase[di] <= 49
        for t in self.teams:
            if t.owed:
                if season:
                    wt = min(1.0, 2 * t.weight) * (0.7 if t.la and not t.la_broken else 1.0)
                else:
                    wt = t.weight * (0.25 if t.la and not t.la_broken else 1.0)
                gw += wt * t.owed
                gf += int(wt * t.overdue_fen)
        return gw, gf

    def _signals(self, di: int, d: date) -> None:
        """Reports about the arrears, and the onset of a dispute by the county's mechanism family."""
        c, rng = self.c, self.rng
        gw, gf = self._grievance(di)
        season = c.season[di]
        # informant reports about arrears
        p = REPORT_RATE * min(1.0, self.owed / 6.0) * (0.6 + 0.4 * min(season, 4.0)) * (0.4 + 0.6 * min(1.0, gw / 4))
        if rng.random() < p:
            self._report(di, "arrears")
        if self.brew_end >= 0:
            if self.brew_visible and rng.random() < 0.22:
                self._report(di, "escalation")
            return
        h = c.mech.hazard(self, di, gw, gf)
        if h is None:
            return
        if rng.random() < h:
            end = di + rng.randint(c.mech.brew_min, c.mech.brew_max)
            # no site protests while everyone is home for the festival: bring it forward, or after the return
            sf = di + c.sf_phase[di]
            if sf - 8 <= end <= sf + 8:
                end = sf - 9 if di < sf - 9 else sf + rng.randint(9, 15)
            self.brew_end = end
            self.brew_visible = rng.random() < 0.7

    def _dispute(self, di: int) -> None:
        rng = self.rng
        workers = max(10, self.owed)
        self.c_disputes.append((self.code, self.c.dstr[di], workers, _money(self.overdue_fen)))
        if rng.random() < 0.75:
            self._report(di + (rng.random() < 0.3), "incident", workers=workers)
        f = 1.0 if rng.random() < 0.85 else rng.uniform(0.5, 0.9)
        self._schedule(di + rng.randint(3, 25), ("clear", f, "专用账户代发" if self.has_account else "银行代发"))
        self.supervised_until = di + rng.randint(90, 150)
        self.cool_until = di + rng.randint(60, 150)
        self.cool_factor = 0.03

    def visit(self, di: int, rng: random.Random, p_resolve: float) -> bool:
        """A mediator visits on day di (closed loop). With arrears open it succeeds with probability p_resolve:
        the payer promises and pays all or most of the arrears within days, the project is watched for a few
        months (lower stress, as after a dispute) and the workers wait (a cool-down). Draws only from ``rng``,
        the caller's stream, so a visit that finds nothing leaves the project's own draws untouched."""
        if not self.owed or rng.random() >= p_resolve:
            return False
        f = 1.0 if rng.random() < 0.7 else rng.uniform(0.5, 0.9)
        self._schedule(di + rng.randint(2, 10), ("visit", f, "专用账户代发" if self.has_account else "银行代发"))
        self.supervised_until = max(self.supervised_until, di + rng.randint(60, 120))
        until = di + rng.randint(30, 60)
        if self.cool_until < until:
            self.cool_until = until
            self.cool_factor = 0.3
        return True

    def _intervene(self, di: int) -> None:
        rng = self.rng
        self._schedule(di + rng.randint(7, 35), ("clear", rng.uniform(0.5, 1.0),
                                                 "专用账户代发" if self.has_account else "银行代发"))
        if self.cool_until < di + 30:
            self.cool_until = di + 30
            self.cool_factor = 0.3
