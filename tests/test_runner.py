"""The parallel runner: same verdicts as the in-process checker, partitions cover the input exactly
once, a worker's native crash costs no verdict, duplicated ids are problems, store units work."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
from pathlib import Path

import pytest

from engine.cases import import_paths
from engine.exemptions import PartyHistory
from engine.loader import load_paths
from engine.runner import FileSource, Partition, RunSpec, RunStats, StoreSource, run
from engine.store import Store
from fixtures.scale import write_scale
from conftest import ROOT

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def scale_dir(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("scale")
    write_scale(2000, target, mix="penalties", seed=5, per_file=250)
    return target


def verdicts(results) -> dict[tuple[str, str], list[tuple[str, str]]]:
    return {(r.agency, r.case_id): sorted((f.rule_id, f.fact) for f in r.findings) for r in results}


def test_runner_equals_the_in_process_checker(scale_dir, make_checker):
    loaded = load_paths([scale_dir, ROOT / "fixtures" / "demo"])
    checker = make_checker(AS_OF.isoformat(), history=PartyHistory(c.case for c in loaded.cases))
    expected = verdicts(checker.check(loaded.cases))
    faults = {json.loads(line)["case_id"]: set(json.loads(line)["rules"])
              for line in (scale_dir / "faults.jsonl").read_text(encoding="utf-8").splitlines()}
    for workers in (1, 2):
        stats = RunStats()
        results = list(run(FileSource((str(scale_dir), str(ROOT / "fixtures" / "demo"))), RunSpec(AS_OF),
                           workers=workers, stats=stats))
        assert stats.problems == [] and not any(r.failure for r in results)
        assert all(r.loaded is None for r in results)               # verdicts only come back
        assert verdicts(results) == expected
    got = {r.case_id: {f.rule_id for f in r.findings} for r in results if r.findings and r.case_id.startswith("S")}
    assert got == faults and len(faults) > 200                       # the generator's injected faults, exactly


def test_partitions_cover_the_input_once(scale_dir):
    whole = verdicts(run(FileSource((str(scale_dir),)), RunSpec(AS_OF), workers=2))
    shares = [verdicts(run(FileSource((str(scale_dir),)), RunSpec(AS_OF), workers=1, partition=Partition(k, 3)))
              for k in range(3)]
    assert sum(len(s) for s in shares) == len(whole)
    merged: dict = {}
    for share in shares:
        assert not set(share) & set(merged)
        merged.update(share)
    assert merged == whole


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0"])
def test_bad_partition_is_refused(text):
    from engine.errors import CasecheckError

    with pytest.raises(CasecheckError, match="K/N"):
        Partition.parse(text)


class CrashingSource(FileSource):
    """Kills the worker process (SIGABRT, like a native crash) when it reads the named file."""

    victim: str = ""

    def read(self, unit, partition, decided_only=False):
        if multiprocessing.parent_process() is not None and any(name.endswith(self.victim) for name in unit):
            os.abort()
        return super().read(unit, partition, decided_only)


def test_a_worker_crash_costs_no_verdict(scale_dir, monkeypatch):
    monkeypatch.setattr("engine.runner.UNIT_BYTES", 1)              # one file per unit
    expected = verdicts(run(FileSource((str(scale_dir),)), RunSpec(AS_OF), workers=2))
    CrashingSource.victim = "part-00004.json"
    stats = RunStats()
    results = list(run(CrashingSource((str(scale_dir),)), RunSpec(AS_OF), workers=2, stats=stats))
    assert stats.worker_crashes >= 1 and stats.problems == []
    assert verdicts(results) == expected


class RaisingSource(FileSource):
    """Raises in the worker (as an unpicklable result would) when it reads the named file."""

    victim: str = ""

    def read(self, unit, partition, decided_only=False):
        if multiprocessing.parent_process() is not None and any(name.endswith(self.victim) for name in unit):
            raise RecursionError("maximum recursion depth exceeded while pickling an object")
        return super().read(unit, partition, decided_only)


def test_a_worker_exception_costs_no_verdict(scale_dir, monkeypatch):
    monkeypatch.setattr("engine.runner.UNIT_BYTES", 1)
    expected = verdicts(run(FileSource((str(scale_dir),)), RunSpec(AS_OF), workers=2))
    RaisingSource.victim = "part-00002.json"
    stats = RunStats()
    results = list(run(RaisingSource((str(scale_dir),)), RunSpec(AS_OF), workers=2, stats=stats))
    assert stats.worker_crashes >= 1 and stats.problems == []
    assert verdicts(results) == expected


def test_duplicated_ids_across_files_are_problems(tmp_path, scale_dir):
    case = json.loads((scale_dir / "part-00000.json").read_text(encoding="utf-8"))["cases"][0]
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    stats = RunStats()
    results = list(run(FileSource((str(tmp_path),)), RunSpec(AS_OF), workers=1, stats=stats))
    assert len(results) == 1
    (problem,) = stats.problems
    assert problem.file.endswith("b.json") and problem.field == "case_id" and "a.json" in problem.message


def test_store_source_and_partitions(scale_dir, url, monkeypatch):
    monkeypatch.setattr("engine.runner.UNIT_ROWS", 100)
    store = Store.open(url)
    import_paths(store, [scale_dir / "part-00000.json", scale_dir / "part-00001.json"], actor="test")
    whole = verdicts(run(StoreSource(url), RunSpec(AS_OF), workers=2))
    files = verdicts(run(FileSource((str(scale_dir / "part-00000.json"), str(scale_dir / "part-00001.json"))),
                         RunSpec(AS_OF), workers=1))
    assert whole == files and len(whole) == 500
    merged: dict = {}
    for k in range(2):
        merged.update(verdicts(run(StoreSource(url), RunSpec(AS_OF), workers=2, partition=Partition(k, 2))))
    assert merged == whole
    store.engine.dispose()
