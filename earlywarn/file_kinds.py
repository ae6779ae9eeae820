"""The six kinds of interchange file of /work/shared/formats.md: their columns (English and Chinese names,
aliases), and recognising a file's kind from its header row or, failing that, its file name.

Header matching forgives what Excel and people do to a header: full-width characters, invisible
characters, spaces, a trailing unit in brackets (“日工资(元)”), case and separators.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    required: bool
    aliases: tuple[str, ...] = ()  # other Chinese names seen in the field, matched like ``zh``


@dataclass(frozen=True)
class FileKind:
    name: str
    label_zh: str
    columns: tuple[Column, ...]
    filename_hints: tuple[str, ...] = field(default=(), repr=False)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _kind(name: str, label: str, hints: tuple[str, ...], *cols: Column) -> FileKind:
    return FileKind(name, label, tuple(cols), hints)


C = Column
_ID_ALIASES = ("身份证号码", "公民身份号码")

KINDS: dict[str, FileKind] = {
    k.name: k
    for k in (
        _kind(
            "projects",
            "项目",
            ("project", "项目"),
            C("project_code", "项目编号", True),
            C("project_name", "项目名称", True),
            C("township", "所属乡镇", True, ("乡镇", "乡镇/街道", "所属乡镇/街道")),
            C("general_contractor", "施工总承包单位", True),
            C("contractor_credit_code", "总包统一社会信用代码", False),
            C("owner", "建设单位", False),
            C("start_date", "开工日期", True),
            C("planned_end_date", "计划竣工日期", False),
            C("contract_value", "合同金额", False),
            C("has_wage_account", "工资专用账户", False),
            C("wage_deposit", "工资保证金", False),
            C("has_notice_board", "维权告示牌", False),
        ),
        _kind(
            "subcontracts",
            "分包关系",
            ("subcontract", "分包"),
            C("project_code", "项目编号", True),
            C("parent", "上级单位", True),
            C("parent_credit_code", "上级统一社会信用代码", False),
            C("child", "下级单位", True),
            C("child_credit_code", "下级统一社会信用代码", False),
            C("kind", "分包类型", False),
        ),
        _kind(
            "workers",
            "实名制花名册",
            ("worker", "roster", "花名册", "实名"),
            C("project_code", "项目编号", True),
            C("id_number", "身份证号", True, _ID_ALIASES),
            C("name", "姓名", True),
            C("team", "班组", True),
            C("trade", "工种", False),
            C("daily_wage", "日工资", True),
            C("entry_date", "进场日期", True),
            C("exit_date", "退场日期", False),
            C("phone", "手机号", False, ("手机号码",)),
        ),
        _kind(
            "attendance",
            "考勤记录",
            ("attendance", "考勤"),
            C("project_code", "项目编号", True),
            C("id_number", "身份证号", True, _ID_ALIASES),
            C("date", "日期", True),
            C("hours", "工时", True),
        ),
        _kind(
            "payroll",
            "工资发放记录",
            ("payroll", "wage", "salary", "工资", "发放"),
            C("project_code", "项目编号", True),
            C("id_number", "身份证号", True, _ID_ALIASES),
            C("period", "工资所属月份", True),
            C("amount_due", "应发金额", True),
            C("amount_paid", "实发金额", True),
            C("pay_date", "发放日期", True),
            C("channel", "发放方式", False),
        ),
        _kind(
            "reports",
            "信息员报告",
            ("report", "报告", "信息员"),
            C("report_id", "报告编号", False),
            C("received_at", "报告时间", True),
            C("informant_id", "信息员编号", False),
            C("township", "乡镇", False, ("所属乡镇", "乡镇/街道", "所属乡镇/街道")),
            C("project_code", "项目编号", False),
            C("employer", "涉及单位", False),
            C("text", "内容", True),
            C("workers_involved", "涉及人数", False),
            C("amount_claimed", "涉及金额", False),
        ),
    )
}
del C

# Order in which file names are tried: the more specific words first ("项目考勤.csv" is attendance,
# "工资发放记录" is payroll although 项目 or 工资 might appear in other names).
_FILENAME_ORDER = ("attendance", "payroll", "subcontracts", "workers", "reports", "projects")

# Columns whose numeric Excel cells are turned into text so the "format as text" message can show them.
IDENTIFIER_COLUMNS = frozenset(
    {"id_number", "contractor_credit_code", "parent_credit_code", "child_credit_code"}
)

INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_TRAILING_PAREN_RE = re.compile(r"^(.+?)\((?:[^()]*)\)$")


def _key(s: str) -> str:
    """Matching key of a header: NFKC (full-width → ASCII), no whitespace/invisibles, no ``*`` required
    markers, case-folded, ``_`` and ``-`` dropped (``Project Code`` = ``project_code``)."""
    s = unicodedata.normalize("NFKC", s).translate(INVISIBLE)
    s = re.sub(r"\s+", "", s).strip("*")
    return re.sub(r"[_\-]", "", s.casefold())


def _column_keys(kind: FileKind) -> dict[str, str]:
    keys: dict[str, str] = {}
    for c in kind.columns:
        for label in (c.name, c.zh, *c.aliases):
            keys[_key(label)] = c.name
    return keys


KIND_KEYS: dict[str, dict[str, str]] = {name: _column_keys(k) for name, k in KINDS.items()}
ALL_KEYS: dict[str, str] = {}
for _keys in KIND_KEYS.values():
    ALL_KEYS.update(_keys)


def match_header(raw: str, keys: dict[str, str]) -> str | None:
    """Canonical name for a raw header, also when it carries a trailing note: ``日工资(元)``,
    ``身份证号（必填）``."""
    k = _key(raw)
    if not k:
        return None
    if k in keys:
        return keys[k]
    m = _TRAILING_PAREN_RE.match(unicodedata.normalize("NFKC", raw.translate(INVISIBLE)).strip())
    if m:
        return keys.get(_key(m.group(1)))
    return None


def _distinctive() -> dict[str, set[str]]:
    """Per kind, the canonical columns that occur in no other kind."""
    out: dict[str, set[str]] = {}
    for name, k in KINDS.items():
        others = {c for n, o in KINDS.items() if n != name for c in o.column_names}
        out[name] = set(k.column_names) - others
    return out


_DISTINCTIVE = _distinctive()


def kind_from_headers(headers: Sequence[str]) -> tuple[str | None, bool]:
    """(kind, complete). ``complete`` is True when every required column of the kind is present."""
    best: tuple[int, float, str] | None = None
    matched_by_kind: dict[str, set[str]] = {}
    for name, kind in KINDS.items():
        keys = KIND_KEYS[name]
        matched = {m for h in headers if (m := match_header(str(h), keys))}
        matched_by_kind[name] = matched
        if set(kind.required) <= matched:
            score = (len(matched), len(matched) / len(kind.columns), name)
            if best is None or score[:2] > best[:2]:
                best = score
    if best is not None:
        return best[2], True
    # No kind is complete: the kind with the most columns of its own (distinctive) wins, if unique.
    scores = sorted(((len(matched_by_kind[n] & _DISTINCTIVE[n]), n) for n in KINDS), reverse=True)
    if scores[0][0] > 0 and (len(scores) == 1 or scores[0][0] > scores[1][0]):
        return scores[0][1], False
    return None, False


def kind_from_filename(filename: str | None) -> str | None:
    if not filename:
        return None
    stem = unicodedata.normalize("NFKC", Path(str(filename)).name).casefold()
    for name in _FILENAME_ORDER:
        if any(h in stem for h in KINDS[name].filename_hints):
            return name
    return None


def kind_of(headers: Sequence[str], filename: str | None = None) -> str | None:
    """The file kind: from the header when one kind's required columns are all there, else from the file
    name (``attendance*.csv``, ``考勤*.xlsx`` ...), else the kind with the most of its own columns in the
    header (so its missing columns can be named), else None."""
    kind, complete = kind_from_headers(headers)
    if complete:
        return kind
    return kind_from_filename(filename) or kind


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column as Excel shows it."""
    s = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s

