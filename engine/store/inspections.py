"""Inspections of businesses as the store holds them (涉企行政检查, issue 19): the party's earlier
inspections for the live yearly-cap guard, and all inspections of a window for repeat-inspection alerts.

Only ``inspected`` events of inspection-procedure cases are read, with the case's agency, id and party
from the indexed case columns; the event's ``kind`` (个案 ones are not counted) from its payload.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlmodel import Session, select

from ..exemptions import PartyHistory, PriorInspection
from .tables import CaseRow, EventRow

__all__ = ["party_inspections", "inspections_between"]


def party_inspections(session: Session, row: CaseRow, history: PartyHistory, upto: list[int | None] | None = None,
                      before: int | None = None) -> PartyHistory:
    """Add to ``history`` the stored inspections of ``row``'s party in its other inspection cases.
    ``upto``/``before``: as ``engine.store.repo.load_with_party``'s (the newest event id read is kept
    in ``upto[0]`` if newer; ``before``: only events with ids up to it, for a decision's replay)."""
    if not row.party_id:
        return history
    query = (select(CaseRow.agency, CaseRow.case_id, EventRow.seq, EventRow.date, EventRow.payload, EventRow.id)
             .join(EventRow, EventRow.case_pk == CaseRow.id)
             .where(CaseRow.party_id == row.party_id, CaseRow.procedure == "inspection", CaseRow.id != row.id,
                    EventRow.type == "inspected"))
    if before is not None:
        query = query.where(EventRow.id <= before)
    for agency, case_id, seq, day, payload, event_id in session.exec(query):
        kind = json.loads(payload).get("kind") or ""
        history.merge_inspection(row.party_id, PriorInspection(day, agency, case_id, seq - 1, kind))
        if upto is not None and (upto[0] is None or event_id > upto[0]):
            upto[0] = event_id
    return history


def inspections_between(session: Session, start: dt.date, end: dt.date,
                        agency: str | None = None) -> list[dict[str, Any]]:
    """Every stored inspection of a business dated in [start, end]: party id, name and kind, agency, case
    id, day, kind. ``agency`` limits the inspections alerted on, not the ones counted against them: the
    rows of other agencies are still returned (a business inspected by several agencies)."""
    query = (select(CaseRow.id, CaseRow.agency, CaseRow.case_id, CaseRow.party_id, CaseRow.header, EventRow.seq,
                    EventRow.date, EventRow.payload)
             .join(EventRow, EventRow.case_pk == CaseRow.id)
             .where(CaseRow.procedure == "inspection", CaseRow.party_id.is_not(None),   # type: ignore[union-attr]
                    EventRow.type == "inspected", EventRow.date >= start, EventRow.date <= end))
    found = session.exec(query).all()
    corrected = _corrected_headers(session, sorted({pk for pk, *_ in found}))
    rows = []
    for pk, ag, case_id, party_id, header, seq, day, payload in found:
        party = ((corrected[pk] if pk in corrected else json.loads(header)).get("party") or {})
        rows.append({"agency": ag, "case_id": case_id, "party_id": party_id, "party": party.get("name", ""),
                     "party_kind": party.get("kind") or "", "day": day, "kind": json.loads(payload).get("kind") or "",
                     "index": seq - 1, "file": f"db:{ag}/{case_id}"})
    return rows


def _corrected_headers(session: Session, pks: list[int]) -> dict[int, dict[str, Any]]:
    """The corrected header (``header.py``) of those of ``pks`` whose header was corrected."""
    from .header import HEADER

    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(pks), 500):
        for pk, payload in session.exec(select(EventRow.case_pk, EventRow.payload).where(
                EventRow.case_pk.in_(pks[start:start + 500]), EventRow.corrects == HEADER).order_by(EventRow.seq)):
            out[pk] = json.loads(payload)["header"]
    return out
