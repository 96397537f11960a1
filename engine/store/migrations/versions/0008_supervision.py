"""supervision outputs (监督意见书 / 监督通知书, 行政执法监督条例) and their rectification steps, append-only

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'supervision_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column('agency', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('case_ids', sa.Text(), nullable=False),
        sa.Column('rule_ids', sa.Text(), nullable=False),
        sa.Column('problem', sa.Text(), nullable=False),
        sa.Column('basis', sa.Text(), nullable=False),
        sa.Column('requirement', sa.Text(), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=False),
        sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('proof', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('number'),
    )
    with op.batch_alter_table('supervision_notices', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_notices_agency', ['agency'], unique=False)
    op.create_table(
        'supervision_steps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('notice_pk', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=True),
        sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('proof', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['notice_pk'], ['supervision_notices.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('notice_pk', 'seq', name='uq_supervision_steps_notice_seq'),
    )
    with op.batch_alter_table('supervision_steps', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_steps_notice_pk', ['notice_pk'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('supervision_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_steps_notice_pk')
    op.drop_table('supervision_steps')
    with op.batch_alter_table('supervision_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_notices_agency')
    op.drop_table('supervision_notices')
