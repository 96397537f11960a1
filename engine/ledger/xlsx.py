"""A bounded, streaming reader of ``.xlsx`` worksheets (Office Open XML), for ledgers from any exporter.

openpyxl's read-only mode trusts the sheet's declared size (``<dimension>``), which several exporters
write wrongly (rows past it vanish), keeps a whole row in memory however wide, and raises a dozen
exception kinds on a broken file. This reader:

* refuses before parsing: not a zip, an encrypted (OLE) file, too many members, declared uncompressed
  sizes over the limits (a zip bomb); the real uncompressed size can't exceed the declared one
  (``zipfile`` stops at it and checks the CRC), so a member that lies is refused as broken;
* streams the sheet XML (expat, no DTD or entity declarations accepted) row by row, ignoring
  ``<dimension>``; each cell element is dropped as soon as it is read, so a 20-million-cell row costs
  no memory, and cells past column ``MAX_COLUMN`` are refused;
* gives every cell its kind: text, number (with the raw digits, so a long ID stored as a number is
  seen), bool, date-formatted number, formula without a cached value, error value.

Every refusal is a ``BookRefused`` with a Chinese and an English message.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator
from xml.etree import ElementTree as ET

__all__ = ["Book", "BookRefused", "Cell", "Sheet", "open_book", "column_letter", "MAX_COLUMN"]

MAX_MEMBERS = 2_000
MAX_TOTAL_BYTES = 1 << 30           # declared uncompressed size of the whole package
MAX_PART_BYTES = 96 << 20           # shared strings, styles, workbook: held in memory, so bounded tighter
MAX_SHEET_BYTES = 768 << 20         # one worksheet, streamed
MAX_COLUMN = 1_000                  # a ledger has a few dozen columns; a cell past this is refused
CHUNK = 1 << 16

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# built-in number formats that show a date (ECMA-376 §18.8.30, and the CJK locale ids 27–36, 50–58)
DATE_FORMATS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))


class BookRefused(Exception):
    def __init__(self, zh: str, en: str, sheet: str | None = None):
        self.zh, self.en, self.sheet = zh, en, sheet
        super().__init__(f"{zh} / {en}")


@dataclass(frozen=True, slots=True)
class Cell:
    kind: str            # "text" | "number" | "bool" | "date" (a date-formatted number) | "noresult" | "error"
                         # | "merged" (made by the ledger reader: a blank cell inside a merged range, value = the range)
    value: str           # text as written; a number's digits as stored; "1"/"0"; the error code
    formula: bool = False


@dataclass(frozen=True)
class Sheet:
    name: str
    part: str
    hidden: bool


_REF = re.compile(r"([A-Z]{1,3})(\d+)$")
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3}\d+)(?::([A-Z]{1,3}\d+))?"')


def column_letter(index: int) -> str:
    """0-based column index → ``A``, ``B`` … ``AA``."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


class _Guarded:
    """A member's stream, read in chunks; refuses a DTD (entity declarations) wherever it appears."""

    def __init__(self, raw: IO[bytes], name: str):
        self.raw, self.name, self.tail = raw, name, b""

    def read(self, size: int = CHUNK) -> bytes:
        data = self.raw.read(CHUNK if size is None or size < 0 else min(size, CHUNK))
        probe = self.tail + data
        if b"<!DOCTYPE" in probe or b"<!ENTITY" in probe:
            raise BookRefused(f"{self.name} 含有 DTD/实体声明，拒绝读取", f"{self.name} declares a DTD or entities: refused")
        self.tail = data[-9:]
        return data


