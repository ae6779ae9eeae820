"""The Jinja2 environment: autoescape, the i18n extension bound to the per-request locale, filters."""

from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates

from earlywarn import i18n
from earlywarn.auth import HOME_BY_ROLE
from earlywarn.enums import Role


def _context(request: Request) -> dict:
    user = getattr(request.state, "user", None)
    return {
        "current_user": user,
        "csrf_token": getattr(request.state, "csrf_token", None) or getattr(request.state, "anon_csrf", ""),
        "locale": i18n.get_locale(),
        "home_url": HOME_BY_ROLE.get(user.role, "/") if user else "/login",
        "Role": Role,
    }


def build_templates(web_dir: Path) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(web_dir / "templates"),
        autoescape=jinja2.select_autoescape(default=True),  # a bare Environment does not escape
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.filters["money"] = i18n.format_money
    env.filters["dt"] = i18n.format_datetime_local
    env.filters["d"] = i18n.format_date_local
    return Jinja2Templates(env=env, context_processors=[_context])


def render(request: Request, name: str, status_code: int = 200, **context):
    """Every page renders through this: the app's templates with the request's context processors."""
    return request.app.state.templates.TemplateResponse(request=request, name=name, context=context,
                                                        status_code=status_code)
