"""Fuzzing the append-only store (issue 17), on SQLite and PostgreSQL: a valid case file is imported, then
a structurally mutated version of it is re-imported. Property: the re-import is refused with located
problems, reported as conflicts, or appends; it never raises, and no stored event, hash, author or time
changes (every stored event row before is still there, unchanged), and every chain verifies.
``make test`` runs a short campaign; ``make fuzz`` a long one (``CASECHECK_FUZZ``)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from engine.cases import import_paths
from engine.store import Store
from engine.store.repo import verify
from fuzz import mutated, valid_case

EXAMPLES = max(10, int(os.environ.get("CASECHECK_FUZZ", "150")) // 5)
SEEN: dict[str, int] = {}


def _seen(what: str) -> None:
    SEEN[what] = SEEN.get(what, 0) + 1


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzzstore') / 'f.db'}"
    else:
        import pg

        url = pg.create_database()
    opened = Store.open(url)
    yield opened
    opened.close()
    if EXAMPLES > 30 and SEEN:                  # the long campaign (make fuzz) says what it tried
        print(f"\nfuzz store campaign ({request.param}): " + ", ".join(
            f"{k} {v}" for k, v in sorted(SEEN.items(), key=lambda x: -x[1])))
        SEEN.clear()
    if request.param == "postgresql":
        import pg

        pg.drop_database(url)


def _snapshot(store):
    with store.engine.connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(text(
            "SELECT id, case_pk, seq, payload, hash, recorded_by, recorded_at, proof FROM events"))}


@settings(max_examples=EXAMPLES, deadline=60_000, suppress_health_check=list(HealthCheck),
          derandomize=EXAMPLES <= 30, database=None)
@given(raw=valid_case(), data=st.data())
def test_reimport_of_a_mutated_file_never_rewrites_the_store(store, raw, data):
    raw["case_id"] = f"FZ-{uuid.uuid4().hex[:10]}"
    mutation, kind = data.draw(mutated(copy.deepcopy(raw)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.json"
        path.write_text(json.dumps(raw, ensure_ascii=False, default=str), encoding="utf-8")
        first = import_paths(store, [path], actor="fuzz")
        assert first.problems == [] and first.new == 1, (kind, first.problems)
        before = _snapshot(store)
        path.write_text(json.dumps(mutation, ensure_ascii=False, default=str), encoding="utf-8")
        again = import_paths(store, [path], actor="fuzz-2")
        for problem in again.problems:
            assert problem.file == str(path) and problem.message.strip()
        for conflict in again.conflicts:
            assert conflict.case_id == raw["case_id"] and conflict.where
        after = _snapshot(store)
        _seen("re-import: " + ("problems" if again.problems else "conflict" if again.conflicts else "refused"
                               if again.refused else "appended" if again.updated else "unchanged"))
    assert all(after.get(k) == v for k, v in before.items()), kind          # nothing stored was touched
    if again.problems or again.conflicts:
        assert len(after) == len(before), kind                               # and nothing of it added
    with store.reading() as s:
        assert verify(s) == []


HEADER_MUTATIONS = ["wrong_type", "missing", "odd_date", "duplicate_officer", "extra_field", "empty"]
NAMES = st.one_of(st.text(alphabet="刘王张某甲乙公司有限餐饮店", min_size=1, max_size=10), st.text(max_size=12))
IDS = st.one_of(st.sampled_from(["120104198001010001", "91120104MA05", "Ｐ-1", "１２０１０４"]),
                st.text(alphabet="0123456789ABX", min_size=1, max_size=18),
                st.sampled_from(["12\u200b01", " ", "A\x00B", "a\u202eb"]))
PLAUSIBLE = {"procedure": st.sampled_from(["ordinary", "simple", "inspection", "普通程序", "简易程序"]),
             "party": st.fixed_dictionaries({"kind": st.sampled_from(["person", "organization", "person", "公司"]),
                                             "name": NAMES, "id": IDS}),
             "matter": st.fixed_dictionaries({"code": st.one_of(st.sampled_from(["SR-0101", "XF-0201", "WM-0305"]),
                                                                 st.text(min_size=1, max_size=8)), "name": NAMES}),
             "violation": st.fixed_dictionaries({"occurred_on": st.dates(dt.date(2015, 1, 1),
                                                                         dt.date(2026, 12, 31)).map(str)})}


@settings(max_examples=EXAMPLES, deadline=60_000, suppress_health_check=list(HealthCheck),
          derandomize=EXAMPLES <= 30, database=None)
@given(raw=valid_case(), data=st.data())
def test_a_fuzzed_header_correction_is_refused_or_stored_verified_and_survives_reimport(store, raw, data):
    """A header correction with a random header (structurally mutated, or a plausible field changed), on an
    audit case or one treated as live: refused with nothing written, or stored, after which the whole store
    verifies (derived rows included), the case reads with the corrected header, and a re-import of the
    original file is neither a conflict nor a change to anything stored. (The case alone is verified, by
    ``verify``'s own per-range check: the whole store each time would make the campaign quadratic.)"""
    from engine.cases import _deadline_context
    from engine.errors import CasecheckError
    from engine.header_fix import correct_header
    from engine.store.audit import _check_range
    from engine.store.repo import dump_case, find_case, load_case, now
    from engine.store.tables import ChangeRow

    raw["case_id"] = f"FH-{uuid.uuid4().hex[:10]}"
    officers = [o["id"] for o in raw.get("officers") or []]
    if not officers:
        return
    header = {k: v for k, v in raw.items() if k != "events"}
    if data.draw(st.booleans()):
        mutation, kind = data.draw(mutated(copy.deepcopy(header), data.draw(st.sampled_from(HEADER_MUTATIONS))))
    else:
        field = data.draw(st.sampled_from(sorted(PLAUSIBLE)))
        mutation, kind = {**copy.deepcopy(header), field: data.draw(PLAUSIBLE[field])}, f"plausible {field}"
    live = data.draw(st.booleans())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.json"
        path.write_text(json.dumps(raw, ensure_ascii=False, default=str), encoding="utf-8")
        first = import_paths(store, [path], actor="fuzz")
        assert first.problems == [] and first.new == 1, (kind, first.problems)
        if live:                                # as if a step had been recorded live: the guard judges
            with store.writing() as s:
                s.add(ChangeRow(case_pk=find_case(s, raw["case_id"]).id, at=now(), actor="fuzz", kind="recorded",
                                summary="fuzz: treated as live", new_hash=""))
        before = _snapshot(store)
        try:
            done = correct_header(store, raw["case_id"], lambda h: copy.deepcopy(mutation), actor=officers[0],
                                  reason="fuzz")
        except CasecheckError as exc:
            assert str(exc).strip(), kind
            assert _snapshot(store) == before, kind                    # refused: nothing written
            done = None
            _seen(f"header {'live' if live else 'audit'}: refused ({type(exc).__name__})")
            if os.environ.get("FUZZ_DEBUG"):
                _seen(str(exc)[:90])
        else:
            _seen(f"header {'live' if live else 'audit'}: stored")
        after = _snapshot(store)
        assert all(after.get(k) == v for k, v in before.items()), kind
        with store.reading() as s:
            pk = find_case(s, raw["case_id"]).id                       # this case, every check verify makes of it
            assert _check_range(s, _deadline_context(), pk, pk, {}, None, True, True, False).broken == [], kind
            if done is not None:
                case = load_case(s, find_case(s, raw["case_id"]))
                assert dump_case(case)[0]["case_id"] == raw["case_id"]
        if done is not None:
            again = import_paths(store, [path], actor="fuzz-2")       # the original file, again
            assert (again.problems, again.conflicts, again.refused) == ([], [], []), kind
            assert _snapshot(store) == after, kind
