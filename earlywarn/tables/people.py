"""Organisations and people: the union's organisation tree, mediation organisations, user accounts and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from earlywarn.tables._fields import _now, _ts


class OrgUnit(SQLModel, table=True):
    """A node of the union tree: county federation → township/street unions → grassroots; industry unions."""

    __tablename__ = "org_unit"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    kind: str = Field(max_length=32)
    parent_id: int | None = Field(default=None, foreign_key="org_unit.id", index=True)
    township: str | None = Field(default=None, max_length=32, index=True)


class MediationOrg(SQLModel, table=True):
    """A mediation organisation (调解委员会/调解中心) attached to an org unit."""

    __tablename__ = "mediation_org"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    org_unit_id: int = Field(foreign_key="org_unit.id", index=True)


class UserAccount(SQLModel, table=True):
    __tablename__ = "user_account"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=32, index=True)
    org_unit_id: int | None = Field(default=None, foreign_key="org_unit.id")
    locale: str | None = Field(default=None, max_length=16)
    is_active: bool = True
    created_at: datetime = _now()
    last_login_at: datetime | None = _ts(default=None)


class UserSession(SQLModel, table=True):
    """Server-side session: the cookie carries a random token, the table only its SHA-256."""

    __tablename__ = "user_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    csrf_secret: str = Field(max_length=64)
    created_at: datetime = _now()
    last_seen_at: datetime = _now()
    expires_at: datetime = _ts()
    revoked_at: datetime | None = _ts(default=None)
