"""`verify` fast (issue 17): a sealed case's deadlines are checked against the digest its signed leaf
carries, recomputed only for cases changed since the checkpoint (or all of them with ``deep``); the seal
carries a digest over for a case unchanged since the previous checkpoint and recomputes the others; the
event hash built by hand equals its canonical definition. On SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import subprocess
import sys

import pytest
from sqlalchemy import text

from engine.cases import _deadline_context, import_paths, record
from engine.errors import CasecheckError
from engine.store import Store
from engine.store import audit as audit_module
from engine.store.audit import deadline_digest, verify_store
from engine.store.chain import event_hash, event_hash_slow
from engine.store.trail import CheckpointRow, decode_leaves, init_key, load_public, make_checkpoint
from sqlmodel import select

from conftest import ROOT

DEMO = ROOT / "fixtures" / "demo"
CASE = "津南城管检〔2024〕3号"
STEP = {"type": "legal_review", "date": "2024-03-12", "reviewer": "R1", "result": "approved",
        "documents": ["法制审核意见书"]}


@pytest.fixture
def sealed(url, tmp_path):
    store = Store.open(url)
    src = tmp_path / "live.json"
    src.write_text(json.dumps(__import__("test_store").LIVE, ensure_ascii=False), encoding="utf-8")
    assert import_paths(store, [DEMO, src], actor="导入员").new == 42
    key = tmp_path / "keys" / "cc.key"
    init_key(key)
    make_checkpoint(store, key, tmp_path / "cp")
    return store, key, tmp_path / "cp"


def check(store, key, directory, **kw):
    kw.setdefault("ctx", _deadline_context())
    with store.reading() as s:
        return verify_store(s, public_key=load_public(key), directory=directory, **kw)


def sql(store, statement, **params):
    with store.engine.begin() as conn:
        return conn.execute(text(statement), params)


def latest_leaves(store):
    with store.reading() as s:
        row = s.exec(select(CheckpointRow).order_by(CheckpointRow.seq.desc())).first()
        return row, decode_leaves(row.leaves)


def test_the_hand_built_event_hash_is_the_canonical_one():
    rnd = random.Random(7)
    alphabet = 'ab"\\\n\t\x00\x1f\x7f\u2028\u2029é中/\U0001F600 '
    for _ in range(3000):
        word = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 24)))
        args = (rnd.choice(["0" * 64, word]), word, rnd.randint(1, 10 ** 6), word[::-1], word[:4],
                "2024-03-01T08:00:00")
        for extra in ((), ("import", None), (word, rnd.randint(1, 99))):
            assert event_hash(*args, *extra) == event_hash_slow(*args, *extra)


def test_every_sealed_leaf_carries_the_digest_of_the_deadlines_its_events_imply(sealed):
    store, key, directory = sealed
    _row, leaves = latest_leaves(store)
    assert len(leaves) == 42 and all(len(leaf) == 6 for leaf in leaves)
    with store.reading() as s:
        rows = s.connection().execute(text("SELECT case_pk, code, platform, start, due, open_until, officers "
                                           "FROM deadlines")).all()
    by_case: dict[int, list] = {}
    for r in rows:
        by_case.setdefault(r[0], []).append(tuple(r[1:]))
    assert sum(1 for leaf in leaves if by_case.get(leaf[0])) > 10       # most demo cases have deadlines
    for leaf in leaves:
        assert leaf[5] == deadline_digest(by_case.get(leaf[0], [])), leaf[1]
    assert check(store, key, directory).broken == []
    assert check(store, key, directory, deep=True).broken == []


def test_an_edited_deadline_of_a_sealed_case_fails_its_digest_even_without_recomputing(sealed):
    store, key, directory = sealed
    sql(store, "UPDATE deadlines SET due = '2030-01-01' WHERE case_pk = (SELECT id FROM cases WHERE case_id = :c)",
        c=CASE)
    broken = [b for b in check(store, key, directory, ctx=None).broken if b.case_id == CASE]
    assert any("differ from what checkpoint #1 sealed" in b.problem for b in broken), broken
    broken = [b for b in check(store, key, directory).broken if b.case_id == CASE]      # recomputed to name it
    assert any("deadlines rows differ from what the events imply" in b.problem for b in broken), broken


def test_a_case_changed_after_the_checkpoint_is_recomputed_and_its_edited_deadline_named(sealed):
    store, key, directory = sealed
    record(store, "LIVE-1", dict(STEP), actor="孙某")
    assert check(store, key, directory).broken == []
    pk = sql(store, "SELECT id FROM cases WHERE case_id = 'LIVE-1'").scalar_one()
    sql(store, "INSERT INTO deadlines (case_pk, code, platform, start, due, open_until, officers) VALUES "
               "(:p, 'deadline.service_7', NULL, '2024-01-01', '2030-01-01', '9999-12-31', '')", p=pk)
    report = check(store, key, directory)
    assert report.grown_since == 1
    assert [b.case_id for b in report.broken] == ["LIVE-1"]
    assert "deadlines rows differ from what the events imply" in report.broken[0].problem


def test_a_tampered_digest_in_the_stored_checkpoint_breaks_its_signed_root(sealed):
    """The DBA edits a deadline and rewrites the sealed leaf's digest to match: the leaves no longer give
    the root the key signed."""
    store, key, directory = sealed
    sql(store, "UPDATE deadlines SET due = '2030-01-01' WHERE case_pk = (SELECT id FROM cases WHERE case_id = :c)",
        c=CASE)
    with store.reading() as s:
        pk = s.connection().execute(text("SELECT id FROM cases WHERE case_id = :c"), {"c": CASE}).scalar_one()
        edited = [tuple(r) for r in s.connection().execute(text(
            "SELECT code, platform, start, due, open_until, officers FROM deadlines WHERE case_pk = :p"), {"p": pk})]
    row, leaves = latest_leaves(store)
    for leaf in leaves:
        if leaf[0] == pk:
            leaf[5] = deadline_digest(edited)
    blob = gzip.compress("".join(json.dumps(leaf, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
                                 for leaf in leaves).encode("utf-8"))
    with store.engine.begin() as conn:
        conn.execute(CheckpointRow.__table__.update().where(CheckpointRow.__table__.c.seq == row.seq)
                     .values(leaves=blob))
    for directory_given in (None, directory):       # the file copy still has the true leaves
        problems = [b.problem for b in check(store, key, directory_given, ctx=None).broken]
        assert any("does not give its signed root" in p for p in problems) or \
            any("differ from what checkpoint #1 sealed" in p for p in problems), problems
    assert any("does not give its signed root" in b.problem for b in check(store, key, None).broken)


def test_the_seal_recomputes_only_the_cases_changed_since_the_previous_checkpoint(sealed, monkeypatch):
    store, key, directory = sealed
    calls = []
    real = audit_module.implied_deadlines
    monkeypatch.setattr(audit_module, "implied_deadlines", lambda row, *a: calls.append(row.case_id) or real(row, *a))
    record(store, "LIVE-1", dict(STEP), actor="孙某")
    make_checkpoint(store, key, directory)
    assert calls == ["LIVE-1"]
    assert check(store, key, directory).broken == []
    # a previous checkpoint whose leaves were altered in the store: the seal refuses, nothing is sealed
    row, leaves = latest_leaves(store)
    leaves[0][5] = "0" * 64
    blob = gzip.compress("".join(json.dumps(leaf, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
                                 for leaf in leaves).encode("utf-8"))
    with store.engine.begin() as conn:
        conn.execute(CheckpointRow.__table__.update().where(CheckpointRow.__table__.c.seq == row.seq)
                     .values(leaves=blob))
    with pytest.raises(CasecheckError, match="do not give its signed root"):
        make_checkpoint(store, key, directory)
    assert latest_leaves(store)[0].seq == row.seq and len(list(directory.iterdir())) == 2


@pytest.mark.parametrize("tamper, fragment", [
    ("DELETE FROM deadlines WHERE case_pk = (SELECT id FROM cases WHERE case_id = :c); "
     "DELETE FROM changes WHERE case_pk = (SELECT id FROM cases WHERE case_id = :c); "
     "DELETE FROM officers WHERE case_pk = (SELECT id FROM cases WHERE case_id = :c); "
     "DELETE FROM events WHERE case_pk = (SELECT id FROM cases WHERE case_id = :c); "
     "DELETE FROM cases WHERE case_id = :c", "is gone from the store"),
    ("UPDATE cases SET header = REPLACE(header, '津南', '津北') WHERE case_id = :c", "header differs"),
    ("REHASH", "events #1–#"),
    ("UPDATE changes SET actor = 'x' WHERE id = (SELECT MIN(id) FROM changes)", "change-log rows"),
])
def test_the_next_seal_refuses_a_store_altered_since_the_last_checkpoint(sealed, tamper, fragment):
    """A periodic seal must not vouch for what was altered since the last one: it checks the store against
    the previous checkpoint in the same pass and refuses, naming it; verify still names it too."""
    store, key, directory = sealed
    record(store, "LIVE-1", dict(STEP), actor="孙某")          # a live step since the checkpoint: allowed
    if tamper == "REHASH":          # a sealed event rewritten, the whole chain re-hashed (a case that also grew)
        sql(store, "UPDATE events SET payload = REPLACE(payload, '2024-03-01', '2024-02-28') WHERE seq = 1 AND "
                   "case_pk = (SELECT id FROM cases WHERE case_id = 'LIVE-1')")
        _rehash(store, "LIVE-1")
    else:
        for statement in tamper.split("; "):
            sql(store, statement, c=CASE)
    before = len(list(directory.iterdir()))
    with pytest.raises(CasecheckError, match=fragment):
        make_checkpoint(store, key, directory)
    assert len(list(directory.iterdir())) == before
    assert check(store, key, directory).broken


OF_CASE = "(SELECT id FROM cases WHERE case_id = :c)"
BROKEN_CHAINS = [            # altered without re-hashing: the chain (not a checkpoint's leaf) shows each
    (f"DELETE FROM events WHERE id = (SELECT max(id) FROM events WHERE case_pk = {OF_CASE})",
     r"案件记载 3 个环节.* / .*the case records 3 events ending in \w+…, the store holds 2"),
    (f"UPDATE events SET payload = REPLACE(payload, '\"2024-', '\"2023-') "
     f"WHERE id = (SELECT min(id) FROM events WHERE case_pk = {OF_CASE})",
     r"第 1 个环节记录后被改动 / .*#1: event #1 \(.*\) was changed after it was recorded"),
    ("INSERT INTO events (case_pk, seq, type, date, payload, recorded_by, recorded_at, prev_hash, hash, proof, "
     "corrects) SELECT case_pk, seq + 1, type, date, payload, recorded_by, recorded_at, hash, hash, proof, corrects "
     f"FROM events WHERE id = (SELECT max(id) FROM events WHERE case_pk = {OF_CASE})",
     r"第 4 个环节记录后被改动 / .*#4: event #4 \(.*\) was changed after it was recorded"),
    (f"UPDATE cases SET head_hash = '{'ab' * 32}' WHERE case_id = :c",
     r"链头 ababababab.* / .*the case records 3 events ending in abababababab…, the store holds 3"),
]


CHAIN_IDS = ["event-deleted", "payload-rewritten", "event-inserted", "head-edited"]


def _checkpoints(store):
    return sql(store, "SELECT count(*) FROM checkpoints").scalar()


def _refused(store, key, directory, fragment, workers):
    rows, files = _checkpoints(store), sorted(directory.iterdir()) if directory.exists() else []
    with pytest.raises(CasecheckError) as refused:
        make_checkpoint(store, key, directory, workers=workers)
    message = str(refused.value)
    assert message.startswith("1 件案件的哈希链断裂") and "nothing was sealed" in message, message
    line = next(line for line in message.splitlines() if f"nkcgw/{CASE}:" in line)      # the case named
    assert re.search(fragment, line) and line.strip().index(" / ") > 0, line             # and the event
    assert _checkpoints(store) == rows                                                   # nothing sealed
    assert (sorted(directory.iterdir()) if directory.exists() else []) == files


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("tamper, fragment", BROKEN_CHAINS, ids=CHAIN_IDS)
def test_the_seal_refuses_a_store_whose_chain_is_broken_since_the_last_checkpoint(sealed, url, tamper, fragment,
                                                                                   workers, monkeypatch):
    """A sealed case altered without re-hashing (so its leaf — count, head, header — is unchanged, or its head
    alone edited): the seal checks every case's chain in the pass that makes the leaves, and refuses, naming
    the case and the event; nothing is sealed. With workers (several batches, the pool started), the chain
    verdicts come back from them."""
    from engine.store import trail

    store, key, directory = sealed
    if workers > 1:                                 # batches of 5 cases, every one's chains checked by a worker
        monkeypatch.setattr(trail, "BATCH", 5)
        monkeypatch.setattr(trail, "CHAIN_POOL_FROM", 0)
    sql(store, tamper, c=CASE)
    _refused(store, key, directory, fragment, workers)
    assert any(b.case_id == CASE for b in check(store, key, directory).broken)


@pytest.mark.parametrize("tamper, fragment", BROKEN_CHAINS, ids=CHAIN_IDS)
def test_the_first_seal_refuses_a_store_whose_chain_is_broken(url, tmp_path, tamper, fragment):
    """No checkpoint yet: a store whose chain is broken does not get a first signed one."""
    store = Store.open(url)
    assert import_paths(store, [DEMO], actor="导入员").new == 41
    key = tmp_path / "keys" / "cc.key"
    init_key(key)
    sql(store, tamper, c=CASE)
    _refused(store, key, tmp_path / "cp", fragment, 1)
    assert not (tmp_path / "cp").exists()


def test_every_broken_case_is_named_and_a_clean_store_still_seals_with_workers(sealed, url, monkeypatch):
    """The first batch's chains checked by the seal's own process, the later batches' by the workers (the
    pool started once CHAIN_POOL_FROM cases were checked): the cases broken in both are named, in row order."""
    from engine.store import trail

    store, key, directory = sealed
    monkeypatch.setattr(trail, "BATCH", 5)
    monkeypatch.setattr(trail, "CHAIN_POOL_FROM", 5)
    record(store, "LIVE-1", dict(STEP), actor="孙某")
    assert make_checkpoint(store, key, directory, workers=2).seq == 2                  # clean: sealed
    assert check(store, key, directory).broken == []
    for statement in (BROKEN_CHAINS[0][0], BROKEN_CHAINS[1][0].replace(":c", ":d")):
        sql(store, statement, c=CASE, d="LIVE-1")
    with pytest.raises(CasecheckError) as refused:
        make_checkpoint(store, key, directory, workers=2)
    message = str(refused.value)
    assert message.startswith("2 件案件") and f"nkcgw/{CASE}:" in message and "/LIVE-1 #1: event #1" in message, message
    assert message.index(f"nkcgw/{CASE}:") < message.index("/LIVE-1 #1: event #1")
    assert _checkpoints(store) == 2 and len(list(directory.iterdir())) == 2


def test_keys_seal_exits_1_naming_the_broken_case(sealed, url):
    store, key, directory = sealed
    sql(store, BROKEN_CHAINS[0][0], c=CASE)
    done = subprocess.run([sys.executable, "-m", "engine.cli", "keys", "seal", "--db", url, "--key", str(key),
                           "--checkpoints", str(directory)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "COLUMNS": "400"}, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "未封存 / not sealed" in done.stderr and f"nkcgw/{CASE}: 案件记载 3 个环节" in done.stderr, done.stderr
    assert _checkpoints(store) == 1 and len(list(directory.iterdir())) == 1


def _rehash(store, case_id):
    from engine.store.chain import canonical, digest, event_hash

    with store.engine.begin() as conn:
        pk, agency, header = conn.execute(text("SELECT id, agency, header FROM cases WHERE case_id = :c"),
                                          {"c": case_id}).one()
        rows = conn.execute(text("SELECT id, seq, payload, recorded_by, recorded_at, proof, corrects FROM events "
                                 "WHERE case_pk = :p ORDER BY seq"), {"p": pk}).all()
        prev, payloads = "0" * 64, []
        for rid, seq, payload, by, at, proof, corrects in rows:
            at = at if not isinstance(at, str) else __import__("datetime").datetime.fromisoformat(at)
            h = event_hash(prev, f"{agency}/{case_id}", seq, payload, by,
                           at.replace(microsecond=0, tzinfo=None).isoformat(), proof, corrects)
            conn.execute(text("UPDATE events SET prev_hash = :pv, hash = :h WHERE id = :i"), {"pv": prev, "h": h, "i": rid})
            prev, payloads = h, payloads + [json.loads(payload)]
        conn.execute(text("UPDATE cases SET head_hash = :h, content_hash = :c WHERE id = :p"),
                     {"h": prev, "c": digest(canonical({"header": json.loads(header), "events": payloads})), "p": pk})


def test_the_case_rows_query_columns_are_checked_against_the_header(sealed):
    """The first-offence look-back finds a party's other cases by ``party_id``: a row moved to another
    party (or matter) is named, though no hash covers those columns."""
    store, key, directory = sealed
    sql(store, "UPDATE cases SET party_id = 'SOMEONE-ELSE' WHERE case_id = :c", c=CASE)
    broken = [b for b in check(store, key, directory).broken if b.case_id == CASE]
    assert any("party_id" in b.problem for b in broken), broken


def test_workers_check_every_range_and_name_the_same_discrepancies(sealed, url, monkeypatch):
    store, key, directory = sealed
    monkeypatch.setattr(audit_module, "CHUNK", 5)                 # nine ranges of row ids
    sql(store, "UPDATE deadlines SET due = '2030-01-01' WHERE id = (SELECT MIN(id) FROM deadlines)")
    sql(store, "UPDATE officers SET name = '某某' WHERE id = (SELECT MAX(id) FROM officers)")
    alone = check(store, key, directory)
    with store.reading() as s:
        split = verify_store(s, public_key=load_public(key), directory=directory, ctx=_deadline_context(),
                             url=url, workers=2)
    assert alone.cases == 42 and len(alone.broken) == 2 and sorted(map(str, alone.broken)) == sorted(map(str, split.broken))
    assert (split.cases, split.events) == (alone.cases, alone.events) == (42, alone.events)


def test_postgresql_copy_stores_the_same_rows_as_insert(monkeypatch, tmp_path):
    """An import through COPY (PostgreSQL) and through INSERT give the same rows, byte for byte (the clock
    held still so the hashes agree)."""
    import datetime as dt

    import pg
    from engine.store import repo

    monkeypatch.setattr(repo, "now", lambda: dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc))
    dumps = []
    for copying in (True, False):
        if copying:
            monkeypatch.delenv(repo.COPY_ENV, raising=False)
        else:
            monkeypatch.setenv(repo.COPY_ENV, "1")
        url = pg.create_database()
        try:
            store = Store.open(url)
            with store.reading() as s:
                assert repo._copying(s.connection()) is copying
            assert import_paths(store, [DEMO], actor="导入员").new == 41
            with store.reading() as s:
                assert verify_store(s, ctx=_deadline_context()).broken == []
                conn = s.connection()
                dumps.append({t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
                              for t in ("cases", "events", "officers", "parties", "changes", "deadlines")})
            store.close()
        finally:
            pg.drop_database(url)
    assert all(dumps[0][t] for t in dumps[0]) and dumps[0] == dumps[1]


def test_a_copy_that_fails_half_way_leaves_nothing_of_its_transaction(url):
    """COPY (PostgreSQL) or executemany (SQLite): a row the database refuses (here a case key stored twice
    in one batch) aborts the whole write; nothing of the batch is kept."""
    from engine.loader import load_paths
    from engine.store.repo import ImportCache, insert_new_cases
    from engine.workflow import default_workflows

    store = Store.open(url)
    loaded = load_paths([DEMO])
    batch = [(c.case, c.ref) for c in loaded.cases[:5]]
    with pytest.raises(Exception):
        with store.writing() as session:
            insert_new_cases(session, batch + batch[:1], actor="t", workflows=default_workflows(),
                             cache=ImportCache(session, []))
    with store.reading() as s:
        counts = [s.connection().execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                  for t in ("cases", "events", "officers", "changes", "parties")]
    assert counts == [0, 0, 0, 0, 0]


def test_cli_seal_if_changed_for_cron_and_a_refused_seal_exits_1(tmp_path):
    import os
    import sqlite3
    import subprocess
    import sys

    env = dict(os.environ, CASECHECK_KEY=str(tmp_path / "k" / "cc.key"), CASECHECK_CHECKPOINTS=str(tmp_path / "cp"))
    db = str(tmp_path / "s.db")

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "engine.cli", *args, "--db", db], capture_output=True,
                              text=True, cwd=ROOT, env=env, timeout=600)
        return done.returncode, (done.stdout + done.stderr).replace("\n", " ")

    assert subprocess.run([sys.executable, "-m", "engine.cli", "keys", "init"], env=env, cwd=ROOT,
                          capture_output=True, timeout=120).returncode == 0
    assert cli("import", str(DEMO))[0] == 0                                   # seals checkpoint #1
    code, out = cli("keys", "seal", "--if-changed")
    assert code == 0 and "nothing written since checkpoint #1" in out, out
    assert sorted(p.name for p in (tmp_path / "cp").iterdir()) == ["00000001.json"]
    live = tmp_path / "live.json"
    live.write_text(json.dumps(__import__("test_store").LIVE, ensure_ascii=False), encoding="utf-8")
    assert cli("import", str(live))[0] == 0                                   # seals checkpoint #2
    code, out = cli("case", "record", "LIVE-1", "legal_review", "--date", "2024-03-12", "--json",
                    '{"reviewer": "R1", "result": "approved", "documents": ["法制审核意见书"]}', "--by", "孙某")
    assert code == 0, out
    code, out = cli("keys", "seal", "--if-changed")
    assert code == 0 and "sealed checkpoint #3" in out, out
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM deadlines WHERE case_pk = (SELECT MAX(id) FROM cases)")
        conn.execute("DELETE FROM changes WHERE case_pk = (SELECT MAX(id) FROM cases)")
        conn.execute("DELETE FROM officers WHERE case_pk = (SELECT MAX(id) FROM cases)")
        conn.execute("DELETE FROM events WHERE case_pk = (SELECT MAX(id) FROM cases)")
        conn.execute("DELETE FROM cases WHERE id = (SELECT MAX(id) FROM cases)")
    code, out = cli("keys", "seal")
    assert code == 1 and "nothing was sealed" in out and "gone from the store" in out, out
    assert len(list((tmp_path / "cp").iterdir())) == 3


def test_the_signed_statement_carries_an_sm3_root_beside_the_sha256_root(sealed):
    from engine.store.trail import leaves_root_sm3, sm3_hash

    probe = sm3_hash()
    if probe is None:
        pytest.skip("the OpenSSL under `cryptography` was built without SM3 (e.g. a FIPS build); the wheel's own has it")
    probe.update(b"abc")                               # GB/T 32905-2016, example 1
    assert probe.finalize().hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    store, key, directory = sealed
    row, leaves = latest_leaves(store)
    statement = json.loads(row.statement)
    assert statement["root_sm3"] == leaves_root_sm3(leaves) and len(statement["root_sm3"]) == 64
    report = check(store, key, directory)
    assert report.broken == [] and report.checkpoint["root_sm3"] == statement["root_sm3"]


def _deadline_digest_as_first_written(rows):
    """``audit.deadline_digest`` as the checkpoints already signed computed it (json, text lines)."""
    from engine.store.chain import digest

    enc = json.encoder.encode_basestring
    lines = []
    for r in rows:
        if isinstance(r, dict):
            code, platform, start, due, until, officers = (r["code"], r.get("platform"), r["start"], r["due"],
                                                           r["open_until"], r.get("officers"))
        else:
            code, platform, start, due, until, officers = r
        lines.append(f'{enc(code)},{"null" if platform is None else enc(platform)},{enc(str(start))},'
                     f'{enc(str(due))},{enc(str(until))},{enc(officers or "")}')
    lines.sort()
    return digest("\n".join(lines))


def test_deadline_digest_is_the_digest_the_signed_checkpoints_carry():
    """The orjson-encoded digest equals the definition for rows as dicts and as stored tuples, dates as
    objects and as text, every Unicode character, rows whose order by bytes and by text could differ."""
    import datetime as dt
    import random

    rnd = random.Random(7)
    chars = [chr(c) for c in range(0, 0x110000, 97) if not 0xD800 <= c <= 0xDFFF] + list('"\\\n\t\x00\x7f\u2028')
    for _ in range(300):
        rows = []
        for _ in range(rnd.randrange(0, 6)):
            word = "".join(rnd.choice(chars) for _ in range(rnd.randrange(0, 6)))
            start = dt.date(2024, 1, 1) + dt.timedelta(days=rnd.randrange(900))
            row = (f"deadline.{word}", rnd.choice([None, "网站", word]), start, start + dt.timedelta(days=5),
                   rnd.choice([dt.date(9999, 12, 31), "2026-01-01"]), rnd.choice([None, "", "R1,R2", word]))
            rows.append(row if rnd.random() < .5 else dict(zip(("code", "platform", "start", "due", "open_until",
                                                                "officers"), row)))
        assert deadline_digest(rows) == _deadline_digest_as_first_written(rows), rows
    assert deadline_digest([]) == _deadline_digest_as_first_written([])
    # the sort of the lines: "\uffff" sorts before "😀" (U+1F600) by code point, and by UTF-8 bytes
    rows = [("deadline.\uffff", None, "a", "b", "c", ""), ("deadline.😀", None, "a", "b", "c", "")]
    assert deadline_digest(rows) == _deadline_digest_as_first_written(rows)
    with pytest.raises(TypeError):                       # not text: refused, as the definition refuses it
        deadline_digest([(None, None, "a", "b", "c", "")])


def test_the_seal_packs_in_one_pass_what_the_whole_list_gives(sealed):
    """``make_checkpoint`` no longer holds every leaf: ``trail._Packed`` takes them one at a time. Its roots
    and the lines of its gzip'd blob are what the whole list gives (``leaves_root``, ``leaves_root_sm3``,
    ``_encode``), and the checkpoint it signs verifies (the other tests of this file)."""
    from engine.store.trail import _encode, _Packed, leaves_root, leaves_root_sm3

    store, _key, _directory = sealed
    _row, leaves = latest_leaves(store)
    packed = _Packed()
    for leaf in leaves:
        packed.add(leaf)
    assert packed.count == len(leaves) == 42
    assert packed.root() == leaves_root(leaves) and packed.root_sm3() == leaves_root_sm3(leaves)
    blob = packed.blob()
    assert gzip.decompress(blob) == gzip.decompress(_encode(leaves)) and decode_leaves(blob) == leaves
    assert gzip.decompress(bytes(_row.leaves)) == gzip.decompress(blob)     # what the seal stored
