"""Reviewers' decisions on findings, kept with the reviews in the store: adjustments and waivers.

A row is never changed or deleted: a later row for the same file, rule and kind supersedes an earlier one
(the history stays), so a review can always be explained as it was made.

- ``adjust``: the deduction of one rule on one file set to ``value`` (within the rubric's range), ``reason``, ``by``;
- ``waive``: the finding accepted for ``reason`` until ``until``; it deducts nothing until then, and again after.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel, select

__all__ = ["ReviewNoteRow", "add_note", "load_notes"]


class ReviewNoteRow(SQLModel, table=True):
    __tablename__ = "review_notes"

    id: Optional[int] = Field(default=None, primary_key=True)
    agency: Optional[str] = Field(default=None, max_length=120)
    case_id: str = Field(max_length=120, index=True)
    rule_id: str = Field(max_length=120)
    kind: str = Field(max_length=10)                                  # adjust | waive
    value: Optional[int] = None                                       # adjust: the deduction
    until: Optional[dt.date] = None                                   # waive: the last day it holds
    reason: str = Field(sa_column=Column(Text, nullable=False))
    by: str = Field(max_length=120)
    at: dt.datetime


def add_note(store: Any, *, case_id: str, rule_id: str, kind: str, reason: str, by: str, value: int | None = None,
             until: dt.date | None = None, agency: str | None = None) -> int:
    from .repo import now

    with store.writing() as session:
        row = ReviewNoteRow(agency=agency, case_id=case_id, rule_id=rule_id, kind=kind, value=value, until=until,
                            reason=reason, by=by, at=now())
        session.add(row)
        session.flush()
        return int(row.id)


def load_notes(store: Any, agencies: Any = None) -> dict[str, tuple[dict, dict]]:
    """Case id → (adjustments, waivers), each rule id → the latest note of its kind; with ``agencies``, only
    the notes on those agencies' files (and those recorded without an agency, from the command line)."""
    from ..rubric import Adjustment, Waiver

    out: dict[str, tuple[dict, dict]] = {}
    with store.reading() as session:
        query = select(ReviewNoteRow).order_by(ReviewNoteRow.id)
        if agencies is not None:
            query = query.where(ReviewNoteRow.agency.is_(None) | ReviewNoteRow.agency.in_(sorted(agencies)))
        for r in session.exec(query):
            adjustments, waivers = out.setdefault(r.case_id, ({}, {}))
            at = r.at.isoformat(timespec="seconds")
            if r.kind == "adjust":
                adjustments[r.rule_id] = Adjustment(r.case_id, r.rule_id, int(r.value or 0), r.reason, r.by, at)
            else:
                waivers[r.rule_id] = Waiver(r.case_id, r.rule_id, r.reason, r.until, r.by, at)
    return out
