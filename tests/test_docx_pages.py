"""The Word 评查意见书 as LibreOffice prints it: no blank page, no page holding only the date line or the page
number, the signature block (评查单位（盖章）, 评查人, date) on one page with the last lines of its letter, each
opinion starting a page; the clean files as a compact annex, not pages of case numbers; the average score never
100 while a file lost points."""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

DEMO = ROOT / "fixtures" / "demo"
OFFICE = pytest.mark.skipif((shutil.which("soffice") is None or shutil.which("pdftotext") is None)
                            and not os.environ.get("CASECHECK_REQUIRE_BROWSER"),
                            reason="LibreOffice (libreoffice-writer-nogui) or poppler-utils is not installed: `make test` installs both; CI sets CASECHECK_REQUIRE_BROWSER, so there this test runs and cannot skip")


@pytest.fixture(scope="module")
def demo_q2(make_checker):
    """The review Document of the demo's 2024Q2 (the user trial's 20 pages)."""
    from engine.check import CheckResult
    from engine.exemptions import PartyHistory
    from engine.loader import load_paths
    from engine.report.builders import review_document
    from engine.review import review

    loaded = load_paths([DEMO])
    checker = make_checker("2024-06-30", history=PartyHistory(c.case for c in loaded.cases))
    check = CheckResult(list(checker.check(loaded.cases)), [], dt.date(2024, 6, 30), "tianjin", "rules-x", "2004–2026")
    grades = (("优秀", 90), ("良好", 80), ("合格", 60), ("不合格", 0))
    return review_document(review(check, "2024Q2", grades), "zh")


SENTENCE = "执法人员于现场检查时未出示执法证件，亦未告知当事人陈述、申辩的权利，"


def _sweep(n: int = 24):
    """A review whose opinions grow by about one printed line each, so that the end of some letter and its
    signature block falls at every height of a page (whatever the demo's texts happen to be)."""
    from engine.report.builders import finding_columns
    from engine.report.document import Column, Document, Section, stamp

    doc = Document("review", "zh", "测试", stamp("rules-x", "2004–2026", "tianjin", dt.date(2024, 6, 30)))
    doc.summary = [("cases_reviewed", "评查案卷", n), ("average_score", "平均分", 97.5)]
    doc.extra = {"quarter": "2024Q2", "start": "2024-04-01", "end": "2024-06-30", "grade_names": ("优秀",)}
    rows = []
    for k in range(1, n + 1):
        message = (SENTENCE * 30)[: 27 * k - 2] + "。"
        rows.append({"case_id": f"津南学罚〔2024〕{k}号", "agency_name": "南开区学府街道办事处", "party": "某公司",
                     "grade": "良好", "score": 95, "officers": "张某、李某", "title": "未出示执法证件",
                     "message": message, "due": None, "late": None, "late_unit": None,
                     "basis": "《中华人民共和国行政处罚法》（2021修订）第五十五条", "category": "程序",
                     "severity": "违法", "deduction": 5, "veto": False, "curable": k % 3 != 0, "note": "",
                     "rule_id": "x", "file": "x.yaml"})
    doc.sections.append(Section("findings", "失分案卷及问题", "findings", finding_columns("zh", scored=True), rows,
                                group=("case_id",)))
    doc.sections.append(Section("clean", "无问题案卷", "clean", [Column("case_id", "案卷", "case")],
                                [{"case_id": f"津南学检〔2024〕{k}号"} for k in CLEAN], compact=True))
    return doc


CLEAN = sorted(random.Random(7).sample(range(1100, 2100), 731))      # a quarter's clean inspections, gaps and runs


def _pages(docs: dict[str, object], tmp_path: Path) -> dict[str, list[str]]:
    """Each Document as DOCX, printed to PDF by LibreOffice (one run for all), then each page's text."""
    from engine.report.render import render

    paths = []
    for name, doc in docs.items():
        path = tmp_path / f"{name}.docx"
        path.write_bytes(render(doc, "docx"))
        paths.append(str(path))
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), *paths], check=True, capture_output=True, timeout=240)
    out = {}
    for name in docs:
        text = subprocess.run(["pdftotext", "-layout", str(tmp_path / f"{name}.pdf"), "-"], check=True,
                              capture_output=True, text=True, timeout=60).stdout
        out[name] = text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")
    return out


