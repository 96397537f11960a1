"""Legal periods (``rules/periods.yaml``): length and counting mode by the date of the starting act.

Facts ask ``periods.at(period_id, start)`` for the period in force on the day of the act that starts it
(a case straddling 2021-07-15 is judged step by step), then compute its due date on the calendar.
A period id with no version on that day is ``None``: the law set no such period then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .calendar import WorkCalendar
from .definitions import parse_date, read_yaml, rules_path, text_pair
from .errors import DefinitionError
from .profile import Profile

__all__ = ["Period", "Periods", "load_periods"]

UNITS = ("workdays", "calendar")


@dataclass(frozen=True)
class Period:
    id: str
    days: int
    unit: str
    basis: str
    effective_from: dt.date
    effective_to: dt.date | None

    def due(self, start: dt.date, calendar: WorkCalendar) -> dt.date:
        """The last day of the period starting the day after ``start``."""
        if self.unit == "workdays":
            return calendar.add_workdays(start, self.days)
        return calendar.add_days(start, self.days)

    def text(self, lang: str = "zh") -> str:
        if lang == "zh":
            return f"{self.days}个工作日" if self.unit == "workdays" else f"{self.days}日"
        return f"{self.days} working days" if self.unit == "workdays" else f"{self.days} days"


class Periods:
    def __init__(self, table: dict[str, tuple[Period, ...]], titles: dict[str, dict[str, str]]):
        self._table = table
        self.titles = titles

    def at(self, period_id: str, start: dt.date) -> Period | None:
        for period in self._table[period_id]:
            if period.effective_from <= start and (period.effective_to is None or start <= period.effective_to):
                return period
        return None

    def ids(self) -> tuple[str, ...]:
        return tuple(self._table)


def load_periods(profile: Profile, path: str | Path | None = None) -> Periods:
    source = str(path or rules_path("periods.yaml"))
    key = (source, profile.path)
    if key not in _CACHE:
        _CACHE[key] = _load(source, profile)
    return _CACHE[key]


_CACHE: dict[tuple[str, str], Periods] = {}


def _load(source: str, profile: Profile) -> Periods:
    data = read_yaml(source, "period list", list)
    table: dict[str, tuple[Period, ...]] = {}
    titles: dict[str, dict[str, str]] = {}
    for i, raw in enumerate(data):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise DefinitionError(source, f"[{i}].id", "each period has an id")
        pid = raw["id"]
        if pid in table:
            raise DefinitionError(source, pid, "defined twice")
        title = text_pair(raw.get("title"), source, f"{pid}.title")
        versions: list[Period] = []
        for vi, rv in enumerate(raw.get("versions") or []):
            key = f"{pid}.versions[{vi}]"
            if not isinstance(rv, dict):
                raise DefinitionError(source, key, "a mapping")
            days = rv.get("days")
            if isinstance(days, dict):
                name = days.get("param")
                if set(days) != {"param"} or name not in profile.params:
                    raise DefinitionError(source, f"{key}.days", f"profile {profile.name} has no parameter {name!r}")
                days = profile.params[name]
            if isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= 3650:
                raise DefinitionError(source, f"{key}.days", f"a whole number of days, got {days!r}")
            if rv.get("unit") not in UNITS:
                raise DefinitionError(source, f"{key}.unit", f"one of {', '.join(UNITS)}")
            if not rv.get("basis"):
                raise DefinitionError(source, f"{key}.basis", "cite the legal basis")
            start = parse_date(rv.get("from"), source, f"{key}.from")
            end = parse_date(rv["to"], source, f"{key}.to") if rv.get("to") is not None else None
            if versions and (versions[-1].effective_to is None or versions[-1].effective_to >= start):
                raise DefinitionError(source, f"{key}.from", "versions in date order without overlap")
            versions.append(Period(pid, days, rv["unit"], str(rv["basis"]), start, end))
        if not versions:
            raise DefinitionError(source, f"{pid}.versions", "at least one version")
        table[pid] = tuple(versions)
        titles[pid] = title
    return Periods(table, titles)
