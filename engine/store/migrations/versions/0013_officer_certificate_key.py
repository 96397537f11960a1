"""officers: the certificate number as compared (``certificate_key``), for "my cases"

A login's certificate number (执法证号) is compared with a case's officers as ``persons.certificate_key``
compares them: NFKC (full-width digits and punctuation as ASCII), without spaces, upper case. SQL has no
NFKC, so each officer row keeps its certificate's key, written with the row and backfilled here, and "my
cases", "my deadlines" and the calendar feed match it exactly by equality (indexed with the case, like the
officer-id filter). ``verify`` recomputes it from the case header.

Revision ID: 0013
Revises: 0012
"""
import re
import unicodedata

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('officers') as batch_op:
        batch_op.add_column(sa.Column('certificate_key', sa.String(length=120), nullable=True))
    _backfill()
    op.create_index('ix_officers_certkey_case', 'officers', ['certificate_key', 'case_pk'])


def _backfill() -> None:
    """Every officer row with a certificate gets its key, in batches of rows by id (no row read twice)."""
    conn = op.get_bind()
    officers = sa.table('officers', sa.column('id', sa.Integer), sa.column('certificate', sa.String),
                        sa.column('certificate_key', sa.String))
    update = officers.update().where(officers.c.id == sa.bindparam('row_id')) \
        .values(certificate_key=sa.bindparam('key'))
    last = 0
    while True:
        rows = conn.execute(sa.select(officers.c.id, officers.c.certificate)
                            .where(officers.c.id > last, officers.c.certificate.is_not(None))
                            .order_by(officers.c.id).limit(BATCH)).all()
        if not rows:
            return
        values = [{'row_id': pk, 'key': certificate_key(cert) or None} for pk, cert in rows]
        conn.execute(update, values)
        last = rows[-1][0]


def certificate_key(text):
    """``engine.persons.certificate_key`` as of this revision (a migration does not follow later code)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).upper()


def downgrade() -> None:
    op.drop_index('ix_officers_certkey_case', table_name='officers')
    with op.batch_alter_table('officers') as batch_op:
        batch_op.drop_column('certificate_key')
