"""no foreign keys on payroll_payment and attendance_month

PostgreSQL checks a foreign key with a trigger per row (a look-up and a row lock on the referenced project and
worker): measured on a county's import, 1.0 s of a 1.3 s COPY of 48,000 payments, and 0.8 s of a 1.3 s COPY
of 47,000 worker-month summary rows. ``attendance`` has none for the same reason (see tables/sites.py). Only
the importer writes payments, for workers on the project's roster (whose own foreign keys guarantee both
exist), only the summary code writes attendance_month (from attendance and payments), and nothing deletes
projects or workers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 21:50:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = {'payroll_payment': (('project_id', 'project'), ('worker_id', 'worker')),
         'attendance_month': (('project_id', 'project'), ('worker_id', 'worker'))}


def upgrade() -> None:
    for table, keys in _KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, target in keys:
                batch_op.drop_constraint(batch_op.f(f'fk_{table}_{column}_{target}'), type_='foreignkey')


def downgrade() -> None:
    for table, keys in _KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, target in keys:
                batch_op.create_foreign_key(batch_op.f(f'fk_{table}_{column}_{target}'), target, [column], ['id'])
