"""Quarterly case-file review (案卷评查): the quarter's cases, scored, graded and summarised.

A case belongs to the quarter of its decision (or of its closing, when it has no penalty decision).
Score = 100 − the deductions of its findings, once per rule and file (floored at 0), shown by review category (主体 事实证据
适用法律 程序 文书 归档); a veto finding (否决项) fails the file whatever its score; grades come from the
profile's ``review_grades`` cut-offs. Summaries: by rule, by officer and by matter domain.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .check import CaseResult, CheckResult
from .errors import CasecheckError
from .model import CaseFile
from .rulebook import CATEGORIES

__all__ = ["quarter_bounds", "previous_quarter", "review_day", "CaseScore", "ReviewResult", "review", "compare",
           "previous_from_report", "score_case"]

def quarter_bounds(text: str) -> tuple[dt.date, dt.date]:
    match = re.fullmatch(r"(\d{4})\s*[Qq]([1-4])", text.strip())
    if not match:
        raise CasecheckError(f"--quarter {text!r}：请写成 YYYYQn，如 2024Q4 / --quarter {text!r}: write YYYYQn, "
                             f"e.g. 2024Q4")
    year, q = int(match.group(1)), int(match.group(2))
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - dt.timedelta(days=1)
    return start, end


def previous_quarter(quarter: str) -> str:
    start, _ = quarter_bounds(quarter)
    prev = start - dt.timedelta(days=1)
    return f"{prev.year}Q{(prev.month - 1) // 3 + 1}"


def previous_from_report(path: Path) -> dict[str, set[str]]:
    """Case id → rule ids of a review report written with ``--format json``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data["sections"]["cases"]
        if data.get("kind") != "review":
            raise KeyError("kind")
        return {str(r["case_id"]): {x.split("×")[0] for x in str(r.get("rules") or "").split("、") if x} for r in rows}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CasecheckError(f"{path}：不是 casecheck 评查结果（--format json）：{exc} / {path}: not a casecheck "
                             f"review report (--format json): {exc}") from None


def compare(result: "ReviewResult", previous: dict[str, set[str]]) -> list[tuple[str, str, str]]:
    """(case id, rule id, new | still_open | fixed), comparing with the previous quarter's review.

    This quarter's findings are new unless the previous review had the same finding on the same file.
    Each finding of the previous review is still open if the file, judged now, still has it, and fixed
    if it no longer does (the file was corrected: 整改). A file no longer in the data is not judged.
    """
    now = {c.case_id: {f.rule_id for f in c.findings} for c in result.check.cases
           if not (c.failure or c.problem)}
    cured = {(c.case_id, f.rule_id) for c in result.check.cases for f in c.findings if f.curable}
    out: list[tuple[str, str, str]] = []
    for c in result.cases:
        for rule in sorted(set(c.rules)):
            if rule not in previous.get(c.case_id, set()):
                out.append((c.case_id, rule, "new"))
    for case_id, rules in sorted(previous.items()):
        if case_id not in now:
            continue
        for rule in sorted(rules):
            if rule not in now[case_id]:
                out.append((case_id, rule, "fixed"))
            else:                      # a late act stays late: no correction makes it timely (无法整改)
                out.append((case_id, rule, "still_open" if (case_id, rule) in cured else "not_curable"))
    order = {"new": 0, "still_open": 1, "not_curable": 2, "fixed": 3}
    return sorted(out, key=lambda x: (order[x[2]], x[0], x[1]))


def review_day(case: CaseFile) -> dt.date | None:
    """The decision date of a penalty; else the closing date (no-penalty, transfer, inspection files)."""
    for event in case.events:
        if event.type == "decided" and getattr(event, "outcome", None) == "penalty":
            return event.date
    closed = next((e.date for e in case.events if e.type == "closed"), None)
    return closed


