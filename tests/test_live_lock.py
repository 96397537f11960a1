"""Locking of live steps on PostgreSQL (SQLite: one writer at a time, also checked where it applies).

A live step takes the writers' advisory lock SHARED, its case's row FOR UPDATE and its party's advisory
lock; imports and anything that needs the whole store take the writers' lock EXCLUSIVE. These tests
hold one transaction open in one thread and watch what another thread can and cannot do meanwhile
(every wait is bounded)."""

from __future__ import annotations

import copy
import datetime as dt
import threading

import pytest
import yaml
from sqlalchemy import text
from sqlmodel import select

import engine.cases as cases_mod
from engine.cases import ConcurrentChange, StepRefused, new_case, record
from engine.store import Store, party_lock_key
from engine.store.repo import verify
from engine.store.tables import CaseRow, EventRow
from conftest import ROOT
from test_store import DECISION, LIVE

CAP = ROOT / "fixtures" / "rules" / "inspection-yearly_cap.yaml"
REVIEW = {"type": "legal_review", "date": "2024-03-12", "reviewer": "R1", "result": "approved",
          "documents": ["法制审核意见书"]}
WAIT = 30                  # seconds: the longest any thread here is waited for


@pytest.fixture
def pg_url():
    import pg

    url = pg.create_database()
    yield url
    pg.drop_database(url)


def _case(case_id: str, party: str) -> dict:
    return {**copy.deepcopy(LIVE), "case_id": case_id,
            "party": {"kind": "person", "name": f"当事人{party}", "id": party}}


def _cap_cases() -> dict[str, dict]:
    return {c["case_id"]: c for c in yaml.safe_load(CAP.read_text("utf-8"))["cases"]}


def _run(target, *args) -> tuple[threading.Thread, list]:
    out: list = []

    def body() -> None:
        try:
            out.append(target(*args))
        except Exception as exc:                       # noqa: BLE001 - asserted by the caller
            out.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, out


class _PauseAfterJudging:
    """Make the first live step that gets past the guard wait (holding its locks, its event not yet
    committed) until released; every other step runs through."""

    def __init__(self, monkeypatch):
        self.judged, self.release = threading.Event(), threading.Event()
        self._first = threading.Lock()
        real = cases_mod.append_step

        def append_step(*args, **kwargs):
            event = real(*args, **kwargs)
            if self._first.acquire(blocking=False):
                self.judged.set()
                assert self.release.wait(WAIT)
            return event

        monkeypatch.setattr(cases_mod, "append_step", append_step)


def _inspections_at_the_cap(url: str) -> tuple[Store, dict, dict]:
    """One routine inspection of the business stored; two more cases of it (same agency), each about to
    record a routine inspection in 2025: the first to land is the second of the year (allowed), the
    other the third (over the cap of 2)."""
    cases = _cap_cases()
    store = Store.open(url)
    new_case(store, cases["INSP-CAP-参照-1a 第1次日常检查"], actor="seed")
    third = copy.deepcopy(cases["INSP-CAP-违反-1 第3次日常检查"])
    inspection = third["events"][0]
    a = {**third, "case_id": "INSP-A", "events": []}
    b = {**third, "case_id": "INSP-B", "events": []}
    new_case(store, a, actor="seed")
    new_case(store, b, actor="seed")
    return store, a, inspection


def _stored_inspections(store: Store) -> dict[str, int]:
    with store.reading() as s:
        rows = s.exec(select(CaseRow.case_id, EventRow.seq).join(EventRow, EventRow.case_pk == CaseRow.id)
                      .where(EventRow.type == "inspected", CaseRow.case_id.in_(["INSP-A", "INSP-B"]))).all()
    return {case_id: seq for case_id, seq in rows}


def _both_inspect(url: str, monkeypatch) -> tuple[Store, list]:
    store, _, inspection = _inspections_at_the_cap(url)
    pause = _PauseAfterJudging(monkeypatch)
    day = dt.date(2025, 10, 9)
    first, out_a = _run(lambda: record(Store.open(url), "INSP-A", dict(inspection), actor="O1", as_of=day))
    assert pause.judged.wait(WAIT)                     # INSP-A judged (2nd of the year), not yet committed
    second, out_b = _run(lambda: record(Store.open(url), "INSP-B", dict(inspection), actor="O1", as_of=day))
    second.join(1.0)
    waited = second.is_alive()
    pause.release.set()
    first.join(WAIT)
    second.join(WAIT)
    assert not first.is_alive() and not second.is_alive()
    return store, [waited, out_a[0], out_b[0]]


