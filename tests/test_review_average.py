"""The review's average score in every format: two decimals, and never 100 while a file lost points (the Q4
trial showed 平均分 100.0 with 17 files that lost points: 99.95 rounded to one decimal)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest

GRADES = ("优秀", "良好", "合格", "不合格")


def _result(scores: list[int]):
    from engine.check import CheckResult
    from engine.review import CaseScore, ReviewResult

    check = CheckResult([], [], dt.date(2024, 12, 31), "tianjin", "rules-x", "2004–2026")
    result = ReviewResult("2024Q4", dt.date(2024, 10, 1), dt.date(2024, 12, 31), None, check, GRADES)
    for i, score in enumerate(scores, 1):
        result.cases.append(CaseScore(f"津南学检〔2024〕{i}号", "xuefu", "inspection", "fire", ["张某"],
                                      dt.date(2024, 11, 1), score, {"程序": 100 - score} if score < 100 else {},
                                      [], "优秀", [], agency_name="南开区学府街道办事处"))
    return result


def test_average_score_two_decimals_never_the_extreme_unless_every_file_has_it():
    from engine.report.builders import average_score

    assert average_score([100] * 731 + [98] * 17) == 99.95            # was 100.0
    assert average_score([100] * 99_999 + [99]) == 99.99              # 99.99999: still not 100
    assert average_score([100, 100]) == 100.0 and average_score([0, 0]) == 0.0
    assert average_score([0] * 100_000 + [1]) == 0.01
    assert average_score([90, 80, 75]) == 81.67 and average_score([88, 89]) == 88.5    # half up
    assert average_score([]) == 0.0


@pytest.mark.parametrize("fmt", ["table", "json", "html", "xlsx", "docx"])
def test_every_format_shows_99_95_not_100(fmt):
    from engine.report.builders import review_document
    from engine.report.render import render

    doc = review_document(_result([100] * 731 + [98] * 17), "zh")
    data = render(doc, fmt)
    if fmt == "json":
        got = json.loads(data)
        assert got["summary"]["average_score"] == 99.95
        assert [r["average_score"] for r in got["sections"]["by_officer"]] == [99.95]
        assert [r["average_score"] for r in got["sections"]["by_domain"]] == [99.95]
        return
    if fmt == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data))
        summary = {r[0]: r[1] for r in wb["概要"].iter_rows(values_only=True) if len(r) > 1}
        assert summary["平均分"] == 99.95
        for name in ("执法人员", "执法领域"):
            cell = wb[name]["D2"]
            assert cell.value == 99.95 and cell.number_format == "0.0#"      # Excel shows 99.95, not 100.0
        return
    if fmt == "docx":
        from docx import Document as Docx

        d = Docx(io.BytesIO(data))
        text = "\n".join([p.text for p in d.paragraphs]
                         + [c.text for t in d.tables for row in t.rows for c in row.cells])
        assert "平均得分99.95分" in text
    elif fmt == "html":
        text = data.decode("utf-8")
        assert "<b>99.95</b><span>平均分</span>" in text
        assert len(re.findall(r"<td[^>]*>99\.95</td>", text)) == 2, "by officer and by domain"
    else:
        text = data.decode("utf-8")
        assert re.search(r"平均分\W*99\.95", text), text[:400]
    assert not re.search(r"(?<![\d.])100\.0(?![\d%])", text), "no average shown as 100.0 (a bar's width may be)"


def test_supervisor_summary_averages_the_same_way():
    from engine.supervision import supervisor_section

    section = supervisor_section(["xuefu"], "zh", reviewed=_result([100] * 731 + [98] * 17), grade_names=GRADES)
    assert section.rows[0]["average"] == 99.95
