"""The HTTP API (/api/v1) against a real server process (uvicorn on 127.0.0.1, a free port), on SQLite
and on the local PostgreSQL 15 with two server workers: every endpoint and status code, token scopes,
revoked and expired tokens, the decision log (accepted and refused) and its replay, the OpenAPI copy."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import yaml
from sqlmodel import func, select

from apiserver import ApiServer
from conftest import ROOT
from engine.api_clients import create_client, revoke_client
from engine.store import Store
from engine.store.api_tables import DecisionRow
from engine.store.tables import EventRow
from test_ledger import LAWFUL, ledger
from test_store import DECISION, LIVE

CASE_ID = "津南城管罚〔2024〕9号"          # Chinese and 〔〕 in the URL path
CASE = {**LIVE, "case_id": CASE_ID}
REVIEW = {"type": "legal_review", "date": "2024-03-12", "reviewer": "R1", "result": "approved",
          "documents": ["法制审核意见书"]}
OTHER = {**LIVE, "case_id": "B-1", "agency": {"code": "other", "name": "另一机关"}}
DEMO_FILE = ROOT / "fixtures" / "demo" / "xuefu" / "xuefu-ordinary-01.yaml"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request, tmp_path_factory):
    """A running server on a fresh store, and tokens: nkcgw read-write, nkcgw read-only, other agency."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'store.db'}"
        workers = 1
    else:
        import pg

        url = pg.create_database()
        workers = 2
    store = Store.open(url)
    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    tokens = {name: create_client(store, name, agencies, write=write, expires=expires, by="admin")[1]
              for name, agencies, write in [("rw", ["nkcgw"], True), ("ro", ["nkcgw"], False),
                                            ("other", ["other"], True)]}
    with ApiServer(url, workers=workers, env={"CASECHECK_API_MAX_BODY": "1000000"}) as server:
        yield server, store, tokens
    store.close()
    if request.param == "postgresql":
        pg.drop_database(url)


def client(api, token="rw", officer="O1"):
    server, _, tokens = api
    headers = {"X-Casecheck-Officer": officer} if officer else {}
    if token:
        headers["Authorization"] = f"Bearer {tokens.get(token, token)}"
    return httpx.Client(base_url=server.base, headers=headers, timeout=60)


def path(case_id):
    return f"/cases/{quote(case_id, safe='')}"


