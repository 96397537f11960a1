"""Chinese working days (工作日) and the law's period arithmetic.

Sources, in order: local schedule files (``workflows/calendar/<year>.yaml`` or any directory given),
then ``chinese-calendar`` (State Council schedules it ships: 2004–2026 in 1.11). A local file for a
year replaces the package's data for that year, so a correction or a newly published schedule needs
no new package. A date no source covers raises ``CalendarError`` naming the year: there is never a
silent weekends-only guess.

Counting (rules.md "Counting days"; 民诉法 Art 85 by analogy):
- the day of the act is not counted;
- N working days: the Nth working day after the act is the last day;
- N calendar days: act + N, and if that day is a rest day the period ends on the next working day.

Local file format::

    year: 2027
    source: 国办发明电〔2026〕N号           # the notice the dates come from
    holidays: [2027-01-01, {from: 2027-02-06, to: 2027-02-12}]   # rest days that would be workdays
    workdays: [2027-02-14]                                       # make-up workdays (调休上班)
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

from .definitions import parse_date
from .errors import CalendarError, DefinitionError
from .loader import parse_document

__all__ = ["WorkCalendar", "default_calendar"]

_ONE = dt.timedelta(days=1)


def _package_years() -> tuple[int, int]:
    from chinese_calendar import constants

    years = {d.year for d in constants.holidays} | {d.year for d in constants.workdays}
    return min(years), max(years)


class _YearData:
    __slots__ = ("holidays", "workdays", "source")

    def __init__(self, holidays: set[dt.date], workdays: set[dt.date], source: str):
        self.holidays, self.workdays, self.source = holidays, workdays, source


def _load_year_file(path: Path) -> tuple[int, _YearData]:
    source = str(path)
    try:                                            # dates stay text: a bad one is reported at its key
        data = parse_document(path.read_text(encoding="utf-8"), ".yaml")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DefinitionError(source, "<file>", f"cannot read calendar file: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("year"), int):
        raise DefinitionError(source, "year", "a calendar file needs 'year: YYYY'")
    year = data["year"]
    if not data.get("source"):
        raise DefinitionError(source, "source", "name the State Council notice the dates come from")

    def days(key: str) -> set[dt.date]:
        out: set[dt.date] = set()
        for i, item in enumerate(data.get(key) or []):
            where = f"{key}[{i}]"
            if isinstance(item, dict):
                start = parse_date(item.get("from"), source, where + ".from")
                end = parse_date(item.get("to"), source, where + ".to")
                if end < start:
                    raise DefinitionError(source, where, "'to' is before 'from'")
                while start <= end:
                    out.add(start)
                    start += _ONE
            else:
                out.add(parse_date(item, source, where))
        for d in out:
            if d.year != year:
                raise DefinitionError(source, key, f"{d} is not in {year}")
        return out

    holidays, workdays = days("holidays"), days("workdays")
    both = holidays & workdays
    if both:
        raise DefinitionError(source, "workdays", f"{min(both)} is listed as holiday and workday")
    return year, _YearData(holidays, workdays, f"{source} ({data['source']})")


class WorkCalendar:
    """Working-day arithmetic over the known schedules. Instances are immutable after construction."""

    def __init__(self, local_dirs: Iterable[str | Path] = (), use_package: bool = True):
        self._local: dict[int, _YearData] = {}
        for directory in local_dirs:
            for path in sorted(Path(directory).glob("*.yaml")):
                year, data = _load_year_file(path)
                self._local[year] = data
        self._package = _package_years() if use_package else None
        self.is_workday = lru_cache(maxsize=8192)(self._is_workday)  # type: ignore[method-assign]
        self._prefixes: dict[int, tuple[int, list[int]]] = {}   # year → (1 Jan ordinal, working days up to each day)

    @property
    def years(self) -> list[int]:
        """Every year a working-day question can be answered for."""
        years = set(self._local)
        if self._package:
            years.update(range(self._package[0], self._package[1] + 1))
        return sorted(years)

    def describe(self) -> str:
        years = self.years
        if not years:
            return "none"
        local = sorted(self._local)
        text = f"{years[0]}–{years[-1]}"
        return text + (f" (local: {', '.join(map(str, local))})" if local else "")

    def _is_workday(self, day: dt.date) -> bool:
        data = self._local.get(day.year)
        if data is not None:
            if day in data.workdays:
                return True
            if day in data.holidays:
                return False
            return day.weekday() < 5
        if self._package and self._package[0] <= day.year <= self._package[1]:
            import chinese_calendar

            return chinese_calendar.is_workday(day)
        raise CalendarError(day.year, self._package)

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The Nth working day after ``start`` (``start`` itself is not counted). n ≥ 0."""
        if n < 0:
            raise ValueError("n must be ≥ 0")
        if n == 0:
            return start
        year = start.year
        first, prefix = self._year(year)
        wanted = prefix[start.toordinal() - first + 1] + n     # the count the answer day brings
        while wanted > prefix[-1]:
            wanted -= prefix[-1]
            year += 1
            first, prefix = self._year(year)
        return dt.date.fromordinal(first + bisect_left(prefix, wanted) - 1)

    def workdays_before(self, end: dt.date, n: int) -> dt.date:
        """The latest day with ``n`` working days after it up to ``end`` (inclusive): notice on that day
        leaves n working days before ``end``."""
        day, counted = end, 0
        while counted < n:
            counted += self.is_workday(day)
            day -= _ONE
        return day

    def add_days(self, start: dt.date, n: int) -> dt.date:
        """A period of N calendar days from ``start``: ends start+N, rolled to the next working day."""
        if n < 0:
            raise ValueError("n must be ≥ 0")
        return self.next_workday(start + dt.timedelta(days=n))

    def next_workday(self, day: dt.date) -> dt.date:
        """``day`` if it is a working day, else the first working day after it."""
        while not self.is_workday(day):
            day += _ONE
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end < start (the days counted backwards).

        Counted from per-year prefix sums, so an alert overdue for years costs a few lookups, not a loop
        over every day (``tests/test_calendar.py`` checks it against counting day by day)."""
        if end < start:
            return -self.workdays_between(end, start)
        if start.year == end.year:
            return self._upto(end) - self._upto(start)
        total = self._prefix(start.year)[-1] - self._upto(start)
        for year in range(start.year + 1, end.year):
            total += self._prefix(year)[-1]
        return total + self._upto(end)

    def _year(self, year: int) -> tuple[int, list[int]]:
        """(ordinal of 1 January, working days up to each day of the year: [0, after day 1, …])."""
        entry = self._prefixes.get(year)
        if entry is None:
            prefix, count, day = [0], 0, dt.date(year, 1, 1)
            while day.year == year:
                count += self.is_workday(day)
                prefix.append(count)
                day += _ONE
            entry = self._prefixes[year] = (dt.date(year, 1, 1).toordinal(), prefix)
        return entry

    def _prefix(self, year: int) -> list[int]:
        return self._year(year)[1]

    def _upto(self, day: dt.date) -> int:
        """Working days from 1 January of ``day``'s year to ``day``, inclusive."""
        first, prefix = self._year(day.year)
        return prefix[day.toordinal() - first + 1]


_DEFAULT_DIR = resources.files("workflows").joinpath("calendar")


@lru_cache(maxsize=4)
def default_calendar(extra_dir: str | None = None) -> WorkCalendar:
    """The shipped calendar (package data + ``workflows/calendar``), plus an optional directory."""
    dirs: list[str | Path] = [Path(str(_DEFAULT_DIR))]
    if extra_dir:
        dirs.append(extra_dir)
    return WorkCalendar(dirs)
