"""Import of new cases, fast (issue 17 item 6): the rows of a new case are made in the ingest workers
(``engine.store.bulk.prepare_cases``) and written by the parent in bulk (``insert_prepared``). They must be
byte for byte the rows of the reference path (``repo.insert_new_cases``, the rows computed in the parent):
cases, events with their hash chain, officers, parties, change log, deadline rows. On SQLite and PostgreSQL.
Also: the deadline rows from the facts they need equal those from every fact, and a prepared case read back
for a re-import is the case that was validated."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import text

from engine import cases as cases_module
from engine.alerts import deadline_facts, deadline_rows
from engine.cases import _deadline_context, import_paths
from engine.errors import CalendarError
from engine.facts import build_facts
from engine.loader import load_paths, validate_case
from engine.store import Store, repo
from engine.store.audit import verify_store
from engine.store.bulk import content_digest, prepare_cases
from engine.store.chain import canonical
from engine.store.deadlines import deadline_rows_for
from engine.workflow import default_workflows
from fixtures.casegen import CaseGen

from conftest import ROOT

DEMO = ROOT / "fixtures" / "demo"
TABLES = ("cases", "events", "officers", "parties", "changes", "deadlines")
AT = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)


def generated(path, n=240, seed=11):
    """``n`` generated cases in one file; the last one takes the party of a demo case under another name
    (the import updates a stored party), and two share a party of their own (one party row)."""
    gen = CaseGen(seed=seed)
    batch = []
    for i in range(n):
        raw, _ = gen.random_case(i + 1, 2024 + i % 2)
        raw["case_id"] = f"G{i}-" + raw["case_id"]
        batch.append(raw)
    demo = next(c.case for c in load_paths([DEMO]).cases if c.case.party is not None)
    with_party = [c for c in batch if c.get("party")]
    with_party[-1]["party"] = {"kind": demo.party.kind, "id": demo.party.id, "name": demo.party.name + "（更名）"}
    with_party[0]["party"] = dict(with_party[1]["party"])
    path.write_text(json.dumps({"format": "casecheck/1", "cases": batch}, ensure_ascii=False), encoding="utf-8")
    return path


def reference_import(store, paths, actor):
    """Every case new: what import stored before its rows were made in the workers (``insert_new_cases``,
    deadline rows computed in this process), in the import's chunks and batches."""
    workflows, ctx = default_workflows(), _deadline_context()
    loaded = load_paths(paths)
    assert not loaded.problems
    items = loaded.cases
    for start in range(0, len(items), cases_module.IMPORT_CHUNK):
        chunk = items[start:start + cases_module.IMPORT_CHUNK]
        with store.writing() as session, session.no_autoflush:
            cache = repo.ImportCache(session, [(c.case.agency.code, c.case.case_id) for c in chunk],
                                     [c.case.party.id for c in chunk if c.case.party])
            for b in range(0, len(chunk), cases_module.IMPORT_BATCH):
                repo.insert_new_cases(session, [(c.case, c.ref) for c in chunk[b:b + cases_module.IMPORT_BATCH]],
                                      actor=actor, workflows=workflows, cache=cache,
                                      deadlines=lambda case: deadline_rows_for(case, ctx))
    return len(items)


def dump(store):
    with store.reading() as s:
        conn = s.connection()
        return {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))] for t in TABLES}


@pytest.mark.parametrize("workers", [1, 2])
def test_the_fast_import_stores_the_rows_of_the_reference_path(url, tmp_path, monkeypatch, workers):
    """Two imports (the demo, then generated cases of which one renames a stored party), in chunks of 60
    and batches of 25, through ``import_paths`` (rows made in the workers) and through the reference path:
    every row of every table the same, ids included; the chain verifies."""
    import pg

    monkeypatch.setattr(repo, "now", lambda: AT)
    monkeypatch.setattr(cases_module, "IMPORT_CHUNK", 60)
    monkeypatch.setattr(cases_module, "IMPORT_BATCH", 25)
    more = generated(tmp_path / "generated.json")
    other = pg.create_database() if url.startswith("postgresql") else f"sqlite:///{tmp_path / 'reference.db'}"
    try:
        fast, reference = Store.open(url), Store.open(other)
        assert import_paths(fast, [DEMO], actor="导入员", workers=workers).new == 41
        assert import_paths(fast, [more], actor="导入员", workers=workers).new == 240
        assert reference_import(reference, [DEMO], "导入员") == 41
        assert reference_import(reference, [more], "导入员") == 240
        got, want = dump(fast), dump(reference)
        assert all(want[t] for t in TABLES)
        for t in TABLES:
            assert got[t] == want[t], t
        renamed = [r for r in got["parties"] if r[2].endswith("（更名）")]
        assert len(renamed) == 1
        with fast.reading() as s:
            assert verify_store(s, ctx=_deadline_context()).broken == []
        fast.close()
        reference.close()
    finally:
        if url.startswith("postgresql"):
            pg.drop_database(other)


