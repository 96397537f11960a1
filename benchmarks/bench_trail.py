"""Issue 17: import of new cases beside the load-and-validate floor measured in the same run, and
``casecheck verify`` (every chain, header, officer/party row, deadlines recomputed, the signed checkpoint)
of the same store: time and peak memory, on SQLite and, when a URL is given, PostgreSQL.

Prints figures, asserts nothing about speed.
Run: .venv/bin/python -m benchmarks.bench_trail [N] [POSTGRES_URL]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import run_measured, table
from benchmarks.bench_store import write_cases
from engine.cases import import_paths
from engine.loader import load_paths
from engine.store import Store
from engine.store.trail import init_key, make_checkpoint


def one(label: str, url: str, directory: Path, n: int, key: Path, checkpoints: Path) -> list[object]:
    start = time.perf_counter()
    loaded = load_paths([directory])
    floor = len(loaded.cases) / (time.perf_counter() - start)
    del loaded
    store = Store.open(url)
    start = time.perf_counter()
    report = import_paths(store, [directory], actor="bench")
    rate = report.new / (time.perf_counter() - start)
    assert report.new == n, report
    start = time.perf_counter()
    make_checkpoint(store, key, checkpoints)
    seal = time.perf_counter() - start
    store.close()
    env_db = url
    secs, tree_mib, _ = run_measured([sys.executable, "-m", "engine.cli", "verify", "--db", env_db,
                                      "--key", str(key), "--checkpoints", str(checkpoints)], ok=(0,))
    return [label, n, round(floor), round(rate), f"{rate / floor:.2f}", f"{seal:.1f}", f"{secs:.1f}",
            f"{n / secs:.0f}", f"{tree_mib:.0f}"]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    pg_url = sys.argv[2] if len(sys.argv) > 2 else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-trail-") as tmp:
        base = Path(tmp)
        cases = base / "cases"
        cases.mkdir()
        write_cases(cases, n)
        key = base / "k" / "bench.key"
        init_key(key)
        rows.append(one("SQLite", f"sqlite:///{base / 'store.db'}", cases, n, key, base / "cp-sqlite"))
        if pg_url:
            rows.append(one("PostgreSQL", pg_url, cases, n, key, base / "cp-pg"))
    print(table(f"import and verify, {n:,} cases (floor: load and validate the same files, same run)",
                ["store", "cases", "floor/s", "import/s", "import/floor", "seal s", "verify s", "verify cases/s",
                 "verify peak MiB"], rows))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
