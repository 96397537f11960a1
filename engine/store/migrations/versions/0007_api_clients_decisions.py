"""the HTTP API: platform clients (hashed tokens, agency scope, read/write, expiry) and the decision log

Revision ID: 0007
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_clients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('agencies', sa.Text(), nullable=False),
        sa.Column('can_write', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_table(
        'decisions',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('client', sa.String(length=120), nullable=False),
        sa.Column('officer', sa.String(length=120), nullable=True),
        sa.Column('agency', sa.String(length=120), nullable=True),
        sa.Column('case_id', sa.String(length=1000), nullable=True),
        sa.Column('input_sha256', sa.String(length=64), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('rule_ids', sa.Text(), nullable=False),
        sa.Column('event_seq', sa.Integer(), nullable=True),
        sa.Column('as_of', sa.Date(), nullable=True),
        sa.Column('lang', sa.String(length=5), nullable=False),
        sa.Column('engine_version', sa.String(length=40), nullable=False),
        sa.Column('rules_version', sa.String(length=64), nullable=False),
        sa.Column('calendar_years', sa.String(length=40), nullable=False),
        sa.Column('input', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_decisions_at', 'decisions', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_decisions_at', table_name='decisions')
    op.drop_table('decisions')
    op.drop_table('api_clients')
