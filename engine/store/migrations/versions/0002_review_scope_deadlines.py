"""review runs keep their quarter and agency; deadlines table for indexed alerts

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('agency', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.create_index('ix_runs_kind_scope', ['kind', 'scope'], unique=False)
    op.create_table('deadlines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_pk', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('open_until', sa.Date(), nullable=False),
    sa.Column('officers', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['case_pk'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_deadlines_case_pk', ['case_pk'], unique=False)
        batch_op.create_index('ix_deadlines_open_due', ['open_until', 'due'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_open_due')
        batch_op.drop_index('ix_deadlines_case_pk')
    op.drop_table('deadlines')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_kind_scope')
        batch_op.drop_column('agency')
        batch_op.drop_column('scope')
