"""Column helpers and the shared metadata of every table (naming convention for Alembic)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, MetaData
from sqlmodel import Field, SQLModel

from earlywarn.db import UTCDateTime, utcnow

# Stable constraint names make Alembic's batch mode (SQLite table rebuilds) predictable.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _now() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime)


def _fen(**kw: Any) -> Any:
    """Money in integer fen; 64-bit because a contract value passes 2^31 fen (￥21 million)."""
    return Field(sa_type=BigInteger, **kw)


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
