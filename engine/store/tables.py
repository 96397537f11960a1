"""The store's tables (sqlmodel). Alembic migrations (``migrations/``) create and evolve them.

A case is a row with its header (everything but the events) as canonical JSON and one row per event.
Each event row keeps who recorded it and when, and ``hash = sha256(prev_hash + canonical event)``; the
case row keeps the head of that chain, so an event changed, removed or reordered behind the engine's back
breaks the chain (``casecheck verify``). Officers and parties are kept as rows too, for queries.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["CaseRow", "EventRow", "OfficerRow", "PartyRow", "ChangeRow", "RunRow", "FindingRow", "DeadlineRow"]


class CaseRow(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("agency", "case_id", name="uq_cases_agency_case"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    agency: str = Field(max_length=120, index=True)
    case_id: str = Field(max_length=120, index=True)
    procedure: str = Field(max_length=20)
    party_id: Optional[str] = Field(default=None, max_length=120, index=True)
    matter_code: Optional[str] = Field(default=None, max_length=120)
    state: str = Field(max_length=40)
    header: str = Field(sa_column=Column(Text, nullable=False))
    content_hash: str = Field(max_length=64)
    head_hash: str = Field(max_length=64)
    event_count: int = 0
    source: str = Field(default="", max_length=1000)
    updated_at: dt.datetime


class EventRow(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("case_pk", "seq", name="uq_events_case_seq"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    case_pk: int = Field(foreign_key="cases.id")   # indexed by uq_events_case_seq (revision 0011)
    seq: int
    type: str = Field(max_length=40)
    date: dt.date
    payload: str = Field(sa_column=Column(Text, nullable=False))
    recorded_by: str = Field(max_length=120)
    recorded_at: dt.datetime
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # how the author was established: import (audit import of a past file) | asserted (CLI --by) |
    # authenticated (a logged-in user); NULL on events stored before revision 0004 (hashed without it)
    proof: Optional[str] = Field(default=None, max_length=20)
    corrects: Optional[int] = None               # a correction: the seq of the event it corrects


class OfficerRow(SQLModel, table=True):
    __tablename__ = "officers"
    __table_args__ = (UniqueConstraint("case_pk", "officer_id", name="uq_officers_case_officer"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    case_pk: int = Field(foreign_key="cases.id", index=True)
    officer_id: str = Field(max_length=120)
    name: str = Field(max_length=500)
    certificate: Optional[str] = Field(default=None, max_length=120, index=True)
    certificate_valid_until: Optional[dt.date] = None
    legal_qualification: bool = False
    certificate_key: Optional[str] = Field(default=None, max_length=120)   # persons.certificate_key(certificate)


Index("ix_officers_certkey_case", OfficerRow.certificate_key, OfficerRow.case_pk)   # "my cases" by certificate (0013)


class PartyRow(SQLModel, table=True):
    __tablename__ = "parties"

    id: str = Field(primary_key=True, max_length=120)
    kind: str = Field(max_length=20)
    name: str = Field(max_length=500)


class ChangeRow(SQLModel, table=True):
    """A case changed by a re-import or by a recorded step: what, when, by whom."""

    __tablename__ = "changes"

    id: Optional[int] = Field(default=None, primary_key=True)
    case_pk: int = Field(foreign_key="cases.id", index=True)
    at: dt.datetime
    actor: str = Field(max_length=120)
    kind: str = Field(max_length=20)             # imported | updated | recorded
    summary: str = Field(sa_column=Column(Text, nullable=False))
    old_hash: str = Field(default="", max_length=64)
    new_hash: str = Field(max_length=64)


class RunRow(SQLModel, table=True):
    """One check / review run over stored cases, with the stamp its report carries."""

    __tablename__ = "runs"

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    started_at: dt.datetime
    as_of: dt.date
    profile: str = Field(max_length=120)
    rules_version: str = Field(max_length=64)
    engine_version: str = Field(max_length=40)
    cases: int = 0
    scope: Optional[str] = Field(default=None, max_length=20)       # a review's quarter, e.g. 2024Q4
    agency: Optional[str] = Field(default=None, max_length=120)     # a run limited to one agency


class FindingRow(SQLModel, table=True):
    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_run_due", "run_id", "due"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runs.id", index=True)
    case_pk: int = Field(foreign_key="cases.id", index=True)
    rule_id: str = Field(max_length=120, index=True)
    severity: str = Field(max_length=10)
    category: str = Field(max_length=10)
    deduction: int
    veto: bool
    due: Optional[dt.date] = None
    fact: str = Field(max_length=120)
    message: str = Field(sa_column=Column(Text, nullable=False))
    basis: str = Field(sa_column=Column(Text, nullable=False))


class DeadlineRow(SQLModel, table=True):
    """A deadline of a stored case (publicity window, service, 90-day decision, evidence, filing), kept
    current by every import and recorded step, so alerts are an indexed query, not a loop over cases.

    ``open_until`` is the day the obligation was met, or 9999-12-31 while it is not: a deadline is open on
    day D when ``start <= D < open_until``. The index (open_until, due) makes "open on D, due by B" a
    range scan over the few deadlines not yet met.
    """

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_open_due", "open_until", "due"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    case_pk: int = Field(foreign_key="cases.id", index=True)
    code: str = Field(max_length=60)                  # deadline.service_7, publicity.penalty_decision, …
    platform: Optional[str] = Field(default=None, max_length=40)
    start: dt.date
    due: dt.date
    open_until: dt.date
    officers: str = Field(default="", max_length=1000)


from .trail import CheckpointRow  # noqa: E402,F401  (signed checkpoints, issue 17)
from .users import FeedTokenRow, LoginAttemptRow, SessionRow, UserRow  # noqa: E402,F401  (the web workspace: issue 21)
from .api_tables import ApiClientRow, DecisionRow  # noqa: E402,F401  (the HTTP API's tables, issue 22)
from .review_notes import ReviewNoteRow  # noqa: E402,F401  (issue 20: reviewers' adjustments and waivers)
from .supervision import SupervisionNoticeRow, SupervisionStepRow  # noqa: E402,F401  (issue 19: 监督意见书/通知书 and rectification)
from .case_checks import CaseCheckRow  # noqa: E402,F401  (each case's last check, indexes of the case list: issue 21)
from . import verify_indexes  # noqa: E402,F401  (issue 17: the index verify finds a party's newest case by)
