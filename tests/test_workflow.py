from __future__ import annotations

import pytest

from engine.errors import DefinitionError
from engine.rulebook import load_rulebook
from engine.profile import load_profile
from engine.workflow import Workflow


def steps(wf, *types, day=738000):
    return wf.replay([(t, day) for t in types])


def test_lawful_ordinary_path(workflows):
    wf = workflows["ordinary"]
    out = steps(wf, "discovered", "registered", "inspected", "notified", "legal_review", "decided", "served",
                "publicized", "paid", "closed", "publicized")
    assert all(s.allowed for s in out)
    assert wf.path([(s.event_type, 1) for s in out]) == ["new", "registered", "investigating", "notified",
                                                         "reviewed", "decided", "closed"]


def test_refused_step_is_recorded_and_replay_goes_on(workflows):
    out = steps(workflows["ordinary"], "registered", "decided", "inspected", "paid")
    assert [(s.event_type, s.allowed, s.reason, s.state_before) for s in out] == [
        ("registered", True, "", "new"), ("decided", False, "wrong_state", "registered"),
        ("inspected", True, "", "registered"), ("paid", False, "wrong_state", "investigating")]


def test_unknown_event_and_date_order(workflows):
    out = workflows["simple"].replay([("inspected", 10), ("hearing_held", 10), ("decided", 9)])
    assert [(s.allowed, s.reason) for s in out] == [(True, ""), (False, "unknown_event"), (False, "date_order")]


def test_guards_come_from_the_workflow_file(workflows):
    assert workflows["ordinary"].guards_for("decided") == (
        "legal_review.required_before_decision", "legal_review.reviewer_independent",
        "procedure.notice_before_decision", "procedure.statement_period", "procedure.hearing_right_notified",
        "procedure.collective_discussion", "procedure.heavier_than_notified", "procedure.hearing_not_held")
    assert workflows["ordinary"].guards_for("registered") == ("deadline.limitation_period",)
    assert workflows["ordinary"].guards_for("closed") == ("recording.documents_complete", "closing.outcome_executed")


@pytest.mark.parametrize("spec, key", [
    ({"name": "x", "title": {}, "initial": "a", "states": [{"name": "a"}], "transitions": [
        {"trigger": "nonsense", "source": ["a"], "dest": None}]}, "transitions[0].trigger"),
    ({"name": "x", "title": {}, "initial": "a", "states": [{"name": "a"}], "transitions": [
        {"trigger": "closed", "source": ["zz"], "dest": None}]}, "transitions[0].source"),
    ({"name": "x", "title": {}, "initial": "q", "states": [{"name": "a"}], "transitions": []}, "initial"),
])
def test_bad_workflow_is_a_definition_error(spec, key):
    with pytest.raises(DefinitionError) as err:
        Workflow(spec, "x.yaml")
    assert err.value.key == key


def test_guard_must_match_rule_blocks(workflows):
    spec = {"name": "simple", "title": {}, "initial": "new", "states": [{"name": "new"}, {"name": "d"}],
            "transitions": [{"trigger": "closed", "source": ["new"], "dest": "d",
                             "guards": ["procedure.notice_before_decision"]}]}
    bad = dict(workflows, simple=Workflow(spec, "simple.yaml"))
    with pytest.raises(DefinitionError) as err:
        load_rulebook(load_profile(), workflows=bad)
    assert "blocks 'decided'" in str(err.value)


def _reference_walk(wf, events):
    """The workflow file's transitions read as a plain table, walked one event at a time."""
    table = {}
    for t in wf.transitions:
        for source in t.sources:
            table.setdefault((source, t.trigger), t.dest or source)
    state, last, out = wf.initial, None, []
    for event_type, day in events:
        if last is not None and day < last:
            out.append((state, state, False, "date_order"))
            continue
        last = day
        if event_type not in wf.triggers:
            out.append((state, state, False, "unknown_event"))
            continue
        nxt = table.get((state, event_type))
        out.append((state, nxt or state, nxt is not None, "" if nxt else "wrong_state"))
        state = nxt or state
    return out


from hypothesis import given, settings, strategies as st  # noqa: E402
from engine.model import EVENT_TYPES  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["ordinary", "simple", "inspection"]),
       st.lists(st.tuples(st.sampled_from(sorted(EVENT_TYPES) + ["bogus"]), st.integers(738000, 738030)), max_size=14))
def test_memoised_replay_equals_a_plain_walk(workflows, procedure, events):
    """Walks are memoised by shape; every answer (first or remembered) equals a plain table walk."""
    wf = workflows[procedure]
    for _ in range(2):                                 # the second time comes from the memo
        got = [(s.state_before, s.state_after, s.allowed, s.reason) for s in wf.replay(events)]
        assert got == _reference_walk(wf, events)
        assert [(s.index, s.event_type, s.date_ordinal) for s in wf.replay(events)] == \
               [(i, t, d) for i, (t, d) in enumerate(events)]
