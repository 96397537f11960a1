"""A ledger workbook → raw casecheck/1 cases, one per row, or located problems (Chinese and English).

* Every sheet is looked at, in order; a sheet is a data sheet when one of its first ``HEADER_SCAN`` rows
  holds the case-id header and at least two other known headers (title rows and merged cells above it
  are passed over).
* A sheet without such a row is passed over only when it does not look like a ledger table: none of its
  first ``HEADER_SCAN`` rows has three or more non-empty cells of which at least two name a ledger column
  (exactly, or close enough to be a misspelling: ``CLOSE`` similarity after the header is normalised),
  one of them the case id or a date column. So prose (填表说明), an empty sheet, the template's 填表说明
  table (one column name a row) and its 选项 lists (coded columns only, no case id, no date) are passed
  over, while a ledger whose header says 案卷编号 for 案件编号 is refused, naming the sheet, the row that
  looks like its header and, for each unknown header, the closest known one: its rows are never lost.
* The mapping (``rules/ledgers``) that recognises the most headers of the row is used.
* Columns with an ignored header (序号, 备注…) are read past; an unknown header, or a value in a column
  without a header, is a problem: nothing in the sheet is silently dropped. Unknown headers alone still let
  the rows be read for the known columns (all problems in one pass), except the problems that blame a
  column not found (it may be the one whose header is refused); a missing or doubled column stops the sheet.
* Blank rows are skipped; every other row is read whatever the sheet declares its size to be.
* Every cell is read to one meaning (``values``) or refused with sheet, row, header, value and the fix;
  a cell a row's other cells make necessary (a review date needs its conclusion…) is refused when blank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Iterator

from ..documents import load_documents
from ..errors import InputProblem
from .mapping import CODES, FIELDS, Mapping, _strip_note, header_key, load_mappings
from .values import Refused, as_amount, as_date, as_id, as_text, as_yes_no
from .xlsx import Book, BookRefused, Cell, Sheet, column_letter

__all__ = ["read_ledger", "LedgerRow", "MAX_ROWS", "STEP_ORDER", "build_row", "split_ledger", "read_chunk",
           "LedgerChunk", "Problems"]

MAX_ROWS = 1_000_000
HEADER_SCAN = 30
STEP_ORDER = ("discovered", "registered", "inspected", "notified", "rights_waived", "hearing_requested", "hearing_noticed",
              "hearing_held", "legal_review", "collective_discussion", "decided",
              "served", "filed", "publicized_supervision", "publicized_credit", "paid", "closed")
ACTS = {"registered", "inspected", "notified", "decided", "served"}
SHOWN = {"inspected", "served", "decided"}
OFFICER = re.compile(r"^\s*([^()（）]+?)\s*[(（]\s*([^()（）]+?)\s*[)）]\s*$")
REQUIRED = ("case_id", "procedure")
# a case-file path → the field (column) it was read from, so a problem the case model finds is located too
PATHS = {"case_id": "case_id", "agency.code": "agency_code", "agency.name": "agency_name", "procedure": "procedure",
         "matter.code": "matter_code", "matter.name": "matter_name", "matter.domain": "domain",
         "party.kind": "party_kind", "party.name": "party_name", "party.id": "party_id",
         "violation.occurred_on": "occurred_on", "violation.basis": "basis", "officers": "officers"}


@dataclass
class LedgerRow:
    sheet: str
    number: int
    raw: dict[str, Any]
    where: dict[str, str]          # events.N → the header of the column the event came from
    unstated: frozenset[str] = frozenset()   # event types the ledger has no column for (``_Layout.unstated``)


@dataclass
class _Layout:
    sheet: Sheet
    mapping: Mapping
    header_row: int
    columns: dict[int, str]        # column → field
    headers: dict[int, str]        # column → header as written
    ignored: set[int] = field(default_factory=set)
    unknown: set[int] = field(default_factory=set)     # columns whose header is unknown (refused at the header)

    @cached_property
    def unstated(self) -> frozenset[str]:
        """The event types of ``UNSTATED`` the sheet has no column for: its rows cannot say the step was taken
        (once per sheet, not per row)."""
        present = set(self.columns.values())
        return frozenset(key for key in UNSTATED if key not in present)


@lru_cache(maxsize=1)
def _agencies() -> tuple[dict[str, str], dict[str, str]]:
    """code → name and name → code of every agency profile (rules/agencies)."""
    from ..agency import load_agency
    from ..definitions import rules_path

    by_code, by_name = {}, {}
    for path in sorted(rules_path("agencies").glob("*.yaml")):
        profile = load_agency(path)
        by_code[profile.code] = profile.name
        by_name[profile.name] = profile.code
    return by_code, by_name


def _header_text(cell: Cell) -> str:
    return cell.value.strip() if cell.kind == "text" else ""


def _layout(book: Book, sheet: Sheet, rows: Iterator[tuple[int, dict[int, Cell]]],
            mappings: tuple[Mapping, ...]) -> tuple[_Layout | None, list[tuple[int, dict[int, Cell]]]]:
    """The header row of a sheet (within its first rows), or None; and the rows read while looking."""
    seen: list[tuple[int, dict[int, Cell]]] = []
    for number, cells in rows:
        seen.append((number, cells))
        texts = {c: _header_text(cell) for c, cell in cells.items() if _header_text(cell)}
        best: tuple[int, Mapping] | None = None
        for mapping in mappings:
            known = {mapping.field_of(t) for t in texts.values()} - {None}
            if "case_id" in known and len(known) >= 3 and (best is None or len(known) > best[0]):
                best = (len(known), mapping)
        if best:
            mapping = best[1]
            columns, headers, ignored = {}, {}, set()
            for c, text in texts.items():
                headers[c] = text
                key = mapping.field_of(text)
                if key:
                    columns[c] = key
                elif mapping.ignored(text):
                    ignored.add(c)
            return _Layout(sheet, mapping, number, columns, headers, ignored), []
        if len(seen) >= HEADER_SCAN:
            break
    return None, seen


CLOSE = 0.75          # difflib ratio at which an unknown header is taken for a misspelt known one (案卷编号 ~ 案件编号)
DATE_FIELDS = frozenset(k for k, (_, _, kind) in FIELDS.items() if kind == "date")


def _names(mappings: tuple[Mapping, ...]) -> dict[str, str]:
    """Every header the mappings know (as compared) → its field (``""``: an ignored column), the template's
    names first, then the mappings' in order (the default first): a tie in ``_closest`` goes to the first."""
    names: dict[str, str] = {header_key(zh): fld for fld, (zh, _, _) in FIELDS.items()}
    for mapping in mappings:
        for key, fld in mapping.headers.items():
            names.setdefault(key, fld)
        for key in sorted(mapping.ignore):
            names.setdefault(key, "")
    return names


