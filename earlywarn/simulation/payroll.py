"""Wages of a project: the payer's stress, monthly pay decisions, settlements and arrears."""

from __future__ import annotations

from earlywarn.simulation.people import _Roster, _Team
from earlywarn.simulation.tables import S_DISTRESS, S_HEALTHY, _clamp, _money, _round100


class _Payroll:
    """Pay events scheduled per day, payroll rows, and the overdue bookkeeping the hazard reads.

    A mixin of ``_Project``, which holds all the state (see ``project.py``).
    """

    def stress(self, t: _Team, di: int) -> float:
        c = self.c
        mi = c.n_months if di >= c.n_days else c.mi_of[max(di, 0)]
        nz = t.noise.get(mi)
        if nz is None:
            nz = t.noise[mi] = self.rng.gauss(0, 0.07)
        s = (0.6 * c.shock(self.owner, mi) + 0.45 * self.pshock[mi + c.months_pad] + 0.25 * self.gc.weak
             + 0.25 * t.chain_weak + (0.1 if t.resub else 0.0) + c.yearend(di) + nz)
        if di < self.supervised_until:
            s -= 0.3
        return s

    def _channel(self, s: float) -> str:
        r = self.rng.random()
        if s < S_HEALTHY:
            if self.has_account:
                return "专用账户代发" if r < 0.85 else "银行代发"
            return "银行代发" if r < 0.85 else "现金"
        if s < S_DISTRESS:
            return "银行代发" if r < 0.45 else ("现金" if r < 0.75 else "班组长代领")
        return "现金" if r < 0.45 else ("班组长代领" if r < 0.85 else "银行代发")

    def _schedule(self, di: int, ev: tuple) -> None:
        if di < 0 or di >= self.c.n_days:
            return
        lst = self.events[di]
        if lst is None:
            self.events[di] = [ev]
        else:
            lst.append(ev)

    def _month_close(self, m: int, di: int) -> None:
        """First day of month m+1: decide how each team pays month m."""
        rng = self.rng
        for t in self.teams:
            if not t.members:
                continue
            s = self.stress(t, di)
            if t.la and not t.la_broken:
                self._schedule(di + rng.randint(19, 27), ("allow", t, m, t.la_amount,
                                                        "现金" if rng.random() < 0.4 else self._channel(s)))
            elif s < S_HEALTHY:
                off = rng.randint(17, 24) if rng.random() < 0.92 else rng.randint(25, 33)
                self._schedule(di + off, ("full", t, m, self._channel(s), rng.random() < 0.85))
            elif s < S_DISTRESS:
                off = rng.randint(20, 35)
                self._schedule(di + off, ("frac", t, m, rng.uniform(0.35, 0.8), self._channel(s)))
                if rng.random() < 0.75:  # the rest, exactly
                    self._schedule(di + off + rng.randint(10, 40), ("frac", t, m, 1.0,
                                                                    self._channel(s)))
                if rng.random() < 0.25:
                    self._schedule(di + off, ("oldest", t, m, self._channel(s)))
            else:
                if rng.random() < 0.35:
                    self._schedule(di + rng.randint(20, 35), ("allow", t, m, rng.choice([500, 800, 1000]) * 100,
                                                              "现金" if rng.random() < 0.6 else "班组长代领"))

    def _mark_due(self, m: int) -> None:
        self.due[m] = True
        for w in self.roster:
            u = w.earned[m] - w.paid[m]
            if u > 100:
                self._contrib(w, m, 0, u)

    def _contrib(self, w: _Roster, m: int, before: int, after: int) -> None:
        cb, ca = before > 100, after > 100
        delta = (after if ca else 0) - (before if cb else 0)
        t = w.team
        t.overdue_fen += delta
        self.overdue_fen += delta
        if cb and not ca:
            w.owed_months -= 1
            self.month_cnt[m] -= 1
            if w.owed_months == 0:
                t.owed -= 1
                self.owed -= 1
        elif ca and not cb:
            w.owed_months += 1
            self.month_cnt[m] = self.month_cnt.get(m, 0) + 1
            if w.owed_months == 1:
                t.owed += 1
                self.owed += 1

    def _pay(self, w: _Roster, m: int, amount: int, di: int, channel: str) -> None:
        u = w.earned[m] - w.paid[m]
        if amount > u:
            amount = u
        if amount <= 0:
            return
        # (project, worker, period, pay date, amount) is payroll's natural key: two equal payments on one
        # day would be one payment to the importer, so the second one is split off by a fen.
        while (w.person.idn, m, di, amount) in self._pay_keys and amount > 1:
            amount -= 1
        key = (w.person.idn, m, di, amount)
        self._pay_keys.add(key)
        w.paid[m] += amount
        self.w_pay.write(f"{self.code},{w.person.idn},{self.c.period[m]},{_money(w.earned[m])},{_money(amount)},"
                         f"{self.c.dstr[di]},{channel}\n")
        self.n_pay += 1
        if self.due[m]:
            self._contrib(w, m, u, u - amount)

    def _open_months(self, w: _Roster, upto: int, di: int) -> list[int]:
        """Months ≤ upto of worker w with unpaid wages whose earnings are final."""
        cur = self.c.mi_of[di]
        limit = upto if w.exit is not None else min(upto, cur - 1)
        lo = w.lo
        while lo <= limit and lo < len(w.earned) and w.earned[lo] <= w.paid[lo]:
            lo += 1
        w.lo = lo
        return [m for m in range(lo, min(limit, len(w.earned) - 1) + 1) if w.earned[m] > w.paid[m]]

    def _do_event(self, e: tuple, di: int) -> None:
        kind = e[0]
        rng = self.rng
        if kind == "full":
            _, t, m, ch, backlog = e
            for w in t.members:
                if w.lo > m:
                    continue
                for mm in self._open_months(w, m, di):
                    if mm == m or backlog:
                        self._pay(w, mm, w.earned[mm] - w.paid[mm], di, ch)
        elif kind == "frac":
            _, t, m, f, ch = e
            for w in t.members:
                u = w.earned[m] - w.paid[m]
                if u > 0:
                    self._pay(w, m, u if f >= 1.0 else min(u, _round100(u * f)), di, ch)
        elif kind == "oldest":
            _, t, m, ch = e
            for w in t.members:
                if w.lo >= m:
                    continue
                ms = self._open_months(w, m - 1, di)
                if ms:
                    self._pay(w, ms[0], w.earned[ms[0]] - w.paid[ms[0]], di, ch)
        elif kind == "allow":
            _, t, m, a, ch = e
            for w in t.members:
                u = w.earned[m] - w.paid[m]
                if u > 0:
                    self._pay(w, m, min(u, a), di, ch)
        elif kind == "worker":
            _, w, ch = e
            for mm in self._open_months(w, len(w.earned) - 1, di):
                self._pay(w, mm, w.earned[mm] - w.paid[mm], di, ch)
        elif kind in ("yearend", "settle"):
            t = e[1]
            s = self.stress(t, di)
            p = _clamp(1.1 - 1.0 * s, 0.2, 0.95) if t.la and not t.la_broken else _clamp(1.05 - 1.4 * s, 0.05, 0.95)
            ch = self._channel(s - 0.1)
            if rng.random() < p:
                for w in t.members:
                    for mm in self._open_months(w, len(w.earned) - 1, di):
                        self._pay(w, mm, w.earned[mm] - w.paid[mm], di, ch)
            else:
                self.c.mech.trigger(self, di, kind, t.owed)  # a failed settlement is the classic flashpoint
                if t.la:
                    self._set_la_broken(t)
                if rng.random() < 0.5:
                    f = rng.uniform(0.2, 0.6)
                    for w in t.members:
                        for mm in self._open_months(w, len(w.earned) - 1, di):
                            u = w.earned[mm] - w.paid[mm]
                            self._pay(w, mm, min(u, _round100(u * f)), di, ch)
        elif kind in ("clear", "visit"):
            _, f, ch = e
            before = self.overdue_fen
            for t in self.teams:
                for w in t.members:
                    for mm in self._open_months(w, len(w.earned) - 1, di):
                        u = w.earned[mm] - w.paid[mm]
                        self._pay(w, mm, u if f >= 1.0 else min(u, _round100(u * f)), di, ch)
            if kind == "visit":  # what a mediator's visit got paid of the arrears (closed loop)
                self.visit_recovered += before - self.overdue_fen

    def _set_la_broken(self, t: _Team) -> None:
        t.la_broken = True
