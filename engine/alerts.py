"""Deadline alerts: every deadline still open or already missed on the as-of date, most urgent first.

They come from the same facts the rules judge (publicity windows of 7 and 20 working days, withdrawal,
service, the 90-day decision, evidence handling, filing of on-the-spot decisions), so an alert and a
finding can never disagree about a due date; plus the notice of a requested hearing, due 7 working days
before the decision's due day. Working days left are counted on the Chinese calendar;
negative means overdue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .calendar import WorkCalendar
from .facts import DeadlineFact, Fact, FactContext, PublicityFact
from .facts.clocks import clock_facts
from .facts.decision import decision_facts
from .facts.inspection import inspection_facts
from .facts.publicity import publicity_facts
from .loader import LoadedCase
from .model import CaseFile
from .vocab import label

__all__ = ["Alert", "alerts", "deadline_rows", "still_paused", "alert_title", "make_alert", "sort_alerts",
           "window_end", "NEVER"]

OBLIGATION_TITLES = {"penalty_decision": ("处罚决定公示", "publicity of the penalty decision"),
                     "other_decision": ("执法决定公示", "publicity of the enforcement decision"),
                     "withdrawal": ("撤回公示", "withdrawal of publicity")}


@dataclass(frozen=True)
class Alert:
    case_id: str
    agency: str
    file: str
    what: str
    code: str
    start: str
    due: dt.date
    workdays_left: int           # negative: overdue by that many working days
    officers: str
    estimated_from: int | None = None   # first year counted Monday–Friday: its holiday schedule is not loaded

    def left_text(self, lang: str) -> str:
        """``剩 3 个工作日`` / ``逾期 2 个工作日``; an estimate says so and why."""
        n = abs(self.workdays_left)
        if self.overdue:
            return f"逾期 {n} 个工作日" if lang == "zh" else f"{n} working days overdue"
        if self.estimated_from is None:
            return f"剩 {n} 个工作日" if lang == "zh" else f"{n} working days left"
        return (f"剩约 {n} 个工作日（{self.estimated_from} 年起放假安排未载入，按周一至周五估算）" if lang == "zh"
                else f"about {n} working days left (no holiday schedule loaded from {self.estimated_from}: "
                     "counted Monday to Friday)")

    @property
    def overdue(self) -> bool:
        return self.workdays_left < 0

    def as_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "agency": self.agency, "file": self.file, "deadline": self.what,
                "code": self.code, "from": self.start, "due": self.due.isoformat(),
                "workdays_left": self.workdays_left, "overdue": self.overdue, "officers": self.officers,
                "workdays_left_estimated_from": self.estimated_from}


NEVER = dt.date(9999, 12, 31)
HEARING_TITLE = ("听证通知（举行听证七个工作日前送达）", "hearing notice (served 7 working days before the hearing)")


def alert_title(code: str, platform: str | None, lang: str) -> str:
    kind, name = code.split(".", 1)
    if name == "hearing_notice":
        return HEARING_TITLE[0 if lang == "zh" else 1]
    if kind == "publicity":
        zh, en = OBLIGATION_TITLES[name]
        return f"{zh if lang == 'zh' else en}（{label(platform or '', lang)}）"
    return label(name, lang)


def still_paused(case: CaseFile, ctx: FactContext) -> bool:
    """An undecided case whose decision clock is suspended (中止 etc. not yet resumed): no due day."""
    kinds = set(ctx.profile["decision_clock_pauses"])
    open_: set[str] = set()
    for event in case.events:
        if event.type in ("decided", "revoked"):
            return False
        if event.type == "suspended" and event.pause in kinds:
            open_.add(event.pause)
        elif event.type == "resumed":
            open_.discard(event.pause)
    return bool(open_)


def deadline_facts(case: CaseFile, ctx: FactContext) -> list[Fact]:
    """The facts a deadline row is made of (publicity and clocks), in ``build_facts`` order, and nothing else
    of ``build_facts``: the step, act and document facts are skipped (half the work of an import's deadline
    rows). The decision and inspection facts are derived too, only for their working-day arithmetic: a date
    no calendar covers raises ``CalendarError`` there as in ``build_facts``, so this fails exactly when it does
    (``tests/test_import_fast.py`` compares the rows of both)."""
    facts: list[Fact] = []
    for derive in (decision_facts, publicity_facts, clock_facts, inspection_facts):
        found = list(derive(case, ctx))
        if derive is publicity_facts or derive is clock_facts:
            facts.extend(found)
    return facts


def deadline_rows(case: CaseFile, ctx: FactContext,
                  facts: Callable[[CaseFile, FactContext], Iterable[Any]] = deadline_facts) -> list[dict[str, Any]]:
    """One row per deadline of the case: code, platform, start, due, open_until (the day it was met, or
    ``NEVER``), officers. None of it depends on an as-of day, which is why the store can keep it.
    ``facts``: how the case's facts are derived (``engine.facts.build_facts`` gives the same rows, slower)."""
    names = {o.id: o.name for o in case.officers}
    acting = "、".join(names[o] for o in dict.fromkeys(x for e in case.events for x in e.officers))[:1000]
    paused = still_paused(case, ctx)
    rows = []
    for fact in facts(case, ctx):
        if isinstance(fact, PublicityFact):
            code, platform, done = f"publicity.{fact.obligation}", fact.platform, fact.publicized_date
        elif isinstance(fact, DeadlineFact):
            if fact.clock == "decision_90" and paused:
                continue                                  # a suspended clock is not running: no due day
            code, platform, done = f"deadline.{fact.clock}", None, fact.done_date
        else:
            continue
        rows.append({"code": code, "platform": platform, "start": dt.date.fromisoformat(fact.start_date),
                     "due": dt.date.fromisoformat(fact.due_date),
                     "open_until": dt.date.fromisoformat(done) if done else NEVER, "officers": acting})
    decision = next((r for r in rows if r["code"] == "deadline.decision_90"), None)
    hearing = _hearing_notice(case, ctx.calendar, decision["due"]) if decision else None
    if hearing:
        rows.append({**hearing, "code": "deadline.hearing_notice", "platform": None, "officers": acting})
    return rows


