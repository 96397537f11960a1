"""Where an API live step's time goes beyond the live guard: one process, no sockets.

The ASGI app is driven by httpx's ASGI transport on this thread, with FastAPI's thread pool replaced by a
direct call, so cProfile sees the whole request (routing, dependencies, token lookup, validation, the
guard, the decision log, JSON) on one thread. Printed next to each other, on the same store:

- ``engine.cases.record`` called directly (the in-process guard);
- the same step through the ASGI app in process (the app's overhead without sockets);
- the top functions by own and cumulative time in the ASGI run (``--top``).

    python -m benchmarks.profile_api [--store sqlite|postgresql] [--cases 40] [--top 25]

The HTTP part (sockets, uvicorn's parser, the event loop) is the difference between this script's ASGI
figure and ``bench_api``'s one-client figure.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from benchmarks.bench_api import AS_OF, STEPS, case  # noqa: E402


def _inline_threadpool() -> None:
    """Run FastAPI's sync endpoints and dependencies on the calling thread (cProfile profiles one thread)."""
    import fastapi.dependencies.utils as deps
    import fastapi.routing as routing
    import starlette.concurrency as concurrency

    async def direct(func, *args, **kwargs):               # noqa: ANN001, ANN202
        return func(*args, **kwargs)

    for module in (routing, deps, concurrency):
        if hasattr(module, "run_in_threadpool"):
            module.run_in_threadpool = direct


def in_process(url: str, cases: int) -> dict[str, list[float]]:
    from engine.cases import StepRefused, new_case, record
    from engine.store import Store

    store = Store.open(url)
    trips = RoundTrips(store.engine)
    out: dict[str, list[float]] = {"accepted": [], "refused": [], "trips accepted": [], "trips refused": [],
                                   "cpu accepted": [], "cpu refused": []}
    day = dt.date.fromisoformat(AS_OF)
    for n in range(cases):
        cid = f"INPROC-{n}"
        new_case(store, case(cid, 500_000 + n), actor="O1")
        for event, officer, status in STEPS:
            before = trips.n
            t, cpu = time.perf_counter(), time.process_time()
            try:
                record(store, cid, dict(event), actor=officer, agency="nkcgw", as_of=day)
                kind = "accepted"
            except StepRefused:
                kind = "refused"
            out[kind].append((time.perf_counter() - t) * 1000)
            out[f"cpu {kind}"].append((time.process_time() - cpu) * 1000)
            out[f"trips {kind}"].append(trips.n - before)
    store.close()
    return out


class RoundTrips:
    """Statements, transaction ends and pool checkouts (each a ping) on an engine: a step's round trips."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.n = 0
        for name in ("before_cursor_execute", "commit", "rollback", "begin"):
            event.listen(engine, name, self._count)
        event.listen(engine.pool, "checkout", self._count)

    def _count(self, *args, **kwargs) -> None:
        self.n += 1


async def asgi_steps(app, token: str, cases: int, prefix: str, profile: cProfile.Profile | None,
                     trips: RoundTrips | None = None) -> dict:
    out: dict[str, list[float]] = {"accepted": [], "refused": [], "trips accepted": [], "trips refused": [],
                                   "cpu accepted": [], "cpu refused": []}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://asgi/api/v1",
                                 headers={"Authorization": f"Bearer {token}"}) as c:
        for n in range(cases):
            cid = f"{prefix}-{n}"
            r = await c.post("/cases", json=case(cid, 700_000 + n + (50_000 if profile else 0)),
                             headers={"X-Casecheck-Officer": "O1"})
            assert r.status_code == 201, r.text
            for event, officer, status in STEPS:
                if profile:
                    profile.enable()
                before = trips.n if trips else 0
                t, cpu = time.perf_counter(), time.process_time()
                r = await c.post(f"/cases/{cid}/events", json={"event": event, "officer": officer, "as_of": AS_OF})
                ms = (time.perf_counter() - t) * 1000
                cpu_ms = (time.process_time() - cpu) * 1000
                if profile:
                    profile.disable()
                assert r.status_code == status, r.text
                kind = "accepted" if status == 201 else "refused"
                out[kind].append(ms)
                out[f"cpu {kind}"].append(cpu_ms)
                if trips:
                    out[f"trips {kind}"].append(trips.n - before)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--cases", type=int, default=40)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    from engine.api import create_api_app
    from engine.api_clients import create_client
    from engine.store import Store

    tmp = tempfile.TemporaryDirectory(prefix="profile-api-")
    if args.store == "sqlite":
        url = f"sqlite:///{tmp.name}/store.db"
    else:
        import pg

        url = pg.create_database()
    try:
        store = Store.open(url)
        _, token = create_client(store, "profile", ["nkcgw"], write=True, expires=None, by="profile")
        store.close()
        _inline_threadpool()
        app = create_api_app(url)
        asyncio.run(asgi_steps(app, token, 5, "WARM", None))            # imports, caches, pool
        inproc = in_process(url, args.cases)
        plain = asyncio.run(asgi_steps(app, token, args.cases, "ASGI", None,
                                       RoundTrips(app.state.casecheck_api.store.engine)))
        profile = cProfile.Profile(time.process_time)       # CPU time: waits for the store do not count
        asyncio.run(asgi_steps(app, token, args.cases, "PROF", profile))
        app.state.casecheck_api.store.close()
    finally:
        if args.store != "sqlite":
            pg.drop_database(url)
        tmp.cleanup()
    print(f"store {args.store}, {args.cases} cases × 4 steps (two 201, two 409), medians (p95) in ms:")
    for kind in ("accepted", "refused"):
        a, b = inproc[kind], plain[kind]
        q = lambda v: statistics.quantiles(v, n=20)[18]  # noqa: E731
        print(f"  {kind:8}: in-process guard {statistics.median(a):6.2f} ({q(a):6.2f})   ASGI app in process "
              f"{statistics.median(b):6.2f} ({q(b):6.2f})   overhead {statistics.median(b) - statistics.median(a):5.2f}")
        ca, cb = inproc[f"cpu {kind}"], plain[f"cpu {kind}"]
        print(f"  {'':8}  CPU of this process: guard {statistics.median(ca):6.2f}, ASGI {statistics.median(cb):6.2f} "
              f"(+{statistics.median(cb) - statistics.median(ca):.2f}); store round trips (statements, "
              f"BEGIN/COMMIT/ROLLBACK, checkouts): guard {statistics.median(inproc[f'trips {kind}']):.0f}, "
              f"ASGI {statistics.median(plain[f'trips {kind}']):.0f}")
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profile, stream=text).strip_dirs().sort_stats(order).print_stats(args.top)
        print(f"--- by {order} (profiled run) ---")
        print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:6000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
