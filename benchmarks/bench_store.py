"""The store: import throughput, re-import (idempotent) throughput, and the latency of one live step:
``record`` refused by a blocking rule (the whole judgement, the party's three earlier decided cases read
for the first-offence look-back, nothing written), and ``record`` of a step that lands (judged, appended
to the hash chain, deadlines refreshed, committed), on SQLite and, when a URL is given, PostgreSQL.

Prints figures, asserts nothing about speed.
Run: .venv/bin/python -m benchmarks.bench_store [N] [POSTGRES_URL]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

from engine.cases import StepRefused, import_paths, new_case, record
from engine.store import Store
from fixtures.casegen import CaseGen


def write_cases(directory: Path, n: int) -> None:
    gen = CaseGen(seed=3)
    for i in range(n):
        raw, _ = gen.random_case(i + 1, 2024)
        raw["case_id"] = f"S{i}-" + raw["case_id"]
        (directory / f"{i:06d}.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


def bench(label: str, url: str, directory: Path, n: int) -> None:
    store = Store.open(url)
    start = time.perf_counter()
    report = import_paths(store, [directory], actor="bench")
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = import_paths(store, [directory], actor="bench")
    second = time.perf_counter() - start
    assert report.new == n and again.unchanged == n
    gen = CaseGen(seed=9)
    raw = gen.ordinary("nkcgw", 1, 2024)
    raw["case_id"] = "LIVE-BENCH"
    decision = next(e for e in raw["events"] if e["type"] == "decided")
    cut = raw["events"].index(decision)
    review = next(e for e in raw["events"][:cut] if e["type"] == "legal_review")
    raw["events"] = [e for e in raw["events"][:cut] if e["type"] != "legal_review"]
    new_case(store, raw, actor="bench")
    for k in range(3):                        # the party's earlier decided cases of the matter: the look-back reads them
        earlier = gen.ordinary("nkcgw", 100 + k, 2023)
        new_case(store, dict(earlier, case_id=f"LIVE-EARLIER-{k}", party=raw["party"], matter=raw["matter"]),
                 actor="bench")
    refused = []
    for i in range(110):                      # O1 is an officer of the case: refused by the rules, not the duties
        start = time.perf_counter()
        try:
            record(store, "LIVE-BENCH", dict(decision), actor="O1")
            raise AssertionError("a decision without legal review was not refused")
        except StepRefused:
            pass
        if i >= 10:                           # the first ones warm the caches (rule book, calendar, pool)
            refused.append((time.perf_counter() - start) * 1000)
    stored = []
    for i in range(110):                      # a legal review that lands: judged, appended, deadlines refreshed
        new_case(store, dict(raw, case_id=f"LIVE-STORED-{i}", party=dict(raw["party"], id=f"BENCH-P{i}")),
                 actor="bench")
        start = time.perf_counter()
        record(store, f"LIVE-STORED-{i}", dict(review), actor=review["reviewer"])
        if i >= 10:
            stored.append((time.perf_counter() - start) * 1000)
    print(f"{label:<11} import {n:,} cases: {first:6.2f} s ({n / first:,.0f}/s) · "
          f"re-import (unchanged): {second:6.2f} s ({n / second:,.0f}/s)")
    print(f"{'':<11} live step judged and refused: median {_ms(refused)}; judged and stored: median {_ms(stored)}")
    store.close()


def _ms(times: list[float]) -> str:
    return f"{statistics.median(times):.1f} ms, p95 {sorted(times)[int(len(times) * 0.95) - 1]:.1f} ms"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    with tempfile.TemporaryDirectory() as tmp:
        cases = Path(tmp) / "cases"
        cases.mkdir()
        write_cases(cases, n)
        bench("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", cases, n)
        if len(sys.argv) > 2:
            bench("PostgreSQL", sys.argv[2], cases, n)


if __name__ == "__main__":
    main()
