"""Routes for the informant network: list, coverage and gone-quiet, registration, record, identity reveal.

Only the informant manager (and the administrator) reaches any of these; mediators work with pseudonyms.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from earlywarn import informants, overview
from earlywarn.deps import CsrfForm, SessionDep, SettingsDep, load_auth, require_roles
from earlywarn.enums import Role
from earlywarn.orgs import township_names
from earlywarn.tables import Informant, UserAccount
from earlywarn.templating import render as _render

router = APIRouter(dependencies=[Depends(load_auth)], default_response_class=HTMLResponse)
Manager = Annotated[UserAccount, Depends(require_roles(Role.informant_manager, Role.admin))]
QUIET_DAYS_DEFAULT, QUIET_DAYS_MAX = 30, 365




def _informant(session, informant_id: int) -> Informant:
    informant = informants.get_informant(session=session, informant_id=informant_id)
    if informant is None:
        raise HTTPException(status_code=404)
    return informant


def _days(value: str | None) -> int:
    """A bad or absurd N falls back to the default instead of an error page."""
    try:
        days = int(value) if value else QUIET_DAYS_DEFAULT
    except ValueError:
        return QUIET_DAYS_DEFAULT
    return days if 1 <= days <= QUIET_DAYS_MAX else QUIET_DAYS_DEFAULT


@router.get("/informants")
def informant_list(request: Request, session: SessionDep, settings: SettingsDep, user: Manager,
                   township: str | None = None, active: str | None = None, days: str | None = None):
    towns = township_names(settings.reference_file)
    township = township if township in towns else None
    active_filter = {"1": True, "0": False}.get(active or "")
    n = _days(days)
    return _render(request, "informants.html", townships=towns, township=township, active=active or "", days=n,
                   rows=informants.list_informants(session=session, township=township, active=active_filter),
                   coverage=informants.coverage(session=session, settings=settings),
                   quiet=informants.gone_quiet(session=session, settings=settings, days=n))


def _new_form(request: Request, session, settings, status_code: int = 200, errors=None, form=None, created=None):
    return _render(request, "informant_new.html", status_code=status_code, errors=errors or {}, form=form or {},
                   created=created, townships=township_names(settings.reference_file),
                   org_units=informants.org_unit_choices(session=session))


@router.get("/informants/new")
def informant_new_form(request: Request, session: SessionDep, settings: SettingsDep, user: Manager):
    return _new_form(request, session, settings)


@router.post("/informants/new", dependencies=[CsrfForm])
def informant_create(request: Request, session: SessionDep, settings: SettingsDep, user: Manager,
                     name: Annotated[str, Form(max_length=200)] = "", phone: Annotated[str, Form(max_length=40)] = "",
                     township: Annotated[str, Form(max_length=64)] = "",
                     org_unit_id: Annotated[str, Form(max_length=12)] = "",
                     create_login: Annotated[str, Form(max_length=4)] = "",
                     username: Annotated[str, Form(max_length=64)] = ""):
    unit = int(org_unit_id) if org_unit_id.isdigit() else None
    try:
        created = informants.create_informant(session=session, settings=settings, name=name, phone=phone,
                                              township=township, org_unit_id=unit, actor=user,
                                              create_login=bool(create_login), username=username or None)
    except informants.InformantError as exc:
        # The typed name and phone go back into the form only; they were never stored.
        form = {"name": name, "phone": phone, "township": township, "org_unit_id": unit,
                "create_login": bool(create_login), "username": username}
        return _new_form(request, session, settings, status_code=400, errors=exc.errors, form=form)
    if created.initial_password:  # shown this once; a redirect would lose it
        return _new_form(request, session, settings, created=created)
    return RedirectResponse(f"/informants/{created.informant.id}", status_code=303)


@router.get("/informants/{informant_id}")
def informant_record(request: Request, informant_id: int, session: SessionDep, user: Manager):
    informant = _informant(session, informant_id)
    [row] = informants.list_informants(session=session, informant_id=informant.id)
    return _render(request, "informant.html", row=row,
                   reports=overview.list_reports(session=session, informant_id=informant.id))


@router.post("/informants/{informant_id}/active", dependencies=[CsrfForm])
def informant_set_active(informant_id: int, session: SessionDep, user: Manager,
                         active: Annotated[str, Form(max_length=1)] = "0"):
    informant = _informant(session, informant_id)
    informants.set_informant_active(session=session, informant=informant, active=active == "1", actor=user)
    return RedirectResponse(f"/informants/{informant_id}", status_code=303)


@router.get("/informants/{informant_id}/reveal")
def informant_reveal_form(request: Request, informant_id: int, session: SessionDep, user: Manager):
    return _render(request, "informant_reveal.html", informant=_informant(session, informant_id), error=None,
                   reason="", identity=None)


@router.post("/informants/{informant_id}/reveal", dependencies=[CsrfForm])
def informant_reveal(request: Request, informant_id: int, session: SessionDep, settings: SettingsDep,
                     user: Manager, reason: Annotated[str, Form(max_length=2000)] = ""):
    informant = _informant(session, informant_id)
    try:
        name, phone = informants.reveal_identity(session=session, settings=settings, informant=informant,
                                                 actor=user, reason=reason)
    except informants.InformantError as exc:
        return _render(request, "informant_reveal.html", status_code=400, informant=informant,
                       error=exc.errors["reason"], reason=reason, identity=None)
    return _render(request, "informant_reveal.html", informant=informant, error=None, reason="",
                   identity={"name": name, "phone": phone})
