"""Figures for leaders (service + pure helpers): cases per state, time spent in each state, the on-time rate of
the mediation clock, amounts agreed and actually paid, workers helped."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from earlywarn.config import LOCAL_TZ
from earlywarn.db import utcnow
from earlywarn.enums import CaseStatus, DeadlineKind, PartyRole
from earlywarn.tables import CaseAgreement, CaseDeadline, CaseInstalment, CaseParty, CaseTransition, MediationCase


@dataclass
class CaseStats:
    by_status: dict[str, int] = field(default_factory=dict)
    days_in_state: dict[str, float] = field(default_factory=dict)  # mean days per visit
    mediation_on_time: int = 0
    mediation_late: int = 0
    agreed_fen: int = 0
    paid_fen: int = 0
    workers_helped: int = 0

    @property
    def on_time_rate(self) -> float | None:
        n = self.mediation_on_time + self.mediation_late
        return self.mediation_on_time / n if n else None


def mean_days_in_state(transitions: list[tuple[int, datetime, str]], now: datetime) -> dict[str, float]:
    """Pure: (case id, entered at, state) rows → mean days a case stays in each state (an ongoing stay counts
    up to ``now``)."""
    per_case: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for case_id, at, state in transitions:
        per_case[case_id].append((at, state))
    spans: dict[str, list[float]] = defaultdict(list)
    for rows in per_case.values():
        rows.sort()
        for (at, state), nxt in zip(rows, [*rows[1:], (None, None)], strict=True):
            end = nxt[0] or now
            spans[state].append((end - at).total_seconds() / 86400)
    return {s: sum(v) / len(v) for s, v in spans.items()}


def case_stats(*, session: Session, today: date) -> CaseStats:
    stats = CaseStats()
    stats.by_status = {s.value: 0 for s in CaseStatus}
    for status, n in session.exec(select(MediationCase.status, func.count()).group_by(MediationCase.status)):
        stats.by_status[status] = n
    rows = session.exec(select(CaseTransition.case_id, CaseTransition.at, CaseTransition.to_status)).all()
    final = {"closed_performed", "referred", "withdrawn", "rejected"}
    stats.days_in_state = {s: d for s, d in mean_days_in_state(list(rows), utcnow()).items() if s not in final}
    for d in session.exec(select(CaseDeadline).where(CaseDeadline.kind == DeadlineKind.mediation,
                                                     CaseDeadline.cancelled_at.is_(None))):
        if d.done_at is not None:
            on_time = d.done_at.astimezone(LOCAL_TZ).date() <= d.due_on
            stats.mediation_on_time += on_time
            stats.mediation_late += not on_time
        elif d.due_on < today:
            stats.mediation_late += 1
    finalised = select(CaseAgreement.case_id).where(CaseAgreement.finalised_at.is_not(None))
    stats.agreed_fen = int(session.exec(select(func.coalesce(func.sum(CaseParty.agreed_fen), 0)).where(
        CaseParty.role == PartyRole.worker, CaseParty.case_id.in_(finalised))).one())
    stats.paid_fen = int(session.exec(select(func.coalesce(func.sum(CaseInstalment.paid_fen), 0))).one())
    closed = select(MediationCase.id).where(MediationCase.status == CaseStatus.closed_performed)
    stats.workers_helped = int(session.exec(select(func.count()).select_from(CaseParty).where(
        CaseParty.role == PartyRole.worker, CaseParty.case_id.in_(closed))).one())
    return stats
