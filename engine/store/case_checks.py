"""Each stored case's last check, for the case list's "has findings" filter (issue 21).

A row says: case ``case_pk`` was judged by check run ``run_id`` as of ``as_of`` and ``findings`` findings
were found; ``checked_at`` is when that run was kept. The row holds for the case only while the case has
not changed since (``checked_at >= cases.updated_at``): every import and recorded step moves
``updated_at``, so a changed case drops out of "has findings" and "no findings" alike until it is checked
again — the filter never answers from a verdict on an older state of the case, and it needs no hook in
the import or the live step.

Derived data: the rows are rebuilt from a kept check run (``note_check_run``, called where a check run is
kept, and by revision 0009's back-fill from the latest whole-store check run). ``recount`` recomputes
what a run's rows must hold from the run's findings, for ``verify``-style comparisons.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from sqlalchemy import Index, delete, func, insert, select
from sqlmodel import Field, SQLModel

__all__ = ["CaseCheckRow", "note_check_run", "has_findings", "recount"]


class CaseCheckRow(SQLModel, table=True):
    __tablename__ = "case_checks"
    __table_args__ = (Index("ix_case_checks_run_id", "run_id"),)

    case_pk: int = Field(primary_key=True, foreign_key="cases.id")
    run_id: int = Field(foreign_key="runs.id")
    as_of: dt.date
    checked_at: dt.datetime
    findings: int = 0


def note_check_run(session: Any, run_id: int, checked_at: dt.datetime, as_of: dt.date,
                   judged: Iterable[tuple[str, str, int]], chunk: int = 500) -> int:
    """Keep, for every case a check run judged — ``(agency, case_id, number of findings)`` — its verdict
    (replacing the case's earlier one). Cases the run could not judge (a problem, an engine failure) are
    not passed and keep their earlier row, which holds only while the case is unchanged. Returns the
    number of rows written."""
    from .tables import CaseRow

    table = CaseCheckRow.__table__
    items = list(judged)
    written = 0
    for start in range(0, len(items), chunk):
        part = items[start:start + chunk]
        counts = {(agency, case_id): n for agency, case_id, n in part}
        ids = {(agency, case_id): pk for pk, agency, case_id in session.execute(
            select(CaseRow.id, CaseRow.agency, CaseRow.case_id).where(CaseRow.case_id.in_(sorted({c for _, c in counts}))))}
        rows = [{"case_pk": ids[key], "run_id": run_id, "as_of": as_of, "checked_at": checked_at, "findings": n}
                for key, n in counts.items() if key in ids]
        if rows:
            session.execute(delete(table).where(table.c.case_pk.in_([r["case_pk"] for r in rows])),
                            execution_options={"synchronize_session": False})
            session.execute(insert(table), rows)
            written += len(rows)
    return written


def has_findings(case_id_column: Any, updated_at_column: Any) -> Any:
    """The condition "the case's last check, made on its current state, found something": a scalar
    subquery on the primary key, probed per case as the list walks its index (a semi-join would hash the
    whole table for one page)."""
    t = CaseCheckRow.__table__.c
    return select(t.findings).where(t.case_pk == case_id_column, t.checked_at >= updated_at_column) \
        .scalar_subquery() > 0


def recount(session: Any, run_id: int) -> dict[int, int]:
    """case_pk → findings of the run, from the run's finding rows (the rows with findings > 0 must match)."""
    from .tables import FindingRow

    return dict(session.execute(select(FindingRow.case_pk, func.count()).where(FindingRow.run_id == run_id)
                                .group_by(FindingRow.case_pk)).all())


def _mirror_indexes() -> None:
    """Revision 0009's indexes on the case tables, declared on the models too (the migration creates them)."""
    from .tables import CaseRow, EventRow, OfficerRow

    c, e, o = CaseRow.__table__.c, EventRow.__table__.c, OfficerRow.__table__.c
    for name, cols in (("ix_cases_agency_procedure_id", (c.agency, c.procedure, c.id)),
                       ("ix_cases_agency_matter_id", (c.agency, c.matter_code, c.id)),
                       ("ix_cases_agency_id_updated", (c.agency, c.id, c.updated_at)),
                       ("ix_cases_id_agency", (c.id, c.agency)),
                       ("ix_officers_officer_case", (o.officer_id, o.case_pk)),
                       ("ix_events_date_case", (e.date, e.case_pk)),
                       ("ix_events_case_date", (e.case_pk, e.date))):   # (+ ix_deadlines_window: PostgreSQL only)
        if not any(ix.name == name for ix in cols[0].table.indexes):
            Index(name, *cols)


_mirror_indexes()
