"""Deadline clocks: extensions (capped by the profile), paired pauses, due dates shown in findings,
and verdicts that move with a profile parameter."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import yaml

from engine.loader import LoadedCase, validate_case
from fixtures.rulecases import _plain, ev, ordinary, retime, shift_after
from conftest import ROOT

D = dt.date.fromisoformat
RULE = "deadline.decision_within_90_days"


def judge(make_checker, raw, as_of="2024-12-31"):
    case, problems = validate_case(_plain(raw), "t.yaml")
    assert not problems, problems
    [result] = make_checker(as_of).check([LoadedCase(case, "t.yaml")])
    assert result.failure is None and result.problem is None
    return {f.rule_id: f for f in result.findings}


def late_case(days_after_registration: int, *extra):
    case = ordinary("CLOCK-1")
    reg = ev(case, "registered")["date"]                      # 2024-03-04
    shift_after(case, "decided", reg + dt.timedelta(days=days_after_registration))
    for event in extra:
        retime(case, event, event["date"])
    return case, reg


def test_ninety_days_from_registration(make_checker):
    case, reg = late_case(92)
    found = judge(make_checker, case)
    assert set(found) == {RULE}
    assert found[RULE].due == "2024-06-03"                    # 03-04 + 90 = 06-02 (Sunday) → next workday
    assert "2024-06-03" in found[RULE].message


def test_suspension_pair_is_not_counted(make_checker):
    reg = D("2024-03-04")
    pause = [{"type": "suspended", "date": reg + dt.timedelta(days=10), "pause": "suspension"},
             {"type": "resumed", "date": reg + dt.timedelta(days=30), "pause": "suspension"}]
    case, _ = late_case(105, *pause)
    assert judge(make_checker, case) == {}                    # 20 days paused: due 06-22 → 06-24
    case, _ = late_case(115, *pause)
    found = judge(make_checker, case)
    assert found[RULE].due == "2024-06-24" and "中止等不计入 20 日" in found[RULE].message


def test_unresumed_suspension_keeps_the_clock_stopped(make_checker):
    case = ordinary("CLOCK-2")
    reg = ev(case, "registered")["date"]
    case["events"] = [e for e in case["events"] if e["date"] <= reg + dt.timedelta(days=2)]
    case["events"].append({"type": "suspended", "date": reg + dt.timedelta(days=3)})
    assert judge(make_checker, case, as_of="2024-12-31") == {}   # no decision, but the clock is stopped


def test_extension_is_capped_by_the_profile(make_checker):
    reg = D("2024-03-04")
    ext = {"type": "extension_approved", "date": reg + dt.timedelta(days=80), "approver": "局长", "days": 60}
    case, _ = late_case(115, dict(ext))
    assert judge(make_checker, case) == {}                    # 90 + 30 (cap) = 07-02
    case, _ = late_case(125, dict(ext))
    found = judge(make_checker, case)
    assert found[RULE].due == "2024-07-02" and "批准延期 30 日" in found[RULE].message


def test_missed_deadline_is_judged_at_the_as_of_date(make_checker):
    case = ordinary("CLOCK-3")
    reg = ev(case, "registered")["date"]
    case["events"] = [e for e in case["events"] if e["date"] <= reg + dt.timedelta(days=2)]
    assert judge(make_checker, case, as_of="2024-06-03") == {}
    found = judge(make_checker, case, as_of="2024-06-04")
    assert "截至 2024-06-04 仍未作出" in found[RULE].message


def test_profile_parameter_changes_the_verdict(tmp_path):
    """STMT-合规-1 (decided on the 4th working day after notice) is lawful with Tianjin's 3-day statement
    period and early with a 5-day one."""
    profile = yaml.safe_load((ROOT / "rules" / "profiles" / "tianjin.yaml").read_text(encoding="utf-8"))
    profile["params"]["statement_period_days"]["value"] = 5
    path = tmp_path / "five.yaml"
    path.write_text(yaml.safe_dump(profile, allow_unicode=True, sort_keys=False), encoding="utf-8")
    fixture = ROOT / "fixtures" / "rules" / "procedure-statement_period.yaml"

    def findings(*extra):
        out = subprocess.run([sys.executable, "-m", "engine.cli", "check", str(fixture), "--as-of", "2024-12-31",
                              "--format", "json", "--workers", "1", *extra], capture_output=True, text=True,
                             cwd=ROOT, timeout=120)
        report = json.loads(out.stdout)
        return {(f["case_id"], f["rule_id"]) for f in report["findings"]}

    case = ("STMT-合规-1 告知后第4个工作日决定", "procedure.statement_period")
    assert case not in findings()
    assert case in findings("--profile", str(path))
