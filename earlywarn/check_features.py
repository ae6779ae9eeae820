"""The named features that wage-check rules may use, per subject — the one place they are defined.

Pure: no database. :mod:`earlywarn.balances` computes the values; :mod:`earlywarn.rules` refuses a rule file
that names a feature not listed here. A value of ``None`` means "no data": a rule whose condition needs it
is reported as *not checked: missing data* for that subject, never silently passed.

Money is integer fen, durations are days, flags are booleans.
"""

from __future__ import annotations

SUBJECTS = ("worker_month", "worker", "project")

FEATURES: dict[str, dict[str, str]] = {
    # One worker on one project in one calendar month (the unit of formats.md's wage check).
    "worker_month": {
        "earned_fen": "该月按考勤应得工资：日工资 × 工时 ÷ 8（分）",
        "paid_fen": "截至核查日该月已发工资（分）",
        "owed_fen": "该月未发工资 max(0, 应得 − 已发)（分）",
        "attended_days": "该月出勤天数",
        "pay_day_passed": "该月发薪日（次月约定日）已过",
        "overdue": "已逾期：发薪日已过且未发超过 1 元",
        "overdue_days": "自发薪日起逾期天数（未逾期为 0）",
        "paid_nothing": "发薪日已过而该月分文未发",
        "payments": "该月工资发放笔数",
        "paid_cash_fen": "以现金发放的金额（分）",
        "paid_team_leader_fen": "由班组长代领的金额（分）",
        "paid_outside_special_account_fen": "未经工资专用账户发放的金额（分）",
        "payments_without_channel": "未注明发放方式的笔数",
        "daily_wage_fen": "花名册约定日工资（分）",
        "min_wage_prorata_fen": "按出勤天数折算的最低工资：月最低工资 ÷ 21.75 × 出勤天数（分）",
        "exited_by_month_end": "该工人在当月月底前已退场",
    },
    # One worker on one project (a roster entry), over everything up to the as-of date.
    "worker": {
        "age_at_first_day": "首个出勤日的周岁年龄",
        "age_at_last_day": "最后出勤日的周岁年龄",
        "is_female": "女性（据身份证号第 17 位）",
        "daily_wage_fen": "约定日工资（分）",
        "daily_minimum_fen": "日最低工资：月最低工资 ÷ 21.75（分）",
        "exited": "已退场",
        "owed_fen": "逾期未发工资合计（分）",
        "overdue_months": "逾期未发的月份数",
        "oldest_overdue_days": "最早一个逾期月份的逾期天数",
        "owed_after_exit_fen": "已退场而仍逾期未发的工资（分）",
        "paid_month_max_fen": "单月所得最高发放额（分）",
        "paid_year_max_fen": "一个自然年内所得最高发放额（分）",
    },
    # One project, as of the check date.
    "project": {
        "workers_owed": "有逾期未发工资的工人数",
        "amount_owed_fen": "逾期未发工资合计（分）",
        "oldest_overdue_days": "最早逾期月份的逾期天数",
        "overdue_worker_months": "逾期的工人·月数",
        "has_wage_account": "已开设农民工工资专用账户（无数据为空）",
        "has_notice_board": "已设置维权信息告示牌（无数据为空）",
        "wage_deposit_fen": "工资保证金（分；无数据为空）",
        "contract_value_fen": "合同金额（分；无数据为空）",
        "deposit_ratio": "工资保证金 ÷ 合同金额（无数据为空）",
        "last_due_month_attended": "最近一个已过发薪日的月份中有出勤的工人数",
        "last_due_month_paid": "其中至核查日已领到该月工资（任意金额）的工人数",
        "pay_coverage": "领到工资的人数 ÷ 出勤人数（最近一个已过发薪日的月份；无出勤为空）",
        "unpaid_share": "出勤而分文未领的工人比例（同上）",
        "payments_outside_special_account": "近三个月（工资所属月份）未经专用账户发放的笔数",
        "payments_without_channel": "未注明发放方式的笔数",
        "reports_recent": "近期（窗口内）关于本项目的信息员报告数",
        "reports_workers_max": "近期报告中涉及人数的最大值",
        "escalation_reports": "近期含激化信号（爬塔吊、堵门、上访等）的报告数",
    },
}

# Data the system does not hold yet; a rule naming one of these in ``requires`` is "not checked".
MISSING_DATA: dict[str, str] = {
    "labour_contracts": "劳动合同签订情况",
    "payee_accounts": "工资收款账户（户名与身份证号）",
    "special_account_transactions": "工资专用账户的进账与余额",
    "payroll_signatures": "工资表的工人签字与银行凭证",
    "staff_roster": "项目管理人员名册（劳资专管员）",
    "payment_orders": "人社部门的限期支付指令",
}