def _closest(text: str, names: dict[str, str], cutoff: float) -> str | None:
    """The known header nearest to ``text`` (difflib ratio ≥ ``cutoff``), the first of ``names`` on a tie."""
    import difflib

    key = header_key(text)
    best, score = None, cutoff
    for probe in dict.fromkeys((key, _strip_note(key))):
        matcher = difflib.SequenceMatcher(b=probe, autojunk=False)
        for name in names:
            matcher.set_seq1(name)
            if matcher.real_quick_ratio() >= score and matcher.quick_ratio() >= score:
                ratio = matcher.ratio()
                if ratio > score or (ratio == score and best is None):
                    best, score = name, ratio
    return best


def _near_header(seen: list[tuple[int, dict[int, Cell]]], mappings: tuple[Mapping, ...]
                 ) -> tuple[int, dict[int, str], set[str]] | None:
    """The row that looks most like a ledger header though it is not one (the module's rule), with its
    texts and the fields it names (exactly or nearly); None when the sheet does not look like a ledger."""
    names = _names(mappings)
    best: tuple[int, dict[int, str], set[str]] | None = None
    for number, cells in seen:
        texts = {c: _header_text(cell) for c, cell in cells.items() if _header_text(cell)}
        if len(texts) < 3:
            continue
        named: set[str] = set()
        for text in texts.values():
            fld = next((m.field_of(text) for m in mappings if m.field_of(text)), None)
            if fld is None and len(header_key(text)) <= 20:
                close = _closest(text, names, CLOSE)
                fld = names.get(close) if close else None
            if fld:
                named.add(fld)
        if len(named) >= 2 and ("case_id" in named or named & DATE_FIELDS) and (best is None or len(named) > len(best[2])):
            best = (number, texts, named)
    return best


def _unknown_header(problems: "Problems", sheet: str, row: int, column: int, text: str,
                    names: dict[str, str]) -> None:
    close = _closest(text, names, 0.5)
    hint_zh = f"（是否应为“{close}”？）" if close else ""
    hint_en = f" (did you mean {close}?)" if close else ""
    problems.add(sheet, row, column, text, f"未知的列名“{text}”{hint_zh}：请改为模板中的列名，或在 rules/ledgers 的映射文件中"
                 f"登记它（或列入 ignore）", f"unknown column {text!r}{hint_en}: use a header of the template, or add it "
                 f"(or to ignore) in a mapping file in rules/ledgers", None, text, True)


