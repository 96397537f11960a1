"""People are persons, not officer ids (issues 17–21, follow-ups): a case file may list one person under two
officer ids (the same certificate number, 执法证号); the legal review's independence, the live guard and
"my cases" compare persons (``engine.persons.certificate_key``: NFKC, spaces, case)."""

from __future__ import annotations

import copy
import datetime as dt
from urllib.parse import quote

import pytest
from sqlmodel import select

from engine.cases import RecorderRefused, StepRefused, new_case, record
from engine.loader import load_paths
from engine.store import Store
from engine.store.tables import EventRow
from conftest import ROOT
from test_store import DECISION, LIVE

RULE = "legal_review.reviewer_independent"
FIXTURES = ROOT / "fixtures" / "rules" / "legal_review-reviewer_independent.yaml"


def test_certificate_key_is_the_one_comparison():
    from engine.persons import certificate_key
    from engine.users import certificate_key as users_key

    assert certificate_key(" 津执０２００１ ") == certificate_key("津执02001") == "津执02001"
    assert certificate_key("津执（ab）\t01") == certificate_key("津执(AB)01")
    assert certificate_key(None) == certificate_key("") == ""
    assert users_key is certificate_key


@pytest.mark.parametrize("engine", ["oracle", "durable"])
def test_a_reviewer_listed_under_another_id_of_an_investigator_is_not_independent(make_checker, engine):
    """Both engines: the reviewer R1 holds O1's certificate (as written, or full-width with a space): one
    person, who registered, inspected and notified; the finding names both ids and the certificate."""
    loaded = load_paths([FIXTURES])
    assert not loaded.problems
    results = list(make_checker(engine=engine, workers=1).check(loaded.cases))
    messages = {r.loaded.case.case_id: [f.message for f in r.findings if f.rule_id == RULE] for r in results}
    for case_id in ("LR-IND-违反-2 调查人员以另一编号审核", "LR-IND-违反-3 审核人证号写法不同（全角、空格）"):
        [text] = messages[case_id]
        assert "R1、O1（津执02001） 执法证号相同，是同一人" in text and "审核与调查应当分离" in text, text
    [own] = messages["LR-IND-违反-1 调查人员审核"]                     # the investigator's own id: as before
    assert "其本人参与了本案" in own and "执法证号相同" not in own
    assert messages["LR-IND-合规-2 审核人与调查人员证号不同"] == []
    assert messages["LR-IND-合规-3 同一审核人列两个编号、未参与调查"] == []


@pytest.mark.parametrize("engine", ["oracle", "durable"])
def test_a_hearing_host_listed_under_another_id_of_an_investigator_is_not_independent(make_checker, engine):
    loaded = load_paths([ROOT / "fixtures" / "rules" / "procedure-hearing_host_independent.yaml"])
    results = list(make_checker(engine=engine, workers=1).check(loaded.cases))
    messages = {r.loaded.case.case_id: [f.message for f in r.findings if f.rule_id == "procedure.hearing_host_independent"]
                for r in results}
    [text] = messages["HOST-违反-2 调查人员以另一编号主持听证"]
    assert "由 H1 王某 主持，但 H1、O1（津执02001） 执法证号相同，是同一人" in text, text
    [own] = messages["HOST-违反-1 调查人员主持听证"]
    assert "由 O1 王某 主持，其参与了本案调查" in own
    assert messages["HOST-合规-2 主持人与调查人员证号不同"] == []


def _case() -> dict:
    """LIVE-1 with a fourth officer, R3: O1 (王某, 津执1), who investigated, listed again under a reviewer's
    id with the certificate written in full-width digits."""
    case = copy.deepcopy(LIVE)
    case["officers"].append({"id": "R3", "name": "王某", "certificate": "津执１", "certificate_valid_until": "2026-06-30",
                             "legal_qualification": True})
    return case


def _events(store) -> int:
    with store.reading() as s:
        return len(s.exec(select(EventRow)).all())


