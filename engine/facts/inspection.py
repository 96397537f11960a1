"""Facts about inspections of businesses (涉企行政检查, 国办发〔2024〕54号 and the 2025 rules after it).

One ``InspectionFact`` per on-site inspection of an inspection-procedure case: its kind and trigger, the
item against the agency's published list, the head's approval, a campaign's plan, who inspected, the
feedback to the business, its place in the yearly count of inspections of the business by the agency
(from the case and the parties' history), and scan-on-entry where the profile asks for it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, Iterator

from ..errors import DefinitionError
from ..model import CaseFile
from .context import FactContext, iso
from .kinds import Fact, InspectionFact

__all__ = ["inspection_facts", "ASSISTANT_ROLES", "certified_on", "yearly_cap", "counted_inspections"]

ASSISTANT_ROLES = frozenset({"auxiliary", "grid", "third_party"})


@lru_cache(maxsize=64)
def _agency(code: str) -> Any:
    from ..agency import load_agency

    try:
        return load_agency(code)
    except DefinitionError:
        return None


def certified_on(officer: Any, day: dt.date) -> bool:
    return bool(officer.certificate) and officer.role not in ASSISTANT_ROLES \
        and (officer.certificate_valid_until is None or day <= officer.certificate_valid_until) \
        and (officer.certificate_valid_from is None or officer.certificate_valid_from <= day)


def yearly_cap(profile: Any, domain: str | None) -> int:
    caps = dict(profile["inspection_yearly_cap"])
    return caps.get(domain or "", caps["default"])


def counted_inspections(case: CaseFile, ctx: FactContext) -> list[tuple[dt.date, str, str, int]]:
    """The business's inspections by this case's agency that count toward the cap (not 个案): this case's
    and the history's, as sortable (day, agency, case id, event index)."""
    assert case.party is not None
    here = (case.agency.code, case.case_id)
    seen = [(p.day, p.agency, p.case_id, p.index) for p in ctx.history.inspections(case.party.id, exclude=here)
            if p.agency == case.agency.code and p.kind != "case"]
    seen += [(e.date, case.agency.code, case.case_id, i) for i, e in enumerate(case.events)
             if e.type == "inspected" and e.kind != "case"]
    return sorted(seen)


def inspection_facts(case: CaseFile, ctx: FactContext) -> Iterator[Fact]:
    if case.procedure != "inspection":
        return
    officers = {o.id: o for o in case.officers}
    agency = _agency(case.agency.code)
    closed = any(e.type == "closed" for e in case.events)
    counted = counted_inspections(case, ctx) if case.party is not None else []
    cap = yearly_cap(ctx.profile, case.matter.domain if case.matter else None)
    for i, e in enumerate(case.events):
        if e.type != "inspected":
            continue
        day = e.date
        people = [officers[o] for o in dict.fromkeys(e.officers)]
        certified = sum(certified_on(o, day) for o in people)
        assistants = sum(o.role in ASSISTANT_ROLES for o in people)
        approval, due = _approval(e, ctx)
        year_count = 0
        if case.party is not None and e.kind != "case":
            mine = (day, case.agency.code, case.case_id, i)
            year_count = sum(1 for c in counted if c[0].year == day.year and c <= mine)
        yield InspectionFact(
            key=f"i{i}", act_day=day.toordinal(), events=(i,), inspection_kind=e.kind or "unrecorded",
            trigger=e.trigger or "",
            item_status=agency.inspection_listed(e.item, case.matter.code if case.matter else None)
            if agency is not None else "no_list",
            approval=approval, plan=_plan(e), certified_officers=certified, assistants=assistants,
            feedback="given" if e.feedback_on else ("missing" if closed else "open"),
            year_count=year_count, over_cap=year_count > cap, scan=_scan(e, ctx),
            act_date=day.isoformat(), item=e.item or (case.matter.code if case.matter else ""),
            approved_date=iso(e.approved_on), approval_due_date=iso(due), year_cap=cap,
            year_text=f"{day.year}", scan_date=iso(e.scanned_on), agency_name=case.agency.name)


def _approval(e: Any, ctx: FactContext) -> tuple[str, dt.date | None]:
    """The head's approval (行政检查审批表): before (on or before the day), or in an emergency completed
    within the profile's working days after it."""
    if e.emergency:
        due = ctx.calendar.add_workdays(e.date, ctx.profile["inspection_emergency_approval_workdays"])
        if e.approved_on is None:
            return ("emergency_late" if ctx.as_of > due else "emergency_in_time"), due
        return ("emergency_in_time" if e.approved_on <= due else "emergency_late"), due
    if e.approved_on is None:
        return "missing", None
    return ("before" if e.approved_on <= e.date else "after"), None


def _plan(e: Any) -> str:
    if e.kind != "campaign":
        return "na"
    for state, day in (("not_approved", e.plan_approved_on), ("not_filed", e.plan_filed_on),
                       ("not_published", e.plan_published_on)):
        if day is None or day > e.date:
            return state
    return "ok"


def _scan(e: Any, ctx: FactContext) -> str:
    if not ctx.profile["inspection_scan_on_entry"]:
        return "not_required"
    if e.scanned_on is None:
        late_by = (ctx.as_of - e.date).days
        return "missing" if late_by > ctx.profile["inspection_scan_late_days"] else "on_time"
    if e.scanned_on <= e.date:
        return "on_time"
    if (e.scanned_on - e.date).days <= ctx.profile["inspection_scan_late_days"] and e.scan_reason:
        return "late_with_reason"
    return "late"
