"""The renderers of a ``Document``: rich terminal, self-contained HTML (A4 print), XLSX, DOCX, JSON.

``render(doc, fmt) -> bytes`` is the service the CLI and the web call; ``write(doc, fmt, output)`` writes it
to a file or the terminal. ``resolve_format`` picks the format from ``--format`` and ``-o``'s extension.
HTML, XLSX and DOCX carry every row; the terminal lists a section's rows in full unless the section is
``brief`` (then only rows that need attention, with a count of the others).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import sys
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..errors import CasecheckError
from ..findings import late_words
from .document import Column, Document, Section

__all__ = ["render_terminal", "render_html", "render_xlsx", "render", "write", "resolve_format", "FORMATS",
           "MEDIA_TYPES"]

FORMATS = ("table", "json", "html", "xlsx", "docx")
NUMERIC = {"int", "number", "money", "decimal", "pct"}
EXTENSIONS = {".html": "html", ".htm": "html", ".xlsx": "xlsx", ".docx": "docx", ".json": "json", ".txt": "table"}
MEDIA_TYPES = {"table": "text/plain; charset=utf-8", "json": "application/json",
               "html": "text/html; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def resolve_format(fmt: str | None, output: Path | None, allowed: tuple[str, ...] = FORMATS) -> str:
    """The format: ``--format`` if given, else ``-o``'s extension, else the terminal table. A ``--format``
    that contradicts the extension, or an extension that names no format, is a usage error (exit 2)."""
    ext = output.suffix.lower() if output is not None else ""
    implied = EXTENSIONS.get(ext)
    if output is not None and ext and implied is None and fmt is None:
        raise CasecheckError(f"-o {output}: 扩展名 {ext} 不对应任何报告格式，请用 "
                             f"{'、'.join(EXTENSIONS)} 之一或加 --format / the extension {ext} names no report "
                             f"format: use one of {', '.join(EXTENSIONS)} or give --format")
    if fmt is not None and implied is not None and fmt != implied:
        raise CasecheckError(f"--format {fmt} 与 -o {output} 的扩展名（{implied}）矛盾 / --format {fmt} contradicts "
                             f"the extension of -o {output} ({implied}): drop one or make them agree")
    chosen = fmt or implied or "table"
    if chosen not in allowed:
        raise CasecheckError(f"--format {chosen}: 此命令支持 {' | '.join(allowed)} / this command writes "
                             f"{' | '.join(allowed)}")
    return chosen


def _cell(value: Any, lang: str = "zh") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


def _visible(section: Section, verbose: bool) -> list[Column]:
    return [c for c in section.columns if verbose or not c.internal]


# ---------------------------------------------------------------------------------------------- terminal
def _transposed(section: Section, lang: str) -> RenderableType:
    table = Table(title=section.title(lang), title_justify="left", show_header=len(section.rows) > 1)
    table.add_column("")
    for row in section.rows:
        table.add_column(_cell(row.get(section.columns[0].key), lang), overflow="fold")
    for col in section.columns[1:]:
        table.add_row(col.title(lang), *(_cell(row.get(col.key), lang) for row in section.rows))
    return table


TERMINAL_ROWS = 1000          # rows needing attention listed on a terminal; files list them all
NARROW = 120                  # below this width a table of more than 5 columns is shown as one record per row


def _wrap(text: str, width: int, indent: int = 0, style: str | None = None) -> Text:
    """Chinese text broken by display cells (rich breaks at spaces, which leaves a line with only a date on it);
    continuation lines are indented like the first."""
    from rich.cells import cell_len

    lines, line, used = [], " " * indent, indent
    for ch in text:
        w = cell_len(ch)
        if used + w > width and used > indent:
            cut = line.rfind(" ", indent + 1)
            if ch != " " and cut > 0 and len(line) - cut <= 12:      # keep a short word (a date) whole
                head, tail = line[:cut], line[cut + 1:]
            else:
                head, tail = line, ""
            lines.append(head.rstrip())
            line = " " * indent + tail
            used = cell_len(line)
            if ch == " ":
                continue
        line += ch
        used += w
    lines.append(line.rstrip())
    return Text("\n".join(lines), style=style or "", no_wrap=True, overflow="ignore")


def _findings(section: Section, lang: str, verbose: bool, width: int = 100) -> RenderableType:
    """A file's heading, then each finding: title, explanation, due/late, legal basis, deduction."""
    zh = lang == "zh"
    parts: list[RenderableType] = [Text(section.title(lang), style="bold underline")]
    current, n, shown = None, 0, 0
    for row in section.rows:
        key = tuple(row.get(k) for k in section.group)
        if key != current:
            if shown >= TERMINAL_ROWS:
                break
            current, n = key, 0
            head = "■ " + str(row.get("case_id"))
            for k in section.group[1:]:
                col = next(c for c in section.columns if c.key == k)
                if row.get(k) not in (None, ""):
                    head += (f"  {col.title(lang)} " if k in ("score", "officers") else "  ") + _cell(row.get(k), lang)
            parts.append(_wrap(head, width, 0, "bold"))
        n += 1
        shown += 1
        tags = [str(row.get("category") or ""), (f"扣{row.get('deduction')}分" if zh else f"−{row.get('deduction')}")]
        if row.get("veto"):
            tags.append("否决项" if zh else "veto")
        if row.get("curable") is False:
            tags.append("无法整改" if zh else "cannot be corrected")
        line = f"  {n}. {row.get('title')}  [" + " · ".join(t for t in tags if t) + "]"
        if verbose:
            line += f"  {row.get('rule_id')}  {row.get('file')}"
        parts.append(_wrap(line, width, 0, "bold red" if row.get("veto") else "bold"))
        parts.append(_wrap(str(row.get("message") or ""), width, 5))
        if row.get("due"):
            late = row.get("late")
            words = late_words(late, row.get("late_unit") or "workdays", "zh" if zh else "en")
            parts.append(_wrap((f"最迟应于 {row['due']} 完成" if zh else f"due {row['due']}")
                               + ((f"，{words}" if zh else f", {words}") if words else ""), width, 5, "yellow"))
        if row.get("basis"):
            parts.append(_wrap(("法律依据：" if zh else "Legal basis: ") + str(row["basis"]), width, 5, "dim"))
        if row.get("note"):
            parts.append(_wrap(("评查人意见：" if zh else "Reviewer: ") + str(row["note"]), width, 5, "cyan"))
    if shown < len(section.rows):
        parts.append(Text((f"另有 {len(section.rows) - shown} 项问题，终端只列前 {shown} 项（HTML、XLSX、DOCX、JSON 中完整列出）"
                           if zh else f"{len(section.rows) - shown} more findings; HTML, XLSX, DOCX and JSON list them all"),
                          style="dim"))
    if not section.rows:
        parts.append(Text("无" if zh else "none", style="dim"))
    return Group(*parts)


