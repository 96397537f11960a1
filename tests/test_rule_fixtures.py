"""Each rule fires on its violating fixtures and stays silent on its complying ones (exact lists)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest

from engine.exemptions import PartyHistory
from engine.loader import load_paths
from engine.rulebook import default_rulebook
from conftest import ROOT, read_expected

RULES_DIR = ROOT / "fixtures" / "rules"
ALL_RULES = sorted(default_rulebook().rules)


@pytest.fixture(scope="module")
def judged(make_checker):
    as_of, expected = read_expected(RULES_DIR)
    loaded = load_paths([RULES_DIR])
    assert not loaded.problems
    history = PartyHistory(c.case for c in loaded.cases)
    results = list(make_checker(as_of, engine="durable", workers=1, history=history).check(loaded.cases))
    assert not [r.failure for r in results if r.failure]
    got = {r.loaded.case.case_id: sorted({f.rule_id for f in r.findings}) for r in results}
    return expected, got, results


def test_every_fixture_gets_exactly_its_expected_findings(judged):
    expected, got, _ = judged
    assert set(expected) == set(got)
    assert {c: got[c] for c in expected} == {c: sorted(v) for c, v in expected.items()}


def test_every_rule_of_the_catalogue_has_fixtures():
    files = {p.stem for p in RULES_DIR.glob("*.yaml") if p.name != "expected.yaml"}
    assert files == {r.replace(".", "-") for r in ALL_RULES}


# rules a profile option turns on, off in the shipped profile: their fixtures are judged with it on
DORMANT = {"inspection.scan_on_entry": {"inspection_scan_on_entry": True}}


def _judged_with(params: dict, path, make_checker_for) -> dict[str, list[str]]:
    import yaml

    from engine.profile import load_profile
    from engine.rulebook import load_rulebook
    from engine.workflow import default_workflows

    shipped = yaml.safe_load((ROOT / "rules" / "profiles" / "tianjin.yaml").read_text(encoding="utf-8"))
    for name, value in params.items():
        shipped["params"][name]["value"] = value
    profile_file = path / "enabled.yaml"
    profile_file.write_text(yaml.safe_dump(shipped, allow_unicode=True, sort_keys=False), encoding="utf-8")
    book = load_rulebook(load_profile(profile_file), workflows=default_workflows())
    loaded = load_paths([RULES_DIR])
    results = list(make_checker_for(book).check(loaded.cases))
    assert not [r.failure for r in results if r.failure]
    return {r.loaded.case.case_id: sorted({f.rule_id for f in r.findings}) for r in results
            if r.loaded.file.endswith(".yaml")}


@pytest.mark.parametrize("rule_id", sorted(DORMANT))
def test_a_dormant_rule_fires_on_its_violating_fixtures_when_turned_on(rule_id, tmp_path, calendar, workflows):
    from engine.check import Checker

    got = _judged_with(DORMANT[rule_id], tmp_path, lambda book: Checker(
        book, calendar, workflows, dt.date(2025, 12, 31), engine="durable", workers=1))
    mine = {c: v for c, v in got.items() if c.startswith("INSP-SCAN-")}
    assert mine and all((rule_id in v) == ("违反" in c) for c, v in mine.items()), mine
    # inspections before 2025 stay silent (the rule's effective date), whatever the option
    assert not any(rule_id in v for c, v in got.items() if c.startswith(("PUB20-", "TWO-", "CERT-")))


@pytest.mark.parametrize("rule_id", ALL_RULES)
def test_rule_has_violating_and_complying_fixtures(judged, rule_id):
    if rule_id in DORMANT:               # judged with its option on above; under the shipped profile: silent
        expected, _, _ = judged
        assert not any(rule_id in v for v in expected.values())
        return
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


def test_acts_are_judged_by_the_law_of_their_date(judged):
    """The same spacing of acts is lawful under the 1996/2017 law and unlawful under the 2021 law (or the
    reverse), and a case straddling 2021-07-15 is judged step by step."""
    _, got, results = judged
    # 7 calendar days' hearing notice sufficed in 2019 (only 4 working days); in 2024, 7 working days
    assert got["HEAR7-合规-2 2019年提前7日"] == []
    assert got["HEAR7-违反-3 清明假期计入的第7日"] == ["procedure.hearing_notice_7_workdays"]
    # 3 calendar days' statement period in 2019; 3 working days since 2021-07-15
    assert got["STMT-合规-3 2019年按日历日计算"] == []
    assert got["STMT-违反-1 告知后第3个工作日决定"] == ["procedure.statement_period"]
    # notice under the old law (3 calendar days), decision under the new one: lawful
    assert got["STMT-合规-4 跨2021年7月15日逐步判断"] == []
    # service in 2019: 7 calendar days, so the 9th day is late though it is only the 6th working day
    assert got["SERVE-违反-3 2019年第9日送达"] == ["deadline.service_within_7_workdays"]
    # the 5-year limitation for harm to safety exists only for acts from 2021-07-15 (Art 37)
    assert got["LIMIT-违反-2 2019年违法二年后发现（旧法无五年）"] == ["deadline.limitation_period"]
    assert got["LIMIT-合规-1 涉及安全有危害后果三年后发现"] == []
    # no first-offence education rule, withdrawal rule or audio-video rule before they existed
    assert got["FO-EDU-合规-2 2021年前不适用"] == []
    assert got["PUBW-合规-2 2021年7月15日前撤销"] == []
    assert got["AV-合规-2 2018年前不适用"] == []
    basis = {(f.rule_id, r.loaded.case.case_id): f.basis for r in results for f in r.findings}
    assert "1996" in basis[("deadline.service_within_7_workdays", "SERVE-违反-3 2019年第9日送达")]
    assert "第四十条" in basis[("deadline.service_within_7_workdays", "SERVE-违反-3 2019年第9日送达")]
    assert "第六十一条" in basis[("deadline.service_within_7_workdays", "SERVE-违反-1 第8个工作日送达")]
    assert "第二十九条" in basis[("deadline.limitation_period", "LIMIT-违反-2 2019年违法二年后发现（旧法无五年）")]


def test_severity_follows_the_act(judged):
    _, _, results = judged
    sev = {(f.rule_id, r.loaded.case.case_id): f.severity for r in results for f in r.findings}
    assert sev[("publicity.certificates_shown", "CERT-违反-1 检查未出示证件")] == "error"
    assert sev[("publicity.certificates_shown", "CERT-违反-2 送达未记录出示证件")] == "warning"
    assert sev[("recording.av_on_site", "AV-违反-2 扣押无音像记录")] == "error"
    assert sev[("recording.av_on_site", "AV-违反-1 现场检查无音像记录")] == "warning"


def test_deadline_findings_carry_their_due_date(judged):
    _, _, results = judged
    due = {(f.rule_id, r.loaded.case.case_id): (f.due, f.message) for r in results for f in r.findings}
    day, message = due[("deadline.service_within_7_workdays", "SERVE-违反-1 第8个工作日送达")]
    assert day == "2024-10-12" and "2024-10-12" in message and "2024-10-14" in message   # 10-12: make-up Saturday
    day, message = due[("first_offence.without_basis", "FO-WB-违反-1 一年内第二次仍首违不罚")]
    assert "FO-WB-参照-1a" in message                                                 # the prior case is named


def test_first_offence_needs_the_other_cases_of_the_run(make_checker):
    """Without the party history, the second offence looks like a first one."""
    loaded = load_paths([RULES_DIR / "first_offence-without_basis.yaml"])
    alone = [c for c in loaded.cases if c.case.case_id.startswith("FO-WB-违反-1 ")]
    results = list(make_checker("2024-12-31").check(alone))
    assert results[0].findings == []
    history = PartyHistory(c.case for c in loaded.cases)
    results = list(make_checker("2024-12-31", history=history).check(alone))
    assert [f.rule_id for f in results[0].findings] == ["first_offence.without_basis"]
