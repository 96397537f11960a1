"""Deadline clocks (decision, service, evidence handling, filing), the hearing notice lead time, the
limitation period, the late-fee cap and what was executed before closing."""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from decimal import Decimal
from typing import Iterator

from ..model import CaseFile, Decided
from ..periods import Period
from .context import FactContext, fen, iso
from .kinds import ClosingFact, DeadlineFact, Fact, HearingFact, LimitationFact, PaymentFact


def clock_facts(case: CaseFile, ctx: FactContext) -> Iterator[Fact]:
    decision = _decision_clock(case, ctx)
    if decision is not None:
        yield decision
    events = case.events
    for i, event in enumerate(events):
        if isinstance(event, Decided) and event.outcome == "penalty" and case.procedure in ("ordinary", "simple"):
            served = _next(case, i, "served")
            backdated = None if served is not None else next(
                (j for j, e in enumerate(events[i + 1:], i + 1) if e.type == "served" and e.date < event.date), None)
            fact = _clock(case, ctx, "service_7", "service", i, served, backdated=backdated)
            if fact:
                yield fact
            if case.procedure == "simple":
                fact = _clock(case, ctx, "simple_filing", "simple_filing", i, _next(case, i, "filed"))
                if fact:
                    yield fact
    for i, event in enumerate(events):
        if event.type == "seized":
            fact = _seizure_clock(case, ctx, i)
            if fact:
                yield fact
    preserved = [i for i, e in enumerate(events) if e.type == "evidence_preserved"]
    handled = [i for i, e in enumerate(events) if e.type == "evidence_handled"]
    for i in preserved:
        # one handling decision may dispose of several preservations, each within its own period
        done = next((j for j in handled if j > i and events[j].date >= events[i].date), None)
        fact = _clock(case, ctx, "evidence_7", "evidence_handling", i, done, key=f"k:evidence_7:{i}")
        if fact:
            yield fact
    yield from _hearings(case, ctx)
    limitation = _limitation(case)
    if limitation is not None:
        yield limitation
    payment = _payment(case)
    if payment is not None:
        yield payment
    closing = _closing(case)
    if closing is not None:
        yield closing


def _next(case: CaseFile, i: int, event_type: str) -> int | None:
    day = case.events[i].date
    return next((j for j, e in enumerate(case.events[i + 1:], i + 1) if e.type == event_type and e.date >= day),
                None)


def _status(due: dt.date, done: dt.date | None, ctx: FactContext, paused: bool = False) -> tuple[str, int, int]:
    """status, calendar days and working days past due (at the act, or at the as-of date)."""
    if done is not None:
        if done <= due:
            return "met", 0, 0
        return "late", (done - due).days, ctx.calendar.workdays_between(due, done)
    if ctx.as_of > due and not paused:
        return "missed", (ctx.as_of - due).days, ctx.calendar.workdays_between(due, ctx.as_of)
    return "open", 0, 0


def _late_text(period: Period, days: int, workdays: int) -> tuple[str, str]:
    """Lateness in the period's own unit: working days for 工作日 periods, calendar days for 日."""
    if period.unit == "workdays":
        return f"{workdays} 个工作日", f"{workdays} working days"
    return f"{days} 日", f"{days} days"


def _clock(case: CaseFile, ctx: FactContext, clock: str, period_id: str, start_index: int, done_index: int | None,
           key: str | None = None, backdated: int | None = None) -> DeadlineFact | None:
    start = case.events[start_index].date
    period: Period | None = ctx.periods.at(period_id, start)
    if period is None:
        return None
    due = period.due(start, ctx.calendar)
    done = case.events[done_index].date if done_index is not None else None
    status, days, workdays = _status(due, done, ctx)
    shown = (start_index,) if done_index is None else (start_index, done_index)
    if status == "missed" and backdated is not None:         # a service dated before the decision it serves
        status, shown = "backdated", (start_index, backdated)
    late, late_en = _late_text(period, days, workdays)
    return DeadlineFact(key=key or f"k:{clock}:{start_index}", act_day=start.toordinal(), events=shown,
                        due_date=due.isoformat(), clock=clock, status=status, overdue_days=days,
                        overdue_workdays=workdays, extension_days=0, paused_days=0, start_date=start.isoformat(),
                        done_date=iso(done), as_of_date=ctx.as_of.isoformat(), period_text=period.text("zh"),
                        late_text=late, late_text_en=late_en, late_unit=period.unit,
                        backdated_date=iso(case.events[backdated].date) if backdated is not None else "")


