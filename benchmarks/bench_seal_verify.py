"""``casecheck keys seal`` and ``casecheck verify`` of stores that already exist (issue 17: "verify of the
same stores" an import benchmark filled, e.g. ``bench_trail N URL --import-only --sqlite-path FILE``), run
as a user runs them: a fresh key, ``keys seal --workers W`` (every case's deadlines recomputed from its
events: the first seal of a store is its dearest), then ``verify --workers W`` against that checkpoint
(the store's and the directory's copy); with ``--reseal``, a second ``keys seal`` right after the first,
nothing changed (every leaf carried over: its cost is reading the store and checking every case's chain,
which a seal does before signing). Wall seconds, peak RSS of the process tree, CPU seconds of the
tree (the database server's not counted). ``verify`` must say intact (exit 0). Prints figures, asserts
nothing about speed; the machine may be shared, so compare runs of the same day.

Run: .venv/bin/python -m benchmarks.bench_seal_verify URL [URL ...] [--workers 2] [--reseal]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path

from benchmarks.common import run_measured, table


def measured(cmd: list[str]) -> tuple[float, float, float]:
    """(seconds, peak MiB of the tree, CPU seconds of the tree) of ``cmd``, which must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    secs, tree, _ = run_measured(cmd, ok=(0,))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return secs, tree, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cases_in(url: str) -> int:
    from engine.store import Store
    from engine.store.repo import raw_rows

    store = Store.open(url, migrate=False, create=False)
    with store.reading() as session:
        n = raw_rows(session, "SELECT count(*) FROM cases")[0][0]
    store.close()
    return n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("urls", nargs="+", help="store URLs (sqlite:///FILE or a PostgreSQL URL)")
    parser.add_argument("--workers", type=int, default=2, help="seal and verify worker processes (default 2)")
    parser.add_argument("--reseal", action="store_true", help="seal a second time, nothing changed, and print its "
                        "figures and its time over the first seal's")
    parser.add_argument("--key-dir", type=Path, help="where the key and checkpoints go (default: a temporary "
                        "directory; give one to verify again later)")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-seal-") as tmp:
        base = args.key_dir or Path(tmp)
        key = base / "k" / "bench.key"
        if not key.exists():
            from engine.store.trail import init_key

            init_key(key)
        for i, url in enumerate(args.urls):
            n = cases_in(url)
            checkpoints = base / f"checkpoints-{i}"
            common = ["--db", url, "--key", str(key), "--checkpoints", str(checkpoints), "--workers", str(args.workers)]
            seal = measured([sys.executable, "-m", "engine.cli", "keys", "seal", *common])
            print(f"{url.split('?')[0]}: {n:,} cases sealed in {seal[0]:.1f} s", flush=True)
            if args.reseal:
                again = measured([sys.executable, "-m", "engine.cli", "keys", "seal", *common])
                print(f"{url.split('?')[0]}: sealed again (nothing changed) in {again[0]:.1f} s "
                      f"({again[0] / seal[0]:.2f}× the first seal), peak {again[1]:.0f} MiB, {again[2]:.0f} CPU-s",
                      flush=True)
            verify = measured([sys.executable, "-m", "engine.cli", "verify", *common])
            print(f"{url.split('?')[0]}: verified intact in {verify[0]:.1f} s", flush=True)
            label = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
            rows.append([label, n, f"{seal[0]:.1f}", round(n / seal[0]), f"{seal[1]:.0f}", f"{seal[2]:.0f}",
                         f"{verify[0]:.1f}", round(n / verify[0]), f"{verify[1]:.0f}", f"{verify[2]:.0f}"])
    print(table(f"keys seal and verify of existing stores, {args.workers} workers each (peak RSS of the process "
                f"tree; CPU of the tree, the database server's not counted)",
                ["store", "cases", "seal s", "seal cases/s", "seal peak MiB", "seal CPU-s", "verify s",
                 "verify cases/s", "verify peak MiB", "verify CPU-s"], rows))


if __name__ == "__main__":
    main()