class Problems:
    def __init__(self, file: str):
        self.file = file
        self.items: dict[tuple[Any, ...], InputProblem] = {}

    def add(self, sheet: str, row: int | None, column: int | None, header: str, zh: str, en: str,
            case_id: str | None = None, value: Any = None, has_value: bool = False) -> None:
        fld = (f"rows.{row}.{header}" if header else f"rows.{row}") if row is not None else (f"rows.{header}" if header else "")
        key = (sheet, row if row is not None else 0, column if column is not None else -1, zh)
        if key in self.items:
            return                       # the same error never twice
        self.items[key] = InputProblem(f"{self.file}!{sheet}" if sheet else self.file, case_id, fld, zh, value,
                                       has_value, en)

    def sorted(self) -> list[InputProblem]:
        return [self.items[k] for k in sorted(self.items, key=lambda k: (k[0] != "", k[1], k[2]))]


def read_ledger(path: Path, sheet_name: str | None = None, *, emit: Any = None,
                problems: "Problems | None" = None) -> tuple[list[LedgerRow], list[InputProblem]]:
    """Every case row of every data sheet (or of ``sheet_name``), and every problem, sorted by sheet
    order and row. Any problem in a row → that row gives no case. ``emit(layout, number, cells, heads)``:
    hand each row on unread instead (``split_ledger``)."""
    file = str(path)
    problems = problems if problems is not None else Problems(file)
    out: list[LedgerRow] = []
    try:
        book = Book(path)
    except BookRefused as exc:
        problems.add("", None, None, "", exc.zh, exc.en)
        return [], problems.sorted()
    if emit is not None:
        emit.date1904 = book.date1904
    try:
        mappings = load_mappings()
        sheets = [s for s in book.sheets if sheet_name is None or s.name == sheet_name]
        if sheet_name is not None and not sheets:
            names = "、".join(s.name for s in book.sheets)
            problems.add("", None, None, "", f"没有名为“{sheet_name}”的工作表（有：{names}）",
                         f"no sheet named {sheet_name!r} (the sheets: {', '.join(s.name for s in book.sheets)})")
            return [], problems.sorted()
        found_any = False
        order = {s.name: i for i, s in enumerate(book.sheets)}
        for sheet in sheets:
            try:
                found_any |= _read_sheet(book, sheet, mappings, problems, out, sheet_name is not None, emit)
            except BookRefused as exc:
                problems.add(sheet.name, None, None, "", exc.zh, exc.en)
                found_any = True
        if not found_any:
            names = "、".join(s.name for s in sheets)
            problems.add("", None, None, "", f"没有找到台账表头：工作表（{names}）的前 {HEADER_SCAN} 行中没有一行同时含有"
                         f"“案件编号”和其他列名；请使用 casecheck ledger template 生成的模板",
                         f"no ledger header found: no row among the first {HEADER_SCAN} of the sheets ({', '.join(s.name for s in sheets)}) "
                         f"holds 案件编号 and other known headers; start from `casecheck ledger template`")
        items = problems.sorted()
        items.sort(key=lambda p: order.get(p.file.rpartition("!")[2], -1) if p.file != file else -1)
        return out, items
    finally:
        book.close()


