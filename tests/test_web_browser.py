"""The workspace as its users meet it: a real ``casecheck serve`` process on 127.0.0.1, driven by Debian's
headless Chromium through Playwright (the pip wheel's driver; no browser is downloaded).

The officer's decision is refused for want of a legal review; the reviewer records the review; the
decision then lands; the case-file reviewer runs the quarter's review and downloads the report; an officer
of another agency gets 404 on that case by URL. Screenshots of the main pages at 1366×768 are non-blank
with Chinese rendered; markup in every free-text field of a case is shown as text and never runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from webkit import PASSWORD, Server, case_pk, demo_store

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REQUIRED = bool(os.environ.get("CASECHECK_REQUIRE_BROWSER"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

try:
    from playwright.sync_api import sync_playwright
except ImportError:                                   # pragma: no cover
    sync_playwright = None

if REQUIRED:
    assert sync_playwright is not None, "CASECHECK_REQUIRE_BROWSER is set but playwright is not installed"
    assert Path(CHROMIUM).exists(), "CASECHECK_REQUIRE_BROWSER is set but chromium is missing"
pytestmark = pytest.mark.skipif(sync_playwright is None or not Path(CHROMIUM).exists(),
                                reason="playwright (pip) or Debian's chromium missing (CI sets CASECHECK_REQUIRE_BROWSER)")

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
XSS_ID = "XSS<script>window.__xss=3</script>"


def xss_case() -> dict:
    """A 学府 case with markup in every free-text field a case file has."""
    today = dt.date.today()
    day = lambda n: (today - dt.timedelta(days=n)).isoformat()       # noqa: E731
    return {
        "format": "casecheck/1", "case_id": XSS_ID,
        "agency": {"code": "xuefu", "name": "学府" + XSS, "region": "tianjin"},
        "procedure": "ordinary",
        "matter": {"code": "SR<b onmouseover=window.__xss=4>", "name": "事项" + XSS, "domain": "d" + XSS[:40]},
        "party": {"kind": "person", "name": "当事人" + XSS, "id": "P" + XSS[:60]},
        "violation": {"occurred_on": day(100), "basis": ["依据" + XSS]},
        "officers": [{"id": "O1", "name": "周某甲" + XSS, "certificate": "C" + XSS[:60]},
                     {"id": "O2", "name": "黄某乙", "certificate": "津执2"},
                     {"id": "R1", "name": "林某审", "certificate": "津执3", "legal_qualification": True}],
        "events": [
            {"type": "discovered", "date": day(100), "note": "备注" + XSS},
            {"type": "registered", "date": day(99), "officers": ["O1", "O2"], "documents": ["立案" + XSS],
             "recording": "AV" + XSS[:50]},
            {"type": "extension_approved", "date": day(90), "approver": "批准人" + XSS, "days": 30},
            {"type": "suspended", "date": day(80), "note": XSS},
            {"type": "resumed", "date": day(79)},
            {"type": "inquired", "date": day(78), "officers": ["O1", "O2"], "documents": ["询问笔录" + XSS]},
        ],
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from engine.cases import import_paths
    from engine.store import Store

    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp / 'store.db'}"
    demo_store(url)
    (tmp / "xss.json").write_text(json.dumps(xss_case(), ensure_ascii=False), encoding="utf-8")
    report = import_paths(Store.open(url, migrate=False), [tmp / "xss.json"], actor="test")
    assert not report.problems, report.problems
    srv = Server(url, tmp / "serve.log")
    yield srv, url, tmp
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    context.close()


def login(page, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/")


def logout(page) -> None:
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")


def test_decision_refused_then_review_then_decision_then_quarter_review(server, page, tmp_path):
    srv, url, _ = server
    base = srv.base
    pk = case_pk(url, "津南学罚〔2026〕901", "xuefu")
    today = dt.date.today().isoformat()

    login(page, base, "zhou")
    assert page.locator("h1").first.inner_text().startswith("工作台")
    assert page.locator(".card.red").count() >= 1 and page.locator(".card.yellow").count() >= 1

    def decide() -> None:
        page.goto(f"{base}/cases/{pk}/record?type=decided")
        page.fill("input[name=date]", today)
        page.check("input[name=officers][value=O1]")
        page.check("input[name=officers][value=O2]")
        page.select_option("select[name=outcome]", "penalty")
        page.select_option("select[name='penalty.kind']", "fine")
        page.fill("input[name='penalty.amount']", "500")
        page.click("form.record button[type=submit]")
        page.wait_for_load_state()

    decide()
    refusal = page.locator("section.refusal")
    assert refusal.count() == 1
    text = refusal.inner_text()
    assert "legal_review.required_before_decision" in text and "第五十八条" in text
    if os.environ.get("CASECHECK_SCREENSHOTS"):
        page.screenshot(path=str(Path(os.environ["CASECHECK_SCREENSHOTS"]) / "refusal.png"), full_page=True)
    logout(page)

    login(page, base, "lin")
    page.goto(f"{base}/cases/{pk}/record?type=legal_review")
    page.fill("input[name=date]", today)
    page.select_option("select[name=reviewer]", "R1")
    page.select_option("select[name=result]", "approved")
    page.fill("textarea[name=documents]", "法制审核意见书")
    page.click("form.record button[type=submit]")
    page.wait_for_url(f"{base}/cases/{pk}?recorded=*")
    assert "已记录" in page.locator("p.alert.green").inner_text()
    logout(page)

    login(page, base, "zhou")
    decide()
    page.wait_for_url(f"{base}/cases/{pk}?recorded=*")
    assert "作出决定" in page.locator("table.events").inner_text()
    logout(page)

    login(page, base, "pingcha")
    quarter = f"{dt.date.today().year}Q{(dt.date.today().month - 1) // 3 + 1}"
    page.goto(f"{base}/review")
    page.fill("input[name=quarter]", quarter)
    page.click("form[action='/review'] button[type=submit]")
    page.wait_for_selector("h2.doc-title")
    assert "津南学罚〔2026〕901号" in page.content()
    if os.environ.get("CASECHECK_SCREENSHOTS"):
        page.screenshot(path=str(Path(os.environ["CASECHECK_SCREENSHOTS"]) / "review-run.png"))
    for fmt in ("docx", "xlsx", "html"):
        with page.expect_download() as info:
            page.click(f"p.downloads a:text-is('{fmt.upper()}')")
        saved = tmp_path / f"review.{fmt}"
        info.value.save_as(saved)
        data = saved.read_bytes()
        if fmt == "docx":                                   # the Word 评查意见书 names the file that lost points
            import docx

            text = "\n".join(p.text for p in docx.Document(str(saved)).paragraphs)
            text += "\n".join(cell.text for t in docx.Document(str(saved)).tables for row in t.rows for cell in row.cells)
            assert "评查" in text and "津南学罚〔2026〕901号" in text, text[:500]
        else:
            assert (data[:2] == b"PK") if fmt == "xlsx" else ("津南学罚〔2026〕901号" in data.decode("utf-8"))
    logout(page)

    login(page, base, "chengguan")                          # an officer of 城管委
    response = page.goto(f"{base}/cases/{pk}")
    assert response.status == 404 and "津南学罚" not in page.content()
    response = page.goto(f"{base}/cases/{pk}/record?type=closed")
    assert response.status == 404


def test_markup_in_every_free_text_field_never_runs(server, page):
    srv, url, _ = server
    pk = case_pk(url, "XSS", "xuefu")
    login(page, srv.base, "zhou")
    for path in (f"/cases/{pk}", f"/cases/{pk}/record?type=inspected", "/cases", "/cases?q=XSS", "/",
                 "/alerts?as_of=" + dt.date.today().isoformat() + "&within=60"):
        page.goto(srv.base + path)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None, path
        assert page.locator("img[src=x]").count() == 0, path
    page.goto(f"{srv.base}/cases/{pk}")
    body = page.locator("main").inner_text()
    assert "<script>window.__xss=2</script>" in body and 'onerror="window.__xss=1"' in body   # shown as text
    assert not page.dialogs
    login_as_reviewer = page.context.browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    login(login_as_reviewer, srv.base, "pingcha")
    login_as_reviewer.goto(f"{srv.base}/review")
    login_as_reviewer.fill("input[name=quarter]", f"{dt.date.today().year}Q{(dt.date.today().month - 1) // 3 + 1}")
    login_as_reviewer.click("form[action='/review'] button[type=submit]")
    login_as_reviewer.wait_for_selector("h2.doc-title")
    assert login_as_reviewer.evaluate("window.__xss") is None
    login_as_reviewer.context.close()


def _not_blank(png: Path) -> None:
    from PIL import Image

    image = Image.open(png).convert("L")
    assert image.size == (1366, 768)
    dark = sum(image.histogram()[:160])
    assert dark > 2000, f"{png.name}: nearly blank ({dark} dark pixels)"


def test_screenshots_of_the_main_pages_are_not_blank_and_show_chinese(server, page, tmp_path):
    srv, url, _ = server
    pk = case_pk(url, "津南学罚〔2026〕902", "xuefu")
    shots = Path(os.environ.get("CASECHECK_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    login(page, srv.base, "head")
    for name, path in (("dashboard", "/"), ("cases", "/cases"), ("case", f"/cases/{pk}"),
                       ("record", f"/cases/{pk}/record?type=publicized"), ("alerts", "/alerts?within=10"),
                       ("stats", "/stats?year=2024"), ("rules", "/rules"), ("review", "/review")):
        page.goto(srv.base + path)
        page.wait_for_load_state("load")
        png = shots / f"{name}.png"
        page.screenshot(path=str(png))
        _not_blank(png)
    # Chinese is drawn with a CJK font: two different texts give different pixels (tofu boxes would not)
    page.goto(srv.base + "/")
    heading = page.locator("h1").first
    images = []
    for text in ("工作台案件", "评查期限表"):
        page.evaluate("t => { document.querySelector('h1').textContent = t }", text)
        images.append(heading.screenshot())
    assert images[0] != images[1]
    from io import BytesIO

    from PIL import Image, ImageChops

    a, b = (Image.open(BytesIO(x)).convert("L") for x in images)
    diff = ImageChops.difference(a, b)
    assert sum(diff.histogram()[41:]) > 100, "different Chinese texts look alike: no CJK font"
    page.goto(srv.base + "/lang/en?next=/cases")
    assert "Cases" in page.locator("h1").inner_text()
