"""The county: its organisations (contractors, subcontractors, owners and their funding), informants and
the registry of persons, plus the day and month indexes every project shares."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from stdnum.cn import uscc

from earlywarn.simulation.calendar import _add_months, festival_season, heavy_rain, spring_festival
from earlywarn.simulation.mechanisms import Mechanism, draw_forms
from earlywarn.simulation.people import _Crew, _draw_person, _Person
from earlywarn.simulation.tables import _TOWNSHIP_ABBR, _TOWNSHIP_WEIGHTS, _TRADES, TOWNSHIPS

_BRANDS = ["恒达", "宏盛", "鼎盛", "华立", "安泰", "金诚", "永盛", "大成", "立信", "新城", "东方", "龙腾", "广源",
           "天顺", "富春", "鸿运", "瑞丰", "宝业", "中盛", "华宇", "嘉禾", "明达", "兴业", "正泰", "汇通", "锦程",
           "盛世", "联发", "天工", "远洋", "长兴", "国邦", "恒信", "昌盛", "祥和", "众鑫", "华兴", "永固", "建鑫",
           "中舜", "宏图", "金鼎", "开元", "竹乡", "绿源", "凤凰", "荣盛", "泰和", "创业", "顺发", "银河", "新宇",
           "振华", "博远", "金地", "德润", "万通", "佳宏", "天宇", "润丰", "和泰", "信达", "浙安", "弘业", "旭升",
           "亿丰", "卓越", "同创", "聚力", "欣荣"]
_BRAND_A = ("恒宏鼎华安金永大立新东龙广天富鸿瑞宝中嘉明兴正汇锦盛联远长国昌祥众"
            "建开绿荣泰创顺银振博德万佳润和信弘旭亿卓同聚欣")
_BRAND_B = "达盛信立泰诚成通源顺运丰业宇禾兴和程发工洋邦昌鑫华固舜图鼎元润地宏越创力荣安"
_INDUSTRY = [("椅业", "办公椅"), ("家居", "家具"), ("竹木制品", "竹制品"), ("竹业", "竹地板"), ("包装", "纸箱"),
             ("机械", "零部件"), ("新材料", "复合板材"), ("电器", "小家电"), ("纺织", "面料"), ("食品", "笋制品")]

_SPEC_KINDS = [("机电安装工程", "水电工"), ("装饰工程", "油漆工"), ("钢结构工程", "电焊工"), ("消防工程", "水电工"),
               ("幕墙工程", "电焊工")]


def _org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, weights, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else ("0" if c == 11 else str(c))


_USCC_ALNUM = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _make_uscc(rng: random.Random, region: str, used: set[str]) -> str:
    while True:
        if rng.random() < 0.55:  # registered after 2015: organisation code "MA..."
            body = "MA" + "".join(rng.choice(_USCC_ALNUM) for _ in range(6))
        else:
            body = "".join(rng.choice("0123456789") for _ in range(8))
        first17 = "91" + region + body + _org_code_check(body)
        code = first17 + uscc.calc_check_digit(first17)
        if code not in used:
            used.add(code)
            return code


class _Company:
    __slots__ = ("name", "short", "code", "weak", "kind", "spec")

    def __init__(self, name: str, short: str, code: str, weak: float, kind: str, spec: str = "") -> None:
        self.name, self.short, self.code, self.weak, self.kind, self.spec = name, short, code, weak, kind, spec


class _Owner:
    __slots__ = ("name", "short", "kind", "shock", "product")

    def __init__(self, name: str, short: str, kind: str, shock: list[float], product: str = "") -> None:
        self.name, self.short, self.kind, self.shock, self.product = name, short, kind, shock, product


class _County:
    def __init__(self, outdir: Path, seed: int, scale: float, start: date, months: int,
                 mechanism: str = "grievance", vary_forms: bool = False) -> None:
        if months < 1:
            raise ValueError("months must be at least 1")
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.outdir = outdir
        self.seed = seed
        self.scale = scale
        self.start = start
        self.end = _add_months(date(start.year, start.month, 1), months) - timedelta(days=1)
        self.rng = random.Random(f"earlywarn-sim:{seed}")
        self.o0 = start.toordinal()
        self.n_days = (self.end - start).days + 1
        self.days = [start + timedelta(days=i) for i in range(self.n_days)]
        self.dstr = [d.isoformat() for d in self.days]
        m0 = start.year * 12 + start.month - 1
        self.m0 = m0
        self.mi_of = [d.year * 12 + d.month - 1 - m0 for d in self.days]
        self.n_months = self.mi_of[-1] + 1
        self.period = [f"{(m0 + i) // 12}-{(m0 + i) % 12 + 1:02d}" for i in range(self.n_months + 1)]
        # day index on which month mi becomes overdue (the day after its pay day, the 25th of mi+1)
        self.due_di = []
        self.due_on: dict[int, list[int]] = {}
        for mi in range(self.n_months):
            y, m = divmod(m0 + mi + 1, 12)
            di = (date(y, m + 1, 25) - start).days + 1
            self.due_di.append(di)
            if 0 <= di < self.n_days:
                self.due_on.setdefault(di, []).append(mi)
        self.month_start_di = {di for di, d in enumerate(self.days) if d.day == 1 and di > 0}
        # Spring Festivals around the window (day index, may be outside it)
        self.sf_di = [(spring_festival(y) - start).days for y in range(start.year - 1, self.end.year + 2)]
        self.heavy = heavy_rain(seed, self.days)
        self.season, self.closed, self.sf_phase = festival_season(self.sf_di, self.n_days)
        # validated before any draw; its constants come from a stream of their own (mechanisms.py)
        self.mech = Mechanism(mechanism, draw_forms(mechanism, seed, vary_forms), self)
        self.used_codes: set[str] = set()
        self.used_ids: set[str] = set()
        self.persons: list[_Person] = []
        self.crews: dict[str, list[_Crew]] = {t: [] for t in _TRADES}
        self.used_names: set[str] = set()
        self._companies()
        self._informants()

    def yearend(self, di: int) -> float:
        k = self.sf_phase[di] if 0 <= di < self.n_days else 999
        return 0.15 if 0 <= k <= 80 else (0.05 if 80 < k <= 110 else 0.0)

    # ---- pools -------------------------------------------------------------------------------------
    def _brand(self, rng: random.Random, used: set[str]) -> str:
        for _ in range(500):
            b = rng.choice(_BRANDS) if rng.random() < 0.5 else rng.choice(_BRAND_A) + rng.choice(_BRAND_B)
            if b not in used and b[0] != b[1]:
                used.add(b)
                return b
        return rng.choice(_BRANDS)

    def _companies(self) -> None:
        r = self.rng
        n_proj = max(3, int(round(100 * self.scale)))
        self.n_projects = n_proj
        self.months_pad = 36
        n_mon = self.n_months + self.months_pad + 4
        used: set[str] = set()
        self.gcs = []
        for _ in range(max(3, int(round(30 * min(1.0, self.scale) ** 0.5 * max(1.0, self.scale) ** 0.7)))):
            b = self._brand(r, used)
            style = r.random()
            if style < 0.35:
                name, region, short = f"浙江{b}建设集团有限公司", r.choice(["330523", "330500", "330100"]), f"{b}建设"
            elif style < 0.6:
                name, region, short = f"安吉{b}建筑工程有限公司", "330523", f"{b}建筑"
            elif style < 0.8:
                name, region, short = f"湖州{b}建设有限公司", r.choice(["330502", "330503", "330500"]), f"{b}建设"
            elif style < 0.9:
                name, region, short = f"江苏{b}建工集团有限公司", r.choice(["320500", "320100", "321000"]), f"{b}建工"
            else:
                name, region, short = f"安徽{b}建设工程有限公司", r.choice(["340100", "341200"]), f"{b}建设"
            self.gcs.append(_Company(name, short, _make_uscc(r, region, self.used_codes),
                                     r.betavariate(1.3, 4.5), "gc"))
        self.specs = []
        for _ in range(max(4, int(round(25 * self.scale ** 0.6)))):
            b = self._brand(r, used)
            kind, trade = r.choice(_SPEC_KINDS)
            prov = r.choice(["浙江", "安吉", "湖州", "杭州"])
            self.specs.append(_Company(f"{prov}{b}{kind}有限公司", f"{b}{kind[:2]}",
                                       _make_uscc(r, r.choice(["330523", "330502", "330106", "330110"]),
                                                  self.used_codes),
                                       r.betavariate(1.3, 4.5), "spec", trade))
        self.labours = []
        for _ in range(max(4, int(round(30 * self.scale ** 0.6)))):
            b = self._brand(r, used)
            style = r.random()
            if style < 0.4:
                name, region = f"安吉{b}劳务有限公司", "330523"
            elif style < 0.6:
                name, region = f"湖州{b}建筑劳务有限公司", "330500"
            elif style < 0.75:
                name, region = f"四川{b}劳务有限公司", r.choice(["511500", "511521"])
            elif style < 0.9:
                name, region = f"河南{b}建筑劳务有限公司", "412800"
            else:
                name, region = f"安徽{b}劳务分包有限公司", "341200"
            self.labours.append(_Company(name, f"{b}劳务", _make_uscc(r, region, self.used_codes),
                                         r.betavariate(1.4, 3.8), "labour"))
        self.owners = []
        n_own = max(3, int(round(20 * self.scale ** 0.7)))
        for _ in range(n_own):
            u = r.random()
            b = self._brand(r, used)
            if u < 0.45:
                kind = "developer"
                name = r.choice([f"安吉{b}房地产开发有限公司", f"湖州{b}置业有限公司", f"浙江{b}房地产开发有限公司"])
                short = f"{b}地产"
                rate, sev = 0.03, (0.5, 1.0)
            elif u < 0.75:
                kind = "government"
                name = r.choice(["安吉县城市建设投资集团有限公司", "安吉县交通投资发展集团有限公司",
                                 "安吉县两山国有控股集团有限公司", "安吉县教育局", "安吉县卫生健康局",
                                 f"安吉县{r.choice(TOWNSHIPS)}人民政府",
                                 f"安吉{b}城乡建设发展有限公司"])
                if name in {o.name for o in self.owners}:
                    name = f"安吉{b}城乡建设发展有限公司"
                short = name.replace("有限公司", "").replace("安吉县", "")
                rate, sev = 0.01, (0.3, 0.7)
            else:
                kind = "enterprise"
                ind, product = r.choice(_INDUSTRY)
                name = f"浙江{b}{ind}有限公司" if r.random() < 0.5 else f"安吉{b}{ind}有限公司"
                short = f"{b}{ind}"
                rate, sev = 0.02, (0.4, 0.9)
            shock = [0.0] * n_mon
            m = 0
            while m < n_mon:
                if r.random() < rate:
                    length = r.randint(2, 9)
                    s = r.uniform(*sev)
                    for k in range(m, min(n_mon, m + length)):
                        shock[k] = max(shock[k], s)
                    m += length
                m += 1
            self.owners.append(_Owner(name, short, kind, shock, product if kind == "enterprise" else ""))
        # non-construction employers for unrelated complaints
        self.other_employers = []
        for _ in range(max(6, int(round(40 * self.scale ** 0.6)))):
            b = self._brand(r, used)
            ind, _ = r.choice(_INDUSTRY + [("酒店", ""), ("物流", ""), ("餐饮", ""), ("白茶", "")])
            name = r.choice([f"安吉{b}{ind}有限公司", f"浙江{b}{ind}有限公司", f"安吉县{b}{ind}厂"])
            self.other_employers.append((name, r.choices(TOWNSHIPS, _TOWNSHIP_WEIGHTS)[0]))

    def _informants(self) -> None:
        r = self.rng
        self.informants: dict[str, list[tuple[str, float]]] = {}
        n = 0
        for t, w in zip(TOWNSHIPS, _TOWNSHIP_WEIGHTS, strict=True):
            k = max(2, int(round((2 + w / 2) * min(1.0, self.scale ** 0.3))))
            lst = []
            for _ in range(k):
                n += 1
                lst.append((f"{_TOWNSHIP_ABBR[t]}-{n:04d}", r.paretovariate(1.5)))
            self.informants[t] = lst

    def shock(self, owner: _Owner, mi: int) -> float:
        k = mi + self.months_pad
        return owner.shock[k] if 0 <= k < len(owner.shock) else 0.0

    # ---- people --------------------------------------------------------------------------------------
    def new_person(self, rng: random.Random, area: str | None = None, female_p: float = 0.08,
                   year_range: tuple[int, int, int] = (1960, 2004, 1973)) -> _Person:
        p = _draw_person(rng, self.used_ids, len(self.persons), area, female_p, year_range)
        self.persons.append(p)
        return p
