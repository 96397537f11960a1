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
        per_rule = {r: max(f.deduction for f in findings if f.rule_id == r) for r in {f.rule_id for f in findings}}
        assert c.score == max(0, 100 - sum(per_rule.values()))
        assert sum(c.deductions.values()) == sum(per_rule.values())
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
    assert report["summary"]["quarter"] == "2024Q2" and report["stamp"]["as_of"] == "2024-06-30"
    assert report["summary"]["cases_reviewed"] == len(report["sections"]["cases"]) > 0
    assert out.returncode == (1 if report["summary"]["grade:不合格"] else 0)


def _review_json(args):
    out = subprocess.run([sys.executable, "-m", "engine.cli", "review", *args, "--format", "json", "--workers", "1"],
                         capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


def _changes(report):
    return {(r["case_id"], r["rule_id"]): r["status_code"] for r in report["sections"]["changes"]}


FIXED_CASE = "津南城管罚〔2024〕12号"       # Q1: no legal review, and its publicity late


def _add_review(path):
    import yaml

    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    at = next(i for i, e in enumerate(case["events"]) if e["type"] == "decided")
    case["events"].insert(at, {"type": "legal_review", "date": case["events"][at]["date"], "reviewer": "R1",
                               "result": "approved", "documents": ["法制审核意见书"]})
    path.write_text(yaml.safe_dump(case, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_previous_quarter_marks_new_still_open_and_fixed_from_the_store(tmp_path):
    import shutil

    data = tmp_path / "demo"
    shutil.copytree(DEMO, data)
    db = str(tmp_path / "s.db")
    subprocess.run([sys.executable, "-m", "engine.cli", "import", str(data), "--db", db], check=True, cwd=ROOT,
                   capture_output=True, timeout=180)
    first = _review_json(["--db", db, "--quarter", "2024Q1"])
    assert "changes" not in first["sections"]                       # no Q4 2023 review was stored
    q1 = {(r["case_id"], rule.split("×")[0]) for r in first["sections"]["cases"] for rule in r["rules"].split("、") if rule}
    assert (FIXED_CASE, "legal_review.required_before_decision") in q1
    [path] = [p for p in data.rglob("*.yaml") if p.name != "expected.yaml" and FIXED_CASE in p.read_text(encoding="utf-8")]
    _add_review(path)                 # a review written into the past file afterwards: the store keeps its record
    rewritten = subprocess.run([sys.executable, "-m", "engine.cli", "import", str(data), "--db", db], cwd=ROOT,
                               capture_output=True, text=True, timeout=180)
    assert rewritten.returncode == 1 and "event #7" in rewritten.stderr.replace("\n", "")   # a conflict, not an overwrite
    fix = subprocess.run([sys.executable, "-m", "engine.cli", "case", "correct", FIXED_CASE, "10", "--json",
                          json.dumps({"type": "publicized", "date": "2024-03-22", "platform": "supervision_platform"}),
                          "--reason", "公示日期录入错误（以平台记录为准）", "--by", "O1", "--db", db],
                         cwd=ROOT, capture_output=True, text=True, timeout=180)   # 整改: an attributed correction
    assert fix.returncode == 0, fix.stderr
    second = _review_json(["--db", db, "--quarter", "2024Q2"])
    changes = _changes(second)
    assert changes[(FIXED_CASE, "legal_review.required_before_decision")] == "still_open"
    assert changes[(FIXED_CASE, "publicity.penalty_within_7_workdays")] == "fixed"
    q2 = {(r["case_id"], rule.split("×")[0]) for r in second["sections"]["cases"] for rule in r["rules"].split("、") if rule}
    assert q2 and all(changes[k] == "new" for k in q2)
    assert {k for k, v in changes.items() if v != "new"} == q1      # every Q1 finding is accounted for


def test_previous_quarter_from_a_json_report(tmp_path):
    first = _review_json([str(DEMO), "--quarter", "2024Q1"])
    report = tmp_path / "q1.json"
    report.write_text(json.dumps(first, ensure_ascii=False), encoding="utf-8")
    second = _review_json([str(DEMO), "--quarter", "2024Q2", "--previous", str(report)])
    # nothing was corrected in the files: each Q1 finding is still open, or cannot be corrected (a late act)
    assert set(_changes(second).values()) == {"new", "still_open", "not_curable"}
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "engine.cli", "review", str(DEMO), "--quarter", "2024Q2",
                          "--previous", str(bad)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2 and "bad.json" in out.stdout + out.stderr


def test_one_rule_deducts_once_per_file():
    """An expired certificate shown on six acts is one defect of the file, deducted once (the highest)."""
    from types import SimpleNamespace as F

    from engine.review import item_deductions

    findings = [F(rule_id="procedure.certificate_valid", deduction=d, category="主体") for d in (20, 20, 30)] + \
        [F(rule_id="recording.av_on_site", deduction=2, category="程序")]
    kept = item_deductions(findings)
    assert sorted((f.rule_id, f.deduction) for f in kept) == [("procedure.certificate_valid", 30),
                                                              ("recording.av_on_site", 2)]
