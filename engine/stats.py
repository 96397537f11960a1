"""Annual statistics (年度行政执法统计): the figures of an annual report's 基本情况 section.

Counted per agency, for the cases of one year:

* an inspection case counts in the year of its first ``inspected`` event;
* a penalty case (简易程序 / 普通程序) in the year of its penalty decision; a no-penalty decision (不予处罚)
  and a transfer (移送) in the year of their decision; a case still undecided is not counted;
* fines (罚款金额) add the fine amounts of the year's penalty decisions, in yuan, also shown in 万元;
* cases by legal basis: the law named first (《…》) in the violation's ``basis``;
* publicity: the year's penalty cases publicized on each platform (行政执法监督平台, 信用中国);
* the two rates need the agency profile (``engine.agency``): officer participation counts roster officers
  (matched by certificate number, else by id) acting in a counted case — on an event's team, as its legal
  reviewer or as a hearing's host; power exercise counts
  the profile's duties with a counted case of that matter code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from .agency import AgencyProfile
from .model import CaseFile

__all__ = ["AgencyStats", "year_stats", "stat_day", "law_of", "wan"]

LAW = re.compile(r"《[^》]+》")


def stat_day(case: CaseFile) -> tuple[str, dt.date] | None:
    """(what the case counts as, the day that places it in a year), or None while it counts as nothing."""
    if case.procedure == "inspection":
        day = next((e.date for e in case.events if e.type == "inspected"), None)
        return ("inspection", day) if day else None
    decided = next((e for e in case.events if e.type == "decided"), None)
    if decided is None:
        return None
    if decided.outcome == "penalty":
        return case.procedure, decided.date
    return decided.outcome, decided.date


def law_of(case: CaseFile) -> str:
    for text in case.violation.basis if case.violation else ():
        found = LAW.search(text)
        if found:
            return found.group(0)
    return "（未载明）"


def wan(yuan: Decimal) -> str:
    """Yuan in 万元 as annual reports write it: 9200 → 0.92, 171975 → 17.1975."""
    text = f"{(yuan / Decimal(10000)):.4f}".rstrip("0").rstrip(".")
    return text or "0"


@dataclass
class Group:
    cases: int = 0
    fines: int = 0                     # penalty decisions with a fine
    warnings: int = 0
    amount: Decimal = Decimal(0)


@dataclass
class AgencyStats:
    year: int
    agency: str
    name: str
    inspections: int = 0
    simple: int = 0
    ordinary: int = 0
    no_penalty: int = 0
    transfer: int = 0
    amount: Decimal = Decimal(0)
    by_basis: dict[str, Group] = field(default_factory=lambda: defaultdict(Group))
    by_domain: dict[str, Group] = field(default_factory=lambda: defaultdict(Group))
    publicized: Counter = field(default_factory=Counter)            # platform → penalty cases
    inspections_publicized: int = 0
    acting: set[str] = field(default_factory=set)                   # certificate or id of officers who acted
    matters: set[str] = field(default_factory=set)
    profile: AgencyProfile | None = None

    @property
    def penalties(self) -> int:
        return self.simple + self.ordinary

    @property
    def total(self) -> int:
        return self.inspections + self.penalties

    def participation(self) -> tuple[int, int] | None:
        """(roster officers who acted, roster size)."""
        if self.profile is None:
            return None
        acted = sum(1 for o in self.profile.officers if o.certificate in self.acting or o.id in self.acting)
        return acted, len(self.profile.officers)

    def exercise(self) -> tuple[int, int] | None:
        """(duties exercised, duties listed)."""
        if self.profile is None:
            return None
        return sum(1 for d in self.profile.duties if d.code in self.matters), len(self.profile.duties)

    def unexercised(self) -> list[str]:
        return [f"{d.code} {d.name}" for d in self.profile.duties if d.code not in self.matters] if self.profile else []

    def idle_officers(self) -> list[str]:
        if self.profile is None:
            return []
        return [o.name for o in self.profile.officers if o.certificate not in self.acting and o.id not in self.acting]

    def add(self, case: CaseFile, kind: str) -> None:
        if case.matter:
            self.matters.add(case.matter.code)
        for event in case.events:                   # acting: on the team, reviewing or hosting a hearing
            refs = list(event.officers) + [r for r in (getattr(event, "reviewer", None), getattr(event, "host", None)) if r]
            for ref in refs:
                officer = case.officer(ref)
                self.acting.add(officer.certificate or officer.id)
        if kind == "inspection":
            self.inspections += 1
            self.inspections_publicized += any(e.type == "publicized" for e in case.events)
            return
        if kind in ("no_penalty", "transfer"):
            setattr(self, kind, getattr(self, kind) + 1)
            return
        setattr(self, kind, getattr(self, kind) + 1)
        decided = next(e for e in case.events if e.type == "decided")
        penalty = decided.penalty
        amount = penalty.amount if penalty.kind == "fine" and penalty.amount is not None else Decimal(0)
        self.amount += amount
        domain = (case.matter.domain or case.matter.code) if case.matter else "—"
        for group in (self.by_basis[law_of(case)], self.by_domain[domain]):
            group.cases += 1
            group.amount += amount
            group.fines += decided.penalty.kind == "fine"
            group.warnings += decided.penalty.kind == "warning"
        for platform in {e.platform for e in case.events if e.type == "publicized"}:
            self.publicized[platform] += 1

    def to_dict(self) -> dict[str, Any]:
        part, exer = self.participation(), self.exercise()
        return {
            "year": self.year, "agency": self.agency, "name": self.name,
            "cases": self.total, "inspections": self.inspections, "simple_penalties": self.simple,
            "ordinary_penalties": self.ordinary, "no_penalty": self.no_penalty, "transfers": self.transfer,
            "fines_yuan": str(self.amount), "fines_wan": wan(self.amount),
            "by_basis": [{"basis": k, "cases": g.cases, "fines_yuan": str(g.amount)}
                         for k, g in sorted(self.by_basis.items(), key=lambda x: (-x[1].cases, x[0]))],
            "by_domain": [{"domain": k, "cases": g.cases, "fines": g.fines, "warnings": g.warnings,
                           "fines_yuan": str(g.amount)}
                          for k, g in sorted(self.by_domain.items(), key=lambda x: (-x[1].cases, x[0]))],
            "publicized": dict(sorted(self.publicized.items())),
            "inspections_publicized": self.inspections_publicized,
            "powers": dict(self.profile.powers) if self.profile else None,
            "officer_participation": {"acted": part[0], "certified": part[1]} if part else None,
            "power_exercise": {"exercised": exer[0], "duties": exer[1]} if exer else None,
        }


def rate(pair: tuple[int, int] | None) -> str:
    if not pair or not pair[1]:
        return "—"
    return f"{(Decimal(pair[0]) * 100 / pair[1]).quantize(Decimal('0.1')).normalize():f}%"


def year_stats(cases: Iterable[CaseFile], year: int, profiles: dict[str, AgencyProfile | None],
               agency: str | None = None) -> list[AgencyStats]:
    """One ``AgencyStats`` per agency with cases counted in ``year`` (only ``agency`` if given)."""
    out: dict[str, AgencyStats] = {}
    for case in cases:
        if agency and case.agency.code != agency:
            continue
        placed = stat_day(case)
        if placed is None or placed[1].year != year:
            continue
        code = case.agency.code
        if code not in out:
            out[code] = AgencyStats(year, code, case.agency.name, profile=profiles.get(code))
        out[code].add(case, placed[0])
    return [out[k] for k in sorted(out)]
