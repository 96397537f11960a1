"""Deadline alerts: open and missed deadlines from the same facts as the rules, in working days."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import yaml

from engine.alerts import alerts
from engine.calendar import default_calendar
from engine.facts import FactContext
from engine.loader import LoadedCase, validate_case
from engine.profile import load_profile
from engine.workflow import default_workflows
from fixtures.rulecases import _plain, ordinary
from conftest import ROOT


def open_case():
    """Decided 2024-09-27, not yet served, publicized or paid: service and publicity due 2024-10-12
    (7 working days across National Day, the 12th being a make-up Saturday)."""
    case = ordinary("ALERT-1", "2024-09-02", kind="organization")
    for e in case["events"]:
        if e["type"] == "decided":
            e["date"] = dt.date(2024, 9, 27)
    case["events"] = [e for e in case["events"] if e["type"] not in ("served", "publicized", "paid", "closed")]
    raw = _plain(case)
    model, problems = validate_case(raw, "a.yaml")
    assert not problems
    return raw, LoadedCase(model, "a.yaml")


def run(as_of, within=None):
    ctx = FactContext(default_calendar(), as_of, load_profile(), default_workflows())
    return alerts([open_case()[1]], ctx, within=within)


def test_open_deadlines_with_working_days_left():
    found = run(dt.date(2024, 9, 30))
    assert {a.code for a in found} == {"deadline.service_7", "publicity.penalty_decision"}
    assert all(a.due == dt.date(2024, 10, 12) for a in found)
    assert {a.workdays_left for a in found} == {5}              # 10-08, 09, 10, 11 and Saturday 10-12
    assert len([a for a in found if a.code == "publicity.penalty_decision"]) == 2   # platform + Credit China
    assert run(dt.date(2024, 9, 30), within=3) == []


def test_missed_deadlines_are_overdue_and_first():
    found = run(dt.date(2024, 10, 15))
    assert found and all(a.overdue for a in found)
    assert found[0].workdays_left == -2 and "王某" in found[0].officers     # 10-14 and 10-15 past due


def test_cli_exit_code_and_json(tmp_path):
    raw, _ = open_case()
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    def call(as_of):
        return subprocess.run([sys.executable, "-m", "engine.cli", "alerts", str(tmp_path), "--as-of", as_of,
                               "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    early, late = call("2024-09-30"), call("2024-10-15")
    assert early.returncode == 0 and late.returncode == 1
    assert all(a["overdue"] for a in json.loads(late.stdout)["sections"]["alerts"])


# ------------------------------------------------------------------------------ alerts on a store
import pytest  # noqa: E402

from datasets import dataset  # noqa: E402
from engine.cases import import_paths, record  # noqa: E402
from engine.loader import load_paths  # noqa: E402
from engine.store import Store  # noqa: E402
from engine.store.deadlines import store_alerts  # noqa: E402

DAYS = ["2023-03-15", "2023-07-03", "2023-10-09", "2023-12-20", "2023-12-28", "2024-01-31"]


def _file_alerts(loaded, day, within):
    ctx = FactContext(default_calendar(), dt.date.fromisoformat(day), load_profile(), default_workflows())
    return alerts(loaded.cases, ctx, within=within)


def _key(found):
    return [(a.case_id, a.code, a.what, a.start, a.due, a.workdays_left, a.officers) for a in found]


@pytest.fixture(scope="module")
def year_store(tmp_path_factory):
    base = tmp_path_factory.mktemp("alerts")
    path = dataset("nkcgw-2023", base)
    store = Store.open(f"sqlite:///{base / 'a.db'}")
    report = import_paths(store, [path], actor="test")
    assert report.new == 1390 and not report.problems
    return store, load_paths([path])


@pytest.mark.parametrize("within", [None, 0, 5])
def test_store_query_gives_the_same_alerts_as_the_files(year_store, within):
    store, loaded = year_store
    cal = default_calendar()
    seen = 0
    for day in DAYS:
        from_files = _file_alerts(loaded, day, within)
        from_store = store_alerts(store, cal, dt.date.fromisoformat(day), within=within)
        assert _key(from_store) == _key(from_files), day
        seen += len(from_files)
    assert seen > 20                      # the comparison is about real alerts, not two empty lists


def test_the_query_uses_the_deadline_index(year_store):
    from sqlalchemy import text

    store, _ = year_store
    with store.reading() as s:
        plan = " ".join(str(r) for r in s.execute(text(
            "EXPLAIN QUERY PLAN SELECT * FROM deadlines WHERE open_until > '2023-12-28' AND due <= '2024-01-10'")))
    assert "ix_deadlines_open_due" in plan


def test_a_recorded_step_closes_its_alert(url, tmp_path):
    raw, _ = open_case()
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    store = Store.open(url)
    import_paths(store, [tmp_path / "a.yaml"], actor="王某")
    day = dt.date(2024, 9, 30)
    before = {a.code for a in store_alerts(store, default_calendar(), day)}
    assert before == {"deadline.service_7", "publicity.penalty_decision"}
    record(store, "ALERT-1", {"type": "served", "date": "2024-09-30", "officers": ["O1", "O2"], "method": "direct",
                              "certificates_shown": True, "documents": ["送达回证"]}, actor="王某", as_of=day)
    after = store_alerts(store, default_calendar(), day)
    assert {a.code for a in after} == {"publicity.penalty_decision"} and len(after) == 2   # platform, Credit China


def test_a_requested_hearing_waits_for_its_notice():
    case = ordinary("HEAR-1", "2024-03-01", kind="person", amount=6000)
    at = next(i for i, e in enumerate(case["events"]) if e["type"] == "notified")
    case["events"][at]["hearing_right"] = True
    requested = {"type": "hearing_requested", "date": case["events"][at]["date"]}
    case["events"] = case["events"][:at + 1] + [requested]
    model, problems = validate_case(_plain(case), "h.yaml")
    assert not problems
    cal = default_calendar()
    registered = next(e.date for e in model.events if e.type == "registered")
    ctx = FactContext(cal, registered + dt.timedelta(days=30), load_profile(), default_workflows())
    found = {a.code: a for a in alerts([LoadedCase(model, "h.yaml")], ctx)}
    decision_due = found["deadline.decision_90"].due
    notice = found["deadline.hearing_notice"]
    assert cal.workdays_between(notice.due, decision_due) == 7 and notice.due < decision_due
    assert "听证通知" in notice.what
    noticed = {"type": "hearing_noticed", "date": (registered + dt.timedelta(days=20)).isoformat(),
               "hearing_on": (registered + dt.timedelta(days=40)).isoformat(), "documents": ["听证通知书"]}
    model, _ = validate_case({**_plain(case), "events": _plain(case)["events"] + [noticed]}, "h.yaml")
    assert "deadline.hearing_notice" not in {a.code for a in alerts([LoadedCase(model, "h.yaml")], ctx)}
