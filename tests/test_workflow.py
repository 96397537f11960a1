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
        "procedure.collective_discussion")
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
