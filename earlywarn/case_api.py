"""JSON equivalents of the case pages: the list with due dates, one case in full, the overdue list and figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from earlywarn import case_clock, case_lists, case_stats, cases, referrals
from earlywarn.case_pages import Viewer, case_or_404
from earlywarn.case_states import FINAL
from earlywarn.config import local_today
from earlywarn.deps import SessionDep, load_auth
from earlywarn.precedent import as_json as precedent_json
from earlywarn.precedent import settlement_precedent
from earlywarn.tables import CaseDeadline, MediationCase

router = APIRouter(dependencies=[Depends(load_auth)])


def _deadline(d: CaseDeadline, today) -> dict:
    from earlywarn.case_deadlines import due_state

    return {"id": d.id, "kind": d.kind, "due_on": d.due_on.isoformat(), "provisional": d.provisional,
            "basis": d.basis, "note": d.note, "done": d.done_at is not None, "cancelled": d.cancelled_at is not None,
            "state": "cancelled" if d.cancelled_at else due_state(d.due_on, today, done=d.done_at is not None,
                                                                   kind=d.kind)}


def _case(c: MediationCase) -> dict:
    return {"id": c.id, "case_no": c.case_no, "title": c.title, "status": c.status, "source": c.source,
            "case_type": c.case_type, "township": c.township, "project_id": c.project_id, "warning_id": c.warning_id,
            "mediation_org_id": c.mediation_org_id, "assignee_id": c.assignee_id, "volunteer_id": c.volunteer_id,
            "is_collective": c.is_collective, "workers_count": c.workers_count,
            "amount_claimed_fen": c.amount_claimed_fen, "union_rep_name": c.union_rep_name,
            "opened_at": c.opened_at.isoformat(), "accepted_at": c.accepted_at.isoformat() if c.accepted_at else None,
            "closed_at": c.closed_at.isoformat() if c.closed_at else None, "version": c.version}


def _retaliation(session, case: MediationCase, user) -> list[dict] | None:
    from earlywarn.retaliation import flags_of

    rows = flags_of(session=session, case=case, user=user)
    if rows is None:
        return None
    return [{"id": f.id, "party_id": p.id, "name": p.name, "kind": f.kind, "since": f.since.isoformat(),
             "owed_fen": f.owed_fen, "raised_on": f.raised_on.isoformat(), "handled": f.handled_at is not None,
             "handled_note": f.handled_note} for f, p in rows]


@router.get("/api/cases")
def api_cases(session: SessionDep, user: Viewer, mine: bool = False, status: str = "open",
              limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict:
    today = local_today()
    rows = case_lists.list_cases(session=session, today=today, assignee_id=user.id if mine else None,
                                 status=status if status in case_lists.STATUS_FILTERS else "open", limit=limit)
    return {"count": len(rows), "cases": [{**_case(r.case), "emergency": r.emergency, "due_state": r.due_state,
                                           "next_deadline": _deadline(r.next_deadline, today) if r.next_deadline
                                           else None} for r in rows]}


@router.get("/api/cases/overdue")
def api_overdue(session: SessionDep, user: Viewer) -> dict:
    today = local_today()
    stats = case_stats.case_stats(session=session, today=today)
    return {"as_of": today.isoformat(),
            "overdue": [{"case": _case(c), "deadline": _deadline(d, today)}
                        for d, c in case_clock.overdue(session=session, today=today)],
            "stats": {"by_status": stats.by_status, "days_in_state": stats.days_in_state,
                      "mediation_on_time_rate": stats.on_time_rate, "agreed_fen": stats.agreed_fen,
                      "paid_fen": stats.paid_fen, "workers_helped": stats.workers_helped},
            "referrals": [{"body": b.body, "sent": b.sent, "on_time": b.answered_on_time, "late": b.answered_late,
                           "waiting": b.waiting, "waiting_overdue": b.waiting_overdue, "on_time_rate": b.on_time_rate}
                          for b in referrals.on_time_by_body(session=session, today=today)]}


@router.get("/api/cases/{case_id}")
def api_case(case_id: int, session: SessionDep, user: Viewer) -> dict:
    from earlywarn import agreements

    today = local_today()
    case = case_or_404(session, case_id)
    agreement = agreements.agreement_of(session=session, case=case)
    return {**_case(case),
            "parties": [{"id": p.id, "role": p.role, "name": p.name, "id_masked": p.id_masked,
                         "representative": p.is_representative, "anonymous": p.is_anonymous,
                         "claim_fen": p.claim_fen, "agreed_fen": p.agreed_fen, "claim_basis": p.claim_basis,
                         "employment_ended_on": p.employment_ended_on.isoformat() if p.employment_ended_on else None}
                        for p in cases.parties_of(session=session, case=case)],
            "transitions": [{"at": t.at.isoformat(), "action": t.action, "from": t.from_status, "to": t.to_status,
                             "reason": t.reason} for t in cases.transitions_of(session=session, case=case)],
            "deadlines": [_deadline(d, today) for d in case_clock.all_deadlines(session=session, case=case)],
            "agreement": None if agreement is None else {
                "facts": agreement.facts, "terms": agreement.terms, "performance_method": agreement.performance_method,
                "finalised_at": agreement.finalised_at.isoformat() if agreement.finalised_at else None,
                "instalments": [{"id": i.id, "seq": i.seq, "due_on": i.due_on.isoformat(), "amount_fen": i.amount_fen,
                                 "paid_on": i.paid_on.isoformat() if i.paid_on else None,
                                 "worker_confirmed": i.worker_confirmed}
                                for i in agreements.instalments_of(session=session, case=case)]},
            # Only for the case's own mediator and leaders; null for everyone else (earlywarn.retaliation).
            "retaliation": _retaliation(session, case, user),
            # What similar closed cases came to (same type, amount band, workers band); null once this one ended.
            "precedent": None if case.status in FINAL else precedent_json(settlement_precedent(session=session,
                                                                                               case=case)),
            "referrals": [{"id": r.id, "body": r.body, "reference": r.reference, "sent_on": r.sent_on.isoformat(),
                           "answer_due_on": r.answer_due_on.isoformat(),
                           "answered_on": r.answered_on.isoformat() if r.answered_on else None}
                          for r in referrals.referrals_of(session=session, case=case)]}
