"""The cheaper live step (issue 22, the API's speed): what it writes is what the ORM path wrote, and a
decision's replay judges against the store as it was when the step was judged."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from engine.cases import _deadline_context, new_case, record
from engine.loader import validate_case
from engine.store import Store
from engine.store.repo import append_event, load_with_party
from engine.store.deadlines import refresh_deadlines
from engine.store.tables import CaseRow, ChangeRow, DeadlineRow, EventRow
from engine.workflow import default_workflows
from test_store import DECISION, LIVE

ROOT = Path(__file__).resolve().parent.parent
REVIEW = {"type": "legal_review", "date": "2024-03-12", "reviewer": "R1", "result": "approved",
          "documents": ["法制审核意见书"]}
SERVED = {"type": "served", "date": "2024-03-14", "officers": ["O1", "O2"], "method": "direct",
              "certificates_shown": True, "documents": ["送达回证"]}
AT = dt.datetime(2026, 12, 1, 8, 30, 15, tzinfo=dt.timezone.utc)


class _Undo(Exception):
    pass


def _snapshot(session, pk: int) -> dict:
    def rows(model, order):
        table = model.__table__
        cols = [c for c in table.c if c.name != "id"]
        return [tuple(r) for r in session.execute(select(*cols).where(table.c.case_pk == pk).order_by(*order)).all()]

    case = session.execute(select(CaseRow.state, CaseRow.content_hash, CaseRow.head_hash, CaseRow.event_count,
                                  CaseRow.updated_at).where(CaseRow.id == pk)).one()
    return {"case": tuple(case), "events": rows(EventRow, [EventRow.seq]),
            "changes": rows(ChangeRow, [ChangeRow.at, ChangeRow.summary]),
            "deadlines": rows(DeadlineRow, [DeadlineRow.code, DeadlineRow.start, DeadlineRow.due])}


def _the_orm_way(store: Store, case_id: str, event: dict, actor: str) -> dict:
    """What the step wrote before: ``append_event`` (ORM objects) and ``refresh_deadlines``, rolled back."""
    seen: dict = {}
    try:
        with store.writing_case(case_id, "nkcgw") as (session, row):
            stored, _ = load_with_party(session, row)
            candidate, problems = validate_case({**stored, "events": stored["events"] + [event]}, "test")
            assert not problems
            payload = candidate.events[-1].model_dump(mode="json", exclude_none=True)
            append_event(session, row, candidate, payload, actor, default_workflows(), proof="platform")
            refresh_deadlines(session, row, candidate, _deadline_context())
            session.flush()
            seen = _snapshot(session, row.id)
            raise _Undo
    except _Undo:
        pass
    return seen


def test_a_live_step_writes_exactly_what_the_orm_path_wrote(url, monkeypatch):
    """Event (hash chain included), case row, change log and deadline rows — the publicity and decision
    deadlines a decision starts and the ones it meets — byte for byte, on SQLite and PostgreSQL."""
    import engine.store.repo as repo

    monkeypatch.setattr(repo, "now", lambda: AT)
    store = Store.open(url)
    new_case(store, LIVE, actor="O1")
    for event, actor in ((REVIEW, "R1"), (DECISION, "O1"), (SERVED, "O1")):
        before = _the_orm_way(store, "LIVE-1", copy.deepcopy(event), actor)
        result = record(store, "LIVE-1", copy.deepcopy(event), actor=actor, agency="nkcgw",
                        as_of=dt.date(2024, 12, 31), proof="platform")
        with store.reading() as s:
            pk = s.exec(select(CaseRow.id).where(CaseRow.case_id == "LIVE-1")).one()
            after = _snapshot(s, pk)
        assert after == before and before["events"][-1][1] == result.seq
        assert sorted((d["code"], d["start"], d["due"]) for d in result.deadlines) == \
            sorted((d[1], d[3], d[4]) for d in after["deadlines"])
    assert len(after["deadlines"]) >= 2 and any(d[2] for d in after["deadlines"])     # one with its platform
    store.close()


def _first_offence_cases() -> tuple[dict, dict]:
    """The prior penalised case of a party, and its second case of the matter exempted as a first
    offence (``first_offence.without_basis`` fires once the prior one is known)."""
    doc = yaml.safe_load((ROOT / "fixtures" / "rules" / "first_offence-without_basis.yaml").read_text("utf-8"))
    by_id = {c["case_id"]: c for c in doc["cases"]}
    prior = next(c for k, c in by_id.items() if k.startswith("FO-WB-参照-1a"))
    second = next(c for k, c in by_id.items() if k.startswith("FO-WB-违反-1"))
    return copy.deepcopy(prior), copy.deepcopy(second)


def test_replay_judges_against_the_store_as_it_was_when_the_step_was_judged(url):
    from fastapi.testclient import TestClient
    from urllib.parse import quote

    from engine.api import create_api_app
    from engine.api_clients import create_client
    from engine.decisions import replay
    from engine.services import check_documents

    prior, second = _first_offence_cases()
    at = next(i for i, e in enumerate(second["events"]) if e["type"] == "decided")
    decision = second["events"][at]
    as_of = decision["date"]
    # The later case changes the answer: judged together, the exemption has no basis.
    together = check_documents([prior, second], dt.date.fromisoformat(as_of))
    assert "first_offence.without_basis" in {f.rule_id for f in together.findings if f.case_id == second["case_id"]}
    alone = check_documents([second], dt.date.fromisoformat(as_of))
    assert "first_offence.without_basis" not in {f.rule_id for f in alone.findings}

    store = Store.open(url)
    token = create_client(store, "rw", ["nkcgw"], write=True, by="admin", expires=None)[1]
    new_case(store, {**second, "events": second["events"][:at]}, actor="O1")
    app = create_api_app(url)
    with TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"}) as c:
        r = c.post(f"/api/v1/cases/{quote(second['case_id'], safe='')}/events",
                   json={"event": decision, "officer": "O1", "as_of": as_of})
        assert r.status_code == 201, r.text
        decided = r.json()["decision_id"]
        logged = set(r.json()["findings"][i]["rule_id"] for i in range(len(r.json()["findings"])))
        assert "first_offence.without_basis" not in logged
        before = replay(store, decided)
        assert before.agrees and before.outcome == "accepted"
        # The party's earlier case is stored only now (an audit import of last year's file) …
        new_case(store, prior, actor="O1")
        # … and the guard would judge the same step differently today:
        with store.reading() as s:
            row = s.exec(select(CaseRow).where(CaseRow.case_id == second["case_id"])).one()
            _, others = load_with_party(s, row)
        assert [o["case_id"] for o in others] == [prior["case_id"]]
        again = replay(store, decided)
    app.state.casecheck_api.store.close()
    assert again.agrees, again
    assert again.outcome == "accepted" and "first_offence.without_basis" not in again.rule_ids
    assert again.rule_ids == before.rule_ids
    store.close()


def test_replay_of_a_record_logged_before_the_bound_reads_the_store_as_of_its_time(url):
    """A decision record without ``lookback_upto`` (logged before it was kept): the party's events
    recorded by the decision's time, to the second."""
    from engine import decisions, services

    prior, second = _first_offence_cases()
    at = next(i for i, e in enumerate(second["events"]) if e["type"] == "decided")
    decision = second["events"][at]
    store = Store.open(url)
    new_case(store, {**second, "events": second["events"][:at]}, actor="O1")
    result = record(store, second["case_id"], copy.deepcopy(decision), actor="O1", agency="nkcgw",
                    as_of=dt.date.fromisoformat(decision["date"]), proof="platform")
    payload = {"case_id": second["case_id"], "agency": "nkcgw", "officer": "O1", "event": decision,
               "as_of": decision["date"], "events_before": at, "lang": "zh"}
    decided = decisions.log_decision(store, kind="record", client="token:old", officer="O1", agency="nkcgw",
                                     case_id=second["case_id"], payload=payload, outcome="accepted",
                                     rule_ids=[f.rule_id for f in result.findings], stamp=services.stamp(),
                                     as_of=dt.date.fromisoformat(decision["date"]), lang="zh", event_seq=result.seq)
    import time

    time.sleep(1.1)                                     # the prior case is recorded a later second
    new_case(store, prior, actor="O1")
    again = decisions.replay(store, decided)
    assert again.agrees and "decision's time" in again.note, again
    store.close()