@dataclass(slots=True)
class CaseScore:
    case_id: str
    agency: str
    procedure: str
    domain: str
    officers: list[str]
    day: dt.date
    score: int
    deductions: dict[str, int]
    vetoes: list[str]
    grade: str
    rules: list[str]
    agency_name: str = ""
    party: tuple[str, str, str] | None = None          # (kind, name, id): masked by the report, not here
    notes: dict = field(default_factory=dict)          # rule id → waiver / adjustment note (the rubric's scoring)
    applied: dict = field(default_factory=dict)        # rule id → points deducted (the rubric's scoring)
    findings: list = field(default_factory=list)      # the file's findings (set by ``review``, not sent by workers)

    @property
    def lost_points(self) -> bool:
        return bool(self.rules) or self.score < 100


@dataclass
class ReviewResult:
    quarter: str
    start: dt.date
    end: dt.date
    agency: str | None
    check: CheckResult
    grade_names: tuple[str, ...] = ()                  # best first, from the profile
    cases: list[CaseScore] = field(default_factory=list)

    @property
    def grades(self) -> Counter:
        return Counter(c.grade for c in self.cases)

    @property
    def average(self) -> float:
        return round(sum(c.score for c in self.cases) / len(self.cases), 1) if self.cases else 0.0

    @property
    def vetoed(self) -> int:
        return sum(bool(c.vetoes) for c in self.cases)

    def rule_titles(self) -> dict[str, str]:
        return {f.rule_id: f.title for c in self.cases for f in c.findings}

    def ranked(self) -> list[CaseScore]:
        """The files that lost points, worst first: by grade (the lowest grade first), then score, then case."""
        rank = {g: i for i, g in enumerate(self.grade_names)}
        return sorted((c for c in self.cases if c.lost_points),
                      key=lambda c: (-rank.get(c.grade, 0), c.score, c.agency, c.case_id))

    def by_rule(self) -> list[tuple[str, int, int]]:
        """(rule id, findings, cases) most frequent first."""
        findings: Counter = Counter()
        cases: dict[str, set[str]] = defaultdict(set)
        for c in self.cases:
            for rule in c.rules:
                findings[rule] += 1
                cases[rule].add(c.case_id)
        return sorted(((r, n, len(cases[r])) for r, n in findings.items()), key=lambda x: (-x[1], x[0]))

    def by_officer(self) -> list[tuple[str, int, int, float]]:
        """(officer, cases, cases with findings, average score)."""
        seen: dict[str, list[CaseScore]] = defaultdict(list)
        for c in self.cases:
            for name in c.officers:
                seen[name].append(c)
        return sorted(((name, len(cs), sum(bool(c.rules) for c in cs), round(sum(c.score for c in cs) / len(cs), 1))
                       for name, cs in seen.items()), key=lambda x: (-x[1], x[0]))

    def by_domain(self) -> list[tuple[str, int, int, float]]:
        groups: dict[str, list[CaseScore]] = defaultdict(list)
        for c in self.cases:
            groups[c.domain].append(c)
        return sorted(((d, len(cs), sum(len(c.rules) for c in cs), round(sum(c.score for c in cs) / len(cs), 1))
                       for d, cs in groups.items()), key=lambda x: (-x[1], x[0]))

    def to_dict(self) -> dict[str, Any]:
        from . import __version__

        return {
            "stamp": {"engine": __version__, "rules": self.check.rules_version, "calendar": self.check.calendar_years,
                      "profile": self.check.profile, "as_of": self.check.as_of.isoformat()},
            "quarter": self.quarter, "from": self.start.isoformat(), "to": self.end.isoformat(),
            "agency": self.agency, "cases_reviewed": len(self.cases), "average_score": self.average,
            "grades": dict(self.grades),
            "cases": [{"case_id": c.case_id, "agency": c.agency, "procedure": c.procedure, "domain": c.domain,
                       "date": c.day.isoformat(), "score": c.score, "grade": c.grade, "vetoes": c.vetoes,
                       "deductions": c.deductions, "rules": c.rules, "officers": c.officers} for c in self.cases],
            "by_rule": [{"rule_id": r, "findings": n, "cases": k} for r, n, k in self.by_rule()],
            "by_officer": [{"officer": o, "cases": n, "with_findings": k, "average_score": a}
                           for o, n, k, a in self.by_officer()],
            "by_domain": [{"domain": d, "cases": n, "findings": k, "average_score": a}
                          for d, n, k, a in self.by_domain()],
            "problems": [p.as_dict() for p in self.check.all_problems],
            "engine_failures": [{"case": f.case_ref, "reason": f.reason} for f in self.check.failures],
        }


