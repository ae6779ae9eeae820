"""Records of the system itself: import batches (the import history) and the append-only audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from earlywarn.tables._fields import _json, _now, _ts


class ImportBatch(SQLModel, table=True):
    """One imported file: who, when, its hashes, counts and errors."""

    __tablename__ = "import_batch"
    id: int | None = Field(default=None, primary_key=True)
    kind: str | None = Field(default=None, max_length=16)
    filename: str = Field(max_length=255)
    job_id: str | None = Field(default=None, max_length=32, index=True)  # files uploaded together
    file_sha256: str = Field(max_length=64, index=True)
    content_sha256: str | None = Field(default=None, max_length=64, index=True)
    status: str = Field(default="queued", max_length=16)
    uploaded_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = _now()
    finished_at: datetime | None = _ts(default=None)
    rows_total: int = 0
    rows_processed: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    error_count: int = 0
    errors: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    summary: dict = _json()


class AuditLog(SQLModel, table=True):
    """Append-only (database triggers refuse UPDATE and DELETE) and hash-chained."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _now()
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_role: str | None = Field(default=None, max_length=32)
    action: str = Field(max_length=64, index=True)
    object_type: str | None = Field(default=None, max_length=32)
    object_id: str | None = Field(default=None, max_length=64)
    detail: dict = _json()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
