"""The fence around durable-rules: flat patterns only, strict projection, crashes contained."""

from __future__ import annotations

import pytest

from engine.durable import DurablePool, assert_flat, compile_ruleset, project
from engine.facts import StepFact


def test_compiled_catalogue_is_flat(rulebook):
    rules = compile_ruleset(rulebook.alternatives)
    assert_flat(rules)
    assert len(rules) == len(rulebook.alternatives) + 1          # + the sentinel rule


def test_sessions_where_no_rule_fires_and_duplicates(rulebook):
    """The sentinel makes every session fire (delete_state crashes on a session where nothing fired);
    a fact key used twice is refused before the engine sees it (the engine reports
    duplicates only when no other fact went unmatched); the naive one-fact-at-a-time use gives the same answer."""
    from engine.durable import DurableSession

    session = DurableSession(compile_ruleset(rulebook.alternatives), name="fence_test")
    quiet = [{"kind": "step", "key": f"s{i}", "act_day": 739000, "allowed": True} for i in range(50)]
    for _ in range(200):
        assert session.run(quiet) == frozenset()
    loud = quiet + [{"kind": "step", "key": "bad", "act_day": 739000, "allowed": False}]
    assert session.run(loud) == session.run_one_at_a_time(loud) == frozenset({("workflow.illegal_step", "bad")})
    with pytest.raises(TypeError, match="twice"):
        project([StepFact(key="s1", act_day=738000, event_type="paid", procedure="ordinary", allowed=True,
                          reason="")] * 2, rulebook.fields_by_kind)


@pytest.mark.parametrize("rule", [
    {"all": [{"m": {"$and": [{"$and": [{"kind": "x"}]}, {"$gt": {"a": 1}}]}}]},       # nested $and
    {"all": [{"m": {"$and": [{"kind": "x"}, {"$gt": {"day": {"d": "day"}}}]}}]},        # join with another fact
    {"all": [{"m": {"$and": [{"kind": "x"}, {"$gt": {"a": 1.5}}]}}]},                  # float constant
    {"all": [{"m": {"$or": [{"kind": "x"}, {"kind": "y"}]}}]},                         # $or
    {"all": [{"m": {"$and": [{"kind": "x"}]}}, {"n": {"$and": [{"kind": "y"}]}}]},     # two facts
])
def test_non_flat_patterns_are_refused(rule):
    with pytest.raises(ValueError):
        assert_flat({"r": rule})


def test_projection_sends_only_referenced_fields_with_exact_types(rulebook):
    fact = StepFact(key="s1", act_day=738000, event_type="paid", procedure="ordinary", allowed=False, reason="x",
                    state_before="closed", act_date="2021-07-15")
    (item,) = project([fact], rulebook.fields_by_kind)
    assert item == {"kind": "step", "key": "s1", "act_day": 738000, "allowed": False}


@pytest.mark.parametrize("value", [1.0, 2 ** 60, None])
def test_projection_refuses_unsafe_values(rulebook, value):
    fact = StepFact(key="s1", act_day=value, event_type="paid", procedure="ordinary", allowed=False, reason="")
    with pytest.raises(TypeError):
        project([fact], rulebook.fields_by_kind)


def test_native_crash_fails_one_case_not_the_run(rulebook):
    good = {"kind": "step", "key": "s0", "act_day": 739000, "allowed": False}
    # an exponent-notation float segfaults durable-rules 2.0.28; the projection never sends one,
    # so it is injected below the projection to prove the worker fence holds
    bad = {"kind": "decision", "key": "d0", "act_day": 739000, "fine_fen": 1e16, "procedure": "simple",
           "outcome": "penalty", "party_kind": "person", "penalty_kind": "fine", "review_required": False,
           "review_approved_before": True, "reviewer_investigated": False, "notice_before": True}
    items = [(i, [dict(good)]) for i in range(4)] + [("BAD", [bad])] + [(i, [dict(good)]) for i in range(4, 8)]
    with DurablePool(rulebook, workers=2, chunk_size=2) as pool:
        out = list(pool.evaluate_projected(items))
    assert [ref for ref, _ in out] == [0, 1, 2, 3, "BAD", 4, 5, 6, 7]
    verdicts = dict(out)
    assert "crashed" in str(verdicts.pop("BAD"))
    assert all(v == frozenset({("workflow.illegal_step", "s0")}) for v in verdicts.values())


def test_disagreement_withholds_the_verdict(make_checker, monkeypatch):
    from engine.loader import load_paths
    from conftest import ROOT

    checker = make_checker(engine="durable", workers=1)
    loaded = load_paths([ROOT / "fixtures" / "rules" / "simple-threshold.yaml"]).cases
    monkeypatch.setattr(checker.rulebook.__class__, "evaluate", lambda self, facts: set())   # a broken oracle
    results = list(checker.check(loaded))
    flagged = [r for r in results if r.failure]
    assert flagged and all("disagree" in r.failure.reason and not r.findings for r in flagged)


def test_batched_sessions_equal_one_session_per_case_and_fall_back(rulebook, monkeypatch):
    """Cases share a session 25 at a time; a batch the engine fails on is re-run case by case."""
    from engine.durable import DurableSession, run_batched

    session = DurableSession(compile_ruleset(rulebook.alternatives), name="batch_test")
    cases = [[{"kind": "step", "key": f"s{j}", "act_day": 739000, "allowed": (i + j) % 7 != 0} for j in range(5)]
             for i in range(60)]
    alone = [session.run([dict(f) for f in c]) for c in cases]
    assert sum(bool(h) for h in alone) > 20
    batched = run_batched(session, [(i, [dict(f) for f in c]) for i, c in enumerate(cases)])
    assert [h for _, h in batched] == alone

    real = DurableSession.run_many

    def failing(self, part):
        real(self, part)                                   # consumes (rewrites) the facts, then fails
        raise RuntimeError("engine error")

    monkeypatch.setattr(DurableSession, "run_many", failing)
    again = run_batched(session, [(i, [dict(f) for f in c]) for i, c in enumerate(cases)])
    assert [h for _, h in again] == alone
