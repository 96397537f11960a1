"""durable-rules vs the plain-Python oracle: fixtures, generated cases, and random boundary facts."""

from __future__ import annotations

import random

from engine.durable import DurablePool
from engine.loader import LoadedCase, load_paths, validate_case
from fixtures.casegen import CaseGen
from boundary import interesting, random_fact
from conftest import ROOT

N_CASES = 3000
N_FACT_SETS = 4000


def test_fixtures_agree(make_checker):
    loaded = load_paths([ROOT / "fixtures"])
    assert not loaded.problems
    results = list(make_checker(engine="durable", workers=2).check(loaded.cases))
    assert len(results) == len(loaded.cases)
    assert [r.failure for r in results if r.failure] == []       # the checker compares every case


def test_generated_cases_agree_and_match_injected_faults(make_checker):
    gen = CaseGen(seed=7)
    cases, expected = [], {}
    for n in range(N_CASES):
        raw, rules = gen.random_case(n + 1, gen.rng.choice([2022, 2023, 2024]))
        raw["case_id"] = f"G{n}-" + raw["case_id"]
        case, problems = validate_case(raw, f"gen-{n}")
        assert not problems, problems
        cases.append(LoadedCase(case, f"gen-{n}"))
        expected[case.case_id] = rules
    results = list(make_checker("2025-06-30", engine="durable", workers=2).check(cases))
    assert [r.failure for r in results if r.failure] == []
    got = {r.loaded.case.case_id: {f.rule_id for f in r.findings} for r in results}
    assert got == expected
    assert sum(bool(v) for v in expected.values()) > N_CASES // 5        # faults really were injected


def test_random_boundary_facts_agree(rulebook):
    rng = random.Random(11)
    near = interesting(rulebook)
    items, facts_by_ref = [], {}
    for ref in range(N_FACT_SETS):
        facts = [random_fact(rng, rulebook, near, key=f"f{i}") for i in range(rng.randint(1, 8))]
        items.append((ref, facts))
        facts_by_ref[ref] = facts
    with DurablePool(rulebook, workers=2) as pool:
        results = dict(pool.evaluate(items))
    diffs = [ref for ref, hits in results.items() if hits != rulebook.evaluate(facts_by_ref[ref])]
    assert diffs == []
    assert sum(bool(h) for h in results.values()) > N_FACT_SETS // 4