def _records(section: Section, rows: list[dict[str, Any]], cols: list[Column], lang: str,
             width: int = 80) -> RenderableType:
    """One row per paragraph: the first column bold, then ``title value`` pairs (a narrow terminal)."""
    lines: list[RenderableType] = [Text(section.title(lang), style="bold underline")]
    for row in rows:
        alarming = bool(section.style and row.get(section.style))
        pairs = [f"{c.title(lang)} {_cell(row.get(c.key), lang)}" for c in cols[1:] if row.get(c.key) not in (None, "")]
        lines.append(_wrap(_cell(row.get(cols[0].key), lang) + "  " + " · ".join(pairs), width, 0,
                           "red" if alarming else None))
    if not rows:
        lines.append(Text("无" if lang == "zh" else "none", style="dim"))
    return Group(*lines)


def _table(section: Section, lang: str, width: int = 160, verbose: bool = False) -> RenderableType:
    if section.group:
        return _findings(section, lang, verbose, width)
    if section.transpose:
        return _transposed(section, lang)
    zh = lang == "zh"
    if section.compact:
        ids = [str(r.get(section.columns[0].key)) for r in section.rows]
        more = (f"（共 {len(ids)} 件，HTML、XLSX、JSON 中列出）" if zh else f" ({len(ids)}; HTML, XLSX and JSON list them)")
        return Text.assemble((section.title(lang), "bold"), more if ids else ("：无" if zh else ": none"))
    rows = section.rows
    hidden = more = 0
    if section.brief:
        shown = []
        for r in rows:                      # rows may be built on access: look at each once
            if r.get(section.brief):
                if len(shown) < TERMINAL_ROWS:
                    shown.append(r)
                else:
                    more += 1
        hidden, rows = len(rows) - len(shown) - more, shown
    elif len(rows) > TERMINAL_ROWS:
        more, rows = len(rows) - TERMINAL_ROWS, rows[:TERMINAL_ROWS]
    cols = _visible(section, verbose)
    if width < NARROW and len(cols) > 5:
        table: RenderableType = _records(section, list(rows), cols, lang, width)
    else:
        t = Table(title=section.title(lang), expand=len(cols) > 4, title_justify="left")
        for col in cols:
            t.add_column(col.title(lang), justify="right" if col.kind in NUMERIC else "left",
                         overflow="fold", no_wrap=col.kind in NUMERIC | {"date"})
        for row in rows:
            alarming = bool(section.style and row.get(section.style))
            t.add_row(*(_cell(row.get(c.key), lang) for c in cols), style="red" if alarming else None)
        table = t
    if not hidden and not more:
        return table
    notes = []
    if more:
        notes.append(f"另有 {more} 行，终端只列前 {TERMINAL_ROWS} 行（HTML、XLSX、JSON 中完整列出）" if zh
                     else f"{more} more rows; the terminal lists the first {TERMINAL_ROWS} "
                          "(HTML, XLSX and JSON list them all)")
    if hidden:
        notes.append(f"另有 {hidden} 行无需关注，未列出（HTML、XLSX、JSON 中完整列出）" if zh
                     else f"{hidden} more rows need no attention and are not listed (HTML, XLSX and JSON list them all)")
    return Group(table, *(Text(n, style="dim") for n in notes))


