"""Scoring projects (service): features → calibrated model + rule floors → level and reasons in Chinese.

Rule hits set a floor: an escalation signal in a report makes a project red whatever the model says, while the
report is fresh (``floor_fresh_days``, one weekly triage cycle by default). The
model's probability and the thresholds (settings, chosen for the mediators' capacity) give the level
otherwise; the explanation names the rules that fired, with their legal basis, and the feature groups that
moved the score most.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from sqlmodel import Session

from earlywarn.balances import worker_months
from earlywarn.config import Settings
from earlywarn.risk import (
    DEFAULT_THRESHOLDS,
    LEVELS,
    RiskModel,
    RiskModelError,
    latest_model_dir,
    level_for,
    load_model,
)
from earlywarn.risk_features import compute_features, feature_matrix, scoring_targets
from earlywarn.rules import RuleSet
from earlywarn.wagecheck import recent_reports, run_check
from earlywarn.warnings import ProjectScore

# Rules whose hit alone makes a project red (R22 an escalation signal, R21 a crowd past the emergency line), both
# "须 24 小时内介入". The floor needs a report of the last ``floor_fresh_days``: in a backtest of simulated seed 201,
# 7 of 14 weekly rows with an escalation report under a week old were followed by a dispute within 8 weeks, 2 of 9
# at one to two weeks, none of 14 older — a threat that has not materialised in a fortnight was met or withdrawn,
# and a floor that outlives it pushes stale sites ahead of the model's best. The criminal thresholds (R24) and the
# 10-worker collective line (R21) no longer floor the risk level (they made it orange): they are legal findings the
# wage check's own colour shows, not signs that a crowd will gather — of the rows they lifted, 8% were followed by
# a dispute, half the 15% an orange level stands for. bench/quality_bench.py measures the effect.
RULE_FLOORS = {
    "reports.escalation_signal": "red",
    "reports.collective_emergency": "red",
}
_RANK = {level: i for i, level in enumerate(reversed(LEVELS))}  # blue 0 … red 3


@lru_cache(maxsize=4)
def load_risk_model(models_dir: Path, name: str | None = None) -> RiskModel | None:
    """The named model folder, else the newest simulator-trained one; None when there is none."""
    if name:
        folder = models_dir / name
        if not (folder / "card.yaml").exists():
            raise RiskModelError(f"EARLYWARN_RISK_MODEL={name}: {folder} has no model card")
        return load_model(folder)
    folder = latest_model_dir(models_dir)
    return load_model(folder) if folder else None


def _higher(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if _RANK[a] >= _RANK[b] else b


def score_projects(*, session: Session, settings: Settings, ruleset: RuleSet, model: RiskModel | None, as_of: date,
                   project_ids: list[int] | None = None, thresholds: dict | None = None) -> list[ProjectScore]:
    thresholds = thresholds or (model.card.get("thresholds") if model else None) or DEFAULT_THRESHOLDS
    targets = scoring_targets(session=session, as_of=as_of, project_ids=project_ids)
    if not targets:
        return []
    # One read of the worker-month balances serves both the features and the wage check.
    months = worker_months(session=session, as_of=as_of, pay_day=settings.pay_day, project_ids=targets)
    rows = compute_features(session=session, as_of=as_of, pay_day=settings.pay_day, project_ids=project_ids,
                            report_window_days=settings.report_window_days, targets=targets, months=months)
    checks = {c.project_id: c for c in run_check(session=session, ruleset=ruleset, as_of=as_of,
                                                 min_wage_tier=settings.min_wage_tier, pay_day=settings.pay_day,
                                                 report_window_days=settings.report_window_days,
                                                 project_ids=targets, months=months)}
    fresh = recent_reports(session=session, as_of=as_of, days=settings.floor_fresh_days,
                           phrases=ruleset.escalation_phrases, project_ids=targets)
    matrix = feature_matrix(rows)
    if model:
        contributions, probabilities = model.explain(matrix)
    else:
        contributions, probabilities = [{} for _ in rows], [0.0] * len(rows)
    out = []
    for row, p, contrib in zip(rows, probabilities, contributions, strict=True):
        check = checks.get(row.project_id)
        fired = [h for h in (check.hits if check else []) if h.fired and h.live]
        floor, stale = None, []
        for hit in fired:
            if hit.rule.id in RULE_FLOORS:
                if _still_fresh(hit.rule, fresh.get(row.project_id, [])):
                    floor = _higher(floor, RULE_FLOORS[hit.rule.id])
                else:
                    stale.append(hit.rule.title)
        model_level = level_for(float(p), thresholds)
        level = _higher(model_level, floor)
        reasons = _reasons(row, fired, contrib, float(p), floor)
        if stale and not floor:
            reasons["floor_note"] = (f"{'、'.join(stale)}的报告已超过 {settings.floor_fresh_days} 天且未再出现，"
                                     "不再设定最低等级（仍列为规则命中）")
        # What the ablations of the evaluation need: the model's own level, the wage check's own level and
        # the score lifted to the floor's threshold (so that the written score and the level agree).
        reasons.update(model_level=model_level, check_level=check.level if check else "green",
                       full_score=round(max(float(p), thresholds[floor]) if floor else float(p), 4),
                       oldest_overdue_days=row.facts.get("oldest_overdue_days", 0))
        out.append(ProjectScore(row.project_id, round(float(p), 4), level, reasons))
    return out


def _still_fresh(rule, reports: list[tuple[int | None, bool]]) -> bool:
    """Whether the reports of the freshness window alone still make this floor rule fire."""
    if rule.id == "reports.escalation_signal":
        return any(escalation for _, escalation in reports)
    return max((workers or 0 for workers, _ in reports), default=0) >= rule.params["emergency_workers"].value


def _reasons(row, fired, contrib: dict[str, float], p: float, floor: str | None) -> dict:
    facts = row.facts
    parts = []
    if facts.get("months_owed"):
        parts.append(f"{facts['months_owed']} 个月未足额发放")
    if facts.get("workers_owed"):
        parts.append(f"{facts['workers_owed']} 名工人")
    if facts.get("days_to_spring_festival") is not None and facts["days_to_spring_festival"] <= 60:
        parts.append(f"距春节 {facts['days_to_spring_festival']} 天")
    if facts.get("contractor_other_projects_owing"):
        parts.append(f"同一总包另有 {facts['contractor_other_projects_owing']} 个项目欠薪")
    if facts.get("escalation_reports"):
        parts.append("信息员报告有激化信号")
    factors = sorted(((g, v) for g, v in contrib.items() if v > 0.01), key=lambda gv: -gv[1])[:3]
    return {
        "summary": " · ".join(parts) or "暂无明显风险因素",
        "probability": round(p, 4),
        "floor": floor,
        "rules": [{"id": h.rule.id, "title": h.rule.title, "level": h.rule.level,
                   "legal_basis": [f"《{b.law}》{b.article}" for b in h.rule.legal_basis]} for h in fired],
        "factors": [{"group": g, "contribution": round(v, 4), "text": f"{g}使风险上升 {v * 100:.0f} 个百分点"}
                    for g, v in factors],
        "workers_owed": facts.get("workers_owed"), "amount_owed_fen": facts.get("amount_owed_fen"),
    }


def score_project(*, session: Session, settings: Settings, ruleset: RuleSet, model: RiskModel | None, code: str,
                  as_of: date) -> ProjectScore | None:
    """One project scored on demand (the site page, ``GET /api/sites/{code}/risk``), active or not; None when
    there is no such project. The same figures as its row of the county's scores for that date."""
    from sqlmodel import select

    from earlywarn.tables import Project

    project_id = session.exec(select(Project.id).where(Project.code == code)).first()
    if project_id is None:
        return None
    found = score_projects(session=session, settings=settings, ruleset=ruleset, model=model, as_of=as_of,
                           project_ids=[project_id])
    return found[0] if found else None


def reason_codes(score: ProjectScore) -> list[str]:
    """The backtest's ``reasons`` column: rule ids, then the top model factor groups."""
    reasons = score.reasons
    return [r["id"] for r in reasons.get("rules", [])] + [f"model:{f['group']}" for f in reasons.get("factors", [])]


def run_scoring(*, session: Session, settings: Settings, as_of: date, ruleset: RuleSet | None = None):
    """Score every project due for scoring and update the warnings (commits). Returns (scores, ApplyResult)."""
    from earlywarn.rules import cached_rules
    from earlywarn.warnings import apply_scores

    ruleset = ruleset or cached_rules(settings.rules_dir)
    scores = score_projects(session=session, settings=settings, ruleset=ruleset,
                            model=load_risk_model(settings.model_dir, settings.risk_model), as_of=as_of)
    return scores, apply_scores(session=session, scores=scores, as_of=as_of)