def _hearing_notice(case: CaseFile, calendar: WorkCalendar, decision_due: dt.date) -> dict[str, Any] | None:
    """A requested hearing must be noticed at least 7 working days before it is held (APL Art 64), and held
    before the decision: the latest day for the notice is 7 working days before the decision's due day
    (early, never late: time spent on the hearing may extend the decision clock)."""
    requested = next((e for e in reversed(case.events) if e.type == "hearing_requested"), None)
    if requested is None or any(e.type in ("decided", "revoked") for e in case.events):
        return None
    noticed = next((e.date for e in case.events if e.type == "hearing_noticed" and e.date >= requested.date), None)
    return {"start": requested.date, "due": calendar.workdays_before(decision_due, 7), "open_until": noticed or NEVER}


def window_end(calendar: WorkCalendar, as_of: dt.date, within: int | None) -> dt.date:
    return calendar.add_workdays(as_of, within) if within is not None else NEVER


def workdays_left(calendar: WorkCalendar, as_of: dt.date, due: dt.date) -> int:
    if due >= as_of:
        return calendar.workdays_between(as_of, due)
    return -max(1, calendar.workdays_between(due, as_of))


def make_alert(calendar: WorkCalendar, as_of: dt.date, within: int | None, lang: str, *, case_id: str, agency: str,
               file: str, code: str, platform: str | None, start: dt.date, due: dt.date,
               officers: str) -> Alert | None:
    left = workdays_left(calendar, as_of, due)
    if left >= 0 and within is not None and left > within:
        return None
    return Alert(case_id, agency, file, alert_title(code, platform, lang), code, start.isoformat(), due, left, officers)


def sort_alerts(found: list[Alert]) -> list[Alert]:
    return sorted(found, key=lambda a: (a.workdays_left, a.due, a.agency, a.case_id, a.code))


def alerts(cases: Iterable[LoadedCase], ctx: FactContext, *, within: int | None = None, agency: str | None = None,
           lang: str = "zh") -> list[Alert]:
    """Deadlines open on ``ctx.as_of`` (started by then, not met by then) that are overdue or due within
    ``within`` working days (all open ones when None). The store's query (``engine.store.deadlines``)
    applies the same test to the same rows."""
    bound = window_end(ctx.calendar, ctx.as_of, within)
    out: list[Alert] = []
    for item in cases:
        case = item.case
        if agency and case.agency.code != agency:
            continue
        for row in deadline_rows(case, ctx):
            if not (row["start"] <= ctx.as_of < row["open_until"] and row["due"] <= bound):
                continue
            alert = make_alert(ctx.calendar, ctx.as_of, within, lang, case_id=case.case_id, agency=case.agency.code,
                               file=item.ref, code=row["code"], platform=row["platform"], start=row["start"],
                               due=row["due"], officers=row["officers"])
            if alert is not None:
                out.append(alert)
    return sort_alerts(out)
