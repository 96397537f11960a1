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


_NAMES = tuple(Finding.model_fields)
_FIELD_SETS: dict[frozenset[str], frozenset[str]] = {}


class Findings:
    """A case's findings held as tuples of their values, about a quarter of the objects' size: what the
    parallel run sends back from its workers and what a report of 100,000 cases keeps. Read back they
    are the same ``Finding`` objects (equal, same order, same fields set); a sequence, not a list."""

    __slots__ = ("_rows",)

    def __init__(self, findings: Any = ()) -> None:
        rows = []
        for f in findings:
            values = tuple(tuple(v) if n == "events" else v for n, v in zip(_NAMES, (getattr(f, n) for n in _NAMES)))
            fields = frozenset(f.model_fields_set)
            rows.append((values, _FIELD_SETS.setdefault(fields, fields)))
        self._rows = tuple(rows)

    @staticmethod
    def _finding(row: tuple[tuple[Any, ...], frozenset[str]]) -> Finding:
        values, fields = row
        data = dict(zip(_NAMES, values))
        data["events"] = list(data["events"])
        return Finding.model_construct(_fields_set=set(fields), **data)

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Any:
        return (self._finding(r) for r in self._rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._finding(r) for r in self._rows[index]]
        return self._finding(self._rows[index])

    def __bool__(self) -> bool:
        return bool(self._rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Findings):
            return self._rows == other._rows
        if isinstance(other, (list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Findings({list(self)!r})"

    def severities(self) -> Any:
        index = _NAMES.index("severity")
        return (values[index] for values, _ in self._rows)

    def keys(self) -> Any:
        """(agency, case id) of each finding."""
        a, c = _NAMES.index("agency"), _NAMES.index("case_id")
        return ((values[a], values[c]) for values, _ in self._rows)

    def __getstate__(self) -> Any:
        return self._rows

    def __setstate__(self, rows: Any) -> None:
        self._rows = tuple((values, _FIELD_SETS.setdefault(fields, fields)) for values, fields in rows)
