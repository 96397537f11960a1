"""Publicity obligations (三项制度 事后公开): penalty decisions (7 working days), other decisions and
inspection results (20), and withdrawal of a publicized decision that was revoked (3)."""

from __future__ import annotations

import datetime as dt
from typing import Iterator

from ..model import CaseFile, Decided
from .context import FactContext, iso
from .kinds import Fact, PublicityFact


def publicity_facts(case: CaseFile, ctx: FactContext) -> Iterator[Fact]:
    events = case.events
    for i, event in enumerate(events):
        if isinstance(event, Decided):
            yield from _decision(case, i, event, ctx)
    if case.procedure == "inspection":
        first = next((i for i, e in enumerate(events) if e.type == "inspected"), None)
        if first is not None:
            yield from _obligation(case, first, "other_decision", "publicity_other", ["supervision_platform"],
                                   "publicized", ctx)
    for i, event in enumerate(events):
        if event.type == "revoked":
            platforms = list(dict.fromkeys(getattr(e, "platform") for e in events[:i] if e.type == "publicized"))
            if platforms:
                yield from _obligation(case, i, "withdrawal", "publicity_withdrawal", platforms,
                                       "publicity_withdrawn", ctx)


def _decision(case: CaseFile, i: int, event: Decided, ctx: FactContext) -> Iterator[Fact]:
    if event.outcome == "penalty":
        if case.procedure == "ordinary" or (case.procedure == "simple" and ctx.profile["publicity_simple_penalties"]):
            platforms = ["supervision_platform"]
            if case.party and case.party.kind in ctx.profile["credit_publicity_party_kinds"]:
                platforms.append("credit_china")
            yield from _obligation(case, i, "penalty_decision", "publicity_penalty", platforms, "publicized", ctx)
    elif event.outcome == "no_penalty" and case.procedure == "ordinary":
        yield from _obligation(case, i, "other_decision", "publicity_other", ["supervision_platform"],
                               "publicized", ctx)


def _obligation(case: CaseFile, i: int, obligation: str, period_id: str, platforms: list[str], done_type: str,
                ctx: FactContext) -> Iterator[PublicityFact]:
    start: dt.date = case.events[i].date
    period = ctx.periods.at(period_id, start)
    if period is None:
        return
    due = period.due(start, ctx.calendar)
    revoked = None
    if obligation != "withdrawal":          # a decision revoked later: nothing left to publicize after that day
        revoked = next((e.date for e in case.events[i + 1:] if e.type == "revoked"), None)
    for platform in platforms:
        found = next(((j, e) for j, e in enumerate(case.events[i + 1:], i + 1)
                      if e.type == done_type and getattr(e, "platform", None) == platform), None)
        shown: tuple[int, ...] = (i,)
        day: dt.date | None
        if found:
            day = found[1].date
            shown = (i, found[0])
            status = "on_time" if day <= due else "late"
            late = max(0, ctx.calendar.workdays_between(due, day))
        elif revoked is not None and revoked <= due:
            continue                        # revoked within the window, never publicized: no publicity is due
        elif revoked is not None:
            status, late, day = "missed_revoked", ctx.calendar.workdays_between(due, revoked), None
        elif ctx.as_of > due:
            status, late, day = "missed", ctx.calendar.workdays_between(due, ctx.as_of), None
        else:
            status, late, day = "open", 0, None
        yield PublicityFact(
            key=f"p{i}:{platform}", act_day=start.toordinal(), events=shown, due_date=due.isoformat(),
            obligation=obligation, platform=platform, procedure=case.procedure, window_workdays=period.days,
            status=status, late_workdays=late, start_date=start.isoformat(), publicized_date=iso(day),
            as_of_date=ctx.as_of.isoformat(), revoked_date=iso(revoked))
