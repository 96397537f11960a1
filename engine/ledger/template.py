"""``casecheck ledger template``: the default ledger as a workbook to start from.

Sheet 台账: a title row, the headers (序号 first, 备注 last: both read past), one example row, and for the
next ``ROWS`` rows a drop-down of the accepted words on every coded and yes/no column and a date format
on every date column. Sheet 填表说明: what each column holds and which values it accepts. Sheet 选项 (hidden):
the drop-down lists. Reading the untouched template gives exactly the example case.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .mapping import CODES, FIELDS, Mapping, load_mappings

__all__ = ["write_template", "EXAMPLE"]

ROWS = 1000
TITLE = "行政执法案件台账"

EXAMPLE: dict[str, object] = {
    "case_id": "津南学府罚〔2024〕1号", "agency_code": "xuefu", "agency_name": "南开区学府街道办事处",
    "procedure": "普通程序", "matter_code": "SR-0101", "matter_name": "超出门窗外墙经营", "domain": "市容环境卫生",
    "basis": "《天津市市容和环境卫生管理条例》", "party_kind": "个体工商户", "party_name": "刘某",
    "party_id": "120104198001010001", "occurred_on": dt.date(2024, 3, 1),
    "officers": "王某明(津执10201)；黄某丽(津执10238)", "reviewer": "高某洋(津执10275)", "reviewer_qualified": "是",
    "certificates_shown": "是", "recording": "AV-0304-1", "documents_complete": "是",
    "discovered": dt.date(2024, 3, 1), "registered": dt.date(2024, 3, 4), "inspected": dt.date(2024, 3, 4),
    "inspection_result": "发现违法行为", "notified": dt.date(2024, 3, 8), "hearing_right": "否",
    "rights_waived": dt.date(2024, 3, 11), "hearing_requested": None, "hearing_noticed": None, "hearing_held": None,
    "collective_discussion": None, "major": None, "legal_review": dt.date(2024, 3, 12), "review_result": "通过",
    "decided": dt.date(2024, 3, 13), "outcome": "处罚", "penalty_kind": "罚款", "amount": 2000,
    "document": "津南学府罚决〔2024〕1号", "served": dt.date(2024, 3, 13), "service_method": "直接送达",
    "filed": None, "publicized_supervision": dt.date(2024, 3, 15), "publicized_credit": None,
    "paid": dt.date(2024, 3, 18), "closed": dt.date(2024, 3, 19),
}

HELP: dict[str, str] = {
    "id": "文字；长号码（身份证号、信用代码）请保持文本格式", "text": "文字", "agency": "执法主体档案中的机关代码，或机关全称",
    "word": "从下拉列表中选择", "date": "日期，如 2024-05-07、2024/5/7、2024年5月7日", "yes_no": "是 / 否",
    "amount": "金额（元），如 2000、2,000元、0.2万元", "officers": "姓名(执法证号)，多人用“；”分隔",
    "officer": "姓名(执法证号)", "list": "法规名称及条款，多条用“；”分隔",
}
REQUIRED_NOTE = {"case_id": "必填", "agency_code": "必填（或填写执法机关名称）", "procedure": "必填",
                 "review_result": "填写法制审核日期时必填；空白不视为通过", "outcome": "填写决定日期时必填",
                 "hearing_right": "填写告知日期时必填", "reviewer_qualified": "填写审核人员时必填",
                 "penalty_kind": "处理结果为处罚时必填", "amount": "罚款或缴款时必填",
                 "major": "选填（须有决定日期）；空白即未标为重大",
                 "collective_discussion": "重大案件或罚款达到集体讨论金额标准的案件必填：无此列或空白，检查和评查判为决定前没有集体讨论记录"}


def _choices(mapping: Mapping, key: str) -> list[str]:
    """The drop-down words of a coded column: every word the mapping accepts (a code without a word: the code)."""
    words = list(dict.fromkeys(mapping.words.get(key, {})))
    covered = set(mapping.words.get(key, {}).values())
    return words + [code for code in CODES[key] if code not in covered]


def write_template(path: Path, mapping: Mapping | None = None) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    mapping = mapping or load_mappings()[0]
    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    options = book.create_sheet("选项")
    options.sheet_state = "hidden"
    notes = book.create_sheet("填表说明")
    keys = list(FIELDS)
    headers = ["序号"] + [mapping.first_headers[k] for k in keys] + ["备注"]
    sheet.cell(1, 1, TITLE).font = Font(size=16, bold=True)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    fill = PatternFill("solid", fgColor="DDEBF7")
    for c, text in enumerate(headers, 1):
        cell = sheet.cell(2, c, text)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        sheet.column_dimensions[get_column_letter(c)].width = max(10, min(28, 2.2 * len(text) + 2))
    sheet.freeze_panes = "C3"
    sheet.cell(3, 1, 1)
    last = 3 + ROWS - 1
    option_col = 0
    yes_no_ref = None
    for i, key in enumerate(keys, 2):
        letter = get_column_letter(i)
        kind = FIELDS[key][2]
        value = EXAMPLE.get(key)
        cell = sheet.cell(3, i, value)
        if kind == "date":
            for r in range(3, last + 1):
                sheet.cell(r, i).number_format = "yyyy-mm-dd"
        elif kind in ("id", "text", "officers", "officer", "list", "agency"):
            for r in range(3, last + 1):
                sheet.cell(r, i).number_format = "@"          # text: a long ID keeps its digits
        elif kind == "amount":
            cell.number_format = "#,##0.00"
        if kind == "word" or kind == "yes_no":
            if kind == "yes_no" and yes_no_ref:
                ref = yes_no_ref
            else:
                words = _choices(mapping, key) if kind == "word" else ["是", "否"]
                option_col += 1
                col = get_column_letter(option_col)
                options.cell(1, option_col, FIELDS[key][0] if kind == "word" else "是否")
                for r, word in enumerate(words, 2):
                    options.cell(r, option_col, word)
                ref = f"选项!${col}$2:${col}${len(words) + 1}"
                if kind == "yes_no":
                    yes_no_ref = ref
            check = DataValidation(type="list", formula1=ref, allow_blank=True, showErrorMessage=True,
                                   errorTitle="请从列表中选择", error="请从下拉列表中选择一项")
            check.add(f"{letter}3:{letter}{last}")
            sheet.add_data_validation(check)
    notes.append(["填表说明 / How to fill in the ledger"])
    notes["A1"].font = Font(size=14, bold=True)
    notes.append(["每行一个案件；第 2 行是列名，请勿修改；第 3 行是示例，可改写或删除。序号、备注两列不读取。"
                  "日期可写 2024-05-07、2024/5/7、2024.5.7 或 2024年5月7日；金额可写 2000、2,000元 或 0.2万元。"])
    notes.append([])
    notes.append(["列名", "填写内容", "何时必填", "可填的值"])
    for c in "ABCD":
        notes[f"{c}4"].font = Font(bold=True)
    for key in keys:
        zh, en, kind = FIELDS[key]
        allowed = "、".join(_choices(mapping, key)) if kind == "word" else ("是、否（也可写 有/无、√/×）" if kind == "yes_no" else "")
        notes.append([mapping.first_headers[key], f"{zh}（{en}）：{HELP[kind]}", REQUIRED_NOTE.get(key, "选填"), allowed])
    for col, width in zip("ABCD", (18, 60, 30, 60)):
        notes.column_dimensions[col].width = width
    book.active = 0
    book.save(path)
