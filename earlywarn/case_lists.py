"""Case lists (service): my cases or all, filtered, each with its next open deadline and how due it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from earlywarn import case_deadlines as cd
from earlywarn.case_states import FINAL
from earlywarn.tables import CaseDeadline, Emergency, MediationCase, MediationOrg, UserAccount

STATUS_FILTERS = ("open", "final", "all")


@dataclass
class CaseRow:
    case: MediationCase
    org: str | None
    assignee: str | None
    next_deadline: CaseDeadline | None
    due_state: str | None
    emergency: bool


def list_cases(*, session: Session, today: date, assignee_id: int | None = None, status: str = "open",
               township: str | None = None, limit: int = 500) -> list[CaseRow]:
    """Open cases first by their nearest deadline (overdue on top), then the rest newest first."""
    q = select(MediationCase)
    if assignee_id is not None:
        q = q.where(MediationCase.assignee_id == assignee_id)
    if status == "open":
        q = q.where(MediationCase.status.not_in(FINAL))
    elif status == "final":
        q = q.where(MediationCase.status.in_(FINAL))
    elif status != "all":
        q = q.where(MediationCase.status == status)
    if township:
        q = q.where(MediationCase.township == township)
    cases = list(session.exec(q.order_by(MediationCase.due_at.is_(None), MediationCase.due_at,
                                         MediationCase.id.desc()).limit(limit)))
    ids = [c.id for c in cases]
    nxt: dict[int, CaseDeadline] = {}
    if ids:
        for d in session.exec(select(CaseDeadline).where(CaseDeadline.case_id.in_(ids), CaseDeadline.done_at.is_(None),
                                                         CaseDeadline.cancelled_at.is_(None))
                              .order_by(CaseDeadline.due_on, CaseDeadline.id)):
            nxt.setdefault(d.case_id, d)
    orgs = dict(session.exec(select(MediationOrg.id, MediationOrg.name)).all())
    users = dict(session.exec(select(UserAccount.id, UserAccount.display_name)).all())
    urgent = set(session.exec(select(Emergency.case_id).where(Emergency.status == "open",
                                                              Emergency.case_id.is_not(None))))
    return [CaseRow(c, orgs.get(c.mediation_org_id), users.get(c.assignee_id), nxt.get(c.id),
                    cd.due_state(nxt[c.id].due_on, today, kind=nxt[c.id].kind) if c.id in nxt else None,
                    c.id in urgent) for c in cases]