def _seizure_clock(case: CaseFile, ctx: FactContext, i: int) -> DeadlineFact | None:
    """A seizure (查封、扣押) is decided on (处理决定) or released within 30 days, or within the extension
    approved before those ran out (行政强制法 第二十五条、第二十七条、第二十八条)."""
    start = case.events[i].date
    period = ctx.periods.at("seizure", start)
    if period is None:
        return None
    first_due = period.due(start, ctx.calendar)
    extension = min(30, sum(getattr(e, "days", 0) for e in case.events[i + 1:]
                            if e.type == "seizure_extended" and start <= e.date <= first_due))
    due = ctx.calendar.add_days(start, period.days + extension) if extension else first_due
    done = next((j for j, e in enumerate(case.events[i + 1:], i + 1) if e.date >= start and (
        e.type == "released" or (isinstance(e, Decided) and e.penalty is not None and e.penalty.kind == "confiscation"))),
        None)                                # released, or the seized things confiscated (处理决定)
    done_day = case.events[done].date if done is not None else None
    status, days, workdays = _status(due, done_day, ctx)
    shown = (i,) if done is None else (i, done)
    return DeadlineFact(key=f"k:seizure_30:{i}", act_day=start.toordinal(), events=shown, due_date=due.isoformat(),
                        clock="seizure_30", status=status, overdue_days=days, overdue_workdays=workdays,
                        extension_days=extension, paused_days=0, start_date=start.isoformat(),
                        done_date=iso(done_day), as_of_date=ctx.as_of.isoformat(),
                        period_text=period.text("zh") + (f"（延长{extension}日）" if extension else ""),
                        late_unit=period.unit)


def _paused_days(case: CaseFile, ctx: FactContext, until: dt.date) -> tuple[int, bool]:
    """Calendar days inside paired pause events of the kinds the profile excludes; still paused?"""
    kinds = set(ctx.profile["decision_clock_pauses"])
    open_since: dict[str, dt.date] = {}
    total = 0
    for event in case.events:
        if event.type not in ("suspended", "resumed") or event.pause not in kinds:
            continue
        if event.date > until:
            break
        if event.type == "suspended":
            open_since.setdefault(event.pause, event.date)
        elif event.pause in open_since:
            total += (event.date - open_since.pop(event.pause)).days
    for since in open_since.values():
        total += (until - since).days
    return total, bool(open_since)


def _decision_clock(case: CaseFile, ctx: FactContext) -> DeadlineFact | None:
    if case.procedure != "ordinary":
        return None
    start = next(((j, e) for j, e in enumerate(case.events) if e.type == "registered"), None)
    if start is None:
        return None
    s_index, s_event = start
    period = ctx.periods.at("decision", s_event.date)
    if period is None:
        return None
    cap = ctx.profile["decision_extension_max_days"]
    done = next(((j, e) for j, e in enumerate(case.events) if e.type in ("decided", "revoked")), None)
    paused, still = _paused_days(case, ctx, done[1].date if done else ctx.as_of)
    # an extension counts only when approved before the period ran out (an expired period is not extended)
    ran_out = ctx.calendar.add_days(s_event.date, period.days + paused)
    extension = min(cap, sum(getattr(e, "days", 0) for e in case.events
                             if e.type == "extension_approved" and e.date <= ran_out))
    due = ctx.calendar.add_days(s_event.date, period.days + extension + paused)
    status, days, workdays = _status(due, done[1].date if done else None, ctx, paused=still)
    shown = (s_index,) if done is None else (s_index, done[0])
    return DeadlineFact(key="k:decision_90", act_day=s_event.date.toordinal(), events=shown,
                        due_date=due.isoformat(), clock="decision_90", status=status, overdue_days=days,
                        overdue_workdays=workdays, extension_days=extension, paused_days=paused,
                        start_date=s_event.date.isoformat(), done_date=iso(done[1].date) if done else "",
                        as_of_date=ctx.as_of.isoformat(), period_text=period.text("zh"), late_unit=period.unit)


def _hearings(case: CaseFile, ctx: FactContext) -> Iterator[HearingFact]:
    for i, event in enumerate(case.events):
        if event.type != "hearing_held":
            continue
        notices = [(j, e) for j, e in enumerate(case.events[:i]) if e.type == "hearing_noticed" and e.date <= event.date]
        if not notices:
            host = _host(case, i, event)
            yield HearingFact(key=f"h{i}", act_day=event.date.toordinal(), events=(i,), noticed=False,
                              notice_short=False, notice_state="missing", hearing_date=event.date.isoformat(),
                              **host)
            continue
        j, notice = notices[-1]
        host = _host(case, i, event)
        period = ctx.periods.at("hearing_notice", notice.date)
        earliest = period.due(notice.date, ctx.calendar) if period else notice.date
        yield HearingFact(key=f"h{i}", act_day=event.date.toordinal(), events=(j, i), noticed=True,
                          notice_short=event.date < earliest,
                          notice_state="short" if event.date < earliest else "ok", notice_date=notice.date.isoformat(),
                          hearing_date=event.date.isoformat(), period_text=period.text("zh") if period else "",
                          due_date=earliest.isoformat(), **host)