def test_two_live_inspections_of_one_business_at_the_cap_store_exactly_one(pg_url, monkeypatch):
    """The step on INSP-B waits for the party's lock that INSP-A's step holds, then reads INSP-A's
    inspection and is refused by the yearly cap: exactly one of the two is stored."""
    store, (waited, a, b) = _both_inspect(pg_url, monkeypatch)
    assert waited, "the second step of the same business did not wait for the first"
    assert not isinstance(a, Exception), a
    assert isinstance(b, StepRefused), b
    assert [f.rule_id for f in b.findings] == ["inspection.yearly_cap"]
    assert _stored_inspections(store) == {"INSP-A": 1}
    with store.reading() as s:
        assert verify(s) == []


def test_without_the_party_lock_both_inspections_would_pass_the_cap(pg_url, monkeypatch):
    """The race the party's lock closes is real: with the lock statement replaced by a no-op, both steps
    judge without the other's inspection and both are stored (this is what the test above guards)."""
    import engine.store as store_mod

    monkeypatch.setattr(store_mod, "_PARTY_LOCK", text("SELECT CAST(:k AS bigint)"))
    store, (waited, a, b) = _both_inspect(pg_url, monkeypatch)
    assert not waited
    assert not isinstance(a, Exception) and not isinstance(b, Exception), (a, b)
    assert _stored_inspections(store) == {"INSP-A": 1, "INSP-B": 1}


def test_the_live_step_holds_the_writers_lock_shared_its_row_and_its_partys_lock(pg_url):
    store = Store.open(pg_url)
    new_case(store, _case("C-1", "P-1"), actor="王某")
    with store.writing_case("C-1") as (session, row):
        held = session.execute(text(
            "SELECT (classid::bigint << 32) | objid::bigint, mode FROM pg_locks WHERE locktype = 'advisory' "
            "AND granted AND pid = pg_backend_pid()")).all()
        party = party_lock_key("P-1") & 0xFFFFFFFFFFFFFFFF
        assert sorted(held) == sorted([(0x43415345, "ShareLock"), (party, "ExclusiveLock")])
        other = Store.open(pg_url)
        with other.engine.connect() as conn:
            conn.execute(text("SET lock_timeout = '200ms'"))
            conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": 0x43415345})   # shared: granted
            conn.rollback()
            for statement, params in (("SELECT pg_advisory_xact_lock(:k)", {"k": 0x43415345}),
                                      ("SELECT pg_advisory_xact_lock(:k)", {"k": party_lock_key("P-1")}),
                                      ("SELECT id FROM cases WHERE case_id = 'C-1' FOR UPDATE", {})):
                conn.execute(text("SET lock_timeout = '200ms'"))
                with pytest.raises(Exception, match="lock timeout"):
                    conn.execute(text(statement), params)
                conn.rollback()
        other.close()


def _hold_case(url: str, case_id: str, held: threading.Event, release: threading.Event) -> None:
    with Store.open(url).writing_case(case_id) as (session, row):
        held.set()
        assert release.wait(WAIT)


def test_steps_on_cases_of_other_parties_do_not_wait_and_the_same_party_waits(pg_url):
    store = Store.open(pg_url)
    for cid, party in (("C-1", "P-1"), ("C-2", "P-2"), ("C-3", "P-1")):
        new_case(store, _case(cid, party), actor="王某")
    held, release = threading.Event(), threading.Event()
    holder, _ = _run(_hold_case, pg_url, "C-1", held, release)
    try:
        assert held.wait(WAIT)
        other, out = _run(lambda: record(Store.open(pg_url), "C-2", dict(REVIEW), actor="R1"))
        other.join(WAIT)                                # another case, another party: no wait
        assert not other.is_alive() and not isinstance(out[0], Exception), out
        same, out_same = _run(lambda: record(Store.open(pg_url), "C-3", dict(REVIEW), actor="R1"))
        same.join(1.0)                                  # another case of the same party: waits
        assert same.is_alive() and out_same == []
    finally:
        release.set()
        holder.join(WAIT)
    same.join(WAIT)
    assert not same.is_alive() and not isinstance(out_same[0], Exception), out_same
    with store.reading() as s:
        assert verify(s) == []


def test_an_import_waits_for_running_live_steps(pg_url, tmp_path):
    from engine.cases import import_paths

    store = Store.open(pg_url)
    new_case(store, _case("C-1", "P-1"), actor="王某")
    path = tmp_path / "new.json"
    import json

    path.write_text(json.dumps(_case("C-9", "P-9"), ensure_ascii=False), "utf-8")
    held, release = threading.Event(), threading.Event()
    holder, _ = _run(_hold_case, pg_url, "C-1", held, release)
    try:
        assert held.wait(WAIT)
        importer, out = _run(lambda: import_paths(Store.open(pg_url), [path], actor="导入员"))
        importer.join(1.0)
        assert importer.is_alive() and out == []       # the import waits for the live step
    finally:
        release.set()
        holder.join(WAIT)
    importer.join(WAIT)
    assert not importer.is_alive() and out[0].new == 1, out


