"""The whole review against the load-and-validate floor, one worker against two, and peak memory.

    python -m benchmarks.bench_review N [N …]     (generates each N under build/bench/N if missing)

For each N (cases from ``fixtures.scale``, realistic mix, 1,000 per file):
- floor: read and validate every file (``load_file``: UTF-8, JSON, pydantic) in one process: what any
  engine must at least do;
- ``casecheck review DIR --quarter 2024Q4 --workers 1`` and ``--workers 2`` as a subprocess (the CLI's
  whole path: start-up, look-back pass, judging, scoring, report), wall time and the peak resident
  memory of the whole process tree (parent and workers, sampled every 50 ms); up to 100k cases the two
  are run three times, alternating, and the medians kept (the floor: the best of three), because this
  VM's speed drifts by tens of per cent within minutes;
Printed: cases/s, µs per case, review ÷ floor (target ≤ 3× at one worker), two workers ÷ one
(target ≥ 1.8×), peak memory (target < 1 GiB at 1M), per-case time against the smallest N, and the
marginal time per case between successive sizes (start-up left out; target: linear within ±15 %).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from benchmarks.common import ROOT, run_measured, table
from engine.loader import iter_case_files, load_file
from fixtures.scale import write_scale

QUARTER = "2024Q4"


def dataset(n: int) -> Path:
    target = ROOT / "build" / "bench" / f"scale-{n}"
    if not (target / "faults.jsonl").exists() or len(list(target.glob("part-*.json"))) != -(-n // 1000):
        write_scale(n, target)
    return target


def floor(directory: Path) -> tuple[float, int]:
    start = time.perf_counter()
    cases = 0
    for path in iter_case_files([directory]):
        loaded, problems = load_file(path)
        assert not problems, problems[:3]
        cases += len(loaded)
    return time.perf_counter() - start, cases


def measure(n: int) -> dict[str, float]:
    directory = dataset(n)
    secs, cases = floor(directory)
    assert cases == n
    out = {"n": n, "floor": secs}
    runs = 3 if n <= 100_000 else 1          # the VM's speed drifts: alternate 1w/2w runs, take medians
    walls: dict[int, list[float]] = {1: [], 2: []}
    trees: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(runs):
        for workers in (1, 2):
            cmd = [sys.executable, "-m", "engine.cli", "review", str(directory), "--quarter", QUARTER,
                   "--workers", str(workers), "-o", str(directory.parent / f"review-{n}-{workers}.txt")]
            wall, tree, _ = run_measured(cmd)
            walls[workers].append(wall)
            trees[workers].append(tree)
    if runs > 1:
        out["floor"] = min(out["floor"], floor(directory)[0], floor(directory)[0])
    for workers in (1, 2):
        out[f"w{workers}"] = statistics.median(walls[workers])
        out[f"w{workers} tree MiB"] = max(trees[workers])
    return out


def report(results: list[dict[str, float]]) -> str:
    """Per-case time includes the start-up (a second or two: interpreters, imports, the report), which
    dominates a small run; the marginal time per case between two sizes, ``(T(n) − T(m)) / (n − m)``,
    leaves it out, and linear scaling means the marginal times agree (target within ±15 %)."""
    rows = []
    base = results[0]
    marginals: list[float] = []
    for prev, r in zip([None, *results], results):
        n = int(r["n"])
        marginal = "—"
        if prev is not None:
            marginals.append(1e6 * (r["w2"] - prev["w2"]) / (n - prev["n"]))
            marginal = f"{marginals[-1]:,.0f}" + (f" ({marginals[-1] / marginals[0]:.2f}×)" if len(marginals) > 1 else "")
        rows.append((f"{n:,}", n / r["floor"], n / r["w1"], n / r["w2"], 1e6 * r["w1"] / n, 1e6 * r["w2"] / n,
                     f"{r['w1'] / r['floor']:.2f}×", f"{r['w1'] / r['w2']:.2f}×",
                     f"{max(r['w1 tree MiB'], r['w2 tree MiB']):,.0f}",
                     f"{(r['w2'] / n) / (base['w2'] / base['n']):.2f}×", marginal))
    return table("Whole review (casecheck review, realistic mix) against the load-and-validate floor",
                 ("cases", "floor cases/s", "review 1w cases/s", "review 2w cases/s", "1w µs/case", "2w µs/case",
                  "1w ÷ floor", "2w speed-up", "peak tree MiB", "2w µs/case ÷ smallest N",
                  "2w marginal µs/case since previous N"), rows)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000]
    results = [measure(n) for n in sizes]
    print(report(results))


if __name__ == "__main__":
    main()
