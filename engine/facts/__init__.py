"""The per-case fact view: everything a rule condition needs, computed once in Python.

A case becomes a list of small typed facts, each about one act (a decision, a publicity obligation, an
officer acting on a date, a workflow step, a deadline clock…). Working-day arithmetic, counts, history
lookups and "is there an approved review dated before the decision" are decided here, so a rule
condition is a flat comparison of a fact field with a constant. That keeps the rule engine away from
every construct measured to misbehave in durable-rules 2.0.28 (joins, nested ``$and``, ``none()``,
counting, floats). Kinds are in ``kinds``; each derivation module yields the facts of one area.
"""

from __future__ import annotations

from ..model import CaseFile
from .acts import act_facts, document_facts, step_facts
from .clocks import clock_facts
from .context import FactContext, fen
from .decision import decision_facts
from .inspection import inspection_facts
from .kinds import (FACT_KINDS, ActFact, ClosingFact, DeadlineFact, DecisionFact, DocumentFact, Fact,
                    FirstOffenceFact, HearingFact, InspectionFact, LimitationFact, OfficerActFact, PaymentFact, PublicityFact,
                    StepFact, condition_fields)
from .publicity import publicity_facts

__all__ = ["Fact", "FACT_KINDS", "FactContext", "build_facts", "condition_fields", "fen", "ActFact",
           "ClosingFact", "DeadlineFact", "DecisionFact", "DocumentFact", "FirstOffenceFact", "HearingFact",
           "InspectionFact", "LimitationFact", "OfficerActFact", "PaymentFact", "PublicityFact", "StepFact"]

_DERIVATIONS = (step_facts, act_facts, document_facts, decision_facts, publicity_facts, clock_facts,
                inspection_facts)


def build_facts(case: CaseFile, ctx: FactContext) -> list[Fact]:
    """All facts of one case. May raise ``CalendarError`` for a date no calendar covers."""
    facts: list[Fact] = []
    for derive in _DERIVATIONS:
        facts.extend(derive(case, ctx))
    return facts
