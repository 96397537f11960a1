"""Issue 17: import of new cases beside the load-and-validate floor measured in the same run, the seal of
a signed checkpoint, and ``casecheck verify`` of the same store (every chain, header, officer/party row,
sealed deadlines by their signed digest, the change log, the checkpoint; and ``verify --deep``, which
recomputes every case's deadlines from its events): time and peak memory of the process tree, on SQLite
and, when a URL is given, PostgreSQL (COPY).

The cases are JSON files of 1,000 cases each (``cases:`` lists), imported a slice of ``--slice`` cases at
a time (as an operator would bring a million in: one ``casecheck import`` per batch of files), so the
import's memory stays that of one slice. The floor is ``load_paths`` of the same slices, same run.
Prints figures, asserts nothing about speed.

Each slice is imported by a process of its own (``import_paths`` with ``--workers``, default 2 as the CLI's;
its time measured inside, so interpreter start-up is not counted; the peak RSS of its process tree, workers
included, is the import's memory). ``import/floor CPU``: the floor's CPU seconds over the import's (its
process and workers; the database server's not counted): steadier than wall time on a shared machine.
``--import-only``: the floor and the import, no seal and no verify.

Run: .venv/bin/python -m benchmarks.bench_trail N [POSTGRES_URL] [--no-sqlite] [--no-deep] [--slice K]
     [--workers W] [--import-only] [--cases-dir DIR] [--floor-once] [--sqlite-path FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import run_measured, table
from engine.cases import import_paths
from engine.loader import load_paths
from engine.store import Store
from engine.store.trail import init_key, make_checkpoint
from fixtures.casegen import CaseGen

PER_FILE = 1000


def write_slices(base: Path, n: int, per_slice: int) -> list[Path]:
    """``n`` generated cases (seeded) as JSON files of ``PER_FILE`` cases, in directories of ``per_slice``."""
    gen = CaseGen(seed=3)
    slices: list[Path] = []
    for first in range(0, n, PER_FILE):
        if first % per_slice == 0:
            slices.append(base / f"slice-{len(slices):03d}")
            slices[-1].mkdir(parents=True)
        batch = []
        for i in range(first, min(n, first + PER_FILE)):
            raw, _ = gen.random_case(i + 1, 2024)
            raw["case_id"] = f"S{i}-" + raw["case_id"]
            batch.append(raw)
        (slices[-1] / f"{first:07d}.json").write_text(
            json.dumps({"format": "casecheck/1", "cases": batch}, ensure_ascii=False), encoding="utf-8")
    return slices


def kept_slices(base: Path, n: int, per_slice: int) -> list[Path] | None:
    """The slices ``write_slices`` wrote to ``base`` before for the same ``n`` and ``per_slice`` (same seed:
    the same cases), or None (then ``base`` must be empty or absent: it is written afresh)."""
    slices = sorted(base.glob("slice-*")) if base.is_dir() else []
    files = sorted(f for d in slices for f in d.glob("*.json"))
    want = -(-n // PER_FILE)
    if not slices:
        return None
    if len(files) != want or len(slices) != -(-n // per_slice):
        sys.exit(f"{base} holds {len(files)} files in {len(slices)} slices, not {want} in {-(-n // per_slice)}: "
                 f"give an empty directory")
    return slices


def import_child(url: str, directory: str, workers: int, out: str) -> None:
    """One slice's ``import_paths`` in a process of its own (its tree's peak memory is the import's):
    writes its seconds and how many new cases to ``out``."""
    store = Store.open(url)
    cpu = _cpu()
    start = time.perf_counter()
    report = import_paths(store, [directory], actor="bench", workers=workers)
    secs = time.perf_counter() - start
    cpu = _cpu() - cpu                 # this process and its workers (joined by now); not the database server's
    store.close()
    Path(out).write_text(json.dumps({"secs": secs, "cpu": cpu, "new": report.new}), encoding="utf-8")


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measured_import(url: str, directory: Path, workers: int) -> tuple[float, float, int, float]:
    """(seconds inside ``import_paths``, its CPU seconds, new cases, peak RSS MiB of the process tree) of one
    slice."""
    with tempfile.NamedTemporaryFile(prefix="bench-trail-", suffix=".json") as out:
        cmd = [sys.executable, "-m", "benchmarks.bench_trail", "--import-child", url, str(directory), str(workers),
               out.name]
        _, tree_mib, _ = run_measured(cmd, ok=(0,))
        got = json.loads(Path(out.name).read_text(encoding="utf-8"))
    return got["secs"], got["cpu"], got["new"], tree_mib


def measure_floor(slices: list[Path]) -> tuple[float, float]:
    """Seconds and CPU seconds of ``load_paths`` (read and validate) over the slices, one at a time."""
    floor_secs = floor_cpu = 0.0
    for directory in slices:
        start, cpu = time.perf_counter(), time.process_time()
        loaded = load_paths([directory])
        floor_secs += time.perf_counter() - start
        floor_cpu += time.process_time() - cpu
        assert not loaded.problems, loaded.problems[:3]
        del loaded
    return floor_secs, floor_cpu


def one(label: str, url: str, slices: list[Path], n: int, key: Path, checkpoints: Path,
        deep: bool, workers: int = 2, import_only: bool = False,
        measured_floor: tuple[float, float] | None = None) -> list[object]:
    floor_secs, floor_cpu = measured_floor or measure_floor(slices)
    floor = n / floor_secs
    Store.open(url).close()                 # migrated before the clock starts
    import_secs, import_cpu, stored, import_mib = 0.0, 0.0, 0, 0.0
    for directory in slices:
        secs, cpu, new, mib = measured_import(url, directory, workers)
        import_secs += secs
        import_cpu += cpu
        stored += new
        import_mib = max(import_mib, mib)
    assert stored == n, (stored, n)
    rate = n / import_secs
    extra = [workers, f"{import_mib:.0f}", f"{floor_cpu / import_cpu:.2f}"]
    if import_only:
        return [label, n, round(floor), round(rate), f"{rate / floor:.2f}", "-", "-", "-", "-", "-", "-", *extra]
    store = Store.open(url)
    start = time.perf_counter()
    make_checkpoint(store, key, checkpoints)
    seal = time.perf_counter() - start
    store.close()
    cmd = [sys.executable, "-m", "engine.cli", "verify", "--db", url, "--key", str(key),
           "--checkpoints", str(checkpoints)]
    secs, tree_mib, _ = run_measured(cmd, ok=(0,))
    deep_secs, deep_mib = (run_measured(cmd + ["--deep"], ok=(0,))[:2] if deep else (None, None))
    return [label, n, round(floor), round(rate), f"{rate / floor:.2f}", f"{seal:.1f}", f"{secs:.1f}",
            f"{n / secs:.0f}", f"{tree_mib:.0f}", f"{deep_secs:.1f}" if deep_secs else "-",
            f"{deep_mib:.0f}" if deep_mib else "-", *extra]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=5000, help="cases (default 5000)")
    parser.add_argument("pg_url", nargs="?", help="a PostgreSQL URL (an empty database) to measure too")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--no-deep", action="store_true", help="skip verify --deep")
    parser.add_argument("--slice", type=int, default=100_000, help="cases per import (default 100,000)")
    parser.add_argument("--workers", type=int, default=2, help="import worker processes (default 2, as the CLI)")
    parser.add_argument("--import-only", action="store_true", help="measure the floor and the import only "
                        "(no seal, no verify)")
    parser.add_argument("--floor-once", action="store_true", help="measure the floor once, first, for both "
                        "stores (a million cases: 8 minutes saved)")
    parser.add_argument("--sqlite-path", type=Path, help="the SQLite store's file (kept; default: a temporary "
                        "one)")
    parser.add_argument("--cases-dir", type=Path, help="keep the generated case files in this directory and "
                        "reuse them when it already holds N cases in slices of --slice (a million take minutes "
                        "to write)")
    if sys.argv[1:2] == ["--import-child"]:
        import_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-trail-") as tmp:
        base = Path(tmp)
        start = time.perf_counter()
        per_slice = max(PER_FILE, args.slice // PER_FILE * PER_FILE)
        slices = kept_slices(args.cases_dir, args.n, per_slice) if args.cases_dir else None
        if slices:
            print(f"reusing {args.n:,} cases in {len(slices)} slices from {args.cases_dir}", flush=True)
        else:
            slices = write_slices(args.cases_dir or base / "cases", args.n, per_slice)
            print(f"wrote {args.n:,} cases in {len(slices)} slices ({time.perf_counter() - start:.0f} s)",
                  flush=True)
        key = base / "k" / "bench.key"
        init_key(key)
        floor = None
        if args.floor_once:
            floor = measure_floor(slices)
            print(f"floor: {args.n / floor[0]:,.0f} cases/s ({floor[0]:.0f} s, {floor[1]:.0f} CPU-s)", flush=True)
        if not args.no_sqlite:
            rows.append(one("SQLite", f"sqlite:///{args.sqlite_path or base / 'store.db'}", slices, args.n, key,
                            base / "cp-sqlite", not args.no_deep, args.workers, args.import_only, floor))
            print(rows[-1], flush=True)
        if args.pg_url:
            rows.append(one("PostgreSQL", args.pg_url, slices, args.n, key, base / "cp-pg", not args.no_deep,
                            args.workers, args.import_only, floor))
            print(rows[-1], flush=True)
    print(table(f"import, seal and verify, {args.n:,} cases (floor: load and validate the same files, same run; "
                f"verify with 2 workers; peak RSS of the process tree; import: one process per slice, its time "
                f"inside import_paths)",
                ["store", "cases", "floor/s", "import/s", "import/floor", "seal s", "verify s", "verify cases/s",
                 "verify peak MiB", "deep s", "deep peak MiB", "import workers", "import peak MiB",
                 "import/floor CPU"], rows))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
