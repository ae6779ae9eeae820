"""Dependencies for routes: the DB session, settings, the current user, role checks and CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Request
from sqlmodel import Session

from earlywarn import auth
from earlywarn.audit import record_audit
from earlywarn.config import Settings
from earlywarn.i18n import gettext as _
from earlywarn.security import tokens_match
from earlywarn.tables import UserAccount


class LoginRequired(Exception):
    """Raised for an anonymous visitor on a protected page; HTML gets a redirect, the API a 401."""


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]


def load_auth(request: Request, session: SessionDep, settings: SettingsDep) -> auth.AuthContext | None:
    if hasattr(request.state, "auth"):
        return request.state.auth
    token = getattr(request.state, "session_token", None)
    ctx = auth.load_session(session=session, token=token, settings=settings) if token else None
    request.state.auth = ctx
    request.state.user = ctx.user if ctx else None
    request.state.csrf_token = ctx.session_row.csrf_secret if ctx else request.state.anon_csrf
    return ctx


AuthDep = Annotated[auth.AuthContext | None, Depends(load_auth)]


def current_user(ctx: AuthDep) -> UserAccount:
    if ctx is None:
        raise LoginRequired()
    return ctx.user


CurrentUser = Annotated[UserAccount, Depends(current_user)]


def require_roles(*roles: str):
    """Function-level access control; failed attempts are audited (ASVS 16.3.2)."""

    def checker(request: Request, user: CurrentUser, session: SessionDep) -> UserAccount:
        if user.role not in roles:
            record_audit(session=session, action="auth.forbidden", actor=user,
                         detail={"path": request.url.path, "method": request.method})
            session.commit()
            raise HTTPException(status_code=403, detail=_("您的角色无权访问此页面"))
        return user

    return checker


async def verify_csrf_form(request: Request, ctx: AuthDep, csrf_token: Annotated[str, Form()] = "") -> None:
    expected = ctx.session_row.csrf_secret if ctx else request.state.anon_csrf
    if not tokens_match(expected, csrf_token):
        raise HTTPException(status_code=403, detail=_("页面已过期或请求来源不明，请刷新页面后重试"))


def verify_csrf_header(request: Request, ctx: AuthDep) -> None:
    """For JSON calls made with a session cookie; calls without a session carry no ambient authority."""
    if ctx is None or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if not tokens_match(ctx.session_row.csrf_secret, request.headers.get("x-csrf-token")):
        raise HTTPException(status_code=403, detail=_("缺少或错误的 X-CSRF-Token 请求头"))


CsrfForm = Depends(verify_csrf_form)
