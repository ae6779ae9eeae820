"""The append-only, hash-chained audit log. Write in the same transaction as the change it records."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from earlywarn.db import utcnow
from earlywarn.tables import AuditLog, UserAccount

GENESIS = "0" * 64
# Never written to the audit log, whatever a caller passes: ID numbers, names of informants, secrets.
REDACTED_KEYS = frozenset({"id_number", "password", "token", "receipt", "name_plain", "phone"})


def _canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _entry_hash(*, at: datetime, actor_id, actor_role, action, object_type, object_id, detail, prev_hash) -> str:
    from earlywarn.privacy import sha256_hex

    body = _canonical({
        "at": at.isoformat(), "actor_id": actor_id, "actor_role": actor_role, "action": action,
        "object_type": object_type, "object_id": object_id, "detail": detail,
    })
    return sha256_hex(body + prev_hash)


def _redact(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: ("[redacted]" if k in REDACTED_KEYS else v) for k, v in detail.items()}


def record_audit(*, session: Session, action: str, actor: UserAccount | None = None,
                 object_type: str | None = None, object_id: Any = None,
                 detail: dict[str, Any] | None = None) -> AuditLog:
    """Append one entry (flush only: the calling service commits with its change)."""
    return record_audits(session=session, entries=[dict(action=action, actor=actor, object_type=object_type,
                                                         object_id=object_id, detail=detail)])[0]


def record_audits(*, session: Session, entries: list[dict[str, Any]]) -> list[AuditLog]:
    """Append several entries in order, chained in memory from one read of the last hash and flushed once
    (an import registering dozens of informants). Each entry holds :func:`record_audit`'s keyword arguments."""
    if not entries:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # Two writers must not chain onto the same previous hash.
        from sqlalchemy import text

        session.execute(text("SELECT pg_advisory_xact_lock(734100)"))
    prev = session.exec(select(AuditLog.hash).order_by(AuditLog.id.desc()).limit(1)).first() or GENESIS
    at = utcnow().replace(microsecond=0)
    written = []
    for e in entries:
        actor, object_id = e.get("actor"), e.get("object_id")
        fields = dict(
            at=at, actor_id=actor.id if actor else None, actor_role=actor.role if actor else None,
            action=e["action"], object_type=e.get("object_type"),
            object_id=None if object_id is None else str(object_id), detail=_redact(e.get("detail") or {}),
        )
        entry = AuditLog(**fields, prev_hash=prev, hash=_entry_hash(**fields, prev_hash=prev))
        session.add(entry)
        written.append(entry)
        prev = entry.hash
    session.flush()
    return written


def verify_chain(*, session: Session) -> tuple[bool, int | None]:
    """Walk the chain; returns (ok, id of the first broken entry)."""
    prev = GENESIS
    for entry in session.exec(select(AuditLog).order_by(AuditLog.id)):
        expected = _entry_hash(at=entry.at, actor_id=entry.actor_id, actor_role=entry.actor_role,
                               action=entry.action, object_type=entry.object_type, object_id=entry.object_id,
                               detail=entry.detail, prev_hash=prev)
        if entry.prev_hash != prev or entry.hash != expected:
            return False, entry.id
        prev = entry.hash
    return True, None
