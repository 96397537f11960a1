"""Issue 19 item 4 in the web: the district supervisor turns a case's finding into a 监督通知书, the agency's
head sees it on the dashboard and files the rectification report, the supervisor closes it; an overdue
rectification is on the supervisor's and the head's alerts; the supervisor's review and alerts open with the
summary per agency; another agency's user gets 404. First through the app (a test client), then as users
meet it: a real ``casecheck serve`` process driven by Debian's Chromium (Playwright)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from webkit import Server, case_pk, client, csrf_of, demo_store

pytest.importorskip("fastapi")

CASE = "津南学罚〔2024〕5号"
RULE = "legal_review.required_before_decision"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    from engine.web.app import create_app

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sup') / 'store.db'}"
    else:
        import pg

        url = pg.create_database()
    demo_store(url)
    app = create_app(url)
    yield app, url
    app.state.store.close()
    if request.param == "postgresql":
        import pg

        pg.drop_database(url)


def test_issue_report_close_through_the_app(world):
    app, url = world
    pk = case_pk(url, CASE, "xuefu")
    sup = client(app, "jiandu")
    page = sup.get(f"/cases/{pk}")
    link = f"/supervision/new?pk={pk}&amp;rule={RULE}"
    assert link in page.text                                            # a finding offers the notice
    form = sup.get(link.replace("&amp;", "&"))
    assert form.status_code == 200 and CASE in form.text and RULE in form.text
    deadline = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    data = {"csrf": csrf_of(form.text), "agency": "xuefu", "kind": "notice", "case_id": CASE, "rule_id": RULE,
            "problem": "", "basis": "", "requirement": "补正法制审核，组织培训", "deadline": deadline}
    bad = sup.post("/supervision/new", data={**data, "rule_id": "publicity.penalty_within_7_workdays"})
    assert bad.status_code == 422 and "publicity.penalty_within_7_workdays" in bad.text
    assert sup.post("/supervision/new", data={**data, "csrf": "forged"}).status_code == 403
    made = sup.post("/supervision/new", data=data)
    assert made.status_code == 303
    where = made.headers["location"]
    nid = int(where.rsplit("/", 1)[1])
    shown = sup.get(where).text
    assert "南开区行政执法监督通知书" in shown and "第五十八条" in shown and "825" in shown
    docx = sup.get(f"{where}/docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"

    head = client(app, "head")
    board = head.get("/").text
    assert 'id="supervision-card"' in board and f"/supervision/{nid}" in board
    assert f"/supervision/{nid}" in head.get("/supervision").text
    page = head.get(where).text
    assert 'id="reply-form"' in page and 'id="close-form"' not in page
    assert head.post(f"{where}/close", data={"csrf": csrf_of(page), "text": "x"}).status_code == 403
    r = head.post(f"{where}/reply", data={"csrf": csrf_of(page), "text": "已补正法制审核并培训",
                                          "day": dt.date.today().isoformat()})
    assert r.status_code == 303
    again = head.post(f"{where}/reply", data={"csrf": csrf_of(page), "text": "再报"})
    assert again.status_code == 422 and "不能再报送" in again.text

    other = client(app, "chengguan")                                   # an officer of 城管委
    assert other.get(where).status_code == 404 and other.get(f"{where}/docx").status_code == 404
    assert f"/supervision/{nid}" not in other.get("/supervision").text

    page = sup.get(where).text
    assert 'id="close-form"' in page and "学府街道负责人" in page and "登录验证" in page and "authenticated" not in page
    r = sup.post(f"{where}/close", data={"csrf": csrf_of(page), "decision": "accept", "text": "整改到位",
                                         "day": dt.date.today().isoformat()})
    assert r.status_code == 303
    assert "已销号" in sup.get(where).text


def test_an_overdue_rectification_is_on_the_alerts_and_the_summary_per_agency(world):
    from engine.store import Store
    from engine.supervision import issue

    app, url = world
    store = Store.open(url, migrate=False)
    late = issue(store, agency="xuefu", kind="opinion", case_ids=[], rule_ids=[], problem="简易程序适用超限",
                 basis="《中华人民共和国行政处罚法》第五十一条", requirement="全面自查", deadline=dt.date.today() - dt.timedelta(days=3),
                 by="监督员", proof="asserted", issued_on=dt.date.today() - dt.timedelta(days=30), district="nankai")
    for login in ("jiandu", "head"):
        alerts = client(app, login).get("/alerts").text
        assert late.number in alerts, login
    sup = client(app, "jiandu")
    assert "监督汇总（各执法主体）" in sup.get("/alerts").text
    assert "监督汇总" not in client(app, "head").get("/alerts").text       # the summary is the supervisor's
    board = sup.get("/").text
    assert re.search(r'逾期未整改 <span class="pill red">[1-9]', board)
    review = sup.get("/review?quarter=2024Q2&show=1").text
    assert "监督汇总（各执法主体）" in review and "南开区城市管理委员会" in review and "南开区学府街道办事处" in review
    data = sup.get("/review/download?quarter=2024Q2&format=json").json()
    rows = {r["agency"]: r for r in data["sections"]["supervision"]}
    assert set(rows) == {"xuefu", "nkcgw"} and rows["xuefu"]["reviewed"] > 0
    assert "supervision" not in client(app, "pingcha").get("/review/download?quarter=2024Q2&format=json").json()["sections"]


# ---------------------------------------------------------------------------------------------- browser
def test_the_flow_in_a_browser(tmp_path):
    import os
    import shutil

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:                               # pragma: no cover
        if os.environ.get("CASECHECK_REQUIRE_BROWSER"):
            raise
        pytest.skip("playwright (pip) is not installed on this machine; `make test` installs it, and CI sets "
                    "CASECHECK_REQUIRE_BROWSER, which turns this skip into a failure")
    if not Path(chromium).exists():
        if os.environ.get("CASECHECK_REQUIRE_BROWSER"):
            raise AssertionError("CASECHECK_REQUIRE_BROWSER is set but chromium is missing")
        pytest.skip("Debian's chromium is not installed (`make browser` installs it); CI sets "
                    "CASECHECK_REQUIRE_BROWSER, which turns this skip into a failure")
    from test_web_browser import ARGS, login, logout

    url = f"sqlite:///{tmp_path / 'store.db'}"
    demo_store(url)
    pk = case_pk(url, CASE, "xuefu")
    srv = Server(url, tmp_path / "serve.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
            try:
                page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
                page.set_default_timeout(30_000)
                base = srv.base
                login(page, base, "jiandu")
                page.goto(f"{base}/cases/{pk}")
                page.click(f"a[href*='rule={RULE}']")
                page.wait_for_selector("#issue-form")
                page.fill("textarea[name=requirement]", "补正法制审核，组织培训")
                page.fill("input[name=deadline]", (dt.date.today() + dt.timedelta(days=20)).isoformat())
                page.click("#issue-form button[type=submit]")
                page.wait_for_url(re.compile(r".*/supervision/\d+$"))
                where = page.url
                assert "待整改" in page.locator("#notice-state").inner_text()
                logout(page)

                login(page, base, "head")
                page.click("#supervision-card .card")
                page.wait_for_selector("#reply-form")
                page.fill("#reply-form textarea[name=text]", "已补正法制审核并组织培训")
                page.click("#reply-form button[type=submit]")
                page.wait_for_selector("#steps")
                assert "已报整改" in page.locator("#notice-state").inner_text()
                logout(page)

                login(page, base, "jiandu")
                page.goto(where)
                page.fill("#close-form textarea[name=text]", "整改到位，销号")
                page.click("#close-form button[type=submit]")
                page.wait_for_load_state()
                assert "已销号" in page.locator("#notice-state").inner_text()
                assert page.locator("#steps tbody tr").count() == 2
            finally:
                browser.close()
    finally:
        srv.stop()
