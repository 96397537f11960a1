"""The web workspace through its ASGI app (no browser): logins, sessions, CSRF, rate limit, headers, scope,
recording a step through the live guard, import, review and downloads, the calendar feed, the user CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from urllib.parse import quote

import pytest

from webkit import PASSWORD, ROOT, case_pk, client, csrf_of, demo_store, form_csrf, form_values

pytest.importorskip("fastapi")


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'store.db'}"
    demo_store(url)
    return url


@pytest.fixture(scope="module")
def app(store_url):
    from engine.web.app import create_app

    return create_app(store_url)


def _events(store_url: str, pk: int) -> int:
    from engine.store import Store
    from engine.store.tables import CaseRow

    with Store.open(store_url, migrate=False).reading() as session:
        return session.get(CaseRow, pk).event_count


# ---------------------------------------------------------------------------------------------- logins
def test_pages_need_a_login_and_the_login_sets_a_safe_cookie(app):
    c = client(app)
    r = c.get("/cases")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/cases"
    page = c.get("/login")
    r = c.post("/login", data={"login": "zhou", "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/cases"})
    assert r.status_code == 303 and r.headers["location"] == "/cases"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("cc_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert c.get("/cases").status_code == 200


def test_login_form_needs_its_csrf_and_next_is_never_another_site(app):
    c = client(app)
    c.get("/login")
    r = c.post("/login", data={"login": "zhou", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 200 and "cc_session" not in r.headers.get("set-cookie", "")
    page = c.get("/login")
    r = c.post("/login", data={"login": "zhou", "password": PASSWORD, "csrf": csrf_of(page.text),
                               "next": "//evil.example/x"})
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_wrong_password_refused_and_logged_then_rate_limited_in_the_store(app, store_url):
    from sqlmodel import select

    from engine.store import Store
    from engine.store.users import LoginAttemptRow
    from engine.users import add_user

    add_user(Store.open(store_url, migrate=False), "locked1", "锁定", PASSWORD, roles=["head"], agencies=["xuefu"])
    c = client(app)
    for n in range(5):
        page = c.get("/login")
        r = c.post("/login", data={"login": "locked1", "password": f"wrong-{n}", "csrf": csrf_of(page.text)})
        assert r.status_code == 401 and "登录名或密码错误" in r.text
    page = c.get("/login")
    r = c.post("/login", data={"login": "locked1", "password": PASSWORD, "csrf": csrf_of(page.text)})
    assert r.status_code == 429 and "登录失败次数过多" in r.text       # even the right password, for now
    with Store.open(store_url, migrate=False).reading() as session:
        attempts = session.exec(select(LoginAttemptRow).where(LoginAttemptRow.login == "locked1")).all()
    assert [a.ok for a in attempts] == [False] * 6
    # another app object on the same store (another process) sees the same counter
    from engine.web.app import create_app

    other = client(create_app(store_url))
    page = other.get("/login")
    r = other.post("/login", data={"login": "locked1", "password": PASSWORD, "csrf": csrf_of(page.text)})
    assert r.status_code == 429


def test_sessions_live_in_the_store_expire_and_end_at_logout(app, store_url):
    from sqlalchemy import update

    from engine.store import Store
    from engine.store.users import SessionRow
    from engine.web.app import create_app

    c = client(app, "zhou")
    token = c.cookies.get("cc_session")
    other = client(create_app(store_url))            # a second server process on the same store
    other.cookies.set("cc_session", token)
    assert other.get("/").status_code == 200
    r = c.post("/logout", data={"csrf": form_csrf(c)})
    assert r.status_code == 303
    assert other.get("/").status_code == 303           # logged out everywhere
    c2 = client(app, "zhou")
    with Store.open(store_url, migrate=False).writing() as session:
        session.execute(update(SessionRow).values(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)))
    assert c2.get("/").status_code == 303              # expired


def test_every_form_post_needs_the_sessions_csrf_token(app):
    c = client(app, "zhou")
    for path in ("/logout", "/feed/new", "/feed/revoke", "/import"):
        assert c.post(path, data={"csrf": "forged"}).status_code == 403, path
        assert c.post(path, data={}).status_code == 403, path
    assert c.get("/").status_code == 200               # still logged in: the forged logout did nothing


def test_security_headers(app):
    c = client(app, "zhou")
    for path in ("/login", "/", "/cases", "/static/app.css"):
        h = c.get(path).headers
        csp = h["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"


def test_disabled_user_cannot_log_in_and_loses_sessions(app, store_url):
    from engine.store import Store
    from engine.users import add_user, disable_user

    add_user(Store.open(store_url, migrate=False), "temp1", "临时", "temp-pass-1", roles=["officer"], agencies=["xuefu"],
             certificate="津执77777")
    c = client(app, "temp1", "temp-pass-1")
    assert c.get("/").status_code == 200
    disable_user(Store.open(store_url, migrate=False), "temp1")
    assert c.get("/").status_code == 303
    page = c.get("/login")
    assert c.post("/login", data={"login": "temp1", "password": "temp-pass-1",
                                  "csrf": csrf_of(page.text)}).status_code == 401


# ---------------------------------------------------------------------------------------------- scope
def test_a_case_of_another_agency_is_not_found_by_any_route(app, store_url):
    xuefu = case_pk(store_url, "津南学罚〔2026〕903", "xuefu")
    c = client(app, "chengguan")                       # an officer of nkcgw
    for path in (f"/cases/{xuefu}", f"/cases/{xuefu}/record", f"/cases/{xuefu}/record?type=decided"):
        r = c.get(path)
        assert r.status_code == 404 and "津南学罚" not in r.text, path
    r = c.post(f"/cases/{xuefu}/record", data={"csrf": form_csrf(c), "type": "closed", "expect": "1",
                                               "date": "2026-01-01"})
    assert r.status_code == 404
    listing = c.get("/cases").text
    assert "津南学罚" not in listing and "津南城管" in listing
    assert "津南学罚" not in c.get("/alerts?as_of=2024-06-30&within=60").text
    for guess in range(1, 60):                         # guessing ids: only nkcgw cases answer
        r = c.get(f"/cases/{guess}")
        assert r.status_code in (200, 404) and ("津南学罚" not in r.text)


def test_a_supervisor_sees_every_agency_of_the_district(app, store_url):
    c = client(app, "jiandu")
    text = c.get("/").text
    assert "xuefu" in text and "nkcgw" in text
    assert c.get(f"/cases/{case_pk(store_url, '津南学罚〔2026〕903', 'xuefu')}").status_code == 200
    assert c.get(f"/cases/{case_pk(store_url, '津南城管', 'nkcgw')}").status_code == 200


# ---------------------------------------------------------------------------------------------- record
def _decision(csrf: str, expect: int, day: str) -> dict:
    return {"csrf": csrf, "type": "decided", "expect": str(expect), "date": day, "officers": ["O1", "O2"],
            "outcome": "penalty", "penalty.kind": "fine", "penalty.amount": "500", "document": "津南学罚决〔2026〕901号"}


def test_record_refused_without_review_then_review_then_decision(app, store_url):
    pk = case_pk(store_url, "津南学罚〔2026〕901", "xuefu")
    today = dt.date.today().isoformat()
    before = _events(store_url, pk)
    officer = client(app, "zhou")
    page = officer.get(f"/cases/{pk}/record?type=decided")
    assert page.status_code == 200 and f'name="expect" value="{before}"' in page.text
    r = officer.post(f"/cases/{pk}/record", data=_decision(csrf_of(page.text), before, today))
    assert r.status_code == 422
    assert "legal_review.required_before_decision" in r.text and "第五十八条" in r.text and "未保存任何内容" in r.text
    assert _events(store_url, pk) == before                         # nothing stored
    # the officer may not record the legal review (an investigator): refused, nothing stored
    review = {"csrf": csrf_of(page.text), "type": "legal_review", "expect": str(before), "date": today,
              "reviewer": "R1", "result": "approved", "documents": "法制审核意见书"}
    r = officer.post(f"/cases/{pk}/record", data=review)
    assert r.status_code == 409 and "不能记录法制审核" in r.text
    assert _events(store_url, pk) == before
    reviewer = client(app, "lin")
    review["csrf"] = form_csrf(reviewer)
    r = reviewer.post(f"/cases/{pk}/record", data=review)
    assert r.status_code == 303, r.text[:2000]
    assert _events(store_url, pk) == before + 1
    # the officer's old form (it saw `before` events) is refused: someone recorded meanwhile
    r = officer.post(f"/cases/{pk}/record", data=_decision(csrf_of(page.text), before, today))
    assert r.status_code == 409 and "已被他人更新" in r.text
    r = officer.post(f"/cases/{pk}/record", data=_decision(csrf_of(page.text), before + 1, today))
    assert r.status_code == 303
    case_page = officer.get(f"/cases/{pk}").text
    assert "作出决定" in case_page and _events(store_url, pk) == before + 2
    from engine.cases import show

    from engine.store import Store
    _, _, events = show(Store.open(store_url, migrate=False), "津南学罚〔2026〕901号", "xuefu")
    assert [e.recorded_by for e in events[-2:]] == ["R1", "O1"]      # who was logged in, not a form field
    assert [e.proof for e in events[-2:]] == ["authenticated", "authenticated"]   # proven by the login


def test_record_needs_a_recording_role_and_an_officer_id(app, store_url):
    pk = case_pk(store_url, "津南学罚〔2026〕902", "xuefu")
    assert client(app, "pingcha").get(f"/cases/{pk}/record").status_code == 403
    head = client(app, "head")                         # may record, but is not linked to an officer id
    r = head.post(f"/cases/{pk}/record", data={"csrf": form_csrf(head), "type": "publicized",
                                               "expect": str(_events(store_url, pk)), "date": "2026-11-30",
                                               "platform": "supervision_platform"})
    assert r.status_code == 409 and "未关联执法人员编号" in r.text


def test_a_recorded_step_is_corrected_in_the_browser_with_a_reason_judged_by_the_guard(tmp_path):
    """The case page links each event to its correction form, filled with the event as it stands; the
    correction needs a reason, is judged by the live guard on a live case (a correction that takes away the
    decision's approved review is refused with the rule and its article), is refused on a stale form, and
    is stored as a new entry by the logged-in officer, the original kept and the reason in the history."""
    from engine.cases import show
    from engine.store import Store
    from engine.web.app import create_app

    store_url = f"sqlite:///{tmp_path / 'store.db'}"                # its own store: it changes a case
    demo_store(store_url)
    app = create_app(store_url)
    pk = case_pk(store_url, "津南学罚〔2026〕903", "xuefu")
    officer = client(app, "zhou")
    r = officer.post(f"/cases/{pk}/record", data={           # a live step: the case is now live, its
        "csrf": form_csrf(officer), "type": "publicized",     # corrections judged by the guard
        "expect": str(_events(store_url, pk)), "date": dt.date.today().isoformat(), "platform": "supervision_platform"})
    assert r.status_code == 303, r.text[:2000]
    page = officer.get(f"/cases/{pk}")
    assert f'href="/cases/{pk}/correct/4"' in page.text and f'href="/cases/{pk}/correct/7"' in page.text
    form = officer.get(f"/cases/{pk}/correct/4")
    assert form.status_code == 200 and "更正第 4 个环节" in form.text and 'name="correction_reason"' in form.text
    assert "询问笔录</textarea>" in form.text and 'value="O2" checked' in form.text      # the event's values
    before = _events(store_url, pk)
    inquired = {"csrf": csrf_of(form.text), "type": "inquired", "expect": str(before), "officers": ["O1", "O2"],
                "date": form.text.split('name="date" value="')[1][:10], "certificates_shown": "true",
                "documents": "询问笔录\n询问笔录（第二次）"}
    r = officer.post(f"/cases/{pk}/correct/4", data=inquired)                   # no reason
    assert r.status_code == 422 and "更正须说明理由" in r.text and _events(store_url, pk) == before
    review = officer.get(f"/cases/{pk}/correct/7")
    assert 'value="approved" selected' in review.text
    r = officer.post(f"/cases/{pk}/correct/7", data={
        "csrf": csrf_of(review.text), "type": "legal_review", "expect": str(before), "reviewer": "R1",
        "result": "rejected", "date": review.text.split('name="date" value="')[1][:10],
        "documents": "法制审核意见书", "correction_reason": "审核结论录错"})
    assert r.status_code == 422 and "legal_review.required_before_decision" in r.text and "第五十八条" in r.text
    assert "未保存任何内容" in r.text and _events(store_url, pk) == before
    r = officer.post(f"/cases/{pk}/correct/4", data={**inquired, "expect": str(before - 1),
                                                     "correction_reason": "补录第二次询问笔录"})
    assert r.status_code == 409 and "已被他人更新" in r.text and _events(store_url, pk) == before
    r = officer.post(f"/cases/{pk}/correct/4", data={**inquired, "correction_reason": "补录第二次询问笔录"})
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{pk}?corrected=4&by={before + 1}"
    page = officer.get(r.headers["location"])
    assert "已更正第 4 个环节" in page.text and "询问笔录（第二次）" in page.text and f"已更正（第 {before + 1} 条）" in page.text
    assert "补录第二次询问笔录" in page.text                                        # the reason, in the history
    assert "<em>拟处罚种类</em> 罚款" in page.text and "<em>罚款金额</em> 500" in page.text   # nested fields labelled
    _, _, events = show(Store.open(store_url, migrate=False), "津南学罚〔2026〕903号", "xuefu")
    last = events[-1]
    assert (last.seq, last.corrects, last.recorded_by, last.proof) == (before + 1, 4, "O1", "authenticated")
    assert "询问笔录（第二次）" not in events[3].payload                               # the original, kept as it was
    again = officer.get(f"/cases/{pk}/correct/4")                                   # the event as it stands now
    assert "询问笔录（第二次）</textarea>" in again.text
    assert officer.get(f"/cases/{pk}/correct/{before + 1}").status_code == 404     # a correction is not corrected
    assert officer.get(f"/cases/{pk}/correct/999").status_code == 404
    assert client(app, "pingcha").get(f"/cases/{pk}/correct/4").status_code == 403


def test_the_case_header_is_corrected_in_the_browser_only_what_changed_judged_by_the_guard(tmp_path):
    """The header form shows every correctable field as it stands (no case number, no agency code); only the
    fields changed are corrected (the history names each, old → new, with the reason); a correction that a
    rule blocking one of the live case's steps then fails on is refused with the rule; an unchanged form,
    a missing reason and a stale form store nothing."""
    from engine.cases import show
    from engine.store import Store
    from engine.web.app import create_app

    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    demo_store(store_url)
    app = create_app(store_url)
    pk = case_pk(store_url, "津南学罚〔2026〕903", "xuefu")
    officer = client(app, "zhou")
    r = officer.post(f"/cases/{pk}/record", data={"csrf": form_csrf(officer), "type": "publicized",
                                                 "expect": str(_events(store_url, pk)),
                                                 "date": dt.date.today().isoformat(), "platform": "supervision_platform"})
    assert r.status_code == 303                                        # a live case
    assert f'href="/cases/{pk}/correct-header"' in officer.get(f"/cases/{pk}").text
    page = officer.get(f"/cases/{pk}/correct-header")
    assert page.status_code == 200 and "更正案件信息" in page.text and "津南学罚〔2026〕903号" in page.text
    values = form_values(page.text)                                    # what the browser would post back
    labels = dict(re.findall(r'<label for="f-(h\.\d+)">([^<]+)</label>', page.text))
    name_of = {label: name for name, label in labels.items()}
    assert values[name_of["当事人名称或姓名"]] == "钱某" and values[name_of["证件号码或统一社会信用代码"]] == "120104198001010033"
    assert values[name_of["当事人类型"]] == "person" and values[name_of["办案程序"]] == "ordinary"
    assert "执法机关代码" not in labels.values() and "xuefu" not in values.values()  # the identity is not a field
    before = _events(store_url, pk)

    def post(**fields):
        data = {**values, "expect": str(before)}
        for label, text in fields.items():
            data[name_of.get(label, label)] = text
        return officer.post(f"/cases/{pk}/correct-header", data=data)

    r = post(correction_reason="无改动")
    assert r.status_code == 422 and "与现有相同" in r.text and _events(store_url, pk) == before
    r = post(**{"当事人名称或姓名": "钱某某"})
    assert r.status_code == 422 and "更正须说明理由" in r.text and _events(store_url, pk) == before
    r = post(**{"违法行为发生日期": "2020-01-01", "correction_reason": "发生日期录错"})   # beyond the limitation period
    assert r.status_code == 422 and "未保存任何内容" in r.text and "deadline.limitation_period" in r.text
    assert _events(store_url, pk) == before
    r = post(**{"当事人名称或姓名": "钱某某", "correction_reason": "当事人姓名录错", "expect": str(before - 1)})
    assert r.status_code == 409 and "已被他人更新" in r.text and _events(store_url, pk) == before
    r = post(**{"当事人名称或姓名": "钱某某", "correction_reason": "当事人姓名录错"})
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{pk}?header_corrected={before + 1}"
    shown = officer.get(r.headers["location"]).text
    assert "已更正案件信息" in shown and "钱某某（自然人，120104198001010033）" in shown and "当事人姓名录错" in shown
    row, case, events = show(Store.open(store_url, migrate=False), "津南学罚〔2026〕903号", "xuefu")
    assert (events[-1].corrects, events[-1].recorded_by, events[-1].proof) == (0, "O1", "authenticated")
    assert case.party.name == "钱某某" and case.party.id == "120104198001010033"    # only what was changed


def test_a_login_is_a_person_not_a_case_files_officer_code(tmp_path):
    """O1 is each case file's own code: 周某甲 (zhou, certificate 津执07718) is O1 of the open demo cases but
    not of 津南学罚〔2024〕9号, whose O1 is 林某甲 (津执04050). There zhou may not record or correct a step, by
    the pages or by the API with the session; the case is not among "my cases" and shows no record links.
    A login without a certificate number acts as its officer id only where that officer has its name."""
    from engine.store import Store
    from engine.users import add_user
    from engine.web.app import create_app

    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    demo_store(store_url)
    app = create_app(store_url)
    other = case_pk(store_url, "津南学罚〔2024〕9号", "xuefu")
    own = case_pk(store_url, "津南学罚〔2026〕903", "xuefu")
    zhou = client(app, "zhou")
    before = _events(store_url, other)
    publicized = {"type": "publicized", "date": dt.date.today().isoformat(), "platform": "supervision_platform"}
    r = zhou.post(f"/cases/{other}/record", data={"csrf": form_csrf(zhou), "expect": str(before), **publicized})
    assert r.status_code == 409 and "不是本案的执法人员" in r.text and _events(store_url, other) == before
    assert zhou.get(f"/cases/{other}/correct/1").text.count("不是本案的执法人员") == 1     # said before typing
    r = zhou.post(f"/cases/{other}/correct/1", data={"csrf": form_csrf(zhou), "expect": str(before), "type": "discovered",
                                                    "date": "2024-01-02", "correction_reason": "x"})
    assert r.status_code == 409 and _events(store_url, other) == before
    page = zhou.get(f"/cases/{other}").text
    assert f"/cases/{other}/record" not in page and f"/cases/{other}/correct/" not in page
    mine = zhou.get("/cases?mine=1").text
    assert "津南学罚〔2026〕903号" in mine and "津南学罚〔2024〕9号" not in mine
    api = zhou.post(f"/api/v1/cases/{quote('津南学罚〔2024〕9号', safe='')}/events",
                    json={"event": publicized}, headers={"X-CSRF-Token": form_csrf(zhou)})
    assert api.status_code == 403 and api.json()["type"].endswith("not-case-officer"), api.text
    assert _events(store_url, other) == before
    ok = zhou.post(f"/api/v1/cases/{quote('津南学罚〔2026〕903号', safe='')}/events",
                   json={"event": publicized}, headers={"X-CSRF-Token": form_csrf(zhou)})
    assert ok.status_code == 201, ok.text                               # their own case: as its O1
    store = Store.open(store_url, migrate=False)
    add_user(store, "onlycert", "周某甲", PASSWORD, roles=["officer"], agencies=["xuefu"], certificate="津执０７７１８")
    add_user(store, "boss", "负责人", PASSWORD, roles=["head"], agencies=["xuefu"])
    onlycert, boss = client(app, "onlycert"), client(app, "boss")
    paid = {"type": "paid", "date": dt.date.today().isoformat(), "amount": "500"}
    r = onlycert.post(f"/api/v1/cases/{quote('津南学罚〔2026〕903号', safe='')}/events", json={"event": paid},
                      headers={"X-CSRF-Token": form_csrf(onlycert)})      # a certificate alone: no code to name
    assert r.status_code == 201 and r.json()["event"]["recorded_by"] == "O1", r.text
    r = boss.post(f"/api/v1/cases/{quote('津南学罚〔2026〕903号', safe='')}/events", json={"event": paid},
                  headers={"X-CSRF-Token": form_csrf(boss), "X-Casecheck-Officer": "O1"})   # no person: names no one
    assert r.status_code == 403 and r.json()["type"].endswith("not-case-officer"), r.text
    r = zhou.post("/api/v1/imports", headers={"X-CSRF-Token": form_csrf(zhou), "X-Casecheck-Officer": "Z3"},
                  files=[("files", ("a.json", _case_json("津南学检〔2024〕P1号"), "application/json"))])
    assert r.status_code == 403 and r.json()["type"].endswith("officer-mismatch"), r.text
    assert "/cases/" in zhou.get("/cases?mine=1").text
    # no certificate: the officer id counts only where that officer has the user's name
    add_user(Store.open(store_url, migrate=False), "lin2", "林某甲", PASSWORD, roles=["officer"], agencies=["xuefu"],
             officer_id="O1")
    lin2 = client(app, "lin2")
    r = lin2.post(f"/cases/{own}/record", data={"csrf": form_csrf(lin2), "expect": str(_events(store_url, own)),
                                                "type": "paid", "date": dt.date.today().isoformat(), "amount": "500"})
    assert r.status_code == 409 and "本案的 O1 是周某甲" in r.text
    r = lin2.post(f"/cases/{other}/record", data={"csrf": form_csrf(lin2), "expect": str(before), **publicized})
    assert r.status_code == 303, r.text[:1500]


def test_every_field_and_choice_of_every_step_form_has_its_words_in_both_languages():
    """A new field or choice of an event type shows up in its form (derived from the model): it must come
    with its Chinese and English words, never as its code (``ordinary`` is 一般 as a discretion level)."""
    from engine.model import EVENT_TYPES
    from engine.web.forms import FIELD_LABELS, fields_for

    for event_type in EVENT_TYPES:
        for f in fields_for(event_type):
            assert f.name in FIELD_LABELS and f.title("zh") != f.name, (event_type, f.name)
            for code in f.choices:
                assert f.choice(code, "zh") != code, (event_type, f.name, code)
    decided = {f.name: f for f in fields_for("decided")}
    assert decided["discretion_level"].choice("ordinary", "zh") == "一般"


def test_a_mistyped_address_or_query_is_a_page_not_json(app):
    c = client(app, "zhou")
    r = c.get("/cases/abc")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"] and "未找到" in r.text
    r = c.get("/cases?after=xyz")
    assert r.status_code == 400 and "text/html" in r.headers["content-type"] and "“xyz” 无效" in r.text
    r = c.get("/api/v1/alerts", params={"as_of": "2024-13-45"})     # the API keeps its problem details
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text


def test_invalid_step_values_are_shown_not_stored(app, store_url):
    pk = case_pk(store_url, "津南学罚〔2026〕902", "xuefu")
    before = _events(store_url, pk)
    c = client(app, "zhou")
    r = c.post(f"/cases/{pk}/record", data={"csrf": form_csrf(c), "type": "paid", "expect": str(before),
                                            "date": "2026-13-40", "amount": "abc"})
    assert r.status_code == 422 and "date" in r.text and "amount" in r.text
    assert _events(store_url, pk) == before


# ---------------------------------------------------------------------------------------------- import
def _case_json(case_id: str, agency: str = "xuefu") -> bytes:
    names = {"xuefu": "南开区学府街道办事处", "nkcgw": "南开区城市管理委员会"}
    return json.dumps({"format": "casecheck/1", "case_id": case_id, "agency": {"code": agency, "name": names[agency]},
                       "procedure": "inspection", "officers": [{"id": "O1", "name": "周某甲"}],
                       "events": [{"type": "inspected", "date": "2024-03-05", "officers": ["O1"],
                                   "result": "compliant"}]}, ensure_ascii=False).encode()


def test_import_all_or_nothing_with_located_problems_and_scope(app, store_url):
    c = client(app, "zhou")
    bad = b'{"format": "casecheck/1", "case_id": "X-1", "agency": {"code": "xuefu", "name": "x"}, "procedure": "nope"}'
    files = [("files", ("good.json", _case_json("津南学检〔2024〕W1号"), "application/json")),
             ("files", ("bad.json", bad, "application/json"))]
    r = c.post("/import", data={"csrf": form_csrf(c)}, files=files)
    assert r.status_code == 422 and "bad.json" in r.text and "procedure" in r.text and "未导入任何案卷" in r.text
    assert "<td>nope</td>" in r.text                     # the value as written, in its own column
    assert "/tmp" not in r.text
    assert "W1号" not in c.get("/cases?q=津南学检〔2024〕W1").text.split("<table", 1)[-1]
    r = c.post("/import", data={"csrf": form_csrf(c)},
               files=[("files", ("other.json", _case_json("津南城管检〔2024〕W2号", "nkcgw"), "application/json"))])
    assert r.status_code == 422 and "不在您的权限范围内" in r.text
    r = c.post("/import", data={"csrf": form_csrf(c)},
               files=[("files", ("good.json", _case_json("津南学检〔2024〕W1号"), "application/json"))])
    assert r.status_code == 200 and "新增 1" in r.text
    assert "津南学检〔2024〕W1号" in c.get("/cases?q=津南学检〔2024〕W1").text


# ---------------------------------------------------------------------------------------------- reports
def test_review_runs_for_the_scope_and_downloads(app):
    from openpyxl import load_workbook

    c = client(app, "pingcha")
    assert c.get("/review").status_code == 200
    r = c.post("/review", data={"csrf": form_csrf(c, "/review"), "quarter": "2024Q2"})
    assert r.status_code == 200 and "2024Q2" in r.text and "评查" in r.text
    r = c.get("/review/download?quarter=2024Q2&format=json")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    data = json.loads(r.text)
    assert data["kind"] == "review" and data["sections"]
    agencies = {row.get("agency") for rows in data["sections"].values() for row in rows if isinstance(row, dict)}
    assert agencies - {None} <= {"xuefu", "nkcgw"}
    r = c.get("/review/download?quarter=2024Q2&format=xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    load_workbook(io.BytesIO(r.content))
    r = c.get("/review/download?quarter=2024Q2&format=html")
    assert r.status_code == 200 and "<html" in r.text.lower()
    assert c.get("/review/download?quarter=2024Q2&format=exe").status_code == 404
    assert c.get("/review/download?quarter=2024Q9&format=json").status_code == 400


def test_alerts_and_stats_pages_and_downloads(app):
    c = client(app, "head")
    r = c.get("/alerts?as_of=2024-06-03&within=10")
    assert r.status_code == 200 and "期限预警" in r.text
    r = c.get("/alerts?as_of=2024-06-03&within=10&format=json")
    assert json.loads(r.text)["kind"] == "alerts"
    r = c.get("/stats?year=2024")
    assert r.status_code == 200 and "2024年度" in r.text
    assert c.get("/stats?year=2024&format=xlsx").content[:2] == b"PK"
    assert c.get("/rules").status_code == 200 and "legal_review.required_before_decision" in c.get("/rules").text


def test_stats_page_and_downloads_mask_a_persons_id_number(app):
    """The inspections per inspected party, as ``casecheck stats`` lists them: 刘某 (a person, xuefu-inspection-02)
    masked on the page and in every download; a business's credit code whole."""
    from openpyxl import load_workbook

    c = client(app, "head")
    whole, masked = "120104198307276304", "120104********6304"
    page = c.get("/stats?year=2024").text
    assert masked in page and whole not in page and "个人信息已脱敏" in page and "涉企检查频次（按检查对象）" in page
    report = json.loads(c.get("/stats?year=2024&format=json").text)
    row = next(r for r in report["sections"]["inspection_frequency"] if r["party"] == "刘某")
    assert (row["party_id"], row["party_type"]) == (masked, "自然人") and whole not in json.dumps(report)
    assert any(r["party_id"] == "91120104MA47833056X" for r in report["sections"]["inspection_frequency"])
    wb = load_workbook(io.BytesIO(c.get("/stats?year=2024&format=xlsx").content), read_only=True)
    cells = {str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v is not None}
    assert masked in cells and whole not in cells
    html = c.get("/stats?year=2024&format=html").text
    assert masked in html and whole not in html
    with zipfile.ZipFile(io.BytesIO(c.get("/stats?year=2024&format=docx").content)) as z:
        body = z.read("word/document.xml").decode("utf-8")
    assert masked in body and whole not in body


def test_english_switch(app):
    c = client(app, "zhou")
    r = c.get("/lang/en?next=/cases")
    assert r.status_code == 303 and r.headers["location"] == "/cases"
    text = c.get("/cases").text
    assert "Cases" in text and "Filter" in text
    assert c.get("/lang/zh?next=https://evil.example").headers["location"] == "/"


# ---------------------------------------------------------------------------------------------- ICS
def test_calendar_feed_token_works_and_is_revocable(app):
    c = client(app, "zhou")
    r = c.post("/feed/new", data={"csrf": form_csrf(c)})
    url = r.text.split('class="feed-url">', 1)[1].split("<", 1)[0]
    path = url.split("127.0.0.1", 1)[-1].replace("http://testserver", "")
    anonymous = client(app)
    feed = anonymous.get(path)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VCALENDAR" in feed.text and "BEGIN:VEVENT" in feed.text and "津南学罚〔2026〕903号" in feed.text
    assert all(len(line.encode()) <= 75 for line in feed.text.split("\r\n"))
    c.post("/feed/revoke", data={"csrf": form_csrf(c)})
    assert anonymous.get(path).status_code == 404
    assert anonymous.get("/ics/not-a-token.ics").status_code == 404


# ---------------------------------------------------------------------------------------------- admin
def test_admin_adds_and_disables_users_of_their_agencies(app):
    c = client(app, "admin")
    r = c.post("/admin/users", data={"csrf": form_csrf(c), "login": "newbie", "name": "新人", "password": "newbie-pass",
                                     "roles": ["officer"], "agencies": ["xuefu"], "officer_id": "O2"})
    assert r.status_code == 303
    assert client(app, "newbie", "newbie-pass").get("/").status_code == 200
    r = c.post("/admin/users", data={"csrf": form_csrf(c), "login": "outsider", "name": "x", "password": "outsider-pass",
                                     "roles": ["officer"], "agencies": ["nkcgw"]})
    assert r.status_code == 422 and "不在您的管理范围" in r.text
    assert c.post("/admin/users/chengguan/disable", data={"csrf": form_csrf(c)}).status_code == 404
    assert c.post("/admin/users/newbie/disable", data={"csrf": form_csrf(c)}).status_code == 303


# ---------------------------------------------------------------------------------------------- CLI
def test_user_cli(tmp_path):
    db = str(tmp_path / "u.db")

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "engine.cli", "user", *args, "--db", db], input=stdin,
                              capture_output=True, text=True, cwd=ROOT, timeout=120, env={**os.environ, "COLUMNS": "200"})

    ok = run("add", "wang", "--name", "王某", "--role", "officer", "--agency", "xuefu", "--officer", "O3",
             "--password-stdin", stdin="long-password\n")
    assert ok.returncode == 0, ok.stderr
    assert run("add", "wang", "--name", "x", "--role", "officer", "--agency", "xuefu", "--password-stdin",
               stdin="long-password\n").returncode == 2
    assert run("add", "li", "--name", "x", "--role", "boss", "--agency", "xuefu", "--password-stdin",
               stdin="long-password\n").returncode == 2
    assert run("add", "li", "--name", "x", "--role", "officer", "--agency", "xuefu", "--password-stdin",
               stdin="short\n").returncode == 2
    nosuch = run("add", "li", "--name", "x", "--role", "head", "--agency", "xuefo", "--password-stdin",
                 stdin="long-password\n")
    assert nosuch.returncode == 2 and "没有执法机关“xuefo”" in nosuch.stderr + nosuch.stdout and "xuefu" in nosuch.stderr + nosuch.stdout
    nobody = run("add", "li", "--name", "x", "--role", "officer", "--agency", "xuefu", "--password-stdin",
                 stdin="long-password\n")
    assert nobody.returncode == 2 and "须登记执法证号" in nobody.stderr + nobody.stdout
    piped = run("add", "li", "--name", "x", "--role", "head", "--agency", "xuefu", stdin="long-password\n")
    assert piped.returncode == 2 and "--password-stdin" in piped.stderr and "管道" in piped.stderr
    assert run("add", "li", "--name", "李某", "--role", "officer", "--agency", "xuefu", "--certificate", "津执０１００３ ",
               "--password-stdin", stdin="long-password\n").returncode == 0
    narrow = subprocess.run([sys.executable, "-m", "engine.cli", "user", "list", "--db", db], capture_output=True,
                            text=True, cwd=ROOT, timeout=120, env={**os.environ, "COLUMNS": "80"})
    assert "…" not in narrow.stdout and "津执01" in narrow.stdout, narrow.stdout    # folded, not cut
    assert "津执01003" in run("list").stdout                          # stored as compared: NFKC, no spaces
    assert run("passwd", "wang", "--password-stdin", stdin="another-password\n").returncode == 0
    assert run("disable", "wang").returncode == 0
    listing = run("list")
    assert "wang" in listing.stdout and "disabled" in listing.stdout
    from engine.store import Store
    from engine.users import LoginRefused, authenticate

    with pytest.raises(LoginRefused):
        authenticate(Store.open(db), "wang", "another-password", "test")


