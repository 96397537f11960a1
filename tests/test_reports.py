"""Review, alerts and stats each render as terminal text, JSON, XLSX and HTML from one Document; the
HTML is screenshotted in headless Chromium; every report carries its stamp."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from conftest import ROOT

DEMO = ROOT / "fixtures" / "demo"
JOBS = {
    "review": ["review", str(DEMO), "--quarter", "2024Q2", "--workers", "1"],
    "alerts": ["alerts", str(DEMO), "--as-of", "2024-06-20", "--within", "10"],
    "stats": ["stats", str(DEMO), "--year", "2024"],
}
STAMP_KEYS = {"engine", "rules", "calendar", "profile", "as_of", "generated"}


def run(args, *extra):
    return subprocess.run([sys.executable, "-m", "engine.cli", *args, *extra], capture_output=True, text=True, cwd=ROOT,
                          timeout=180)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = {}
    base = tmp_path_factory.mktemp("reports")
    for job, args in JOBS.items():
        json_run = run(args, "--format", "json")
        assert json_run.returncode in (0, 1), json_run.stderr
        html, xlsx = base / f"{job}.html", base / f"{job}.xlsx"
        for fmt, path in (("html", html), ("xlsx", xlsx)):
            r = run(args, "--format", fmt, "-o", str(path))
            assert r.returncode == json_run.returncode, r.stderr
        table = run(args)
        assert table.returncode == json_run.returncode
        out[job] = {"json": json.loads(json_run.stdout), "html": html, "xlsx": xlsx, "table": table.stdout}
    return out


@pytest.mark.parametrize("job", list(JOBS))
def test_json_has_stamp_and_rows(rendered, job):
    doc = rendered[job]["json"]
    # every report can show a person (the review's parties, the inspected parties of alerts and stats) and says
    # whether personal data is masked
    assert doc["kind"] == job
    assert set(doc["stamp"]) == STAMP_KEYS | ({"masking", "rubric"} if job == "review" else {"masking"})
    assert any(doc["sections"].values()), "a report with no rows at all proves nothing"


def _typed(value, kind):
    """A JSON cell as the workbook holds it: ISO dates as dates (read back as datetimes), booleans as 是/否,
    rates as fractions, decimal text as numbers."""
    import datetime as dt

    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if kind == "date":
        return dt.datetime.fromisoformat(value)
    if kind == "pct" and isinstance(value, str) and value.endswith("%"):
        return pytest.approx(float(value[:-1]) / 100)
    if kind == "decimal" and isinstance(value, str):          # exact decimal text (万元) is a number in a sheet
        return pytest.approx(float(value))
    return value


@pytest.mark.parametrize("job", list(JOBS))
def test_xlsx_holds_the_same_rows_as_json(rendered, job):
    doc = rendered[job]["json"]
    wb = load_workbook(rendered[job]["xlsx"], read_only=True)
    sheets = wb.sheetnames
    assert len(sheets) == 1 + len(doc["sections"])
    summary = list(wb[sheets[0]].iter_rows(values_only=True))
    assert summary[0][0] == doc["title"] and any(doc["stamp"]["rules"] in str(r[0]) for r in summary)
    for name, (key, rows) in zip(sheets[1:], doc["sections"].items()):
        columns = doc["columns"][key]
        cells = list(wb[name].iter_rows(values_only=True))
        assert list(cells[0]) == [c["title"] for c in columns]
        want = [[_typed(row[c["key"]], c["kind"]) for c in columns] for row in rows]
        assert [list(r) for r in cells[1:]] == want, f"{job}: sheet {name} differs from JSON section {key}"


@pytest.mark.parametrize("job", list(JOBS))
def test_terminal_and_html_show_title_and_stamp(rendered, job):
    doc = rendered[job]["json"]
    html = rendered[job]["html"].read_text(encoding="utf-8")
    for text in (doc["title"], doc["stamp"]["rules"], doc["stamp"]["as_of"]):
        assert text in html
    assert doc["stamp"]["rules"] in rendered[job]["table"]
    assert "@page" in html and "size: A4" in html


def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(html_path, png_path, size="1240,1754"):
    subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={png_path.parent / 'chromium-profile'}", "--hide-scrollbars",
                    f"--window-size={size}", f"--screenshot={png_path}", html_path.as_uri()],
                   capture_output=True, timeout=120, check=True)
    from PIL import Image

    return Image.open(png_path).convert("L")


needs_browser = pytest.mark.skipif(
    chromium() is None and not os.environ.get("CASECHECK_REQUIRE_BROWSER"),
    reason="Debian's chromium is not installed (make test installs it; CI requires it)")


@needs_browser
@pytest.mark.parametrize("job", list(JOBS))
def test_html_screenshot_is_not_blank(rendered, job, tmp_path):
    assert chromium(), "CASECHECK_REQUIRE_BROWSER is set but chromium is missing"
    image = screenshot(rendered[job]["html"], tmp_path / f"{job}.png")
    dark = sum(1 for p in image.tobytes() if p < 128)
    assert dark > 5000, f"{job}: only {dark} dark pixels: the page rendered blank"


@needs_browser
def test_chinese_text_is_drawn_with_real_glyphs(tmp_path):
    """Different Chinese characters must give different pixels: missing CJK fonts draw every character as
    the same empty box ('tofu')."""
    assert chromium()
    images = []
    for n, text in enumerate(("案卷评查", "期限预警")):
        page = tmp_path / f"p{n}.html"
        page.write_text(f'<html><body style="margin:0;padding:60px;font:64px \'WenQuanYi Micro Hei\','
                        f'\'Noto Sans CJK SC\',sans-serif">{text}</body></html>', encoding="utf-8")
        images.append(screenshot(page, tmp_path / f"p{n}.png", size="800,400"))
    a, b = (list(img.tobytes()) for img in images)
    assert sum(p < 128 for p in a) > 500, "no ink: the characters were not drawn"
    assert sum(x != y for x, y in zip(a, b)) > 500, "two different texts look the same: no CJK font (tofu)"


def test_xlsx_needs_an_output_file():
    r = run(JOBS["stats"], "--format", "xlsx")
    assert r.returncode == 2 and "-o" in (r.stderr + r.stdout)
