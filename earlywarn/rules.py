"""Wage-check rules as data: load and validate ``rules/*.yaml``, evaluate a rule over named features.

Pure: no database, no web. The schema is documented in ``rules/README.md``. A malformed file stops start-up
with a :class:`RuleError` naming the file and the rule. Conditions are restricted Python expressions, parsed
once with :mod:`ast` and compiled into closures (never ``eval``; see rule_expr.py), in three-valued logic: a feature
whose value is ``None`` has no data, and a condition that needs it is *not checked* (``None``) rather than
silently passed — unless short-circuiting makes it irrelevant (``False and x`` is False, ``True or x`` True).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from earlywarn.check_features import FEATURES, MISSING_DATA, SUBJECTS
from earlywarn.rule_expr import Column, Condition, VectorCondition, compile_condition, compile_vector, parse_condition

SEVERITIES = ("P1", "P2", "P3", "P4")
SEVERITY_LEVEL = {"P1": "red", "P2": "orange", "P3": "yellow", "P4": "none"}
LEVEL_ORDER = ("none", "blue", "yellow", "orange", "red")
RULE_LEVELS = ("none", "yellow", "orange", "red")
MODES = ("live", "monitor")
MINIMUM_WAGE_FILE = "minimum_wage.yaml"
ESCALATION_FILE = "escalation.yaml"

_REQUIRED = {"id", "title", "description", "legal_basis", "severity", "subject"}
_OPTIONAL = {"ref", "mode", "level", "params", "when", "requires"}
_ID_RE = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")
_REF_RE = re.compile(r"^R[0-9]+$")
_PARAM_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


class RuleError(ValueError):
    """A rule file (or the minimum-wage or escalation table) that cannot be used; the message is Chinese."""


def _fail(file: str, rule_id: str | None, message: str) -> RuleError:
    where = f"{file}：规则 {rule_id}" if rule_id else file
    return RuleError(f"{where}：{message}")


# ----------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class LegalBasis:
    law: str
    article: str = ""


@dataclass(frozen=True)
class Param:
    name: str
    value: int | float | bool
    source: str


@dataclass(frozen=True)
class Rule:
    id: str
    ref: str | None
    title: str
    description: str
    legal_basis: tuple[LegalBasis, ...]
    severity: str
    level: str
    subject: str
    mode: str
    params: dict[str, Param] = field(hash=False)  # keeps Rule hashable
    when: str
    requires: tuple[str, ...]
    file: str
    features_used: frozenset[str] = frozenset()
    _condition: Condition | None = field(default=None, repr=False, compare=False)
    _vector: VectorCondition | None = field(default=None, repr=False, compare=False)

    @property
    def live(self) -> bool:
        return self.mode == "live"

    def evaluate(self, features: Mapping[str, object]) -> bool | None:
        """True (fired), False (passed) or None (not checked: ``requires`` data or a needed feature missing).
        A feature absent from ``features`` counts as missing, never as passing."""
        if self.requires or self._condition is None:
            return None
        try:
            result = self._condition(features)  # params were folded in as constants at load
        except (TypeError, ArithmeticError) as e:
            raise _fail(self.file, self.id, f"计算条件时出错（特征值类型不对？）：{e}") from None
        return None if result is None else bool(result)

    def evaluate_columns(self, cols: Mapping[str, Column], n: int) -> tuple[np.ndarray, np.ndarray]:
        """The same verdict for ``n`` subjects at once: (fired, not checked) boolean arrays."""
        if self.requires or self._vector is None:
            return np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
        return self._vector(cols, n)

    def missing(self, features: Mapping[str, object]) -> tuple[str, ...]:
        """Why a subject was not checked: the ``requires`` keys, or the needed features without data."""
        return self.requires or tuple(sorted(n for n in self.features_used if features.get(n) is None))


def _text(file: str, rid: str, raw: dict, key: str) -> str:
    v = raw.get(key)
    if not isinstance(v, str) or not v.strip():
        raise _fail(file, rid, f"{key} 必须是非空文字")
    if key in ("title", "description") and not _CJK_RE.search(v):
        raise _fail(file, rid, f"{key} 须用中文书写：{v!r}")
    return v.strip()


def _choice(file: str, rid: str, key: str, value: object, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise _fail(file, rid, f"未知的 {key} {value!r}，可用：{'、'.join(allowed)}")
    return value  # type: ignore[return-value]


def _legal_basis(file: str, rid: str, raw: object) -> tuple[LegalBasis, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail(file, rid, "legal_basis 必须是至少一项的列表，每项 {law: 法规名称, article: 条款}")
    out = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("law"), str) or set(item) - {"law", "article"}:
            raise _fail(file, rid, f"legal_basis 的每一项只能有 law（必填）和 article：{item!r}")
        out.append(LegalBasis(item["law"].strip(), str(item.get("article") or "").strip()))
    return tuple(out)


def _params(file: str, rid: str, raw: object, subject: str) -> dict[str, Param]:
    if not isinstance(raw, dict):
        raise _fail(file, rid, "params 必须是“参数名: {value: 值, source: 来源}”的映射")
    out = {}
    for name, spec in raw.items():
        if not isinstance(name, str) or not _PARAM_RE.match(name):
            raise _fail(file, rid, f"参数名 {name!r} 只能用小写字母、数字和下划线")
        if name in FEATURES[subject]:
            raise _fail(file, rid, f"参数 {name} 与 {subject} 的特征同名")
        if not isinstance(spec, dict) or "value" not in spec or not str(spec.get("source") or "").strip():
            raise _fail(file, rid, f"参数 {name} 必须同时给出 value 和 source（默认值的出处）")
        if extra := set(spec) - {"value", "source", "note"}:
            raise _fail(file, rid, f"参数 {name} 有未知的键：{'、'.join(sorted(map(str, extra)))}")
        if type(spec["value"]) not in (int, float, bool):
            raise _fail(file, rid, f"参数 {name} 的值必须是数字或 true/false：{spec['value']!r}")
        out[name] = Param(name, spec["value"], str(spec["source"]).strip())
    return out


def _rule(file: str, stem: str, raw: object, index: int) -> Rule:
    if not isinstance(raw, dict):
        raise _fail(file, f"#{index + 1}", "每条规则必须是一个映射")
    rid = raw.get("id")
    if not isinstance(rid, str) or not _ID_RE.match(rid) or rid.split(".")[0] != stem:
        raise _fail(file, rid or f"#{index + 1}", f"id 必须形如“{stem}.小写英文名”（文件名 + 点 + 名称）")
    if missing := _REQUIRED - set(raw):
        raise _fail(file, rid, f"缺少必填项：{'、'.join(sorted(missing))}")
    if unknown := set(raw) - _REQUIRED - _OPTIONAL:
        raise _fail(file, rid, f"未知的键：{'、'.join(sorted(map(str, unknown)))}")
    subject = _choice(file, rid, "subject", raw["subject"], SUBJECTS)
    severity = _choice(file, rid, "severity", raw["severity"], SEVERITIES)
    # Blue (IV) is a warning level of the risk scorer; a wage-check level is green/yellow/orange/red (formats.md).
    level = _choice(file, rid, "level", raw.get("level", SEVERITY_LEVEL[severity]), RULE_LEVELS)
    mode = _choice(file, rid, "mode", raw.get("mode", "live"), MODES)
    ref = raw.get("ref")
    if ref is not None and not (isinstance(ref, str) and _REF_RE.match(ref)):
        raise _fail(file, rid, f"ref 必须形如 R7（wage-rules.md 第 7 节的编号）：{ref!r}")
    params = _params(file, rid, raw.get("params") or {}, subject)
    requires = raw.get("requires") or []
    if not isinstance(requires, list) or any(not isinstance(k, str) or k not in MISSING_DATA for k in requires):
        raise _fail(file, rid, f"requires 中有未知的数据项：{requires!r}；可用：{'、'.join(MISSING_DATA)}")
    when = raw.get("when")
    tree, used = None, frozenset()
    if when is None and not requires:
        raise _fail(file, rid, "缺少条件 when（只有声明了 requires 的规则可以不写）")
    if when is not None:
        if not isinstance(when, str):
            raise _fail(file, rid, f"when 必须是文字（用引号括起来）：{when!r}")
        try:
            tree, used = parse_condition(when, set(FEATURES[subject]) | set(params))
        except LookupError as e:
            known = f"{subject} 可用的特征：{'、'.join(FEATURES[subject])}"
            known += f"；本规则的参数：{'、'.join(params)}" if params else ""
            raise _fail(file, rid, f"条件中的未知特征 {e.args[0]!r}；{known}") from None
        except ValueError as e:
            raise _fail(file, rid, str(e)) from None
    constants = {n: p.value for n, p in params.items()}
    condition = compile_condition(tree, constants) if tree is not None else None
    vector = compile_vector(tree, constants) if tree is not None else None
    return Rule(id=rid, ref=ref, title=_text(file, rid, raw, "title"), description=_text(file, rid, raw, "description"),
                legal_basis=_legal_basis(file, rid, raw["legal_basis"]), severity=severity, level=level,
                subject=subject, mode=mode, params=params, when=(when or "").strip(), requires=tuple(requires),
                file=file, features_used=used - set(params), _condition=condition, _vector=vector)


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; a second ``when:`` would silently replace the first."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"重复的键 {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (safe subclass)
    except yaml.YAMLError as e:
        raise _fail(str(path), None, f"YAML 格式错误：{e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(str(path), None, f"无法读取（须为 UTF-8）：{e}") from None


def load_rule_file(path: Path) -> list[Rule]:
    data = _read_yaml(path)
    if not isinstance(data, dict) or set(data) != {"rules"} or not isinstance(data["rules"], list):
        raise _fail(str(path), None, "文件顶层必须只有一个键 rules:，其下是规则列表")
    return [_rule(str(path), path.stem, raw, i) for i, raw in enumerate(data["rules"])]


# ----------------------------------------------------------------------------- minimum wage, escalation phrases


@dataclass(frozen=True)
class MinimumWage:
    tier: int
    valid_from: date
    monthly_fen: int
    hourly_fen: int
    source: str


@dataclass(frozen=True)
class MinimumWageTable:
    entries: tuple[MinimumWage, ...]


def load_minimum_wage(path: Path) -> MinimumWageTable:
    """The dated table (yuan in the file, fen here); every standard must name the same tiers."""
    data, f = _read_yaml(path), str(path)
    if not isinstance(data, dict) or set(data) != {"minimum_wage"} or not isinstance(data["minimum_wage"], list):
        raise _fail(f, None, "文件顶层必须只有一个键 minimum_wage:，其下是 {tier, from, monthly, hourly, source} 列表")
    entries: dict[tuple[int, date], MinimumWage] = {}
    for i, e in enumerate(data["minimum_wage"], 1):
        ok = (isinstance(e, dict) and set(e) == {"tier", "from", "monthly", "hourly", "source"}
              and type(e["tier"]) is int and e["tier"] >= 1 and type(e["from"]) is date
              and all(type(e[k]) in (int, float) and e[k] > 0 for k in ("monthly", "hourly"))
              and isinstance(e["source"], str) and e["source"].strip())
        if not ok:
            raise _fail(f, None, f"第 {i} 项须为 {{tier: 正整数, from: 日期, monthly: 元, hourly: 元, source: 出处}}："
                                 f"{e!r}")
        if (e["tier"], e["from"]) in entries:
            raise _fail(f, None, f"第 {e['tier']} 档自 {e['from']} 起的标准重复")
        entries[e["tier"], e["from"]] = MinimumWage(e["tier"], e["from"], round(e["monthly"] * 100),
                                                    round(e["hourly"] * 100), e["source"].strip())
    if not entries:
        raise _fail(f, None, "最低工资表为空")
    tiers = {t for t, _ in entries}
    for start in sorted({d for _, d in entries}):
        if lacking := sorted(t for t in tiers if (t, start) not in entries):
            raise _fail(f, None, f"自 {start} 起的标准缺少第 {'、'.join(map(str, lacking))} 档")
    return MinimumWageTable(tuple(sorted(entries.values(), key=lambda m: (m.tier, m.valid_from))))


def minimum_wage(table: MinimumWageTable, tier: int, on: date) -> tuple[int, int]:
    """(monthly fen, hourly fen) of the standard in force for ``tier`` on ``on``."""
    in_tier = [m for m in table.entries if m.tier == tier]
    if not in_tier:
        known = "、".join(sorted({str(m.tier) for m in table.entries}))
        raise ValueError(f"最低工资表中没有第 {tier} 档（有：{known}）")
    current = [m for m in in_tier if m.valid_from <= on]
    if not current:
        raise ValueError(f"{on} 时第 {tier} 档尚无最低工资标准（最早自 {in_tier[0].valid_from} 起）")
    return current[-1].monthly_fen, current[-1].hourly_fen


# A "*" in a phrase stands for up to this many characters within one clause ("堵*门" matches 堵政府大门).
_GAP = r"[^，。！？；、,.!?;\s]{0,6}"


def load_escalation_phrases(path: Path) -> list[str]:
    """The phrases of every group, then each ``not_escalation`` phrase prefixed with "!" (see find_escalation)."""
    data, f = _read_yaml(path), str(path)
    ok_keys = isinstance(data, dict) and set(data) in ({"escalation"}, {"escalation", "not_escalation"})
    groups = data.get("escalation") if ok_keys else None
    if not isinstance(groups, list) or not groups:
        raise _fail(f, None, "文件顶层须为 escalation:（{group, phrases, source} 列表），"
                             "可另有 not_escalation:（短语列表）")
    exclusions = data.get("not_escalation") or []
    if not isinstance(exclusions, list) or not all(isinstance(p, str) and p.strip(" *") for p in exclusions):
        raise _fail(f, None, f"not_escalation 须为短语列表：{exclusions!r}")
    phrases: list[str] = []
    for g in groups:
        ok = (isinstance(g, dict) and set(g) == {"group", "phrases", "source"} and isinstance(g["group"], str)
              and isinstance(g["source"], str) and g["source"].strip() and isinstance(g["phrases"], list)
              and g["phrases"] and all(isinstance(p, str) and p.strip(" *") for p in g["phrases"]))
        if not ok:
            raise _fail(f, None, f"每组须为 {{group: 组名, phrases: [短语…], source: 出处}}：{g!r}")
        for p in g["phrases"]:
            if p.strip() in phrases:
                raise _fail(f, None, f"短语“{p}”重复（组 {g['group']}）")
            phrases.append(p.strip())
    return phrases + [f"!{p.strip()}" for p in exclusions]


@lru_cache(maxsize=1024)
def _phrase_re(phrase: str) -> re.Pattern[str]:
    return re.compile(_GAP.join(re.escape(part) for part in phrase.split("*")))


def find_escalation(text: str | None, phrases: Iterable[str]) -> list[str]:
    """The phrases found in ``text`` (in list order). A signal for a person to read, not a verdict:
    "没有堵门" matches too. Phrases starting with "!" are ordinary uses of the words ("爬楼梯", "招工横幅",
    "拉闸限电"); their occurrences are blanked out before the signals are looked for."""
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text)
    phrases = list(phrases)
    for p in phrases:
        if p.startswith("!"):
            text = _phrase_re(p[1:]).sub(lambda m: " " * len(m.group()), text)
    return [p for p in phrases if not p.startswith("!") and _phrase_re(p).search(text)]


# ----------------------------------------------------------------------------- the rule set


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    minimum_wage: MinimumWageTable
    escalation_phrases: tuple[str, ...]

    def for_subject(self, subject: str) -> list[Rule]:
        if subject not in SUBJECTS:
            raise ValueError(f"未知的对象 {subject!r}，可用：{'、'.join(SUBJECTS)}")
        return [r for r in self.rules if r.subject == subject]

    def get(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def load_rules(rules_dir: Path) -> RuleSet:
    """Every ``*.yaml`` in ``rules_dir``: the two tables by name, every other file a rule file. Fails loudly."""
    rules_dir = Path(rules_dir)
    if stray := sorted(p.name for p in rules_dir.glob("*.yml")):
        raise _fail(str(rules_dir), None, f"规则文件须以 .yaml 结尾（不会读取 {'、'.join(stray)}）")
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in sorted(rules_dir.glob("*.yaml")):
        if path.name in (MINIMUM_WAGE_FILE, ESCALATION_FILE):
            continue
        for rule in load_rule_file(path):
            if rule.id in seen:
                raise _fail(str(path), rule.id, f"id 重复，已在 {seen[rule.id]} 中定义（id 全局唯一，永不复用）")
            seen[rule.id] = str(path)
            rules.append(rule)
    if not rules:
        raise _fail(str(rules_dir), None, "没有找到任何规则文件（*.yaml）")
    for name in (MINIMUM_WAGE_FILE, ESCALATION_FILE):
        if not (rules_dir / name).is_file():
            raise _fail(str(rules_dir / name), None, "缺少此文件")
    return RuleSet(tuple(rules), load_minimum_wage(rules_dir / MINIMUM_WAGE_FILE),
                   tuple(load_escalation_phrases(rules_dir / ESCALATION_FILE)))


# ----------------------------------------------------------------------------- evaluation over many subjects


def worst_level(levels: Iterable[str]) -> str:
    """The highest colour among ``levels``; "green" when none is above "none" (info only)."""
    rank = max((LEVEL_ORDER.index(lv) for lv in levels), default=0)
    return LEVEL_ORDER[rank] if rank else "green"


@dataclass
class RuleOutcome:
    """One rule over many subjects. Monitor-mode rules are counted the same way but raise no level."""

    rule_id: str
    mode: str
    level: str
    checked: int = 0
    fired: int = 0
    not_checked: int = 0
    subjects_fired: list = field(default_factory=list)
    subjects_not_checked: list = field(default_factory=list)
    missing: Counter = field(default_factory=Counter)  # requires key / feature → subjects lacking it

    @property
    def live(self) -> bool:
        return self.mode == "live"

    @property
    def raises_level(self) -> str:
        """The level this outcome contributes: its own when a live rule fired, else "none"."""
        return self.level if self.live and self.fired else "none"


def evaluate_subjects(ruleset: RuleSet, subject: str, rows: Iterable[Mapping],
                      key: str | None = None) -> dict[str, RuleOutcome]:
    """Every rule of ``subject`` over every row; a subject is named by ``row[key]`` or else its position."""
    rules = ruleset.for_subject(subject)
    out = {r.id: RuleOutcome(r.id, r.mode, r.level) for r in rules}
    for i, row in enumerate(rows):
        name = row.get(key) if key else i
        for r in rules:
            o, verdict = out[r.id], r.evaluate(row)
            if verdict is None:
                o.not_checked += 1
                o.subjects_not_checked.append(name)
                o.missing.update(r.missing(row))
                continue
            o.checked += 1
            if verdict:
                o.fired += 1
                o.subjects_fired.append(name)
    return out


def missing_label(subject: str, name: str) -> str:
    """Chinese text for a ``RuleOutcome.missing`` key (a requires key or a feature of ``subject``)."""
    return MISSING_DATA.get(name) or FEATURES[subject].get(name, name)


@lru_cache(maxsize=8)
def cached_rules(rules_dir: Path) -> RuleSet:
    """A directory's rule set, read once per process, as the app reads it once at start-up (a changed rule
    file takes effect at the next start). For work that runs per report or per job."""
    return load_rules(rules_dir)
