"""Row validation for each input kind of formats.md: raw cells in, a typed record or Chinese errors out.

Pure: no session. Lookups of what is already in the database arrive as plain dicts in :class:`Lookups`,
so the same checks run on a file, an upload and in unit tests. Cross-file checks (a worker not on the
roster, a team not in the chain, attendance outside entry/exit, …) are made here against those dicts.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from earlywarn.file_kinds import KINDS
from earlywarn.identity import (
    InvalidValue,
    id_birth_date,
    id_gender,
    mask_id_number,
    normalize_credit_code,
    normalize_id_number,
)
from earlywarn.parsing import (
    is_blank,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_hours_centi,
    parse_int,
    parse_money_fen,
    parse_period,
    parse_text,
)

SUBCONTRACT_KINDS = {
    "专业分包": "specialist", "劳务分包": "labour", "再分包": "sub_subcontract", "班组": "team",
    "specialist": "specialist", "labour": "labour", "labor": "labour", "sub_subcontract": "sub_subcontract",
    "team": "team",
}
PAY_CHANNELS = {
    "专用账户代发": "special_account", "专户代发": "special_account", "工资专用账户": "special_account",
    "银行代发": "bank", "银行转账": "bank", "现金": "cash", "班组长代领": "team_leader", "包工头代领": "team_leader",
    "special_account": "special_account", "bank": "bank", "cash": "cash", "team_leader": "team_leader",
}
MAX_DAILY_WAGE_FEN = 3000_00  # ￥3,000 a day is already far above any site wage in the county
OVERPAY_FACTOR = 1.5
OVERPAY_SLACK_FEN = 100_00


@dataclass
class RowError:
    row: int
    column: str | None
    value: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


class RowRejected(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(errors[0].reason if errors else "")
        self.errors = errors


@dataclass
class RosterInfo:
    worker_id: int
    entry: date
    exit: date | None
    daily_wage_fen: int


@dataclass
class Lookups:
    """What validation needs to know about the database. Filled by the importer per file."""

    townships: frozenset[str]
    today: date
    projects: dict[str, int] = field(default_factory=dict)  # code → id
    project_contractor: dict[int, str] = field(default_factory=dict)  # project id → GC name
    teams: dict[int, set[str]] = field(default_factory=dict)  # project id → names that are a child in its chain
    roster: dict[tuple[int, str], RosterInfo] = field(default_factory=dict)  # (project id, id hash) → entry
    id_hasher: Callable[[str], str] = lambda s: s
    memo: dict = field(default_factory=dict)  # (column, raw value) → parse outcome, for this file only


def _display(column: str, value: Any) -> str | None:
    if is_blank(value):
        return None
    if column == "id_number":
        return mask_id_number(str(value).strip())
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


_BLANK = "必填项为空"
MEMO_LIMIT = 500_000
# Columns whose values repeat across rows; free text is never memoised.
MEMO_COLUMNS = frozenset({"project_code", "id_number", "date", "hours", "period", "amount_due", "amount_paid",
                          "pay_date", "channel", "team", "daily_wage", "entry_date", "exit_date", "township"})


class Row:
    """Collects every column error of one row, so the user sees all of them at once."""

    def __init__(self, kind: str, row_no: int, raw: dict[str, Any], memo: dict | None = None):
        self.kind = KINDS[kind]
        self.row_no = row_no
        self.raw = raw
        self.errors: list[RowError] = []
        self.memo = memo

    def label(self, column: str) -> str:
        return self.kind.column(column).zh

    def fail(self, column: str | None, reason: str) -> None:
        value = _display(column, self.raw.get(column)) if column else None
        self.errors.append(RowError(self.row_no, self.label(column) if column else None, value, reason))

    def get(self, column: str, parser: Callable[[Any], Any], *, required: bool = True) -> Any:
        value = self.raw.get(column)
        memo = self.memo
        if memo is not None and column in MEMO_COLUMNS:
            # Attendance repeats a few hundred dates, codes and ID numbers a million times: parse each once.
            key = (column, type(value), value)  # True == 1 in Python: the type keeps them apart
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = self._parse(value, parser)
                if len(memo) > MEMO_LIMIT:
                    memo.clear()
        else:
            hit = self._parse(value, parser)
        ok, out = hit
        if ok:
            return out
        if out is not None and (required or out != _BLANK):
            self.fail(column, out)
        return None

    @staticmethod
    def _parse(value: Any, parser: Callable[[Any], Any]) -> tuple[bool, Any]:
        """(True, parsed) or (False, Chinese reason); a blank cell is (True, None) or (False, _BLANK)."""
        if is_blank(value):
            return (False, _BLANK)
        try:
            return (True, parser(value))
        except InvalidValue as exc:
            return (False, str(exc))

    def done(self) -> None:
        if self.errors:
            raise RowRejected(self.errors)


@functools.cache
def _text(n: int) -> Callable[[Any], str]:
    return functools.partial(parse_text, max_len=n)


def _project_id(row: Row, lookups: Lookups) -> int | None:
    code = row.get("project_code", _text(64))
    if code is None:
        return None
    project_id = lookups.projects.get(code)
    if project_id is None:
        row.fail("project_code", f"项目编号 {code} 不存在，请先导入该项目")
    return project_id


# ------------------------------------------------------------------------------------------ records


@dataclass
class ProjectRecord:
    code: str
    name: str
    township: str
    general_contractor: str
    contractor_credit_code: str | None
    owner: str | None
    start_date: date
    planned_end_date: date | None
    contract_value_fen: int | None
    has_wage_account: bool | None
    wage_deposit_fen: int | None
    has_notice_board: bool | None


def validate_project(row_no: int, raw: dict[str, Any], lookups: Lookups) -> ProjectRecord:
    row = Row("projects", row_no, raw, lookups.memo)
    code = row.get("project_code", _text(64))
    name = row.get("project_name", _text(200))
    township = row.get("township", _text(32))
    if township is not None and township not in lookups.townships:
        row.fail("township", f"未知乡镇/街道：{township}，应为本县乡镇或街道之一")
    contractor = row.get("general_contractor", _text(200))
    credit = row.get("contractor_credit_code", normalize_credit_code, required=False)
    owner = row.get("owner", _text(200), required=False)
    start = row.get("start_date", parse_date)
    end = row.get("planned_end_date", parse_date, required=False)
    if start and end and end < start:
        row.fail("planned_end_date", "计划竣工日期早于开工日期")
    value = row.get("contract_value", parse_money_fen, required=False)
    account = row.get("has_wage_account", parse_bool, required=False)
    deposit = row.get("wage_deposit", parse_money_fen, required=False)
    board = row.get("has_notice_board", parse_bool, required=False)
    row.done()
    return ProjectRecord(code, name, township, contractor, credit, owner, start, end, value, account, deposit, board)


@dataclass
class SubcontractRecord:
    project_id: int
    parent: str
    parent_credit_code: str | None
    child: str
    child_credit_code: str | None
    kind: str | None


def validate_subcontract(row_no: int, raw: dict[str, Any], lookups: Lookups) -> SubcontractRecord:
    row = Row("subcontracts", row_no, raw, lookups.memo)
    project_id = _project_id(row, lookups)
    parent = row.get("parent", _text(200))
    parent_code = row.get("parent_credit_code", normalize_credit_code, required=False)
    child = row.get("child", _text(200))
    child_code = row.get("child_credit_code", normalize_credit_code, required=False)
    kind_text = row.get("kind", _text(16), required=False)
    kind = None
    if kind_text is not None:
        kind = SUBCONTRACT_KINDS.get(kind_text.strip().lower()) or SUBCONTRACT_KINDS.get(kind_text.strip())
        if kind is None:
            row.fail("kind", "分包类型应为 专业分包、劳务分包、再分包 或 班组")
    if parent and child and parent == child:
        row.fail("child", "下级单位不能与上级单位相同")
    row.done()
    return SubcontractRecord(project_id, parent, parent_code, child, child_code, kind)


@dataclass
class WorkerRecord:
    project_id: int
    id_number: str
    name: str
    team: str
    trade: str | None
    daily_wage_fen: int
    entry_date: date
    exit_date: date | None
    phone: str | None

    @property
    def birth_date(self) -> date:
        return id_birth_date(self.id_number)

    @property
    def gender(self) -> str:
        return id_gender(self.id_number)


def _phone(v: Any) -> str:
    text = parse_text(v, max_len=32)
    digits = "".join(ch for ch in text if ch.isdigit())
    if not 7 <= len(digits) <= 13 or any(ch not in "0123456789-+ " for ch in text):
        raise InvalidValue("手机号格式不正确")
    return digits


def validate_worker(row_no: int, raw: dict[str, Any], lookups: Lookups) -> WorkerRecord:
    row = Row("workers", row_no, raw, lookups.memo)
    project_id = _project_id(row, lookups)
    id_number = row.get("id_number", lambda v: normalize_id_number(v, today=lookups.today))
    name = row.get("name", _text(64))
    team = row.get("team", _text(200))
    if project_id is not None and team is not None and team not in lookups.teams.get(project_id, ()):
        row.fail("team", f"班组“{team}”不在该项目的分包关系中，请先导入分包关系")
    trade = row.get("trade", _text(32), required=False)
    wage = row.get("daily_wage", parse_money_fen)
    if wage is not None and not 0 < wage <= MAX_DAILY_WAGE_FEN:
        row.fail("daily_wage", "日工资应大于 0 且不超过 ￥3,000.00")
    entry = row.get("entry_date", parse_date)
    exit_ = row.get("exit_date", parse_date, required=False)
    if entry and entry > lookups.today:
        row.fail("entry_date", "进场日期晚于今天")
    if entry and exit_ and exit_ < entry:
        row.fail("exit_date", "退场日期早于进场日期")
    phone = row.get("phone", _phone, required=False)
    row.done()
    return WorkerRecord(project_id, id_number, name, team, trade, wage, entry, exit_, phone)


@dataclass
class AttendanceRecord:
    project_id: int
    worker_id: int
    work_date: date
    hours_centi: int

    @property
    def ordinal(self) -> int:
        return self.work_date.toordinal()


def _on_roster(row: Row, lookups: Lookups, project_id: int | None) -> RosterInfo | None:
    id_number = row.get("id_number", lambda v: normalize_id_number(v, today=lookups.today))
    if project_id is None or id_number is None:
        return None
    info = lookups.roster.get((project_id, lookups.id_hasher(id_number)))
    if info is None:
        row.fail("id_number", "该工人不在此项目的实名制花名册中，请先导入花名册")
    return info


def validate_attendance(row_no: int, raw: dict[str, Any], lookups: Lookups) -> AttendanceRecord:
    row = Row("attendance", row_no, raw, lookups.memo)
    project_id = _project_id(row, lookups)
    info = _on_roster(row, lookups, project_id)
    day = row.get("date", parse_date)
    hours = row.get("hours", parse_hours_centi)
    if day is not None:
        if day > lookups.today:
            row.fail("date", "考勤日期晚于今天")
        elif info is not None and day < info.entry:
            row.fail("date", f"考勤日期早于进场日期（{info.entry.isoformat()}）")
        elif info is not None and info.exit is not None and day > info.exit:
            row.fail("date", f"考勤日期晚于退场日期（{info.exit.isoformat()}）")
    row.done()
    return AttendanceRecord(project_id, info.worker_id, day, hours)


@dataclass
class PayrollRecord:
    project_id: int
    worker_id: int
    period: str
    amount_due_fen: int
    amount_paid_fen: int
    pay_date: date
    channel: str | None


def channel_code(v: Any) -> str:
    text = parse_text(v, max_len=32)
    code = PAY_CHANNELS.get(text) or PAY_CHANNELS.get(text.lower())
    if code is None:
        raise InvalidValue("发放方式应为 专用账户代发、银行代发、现金 或 班组长代领")
    return code


def validate_payroll(row_no: int, raw: dict[str, Any], lookups: Lookups) -> PayrollRecord:
    row = Row("payroll", row_no, raw, lookups.memo)
    project_id = _project_id(row, lookups)
    info = _on_roster(row, lookups, project_id)
    period = row.get("period", parse_period)
    due = row.get("amount_due", parse_money_fen)
    paid = row.get("amount_paid", parse_money_fen)
    pay_date = row.get("pay_date", parse_date)
    channel = row.get("channel", channel_code, required=False)
    if period and pay_date:
        if pay_date < date(int(period[:4]), int(period[5:7]), 1):
            row.fail("pay_date", f"发放日期早于工资所属月份（{period}）开始")
        if pay_date > lookups.today:
            row.fail("pay_date", "发放日期晚于今天")
    if due is not None and paid is not None and paid > due * OVERPAY_FACTOR + OVERPAY_SLACK_FEN:
        row.fail("amount_paid", "实发金额远高于应发金额，请核对")
    row.done()
    return PayrollRecord(project_id, info.worker_id, period, due, paid, pay_date, channel)


@dataclass
class ReportRecord:
    uid: str
    received_at: datetime
    informant_code: str | None
    township: str | None
    project_code: str | None
    project_id: int | None
    employer: str | None
    text: str
    workers_involved: int | None
    amount_claimed_fen: int | None


def validate_report(row_no: int, raw: dict[str, Any], lookups: Lookups) -> ReportRecord:
    row = Row("reports", row_no, raw, lookups.memo)
    report_id = row.get("report_id", _text(64), required=False)
    received = row.get("received_at", parse_datetime)
    informant = row.get("informant_id", _text(64), required=False)
    township = row.get("township", _text(32), required=False)
    if township is not None and township not in lookups.townships:
        row.fail("township", f"未知乡镇/街道：{township}，应为本县乡镇或街道之一")
    project_code = row.get("project_code", _text(64), required=False)
    employer = row.get("employer", _text(200), required=False)
    text = row.get("text", _text(5000))
    workers = row.get("workers_involved", lambda v: parse_int(v, min=0, max=100_000, suffixes=("人", "名")),
                      required=False)
    amount = row.get("amount_claimed", parse_money_fen, required=False)
    if received is not None and received.date() > lookups.today:
        row.fail("received_at", "报告时间晚于今天")
    row.done()
    if report_id:
        uid = f"ext:{report_id}"
    else:
        digest = hashlib.sha256(f"{received.isoformat()}|{informant or ''}|{text}".encode()).hexdigest()
        uid = f"sha:{digest[:40]}"
    return ReportRecord(uid, received, informant, township, project_code, lookups.projects.get(project_code or ""),
                        employer, text, workers, amount)


VALIDATORS: dict[str, Callable[[int, dict[str, Any], Lookups], Any]] = {
    "projects": validate_project,
    "subcontracts": validate_subcontract,
    "workers": validate_worker,
    "attendance": validate_attendance,
    "payroll": validate_payroll,
    "reports": validate_report,
}
# Files of a folder are imported in this order, so each finds what it refers to.
KIND_ORDER = ("projects", "subcontracts", "workers", "attendance", "payroll", "reports")
