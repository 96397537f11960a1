"""Fuzzing the append-only store (issue 17), on SQLite and PostgreSQL: a valid case file is imported, then
a structurally mutated version of it is re-imported. Property: the re-import is refused with located
problems, reported as conflicts, or appends; it never raises, and no stored event, hash, author or time
changes (every stored event row before is still there, unchanged), and every chain verifies.
``make test`` runs a short campaign; ``make fuzz`` a long one (``CASECHECK_FUZZ``)."""

from __future__ import annotations

import copy
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
    assert all(after.get(k) == v for k, v in before.items()), kind          # nothing stored was touched
    if again.problems or again.conflicts:
        assert len(after) == len(before), kind                               # and nothing of it added
    with store.reading() as s:
        assert verify(s) == []
