"""Request hardening that needs no database: locale, the pre-login CSRF cookie, origin checks, headers.

CSRF has three layers: a synchronizer token (bound to the server-side session once logged in, to a random
pre-session cookie before), this middleware's Fetch-Metadata / Origin check on unsafe methods, and
SameSite=Lax cookies. Pure ASGI rather than BaseHTTPMiddleware so streaming responses and background work
are untouched.
"""

from __future__ import annotations

import hmac
import secrets
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse

from earlywarn.config import Settings
from earlywarn.i18n import LOCALES, reset_locale, set_locale

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def cookie_names(settings: Settings) -> tuple[str, str]:
    """(session cookie, pre-session CSRF cookie). ``__Host-`` needs Secure, so plain names when insecure."""
    return ("__Host-sid", "__Host-csrf") if settings.cookie_secure else ("sid", "csrf")


def cookie_attrs(settings: Settings) -> dict:
    return {"httponly": True, "samesite": "lax", "secure": settings.cookie_secure, "path": "/"}


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


class SecurityMiddleware:
    def __init__(self, app, settings: Settings):
        self.app = app
        self.settings = settings
        self.sid_name, self.csrf_name = cookie_names(settings)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cookies: dict[str, str] = {}
        if "cookie" in headers:
            jar = SimpleCookie()
            try:
                jar.load(headers["cookie"])
            except Exception:  # a malformed cookie header is ignored, not a 500
                jar = SimpleCookie()
            cookies = {k: m.value for k, m in jar.items()}

        if scope["method"] not in SAFE_METHODS and not self._same_origin(headers):
            response = PlainTextResponse("请求来源不明，已拒绝（跨站请求）", status_code=403)
            return await response(scope, receive, send)

        state = scope.setdefault("state", {})
        anon_csrf = cookies.get(self.csrf_name)
        new_csrf = None
        if not anon_csrf:
            anon_csrf = new_csrf = secrets.token_urlsafe(32)
        state["anon_csrf"] = anon_csrf
        state["session_token"] = cookies.get(self.sid_name)
        lang = cookies.get("lang")
        state["locale"] = lang if lang in LOCALES else self.settings.default_locale
        token = set_locale(state["locale"])

        is_api = scope["path"].startswith("/api")

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("Referrer-Policy", "no-referrer")
                h.setdefault("X-Frame-Options", "DENY")
                h.setdefault("Content-Security-Policy", CSP)
                if not scope["path"].startswith("/static"):
                    h.setdefault("Cache-Control", "no-store")
                if new_csrf and not is_api:
                    flags = "; Secure" if self.settings.cookie_secure else ""
                    h.append("Set-Cookie", f"{self.csrf_name}={new_csrf}; Path=/; HttpOnly; SameSite=Lax{flags}")
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            reset_locale(token)

    @staticmethod
    def _same_origin(headers: dict[str, str]) -> bool:
        site = headers.get("sec-fetch-site")
        if site:
            return site in ("same-origin", "none")
        origin = headers.get("origin") or headers.get("referer")
        if not origin:
            return True  # non-browser clients (curl, scripts) send neither; tokens still protect forms
        if origin == "null":
            return False
        return urlsplit(origin).netloc == headers.get("host", "")
