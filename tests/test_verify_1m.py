"""`verify` at a million cases (issue 17): the fast per-range checks prove what the definitions prove.

- ``audit._chain`` (each event's hash built with the repeating parts encoded once, payloads parsed by
  orjson) gives the verdict and the words of ``repo.check_chain`` (the definition) on stored cases and on
  every kind of tampering of their rows;
- the ranges cover every row id: event, officer and deadline rows that belong to no case are named
  wherever their row id falls (before the first case, between two, after the last) without a store-wide
  scan;
- the checkpoint's leaf lines are hashed as stored: a line rewritten to equivalent but non-canonical JSON
  no longer gives the signed root.
On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random

import pytest
from sqlalchemy import text

from engine.cases import _deadline_context, import_paths
from engine.store import Store
from engine.store import audit
from engine.store.repo import check_chain, raw_rows
from engine.store.trail import init_key, make_checkpoint

from conftest import ROOT
from test_verify_fast import check

DEMO = ROOT / "fixtures" / "demo"


@pytest.fixture
def sealed(url, tmp_path):
    store = Store.open(url)
    assert import_paths(store, [DEMO], actor="导入员").new > 30
    key = tmp_path / "keys" / "cc.key"
    init_key(key)
    make_checkpoint(store, key, tmp_path / "cp")
    return store, key, tmp_path / "cp"


def stored(store):
    """Every case row (as ``_check_range`` reads it) with its events as the driver gives them."""
    with store.reading() as s:
        rows = [audit._Case._make(r) for r in raw_rows(s, f"SELECT {audit.CASE_COLUMNS} FROM cases ORDER BY id")]
        events = audit._events(s, audit.LOWEST, audit.HIGHEST)
    return rows, events


def test_events_are_read_with_their_date_and_time_as_text_on_postgresql(url):
    """On PostgreSQL ``verify`` reads each event's date and recording time as ISO text (UTC), in the columns'
    places; SQLite stores them as text. Both give what ``repo.check_chain`` reads as the same values."""
    assert audit.EVENT_COLUMNS_AS_TEXT.split(", ")[2] == "date::text"
    assert audit.EVENT_COLUMNS_AS_TEXT.split(", ")[5] == "(recorded_at AT TIME ZONE 'UTC')::text"
    store = Store.open(url)
    assert import_paths(store, [DEMO], actor="导入员").new > 30
    _rows, events = stored(store)
    first = next(iter(events.values()))[0]
    assert isinstance(first[2], str) and len(first[2]) == 10 and isinstance(first[5], str)
    assert dt.datetime.fromisoformat(first[5]).year >= 2026


def mutations(row, events, rnd):
    """(row, events) pairs: the case as stored and altered in every way a DBA could alter its rows."""
    yield row, events
    if not events:
        return
    i = rnd.randrange(len(events))

    def at(index, **changes):
        names = ["seq", "type", "date", "payload", "by", "at", "prev", "hash", "proof", "corrects", "pk"]
        e = list(events[index])
        for name, value in changes.items():
            e[names.index(name)] = value
        return events[:index] + [tuple(e)] + events[index + 1:]

    e = events[i]
    payload = json.loads(e[3])
    yield row, at(i, payload=json.dumps(dict(payload, note="x"), ensure_ascii=False, sort_keys=True,
                                        separators=(",", ":")))
    yield row, at(i, payload=e[3].replace(",", ", ", 1))                    # same JSON, other text
    yield row, at(i, payload="{not json")
    yield row, at(i, seq=e[0] + 1)
    yield row, at(i, prev="f" * 64)
    yield row, at(i, hash="0" * 64)
    yield row, at(i, by=e[4] + "某")
    yield row, at(i, proof=None if e[8] else "import")
    yield row, at(i, proof="asserted")
    yield row, at(i, corrects=1)
    yield row, at(i, type="legal_review" if e[1] != "legal_review" else "decision")
    yield row, at(i, date="1999-01-01" if isinstance(e[2], str) else dt.date(1999, 1, 1))
    stamp = e[5]
    if isinstance(stamp, str):
        yield row, at(i, at=stamp + "+08:00")
        yield row, at(i, at="yesterday")
        yield row, at(i, at=stamp.replace("T", " "))                        # the same time, other text
    else:
        yield row, at(i, at=stamp + dt.timedelta(seconds=1))
        yield row, at(i, at=stamp.astimezone(dt.timezone(dt.timedelta(hours=8))))    # the same instant
        yield row, at(i, at=stamp.replace(tzinfo=None))
        yield row, at(i, at=None)
    yield row, events[:i] + events[i + 1:]                                     # removed
    yield row, events[:i] + [events[i], events[i]] + events[i + 1:]            # doubled
    if len(events) > 1:
        j = (i + 1) % len(events)
        swapped = list(events)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        yield row, swapped
    yield row._replace(event_count=row.event_count + 1), events
    yield row._replace(head_hash="a" * 64), events
    yield row._replace(content_hash="b" * 64), events
    yield row._replace(header=row.header.replace('"procedure"', '"procedure" ', 1)), events
    yield row._replace(header=row.header[:-1]), events
    yield row._replace(header=row.header.replace("号", "號", 1)), events
    yield row._replace(case_id=row.case_id + "X"), events


def test_the_fast_chain_check_gives_the_definitions_verdict_on_every_tampering(sealed):
    store, _key, _directory = sealed
    rows, events = stored(store)
    rnd = random.Random(17)
    compared = broken = 0
    for row in rows:
        for case, own in mutations(row, events.get(row.id, []), rnd):
            try:
                want = check_chain(case, [e[:10] for e in own])
            except (AttributeError, TypeError) as exc:       # the definition crashes on a NULL time
                want = type(exc)
            try:
                got = audit._chain(case, own, audit._Memo())
            except (AttributeError, TypeError) as exc:
                got = type(exc)
            assert got == want, (row.case_id, got, want)
            compared += 1
            broken += want is not None
    assert compared > 30 * 25 and broken > compared * 0.8


def test_one_memo_for_a_whole_range_gives_each_case_its_own_verdict(sealed):
    """The memo keeps what repeats across cases (author and time, origin, date): a tampered case between
    intact ones is named, the others still pass, with one memo for all of them."""
    store, _key, _directory = sealed
    rows, events = stored(store)
    memo = audit._Memo()
    rnd = random.Random(3)
    for row in rows:
        own = events.get(row.id, [])
        assert audit._chain(row, own, memo) is None
        for case, bad in list(mutations(row, own, rnd))[1:4]:
            assert audit._chain(case, bad, memo) == check_chain(case, [e[:10] for e in bad])


def _sql(store, statement, **params):
    """A statement past the foreign keys (a DBA's own connection: SQLite enforces them only when asked)."""
    if store.engine.dialect.name == "sqlite":
        import sqlite3

        conn = sqlite3.connect(store.engine.url.database)
        with conn:
            conn.execute(statement, params)
        conn.close()
        return
    with store.engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(statement), params)


