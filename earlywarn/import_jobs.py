"""Uploads → background import jobs (service): store the files, record queued batches, enqueue, report."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, select

from earlywarn.config import Settings
from earlywarn.enums import Role
from earlywarn.jobs import Jobs
from earlywarn.privacy import Vault
from earlywarn.tables import ImportBatch, UserAccount

MAX_FILES = 20
_UNSAFE = re.compile(r"[^\w.\-（）()]+")


class UploadError(ValueError):
    """A problem with the upload itself (Chinese message)."""


@dataclass
class Upload:
    filename: str
    stream: BinaryIO


def safe_name(filename: str, index: int) -> str:
    """The user's file name is kept only as a hint for the kind; never as a path."""
    base = Path(filename.replace("\\", "/")).name or "upload"
    base = _UNSAFE.sub("_", base).lstrip(".")[:100] or "upload"
    return f"{index:02d}-{base}"


def start_import_job(*, session: Session, settings: Settings, runner: Jobs, uploads: list[Upload],
                     kind: str | None, skip_invalid: bool, user: UserAccount) -> str:
    if not uploads:
        raise UploadError("请选择要上传的文件")
    if len(uploads) > MAX_FILES:
        raise UploadError(f"一次最多上传 {MAX_FILES} 个文件")
    job_id = uuid.uuid4().hex
    folder = settings.data_dir / "uploads" / job_id
    folder.mkdir(parents=True, mode=0o700)
    saved: list[tuple[Path, ImportBatch]] = []
    try:
        for i, upload in enumerate(uploads, start=1):
            path = folder / safe_name(upload.filename, i)
            size = 0
            with path.open("wb") as out:
                while chunk := upload.stream.read(1 << 20):
                    size += len(chunk)
                    if size > settings.upload_max_bytes:
                        limit_mb = settings.upload_max_bytes // (1 << 20)
                        raise UploadError(f"文件“{upload.filename}”超过 {limit_mb} MB 上限")
                    out.write(chunk)
            batch = ImportBatch(filename=(upload.filename or path.name)[:255], file_sha256="0" * 64, job_id=job_id,
                                uploaded_by=user.id, kind=kind, status="queued")
            session.add(batch)
            saved.append((path, batch))
        session.commit()
    except Exception:
        session.rollback()
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
        raise
    runner.submit_import(job_id=job_id, folder=folder, files=[(p, b.id) for p, b in saved], kind=kind,
                         skip_invalid=skip_invalid, user_id=user.id)
    return job_id


def visible_batches(*, session: Session, job_id: str, user: UserAccount) -> list[ImportBatch]:
    """A job's batches; a wage checker sees only their own uploads, admins and leaders see all."""
    q = select(ImportBatch).where(ImportBatch.job_id == job_id).order_by(ImportBatch.id)
    if user.role not in (Role.admin, Role.leader):
        q = q.where(ImportBatch.uploaded_by == user.id)
    return list(session.exec(q))


def job_status(*, session: Session, runner: Jobs, job_id: str, user: UserAccount) -> dict | None:
    batches = visible_batches(session=session, job_id=job_id, user=user)
    if not batches:
        return None
    state = runner.state(job_id)
    files = []
    for b in batches:
        progress = None
        if state is not None and b.status in ("queued", "running"):
            fp = state.files.get(b.id)
            if fp is not None:
                progress = {"done": fp.done, "total": fp.total}
        files.append({
            "batch_id": b.id, "filename": b.filename, "kind": b.kind, "status": b.status,
            "rows_total": b.rows_total, "rows_imported": b.rows_imported, "rows_rejected": b.rows_rejected,
            "error_count": b.error_count, "errors": b.errors, "message": (b.summary or {}).get("message", ""),
            "notices": (b.summary or {}).get("notices", []),
            "has_rejected_file": bool((b.summary or {}).get("rejected_file")), "progress": progress,
        })
    finished = all(f["status"] not in ("queued", "running") for f in files)
    return {"job_id": job_id, "finished": finished, "error": state.error if state else None, "files": files}


def seal_rejected(*, settings: Settings, path: Path) -> Path:
    """Encrypt a server-side rejected-rows file at rest (it holds ID numbers) and remove the plain copy."""
    sealed = path.with_name(path.name + ".enc")
    sealed.write_text(Vault(settings).encrypt(path.read_text(encoding="utf-8-sig")), encoding="ascii")
    path.unlink()
    return sealed


def rejected_file(*, session: Session, settings: Settings, batch_id: int, user: UserAccount) -> tuple[str, bytes]:
    batch = session.get(ImportBatch, batch_id)
    if batch is None or (user.role != Role.admin and batch.uploaded_by != user.id):
        raise LookupError
    name = (batch.summary or {}).get("rejected_file")
    if not name:
        raise LookupError
    sealed = settings.data_dir / "uploads" / (batch.job_id or "") / (name + ".enc")
    if not sealed.exists():
        raise LookupError
    text = Vault(settings).decrypt(sealed.read_text(encoding="ascii"))
    return f"{batch.filename}.rejected.csv", ("\ufeff" + text).encode("utf-8")