def _host(case: CaseFile, i: int, event: object) -> dict[str, object]:
    """The hearing's host, when the host acted in the investigation (行政处罚法 第六十四条第（四）项): under
    the same officer id, or under another with the same certificate number (one person; ``persons``)."""
    from ..persons import same_person_text
    from .decision import investigated_as

    host = getattr(event, "host", None)
    officer = next((o for o in case.officers if o.id == host), None) if host else None
    investigated = investigated_as(case, officer, i) if officer is not None else []
    if not investigated:
        return {"host_investigated": False}
    return {"host_investigated": True, "host_name": f"{host} {officer.name}",
            "host_link": "self" if any(o.id == host for o in investigated) else "same_person",
            "host_same_person": same_person_text(officer, investigated)}


def _years_after(day: dt.date, years: int) -> dt.date:
    year = day.year + years
    return dt.date(year, day.month, min(day.day, _cal.monthrange(year, day.month)[1]))


def _limitation(case: CaseFile) -> LimitationFact | None:
    """行政处罚法 Art 36: two years (five with harm to life, health or financial safety) from the act, or
    from the end of a continuing act, to its discovery. Year periods end on the same date, not extended."""
    if case.violation is None or case.procedure == "inspection":
        return None
    found = next((e for e in case.events if e.type == "discovered"), None) \
        or next((e for e in case.events if e.type == "registered"), None) \
        or (case.events[0] if case.events else None)
    if found is None:
        return None
    act = case.violation.ended_on or case.violation.occurred_on
    two, five = _years_after(act, 2), _years_after(act, 5)
    index = case.events.index(found)
    return LimitationFact(key="l", act_day=act.toordinal(), events=(index,),
                          harm_to_safety=case.violation.harm_to_safety, within_2_years=found.date <= two,
                          within_5_years=found.date <= five, occurred_date=act.isoformat(),
                          discovered_date=found.date.isoformat(), limit_2_date=two.isoformat(),
                          limit_5_date=five.isoformat())


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _fine(case: CaseFile) -> tuple[int, Decided] | None:
    for i, event in enumerate(case.events):
        if isinstance(event, Decided) and event.penalty and event.penalty.amount is not None \
                and event.penalty.kind in ("fine", "confiscation"):
            return i, event
    return None


def _payment(case: CaseFile) -> PaymentFact | None:
    found = _fine(case)
    payments = [(j, e) for j, e in enumerate(case.events) if e.type == "paid"]
    if found is None or not payments:
        return None
    i, decision = found
    fine = decision.penalty.amount
    late = sum((e.late_fee for _, e in payments), Decimal(0))
    last = payments[-1][1].date
    spot = [e for _, e in payments if e.on_the_spot]
    allowed, limit_text = True, ""
    if spot:
        from ..special_laws import APL_SPOT_COLLECTION, special_limits

        day = spot[0].date
        special = special_limits(case.violation, day)
        kind = case.party.kind if case.party else "person"
        if special is not None and kind in special.spot_max:
            limit, limit_text = special.spot_max[kind], special.spot_basis
        else:
            limit, limit_text = next((f, t) for start, f, t in reversed(APL_SPOT_COLLECTION) if day >= start)
        allowed = fen(fine) <= limit or any(e.spot_reason for e in spot)
    return PaymentFact(key="pay", act_day=last.toordinal(), events=(i,) + tuple(j for j, _ in payments),
                       fine_fen=fen(fine), late_fee_fen=fen(late), late_fee_excess_fen=fen(late) - fen(fine),
                       fine_yuan=_money(fine), late_fee_yuan=_money(late), paid_date=last.isoformat(),
                       spot_collected=bool(spot), spot_allowed=allowed, spot_limit_text=limit_text)


def _closing(case: CaseFile) -> ClosingFact | None:
    if case.procedure == "inspection":
        return None
    closed = next(((j, e) for j, e in enumerate(case.events) if e.type == "closed"), None)
    if closed is None:
        return None
    c_index, c_event = closed
    before = case.events[:c_index]
    decision = next((e for e in before if isinstance(e, Decided)), None)
    if any(e.type == "revoked" for e in before):
        outcome = "revoked"
    elif decision is None:
        return None
    else:
        outcome = decision.outcome
    penalty = decision.penalty if decision else None
    paid = sum((e.amount for e in before if e.type == "paid"), Decimal(0))
    executed = True
    if outcome == "penalty" and penalty is not None:
        if penalty.amount is not None and penalty.kind in ("fine", "confiscation"):
            executed = paid >= penalty.amount or any(e.type == "enforced" for e in before)
        else:
            executed = any(e.type in ("served", "enforced") for e in before)
    return ClosingFact(key="c", act_day=c_event.date.toordinal(), events=(c_index,), outcome=outcome,
                       executed=executed, closing_date=c_event.date.isoformat(),
                       penalty_kind=penalty.kind if penalty else "",
                       fine_yuan=_money(penalty.amount) if penalty and penalty.amount is not None else "",
                       paid_yuan=_money(paid))
