"""``verify``'s check of ``case_checks`` (issue 17, part of ``verify_store``) beside the whole ``verify`` of
the same store, same run: a store of N generated cases, a ``check --db`` run kept (its findings and every
case's ``case_checks`` row), then ``verify_case_checks`` alone (time, peak Python memory) and the whole
``verify_store`` (time). Prints figures and the ratio; asserts nothing about speed.

Run: .venv/bin/python -m benchmarks.bench_case_checks [N] [POSTGRES_URL] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

from engine.cases import _deadline_context, import_paths
from engine.store import Store
from engine.store.audit import verify_store
from engine.store.audit_case_checks import verify_case_checks
from fixtures.casegen import CaseGen


def _files(base: Path, n: int) -> Path:
    gen = CaseGen(seed=5)
    for first in range(0, n, 1000):
        cases = [gen.random_case(i, 2024)[0] for i in range(first + 1, min(n, first + 1000) + 1)]
        (base / f"c{first:08d}.json").write_text(json.dumps({"format": "casecheck/1", "cases": cases},
                                                            ensure_ascii=False, default=str), encoding="utf-8")
    return base


def one(label: str, url: str, files: Path, n: int, tmp: Path) -> None:
    from typer.testing import CliRunner

    from engine.cli import app

    store = Store.open(url)
    started = time.perf_counter()
    import_paths(store, [files], actor="bench")
    imported = time.perf_counter() - started
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["check", "--db", url, "--as-of", "2024-12-31", "-o", str(tmp / f"{label}.json")])
    assert result.exit_code in (0, 1), result.output
    checked = time.perf_counter() - started
    with store.reading() as s:
        rows = s.connection().exec_driver_sql("SELECT count(*), sum(findings) FROM case_checks").one()
        tracemalloc.start()
        started = time.perf_counter()
        broken = verify_case_checks(s)
        alone = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        started = time.perf_counter()
        whole = verify_store(s, ctx=_deadline_context(), trail=False)
        total = time.perf_counter() - started
    assert broken == [] and whole.broken == [], (broken[:3], whole.broken[:3])
    print(f"{label}: {n:,} cases (import {imported:.1f} s, check --db {checked:.1f} s); case_checks {rows[0]:,} rows, "
          f"{rows[1] or 0:,} findings")
    print(f"  verify_case_checks {alone:.2f} s (peak Python memory {peak / 1e6:.1f} MB); whole verify {total:.2f} s; "
          f"ratio {alone / total:.1%} of the whole verify")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=10_000)
    parser.add_argument("pg_url", nargs="?")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        files = _files(base / "cases", args.n) if (base / "cases").mkdir() is None else None
        if not args.no_sqlite:
            one("SQLite", f"sqlite:///{base / 'bench.db'}", files, args.n, base)
        if args.pg_url:
            one("PostgreSQL", args.pg_url, files, args.n, base)
    print("(a shared machine: figures are noisy; the ratio is measured in the same run)")


if __name__ == "__main__":
    main()
