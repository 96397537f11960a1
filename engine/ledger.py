"""Excel ledgers (台账, ``.xlsx``): one row per case, turned into casecheck/1 cases.

The first row holds the column headers; each header is matched by its Chinese name or its English key
(``COLUMNS`` below, also in the README). Dates are Excel dates or ``YYYY-MM-DD`` text. A row's steps
become events in procedural order, each dated by its column; officers are written ``王某(津执01001);
赵某(津执01002)``. A ledger does not list the file's documents: ``文书齐全`` = 是 records that every step's
standard document is in the file (rules/documents.yaml), anything else leaves them unrecorded.

Problems name the file, the case id, ``rows.N.<column header>`` and the value.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from .documents import load_documents
from .errors import InputProblem

__all__ = ["read_ledger", "COLUMNS", "MAX_ROWS"]

MAX_ROWS = 200_000

# key → Chinese header. Steps are listed in the order their events are written.
COLUMNS: dict[str, str] = {
    "case_id": "案件编号", "agency_code": "执法机关代码", "agency_name": "执法机关名称", "procedure": "程序",
    "matter_code": "事项代码", "matter_name": "事项名称", "party_kind": "当事人类型", "party_name": "当事人名称",
    "party_id": "当事人证件号", "occurred_on": "违法行为日期", "officers": "执法人员", "reviewer": "法制审核人员",
    "reviewer_qualified": "审核人员法律职业资格", "certificates_shown": "出示证件", "recording": "音像记录编号",
    "documents_complete": "文书齐全",
    "discovered": "发现日期", "registered": "立案日期", "inspected": "检查日期", "inspection_result": "检查结果",
    "notified": "告知日期", "hearing_right": "告知听证权利", "rights_waived": "放弃陈述申辩日期",
    "legal_review": "法制审核日期", "review_result": "审核结论", "decided": "决定日期", "outcome": "处理结果",
    "penalty_kind": "处罚种类", "amount": "罚款金额", "document": "决定书文号", "served": "送达日期",
    "service_method": "送达方式", "filed": "备案日期", "publicized_supervision": "监督平台公示日期",
    "publicized_credit": "信用平台公示日期", "paid": "缴款日期", "closed": "结案日期",
}
STEP_ORDER = ("discovered", "registered", "inspected", "notified", "rights_waived", "legal_review", "decided",
              "served", "filed", "publicized_supervision", "publicized_credit", "paid", "closed")
ACTS = {"registered", "inspected", "notified", "decided", "served"}
SHOWN = {"inspected", "served", "decided"}

WORDS = {
    "procedure": {"普通程序": "ordinary", "简易程序": "simple", "行政检查": "inspection"},
    "party_kind": {"自然人": "person", "个人": "person", "公民": "person", "单位": "organization",
                   "法人": "organization", "法人或其他组织": "organization"},
    "review_result": {"通过": "approved", "同意": "approved", "退回": "returned", "不同意": "rejected"},
    "outcome": {"处罚": "penalty", "给予处罚": "penalty", "不予处罚": "no_penalty", "移送": "transfer"},
    "penalty_kind": {"警告": "warning", "通报批评": "criticism", "罚款": "fine", "没收": "confiscation",
                     "责令停产停业": "suspension", "吊销许可证件": "revocation", "责令关闭": "closure"},
    "inspection_result": {"合格": "compliant", "未发现问题": "no_violation", "发现违法": "violation_found",
                          "责令改正": "ordered_correction"},
    "service_method": {"直接送达": "direct", "当场交付": "on_the_spot", "留置送达": "left", "邮寄送达": "mail",
                       "电子送达": "electronic", "公告送达": "announcement", "张贴送达": "posted"},
}
YES = {"是", "有", "yes", "y", "true", "1", "√"}
OFFICER = re.compile(r"^\s*([^()（）]+?)\s*[(（]\s*([^()（）]+?)\s*[)）]\s*$")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_ledger(path: Path) -> tuple[list[tuple[int, dict[str, Any], dict[str, str]]], list[InputProblem]]:
    """``(row number, raw case, field path → column header)`` per row, and the problems found."""
    from openpyxl import load_workbook

    name = str(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:                      # openpyxl raises many kinds for a broken file
        return [], [InputProblem(name, None, "", f"not a readable Excel workbook: {exc.__class__.__name__}: {exc}")]
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            return [], [InputProblem(name, None, "rows.1", "the first row must hold the column headers")]
        by_header = {v: k for k, v in COLUMNS.items()} | {k: k for k in COLUMNS}
        columns: dict[int, str] = {}
        problems: list[InputProblem] = []
        for i, cell in enumerate(header):
            title = _text(cell)
            if not title:
                continue
            if title not in by_header:
                problems.append(InputProblem(name, None, f"rows.1.{title}", "unknown column (see the README's "
                                             "ledger mapping)", title, True))
                continue
            columns[i] = by_header[title]
        for required in ("case_id", "agency_code", "agency_name", "procedure"):
            if required not in columns.values():
                problems.append(InputProblem(name, None, "rows.1", f"missing column {COLUMNS[required]}"))
        if problems:
            return [], problems
        out = []
        for number, values in enumerate(rows, 2):
            if number > MAX_ROWS + 1:
                problems.append(InputProblem(name, None, f"rows.{number}", f"more than {MAX_ROWS:,} rows"))
                break
            cells = {columns[i]: v for i, v in enumerate(values) if i in columns and _text(v) != ""}
            if not cells:
                continue
            raw, where, found = _case(name, number, cells)
            problems.extend(found)
            if raw is not None:
                out.append((number, raw, where))
        return out, problems
    finally:
        book.close()


def _case(name: str, number: int, cells: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str],
                                                                      list[InputProblem]]:
    case_id = _text(cells.get("case_id")) or None
    problems: list[InputProblem] = []

    def bad(key: str, message: str) -> None:
        problems.append(InputProblem(name, case_id, f"rows.{number}.{COLUMNS[key]}", message, cells.get(key), True))

    def word(key: str) -> str | None:
        value = _text(cells.get(key))
        if not value:
            return None
        table = WORDS[key]
        if value in table:
            return table[value]
        if value in table.values():
            return value
        bad(key, f"one of {', '.join(table)}")
        return None

    def day(key: str) -> str | None:
        value = cells.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            if value.time() != dt.time(0):
                bad(key, "a date without a time")
                return None
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return _text(value)                     # text: the case model checks it and names this column

    officers: list[dict[str, Any]] = []
    ids: list[str] = []
    for n, item in enumerate(p for p in re.split(r"[;；,，、]", _text(cells.get("officers"))) if p.strip()):
        match = OFFICER.match(item)
        if not match:
            bad("officers", "write 姓名(执法证号); separated by ；")
            continue
        officers.append({"id": f"O{n + 1}", "name": match.group(1), "certificate": match.group(2)})
        ids.append(f"O{n + 1}")
    reviewer = None
    if _text(cells.get("reviewer")):
        match = OFFICER.match(_text(cells["reviewer"]))
        if not match:
            bad("reviewer", "write 姓名(执法证号)")
        else:
            reviewer = "R1"
            officers.append({"id": "R1", "name": match.group(1), "certificate": match.group(2),
                             "legal_qualification": _text(cells.get("reviewer_qualified")).lower() in YES})
    procedure = word("procedure")
    raw: dict[str, Any] = {"format": "casecheck/1", "case_id": case_id,
                           "agency": {"code": _text(cells.get("agency_code")), "name": _text(cells.get("agency_name"))},
                           "procedure": procedure, "officers": officers}
    if cells.get("matter_code"):
        raw["matter"] = {"code": _text(cells["matter_code"]), "name": _text(cells.get("matter_name")) or
                         _text(cells["matter_code"])}
    if cells.get("party_name") or cells.get("party_id"):
        raw["party"] = {"kind": word("party_kind"), "name": _text(cells.get("party_name")),
                        "id": _text(cells.get("party_id"))}
    if cells.get("occurred_on"):
        raw["violation"] = {"occurred_on": day("occurred_on")}
    complete = _text(cells.get("documents_complete")).lower() in YES
    shown = _text(cells.get("certificates_shown")).lower()
    documents = load_documents()
    steps: list[tuple[dict[str, Any], str]] = []
    for key in STEP_ORDER:
        date = day(key)
        if date is None:
            continue
        event: dict[str, Any] = {"type": "publicized" if key.startswith("publicized") else key, "date": date}
        if key in ACTS and ids:
            event["officers"] = list(ids)
        if key in SHOWN and shown:
            event["certificates_shown"] = shown in YES
        if key == "inspected":
            if cells.get("recording"):
                event["recording"] = _text(cells["recording"])
            if cells.get("inspection_result"):
                event["result"] = word("inspection_result")
        if key == "notified":
            event["hearing_right"] = _text(cells.get("hearing_right")).lower() in YES
        if key == "legal_review":
            event["reviewer"] = reviewer
            event["result"] = word("review_result") or "approved"
        if key == "decided":
            outcome = word("outcome") or "penalty"
            event["outcome"] = outcome
            if outcome == "penalty":
                event["penalty"] = {"kind": word("penalty_kind") or "fine"}
                if cells.get("amount") is not None:
                    event["penalty"]["amount"] = _text(cells["amount"])
            if cells.get("document"):
                event["document"] = _text(cells["document"])
        if key == "served" and cells.get("service_method"):
            event["method"] = word("service_method")
        if key == "publicized_supervision":
            event["platform"] = "supervision_platform"
        if key == "publicized_credit":
            event["platform"] = "credit_china"
        if key == "paid":
            event["amount"] = _text(cells.get("amount")) or "0"
        rule = documents.get(event["type"])
        if complete and rule and procedure in rule.procedures:
            event["documents"] = [rule.name["zh"]]
        steps.append((event, COLUMNS[key]))
    steps.sort(key=lambda pair: pair[0]["date"])    # stable: same-day steps keep the procedural order
    raw["events"] = [event for event, _ in steps]
    where = {f"events.{i}": column for i, (_, column) in enumerate(steps)}
    if problems:
        return None, where, problems
    return raw, where, problems
