"""The web workspace under load, on PostgreSQL: a store of N scale cases (``fixtures.scale``, bulk import),
one ``casecheck serve`` process on 127.0.0.1, and timed requests through HTTP as a browser sends them:

- the floor: a static file and the login page (no store query), measured in the same run;
- the case list: first page, filtered (procedure + state, officer, agency, date range), and a deep keyset page;
- the case page (header, events, live findings, workflow, history) of random cases;
- the dashboard of an officer and of a district supervisor;
- recording a step through the web form (a legal review that lands: CSRF, session, scope, live guard, append)
  next to the in-process guard, then with 20 concurrent sessions, each on its own cases: an open loop (1
  step/s each) and a closed one (back to back); the store is checked against the answers
  (``benchmarks/bench_web_record.py`` runs the same on a small store, SQLite and PostgreSQL, 2 workers).

Targets (issue 21): list, case page, dashboard p95 < 300 ms; the form p95 < 50 ms with 20 sessions.
Prints figures and ratios to the floor; asserts nothing about speed. Bounded: every loop has a count.

Run: .venv/bin/python -m benchmarks.bench_web [N=100000] [POSTGRES_URL]   (default: a fresh local database)
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT

sys.path.insert(0, str(ROOT / "tests"))

PASSWORD = "bench-password"
SESSIONS = 20
STEPS_PER_SESSION = 10


def _p(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _fmt(label: str, times: list[float], floor: float | None = None) -> str:
    med, p95 = statistics.median(times), _p(times, 0.95)
    ratio = f" · p95 {p95 / floor:5.1f}× the floor" if floor else ""
    return f"  {label:<44} n={len(times):<4} median {med:7.1f} ms  p95 {p95:7.1f} ms{ratio}"


def build_store(url: str, n: int, tmp: Path) -> None:
    from engine.cases import import_paths
    from engine.store import Store
    from engine.users import add_user
    from engine.web.demo import investigated, open_case
    from fixtures.scale import write_scale

    start = time.perf_counter()
    write_scale(n, tmp / "scale", per_file=1000)
    store = Store.open(url)
    report = import_paths(store, [tmp / "scale"], actor="bench")
    assert not report.problems, report.problems[:3]
    print(f"store: {report.new:,} cases imported in {time.perf_counter() - start:.0f} s (generate + import)")
    today = min(dt.date.today(), dt.date(2026, 12, 20))
    live = [open_case(100_000 + i, today, investigated(100), party_id=f"BENCH{i:06d}")
            for i in range(SESSIONS * STEPS_PER_SESSION * 2 + STEPS_PER_SESSION * 2)]
    (tmp / "live.json").write_text(json.dumps({"format": "casecheck/1", "cases": live}, ensure_ascii=False))
    assert not import_paths(store, [tmp / "live.json"], actor="bench").problems
    add_user(store, "officer", "承办人", PASSWORD, roles=["officer"], agencies=["xuefu", "nkcgw"], officer_id="O1")
    add_user(store, "reviewer", "法制审核员", PASSWORD, roles=["legal_reviewer"], agencies=["xuefu"], officer_id="R1")
    add_user(store, "supervisor", "监督员", PASSWORD, roles=["supervisor"], district="nankai")
    with store.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("ANALYZE"))
    store.close()


def login(httpx, base: str, user: str):
    from webkit import csrf_of

    c = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    page = c.get("/login")
    r = c.post("/login", data={"login": user, "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"})
    assert r.status_code == 303, r.status_code
    return c


def timed(c, path: str, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        r = c.get(path)
        out.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    return out


def main() -> None:
    import httpx

    from webkit import Server, csrf_of

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    own_db = len(sys.argv) <= 2
    if own_db:
        import pg

        url = pg.create_database()
    else:
        url = sys.argv[2]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            build_store(url, n, Path(tmp))
            server = Server(url, Path(tmp) / "serve.log")
            try:
                run(httpx, server.base, url, n, csrf_of)
            finally:
                server.stop()
    finally:
        if own_db:
            pg.drop_database(url)


def run(httpx, base: str, url: str, n: int, csrf_of) -> None:
    from sqlalchemy import func, select

    from engine.store import Store
    from engine.store.tables import CaseRow

    store = Store.open(url, migrate=False)
    with store.reading() as session:
        low, high = session.exec(select(func.min(CaseRow.id), func.max(CaseRow.id))).one()
        live = [pk for (pk,) in session.exec(select(CaseRow.id).where(CaseRow.case_id.startswith("津南学罚"),
                                                                      CaseRow.event_count == 6)
                                             .order_by(CaseRow.id))]
    store.close()
    officer = login(httpx, base, "officer")
    supervisor = login(httpx, base, "supervisor")
    print(f"web workspace over {n:,} stored cases (PostgreSQL, one serve process, 127.0.0.1)")
    for _ in range(5):                                   # warm: rule book, templates, pools
        officer.get("/")
        officer.get(f"/cases/{random.randint(low, high)}")
    floor = statistics.median(timed(officer, "/static/app.css", 100))
    login_page = timed(officer, "/login", 50)
    print(_fmt("floor: static file", timed(officer, "/static/app.css", 100)))
    print(_fmt("floor: login page (template, no query)", login_page, floor))
    deep = low + (high - low) // 10
    lists = {
        "case list, first page": "/cases",
        "case list, procedure + state": "/cases?procedure=ordinary&state=closed",
        "case list, officer O2": "/cases?officer=O2",
        "case list, agency nkcgw": "/cases?agency=nkcgw",
        "case list, step dated 2024-03": "/cases?date_from=2024-03-01&date_to=2024-03-31",
        "case list, keyset page near the end": f"/cases?after={deep}",
    }
    for label, path in lists.items():
        print(_fmt(label, timed(officer, path, 30), floor))
    pages = []
    for _ in range(50):
        pk = random.randint(low, high)
        start = time.perf_counter()
        r = officer.get(f"/cases/{pk}")
        pages.append((time.perf_counter() - start) * 1000)
        assert r.status_code in (200, 404)
    print(_fmt("case page (random cases)", pages, floor))
    print(_fmt("dashboard, officer", timed(officer, "/", 30), floor))
    print(_fmt("dashboard, district supervisor", timed(supervisor, "/", 30), floor))

    # recording a step through the form: a legal review that lands on a case of its own each time
    # (benchmarks/bench_web_record.py: the same loads on a small store, with 2 workers and the guard beside)
    from benchmarks.bench_web_record import closed_loop, consistency, fmt, in_process, open_loop
    from benchmarks.bench_web_record import login as reviewer_login
    from benchmarks.bench_web_record import submit

    day = min(dt.date.today(), dt.date(2026, 12, 20)).isoformat()
    pool = iter(live)
    guard = in_process(url, [next(pool) for _ in range(STEPS_PER_SESSION * 2)], day)
    print(fmt("in-process guard (engine.cases.record)", guard))
    sessions = [reviewer_login(base) for _ in range(SESSIONS)]
    alone, codes = [], {}
    for _ in range(STEPS_PER_SESSION * 2):
        pk = next(pool)
        start = time.perf_counter()
        codes[pk] = submit(*sessions[0], pk, day)
        alone.append((time.perf_counter() - start) * 1000)
    print(fmt("record a step via the form, one session", alone))
    budget = [next(pool) for _ in range(SESSIONS * STEPS_PER_SESSION)]
    opened, wall, late = open_loop(sessions, iter(budget), STEPS_PER_SESSION, 1.0, day)
    print(fmt(f"record via the form, open loop, {SESSIONS} sessions × 1 step/s", opened.times,
              f" · {len(opened.times) / wall:.0f} steps/s · {late} started >100 ms late"))
    closed, wall = closed_loop(sessions, pool, 10, day)
    print(fmt(f"record via the form, {SESSIONS} sessions back to back (saturated)", closed.times,
              f" · {len(closed.times) / wall:.0f} steps/s"))
    problems = consistency(url, {**codes, **opened.codes, **closed.codes})
    print("  consistency: " + ("every 303 one stored review, nothing else stored, none doubled, chain intact"
                               if not problems else "; ".join(problems)))
    for c in [c for c, _ in sessions] + [officer, supervisor]:
        c.close()


if __name__ == "__main__":
    main()
