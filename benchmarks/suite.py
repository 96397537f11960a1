"""The benchmark suite: every figure issue 6 asks for, in one run, with the targets it meets or not.

    python -m benchmarks.suite            (make bench:       10,000 cases)
    python -m benchmarks.suite --large    (make bench-large: scaling at 10k / 100k / 1M, stores of 1M)

Runs, in order: the rule stage against its baselines (bench_rules), the whole review against the
load-and-validate floor with one and two workers and peak memory (bench_review), the review over a
SQLite and a PostgreSQL store, whole and as two partitions (bench_store_review), alerts over a store
(bench_alerts), and the live guard: judging one refused step (bench_store). PostgreSQL is the local
15 cluster, started and given a scratch database as the tests do (tests/pg.py); ``--no-pg`` skips it.
Figures only: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from benchmarks import bench_review, bench_rules, bench_store_review

ROOT = Path(__file__).resolve().parent.parent


class _Postgres:
    """Scratch databases on the local PostgreSQL 15 (tests/pg.py), one per benchmark, dropped at the end."""

    def __init__(self) -> None:
        sys.path.insert(0, str(ROOT / "tests"))
        import pg

        self._pg, self._urls = pg, []

    def fresh(self) -> str:
        url = self._pg.create_database()
        self._urls.append(url)
        return url

    def close(self) -> None:
        for url in self._urls:
            self._pg.drop_database(url)


def _run_module(module: str, *args: str) -> None:
    print(f"\n$ python -m {module} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", action="store_true", help="scaling up to 1M cases and stores of 1M")
    parser.add_argument("--no-pg", action="store_true", help="leave PostgreSQL out")
    args = parser.parse_args()
    small = 10_000
    sizes = [10_000, 100_000, 1_000_000] if args.large else [small]
    store_n = 1_000_000 if args.large else small

    rules_n = 100_000 if args.large else small
    for mix in ("realistic", "penalties"):
        print(bench_rules.report(rules_n, mix, bench_rules.measure(rules_n, mix)), flush=True)

    print(bench_review.report([bench_review.measure(n) for n in sizes]), flush=True)

    pg = None if args.no_pg else _Postgres()
    try:
        sys.argv = ["bench_store_review", str(store_n)] + ([pg.fresh()] if pg else [])
        bench_store_review.main()
        _run_module("benchmarks.bench_alerts", str(store_n))
        if pg:
            _run_module("benchmarks.bench_alerts", str(store_n), pg.fresh())
        _run_module("benchmarks.bench_store", "2000", *([pg.fresh()] if pg else []))
    finally:
        if pg:
            pg.close()

if __name__ == "__main__":
    main()
