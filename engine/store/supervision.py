"""Supervision outputs (《行政执法监督条例》: 监督意见书 / 监督通知书) and their rectification, kept append-only.

``supervision_notices``: one row per notice a supervisor issues to an agency — the case(s) and rule(s) it is
about, the problem, the legal basis, the requirement and the rectification deadline (整改期限). A notice row
is never changed or deleted.

``supervision_steps``: one row per later state change of a notice, numbered ``seq`` 1, 2, … per notice —
the agency's rectification report (``reply``, with its text and date), the supervisor's acceptance
(``accept``: closed) or return (``return``, optionally with a new deadline). Each row says who
(``by``) and how that was established (``proof``: ``authenticated`` from the web, ``asserted`` for
``--by`` on the command line — the vocabulary of ``engine.cases.PROOFS``) and when (``at``). The state of a
notice is read from its steps; nothing is updated in place.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["SupervisionNoticeRow", "SupervisionStepRow"]


class SupervisionNoticeRow(SQLModel, table=True):
    __tablename__ = "supervision_notices"

    id: Optional[int] = Field(default=None, primary_key=True)
    number: str = Field(max_length=120, unique=True)                  # 文号, e.g. 南开区行政执法监督通知书〔2026〕1号
    kind: str = Field(max_length=10)                                  # opinion (监督意见书) | notice (监督通知书)
    district: Optional[str] = Field(default=None, max_length=120)
    agency: str = Field(max_length=120, index=True)
    case_ids: str = Field(sa_column=Column(Text, nullable=False))     # JSON list ([] for an agency-wide problem)
    rule_ids: str = Field(sa_column=Column(Text, nullable=False))     # JSON list
    problem: str = Field(sa_column=Column(Text, nullable=False))
    basis: str = Field(sa_column=Column(Text, nullable=False))
    requirement: str = Field(sa_column=Column(Text, nullable=False))
    issued_on: dt.date
    deadline: dt.date                                                 # 整改期限
    by: str = Field(max_length=120)
    proof: str = Field(max_length=20)
    at: dt.datetime


class SupervisionStepRow(SQLModel, table=True):
    __tablename__ = "supervision_steps"
    __table_args__ = (UniqueConstraint("notice_pk", "seq", name="uq_supervision_steps_notice_seq"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    notice_pk: int = Field(foreign_key="supervision_notices.id", index=True)
    seq: int
    action: str = Field(max_length=10)                                # reply | accept | return
    text: str = Field(sa_column=Column(Text, nullable=False))
    day: dt.date                                                      # the report's date, or the decision's
    deadline: Optional[dt.date] = None                                # return: a new rectification deadline
    by: str = Field(max_length=120)
    proof: str = Field(max_length=20)
    at: dt.datetime