def test_a_fast_reimport_of_stored_cases_appends_like_before_and_then_changes_nothing(url, tmp_path):
    """A prepared case that is stored already goes the re-import way (validated again from its JSON): its new
    events appended when the file goes further, unchanged when the same."""
    store = Store.open(url)
    src = generated(tmp_path / "g.json", n=30, seed=5)
    shorter = json.loads(src.read_text(encoding="utf-8"))
    for case in shorter["cases"]:
        case["events"] = case["events"][:-1]
    path = tmp_path / "short.json"
    path.write_text(json.dumps(shorter, ensure_ascii=False), encoding="utf-8")
    assert import_paths(store, [path], actor="t", workers=2).new == 30
    grown = import_paths(store, [src], actor="t", workers=2)
    assert (grown.new, grown.updated, grown.conflicts, grown.refused) == (0, 30, [], [])
    again = import_paths(store, [src], actor="t", workers=2)
    assert (again.new, again.unchanged, again.updated) == (0, 30, 0)
    with store.reading() as s:
        assert verify_store(s, ctx=_deadline_context()).broken == []


def test_deadline_rows_from_their_facts_equal_those_from_every_fact():
    """``deadline_facts`` (publicity and clocks, with the decision and inspection arithmetic for its errors)
    gives the rows ``build_facts`` gives: on every fixture and on generated cases; and a case dated where no
    working-day calendar reaches fails the same way on both."""
    ctx = _deadline_context()
    cases = [c.case for c in load_paths([ROOT / "fixtures"]).cases]
    gen = CaseGen(seed=23)
    for i in range(300):
        raw, _ = gen.random_case(i + 1, 2024 + i % 2)
        case, problems = validate_case(raw, "gen")
        assert not problems
        cases.append(case)
    far = 0
    for case in list(cases[:60]):
        raw = json.loads(json.dumps(case.model_dump(mode="json", exclude_none=True)).replace('"2024-', '"2041-'))
        moved, problems = validate_case(raw, "far")
        if moved is not None and not problems:
            cases.append(moved)
            far += 1
    assert len(cases) > 500 and far > 10
    failed = 0
    for case in cases:
        if not case.events:
            continue
        at = dataclasses.replace(ctx, as_of=max(e.date for e in case.events))
        outcome = []
        for derive in (deadline_facts, build_facts):
            try:
                outcome.append(deadline_rows(case, at, derive))
            except CalendarError as exc:
                outcome.append(("CalendarError", exc.year))
        assert outcome[0] == outcome[1], case.case_id
        failed += isinstance(outcome[0], tuple)
    assert failed > 10                      # far cases fail, and in the same way on both


def test_a_prepared_case_is_the_validated_case_and_hashes_as_before():
    loaded = load_paths([ROOT / "fixtures"]).cases
    prepared = prepare_cases(loaded, "t", AT)
    assert len(prepared) == len(loaded) > 100
    for item, p in zip(loaded, prepared):
        back = p.load()
        assert (back.case, back.ref) == (item.case, item.ref)
        header, events = repo.dump_case(item.case)
        assert p.case[7] == repo._content_hash(header, events) == content_digest(canonical(header),
                                                                              [canonical(e) for e in events])


def test_orjson_canonical_is_the_canonical_text_for_what_a_case_model_dumps():
    """``canonical_dumped`` (orjson) gives ``canonical``'s text (json) for every Unicode character, nested
    lists and mappings, booleans, None and integers (beyond 64 bits it falls back to json); and the case model
    serialises no float (where the two would differ: 1e+16 / 1e16)."""
    from engine.model import CaseFile
    from engine.store.chain import canonical_dumped

    for start in range(0, 0x110000, 0x1000):
        text_ = "".join(chr(c) for c in range(start, start + 0x1000) if not 0xD800 <= c <= 0xDFFF)
        for probe in (text_, {"k": text_, "a": [text_[:7], text_[-3:]]}):
            assert canonical_dumped(probe) == canonical(probe)
    for value in ({"z": [1, True, None, -5, 2 ** 62, {"b": "x\n\t\"\\", "a": ""}], "a": {}, "m": []},
                  {"big": 2 ** 70}, {3: "non-string key"}, [], "", 0):
        assert canonical_dumped(value) == canonical(value)
    schema = json.dumps(CaseFile.model_json_schema(mode="serialization"))
    assert '"number"' not in schema and '"integer"' in schema
