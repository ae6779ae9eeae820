"""worker-month summary: the payroll side beside attendance

attendance_month gains the payroll of each worker-month (paid, payments, by channel, the last pay date) and
rows for months with payments but no attendance, so the wage check reads settled worker-months as they are.
The summary is derived data: it is rebuilt here from attendance, the roster and the payroll.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 16:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SUMS = ('paid_fen', 'paid_cash_fen', 'paid_team_leader_fen', 'paid_outside_special_account_fen')
_COUNTS = ('payments', 'payments_outside_special_account', 'payments_without_channel')


def upgrade() -> None:
    # Derived data: emptied, reshaped, then rebuilt from attendance, the roster and the payroll.
    op.execute("DELETE FROM attendance_month")
    with op.batch_alter_table('attendance_month', schema=None) as batch_op:
        for name in _SUMS:
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=False))
        for name in _COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('last_pay_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_data_day', sa.Date(), nullable=False))
        batch_op.alter_column('first_day', existing_type=sa.Date(), nullable=True)
        batch_op.alter_column('last_day', existing_type=sa.Date(), nullable=True)
        batch_op.create_index(batch_op.f('ix_attendance_month_last_data_day'), ['last_data_day'], unique=False)
    # The figures of balances.refresh_month_summary, in one statement frozen here as they stand at this revision.
    ym = ("strftime('%Y-%m', a.work_date)" if op.get_bind().dialect.name == "sqlite"
          else "to_char(a.work_date, 'YYYY-MM')")
    op.execute(
        "INSERT INTO attendance_month (project_id, worker_id, period, earned_x800, days, paid_fen, payments, "
        "paid_cash_fen, paid_team_leader_fen, paid_outside_special_account_fen, payments_outside_special_account, "
        "payments_without_channel, first_day, last_day, last_pay_date, last_data_day) "
        "SELECT project_id, worker_id, period, SUM(x800), SUM(days), SUM(paid), SUM(n), SUM(cash), SUM(leader), "
        "SUM(outside), SUM(outside_n), SUM(no_channel), MIN(first_day), MAX(last_day), MAX(last_pay), "
        "CASE WHEN MAX(last_day) IS NULL OR MAX(last_pay) > MAX(last_day) THEN MAX(last_pay) ELSE MAX(last_day) END "
        "FROM ("
        f"SELECT a.project_id, a.worker_id, {ym} AS period, SUM(r.daily_wage_fen * a.hours_centi) AS x800, "
        "COUNT(*) AS days, 0 AS paid, 0 AS n, 0 AS cash, 0 AS leader, 0 AS outside, 0 AS outside_n, "
        "0 AS no_channel, MIN(a.work_date) AS first_day, MAX(a.work_date) AS last_day, "
        "CAST(NULL AS DATE) AS last_pay FROM attendance a JOIN roster_entry r "
        f"ON r.project_id = a.project_id AND r.worker_id = a.worker_id GROUP BY a.project_id, a.worker_id, {ym} "
        "UNION ALL "
        "SELECT project_id, worker_id, period, 0, 0, SUM(amount_paid_fen), COUNT(*), "
        "SUM(CASE WHEN channel IN ('cash') THEN amount_paid_fen ELSE 0 END), "
        "SUM(CASE WHEN channel IN ('team_leader') THEN amount_paid_fen ELSE 0 END), "
        "SUM(CASE WHEN channel = 'special_account' THEN 0 ELSE amount_paid_fen END), "
        "SUM(CASE WHEN channel = 'special_account' THEN 0 ELSE 1 END), "
        "SUM(CASE WHEN channel IS NULL THEN 1 ELSE 0 END), CAST(NULL AS DATE), CAST(NULL AS DATE), MAX(pay_date) "
        "FROM payroll_payment GROUP BY project_id, worker_id, period"
        ") AS u GROUP BY project_id, worker_id, period"
    )


def downgrade() -> None:
    op.execute("DELETE FROM attendance_month WHERE days = 0")
    with op.batch_alter_table('attendance_month', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_month_last_data_day'))
        batch_op.alter_column('last_day', existing_type=sa.Date(), nullable=False)
        batch_op.alter_column('first_day', existing_type=sa.Date(), nullable=False)
        for name in ('last_data_day', 'last_pay_date', *_SUMS, *_COUNTS):
            batch_op.drop_column(name)
