"""Ledger import defects a user trial found: a sheet lost to a misspelt header, amounts with a thousands
point, contradictory rows, the agency message, duplicated case ids, header and row problems in one pass."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from openpyxl import Workbook

from engine.cases import import_paths
from engine.ledger import read_ledger
from engine.ledger.template import write_template
from engine.loader import load_paths
from engine.store import Store
from ledgers import HEADERS, clerk_ledger, clerk_row

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def _stored(db: str) -> int:
    from sqlmodel import func, select

    from engine.store.tables import CaseRow
    with Store.open(db).reading() as s:
        return s.exec(select(func.count()).select_from(CaseRow)).one()


def _three_sheets(path: Path, case_header: str = "案卷编号") -> Path:
    """说明 (prose), 2024年台账 (6 good rows), 2023年台账 whose header misspells the case id."""
    book = Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["本台账说明"])
    notes.append(["每行一个案件，2023 年的案件在另一张表。", None, "填表人：张三"])
    for name, header, numbers in (("2024年台账", "案号", range(1, 7)), ("2023年台账", case_header, range(10, 13))):
        sheet = book.create_sheet(name)
        sheet.append([f"南开区学府街道{name}"])
        sheet.append([])
        sheet.append([header if h == "案号" else h for h in HEADERS])
        for n in numbers:
            sheet.append(clerk_row(n))
    book.save(path)
    return path


def test_a_sheet_whose_header_is_not_found_is_named_and_nothing_is_imported(tmp_path):
    ledger = _three_sheets(tmp_path / "三表.xlsx")
    problems = load_paths([ledger]).problems
    assert [(p.file.rpartition("!")[2], p.field) for p in problems] == [("2023年台账", "rows.3"),
                                                                         ("2023年台账", "rows.3.案卷编号")]
    assert "工作表“2023年台账”：未找到表头行" in problems[0].message and "没有“案件编号”列" in problems[0].message
    assert "no header row found" in problems[0].text("en")
    assert "是否应为“案件编号”" in problems[1].message and "did you mean 案件编号" in problems[1].text("en")
    data = json.loads(_cli("ledger", "check", str(ledger), "--json").stdout)
    assert len(data["problems"]) == 2
    db = str(tmp_path / "s.db")
    run = _cli("import", str(ledger), "--db", db, "--by", "t")
    assert run.returncode == 2 and "2023年台账" in run.stdout + run.stderr
    assert _stored(db) == 0                                   # all or nothing: the 2024 sheet is not stored alone
    fixed = _three_sheets(tmp_path / "改正.xlsx", "案件编号")
    assert load_paths([fixed]).problems == [] and len(load_paths([fixed]).cases) == 9


def test_sheets_that_are_not_ledgers_are_still_passed_over(tmp_path):
    book = Workbook()
    book.active.title = "说明"
    book.active.append(["填表说明：每行一个案件；日期写 2024/5/7；金额写 2000。"])
    book.create_sheet("空表")
    stats = book.create_sheet("统计")                           # a summary table: known names, no case id, no date
    stats.append(["执法机关", "案件数", "罚款金额"])
    stats.append(["xuefu", 3, 6000])
    book.save(tmp_path / "notes.xlsx")
    clerk_ledger(tmp_path / "data.xlsx", [clerk_row(1)])
    from openpyxl import load_workbook
    merged = load_workbook(tmp_path / "data.xlsx")
    for name in ("说明", "空表", "统计"):
        target = merged.create_sheet(name)
        for row in load_workbook(tmp_path / "notes.xlsx")[name].iter_rows(values_only=True):
            target.append(row)
    merged.save(tmp_path / "data.xlsx")
    loaded = load_paths([tmp_path / "data.xlsx"])
    assert loaded.problems == [] and len(loaded.cases) == 1
    write_template(tmp_path / "模板.xlsx")                     # its 填表说明 table and hidden 选项 lists
    rows, problems = read_ledger(tmp_path / "模板.xlsx")
    assert problems == [] and len(rows) == 1


def test_a_ledger_header_with_no_row_under_it_is_passed_over(tmp_path):
    book = Workbook()
    book.active.append(["案卷编号", "执法机关代码", "程序", "立案日期"])
    sheet = book.create_sheet("台账")
    sheet.append(["案件编号", "执法机关代码", "程序"])
    sheet.append(["A1", "xuefu", "行政检查"])
    book.save(tmp_path / "x.xlsx")
    loaded = load_paths([tmp_path / "x.xlsx"])
    assert loaded.problems == [] and len(loaded.cases) == 1


def test_an_amount_written_with_three_decimals_is_refused_zeros_included():
    import pytest

    from engine.ledger.values import Refused, as_amount
    from engine.ledger.xlsx import Cell

    for text, fix in (("3.000元", "请写 3000 或 3,000；如指 3 元，请写 3"), ("1.000", "请写 1000 或 1,000"),
                      ("2000.555", "请改正金额"), ("1,000.000", "请改正金额"), ("0.5000", "请改正金额")):
        with pytest.raises(Refused) as refused:
            as_amount(Cell("text", text))
        assert f"金额“{text}”写了" in refused.value.zh and "最多两位小数" in refused.value.zh, text
        assert fix in refused.value.zh and "at most two" in refused.value.en
    assert as_amount(Cell("text", "3,000元")) == "3000" and as_amount(Cell("text", "2000.50")) == "2000.5"
    assert as_amount(Cell("text", "0.25万元")) == "2500" and as_amount(Cell("number", "3000")) == "3000"
    assert as_amount(Cell("text", "0.2000万元")) == "2000"           # in 万, six decimals are still yuan and fen
    with pytest.raises(Refused, match="六位小数"):
        as_amount(Cell("text", "0.20000000万元"))


def test_a_thousands_point_amount_in_a_ledger_is_located(tmp_path):
    row = clerk_row(1)
    row[HEADERS.index("罚款金额（元）")] = "3.000元"
    problems = load_paths([clerk_ledger(tmp_path / "a.xlsx", [row])]).problems
    assert [(p.field, p.value) for p in problems] == [("rows.3.罚款金额（元）", "3.000元")]
    assert "请写 3000 或 3,000" in problems[0].message


def test_a_fine_or_payment_with_an_outcome_that_is_not_a_penalty_is_refused_not_dropped(tmp_path):
    row = clerk_row(1)
    row[HEADERS.index("处理结果")] = "不予处罚"
    row[HEADERS.index("处罚种类")] = None
    row[HEADERS.index("罚款金额（元）")] = "0.2万元"                 # 缴款日期 stays filled
    loaded = load_paths([clerk_ledger(tmp_path / "c.xlsx", [row])])
    assert loaded.cases == []
    assert [(p.field, p.value) for p in loaded.problems] == [("rows.3.罚款金额（元）", "0.2万元"),
                                                             ("rows.3.缴款日期", "20240318")]
    assert "处理结果不是处罚，却填写了罚款金额" in loaded.problems[0].message
    assert "处理结果不是处罚，却填写了缴款日期" in loaded.problems[1].message
    assert "not a penalty" in loaded.problems[1].text("en")
    row[HEADERS.index("罚款金额（元）")] = None
    row[HEADERS.index("缴款日期")] = None
    loaded = load_paths([clerk_ledger(tmp_path / "d.xlsx", [row])])
    assert loaded.problems == [] and len(loaded.cases) == 1


def test_an_amount_without_a_decision_or_payment_date_is_refused_not_dropped(tmp_path):
    row = clerk_row(1)
    for column in ("决定日期", "处理结果", "处罚种类", "处罚决定书文号", "送达日期", "监督平台公示日期", "缴款日期", "结案日期"):
        row[HEADERS.index(column)] = None
    loaded = load_paths([clerk_ledger(tmp_path / "e.xlsx", [row])])
    assert [(p.field, p.value) for p in loaded.problems] == [("rows.3.罚款金额（元）", "2,000元")]
    assert "决定日期和缴款日期都为空" in loaded.problems[0].message


def _by_name(path: Path, rows: list[list], *, merge: tuple[int, int] | None = None, total: list | None = None) -> Path:
    """A ledger with 执法机关名称 and no 执法机关代码 column; ``merge``: the agency name cells of these sheet rows
    merged (the value in the first only); ``total``: a trailing totals row."""
    headers = [h for h in HEADERS if h != "执法机关代码"]
    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    sheet.append(["南开区学府街道行政处罚案件台账"])
    sheet.append(headers)
    for row in rows:
        row = list(row)
        del row[HEADERS.index("执法机关代码")]
        sheet.append(row)
    if total:
        sheet.append(total)
    if merge:
        column = headers.index("执法机关名称") + 1
        for r in range(merge[0] + 1, merge[1] + 1):
            sheet.cell(r, column).value = None
        sheet.merge_cells(start_row=merge[0], start_column=column, end_row=merge[1], end_column=column)
    book.save(path)
    return path


def test_an_empty_agency_cell_is_named_at_its_row_not_as_a_missing_column(tmp_path):
    rows = [clerk_row(1), clerk_row(2)]
    rows[1][HEADERS.index("执法机关名称")] = None
    problems = load_paths([_by_name(tmp_path / "a.xlsx", rows)]).problems
    assert [(p.field, p.case_id) for p in problems] == [("rows.4.执法机关名称", "津南学府罚〔2024〕2号")]
    assert "必须填写执法机关名称" in problems[0].message and "此格为空" in problems[0].message
    assert "缺少" not in problems[0].message and "the cell is blank" in problems[0].text("en")


def test_merged_agency_cells_are_refused_at_each_row_they_leave_blank(tmp_path):
    rows = [clerk_row(n) for n in (1, 2, 3, 4)]
    path = _by_name(tmp_path / "m.xlsx", rows, merge=(3, 5))                  # rows 3-5 merged, 6 its own
    loaded = load_paths([path])
    assert [(p.field, p.case_id) for p in loaded.problems] == [("rows.4.执法机关名称", "津南学府罚〔2024〕2号"),
                                                               ("rows.5.执法机关名称", "津南学府罚〔2024〕3号")]
    message = loaded.problems[0].message
    assert "合并单元格 C3:C5" in message and "只属于左上角的 C3" in message and "请取消合并" in message
    assert "unmerge" in loaded.problems[0].text("en")
    db = str(tmp_path / "s.db")
    run = _cli("import", str(path), "--db", db, "--by", "t")
    assert run.returncode == 2 and "合并单元格" in run.stdout + run.stderr and _stored(db) == 0


def test_merged_cells_are_found_in_every_chunk_of_a_large_ledger(tmp_path, monkeypatch):
    import datetime as dt

    from engine.ledger import read as ledger_read
    from engine.runner import FileSource, RunSpec, RunStats, run

    monkeypatch.setattr(ledger_read, "CHUNK_ROWS", 2)
    path = _by_name(tmp_path / "m.xlsx", [clerk_row(n) for n in range(1, 8)], merge=(6, 8))
    stats = RunStats()
    results = list(run(FileSource((str(path),)), RunSpec(dt.date(2024, 12, 31)), workers=2, stats=stats))
    assert len(results) == 5 and [p.field for p in stats.problems] == ["rows.7.执法机关名称", "rows.8.执法机关名称"]


def test_a_trailing_totals_row_is_refused_as_a_totals_row(tmp_path):
    rows = [clerk_row(n) for n in (1, 2, 3, 4)]
    path = _by_name(tmp_path / "t.xlsx", rows, total=[None, "合计：4件，罚款8000元"])
    problems = load_paths([path]).problems
    assert [(p.field, p.value) for p in problems] == [("rows.7.案号", "合计：4件，罚款8000元")]
    assert "第 7 行是合计行" in problems[0].message and "请删去该行" in problems[0].message
    assert "totals row" in problems[0].text("en")
    path = _by_name(tmp_path / "u.xlsx", rows, total=["总 计", None, None, None, None, None, None, None, 8000])
    assert [p.field for p in load_paths([path]).problems] == ["rows.7.序号"]


def test_a_duplicated_case_id_names_both_rows_and_their_sheets_in_chinese_first(tmp_path):
    book = Workbook()
    first = book.active
    first.title = "2024年台账"
    first.append(HEADERS)
    for n in (1, 2):
        first.append(clerk_row(n))
    second = book.create_sheet("2023年台账")
    second.append(HEADERS)
    for n in (7, 2):                                              # 2 again, at row 3 of the second sheet
        second.append(clerk_row(n))
    ledger = tmp_path / "重复.xlsx"
    book.save(ledger)
    expected_zh = "案件编号“津南学府罚〔2024〕2号”重复：已用于工作表“2024年台账”第 3 行，工作表“2023年台账”第 3 行又出现"
    expected_en = "already used in sheet '2024年台账' row 3, again in sheet '2023年台账' row 3"
    [problem] = load_paths([ledger]).problems
    assert problem.file == f"{ledger}!2023年台账" and expected_zh in problem.message, problem.message
    assert expected_en in problem.text("en") and "删去重复的一行" in problem.message
    data = json.loads(_cli("ledger", "check", str(ledger), "--json").stdout)       # the import's reading
    assert [(p["file"], p["message"].split("：")[0]) for p in data["problems"]] == [
        (f"{ledger}!2023年台账", "案件编号“津南学府罚〔2024〕2号”重复")]
    assert expected_zh in data["problems"][0]["message"] and expected_en in data["problems"][0]["message_en"]
    checked = _cli("check", str(ledger), "--as-of", "2024-12-31", "--format", "json")       # the runner's
    assert expected_zh in checked.stdout + checked.stderr, checked.stdout[-2000:] + checked.stderr



def test_an_unknown_header_and_the_row_problems_are_listed_in_one_pass(tmp_path):
    headers = ["法制审合日期" if h == "法制审核日期" else h for h in HEADERS]
    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    sheet.append(headers)
    good, bad = clerk_row(1), clerk_row(2)
    bad[HEADERS.index("出示证件")] = "出示了吧"
    bad[HEADERS.index("决定日期")] = "2024/2/30"
    sheet.append(good)
    sheet.append(bad)
    book.save(tmp_path / "h.xlsx")
    loaded = load_paths([tmp_path / "h.xlsx"])
    assert loaded.cases == []
    assert [p.field for p in loaded.problems] == ["rows.1.法制审合日期", "rows.3.出示证件", "rows.3.决定日期"]
    assert "是否应为“法制审核日期”" in loaded.problems[0].message
    # no row is blamed for the review date its column holds under the misspelt header (审核结论 without a date)
    assert not any("法制审核日期为空" in p.message or "缺少" in p.message for p in loaded.problems)
