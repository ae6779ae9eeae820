"""Evaluation of a backtest against the truth (pure): how much a warning catches, and how early.

The way early-warning forecasters score themselves (shared/reference/early-warning.md): a (project, date)
row is positive when a collective dispute starts on the project within the horizon after the date; rows of
a project already in a dispute (one within the horizon before the date) are left out, since the scorer is
about onsets; rows too close to the end of the truth to know their label are left out too. Four scorers
are compared on the same rows:

* ``full``: the system as deployed — rule floors plus the calibrated model (the backtest's score and level);
* ``model``: the model's probability alone, warning at the model card's thresholds;
* ``rules``: the wage check alone — its level, then the days overdue — warning at orange or red;
* ``naive``: the most days any worker's wage is overdue, warning at 30 days (a month past the pay day).

Figures: average precision (AP), the precision of each week's top K (the mediators' capacity), the share of
disputes warned at least 7 and 14 days ahead, the median lead time, the Brier score (for the probabilities)
and the number of warnings (project-dates with a warning). Also the same AP on two harder subsets: first
disputes (rows of projects with no dispute before the date), and onsets (rows of projects with no arrears
and no report-based rule hit on any scoring date up to and including this one: can the scorer see a dispute
coming before the wage data or the informants show anything?). Onsets need the side file (overdue days).
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss

SCORERS = ("full", "model", "rules", "naive")
SCORER_ZH = {"full": "完整评分（规则+模型）", "model": "仅模型", "rules": "仅规则（工资核查）",
             "naive": "朴素基线（最长欠薪天数）"}
_LEVEL_RANK = {"none": 0, "green": 0, "blue": 1, "yellow": 2, "orange": 3, "red": 4}
NAIVE_WARN_DAYS = 30


class EvaluationError(ValueError):
    """A file is missing a column, has a bad value, or the two files do not fit together (message in Chinese)."""


@dataclass
class Row:
    as_of: date
    code: str
    score: float
    level: str
    model_score: float | None = None
    model_level: str | None = None
    check_level: str | None = None
    overdue_days: int | None = None
    report_rule: bool = False  # a rule on informants' reports fired (the backtest's reasons)

    def key(self, scorer: str) -> float:
        """The ranking key of a scorer: higher is riskier."""
        if scorer == "full":
            return _LEVEL_RANK[self.level] + self.score  # the queue's order: level, then score
        if scorer == "model":
            return self.model_score
        if scorer == "rules":
            return _LEVEL_RANK[self.check_level] + self.overdue_days / (self.overdue_days + 365.0)
        return float(self.overdue_days)

    def warned(self, scorer: str) -> bool:
        if scorer == "full":
            return self.level != "none"
        if scorer == "model":
            return self.model_level != "none"
        if scorer == "rules":
            return self.check_level in ("orange", "red")
        return self.overdue_days >= NAIVE_WARN_DAYS


@dataclass
class ScorerFigures:
    scorer: str
    average_precision: float | None
    average_precision_first: float | None
    average_precision_onset: float | None
    precision_top_k: float | None
    warned_7d: float | None
    warned_14d: float | None
    median_lead_days: float | None
    brier: float | None
    warnings: int


@dataclass
class Evaluation:
    rows: int
    positives: int
    disputes: int
    weeks: int
    capacity: int
    horizon_days: int
    until: date
    figures: list[ScorerFigures] = field(default_factory=list)
    ablations: bool = True

    @property
    def base_rate(self) -> float:
        return self.positives / self.rows if self.rows else 0.0

    def by_scorer(self) -> dict[str, ScorerFigures]:
        return {f.scorer: f for f in self.figures}


def _date(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise EvaluationError(f"{where}：日期“{value}”不是 YYYY-MM-DD 格式") from None


def _read(path: Path, required: list[str]) -> Iterable[tuple[int, dict]]:
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise EvaluationError(f"无法读取 {path}：{exc.strerror}") from None
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise EvaluationError(f"{path.name} 缺少列：{'、'.join(missing)}")
        yield from enumerate(reader, start=2)


def read_backtest(path: Path) -> list[Row]:
    rows = []
    for line, r in _read(path, ["as_of", "project_code", "score", "level"]):
        where = f"{path.name} 第 {line} 行"
        try:
            score = float(r["score"])
        except ValueError:
            raise EvaluationError(f"{where}：score“{r['score']}”不是数字") from None
        if r["level"] not in _LEVEL_RANK or r["level"] == "green":
            raise EvaluationError(f"{where}：level“{r['level']}”应为 red/orange/yellow/blue/none")
        rows.append(Row(_date(r["as_of"], where), r["project_code"], score, r["level"],
                        report_rule=any(x.startswith("reports.") for x in (r.get("reasons") or "").split(";"))))
    if not rows:
        raise EvaluationError(f"{path.name} 没有数据行")
    return rows


def attach_components(rows: list[Row], path: Path) -> None:
    """Fill the ablation columns from the backtest's side file; every row must be found there."""
    found = {}
    for line, r in _read(path, ["as_of", "project_code", "model_score", "model_level", "check_level",
                                "overdue_days"]):
        where = f"{path.name} 第 {line} 行"
        try:
            found[(_date(r["as_of"], where), r["project_code"])] = (
                float(r["model_score"]), r["model_level"], r["check_level"], int(r["overdue_days"]))
        except ValueError:
            raise EvaluationError(f"{where}：数值列无法解析") from None
    for row in rows:
        parts = found.get((row.as_of, row.code))
        if parts is None:
            raise EvaluationError(f"{path.name} 与回测文件不对应：缺少 {row.as_of} {row.code}")
        row.model_score, row.model_level, row.check_level, row.overdue_days = parts