def test_a_live_step_waits_for_a_running_import(pg_url):
    store = Store.open(pg_url)
    new_case(store, _case("C-1", "P-1"), actor="王某")
    held, release = threading.Event(), threading.Event()

    def hold_store() -> None:
        with Store.open(pg_url).writing():
            held.set()
            assert release.wait(WAIT)

    holder, _ = _run(hold_store)
    try:
        assert held.wait(WAIT)
        step, out = _run(lambda: record(Store.open(pg_url), "C-1", dict(REVIEW), actor="R1"))
        step.join(1.0)
        assert step.is_alive() and out == []
    finally:
        release.set()
        holder.join(WAIT)
    step.join(WAIT)
    assert not step.is_alive() and out[0].seq == len(LIVE["events"]) + 1, out


def test_concurrent_steps_lose_and_double_nothing(url):
    """Twelve threads, two per case, six cases of three parties: each pair submits the same review and
    then the decision against the count it saw. Per case exactly one of each lands; the store holds
    exactly the events the threads were told were stored, numbered without gaps, the chain whole."""
    store = Store.open(url)
    ids = [f"C-{n}" for n in range(6)]
    for n, cid in enumerate(ids):
        new_case(store, _case(cid, f"P-{n % 3}"), actor="王某")
    base = len(LIVE["events"])
    stored: list[tuple[str, int]] = []
    lock = threading.Lock()
    gate = threading.Barrier(12, timeout=WAIT)

    def worker(cid: str) -> None:
        mine = Store.open(url)
        gate.wait()
        for step, actor, expect in ((REVIEW, "R1", base), (DECISION, "O1", base + 1)):
            try:
                done = record(mine, cid, dict(step), actor=actor, expect=expect)
            except ConcurrentChange:
                continue                                 # the other thread's step landed first
            with lock:
                stored.append((cid, done.seq))
        mine.close()

    threads = [threading.Thread(target=worker, args=(cid,)) for cid in ids for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 2)
    assert not any(t.is_alive() for t in threads)
    assert sorted(stored) == sorted((cid, seq) for cid in ids for seq in (base + 1, base + 2))
    with store.reading() as s:
        rows = s.exec(select(CaseRow.case_id, EventRow.seq, EventRow.type)
                      .join(EventRow, EventRow.case_pk == CaseRow.id)).all()
        assert verify(s) == []
    for cid in ids:
        seqs = sorted(seq for c, seq, _ in rows if c == cid)
        assert seqs == list(range(1, base + 3))
        assert [t for c, seq, t in sorted(rows) if c == cid][-2:] == ["legal_review", "decided"]


def test_a_new_case_waits_for_its_party_not_for_other_live_steps_and_one_id_is_stored_once(pg_url):
    from engine.errors import CasecheckError

    store = Store.open(pg_url)
    new_case(store, _case("C-1", "P-1"), actor="王某")
    held, release = threading.Event(), threading.Event()
    holder, _ = _run(_hold_case, pg_url, "C-1", held, release)
    try:
        assert held.wait(WAIT)
        other, out = _run(lambda: new_case(Store.open(pg_url), _case("C-2", "P-2"), actor="王某"))
        other.join(WAIT)                                 # another party: no wait for the running step
        assert not other.is_alive() and out == ["C-2"], out
        same, out_same = _run(lambda: new_case(Store.open(pg_url), _case("C-3", "P-1"), actor="王某"))
        same.join(1.0)                                   # the party's row: waits for the step on C-1
        assert same.is_alive() and out_same == []
    finally:
        release.set()
        holder.join(WAIT)
    same.join(WAIT)
    assert out_same == ["C-3"], out_same
    gate = threading.Barrier(2, timeout=WAIT)

    def create(party: str):
        gate.wait()
        return new_case(Store.open(pg_url), _case("C-9", party), actor="王某")

    threads = [_run(create, "P-7"), _run(create, "P-8")]      # one id, two parties: no common party lock
    for thread, _ in threads:
        thread.join(WAIT)
    results = [out[0] for _, out in threads]
    assert sorted(map(type, results), key=str) == sorted([str, CasecheckError], key=str), results
    assert "already stored" in str(next(r for r in results if isinstance(r, CasecheckError)))