def headline(doc: Document) -> str:
    """The title and the headline figures on two lines (what ``make demo`` ends with)."""
    sep = "：" if doc.lang == "zh" else ": "
    return doc.title + "\n" + "  ".join(f"{label}{sep}{_cell(value, doc.lang)}" for _, label, value in doc.summary)


def render_terminal(doc: Document, width: int = 160, verbose: bool = False) -> RenderableType:
    parts: list[RenderableType] = [Text(doc.title, style="bold")]
    if doc.summary:
        sep = "：" if doc.lang == "zh" else ": "
        parts.append(_wrap("  ".join(f"{label}{sep}{_cell(value, doc.lang)}" for _, label, value in doc.summary),
                           width))
    parts += [Text(note) for note in doc.notes]
    parts += [_table(s, doc.lang, width, verbose) for s in doc.sections if not s.only or "table" in s.only]
    if doc.problems:
        parts.append(Panel(Text("\n".join(doc.problems), overflow="fold"), border_style="red",
                           title="输入错误或引擎未给出结论" if doc.lang == "zh" else "Bad input or no verdict"))
    parts.append(_wrap(doc.stamp_line(), width, 0, "dim"))
    return Group(*parts)


def terminal_text(doc: Document, width: int = 100, verbose: bool = False) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=False, color_system=None).print(render_terminal(doc, width, verbose))
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------- HTML
def _bars(section: Section) -> list[dict[str, Any]]:
    label, key = section.columns[0].key, section.chart
    items = [(str(r.get(label)), float(r.get(key) or 0)) for r in section.rows]
    top = max((v for _, v in items), default=0) or 1
    return [{"label": name, "value": int(v) if v == int(v) else v, "width": round(100 * v / top, 1)}
            for name, v in items[:30]]