def read_truth(path: Path) -> dict[str, list[date]]:
    out: dict[str, list[date]] = defaultdict(list)
    for line, r in _read(path, ["project_code", "date"]):
        out[r["project_code"]].append(_date(r["date"], f"{path.name} 第 {line} 行"))
    return {k: sorted(v) for k, v in out.items()}


def evaluate(rows: list[Row], truth: dict[str, list[date]], *, capacity: int = 10, horizon_days: int = 56,
             until: date | None = None) -> Evaluation:
    """Figures for every scorer the rows carry (the full scorer only, without the side file)."""
    horizon = timedelta(days=horizon_days)
    until = until or max(r.as_of for r in rows)
    ablations = all(r.model_score is not None for r in rows)
    scorers = SCORERS if ablations else ("full",)
    labelled, labels, first, onset = [], [], [], []
    quiet = _quiet_rows(rows) if ablations else set()
    for r in rows:
        dates = truth.get(r.code, [])
        if r.as_of + horizon > until or any(r.as_of - horizon < d <= r.as_of for d in dates):
            continue
        labelled.append(r)
        labels.append(int(any(r.as_of < d <= r.as_of + horizon for d in dates)))
        first.append(not any(d <= r.as_of for d in dates))
        onset.append((r.as_of, r.code) in quiet)
    y = np.array(labels)
    weeks: dict[date, list[int]] = defaultdict(list)
    for i, r in enumerate(labelled):
        weeks[r.as_of].append(i)
    # Disputes the scorer had a full horizon to see coming, up to the end of the truth.
    start = min(r.as_of for r in rows)
    disputes = [(code, d) for code, ds in truth.items() for d in ds if start + horizon <= d <= until]
    by_project: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_project[r.code].append(r)
    result = Evaluation(len(labelled), int(y.sum()), len(disputes), len(weeks), capacity, horizon_days, until,
                        ablations=ablations)
    for scorer in scorers:
        keys = np.array([r.key(scorer) for r in labelled])
        result.figures.append(ScorerFigures(
            scorer, _ap(y, keys), _subset_ap(y, keys, first), _subset_ap(y, keys, onset) if ablations else None,
            _top_k(y, keys, weeks, capacity),
            *_lead(scorer, disputes, by_project, horizon), _brier(scorer, labelled, y),
            sum(r.warned(scorer) for r in rows)))
    return result


def _quiet_rows(rows: list[Row]) -> set[tuple[date, str]]:
    """(as_of, project) of projects with no arrears and no report-based rule hit on any date up to this one."""
    out, spoiled = set(), set()
    for r in sorted(rows, key=lambda r: r.as_of):
        if r.overdue_days > 0 or r.report_rule:
            spoiled.add(r.code)
        if r.code not in spoiled:
            out.add((r.as_of, r.code))
    return out


def _subset_ap(y: np.ndarray, keys: np.ndarray, mask: list[bool]) -> float | None:
    m = np.array(mask, dtype=bool)
    return _ap(y[m], keys[m]) if len(m) else None


def _ap(y: np.ndarray, keys: np.ndarray) -> float | None:
    return float(average_precision_score(y, keys)) if len(y) and y.any() else None


def _top_k(y: np.ndarray, keys: np.ndarray, weeks: dict[date, list[int]], k: int) -> float | None:
    if not weeks or k < 1:
        return None
    # Ties broken by row order, the same for every scorer: a constant key cannot look good by luck.
    return float(np.mean([y[sorted(idx, key=lambda i: -keys[i])[:k]].mean() for idx in weeks.values()]))


def _lead(scorer: str, disputes, by_project, horizon: timedelta) -> tuple:
    if not disputes:
        return None, None, None
    leads = []
    for code, d in disputes:
        warned = [r.as_of for r in by_project.get(code, []) if d - horizon <= r.as_of < d and r.warned(scorer)]
        leads.append((d - min(warned)).days if warned else None)
    seen = [x for x in leads if x is not None]
    return (sum(x >= 7 for x in seen) / len(leads), sum(x >= 14 for x in seen) / len(leads),
            statistics.median(seen) if seen else None)


def _brier(scorer: str, labelled: list[Row], y: np.ndarray) -> float | None:
    if scorer not in ("full", "model") or not len(y):
        return None
    p = np.array([min(1.0, r.score) if scorer == "full" else r.model_score for r in labelled])
    return float(brier_score_loss(y, p))


def as_dict(ev: Evaluation) -> dict:
    def clean(v):
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else (round(v, 4) if isinstance(v, float)
                                                                                 else v)
    return {"rows": ev.rows, "positives": ev.positives, "base_rate": round(ev.base_rate, 4),
            "disputes": ev.disputes, "weeks": ev.weeks, "capacity": ev.capacity, "horizon_days": ev.horizon_days,
            "until": ev.until.isoformat(),
            "scorers": {f.scorer: {k: clean(v) for k, v in vars(f).items() if k != "scorer"} for f in ev.figures}}
