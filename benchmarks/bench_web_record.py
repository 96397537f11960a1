"""Recording a step through the web form under load (issue 21's "p95 under 50 ms with 20 sessions"),
on SQLite and on the local PostgreSQL 15, next to the in-process live guard measured in the same run.

A small store (``--cases`` open cases of 学府街道, each of its own party, a legal review due next), a
``casecheck serve`` with ``--workers`` processes on 127.0.0.1 (a free port; nothing else is contacted),
20 logged-in legal reviewers (``--sessions``), each submitting the 法制审核 form of a case of its own
(CSRF, session, scope, the live guard, append, 303):

1. in-process: ``engine.cases.record`` of the same step on cases of the same store, one at a time;
2. one session, one step at a time (the HTTP and web overhead over 1);
3. closed loop: every session submits its next step as soon as the last one is answered (no think
   time), for ``--seconds``: this measures saturation — with N sessions always waiting, latency ≈ N ÷
   throughput (Little's law), whatever the target;
4. open loop: every session submits at a fixed rate (``--rate`` steps/s per session, evenly spaced and
   staggered), for ``--seconds``; latency counted from the moment a step was due, so a server falling
   behind shows as latency (no coordinated omission);
5. consistency: every 303 the sessions saw is one stored legal review on its case, every other answer
   stored nothing, no case has two, and the audit chain verifies.

    python -m benchmarks.bench_web_record [--store sqlite|postgresql|both] [--seconds 30] [--sessions 20]
                                          [--rate 1.0] [--workers 2] [--cases 3500]

The functions ``closed_loop``, ``open_loop`` and ``consistency`` are also used by ``bench_web``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from benchmarks.common import Serve  # noqa: E402

PASSWORD = "bench-password"
MAX_SECONDS = 30


def pct(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        v = values[0] if values else float("nan")
        return v, v, v
    q = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), q[94], q[98]


def fmt(label: str, values: list[float], extra: str = "") -> str:
    p50, p95, p99 = pct(values)
    return f"  {label:<52} n={len(values):<5} p50 {p50:7.1f}  p95 {p95:7.1f}  p99 {p99:7.1f} ms{extra}"


# ---------------------------------------------------------------------------------------------- store
def build_store(url: str, cases: int, tmp: Path) -> None:
    from engine.cases import import_paths
    from engine.store import Store
    from engine.users import add_user
    from engine.web.demo import investigated, open_case

    today = min(dt.date.today(), dt.date(2026, 12, 20))
    live = [open_case(200_000 + i, today, investigated(100), party_id=f"WEBREC{i:07d}") for i in range(cases)]
    (tmp / "live.json").write_text(json.dumps({"format": "casecheck/1", "cases": live}, ensure_ascii=False))
    store = Store.open(url)
    report = import_paths(store, [tmp / "live.json"], actor="bench")
    assert not report.problems and report.new == cases, report.problems[:3]
    add_user(store, "reviewer", "法制审核员", PASSWORD, roles=["legal_reviewer"], agencies=["xuefu"], officer_id="R1")
    store.close()


def open_pks(url: str) -> list[int]:
    from sqlmodel import select

    from engine.store import Store
    from engine.store.tables import CaseRow

    store = Store.open(url, migrate=False)
    with store.reading() as s:
        pks = list(s.exec(select(CaseRow.id).where(CaseRow.case_id.startswith("津南学罚"), CaseRow.event_count == 6)
                          .order_by(CaseRow.id)))
    store.close()
    return pks


def in_process(url: str, pks: list[int], day: str) -> list[float]:
    from engine.cases import record
    from engine.store import Store
    from engine.store.tables import CaseRow

    store = Store.open(url, migrate=False)
    out = []
    for pk in pks:
        with store.reading() as s:
            row = s.get(CaseRow, pk)
        t = time.perf_counter()
        record(store, row.case_id, _review(day), actor="R1", agency=row.agency, expect=6, proof="authenticated")
        out.append((time.perf_counter() - t) * 1000)
    store.close()
    return out


def _review(day: str) -> dict[str, Any]:
    return {"type": "legal_review", "date": day, "reviewer": "R1", "result": "approved", "documents": ["法制审核意见书"]}


# ---------------------------------------------------------------------------------------------- load
def login(base: str, user: str = "reviewer") -> tuple[Any, str]:
    import httpx

    from webkit import csrf_of

    c = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    page = c.get("/login")
    r = c.post("/login", data={"login": user, "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"})
    assert r.status_code == 303, r.status_code
    return c, csrf_of(c.get("/feed").text)


def submit(client: Any, csrf: str, pk: int, day: str) -> int:
    r = client.post(f"/cases/{pk}/record", data={"csrf": csrf, "type": "legal_review", "expect": "6", "date": day,
                                                 "reviewer": "R1", "result": "approved", "documents": "法制审核意见书"})
    return r.status_code


class Outcomes:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: list[float] = []
        self.codes: dict[int, int] = {}          # case pk → status code

    def add(self, pk: int, took: float, code: int) -> None:
        with self.lock:
            self.times.append(took)
            self.codes[pk] = code


def closed_loop(sessions: list[tuple[Any, str]], pks: Iterator[int], seconds: float, day: str) -> tuple[Outcomes, float]:
    """Every session submits its next step as soon as its last one is answered, for ``seconds``."""
    out, take = Outcomes(), threading.Lock()
    end = time.monotonic() + min(seconds, MAX_SECONDS)
    barrier = threading.Barrier(len(sessions), timeout=60)

    def run(k: int) -> None:
        client, csrf = sessions[k]
        barrier.wait()
        while time.monotonic() < end:
            with take:
                pk = next(pks, None)
            if pk is None:
                return
            t = time.perf_counter()
            code = submit(client, csrf, pk, day)
            out.add(pk, (time.perf_counter() - t) * 1000, code)

    return out, _threads(run, len(sessions))


def open_loop(sessions: list[tuple[Any, str]], pks: Iterator[int], seconds: float, rate: float,
              day: str) -> tuple[Outcomes, float, int]:
    """Every session submits at ``rate`` steps/s (evenly spaced, sessions staggered), for ``seconds``;
    latency from the moment each step was due. Returns the outcomes, the wall time and how many steps
    were started later than 100 ms after they were due (the server fell behind)."""
    out, take = Outcomes(), threading.Lock()
    late = [0]
    n = len(sessions)
    interval = 1.0 / rate
    start = time.monotonic() + 0.5
    steps = int(min(seconds, MAX_SECONDS) * rate)

    def run(k: int) -> None:
        client, csrf = sessions[k]
        for i in range(steps):
            due = start + (k / n) * interval + i * interval
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif -wait > 0.1:
                with take:
                    late[0] += 1
            with take:
                pk = next(pks, None)
            if pk is None:
                return
            code = submit(client, csrf, pk, day)
            out.add(pk, (time.monotonic() - due) * 1000, code)

    return out, _threads(run, n), late[0]


def _threads(run: Callable[[int], None], n: int) -> float:
    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=MAX_SECONDS + 120)
    assert not any(t.is_alive() for t in threads), "a session did not finish"
    return time.perf_counter() - started


def consistency(url: str, codes: dict[int, int]) -> list[str]:
    """Every 303 is one stored legal review on its case; anything else stored nothing; the chain verifies."""
    from sqlmodel import select

    from engine.store import Store
    from engine.store.repo import verify
    from engine.store.tables import EventRow

    store = Store.open(url, migrate=False)
    with store.reading() as s:
        reviews: dict[int, int] = {}
        for pk in s.exec(select(EventRow.case_pk).where(EventRow.type == "legal_review",
                                                            EventRow.case_pk.in_(list(codes)))):
            reviews[pk] = reviews.get(pk, 0) + 1
        broken = verify(s)
    store.close()
    problems = []
    doubled = [pk for pk, k in reviews.items() if k > 1]
    lost = [pk for pk, code in codes.items() if code == 303 and reviews.get(pk) != 1]
    extra = [pk for pk, code in codes.items() if code != 303 and reviews.get(pk)]
    if doubled:
        problems.append(f"{len(doubled)} cases with two reviews")
    if lost:
        problems.append(f"{len(lost)} steps answered 303 but not stored")
    if extra:
        problems.append(f"{len(extra)} steps not answered 303 but stored")
    if broken:
        problems.append(f"audit chain broken in {len(broken)} cases")
    other = sorted({c for c in codes.values() if c != 303})
    if other:
        problems.append(f"answers other than 303: {other}")
    return problems


# ---------------------------------------------------------------------------------------------- run
def run_store(kind: str, args: argparse.Namespace) -> list[str]:
    tmp = tempfile.TemporaryDirectory(prefix="bench-web-record-")
    if kind == "sqlite":
        url = f"sqlite:///{tmp.name}/store.db"
    else:
        import pg

        url = pg.create_database()
    lines, problems = [], []
    try:
        t = time.perf_counter()
        build_store(url, args.cases, Path(tmp.name))
        pks = iter(open_pks(url))
        reserved = iter([next(pks) for _ in range(int(args.sessions * args.rate * args.seconds) + args.sessions)])
        day = min(dt.date.today(), dt.date(2026, 12, 20)).isoformat()
        print(f"{kind}: {args.cases} open cases stored in {time.perf_counter() - t:.0f} s")
        guard = in_process(url, [next(pks) for _ in range(40)], day)
        server = Serve(url, Path(tmp.name) / "serve.log", args.workers)
        try:
            sessions = [login(server.base) for _ in range(args.sessions)]
            one = []
            for _ in range(40):
                pk = next(pks)
                t = time.perf_counter()
                code = submit(sessions[0][0], sessions[0][1], pk, day)
                one.append((time.perf_counter() - t) * 1000)
                assert code == 303, code
            cpu0, own0 = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_SELF)
            closed, wall = closed_loop(sessions, pks, args.seconds, day)
            cpu1, own1 = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_SELF)
            opened, wall_open, late = open_loop(sessions, reserved, args.seconds, args.rate, day)
            for c, _ in sessions:
                c.close()
        finally:
            server.stop()
        problems = consistency(url, {**closed.codes, **opened.codes})
        n = len(closed.times)
        thr = n / wall
        server_ms = (cpu1 - cpu0) / n * 1000 if n else float("nan")
        client_ms = ((own1.ru_utime + own1.ru_stime) - (own0.ru_utime + own0.ru_stime)) / n * 1000 if n else float("nan")
        g50, g95 = pct(guard)[0], pct(guard)[1]
        o50 = pct(one)[0]
        lines += [
            f"{kind}: web form, {args.workers} server workers, {args.sessions} sessions, 127.0.0.1; "
            f"{os.cpu_count()} cores shared with other work (load average {os.getloadavg()[0]:.1f})",
            fmt("in-process guard (engine.cases.record), one at a time", guard),
            fmt("web form, one session, one at a time", one, f" · {o50 / g50:.1f}× the guard, +{o50 - g50:.1f} ms"),
            fmt(f"closed loop, {args.sessions} sessions, no think time", closed.times,
                f" · {thr:.1f} steps/s · {pct(closed.times)[1] / g95:.1f}× the guard's p95"),
            f"    Little's law: {args.sessions} sessions ÷ {thr:.1f} steps/s = {args.sessions / thr * 1000:.0f} ms mean "
            f"(measured mean {statistics.mean(closed.times):.0f} ms); server CPU {server_ms:.1f} ms/step, load "
            f"generator CPU {client_ms:.1f} ms/step: two cores give at most "
            f"{2000 / (server_ms + client_ms):.0f} steps/s to this run alone",
            fmt(f"open loop, {args.sessions} × {args.rate:g} steps/s = {args.sessions * args.rate:g}/s offered",
                opened.times, f" · {len(opened.times) / wall_open:.1f} steps/s done · {late} started >100 ms late"),
            "  consistency: " + ("every 303 one stored review, nothing else stored, none doubled, chain intact"
                                 if not problems else "; ".join(problems)),
        ]
    finally:
        if kind != "sqlite":
            import pg

            pg.drop_database(url)
        tmp.cleanup()
    print("\n".join(lines))
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--rate", type=float, default=1.0, help="open loop: steps per second per session")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cases", type=int, default=3500)
    args = ap.parse_args()
    args.seconds = min(args.seconds, MAX_SECONDS)
    need = 80 + int(args.seconds * args.sessions * args.rate) + args.sessions + 200
    if args.cases < need:
        print(f"note: {args.cases} cases may run out (the open loop alone needs {need}); the closed loop stops "
              f"when they do", file=sys.stderr)
    failed = False
    for kind in (["sqlite", "postgresql"] if args.store == "both" else [args.store]):
        failed |= bool(run_store(kind, args))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
