"""Families of dispute-onset mechanisms and their functional-form constants.

A scorer trained on one hazard formula can learn the formula instead of the problem, so the onset of a
collective dispute comes from one of several *families*, each plausible and each seen only through the same
traces (roster, attendance, payroll, reports):

* ``grievance`` (the default): a smooth power law in the weighted owed workers, the overdue amount and the age
  of the oldest overdue month, times the festival season, the project's militancy and a cool-down.
* ``threshold``: tipping points. Each project's workers tolerate arrears up to a latent age (days past the
  pay day of the oldest overdue month) or amount per owed worker; below both the hazard is a trickle, past
  either it steps up. The season matters little.
* ``trigger``: disputes break out on discrete events with arrears still open: workers leaving without being
  settled, a team's failed final settlement as it winds down, a failed year-end settlement, the project's
  completion with arrears. Each event adds "tension" that decays within days; between events only a small
  background hazard remains.

Not offered: contagion between projects. Projects are simulated one after another, so a project could see
the disputes of projects simulated before it but not of those after it; that asymmetry is not causal.

``draw_forms(mechanism, seed, vary)`` gives the family's constants: the documented defaults, or (``vary``)
constants drawn from their own seed-derived stream, so training seeds differ in form without changing any
other random draw of the county.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

from earlywarn.simulation.calendar import festival_season
from earlywarn.simulation.tables import H0

if TYPE_CHECKING:
    from earlywarn.simulation.county import _County
    from earlywarn.simulation.project import _Project

MECHANISMS = ("grievance", "threshold", "trigger")

# defaults, and the ranges drawn from when forms vary (uniform, or log-uniform for the ``*_scale`` keys)
_FORMS: dict[str, dict[str, tuple[float, float, float]]] = {
    "grievance": {"h0": (H0, 0.7, 1.4), "w_pow": (1.5, 0.8, 2.0), "amt_pow": (0.5, 0.2, 0.9),
                  "age_scale": (40.0, 20.0, 90.0), "season_amp": (14.0, 6.0, 20.0), "season_pow": (1.2, 0.7, 2.0),
                  "end_boost": (1.8, 1.0, 2.5), "brew_max": (12, 6, 16)},
    "threshold": {"h_step": (0.012, 0.7, 1.4), "h_low": (0.00005, 0.5, 2.0), "tol_days": (70.0, 40.0, 120.0),
                  "tol_yuan": (13000.0, 8000.0, 20000.0), "tol_spread": (0.35, 0.15, 0.6),
                  "season_w": (0.05, 0.0, 0.12), "brew_max": (10, 5, 14)},
    "trigger": {"h_trig": (0.11, 0.7, 1.4), "t_scale": (6.0, 3.0, 12.0), "decay": (0.8, 0.6, 0.92),
                "w_leave": (1.0, 0.5, 2.0), "w_settle": (1.0, 0.5, 2.0), "w_yearend": (1.0, 0.5, 2.0),
                "w_complete": (1.5, 0.7, 3.0), "h_bg": (0.00008, 0.5, 2.0), "season_w": (0.05, 0.0, 0.15),
                "brew_max": (5, 3, 8)},
}
# multiplicative draws (a factor around the default) rather than absolute ones
_FACTOR_KEYS = {"h0", "h_step", "h_low", "h_trig", "h_bg"}


def draw_forms(mechanism: str, seed: int, vary: bool = False) -> dict[str, float]:
    """The family's functional-form constants; ``vary`` draws them from a stream of their own."""
    if mechanism not in _FORMS:
        raise ValueError(f"unknown mechanism {mechanism!r}; choose one of {', '.join(MECHANISMS)}")
    spec = _FORMS[mechanism]
    if not vary:
        return {k: v[0] for k, v in spec.items()}
    r = random.Random(f"earlywarn-sim:{seed}:forms:{mechanism}")
    out: dict[str, float] = {}
    for k, (default, lo, hi) in spec.items():
        if k in _FACTOR_KEYS:
            out[k] = default * math.exp(r.uniform(math.log(lo), math.log(hi)))
        elif k == "brew_max":
            out[k] = r.randint(int(lo), int(hi))
        else:
            out[k] = r.uniform(lo, hi)
    return out


class Mechanism:
    """The onset hazard of one family with its constants, shared by every project of a county."""

    def __init__(self, name: str, forms: dict[str, float], county: _County) -> None:
        self.name = name
        self.f = forms
        self.triggers = name == "trigger"
        self.brew_max = int(forms["brew_max"])
        self.brew_min = 1 if name == "trigger" else 2
        if name == "grievance" and (forms["season_amp"], forms["season_pow"]) != (14.0, 1.2):
            self.season = festival_season(county.sf_di, county.n_days, forms["season_amp"], forms["season_pow"])[0]
        else:
            self.season = county.season  # the default curve, the very same floats
        self._seed = county.seed

    def hazard(self, p: _Project, di: int, gw: float, gf: int) -> float | None:
        """Today's onset probability for project p, or None when no draw is due (nothing weighted owed)."""
        if gw <= 0:
            return None
        c, f = p.c, self.f
        oldest = min(m for m, k in p.month_cnt.items() if k > 0)
        age = di - c.due_di[oldest]
        cool = p.cool_factor if di < p.cool_until else 1.0
        if self.name == "grievance":
            # the same expression, in the same order, as before families existed: default output unchanged
            end_boost = f["end_boost"] if p.ended and c.o0 + di - p.e_ord < 60 else 1.0
            return (f["h0"] * (min(gw, 40.0) / 10.0) ** f["w_pow"] * (min(gf, 10 ** 8) / 10 ** 7) ** f["amt_pow"]
                    * (1.0 + min(age, 120) / f["age_scale"]) * self.season[di] * p.militancy * cool * end_boost)
        season = 1.0 + f["season_w"] * (c.season[di] - 1.0)
        if self.name == "threshold":
            tol_days, tol_fen = self._tolerance(p)
            per_worker = p.overdue_fen / max(1, p.owed)
            tipped = age > tol_days or per_worker > tol_fen
            base = f["h_step"] * (0.4 + 0.6 * min(1.0, gw / 8.0)) if tipped else f["h_low"] * min(gw, 20.0)
            return base * season * math.sqrt(p.militancy) * cool
        # trigger: recent events' tension, decayed to today, plus a small background
        tension = p.tension * f["decay"] ** (di - p.tension_di)
        p.tension, p.tension_di = tension, di
        h = f["h_trig"] * (1.0 - math.exp(-tension / f["t_scale"])) + f["h_bg"] * min(gw, 20.0)
        return min(0.9, h * season * math.sqrt(p.militancy) * cool)

    def _tolerance(self, p: _Project) -> tuple[float, float]:
        """The project's latent tolerance (days past due, fen per owed worker), drawn once from its own stream."""
        if p.tolerance is None:
            r = random.Random(f"earlywarn-sim:{self._seed}:tolerance:{p.code}")
            f, s = self.f, self.f["tol_spread"]
            p.tolerance = (f["tol_days"] * r.lognormvariate(0, s), f["tol_yuan"] * 100 * r.lognormvariate(0, s))
        return p.tolerance

    def trigger(self, p: _Project, di: int, kind: str, workers: int) -> None:
        """An event the workers may act on (``leave``, ``settle``, ``yearend``, ``complete``) with arrears open."""
        if not self.triggers or workers <= 0:
            return
        tension = p.tension * self.f["decay"] ** max(0, di - p.tension_di)
        p.tension = tension + self.f[f"w_{kind}"] * workers
        p.tension_di = di
