"""append-only cases and the keyed trail: how each event's author was established (proof), corrections
(corrects), signed checkpoints; back-fills the derived deadlines of stores that have none (revision 0001)

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proof', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('corrects', sa.Integer(), nullable=True))
    op.create_table('checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('root', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('leaves', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.create_index('ix_checkpoints_seq', ['seq'], unique=True)
    from engine.store.derived import backfill_deadlines

    backfill_deadlines(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.drop_index('ix_checkpoints_seq')
    op.drop_table('checkpoints')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('corrects')
        batch_op.drop_column('proof')