def is_problem(r, status, slug=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["title_en"] and body["detail"] and body["detail_en"]
    if slug:
        assert body["type"].endswith("#" + slug), body
    return body


def cli(*args, url):
    return subprocess.run([sys.executable, "-m", "engine.cli", *args, "--db", url], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def event_count(store):
    with store.reading() as s:
        return s.exec(select(func.count()).select_from(EventRow)).one()


# ---------------------------------------------------------------------------------------------- basics
def test_health_needs_no_token_and_everything_else_does(api):
    r = httpx.get(api[0].base + "/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["rules"]
    is_problem(client(api, token=None).get("/rules"), 401, "unauthenticated")
    is_problem(client(api, token="cck_not-a-real-token").get("/rules"), 401, "bad-token")
    is_problem(client(api, token="garbage").get("/rules"), 401, "bad-token")
    is_problem(client(api).get("/no-such-route"), 404)


def test_openapi_committed_copy_is_what_the_server_publishes(api):
    published = httpx.get(api[0].base + "/openapi.json").json()
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert published == committed, "regenerate docs/openapi.json: python -m engine.api.openapi > docs/openapi.json"
    assert {"/api/v1/check", "/api/v1/cases/{case_id}/events", "/api/v1/imports"} <= set(published["paths"])


def test_docs_page_is_self_hosted(api):
    base = api[0].base
    page = httpx.get(base + "/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert "http://" not in page.text and "https://" not in page.text and "<script>" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "docs.js"):
        r = httpx.get(f"{base}/docs/assets/{asset}")
        assert r.status_code == 200 and len(r.content) > 100
    assert httpx.get(f"{base}/docs/assets/..%2F..%2Fpyproject.toml").status_code == 404


def test_rules(api):
    c = client(api, "ro")
    rules = c.get("/rules").json()
    assert any(r["id"] == "legal_review.required_before_decision" for r in rules["rules"])
    one = c.get("/rules/legal_review.required_before_decision", params={"lang": "en"}).json()
    assert one["versions"] and "第五十八条" in one["versions"][-1]["basis"] and one["message"]
    is_problem(c.get("/rules/no.such.rule"), 404, "rule-not-found")


# ---------------------------------------------------------------------------------------------- check
def test_check_gives_what_the_cli_gives_and_stores_nothing(api):
    server, store, _ = api
    raw = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    before = event_count(store)
    r = client(api, "ro").post("/check", json={"case": raw, "as_of": "2024-12-31"})
    assert r.status_code == 200, r.text
    body = r.json()
    decision = body.pop("decision_id")
    assert r.headers["X-Decision-Id"] == decision
    done = subprocess.run([sys.executable, "-m", "engine.cli", "check", str(DEMO_FILE), "--format", "json",
                           "--as-of", "2024-12-31"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    expected = json.loads(done.stdout)
    for doc in (body, expected):
        for f in doc["findings"]:
            f["file"] = ""
    assert body == expected
    assert event_count(store) == before
    with store.reading() as s:
        row = s.get(DecisionRow, decision)
    assert row.kind == "check" and row.client == "token:ro" and row.officer == "O1" and row.outcome == "checked"
    assert json.loads(row.rule_ids) == sorted(f["rule_id"] for f in expected["findings"])
    assert len(row.input_sha256) == 64 and row.engine_version and row.rules_version and row.calendar_years


def test_check_of_a_list_problems_and_limits(api):
    c = client(api, "ro")
    bad = {**LIVE, "case_id": "BAD-1", "procedure": "nonsense"}
    r = c.post("/check", json={"cases": [LIVE, bad], "as_of": "2024-12-31"})
    body = r.json()
    assert r.status_code == 200 and body["cases"] == 1 and body["exit_code"] == 2
    assert any(p["case_id"] == "BAD-1" and p["field"] == "cases.1.procedure" for p in body["problems"])
    problem = is_problem(c.post("/check", json={"cases": [LIVE] * 501}), 422, "too-many-cases")
    assert "500" in problem["detail"] and "500" in problem["detail_en"]
    is_problem(c.post("/check", json={"case": LIVE, "cases": [LIVE]}), 422)
    is_problem(c.post("/check", json={"case": LIVE, "as_of": "2024-13-01"}), 422, "invalid-request")
    is_problem(c.post("/check", content=b"{not json", headers={"content-type": "application/json"}), 422)
    big = {"case": {**LIVE, "note": "x" * 1_100_000}}
    is_problem(c.post("/check", json=big), 413, "body-too-large")
    data = json.dumps(big).encode()

    def chunks():                                     # streamed: no Content-Length, the limit passed mid-way
        for i in range(0, len(data), 65536):
            yield data[i:i + 65536]
    problem = is_problem(c.post("/check", content=chunks(), headers={"content-type": "application/json"}), 413,
                         "body-too-large")
    assert "请求体超过上限" in problem["detail"] and "exceeds the limit" in problem["detail_en"]
    deep = b'{"case": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    problem = is_problem(c.post("/check", content=deep, headers={"content-type": "application/json"}), 400, "bad-body")
    assert "嵌套过深" in problem["detail"] and "nested too deeply" in problem["detail_en"]


# ---------------------------------------------------------------------------------------------- cases, live guard
def test_a_case_through_the_live_guard(api):
    server, store, _ = api
    rw = client(api)
    wrapped = is_problem(rw.post("/cases", json={"case": CASE, "officer": "O1"}), 422, "wrong-shape")
    assert "X-Casecheck-Officer" in wrapped["detail"] and "not wrapped" in wrapped["detail_en"]
    r = rw.post("/cases", json=CASE)
    assert r.status_code == 201, r.text
    assert r.headers["ETag"] == '"5"' and r.json()["state"] == "notified"
    is_problem(rw.post("/cases", json=CASE), 409, "case-exists")
    bad = is_problem(rw.post("/cases", json={**CASE, "case_id": "X-2", "events": [{"type": "discovered",
                                                                                   "date": "2024-02-30"}]}), 422)
    assert any(e["field"].startswith("events.0") for e in bad["errors"])

    got = rw.get(path(CASE_ID))
    assert got.status_code == 200 and got.json()["case_id"] == CASE_ID and got.headers["ETag"] == '"5"'
    assert client(api, "ro").get("/cases").json()["total"] >= 1
    is_problem(rw.get(path("no-such-case")), 404, "case-not-found")

    events = path(CASE_ID) + "/events"
    before = event_count(store)
    refused = is_problem(rw.post(events, json={"event": DECISION}), 409, "step-refused")
    [rule] = refused["findings"]
    assert rule["rule_id"] == "legal_review.required_before_decision"
    assert rule["title"] and rule["explanation"] and "第五十八条" in rule["basis"] and rule["version"]["from"]
    assert event_count(store) == before                              # nothing written
    refused_id = refused["decision_id"]

    is_problem(rw.post(events, json={"event": REVIEW, "officer": "O1"}), 403, "recorder-refused")   # an investigator
    is_problem(client(api, officer="nobody").post(events, json={"event": REVIEW}), 403, "recorder-refused")
    bad = is_problem(rw.post(events, json={"event": {"type": "legal_review", "date": "2024-03-40"}, "officer": "R1"}),
                     422, "invalid-input")
    assert any(e["field"].startswith("event") for e in bad["errors"]) and bad["decision_id"]
    is_problem(rw.post(events, json={"event": "not an object"}), 422)
    is_problem(rw.post(events, json={"event": {**REVIEW, "date": "2031-03-12"}, "officer": "R1"}), 422)   # no calendar
    is_problem(client(api, officer=None).post(events, json={"event": REVIEW}), 422, "officer-missing")
    assert event_count(store) == before

    ok = rw.post(events, json={"event": REVIEW, "officer": "R1"}, headers={"If-Match": '"5"'})
    assert ok.status_code == 201, ok.text
    assert ok.json()["event"]["seq"] == 6 and ok.json()["event"]["recorded_by"] == "R1"
    stale = is_problem(rw.post(events, json={"event": DECISION, "expected_event_count": 5}), 412, "stale-event-count")
    assert "6" in stale["detail"]
    is_problem(rw.post(events, json={"event": DECISION}, headers={"If-Match": '"5"'}), 412)
    is_problem(rw.post(events, json={"event": DECISION}, headers={"If-Match": "five"}), 400, "bad-if-match")

    done = rw.post(events, json={"event": DECISION, "expected_event_count": 6})
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["state"] == "decided" and body["event"]["seq"] == 7 and body["event"]["type"] == "decided"
    assert body["event"]["client"] == "token:rw" and body["event"]["recorded_by"] == "O1"
    assert body["event"]["proof"] == "platform"              # the officer as named by an authenticated client
    assert {d["code"] for d in body["deadlines_started"]} >= {"deadline.service_7"}
    assert done.headers["ETag"] == '"7"' and done.headers["X-Decision-Id"] == body["decision_id"]
    assert event_count(store) == before + 2

    with store.reading() as s:
        accepted = s.get(DecisionRow, body["decision_id"])
        refusal = s.get(DecisionRow, refused_id)
    assert (accepted.outcome, accepted.event_seq, accepted.client, accepted.officer, accepted.case_id) == \
        ("accepted", 7, "token:rw", "O1", CASE_ID)
    assert (refusal.outcome, json.loads(refusal.rule_ids)) == ("refused", ["legal_review.required_before_decision"])
    assert refusal.event_seq is None and refusal.input is not None and CASE_ID in refusal.input

    for decision in (refused_id, body["decision_id"]):
        again = cli("decisions", "replay", decision, "--format", "json", url=server.store_url)
        assert again.returncode == 0, again.stdout + again.stderr
        replayed = json.loads(again.stdout)
        assert replayed["agrees"] and replayed["input_digest_matches"]
    exported = cli("decisions", "export", "--since", "2000-01-01", url=server.store_url)
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert {refused_id, body["decision_id"]} <= {d["id"] for d in lines}
    assert all("input" not in d and len(d["input_sha256"]) == 64 for d in lines)
    assert "刘某" not in exported.stdout                               # digests, not personal data


def test_alerts_and_review(api):
    server, store, _ = api
    rw = client(api)
    rw.post("/cases", json={**CASE, "case_id": "ALERT-1"})
    r = rw.get("/alerts", params={"as_of": "2024-03-20"})
    assert r.status_code == 200
    assert any(a["case_id"] == "ALERT-1" and a["code"] == "deadline.decision_90" for a in r.json()["alerts"])
    assert not any(a["case_id"] == "ALERT-1" for a in rw.get("/alerts", params={"as_of": "2024-03-20", "within": 5})
                   .json()["alerts"])
    is_problem(rw.get("/alerts", params={"agency": "other"}), 403, "out-of-scope")
    assert all(a["agency"] == "nkcgw" for a in client(api, "ro").get("/alerts", params={"as_of": "2024-12-31"})
               .json()["alerts"])

    review = rw.get("/reviews/2024Q1")
    assert review.status_code == 200, review.text
    doc = review.json()
    cli_doc = cli("review", "--quarter", "2024Q1", "--agency", "nkcgw", "--format", "json", url=server.store_url)
    expected = json.loads(cli_doc.stdout)
    for d in (expected, doc):
        d["stamp"].pop("generated")                   # the time each was written
    assert expected == doc and doc["kind"] == "review"
    is_problem(rw.get("/reviews/2024Q5"), 422, "bad-quarter")
    is_problem(rw.get("/reviews/2024Q1", params={"agency": "other"}), 403, "out-of-scope")


def test_imports_all_or_nothing(api, tmp_path):
    _, store, _ = api
    rw = client(api)
    sheet = ledger(tmp_path / "台账.xlsx", LAWFUL)
    r = rw.post("/imports", files=[("files", ("台账.xlsx", sheet.read_bytes()))])
    assert r.status_code == 201, r.text
    assert r.json()["new"] == 1
    before = event_count(store)
    good = json.dumps({**CASE, "case_id": "IMP-1"}, ensure_ascii=False).encode()
    broken = b"case_id: X\nagency: {code: nkcgw, name: n}\nprocedure: ordinary\nevents:\n  - {type: decided, date: 2024-13-01}\n"
    bad = is_problem(rw.post("/imports", files=[("files", ("a.json", good)), ("files", ("b.yaml", broken))]), 422)
    assert any(e["file"] == "b.yaml" and e["field"].startswith("events.0") for e in bad["errors"])
    assert event_count(store) == before
    is_problem(client(api, "ro").get(path("IMP-1")), 404)
    other = json.dumps(OTHER, ensure_ascii=False).encode()
    is_problem(rw.post("/imports", files=[("files", ("o.json", other))]), 403, "out-of-scope")
    is_problem(client(api, "ro").post("/imports", files=[("files", ("a.json", good))]), 403, "read-only")


# ---------------------------------------------------------------------------------------------- scopes
def test_token_scopes(api):
    rw, ro, other = client(api), client(api, "ro"), client(api, "other")
    rw.post("/cases", json={**CASE, "case_id": "SCOPE-1"})
    assert ro.get(path("SCOPE-1")).status_code == 200
    # a token of another agency neither sees nor changes it, by id or by listing
    is_problem(other.get(path("SCOPE-1")), 404, "case-not-found")
    is_problem(other.get(path("SCOPE-1"), params={"agency": "nkcgw"}), 404)
    is_problem(other.post(path("SCOPE-1") + "/events", json={"event": REVIEW, "officer": "R1"}), 404)
    assert all(c["agency"] == "other" for c in other.get("/cases").json()["cases"])
    is_problem(other.get("/cases", params={"agency": "nkcgw"}), 403, "out-of-scope")
    is_problem(other.post("/cases", json={**CASE, "case_id": "SCOPE-2"}), 403, "out-of-scope")
    # and the nkcgw tokens do not reach the other agency's case
    assert other.post("/cases", json=OTHER).status_code == 201
    is_problem(rw.get(path("B-1")), 404)
    # a read token does not write
    is_problem(ro.post(path("SCOPE-1") + "/events", json={"event": REVIEW, "officer": "R1"}), 403, "read-only")
    is_problem(ro.post("/cases", json={**CASE, "case_id": "SCOPE-3"}), 403, "read-only")
    # the acting officer must be an officer of the case
    is_problem(client(api, officer="X9").post("/cases", json={**CASE, "case_id": "SCOPE-4"}), 403, "not-case-officer")


def test_revoked_and_expired_tokens_are_refused(api):
    server, store, _ = api
    _, token = create_client(store, "short", ["nkcgw"], write=True,
                             expires=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2), by="admin")
    _, revoked = create_client(store, "gone", ["nkcgw"], write=True, expires=None, by="admin")
    before = client(api, revoked).get("/rules")
    assert before.status_code == 200, before.text
    revoke_client(store, "gone")
    assert "revoked" in is_problem(client(api, revoked).get("/rules"), 401, "bad-token")["detail_en"]
    time.sleep(2.5)
    assert "expired" in is_problem(client(api, token).get("/rules"), 401, "bad-token")["detail_en"]


def test_cli_creates_lists_and_revokes_clients(api):
    server, _, _ = api
    made = cli("api-client", "add", "cli-made", "--agency", "nkcgw", "--days", "1", url=server.store_url)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("cck_") and "shown this once" in made.stderr
    assert client(api, token).get("/rules").status_code == 200
    is_problem(client(api, token).post("/cases", json={**CASE, "case_id": "CLI-1"}), 403, "read-only")
    listed = cli("api-client", "list", url=server.store_url)
    assert "cli-made" in listed.stdout and token not in listed.stdout
    assert cli("api-client", "revoke", "cli-made", url=server.store_url).returncode == 0
    is_problem(client(api, token).get("/rules"), 401)


# ---------------------------------------------------------------------------------------------- examples
def test_the_examples_run_as_the_readme_shows(api):
    """examples/api_client.py (httpx) and examples/api_curl.sh record a case's steps and show a refusal."""
    import shutil

    server, _, tokens = api
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "api_client.py"), "--base", server.base,
                           "--token", tokens["rw"]], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "409 decision without legal review" in done.stdout and "第五十八条" in done.stdout
    again = subprocess.run([sys.executable, str(ROOT / "examples" / "api_client.py"), "--base", server.base,
                            "--token", tokens["rw"]], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr      # a store holding the last run's case
    if shutil.which("curl"):
        done = subprocess.run(["bash", str(ROOT / "examples" / "api_curl.sh"), server.base, tokens["rw"]],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "✓ 409 POST" in done.stdout and "✗" not in done.stdout



# ---------------------------------------------------------------------------------------------- in process
def test_a_second_identity_source_and_inputs_not_kept(tmp_path):
    """The web server's session plugs in as an identity source (its user's agencies and own officer id);
    with inputs not kept, the log holds the digest only and replay says why it cannot judge again."""
    from fastapi.testclient import TestClient

    from engine.api import create_api_app
    from engine.api.auth import Identity, add_identity_source
    from engine.decisions import replay
    from engine.errors import CasecheckError

    app = create_api_app(f"sqlite:///{tmp_path / 'store.db'}", keep_inputs=False)

    def session_source(request, state):
        if request.headers.get("x-test-user") == "wang":
            return Identity("session", "wang", ("nkcgw",), True, officer="O1")
        return None

    add_identity_source(app, session_source)
    c = TestClient(app)
    user = {"X-Test-User": "wang"}
    assert c.post("/api/v1/cases", json=CASE, headers=user).status_code == 201
    refused = c.post(f"/api/v1{path(CASE_ID)}/events", json={"event": DECISION}, headers=user)
    assert refused.status_code == 409
    mismatch = c.post(f"/api/v1{path(CASE_ID)}/events", json={"event": REVIEW, "officer": "R1"}, headers=user)
    assert mismatch.status_code == 403 and mismatch.json()["type"].endswith("#officer-mismatch")
    assert c.get("/api/v1/rules").status_code == 401
    # the host application's own pages keep FastAPI's answers; /api/v1 answers problem details
    assert c.get("/a-web-page").json() == {"detail": "Not Found"}
    assert c.get("/api/v1/nothing-here").headers["content-type"].startswith("application/problem+json")
    store = app.state.casecheck_api.store
    with store.reading() as s:
        row = s.get(DecisionRow, refused.json()["decision_id"])
    assert row.client == "session:wang" and row.officer == "O1" and row.input is None and len(row.input_sha256) == 64
    with pytest.raises(CasecheckError, match="CASECHECK_KEEP_INPUTS=0"):
        replay(store, row.id)


def test_many_concurrent_requests_do_not_starve_the_connection_pool(api):
    """More requests at once than the store's pool has connections (5 + 10 overflow per worker): each
    request holds at most one, so all are answered (a request holding one while waiting for a second
    timed out after 30 s under the load benchmark)."""
    import asyncio

    server, _, tokens = api
    headers = {"Authorization": f"Bearer {tokens['rw']}", "X-Casecheck-Officer": "O1"}

    async def run() -> list[int]:
        async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=120,
                                     limits=httpx.Limits(max_connections=60)) as c:
            async def one(n: int) -> int:
                if n % 2:
                    return (await c.post("/check", json={"case": LIVE, "as_of": "2024-12-31"})).status_code
                created = await c.post("/cases", json={**CASE, "case_id": f"POOL-{n}"})
                if created.status_code != 201:
                    return created.status_code
                return (await c.post(path(f"POOL-{n}") + "/events", json={"event": DECISION})).status_code
            return await asyncio.gather(*[one(n) for n in range(48)])

    started = time.monotonic()
    codes = asyncio.run(run())
    assert sorted(set(codes)) == [200, 409], codes
    assert time.monotonic() - started < 60
