"""The web workspace's read pages over a million stored cases on PostgreSQL (issue 21's target: the case
list — filtered, paged —, the case page and the dashboard each answer with p95 under 300 ms).

How the store is built, in minutes rather than the hours a million imports would take:

1. ``--seed-cases`` (default 4,000) real generated cases (``fixtures.casegen``, the differential tests'
   generator, over 2022–2025, plus a share of open cases dated around today so deadlines are live) go
   through the normal import (``engine.cases.import_paths``): parsing, validation, hash chains, officers,
   parties, deadlines, change log — and ``casecheck check --db --keep`` stores their findings.
2. The seed is then CLONED IN SQL (``INSERT … SELECT``) up to the wanted size: each clone takes a seed
   case's header, events, deadlines and findings, with a new case id, a new agency (16 agencies of a
   district, sizes skewed as a district's are: a few large offices, many small ones), new officer ids
   (40 per agency, two or three to a case, rewritten in the header, the events and the deadlines), and a
   party drawn so that about a third of the parties have several cases. States, procedures, matters and
   dates are the seed's, so filters hit the selectivities of real generated files.

   THE CLONED ROWS ARE FOR A READ BENCHMARK ONLY: their hash chains are the seed's, computed over other
   case keys, so ``casecheck verify`` reports every clone as broken; their headers are not canonical
   JSON. Nothing in the product uses this path; it lives here, in ``benchmarks/``, on a database of its
   own that is dropped at the end (``--keep`` keeps it and prints its URL).

Measured against a real ``casecheck serve --workers 2`` on 127.0.0.1, logged in as an officer of one
agency, the agency's head and a district supervisor who sees every agency: the case list unfiltered and
with each filter, deep pages (page 1, page 100, the last page), the case page, the dashboard. First at
the baseline size (``--baseline``, default a tenth of ``--cases``), then the same store grown to
``--cases``: p50 / p95 / p99 per page and the ratio to the baseline, in one table. Bounded: every loop
has a count; traffic only to 127.0.0.1.

Run:  .venv/bin/python -m benchmarks.bench_web_1m [--cases 200000] [--baseline N] [--reps 30] [--keep]
      .venv/bin/python -m benchmarks.bench_web_1m --cases 1000000 --baseline 100000     # issue 21's size
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Serve, table

sys.path.insert(0, str(ROOT / "tests"))

PASSWORD = "bench-password"
TARGET_MS = 300.0

# (code, name, case-id prefix, weight): a district's street offices and committees; weights skewed
AGENCIES = [
    ("xuefu", "南开区学府街道办事处", "津南学", 18), ("nkcgw", "南开区城市管理委员会", "津南城管", 14),
    ("changhong", "南开区长虹街道办事处", "津南长", 10), ("gulou", "南开区鼓楼街道办事处", "津南鼓", 8),
    ("xingnan", "南开区兴南街道办事处", "津南兴", 7), ("guangkai", "南开区广开街道办事处", "津南广", 6),
    ("wanxing", "南开区万兴街道办事处", "津南万", 6), ("xiangyang", "南开区向阳路街道办事处", "津南向", 5),
    ("jialing", "南开区嘉陵道街道办事处", "津南嘉", 5), ("wangdingdi", "南开区王顶堤街道办事处", "津南王", 4),
    ("shuishang", "南开区水上公园街道办事处", "津南水", 4), ("tiyu", "南开区体育中心街道办事处", "津南体", 3),
    ("huayuan", "南开区华苑街道办事处", "津南华", 3), ("nkscjg", "南开区市场监督管理局", "津南市监", 3),
    ("nkwjw", "南开区卫生健康委员会", "津南卫", 2), ("nkyjj", "南开区应急管理局", "津南应急", 2),
]
OFFICERS_PER_AGENCY = 40


# ---------------------------------------------------------------------------------------------- seed
def seed_cases(n: int, today: dt.date) -> list[dict[str, Any]]:
    """``n`` generated cases: the realistic mix over 2022–2025, and one in 25 an open ordinary case whose
    steps are dated 65–150 days before today (a decision or a publicity pending: live deadlines)."""
    from engine.web.demo import investigated, open_case
    from fixtures.casegen import CaseGen
    from fixtures.scale import MIXES

    gen, rng = CaseGen(seed=21), random.Random(21)
    out = []
    for i in range(n):
        if i % 25 == 24:
            raw = open_case(500_000 + i, today, investigated(rng.randint(65, 150)),
                            party_id=f"12010419800101{i:04d}")
            raw["case_id"] = f"L{i:06d}-" + raw["case_id"]
        else:
            raw, _ = gen.random_case(i + 1, 2022 + i % 4, mix=MIXES["realistic"])
            raw["case_id"] = f"S{i:06d}-" + raw["case_id"]
        raw.pop("_basis", None)
        out.append(raw)
    return out


def build_seed(url: str, n: int, tmp: Path) -> None:
    from engine.cases import import_paths
    from engine.store import Store

    today = dt.date.today()
    cases = seed_cases(n, today)
    for k in range(0, len(cases), 1000):
        (tmp / f"seed-{k // 1000:03d}.json").write_text(
            json.dumps({"format": "casecheck/1", "cases": cases[k:k + 1000]}, ensure_ascii=False), encoding="utf-8")
    start = time.perf_counter()
    store = Store.open(url)
    report = import_paths(store, sorted(tmp.glob("seed-*.json")), actor="bench")
    assert not report.problems, report.problems[:3]
    store.close()
    took = time.perf_counter() - start
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "engine.cli", "check", "--db", url, "--format", "json",
                           "--output", str(tmp / "check.json")], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode in (0, 1), (done.returncode, done.stdout[-1000:], done.stderr[-2000:])
    print(f"seed: {report.new:,} generated cases through the normal import in {took:.0f} s; "
          f"`check --db --keep` {time.perf_counter() - start:.0f} s", flush=True)


# ---------------------------------------------------------------------------------------------- clone
def _sql(conn: Any, text: str, **params: Any) -> Any:
    from sqlalchemy import text as sql

    return conn.execute(sql(text), params)


def prepare_clone(url: str) -> None:
    """Helper tables of the cloning (dropped by ``finish_clone``): the seed, the agencies' weights."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        _sql(conn, "CREATE TABLE bench_seed AS SELECT row_number() OVER (ORDER BY id) - 1 AS k, id AS pk, "
                   "agency, case_id, party_id FROM cases")
        _sql(conn, "CREATE UNIQUE INDEX ON bench_seed (k)")
        _sql(conn, "CREATE TABLE bench_agency (bucket int PRIMARY KEY, code text, name text, prefix text)")
        total, bucket = sum(a[3] for a in AGENCIES), 0
        for code, name, prefix, weight in AGENCIES:
            share = round(1000 * weight / total) if code != AGENCIES[-1][0] else 1000 - bucket
            for b in range(bucket, min(1000, bucket + share)):
                _sql(conn, "INSERT INTO bench_agency VALUES (:b, :c, :n, :p)", b=b, c=code, n=name, p=prefix)
            bucket += share
    engine.dispose()


