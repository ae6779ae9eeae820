"""Routes for informant reports: the public form and receipt follow-up, the mediators' inbox, the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import select

from earlywarn import reports
from earlywarn.config import local_today
from earlywarn.deps import AuthDep, CsrfForm, SessionDep, SettingsDep, load_auth, require_roles, verify_csrf_header
from earlywarn.enums import Role
from earlywarn.i18n import gettext as _
from earlywarn.orgs import township_names
from earlywarn.photos import MAX_PHOTOS, PhotoError, clean_photo, read_photo
from earlywarn.privacy import Vault
from earlywarn.ratelimit import FILE_REPORT, RECEIPT_LOOKUP, RECEIPT_LOOKUP_GLOBAL
from earlywarn.tables import Informant, Project, Report, ReportPhoto, UserAccount
from earlywarn.templating import render as _render

router = APIRouter(dependencies=[Depends(load_auth)])
Mediator = Annotated[UserAccount, Depends(require_roles(Role.mediator, Role.leader, Role.admin))]
FORM_FIELDS = ("text", "township", "project_code", "employer", "workers_involved", "amount_claimed", "since")




_today = local_today


def _client(request: Request) -> str:
    return request.app.state.ratelimiter.client_key(request.client.host if request.client else None)


def _informant_of(session, ctx) -> Informant | None:
    if ctx is None or ctx.user.role != Role.informant:
        return None
    return session.exec(select(Informant).where(Informant.user_id == ctx.user.id)).first()


def _too_many(request: Request) -> HTMLResponse:
    return _render(request, "message.html", status_code=429, title=_("操作太频繁"),
                   text=_("为防止滥用，同一设备短时间内的提交次数有限制，请过十分钟再试。"))


def _form_context(session, settings, **extra):
    projects = session.exec(select(Project.code, Project.name).order_by(Project.code)).all()
    return {"townships": township_names(settings.reference_file), "projects": projects, "errors": {}, "form": {},
            **extra}


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request, session: SessionDep, settings: SettingsDep, ctx: AuthDep):
    return _render(request, "report_form.html", named=_informant_of(session, ctx) is not None,
                   **_form_context(session, settings))


@router.post("/report", response_class=HTMLResponse, dependencies=[CsrfForm])
async def submit_report(request: Request, session: SessionDep, settings: SettingsDep, ctx: AuthDep,
                        photos: Annotated[list[UploadFile] | None, File()] = None):
    form = await request.form()
    raw = {k: form.get(k) for k in FORM_FIELDS}
    informant = _informant_of(session, ctx)
    key = f"user:{ctx.user.id}" if ctx else _client(request)
    if not request.app.state.ratelimiter.hit(FILE_REPORT, key):
        return _too_many(request)
    uploads = [p for p in photos or [] if p.filename]
    errors: dict[str, str] = {}
    clean = []
    if len(uploads) > MAX_PHOTOS:
        errors["photos"] = _("最多上传 %(n)s 张照片", n=MAX_PHOTOS)
    else:
        for upload in uploads:
            try:
                clean.append(clean_photo(await upload.read(), upload.filename))
            except PhotoError as exc:
                errors["photos"] = str(exc)
    try:
        data = reports.validate_report_input(raw, townships=township_names(settings.reference_file), today=_today())
    except reports.ReportInputError as exc:
        errors.update(exc.errors)
    if errors:
        return _render(request, "report_form.html", status_code=400, named=informant is not None,
                       **_form_context(session, settings, errors=errors, form=raw))
    report, receipt = reports.file_report(session=session, settings=settings, data=data, informant=informant,
                                          actor=ctx.user if ctx else None,
                                          photos=clean)
    return _render(request, "report_receipt.html", receipt=receipt, named=informant is not None)


@router.get("/report/status", response_class=HTMLResponse)
def status_form(request: Request):
    return _render(request, "report_status.html", report=None, receipt="", messages=[], error=None)


def _lookup(request: Request, session, settings, receipt: str) -> Report | None:
    limiter = request.app.state.ratelimiter
    if not (limiter.hit(RECEIPT_LOOKUP, _client(request)) and limiter.hit(RECEIPT_LOOKUP_GLOBAL, "all")):
        raise _TooMany()
    return reports.find_by_receipt(session=session, settings=settings, receipt=receipt)


class _TooMany(Exception):
    pass


@router.post("/report/status", response_class=HTMLResponse, dependencies=[CsrfForm])
def status_lookup(request: Request, session: SessionDep, settings: SettingsDep,
                  receipt: Annotated[str, Form(max_length=64)] = ""):
    try:
        report = _lookup(request, session, settings, receipt)
    except _TooMany:
        return _too_many(request)
    if report is None:
        return _render(request, "report_status.html", status_code=404, report=None, receipt="", messages=[],
                       error=_("查询码不正确。请核对后重试（字母不区分大小写）。"))
    return _render(request, "report_status.html", report=report, receipt=receipt,
                   messages=reports.messages_of(session=session, report=report), error=None)


@router.post("/report/status/reply", response_class=HTMLResponse, dependencies=[CsrfForm])
def status_reply(request: Request, session: SessionDep, settings: SettingsDep,
                 receipt: Annotated[str, Form(max_length=64)] = "", body: Annotated[str, Form(max_length=4000)] = ""):
    try:
        report = _lookup(request, session, settings, receipt)
    except _TooMany:
        return _too_many(request)
    if report is None:
        raise HTTPException(status_code=404)
    error = None
    try:
        reports.add_message(session=session, report=report, sender="reporter", body=body)
    except reports.ReportInputError as exc:
        error = str(exc)
    return _render(request, "report_status.html", report=report, receipt=receipt, error=error,
                   messages=reports.messages_of(session=session, report=report))


InformantUser = Annotated[UserAccount, Depends(require_roles(Role.informant))]


def _own_report(session, user: UserAccount, report_id: int) -> Report:
    informant = session.exec(select(Informant).where(Informant.user_id == user.id)).first()
    report = session.get(Report, report_id)
    if informant is None or report is None or report.informant_id != informant.id:
        raise HTTPException(status_code=404)  # not 403: another informant's report does not exist for you
    return report


@router.get("/my/reports/{report_id}", response_class=HTMLResponse)
def my_report(request: Request, report_id: int, session: SessionDep, user: InformantUser):
    report = _own_report(session, user, report_id)
    messages = reports.messages_of(session=session, report=report)
    return _render(request, "my_report.html", report=report, messages=messages, error=None)


@router.post("/my/reports/{report_id}/reply", response_class=HTMLResponse, dependencies=[CsrfForm])
def my_report_reply(request: Request, report_id: int, session: SessionDep, user: InformantUser,
                    body: Annotated[str, Form(max_length=4000)] = ""):
    report = _own_report(session, user, report_id)
    try:
        reports.add_message(session=session, report=report, sender="reporter", body=body)
    except reports.ReportInputError as exc:
        return _render(request, "my_report.html", status_code=400, report=report, error=str(exc),
                       messages=reports.messages_of(session=session, report=report))
    return RedirectResponse(f"/my/reports/{report_id}", status_code=303)


# ------------------------------------------------------------------ the mediators' side


@router.get("/reports", response_class=HTMLResponse)
def inbox(request: Request, session: SessionDep, settings: SettingsDep, user: Mediator,
          category: str | None = None, township: str | None = None, flag: str | None = None,
          linked: str | None = None):
    rows = reports.list_inbox(session=session, category=category or None, township=township or None,
                              flag=flag or None, linked=linked or None)
    return _render(request, "reports.html", rows=rows, townships=township_names(settings.reference_file),
                   filters={"category": category or "", "township": township or "", "flag": flag or "",
                            "linked": linked or ""})


def _report_or_404(session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise HTTPException(status_code=404)
    return report


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: int, session: SessionDep, user: Mediator):
    from earlywarn.report_links import incident_of

    report = _report_or_404(session, report_id)
    informant = session.get(Informant, report.informant_id) if report.informant_id else None
    project = session.get(Project, report.project_id) if report.project_id else None
    # The manual-link choice: the matcher's alternatives first, then every project of the report's township.
    candidates = [] if project else list(session.exec(
        select(Project).order_by((Project.township == (report.township or "")).desc(), Project.code)))
    return _render(request, "report.html", r=report, informant=informant, project=project,
                   messages=reports.messages_of(session=session, report=report),
                   photos=reports.photos_of(session=session, report=report),
                   incident=incident_of(session=session, report=report), candidates=candidates, error=None)


@router.post("/reports/{report_id}/messages", dependencies=[CsrfForm])
def mediator_reply(report_id: int, session: SessionDep, user: Mediator,
                   body: Annotated[str, Form(max_length=4000)] = ""):
    report = _report_or_404(session, report_id)
    try:
        reports.add_message(session=session, report=report, sender="mediator", body=body, author=user)
    except reports.ReportInputError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return RedirectResponse(f"/reports/{report_id}#messages", status_code=303)


@router.post("/reports/{report_id}/status", dependencies=[CsrfForm])
def change_status(report_id: int, session: SessionDep, user: Mediator, status: Annotated[str, Form()] = ""):
    report = _report_or_404(session, report_id)
    try:
        reports.set_status(session=session, report=report, status=status, actor=user)
    except reports.ReportInputError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return RedirectResponse(f"/reports/{report_id}", status_code=303)


@router.post("/reports/{report_id}/link", dependencies=[CsrfForm])
def link_by_hand(report_id: int, session: SessionDep, user: Mediator, target: Annotated[str, Form()] = ""):
    from earlywarn.report_links import link_manually

    report = _report_or_404(session, report_id)
    kind, _sep, ident = target.partition(":")
    if kind not in ("project", "company") or not ident.isdigit():
        raise HTTPException(status_code=400, detail=_("请选择要关联的项目或企业"))
    link_manually(session=session, report=report, actor=user, **{f"{kind}_id": int(ident)})
    return RedirectResponse(f"/reports/{report_id}", status_code=303)


@router.get("/reports/{report_id}/photos/{photo_id}")
def report_photo(report_id: int, photo_id: int, session: SessionDep, settings: SettingsDep, user: Mediator):
    photo = session.get(ReportPhoto, photo_id)
    if photo is None or photo.report_id != report_id:
        raise HTTPException(status_code=404)
    data = read_photo(photo.stored_name, vault=Vault(settings), folder=settings.data_dir / "photos")
    return Response(data, media_type=photo.content_type, headers={"Cache-Control": "no-store"})


# ------------------------------------------------------------------ JSON API


class ReportCreate(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    township: str | None = None
    project_code: str | None = None
    employer: str | None = None
    workers_involved: int | None = None
    amount_claimed: str | None = Field(default=None, description="元，如 12345.50")
    since: str | None = Field(default=None, description="开始日期，如 2025-03-05")


class ReportFiled(BaseModel):
    receipt: str | None = Field(description="匿名报告的查询码，只返回这一次；实名报告为空")
    category: str | None
    escalation: bool
    collective: bool


class ReceiptQuery(BaseModel):
    receipt: str = Field(min_length=8, max_length=64)


@router.post("/api/reports", status_code=201, response_model=ReportFiled,
             dependencies=[Depends(verify_csrf_header)])
def api_file_report(request: Request, body: ReportCreate, session: SessionDep, settings: SettingsDep,
                    ctx: AuthDep) -> ReportFiled:
    key = f"user:{ctx.user.id}" if ctx else _client(request)
    if not request.app.state.ratelimiter.hit(FILE_REPORT, key):
        raise HTTPException(status_code=429, detail=_("提交太频繁，请十分钟后再试"))
    try:
        data = reports.validate_report_input(body.model_dump(), townships=township_names(settings.reference_file),
                                             today=_today())
    except reports.ReportInputError as exc:
        raise HTTPException(status_code=422, detail=exc.errors) from None
    informant = _informant_of(session, ctx)
    report, receipt = reports.file_report(session=session, settings=settings, data=data, informant=informant,
                                          actor=ctx.user if ctx else None,
                                          source="api")
    return ReportFiled(receipt=receipt, category=report.category, escalation=report.escalation,
                       collective=report.collective)


@router.post("/api/reports/status")
def api_report_status(request: Request, body: ReceiptQuery, session: SessionDep, settings: SettingsDep) -> dict:
    try:
        report = _lookup(request, session, settings, body.receipt)
    except _TooMany:
        raise HTTPException(status_code=429, detail=_("查询太频繁，请十分钟后再试")) from None
    if report is None:
        raise HTTPException(status_code=404, detail=_("查询码不正确"))
    return {"status": report.status, "category": report.category,
            "messages": [{"at": m.at.isoformat(), "from": m.sender, "body": m.body}
                         for m in reports.messages_of(session=session, report=report)]}
