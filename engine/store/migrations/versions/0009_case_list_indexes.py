"""the case list over a million cases: each case's last check (``case_checks``, for "has findings" on the
case's current state) and indexes for the list's filters and the dashboard

Revision ID: 0009
Revises: 0007
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

INDEXES = [
    # (name, table, columns): each serves a filter of the case list, newest first (keyset on id)
    ('ix_cases_agency_procedure_id', 'cases', ['agency', 'procedure', 'id']),
    ('ix_cases_agency_matter_id', 'cases', ['agency', 'matter_code', 'id']),
    ('ix_cases_agency_id_updated', 'cases', ['agency', 'id', 'updated_at']),  # "has findings": no row read
    ('ix_cases_id_agency', 'cases', ['id', 'agency']),         # the dashboard: a deadline's agency, no row read
    ('ix_officers_officer_case', 'officers', ['officer_id', 'case_pk']),      # officer filter, "my cases"
    ('ix_events_date_case', 'events', ['date', 'case_pk']),                  # "a step dated from … to …"
    ('ix_events_case_date', 'events', ['case_pk', 'date']),       # … probed per case when other filters narrow
]


def upgrade() -> None:
    op.create_table(
        'case_checks',
        sa.Column('case_pk', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('findings', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_pk'], ['cases.id']),
        sa.ForeignKeyConstraint(['run_id'], ['runs.id']),
        sa.PrimaryKeyConstraint('case_pk'),
    )
    op.create_index('ix_case_checks_run_id', 'case_checks', ['run_id'])
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    if op.get_bind().dialect.name == 'postgresql':
        # the dashboard's open deadlines in the window read from the index alone (a district's store);
        # SQLite keeps planning the alerts query on ix_deadlines_open_due
        op.create_index('ix_deadlines_window', 'deadlines', ['open_until', 'due'],
                        postgresql_include=['start', 'case_pk'])
    _backfill()


def _backfill() -> None:
    """The latest check run's verdicts, when that run judged the whole store as it then was (its case count
    equals the number of cases unchanged since): every such case gets its row, with or without findings.
    A run over part of the store (or none) leaves the table empty until the next ``check --db``."""
    conn = op.get_bind()
    run = conn.execute(sa.text("SELECT id, started_at, as_of, cases FROM runs WHERE kind = 'check' "
                               "ORDER BY id DESC LIMIT 1")).first()
    if run is None:
        return
    unchanged = conn.execute(sa.text("SELECT count(*) FROM cases WHERE updated_at <= :at"),
                             {"at": run.started_at}).scalar_one()
    if unchanged != run.cases:
        return
    conn.execute(sa.text(
        "INSERT INTO case_checks (case_pk, run_id, as_of, checked_at, findings) "
        "SELECT c.id, :run, :as_of, :at, (SELECT count(*) FROM findings f WHERE f.case_pk = c.id AND f.run_id = :run) "
        "FROM cases c WHERE c.updated_at <= :at"), {"run": run.id, "as_of": run.as_of, "at": run.started_at})


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_deadlines_window', table_name='deadlines')
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index('ix_case_checks_run_id', table_name='case_checks')
    op.drop_table('case_checks')