def grow(url: str, total: int, chunk: int = 100_000) -> float:
    """Clone seed cases until the store holds ``total`` cases; returns seconds taken."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    start = time.perf_counter()
    with engine.connect() as conn:
        seeds = _sql(conn, "SELECT count(*) FROM bench_seed").scalar_one()
        have = _sql(conn, "SELECT count(*) FROM cases").scalar_one()
        run = _sql(conn, "SELECT max(id) FROM runs WHERE kind = 'check'").scalar_one()
        conn.commit()
        while have < total:
            n = min(chunk, total - have)
            base = _sql(conn, "SELECT coalesce(max(id), 0) FROM cases").scalar_one()
            _clone(conn, base, n, seeds, run)
            conn.commit()
            have += n
            print(f"  cloned to {have:,} cases ({time.perf_counter() - start:.0f} s)", flush=True)
        _sql(conn, "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
        conn.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        _sql(conn, "VACUUM ANALYZE")
    engine.dispose()
    return time.perf_counter() - start


def _clone(conn: Any, base: int, n: int, seeds: int, run: int | None) -> None:
    # one row per clone: its new pk, its seed, its agency, officers and party
    _sql(conn, "DROP TABLE IF EXISTS bench_map")
    _sql(conn, f"""
        CREATE TEMP TABLE bench_map AS
        SELECT g + :base AS pk, s.pk AS src, a.code AS agency, a.name AS agency_name,
               'K' || (g + :base) || '-' || s.case_id AS case_id,
               a.code || '.' || lpad(((h1 % {OFFICERS_PER_AGENCY}) + 1)::text, 3, '0') AS o1,
               a.code || '.' || lpad((((h1 + 1 + h2 % {OFFICERS_PER_AGENCY - 1}) % {OFFICERS_PER_AGENCY}) + 1)::text,
                                     3, '0') AS o2,
               a.code || '.' || lpad((((h1 + 7) % {OFFICERS_PER_AGENCY}) + 1)::text, 3, '0') || 'R' AS r1,
               CASE WHEN s.party_id IS NULL THEN NULL
                    ELSE 'P' || (abs(hashint8(g + :base + 17)) % greatest(1, (:total * 2) / 3)) END AS party_id,
               s.party_id AS src_party
        FROM generate_series(1, :n) AS g
        CROSS JOIN LATERAL (SELECT abs(hashint8(g + :base)) AS h0, abs(hashint8(g + :base + 1)) AS h1,
                                   abs(hashint8(g + :base + 2)) AS h2) AS h
        JOIN bench_seed s ON s.k = h.h0 % :seeds
        JOIN bench_agency a ON a.bucket = (h.h2 / 7) % 1000
    """, base=base, n=n, seeds=seeds, total=base + n)
    _sql(conn, "CREATE INDEX ON bench_map (src)")
    ids = ("'\"O1\"'", "o1"), ("'\"O2\"'", "o2"), ("'\"R1\"'", "r1")

    def officers(expr: str) -> str:                 # the seed's case-local officer ids → the clone's
        for old, new in ids:
            expr = f"replace({expr}, {old}, '\"' || m.{new} || '\"')"
        return expr

    _sql(conn, f"""
        INSERT INTO cases (id, agency, case_id, procedure, party_id, matter_code, state, header, content_hash,
                           head_hash, event_count, source, updated_at)
        SELECT m.pk, m.agency, m.case_id, c.procedure, m.party_id, c.matter_code, c.state,
               (jsonb_set(jsonb_set(
                   CASE WHEN m.party_id IS NULL THEN {officers('c.header')}::jsonb
                        ELSE jsonb_set({officers('c.header')}::jsonb, '{{party,id}}', to_jsonb(m.party_id)) END,
                   '{{case_id}}', to_jsonb(m.case_id)),
                   '{{agency}}', jsonb_build_object('code', m.agency, 'name', m.agency_name, 'region', 'tianjin'))
               )::text,
               c.content_hash, c.head_hash, c.event_count, 'bench clone of #' || c.id, c.updated_at
        FROM bench_map m JOIN cases c ON c.id = m.src
    """)
    _sql(conn, f"""
        INSERT INTO events (case_pk, seq, type, date, payload, recorded_by, recorded_at, prev_hash, hash, proof,
                            corrects)
        SELECT m.pk, e.seq, e.type, e.date, {officers('e.payload')}, e.recorded_by, e.recorded_at, e.prev_hash,
               e.hash, e.proof, e.corrects
        FROM bench_map m JOIN events e ON e.case_pk = m.src
    """)
    _sql(conn, """
        INSERT INTO officers (case_pk, officer_id, name, certificate, certificate_valid_until, legal_qualification,
                              certificate_key)
        SELECT m.pk, CASE o.officer_id WHEN 'O1' THEN m.o1 WHEN 'O2' THEN m.o2 WHEN 'R1' THEN m.r1
                                       ELSE o.officer_id END,
               o.name, o.certificate, o.certificate_valid_until, o.legal_qualification, o.certificate_key
        FROM bench_map m JOIN officers o ON o.case_pk = m.src
    """)
    _sql(conn, """
        INSERT INTO parties (id, kind, name)
        SELECT DISTINCT ON (m.party_id) m.party_id, p.kind, p.name
        FROM bench_map m JOIN parties p ON p.id = m.src_party
        WHERE m.party_id IS NOT NULL
        ON CONFLICT (id) DO NOTHING
    """)
    _sql(conn, """
        INSERT INTO changes (case_pk, at, actor, kind, summary, old_hash, new_hash)
        SELECT m.pk, ch.at, ch.actor, ch.kind, ch.summary, ch.old_hash, ch.new_hash
        FROM bench_map m JOIN changes ch ON ch.case_pk = m.src
    """)
    _sql(conn, f"""
        INSERT INTO deadlines (case_pk, code, platform, start, due, open_until, officers)
        SELECT m.pk, d.code, d.platform, d.start, d.due, d.open_until,
               replace(replace(replace(d.officers, 'O1', m.o1), 'O2', m.o2), 'R1', m.r1)
        FROM bench_map m JOIN deadlines d ON d.case_pk = m.src
    """)
    if run is not None:
        _sql(conn, """
            INSERT INTO findings (run_id, case_pk, rule_id, severity, category, deduction, veto, due, fact, message,
                                  basis)
            SELECT f.run_id, m.pk, f.rule_id, f.severity, f.category, f.deduction, f.veto, f.due, f.fact, f.message,
                   f.basis
            FROM bench_map m JOIN findings f ON f.case_pk = m.src AND f.run_id = :run
        """, run=run)
    _sql(conn, """
        INSERT INTO case_checks (case_pk, run_id, as_of, checked_at, findings)
        SELECT m.pk, cc.run_id, cc.as_of, cc.checked_at, cc.findings
        FROM bench_map m JOIN case_checks cc ON cc.case_pk = m.src
    """)
    _sql(conn, "DROP TABLE bench_map")


def finish_clone(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        _sql(conn, "DROP TABLE IF EXISTS bench_seed")
        _sql(conn, "DROP TABLE IF EXISTS bench_agency")
    engine.dispose()


# ---------------------------------------------------------------------------------------------- users
def add_users(url: str) -> dict[str, str]:
    """The officer with the most cases in the largest agency, its head, a district supervisor."""
    from sqlalchemy import create_engine

    from engine.store import Store
    from engine.users import add_user

    engine = create_engine(url)
    with engine.connect() as conn:
        officer = _sql(conn, "SELECT o.officer_id FROM officers o JOIN cases c ON c.id = o.case_pk "
                             "WHERE c.agency = 'xuefu' AND o.officer_id LIKE 'xuefu.%' "
                             "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").scalar_one()
    engine.dispose()
    store = Store.open(url, migrate=False)
    add_user(store, "officer", "承办人", PASSWORD, roles=["officer"], agencies=["xuefu"], officer_id=officer)
    add_user(store, "head", "学府街道负责人", PASSWORD, roles=["head"], agencies=["xuefu"])
    add_user(store, "supervisor", "区司法局监督员", PASSWORD, roles=["supervisor"],
             agencies=[a[0] for a in AGENCIES])
    store.close()
    return {"officer": officer}


def login(httpx: Any, base: str, user: str) -> Any:
    from webkit import csrf_of

    c = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    page = c.get("/login")
    r = c.post("/login", data={"login": user, "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"})
    assert r.status_code == 303, (user, r.status_code)
    return c


def _pct(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def timed(c: Any, paths: list[str], reps: int) -> tuple[list[float], str]:
    out, body = [], ""
    for i in range(reps):
        path = paths[i % len(paths)]
        start = time.perf_counter()
        r = c.get(path)
        out.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        body = r.text
    return out, body


def pages_of(url: str, who: dict[str, str], rng: random.Random) -> dict[str, tuple[str, list[str]]]:
    """label → (user, paths): the pages to time (paths are cycled through)."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.connect() as conn:
        xuefu = [pk for (pk,) in _sql(conn, "SELECT id FROM cases WHERE agency = 'xuefu' "
                                            "AND id >= (SELECT max(id) * random() FROM cases) ORDER BY id LIMIT 200")]
        anywhere = [pk for (pk,) in _sql(conn, "SELECT id FROM cases WHERE id >= (SELECT max(id) * random() FROM cases) "
                                               "ORDER BY id LIMIT 200")]
        matter = _sql(conn, "SELECT matter_code FROM cases WHERE matter_code IS NOT NULL GROUP BY 1 "
                            "ORDER BY count(*) DESC LIMIT 1").scalar_one()
        other = _sql(conn, "SELECT officer_id FROM officers WHERE officer_id LIKE 'gulou.%' LIMIT 1").scalar_one()
    engine.dispose()
    rng.shuffle(xuefu)
    rng.shuffle(anywhere)
    return {
        "list · officer · no filter, page 1": ("officer", ["/cases"]),
        "list · officer · page 100": ("officer", ["/cases?page=100"]),
        "list · officer · last page": ("officer", ["/cases?page=last"]),
        "list · officer · procedure=simple": ("officer", ["/cases?procedure=simple"]),
        "list · officer · state=closed": ("officer", ["/cases?state=closed"]),
        "list · officer · officer=self": ("officer", [f"/cases?officer={who['officer']}"]),
        f"list · officer · matter={matter}": ("officer", [f"/cases?matter={matter}"]),
        "list · officer · dates 2024-03": ("officer", ["/cases?date_from=2024-03-01&date_to=2024-03-31"]),
        "list · officer · has findings": ("officer", ["/cases?findings=1"]),
        "list · officer · has findings, page 100": ("officer", ["/cases?findings=1&page=100"]),
        "list · supervisor · no filter, page 1": ("supervisor", ["/cases"]),
        "list · supervisor · page 100": ("supervisor", ["/cases?page=100"]),
        "list · supervisor · last page": ("supervisor", ["/cases?page=last"]),
        "list · supervisor · agency=gulou": ("supervisor", ["/cases?agency=gulou"]),
        "list · supervisor · procedure+state": ("supervisor", ["/cases?procedure=ordinary&state=closed"]),
        f"list · supervisor · officer={other}": ("supervisor", [f"/cases?officer={other}"]),
        "list · supervisor · dates 2024-03": ("supervisor", ["/cases?date_from=2024-03-01&date_to=2024-03-31"]),
        "list · supervisor · has findings": ("supervisor", ["/cases?findings=1"]),
        "list · supervisor · findings+agency+dates": (
            "supervisor", ["/cases?findings=1&agency=tiyu&date_from=2024-01-01&date_to=2024-06-30"]),
        "case page · officer (random xuefu cases)": ("officer", [f"/cases/{pk}" for pk in xuefu]),
        "case page · supervisor (random cases)": ("supervisor", [f"/cases/{pk}" for pk in anywhere]),
        "dashboard · officer": ("officer", ["/"]),
        "dashboard · head": ("head", ["/"]),
        "dashboard · supervisor": ("supervisor", ["/"]),
    }


