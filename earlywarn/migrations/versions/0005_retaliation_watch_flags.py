"""retaliation watch: protected flags for claimants whose attendance stopped or who left unpaid

A new table only; existing cases are watched from the next daily run.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 13:59:43.882838
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate renders AutoString)
from alembic import op

import earlywarn.db  # noqa: F401  (UTCDateTime)

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('retaliation_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('owed_fen', sa.BigInteger(), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('raised_at', earlywarn.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handled_at', earlywarn.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('handled_by', sa.Integer(), nullable=True),
    sa.Column('handled_note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['mediation_case.id'], name=op.f('fk_retaliation_flag_case_id_mediation_case')),
    sa.ForeignKeyConstraint(['handled_by'], ['user_account.id'], name=op.f('fk_retaliation_flag_handled_by_user_account')),
    sa.ForeignKeyConstraint(['party_id'], ['case_party.id'], name=op.f('fk_retaliation_flag_party_id_case_party')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retaliation_flag')),
    sa.UniqueConstraint('case_id', 'party_id', 'kind', name=op.f('uq_retaliation_flag_case_id_party_id_kind'))
    )
    with op.batch_alter_table('retaliation_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retaliation_flag_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('retaliation_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retaliation_flag_case_id'))

    op.drop_table('retaliation_flag')
