"""Routes for emergencies (应急处置): the open list, one emergency with its checklist and own timeline, and a
start from a warning. Leaders, mediators and admins work the checklist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import select

from earlywarn import emergencies as svc
from earlywarn.deps import CsrfForm, SessionDep, load_auth, require_roles
from earlywarn.enums import Role
from earlywarn.tables import Emergency, MediationCase, RiskWarning, UserAccount
from earlywarn.templating import render

router = APIRouter(dependencies=[Depends(load_auth)])
Worker = Annotated[UserAccount, Depends(require_roles(Role.mediator, Role.leader, Role.admin))]
Text = Annotated[str, Form(max_length=2000)]


def _page(request: Request, session, em: Emergency, status_code: int = 200, error: str | None = None):
    done_at = {code: datetime.fromisoformat(v["at"]) for code, v in (em.checklist or {}).items() if v.get("at")}
    return render(request, "cases/emergency.html", status_code, em=em, error=error, checklist=svc.CHECKLIST,
                  done_at=done_at,
                  events=svc.events_of(session=session, emergency=em),
                  case=session.get(MediationCase, em.case_id) if em.case_id else None,
                  users=dict(session.exec(select(UserAccount.id, UserAccount.display_name)).all()))


def _or_404(session, emergency_id: int) -> Emergency:
    em = session.get(Emergency, emergency_id)
    if em is None:
        raise HTTPException(status_code=404)
    return em


@router.get("/emergencies", response_class=HTMLResponse)
def emergency_list(request: Request, session: SessionDep, user: Worker, status: str | None = None):
    status = status if status in ("open", "closed") else "open"
    rows = svc.list_emergencies(session=session, status=status)
    case_nos = {em.case_id: session.get(MediationCase, em.case_id).case_no for em in rows if em.case_id}
    return render(request, "cases/emergencies.html", rows=rows, status=status, case_nos=case_nos, error=None)


@router.post("/emergencies", dependencies=[CsrfForm])
def start_from_warning(request: Request, session: SessionDep, user: Worker,
                       warning_id: Annotated[int, Form()] = 0, people: Annotated[int | None, Form(ge=0)] = None,
                       escalation: Annotated[str, Form()] = "", reason: Text = ""):
    warning = session.get(RiskWarning, warning_id)
    trigger = svc.trigger_of(people=people, escalation=escalation == "1")
    try:
        if warning is None:
            raise svc.EmergencyError("预警编号不存在")
        if trigger is None:
            raise svc.EmergencyError("应急处置的启动条件：涉及 30 人以上，或出现激化信号")
        em = svc.start_emergency(session=session, trigger=trigger, reason=reason, actor=user, warning=warning,
                                 people=people)
    except svc.EmergencyError as exc:
        session.rollback()
        return render(request, "cases/emergencies.html", 400, rows=svc.list_emergencies(session=session),
                      status="open", case_nos={}, error=str(exc))
    return RedirectResponse(f"/emergencies/{em.id}", status_code=303)


@router.get("/emergencies/{emergency_id}", response_class=HTMLResponse)
def emergency_page(request: Request, emergency_id: int, session: SessionDep, user: Worker):
    return _page(request, session, _or_404(session, emergency_id))


def _act(request: Request, session, emergency_id: int, fn):
    em = _or_404(session, emergency_id)
    try:
        fn(em)
    except svc.EmergencyError as exc:
        session.rollback()
        return _page(request, session, _or_404(session, emergency_id), 400, str(exc))
    return RedirectResponse(f"/emergencies/{emergency_id}", status_code=303)


@router.post("/emergencies/{emergency_id}/tick", dependencies=[CsrfForm])
def tick(request: Request, emergency_id: int, session: SessionDep, user: Worker,
         item: Annotated[str, Form()] = "", note: Text = ""):
    return _act(request, session, emergency_id,
                lambda em: svc.tick(session=session, emergency=em, item=item, actor=user, note=note))


@router.post("/emergencies/{emergency_id}/entries", dependencies=[CsrfForm])
def entry(request: Request, emergency_id: int, session: SessionDep, user: Worker, body: Text = ""):
    return _act(request, session, emergency_id,
                lambda em: svc.add_entry(session=session, emergency=em, body=body, actor=user))


@router.post("/emergencies/{emergency_id}/close", dependencies=[CsrfForm])
def close(request: Request, emergency_id: int, session: SessionDep, user: Worker, note: Text = ""):
    return _act(request, session, emergency_id,
                lambda em: svc.close_emergency(session=session, emergency=em, note=note, actor=user))
