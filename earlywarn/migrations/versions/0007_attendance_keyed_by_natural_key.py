"""attendance keyed by its natural key

The surrogate id goes: (project_id, work_date, worker_id) becomes the primary key. On SQLite the table is
rebuilt WITHOUT ROWID, so each attendance row is written to one B-tree instead of two; on PostgreSQL the
unique constraint becomes the primary key and the sequence goes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 18:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ['project_id', 'work_date', 'worker_id']
_COPY = "project_id, work_date, worker_id, hours_centi"


def _rebuild_sqlite(columns: list[sa.Column], *constraints, **kw) -> None:
    op.create_table('attendance_rebuilt', *columns, *constraints, **kw)
    op.execute(f"INSERT INTO attendance_rebuilt ({_COPY}) SELECT {_COPY} FROM attendance")
    op.drop_table('attendance')
    op.rename_table('attendance_rebuilt', 'attendance')


def _data_columns() -> list[sa.Column]:
    return [sa.Column('project_id', sa.Integer(), nullable=False),
            sa.Column('work_date', sa.Date(), nullable=False),
            sa.Column('worker_id', sa.Integer(), nullable=False),
            sa.Column('hours_centi', sa.Integer(), nullable=False)]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(_data_columns(), sa.PrimaryKeyConstraint(*_KEY, name=op.f('pk_attendance')),
                        sqlite_with_rowid=False)
        return
    op.drop_constraint(op.f('uq_attendance_project_id_work_date_worker_id'), 'attendance', type_='unique')
    op.drop_constraint(op.f('pk_attendance'), 'attendance', type_='primary')
    op.drop_column('attendance', 'id')
    op.create_primary_key(op.f('pk_attendance'), 'attendance', _KEY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite([sa.Column('id', sa.Integer(), nullable=False), *_data_columns()],
                        sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
                        sa.UniqueConstraint(*_KEY, name=op.f('uq_attendance_project_id_work_date_worker_id')))
        return
    op.drop_constraint(op.f('pk_attendance'), 'attendance', type_='primary')
    op.add_column('attendance', sa.Column('id', sa.Integer(), sa.Identity(), nullable=False))
    op.create_primary_key(op.f('pk_attendance'), 'attendance', ['id'])
    op.create_unique_constraint(op.f('uq_attendance_project_id_work_date_worker_id'), 'attendance', _KEY)
