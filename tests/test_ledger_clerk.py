"""Ledgers as clerks keep them (issue 18): layouts, values, one pass of located problems, hostile files."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from engine.cases import import_paths
from engine.ledger import read_ledger
from engine.ledger import xlsx as xlsx_mod
from engine.ledger.values import Refused, as_amount, as_date, serial_date
from engine.ledger.xlsx import Cell
from engine.loader import load_paths
from engine.store import Store
from ledgers import HEADERS, D, clerk_ledger, clerk_row, edit_part, sheet_part, stale_dimension

SHEET = "2024年台账"


def _count(store) -> int:
    from sqlmodel import func, select

    from engine.store.tables import CaseRow
    with store.reading() as s:
        return s.exec(select(func.count()).select_from(CaseRow)).one()


def test_a_clerks_ledger_imports_in_one_go(tmp_path):
    path = clerk_ledger(tmp_path / "台账.xlsx", [clerk_row(1), clerk_row(2), clerk_row(3)])
    loaded = load_paths([path])
    assert loaded.problems == []
    assert [c.index for c in loaded.cases] == [3, 6, 7]          # title row, header, blank rows passed over
    case = loaded.cases[0].case
    assert case.agency.code == "xuefu" and case.party.kind == "person" and case.matter.domain == "city_appearance"
    assert case.violation.basis == ["《天津市市容和环境卫生管理条例》第二十条"]
    dates = {e.type: e.date for e in case.events}
    assert dates["registered"] == D("2024-03-04") and dates["notified"] == D("2024-03-08")
    assert dates["legal_review"] == D("2024-03-12") and dates["served"] == D("2024-03-15")   # serial 45366
    assert dates["paid"] == D("2024-03-18") and dates["closed"] == D("2024-03-19")
    decided = next(e for e in case.events if e.type == "decided")
    assert decided.penalty.amount == 2000 and decided.certificates_shown is True
    inspected = next(e for e in case.events if e.type == "inspected")
    assert inspected.result == "violation_found"
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    assert import_paths(store, [path], actor="t").new == 3


def test_three_broken_cells_three_located_chinese_messages_nothing_stored(tmp_path):
    bad2, bad3 = clerk_row(2), clerk_row(3)
    bad2[HEADERS.index("出示证件")] = "出示了吧"
    bad2[HEADERS.index("罚款金额（元）")] = "两千"
    bad3[HEADERS.index("决定日期")] = "2024/2/30"
    path = clerk_ledger(tmp_path / "台账.xlsx", [clerk_row(1), bad2, bad3])
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    report = import_paths(store, [path], actor="t")
    assert report.exit_code == 2 and _count(store) == 0
    assert [(p.file.rpartition("!")[2], p.field, p.value) for p in report.problems] == [
        (SHEET, "rows.6.出示证件", "出示了吧"), (SHEET, "rows.6.罚款金额（元）", "两千"), (SHEET, "rows.7.决定日期", "2024/2/30")]
    assert [p.case_id for p in report.problems] == ["津南学府罚〔2024〕2号"] * 2 + ["津南学府罚〔2024〕3号"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p.message) and p.message_en for p in report.problems)
    assert "是/否" in report.problems[0].message and "2,000" in report.problems[1].message
    assert "不是真实存在的日期" in report.problems[2].message
    assert "2024/2/30 is not a real date" in report.problems[2].text("en")


def test_every_row_is_read_whatever_the_declared_dimension(tmp_path):
    path = clerk_ledger(tmp_path / "台账.xlsx", [clerk_row(n) for n in range(1, 4)], instructions=False, title=False,
                        blank_after=None)
    stale_dimension(path, sheet_part(path, SHEET), "A1:C2")
    assert len(load_paths([path]).cases) == 3


def _one(tmp_path, column, value, name="one.xlsx"):
    row = clerk_row(1)
    row[HEADERS.index(column)] = value
    path = clerk_ledger(tmp_path / name, [row], instructions=False, title=False, blank_after=None)
    return load_paths([path])


@pytest.mark.parametrize("column,value,zh,en", [
    ("出示证件", "不知道", "只能填写“是/否”", "write yes or no"),
    ("执法机关代码", "学府街道", "不在执法主体档案", "not in the agency profiles"),
    ("审核结论", None, "审核结论为空不能视为通过", "a blank conclusion is not an approval"),
    ("当事人证件号", 120104198001010001, "设置为“文本”格式", "format the column as text"),
    ("决定日期", "5/7/24", "无法识别的日期", "not a date"),
    ("罚款金额（元）", "-5", "无法识别的金额", "not an amount"),
    ("罚款金额（元）", "2000.123", "最多两位小数", "at most two decimals"),
    ("处理结果", "看情况", "无法识别的处理结果", "unknown outcome"),
    ("执法人员", "王某", "姓名(执法证号)", "name(certificate number)"),
    ("告知听证权利", None, "必须填写告知听证权利", "hearing right told is required"),
    ("检查日期", None, "检查结果，但检查日期为空", "inspection result is given but inspected is blank"),
    ("决定日期", "=TODAY()", "公式没有保存的计算结果", "formula without a saved result"),
    ("决定日期", 60, "不存在的 1900年2月29日", "29 Feb 1900"),
    ("决定日期", True, "逻辑值", "TRUE/FALSE"),
])
def test_each_message_kind_in_chinese_and_english(tmp_path, column, value, zh, en):
    problems = _one(tmp_path, column, value).problems
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    at = "检查结果" if column == "检查日期" else column          # the value left without its step is the one refused
    assert problem.field == f"rows.2.{at}" and zh in problem.message and en in problem.text("en")
    assert problem.file.endswith(f"one.xlsx!{SHEET}") and problem.case_id == "津南学府罚〔2024〕1号"


@pytest.mark.parametrize("column,value,zh,en", [
    ("出示证件", "未出示", None, None), ("出示证件", "×", None, None), ("出示证件", "Y", None, None),
    ("执法机关代码", "南开区学府街道办事处", None, None), ("罚款金额（元）", "0.2万元", None, None),
    ("罚款金额（元）", "￥2,000.50", None, None), ("决定日期", "2024年03月13日 10:30", None, None),
])
def test_values_as_people_write_them(tmp_path, column, value, zh, en):
    loaded = _one(tmp_path, column, value)
    assert loaded.problems == [] and len(loaded.cases) == 1


def test_header_level_problems_and_unknown_columns(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["案件编号", "执法机关代码", "程序", "谁知道这是啥"])
    sheet.append(["A1", "xuefu", "行政检查", "x"])
    book.save(tmp_path / "odd.xlsx")
    problems = load_paths([tmp_path / "odd.xlsx"]).problems
    assert [(p.field, p.value) for p in problems] == [("rows.1.谁知道这是啥", "谁知道这是啥")]
    assert "未知的列名" in problems[0].message and "unknown column" in problems[0].text("en")
    book = Workbook()
    book.active.append(["说明：本表无数据"])
    book.save(tmp_path / "none.xlsx")
    problems = load_paths([tmp_path / "none.xlsx"]).problems
    assert len(problems) == 1 and "没有找到台账表头" in problems[0].message and "no ledger header" in problems[0].text("en")


def test_a_value_in_a_column_without_header_is_refused_once(tmp_path):
    rows = [clerk_row(1) + [None, "多余"], clerk_row(2) + [None, "多余"]]
    path = clerk_ledger(tmp_path / "x.xlsx", rows, instructions=False, title=False, blank_after=None)
    problems = load_paths([path]).problems
    assert [p.field for p in problems] == ["rows.2.AK"] and "没有列名" in problems[0].message


def test_the_variant_mapping_reads_a_districts_own_headers(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["立案编号", "执法机关代码", "办案单位", "程序", "事项代码", "违法行为", "被处罚人", "当事人类型", "被处罚人证件号",
                  "违法行为日期", "处罚日期", "办理结果", "处罚种类", "罚款（元）", "录入人"])
    sheet.append(["X1", "nkcgw", "南开区城市管理委员会", "普通", "LH-0201", "擅自占用城市绿地", "某公司", "企业", "91120104MA05",
                  "2024-05-01", "2024-05-20", "予以处罚", "警告", None, "张三"])
    book.save(tmp_path / "v.xlsx")
    loaded = load_paths([tmp_path / "v.xlsx"])
    assert loaded.problems == []
    decided = loaded.cases[0].case.events[0]
    assert decided.outcome == "penalty" and decided.penalty.kind == "warning"


def test_excel_serials_and_the_1900_leap_year_quirk():
    assert serial_date(59) == dt.date(1900, 2, 28) and serial_date(61) == dt.date(1900, 3, 1)
    assert serial_date(45366) == dt.date(2024, 3, 15) and serial_date(1, date1904=True) == dt.date(1904, 1, 2)
    with pytest.raises(Refused):
        serial_date(60)
    assert as_date(Cell("number", "20240507")) == "2024-05-07"
    assert as_date(Cell("date", "45419.5")) == "2024-05-07"
    assert as_amount(Cell("number", "2000.0999999999999")) == "2000.1"


# ---------------------------------------------------------------------------------------- hostile files

def _refused(path: Path) -> str:
    rows, problems = read_ledger(path)
    assert rows == [] and len(problems) >= 1
    return problems[0].message + " / " + (problems[0].message_en or "")


def test_a_zip_bomb_is_refused_before_parsing(tmp_path):
    path = tmp_path / "bomb.xlsx"
    clerk_ledger(path, [clerk_row(1)])
    part = sheet_part(path, SHEET)
    edit_part(path, part, lambda xml: xml.replace(b"</sheetData>", b"</sheetData>" + b" " * (800 << 20)))
    assert path.stat().st_size < 2 << 20
    assert "压缩炸弹" in _refused(path)


def test_a_member_that_lies_about_its_size_is_refused(tmp_path):
    path = clerk_ledger(tmp_path / "lie.xlsx", [clerk_row(1)])
    part = sheet_part(path, SHEET).encode()
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02" + data[data.index(b"PK\x01\x02") + 4:data.index(b"PK\x01\x02") + 4])  # first entry
    while True:                                   # the central directory entry of the sheet
        name_len = int.from_bytes(data[at + 28:at + 30], "little")
        if bytes(data[at + 46:at + 46 + name_len]) == part:
            break
        extra = int.from_bytes(data[at + 30:at + 32], "little") + int.from_bytes(data[at + 32:at + 34], "little")
        at += 46 + name_len + extra
    size = int.from_bytes(data[at + 24:at + 28], "little")
    data[at + 24:at + 28] = (size // 2).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    message = _refused(path)
    assert "损坏" in message and "damaged" in message


def test_a_huge_header_row_costs_no_memory(tmp_path, monkeypatch):
    import tracemalloc

    path = clerk_ledger(tmp_path / "wide.xlsx", [clerk_row(1)], instructions=False, title=False, blank_after=None)
    wide = b"".join(b'<c r="%s1" s="0"/>' % xlsx_mod.column_letter(c).encode() for c in range(100, 16000)) * 1
    part = sheet_part(path, SHEET)
    edit_part(path, part, lambda xml: xml.replace(b"</row>", wide + b"</row>", 1))
    tracemalloc.start()
    loaded = load_paths([path])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert loaded.problems == [] and len(loaded.cases) == 1 and peak < 40 << 20
    edit_part(path, part, lambda xml: xml.replace(b"</row>", b'<c r="BBB1" t="inlineStr"><is><t>x</t></is></c></row>', 1))
    assert "超过 1000 列" in _refused(path)


def test_broken_xml_and_encrypted_files_are_refused_never_a_traceback(tmp_path):
    path = clerk_ledger(tmp_path / "cut.xlsx", [clerk_row(n) for n in range(1, 4)])
    edit_part(path, sheet_part(path, SHEET), lambda xml: xml[: len(xml) * 2 // 3])
    rows, problems = read_ledger(path)
    assert rows == [] or problems
    assert problems and "XML 已损坏" in problems[-1].message and problems[-1].file.endswith(SHEET)
    (tmp_path / "enc.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000)
    assert "已加密" in _refused(tmp_path / "enc.xlsx")
    path = clerk_ledger(tmp_path / "dtd.xlsx", [clerk_row(1)])
    edit_part(path, "xl/workbook.xml", lambda xml: b'<!DOCTYPE x [<!ENTITY a "b">]>' + xml.split(b"?>", 1)[-1])
    assert "DTD" in _refused(path)


def test_a_formula_is_read_by_its_cached_value(tmp_path):
    path = clerk_ledger(tmp_path / "f.xlsx", [clerk_row(1)], instructions=False, title=False, blank_after=None)
    col = xlsx_mod.column_letter(HEADERS.index("罚款金额（元）")).encode()
    import re
    edit_part(path, sheet_part(path, SHEET),
              lambda xml: re.sub(rb'<c r="' + col + rb'2"[^>]*>.*?</c>', b'<c r="' + col + b'2"><f>1000*2</f><v>2000</v></c>', xml))
    loaded = load_paths([path])
    assert loaded.problems == [] and next(e for e in loaded.cases[0].case.events if e.type == "paid").amount == 2000


# ---------------------------------------------------------------------------------------- template and CLI

def test_the_untouched_template_imports_to_exactly_the_example_case(tmp_path):
    out = tmp_path / "台账模板.xlsx"
    r = subprocess.run([sys.executable, "-m", "engine.cli", "ledger", "template", "-o", str(out)], capture_output=True,
                       text=True, cwd=Path(__file__).parent.parent)
    assert r.returncode == 0, r.stderr
    loaded = load_paths([out])
    assert loaded.problems == [] and len(loaded.cases) == 1
    case = loaded.cases[0].case
    assert case.case_id == "津南学府罚〔2024〕1号" and case.agency.code == "xuefu" and case.party.kind == "person"
    assert [(e.type, e.date.isoformat()) for e in case.events] == [
        ("discovered", "2024-03-01"), ("registered", "2024-03-04"), ("inspected", "2024-03-04"),
        ("notified", "2024-03-08"), ("rights_waived", "2024-03-11"), ("legal_review", "2024-03-12"),
        ("decided", "2024-03-13"), ("served", "2024-03-13"), ("publicized", "2024-03-15"), ("paid", "2024-03-18"),
        ("closed", "2024-03-19")]
    from openpyxl import load_workbook
    book = load_workbook(out)
    assert book.sheetnames == ["台账", "选项", "填表说明"] and book["选项"].sheet_state == "hidden"
    sheet = book["台账"]
    assert len(sheet.data_validations.dataValidation) >= 9
    assert sheet.cell(4, HEADERS.index("决定日期") + 1).number_format == "yyyy-mm-dd"


def test_ledger_check_cli_lists_problems_in_either_language(tmp_path):
    bad = clerk_row(1)
    bad[HEADERS.index("出示证件")] = "不知道"
    path = clerk_ledger(tmp_path / "c.xlsx", [bad])
    run = lambda *a: subprocess.run([sys.executable, "-m", "engine.cli", "ledger", "check", str(path), *a],
                                    capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    zh, en = run(), run("--lang", "en")
    assert zh.returncode == en.returncode == 2
    assert "只能填写" in zh.stderr and "write yes or no" in en.stderr and "Traceback" not in zh.stderr + en.stderr
    data = json.loads(run("--json").stdout)
    assert data["cases"] == 0 and data["problems"][0]["field"] == "rows.3.出示证件"


def test_a_large_ledger_is_spread_over_the_workers_in_chunks(tmp_path, monkeypatch):
    import datetime as dt

    from engine.ledger import read as ledger_read
    from engine.runner import FileSource, RunSpec, RunStats, run

    monkeypatch.setattr(ledger_read, "CHUNK_ROWS", 3)
    rows = [clerk_row(n) for n in range(1, 8)]
    rows[4][HEADERS.index("出示证件")] = "啥"
    path = clerk_ledger(tmp_path / "big.xlsx", rows)
    source = FileSource((str(path),))
    assert len(source.units()) == 3
    stats = RunStats()
    results = list(run(source, RunSpec(dt.date(2024, 12, 31)), workers=2, stats=stats))
    assert sorted(r.case_id for r in results) == sorted(f"津南学府罚〔2024〕{n}号" for n in (1, 2, 3, 4, 6, 7))
    assert [(p.field, p.case_id) for p in stats.problems] == [("rows.9.出示证件", "津南学府罚〔2024〕5号")]
    assert [r.ref.rsplit("#", 1)[1] for r in results][:2] == ["row 3", "row 6"]


def test_problems_the_case_model_finds_are_located_at_their_column_and_sorted_by_row(tmp_path):
    rows = [clerk_row(n) for n in range(1, 4)]
    rows[2][HEADERS.index("当事人证件号")] = "9" * 130                 # too long for the case model (120)
    rows[1][HEADERS.index("出示证件")] = "啥"                          # refused by the reader
    path = clerk_ledger(tmp_path / "s.xlsx", rows, blank_after=None)
    problems = load_paths([path]).problems
    assert [p.field for p in problems] == ["rows.4.出示证件", "rows.5.当事人证件号"]
    assert "120" in problems[1].message and problems[1].file.endswith("!2024年台账")