def item_deductions(findings: list) -> list:
    """The findings that deduct: one per rule and file (the highest), as a review standard deducts per
    item — an expired certificate shown on six acts is one defect of the file, not six."""
    best: dict[str, Any] = {}
    for f in findings:
        if f.rule_id not in best or f.deduction > best[f.rule_id].deduction:
            best[f.rule_id] = f
    return list(best.values())


def _grade(score: int, vetoed: bool, grades: tuple[tuple[str, int], ...]) -> str:
    """The first grade whose floor the score reaches; a veto gives the lowest (the profile lists ≥ 1)."""
    if vetoed:
        return grades[-1][0]
    for name, floor in grades:
        if score >= floor:
            return name
    return grades[-1][0]


def review(check: CheckResult, quarter: str, grades: tuple[tuple[str, int], ...], agency: str | None = None,
           rubric: Any = None, notes: dict[str, tuple[dict, dict]] | None = None) -> ReviewResult:
    """Score the cases of ``check`` that fall in ``quarter`` (and belong to ``agency``, if given).
    A result the parallel runner already scored (``score``, whole case dropped) is taken as it is, unless a
    ``rubric`` (``engine.rubric.Rubric``) is given: then each file is scored again from its findings with it and
    with the reviewer's ``notes`` (case id → (adjustments, waivers), each keyed by rule id)."""
    start, end = quarter_bounds(quarter)
    if rubric is not None:
        grades = rubric.grades
    result = ReviewResult(quarter.upper(), start, end, agency, check, tuple(g for g, _ in grades))
    if rubric is not None:
        from .rubric import score_findings
    for item in check.cases:
        scored = item.score if item.loaded is None else score_case(item, start, end, agency, grades)
        if scored is not None:
            scored.findings = item.findings
            if rubric is not None:
                adjustments, waivers = (notes or {}).get(scored.case_id, ({}, {}))
                s = score_findings(item.findings, rubric, check.as_of, adjustments, waivers)
                scored.score, scored.deductions, scored.vetoes, scored.grade = s.score, s.deductions, s.vetoes, s.grade
                scored.notes, scored.applied = s.notes, s.applied
            result.cases.append(scored)
    result.cases.sort(key=lambda c: (c.agency, c.day, c.case_id))
    return result


def score_case(item: CaseResult, start: dt.date, end: dt.date, agency: str | None,
               grades: tuple[tuple[str, int], ...]) -> CaseScore | None:
    """The file's score if it belongs to [start, end] (and ``agency``); None otherwise."""
    assert item.loaded is not None
    case = item.loaded.case
    day = review_day(case)
    if day is None or not start <= day <= end or (agency and case.agency.code != agency):
        return None
    if item.failure or item.problem:
        return None                    # reported with the check's problems, never scored on a guess
    deductions = {c: 0 for c in CATEGORIES}
    for f in item_deductions(item.findings):
        deductions[f.category] += f.deduction
    score = max(0, 100 - sum(deductions.values()))
    vetoes = sorted({f.rule_id for f in item.findings if f.veto})
    acting = dict.fromkeys(o for e in case.events for o in e.officers)
    names = {o.id: o.name for o in case.officers}
    return CaseScore(case.case_id, case.agency.code, case.procedure,
                     (case.matter.domain or case.matter.code) if case.matter else "—",
                     [names[o] for o in acting], day, score, {k: v for k, v in deductions.items() if v},
                     vetoes, _grade(score, bool(vetoes), grades), sorted(f.rule_id for f in item.findings),
                     str(case.agency.name),
                     (case.party.kind, str(case.party.name), str(case.party.id)) if case.party else None)
