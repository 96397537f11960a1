"""The keyed audit trail and `verify` (issue 17), on SQLite and PostgreSQL: a forger with write access to
the database but not the key is caught, as are a deleted case, an edited deadline, an edited change-log
row, officer rows; a mistyped store path is refused; a store whose deadlines were never filled (revision
0001) gets them back on migration."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from sqlalchemy import text

from engine.cases import _deadline_context, import_paths, record
from engine.store import Store, StoreError
from engine.store.audit import verify_store
from engine.store.chain import canonical, digest, event_hash
from engine.store.repo import verify
from engine.store.trail import init_key, load_public, make_checkpoint
from conftest import ROOT

DEMO = ROOT / "fixtures" / "demo"
CASE = "津南城管检〔2024〕3号"


@pytest.fixture
def sealed(url, tmp_path):
    store = Store.open(url)
    assert import_paths(store, [DEMO], actor="导入员").new == 41
    key = tmp_path / "keys" / "cc.key"
    init_key(key)
    make_checkpoint(store, key, tmp_path / "cp")
    return store, key, tmp_path / "cp"


def check(store, key, directory):
    with store.reading() as s:
        return verify_store(s, public_key=load_public(key), directory=directory, ctx=_deadline_context())


def sql(store, *statements, **params):
    with store.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def test_a_sealed_store_verifies_and_the_checkpoint_is_in_both_places(sealed):
    store, key, directory = sealed
    report = check(store, key, directory)
    assert report.broken == [] and report.cases == 41 and report.checkpoint["seq"] == 1
    assert [p.name for p in directory.iterdir()] == ["00000001.json"]
    assert json.loads(json.loads((directory / "00000001.json").read_text())["statement"])["cases"] == 41


def test_the_forger_who_rehashes_every_chain_without_the_key_is_caught(sealed):
    """Rewrites an event's date, then recomputes every later hash, the head and the content hash with the
    published algorithm: the plain chain check is fooled, the signed checkpoint is not."""
    store, key, directory = sealed
    with store.engine.begin() as conn:
        pk, agency, case_id, header = conn.execute(text("SELECT id, agency, case_id, header FROM cases "
                                                        "WHERE case_id = :c"), {"c": CASE}).one()
        rows = conn.execute(text("SELECT id, seq, payload, recorded_by, recorded_at, proof, corrects FROM events "
                                 "WHERE case_pk = :p ORDER BY seq"), {"p": pk}).all()
        prev, payloads = "0" * 64, []
        for rid, seq, payload, by, at, proof, corrects in rows:
            if seq == 2:
                payload = payload.replace('"2024-09-12"', '"2024-08-30"')       # publicized in time, now
            at = (at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at)))
            stamp = at.replace(microsecond=0, tzinfo=None).isoformat()
            h = event_hash(prev, f"{agency}/{case_id}", seq, payload, by, stamp, proof, corrects)
            conn.execute(text("UPDATE events SET payload = :pl, prev_hash = :pv, hash = :h, date = "
                              "(CASE WHEN seq = 2 THEN :d ELSE date END) WHERE id = :i"),
                         {"pl": payload, "pv": prev, "h": h, "i": rid, "d": dt.date(2024, 8, 30)})
            prev, payloads = h, payloads + [json.loads(payload)]
        content = digest(canonical({"header": json.loads(header), "events": payloads}))
        conn.execute(text("UPDATE cases SET head_hash = :h, content_hash = :c WHERE id = :p"),
                     {"h": prev, "c": content, "p": pk})
    with store.reading() as s:
        assert verify(s) == []                                  # the plain chain is re-sealed and fooled
    broken = [b for b in check(store, key, directory).broken if b.case_id == CASE]
    assert any("checkpoint #1" in b.problem and "re-hashed" in b.problem for b in broken), broken


def test_a_deleted_case_an_edited_deadline_and_change_log_row_and_officer_are_named(sealed):
    store, key, directory = sealed
    sql(store, "DELETE FROM deadlines WHERE case_pk = (SELECT id FROM cases WHERE case_id = :c)",
        "DELETE FROM changes WHERE case_pk = (SELECT id FROM cases WHERE case_id = :c)",
        "DELETE FROM officers WHERE case_pk = (SELECT id FROM cases WHERE case_id = :c)",
        "DELETE FROM events WHERE case_pk = (SELECT id FROM cases WHERE case_id = :c)",
        "DELETE FROM cases WHERE case_id = :c", c=CASE)
    sql(store, "UPDATE deadlines SET due = '2030-01-01' WHERE id = (SELECT MIN(id) FROM deadlines)")
    sql(store, "UPDATE changes SET actor = '别人' WHERE id = (SELECT MAX(id) FROM changes)")
    sql(store, "UPDATE officers SET name = '某某' WHERE id = (SELECT MIN(id) FROM officers)")
    problems = [(b.case_id, b.problem) for b in check(store, key, directory).broken]
    text_ = "\n".join(p for _, p in problems)
    assert (CASE, next(p for c, p in problems if c == CASE)) and "deleted" in text_
    assert "deadlines rows differ" in text_ and "change-log rows" in text_ and "officers rows differ" in text_


def test_a_store_rolled_back_to_before_its_last_checkpoint_and_a_foreign_key_are_caught(sealed, tmp_path):
    store, key, directory = sealed
    make_checkpoint(store, key, directory)
    sql(store, "DELETE FROM checkpoints WHERE seq = 2")
    broken = check(store, key, directory).broken      # the leaves streamed from the file give its signed root
    assert len(broken) == 1 and "not in the store" in broken[0].problem, broken
    other = tmp_path / "other.key"
    init_key(other)
    report = check(store, other, directory)
    assert any("signature does not verify" in b.problem for b in report.broken)


def test_cases_added_after_the_checkpoint_are_counted_then_sealed(sealed, tmp_path):
    store, key, directory = sealed
    src = tmp_path / "more.json"
    case = json.loads(json.dumps(__import__("test_store").LIVE))
    src.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    import_paths(store, [src], actor="t")
    record(store, "LIVE-1", {"type": "legal_review", "date": "2024-03-12", "reviewer": "R1",
                             "result": "approved", "documents": ["法制审核意见书"]}, actor="孙某")
    report = check(store, key, directory)
    assert report.broken == [] and report.added_since == 1
    make_checkpoint(store, key, directory)
    report = check(store, key, directory)
    assert report.broken == [] and report.added_since == 0 and report.checkpoint["seq"] == 2


def test_a_mistyped_store_is_refused_not_created(url, tmp_path):
    missing = tmp_path / "typo.db"
    with pytest.raises(StoreError, match="no casecheck store"):
        Store.open(str(missing), create=False)
    assert not missing.exists()
    for args in (["verify"], ["alerts", "--as-of", "2024-12-31"], ["case", "show", "X"],
                 ["review", "--quarter", "2024Q4"], ["check"]):
        done = subprocess.run([sys.executable, "-m", "engine.cli", *args, "--db", str(missing)],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 2 and "no casecheck store" in done.stderr.replace("\n", " "), (args, done.stderr)
    assert not missing.exists()
    if url.startswith("postgresql"):
        with pytest.raises(StoreError, match="no casecheck store"):
            Store.open(url, create=False)                        # an empty database is no store either


def test_a_store_whose_deadlines_were_never_filled_gets_them_on_migration(url):
    """A store from revision 0001 had its deadlines table created empty by 0002: migrating it to 0004
    fills them, so `alerts --db` gives what its files give."""
    from alembic import command
    from alembic.config import Config
    from importlib import resources

    from engine.calendar import default_calendar
    from engine.store.deadlines import store_alerts

    store = Store.open(url)
    import_paths(store, [DEMO], actor="t")
    day = dt.date(2024, 12, 31)
    expected = [(a.case_id, a.code, a.due) for a in store_alerts(store, default_calendar(), day)]
    assert expected
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("engine.store").joinpath("migrations")))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
        conn.execute(text("DELETE FROM deadlines"))
    assert store_alerts(store, default_calendar(), day) == []
    store.close()
    again = Store.open(url)
    assert [(a.case_id, a.code, a.due) for a in store_alerts(again, default_calendar(), day)] == expected


def test_cli_keys_import_seals_verify_with_workers_names_an_edited_deadline(tmp_path):
    import os
    import sqlite3

    env = dict(os.environ, CASECHECK_KEY=str(tmp_path / "k" / "cc.key"), CASECHECK_CHECKPOINTS=str(tmp_path / "cp"))
    db = str(tmp_path / "s.db")

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=600)

    assert cli("keys", "init").returncode == 0
    assert cli("keys", "init").returncode == 2                      # never overwrites a key
    done = cli("import", str(DEMO), "--db", db)
    assert done.returncode == 0 and "sealed checkpoint #1" in done.stdout.replace("\n", " ")
    assert (tmp_path / "cp" / "00000001.json").exists()
    done = cli("verify", "--db", db, "--workers", "2")
    assert done.returncode == 0 and "intact" in done.stdout, done.stdout + done.stderr
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE deadlines SET due = '2030-01-01' WHERE case_pk = (SELECT id FROM cases "
                     "WHERE case_id = ?)", (CASE,))
    done = cli("verify", "--db", db, "--workers", "2")
    out = done.stdout.replace("\n", " ")
    assert done.returncode == 1 and CASE in out and "deadlines rows differ" in out, out
    with sqlite3.connect(db) as conn:                  # the change log's digest is a worker's job with workers
        conn.execute("UPDATE changes SET actor = '别人' WHERE id = 1")
    done = cli("verify", "--db", db, "--workers", "2")
    out = done.stdout.replace("\n", " ")
    assert done.returncode == 1 and "change-log rows up to" in out, out
    stats = cli("stats", "--db", db, "--year", "2024", "--format", "json")
    assert json.loads(stats.stdout)["stamp"]["checkpoint"]["seq"] == 1


def test_a_checkpoint_file_is_read_without_its_leaves_and_another_layout_reads_the_same(sealed, monkeypatch):
    """``read_checkpoint_file`` reads the statement and signature and leaves the leaves (177 MB at a million
    cases) in the file, streamed when needed; a copy laid out otherwise (pretty-printed, keys in another
    order) gives the same checkpoint; a copy whose leaves are not base64 is refused, not misread."""
    import base64

    from engine.store.trail import _Base64Slice, read_checkpoint_file

    from engine.store import trail

    store, key, directory = sealed
    monkeypatch.setattr(trail, "FILE_SLICE", 3 * 7)        # the file written in many slices
    make_checkpoint(store, key, directory)
    with store.reading() as s:
        stored = s.execute(text("SELECT statement, signature, leaves FROM checkpoints WHERE seq = 2")).one()
    written = (directory / "00000002.json").read_text(encoding="utf-8")   # written a slice at a time: the same text
    assert written == json.dumps({"statement": stored[0], "signature": stored[1],
                                  "leaves": base64.b64encode(bytes(stored[2])).decode("ascii")}, ensure_ascii=False)
    copy = read_checkpoint_file(directory)
    assert copy.inline is None and copy.seq == 2 and (copy.statement, copy.signature) == tuple(stored[:2])
    assert copy.leaves == bytes(stored[2])
    small = _Base64Slice.TEXT
    try:
        _Base64Slice.TEXT = 8                           # many slices: each decodes on its own
        assert copy.leaves == bytes(stored[2])
    finally:
        _Base64Slice.TEXT = small
    sql(store, "DELETE FROM checkpoints WHERE seq = 2")
    expected = [b.problem for b in check(store, key, directory).broken]
    path = directory / "00000002.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({"leaves": data["leaves"], **data}, indent=2, sort_keys=True), encoding="utf-8")
    other = read_checkpoint_file(directory)
    assert other.inline == bytes(stored[2]) and other.statement == copy.statement
    assert [b.problem for b in check(store, key, directory).broken] == expected
    data["leaves"] = data["leaves"][:40] + "*" + data["leaves"][41:]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError):
        read_checkpoint_file(directory).leaves
    report = check(store, key, directory)                # verify names the broken copy; it does not crash
    assert any("00000002.json" in b.problem and "cannot be read" in b.problem for b in report.broken), report.broken
    assert any("does not give its signed root" in b.problem for b in report.broken), report.broken


@pytest.mark.parametrize("damage", ["cut", "bytes", "line"])
def test_leaves_altered_in_the_store_are_named_as_a_broken_checkpoint_not_a_crash(sealed, damage):
    """The store's own copy of the leaves cut short, its gzip bytes altered, or a line of it not a leaf
    (re-gzipped by someone without the key): `verify` names the checkpoint and the root, and goes on to
    check every case."""
    import gzip

    store, key, directory = sealed
    with store.reading() as s:
        blob = bytes(s.execute(text("SELECT leaves FROM checkpoints WHERE seq = 1")).scalar_one())
    if damage == "cut":
        blob = blob[: len(blob) // 2]
    elif damage == "bytes":
        blob = blob[:20] + bytes(b ^ 0x5A for b in blob[20:60]) + blob[60:]
    else:
        lines = gzip.decompress(blob).splitlines(keepends=True)
        blob = gzip.compress(b"".join(lines[:3] + [b'{"not": "a leaf"}\n'] + lines[4:]))
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE checkpoints SET leaves = :b WHERE seq = 1"), {"b": blob})
    report = check(store, key, None)
    problems = [b.problem for b in report.broken]
    assert any("checkpoint #1 in the store cannot be read" in p for p in problems), problems
    assert any("does not give its signed root" in p for p in problems), problems
    assert report.cases == 41
