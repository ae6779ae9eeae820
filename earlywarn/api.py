"""JSON API under /api. Thin routes; the OpenAPI document is served at /docs."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import text

from earlywarn import __version__
from earlywarn.deps import CurrentUser, SessionDep, load_auth, verify_csrf_header

router = APIRouter(prefix="/api", dependencies=[Depends(load_auth), Depends(verify_csrf_header)])


class HealthPublic(BaseModel):
    status: str
    version: str
    database: str


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str
    role: str


@router.get("/health", response_model=HealthPublic)
def health(session: SessionDep) -> HealthPublic:
    session.execute(text("SELECT 1"))
    return HealthPublic(status="ok", version=__version__, database=session.get_bind().dialect.name)


@router.get("/me", response_model=UserPublic, responses={401: {"description": "请先登录 (login required)"}})
def me(user: CurrentUser) -> UserPublic:
    return UserPublic(id=user.id, username=user.username, display_name=user.display_name, role=user.role)
