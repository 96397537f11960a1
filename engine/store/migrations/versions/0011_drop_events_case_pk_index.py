"""events: drop the index on case_pk alone, which the unique index (case_pk, seq) already covers

Every read of the events by case (``case_pk = ?``, ranges of case_pk, ``ORDER BY case_pk, seq``) is served
by ``uq_events_case_seq`` (or ``ix_events_case_date``, whose first column is case_pk too). On a copy of a
million-case store PostgreSQL chose the narrower index for ``verify``'s ranges and then sorted the events;
without it, it read them in index order with no sort. Every stored event now updates one index fewer.

Revision ID: 0011
Revises: 0010
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_events_case_pk', table_name='events')


def downgrade() -> None:
    op.create_index('ix_events_case_pk', 'events', ['case_pk'])
