"""Alerts over a store of N cases: the indexed deadline query against a full scan of the same rows.

    python -m benchmarks.bench_alerts [N] [URL]        (default 1,000,000 cases, a SQLite file in build/)

The store is filled in bulk (one ``cases`` row and its ``deadlines`` rows per case, as an import writes
them; events are left out because the alerts query never reads them): cases started over ten years,
almost every deadline met, and the last few weeks' still open, as in a real district's store. Printed:
fill time, rows, then per query (as of the last day, ``--within 5`` and all open): the median of 5 runs of
``store_alerts`` (the CLI's whole path: query, working days left, sorting), and of the bare SQL filter with
the index and as a full scan (index disabled, same rows counted), with their ratio.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import insert, text

from engine.alerts import NEVER
from engine.calendar import default_calendar
from engine.store import Store
from engine.store.deadlines import store_alerts
from engine.store.tables import CaseRow, DeadlineRow

LAST = dt.date(2024, 12, 31)
CHUNK = 20_000


def fill(store: Store, n: int, seed: int = 6) -> int:
    rng = random.Random(seed)
    first = LAST - dt.timedelta(days=3650)
    at = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    deadlines = 0
    with store.engine.begin() as conn:
        for lo in range(0, n, CHUNK):
            cases, rows = [], []
            for i in range(lo, min(n, lo + CHUNK)):
                cases.append({"id": i + 1, "agency": f"A{i % 40:02d}", "case_id": f"B-{i}", "procedure": "ordinary",
                              "party_id": None, "matter_code": "RQ-0402", "state": "closed", "header": "{}",
                              "content_hash": "-", "head_hash": "-", "event_count": 0, "source": f"bench#{i}",
                              "updated_at": at})
                start = first + dt.timedelta(days=rng.randrange(3650))
                kinds = [("deadline.service_7", None, 7), ("publicity.penalty_decision", "supervision_platform", 7)]
                if i % 3 == 0:
                    kinds.append(("deadline.decision_90", None, 0))
                for code, platform, workdays in kinds:
                    due = start + dt.timedelta(days=90) if workdays == 0 else start + dt.timedelta(days=workdays + 4)
                    recent = (LAST - start).days < 40
                    done = None if (recent and rng.random() < 0.5) or rng.random() < 0.002 else \
                        start + dt.timedelta(days=rng.randint(0, (due - start).days + 2))
                    rows.append({"case_pk": i + 1, "code": code, "platform": platform, "start": start, "due": due,
                                 "open_until": done or NEVER, "officers": "王某、李某"})
            conn.execute(insert(CaseRow), cases)
            conn.execute(insert(DeadlineRow), rows)
            deadlines += len(rows)
    return deadlines


def timed(fn, runs: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    url = sys.argv[2] if len(sys.argv) > 2 else None
    if url is None:
        Path("build").mkdir(exist_ok=True)
        path = Path("build") / f"bench-alerts-{n}.db"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    store = Store.open(url)
    with store.reading() as s:
        have = s.execute(text("SELECT count(*) FROM cases")).scalar_one()
    t0 = time.perf_counter()
    deadlines = fill(store, n) if have == 0 else None
    fill_s = time.perf_counter() - t0
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE" if store.is_sqlite else "ANALYZE deadlines"))
    cal = default_calendar()
    print(f"store: {store.engine.dialect.name}, {n:,} cases, "
          f"{deadlines if deadlines is not None else 'existing'} deadline rows, filled in {fill_s:.1f} s")
    count = ("SELECT count(*) FROM deadlines {hint} JOIN cases ON cases.id = deadlines.case_pk "
             "WHERE open_until > :d AND due <= :b AND start <= :d")
    print(f"{'query':30} {'alerts':>7} {'store_alerts (s)':>17} {'SQL indexed (s)':>16} {'SQL full scan (s)':>18} "
          f"{'scan/indexed':>13}")
    for label, within in (("as of 2024-12-31, --within 5", 5), ("as of 2024-12-31, all open", None)):
        whole, found = timed(lambda: store_alerts(store, cal, LAST, within=within))
        bound = cal.add_workdays(LAST, within) if within is not None else NEVER

        def sql(indexed: bool):
            with store.engine.connect() as conn:
                if not indexed and not store.is_sqlite:
                    conn.execute(text("SET enable_indexscan = off"))
                    conn.execute(text("SET enable_bitmapscan = off"))
                hint = "NOT INDEXED" if not indexed and store.is_sqlite else ""
                return conn.execute(text(count.format(hint=hint)), {"d": LAST, "b": bound}).scalar_one()

        indexed, rows = timed(lambda: sql(True))
        full, rows_full = timed(lambda: sql(False), runs=3)
        assert rows == rows_full, (rows, rows_full)
        print(f"{label:30} {len(found):>7,} {whole:>17.3f} {indexed:>16.3f} {full:>18.3f} {full / indexed:>12.0f}×")


if __name__ == "__main__":
    main()