def _groups(section: Section, lang: str) -> list[dict[str, Any]]:
    """Consecutive rows sharing the group columns: one heading (a file) and its findings."""
    out: list[dict[str, Any]] = []
    current = None
    for row in section.rows:
        key = tuple(row.get(k) for k in section.group)
        if key != current:
            current = key
            cols = {c.key: c for c in section.columns}
            out.append({"title": str(row.get(section.group[0])),
                        "meta": [(cols[k].title(lang), _cell(row.get(k), lang)) for k in section.group[1:]
                                 if row.get(k) not in (None, "")],
                        "items": []})
        out[-1]["items"].append({k: (_cell(v, lang) if k not in ("veto", "curable", "late", "deduction") else v)
                                 for k, v in row.items()})
    return out


def render_html(doc: Document, verbose: bool = False) -> str:
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    source = resources.files("engine.report").joinpath("report.html.j2").read_text(encoding="utf-8")
    sections = []
    for s in doc.sections:
        if s.only and "html" not in s.only:
            continue
        cols = _visible(s, verbose)
        item: dict[str, Any] = {"title": s.title(doc.lang), "columns": cols, "transpose": s.transpose,
                                "numeric": [c.kind in NUMERIC for c in cols], "compact": s.compact,
                                "wide": len(cols) > 7, "bars": _bars(s) if s.chart else None, "groups": None}
        if s.group:
            item["groups"] = _groups(s, doc.lang)
            item["rows"] = []
        elif s.compact:
            item["rows"] = [[_cell(r.get(c.key), doc.lang) for c in cols] for r in s.rows]
        else:
            item["rows"] = [[_cell(r.get(c.key), doc.lang) for c in cols] for r in s.rows]
            item["alarm"] = [bool(s.style and r.get(s.style)) for r in s.rows]
        sections.append(item)
    return env.from_string(source).render(doc=doc, sections=sections, stamp=doc.stamp_line(), lang=doc.lang)


# ---------------------------------------------------------------------------------------------- XLSX
def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "sheet"
    base, n = name, 2
    while name in used:
        name = f"{base[:28]}({n})"
        n += 1
    used.add(name)
    return name


FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r", "\n")
NUMBER_FORMATS = {"int": "0", "number": "0.0#", "money": "#,##0.00", "decimal": "#,##0.00##", "pct": "0.0%",
                  "date": "yyyy-mm-dd"}
DECIMAL_TEXT = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")      # exact decimal text (万元 0.365): a number in a sheet


def _decimal(value: str) -> int | float | str:
    if not DECIMAL_TEXT.fullmatch(value):
        return value
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


