"""Working days: exact State Council schedules 2024/2025, the law's counting rules, properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import WorkCalendar, default_calendar
from engine.errors import CalendarError, DefinitionError

D = dt.date.fromisoformat


@pytest.mark.parametrize("day, workday", [
    # 2024 (国办发明电〔2023〕7号)
    ("2024-01-01", False), ("2024-02-04", True), ("2024-02-10", False), ("2024-02-17", False),
    ("2024-02-18", True), ("2024-04-04", False), ("2024-04-06", False), ("2024-04-07", True),
    ("2024-04-28", True), ("2024-05-01", False), ("2024-05-05", False), ("2024-05-11", True),
    ("2024-06-10", False), ("2024-09-14", True), ("2024-09-16", False), ("2024-09-17", False),
    ("2024-09-29", True), ("2024-10-01", False), ("2024-10-07", False), ("2024-10-12", True),
    ("2024-10-08", True), ("2024-10-13", False),
    # 2025 (国办发明电〔2024〕12号)
    ("2025-01-26", True), ("2025-01-28", False), ("2025-02-04", False), ("2025-02-08", True),
    ("2025-04-27", True), ("2025-05-01", False), ("2025-05-05", False), ("2025-09-28", True),
    ("2025-10-01", False), ("2025-10-08", False), ("2025-10-11", True), ("2025-10-09", True),
])
def test_state_council_schedules(calendar, day, workday):
    assert calendar.is_workday(D(day)) is workday


def test_worked_example_from_legal_notes(calendar):
    # decision Wed 2026-09-30, party absent: 7 working days → 2026-10-15 (10-10 is a make-up Saturday)
    assert calendar.add_workdays(D("2026-09-30"), 7) == D("2026-10-15")


def test_publicity_window_over_national_day_2024(calendar):
    assert calendar.add_workdays(D("2024-09-27"), 7) == D("2024-10-12")
    assert calendar.workdays_between(D("2024-10-12"), D("2024-10-14")) == 1


def test_calendar_days_roll_to_next_workday(calendar):
    assert calendar.add_days(D("2024-09-30"), 1) == D("2024-10-08")     # lands in the holiday
    assert calendar.add_days(D("2024-03-04"), 90) == D("2024-06-03")    # 06-02 is a Sunday
    assert calendar.add_days(D("2024-03-02"), 90) == D("2024-05-31")    # a Friday: no roll


def test_missing_year_names_the_year(calendar):
    with pytest.raises(CalendarError) as err:
        calendar.add_workdays(D("2026-12-28"), 7)
    assert "2027" in str(err.value) and "workflows/calendar/2027.yaml" in str(err.value)


def test_local_file_supplies_a_year(tmp_path):
    (tmp_path / "2027.yaml").write_text(
        "year: 2027\nsource: test schedule\nholidays: [2027-01-01, {from: 2027-02-05, to: 2027-02-11}]\n"
        "workdays: [2027-02-14]\n", encoding="utf-8")
    cal = WorkCalendar([tmp_path])
    assert not cal.is_workday(D("2027-01-01"))
    assert cal.is_workday(D("2027-02-14"))          # a Sunday made a workday
    assert not cal.is_workday(D("2027-02-08"))
    assert cal.add_workdays(D("2026-12-30"), 2) == D("2027-01-04")
    assert 2027 in cal.years


@pytest.mark.parametrize("text, key", [
    ("year: 2027\nholidays: []\n", "source"),
    ("source: x\n", "year"),
    ("year: 2027\nsource: x\nholidays: [2027-13-01]\n", "holidays[0]"),
    ("year: 2027\nsource: x\nholidays: [2026-12-31]\n", "holidays"),
    ("year: 2027\nsource: x\nholidays: [2027-02-14]\nworkdays: [2027-02-14]\n", "workdays"),
])
def test_bad_local_file_names_file_and_key(tmp_path, text, key):
    (tmp_path / "2027.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        WorkCalendar([tmp_path])
    assert err.value.key == key and "2027.yaml" in err.value.source


# the latest start plus the longest period (120 days, or 40 working days) must stay inside 2026: a date
# beyond the data is an error by design (test_missing_year_names_the_year)
days = st.dates(min_value=dt.date(2004, 1, 1), max_value=dt.date(2026, 8, 31))


@settings(max_examples=300, deadline=None)
@given(days, st.integers(min_value=1, max_value=40))
def test_add_workdays_properties(calendar, day, n):
    due = calendar.add_workdays(day, n)
    assert due > day and calendar.is_workday(due)
    assert calendar.workdays_between(day, due) == n
    assert calendar.add_workdays(day, n + 1) > due
    assert calendar.workdays_between(due, day) == -n


@settings(max_examples=300, deadline=None)
@given(days, st.integers(min_value=0, max_value=120))
def test_add_days_properties(calendar, day, n):
    end = calendar.add_days(day, n)
    plain = day + dt.timedelta(days=n)
    assert end >= plain and calendar.is_workday(end)
    gap = plain
    while gap < end:                                    # everything skipped was a rest day
        assert not calendar.is_workday(gap)
        gap += dt.timedelta(days=1)


@given(st.dates(dt.date(2004, 1, 1), dt.date(2026, 12, 31)), st.integers(-900, 900))
def test_workdays_between_equals_counting_day_by_day(start, span):
    end = min(max(start + dt.timedelta(days=span), dt.date(2004, 1, 1)), dt.date(2026, 12, 31))
    calendar = default_calendar()
    lo, hi = sorted((start, end))
    naive = sum(calendar.is_workday(lo + dt.timedelta(days=k)) for k in range(1, (hi - lo).days + 1))
    assert calendar.workdays_between(start, end) == (naive if end >= start else -naive)


@given(st.dates(dt.date(2004, 1, 1), dt.date(2026, 10, 31)), st.integers(0, 40))
def test_add_workdays_equals_walking_day_by_day(start, n):
    """add_workdays bisects per-year prefix sums; walking the days one by one must agree."""
    calendar = default_calendar()
    day, left = start, n
    while left:
        day += dt.timedelta(days=1)
        left -= calendar.is_workday(day)
    assert calendar.add_workdays(start, n) == day
