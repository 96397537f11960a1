"""What fact derivation needs besides the case: calendar, as-of date, profile, workflows, legal periods,
document requirements, the exemption list and the parties' history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..calendar import WorkCalendar
from ..documents import DocumentRule, load_documents
from ..exemptions import ExemptionList, PartyHistory, load_exemptions
from ..periods import Periods, load_periods
from ..profile import Profile
from ..workflow import Workflow

__all__ = ["FactContext", "fen", "iso"]


@dataclass(frozen=True)
class FactContext:
    calendar: WorkCalendar
    as_of: dt.date
    profile: Profile
    workflows: dict[str, Workflow]
    history: PartyHistory = field(default_factory=PartyHistory)
    periods: Periods = None             # type: ignore[assignment]  # filled from the profile
    documents: dict[str, DocumentRule] = None  # type: ignore[assignment]
    exemptions: ExemptionList = None    # type: ignore[assignment]
    benchmarks: Any = None              # engine.discretion.Benchmark, from the profile
    # event types the case's source cannot state (a ledger without that column, engine.ledger.read.UNSTATED):
    # their absence is the ledger's silence, said so in the findings' words, never a fact about the case
    unstated: frozenset[str] = frozenset()


    def __post_init__(self) -> None:
        if self.periods is None:
            object.__setattr__(self, "periods", load_periods(self.profile))
        if self.documents is None:
            object.__setattr__(self, "documents", load_documents())
        if self.exemptions is None:
            object.__setattr__(self, "exemptions", load_exemptions(self.profile["exemption_list"]))
        if self.benchmarks is None:
            from ..discretion import load_benchmarks

            object.__setattr__(self, "benchmarks", load_benchmarks(self.profile["discretion_benchmarks"]))


def fen(amount: Decimal | None) -> int:
    return 0 if amount is None else int((amount * 100).to_integral_value())


def iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""
