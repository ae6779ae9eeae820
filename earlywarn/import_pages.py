"""Routes for imports: the upload page, the job page, the history, and the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from earlywarn import overview
from earlywarn.deps import CsrfForm, SessionDep, SettingsDep, load_auth, require_roles, verify_csrf_header
from earlywarn.enums import Role
from earlywarn.file_kinds import KINDS
from earlywarn.i18n import gettext as _
from earlywarn.import_jobs import Upload, UploadError, job_status, rejected_file, start_import_job
from earlywarn.tables import UserAccount
from earlywarn.templating import render as _render

router = APIRouter(dependencies=[Depends(load_auth)])
Uploader = Annotated[UserAccount, Depends(require_roles(Role.wage_checker, Role.admin))]
Viewer = Annotated[UserAccount, Depends(require_roles(Role.wage_checker, Role.admin, Role.leader))]


class ImportJobPublic(BaseModel):
    job_id: str
    status_url: str


def _kind_or_none(kind: str | None) -> str | None:
    if not kind:
        return None
    if kind not in KINDS:
        raise UploadError(_("未知的文件类型：%(kind)s", kind=kind))
    return kind




@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, session: SessionDep, user: Viewer):
    return _render(request, "imports.html", batches=overview.list_imports(session=session), kinds=KINDS,
                   error=None)


@router.post("/imports", response_class=HTMLResponse, dependencies=[CsrfForm])
def upload(request: Request, session: SessionDep, settings: SettingsDep, user: Uploader,
           files: Annotated[list[UploadFile], File()], kind: Annotated[str, Form()] = "",
           skip_invalid: Annotated[str, Form()] = ""):
    uploads = [Upload(f.filename or "", f.file) for f in files if f.filename]
    try:
        job_id = start_import_job(session=session, settings=settings, runner=request.app.state.jobs,
                                  uploads=uploads, kind=_kind_or_none(kind), skip_invalid=bool(skip_invalid),
                                  user=user)
    except UploadError as exc:
        return _render(request, "imports.html", status_code=400, batches=overview.list_imports(session=session),
                       kinds=KINDS, error=str(exc))
    return RedirectResponse(f"/imports/jobs/{job_id}", status_code=303)


@router.get("/imports/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, session: SessionDep, user: Viewer):
    status = job_status(session=session, runner=request.app.state.jobs, job_id=job_id, user=user)
    if status is None:
        raise HTTPException(status_code=404)
    return _render(request, "import_job.html", job=status, kinds=KINDS)


@router.get("/imports/batches/{batch_id}/rejected.csv")
def download_rejected(batch_id: int, session: SessionDep, settings: SettingsDep, user: Uploader):
    try:
        name, data = rejected_file(session=session, settings=settings, batch_id=batch_id, user=user)
    except LookupError:
        raise HTTPException(status_code=404) from None
    from urllib.parse import quote

    return Response(data, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.post("/api/imports", status_code=202, response_model=ImportJobPublic,
             dependencies=[Depends(verify_csrf_header)])
def api_upload(request: Request, session: SessionDep, settings: SettingsDep, user: Uploader,
               files: Annotated[list[UploadFile], File()], kind: Annotated[str, Form()] = "",
               skip_invalid: Annotated[bool, Form()] = False) -> ImportJobPublic:
    try:
        job_id = start_import_job(session=session, settings=settings, runner=request.app.state.jobs,
                                  uploads=[Upload(f.filename or "", f.file) for f in files],
                                  kind=_kind_or_none(kind), skip_invalid=skip_invalid, user=user)
    except UploadError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return ImportJobPublic(job_id=job_id, status_url=f"/api/imports/{job_id}")


@router.get("/api/imports/{job_id}")
def api_job(request: Request, job_id: str, session: SessionDep, user: Viewer) -> dict:
    status = job_status(session=session, runner=request.app.state.jobs, job_id=job_id, user=user)
    if status is None:
        raise HTTPException(status_code=404, detail=_("没有这个导入任务"))
    return status
