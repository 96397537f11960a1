"""Building ledger workbooks for the tests the way clerks' files look, and editing their XML afterwards."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook

D = dt.date.fromisoformat

# a clerk's ledger: 序号 first, 备注 last, synonyms for some headers
HEADERS = ["序号", "案号", "执法机关代码", "执法机关名称", "程序", "事项代码", "事项名称", "领域", "违法依据", "当事人类型",
           "当事人名称", "当事人证件号", "违法行为日期", "执法人员", "法制审核人员", "审核人员法律职业资格", "出示证件",
           "文书齐全", "立案日期", "检查日期", "检查结果", "告知日期", "告知听证权利", "法制审核日期", "审核结论", "决定日期",
           "处理结果", "处罚种类", "罚款金额（元）", "处罚决定书文号", "送达日期", "监督平台公示日期", "缴款日期", "结案日期", "备注"]


def clerk_row(n: int, *, agency: str = "xuefu", dates: tuple = ()) -> list:
    """Row ``n`` of the clerk's ledger; the dates written in mixed forms."""
    forms = dates or ("2024/3/4", "2024.3.4", "2024年3月8日", "2024-3-12", D("2024-03-13"), 45366, "20240318",
                      "2024-03-19")
    reg, ins, notice, review, decided, served, paid, closed = forms
    return [n, f"津南学府罚〔2024〕{n}号", agency, "南开区学府街道办事处", "普通程序", "SR-0101", "超出门窗外墙经营", "市容环境卫生",
            "《天津市市容和环境卫生管理条例》第二十条", "个体工商户", f"刘某{n}", f"12010419800101{n:04d}", "2024年3月1日",
            "王某明(津执10201)；黄某丽(津执10238)", "高某洋(津执10275)", "是", "已出示", "是", reg, ins, "发现违法行为",
            notice, "否", review, "通过", decided, "行政处罚", "罚款", "2,000元", f"津南学府罚决〔2024〕{n}号", served,
            "2024/3/16", paid, closed, "已结案"]


def clerk_ledger(path: Path, rows: list[list], *, title: bool = True, instructions: bool = True,
                 blank_after: int | None = 1) -> Path:
    book = Workbook()
    if instructions:
        notes = book.active
        notes.title = "填表说明"
        notes.append(["填表说明"])
        notes.append(["每行一个案件，日期写 2024/5/7 即可。"])
        sheet = book.create_sheet("2024年台账")
    else:
        sheet = book.active
        sheet.title = "2024年台账"
    if title:
        sheet.append(["南开区学府街道2024年行政处罚案件台账"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.append(HEADERS)
    for i, row in enumerate(rows):
        sheet.append(row)
        if blank_after is not None and i == blank_after - 1:
            sheet.append([])
            sheet.append([None] * 5)
    book.save(path)
    return path


def edit_part(path: Path, part: str, edit) -> Path:
    """Rewrite one part of the package (``edit(bytes) -> bytes``), the rest copied as it is."""
    with zipfile.ZipFile(path) as src:
        items = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            out.writestr(info.filename, edit(data) if info.filename == part else data)
    return path


def sheet_part(path: Path, name: str) -> str:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    index = book.sheetnames.index(name)
    book.close()
    return f"xl/worksheets/sheet{index + 1}.xml"


def stale_dimension(path: Path, part: str, ref: str = "A1:C2") -> Path:
    return edit_part(path, part, lambda xml: re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), xml)
                     if b"<dimension" in xml else xml.replace(b"<sheetData", f'<dimension ref="{ref}"/><sheetData'.encode(), 1))
