"""First-offence exemption lists (``rules/exemptions/<name>.yaml``) and the party history they need.

An item names a matter code, the look-back period for "first" (months), the correction period (days
from the order to correct), the harm levels allowed and its source document. ``PartyHistory`` indexes
the violations established in other cases (same run, later the store) by party id and matter code, so
"no prior violation of the same matter within the look-back" is a lookup, not a rule-engine join.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .definitions import parse_date, read_yaml, rules_path
from .errors import DefinitionError
from .model import CaseFile

__all__ = ["ExemptionItem", "ExemptionList", "load_exemptions", "PartyHistory", "PriorViolation", "months_before"]

HARMS = ("none", "slight", "serious")


@dataclass(frozen=True)
class ExemptionItem:
    matter: str
    name: str
    lookback_months: int
    correction_days: int
    harm_allowed: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class ExemptionList:
    name: str
    title: dict[str, str]
    source: str
    verified: bool
    effective_from: dt.date
    items: dict[str, ExemptionItem]
    path: str

    def item(self, matter: str | None, day: dt.date) -> ExemptionItem | None:
        if matter is None or day < self.effective_from:
            return None
        return self.items.get(matter)


def _int(raw: Any, source: str, key: str, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise DefinitionError(source, key, f"a whole number {low}–{high}, got {raw!r}")
    return raw


def load_exemptions(name_or_path: str) -> ExemptionList:
    path = Path(name_or_path)
    if not path.suffix:
        path = rules_path("exemptions", f"{name_or_path}.yaml")
    source = str(path)
    if source not in _CACHE:
        _CACHE[source] = _load(source)
    return _CACHE[source]


_CACHE: dict[str, ExemptionList] = {}


def _load(source: str) -> ExemptionList:
    data = read_yaml(source, "exemption list", dict)
    unknown = sorted(set(data) - {"name", "region", "title", "source", "verified", "effective_from", "items"})
    if unknown:
        raise DefinitionError(source, unknown[0], "unknown key")
    if not isinstance(data.get("name"), str) or not data.get("source"):
        raise DefinitionError(source, "name" if not isinstance(data.get("name"), str) else "source",
                              "give the list's name and the document it comes from")
    start = parse_date(data.get("effective_from"), source, "effective_from")
    items: dict[str, ExemptionItem] = {}
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise DefinitionError(source, "items", "a list of items")
    for i, raw in enumerate(raw_items):
        key = f"items[{i}]"
        if not isinstance(raw, dict):
            raise DefinitionError(source, key, "an item is a mapping")
        extra = sorted(set(raw) - {"matter", "name", "lookback_months", "correction_days", "harm_allowed", "source"})
        if extra:
            raise DefinitionError(source, f"{key}.{extra[0]}", "unknown key")
        matter = raw.get("matter")
        if not isinstance(matter, str) or not matter:
            raise DefinitionError(source, f"{key}.matter", "the matter code")
        if matter in items:
            raise DefinitionError(source, f"{key}.matter", f"{matter} is listed twice")
        harms = raw.get("harm_allowed")
        if not isinstance(harms, list) or not harms or not set(harms) <= set(HARMS):
            raise DefinitionError(source, f"{key}.harm_allowed", f"a list of {', '.join(HARMS)}")
        if not raw.get("source") or not raw.get("name"):
            raise DefinitionError(source, f"{key}.source", "each item names the matter and its source")
        items[matter] = ExemptionItem(matter, str(raw["name"]),
                                      _int(raw.get("lookback_months"), source, f"{key}.lookback_months", 1, 120),
                                      _int(raw.get("correction_days"), source, f"{key}.correction_days", 0, 365),
                                      tuple(harms), str(raw["source"]))
    title = data.get("title") if isinstance(data.get("title"), dict) else {}
    return ExemptionList(data["name"], {k: str(v) for k, v in title.items()}, str(data["source"]),
                         data.get("verified") is True, start, items, source)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier; the month's last day when it has no such day."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    return dt.date(year, month, min(day.day, _cal.monthrange(year, month)[1]))


@dataclass(frozen=True)
class PriorViolation:
    case_id: str
    day: dt.date                      # when the violation occurred (or the decision, when not recorded)
    outcome: str                      # penalty | no_penalty


@dataclass(frozen=True, order=True)
class PriorInspection:
    """One on-site inspection of a business (涉企行政检查), for the yearly cap and repeat alerts."""

    day: dt.date
    agency: str
    case_id: str
    index: int                        # the event's position in its case
    kind: str                         # routine | campaign | case | "" (not recorded)


class PartyHistory:
    """Violations established by decisions, by (party id, matter code); and the inspections of each
    party (inspection-procedure cases), by party id."""

    def __init__(self, cases: Iterable[CaseFile] = ()):
        self._index: dict[tuple[str, str], list[PriorViolation]] = {}
        self._inspections: dict[str, list[PriorInspection]] = {}
        for case in cases:
            self.add(case)

    def add(self, case: CaseFile) -> None:
        for key, prior in self.entries(case):
            self.merge(key, prior)
        for party_id, seen in self.inspection_entries(case):
            self.merge_inspection(party_id, seen)

    @staticmethod
    def inspection_entries(case: CaseFile) -> list[tuple[str, PriorInspection]]:
        if case.party is None or case.procedure != "inspection":
            return []
        return [(case.party.id, PriorInspection(e.date, case.agency.code, case.case_id, i, e.kind or ""))
                for i, e in enumerate(case.events) if e.type == "inspected"]

    def merge_inspection(self, party_id: str, seen: PriorInspection) -> None:
        if not hasattr(self, "_inspections"):
            self._inspections = {}
        self._inspections.setdefault(party_id, []).append(seen)

    def inspections(self, party_id: str, exclude: tuple[str, str] | None = None) -> list[PriorInspection]:
        """The party's inspections in other cases (``exclude``: (agency, case id) of the case judged)."""
        found = getattr(self, "_inspections", {}).get(party_id, ())
        return [p for p in found if exclude is None or (p.agency, p.case_id) != exclude]

    @staticmethod
    def entries(case: CaseFile) -> list[tuple[tuple[str, str], PriorViolation]]:
        """The violation ``case`` establishes, keyed by (party id, matter code): none or one."""
        if case.party is None or case.matter is None:
            return []
        if any(e.type == "revoked" for e in case.events):
            return []                  # a revoked decision establishes nothing
        for event in case.events:
            if event.type != "decided" or event.outcome not in ("penalty", "no_penalty"):
                continue
            if event.outcome == "no_penalty" and event.exemption is None:
                continue               # not penalised because nothing was established
            day = case.violation.occurred_on if case.violation else event.date
            return [((case.party.id, case.matter.code), PriorViolation(case.case_id, day, event.outcome))]
        return []

    def merge(self, key: tuple[str, str], prior: PriorViolation) -> None:
        self._index.setdefault(key, []).append(prior)

    def prior(self, party_id: str, matter: str, before: dt.date, since: dt.date,
              exclude_case: str) -> list[PriorViolation]:
        """Violations of the same matter by the party in [since, before), other than ``exclude_case``."""
        return [p for p in self._index.get((party_id, matter), ())
                if p.case_id != exclude_case and since <= p.day < before]
