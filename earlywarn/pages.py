"""HTML pages. Thin: each route checks access, calls a service and renders a template."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from earlywarn import auth, overview
from earlywarn.config import local_today
from earlywarn.deps import AuthDep, CsrfForm, SessionDep, SettingsDep, load_auth, require_roles
from earlywarn.enums import Role
from earlywarn.i18n import LOCALES
from earlywarn.i18n import gettext as _
from earlywarn.orgs import township_names
from earlywarn.security import cookie_attrs, cookie_names
from earlywarn.tables import UserAccount
from earlywarn.templating import render

router = APIRouter(dependencies=[Depends(load_auth)], default_response_class=HTMLResponse)

Leader = Annotated[UserAccount, Depends(require_roles(Role.leader, Role.admin))]
InformantUser = Annotated[UserAccount, Depends(require_roles(Role.informant))]
Admin = Annotated[UserAccount, Depends(require_roles(Role.admin))]




def _safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths, so the login form cannot be used as an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return fallback
    return target


@router.get("/")
def index(ctx: AuthDep):
    if ctx is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(auth.HOME_BY_ROLE[ctx.user.role], status_code=303)


@router.get("/login")
def login_form(request: Request, ctx: AuthDep, next: str | None = None):
    if ctx is not None:
        return RedirectResponse(auth.HOME_BY_ROLE[ctx.user.role], status_code=303)
    return render(request, "login.html", next=_safe_next(next, ""), error=None, username="")


@router.post("/login", dependencies=[CsrfForm])
def login(request: Request, session: SessionDep, settings: SettingsDep,
          username: Annotated[str, Form(max_length=64)] = "", password: Annotated[str, Form(max_length=256)] = "",
          next: Annotated[str, Form(max_length=500)] = ""):
    user = auth.authenticate(session=session, username=username, password=password) if username else None
    if user is None:
        return render(request, "login.html", status_code=400, next=_safe_next(next, ""),
                      error=_("用户名或密码错误"), username=username)
    token = auth.start_session(session=session, user=user, settings=settings)
    response = RedirectResponse(_safe_next(next, auth.HOME_BY_ROLE[user.role]), status_code=303)
    sid_name, _csrf = cookie_names(settings)
    response.set_cookie(sid_name, token, **cookie_attrs(settings))
    return response


@router.post("/logout", dependencies=[CsrfForm])
def logout(session: SessionDep, settings: SettingsDep, ctx: AuthDep):
    if ctx is not None:
        auth.end_session(session=session, ctx=ctx)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(cookie_names(settings)[0], **cookie_attrs(settings))
    return response


@router.post("/lang", dependencies=[CsrfForm])
def switch_language(request: Request, settings: SettingsDep, lang: Annotated[str, Form()] = "",
                    next: Annotated[str, Form()] = "/"):
    response = RedirectResponse(_safe_next(next, "/"), status_code=303)
    if lang in LOCALES:
        response.set_cookie("lang", lang, max_age=365 * 86400, **cookie_attrs(settings))
    return response


@router.get("/dashboard")
def dashboard(request: Request, session: SessionDep, settings: SettingsDep, user: Leader):
    towns = township_names(settings.reference_file)
    data = overview.county_overview(session=session, townships=towns)
    today = local_today()
    return render(request, "dashboard.html", overview=data, townships=towns, today=today,
                  overdue=overview.overdue_summary(session=session, today=today))


@router.get("/my/reports")
def my_reports(request: Request, session: SessionDep, user: InformantUser):
    informant = overview.informant_for_user(session=session, user=user)
    rows = overview.list_reports(session=session, informant_id=informant.id) if informant else []
    return render(request, "my_reports.html", rows=rows, informant=informant)


@router.get("/admin/users")
def admin_users(request: Request, session: SessionDep, user: Admin):
    return render(request, "admin_users.html", users=auth.list_users(session=session), roles=list(Role),
                  error=None, form={})


@router.post("/admin/users", dependencies=[CsrfForm])
def admin_create_user(request: Request, session: SessionDep, user: Admin,
                      username: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=256)],
                      role: Annotated[str, Form(max_length=32)],
                      display_name: Annotated[str, Form(max_length=64)] = ""):
    try:
        auth.create_user(session=session, username=username, password=password, role=role,
                         display_name=display_name or None, actor=user)
    except auth.UserError as exc:
        session.rollback()
        return render(request, "admin_users.html", status_code=400, users=auth.list_users(session=session),
                      roles=list(Role), error=str(exc), form={"username": username, "role": role,
                                                              "display_name": display_name})
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/active", dependencies=[CsrfForm])
def admin_set_active(user_id: int, session: SessionDep, user: Admin, active: Annotated[str, Form()] = "0"):
    target = session.get(UserAccount, user_id)
    if target is None:
        from fastapi import HTTPException

        raise HTTPException(status_code=404)
    if target.id != user.id:  # an admin cannot lock themself out
        auth.set_active(session=session, user=target, active=active == "1", actor=user)
    return RedirectResponse("/admin/users", status_code=303)
