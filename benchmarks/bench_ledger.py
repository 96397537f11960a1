"""Reading a large Excel ledger against reading the same rows as JSON case files, in the same run.

    python -m benchmarks.bench_ledger N [N …] [--import-only | --check-only]
    (ledgers written under build/bench/ledger-N if missing)

For each N: an N-row clerk-style ledger (title row, 序号, 备注, mixed date forms, ``2,000元``) and the same
N cases as JSON files of 1,000 cases each (written from the ledger's own reading, so both hold the same
cases). Each is run through the CLI as a subprocess, with two workers: ``casecheck import`` into a new
SQLite store (read, validated and spilled by the workers, then written in chunks of 5,000) and
``casecheck check --format json`` (read, validated and judged by the workers; the report keeps the
findings, compactly, and writes its JSON as it goes). Printed: rows/s, ledger ÷ JSON (target ≤ 3×) and the
peak resident memory of the whole process tree, workers included, sampled every 50 ms (target < 1 GiB).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from benchmarks.common import ROOT, run_measured, table


def write_ledger(n: int, target: Path) -> Path:
    from openpyxl import Workbook

    sys.path.insert(0, str(ROOT / "tests"))
    from ledgers import HEADERS, clerk_row

    target.mkdir(parents=True, exist_ok=True)
    path = target / "台账.xlsx"
    if path.exists():
        return path
    book = Workbook(write_only=True)
    notes = book.create_sheet("填表说明")
    notes.append(["每行一个案件"])
    sheet = book.create_sheet("台账")
    sheet.append(["南开区学府街道行政处罚案件台账"])
    sheet.append(HEADERS)
    for i in range(1, n + 1):
        row = clerk_row(i)
        row[1] = f"津南学府罚〔2024〕{i}号"
        row[11] = f"1201041980{i:08d}"
        sheet.append(row)
    book.save(path)
    return path


def write_json(ledger: Path, target: Path) -> Path:
    from engine.ledger import read_ledger

    out = target / "json"
    if out.exists():
        return out
    out.mkdir()
    rows, problems = read_ledger(ledger)
    assert not problems, problems[:3]
    for start in range(0, len(rows), 1000):
        part = [r.raw for r in rows[start:start + 1000]]
        (out / f"part-{start // 1000:05d}.json").write_text(json.dumps({"format": "casecheck/1", "cases": part},
                                                                        ensure_ascii=False), encoding="utf-8")
    return out


def main(sizes: list[int], paths: tuple[str, ...] = ("import", "check")) -> None:
    py = sys.executable
    rows = []
    limit = 1024
    for n in sizes:
        target = ROOT / "build" / "bench" / f"ledger-{n}"
        t0 = time.perf_counter()
        ledger = write_ledger(n, target)
        data = write_json(ledger, target)
        print(f"N={n:,}: ledger {ledger.stat().st_size / 2**20:.1f} MiB, data ready in {time.perf_counter() - t0:.0f} s",
              flush=True)
        figures = {}
        for what in paths:
            for kind, path in (("json", data), ("xlsx", ledger)):
                if what == "import":
                    db = target / f"{kind}.db"
                    db.unlink(missing_ok=True)
                    cmd = [py, "-m", "engine.cli", "import", str(path), "--db", str(db), "--by", "bench",
                           "--workers", "2"]
                else:
                    cmd = [py, "-m", "engine.cli", "check", str(path), "--as-of", "2024-12-31", "--workers", "2",
                           "--format", "json"]
                secs, peak, _ = run_measured(cmd)
                figures[f"{kind} {what}"] = (secs, peak)
                print(f"  {what} {kind}: {secs:.1f} s, {n / secs:,.0f} rows/s, peak {peak:,.0f} MiB", flush=True)
                if what == "import":
                    db.unlink(missing_ok=True)
        for what in paths:
            js, xl = figures[f"json {what}"], figures[f"xlsx {what}"]
            rows.append([f"{n:,}", what, round(n / js[0]), round(n / xl[0]), round(xl[0] / js[0], 2),
                         round(js[1]), round(xl[1]), "yes" if max(js[1], xl[1]) < limit and xl[0] / js[0] <= 3 else "NO"])
    print(table("ledger (.xlsx) against the same cases as JSON files (2 workers; peak = whole process tree)",
                ["N", "command", "JSON rows/s", "xlsx rows/s", "xlsx ÷ JSON (≤ 3)", "JSON peak MiB", "xlsx peak MiB",
                 "targets met"], rows))


if __name__ == "__main__":
    chosen = tuple(a for a in ("import", "check") if f"--{a}-only" in sys.argv) or ("import", "check")
    main([int(a) for a in sys.argv[1:] if a.isdigit()] or [10_000], chosen)
