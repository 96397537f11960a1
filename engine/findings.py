"""Findings: what a rule says about one fact of one case, rendered for people.

A finding is data (never raised). Its message is the rule's template filled from the fact, with
codes (event types, statuses, platforms) turned into words of the chosen language.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel, ConfigDict

from .facts import Fact
from .rulebook import Rule, Rulebook
from .vocab import label
from .workflow import Workflow

__all__ = ["Finding", "make_finding", "sort_findings", "late_words"]

CODE_FIELDS = frozenset({"review_state", "status", "platform", "event_type", "reason", "party_kind",
                         "penalty_kind", "outcome", "procedure", "obligation", "certificates", "service_method",
                         "harm", "exemption", "clock", "inspection_kind", "trigger"})


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    agency: str
    file: str
    rule_id: str
    severity: str
    category: str
    deduction: int
    veto: bool
    title: str
    basis: str
    message: str
    due: str | None = None
    late: int | None = None             # past ``due`` (done late, or still not done at the as-of date), in ``late_unit``
    late_unit: str = "workdays"         # the period's own unit: workdays (工作日) | days (日, calendar days)
    curable: bool = True                # False: the act was done, late — no correction can make it timely (无法整改)
    events: list[int] = []
    fact: str = ""

    def sort_key(self) -> tuple[Any, ...]:
        return (self.agency, self.case_id, self.rule_id, self.events, self.fact)


def _values(fact: Fact, lang: str, workflow: Workflow | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in dataclasses.fields(fact):
        value = getattr(fact, f.name)
        if f.name == "state_before" and workflow is not None:
            text = workflow.state_label(value, lang)
        elif f.name in CODE_FIELDS and isinstance(value, str):
            text = label(value, lang) if value else "—"
        elif isinstance(value, bool):
            text = ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
        else:
            text = str(value) if value not in ("", None) else ("无" if lang == "zh" else "none")
        out[f.name] = text
    return out


def make_finding(rulebook: Rulebook, rule: Rule, fact: Fact, *, case_id: str, agency: str, file: str,
                 lang: str = "zh", workflow: Workflow | None = None) -> Finding:
    version = rule.versions[rulebook.version_for(rule.id, fact.act_day)]
    message = rule.message_for(fact, lang).format(**_values(fact, lang, workflow))
    return Finding(case_id=case_id, agency=agency, file=file, rule_id=rule.id, severity=rule.severity_for(fact, version),
                   category=rule.category, deduction=rule.deduction, veto=rule.veto,
                   title=rule.title[lang], basis=version.basis_text(), message=message,
                   due=fact.due_date or None, late=_late(fact), late_unit=_unit(fact), curable=getattr(fact, "status", None) != "late",
                   events=list(fact.events), fact=fact.key)


def _unit(fact: Fact) -> str:
    return "workdays" if getattr(fact, "late_unit", "workdays") == "workdays" else "days"


def _late(fact: Fact) -> int | None:
    """Lateness in the period's own unit: calendar days for a period of 日, working days for 工作日."""
    if getattr(fact, "status", None) in ("late", "missed"):
        if _unit(fact) == "days" and getattr(fact, "overdue_days", None) is not None:
            return fact.overdue_days
        value = getattr(fact, "overdue_workdays", None)
        return getattr(fact, "late_workdays", None) if value is None else value
    return None


def late_words(late: int | None, unit: str, lang: str) -> str:
    """``逾期 3 个工作日`` / ``逾期 17 日`` (en: ``3 working days late`` / ``17 days late``); "" when on time."""
    if not late:
        return ""
    days = unit in ("days", "日")              # the code, or the report row's Chinese word for it
    if lang == "zh":
        return f"逾期 {late} {'日' if days else '个工作日'}"
    return f"{late} {'days' if days else 'working days'} late"


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)
