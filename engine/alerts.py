"""Deadline alerts: every deadline still open or already missed on the as-of date, most urgent first.

They come from the same facts the rules judge (publicity windows of 7 and 20 working days, withdrawal,
service, the 90-day decision, evidence handling, filing of on-the-spot decisions), so an alert and a
finding can never disagree about a due date. Working days left are counted on the Chinese calendar;
negative means overdue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable

from .calendar import WorkCalendar
from .facts import DeadlineFact, Fact, FactContext, PublicityFact, build_facts
from .loader import LoadedCase
from .vocab import label

__all__ = ["Alert", "alerts"]

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

    @property
    def overdue(self) -> bool:
        return self.workdays_left < 0

    def as_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "agency": self.agency, "file": self.file, "deadline": self.what,
                "code": self.code, "from": self.start, "due": self.due.isoformat(),
                "workdays_left": self.workdays_left, "overdue": self.overdue, "officers": self.officers}


def _what(fact: Fact, lang: str) -> tuple[str, str]:
    if isinstance(fact, PublicityFact):
        zh, en = OBLIGATION_TITLES[fact.obligation]
        return f"{zh if lang == 'zh' else en}（{label(fact.platform, lang)}）", f"publicity.{fact.obligation}"
    assert isinstance(fact, DeadlineFact)
    return label(fact.clock, lang), f"deadline.{fact.clock}"


def _left(calendar: WorkCalendar, as_of: dt.date, due: dt.date) -> int:
    if due >= as_of:
        return calendar.workdays_between(as_of, due)
    return -max(1, calendar.workdays_between(due, as_of))


def alerts(cases: Iterable[LoadedCase], ctx: FactContext, *, within: int | None = None, agency: str | None = None,
           lang: str = "zh") -> list[Alert]:
    """Open deadlines due within ``within`` working days (all open ones when None) and every missed one."""
    out: list[Alert] = []
    for item in cases:
        case = item.case
        if agency and case.agency.code != agency:
            continue
        names = {o.id: o.name for o in case.officers}
        acting = "、".join(names[o] for o in dict.fromkeys(x for e in case.events for x in e.officers))
        for fact in build_facts(case, ctx):
            if not isinstance(fact, (PublicityFact, DeadlineFact)) or fact.status not in ("open", "missed"):
                continue
            due = dt.date.fromisoformat(fact.due_date)
            left = _left(ctx.calendar, ctx.as_of, due)
            if left >= 0 and within is not None and left > within:
                continue
            what, code = _what(fact, lang)
            start = fact.start_date
            out.append(Alert(case.case_id, case.agency.code, item.ref, what, code, start, due, left, acting))
    out.sort(key=lambda a: (a.workdays_left, a.due, a.agency, a.case_id, a.code))
    return out
