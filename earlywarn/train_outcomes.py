"""Learning from outcomes (service): closed cases and dismissed warnings become labels for a new model version.

A warning is a question the scorer asked on the day it opened: "will this project need mediation within the
horizon?". The mediators' work answers it. A warning followed by a case on the project within the horizon
(opened from the warning or not, whatever its end except "rejected" — out of scope) is a positive; a
dismissed warning, or one that resolved itself or stayed open past the horizon with no case, is a negative;
a warning still inside its horizon with no case yet is left out (no answer yet). A case opened with no
warning before it is a positive as of ``LEAD_DAYS`` before it opened: what the scorer should have seen.

Features are recomputed as of each label's date with the serving code (no later data is read), the new
model is fitted with the same pipeline, and the card compares it with the simulator-trained model on the
same labels (the new one out-of-fold, so neither is judged on rows it was fitted to). The new folder is
named ``outcomes-risk-…`` so it is never served by accident: set EARLYWARN_RISK_MODEL to serve it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sqlmodel import Session, select

from earlywarn.config import Settings, local_date
from earlywarn.enums import CaseStatus, WarningStatus
from earlywarn.risk import RiskModel, build_pipeline, column_medians, save_model
from earlywarn.risk_features import (
    FEATURE_COLUMNS,
    FEATURE_GROUPS,
    MONOTONE_INCREASING,
    compute_features,
    feature_matrix,
)
from earlywarn.tables import MediationCase, RiskWarning

HORIZON_DAYS = 56
LEAD_DAYS = 14
MIN_LABELS, MIN_PER_CLASS = 20, 5


class OutcomeTrainingError(RuntimeError):
    """Too few outcomes to learn from, or no model to compare with (message in Chinese)."""


@dataclass(frozen=True)
class OutcomeLabel:
    project_id: int
    as_of: date
    label: int
    source: str  # "warning" | "case"


def outcome_labels(*, session: Session, today: date, horizon_days: int = HORIZON_DAYS) -> list[OutcomeLabel]:
    horizon = timedelta(days=horizon_days)
    cases: dict[int, list[date]] = defaultdict(list)
    for pid, opened, status in session.exec(select(MediationCase.project_id, MediationCase.opened_at,
                                                   MediationCase.status).where(MediationCase.project_id.is_not(None))):
        if status != CaseStatus.rejected:
            cases[pid].append(local_date(opened))
    labels: dict[tuple[int, date], OutcomeLabel] = {}
    warned: dict[int, list[date]] = defaultdict(list)
    for w in session.exec(select(RiskWarning)):
        start = local_date(w.opened_at)
        warned[w.project_id].append(start)
        if any(start <= d <= start + horizon for d in cases.get(w.project_id, [])) \
                or w.status == WarningStatus.case_opened:
            labels[(w.project_id, start)] = OutcomeLabel(w.project_id, start, 1, "warning")
        elif w.status in (WarningStatus.dismissed, WarningStatus.resolved) or start + horizon <= today:
            labels[(w.project_id, start)] = OutcomeLabel(w.project_id, start, 0, "warning")
    for pid, days in cases.items():
        for d in days:
            if not any(d - horizon <= s <= d for s in warned.get(pid, [])):
                as_of = d - timedelta(days=LEAD_DAYS)
                labels.setdefault((pid, as_of), OutcomeLabel(pid, as_of, 1, "case"))
    return sorted(labels.values(), key=lambda x: (x.as_of, x.project_id))


def train_from_outcomes(*, session: Session, settings: Settings, baseline: RiskModel | None, out: Path,
                        today: date) -> dict:
    """Fit and save the outcomes model; returns its card. Raises OutcomeTrainingError when it cannot."""
    labels = outcome_labels(session=session, today=today)
    positives = sum(x.label for x in labels)
    if len(labels) < MIN_LABELS or min(positives, len(labels) - positives) < MIN_PER_CLASS:
        raise OutcomeTrainingError(
            f"结果标签不足：共 {len(labels)} 条（至少 {MIN_LABELS} 条），其中立案 {positives} 条、"
            f"未成纠纷 {len(labels) - positives} 条（每类至少 {MIN_PER_CLASS} 条）。请在更多预警办结或排除后再训练。")
    by_day: dict[date, list[OutcomeLabel]] = defaultdict(list)
    for x in labels:
        by_day[x.as_of].append(x)
    rows, y = [], []
    for day, items in sorted(by_day.items()):
        found = {r.project_id: r for r in compute_features(session=session, as_of=day, pay_day=settings.pay_day,
                                                           project_ids=[x.project_id for x in items],
                                                           report_window_days=settings.report_window_days)}
        for x in items:
            if x.project_id in found:
                rows.append(found[x.project_id])
                y.append(x.label)
    matrix, target = feature_matrix(rows), np.array(y)
    folds = StratifiedKFold(n_splits=min(5, int(min(target.sum(), len(target) - target.sum()))), shuffle=True,
                            random_state=0)
    # A county's outcomes are hundreds of rows, not the simulator's tens of thousands: smaller leaves.
    leaf = max(3, min(30, len(target) // 10))
    out_of_fold = cross_val_predict(build_pipeline(FEATURE_COLUMNS, MONOTONE_INCREASING, min_samples_leaf=leaf),
                                    matrix, target, cv=folds, method="predict_proba")[:, 1]
    estimator = build_pipeline(FEATURE_COLUMNS, MONOTONE_INCREASING, min_samples_leaf=leaf).fit(matrix, target)
    model = RiskModel(estimator, tuple(FEATURE_COLUMNS), {k: tuple(v) for k, v in FEATURE_GROUPS.items()},
                      column_medians(matrix))

    def figures(p: np.ndarray) -> dict:
        return {"average_precision": round(float(average_precision_score(target, p)), 4),
                "brier": round(float(brier_score_loss(target, p)), 4)}

    comparison = {"labels": len(target), "positives": int(target.sum()),
                  "base_rate": round(float(target.mean()), 4), "this_model_out_of_fold": figures(out_of_fold)}
    if baseline is not None:
        comparison[f"simulator_model_{baseline.version}"] = figures(baseline.predict(matrix))
    card = {
        "name": out.name, "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "task": "onset of a dispute needing mediation on a project within 8 weeks of the scoring date",
        "data": {"source": "database outcomes", "min_samples_leaf": leaf,
                 "warnings": sum(x.source == "warning" for x in labels),
                 "cases_without_warning": sum(x.source == "case" for x in labels), "horizon_days": HORIZON_DAYS,
                 "case_lead_days": LEAD_DAYS, "first_label": labels[0].as_of.isoformat(),
                 "last_label": labels[-1].as_of.isoformat()},
        "comparison_on_outcome_labels": comparison,
        "baseline_model": baseline.version if baseline else None,
        "thresholds": dict(baseline.card.get("thresholds", {})) if baseline else None,
        "monotone_increasing": list(MONOTONE_INCREASING),
        "intended_use": "the same ranking as the simulator-trained model, learnt from this county's outcomes; "
                        "serve it (EARLYWARN_RISK_MODEL) only when the comparison favours it",
        "limitations": "labels reflect which warnings mediators acted on: a dismissed warning may still have been "
                       "right; few labels make the figures uncertain",
    }
    if card["thresholds"] is None:
        card.pop("thresholds")
    return save_model(model, out, card)