def _read_sheet(book: Book, sheet: Sheet, mappings: tuple[Mapping, ...], problems: Problems,
                out: list[LedgerRow], explicit: bool, emit: Any = None) -> bool:
    rows = book.rows(sheet)
    layout, seen = _layout(book, sheet, rows, mappings)
    if layout is None:
        near = _near_header(seen, mappings)
        if near is not None and not explicit:
            row = near[0]
            if not any(number > row for number, _ in seen) and next(rows, None) is None:
                near = None                    # a header that looks broken and no row under it: nothing is lost
        if near is None:
            if explicit:
                problems.add(sheet.name, None, None, "", f"工作表“{sheet.name}”的前 {HEADER_SCAN} 行中没有台账表头（案件编号等列名）",
                             f"sheet {sheet.name!r} has no ledger header (案件编号 and others) in its first {HEADER_SCAN} rows")
            return explicit
        row, texts, named = near
        if not any(m.field_of(t) == "case_id" for t in texts.values() for m in mappings):
            why, why_en = "没有“案件编号”列（或案号、案件号、编号）", "there is no 案件编号 column (or 案号, 案件号, 编号)"
        else:
            why, why_en = "其中能识别的列名不足三个", "fewer than three of its headers are known"
        problems.add(sheet.name, row, None, "", f"工作表“{sheet.name}”：未找到表头行（须有“案件编号”列和至少两个其他已知列名）；"
                     f"第 {row} 行看起来是表头，但{why}：请按模板改正列名（casecheck ledger template），此表的案件都未读取",
                     f"sheet {sheet.name!r}: no header row found (it needs a 案件编号 column and at least two other known "
                     f"headers); row {row} looks like the header, but {why_en}: fix the headers as in the template "
                     f"(`casecheck ledger template`); none of this sheet's cases were read")
        names = _names(mappings)
        for c, text in sorted(texts.items()):
            if not any(m.field_of(text) or m.ignored(text) for m in mappings):
                _unknown_header(problems, sheet.name, row, c, text, names)
        return True
    name = sheet.name
    names = _names((layout.mapping,))
    for c, text in sorted(layout.headers.items()):
        if c not in layout.columns and c not in layout.ignored:
            layout.unknown.add(c)
            _unknown_header(problems, name, layout.header_row, c, text, names)
    before = len(problems.items)       # unknown headers alone: the rows are still read, for the known columns
    fields = list(layout.columns.values())
    for key in set(fields):
        if fields.count(key) > 1:
            cols = [layout.headers[c] for c, f in layout.columns.items() if f == key]
            problems.add(name, layout.header_row, min(c for c, f in layout.columns.items() if f == key), cols[-1],
                         f"“{'”“'.join(cols)}”都表示{FIELDS[key][0]}：请只保留一列",
                         f"{', '.join(cols)} all mean {FIELDS[key][1]}: keep one column")
    if not ({"agency_code", "agency_name"} & set(fields)):
        problems.add(name, layout.header_row, None, "", "缺少“执法机关代码”或“执法机关名称”列", "missing the column 执法机关代码 "
                     "or 执法机关名称 (agency)")
    for key in REQUIRED:
        if key not in fields:
            problems.add(name, layout.header_row, None, "", f"缺少“{FIELDS[key][0]}”列", f"missing the column "
                         f"{FIELDS[key][0]} ({FIELDS[key][1]})")
    if len(problems.items) > before:
        return True
    stray: set[int] = set()
    count = 0
    # merged ranges reaching into a read column under the header: their value is the top-left cell's only
    merges = [m for m in book.merged_ranges(sheet) if m[0] > layout.header_row
              and any(c in layout.columns for c in range(m[1], m[3] + 1))]
    waiting, active, filled = iter(merges), [], set()
    upcoming = next(waiting, None)
    for number, cells in rows:
        count += 1
        if count > MAX_ROWS:
            problems.add(name, number, None, "", f"超过 {MAX_ROWS:,} 行：请分成几个文件", f"more than {MAX_ROWS:,} rows: "
                         f"split the ledger into several files")
            break
        if merges:
            while upcoming is not None and upcoming[0] <= number:
                active.append(upcoming)
                upcoming = next(waiting, None)
            active = [m for m in active if m[2] >= number]
        total = _totals(cells)
        if total is not None:
            c, text = total
            problems.add(name, number, c, layout.headers.get(c, column_letter(c)),
                         f"第 {number} 行是合计行（“{text}”）：台账每行一个案件，合计行不是案件；请删去该行（合计可放在另一张工作表）",
                         f"row {number} is a totals row ({text!r}): a ledger holds one case a row and a total is no "
                         f"case; delete the row (keep totals on another sheet)", None, text, True)
            continue
        values: dict[str, Cell] = {}
        heads: dict[str, tuple[int, str]] = {}
        for c, cell in cells.items():
            key = layout.columns.get(c)
            if key is None:
                if c not in layout.ignored and c not in layout.unknown and c not in stray and not (cell.kind == "text" and not cell.value.strip()):
                    stray.add(c)
                    problems.add(name, number, c, column_letter(c), f"{column_letter(c)} 列没有列名，却填有内容：请补上列名或删去",
                                 f"column {column_letter(c)} has no header but holds values: add a header or delete them",
                                 None, cell.value, True)
                continue
            if cell.kind == "text" and not cell.value.strip():
                continue
            values[key] = cell
            heads[key] = (c, layout.headers[c])
        for m in active:
            if m[0] == number and m[1] in cells:
                filled.add(m)
        if not values:
            continue                                        # a blank row (or only 序号/备注)
        for m in active:
            if m not in filled:
                continue                                    # an empty merged range: blank cells, nothing lost
            for c in range(m[1], m[3] + 1):
                key = layout.columns.get(c)
                if key is not None and key not in values and (number, c) != (m[0], m[1]):
                    ref = f"{column_letter(m[1])}{m[0]}:{column_letter(m[3])}{m[2]}"
                    values[key] = Cell("merged", ref)
                    heads[key] = (c, layout.headers[c])
        if emit is not None:
            emit(layout, number, values, heads)
            continue
        built = build_row(book.date1904, layout, number, values, heads, problems)
        if built is not None:
            out.append(built)
    return True


_TOTALS = ("合计", "总计", "小计")


