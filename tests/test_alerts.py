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
    assert all(a["overdue"] for a in json.loads(late.stdout)["alerts"])
