"""Reference tables, tunable constants and money arithmetic shared by the simulator modules."""

from __future__ import annotations

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

TOWNSHIPS = ["递铺街道", "昌硕街道", "灵峰街道", "孝源街道", "孝丰镇", "报福镇", "章村镇", "天荒坪镇", "梅溪镇",
             "天子湖镇", "鄣吴镇", "杭垓镇", "溪龙乡", "上墅乡", "山川乡"]
_TOWNSHIP_WEIGHTS = [14, 12, 9, 7, 6, 3, 2, 4, 6, 6, 2, 2, 3, 2, 2]
_TOWNSHIP_ABBR = {"递铺街道": "DP", "昌硕街道": "CS", "灵峰街道": "LF", "孝源街道": "XY", "孝丰镇": "XF",
                  "报福镇": "BF", "章村镇": "ZC", "天荒坪镇": "TH", "梅溪镇": "MX", "天子湖镇": "TZ",
                  "鄣吴镇": "ZW", "杭垓镇": "HG", "溪龙乡": "XL", "上墅乡": "SS", "山川乡": "SC"}

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


def _money(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def _round100(fen: float) -> int:
    """Round an amount in fen to whole hundreds of yuan (at least 100 yuan)."""
    return max(10000, int(round(fen / 10000.0)) * 10000)
