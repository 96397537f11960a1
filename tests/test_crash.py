"""Crash safety and concurrent writers, with real processes and SIGKILL.

- an import of 100,000 cases killed at random points: the store stays consistent (every hash chain
  verifies, no case without its events or with half of them), and running the import again finishes it:
  every case stored once, every event once;
- a live ``case record`` killed at random points: the step is stored whole or not at all; retried with
  ``--expect`` it lands exactly once;
- two imports of overlapping files at the same moment, SQLite and PostgreSQL: each case stored once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from engine.cases import new_case
from engine.store import Store
from engine.store.repo import verify
from engine.store.tables import CaseRow, EventRow
from fixtures.scale import write_scale
from conftest import ROOT
from test_store import LIVE

CLI = [sys.executable, "-m", "engine.cli"]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, CASECHECK_USER="导入员"))


def consistent(url: str) -> tuple[int, int]:
    """Assert the store is whole; return (cases, events)."""
    store = Store.open(url)
    with store.reading() as s:
        assert verify(s) == []
        cases = s.exec(select(func.count()).select_from(CaseRow)).one()
        events = s.exec(select(func.count()).select_from(EventRow)).one()
        declared = s.exec(select(func.coalesce(func.sum(CaseRow.event_count), 0))).one()
        assert events == declared                       # no case holds more or fewer events than it says
        duplicated = s.execute(text("SELECT count(*) FROM (SELECT agency, case_id FROM cases "
                                    "GROUP BY agency, case_id HAVING count(*) > 1) d")).scalar_one()
        assert duplicated == 0
    store.close()
    return cases, events


@pytest.fixture(scope="module")
def hundred_k(tmp_path_factory) -> tuple[Path, int]:
    target = tmp_path_factory.mktemp("100k")
    write_scale(100_000, target, seed=17)
    events = sum(len(c["events"]) for p in sorted(target.glob("part-*.json"))
                 for c in json.loads(p.read_text(encoding="utf-8"))["cases"])
    return target, events


def test_import_of_100k_killed_at_random_points_then_finished(hundred_k, tmp_path):
    directory, total_events = hundred_k
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    Store.open(url).close()
    rng = random.Random(7)
    stored = 0
    for attempt in range(2):                            # kill twice, at random moments once writing has begun
        proc = start("import", str(directory), "--db", url)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            cases, _ = _quick_count(url)
            if cases > stored:                          # a chunk landed: kill somewhere in the next ones
                time.sleep(rng.uniform(0.0, 6.0))
                break
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        cases, events = consistent(url)
        assert stored <= cases < 100_000 and cases % 5000 == 0      # whole chunks only
        stored = cases
    finished = start("import", str(directory), "--db", url)
    out, err = finished.communicate(timeout=900)
    assert finished.returncode == 0, err
    assert f"新增 {100_000 - stored}" in out and f"未变 {stored}" in out
    assert consistent(url) == (100_000, total_events)


def _quick_count(url: str) -> tuple[int, int]:
    store = Store.open(url, migrate=False)
    try:
        with store.reading() as s:
            return s.exec(select(func.count()).select_from(CaseRow)).one(), 0
    finally:
        store.close()


def test_live_record_killed_at_random_points(url, tmp_path):
    store = Store.open(url)
    new_case(store, LIVE, actor="王某")
    seen = consistent(url)[1]
    rng = random.Random(3)
    review = json.dumps({"reviewer": "R1", "result": "approved", "documents": ["法制审核意见书"]}, ensure_ascii=False)
    landed = 0
    for _ in range(6):
        proc = start("case", "record", "LIVE-1", "legal_review", "--date", "2024-03-12", "--by", "R1",
                     "--json", review, "--db", url, "--expect", str(seen))
        time.sleep(rng.uniform(0.3, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _, events = consistent(url)
        assert events in (seen, seen + 1)
        if events == seen + 1:
            landed += 1
            break
    retry = start("case", "record", "LIVE-1", "legal_review", "--date", "2024-03-12", "--by", "R1",
                  "--json", review, "--db", url, "--expect", str(seen))
    out, err = retry.communicate(timeout=120)
    if landed:                                          # the killed one had committed: the retry is refused
        assert retry.returncode == 1 and "本案已被他人更新" in err
    else:
        assert retry.returncode == 0, err
    assert consistent(url)[1] == seen + 1               # the step exactly once


def test_concurrent_imports_store_each_case_once(url, tmp_path):
    source = tmp_path / "cases"
    write_scale(12_000, source, seed=23, per_file=1000)
    parts = sorted(source.glob("part-*.json"))
    a, b = tmp_path / "a", tmp_path / "b"
    for target, chosen in ((a, parts[:8]), (b, parts[4:])):          # files 4–7 in both
        target.mkdir()
        for p in chosen:
            (target / p.name).write_bytes(p.read_bytes())
    Store.open(url).close()
    first, second = start("import", str(a), "--db", url), start("import", str(b), "--db", url)
    results = [p.communicate(timeout=900) + (p.returncode,) for p in (first, second)]
    assert [rc for _, _, rc in results] == [0, 0], [err for _, err, _ in results]
    cases, _ = consistent(url)
    assert cases == 12_000
    new = sum(int(out.split("新增 ")[1].split("，")[0]) for out, _, _ in results)
    assert new == 12_000                                 # every case counted new exactly once
