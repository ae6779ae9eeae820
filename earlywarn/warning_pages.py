"""Routes for the warning queue (预警研判): the triage list, a warning's page, its four actions, and JSON."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import select

from earlywarn import warnings as svc
from earlywarn.deps import CsrfForm, SessionDep, SettingsDep, load_auth, require_roles
from earlywarn.emergencies import EmergencyError, emergency_of_warning, start_emergency, trigger_of, warning_trigger
from earlywarn.enums import Role, WarningStatus
from earlywarn.i18n import gettext as _
from earlywarn.orgs import township_names
from earlywarn.tables import MediationCase, Project, RiskWarning, UserAccount
from earlywarn.templating import render

router = APIRouter(dependencies=[Depends(load_auth)])
Viewer = Annotated[UserAccount, Depends(require_roles(Role.mediator, Role.leader, Role.admin))]
Actor = Annotated[UserAccount, Depends(require_roles(Role.mediator, Role.admin))]
STATUS_FILTERS = ("open", "awaiting", *(s.value for s in WarningStatus), "all")
TextField = Annotated[str, Form(max_length=2000)]


def status_labels() -> dict[str, str]:
    return {"open": _("未办结"), "awaiting": _("待处理"), "new": _("新预警"), "acknowledged": _("已确认"),
            "case_opened": _("已立案"), "dismissed": _("已排除"), "resolved": _("已解除"), "all": _("全部")}


def _render(request: Request, name: str, status_code: int = 200, **context):
    context.setdefault("labels", status_labels())
    return render(request, name, status_code, **context)


def _filters(settings, township: str | None, level: str | None, status: str | None) -> dict:
    """Unknown values fall back to no filter, as on the site list."""
    towns = township_names(settings.reference_file)
    return {"township": township if township in towns else None,
            "level": level if level in svc.LEVEL_RANK else None,
            "status": status if status in STATUS_FILTERS else "open"}


@router.get("/warnings", response_class=HTMLResponse)
def queue(request: Request, session: SessionDep, settings: SettingsDep, user: Viewer, township: str | None = None,
          level: str | None = None, status: str | None = None):
    f = _filters(settings, township, level, status)
    capacity = settings.mediator_capacity_per_week
    return _render(request, "warnings.html", rows=svc.list_queue(session=session, **f), filters=f,
                   top=svc.top_k(session=session, capacity=capacity, township=f["township"]), capacity=capacity,
                   townships=township_names(settings.reference_file), back=_path_and_query(request))


def _path_and_query(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _warning_or_404(session, warning_id: int) -> RiskWarning:
    warning = session.get(RiskWarning, warning_id)
    if warning is None:
        raise HTTPException(status_code=404)
    return warning


def _history(warning: RiskWarning) -> list[dict]:
    """History entries with their time parsed, newest first, for the page."""
    entries = reversed(warning.history or [])
    return [{**e, "at": datetime.fromisoformat(e["at"]) if e.get("at") else None} for e in entries]


def _detail(request: Request, session, warning: RiskWarning, status_code: int = 200, error: str | None = None,
            form: dict | None = None):
    cases = session.exec(select(MediationCase).where(MediationCase.warning_id == warning.id)
                         .order_by(MediationCase.id)).all()
    return _render(request, "warning.html", status_code=status_code, w=warning,
                   project=session.get(Project, warning.project_id), cases=cases, history=_history(warning),
                   error=error, form=form or {}, emergency=emergency_of_warning(session=session, warning=warning),
                   emergency_trigger=warning_trigger(warning.reasons))


@router.get("/warnings/{warning_id}", response_class=HTMLResponse)
def warning_page(request: Request, warning_id: int, session: SessionDep, user: Viewer):
    return _detail(request, session, _warning_or_404(session, warning_id))


def _back(next_url: str, warning_id: int) -> str:
    # Only back into the queue or this warning: a form field must not redirect off-site.
    ok = next_url.startswith(("/warnings?", f"/warnings/{warning_id}")) or next_url == "/warnings"
    return next_url if ok and "//" not in next_url else f"/warnings/{warning_id}"


def _act(request: Request, session, warning_id: int, action, user: UserAccount, next_url: str = "", **form: str):
    warning = _warning_or_404(session, warning_id)
    try:
        action(session=session, warning=warning, actor=user, **form)
    except svc.WarningError as exc:
        # The page again, with the message and what was typed: 400 for bad input, 409 for a refused transition.
        return _detail(request, session, warning, error=str(exc), status_code=400 if exc.field else 409, form=form)
    return RedirectResponse(_back(next_url, warning_id), status_code=303)


@router.post("/warnings/{warning_id}/acknowledge", dependencies=[CsrfForm])
def acknowledge(request: Request, warning_id: int, session: SessionDep, user: Actor, next: TextField = ""):
    return _act(request, session, warning_id, svc.acknowledge_warning, user, next)


@router.post("/warnings/{warning_id}/dismiss", dependencies=[CsrfForm])
def dismiss(request: Request, warning_id: int, session: SessionDep, user: Actor, reason: TextField = "",
            next: TextField = ""):
    return _act(request, session, warning_id, svc.dismiss_warning, user, next, reason=reason)


@router.post("/warnings/{warning_id}/resolve", dependencies=[CsrfForm])
def resolve(request: Request, warning_id: int, session: SessionDep, user: Actor, note: TextField = ""):
    return _act(request, session, warning_id, svc.resolve_warning, user, note=note)


@router.post("/warnings/{warning_id}/case", dependencies=[CsrfForm])
def open_case(request: Request, warning_id: int, session: SessionDep, settings: SettingsDep, user: Actor):
    # Back to the warning, where the new case number shows (and links to the case).
    return _act(request, session, warning_id, partial(svc.open_case_from_warning, pay_day=settings.pay_day), user)


@router.post("/warnings/{warning_id}/emergency", dependencies=[CsrfForm])
def start_emergency_from_warning(request: Request, warning_id: int, session: SessionDep, user: Viewer,
                                 people: Annotated[str, Form(max_length=10)] = "",
                                 escalation: Annotated[str, Form(max_length=1)] = "", reason: TextField = ""):
    """Start the emergency workflow from a warning by hand (leaders, mediators, admins); once per warning."""
    warning = _warning_or_404(session, warning_id)
    form = {"people": people, "escalation": escalation, "emergency_reason": reason}
    try:
        count = int(people) if people.strip() else None
        if count is not None and not 0 <= count <= 100_000:
            raise ValueError
    except ValueError:
        return _detail(request, session, warning, 400, "涉及人数应为整数", form)
    trigger = trigger_of(people=count, escalation=escalation == "1")
    try:
        if trigger is None:
            raise EmergencyError("应急处置的启动条件：涉及 30 人以上，或出现激化信号")
        em = start_emergency(session=session, trigger=trigger, reason=reason, actor=user, warning=warning,
                             people=count)
    except EmergencyError as exc:
        session.rollback()
        return _detail(request, session, warning, 400, str(exc), form)
    return RedirectResponse(f"/emergencies/{em.id}", status_code=303)


# ------------------------------------------------------------------ JSON API


def _as_json(w: RiskWarning, p: Project, *, full: bool = False) -> dict:
    out = {"id": w.id, "project": {"id": p.id, "code": p.code, "name": p.name, "township": p.township},
           "level": w.level, "score": round(w.score, 4), "status": w.status,
           "summary": (w.reasons or {}).get("summary"), "opened_at": w.opened_at.isoformat(),
           "updated_at": w.updated_at.isoformat(), "closed_at": w.closed_at.isoformat() if w.closed_at else None,
           "dismiss_reason": w.dismiss_reason}
    if full:
        out.update(reasons=w.reasons, history=w.history)
    return out


@router.get("/api/warnings")
def api_queue(session: SessionDep, settings: SettingsDep, user: Viewer, township: str | None = None,
              level: str | None = None, status: str | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict:
    f = _filters(settings, township, level, status)
    rows = svc.list_queue(session=session, limit=limit, **f)
    return {"filters": f, "count": len(rows), "warnings": [_as_json(w, p) for w, p in rows]}


@router.get("/api/warnings/{warning_id}")
def api_warning(warning_id: int, session: SessionDep, user: Viewer) -> dict:
    warning = _warning_or_404(session, warning_id)
    out = _as_json(warning, session.get(Project, warning.project_id), full=True)
    em = emergency_of_warning(session=session, warning=warning)
    out["emergency"] = None if em is None else {"id": em.id, "status": em.status, "trigger": em.trigger,
                                                "people": em.people, "started_at": em.started_at.isoformat()}
    out["cases"] = [{"id": c.id, "case_no": c.case_no, "status": c.status} for c in session.exec(
        select(MediationCase).where(MediationCase.warning_id == warning.id).order_by(MediationCase.id))]
    return out
