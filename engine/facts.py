"""The per-case fact view: everything a rule condition needs, computed once in Python.

A case becomes a list of small typed facts, each about one act (a decision, a publicity obligation, an
officer acting on a date, a workflow step, a deadline clock). Working-day arithmetic, counts and
"is there an approved review dated before the decision" are decided here, so a rule condition is a
flat comparison of a fact field with a constant. That keeps the rule engine away from every construct
measured to misbehave in durable-rules 2.0.28 (joins, nested ``$and``, ``none()``, counting, floats).

Field types are strict: condition fields are ``int`` (days as ordinals, money in fen), ``bool`` or
``str`` codes. Fields marked ``display`` (dates as text, names) are for messages only and never reach
the engine. Every fact has ``act_day``: the date of the act that selects the law version applied.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Iterable

from .calendar import WorkCalendar
from .model import CaseFile, Decided, LegalReview, Officer
from .profile import Profile
from .workflow import Workflow

__all__ = ["Fact", "FACT_KINDS", "FactContext", "build_facts", "condition_fields", "fen"]


def _display(default: Any = "") -> Any:
    return field(default=default, metadata={"display": True})


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    KIND: ClassVar[str] = ""
    key: str = field(metadata={"display": True})
    act_day: int
    events: tuple[int, ...] = field(default=(), metadata={"display": True})
    due_date: str = _display()

    @property
    def kind(self) -> str:
        return self.KIND


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionFact(Fact):
    """One decision (``decided`` event) and what precedes it in the file."""

    KIND: ClassVar[str] = "decision"
    procedure: str
    outcome: str                      # penalty | no_penalty | transfer
    party_kind: str                   # person | organization | none
    penalty_kind: str                 # "" when no penalty
    fine_fen: int
    major: bool
    review_required: bool             # law + profile: this decision must be legally reviewed first
    review_approved_before: bool      # the last review dated on/before it, listed before it, approved
    reviewer_investigated: bool       # that approving reviewer also acted in the investigation
    notice_before: bool               # a 告知 listed before it and dated on/before it
    review_state: str = _display()    # none | approved | returned | rejected | late_review
    review_date: str = _display()
    reviewer_name: str = _display()
    decision_date: str = _display()
    notice_date: str = _display()
    fine_yuan: str = _display()


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicityFact(Fact):
    """One publicity obligation: a decision to be publicized on one platform within a window."""

    KIND: ClassVar[str] = "publicity"
    obligation: str                   # penalty_decision
    platform: str
    procedure: str
    window_workdays: int
    status: str                       # on_time | late | missed | open
    late_workdays: int                # working days past the due date (publicized, or as of the as-of date)
    decision_date: str = _display()
    publicized_date: str = _display()
    as_of_date: str = _display()


@dataclass(frozen=True, slots=True, kw_only=True)
class OfficerActFact(Fact):
    """One officer acting in one event."""

    KIND: ClassVar[str] = "officer_act"
    event_type: str
    has_certificate: bool
    certificate_valid: bool           # held and valid on the date of the act
    officer_name: str = _display()
    certificate: str = _display()
    valid_until_date: str = _display()
    act_date: str = _display()


@dataclass(frozen=True, slots=True, kw_only=True)
class ActFact(Fact):
    """One act done by officers (inspection, inquiry, evidence preservation, service, decision…)."""

    KIND: ClassVar[str] = "act"
    event_type: str
    procedure: str
    officer_count: int                # distinct officers named on the act
    act_date: str = _display()


@dataclass(frozen=True, slots=True, kw_only=True)
class StepFact(Fact):
    """One event replayed through the case's workflow."""

    KIND: ClassVar[str] = "step"
    event_type: str
    procedure: str
    allowed: bool
    reason: str                       # "" | wrong_state | unknown_event | date_order
    state_before: str = _display()
    act_date: str = _display()


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineFact(Fact):
    """A deadline clock running from an act (act_day) to a due date."""

    KIND: ClassVar[str] = "deadline"
    clock: str                        # decision_90
    status: str                       # met | late | missed | open
    overdue_days: int                 # calendar days past due (at the act, or at the as-of date)
    extension_days: int
    start_date: str = _display()
    done_date: str = _display()
    as_of_date: str = _display()


