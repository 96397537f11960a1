"""Quarterly case-file review: quarter selection, scores, veto items, grades, summaries, CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from engine.check import CheckResult
from engine.errors import CasecheckError
from engine.exemptions import PartyHistory
from engine.loader import load_paths
from engine.review import quarter_bounds, review
from conftest import ROOT

DEMO = ROOT / "fixtures" / "demo"
GRADES = (("优秀", 90), ("良好", 80), ("合格", 60), ("不合格", 0))


def test_quarter_bounds():
    assert quarter_bounds("2024Q4") == (dt.date(2024, 10, 1), dt.date(2024, 12, 31))
    assert quarter_bounds("2024q1") == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    assert quarter_bounds("2023Q2") == (dt.date(2023, 4, 1), dt.date(2023, 6, 30))
    with pytest.raises(CasecheckError):
        quarter_bounds("2024Q5")


@pytest.fixture(scope="module")
def checked(make_checker):
    loaded = load_paths([DEMO])
    results = list(make_checker("2024-12-31", history=PartyHistory(c.case for c in loaded.cases)).check(loaded.cases))
    return CheckResult(results, [], dt.date(2024, 12, 31), "tianjin", "x", "2004–2026")


def test_scores_vetoes_and_grades(checked):
    year = [c for q in ("2024Q1", "2024Q2", "2024Q3", "2024Q4") for c in review(checked, q, GRADES).cases]
    assert len(year) == len(checked.cases)                       # every demo case falls in one quarter
    by_id = {r.loaded.case.case_id: r for r in checked.cases}
    for c in year:
        findings = by_id[c.case_id].findings
        assert c.score == max(0, 100 - sum(f.deduction for f in findings))
        assert sum(c.deductions.values()) == sum(f.deduction for f in findings)
        assert c.vetoes == sorted({f.rule_id for f in findings if f.veto})
        expected = "不合格" if c.vetoes else next(g for g, floor in GRADES if c.score >= floor)
        assert c.grade == expected
    vetoed = [c for c in year if c.vetoes]
    assert vetoed and all(c.grade == "不合格" for c in vetoed) and any(c.score >= 60 for c in vetoed)
    assert {c.grade for c in year} >= {"优秀", "良好", "不合格"}


def test_quarter_and_agency_select_by_decision_date(checked):
    q = review(checked, "2024Q2", GRADES, agency="xuefu")
    assert q.cases and all(c.agency == "xuefu" and dt.date(2024, 4, 1) <= c.day <= dt.date(2024, 6, 30)
                           for c in q.cases)
    rules = dict((r, n) for r, n, _ in q.by_rule())
    assert sum(rules.values()) == sum(len(c.rules) for c in q.cases)
    assert sum(n for _, n, _, _ in q.by_domain()) == len(q.cases)


def test_review_cli_json_and_exit_code():
    out = subprocess.run([sys.executable, "-m", "engine.cli", "review", str(DEMO), "--quarter", "2024Q2",
                          "--format", "json", "--workers", "1"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    report = json.loads(out.stdout)
    assert report["quarter"] == "2024Q2" and report["stamp"]["as_of"] == "2024-06-30"
    assert report["cases_reviewed"] == len(report["cases"]) > 0
    assert out.returncode == (1 if report["grades"].get("不合格") else 0)
