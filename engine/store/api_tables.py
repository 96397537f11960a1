"""The HTTP API's tables: platform clients (their tokens, stored hashed) and the decision log.

``api_clients``: one row per platform client an admin created (``casecheck api-client add``). The token
is shown once; only its SHA-256 is kept (a token is 32 random bytes, so a fast hash is enough: nothing
to guess). ``agencies`` is a JSON list of agency codes; ``can_write`` false means read-only.

``decisions``: one row per check and per live decision, accepted or refused: who asked (client, officer),
about which case, the SHA-256 of the input (not its personal data), the result (rule ids), and the engine
version, rule-catalogue revision and calendar years it was judged with. ``input`` keeps the input itself
only when the server keeps inputs (``CASECHECK_KEEP_INPUTS``, on by default), so ``casecheck decisions
replay`` can judge it again. Rows are only ever appended.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

__all__ = ["ApiClientRow", "DecisionRow"]


class ApiClientRow(SQLModel, table=True):
    __tablename__ = "api_clients"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)                  # the token's first characters, to tell tokens apart
    agencies: str = Field(sa_column=Column(Text, nullable=False))      # JSON list of agency codes
    can_write: bool = False
    created_at: dt.datetime
    created_by: str = Field(max_length=120)
    expires_at: Optional[dt.datetime] = None
    revoked_at: Optional[dt.datetime] = None


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_at", "at"),)

    id: str = Field(primary_key=True, max_length=40)     # the decision id returned to the caller
    at: dt.datetime
    kind: str = Field(max_length=10)                    # check | record
    client: str = Field(max_length=120)
    officer: Optional[str] = Field(default=None, max_length=120)
    agency: Optional[str] = Field(default=None, max_length=120)
    case_id: Optional[str] = Field(default=None, max_length=1000)       # a check of several: ids joined by ","
    input_sha256: str = Field(max_length=64)
    outcome: str = Field(max_length=20)                 # accepted | refused | conflict | invalid | checked
    rule_ids: str = Field(sa_column=Column(Text, nullable=False))       # JSON list
    event_seq: Optional[int] = None                     # the stored event's number, when accepted
    as_of: Optional[dt.date] = None
    lang: str = Field(default="zh", max_length=5)
    engine_version: str = Field(max_length=40)
    rules_version: str = Field(max_length=64)
    calendar_years: str = Field(max_length=40)
    input: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