def measure(url: str, tmp: Path, reps: int, workers: int, who: dict[str, str]) -> dict[str, list[float]]:
    import httpx

    server = Serve(url, tmp / "serve.log", workers)
    try:
        clients = {u: login(httpx, server.base, u) for u in ("officer", "head", "supervisor")}
        for c in clients.values():                    # warm both workers: rule book, templates, pools
            for _ in range(4):
                c.get("/")
                c.get("/cases")
        out: dict[str, list[float]] = {}
        for label, (user, paths) in pages_of(url, who, random.Random(7)).items():
            out[label], _ = timed(clients[user], paths, reps)
        for c in clients.values():
            c.close()
        return out
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200_000, help="store size measured (1,000,000: the issue's)")
    parser.add_argument("--baseline", type=int, default=None, help="the smaller size measured first (default a tenth)")
    parser.add_argument("--seed-cases", type=int, default=4_000, help="generated cases imported normally")
    parser.add_argument("--reps", type=int, default=30, help="requests per page and size")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", default=None, help="an empty PostgreSQL database URL (default: a fresh local one)")
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--measure-only", action="store_true",
                        help="with --db: measure a store this script built and kept (no baseline, no growth)")
    args = parser.parse_args(argv)
    if args.measure_only:
        if not args.db:
            parser.error("--measure-only needs --db")
        with tempfile.TemporaryDirectory() as name:
            from sqlalchemy import create_engine

            engine = create_engine(args.db)
            with engine.connect() as conn:
                who = {"officer": _sql(conn, "SELECT officer_id FROM users WHERE login = 'officer'").scalar_one()}
                n = _sql(conn, "SELECT count(*) FROM cases").scalar_one()
            engine.dispose()
            full = measure(args.db, Path(name), args.reps, args.workers, who)
            report(full, full, n, n, args.workers)
        return
    baseline = args.baseline or max(args.seed_cases, args.cases // 10)
    own = args.db is None
    if own:
        import pg

        url = pg.create_database()
    else:
        url = args.db
    print(f"bench_web_1m: {args.cases:,} cases (baseline {baseline:,}) on {url.split('?')[0].rsplit('/', 1)[1]}; "
          f"cloned rows: a read benchmark only (their hash chains do not verify)", flush=True)
    try:
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            build_seed(url, args.seed_cases, tmp)
            prepare_clone(url)
            took = grow(url, baseline)
            print(f"grown to {baseline:,} cases in {took:.0f} s", flush=True)
            who = add_users(url)
            base = measure(url, tmp, args.reps, args.workers, who)
            took = grow(url, args.cases)
            print(f"grown to {args.cases:,} cases in {took:.0f} s", flush=True)
            full = measure(url, tmp, args.reps, args.workers, who)
            finish_clone(url)
            report(base, full, baseline, args.cases, args.workers)
    finally:
        if own and not args.keep:
            pg.drop_database(url)
        elif own:
            print(f"kept: {url}")


def report(base: dict[str, list[float]], full: dict[str, list[float]], n0: int, n1: int, workers: int) -> None:
    rows, slow = [], []
    for label, times in full.items():
        p95 = _pct(times, 0.95)
        b95 = _pct(base[label], 0.95)
        rows.append([label, f"{_pct(base[label], 0.5):.0f}", f"{b95:.0f}", f"{_pct(times, 0.5):.0f}", f"{p95:.0f}",
                     f"{_pct(times, 0.99):.0f}", f"{p95 / b95:.1f}×"])
        if p95 >= TARGET_MS:
            slow.append(label)
    print(table(f"web pages on PostgreSQL, serve --workers {workers}, ms ({len(next(iter(full.values())))} "
                f"requests each; {n0:,} then {n1:,} cases)",
                ["page", f"p50 {n0:,}", f"p95 {n0:,}", f"p50 {n1:,}", f"p95 {n1:,}", f"p99 {n1:,}",
                 "p95 ratio"], rows))
    print(f"\ntarget p95 < {TARGET_MS:.0f} ms at {n1:,}: " + ("met by every page" if not slow else
                                                            "NOT met by " + "; ".join(slow)))


if __name__ == "__main__":
    main()