FACT_KINDS: dict[str, type[Fact]] = {
    cls.KIND: cls for cls in (DecisionFact, PublicityFact, OfficerActFact, ActFact, StepFact, DeadlineFact)
}


def condition_fields(kind: str) -> dict[str, type]:
    """The fields of a fact kind a rule condition may compare, with their Python types."""
    cls = FACT_KINDS[kind]
    types = {"int": int, "bool": bool, "str": str}
    return {f.name: types[f.type if isinstance(f.type, str) else f.type.__name__]
            for f in dataclasses.fields(cls) if not f.metadata.get("display")}


@dataclass(frozen=True)
class FactContext:
    calendar: WorkCalendar
    as_of: dt.date
    profile: Profile
    workflows: dict[str, Workflow]


def fen(amount: Decimal | None) -> int:
    return 0 if amount is None else int((amount * 100).to_integral_value())


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


INVESTIGATIVE = frozenset({"registered", "inspected", "inquired", "evidence_preserved", "evidence_handled",
                           "notified"})
ACTS = frozenset({"inspected", "inquired", "evidence_preserved", "evidence_handled", "served", "decided",
                  "hearing_held", "notified"})


def build_facts(case: CaseFile, ctx: FactContext) -> list[Fact]:
    """All facts of one case. May raise ``CalendarError`` for a date no calendar covers."""
    events = case.events
    facts: list[Fact] = []
    workflow = ctx.workflows[case.procedure]
    steps = workflow.replay([(e.type, e.date.toordinal()) for e in events])
    for step in steps:
        facts.append(StepFact(key=f"s{step.index}", act_day=step.date_ordinal, events=(step.index,),
                              event_type=step.event_type, procedure=case.procedure, allowed=step.allowed,
                              reason=step.reason, state_before=step.state_before,
                              act_date=events[step.index].date.isoformat()))
    officers = {o.id: o for o in case.officers}
    for i, event in enumerate(events):
        for officer_id in dict.fromkeys(event.officers):
            facts.append(_officer_act(i, event.type, event.date, officers[officer_id]))
        if event.type in ACTS:
            facts.append(ActFact(key=f"a{i}", act_day=event.date.toordinal(), events=(i,),
                                 event_type=event.type, procedure=case.procedure,
                                 officer_count=len(set(event.officers)), act_date=event.date.isoformat()))
    for i, event in enumerate(events):
        if isinstance(event, Decided):
            facts.append(_decision(case, i, event, ctx))
            facts.extend(_publicity(case, i, event, ctx))
    clock = _decision_clock(case, ctx)
    if clock is not None:
        facts.append(clock)
    return facts


def _officer_act(i: int, event_type: str, day: dt.date, officer: Officer) -> OfficerActFact:
    held = bool(officer.certificate)
    valid = held and (officer.certificate_valid_until is None or day <= officer.certificate_valid_until) \
        and (officer.certificate_valid_from is None or officer.certificate_valid_from <= day)
    return OfficerActFact(key=f"o{i}:{officer.id}", act_day=day.toordinal(), events=(i,), event_type=event_type,
                          has_certificate=held, certificate_valid=valid, officer_name=officer.name,
                          certificate=officer.certificate or "", act_date=day.isoformat(),
                          valid_until_date=_iso(officer.certificate_valid_until))


def _investigators(case: CaseFile, before: int) -> set[str]:
    return {o for e in case.events[:before] if e.type in INVESTIGATIVE for o in e.officers}


