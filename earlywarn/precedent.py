"""Settlement ranges from precedent (service): read the closed cases and hand them to earlywarn.settlement_ranges.

A past case counts once it has ended (closed after performance, referred, withdrawn or rejected). What it came
to is read from its own rows: the sum agreed per worker of a finalised agreement, the day of acceptance, and the
day it reached an agreement (or, without one, the day it ended)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func
from sqlmodel import Session, select

from earlywarn.case_states import FINAL
from earlywarn.config import local_date
from earlywarn.enums import PartyRole
from earlywarn.settlement_ranges import PastCase, Precedent, precedent
from earlywarn.tables import CaseAgreement, CaseParty, CaseTransition, MediationCase


def past_cases(*, session: Session, exclude_id: int | None = None, case_type: str | None = None) -> list[PastCase]:
    q = select(MediationCase).where(MediationCase.status.in_(FINAL), MediationCase.closed_at.is_not(None))
    if exclude_id is not None:
        q = q.where(MediationCase.id != exclude_id)
    if case_type is not None:
        q = q.where(MediationCase.case_type == case_type)
    closed = list(session.exec(q))
    if not closed:
        return []
    ids = [c.id for c in closed]
    finalised = select(CaseAgreement.case_id).where(CaseAgreement.finalised_at.is_not(None),
                                                    CaseAgreement.case_id.in_(ids))
    agreed = dict(session.exec(select(CaseParty.case_id, func.sum(CaseParty.agreed_fen))
                               .where(CaseParty.role == PartyRole.worker, CaseParty.case_id.in_(finalised))
                               .group_by(CaseParty.case_id)).all())
    reached: dict[int, object] = defaultdict(lambda: None)
    for case_id, at in session.exec(select(CaseTransition.case_id, func.min(CaseTransition.at))
                                    .where(CaseTransition.case_id.in_(ids), CaseTransition.action == "reach_agreement")
                                    .group_by(CaseTransition.case_id)):
        reached[case_id] = at
    out = []
    for c in closed:
        end = reached[c.id] or c.closed_at
        out.append(PastCase(case_type=c.case_type, claimed_fen=c.amount_claimed_fen, workers=c.workers_count,
                            agreed_fen=int(agreed[c.id]) if agreed.get(c.id) is not None else None,
                            accepted_on=local_date(c.accepted_at) if c.accepted_at else None,
                            ended_on=local_date(_aware(end)), outcome=c.status))
    return out


def _aware(at):
    from datetime import UTC

    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite hands an aggregate back without its zone


def settlement_precedent(*, session: Session, case: MediationCase) -> Precedent:
    """Ranges of what cases like this one came to (same type, amount band and workers band)."""
    return precedent(past_cases(session=session, exclude_id=case.id, case_type=case.case_type),
                     case_type=case.case_type, claimed_fen=case.amount_claimed_fen, workers=case.workers_count)


def as_json(p: Precedent) -> dict:
    from dataclasses import asdict

    return {"similar": p.similar, "small_sample": p.small_sample, "note": p.note, "amount_band": p.amount_band,
            "workers_band": p.workers_band, "outcomes": p.outcomes,
            **{k: asdict(v) if v else None for k, v in (("agreed_to_claimed", p.ratio),
                                                        ("agreed_per_worker_fen", p.per_worker_fen),
                                                        ("days_to_agreement_or_end", p.days))}}
