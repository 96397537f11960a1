"""Corrections of a stored case's header (party, matter, procedure, officers, violation…): issue 17.

A case's header is stored once, in ``cases.header``, and never rewritten: it is what the case was stored
with (its hash is in every checkpoint's leaf). A correction of the header is an event row appended to the
case's hash chain like any other, attributed and timed, with ``corrects = 0`` (event numbers start at 1:
``#0`` is the header) and the payload ``{"type": "header_corrected", "date": …, "header": {…}}`` carrying
the whole corrected header. The case's **effective header** is the header of its last header correction,
else the stored header. Every reader of a stored case goes through ``repo._as_stored`` /
``stored_effective``, which apply it; the case row's query columns (``procedure``, ``party_id``,
``matter_code``), its ``content_hash`` and the officer and party rows follow the effective header, and
``verify`` checks them against it (the chain and the checkpoint seal the correction itself).

A header-correction row is not a step of the case: ``repo._effective`` skips it (it corrects no event),
so the case's events, its state and its findings are those of the corrected header and the same events.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from sqlmodel import Session, select

__all__ = ["HEADER", "HEADER_TYPE", "effective_header", "header_fix_text", "header_versions", "officers_by_id"]

HEADER = 0                       # ``corrects`` of a header correction: the header is "#0"
HEADER_TYPE = "header_corrected"
KEY_FIELDS = ("format", "case_id")          # and agency.code: the case's identity, never corrected


def header_fix_text(items: Sequence[Any], payload_at: int = 1, corrects_at: int = 2) -> str | None:
    """The payload (JSON text) of the last header correction among ``items`` (rows by seq), or None."""
    for item in reversed(items):
        if item[corrects_at] == HEADER:
            return item[payload_at]
    return None


def _header_of(payload: str) -> dict[str, Any]:
    header = json.loads(payload).get("header")
    if not isinstance(header, dict):
        raise ValueError("a header correction without a header")
    return header


def effective_header(header: Any, items: Sequence[Any], payload_at: int = 1, corrects_at: int = 2) -> Any:
    """The case header as it stands: the last header correction's among ``items`` (rows by seq:
    ``(seq, payload, corrects)`` by default), else ``header`` (the stored one, JSON text or parsed: returned
    as given)."""
    fix = header_fix_text(items, payload_at, corrects_at)
    return header if fix is None else _header_of(fix)


def header_versions(session: Session, row: Any) -> list[dict[str, Any]]:
    """Every header the case has had, oldest first: the stored one, then each correction's."""
    from .tables import EventRow

    fixes = session.exec(select(EventRow.payload).where(EventRow.case_pk == row.id, EventRow.corrects == HEADER)
                         .order_by(EventRow.seq)).all()
    return [json.loads(row.header)] + [_header_of(p) for p in fixes]


def officers_by_id(header: dict[str, Any]) -> dict[str, Any]:
    """The header with its officers list as a mapping by officer id (for a field-by-field comparison)."""
    officers = header.get("officers")
    if not isinstance(officers, list) or not all(isinstance(o, dict) and "id" in o for o in officers):
        return header
    return {**header, "officers": {str(o["id"]): o for o in officers}}