def _squeezed(page: str) -> str:
    """A page's text without whitespace and without its page number ``— n —``."""
    return re.sub(r"—\d+—", "", re.sub(r"\s+", "", page))


@OFFICE
def test_docx_prints_without_blank_or_date_only_pages_and_keeps_the_signature_with_its_letter(demo_q2, tmp_path):
    sweep = _sweep()
    printed = _pages({"demo": demo_q2, "sweep": sweep}, tmp_path)
    for name, doc in (("demo", demo_q2), ("sweep", sweep)):
        pages = printed[name]
        files = len({r["case_id"] for r in doc.section("findings").rows})
        assert len(pages) > files
        for i, page in enumerate(pages, 1):
            body = _squeezed(page)
            assert body, f"{name}: page {i} is blank"
            assert body.replace("年月日", ""), f"{name}: page {i} holds only the date line: {page!r}"
            if "评查单位（盖章）" in body:
                before, after = body.split("评查单位（盖章）", 1)
                assert after.startswith("：评查人：年月日"), \
                    f"{name}: page {i}: the signature block is split: {page!r}"
                assert before.endswith("。"), f"{name}: page {i}: the signature block is cut off from its letter"
            else:
                assert "评查人：" not in body and not body.startswith("年月日"), \
                    f"{name}: page {i}: a signature line without the rest of its block: {page!r}"
        starts = [i for i, p in enumerate(pages, 1) if _squeezed(p).startswith("案卷评查意见书案卷")]
        assert len(starts) == files == sum(_squeezed(p).count("案卷评查意见书案卷") for p in pages), \
            f"{name}: each opinion (title, then its table) starts a page, and only there"
        assert sum(_squeezed(p).count("评查单位（盖章）") for p in pages) == files


def _expanded(text: str) -> list[int]:
    """The numbers a printed list names, ``1273—1366`` as every number between; a number split over two lines
    reads as two numbers (and fails the comparison)."""
    out: list[int] = []
    for a, b in re.findall(r"(\d+)(?:—(\d+))?", "|".join(line.strip() for line in text.splitlines())):
        out.extend(range(int(a), int(b or a) + 1))
    return out


@OFFICE
def test_clean_files_are_a_compact_annex_after_the_opinions(tmp_path):
    sweep = _sweep(3)
    pages = _pages({"sweep": sweep}, tmp_path)["sweep"]
    annex = [i for i, p in enumerate(pages) if _squeezed(p).startswith("无问题案卷清单")]
    assert annex == [len(pages) - 1], "one page at the end, after the last opinion (731 numbers, gaps and runs)"
    assert not any("学检" in p for p in pages[:-1]), "the report and the opinions list no clean file"
    assert "未发现问题的案卷731件（清单附后）" in _squeezed("".join(pages[:2]))
    text = re.split(r"（\s*731\s*件\s*）\s*：", pages[-1], maxsplit=1)[1]
    text = re.sub(r"—\s*\d+\s*—\s*$", "", text.strip())                   # the page number
    assert _expanded(text) == CLEAN, "every clean file, exactly, in order; no number broken over a line"


def test_case_number_groups_name_exactly_the_files_given():
    from engine.report.docx import _case_number_groups

    ids = ([f"津南学检〔2024〕{k}号" for k in (7, 3, 4, 5, 9, 10, 12, 13, 14, 15)] + ["津南学罚〔2024〕2号"]
           + ["X-009", "X-010", "X-011", "X-013", "甲案", "7", "7"])
    groups = _case_number_groups(ids)
    text = [(p, n, t.replace("\u200b", "").replace("\u2060", "")) for p, n, t in groups]
    assert text == [("津南学检〔2024〕", 10, "3—5、7、9、10、12—15号"), ("津南学罚〔2024〕", 1, "2号"),
                    ("X-", 4, "009—011、013"), ("", 3, "甲案、7、7")]
    assert sum(n for _, n, _ in groups) == len(ids)
    assert _case_number_groups(["A12x", "A13x", "A14x", "A16x"], zh=False) == [("A", 4, "12x\u2060—\u206014x, 16x")]
