"""the web workspace: users, server-side sessions, login attempts, calendar-feed tokens, review
adjustments; indexes for the case list's keyset paging (agency, id) and its state filter (agency, state, id)

Revision ID: 0006
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('login', sa.String(length=60), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('password_hash', sa.String(length=200), nullable=False),
        sa.Column('roles', sa.String(length=200), nullable=False),
        sa.Column('agencies', sa.String(length=1000), nullable=False),
        sa.Column('district', sa.String(length=60), nullable=True),
        sa.Column('officer_id', sa.String(length=120), nullable=True),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_users_login', 'users', ['login'], unique=True)
    op.create_table(
        'web_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'])
    op.create_index('ix_web_sessions_expires_at', 'web_sessions', ['expires_at'])
    op.create_table(
        'login_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('login', sa.String(length=60), nullable=False),
        sa.Column('address', sa.String(length=60), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_attempts_login_at', 'login_attempts', ['login', 'at'])
    op.create_index('ix_login_attempts_address_at', 'login_attempts', ['address', 'at'])
    op.create_table(
        'feed_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_feed_tokens_user_id', 'feed_tokens', ['user_id'])
    op.create_index('ix_feed_tokens_token_hash', 'feed_tokens', ['token_hash'], unique=True)
    op.create_index('ix_cases_agency_id', 'cases', ['agency', 'id'])
    op.create_index('ix_cases_agency_state_id', 'cases', ['agency', 'state', 'id'])


def downgrade() -> None:
    op.drop_index('ix_cases_agency_state_id', table_name='cases')
    op.drop_index('ix_cases_agency_id', table_name='cases')
    op.drop_table('feed_tokens')
    op.drop_table('login_attempts')
    op.drop_table('web_sessions')
    op.drop_table('users')
