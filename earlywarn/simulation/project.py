"""One project: its identity and terms, and the daily loop that drives it through the window.

The project's behaviour is split by concern into mixins (``subcontracts``, ``staffing``, ``payroll``,
``disputes``, ``reports``) that share the project's state; the order of random draws is part of the output
(same seed, same files), so code moved between them must keep its order of calls.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import date, timedelta

from earlywarn.simulation.county import _County
from earlywarn.simulation.disputes import _Disputes
from earlywarn.simulation.payroll import _Payroll
from earlywarn.simulation.people import _Roster, _Team
from earlywarn.simulation.reports import _Reporting
from earlywarn.simulation.staffing import _Staffing
from earlywarn.simulation.subcontracts import _SubcontractTree
from earlywarn.simulation.tables import _HOURS, _HOURS_S, PEAK_MEDIAN, _clamp

_ESTATES = ["竹韵", "云溪", "翠苑", "桃源", "白茶", "凤凰", "阳光", "金色", "锦绣", "御景", "溪畔", "竹海",
            "万象", "龙山", "灵溪", "凤栖", "玉兰", "西苑", "东篱", "梧桐", "天润", "蓝湾", "清溪", "书香", "春晓",
            "碧水", "山语", "湖畔", "昌硕", "孝丰", "苕溪", "余村", "鹤鸣", "芳华", "雅居", "和园"]
_PHASES = ["", "一期", "二期", "三期", "二期", "四期"]
_ROADS = ["灵芝", "天目", "浦源", "胜利", "递铺", "昌硕", "迎宾", "玉华", "良朋", "康山", "塘浦", "凤凰山"]


class _Project(_SubcontractTree, _Staffing, _Payroll, _Disputes, _Reporting):
    def __init__(self, county: _County, rng: random.Random, start: date, township: str) -> None:
        c = county
        self.c = c
        self.rng = rng
        self.code = ""  # assigned once all projects are drawn (numbered by start date)
        self._pay_keys: set[tuple[str, int, int, int]] = set()
        self.township = township
        self.owner = rng.choice(c.owners)
        self.gc = rng.choice(c.gcs)
        self.peak = int(_clamp(rng.lognormvariate(math.log(PEAK_MEDIAN), 0.6), 10, 260))
        self.start = start
        kind = self.owner.kind
        base = 240 + self.peak * 3 + rng.randint(0, 330)
        if kind == "enterprise":
            base = int(base * 0.7)
        self.planned_end = start + timedelta(days=base)
        overrun = rng.randint(-20, 50) + int(220 * self.gc.weak * rng.random())
        self.actual_end = self.planned_end + timedelta(days=max(-20, overrun))
        self.s_ord = start.toordinal()
        self.e_ord = self.actual_end.toordinal()
        self.name = self._name(rng)
        labour_cost = self.peak * 0.55 * base * 0.8 * 400
        self.value = int(labour_cost / rng.uniform(0.2, 0.3) / 10000) * 10000 * 100  # fen
        weak = self.gc.weak
        self.has_account = rng.random() < (0.97 - 0.5 * weak)
        if rng.random() < 0.12 + 0.2 * weak:
            self.deposit = 0
        else:  # 1–3 % of the contract value, whole thousands of yuan
            self.deposit = int(self.value * rng.uniform(0.01, 0.03) / 100000) * 100000
        self.board = rng.random() < (0.93 - 0.4 * weak)
        self.militancy = rng.lognormvariate(0, 0.5)
        n_mon = c.n_months + c.months_pad + 4
        self.pshock = [0.0] * n_mon
        m = 0
        while m < n_mon:
            if rng.random() < 0.02:
                length = rng.randint(1, 4)
                s = rng.uniform(0.3, 0.8)
                for k in range(m, min(n_mon, m + length)):
                    self.pshock[k] = s
                m += length
            m += 1
        self.links: list[tuple[str, str, str, str, str]] = []
        self.teams: list[_Team] = []
        self.roster: list[_Roster] = []
        self.in_project: set[int] = set()
        short = self.name.replace("安吉县", "").replace("安吉", "")
        for suffix in ("新建工程", "迁建工程", "改造工程", "工程", "项目", "一期", "二期", "三期", "四期"):
            if short.endswith(suffix) and len(short) > len(suffix) + 2:
                short = short[: -len(suffix)]
        self.short = short

    def _name(self, rng: random.Random) -> str:
        c = self.c
        tshort = self.township.replace("街道", "").replace("镇", "").replace("乡", "")
        for _ in range(100):
            k = self.owner.kind
            est = rng.choice(_ESTATES)
            if k == "developer":
                name = rng.choice([f"安吉县{est}小区{rng.choice(_PHASES)}", f"{est}花园{rng.choice(_PHASES)}",
                                   f"{self.owner.short[:2]}·{est}府{rng.choice(_PHASES)}",
                                   f"{tshort}{est}{'' if est.endswith('苑') else '苑'}{rng.choice(_PHASES)}",
                                   f"安吉{est}公寓"])
            elif k == "government":
                name = rng.choice([f"{tshort}{est}安置房工程", f"安吉县{est}学校新建工程", f"{tshort}卫生院迁建工程",
                                   f"安吉县{rng.choice(_ROADS)}路改造工程", f"安吉县{est}人才公寓",
                                   f"{tshort}{est}安置小区{rng.choice(_PHASES)}", f"安吉县{tshort}幼儿园新建工程",
                                   f"{tshort}文化中心工程"])
            else:
                o = self.owner.short
                cap = rng.choice([10, 20, 30, 50, 100])
                name = rng.choice([f"{o}年产{cap}万套{self.owner.product}厂房项目", f"{o}新建厂房工程",
                                   f"{o}{rng.choice(['一', '二', '三'])}号厂房",
                                   f"{tshort}{o}标准厂房{rng.choice(_PHASES)}"])
            if name not in c.used_names:
                c.used_names.add(name)
                return name
        k = 2
        while f"{name}（{k}）" in c.used_names:
            k += 1
        name = f"{name}（{k}）"
        c.used_names.add(name)
        return name

    def simulate(self, w_att, w_pay, reports: list, disputes: list) -> tuple[int, int]:
        """Run the whole window; returns (attendance rows, payroll rows)."""
        for _ in self.steps(w_att, w_pay, reports, disputes):
            pass
        return self.n_att, self.n_pay

    def steps(self, w_att, w_pay, reports: list, disputes: list) -> Iterator[int]:
        """The daily loop as a generator: yields each day index once that day is done, so that projects can
        be run in lockstep and a caller can act between days (``lockstep.py``). Draws exactly as ``simulate``."""
        c, rng = self.c, self.rng
        code = self.code
        n_days, o0 = c.n_days, c.o0
        dstr, mi_of = c.dstr, c.mi_of
        self.events: list[list[tuple] | None] = [None] * (n_days + 1)
        self.due: list[bool] = [False] * c.n_months
        self.month_cnt: dict[int, int] = {}
        self.overdue_fen = 0
        self.owed = 0
        self.n_att = 0
        self.n_pay = 0
        self.w_pay = w_pay
        self.supervised_until = -1
        self.cool_until = -1
        self.cool_factor = 1.0
        self.brew_end = -1
        self.brew_visible = False
        self.reports = reports
        self.c_disputes = disputes
        self.ended = False
        self.tension = 0.0  # the trigger family's recent events (mechanisms.py)
        self.tension_di = 0
        self.tolerance: tuple[float, float] | None = None  # the threshold family's, drawn when first needed
        self.visit_recovered = 0  # overdue fen paid by mediator visits (closed loop)
        rest_p = rng.uniform(0.2, 0.6)
        sf_set = {}
        for s in c.sf_di:
            if -20 <= s - 16 < n_days:
                sf_set[max(0, s - 16)] = s
        att_write = w_att.write
        hours_tab = _HOURS
        hours_s = _HOURS_S
        heavy = c.heavy
        closed = c.closed
        rnd = rng.random

        for di in range(n_days):
            o = o0 + di
            d = c.days[di]
            mi = mi_of[di]
            ev = self.events[di]
            if ev:
                for e in ev:
                    self._do_event(e, di)
            if di in c.month_start_di:
                self._month_close(mi - 1, di)
            for m in c.due_on.get(di, ()):
                self._mark_due(m)
            active_proj = self.s_ord <= o <= self.e_ord
            if o > self.e_ord and not self.ended:
                self._complete(di)
            if active_proj:
                self._staff(di, o, mi)
            if di in sf_set:
                self._festival(di, sf_set[di])
            if active_proj:
                # attendance
                site_off = closed[di]
                wd = d.weekday()
                absent = 0.05
                if wd == 6:
                    if rnd() < rest_p:
                        site_off = True
                    absent = 0.3
                if (d.month == 10 and d.day <= 3) or (d.month == 5 and d.day == 1):
                    if rnd() < 0.6:
                        site_off = True
                    absent = 0.3
                if not site_off:
                    hv = heavy[di]
                    ds = dstr[di]
                    for t in self.teams:
                        if not t.active or (hv and t.outdoor):
                            continue
                        for w in t.active:
                            if w.away_from <= di < w.away_to:
                                continue
                            if rnd() < absent:
                                continue
                            h = hours_tab[int(rnd() * 100)]
                            att_write(f"{code},{w.person.idn},{ds},{hours_s[h]}\n")
                            w.earned[mi] += w.wage_fen * h // 8
                            w.last_mi = mi
                            self.n_att += 1
                # workers quitting while owed
                if self.owed:
                    for t in self.teams:
                        if t.owed:
                            for w in list(t.active):
                                if w.owed_months and not w.leader and rnd() < 0.006 * min(w.owed_months, 3):
                                    self._exit(w, di, o)  # worked today, leaves tonight
            # arrears reports, hazard, disputes
            if self.owed:
                self._signals(di, d)
            elif active_proj and rnd() < 0.0004:
                self._report(di, "rumour")
            if di == self.brew_end:
                self.brew_end = -1
                if self.owed:
                    self._dispute(di)
            yield di
        # persons' busy intervals for later projects
        far = o0 + n_days + 3650
        for w in self.roster:
            w.person.intervals.append((w.entry, w.exit if w.exit is not None else far))
        return self.n_att, self.n_pay
