"""Report texts: informants' reports about a project (arrears, escalation, incidents, rumours) and the
unrelated complaints and noise that fill the rest of ``reports.csv``."""

from __future__ import annotations

import math
import random
from datetime import date
from typing import TYPE_CHECKING

from earlywarn.simulation.tables import NOISE_REPORTS_PER_DAY, TOWNSHIPS, _money, _round100

if TYPE_CHECKING:
    from earlywarn.simulation.county import _County
    from earlywarn.simulation.project import _Project

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


class _Reporting:
    """What informants write about a project and when.

    A mixin of ``_Project``, which holds all the state (see ``project.py``).
    """

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
