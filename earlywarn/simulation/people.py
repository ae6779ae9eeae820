"""Persons (names, resident IDs, phones), crews that move between projects, teams and roster rows."""

from __future__ import annotations

import random
from datetime import date, timedelta

from stdnum.cn import ric

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


def _draw_person(rng: random.Random, used_ids: set[str], pid: int, area: str | None = None, female_p: float = 0.08,
                 year_range: tuple[int, int, int] = (1960, 2004, 1973)) -> _Person:
    """A new person (``area``: the first six ID digits; by default a Zhejiang or a migrant county)."""
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
        if idn not in used_ids:
            used_ids.add(idn)
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
    return _Person(pid, idn, surname + given, surname, male, phone, area)