def _totals(cells: dict[int, Cell]) -> tuple[int, str] | None:
    """The first non-empty cell of a row when it says 合计/总计/小计 (a totals row), else None."""
    for c in sorted(cells) if len(cells) > 1 else cells:
        cell = cells[c]
        if cell.kind != "text":
            return None
        text = cell.value.strip()
        if text:
            return (c, text) if "".join(text.split()).startswith(_TOTALS) else None
    return None


# step columns whose absence a rule would otherwise read as "not done" (a large fine's 集体讨论): a case from a
# sheet without the column carries the step's event type, and the finding says the column is missing
UNSTATED = ("collective_discussion",)


def build_row(date1904: bool, layout: _Layout, number: int, cells: dict[str, Cell],
              heads: dict[str, tuple[int, str]], problems: Problems) -> LedgerRow | None:
    """One row's cells read into a raw case (None when any cell was refused: the problems say why)."""
    row = _Row(date1904, layout, layout.sheet.name, number, cells, heads, problems)
    raw, where = row.case()
    if raw is None or row.failed:
        return None
    return LedgerRow(layout.sheet.name, number, raw, where, layout.unstated)


class _Row:
    def __init__(self, date1904: bool, layout: _Layout, sheet: str, number: int, cells: dict[str, Cell],
                 heads: dict[str, tuple[int, str]], problems: Problems):
        self.date1904, self.layout, self.mapping = date1904, layout, layout.mapping
        self.sheet, self.number, self.cells, self.heads, self.problems = sheet, number, cells, heads, problems
        self.failed = False
        self.case_id: str | None = None

    def header(self, key: str) -> tuple[int | None, str]:
        if key in self.heads:
            return self.heads[key]
        for c, f in self.layout.columns.items():
            if f == key:
                return c, self.layout.headers[c]
        return None, FIELDS[key][0]

    def bad(self, key: str, zh: str, en: str, show: bool = True) -> None:
        self.failed = True
        c, head = self.header(key)
        cell = self.cells.get(key)
        has = show and cell is not None
        value = (cell.value if cell.kind != "bool" else ("TRUE" if cell.value == "1" else "FALSE")) if has else None
        self.problems.add(self.sheet, self.number, c, head, zh, en, self.case_id, value, has)

    def missing(self, key: str, because: str, because_en: str) -> None:
        if key not in self.layout.columns.values():      # no such column: said once, at the header row
            self.failed = True
            if self.layout.unknown:
                return                                   # it may be the column whose header is refused
            self.problems.add(self.sheet, self.layout.header_row, None, "",
                              f"缺少“{FIELDS[key][0]}”列：{because}", f"missing the column {FIELDS[key][0]} "
                              f"({FIELDS[key][1]}): {because_en}")
            return
        self.bad(key, f"必须填写{FIELDS[key][0]}：{because}", f"{FIELDS[key][1]} is required: {because_en}", show=False)

    def read(self, key: str, fn: Any, *args: Any) -> Any:
        cell = self.cells.get(key)
        if cell is None or cell.kind == "merged":          # a merged cell: refused once, in ``case``
            return None
        try:
            return fn(cell, *args)
        except Refused as exc:
            self.bad(key, exc.zh, exc.en)
            return None

    def text(self, key: str) -> str | None:
        return self.read(key, as_text)

    def ident(self, key: str) -> str | None:
        return self.read(key, as_id)

    def date(self, key: str) -> str | None:
        return self.read(key, as_date, self.date1904)

    def yes_no(self, key: str) -> bool | None:
        return self.read(key, as_yes_no, self.mapping.yes, self.mapping.no)

    def word(self, key: str) -> str | None:
        text = self.text(key)
        if text is None:
            return None
        code = self.mapping.code(key, text)
        if code is None:
            words = [w for w in self.mapping.words.get(key, {}) if w.strip()]
            short = "、".join(dict.fromkeys(words)) if len(words) <= 12 else "、".join(words[:12]) + "…"
            self.bad(key, f"无法识别的{FIELDS[key][0]}：可填 {short}", f"unknown {FIELDS[key][1]}: write one of "
                     f"{', '.join(CODES[key])} or their Chinese words ({short})")
        return code

    def person(self, key: str, text: str) -> tuple[str, str] | None:
        m = OFFICER.match(text)
        if not m:
            self.bad(key, "请写成 姓名(执法证号)，多人用“；”分隔，如 王某(津执01001)；赵某(津执01002)",
                     "write name(certificate number), several separated by ；, e.g. 王某(津执01001)；赵某(津执01002)")
            return None
        return m.group(1), m.group(2)

    def case(self) -> tuple[dict[str, Any] | None, dict[str, str]]:
        cells = self.cells
        self.case_id = self.ident("case_id")
        for key, cell in cells.items():
            if cell.kind == "merged":
                top = cell.value.split(":", 1)[0]
                self.bad(key, f"此格在合并单元格 {cell.value} 中：合并单元格的值只属于左上角的 {top}，本行的{FIELDS[key][0]}"
                         f"读作空白；请取消合并，并在每一行填写{FIELDS[key][0]}",
                         f"this cell is inside the merged range {cell.value}: a merged value belongs only to its "
                         f"top-left cell {top}, so this row's {FIELDS[key][1]} is blank; unmerge the cells and fill in "
                         f"{FIELDS[key][1]} on every row", show=False)
        if "case_id" not in cells:
            self.missing("case_id", "每行一个案件，以案件编号区分", "each row is one case, known by its id")
        agency = self.agency()
        procedure = self.word("procedure")
        if "procedure" not in cells:
            self.missing("procedure", "普通程序、简易程序或行政检查", "ordinary, simple or inspection")
        raw: dict[str, Any] = {"format": "casecheck/1", "case_id": self.case_id, "agency": agency,
                               "procedure": procedure}
        officers, ids = self.officers()
        raw["officers"] = officers
        if "matter_code" in cells or "matter_name" in cells or "domain" in cells:
            code, name, domain = self.ident("matter_code"), self.text("matter_name"), self.word("domain")
            if code is None and "matter_code" not in cells:
                self.missing("matter_code", "填写了事项名称或领域", "a matter name or domain is given")
            matter: dict[str, Any] = {"code": code, "name": name or code}
            if domain:
                matter["domain"] = domain
            raw["matter"] = matter
        if {"party_kind", "party_name", "party_id"} & set(cells):
            kind, name, pid = self.word("party_kind"), self.text("party_name"), self.ident("party_id")
            for key in ("party_kind", "party_name", "party_id"):
                if key not in cells:
                    self.missing(key, "当事人类型、名称、证件号需一并填写", "a party needs kind, name and id")
            raw["party"] = {"kind": kind, "name": name, "id": pid}
        basis = self.text("basis")
        if "occurred_on" in cells or basis:
            occurred = self.date("occurred_on")
            if "occurred_on" not in cells:
                self.missing("occurred_on", "填写了违法依据", "a legal basis is given")
            violation: dict[str, Any] = {"occurred_on": occurred}
            if basis:
                violation["basis"] = [b.strip() for b in re.split(r"[;；\n]", basis) if b.strip()]
            raw["violation"] = violation
        complete = self.yes_no("documents_complete")
        shown = self.yes_no("certificates_shown")
        documents = load_documents()
        steps: list[tuple[dict[str, Any], str]] = []
        outcome = None
        for key in STEP_ORDER:
            date = self.date(key)
            if date is None:
                continue
            event: dict[str, Any] = {"type": "publicized" if key.startswith("publicized") else key, "date": date}
            if key in ACTS and ids:
                event["officers"] = list(ids)
            if key in SHOWN and shown is not None:
                event["certificates_shown"] = shown
            if key == "inspected":
                recording = self.ident("recording")
                if recording:
                    event["recording"] = recording
                result = self.word("inspection_result")
                if result:
                    event["result"] = result
            if key == "notified":
                told = self.yes_no("hearing_right")
                if "hearing_right" not in cells:
                    self.missing("hearing_right", "填写了告知日期，须写明是否告知听证权利（是/否）",
                                 "a notice date is given: say whether the hearing right was told (是/否)")
                event["hearing_right"] = bool(told)
            if key == "legal_review":
                if "reviewer" not in cells:
                    self.missing("reviewer", "填写了法制审核日期", "a legal review date is given")
                event["reviewer"] = "R1"
                result = self.word("review_result")
                if "review_result" not in cells:
                    self.missing("review_result", "填写了法制审核日期，审核结论为空不能视为通过（通过/退回/不同意）",
                                 "a review date is given; a blank conclusion is not an approval (通过/退回/不同意)")
                event["result"] = result
            if key == "decided":
                outcome = self.word("outcome")
                if "outcome" not in cells:
                    self.missing("outcome", "填写了决定日期（处罚/不予处罚/移送）", "a decision date is given (处罚/不予处罚/移送)")
                event["outcome"] = outcome
                major = self.yes_no("major")
                if major is not None:
                    event["major"] = major
                if outcome == "penalty":
                    kind = self.word("penalty_kind")
                    if "penalty_kind" not in cells:
                        self.missing("penalty_kind", "处理结果为处罚（警告/罚款/没收…）", "the outcome is a penalty")
                    event["penalty"] = {"kind": kind}
                    amount = self.read("amount", as_amount)
                    if amount is not None:
                        event["penalty"]["amount"] = amount
                    elif kind == "fine" and "amount" not in cells:
                        self.missing("amount", "处罚种类为罚款", "the penalty is a fine")
                elif outcome is not None:
                    for extra in ("penalty_kind", "amount"):      # never dropped: the row contradicts itself
                        if extra in cells:
                            name = FIELDS[extra]
                            self.bad(extra, f"处理结果不是处罚，却填写了{name[0]}：请改正处理结果或删去{name[0]}",
                                     f"the outcome is not a penalty but {name[1]} is given: fix one of them")
                document = self.text("document")
                if document:
                    event["document"] = document
            if key == "served" and "service_method" in cells:
                method = self.word("service_method")
                if method:
                    event["method"] = method
            if key == "publicized_supervision":
                event["platform"] = "supervision_platform"
            if key == "publicized_credit":
                event["platform"] = "credit_china"
            if key == "paid":
                if outcome is not None and outcome != "penalty":
                    self.bad("paid", "处理结果不是处罚，却填写了缴款日期：请改正处理结果或删去缴款日期",
                             "the outcome is not a penalty but a payment date is given: fix one of them")
                amount = self.read("amount", as_amount)
                if "amount" not in cells:
                    self.missing("amount", "填写了缴款日期", "a payment date is given")
                event["amount"] = amount
            rule = documents.get(event["type"])
            if complete and rule and procedure in rule.procedures:
                event["documents"] = [rule.name["zh"]]
            steps.append((event, self.header(key)[1]))
        for key in ("outcome", "penalty_kind", "review_result", "hearing_right", "inspection_result",
                    "service_method", "recording", "document", "major"):
            self._orphan(key)
        if "amount" in cells and "decided" not in cells and "paid" not in cells:
            if self.layout.unknown and not {"decided", "paid"} <= set(self.layout.columns.values()):
                self.failed = True                       # a date column may be the one whose header is refused
            else:
                self.bad("amount", "填写了罚款金额，但决定日期和缴款日期都为空：请补上日期或删去金额",
                         "a fine is given but both the decision date and the payment date are blank: add the date "
                         "or delete the amount")
        if self.failed:
            return None, {}
        steps.sort(key=lambda pair: pair[0]["date"])     # stable: same-day steps keep the procedural order
        raw["events"] = [event for event, _ in steps]
        where = {path: self.header(key)[1] for path, key in PATHS.items() if key in cells}
        where.update({f"events.{i}": column for i, (_, column) in enumerate(steps)})
        return raw, where

    _NEEDS = {"outcome": "decided", "penalty_kind": "decided", "review_result": "legal_review",
              "hearing_right": "notified", "inspection_result": "inspected", "service_method": "served",
              "recording": "inspected", "document": "decided", "major": "decided"}

    def _orphan(self, key: str) -> None:
        """A value whose step has no date would be dropped: refused instead."""
        step = self._NEEDS[key]
        if key in self.cells and step not in self.cells:
            if self.layout.unknown and step not in self.layout.columns.values():
                self.failed = True                       # the step's column may be the one whose header is refused
                return
            self.bad(key, f"填写了{FIELDS[key][0]}，但{FIELDS[step][0]}为空：请补上日期或删去此项",
                     f"{FIELDS[key][1]} is given but {FIELDS[step][1]} is blank: add the date or delete it")

    def agency(self) -> dict[str, Any]:
        by_code, by_name = _agencies()
        code = self.ident("agency_code")
        name = self.text("agency_name")
        if code is not None and code not in by_code:
            if code in by_name:
                code = by_name[code]                          # a name written in the code column
            elif not re.fullmatch(r"[A-Za-z0-9_.-]+", code):
                self.bad("agency_code", f"执法机关“{code}”不在执法主体档案（rules/agencies）中：请填写机关代码（"
                         f"{'、'.join(sorted(by_code))}）或其档案中的全称", f"agency {code!r} is not in the agency profiles "
                         f"(rules/agencies): write its code ({', '.join(sorted(by_code))}) or its full name as profiled")
                code = None
        if code is None and name and "agency_code" not in self.cells:
            if name in by_name:
                code = by_name[name]
            else:
                self.bad("agency_name", f"执法机关“{name}”不在执法主体档案（rules/agencies）中：请填写执法机关代码列，或使用档案中的全称",
                         f"agency {name!r} is not in the agency profiles (rules/agencies): fill in the agency code "
                         f"column, or use the full name as profiled")
        if code is None and name is None and "agency_code" not in self.cells and "agency_name" not in self.cells:
            key = "agency_code" if "agency_code" in self.layout.columns.values() else "agency_name"
            self.missing(key, "每个案件须写明执法机关（代码或名称），此格为空", "every case names its agency (code or "
                         "name); the cell is blank")
        if name is None and code in by_code:
            name = by_code[code]
        if name is None and code is not None and "agency_name" not in self.cells:
            self.missing("agency_name", f"机关代码“{code}”没有执法主体档案，须写明机关名称",
                         f"agency {code!r} has no profile: write its name")
        return {"code": code, "name": name}

    def officers(self) -> tuple[list[dict[str, Any]], list[str]]:
        officers: list[dict[str, Any]] = []
        ids: list[str] = []
        text = self.text("officers")
        if text:
            for n, item in enumerate(p for p in re.split(r"[;；,，、\n]", text) if p.strip()):
                person = self.person("officers", item)
                if person:
                    officers.append({"id": f"O{n + 1}", "name": person[0], "certificate": person[1]})
                    ids.append(f"O{n + 1}")
        reviewer = self.text("reviewer")
        if reviewer:
            person = self.person("reviewer", reviewer)
            qualified = self.yes_no("reviewer_qualified")
            if "reviewer_qualified" not in self.cells:
                self.missing("reviewer_qualified", "填写了法制审核人员，须写明是否具有法律职业资格（是/否）",
                             "a reviewer is given: say whether they hold the legal qualification (是/否)")
            if person:
                officers.append({"id": "R1", "name": person[0], "certificate": person[1],
                                 "legal_qualification": bool(qualified)})
        return officers, ids


