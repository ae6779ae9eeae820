"""Deterministic synthetic county simulator (``earlywarn simulate OUTDIR``).

Writes the six v1 input files of formats.md (``projects.csv``, ``subcontracts.csv``, ``workers.csv``,
``attendance.csv``, ``payroll.csv``, ``reports.csv``; UTF-8, English headers) and the ground truth
``truth/disputes.csv`` (project_code, date, workers, amount_owed: one row per collective dispute). Pure
Python (stdlib + python-stdnum for check characters); the same ``seed`` and ``scale`` give byte-identical
files. Scale 1.0 is the reference county (Anji 安吉县): about 100 projects, 6,000 workers and a million
attendance rows over 18 months; ``scale`` multiplies the number of projects (at least 3).

Mechanisms (the latent causes are never written; only their observable traces are):

* **County.** The 15 townships/streets of Anji (urban streets get more projects). A county-wide weather
  process (a two-state Markov chain per day, wetter in the plum-rain season mid-June–mid-July and with
  occasional typhoon spells in August–September); heavy rain stops the outdoor trades. Spring Festival dates
  come from a table (2020–2035).
* **Organisations.** A pool of ~30 general contractors, ~20 owners, specialist and labour subcontractors,
  all with valid unified social credit codes (GB 32100, organisation code with its GB 11714 check) and
  reused across projects. Each company has a latent weakness (Beta-distributed); each owner has a funding
  process: Poisson funding shocks of random length and severity, frequent for private developers, rarer for
  government platforms and enterprises; each project has its own idiosyncratic shocks.
* **Projects.** Code ``AJ<start year>-<nnn>``, name by owner type (小区 / 安置房 / 厂房 / 学校 / 道路 …),
  starts drawn as a stationary stream (projects already finished when the window opens are redrawn, so
  about half are running at its start), planned and actual end (overruns grow with weakness), peak
  headcount (log-normal), contract value, wage account / deposit / notice board (less often present for
  weak contractors).
* **Subcontract tree** rooted at the general contractor, depth 1–4: 专业分包 (specialist companies), 劳务分包
  (labour companies), occasionally an illegal 再分包 (a labour subcontractor passing its work to another
  labour company), and work teams (``张建国班组``, kind 班组) at every leaf.
* **Teams and workers.** Each team has a trade (木工, 钢筋工, 泥瓦工, 架子工, 电焊工, 水电工, 油漆工, 杂工) with its
  own phase window of the project life and daily wages of about 250–500 yuan (multiples of 10, the leader a
  little more); a leader who reappears on later projects with part of his crew; a tie type: "spider-web"
  teams recruit mostly from the leader's home county, "satellite" teams mix origins and protest more readily.
  Workers have Chinese names, 18-character resident IDs with GB 11643 check characters (Zhejiang 33xxxx and
  migrant counties such as 5115xx, 4128xx, 3412xx; born 1960–2004), mobile numbers. A person works on one
  site at a time and may appear on several projects (one roster row per project). Headcount follows the team
  window (ramp up, plateau, ramp down) scaled down while the owner's funding is short; workers quit at random,
  leave when their team winds down, and quit faster while they are owed wages.
* **Attendance.** One row per worker-day: whole sites rest on some Sundays and holidays, workers take single
  days off, outdoor trades stop on heavy-rain days; hours are usually 8 (4–11). Around the Spring Festival
  workers leave 7–14 days before it (local workers later) and return 8–16 days after it; some never return,
  more of them when owed wages.
* **Payroll.** Earned = daily_wage × hours / 8 per day (exact in fen). For each month the team's payer
  decides on the 1st of the next month from a stress index (owner funding shock, project shock, contractor
  and chain weakness, illegal re-subcontracting, the year-end squeeze before the festival, noise, minus
  post-intervention supervision): healthy → full pay between the 18th and the 25th of the following month
  (sometimes a few days late) through the wage special account or bank, back pay of older arrears; strained →
  partial pay in instalments, older arrears paid piecemeal; distressed → nothing or a small advance, in cash
  or collected by the team leader. Some teams (more often under an illegal 再分包) run the common
  living-allowance scheme (a fixed 1,500–3,000 a month, the rest settled later), which the workers accept
  until a settlement fails. Settlements — year end (2–4 weeks before the festival), a worker's exit (paid on
  the day or within 5 days, so a month can be paid within itself), the team's end of work, project
  completion — each happen with a probability that falls with stress.
* **Collective disputes (truth).** Daily hazard per project rising with the owed workers (weighted by team
  tie type and living-allowance acceptance; in the 7 weeks before the festival everybody wants the year's
  wages and those discounts shrink), the overdue amount and the age of the oldest overdue month, multiplied
  by the season (rising steeply over the 7 weeks before the festival, raised after the return), a project
  militancy factor and a cool-down after earlier disputes or interventions. An onset starts a "brewing"
  spell of 2–12 days (moved out of the days when the workers are home for the festival); the dispute
  happens at its end only if the project still has an overdue worker-month exactly as formats.md's wage
  check defines it (pay day the 25th of the following month before the date, more than one yuan unpaid).
  workers = max(10, owed workers); amount_owed = the overdue amount that day. After a dispute the arrears
  are cleared (fully in most cases) within 3–25 days and the project is supervised for a few months.
* **Reports.** Informants (ids like ``DP-0007`` by township) or anonymous senders report projects in arrears
  (Poisson, rate rising with owed workers and season), naming the project, its short name, the general
  contractor, the subcontractor or the team in varied wording, with project_code, employer, workers and
  amount filled only sometimes and noisily; escalation language (爬塔吊, 上访, 堵门, 拉横幅 …) during most
  brewing spells; reports of the incident after a dispute; some reports trigger a mediator intervention
  (part payment, shorter cool-down). Unrelated complaints (工伤, 社保, 辞退, 加班) against factories, shops and
  sites, rumours about healthy projects, and noise complete the file.

Not modelled: contagion between projects, informant coverage that differs by township, duplicate companies
under variant names in the structured files (variant short names appear in report texts only).
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from stdnum.cn import ric, uscc

__all__ = ["SimulationSummary", "simulate_county", "spring_festival", "TOWNSHIPS", "HEADERS"]

HEADERS: dict[str, list[str]] = {
    "projects": ["project_code", "project_name", "township", "general_contractor", "contractor_credit_code",
                 "owner", "start_date", "planned_end_date", "contract_value", "has_wage_account",
                 "wage_deposit", "has_notice_board"],
    "subcontracts": ["project_code", "parent", "parent_credit_code", "child", "child_credit_code", "kind"],
    "workers": ["project_code", "id_number", "name", "team", "trade", "daily_wage", "entry_date", "exit_date",
                "phone"],
    "attendance": ["project_code", "id_number", "date", "hours"],
    "payroll": ["project_code", "id_number", "period", "amount_due", "amount_paid", "pay_date", "channel"],
    "reports": ["report_id", "received_at", "informant_id", "township", "project_code", "employer", "text",
                "workers_involved", "amount_claimed"],
    "disputes": ["project_code", "date", "workers", "amount_owed"],
}

# --------------------------------------------------------------------------------------------------
# Reference tables
# --------------------------------------------------------------------------------------------------

TOWNSHIPS = ["递铺街道", "昌硕街道", "灵峰街道", "孝源街道", "孝丰镇", "报福镇", "章村镇", "天荒坪镇", "梅溪镇",
             "天子湖镇", "鄣吴镇", "杭垓镇", "溪龙乡", "上墅乡", "山川乡"]
_TOWNSHIP_WEIGHTS = [14, 12, 9, 7, 6, 3, 2, 4, 6, 6, 2, 2, 3, 2, 2]
_TOWNSHIP_ABBR = {"递铺街道": "DP", "昌硕街道": "CS", "灵峰街道": "LF", "孝源街道": "XY", "孝丰镇": "XF",
                  "报福镇": "BF", "章村镇": "ZC", "天荒坪镇": "TH", "梅溪镇": "MX", "天子湖镇": "TZ",
                  "鄣吴镇": "ZW", "杭垓镇": "HG", "溪龙乡": "XL", "上墅乡": "SS", "山川乡": "SC"}

# 春节 (first day of the lunar year)
_SPRING_FESTIVAL = {
    2020: date(2020, 1, 25), 2021: date(2021, 2, 12), 2022: date(2022, 2, 1), 2023: date(2023, 1, 22),
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17), 2027: date(2027, 2, 6),
    2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3), 2031: date(2031, 1, 23),
    2032: date(2032, 2, 11), 2033: date(2033, 1, 31), 2034: date(2034, 2, 19), 2035: date(2035, 2, 8),
}


def spring_festival(year: int) -> date:
    """The date of 春节 in ``year`` (table for 2020–2035)."""
    try:
        return _SPRING_FESTIVAL[year]
    except KeyError:
        raise ValueError(f"no Spring Festival date for {year} (table covers 2020–2035)") from None


# trade: (mean daily wage, spread, outdoor, phase window as fractions of the project life, headcount share)
_TRADES: dict[str, tuple[int, int, bool, tuple[float, float], float]] = {
    "木工": (430, 40, True, (0.05, 0.70), 0.20),
    "钢筋工": (400, 40, True, (0.05, 0.65), 0.17),
    "泥瓦工": (390, 50, True, (0.12, 0.95), 0.17),
    "架子工": (400, 40, True, (0.08, 0.85), 0.08),
    "电焊工": (420, 40, True, (0.10, 0.60), 0.05),
    "水电工": (370, 40, False, (0.30, 1.00), 0.10),
    "油漆工": (340, 40, False, (0.60, 1.00), 0.08),
    "杂工": (270, 20, True, (0.00, 1.00), 0.15),
}

_ZJ_AREAS = ["330523"] * 8 + ["330522", "330521", "330502", "330503", "330106", "330110", "330681", "330683",
                               "330702", "330782", "331022", "331081", "330825", "330881", "331121",
                               "331122", "330324", "330326", "330381", "330424"]
_MIGRANT_AREAS = ["511521", "511523", "511524", "511525", "511526", "511527", "511528", "511529",
                  "412821", "412822", "412823", "412825", "412826", "412827", "412828", "412829",
                  "341221", "341222", "341225", "341226", "341282", "341321", "341322", "341324",
                  "362322", "362329", "362330", "421126", "421127", "430621", "430626", "522121",
                  "522124", "513021", "513022", "500228", "500230", "612425", "622421", "320721"]

_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
             "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
_SURNAME_W = [30, 29, 27, 22, 20, 12, 11, 10, 10, 9] + [6] * 20 + [3] * 30 + [1.5] * (len(_SURNAMES) - 60)
_M1 = "建国志海永德文明红伟春小金学正长新宏家兴福立光世玉军振庆忠成荣祥加仁"
_M2 = "国华强军平明林东兵峰勇刚生荣波辉斌良伟成杰涛飞龙宝财贵友清根发富才水"
_M_SINGLE = "伟勇军强磊涛斌杰鹏超刚平辉龙浩亮峰波斌"
_Y1 = "俊宇浩鑫子志家文嘉明天梓晨一思"
_Y2 = "宇浩鑫杰豪轩涛博帅阳鹏凯旭晨辰龙"
_F1 = "秀桂玉丽红美春小金海翠兰彩"
_F2 = "英兰芳珍梅华琴萍霞娟凤云莲芬娥"
_PHONE_PREFIX = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
                 "153", "155", "156", "157", "158", "159", "173", "177", "180", "181", "182", "183", "185",
                 "186", "187", "188", "189", "191", "193", "195", "198", "199"]

_BRANDS = ["恒达", "宏盛", "鼎盛", "华立", "安泰", "金诚", "永盛", "大成", "立信", "新城", "东方", "龙腾", "广源",
           "天顺", "富春", "鸿运", "瑞丰", "宝业", "中盛", "华宇", "嘉禾", "明达", "兴业", "正泰", "汇通", "锦程",
           "盛世", "联发", "天工", "远洋", "长兴", "国邦", "恒信", "昌盛", "祥和", "众鑫", "华兴", "永固", "建鑫",
           "中舜", "宏图", "金鼎", "开元", "竹乡", "绿源", "凤凰", "荣盛", "泰和", "创业", "顺发", "银河", "新宇",
           "振华", "博远", "金地", "德润", "万通", "佳宏", "天宇", "润丰", "和泰", "信达", "浙安", "弘业", "旭升",
           "亿丰", "卓越", "同创", "聚力", "欣荣"]
_BRAND_A = ("恒宏鼎华安金永大立新东龙广天富鸿瑞宝中嘉明兴正汇锦盛联远长国昌祥众"
            "建开绿荣泰创顺银振博德万佳润和信弘旭亿卓同聚欣")
_BRAND_B = "达盛信立泰诚成通源顺运丰业宇禾兴和程发工洋邦昌鑫华固舜图鼎元润地宏越创力荣安"
_ESTATES = ["竹韵", "云溪", "翠苑", "桃源", "白茶", "凤凰", "阳光", "金色", "锦绣", "御景", "溪畔", "竹海",
            "万象", "龙山", "灵溪", "凤栖", "玉兰", "西苑", "东篱", "梧桐", "天润", "蓝湾", "清溪", "书香", "春晓",
            "碧水", "山语", "湖畔", "昌硕", "孝丰", "苕溪", "余村", "鹤鸣", "芳华", "雅居", "和园"]
_PHASES = ["", "一期", "二期", "三期", "二期", "四期"]
_INDUSTRY = [("椅业", "办公椅"), ("家居", "家具"), ("竹木制品", "竹制品"), ("竹业", "竹地板"), ("包装", "纸箱"),
             ("机械", "零部件"), ("新材料", "复合板材"), ("电器", "小家电"), ("纺织", "面料"), ("食品", "笋制品")]
_ROADS = ["灵芝", "天目", "浦源", "胜利", "递铺", "昌硕", "迎宾", "玉华", "良朋", "康山", "塘浦", "凤凰山"]

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


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------

def _money(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def _clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def _round100(fen: float) -> int:
    """Round an amount in fen to whole hundreds of yuan (at least 100 yuan)."""
    return max(10000, int(round(fen / 10000.0)) * 10000)


_CN_NUM = "零一二三四五六七八九十"


def _cn(n: int) -> str:
    if n == 2:
        return "两"
    if 0 <= n <= 10:
        return _CN_NUM[n]
    if n < 20:
        return "十" + (_CN_NUM[n - 10] if n > 10 else "")
    if n < 100:
        return _CN_NUM[n // 10] + "十" + (_CN_NUM[n % 10] if n % 10 else "")
    return str(n)


# --------------------------------------------------------------------------------------------------
# Entities
# --------------------------------------------------------------------------------------------------

class _Company:
    __slots__ = ("name", "short", "code", "weak", "kind", "spec")

    def __init__(self, name: str, short: str, code: str, weak: float, kind: str, spec: str = "") -> None:
        self.name, self.short, self.code, self.weak, self.kind, self.spec = name, short, code, weak, kind, spec


class _Owner:
    __slots__ = ("name", "short", "kind", "shock", "product")

    def __init__(self, name: str, short: str, kind: str, shock: list[float], product: str = "") -> None:
        self.name, self.short, self.kind, self.shock, self.product = name, short, kind, shock, product


class _Person:
    __slots__ = ("idn", "name", "surname", "male", "phone", "area", "intervals", "pid")

    def __init__(self, pid: int, idn: str, name: str, surname: str, male: bool, phone: str, area: str) -> None:
        self.pid, self.idn, self.name, self.surname, self.male, self.phone, self.area = (
            pid, idn, name, surname, male, phone, area)
        self.intervals: list[tuple[int, int]] = []  # (entry ordinal, exit ordinal) on earlier-simulated projects

    def free_at(self, o: int) -> tuple[bool, int | None]:
        """(free on day ordinal o, first later busy day or None)."""
        nxt = None
        for a, b in self.intervals:
            if a <= o <= b:
                return False, None
            if a > o and (nxt is None or a < nxt):
                nxt = a
        return True, nxt

    def free_during(self, a0: int, b0: int) -> bool:
        return all(b < a0 or a > b0 for a, b in self.intervals)


class _Crew:
    """A team identity that can move from project to project: leader, trade, home county, past members."""
    __slots__ = ("leader", "trade", "home", "spider", "members", "wage_base")

    def __init__(self, leader: _Person, trade: str, home: str, spider: bool, wage_base: int) -> None:
        self.leader, self.trade, self.home, self.spider, self.wage_base = leader, trade, home, spider, wage_base
        self.members: list[_Person] = []


class _Team:
    __slots__ = ("crew", "name", "trade", "outdoor", "ts", "te", "peak", "parent", "chain_weak",
                 "resub", "la", "la_amount", "la_broken", "weak", "members", "active", "overdue_fen", "owed",
                 "noise", "weight")

    def __init__(self) -> None:
        self.members: list[_Roster] = []
        self.active: list[_Roster] = []
        self.overdue_fen = 0
        self.owed = 0
        self.la_broken = False
        self.noise: dict[int, float] = {}


class _Roster:
    __slots__ = ("person", "team", "wage_fen", "entry", "exit", "exit_plan", "earned", "paid", "lo", "last_mi",
                 "owed_months", "away_from", "away_to", "leader", "first_mi")

    def __init__(self, person: _Person, team: _Team, wage_fen: int, entry: int, n_months: int) -> None:
        self.person, self.team, self.wage_fen, self.entry = person, team, wage_fen, entry
        self.exit: int | None = None
        self.exit_plan = 1 << 40
        self.earned = [0] * n_months
        self.paid = [0] * n_months
        self.lo = 0  # lowest month index that may still be unpaid
        self.last_mi = -1
        self.first_mi = 0
        self.owed_months = 0
        self.away_from = -1
        self.away_to = -1
        self.leader = False


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


# --------------------------------------------------------------------------------------------------
# Tunable constants
# --------------------------------------------------------------------------------------------------

S_HEALTHY = 0.42          # stress below which a month is paid in full
S_DISTRESS = 0.62         # stress above which a month goes unpaid
H0 = 0.0015               # daily dispute-onset hazard at 10 owed workers, 100,000 yuan overdue, fresh arrears
REPORT_RATE = 0.035       # daily rate of an arrears report for a project with ≥ 6 owed workers
NOISE_REPORTS_PER_DAY = 0.9  # county-wide unrelated reports per day at scale 1.0
PEAK_MEDIAN = 58          # median peak headcount of a project
REUSE_P = 0.4             # chance that a new hire outside the crew is someone seen on an earlier site
TENURE_DAYS = 400.0       # mean stay of a worker on a site (memoryless), before team and festival exits
_HOURS = [8] * 72 + [9] * 8 + [10] * 7 + [11] * 2 + [4] * 4 + [5] * 2 + [6] * 3 + [7] * 2
_HOURS_S = [str(h) for h in range(25)]


# --------------------------------------------------------------------------------------------------
# The county
# --------------------------------------------------------------------------------------------------

class _County:
    def __init__(self, outdir: Path, seed: int, scale: float, start: date, months: int) -> None:
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
        self._weather()
        self._season()
        self.used_codes: set[str] = set()
        self.used_ids: set[str] = set()
        self.persons: list[_Person] = []
        self.crews: dict[str, list[_Crew]] = {t: [] for t in _TRADES}
        self.used_names: set[str] = set()
        self._companies()
        self._informants()

    # ---- exogenous processes ------------------------------------------------------------------
    def _weather(self) -> None:
        r = random.Random(f"earlywarn-sim:{self.seed}:weather")
        wet_p = [0.30, 0.35, 0.40, 0.40, 0.40, 0.45, 0.40, 0.33, 0.33, 0.25, 0.25, 0.25]
        self.heavy = []
        wet = False
        typhoon = 0
        for d in self.days:
            p = wet_p[d.month - 1]
            plum = (d.month == 6 and d.day >= 12) or (d.month == 7 and d.day <= 12)
            if plum:
                p = 0.62
            wet = r.random() < (0.55 + 0.25 * p if wet else p * 0.75)
            if typhoon == 0 and d.month in (8, 9) and r.random() < 0.012:
                typhoon = r.randint(2, 4)
            if typhoon:
                typhoon -= 1
                self.heavy.append(True)
                continue
            self.heavy.append(wet and r.random() < (0.6 if plum else 0.42))

    def _season(self) -> None:
        """Dispute-hazard multiplier per day: steep rise over the 7 weeks before the festival."""
        self.season = []
        self.closed = []  # site closure around the festival
        self.sf_phase = []  # (days to next festival)
        for di in range(self.n_days):
            nxt = min((s for s in self.sf_di if s >= di - 20), default=None)
            prev = max((s for s in self.sf_di if s <= di), default=None)
            mult = 1.0
            closed = False
            if nxt is not None:
                k = nxt - di  # may be negative (just after)
                if 7 < k <= 49:
                    mult = 1.0 + 14.0 * ((49 - k) / 42.0) ** 1.2
                elif 49 < k <= 75:
                    mult = 1.3
                elif -7 <= k <= 7:
                    mult = 0.1
                    closed = -7 <= k <= 4
            if prev is not None and 8 < di - prev <= 45:
                mult = max(mult, 1.6)
            self.season.append(mult)
            self.closed.append(closed)
            self.sf_phase.append(nxt - di if nxt is not None else 999)

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
        if area is None:
            area = rng.choice(_ZJ_AREAS) if rng.random() < 0.35 else rng.choice(_MIGRANT_AREAS)
        male = rng.random() >= female_p
        lo, hi, mode = year_range
        year = int(rng.triangular(lo, hi + 0.999, mode))
        birth = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        while True:
            seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
            body = f"{area}{birth:%Y%m%d}{seq:03d}"
            idn = body + ric.calc_check_digit(body + "0")
            if idn not in self.used_ids:
                self.used_ids.add(idn)
                break
        surname = rng.choices(_SURNAMES, _SURNAME_W)[0]
        if male:
            if year >= 1988 and rng.random() < 0.7:
                given = rng.choice(_Y1) + rng.choice(_Y2) if rng.random() < 0.7 else rng.choice(_Y2)
            elif rng.random() < 0.25:
                given = rng.choice(_M_SINGLE)
            else:
                given = rng.choice(_M1) + rng.choice(_M2)
        else:
            given = rng.choice(_F1) + rng.choice(_F2) if rng.random() < 0.85 else rng.choice(_F2)
        phone = "" if rng.random() < 0.02 else rng.choice(_PHONE_PREFIX) + f"{rng.randrange(10 ** 8):08d}"
        p = _Person(len(self.persons), idn, surname + given, surname, male, phone, area)
        self.persons.append(p)
        return p


# --------------------------------------------------------------------------------------------------
# One project
# --------------------------------------------------------------------------------------------------

class _Project:
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

    # ---- structure -----------------------------------------------------------------------------------
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

    # ---- simulation ------------------------------------------------------------------------------------
    def simulate(self, w_att, w_pay, reports: list, disputes: list) -> tuple[int, int]:
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
        # persons' busy intervals for later projects
        far = o0 + n_days + 3650
        for w in self.roster:
            w.person.intervals.append((w.entry, w.exit if w.exit is not None else far))
        return self.n_att, self.n_pay

    # ---- staffing ----------------------------------------------------------------------------------------
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
            for t in self.teams:
                if t.la:
                    self._set_la_broken(t)
            if rng.random() < 0.5:
                self._schedule(di + rng.randint(20, 90), ("clear", rng.uniform(0.3, 0.7), self._channel(s)))

    # ---- money -------------------------------------------------------------------------------------------
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
                if t.la:
                    self._set_la_broken(t)
                if rng.random() < 0.5:
                    f = rng.uniform(0.2, 0.6)
                    for w in t.members:
                        for mm in self._open_months(w, len(w.earned) - 1, di):
                            u = w.earned[mm] - w.paid[mm]
                            self._pay(w, mm, min(u, _round100(u * f)), di, ch)
        elif kind == "clear":
            _, f, ch = e
            for t in self.teams:
                for w in t.members:
                    for mm in self._open_months(w, len(w.earned) - 1, di):
                        u = w.earned[mm] - w.paid[mm]
                        self._pay(w, mm, u if f >= 1.0 else min(u, _round100(u * f)), di, ch)

    def _set_la_broken(self, t: _Team) -> None:
        t.la_broken = True

    # ---- signals, hazard, disputes ---------------------------------------------------------------------
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
        if gw <= 0:
            return
        oldest = min(m for m, k in self.month_cnt.items() if k > 0)
        age = di - c.due_di[oldest]
        cool = self.cool_factor if di < self.cool_until else 1.0
        end_boost = 1.8 if self.ended and c.o0 + di - self.e_ord < 60 else 1.0
        h = (H0 * (min(gw, 40.0) / 10.0) ** 1.5 * (min(gf, 10 ** 8) / 10 ** 7) ** 0.5
             * (1.0 + min(age, 120) / 40.0) * season * self.militancy * cool * end_boost)
        if rng.random() < h:
            end = di + rng.randint(2, 12)
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

    def _intervene(self, di: int) -> None:
        rng = self.rng
        self._schedule(di + rng.randint(7, 35), ("clear", rng.uniform(0.5, 1.0),
                                                 "专用账户代发" if self.has_account else "银行代发"))
        if self.cool_until < di + 30:
            self.cool_until = di + 30
            self.cool_factor = 0.3

    # ---- report texts ----------------------------------------------------------------------------------
    def _ref(self) -> tuple[str, str]:
        """How the informant names the site: (text, employer column)."""
        rng = self.rng
        t = self.teams[rng.randrange(len(self.teams))]
        owed_teams = [x for x in self.teams if x.owed]
        if owed_teams:
            t = owed_teams[rng.randrange(len(owed_teams))]
        tshort = self.township.replace("街道", "").replace("镇", "").replace("乡", "")
        u = rng.random()
        emp = ""
        if u < 0.25:
            ref = self.name
        elif u < 0.4:
            ref = self.short + rng.choice(["工地", "项目", ""])
        elif u < 0.55:
            ref = f"{self.gc.name}承建的{self.name if rng.random() < 0.5 else self.short}"
            emp = self.gc.name
        elif u < 0.65:
            ref = f"{self.gc.short}在{tshort}的工地"
            emp = self.gc.short
        elif u < 0.77 and t.parent is not self.gc:
            ref = f"{t.parent.name}" if rng.random() < 0.6 else t.parent.short
            emp = t.parent.name
        elif u < 0.9:
            ref = f"{self.short}{t.name}" if rng.random() < 0.5 else f"{t.crew.leader.surname}老板的班组"
        else:
            ref = f"{tshort}{rng.choice(['那个', '一个', ''])}{rng.choice(['在建', '盖房子的', '建'])}工地"
        if not emp and rng.random() < 0.35:
            emp = self.gc.name if rng.random() < 0.6 else t.parent.name
        return ref, emp

    def _report(self, di: int, kind: str, workers: int = 0) -> None:
        c, rng = self.c, self.rng
        if di >= c.n_days:
            return
        ref, emp = self._ref()
        n_est = 0
        amount = 0
        if kind == "rumour":
            text = rng.choice([f"听说{ref}资金紧张，怕以后发不出工资", f"{ref}有工人说工资少算了几天",
                               f"{ref}的工人说最近工资发得慢了", f"有人反映{ref}的工人没签合同",
                               f"{ref}晚上加班到很晚，不知道有没有加班费"])
        elif kind == "incident":
            n_est = max(10, int(workers * rng.uniform(0.7, 1.4)))
            when = rng.choice(["今天上午", "今天下午", "今天早上", "刚才", "昨天"])
            text = rng.choice([
                f"{when}{ref}有{_cn(n_est // 10 * 10) if rng.random() < 0.5 else n_est}多名工人聚集在项目部讨要工资",
                f"{when}{ref}的工人堵住了工地大门讨薪，现场比较混乱",
                f"{ref}工人{when}拉横幅讨薪，已经报警",
                f"{when}有{n_est}来个工人到{ref}门口讨薪，情绪激动",
                f"紧急！{ref}有工人爬上塔吊讨要工资",
                f"{when}{ref}工人集体到住建局上访讨薪"])
            if rng.random() < 0.5:
                amount = self.overdue_fen
        else:
            months = 0
            if self.month_cnt:
                live = [m for m, k in self.month_cnt.items() if k > 0]
                if live:
                    months = c.mi_of[min(di, c.n_days - 1)] - min(live)
            months = max(1, months)
            n_est = max(1, int(round(self.owed * rng.uniform(0.6, 1.5))))
            if n_est >= 15 and rng.random() < 0.6:
                n_est = int(round(n_est, -1))
            amount = int(self.overdue_fen * rng.uniform(0.7, 1.6))
            opener = rng.choice(["", "", "", "您好，", "你好，", "反映个情况：", "【欠薪线索】", "信息员反映：",
                                 "向工会反映，", "麻烦问一下，", "紧急情况！"])
            core = rng.choice([
                f"{ref}拖欠工人工资",
                f"{ref}的工人已经{_cn(months) if rng.random() < 0.5 else months}个月没拿到工资了",
                f"{ref}工资一直拖着不发，说是上面没拨款",
                f"{ref}的包工头说开发商没给钱，工资发不出来",
                f"{ref}只发生活费，工资说等年底一起结",
                f"{ref}说好每月25号发工资，到现在还没发",
                f"在{ref}干活的工人反映被欠薪",
                f"{ref}欠我们{_cn(months)}个月工资，找项目部也没用",
                f"{ref}的老板电话打不通，工资没人管",
                f"{ref}工人工资{months}个月没结了",
                f"{ref}拖欠农民工工资",
            ])
            parts = [opener + core]
            if rng.random() < 0.45:
                parts.append(rng.choice([f"涉及工人{n_est}人左右", f"大概有{n_est}来个人", f"我们班组{n_est}个人",
                                         f"{_cn(n_est) if n_est < 100 else n_est}个人都没拿到钱"]))
            if rng.random() < 0.35:
                wan = amount / 1_000_000
                parts.append(rng.choice([f"欠款大约{wan:.0f}万元" if wan >= 1 else f"大概欠了{amount // 100}多块",
                                         f"一共{wan:.1f}万左右", "每人欠一两万"]))
            if kind == "escalation":
                parts.append(rng.choice(["有人扬言要爬塔吊", "有工人说要去上访", "工人商量着去堵项目部大门",
                                         "准备拉横幅讨薪", "几个工人说再不给钱就去县政府", "有人说要爬楼",
                                         "扬言要集体去住建局上访", "说要去堵路", "有人扬言要跳楼",
                                         "工人说明天要去拉闸停工", "听说有人准备拦领导的车"]))
                if rng.random() < 0.5:
                    parts.append(rng.choice(["情况比较紧急", "请尽快介入", "怕出事", "工人情绪很激动"]))
            else:
                mood = rng.choice(["工人情绪比较大", "大家都很着急", "希望工会帮忙协调一下", "请尽快处理", "", "",
                                   "麻烦帮忙问问"] + (["快过年了大家都等着钱回家"] * 3 if c.season[di] > 2 else []))
                if mood:
                    parts.append(mood)
            text = "，".join(parts) + rng.choice(["。", "。", "！", "", "。。"])
        self._emit(di, text, kind, emp, n_est, amount)

    def _emit(self, di: int, text: str, kind: str, emp: str, n_est: int, amount: int) -> None:
        c, rng = self.c, self.rng
        when = _received_at(rng, c.days[di])
        inf = ""
        if rng.random() < 0.75:
            lst = c.informants[self.township] if rng.random() < 0.85 else c.informants[rng.choice(TOWNSHIPS)]
            inf = rng.choices([x[0] for x in lst], [x[1] for x in lst])[0]
        township = self.township if rng.random() < 0.8 else ""
        pc = self.code if rng.random() < 0.35 else ""
        wk = str(n_est) if n_est and rng.random() < 0.55 else ""
        am = _money(_round100(amount)) if amount > 0 and rng.random() < 0.4 else ""
        self.reports.append((when, inf, township, pc, emp if rng.random() < 0.8 else "", text, wk, am))
        if kind in ("arrears", "escalation") and rng.random() < 0.18:
            self._intervene(di)


def _received_at(rng: random.Random, d: date) -> str:
    h = rng.choices(range(24), [1, 0, 0, 0, 0, 1, 3, 6, 10, 10, 9, 8, 7, 7, 8, 8, 7, 7, 8, 9, 9, 7, 4, 2])[0]
    return f"{d.isoformat()} {h:02d}:{rng.randrange(60):02d}"


def _noise_reports(c: _County, projects: list[_Project], reports: list) -> None:
    rng = random.Random(f"earlywarn-sim:{c.seed}:noise")
    lam = NOISE_REPORTS_PER_DAY * c.scale
    body = ["手指", "腿", "腰", "脚", "胳膊", "眼睛", "头"]
    for di in range(c.n_days):
        d = c.days[di]
        k = 0
        # Poisson draw
        L = math.exp(-lam)
        p = rng.random()
        while p > L:
            k += 1
            p *= rng.random()
        for _ in range(k):
            u = rng.random()
            active = [p for p in projects if p.s_ord <= c.o0 + di <= p.e_ord]
            if u < 0.25 and active:
                pr = active[rng.randrange(len(active))]
                emp, township = (pr.gc.name if rng.random() < 0.5 else pr.gc.short), pr.township
                site = pr.name if rng.random() < 0.6 else pr.short + "工地"
                pc = pr.code if rng.random() < 0.3 else ""
            else:
                emp, township = c.other_employers[rng.randrange(len(c.other_employers))]
                site, pc = emp, ""
            topic = rng.random()
            if topic < 0.22:
                sum_ = rng.choice(["两千", "五千", "一万"])
                text = rng.choice([f"{site}有个工人{rng.choice(body)}受伤了，老板不肯报工伤",
                                   f"{site}一名工人从高处摔下来，只给了{sum_}块就不管了",
                                   f"在{site}上班被机器压伤，公司说没签合同不算工伤",
                                   f"请问在{site}受伤了工伤怎么认定"])
            elif topic < 0.42:
                text = rng.choice([f"{emp}一直不给员工交社保", f"{emp}让我们签自愿放弃社保的协议",
                                   f"{emp}社保断缴了好几个月", "请问社保断缴了怎么办"])
            elif topic < 0.6:
                text = rng.choice([f"{emp}无故辞退员工，不给补偿", f"{emp}说我试用期不合格让我走人，工资也不结",
                                   f"{emp}辞退怀孕员工", f"被{emp}开除了，没有经济补偿"])
            elif topic < 0.75:
                text = rng.choice([f"{emp}天天加班到晚上十点，加班费不给", f"{emp}周末加班没有加班费",
                                   f"{emp}每个月加班超过一百个小时", f"{emp}节假日加班不给三倍工资"])
            elif topic < 0.85:
                text = rng.choice([f"{emp}拖欠了一个月工资", f"{emp}工资每个月都晚发半个月",
                                   f"{emp}离职工资一直不结"])
            else:
                text = rng.choice(["你好", "测试", "请问工会会员卡怎么办理", "能不能帮忙介绍个工作",
                                   f"{township}有个工地晚上施工太吵了", "请问劳动合同到期不续签有补偿吗",
                                   "我想咨询一下工资怎么算", "上次反映的事情处理了吗", "谢谢工会帮忙，工资已经拿到了",
                                   "请问最低工资标准是多少", "怎么申请困难职工补助"])
                emp, pc = "", ""
            inf = ""
            if rng.random() < 0.7:
                lst = c.informants[township]
                inf = rng.choices([x[0] for x in lst], [x[1] for x in lst])[0]
            reports.append((_received_at(rng, d), inf, township if rng.random() < 0.7 else "", pc,
                            emp if rng.random() < 0.6 else "", text, "", ""))


# --------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------

def _csv_writer(path: Path, header: list[str]):
    f = path.open("w", encoding="utf-8", newline="")
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    return f, w


def simulate_county(outdir: Path, *, seed: int = 1, scale: float = 1.0, start: date = date(2024, 7, 1),
                    months: int = 18,
                    progress: Callable[[str, int, int], None] | None = None) -> SimulationSummary:
    """Simulate the county and write the six input files plus ``truth/disputes.csv`` into ``outdir``.

    ``progress(stage, done, total)`` is called after each project (stage ``"projects"``) and once when the
    reports and the truth are written (stage ``"reports"``).
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "truth").mkdir(exist_ok=True)
    c = _County(outdir, seed, scale, start, months)
    rng = c.rng

    # projects: start dates spread over the window, about a third already running
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
            wp.writerow([p.code, p.name, p.township, p.gc.name, p.gc.code if p.rng.random() < 0.95 else "",
                         p.owner.name, p.start.isoformat(), p.planned_end.isoformat(), _money(p.value),
                         "yes" if p.has_account else "no", _money(p.deposit), "yes" if p.board else "no"])
            for lk in p.links:
                ws.writerow(lk)
            counts["subcontracts"] += len(p.links)
            n_att, n_pay = p.simulate(fa, fy, reports, disputes)
            counts["attendance"] += n_att
            counts["payroll"] += n_pay
            for w in p.roster:
                exit_date = date.fromordinal(w.exit).isoformat() if w.exit is not None else ""
                ww.writerow([p.code, w.person.idn, w.person.name, w.team.name, w.team.trade, _money(w.wage_fen),
                             date.fromordinal(w.entry).isoformat(), exit_date, w.person.phone])
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
                             start=c.start, end=c.end)