class Book:
    def __init__(self, path: Path):
        self.path = path
        try:
            with open(path, "rb") as fh:
                head = fh.read(8)
        except OSError as exc:
            raise BookRefused(f"无法读取文件：{exc.strerror or exc}", f"cannot read: {exc.strerror or exc}") from None
        if head.startswith(OLE_MAGIC):
            raise BookRefused("文件已加密（设置了打开密码）或是旧版 .xls 格式：请在 Excel 中取消密码并另存为 .xlsx",
                              "the file is encrypted (password to open) or an old .xls: remove the password and "
                              "save it as .xlsx")
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise BookRefused("不是可读取的 Excel 工作簿（.xlsx）：请在 Excel 中另存为 .xlsx",
                              f"not a readable Excel workbook (.xlsx): {exc}; save it again as .xlsx") from None
        try:
            self._inspect()
            self.date1904 = False
            self.sheets = self._sheets()
            self.shared = self._shared_strings()
            self.date_styles = self._date_styles()
        except BookRefused:
            self.zip.close()
            raise
        except DAMAGED as exc:
            self.zip.close()
            raise BookRefused(f"工作簿已损坏（{exc.__class__.__name__}: {exc}）：请在 Excel 中打开后重新保存",
                              f"the workbook is damaged ({exc.__class__.__name__}: {exc}): open it in Excel and save "
                              f"it again") from None
        except BaseException:
            self.zip.close()
            raise

    # -- package checks ---------------------------------------------------------------------------------
    def _inspect(self) -> None:
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BookRefused(f"工作簿包含 {len(infos):,} 个部件，超过上限 {MAX_MEMBERS:,}",
                              f"the workbook holds {len(infos):,} parts; the limit is {MAX_MEMBERS:,}")
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise BookRefused("工作簿已加密：请取消密码后另存", "the workbook is encrypted: remove the password")
            total += info.file_size
            limit = MAX_SHEET_BYTES if info.filename.startswith("xl/worksheets/") else MAX_PART_BYTES
            if info.file_size > limit:
                raise BookRefused(f"部件 {info.filename} 解压后 {info.file_size:,} 字节，超过上限 {limit:,}（疑似压缩炸弹）",
                                  f"part {info.filename} expands to {info.file_size:,} bytes; the limit is {limit:,} "
                                  f"(a zip bomb?)")
        if total > MAX_TOTAL_BYTES:
            raise BookRefused(f"工作簿解压后共 {total:,} 字节，超过上限 {MAX_TOTAL_BYTES:,}（疑似压缩炸弹）",
                              f"the workbook expands to {total:,} bytes; the limit is {MAX_TOTAL_BYTES:,} (a zip bomb?)")

    def _member(self, name: str) -> IO[bytes] | None:
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            return None
        return _Guarded(self.zip.open(info), name)   # type: ignore[return-value]

    def _parse(self, name: str, tags: tuple[str, ...]) -> Iterator[ET.Element]:
        """The end events of ``tags`` in a member, streamed; a broken member is a refusal."""
        stream = self._member(name)
        if stream is None:
            return
        try:
            for _, elem in ET.iterparse(stream, events=("end",)):    # type: ignore[arg-type]
                if elem.tag in tags:
                    yield elem
        except ET.ParseError as exc:
            raise BookRefused(f"{name} 的 XML 已损坏（{exc}）：文件可能被截断，请在 Excel 中打开后重新保存",
                              f"{name} holds broken XML ({exc}): the file may be truncated; open it in Excel and "
                              f"save it again") from None
        except (zipfile.BadZipFile, EOFError, OSError, zlib_error) as exc:
            raise BookRefused(f"{name} 已损坏（{exc}）：请在 Excel 中打开后重新保存",
                              f"{name} is damaged ({exc}): open it in Excel and save it again") from None

    def _sheets(self) -> list[Sheet]:
        rels: dict[str, str] = {}
        for rel in self._parse("xl/_rels/workbook.xml.rels", (f"{PKG_REL}Relationship",)):
            target = rel.get("Target", "")
            rels[rel.get("Id", "")] = (target.lstrip("/") if target.startswith("/")
                                       else posixpath.normpath(posixpath.join("xl", target)))
        sheets = []
        for elem in self._parse("xl/workbook.xml", (f"{NS}sheet", f"{NS}workbookPr")):
            if elem.tag == f"{NS}workbookPr":
                self.date1904 = elem.get("date1904") in ("1", "true")
                continue
            part = rels.get(elem.get(f"{REL_NS}id", ""))
            if part:
                sheets.append(Sheet(elem.get("name", "?"), part, elem.get("state", "visible") != "visible"))
        if not sheets:
            raise BookRefused("工作簿中没有工作表（或不是 Excel 工作簿）", "the workbook has no worksheet (or is no workbook)")
        return sheets

    def _shared_strings(self) -> list[str]:
        out: list[str] = []
        for si in self._parse("xl/sharedStrings.xml", (f"{NS}si",)):
            out.append(_text_of(si))
            si.clear()
        return out

    def _date_styles(self) -> set[int]:
        custom: dict[int, str] = {}
        dates: set[int] = set()
        index = 0
        in_xfs = False
        stream = self._member("xl/styles.xml")
        if stream is None:
            return dates
        try:
            for event, elem in ET.iterparse(stream, events=("start", "end")):   # type: ignore[arg-type]
                if event == "start":
                    if elem.tag == f"{NS}cellXfs":
                        in_xfs = True
                    continue
                if elem.tag == f"{NS}numFmt":
                    custom[int(elem.get("numFmtId", "0"))] = elem.get("formatCode", "")
                elif elem.tag == f"{NS}xf" and in_xfs:
                    fmt = int(elem.get("numFmtId", "0"))
                    if fmt in DATE_FORMATS or (fmt in custom and _is_date_format(custom[fmt])):
                        dates.add(index)
                    index += 1
                elif elem.tag == f"{NS}cellXfs":
                    in_xfs = False
        except (ET.ParseError, ValueError) as exc:
            raise BookRefused(f"xl/styles.xml 已损坏（{exc}）：请在 Excel 中打开后重新保存",
                              f"xl/styles.xml is broken ({exc}): open it in Excel and save it again") from None
        except (zipfile.BadZipFile, EOFError, OSError, zlib_error) as exc:
            raise BookRefused(f"xl/styles.xml 已损坏（{exc}）", f"xl/styles.xml is damaged ({exc})") from None
        return dates

    # -- rows -------------------------------------------------------------------------------------------
    def rows(self, sheet: Sheet) -> Iterator[tuple[int, dict[int, Cell]]]:
        """``(1-based row number, {0-based column: cell})`` for every row holding a cell with a value,
        whatever the sheet's declared dimension."""
        from lxml import etree

        try:
            stream = self._member(sheet.part)
        except DAMAGED as exc:
            raise BookRefused(f"工作表“{sheet.name}”已损坏（{exc}）：请在 Excel 中打开后重新保存",
                              f"sheet {sheet.name!r} is damaged ({exc}): open it in Excel and save it again",
                              sheet.name) from None
        if stream is None:
            raise BookRefused(f"工作表“{sheet.name}”的内容缺失（{sheet.part}）", f"sheet {sheet.name!r} has no part "
                              f"{sheet.part}", sheet.name)
        c_tag, row_tag = f"{NS}c", f"{NS}row"
        shared, dates = self.shared, self.date_styles
        row_number = 0
        cells: dict[int, Cell] = {}
        next_col = 0
        last_row = 0
        try:
            parser = etree.iterparse(stream, events=("end",), tag=(c_tag, row_tag), resolve_entities=False,
                                     no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)
            for _, elem in parser:
                if elem.tag == c_tag:
                    ref = elem.get("r")
                    if ref:
                        m = _REF.match(ref)
                        if not m:
                            raise ValueError(f"bad cell reference {ref!r}")
                        col = _column_index(m.group(1))
                        row_number = int(m.group(2))
                    else:
                        col = next_col
                        row_number = last_row + 1 if not cells else row_number
                    next_col = col + 1
                    cell = _cell(elem, shared, dates)
                    elem.clear()
                    while elem.getprevious() is not None:        # drop read cells: a huge row costs nothing
                        del elem.getparent()[0]
                    if cell is None:
                        continue
                    if col >= MAX_COLUMN:
                        raise BookRefused(f"工作表“{sheet.name}”第 {row_number} 行第 {col + 1:,} 列有内容，超过 {MAX_COLUMN} 列："
                                          f"台账不应有这么多列，请删去多余内容",
                                          f"sheet {sheet.name!r} row {row_number} has a value in column {col + 1:,}, "
                                          f"past column {MAX_COLUMN}: delete the stray content", sheet.name)
                    cells[col] = cell
                else:
                    r = elem.get("r")
                    number = int(r) if r and r.isdigit() else (row_number if cells else last_row + 1)
                    if cells:
                        yield number, cells
                    last_row = number
                    cells = {}
                    next_col = 0
                    elem.clear()
                    while elem.getprevious() is not None:
                        del elem.getparent()[0]
        except etree.LxmlError as exc:
            raise BookRefused(f"工作表“{sheet.name}”的 XML 已损坏（{exc}），第 {last_row} 行之后的内容无法读取："
                              f"文件可能被截断，请在 Excel 中打开后重新保存",
                              f"sheet {sheet.name!r} holds broken XML ({exc}) after row {last_row}: the file may be "
                              f"truncated; open it in Excel and save it again", sheet.name) from None
        except DAMAGED as exc:
            raise BookRefused(f"工作表“{sheet.name}”已损坏（{exc}），第 {last_row} 行之后无法读取：请在 Excel 中打开后重新保存",
                              f"sheet {sheet.name!r} is damaged ({exc}) after row {last_row}: open it in Excel and "
                              f"save it again", sheet.name) from None

    def merged_ranges(self, sheet: Sheet) -> list[tuple[int, int, int, int]]:
        """The sheet's merged ranges as ``(first row, first column, last row, last column)`` (rows 1-based,
        columns 0-based, as ``rows`` gives them), sorted by first row. A merged range's value belongs to its
        top-left cell only; the others are empty in the file. ``<mergeCells>`` comes after the rows, so the
        part is streamed once more, its bytes only searched (no XML is built)."""
        stream = self._member(sheet.part)
        if stream is None:
            return []
        found: list[tuple[int, int, int, int]] = []
        tail = b""
        try:
            while True:
                data = stream.read(CHUNK)
                if not data:
                    break
                probe = tail + data
                if b"mergeCell" in probe:
                    end = probe.rfind(b">") + 1 if b"<" in probe else 0
                    for m in _MERGE.finditer(probe, 0, end):
                        first, last = _REF.match(m.group(1).decode()), _REF.match((m.group(2) or m.group(1)).decode())
                        if first and last:
                            found.append((int(first.group(2)), _column_index(first.group(1)),
                                          int(last.group(2)), _column_index(last.group(1))))
                    tail = probe[end:][-4096:]
                else:
                    tail = probe[-4096:]
        except DAMAGED as exc:
            raise BookRefused(f"工作表“{sheet.name}”已损坏（{exc}）：请在 Excel 中打开后重新保存",
                              f"sheet {sheet.name!r} is damaged ({exc}): open it in Excel and save it again",
                              sheet.name) from None
        return sorted(set(found))

    def close(self) -> None:
        self.zip.close()


