"""users: the officer's enforcement certificate number (执法证号), the person a login is

A case file names its officers by codes of its own (O1, O2, R1): the same code is another person in
another file. A login linked to a certificate number records a step as the officer of the case who holds
that certificate, and only on cases where one does; a login without one only where the case's officer of
its code has its name.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('certificate', sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('certificate')
