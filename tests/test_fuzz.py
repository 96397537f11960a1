"""Fuzzing: valid and broken case files through loading, checking and importing.

Property: every input is either accepted or refused with problems located in its file (file, case id
when known, field path) — never an exception, never a hang (Hypothesis' deadline bounds each input).
``make test`` runs a short campaign (``CASECHECK_FUZZ`` inputs, default 150); ``make fuzz`` a long one.
A few inputs of each kind also go through the real CLI (``check`` and ``import``): exit 0, 1 or 2,
never a traceback, and a refusal names the file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import func
from sqlmodel import select

from engine.cases import import_paths
from engine.loader import load_file
from engine.store import Store
from engine.store.repo import verify
from engine.store.tables import CaseRow
from conftest import ROOT
from fuzz import KINDS, documents

EXAMPLES = int(os.environ.get("CASECHECK_FUZZ", "150"))
SEEN: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    store = Store.open(f"sqlite:///{path}")
    yield store
    store.close()
    if EXAMPLES > 150:
        print(f"\nfuzz campaign: {sum(SEEN.values()):,} inputs — " +
              ", ".join(f"{k} {v}" for k, v in sorted(SEEN.items(), key=lambda x: -x[1])))


def _located(problem, path: Path) -> None:
    assert problem.file == str(path), problem
    assert isinstance(problem.field, str) and problem.message.strip(), problem
    assert "Traceback" not in problem.message


@settings(max_examples=EXAMPLES, deadline=20_000, suppress_health_check=list(HealthCheck), derandomize=EXAMPLES <= 150,
          database=None)
@given(documents())
def test_any_input_is_accepted_or_refused_with_located_problems(make_checker, fuzz_store, document):
    name, data, kind = document
    SEEN[kind.split("+")[0]] = SEEN.get(kind.split("+")[0], 0) + 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        started = time.monotonic()
        loaded, problems = load_file(path)
        for problem in problems:
            _located(problem, path)
        if kind == "valid":
            assert problems == [] and len(loaded) == 1
        if not problems:
            assert loaded or data.strip() in (b"", b"null", b"~", b"[]", b"{}", b"0", b'""')
        results = list(make_checker("2025-06-30").check(loaded))
        for r in results:
            assert r.failure is None, r.failure
            if r.problem:
                _located(r.problem, path)
        with fuzz_store.reading() as s:
            before = s.exec(select(func.count()).select_from(CaseRow)).one()
        report = import_paths(fuzz_store, [path], actor="fuzz")
        with fuzz_store.reading() as s:
            after = s.exec(select(func.count()).select_from(CaseRow)).one()
            if report.problems:
                assert after == before                  # refused: nothing stored
                for problem in report.problems:
                    _located(problem, path)
            assert verify(s) == []
        assert time.monotonic() - started < 20


CLI_KINDS = KINDS


def _one_of_kind(kind: str) -> tuple[str, bytes]:
    """A document of ``kind`` that differs from the valid case it came from (deterministic)."""
    found: list[tuple[str, bytes]] = []

    @settings(max_examples=50, derandomize=True, database=None, suppress_health_check=list(HealthCheck),
              deadline=None)
    @given(documents(only=kind))
    def look(document):
        if not found and document[2] == kind:
            found.append(document[:2])

    look()
    assert found, kind
    return found[0]


@pytest.mark.parametrize("kind", CLI_KINDS)
def test_cli_never_shows_a_traceback(kind, tmp_path):
    name, data = _one_of_kind(kind)
    path = tmp_path / name
    path.write_bytes(data)
    for args in (["check", str(path), "--as-of", "2025-06-30", "--workers", "1"],
                 ["import", str(path), "--db", str(tmp_path / "s.db")]):
        done = subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=300, env={**os.environ, "COLUMNS": "400"})
        output = done.stdout + done.stderr
        assert done.returncode in (0, 1, 2), output[-3000:]
        assert "Traceback" not in output, output[-3000:]
        if done.returncode == 2:
            assert name in output                       # the refusal names the file
        if kind == "valid":
            assert done.returncode in (0, 1)


def test_strategy_covers_every_kind():
    kinds: set[str] = set()

    @settings(max_examples=600, derandomize=True, database=None, suppress_health_check=list(HealthCheck),
              deadline=None)
    @given(documents())
    def look(document):
        kinds.update(document[2].split("+"))

    look()
    assert set(KINDS) <= kinds


if __name__ == "__main__":            # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