def test_a_request_body_larger_than_the_bound_is_refused_before_it_is_read(app):
    c = client(app, "zhou")
    r = c.post("/import", content=b"x", headers={"content-length": str(10 ** 9), "content-type": "multipart/form-data"})
    assert r.status_code == 413 and r.headers["x-frame-options"] == "DENY"


def test_a_reviewers_adjustment_and_waiver_are_appended_shown_and_downloaded(app, store_url):
    """A case-file reviewer sets one finding's deduction (within the rubric's range) or waives it: the notes
    are appended to the store as the logged-in reviewer and shown, escaped, in the page and the downloads."""
    from engine.store import Store
    from engine.users import add_user

    c = client(app, "pingcha")
    c.post("/review", data={"csrf": form_csrf(c, "/review"), "quarter": "2024Q2"})
    data = json.loads(c.get("/review/download?quarter=2024Q2&format=json").text)
    first = next(r for r in data["sections"]["findings"] if r["deduction"])
    case_id, rule_id = first["case_id"], first["rule_id"]
    r = c.post("/review/adjust", data={"csrf": form_csrf(c, "/review"), "quarter": "2024Q2", "kind": "adjust",
                                       "case_id": case_id, "rule_id": rule_id, "value": "0",
                                       "reason": "送达回证缺签名<b>"})
    assert r.status_code == 303 and r.headers["location"] == "/review?quarter=2024Q2&show=1"
    page = c.get(r.headers["location"]).text
    assert "扣分调整为 0：送达回证缺签名&lt;b&gt;（pingcha）" in page
    after = json.loads(c.get("/review/download?quarter=2024Q2&format=json").text)["sections"]["findings"]
    row = next(r for r in after if r["case_id"] == case_id and r["rule_id"] == rule_id)
    assert row["deduction"] == 0 and row["note"] == "扣分调整为 0：送达回证缺签名<b>（pingcha）"
    waived = c.post("/review/adjust", data={"csrf": form_csrf(c, "/review"), "quarter": "2024Q2", "kind": "waive",
                                            "case_id": case_id, "rule_id": rule_id, "until": "2099-12-31",
                                            "reason": "法院裁定暂缓公示"})
    assert waived.status_code == 303
    after = json.loads(c.get("/review/download?quarter=2024Q2&format=json").text)["sections"]["findings"]
    row = next(r for r in after if r["case_id"] == case_id and r["rule_id"] == rule_id)
    assert row["note"].startswith("已豁免：法院裁定暂缓公示（pingcha，至 2099-12-31）"), row["note"]
    for bad in ({"value": "3", "reason": " "}, {"value": "999", "reason": "x"}, {"value": "abc", "reason": "x"},
                {"rule_id": "no.such_rule", "value": "1", "reason": "x"}):
        form = {"csrf": form_csrf(c, "/review"), "quarter": "2024Q2", "kind": "adjust", "case_id": case_id,
                "rule_id": rule_id, **bad}
        assert c.post("/review/adjust", data=form).status_code == 400, bad
    head = client(app, "head")
    assert head.post("/review/adjust", data={"csrf": form_csrf(head), "quarter": "2024Q2", "kind": "adjust",
                                             "case_id": case_id, "rule_id": rule_id, "value": "1",
                                             "reason": "x"}).status_code == 403
    add_user(Store.open(store_url, migrate=False), "pc_cg", "城管评查", PASSWORD, roles=["case_reviewer"],
             agencies=["nkcgw"])
    other = client(app, "pc_cg")
    xuefu_case = "津南学罚〔2026〕903号"
    assert other.post("/review/adjust", data={"csrf": form_csrf(other), "quarter": "2024Q2", "kind": "adjust",
                                              "case_id": xuefu_case, "rule_id": rule_id, "value": "1",
                                              "reason": "x"}).status_code == 404


def test_a_report_table_in_a_page_leaves_out_columns_empty_in_every_row_shown():
    from types import SimpleNamespace as NS

    from engine.web.deps import _columns_of

    cols = [NS(key=k, internal=k == "hidden") for k in ("case_id", "due", "note", "hidden")]
    section = NS(columns=cols, rows=[{"case_id": "A", "due": "—", "note": None, "hidden": "x"},
                                     {"case_id": "B", "due": "2024-01-02", "note": ""}])
    assert [c.key for c in _columns_of(section, 10)] == ["case_id", "due"]
    assert [c.key for c in _columns_of(section, 1)] == ["case_id"]          # only the rows shown count
