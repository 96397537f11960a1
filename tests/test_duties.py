"""Live recording in a shared store: who may record a step, and two writers on one case at once."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from engine.cases import ConcurrentChange, RecorderRefused, new_case, record
from engine.store import Store
from engine.model import CaseFile
from engine.store.repo import put_case, verify
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


def _hold_the_store_while(store, write, held, release):
    """A writer (an import) that holds the store: it writes, says so, and commits when told."""
    from engine.workflow import default_workflows

    with store.writing() as session:
        put_case(session, CaseFile.model_validate(write), source="import", actor="导入员",
                 workflows=default_workflows())
        held.set()
        release.wait(30)


@pytest.mark.parametrize("stored_before", [True, False])
def test_a_step_waits_for_a_writer_and_judges_the_case_that_writer_left(url, stored_before):
    """An import holds the store and stores the case with its legal review added (or stores the case
    for the first time); a decision recorded meanwhile waits, then sees the case as the import left it:
    not refused for a missing review, appended after it, the chain whole."""
    store = Store.open(url)
    if stored_before:
        new_case(store, LIVE, actor="王某")
    reviewed = {**LIVE, "events": LIVE["events"] + [REVIEW]}
    held, release, outcome = threading.Event(), threading.Event(), []
    importer = threading.Thread(target=_hold_the_store_while, args=(Store.open(url), reviewed, held, release))
    importer.start()
    assert held.wait(30)

    def step() -> None:
        try:
            outcome.append(record(Store.open(url), "LIVE-1", dict(DECISION), actor="O1"))
        except Exception as exc:                     # noqa: BLE001 - shown by the assertion below
            outcome.append(exc)

    recorder = threading.Thread(target=step)
    try:
        recorder.start()
        recorder.join(0.5)
        assert recorder.is_alive() and outcome == []     # waiting for the import, not judging a stale case
    finally:
        release.set()
        importer.join(30)
        recorder.join(30)
    [done] = outcome
    assert not isinstance(done, Exception), done
    assert done.seq == len(LIVE["events"]) + 2 and done.state == "decided"
    stored = events(store)
    assert [e.type for e in stored][-2:] == ["legal_review", "decided"]
    with store.reading() as s:
        assert verify(s) == []


def test_the_live_step_holds_the_writers_lock_and_the_case_row(url):
    """On PostgreSQL one statement takes the writers' advisory lock (shared: live steps run side by side;
    tests/test_live_lock.py) and the case's row, then the party's lock; all are held until the step's
    transaction ends (on SQLite the write transaction holds the database)."""
    from sqlalchemy import text

    from engine.store import party_lock_key

    store = Store.open(url)
    new_case(store, LIVE, actor="王某")
    with store.writing_case("LIVE-1") as (session, row):
        assert row.case_id == "LIVE-1"
        if store.is_sqlite:
            return
        locks = session.execute(text("SELECT objid, mode FROM pg_locks WHERE locktype = 'advisory' AND granted "
                                     "AND pid = pg_backend_pid()")).all()
        party = party_lock_key(LIVE["party"]["id"]) & 0xFFFFFFFF
        assert sorted(locks) == sorted([(0x43415345, "ShareLock"), (party, "ExclusiveLock")])
        other = Store.open(url)
        with other.engine.connect() as conn:       # another session can neither lock the row nor write
            conn.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(Exception, match="lock timeout"):
                conn.execute(text("SELECT id FROM cases WHERE case_id = 'LIVE-1' FOR UPDATE"))
            conn.rollback()
            conn.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(Exception, match="lock timeout"):
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x43415345})
            conn.rollback()
        other.close()


def test_writers_and_readers_carry_on_after_the_server_dropped_their_pooled_connections():
    """A server restart ends the pooled connections: the next live step, import and read each get a
    working connection (the pool pings before lending; without it the step fails with AdminShutdown)."""
    import pg
    from sqlalchemy import create_engine, text

    url = pg.create_database()
    store = Store.open(url)

    def server_drops_every_connection() -> None:
        admin = create_engine(url)
        with admin.begin() as conn:
            dropped = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
        admin.dispose()
        assert dropped >= 1                          # the store's pooled connections

    try:
        new_case(store, LIVE, actor="王某")
        record(store, "LIVE-1", dict(REVIEW), actor="R1")
        server_drops_every_connection()
        done = record(store, "LIVE-1", dict(DECISION), actor="O1")
        assert done.seq == len(LIVE["events"]) + 2
        server_drops_every_connection()
        new_case(store, {**LIVE, "case_id": "LIVE-2"}, actor="王某")
        server_drops_every_connection()
        with store.reading() as s:
            assert verify(s) == []
        assert [e.type for e in events(store)].count("decided") == 1
    finally:
        store.close()
        pg.drop_database(url)