try:
    from zlib import error as zlib_error
except ImportError:                                        # pragma: no cover
    zlib_error = OSError                                   # type: ignore[misc,assignment]


def _lxml_error() -> type[Exception]:
    from lxml import etree
    return etree.LxmlError


# what a damaged package raises while it is read (never a traceback: a refusal naming the part)
DAMAGED = (zipfile.BadZipFile, zlib_error, EOFError, OSError, ValueError, IndexError, KeyError, NotImplementedError,
           ET.ParseError, _lxml_error(), UnicodeDecodeError, OverflowError)


def _text_of(elem: Any) -> str:
    """A string item's text: its ``<t>`` runs, without phonetic guides (``<rPh>``)."""
    parts = []
    for child in elem:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            for t in child:
                if t.tag == _T:
                    parts.append(t.text or "")
    return "".join(parts)


_V, _F, _IS, _T, _R = f"{NS}v", f"{NS}f", f"{NS}is", f"{NS}t", f"{NS}r"


def _cell(elem: Any, shared: list[str], dates: set[int]) -> Cell | None:
    kind = elem.get("t", "n")
    value = None
    formula = False
    node = None
    for child in elem:
        tag = child.tag
        if tag == _V:
            value = child.text
        elif tag == _F:
            formula = True
        elif tag == _IS:
            node = child
    if kind == "inlineStr":
        text = _text_of(node) if node is not None else ""
        return Cell("text", text, formula) if text else None
    if value is None or value == "":
        return Cell("noresult", "", True) if formula else None
    if kind == "s":
        index = int(value)
        if not 0 <= index < len(shared):
            raise ValueError(f"shared string {index} does not exist")
        text = shared[index]
        return Cell("text", text, formula) if text else None
    if kind in ("str", "d"):
        return Cell("text", value, formula)
    if kind == "b":
        return Cell("bool", "1" if value.strip() in ("1", "true") else "0", formula)
    if kind == "e":
        return Cell("error", value, formula)
    style = elem.get("s")
    is_date = style is not None and style.isdigit() and int(style) in dates
    return Cell("date" if is_date else "number", value.strip(), formula)


_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def _is_date_format(code: str) -> bool:
    section = _QUOTED.sub("", code.split(";", 1)[0]).lower()
    return any(ch in section for ch in "ydhs") or ("m" in section and "general" not in section)


def open_book(path: Path) -> Book:
    return Book(path)
