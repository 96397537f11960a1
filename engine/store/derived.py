"""Rows derived from the stored cases, rebuilt where a store lacks them (a migration's back-fill).

A store created at revision 0001 has no ``deadlines`` rows (the table came with 0002, empty), so
``alerts --db`` would say "nothing due" where its own files give overdue deadlines. Revision 0004 fills
them from the stored events, exactly as an import computes them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from .tables import CaseRow, DeadlineRow, EventRow

__all__ = ["backfill_deadlines"]


def backfill_deadlines(conn: Connection, chunk: int = 2000) -> int:
    """Compute the deadline rows of every stored case when the store has none; returns how many were written."""
    cases = conn.execute(select(func.count()).select_from(CaseRow.__table__)).scalar_one()
    have = conn.execute(select(func.count()).select_from(DeadlineRow.__table__)).scalar_one()
    if not cases or have:
        return 0
    from ..loader import validate_case
    from .deadlines import deadline_rows_for
    from .repo import _as_stored

    ctx = _context()
    c, e = CaseRow.__table__.c, EventRow.__table__.c
    written, last = 0, 0
    while True:
        rows = conn.execute(select(c.id, c.agency, c.case_id, c.header).where(c.id > last).order_by(c.id)
                            .limit(chunk)).all()
        if not rows:
            return written
        items: dict[int, list[Any]] = {}
        for pk, seq, payload, corrects in conn.execute(
                select(e.case_pk, e.seq, e.payload, e.corrects)
                .where(e.case_pk >= rows[0].id, e.case_pk <= rows[-1].id).order_by(e.case_pk, e.seq)):
            items.setdefault(pk, []).append((seq, payload, corrects))
        out = []
        for pk, agency, case_id, header in rows:
            case, _ = validate_case(_as_stored(header, items.get(pk, [])), f"db:{agency}/{case_id}")
            if case is not None:
                out.extend(dict(r, case_pk=pk) for r in deadline_rows_for(case, ctx))
        if out:
            conn.execute(insert(DeadlineRow.__table__), out)
            written += len(out)
        last = rows[-1].id


def _context() -> Any:
    import datetime as dt

    from ..calendar import default_calendar
    from ..facts import FactContext
    from ..profile import load_profile
    from ..workflow import default_workflows

    return FactContext(default_calendar(), dt.date.today(), load_profile(), default_workflows())
