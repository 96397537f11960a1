"""The case list over a million stored cases: scoped filters, keyset pages and bounded counts.

- Pages are keyset pages on the case row id, newest first: "next" is ``after=<last id shown>``, "previous"
  is ``before=<first id shown>``, "last" reads the oldest rows backwards; none of them costs more on page
  20,000 than on page 1. A page number typed or linked directly (``page=N``, N ≤ ``MAX_JUMP``) is an
  OFFSET on the same index order, so its cost is bounded by ``MAX_JUMP`` pages.
- Counts are exact up to ``COUNT_CAP`` and otherwise said as "10,000+" (a capped count: the query stops
  at the cap), never a scan of a million rows per request and never a guessed figure. A filter that looks
  into each case's other rows (officer, step dates, findings) looks into at most the ``SCAN_CAP`` newest
  candidates for the count: exact when the candidates end before that, else "at least N" ("N+").
- "Has findings" is the case's last check on its current state (``engine.store.case_checks``).
- Every query goes through ``service.scoped``: the user's agencies, whatever the filters say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select as sa_select, text
from sqlmodel import select

from ..store.case_checks import has_findings
from ..store.tables import CaseRow, EventRow, OfficerRow, PartyRow

COUNT_CAP = 10_000
SCAN_CAP = 5_000       # candidate cases whose other rows a count looks into
MAX_JUMP = 200


@dataclass
class Count:
    value: int
    exact: bool

    def __str__(self) -> str:
        return f"{self.value:,}" if self.exact else f"{self.value:,}+"


def costly(flt: Any) -> bool:
    """Does the filter look into other rows of each case (officer, step dates, findings)?"""
    return bool(flt.officer or flt.person or flt.date_from or flt.date_to or flt.findings)


def officer_is(person: tuple[Any, Any, Any], case_pk: Any) -> Any:
    """The case has an officer who is ``person`` (officer id, name, certificate number): by the certificate
    when the person has one (a case's officer ids are its own codes), else by id and name
    (``users.acting_officer`` decides the same way for a step)."""
    from ..persons import certificate_key
    from ..users import _name_key

    officer_id, name, certificate = person
    if certificate:                   # the stored key: NFKC, spaces and case as acting_officer compares them
        return exists().where(OfficerRow.case_pk == case_pk, OfficerRow.certificate_key == certificate_key(certificate))
    return exists().where(OfficerRow.case_pk == case_pk, OfficerRow.officer_id == officer_id,
                          func.replace(OfficerRow.name, " ", "") == _name_key(name))


def fast_reads(session: Any) -> None:
    """On PostgreSQL, for this transaction: no JIT compilation (the list's and the dashboard's queries are
    short index walks whose estimated cost over a million rows would otherwise buy 20–30 ms of JIT
    compilation per statement), and index probes costed as what they are on a store whose indexes are
    in memory (``random_page_cost`` 1.1, the usual setting for SSDs): a filter that looks into each
    candidate case's rows probes them by index instead of hashing a whole table."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL random_page_cost = 1.1"))


@dataclass
class Cursor:
    """Which page: the first (nothing set), older than ``after``, newer than ``before``, page ``page``
    (OFFSET, 1 ≤ page ≤ MAX_JUMP) or the ``last``. ``number``: the page's number when it is known."""

    after: int | None = None
    before: int | None = None
    page: int | None = None
    last: bool = False
    number: int | None = 1


def filtered(query: Any, user: Any, flt: Any, *, with_costly: bool = True) -> Any:
    """``query`` (over ``CaseRow``) with the user's scope and the filter's conditions (``with_costly``:
    also those that look into each case's other rows)."""
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
    if with_costly:
        for cond in costly_conditions(flt, CaseRow.id, CaseRow.updated_at):
            query = query.where(cond)
    return query


def costly_conditions(flt: Any, case_pk: Any, updated_at: Any) -> list[Any]:
    out = []
    if flt.officer:
        out.append(exists().where(OfficerRow.case_pk == case_pk, OfficerRow.officer_id == flt.officer))
    if flt.person:
        out.append(officer_is(flt.person, case_pk))
    if flt.date_from or flt.date_to:
        cond = [EventRow.case_pk == case_pk]
        if flt.date_from:
            cond.append(EventRow.date >= flt.date_from)
        if flt.date_to:
            cond.append(EventRow.date <= flt.date_to)
        out.append(exists().where(and_(*cond)))
    if flt.findings:
        out.append(has_findings(case_pk, updated_at))
    return out


def capped_count(session: Any, user: Any, flt: Any) -> Count:
    """Exact up to ``COUNT_CAP`` on the indexed columns, else "10,000+". With a filter that looks into
    each case's other rows, those rows are looked into for at most the ``SCAN_CAP`` newest candidate
    cases: exact when the candidates end before that, else "at least N" (N found among them)."""
    if not costly(flt):
        inner = filtered(sa_select(CaseRow.id), user, flt).limit(COUNT_CAP + 1).subquery()
        n = session.execute(sa_select(func.count()).select_from(inner)).scalar_one()
        return Count(min(n, COUNT_CAP), n <= COUNT_CAP)
    from sqlalchemy import case as when

    cand = filtered(sa_select(CaseRow.id, CaseRow.updated_at), user, flt, with_costly=False) \
        .order_by(CaseRow.id.desc()).limit(SCAN_CAP).subquery()
    matches = func.sum(when((and_(*costly_conditions(flt, cand.c.id, cand.c.updated_at)), 1), else_=0))
    scanned, found = session.execute(sa_select(func.count(), matches).select_from(cand)).one()
    return Count(int(found or 0), scanned < SCAN_CAP)


def page_rows(session: Any, user: Any, flt: Any, cursor: Cursor, limit: int,
              total: Count | None = None) -> tuple[list[tuple], bool, bool, int | None]:
    """(rows newest first, has a newer page, has an older page, the page's number if known)."""
    # the page's ids first (an index walk that reads no wide row), then those rows with their party
    query = filtered(sa_select(CaseRow.id), user, flt)
    if cursor.last:
        size = limit
        number = None
        if total is not None and total.exact:
            pages = max(1, -(-total.value // limit))
            size, number = total.value - (pages - 1) * limit or limit, pages
        ids = _ids(session, query.order_by(CaseRow.id.asc()).limit(size + 1))
        newer = len(ids) > size
        return _rows(session, ids[:size]), newer, False, number
    if cursor.before is not None:
        ids = _ids(session, query.where(CaseRow.id > cursor.before).order_by(CaseRow.id.asc()).limit(limit + 1))
        newer = len(ids) > limit
        return _rows(session, ids[:limit]), newer, True, cursor.number
    if cursor.after is not None:
        query = query.where(CaseRow.id < cursor.after)
    elif cursor.page and cursor.page > 1:
        query = query.offset((min(cursor.page, MAX_JUMP) - 1) * limit)
    ids = _ids(session, query.order_by(CaseRow.id.desc()).limit(limit + 1))
    newer = cursor.after is not None or bool(cursor.page and cursor.page > 1)
    number = min(cursor.page, MAX_JUMP) if cursor.page else cursor.number
    return _rows(session, ids[:limit]), newer, len(ids) > limit, number


def _ids(session: Any, query: Any) -> list[int]:
    return [pk for (pk,) in session.execute(query)]


def _rows(session: Any, ids: list[int]) -> list[tuple]:
    """The list's columns of these cases, newest first (the ids are already in the user's scope)."""
    if not ids:
        return []
    rows = session.exec(select(CaseRow.id, CaseRow.case_id, CaseRow.agency, CaseRow.procedure, CaseRow.state,
                               CaseRow.matter_code, PartyRow.name, CaseRow.event_count, CaseRow.updated_at)
                        .outerjoin(PartyRow, PartyRow.id == CaseRow.party_id).where(CaseRow.id.in_(ids))).all()
    return sorted(rows, key=lambda r: r[0], reverse=True)


def agency_figures(session: Any, user: Any, day: Any, soon: Any) -> dict[str, dict[str, Any]]:
    """Per agency of the user's scope: its cases (a capped count, exact up to 10,000), its open deadlines
    overdue on ``day`` (red) and due from ``day`` to ``soon`` (yellow) — the open deadlines in the window
    are one indexed range (``ix_deadlines_open_due``), counted in one pass."""
    from sqlalchemy import case as when, literal

    from ..store.tables import DeadlineRow
    from .service import scoped

    fast_reads(session)
    agencies = sorted(user.agencies)
    out: dict[str, dict[str, Any]] = {a: {"cases": Count(0, True), "red": 0, "yellow": 0} for a in agencies}
    if not agencies:
        return out
    parts = [sa_select(literal(a).label("agency"), sa_select(func.count()).select_from(
        sa_select(CaseRow.id).where(CaseRow.agency == a).limit(COUNT_CAP + 1).subquery()).scalar_subquery()
        .label("n")) for a in agencies]
    from sqlalchemy import union_all

    for agency, n in session.execute(union_all(*parts)):
        out[agency]["cases"] = Count(min(n, COUNT_CAP), n <= COUNT_CAP)
    red = func.sum(when((DeadlineRow.due < day, 1), else_=0))
    yellow = func.sum(when((DeadlineRow.due >= day, 1), else_=0))
    query = scoped(sa_select(CaseRow.agency, red, yellow).select_from(DeadlineRow)
                   .join(CaseRow, CaseRow.id == DeadlineRow.case_pk)
                   .where(DeadlineRow.open_until > day, DeadlineRow.start <= day, DeadlineRow.due <= soon), user)
    for agency, r, y in session.execute(query.group_by(CaseRow.agency)):
        out[agency]["red"], out[agency]["yellow"] = int(r or 0), int(y or 0)
    return out
