"""Live recording in a shared store: who may record a step, and two writers on one case at once."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from engine.cases import ConcurrentChange, RecorderRefused, new_case, record
from engine.store import Store
from engine.store.repo import verify
from engine.store.tables import EventRow
from test_store import DECISION, LIVE

REVIEW = {"type": "legal_review", "date": "2024-03-12", "reviewer": "R1", "result": "approved",
          "documents": ["法制审核意见书"]}


def events(store):
    with store.reading() as s:
        return s.exec(select(EventRow).order_by(EventRow.seq)).all()


def test_the_recorder_must_be_an_officer_of_the_case(url):
    store = Store.open(url)
    new_case(store, LIVE, actor="王某")
    before = len(events(store))
    with pytest.raises(RecorderRefused, match="不是本案执法人员") as refused:
        record(store, "LIVE-1", dict(REVIEW), actor="张三")
    assert "O1 王某" in str(refused.value) and "R1 孙某" in str(refused.value)
    assert len(events(store)) == before
    done = record(store, "LIVE-1", dict(REVIEW), actor="R1")              # by id
    assert done.seq == before + 1 and events(store)[-1].recorded_by == "R1"


def test_a_legal_review_is_not_recorded_by_an_investigator(url):
    store = Store.open(url)
    new_case(store, LIVE, actor="王某")
    before = len(events(store))
    for investigator in ("O1", "赵某"):                       # inspected the case (by id and by name)
        with pytest.raises(RecorderRefused, match="参与了本案调查") as refused:
            record(store, "LIVE-1", dict(REVIEW), actor=investigator)
        assert "第五十八条" in str(refused.value) or "法制审核" in str(refused.value)
    assert len(events(store)) == before
    record(store, "LIVE-1", dict(REVIEW), actor="孙某")        # the reviewer, who did not investigate
    record(store, "LIVE-1", dict(DECISION), actor="王某")      # an investigator may record the decision
    with store.reading() as s:
        assert verify(s) == []


def test_two_writers_on_one_case_one_wins_the_other_is_refused(url):
    """Both read the case with 6 events and record at the same moment: exactly one step lands; the other
    gets a message naming what changed, and nothing of it is stored (no lost update, no doubled seq)."""
    store = Store.open(url)
    new_case(store, LIVE, actor="王某")
    seen = len(events(store))
    outcomes: list[object] = []
    gate = threading.Barrier(2)

    def writer(actor: str, step: dict) -> None:
        gate.wait()
        try:
            outcomes.append(record(Store.open(url), "LIVE-1", step, actor=actor, expect=seen))
        except Exception as exc:                     # noqa: BLE001 - anything else fails the assertions below
            outcomes.append(exc)

    threads = [threading.Thread(target=writer, args=("R1", dict(REVIEW))),        # the same review, submitted
               threading.Thread(target=writer, args=("孙某", dict(REVIEW)))]      # twice from two screens
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [o for o in outcomes if isinstance(o, ConcurrentChange)]
    assert len(outcomes) == 2 and len(refused) == 1, outcomes
    assert "本案已被他人更新" in str(refused[0]) and f"you saw {seen} events" in str(refused[0])
    stored = events(store)
    assert len(stored) == seen + 1 and [e.seq for e in stored] == list(range(1, seen + 2))
    with store.reading() as s:
        assert verify(s) == []
    assert stored[-1].type == "legal_review"                      # once, not twice
    again = record(store, "LIVE-1", dict(DECISION), actor="O1", expect=seen + 1)
    assert again.seq == seen + 2                                  # the next step, from the case as it is now