def test_the_live_guard_refuses_a_review_recorded_by_an_investigator_under_another_id(url):
    store = Store.open(url)
    new_case(store, _case(), actor="王某")
    before = _events(store)
    review = {"type": "legal_review", "date": "2024-03-12", "reviewer": "R3", "result": "approved",
              "documents": ["法制审核意见书"]}
    with pytest.raises(RecorderRefused) as refused:
        record(store, "LIVE-1", dict(review), actor="R3")
    text = str(refused.value)
    assert "R3、O1（津执1） 执法证号相同，是同一人" in text and "不能记录法制审核" in text
    assert RULE in text and "第五十八条" in text and refused.value.rule_id == RULE
    zh, en = text.split(" / ", 1)
    assert RULE in zh and "第五十八条" in zh and "one certificate number, so are one person" in en
    assert _events(store) == before
    # recorded by the independent R1, the review still names R3 (O1 again): the decision is refused by the rule
    record(store, "LIVE-1", dict(review), actor="R1")
    with pytest.raises(StepRefused) as blocked:
        record(store, "LIVE-1", dict(DECISION), actor="O1")
    assert [f.rule_id for f in blocked.value.findings] == [RULE]
    assert "R3、O1（津执1） 执法证号相同，是同一人" in blocked.value.findings[0].message
    assert _events(store) == before + 1
    record(store, "LIVE-1", {**review, "reviewer": "R1", "date": "2024-03-13"}, actor="R1")
    assert record(store, "LIVE-1", {**DECISION, "date": "2024-03-13"}, actor="O1").state == "decided"
    store.close()


def test_the_web_and_the_api_refuse_it_with_the_rule_and_its_article(tmp_path):
    """A login who is O1 and R3 (one certificate) acting as R3: the record form and the API refuse the
    legal review, naming the rule id and the article; nothing is stored. The independent reviewer may."""
    from engine.users import add_user
    from engine.web.app import create_app
    from webkit import PASSWORD, client, form_csrf

    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store.open(url)
    new_case(store, _case(), actor="王某")
    add_user(store, "wang3", "王某", PASSWORD, roles=["legal_reviewer"], agencies=["nkcgw"], officer_id="R3",
             certificate="津执1")
    add_user(store, "sun", "孙某", PASSWORD, roles=["legal_reviewer"], agencies=["nkcgw"], certificate="津执3")
    app = create_app(url)
    from engine.store.tables import CaseRow

    with store.reading() as s:
        pk = s.exec(select(CaseRow.id).where(CaseRow.case_id == "LIVE-1")).one()
    before = _events(store)
    review = {"type": "legal_review", "date": "2024-03-12", "reviewer": "R1", "result": "approved",
              "documents": "法制审核意见书"}
    wang = client(app, "wang3")
    r = wang.post(f"/cases/{pk}/record", data={"csrf": form_csrf(wang), "expect": str(before), **review})
    assert r.status_code == 409 and RULE in r.text and "第五十八条" in r.text, r.text[:2000]
    assert "R3、O1（津执1） 执法证号相同，是同一人" in r.text
    api = wang.post(f"/api/v1/cases/{quote('LIVE-1', safe='')}/events",
                    json={"event": {**review, "documents": ["法制审核意见书"]}},
                    headers={"X-CSRF-Token": form_csrf(wang)})
    body = api.json()
    assert api.status_code == 403 and body["type"].endswith("recorder-refused"), api.text
    assert body["rule_id"] == RULE and "第五十八条" in body["detail"] and "同一人" in body["detail"]
    assert RULE in body["detail_en"] and "one person" in body["detail_en"]
    assert _events(store) == before
    sun = client(app, "sun")
    r = sun.post(f"/cases/{pk}/record", data={"csrf": form_csrf(sun), "expect": str(before), **review})
    assert r.status_code == 303, r.text[:2000]
    assert _events(store) == before + 1
    store.close()


