""""My cases" by certificate number on PostgreSQL: the stored key (revision 0013, ``officers.certificate_key``
compared by equality, indexed with the case) against the expression it replaced (``upper(replace(certificate,
' ', ''))``, no index), in the same run on the same store.

The store holds synthetic rows only (cases and their three officers; no events: the queries read neither):
``--cases`` cases of one agency, officers drawn from ``--people`` certificates, so a person is an officer of
about 3·cases/people of them. Measured: the case list's "mine" page 1, its page 100 (an OFFSET walk) and its
capped count (``caselist.page_rows`` / ``capped_count``, what ``/cases?mine=1`` runs), for a person with many
cases and a person with few. Bounded: ``--reps`` runs per query; its own database, dropped at the end.

Run:  .venv/bin/python -m benchmarks.bench_mine [--cases 200000] [--people 400] [--reps 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _fill(url: str, cases: int, people: int) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cases (agency, case_id, procedure, state, header, content_hash, head_hash, event_count, "
            "source, updated_at) SELECT 'xuefu', 'B-' || g, 'ordinary', 'closed', '{}', '', '', 0, 'bench', now() "
            "FROM generate_series(1, :n) g"), {"n": cases})
        # three officers a case; certificates 津执00000…, with a space in every seventh (the old expression's case)
        conn.execute(text(
            "INSERT INTO officers (case_pk, officer_id, name, certificate, legal_qualification, certificate_key) "
            "SELECT c.id, 'O' || k, '某' || k, "
            "       '津执' || CASE WHEN (c.id + k) % 7 = 0 THEN ' ' ELSE '' END || lpad(p::text, 5, '0'), false, "
            "       '津执' || lpad(p::text, 5, '0') "
            "FROM cases c, generate_series(1, 3) k, "
            "     LATERAL (SELECT ((c.id * 7919 + k * 104729) % :people) AS p) q"), {"people": people})
        conn.execute(text("ANALYZE"))
    engine.dispose()


def _timed(fn, reps: int) -> tuple[float, float]:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()

    import pg
    from sqlalchemy import exists, func

    from engine.store import Store
    from engine.store.tables import OfficerRow
    from engine.web import caselist
    from engine.web.caselist import Cursor, capped_count, fast_reads, page_rows
    from engine.web.service import CaseFilter
    from benchmarks.common import table

    url = pg.create_database()
    try:
        store = Store.open(url)
        started = time.perf_counter()
        _fill(url, args.cases, args.people)
        print(f"store: {args.cases:,} cases, {3 * args.cases:,} officers, {args.people} certificates "
              f"({time.perf_counter() - started:.1f} s to fill); PostgreSQL; machine shared")
        user = SimpleNamespace(agencies=frozenset({"xuefu"}), district=None, roles=frozenset({"officer"}),
                               has=lambda *r: False)
        new = caselist.officer_is

        def old(person, case_pk):           # the expression before revision 0013
            from engine.persons import certificate_key

            return exists().where(OfficerRow.case_pk == case_pk,
                                  func.upper(func.replace(OfficerRow.certificate, " ", "")) == certificate_key(person[2]))

        rows = []
        for who, cert in (("many cases", "津执00001"), ("no case (a certificate on none)", "津执99999")):
            flt = CaseFilter(person=("", "某", cert))
            for label, work in (("page 1", lambda s: page_rows(s, user, flt, Cursor(), 20)),
                                ("page 100", lambda s: page_rows(s, user, flt, Cursor(page=100, number=100), 20)),
                                ("count", lambda s: capped_count(s, user, flt))):
                figures = {}
                for name, predicate in (("expression (before)", old), ("stored key (0013)", new)):
                    caselist.officer_is = predicate

                    def run() -> None:
                        with store.reading() as s:
                            fast_reads(s)
                            work(s)
                    run()                                   # warm
                    figures[name] = _timed(run, args.reps)
                caselist.officer_is = new
                (b50, b95), (n50, n95) = figures["expression (before)"], figures["stored key (0013)"]
                rows.append((f"{who} · {label}", f"{b50:.1f}", f"{b95:.1f}", f"{n50:.1f}", f"{n95:.1f}",
                             f"{n50 / b50:.2f}"))
        print(table("my cases: ms (p50, p95), ratio new/old at p50",
                    ["query", "before p50", "before p95", "0013 p50", "0013 p95", "ratio"], rows))
        store.close()
    finally:
        pg.drop_database(url)


if __name__ == "__main__":
    main()
