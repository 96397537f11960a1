"""Fact classes: durable-rules asked once per class of facts the rules cannot tell apart.

The claim behind ``engine.durable.FactClasses`` is that two facts of one class satisfy exactly the same
comparisons of every rule. These tests try to break it around every constant of the catalogue, and check
that the memo gives the same answers as durable-rules asked about every fact and as the oracle.
"""

from __future__ import annotations

import random

import pytest

from engine.durable import ClassMemo, DurableSession, FactClasses, compile_ruleset, project
from engine.facts import FACT_KINDS
from engine.loader import LoadedCase, validate_case
from fixtures.casegen import CaseGen
from boundary import interesting, random_fact


def _step(act_day, allowed):
    return FACT_KINDS["step"](key="s0", act_day=act_day, allowed=allowed, event_type="paid", procedure="ordinary",
                              reason="")


@pytest.fixture(scope="module")
def session(rulebook):
    return DurableSession(compile_ruleset(rulebook.alternatives), name="classes_test")


def test_facts_of_one_class_match_the_same_rules(rulebook):
    """30,000 facts on and around every constant: within each class the oracle's answer never varies."""
    rng = random.Random(5)
    near = interesting(rulebook, spread=2)
    classes = FactClasses(rulebook.alternatives, rulebook.fields_by_kind)
    answer_of: dict = {}
    for _ in range(30_000):
        fact = random_fact(rng, rulebook, near, on_constants=0.85)
        rules = frozenset(rule_id for rule_id, _ in rulebook.evaluate([fact]))
        assert answer_of.setdefault(classes.of(fact), rules) == rules, fact
    assert 200 < len(answer_of) < 30_000                        # classes really merge facts, and not all of them
    assert sum(bool(r) for r in answer_of.values()) > 50       # and many classes match rules


def test_a_constant_and_its_neighbours_are_three_classes(rulebook):
    classes = FactClasses(rulebook.alternatives, rulebook.fields_by_kind)
    day_from = min(alt.day_from for alt in rulebook.alternatives if alt.kind == "step")
    around = [classes.of(_step(day_from + d, False)) for d in (-2, -1, 0, 1, 2)]
    assert around[0] == around[1] != around[2] != around[3] == around[4]


def test_memo_agrees_with_every_fact_and_the_oracle(rulebook, session):
    rng = random.Random(17)
    near = interesting(rulebook, spread=2)
    cases = [(ref, [random_fact(rng, rulebook, near, key=f"f{i}") for i in range(rng.randint(1, 9))])
             for ref in range(3_000)]
    memo = ClassMemo(session, FactClasses(rulebook.alternatives, rulebook.fields_by_kind), rulebook.fields_by_kind)
    got = []
    for start in range(0, len(cases), 25):
        got.extend(memo.run(cases[start:start + 25]))
    every_fact = [session.run(project(facts, rulebook.fields_by_kind)) for _, facts in cases]
    oracle = [frozenset(rulebook.evaluate(facts)) for _, facts in cases]
    assert [hits for _, hits in got] == every_fact == oracle
    assert [ref for ref, _ in got] == [ref for ref, _ in cases]
    assert sum(bool(h) for h in oracle) > 1_000
    assert memo.asked < sum(len(f) for _, f in cases) // 3       # asked once per class, not per fact


def test_a_full_memo_forgets_and_still_answers_right(rulebook, session):
    rng = random.Random(23)
    near = interesting(rulebook, spread=2)
    cases = [(ref, [random_fact(rng, rulebook, near, key=f"f{i}") for i in range(4)]) for ref in range(400)]
    memo = ClassMemo(session, FactClasses(rulebook.alternatives, rulebook.fields_by_kind), rulebook.fields_by_kind,
                     limit=16)
    for start in range(0, len(cases), 10):
        for (ref, hits) in memo.run(cases[start:start + 10]):
            assert hits == frozenset(rulebook.evaluate(cases[ref][1]))
        assert len(memo._answers) < 16 + 40                     # at most one call's new classes over the limit


def test_a_fact_the_engine_cannot_take_fails_its_case_only_and_is_not_remembered(rulebook, session):
    good = [_step(739_000, False)]
    odd_day = [_step(739_000.5, False)]                  # not an int: its own class
    odd_flag = [_step(739_000, [False])]                 # unhashable
    memo = ClassMemo(session, FactClasses(rulebook.alternatives, rulebook.fields_by_kind), rulebook.fields_by_kind)
    out = dict(memo.run([("good", good), ("odd_day", odd_day), ("odd_flag", odd_flag), ("again", list(good))]))
    assert out["good"] == out["again"] == frozenset({("workflow.illegal_step", "s0")})
    assert "not sendable" in out["odd_day"] and "float" in out["odd_day"]
    assert "not sendable" in out["odd_flag"]
    assert all("raw" not in cls for cls in memo._answers)
    assert dict(memo.run([("odd_day", odd_day)]))["odd_day"] == out["odd_day"]   # asked again, refused again


def test_the_checker_gives_the_same_findings_with_and_without_classes(make_checker):
    gen = CaseGen(seed=29)
    cases = []
    for n in range(800):
        raw, _ = gen.random_case(n + 1, gen.rng.choice([2022, 2023, 2024]))
        raw["case_id"] = f"C{n}-" + raw["case_id"]
        case, problems = validate_case(raw, f"gen-{n}")
        assert not problems, problems
        cases.append(LoadedCase(case, f"gen-{n}"))

    def findings(**kw):
        results = list(make_checker("2025-06-30", engine="inprocess", **kw).check(cases))
        assert [r.failure for r in results if r.failure] == []
        return [[(f.rule_id, f.fact, f.message) for f in r.findings] for r in results]

    with_classes, without = findings(classes=True), findings(classes=False)
    assert with_classes == without == findings() and sum(map(bool, with_classes)) > 150
    oracle = [[(f.rule_id, f.fact, f.message) for f in r.findings]
              for r in make_checker("2025-06-30", engine="oracle").check(cases)]
    assert with_classes == oracle
