"""Throughput of each stage of `casecheck check` on N generated cases (default 10,000).

Prints figures, asserts nothing about speed. Run: .venv/bin/python -m benchmarks.bench_spine [N]
Stages: validate (pydantic) · facts (workflow replay + calendar) · oracle (plain Python) ·
durable in-process (one session per case, raw C calls) · durable via the worker pool (1 and 2 workers,
what the CLI uses) · the whole Checker (facts + durable + oracle cross-check + findings).
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time

from engine.calendar import default_calendar
from engine.check import Checker
from engine.durable import DurablePool, DurableSession, compile_ruleset, project
from engine.facts import FactContext, build_facts
from engine.loader import LoadedCase, validate_case
from engine.rulebook import default_rulebook
from engine.workflow import default_workflows
from fixtures.casegen import CaseGen


def timed(label: str, n: int, fn, rows: list) -> object:
    start = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - start
    rows.append((label, secs, n / secs))
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    gen = CaseGen(seed=1)
    raws = []
    for i in range(n):
        raw, _ = gen.random_case(i + 1, 2024)
        raw["case_id"] = f"B{i}-" + raw["case_id"]
        raws.append(raw)
    book, cal, wfs = default_rulebook(), default_calendar(), default_workflows()
    ctx = FactContext(cal, dt.date(2025, 6, 30), book.profile, wfs)
    rows: list = []
    cases = timed("validate (pydantic)", n, lambda: [LoadedCase(validate_case(r, "bench")[0], "bench") for r in raws], rows)
    facts = timed("facts (replay + calendar)", n, lambda: [build_facts(c.case, ctx) for c in cases], rows)
    timed("oracle (plain Python)", n, lambda: [book.evaluate(f) for f in facts], rows)
    projected = [project(f, book.fields_by_kind) for f in facts]
    session = DurableSession(compile_ruleset(book.alternatives))
    timed("durable in-process, 1 session/case", n, lambda: [session.run(p) for p in projected], rows)
    for workers in (1, 2):
        def pooled(workers=workers):
            with DurablePool(book, workers=workers) as pool:
                return list(pool.evaluate(enumerate(facts)))
        timed(f"durable worker pool, {workers} worker(s) (incl. start-up)", n, pooled, rows)
    checker = Checker(book, cal, wfs, dt.date(2025, 6, 30), workers=2)
    results = timed("whole check: facts+durable+oracle+findings, 2 workers", n, lambda: list(checker.check(cases)), rows)
    failures = sum(1 for r in results if r.failure)
    findings = sum(len(r.findings) for r in results)
    facts_per_case = sum(len(f) for f in facts) / n
    print(f"\n{n:,} generated cases, {facts_per_case:.1f} facts/case, {len(book.alternatives)} compiled alternatives,"
          f" {findings:,} findings, {failures} engine failures")
    print(f"{'stage':58} {'seconds':>9} {'cases/s':>10}")
    for label, secs, rate in rows:
        print(f"{label:58} {secs:9.2f} {rate:10,.0f}")
    oracle = next(r for r in rows if r[0].startswith("oracle"))[2]
    durable = next(r for r in rows if r[0].startswith("durable in-process"))[2]
    print(f"oracle ÷ durable in-process: {oracle / durable:.1f}×")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