def test_rows_of_no_case_are_named_wherever_their_row_id_falls(sealed, monkeypatch):
    """The counts the ranges give equal the store-wide anti-join (what ``verify`` ran before)."""
    store, key, directory = sealed
    monkeypatch.setattr(audit, "CHUNK", 7)                   # several ranges
    with store.reading() as s:
        ids = [r[0] for r in raw_rows(s, "SELECT id FROM cases ORDER BY id")]
    _sql(store, "DELETE FROM cases WHERE id = :p", p=ids[8])     # its events, officers, deadlines stay behind
    event = ("INSERT INTO events (case_pk, seq, type, date, payload, recorded_by, recorded_at, prev_hash, hash) "
             "VALUES (:p, 1, 'filing', '2024-01-02', '{}', 'x', '2024-01-02 00:00:00', :z, :z)")
    for pk in (-5, 0, ids[-1] + 1000, 2 ** 31 - 1):
        _sql(store, event, p=pk, z="0" * 64)
    _sql(store, "INSERT INTO officers (case_pk, officer_id, name, legal_qualification) VALUES (:p, 'O9', 'x', false)",
         p=ids[-1] + 3)
    _sql(store, "INSERT INTO deadlines (case_pk, code, start, due, open_until, officers) VALUES "
                "(:p, 'deadline.x', '2024-01-01', '2024-02-01', '2024-03-01', '')", p=-1)
    with store.reading() as s:
        want = {table: raw_rows(s, f"SELECT count(*) FROM {table} WHERE case_pk NOT IN (SELECT id FROM cases)")[0][0]
                for table in ("events", "officers", "deadlines")}
    assert want["events"] >= 5 and want["officers"] >= 2 and want["deadlines"] >= 1, want
    for workers in (1, 2):
        report = check(store, key, directory, url=store.engine.url.render_as_string(hide_password=False),
                       workers=workers)
        stray = [b.problem for b in report.broken if b.case_id == ""]
        assert f"{want['events']} event rows belong to no case" in stray, stray
        assert f"{want['officers']} rows of officers belong to no case" in stray, stray
        assert f"{want['deadlines']} rows of deadlines belong to no case" in stray, stray
        assert any("missing from the store (deleted)" in b.problem for b in report.broken)


def test_a_leaf_line_rewritten_to_equivalent_json_no_longer_gives_the_signed_root(sealed):
    store, key, directory = sealed
    assert check(store, key, None).broken == []
    with store.engine.begin() as conn:
        blob = conn.execute(text("SELECT leaves FROM checkpoints ORDER BY seq DESC LIMIT 1")).scalar_one()
        lines = gzip.decompress(blob).decode("utf-8").splitlines(keepends=True)
        lines[3] = lines[3].replace(",", ", ", 1)             # the same leaf, not canonical
        conn.execute(text("UPDATE checkpoints SET leaves = :b WHERE seq = (SELECT max(seq) FROM checkpoints)"),
                     {"b": gzip.compress("".join(lines).encode("utf-8"))})
    problems = [b.problem for b in check(store, key, None).broken]
    assert any("does not give its signed root" in p for p in problems), problems


def test_seal_workers_give_the_leaves_the_seal_computes_alone(sealed, url, monkeypatch, tmp_path):
    """``keys seal --workers``: the deadline digests recomputed by worker processes (on SQLite too, while
    the seal holds the writers' lock) are the ones one process computes; the checkpoint they sign
    verifies."""
    from engine.store import trail

    store, key, directory = sealed
    monkeypatch.setattr(trail, "POOL_FROM", 5)              # the demo store is small: use the pool anyway
    ctx = _deadline_context()
    with store.reading() as s:
        alone = list(trail.case_leaves(s, None, ctx))
        shared = list(trail.case_leaves(s, None, ctx, url=url, workers=2))
    assert alone == shared and len(alone) > 30 and all(len(leaf) == 6 for leaf in alone)
    src = tmp_path / "live.json"
    src.write_text(json.dumps(__import__("test_store").LIVE, ensure_ascii=False), encoding="utf-8")
    assert import_paths(store, [src], actor="导入员").new == 1
    monkeypatch.setattr(trail, "POOL_FROM", 1)
    row = make_checkpoint(store, key, directory, workers=2)
    assert row.seq == 2
    report = check(store, key, directory)
    assert report.broken == [] and report.grown_since == 0
