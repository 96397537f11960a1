"""The HTTP API under a bounded load, next to the in-process live guard measured in the same run.

For each store (SQLite, and the local PostgreSQL 15): a uvicorn server with 2 workers on 127.0.0.1 (a
free port, nothing else is contacted), then

1. in-process baseline: ``engine.cases.record`` called directly, one step at a time, on fresh cases
   (the same four steps as below), and ``services.check_documents`` on one case;
2. HTTP, one client, the same steps and checks one at a time: the HTTP overhead over (1) at p50;
3. load: 20 clients recording steps for ``--seconds`` (each case: a decision without legal review →
   409, the review → 201, a payment out of order → 409, the decision → 201: half refused) and 20
   clients posting ``/check`` of one case, all at once (httpx, async), each sending its next request
   when the last one is answered (closed loop: saturation, latency ≈ clients ÷ throughput); then the
   same clients in an open loop: each sends ``--rate`` requests per second, evenly spaced (latency
   counted from when a request was due, so a server falling behind shows);
4. with ``--sweep 2,3,4``: more open loops, at those rates per client, ``--sweep-seconds`` each: the
   highest load at which the step p95 stays under 25 ms (every lower rate under it too, no request
   started late), the capacity a district can count on;
5. consistency: every 201 the clients saw is one stored event and one ``accepted`` decision-log record
   with that event's number; no event without its record, none doubled; the audit chain verifies.

    python -m benchmarks.bench_api [--seconds 30] [--clients 20] [--store sqlite|postgresql|both] [--rate 1]
                                   [--sweep 2,3,4 --sweep-seconds 15]

Targets (issue 22): live step p95 < 25 ms on PostgreSQL under the load; HTTP overhead < 5 ms at p50.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from urllib.parse import quote

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from apiserver import ApiServer  # noqa: E402

from benchmarks.common import table  # noqa: E402

AS_OF = "2024-12-31"
CASE = {"format": "casecheck/1", "case_id": "", "agency": {"code": "nkcgw", "name": "南开区城市管理委员会"},
        "procedure": "ordinary", "matter": {"code": "SR-0101", "name": "超出门窗外墙经营"},
        "party": {"kind": "person", "name": "刘某", "id": "120104198001010001"},
        "violation": {"occurred_on": "2024-03-01"},
        "officers": [{"id": "O1", "name": "王某", "certificate": "津执1", "certificate_valid_until": "2026-06-30"},
                     {"id": "O2", "name": "赵某", "certificate": "津执2", "certificate_valid_until": "2026-06-30"},
                     {"id": "R1", "name": "孙某", "certificate": "津执3", "certificate_valid_until": "2026-06-30",
                      "legal_qualification": True}],
        "events": [{"type": "discovered", "date": "2024-03-01"},
                   {"type": "registered", "date": "2024-03-04", "officers": ["O1", "O2"], "documents": ["立案审批表"]},
                   {"type": "inspected", "date": "2024-03-04", "officers": ["O1", "O2"], "certificates_shown": True,
                    "recording": "AV-1", "documents": ["现场检查笔录"]},
                   {"type": "notified", "date": "2024-03-08", "officers": ["O1", "O2"],
                    "proposed": {"kind": "fine", "amount": "2000"}, "documents": ["行政处罚事先告知书"]},
                   {"type": "rights_waived", "date": "2024-03-11"}]}
DECISION = {"type": "decided", "date": "2024-03-13", "officers": ["O1", "O2"], "outcome": "penalty",
            "penalty": {"kind": "fine", "amount": "2000"}, "document": "津南城管罚决〔2024〕1号"}
REVIEW = {"type": "legal_review", "date": "2024-03-12", "reviewer": "R1", "result": "approved",
          "documents": ["法制审核意见书"]}
PAID = {"type": "paid", "date": "2024-03-20", "amount": "2000"}
STEPS = [(DECISION, "O1", 409), (REVIEW, "R1", 201), (PAID, "O1", 409), (DECISION, "O1", 201)]
CHECKED = yaml.safe_load((ROOT / "fixtures" / "demo" / "xuefu" / "xuefu-ordinary-01.yaml").read_text("utf-8"))


def case(case_id: str, n: int) -> dict:
    raw = copy.deepcopy(CASE)
    raw["case_id"] = case_id
    raw["party"]["id"] = f"1201041980{n:08d}"        # parties of their own: the look-back reads one case
    return raw


def pct(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        v = values[0] if values else float("nan")
        return v, v, v
    q = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), q[94], q[98]


def in_process(url: str, cases: int, start: int = 0, store: Any = None) -> dict[str, list[float]]:
    from engine.cases import StepRefused, new_case, record
    from engine.services import check_documents
    from engine.store import Store

    from engine import decisions
    from engine.services import stamp

    own = store is None
    store = Store.open(url) if own else store
    out: dict[str, list[float]] = {"accepted": [], "refused": [], "check": [],
                                   "logged accepted": [], "logged refused": [], "logged check": []}
    day = dt.date.fromisoformat(AS_OF)

    def fields(outcome: str, payload: dict) -> dict:
        return dict(kind="record", client="bench", officer="O1", agency="nkcgw", case_id=payload.get("case_id"),
                    payload=payload, outcome=outcome, rule_ids=[], stamp=stamp(), as_of=day, lang="zh")

    for n in range(start, start + cases):
        cid, logged = f"INPROC-{n}", f"INPROCLOG-{n}"
        new_case(store, case(cid, 500_000 + n), actor="O1")
        new_case(store, case(logged, 550_000 + n), actor="O1")
        for event, officer, status in STEPS:
            for target, prefix in ((cid, ""), (logged, "logged ")):
                payload = {"case_id": target, "event": event}
                hooks = {} if not prefix else {
                    "then": lambda s, row, e, r, p=payload: decisions.add_decision(s, **fields("accepted", p)),
                    "refused": lambda s, row, exc, p=payload: decisions.add_decision(s, **fields("refused", p))}
                t = time.perf_counter()
                try:
                    record(store, target, dict(event), actor=officer, agency="nkcgw", as_of=day, **hooks)
                    kind = "accepted"
                except StepRefused:
                    kind = "refused"
                out[prefix + kind].append((time.perf_counter() - t) * 1000)
                assert (kind == "accepted") == (status == 201)
    for _ in range(cases * 2):
        t = time.perf_counter()
        check_documents([CHECKED], day)
        out["check"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        result = check_documents([CHECKED], day)
        decisions.log_decision(store, **{**fields(decisions.check_outcome(result), {"cases": [CHECKED]}),
                                         "kind": "check", "rule_ids": decisions.check_rule_ids(result)})
        out["logged check"].append((time.perf_counter() - t) * 1000)
    if own:
        store.close()
    return out


def http_sequential(base: str, token: str, cases: int, start: int = 0, client: Any = None) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"accepted": [], "refused": [], "check": []}
    headers = {"Authorization": f"Bearer {token}"}
    with (client or httpx.Client(base_url=base, headers=headers, timeout=60)) as c:
        for n in range(start, start + cases):
            cid = f"HTTPSEQ-{n}"
            assert c.post("/cases", json=case(cid, 600_000 + n), headers={"X-Casecheck-Officer": "O1"}).status_code == 201
            for event, officer, status in STEPS:
                t = time.perf_counter()
                r = c.post(f"/cases/{quote(cid, safe='')}/events", json={"event": event, "officer": officer, "as_of": AS_OF})
                out["accepted" if r.status_code == 201 else "refused"].append((time.perf_counter() - t) * 1000)
                assert r.status_code == status, r.text
        for _ in range(cases * 2):
            t = time.perf_counter()
            r = c.post("/check", json={"case": CHECKED, "as_of": AS_OF})
            out["check"].append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200
    return out


def _pacer(k: int, start: float, clients: int, rate: float | None, stats: dict):
    """Client ``k``'s ``await pace()``, before each request: the moment it is due (``perf_counter`` time).
    Closed loop (``rate`` None): now. Open loop: ``rate`` requests a second, the clients staggered; a
    request more than 0.1 s behind its time is counted in ``stats["late"]``."""
    count = [0]

    async def pace() -> float:
        if not rate:
            return time.perf_counter()
        due = start + (k / (2 * clients) + count[0]) / rate
        count[0] += 1
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        elif wait < -0.1:
            stats["late"] += 1
        return time.perf_counter() + (due - time.monotonic())

    return pace


def _run_names(rate: float | None, run: int) -> tuple[str, int]:
    """A run's case-id tag and first party number: each run's cases and parties its own (``run`` counts
    the open-loop runs of a sweep from 0; client ``i``'s parties start at the run's number + i × 100,000)."""
    if not rate:
        return "", 0
    return ("o" if run == 0 else f"o{run}-"), 50_000 + run * 5_000_000


async def load(base: str, token: str, clients: int, seconds: float, rate: float | None = None,
               run: int = 0) -> dict:
    """Closed loop (``rate`` None: each client sends its next request when the last one is answered) or
    open loop (each client sends ``rate`` requests per second, evenly spaced and staggered; a request's
    time counts from when it was due, so a server falling behind shows as latency)."""
    stats: dict = {"accepted": [], "refused": [], "check": [], "create": [], "errors": [], "created": [], "late": 0}
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)
    tag, parties = _run_names(rate, run)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60,
                                 limits=limits) as c:
        start = time.monotonic() + 0.2
        end = start + seconds

        def pacer(k: int):
            return _pacer(k, start, clients, rate, stats)

        async def stepper(i: int) -> None:
            n = 0
            pace = pacer(i)
            while time.monotonic() < end:
                cid = f"LOAD-{tag}{i}-{n}"
                t = await pace()
                try:
                    r = await c.post("/cases", json=case(cid, parties + i * 100_000 + n),
                                     headers={"X-Casecheck-Officer": "O1"})
                except httpx.HTTPError as exc:
                    stats["errors"].append(f"create {cid}: {exc!r}")
                    return
                stats["create"].append((time.perf_counter() - t) * 1000)
                if r.status_code != 201:
                    stats["errors"].append(f"create {cid}: {r.status_code} {r.text[:200]}")
                    return
                stats["created"].append(cid)
                n += 1
                for event, officer, status in STEPS:
                    if time.monotonic() >= end:
                        return
                    t = await pace()
                    try:
                        r = await c.post(f"/cases/{quote(cid, safe='')}/events",
                                         json={"event": event, "officer": officer, "as_of": AS_OF})
                    except httpx.HTTPError as exc:
                        stats["errors"].append(f"{cid} {event['type']}: {exc!r}")
                        return
                    ms = (time.perf_counter() - t) * 1000
                    if r.status_code != status:
                        stats["errors"].append(f"{cid} {event['type']}: {r.status_code} {r.text[:200]}")
                        return
                    stats["accepted" if status == 201 else "refused"].append(ms)

        async def checker(k: int) -> None:
            pace = pacer(clients + k)
            while time.monotonic() < end:
                t = await pace()
                try:
                    r = await c.post("/check", json={"case": CHECKED, "as_of": AS_OF})
                except httpx.HTTPError as exc:
                    stats["errors"].append(f"check: {exc!r}")
                    return
                stats["check"].append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    stats["errors"].append(f"check: {r.status_code} {r.text[:200]}")
                    return

        start = time.perf_counter()
        await asyncio.gather(*[stepper(i) for i in range(clients)], *[checker(k) for k in range(clients)])
        stats["wall"] = time.perf_counter() - start
    return stats


def _checked(r: Any, status: int, what: str, seq: int | None = None) -> str | None:
    """Every answer is checked: its status, its decision id (body and header alike), the stored event's
    number of a 201."""
    if r.status != status:
        return f"{what}: {r.status} {r.text[:200]}"
    if status in (200, 201, 409) and what != "create":
        body = r.json()
        decision = body.get("decision_id")
        if not decision or r.headers.get(b"x-decision-id", b"").decode() != decision:
            return f"{what}: no decision id in the answer ({r.text[:200]})"
        if seq is not None and body["event"]["seq"] != seq:
            return f"{what}: stored as event #{body['event']['seq']}, expected #{seq}"
    return None


# The stored event numbers of the two accepted steps (the case is created with its first events).
SEQS = {1: len(CASE["events"]) + 1, 3: len(CASE["events"]) + 2}


async def http_sequential_raw(base: str, token: str, cases: int, start: int = 0,
                              conn: Any = None) -> dict[str, list[float]]:
    """``http_sequential`` with the cheap client (``benchmarks.rawhttp``): one keep-alive connection."""
    from benchmarks.rawhttp import Connection

    out: dict[str, list[float]] = {"accepted": [], "refused": [], "check": []}
    c = conn or Connection(base, {"Authorization": f"Bearer {token}"})
    for n in range(start, start + cases):
        cid = f"HTTPRAW-{n}"
        r = await c.post_json("/cases", case(cid, 650_000 + n), {"X-Casecheck-Officer": "O1"})
        assert r.status == 201, r.text
        for k, (event, officer, status) in enumerate(STEPS):
            t = time.perf_counter()
            r = await c.post_json(f"/cases/{quote(cid, safe='')}/events",
                                  {"event": event, "officer": officer, "as_of": AS_OF})
            out["accepted" if r.status == 201 else "refused"].append((time.perf_counter() - t) * 1000)
            problem = _checked(r, status, event["type"], SEQS.get(k))
            assert problem is None, problem
    for _ in range(cases * 2):
        t = time.perf_counter()
        r = await c.post_json("/check", {"case": CHECKED, "as_of": AS_OF})
        out["check"].append((time.perf_counter() - t) * 1000)
        assert _checked(r, 200, "check") is None
    if conn is None:
        c.close()
    return out


def paired(url: str, base: str, token: str, cases: int) -> tuple[dict, dict, dict]:
    """The one-at-a-time baselines case by case in turn — the in-process guard (bare and with its
    decision record), one HTTP client with the cheap client, one with httpx — so the VM's drift (±30 % in
    minutes) falls on all of them alike and the overhead (HTTP minus in-process) is measured in one
    window, not as the difference of two runs a minute apart."""
    from engine.store import Store

    from benchmarks.rawhttp import Connection, new_loop

    store = Store.open(url)
    loop = new_loop()
    conn = Connection(base, {"Authorization": f"Bearer {token}"})
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    inproc: dict[str, list[float]] = {}
    raw: dict[str, list[float]] = {}
    via_httpx: dict[str, list[float]] = {}
    try:
        for n in range(cases):
            for into, got in ((inproc, in_process(url, 1, n, store)),
                              (raw, loop.run_until_complete(http_sequential_raw(base, token, 1, n, conn))),
                              (via_httpx, http_sequential(base, token, 1, n, _Keep(client)))):
                for k, v in got.items():
                    into.setdefault(k, []).extend(v)
    finally:
        conn.close()
        client.close()
        loop.close()
        store.close()
    return inproc, raw, via_httpx


class _Keep:
    """A client used as a context manager without being closed at its end (``http_sequential`` reuses it)."""

    def __init__(self, client: Any):
        self.client = client

    def __enter__(self) -> Any:
        return self.client

    def __exit__(self, *exc: object) -> None:
        pass


async def load_raw(base: str, token: str, clients: int, seconds: float, rate: float | None = None,
                   run: int = 0) -> dict:
    """``load`` with the cheap client: each simulated client has one keep-alive connection of its own,
    and every answer is checked (``_checked``)."""
    from benchmarks.rawhttp import Connection

    stats: dict = {"accepted": [], "refused": [], "check": [], "create": [], "errors": [], "created": [], "late": 0}
    auth = {"Authorization": f"Bearer {token}"}
    tag, parties = _run_names(rate, run)
    start = time.monotonic() + 0.2
    end = start + seconds

    def pacer(k: int):
        return _pacer(k, start, clients, rate, stats)

    async def stepper(i: int) -> None:
        c = Connection(base, auth)
        n = 0
        pace = pacer(i)
        try:
            while time.monotonic() < end:
                cid = f"LOAD-{tag}{i}-{n}"
                t = await pace()
                try:
                    r = await c.post_json("/cases", case(cid, parties + i * 100_000 + n),
                                          {"X-Casecheck-Officer": "O1"})
                except (OSError, asyncio.TimeoutError) as exc:
                    stats["errors"].append(f"create {cid}: {exc!r}")
                    return
                stats["create"].append((time.perf_counter() - t) * 1000)
                if r.status != 201:
                    stats["errors"].append(f"create {cid}: {r.status} {r.text[:200]}")
                    return
                stats["created"].append(cid)
                n += 1
                path = f"/cases/{quote(cid, safe='')}/events"
                for k, (event, officer, status) in enumerate(STEPS):
                    if time.monotonic() >= end:
                        return
                    t = await pace()
                    try:
                        r = await c.post_json(path, {"event": event, "officer": officer, "as_of": AS_OF})
                    except (OSError, asyncio.TimeoutError) as exc:
                        stats["errors"].append(f"{cid} {event['type']}: {exc!r}")
                        return
                    ms = (time.perf_counter() - t) * 1000
                    problem = _checked(r, status, f"{cid} {event['type']}", SEQS.get(k))
                    if problem:
                        stats["errors"].append(problem)
                        return
                    stats["accepted" if status == 201 else "refused"].append(ms)
        finally:
            c.close()

    async def checker(k: int) -> None:
        c = Connection(base, auth)
        pace = pacer(clients + k)
        try:
            while time.monotonic() < end:
                t = await pace()
                try:
                    r = await c.post_json("/check", {"case": CHECKED, "as_of": AS_OF})
                except (OSError, asyncio.TimeoutError) as exc:
                    stats["errors"].append(f"check: {exc!r}")
                    return
                stats["check"].append((time.perf_counter() - t) * 1000)
                problem = _checked(r, 200, "check")
                if problem:
                    stats["errors"].append(problem)
                    return
        finally:
            c.close()

    began = time.perf_counter()
    await asyncio.gather(*[stepper(i) for i in range(clients)], *[checker(k) for k in range(clients)])
    stats["wall"] = time.perf_counter() - began
    return stats


def consistency(url: str, created: list[str], accepted_seen: int) -> list[str]:
    """Store against log: every accepted decision is one stored event of that number, and back."""
    from sqlmodel import select

    from engine.store import Store
    from engine.store.api_tables import DecisionRow
    from engine.store.repo import verify
    from engine.store.tables import CaseRow, EventRow

    store = Store.open(url)
    problems: list[str] = []
    with store.reading() as s:
        rows = s.exec(select(DecisionRow.case_id, DecisionRow.event_seq)
                      .where(DecisionRow.kind == "record", DecisionRow.outcome == "accepted",
                             DecisionRow.case_id.like("LOAD-%"))).all()
        logged = [(c, q) for c, q in rows]
        events = s.exec(select(CaseRow.case_id, EventRow.seq).join(EventRow, EventRow.case_pk == CaseRow.id)
                        .where(CaseRow.case_id.like("LOAD-%"), EventRow.seq > len(CASE["events"]))).all()
        stored = [(c, q) for c, q in events]
        broken = verify(s)
    if len(set(logged)) != len(logged):
        problems.append(f"doubled log records: {len(logged) - len(set(logged))}")
    if sorted(logged) != sorted(stored):
        problems.append(f"log and store differ: {len(set(logged) - set(stored))} logged not stored, "
                        f"{len(set(stored) - set(logged))} stored not logged")
    if len(stored) != accepted_seen:
        problems.append(f"clients saw {accepted_seen} accepted steps; the store holds {len(stored)} new events")
    if broken:
        problems.append(f"audit chain broken in {len(broken)} places")
    store.close()
    return problems


def run_store(kind: str, seconds: float, clients: int, baseline_cases: int, rates: list[float],
              client: str = "raw", sweep_seconds: float | None = None) -> tuple:
    """``rates``: the open loop's rates per client, the first for ``seconds``, the rest (a sweep) for
    ``sweep_seconds`` each."""
    from engine.api_clients import create_client
    from engine.store import Store

    from benchmarks.common import tree_cpu_seconds

    tmp = tempfile.TemporaryDirectory(prefix="bench-api-")
    if kind == "sqlite":
        url = f"sqlite:///{tmp.name}/store.db"
    else:
        import pg

        url = pg.create_database()

    def server_cpu(server: ApiServer) -> float:
        return tree_cpu_seconds(server.proc.pid)

    try:
        store = Store.open(url)
        _, token = create_client(store, "bench", ["nkcgw"], write=True, expires=None, by="bench")
        store.close()
        with ApiServer(url, workers=2, log=Path(tmp.name) / "server.log") as server:
            from benchmarks.rawhttp import run as run_raw

            inproc, seq, seq_httpx = paired(url, server.base, token, baseline_cases)
            cpu0, own0 = server_cpu(server), time.process_time()
            if client == "raw":
                loaded = run_raw(load_raw(server.base, token, clients, seconds))
            else:
                loaded = asyncio.run(load(server.base, token, clients, seconds))
            cpu1, own1 = server_cpu(server), time.process_time()
            opens = []
            for k, rate in enumerate(rates):
                span = seconds if k == 0 else (sweep_seconds or seconds)
                if client == "raw":
                    opens.append(run_raw(load_raw(server.base, token, clients, span, rate, run=k)))
                else:
                    opens.append(asyncio.run(load(server.base, token, clients, span, rate, run=k)))
        runs = [loaded] + opens
        problems = [e for run in runs for e in run["errors"][:5]] + consistency(
            url, [c for run in runs for c in run["created"]], sum(len(run["accepted"]) for run in runs))
    finally:
        if kind != "sqlite":
            pg.drop_database(url)
        tmp.cleanup()
    rows = []
    for label, run in [("closed", loaded)] + [(f"open {r:g}/s", o) for r, o in zip(rates, opens)]:
        wall = run["wall"]
        for what in ("accepted", "refused", "check"):
            p_in, p_seq, p_load = pct(inproc[what]), pct(seq[what]), pct(run[what])
            rows.append((kind, label, {"accepted": "step 201", "refused": "step 409", "check": "check"}[what],
                         *p_in[:2], *p_seq[:2], p_seq[0] - p_in[0], len(run[what]) / wall, *p_load))
        steps = run["accepted"] + run["refused"]
        rows.append((kind, label, "step (all)", *(["—"] * 5), len(steps) / wall, *pct(steps)))
    logged = {what: pct(inproc["logged " + what])[0] for what in ("accepted", "refused", "check")}
    print(f"  {kind}: one client over HTTP, p50: cheap keep-alive client (the table's) "
          + ", ".join(f"{w} {pct(seq[w])[0]:.1f} ms" for w in logged) + "; httpx.Client "
          + ", ".join(f"{w} {pct(seq_httpx[w])[0]:.1f} ms" for w in logged) + "; bare guard "
          + ", ".join(f"{w} {pct(inproc[w])[0]:.1f} ms" for w in logged))
    print(f"  {kind}: in-process guard WITH its decision-log record (what the API must do besides HTTP), p50: "
          + ", ".join(f"{w} {v:.1f} ms" for w, v in logged.items()) + "; HTTP 1-client p50 over it: "
          + ", ".join(f"{w} {pct(seq[w])[0] - v:.1f} ms" for w, v in logged.items()))
    requests = sum(len(loaded[k]) for k in ("accepted", "refused", "check", "create"))
    thr = requests / loaded["wall"]
    steps = loaded["accepted"] + loaded["refused"]
    print(f"{kind}: closed loop {len(loaded['created'])} cases created, {len(steps)} steps "
          f"({len(loaded['refused'])} refused), {len(loaded['check'])} checks in {loaded['wall']:.1f} s; open loop "
          f"at {rates[0]:g}/s per client: {len(opens[0]['accepted']) + len(opens[0]['refused'])} steps, "
          f"{len(opens[0]['check'])} checks, {opens[0]['late']} requests started >100 ms late; consistency (all "
          f"{len(runs)} runs): "
          f"{'store = log, no event lost or doubled, chain intact' if not problems else problems}")
    print(f"  load generator: {client} ({'benchmarks.rawhttp, one keep-alive connection per client, uvloop' if client == 'raw' else 'httpx.AsyncClient'})")
    print(f"  closed loop: {2 * clients} clients ÷ {thr:.1f} requests/s = {2 * clients / thr * 1000:.0f} ms mean latency "
          f"(Little's law); server CPU {(cpu1 - cpu0) / requests * 1000:.1f} ms/request, load generator CPU "
          f"{(own1 - own0) / requests * 1000:.1f} ms/request: two cores serve at most "
          f"{2000 / ((cpu1 - cpu0 + own1 - own0) / requests * 1000):.0f} requests/s to this run alone")
    sweep = [(r, (len(o["accepted"]) + len(o["refused"]) + len(o["check"]) + len(o["create"])) / o["wall"],
              o["late"], pct(o["accepted"] + o["refused"]), (len(o["accepted"]) + len(o["refused"])) / o["wall"])
             for r, o in zip(rates, opens)]
    return rows, problems, pct(steps), sweep


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--clients", type=int, default=20, help="clients recording steps, and as many checking")
    ap.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--baseline-cases", type=int, default=40, help="cases for the one-at-a-time baselines")
    ap.add_argument("--rate", type=float, default=1.0, help="open loop: requests per second per client")
    ap.add_argument("--client", choices=["raw", "httpx"], default="raw",
                    help="load generator: benchmarks.rawhttp (cheap) or httpx.AsyncClient (as before)")
    ap.add_argument("--sweep", default="", metavar="R1,R2,…",
                    help="after the open loop at --rate, open loops at these rates per client (at most 8), "
                         "--sweep-seconds each: the highest load at which the step p95 stays under 25 ms")
    ap.add_argument("--sweep-seconds", type=float, default=15)
    args = ap.parse_args()
    args.seconds = min(args.seconds, 30)
    args.sweep_seconds = min(args.sweep_seconds, 30)
    try:
        sweep = [float(r) for r in args.sweep.split(",") if r.strip()]
    except ValueError:
        ap.error(f"--sweep: rates per client separated by commas, such as 2,4,6 (not {args.sweep!r})")
    if len(sweep) > 8 or any(r <= 0 for r in sweep):
        ap.error("--sweep: at most 8 rates, each above 0")
    rates = [args.rate] + sweep
    kinds = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    all_rows, failed = [], False
    verdicts, sweeps = [], []
    for kind in kinds:
        clients = min(args.clients, 50)
        rows, problems, steps, swept = run_store(kind, args.seconds, clients, args.baseline_cases, rates,
                                                 args.client, args.sweep_seconds)
        all_rows += rows
        failed |= bool(problems)
        open_steps = swept[0][3]
        if kind == "postgresql":
            verdicts.append(f"live step p95 on PostgreSQL: closed loop {steps[1]:.1f} ms, open loop "
                            f"({args.clients} × {args.rate:g}/s stepping + as many checking) {open_steps[1]:.1f} ms "
                            f"(target < 25 ms): {'met' if steps[1] < 25 else 'NOT met'} closed, "
                            f"{'met' if open_steps[1] < 25 else 'NOT met'} open")
        if sweep:
            sweeps.append((kind, clients, swept))
        over = [r[7] for r in rows if r[1] == "closed" and r[2] in ("step 201", "step 409")]
        verdicts.append(f"{kind}: HTTP overhead over the in-process guard at p50 (201, 409): "
                        + ", ".join(f"{o:.1f} ms" for o in over) + " (target < 5 ms): "
                        f"{'met' if all(o < 5 for o in over) else 'NOT met'}")
    print(table(f"HTTP API vs in-process (ms; {args.clients} stepping + {args.clients} checking clients, "
                f"{args.seconds:.0f} s closed loop and {args.seconds:.0f} s open loop at {args.rate:g} requests/s per "
                f"client, 2 server workers, 127.0.0.1)",
                ["store", "loop", "request", "in-proc p50", "in-proc p95", "HTTP 1-client p50", "HTTP 1-client p95",
                 "overhead p50", "load req/s", "load p50", "load p95", "load p99"], all_rows))
    for kind, clients, swept in sweeps:
        print(table(f"{kind}: open-loop sweep ({clients} stepping + {clients} checking clients, each at the rate; "
                    f"{args.seconds:.0f} s at the first rate, {args.sweep_seconds:.0f} s at each other)",
                    ["rate/client", "offered req/s", "served req/s", "steps/s", "late >100 ms", "step p50",
                     "step p95", "step p99", "p95 < 25 ms"],
                    [(f"{r:g}/s", 2 * clients * r, served, stepped, late, *p,
                      "yes" if p[1] < 25 and not late else "no") for r, served, late, p, stepped in swept]))
        ordered = sorted(swept, key=lambda run: run[0])
        miss = next((k for k, (_r, _s, late, p, _st) in enumerate(ordered) if p[1] >= 25 or late), len(ordered))
        if miss == 0:
            verdicts.append(f"{kind}: the step p95 is over 25 ms (or requests started late) already at "
                            f"{ordered[0][0]:g}/s per client")
        else:
            rate, served, stepped = ordered[miss - 1][0], ordered[miss - 1][1], ordered[miss - 1][4]
            verdicts.append(f"{kind}: the step p95 stays under 25 ms at every rate up to {rate:g}/s per client: "
                            f"{served:.0f} requests/s served, {stepped:.0f} of them live steps (the rest checks and "
                            f"new cases)" + (f"; over it at {ordered[miss][0]:g}/s" if miss < len(ordered) else ""))
    for v in verdicts:
        print(v)
    print(f"machine: {os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.1f} (shared with other work)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
