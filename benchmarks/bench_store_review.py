"""The review over a store of N cases, SQLite and PostgreSQL: whole, and as two partitions.

    python -m benchmarks.bench_store_review N [POSTGRES_URL]

The store is filled in bulk from ``fixtures.scale`` files (realistic mix): every case validated,
dumped and hash-chained exactly as an import writes it (``cases`` and ``events`` rows, so ``verify``
passes), but inserted in batches of 5,000 without the per-case change log and officer/party side
rows, which the review never reads. Then, as subprocesses of the real CLI:
``casecheck review --db URL --quarter 2024Q4 --workers 2`` and the same as ``--partition 1/2`` and
``2/2`` run one after the other (what two machines would each do). Printed: fill time, review time,
cases/s, the peak memory of the process tree, and the partitions' sum against the whole.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

from sqlalchemy import insert, text

from benchmarks.bench_review import QUARTER, dataset
from benchmarks.common import ROOT, run_measured, table
from engine.loader import iter_case_files, load_file
from engine.store import Store
from engine.store.chain import GENESIS, canonical, event_hash
from engine.store.repo import _content_hash, _state, _ts, case_key, dump_case
from engine.store.tables import CaseRow, EventRow
from engine.workflow import default_workflows

BATCH = 5_000


def fill(store: Store, directory: Path) -> int:
    workflows = default_workflows()
    at = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    stamp = _ts(at)
    pk = 0
    cases: list[dict] = []
    events: list[dict] = []

    def flush(conn) -> None:
        if cases:
            conn.execute(insert(CaseRow), cases)
            conn.execute(insert(EventRow), events)
            cases.clear()
            events.clear()

    with store.engine.begin() as conn:
        for path in iter_case_files([directory]):
            loaded, problems = load_file(path)
            assert not problems, problems[:3]
            for item in loaded:
                case = item.case
                pk += 1
                header, payloads = dump_case(case)
                head = GENESIS
                for seq, payload in enumerate(payloads, 1):
                    body = canonical(payload)
                    h = event_hash(head, case_key(case.agency.code, case.case_id), seq, body, "bench", stamp)
                    events.append({"case_pk": pk, "seq": seq, "type": payload["type"],
                                   "date": dt.date.fromisoformat(payload["date"]), "payload": body,
                                   "recorded_by": "bench", "recorded_at": at, "prev_hash": head, "hash": h})
                    head = h
                cases.append({"id": pk, "agency": case.agency.code, "case_id": case.case_id,
                              "procedure": case.procedure, "party_id": case.party.id if case.party else None,
                              "matter_code": case.matter.code if case.matter else None,
                              "state": _state(case, workflows), "header": canonical(header),
                              "content_hash": _content_hash(header, payloads), "head_hash": head,
                              "event_count": len(payloads), "source": str(path), "updated_at": at})
                if len(cases) >= BATCH:
                    flush(conn)
        flush(conn)
        if not store.is_sqlite:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"))
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return pk


def review(url: str, n: int, label: str, extra: list[str]) -> tuple[float, float]:
    out = ROOT / "build" / "bench" / f"store-review-{label}.txt"
    cmd = [sys.executable, "-m", "engine.cli", "review", "--db", url, "--quarter", QUARTER, "--workers", "2",
           "-o", str(out)] + extra
    wall, tree, _ = run_measured(cmd)
    return wall, tree


def measure(n: int, url: str, label: str) -> list[tuple]:
    store = Store.open(url)
    with store.reading() as s:
        have = s.execute(text("SELECT count(*) FROM cases")).scalar_one()
    start = time.perf_counter()
    filled = fill(store, dataset(n)) if have == 0 else have
    fill_s = time.perf_counter() - start if have == 0 else float("nan")
    store.engine.dispose()
    assert filled == n, (filled, n)
    whole, tree = review(url, n, f"{label}-whole", [])
    p1, tree1 = review(url, n, f"{label}-p1", ["--partition", "1/2"])
    p2, tree2 = review(url, n, f"{label}-p2", ["--partition", "2/2"])
    return [(label, f"{n:,}", fill_s, "whole, 2 workers", whole, n / whole, f"{tree:,.0f}"),
            (label, f"{n:,}", "", "--partition 1/2", p1, n / 2 / p1, f"{tree1:,.0f}"),
            (label, f"{n:,}", "", "--partition 2/2", p2, n / 2 / p2, f"{tree2:,.0f}"),
            (label, f"{n:,}", "", "the two partitions on two machines", max(p1, p2), n / max(p1, p2), "")]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    path = ROOT / "build" / "bench" / f"store-{n}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    rows = measure(n, f"sqlite:///{path}", "SQLite")
    if len(sys.argv) > 2:
        rows += measure(n, sys.argv[2], "PostgreSQL")
    print(table(f"Review of a store of {n:,} cases ({QUARTER}; all cases judged, the quarter's scored)",
                ("store", "cases", "fill s", "run", "seconds", "cases/s", "peak tree MiB"), rows))


if __name__ == "__main__":
    main()
