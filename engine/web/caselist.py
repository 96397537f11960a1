"""The case list over a million stored cases: scoped filters, keyset pages and bounded counts.

- Pages are keyset pages on the case row id, newest first: "next" is ``after=<last id shown>``, "previous"
  is ``before=<first id shown>``, "last" reads the oldest rows backwards; none of them costs more on page
  20,000 than on page 1. A page number typed or linked directly (``page=N``, N ≤ ``MAX_JUMP``) is an
  OFFSET on the same index order, so its cost is bounded by ``MAX_JUMP`` pages.
- Counts are exact up to ``COUNT_CAP`` and otherwise said as "10,000+" (a capped count: the query stops
  at the cap), never a scan of a million rows per request and never a guessed figure.
- "Has findings" is the case's last check on its current state (``engine.store.case_checks``).
- Every query goes through ``service.scoped``: the user's agencies, whatever the filters say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select as sa_select
from sqlmodel import select

from ..store.case_checks import has_findings
from ..store.tables import CaseRow, EventRow, OfficerRow, PartyRow

COUNT_CAP = 10_000
MAX_JUMP = 200


@dataclass
class Count:
    value: int
    exact: bool

    def __str__(self) -> str:
        return f"{self.value:,}" if self.exact else f"{COUNT_CAP:,}+"


@dataclass
class Cursor:
    """Which page: the first (nothing set), older than ``after``, newer than ``before``, page ``page``
    (OFFSET, 1 ≤ page ≤ MAX_JUMP) or the ``last``. ``number``: the page's number when it is known."""

    after: int | None = None
    before: int | None = None
    page: int | None = None
    last: bool = False
    number: int | None = 1


def filtered(query: Any, user: Any, flt: Any) -> Any:
    """``query`` (over ``CaseRow``) with the user's scope and the filter's conditions."""
    from .service import scoped

    query = scoped(query, user)
    if flt.agency:
        query = query.where(CaseRow.agency == flt.agency)
    if flt.procedure:
        query = query.where(CaseRow.procedure == flt.procedure)
    if flt.state:
        query = query.where(CaseRow.state == flt.state)
    if flt.matter:
        query = query.where(CaseRow.matter_code == flt.matter)
    if flt.q:
        query = query.where(CaseRow.case_id.startswith(flt.q, autoescape=True))
    if flt.officer:
        query = query.where(exists().where(OfficerRow.case_pk == CaseRow.id, OfficerRow.officer_id == flt.officer))
    if flt.date_from or flt.date_to:
        cond = [EventRow.case_pk == CaseRow.id]
        if flt.date_from:
            cond.append(EventRow.date >= flt.date_from)
        if flt.date_to:
            cond.append(EventRow.date <= flt.date_to)
        query = query.where(exists().where(and_(*cond)))
    if flt.findings:
        query = query.where(has_findings(CaseRow.id, CaseRow.updated_at))
    return query


def capped_count(session: Any, user: Any, flt: Any) -> Count:
    inner = filtered(sa_select(CaseRow.id), user, flt).limit(COUNT_CAP + 1).subquery()
    n = session.execute(sa_select(func.count()).select_from(inner)).scalar_one()
    return Count(min(n, COUNT_CAP), n <= COUNT_CAP)


def page_rows(session: Any, user: Any, flt: Any, cursor: Cursor, limit: int,
              total: Count | None = None) -> tuple[list[tuple], bool, bool, int | None]:
    """(rows newest first, has a newer page, has an older page, the page's number if known)."""
    query = filtered(select(CaseRow.id, CaseRow.case_id, CaseRow.agency, CaseRow.procedure, CaseRow.state,
                            CaseRow.matter_code, PartyRow.name, CaseRow.event_count, CaseRow.updated_at)
                     .outerjoin(PartyRow, PartyRow.id == CaseRow.party_id), user, flt)
    if cursor.last:
        size = limit
        number = None
        if total is not None and total.exact:
            pages = max(1, -(-total.value // limit))
            size, number = total.value - (pages - 1) * limit or limit, pages
        rows = list(session.exec(query.order_by(CaseRow.id.asc()).limit(size + 1)).all())
        newer = len(rows) > size
        return list(reversed(rows[:size])), newer, False, number
    if cursor.before is not None:
        rows = list(session.exec(query.where(CaseRow.id > cursor.before).order_by(CaseRow.id.asc())
                                 .limit(limit + 1)).all())
        newer = len(rows) > limit
        return list(reversed(rows[:limit])), newer, True, cursor.number
    if cursor.after is not None:
        query = query.where(CaseRow.id < cursor.after)
    elif cursor.page and cursor.page > 1:
        query = query.offset((min(cursor.page, MAX_JUMP) - 1) * limit)
    rows = list(session.exec(query.order_by(CaseRow.id.desc()).limit(limit + 1)).all())
    newer = cursor.after is not None or bool(cursor.page and cursor.page > 1)
    number = min(cursor.page, MAX_JUMP) if cursor.page else cursor.number
    return rows[:limit], newer, len(rows) > limit, number
