"""The application factory: ``create_app(settings)``; nothing happens at import time."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from earlywarn import __version__, i18n
from earlywarn.config import Settings, get_settings
from earlywarn.db import make_engine
from earlywarn.deps import LoginRequired
from earlywarn.i18n import gettext as _
from earlywarn.jobs import JobRunner, recover_interrupted
from earlywarn.migrate import upgrade_database
from earlywarn.ratelimit import RateLimiter
from earlywarn.rules import load_rules
from earlywarn.scoring import load_risk_model
from earlywarn.security import SecurityMiddleware
from earlywarn.sites import CheckCache
from earlywarn.templating import build_templates
from earlywarn.understanding import load_analyser

log = logging.getLogger("earlywarn")


def create_app(settings: Settings | None = None, *, upgrade: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if upgrade:
            upgrade_database(settings)
        i18n.load_catalogues(settings.web_dir / "locale")
        app.state.settings = settings
        app.state.engine = make_engine(settings)
        app.state.templates = build_templates(settings.web_dir)
        settings.resolved_secret()  # fail at start-up, not on the first ID number, if the key is unusable
        app.state.ruleset = load_rules(settings.rules_dir)
        app.state.check_cache = CheckCache()
        # Load (and card-check) the report classifier now: a bad model stops the start, not the first report.
        app.state.analyser = load_analyser(settings.model_dir, settings.rules_dir)
        app.state.risk_model = load_risk_model(settings.model_dir, settings.risk_model)  # the same for the risk model
        app.state.ratelimiter = RateLimiter(settings.redis_url)
        if settings.job_queue == "redis":
            from earlywarn.job_queue import QueuedJobs

            # No recovery here: a worker on another machine may be running those batches (job_queue.py).
            app.state.jobs = QueuedJobs(settings=settings, engine=app.state.engine)
        else:
            recover_interrupted(app.state.engine)
            app.state.jobs = JobRunner(settings=settings, engine=app.state.engine)
        if settings.daily_scoring:
            app.state.jobs.start_daily_scoring(hour=settings.daily_scoring_hour)
        yield
        app.state.jobs.shutdown()
        app.state.engine.dispose()

    app = FastAPI(title="earlywarn 劳动关系预警调处系统", version=__version__, lifespan=lifespan,
                  docs_url="/docs", openapi_url="/openapi.json")
    app.add_middleware(SecurityMiddleware, settings=settings)
    app.mount("/static", StaticFiles(directory=settings.web_dir / "static"), name="static")

    from earlywarn import (
        agreement_pages,
        api,
        case_actions,
        case_api,
        case_pages,
        emergency_pages,
        import_pages,
        informant_pages,
        pages,
        report_pages,
        site_pages,
        warning_pages,
    )

    app.include_router(report_pages.router)
    app.include_router(informant_pages.router)
    app.include_router(pages.router)
    app.include_router(import_pages.router)
    app.include_router(site_pages.router)
    app.include_router(warning_pages.router)
    for module in (case_pages, case_actions, agreement_pages, emergency_pages, case_api):
        app.include_router(module.router)
    app.include_router(api.router)
    _install_error_pages(app)
    return app


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", "text/html")


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": _("请先登录")}, status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if not _wants_html(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        titles = {403: _("无权访问"), 404: _("页面不存在"), 405: _("不支持的请求方式"), 413: _("文件过大")}
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        return app.state.templates.TemplateResponse(
            request=request, name="error.html", status_code=exc.status_code,
            context={"status": exc.status_code, "title": titles.get(exc.status_code, _("请求出错")),
                     "detail": detail or (_("您要找的页面不存在或已被移除。") if exc.status_code == 404 else "")},
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        return JSONResponse({"detail": _("提交的数据有误"), "errors": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if not _wants_html(request):
            return JSONResponse({"detail": _("服务器内部错误，请稍后重试")}, status_code=500)
        return app.state.templates.TemplateResponse(
            request=request, name="error.html", status_code=500,
            context={"status": 500, "title": _("服务器内部错误"), "detail": _("请稍后重试，或联系管理员。")},
        )
