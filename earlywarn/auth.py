"""Users, passwords and server-side sessions (service layer: owns its SQL and commits)."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Session, select

from earlywarn.audit import record_audit
from earlywarn.config import Settings
from earlywarn.db import utcnow
from earlywarn.enums import Role
from earlywarn.tables import UserAccount, UserSession

# OWASP's m=19 MiB, t=2, p=1 Argon2id profile: equal strength to the 64 MiB default at a third of the memory,
# which matters on a 2-core, shared machine. The semaphore stops a burst of logins from piling up hashes.
_hasher = PasswordHash((Argon2Hasher(memory_cost=19456, time_cost=2, parallelism=1),))
_hash_slots = threading.BoundedSemaphore(2)
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
MIN_PASSWORD = 10

HOME_BY_ROLE: dict[str, str] = {
    Role.informant: "/my/reports",
    Role.informant_manager: "/informants",
    Role.mediator: "/warnings",
    Role.wage_checker: "/sites",
    Role.leader: "/dashboard",
    Role.admin: "/admin/users",
}


class UserError(ValueError):
    """A user-facing problem with account data (message in Chinese)."""


@dataclass
class AuthContext:
    user: UserAccount
    session_row: UserSession


def hash_password(password: str) -> str:
    with _hash_slots:
        return _hasher.hash(password)


def _verify(password: str, password_hash: str) -> tuple[bool, str | None]:
    with _hash_slots:
        return _hasher.verify_and_update(password, password_hash)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(*, session: Session, username: str, password: str, role: str, display_name: str | None = None,
                org_unit_id: int | None = None, actor: UserAccount | None = None) -> UserAccount:
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise UserError("用户名须为 3–64 位字母、数字、下划线、点或连字符")
    if role not in Role.__members__:
        raise UserError(f"未知角色：{role}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 位")
    if session.exec(select(UserAccount).where(UserAccount.username == username)).first():
        raise UserError(f"用户名 {username} 已存在")
    user = UserAccount(username=username, display_name=(display_name or username).strip()[:64],
                       password_hash=hash_password(password), role=role, org_unit_id=org_unit_id)
    session.add(user)
    session.flush()
    record_audit(session=session, action="user.create", actor=actor, object_type="user", object_id=user.id,
                 detail={"username": username, "role": role})
    session.commit()
    return user


def set_password(*, session: Session, user: UserAccount, password: str, actor: UserAccount | None = None) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 位")
    user.password_hash = hash_password(password)
    session.add(user)
    _revoke_all(session=session, user_id=user.id)
    record_audit(session=session, action="user.password_set", actor=actor, object_type="user", object_id=user.id)
    session.commit()


def set_active(*, session: Session, user: UserAccount, active: bool, actor: UserAccount | None = None) -> None:
    user.is_active = active
    session.add(user)
    if not active:  # disabling an account ends its sessions at once
        _revoke_all(session=session, user_id=user.id)
    record_audit(session=session, action="user.enable" if active else "user.disable", actor=actor,
                 object_type="user", object_id=user.id)
    session.commit()


def _revoke_all(*, session: Session, user_id: int | None) -> None:
    now = utcnow()
    for row in session.exec(select(UserSession).where(UserSession.user_id == user_id,
                                                      UserSession.revoked_at.is_(None))):
        row.revoked_at = now
        session.add(row)


def authenticate(*, session: Session, username: str, password: str) -> UserAccount | None:
    """The same answer (None) for an unknown user and a wrong password; both are audited."""
    user = session.exec(select(UserAccount).where(UserAccount.username == username.strip())).first()
    if user is None or not user.is_active:
        _verify(password, _DUMMY_HASH)
        record_audit(session=session, action="auth.login_failed", detail={"username": username[:64]})
        session.commit()
        return None
    ok, new_hash = _verify(password, user.password_hash)
    if not ok:
        record_audit(session=session, action="auth.login_failed", object_type="user", object_id=user.id,
                     detail={"username": user.username})
        session.commit()
        return None
    if new_hash:
        user.password_hash = new_hash
    user.last_login_at = utcnow()
    session.add(user)
    session.commit()
    return user


def start_session(*, session: Session, user: UserAccount, settings: Settings) -> str:
    """A fresh token at every login (no fixation); returns the cookie value, stores only its digest."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(UserSession(token_hash=token_digest(token), user_id=user.id, csrf_secret=secrets.token_urlsafe(32),
                            created_at=now, last_seen_at=now,
                            expires_at=now + timedelta(hours=settings.session_absolute_hours)))
    record_audit(session=session, action="auth.login", actor=user, object_type="user", object_id=user.id)
    session.commit()
    return token


def load_session(*, session: Session, token: str, settings: Settings) -> AuthContext | None:
    row = session.exec(select(UserSession).where(UserSession.token_hash == token_digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    idle = timedelta(minutes=settings.session_idle_minutes)
    if now >= row.expires_at or now - row.last_seen_at > idle:
        return None
    user = session.get(UserAccount, row.user_id)
    if user is None or not user.is_active:
        return None
    if now - row.last_seen_at > timedelta(seconds=60):  # one write a minute at most, not one per request
        row.last_seen_at = now
        session.add(row)
        session.commit()
    return AuthContext(user=user, session_row=row)


def end_session(*, session: Session, ctx: AuthContext) -> None:
    ctx.session_row.revoked_at = utcnow()
    session.add(ctx.session_row)
    record_audit(session=session, action="auth.logout", actor=ctx.user, object_type="user", object_id=ctx.user.id)
    session.commit()


def list_users(*, session: Session) -> list[UserAccount]:
    return list(session.exec(select(UserAccount).order_by(UserAccount.role, UserAccount.username)))
