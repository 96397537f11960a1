"""The API's live step through its ASGI app (SQLite and PostgreSQL): an accepted step and its
decision-log record are stored together or not at all; case ids with "/" and other reserved URL
characters are routable in the API (and in the web, whose case pages go by row id)."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import quote

import pytest
from sqlmodel import func, select

from engine.api_clients import create_client
from engine.store import Store
from engine.store.api_tables import DecisionRow
from engine.store.tables import CaseRow, EventRow
from test_store import DECISION, LIVE

pytest.importorskip("fastapi")

REVIEW = {"type": "legal_review", "date": "2024-03-12", "reviewer": "R1", "result": "approved",
          "documents": ["法制审核意见书"]}
ODD_IDS = ["南城管/2024/7", "津和城罚〔2024〕12号", "A?b#c%25 d+e&f=g;h", "x/events/y", "..%2F", "末尾/"]


@pytest.fixture
def api(url):
    from fastapi.testclient import TestClient

    from engine.api import create_api_app

    store = Store.open(url)
    token = create_client(store, "rw", ["nkcgw"], write=True, by="admin",
                          expires=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))[1]
    app = create_api_app(url)
    with TestClient(app, raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {token}", "X-Casecheck-Officer": "O1"}) as c:
        yield c, store
    app.state.casecheck_api.store.close()
    store.close()


def _counts(store: Store) -> tuple[int, int, int]:
    with store.reading() as s:
        return (s.exec(select(func.count()).select_from(EventRow)).one(),
                s.exec(select(func.count()).select_from(DecisionRow)).one(),
                s.exec(select(CaseRow.event_count)).one())


def _events_path(case_id: str) -> str:
    return f"/api/v1/cases/{quote(case_id, safe='')}/events"


def test_an_accepted_step_and_its_decision_record_are_stored_together_or_not_at_all(api, monkeypatch):
    import engine.decisions as decisions

    c, store = api
    assert c.post("/api/v1/cases", json=LIVE).status_code == 201
    before = _counts(store)
    real = decisions.decision_values

    def failing_row(**fields):                         # the record fails in the database, after the event
        row = real(**fields)
        if fields["outcome"] == "accepted":
            row["kind"] = None                         # NOT NULL: the insert fails in the step's transaction
        return row

    monkeypatch.setattr(decisions, "decision_values", failing_row)
    r = c.post(_events_path("LIVE-1"), json={"event": REVIEW, "officer": "R1"})
    assert r.status_code == 500, r.text
    assert _counts(store) == before                    # no event, no record, the case row untouched

    r = c.post(_events_path("LIVE-1"), json={"event": DECISION})       # refused: logged, nothing else stored
    assert r.status_code == 409
    events, records, count = _counts(store)
    assert (events, records, count) == (before[0], before[1] + 1, before[2])

    monkeypatch.setattr(decisions, "decision_values", real)
    r = c.post(_events_path("LIVE-1"), json={"event": REVIEW, "officer": "R1"})
    assert r.status_code == 201, r.text
    body = r.json()
    with store.reading() as s:
        record = s.get(DecisionRow, body["decision_id"])
        assert record.outcome == "accepted" and record.event_seq == body["event"]["seq"] == before[2] + 1
        assert json.loads(record.input)["events_before"] == before[2]
    assert _counts(store) == (before[0] + 1, before[1] + 2, before[2] + 1)
    assert body["deadlines_open"] == c.get("/api/v1/cases/LIVE-1").json()["deadlines"]


def _round_trip(c, store: Store, case_id: str, prefix: str = "/api/v1") -> None:
    """Store a case with this id, read it back by its Location and by its percent-encoded id, record
    two steps on it, and miss a similar id."""
    r = c.post(f"{prefix}/cases", json={**LIVE, "case_id": case_id})
    assert r.status_code == 201, r.text
    location = r.headers["location"]
    assert location.startswith("/api/v1/cases/") and "/" not in location[len("/api/v1/cases/"):].split("?")[0]
    got = c.get(prefix.removesuffix("/api/v1") + location)
    assert got.status_code == 200 and got.json()["case_id"] == case_id, (case_id, got.text)
    assert c.get(f"{prefix}/cases/{quote(case_id, safe='')}").json()["case_id"] == case_id
    events = f"{prefix}/cases/{quote(case_id, safe='')}/events"
    r = c.post(events, json={"event": REVIEW, "officer": "R1", "expected_event_count": 5})
    assert r.status_code == 201, r.text
    assert r.json()["case_id"] == case_id and r.headers["location"] == location
    r = c.post(events, json={"event": DECISION, "expected_event_count": 6})
    assert r.status_code == 201 and r.json()["event_count"] == 7
    with store.reading() as s:
        row = s.exec(select(CaseRow).where(CaseRow.case_id == case_id)).one()
        assert row.event_count == 7
    assert c.get(f"{prefix}/cases/{quote(case_id + 'x', safe='')}").status_code == 404


@pytest.mark.parametrize("case_id", [i for i in ODD_IDS if "%" not in i])      # TestClient decodes a path twice
def test_case_ids_with_reserved_url_characters_are_routable(api, case_id):
    _round_trip(*api, case_id)


def test_case_ids_with_reserved_url_characters_over_http(tmp_path):
    """The same through a real server process (uvicorn decodes the path once: "%" in an id works too)."""
    import httpx

    from apiserver import ApiServer

    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store.open(url)
    token = create_client(store, "rw", ["nkcgw"], write=True, by="admin",
                          expires=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))[1]
    with ApiServer(url) as server, httpx.Client(
            headers={"Authorization": f"Bearer {token}", "X-Casecheck-Officer": "O1"}, timeout=60) as c:
        for case_id in ODD_IDS:
            _round_trip(c, store, case_id, server.base)
    store.close()


def test_the_published_openapi_names_the_case_path_once_and_says_how_to_encode_it(api):
    c, _ = api
    doc = c.get("/api/v1/openapi.json").json()
    assert "/api/v1/cases/{case_id}" in doc["paths"] and "/api/v1/cases/{case_id}/events" in doc["paths"]
    assert not [p for p in doc["paths"] if ":path" in p]
    [param] = [p for p in doc["paths"]["/api/v1/cases/{case_id}"]["get"]["parameters"] if p["name"] == "case_id"]
    assert param["in"] == "path" and "%2F" in param["description"]


def test_the_web_case_page_of_an_id_with_a_slash(tmp_path):
    """The web's case links go by row id; the id itself (with "/" and 〔〕) is shown, escaped, on the page
    and found by the list's search."""
    from sqlmodel import select as sselect

    from engine.cases import new_case
    from engine.web.app import create_app
    from webkit import client, demo_store

    url = f"sqlite:///{tmp_path / 'store.db'}"
    demo_store(url)
    store = Store.open(url, migrate=False)
    case_id = "学府城管/罚〔2024〕<b>7</b>号"
    new_case(store, {**LIVE, "case_id": case_id, "agency": {"code": "xuefu", "name": "学府街道办事处"}},
             actor="O1")
    with store.reading() as s:
        pk = s.exec(sselect(CaseRow.id).where(CaseRow.case_id == case_id)).one()
    store.close()
    c = client(create_app(url), "zhou")
    listed = c.get("/cases", params={"q": "学府城管/罚"})
    assert listed.status_code == 200 and f'href="/cases/{pk}"' in listed.text
    page = c.get(f"/cases/{pk}")
    assert page.status_code == 200
    assert "学府城管/罚〔2024〕&lt;b&gt;7&lt;/b&gt;号" in page.text and "<b>7</b>" not in page.text
