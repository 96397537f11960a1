"""Each rule fires on its violating fixtures and stays silent on its complying ones (exact lists)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from engine.loader import load_paths
from conftest import ROOT, read_expected

RULES_DIR = ROOT / "fixtures" / "rules"
SPINE_RULES = ["legal_review.required_before_decision", "legal_review.reviewer_independent",
               "publicity.penalty_within_7_workdays", "procedure.notice_before_decision", "procedure.two_officers",
               "procedure.certificate_valid", "deadline.decision_within_90_days", "simple.threshold",
               "workflow.illegal_step"]


@pytest.fixture(scope="module")
def judged(make_checker):
    as_of, expected = read_expected(RULES_DIR)
    loaded = load_paths([RULES_DIR])
    assert not loaded.problems
    results = list(make_checker(as_of, engine="durable", workers=1).check(loaded.cases))
    assert not [r.failure for r in results if r.failure]
    got = {r.loaded.case.case_id: sorted({f.rule_id for f in r.findings}) for r in results}
    return expected, got, results


def test_every_fixture_gets_exactly_its_expected_findings(judged):
    expected, got, _ = judged
    assert set(expected) == set(got)
    assert {c: got[c] for c in expected} == {c: sorted(v) for c, v in expected.items()}


@pytest.mark.parametrize("rule_id", SPINE_RULES)
def test_rule_has_violating_and_complying_fixtures(judged, rule_id):
    expected, _, results = judged
    by_file = defaultdict(list)
    for r in results:
        by_file[r.loaded.file].append(r.loaded.case.case_id)
    cases = by_file[str(RULES_DIR / (rule_id.replace(".", "-") + ".yaml"))]
    assert any(rule_id in expected[c] for c in cases), "no violating fixture"
    assert any(rule_id not in expected[c] for c in cases), "no complying fixture"


def test_messages_explain_dates_and_expectation(judged):
    _, _, results = judged
    messages = {f.rule_id + "@" + r.loaded.case.case_id: f.message for r in results for f in r.findings}
    late = messages["publicity.penalty_within_7_workdays@PUB-7-违反-1 逾期2个工作日"]
    assert "2024-03-13" in late and "2024-03-22" in late and "2024-03-26" in late and "逾期 2 个工作日" in late
    missing = messages["legal_review.required_before_decision@LR-REQ-违反-1 无审核"]
    assert "2024-03-13" in missing and "没有任何法制审核记录" in missing
    step = messages["workflow.illegal_step@STEP-违反-1 结案后缴款"]
    assert "缴纳罚款" in step and "已结案" in step and "2024-03-25" in step
    found = [f for r in results for f in r.findings if f.rule_id == "legal_review.required_before_decision"]
    assert all("第五十八条" in f.basis for f in found)


def test_law_version_follows_the_date_of_the_act(judged):
    _, got, results = judged
    assert got["SIMPLE-违反-3 2019年个人100元"] == ["simple.threshold"]       # 50 yuan limit in 2019
    assert got["SIMPLE-合规-1 个人200元"] == []                               # 200 yuan allowed since 2021
    old = next(f for r in results for f in r.findings if r.loaded.case.case_id.startswith("SIMPLE-违反-3"))
    assert "1996" in old.basis and "第三十三条" in old.basis
    assert got["D90-合规-2 2021年前不适用"] == []                            # no 90-day limit before 2021-07-15
