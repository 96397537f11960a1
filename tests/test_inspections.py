"""涉企行政检查 (issue 19): the yearly cap refuses a live inspection step, repeat inspections are alerted
and counted per business, from files and from a store (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
import yaml

from engine.cases import StepRefused, new_case, record
from engine.store import Store
from conftest import ROOT
from test_cli import run

CAP = ROOT / "fixtures" / "rules" / "inspection-yearly_cap.yaml"


def cap_cases() -> dict[str, dict]:
    return {c["case_id"]: c for c in yaml.safe_load(CAP.read_text("utf-8"))["cases"]}


def test_the_yearly_cap_refuses_a_live_inspection_and_lets_a_case_inspection_through(url):
    cases = cap_cases()
    store = Store.open(url)
    for cid in ("INSP-CAP-参照-1a 第1次日常检查", "INSP-CAP-参照-1b 第2次日常检查"):
        new_case(store, cases[cid], actor="seed")
    third = copy.deepcopy(cases["INSP-CAP-违反-1 第3次日常检查"])
    inspection = third["events"][0]
    new_case(store, {**third, "events": []}, actor="seed")
    with pytest.raises(StepRefused) as refused:
        record(store, third["case_id"], dict(inspection), actor="O1", as_of=dt.date(2025, 10, 9))
    [finding] = refused.value.findings
    assert finding.rule_id == "inspection.yearly_cap"
    assert "第 3 次" in finding.message and "上限 2 次" in finding.message and "54号" in finding.basis
    # a case-triggered inspection (a complaint) is not counted against the cap
    done = record(store, third["case_id"], {**inspection, "kind": "case", "trigger": "complaint"}, actor="O1",
                  as_of=dt.date(2025, 10, 9))
    assert done.seq == 1 and not [f for f in done.findings if f.rule_id == "inspection.yearly_cap"]


def test_the_cap_counts_only_this_agencys_inspections_of_this_business(url):
    cases = cap_cases()
    store = Store.open(url)
    for cid in ("INSP-CAP-参照-1a 第1次日常检查", "INSP-CAP-参照-1b 第2次日常检查"):
        new_case(store, cases[cid], actor="seed")
    other = copy.deepcopy(cases["INSP-CAP-合规-2 其他执法主体的检查"])          # xuefu, same business
    new_case(store, {**other, "events": []}, actor="seed")
    done = record(store, other["case_id"], dict(other["events"][0]), actor="O1", as_of=dt.date(2025, 11, 10))
    assert done.seq == 1


def test_alerts_list_repeat_inspections_from_files_and_from_a_store(url, tmp_path):
    as_of = "2025-11-20"
    from_files = json.loads(run("alerts", str(CAP), "--as-of", as_of, "--format", "json").stdout)
    store = Store.open(url)
    for case in cap_cases().values():
        new_case(store, case, actor="seed")
    proc = run("alerts", "--db", url, "--as-of", as_of, "--format", "json")
    from_store = json.loads(proc.stdout)
    for report in (from_files, from_store):
        rows = report["sections"]["repeat_inspections"]
        got = {(r["day"], r["agency"], r["case_id"]) for r in rows}
        # 10-09 repeats 09-01 (same agency, 38 days), 11-10 repeats 10-09 (another agency); the 个案
        # inspection of 11-03 is neither alerted nor counted, the other business's inspections are far apart
        assert got == {("2025-10-09", "nkcgw", "INSP-CAP-违反-1 第3次日常检查"),
                       ("2025-11-10", "xuefu", "INSP-CAP-合规-2 其他执法主体的检查")}
        assert all("60日内第2次" in r["reason"] for r in rows)
    only = json.loads(run("alerts", "--db", url, "--as-of", as_of, "--agency", "xuefu", "--format", "json").stdout)
    assert [r["case_id"] for r in only["sections"]["repeat_inspections"]] == ["INSP-CAP-合规-2 其他执法主体的检查"]


def test_several_agencies_in_the_window_are_alerted():
    from engine.inspections import repeat_inspections

    day = dt.date(2025, 9, 1)
    rows = [{"agency": ag, "case_id": f"C{n}", "party_id": "P", "party": "某公司", "day": day + dt.timedelta(days=n * 20),
             "kind": "routine", "index": 0, "file": "f"} for n, ag in enumerate(["a", "b", "c"])]
    found = repeat_inspections(rows, day + dt.timedelta(days=45), days=60, agencies=3)
    assert [(f.case_id, f.reason, f.agencies) for f in found] == [("C2", "agencies", 3), ("C1", "within_days", 2)]
    assert repeat_inspections(rows, day + dt.timedelta(days=200), days=60, agencies=3) == []


def test_stats_count_inspections_per_business():
    proc = run("stats", str(CAP), "--year", "2025", "--format", "json")
    rows = json.loads(proc.stdout)["sections"]["inspection_frequency"]
    nk = next(r for r in rows if r["agency"] == "nkcgw" and r["party_id"].endswith("01961X"))
    assert nk["inspections"] == 4 and nk["case"] == 1


def test_generated_2025_inspections_agree_and_match_injected_faults(make_checker):
    """durable-rules, the oracle and the injected faults agree on generated cases of 2025 (mostly
    inspections of businesses, with the new inspection faults)."""
    from engine.loader import LoadedCase, validate_case
    from fixtures.casegen import CaseGen

    gen = CaseGen(seed=19)
    cases, expected = [], {}
    for n in range(1500):
        raw, rules = gen.random_case(n + 1, 2025, mix=(0.15, 0.3))
        raw["case_id"] = f"G{n}-" + raw["case_id"]
        case, problems = validate_case(raw, f"gen-{n}")
        assert not problems, problems
        cases.append(LoadedCase(case, f"gen-{n}"))
        expected[case.case_id] = rules
    results = list(make_checker("2026-06-30", engine="durable", workers=2).check(cases))
    assert [r.failure for r in results if r.failure] == []
    got = {r.loaded.case.case_id: {f.rule_id for f in r.findings} for r in results}
    assert got == expected
    fired = set().union(*got.values())
    assert {r for r in fired if r.startswith("inspection.")} == {
        "inspection.kind_recorded", "inspection.item_listed", "inspection.approved_before", "inspection.campaign_plan",
        "inspection.certified_officers", "inspection.result_fed_back"}


def test_the_2025_inspection_demo_has_exactly_the_expected_findings():
    from conftest import read_expected

    demo = ROOT / "fixtures" / "demo-2025"
    as_of, expected = read_expected(demo)
    report = json.loads(run("check", str(demo), "--as-of", as_of, "--format", "json").stdout)
    assert report["problems"] == [] and report["engine_failures"] == []
    got: dict[str, set[str]] = {cid: set() for cid in expected}
    for f in report["findings"]:
        got[f["case_id"]].add(f["rule_id"])
    assert got == {cid: set(rules) for cid, rules in expected.items()}
    assert {r for rules in expected.values() for r in rules if r.startswith("inspection.")} == {
        "inspection.kind_recorded", "inspection.item_listed", "inspection.approved_before", "inspection.campaign_plan",
        "inspection.certified_officers", "inspection.result_fed_back", "inspection.yearly_cap"}


def test_the_2025_data_set_has_its_injected_inspection_faults(tmp_path_factory):
    """xuefu-2024's volumes under the 2025 rules: a realistic share of inspection faults, the yearly cap
    passed by key businesses, all judged exactly (the cap over the whole data set's history)."""
    from conftest import read_expected
    from datasets import dataset

    data = dataset("xuefu-2025", tmp_path_factory.mktemp("data"))
    as_of, expected = read_expected(data)
    report = json.loads(run("check", str(data), "--as-of", as_of, "--format", "json").stdout)
    assert report["problems"] == [] and report["engine_failures"] == []
    got: dict[str, set[str]] = {}
    for f in report["findings"]:
        got.setdefault(f["case_id"], set()).add(f["rule_id"])
    assert got == {cid: set(rules) for cid, rules in expected.items()}
    cap = sum("inspection.yearly_cap" in v for v in got.values())
    faulty = sum(any(r.startswith("inspection.") for r in v) for v in got.values())
    assert 20 <= cap <= 200 and 100 <= faulty <= 400                   # of 2,895 inspections


def test_repeat_alerts_mask_an_inspected_persons_id_number():
    """A person inspected twice (a 个体工商户 by their resident ID): the alert masks the ID unless unmasked; a
    business's credit code stays whole."""
    from engine.inspections import add_repeat_section, repeat_inspections
    from engine.report.document import Document

    day = dt.date(2025, 9, 1)
    rows = [{"agency": "a", "case_id": f"{who}{n}", "party_id": pid, "party": name, "party_kind": kind,
             "day": day + dt.timedelta(days=n * 10), "kind": "routine", "index": 0, "file": "f"}
            for who, pid, name, kind in (("P", "120104198001010011", "何某", "person"),
                                         ("B", "91120104MA0R01961X", "某公司", "organization")) for n in range(2)]
    found = repeat_inspections(rows, day + dt.timedelta(days=20), days=60, agencies=3)
    shown = {}
    for masked in (True, False):
        doc = Document("alerts", "zh", "t", {})
        add_repeat_section(doc, found, "zh", days=60, agencies=3, masked=masked)
        shown[masked] = {r["party"]: (r["party_id"], r["party_type"]) for r in doc.sections[0].rows}
    assert shown[True] == {"何某": ("120104********0011", "自然人"), "某公司": ("91120104MA0R01961X", "单位")}
    assert shown[False]["何某"] == ("120104198001010011", "自然人")
