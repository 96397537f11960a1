"""Inspections of businesses across cases (涉企行政检查, issue 19): repeat-inspection alerts and the
inspection counts per business for the annual statistics.

A business inspected again within the profile's ``inspection_repeat_days`` (个案 inspections excluded),
or by ``inspection_repeat_agencies`` different agencies in that window, is alerted on the as-of day
when the later inspection falls within the window before it. The same rows come from case files
(``rows_from_cases``) or from a store (``engine.store.inspections.inspections_between``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

from .loader import LoadedCase

__all__ = ["RepeatInspection", "rows_from_cases", "repeat_inspections", "inspection_counts",
           "add_repeat_section", "add_counts_section"]


@dataclass(frozen=True)
class RepeatInspection:
    party_id: str
    party: str
    agency: str
    case_id: str
    file: str
    day: dt.date
    reason: str                  # within_days | agencies
    previous: str                # the earlier inspections of the window: "date agency case"
    count: int                   # inspections of the business in the window, this one included
    agencies: int                # distinct agencies among them
    party_kind: str = ""         # person | organization: a person's ID is masked in reports


def rows_from_cases(cases: Iterable[LoadedCase]) -> list[dict[str, Any]]:
    rows = []
    for item in cases:
        case = item.case
        if case.procedure != "inspection" or case.party is None:
            continue
        for i, e in enumerate(case.events):
            if e.type == "inspected":
                rows.append({"agency": case.agency.code, "case_id": case.case_id, "party_id": case.party.id,
                             "party": case.party.name, "party_kind": case.party.kind, "day": e.date,
                             "kind": e.kind or "", "index": i, "file": item.ref})
    return rows


def repeat_inspections(rows: Iterable[dict[str, Any]], as_of: dt.date, *, days: int, agencies: int,
                       agency: str | None = None) -> list[RepeatInspection]:
    """Inspections dated in (as_of − days, as_of] that repeat an inspection of the same business within
    ``days`` calendar days, or bring the agencies inspecting it in that window to ``agencies``."""
    by_party: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["kind"] != "case" and r["day"] <= as_of:
            by_party[r["party_id"]].append(r)
    found = []
    start = as_of - dt.timedelta(days=days - 1)
    for party_id, seen in by_party.items():
        seen.sort(key=lambda r: (r["day"], r["agency"], r["case_id"], r["index"]))
        for n, r in enumerate(seen):
            if r["day"] < start or (agency and r["agency"] != agency):
                continue
            window = [p for p in seen[:n] if (r["day"] - p["day"]).days < days]
            who = {p["agency"] for p in window} | {r["agency"]}
            if not window:
                continue
            reason = "agencies" if len(who) >= agencies else "within_days"
            previous = "；".join(f"{p['day']} {p['agency']} {p['case_id']}" for p in window)
            found.append(RepeatInspection(party_id, r["party"], r["agency"], r["case_id"], r["file"], r["day"],
                                          reason, previous, len(window) + 1, len(who), r.get("party_kind") or ""))
    return sorted(found, key=lambda f: (f.day, f.party_id, f.agency, f.case_id), reverse=True)


def inspection_counts(rows: Iterable[dict[str, Any]], year: int, agency: str | None = None) -> list[dict[str, Any]]:
    """Inspections per business and agency in ``year`` (all kinds; 个案 shown apart): the frequency the
    annual statistics now report."""
    counts: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if r["day"].year != year or (agency and r["agency"] != agency):
            continue
        entry = counts.setdefault((r["agency"], r["party_id"]), {
            "agency": r["agency"], "party_id": r["party_id"], "party": r["party"],
            "party_kind": r.get("party_kind") or "", "inspections": 0, "case": 0})
        entry["inspections"] += 1
        entry["case"] += r["kind"] == "case"
    return sorted(counts.values(), key=lambda e: (-e["inspections"], e["agency"], e["party_id"]))


def _pick(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


# The inspected party: an organisation (企业) or a person (a 个体工商户 — sole traders count as businesses in
# 涉企行政检查 — or a private person; a case file does not say which): headed so that both read true.
def _party_columns() -> list[Any]:
    from .report.document import Column

    return [Column("party", "检查对象", "inspected party"), Column("party_type", "类型", "kind"),
            Column("party_id", "证件号码或统一社会信用代码", "ID number or credit code")]     # rows also carry party_kind


def _party_cells(kind: str, name: str, ident: str, lang: str, masked: bool) -> dict[str, Any]:
    from .report.privacy import party_id_text
    from .vocab import label

    return {"party": name, "party_type": label(kind, lang) if kind else "", "party_kind": kind,
            "party_id": party_id_text(kind, ident, masked)}


def add_repeat_section(doc: Any, found: list[RepeatInspection], lang: str, *, days: int, agencies: int,
                       masked: bool = True) -> None:
    """The repeat-inspection alerts; a person's ID number masked unless ``masked`` is False."""
    from .report.document import Column, Section

    rows = [{"day": f.day.isoformat(), **_party_cells(f.party_kind, f.party, f.party_id, lang, masked),
             "agency": f.agency, "case_id": f.case_id,
             "reason": _pick(lang, f"{days}日内第{f.count}次检查" if f.reason == "within_days"
                             else f"{days}日内{f.agencies}个执法主体检查",
                             f"inspection no. {f.count} within {days} days" if f.reason == "within_days"
                             else f"{f.agencies} agencies within {days} days"),
             "previous": f.previous, "file": f.file} for f in found]
    doc.summary.append(("repeat_inspections", _pick(lang, "重复检查预警", "repeat inspections"), len(found)))
    doc.sections.append(Section(
        "repeat_inspections", f"重复检查预警（{days}日内再次检查或{agencies}个以上执法主体检查，个案检查除外）",
        f"Repeat inspections (again within {days} days, or by {agencies}+ agencies; case inspections aside)",
        [Column("day", "检查日", "inspected", "date"), *_party_columns(), Column("agency", "执法主体", "agency"),
         Column("case_id", "案件", "case"), Column("reason", "预警", "alert"),
         Column("previous", "此前检查", "earlier inspections"), Column("file", "文件", "file")], rows))


def add_counts_section(doc: Any, counts: list[dict[str, Any]], lang: str, masked: bool = True) -> None:
    """Inspections per inspected party (涉企检查频次); a person's ID number masked unless ``masked`` is False."""
    from .report.document import Column, Section

    rows = [{"agency": c["agency"], **_party_cells(c["party_kind"], c["party"], c["party_id"], lang, masked),
             "inspections": c["inspections"], "case": c["case"]} for c in counts]
    doc.sections.append(Section(
        "inspection_frequency", "涉企检查频次（按检查对象）", "Inspections per inspected business or person",
        [Column("agency", "执法主体", "agency"), *_party_columns(), Column("inspections", "检查次数", "inspections", "int"),
         Column("case", "其中个案检查", "of which case inspections", "int")], rows))