# ------------------------------------------------------------------------------ spread over workers

@dataclass(frozen=True)
class LedgerChunk:
    """A run of a ledger's rows, taken out of the workbook (cells only, not yet read) and pickled to a
    temporary file, so the runner's workers read and judge a large ledger as they do a directory of
    files: the workbook is parsed once, in the parent, and no process holds more than a chunk."""

    file: str
    part: str              # the pickle
    first_row: int


CHUNK_ROWS = 2_000


class _Splitter:
    def __init__(self, path: Path, directory: Path, problems: Problems):
        self.path, self.directory, self.problems = path, directory, problems
        self.rows: list[tuple[int, dict[str, Cell], dict[str, tuple[int, str]]]] = []
        self.layout: _Layout | None = None
        self.chunks: list[LedgerChunk] = []
        self.date1904 = False
        self.taken: set[tuple[Any, ...]] = set()

    def __call__(self, layout: _Layout, number: int, cells: dict[str, Cell], heads: dict[str, tuple[int, str]]) -> None:
        if self.layout is not None and layout is not self.layout:
            self.flush()
        self.layout = layout
        # plain tuples: pickling slotted dataclasses one by one costs a quarter of the split
        self.rows.append((number, {k: (c.kind, c.value, c.formula) for k, c in cells.items()}, heads))
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def flush(self, final: bool = False) -> None:
        import pickle

        fresh = [k for k in self.problems.items if k not in self.taken]
        if not self.rows and not fresh:
            return
        self.taken.update(fresh)
        first = self.rows[0][0] if self.rows else 0
        target = self.directory / f"chunk-{len(self.chunks):06d}.pickle"
        with open(target, "wb") as fh:
            pickle.dump({"date1904": self.date1904, "layout": self.layout, "rows": self.rows,
                         "problems": [self.problems.items[k] for k in fresh]}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.chunks.append(LedgerChunk(str(self.path), str(target), first))
        self.rows = []


def split_ledger(path: Path, directory: Path, sheet_name: str | None = None) -> list[LedgerChunk]:
    """The ledger (or its sheet ``sheet_name``) as chunks of ``CHUNK_ROWS`` rows in ``directory`` (the
    problems of its layout travel in the chunk that follows them)."""
    problems = Problems(str(path))
    splitter = _Splitter(path, directory, problems)
    _, items = read_ledger(path, sheet_name, emit=splitter, problems=problems)
    splitter.flush(final=True)
    if items and not splitter.chunks:          # pragma: no cover - flush writes every problem
        raise AssertionError("problems without a chunk")
    return splitter.chunks


def read_chunk(chunk: LedgerChunk) -> tuple[list[LedgerRow], list[InputProblem]]:
    """The rows of a chunk, read (in a worker), and the chunk's problems, in row order."""
    import pickle

    with open(chunk.part, "rb") as fh:
        data = pickle.load(fh)                 # noqa: S301 - written by this run, in its own temporary directory
    problems = Problems(chunk.file)
    out: list[LedgerRow] = []
    layout = data["layout"]
    for number, cells, heads in data["rows"]:
        cells = {k: Cell(*t) for k, t in cells.items()}
        built = build_row(data["date1904"], layout, number, cells, heads, problems)
        if built is not None:
            out.append(built)
    return out, list(data["problems"]) + problems.sorted()
