"""Issue 19, items 2 and 3: the law points the catalogue was silent on, and messages that say what happened."""

from __future__ import annotations

import pytest

from engine.exemptions import PartyHistory
from engine.loader import load_paths
from conftest import ROOT

RULES_DIR = ROOT / "fixtures" / "rules"


@pytest.fixture(scope="module")
def messages(make_checker):
    loaded = load_paths([RULES_DIR])
    results = list(make_checker("2024-12-31", engine="oracle", history=PartyHistory(c.case for c in loaded.cases))
                   .check(loaded.cases))
    out: dict[tuple[str, str], list[str]] = {}
    for r in results:
        for f in r.findings:
            out.setdefault((f.rule_id, r.loaded.case.case_id), []).append(f.message)
    return out


def one(messages, rule, case):
    [text] = messages[(rule, case)]
    return text


def test_certificates_not_yet_valid_missing_or_expired_say_so(messages):
    text = messages[("procedure.certificate_valid", "CERT-违反-3 证件尚未生效")][0]      # one per act of 赵某
    assert "2024-04-01 起才生效" in text and "到期" not in text and "有效期至" not in text
    none = messages[("procedure.certificate_valid", "CERT-违反-2 无证人员")][0]
    assert "未持有行政执法证件" in none and "证号 无" not in none and "有效期至 无" not in none
    expired = messages[("procedure.certificate_valid", "CERT-违反-1 证件过期")][0]
    assert "2024-03-10 到期" in expired
    # an auxiliary named beside two certified officers is no certificate finding
    assert ("procedure.certificate_valid", "CERT-合规-3 协管员无证但有两名持证执法人员") not in messages


def test_penalties_are_named_in_words_not_as_none_yuan(messages):
    text = one(messages, "procedure.hearing_right_notified", "HRIGHT-违反-2 吊销许可证未告知听证")
    assert "吊销许可证件" in text and "无 元" not in text
    text = one(messages, "procedure.heavier_than_notified", "HEAVY-违反-2 告知警告决定罚款")
    assert "拟作出 警告" in text and "罚款 200.00 元" in text


def test_a_file_naming_no_officer_says_so(messages):
    text = one(messages, "coercion.two_officers", "SEIZE-违反-2 未记录执法人员")
    assert "未记录实施的执法人员" in text and "0 名" not in text


def test_lateness_is_counted_in_the_periods_own_unit(messages):
    old = one(messages, "deadline.service_within_7_workdays", "SERVE-违反-3 2019年第9日送达")
    assert "逾期 2 日" in old and "工作日" not in old.split("逾期")[1]
    new = one(messages, "deadline.service_within_7_workdays", "SERVE-违反-1 第8个工作日送达")
    assert "逾期 1 个工作日" in new and "最迟于 2024-10-12" in new and "2024-10-12 前" not in new


def test_a_back_dated_service_is_named_as_such(messages):
    service = one(messages, "deadline.service_within_7_workdays", "STEP-违反-3 日期倒置")
    assert "2024-03-12 早于决定日" in service and "没有送达记录" not in service
    step = one(messages, "workflow.illegal_step", "STEP-违反-3 日期倒置")
    assert "早于案卷中前一步骤的日期 2024-03-13" in step


def test_the_statement_period_is_named_by_the_rights_it_carries(messages):
    plain = one(messages, "procedure.statement_period", "STMT-违反-1 告知后第3个工作日决定")
    assert "陈述申辩期（" in plain and "听证" not in plain.split("届满")[0]
    hearing = one(messages, "procedure.statement_period", "STMT-违反-2 有听证权利第5个工作日决定")
    assert "陈述申辩和听证申请期" in hearing


def test_the_reviewers_first_review_is_not_asserted_when_the_file_lacks_it(messages):
    text = one(messages, "legal_review.reviewer_qualified", "QUAL-违反-1 审核人无法律职业资格")
    assert "案卷未记载其初次从事法制审核的日期" in text and "在2018年1月1日之后）" not in text


def test_a_revoked_decision_is_named_and_not_asked_to_be_publicized(messages):
    text = one(messages, "publicity.penalty_within_7_workdays", "PUB-7-违反-4 逾期未公示后撤销")
    assert "2024-03-27 决定被撤销时仍未公示" in text and "3个工作日内撤回" in text and "截至" not in text
    assert not [k for k in messages if k[1] == "PUB-7-合规-4 决定后第3个工作日撤销未公示"]


def test_special_laws_set_their_own_limits(messages):
    assert ("execution.on_the_spot_collection", "SPOT-合规-3 道路交通安全法当场收缴150元") not in messages
    text = one(messages, "execution.on_the_spot_collection", "SPOT-违反-3 治安管理处罚当场收缴80元")
    assert "第一百零四条" in text and "80.00" in text
    text = one(messages, "simple.threshold", "SIMPLE-违反-5 道路交通安全法对单位当场罚款500元")
    assert "第一百零七条" in text and "罚款 500.00 元" in text


def test_a_top_of_range_fine_names_the_statutory_range(messages):
    text = one(messages, "discretion.top_fine_reasons", "TOP-违反-1 顶格罚款5万元未说明理由")
    assert "5,000–50,000 元" in text and "消防法" in text
    text = one(messages, "discretion.benchmark_range", "BENCH-违反-1 情节较轻却罚款3万元")
    assert "情节较轻 5,000–15,000 元" in text


def test_one_traffic_officer_may_decide_up_to_200_yuan_on_the_spot(messages):
    """道路交通安全法 第一百零七条: one officer may fine up to 200 元 on the spot (a special provision over
    行政处罚法 第四十二条第一款); above it the two-officer rule applies again."""
    assert not [k for k in messages if k[1] == "TWO-合规-9 道路交通安全法一名交警当场罚款200元"]
    text = one(messages, "procedure.two_officers", "TWO-违反-9 道路交通安全法一名交警当场罚款300元")
    assert "只有 1 名执法人员" in text
    assert ("simple.threshold", "TWO-违反-9 道路交通安全法一名交警当场罚款300元") in messages


def test_the_hand_written_baseline_agrees_with_the_oracle_on_every_rule_fixture(rulebook):
    """benchmarks/handwritten.py (the rule stage's baseline) and the catalogue's oracle find the same
    (rule, fact) pairs on every rule fixture, the special-law cases included."""
    import datetime as dt

    from benchmarks import handwritten
    from engine.calendar import default_calendar
    from engine.facts import FactContext, build_facts
    from engine.workflow import default_workflows

    loaded = load_paths([RULES_DIR])
    ctx = FactContext(default_calendar(), dt.date(2024, 12, 31), rulebook.profile, default_workflows(),
                      PartyHistory(c.case for c in loaded.cases))
    diffs = []
    for item in loaded.cases:
        facts = build_facts(item.case, ctx)
        mine = {(rule, key) for rule, key in handwritten.evaluate(facts)}
        theirs = {(rule, key) for rule, key in rulebook.evaluate(facts)}
        if mine != theirs:
            diffs.append((item.case.case_id, sorted(mine ^ theirs)))
    assert diffs == []
