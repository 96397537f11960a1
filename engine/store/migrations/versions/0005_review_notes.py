"""review_notes: reviewers' adjustments and waivers of findings, kept with the reviews (never rewritten)

Revision ID: 0005
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'review_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency', sa.String(length=120), nullable=True),
        sa.Column('case_id', sa.String(length=120), nullable=False),
        sa.Column('rule_id', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('value', sa.Integer(), nullable=True),
        sa.Column('until', sa.Date(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('by', sa.String(length=120), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('review_notes', schema=None) as batch_op:
        batch_op.create_index('ix_review_notes_case_id', ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('review_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_review_notes_case_id')
    op.drop_table('review_notes')