def _decision(case: CaseFile, i: int, event: Decided, ctx: FactContext) -> DecisionFact:
    prior = case.events[:i]
    reviews = [(j, e) for j, e in enumerate(prior) if isinstance(e, LegalReview)]
    on_time = [(j, e) for j, e in reviews if e.date <= event.date]
    last = on_time[-1] if on_time else None
    if last is not None:
        state = last[1].result
    elif reviews:
        state = "late_review"           # listed before the decision but dated after it
    else:
        later = [e for e in case.events[i + 1:] if isinstance(e, LegalReview)]
        state = "late_review" if later else "none"
    approved = last is not None and last[1].result == "approved"
    reviewer = last[1].reviewer if approved else None
    notices = [(j, e) for j, e in enumerate(prior) if e.type == "notified" and e.date <= event.date]
    penalty = event.penalty
    heard = any(e.type == "hearing_held" for e in prior)
    required = (case.procedure == "ordinary" and event.outcome == "penalty"
                and (ctx.profile["legal_review_all_ordinary_penalties"] or event.major or heard))
    shown = [i] + ([last[0]] if last else [])
    return DecisionFact(
        key=f"d{i}", act_day=event.date.toordinal(), events=tuple(sorted(shown)),
        procedure=case.procedure, outcome=event.outcome,
        party_kind=case.party.kind if case.party else "none",
        penalty_kind=penalty.kind if penalty else "", fine_fen=fen(penalty.amount if penalty else None),
        major=event.major, review_required=required, review_approved_before=approved,
        reviewer_investigated=reviewer is not None and reviewer in _investigators(case, i),
        notice_before=bool(notices),
        review_state=state, review_date=_iso(last[1].date) if last else "",
        reviewer_name=case.officer(reviewer).name if reviewer else "",
        decision_date=event.date.isoformat(), notice_date=_iso(notices[-1][1].date) if notices else "",
        fine_yuan=f"{penalty.amount:,.2f}" if penalty and penalty.amount is not None else "",
    )


def _publicity(case: CaseFile, i: int, event: Decided, ctx: FactContext) -> Iterable[PublicityFact]:
    if case.procedure != "ordinary" or event.outcome != "penalty":
        return
    platforms = ["supervision_platform"]
    if case.party and case.party.kind in ctx.profile["credit_publicity_party_kinds"]:
        platforms.append("credit_china")
    window = 7
    due = ctx.calendar.add_workdays(event.date, window)
    for platform in platforms:
        found = next(((j, e) for j, e in enumerate(case.events[i + 1:], i + 1)
                      if e.type == "publicized" and getattr(e, "platform", None) == platform), None)
        shown: tuple[int, ...] = (i,)
        if found:
            day = found[1].date
            shown = (i, found[0])
            status = "on_time" if day <= due else "late"
            late = max(0, ctx.calendar.workdays_between(due, day))
        elif ctx.as_of > due:
            status, late, day = "missed", ctx.calendar.workdays_between(due, ctx.as_of), None
        else:
            status, late, day = "open", 0, None
        yield PublicityFact(
            key=f"p{i}:{platform}", act_day=event.date.toordinal(), events=shown, due_date=due.isoformat(),
            obligation="penalty_decision", platform=platform, procedure=case.procedure,
            window_workdays=window, status=status, late_workdays=late, decision_date=event.date.isoformat(),
            publicized_date=_iso(day), as_of_date=ctx.as_of.isoformat())


def _decision_clock(case: CaseFile, ctx: FactContext) -> DeadlineFact | None:
    if case.procedure != "ordinary":
        return None
    start = next(((j, e) for j, e in enumerate(case.events) if e.type == "registered"), None)
    if start is None:
        return None
    s_index, s_event = start
    cap = ctx.profile["decision_extension_max_days"]
    extension = min(cap, sum(getattr(e, "days", 0) for e in case.events if e.type == "extension_approved"))
    due = ctx.calendar.add_days(s_event.date, 90 + extension)
    done = next(((j, e) for j, e in enumerate(case.events) if e.type in ("decided", "revoked")), None)
    shown: tuple[int, ...] = (s_index,)
    if done:
        shown = (s_index, done[0])
        day = done[1].date
        status, overdue = ("met", 0) if day <= due else ("late", (day - due).days)
    elif ctx.as_of > due:
        status, overdue, day = "missed", (ctx.as_of - due).days, None
    else:
        status, overdue, day = "open", 0, None
    return DeadlineFact(key="k:decision_90", act_day=s_event.date.toordinal(), events=shown,
                        due_date=due.isoformat(), clock="decision_90", status=status, overdue_days=overdue,
                        extension_days=extension, start_date=s_event.date.isoformat(), done_date=_iso(day),
                        as_of_date=ctx.as_of.isoformat())