# ---------------------------------------------------------------------------------------------- my cases
def _mine_store(url: str) -> tuple[Store, dict[str, int], dict[str, object]]:
    """Two open 学府街道 cases with a deadline due soon (the demo's 903, publicity): in A, O1 holds 津执02001;
    in B, O1 holds 津执（甲）07718 (full-width brackets, which a case file keeps as written). Logins with
    those certificates written otherwise: full-width digits, ASCII brackets."""
    from engine.calendar import default_calendar
    from engine.store.tables import CaseRow
    from engine.users import add_user
    from engine.web.demo import demo_cases
    from webkit import PASSWORD

    store = Store.open(url)
    today = min(dt.date.today(), dt.date(max(default_calendar().years), 12, 20))
    template = demo_cases(today)[2]
    pks = {}
    for name, cert in (("A", "津执02001"), ("B", "津执（甲）07718")):
        case = copy.deepcopy(template)
        case["case_id"] = f"津南学罚〔{today.year}〕95{ord(name) - 64}号"
        case["officers"][0]["certificate"] = cert
        new_case(store, case, actor="导入员")
        with store.reading() as s:
            pks[name] = s.exec(select(CaseRow.id).where(CaseRow.case_id == case["case_id"])).one()
    users = {"fw1": add_user(store, "fw1", "周某甲", PASSWORD, roles=["officer"], agencies=["xuefu"],
                             certificate="津执０２００１"),
             "fw2": add_user(store, "fw2", "周某甲", PASSWORD, roles=["officer"], agencies=["xuefu"],
                             certificate=" 津执(甲)０７７１８")}
    return store, pks, users


def test_my_cases_deadlines_and_feed_match_a_certificate_as_the_step_does(url):
    """A login's certificate written with full-width digits (津执０２００１) or ASCII brackets finds the cases
    whose officer holds it as stored (津执02001, 津执（甲）07718): the case list's "mine", the dashboard's
    cases and cards, and the calendar feed; each login only its own; and the step agrees (acting_officer)."""
    from engine.store.tables import OfficerRow
    from engine.users import acting_officer
    from engine.web.app import create_app
    from webkit import client, form_csrf

    store, pks, users = _mine_store(url)
    app = create_app(url)
    for login, own, other in (("fw1", "A", "B"), ("fw2", "B", "A")):
        c = client(app, login)
        mine, board = c.get("/cases?mine=1").text, c.get("/").text
        assert f"/cases/{pks[own]}\"" in mine and f"/cases/{pks[other]}\"" not in mine, (login, mine[-3000:])
        assert f"/cases/{pks[own]}" in board and f"/cases/{pks[other]}" not in board
        r = c.post("/feed/new", data={"csrf": form_csrf(c)})
        path = r.text.split('class="feed-url">', 1)[1].split("<", 1)[0].split("/ics/", 1)[1]
        feed = client(app).get(f"/ics/{path}").text
        number = f"95{ord(own) - 64}号"
        assert "BEGIN:VEVENT" in feed and number in feed and f"95{ord(other) - 64}号" not in feed, feed
        user = users[login]
        with store.reading() as s:
            officers = s.exec(select(OfficerRow.officer_id, OfficerRow.name, OfficerRow.certificate)
                              .where(OfficerRow.case_pk == pks[own])).all()
        assert acting_officer(user, officers) == "O1"
    store.close()


def test_revision_0013_backfills_the_certificate_key_and_verify_checks_it(tmp_path):
    """A store at 0012 (no key column) migrated to 0013: every officer row gets its key; verify recomputes
    it from the case header and names a row whose key was changed behind the engine's back."""
    from importlib import resources

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from engine.store.audit import verify_store

    def verify(session):
        return verify_store(session, derived=True, trail=False).broken

    url = f"sqlite:///{tmp_path / 'store.db'}"
    store, _, _ = _mine_store(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("engine.store").joinpath("migrations")))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
    store.close()
    store = Store.open(url)                                  # upgrades to the head: 0013 backfills
    with store.reading() as s:
        keys = dict(s.execute(text("SELECT certificate, certificate_key FROM officers")).all())
        assert keys["津执（甲）07718"] == "津执(甲)07718" and keys["津执02001"] == "津执02001"
        assert verify(s) == []
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE officers SET certificate_key = 'X' WHERE certificate = '津执02001'"))
    with store.reading() as s:
        assert any("officers" in str(p) for p in verify(s))
    store.close()