def xlsx_value(value: Any, kind: str, lang: str) -> Any:
    """The value a spreadsheet should hold: a real date, a number, 是/否, a percentage as a fraction."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return _cell(value, lang)
    if kind == "date" and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    if kind == "pct" and isinstance(value, str) and value.endswith("%"):
        try:
            return float(value[:-1]) / 100
        except ValueError:
            return value
    if kind == "decimal" and isinstance(value, str):
        return _decimal(value)
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return value


def _width(text: str) -> float:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def render_xlsx(doc: Document, path: Path | io.BytesIO) -> None:
    """A summary sheet (title, figures, stamp, problems), then one sheet per section with every row:
    typed cells, autofilter, frozen header, widths from the content, wrapped long text, A4 print setup.
    No text is ever stored as a formula (values from case files beginning with = + - @ are text)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    used: set[str] = set()
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")

    def text_cell(ws, value: Any, **style: Any):
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, str) and (cell.data_type == "f" or value.startswith(FORMULA_LEAD)):
            cell.data_type = "s"                    # hostile or not, text from a file stays text (never a formula)
        for k, v in style.items():
            setattr(cell, k, v)
        return cell

    def setup(ws, landscape: bool) -> None:
        ws.page_setup.paperSize = "9"                # A4
        ws.page_setup.orientation = "landscape" if landscape else "portrait"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True

    ws = wb.create_sheet(_sheet_name("概要" if doc.lang == "zh" else "Summary", used))
    ws.column_dimensions["A"].width = 60            # the notes, stamp and problems wrap within it (A4 portrait)
    ws.column_dimensions["B"].width = 16
    setup(ws, False)
    ws.append([text_cell(ws, doc.title, font=Font(bold=True, size=14))])
    for _, label, value in doc.summary:              # a figure given as decimal text (罚款（万元）) stored as a number
        kind = "decimal" if isinstance(value, str) and DECIMAL_TEXT.fullmatch(value) else "text"
        cell = text_cell(ws, xlsx_value(value, kind, doc.lang))
        if kind == "decimal":
            cell.number_format = NUMBER_FORMATS["decimal"]
        ws.append([text_cell(ws, label), cell])
    rows = 1 + len(doc.summary)
    for text in [*doc.notes, doc.stamp_line(), *doc.problems]:     # wrapped, the row as tall as its lines
        rows += 1
        ws.row_dimensions[rows].height = 15 * max(1, -(-int(_width(text)) // 57))
        ws.append([text_cell(ws, text, alignment=wrap)])
    for section in doc.sections:
        if section.only and "xlsx" not in section.only:
            continue
        sheet = wb.create_sheet(_sheet_name(section.title(doc.lang), used))
        cols = section.columns
        sample = section.rows[:300] if len(section.rows) > 300 else list(section.rows)
        widths = []
        for i, col in enumerate(cols, 1):
            longest = max([_width(col.title(doc.lang))] + [_width(_cell(r.get(col.key), doc.lang)) for r in sample])
            w = min(max(longest + 2, 6), 60)
            widths.append(w)
            sheet.column_dimensions[get_column_letter(i)].width = w
        sheet.freeze_panes = "A2"
        last = get_column_letter(max(len(cols), 1))
        sheet.auto_filter.ref = f"A1:{last}{len(section.rows) + 1}"
        sheet.print_title_rows = "1:1"
        setup(sheet, len(cols) > 6)
        sheet.append([text_cell(sheet, c.title(doc.lang), font=bold) for c in cols])
        formats = [NUMBER_FORMATS.get(c.kind) for c in cols]
        wrapped = [w >= 60 for w in widths]
        for row in section.rows:
            cells = []
            for col, fmt, wr in zip(cols, formats, wrapped):
                cell = text_cell(sheet, xlsx_value(row.get(col.key), col.kind, doc.lang), alignment=wrap if wr else top)
                if fmt and cell.data_type in ("n", "d"):
                    cell.number_format = fmt
                cells.append(cell)
            sheet.append(cells)
    wb.save(path)


# ---------------------------------------------------------------------------------------------- dispatch
def render(doc: Document, fmt: str, *, width: int = 100, verbose: bool = False) -> bytes:
    """The document as the bytes of a file in ``fmt`` (table | json | html | xlsx | docx): for the web."""
    if fmt == "json":
        return (doc.to_json() + "\n").encode("utf-8")
    if fmt == "html":
        return render_html(doc, verbose).encode("utf-8")
    if fmt == "xlsx":
        buf = io.BytesIO()
        render_xlsx(doc, buf)
        return buf.getvalue()
    if fmt == "docx":
        from .docx import render_docx

        return render_docx(doc)
    if fmt == "table":
        return terminal_text(doc, width, verbose).encode("utf-8")
    raise CasecheckError(f"没有报告格式 {fmt!r}，只能是 {' | '.join(FORMATS)} / unknown report format {fmt!r}: one of "
                         f"{' | '.join(FORMATS)}")


def write(doc: Document, fmt: str, output: Path | None, verbose: bool = False) -> None:
    if fmt in ("xlsx", "docx") and output is None:
        raise CasecheckError(f"--format {fmt} 须用 -o 文件.{fmt} 指定输出文件（{fmt} 文件不输出到终端）/ --format {fmt} "
                             f"needs -o FILE.{fmt} (a {fmt} file is not written to a terminal)")
    if output is None:
        if fmt == "table":
            console = Console()
            console.print(render_terminal(doc, console.width, verbose))
        else:
            sys.stdout.write(render(doc, fmt, verbose=verbose).decode("utf-8"))
        return
    from ..safe_io import atomic_output                  # a failed run leaves no half-written report

    with atomic_output(output) as target:
        if fmt == "xlsx":
            render_xlsx(doc, target)
            return
        width = int(os.environ.get("COLUMNS") or 100) if fmt == "table" else 100
        target.write_bytes(render(doc, fmt, width=width, verbose=verbose))
