"""verify at a million cases: the newest case naming a party found from an index (party_id, id)

``verify`` checks each party row against the newest case naming it: ``max(id) WHERE party_id = ?`` is then
one index probe, however many cases name the party (the index on party_id alone made it read every one).

Revision ID: 0010
Revises: 0009
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_cases_party_id_id', 'cases', ['party_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_cases_party_id_id', table_name='cases')
