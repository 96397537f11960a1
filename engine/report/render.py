"""The renderers of a ``Document``: rich terminal, self-contained HTML (A4 print), XLSX, JSON.

``write(doc, fmt, output)`` is what the CLI calls. HTML and XLSX carry every row; the terminal lists a
section's rows in full unless the section is ``brief`` (then only rows that need attention, with a count
of the others).
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..errors import CasecheckError
from .document import Document, Section

__all__ = ["render_terminal", "render_html", "render_xlsx", "write", "FORMATS"]

FORMATS = ("table", "json", "html", "xlsx")
NUMERIC = {"int", "number", "money", "pct"}


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✔" if value else ""
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


# ---------------------------------------------------------------------------------------------- terminal
def _transposed(section: Section, lang: str) -> RenderableType:
    table = Table(title=section.title(lang), title_justify="left", show_header=len(section.rows) > 1)
    table.add_column("")
    for row in section.rows:
        table.add_column(_cell(row.get(section.columns[0].key)), overflow="fold")
    for col in section.columns[1:]:
        table.add_row(col.title(lang), *(_cell(row.get(col.key)) for row in section.rows))
    return table


TERMINAL_ROWS = 1000          # rows needing attention listed on a terminal; files list them all


def _table(section: Section, lang: str) -> RenderableType:
    if section.transpose:
        return _transposed(section, lang)
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
    table = Table(title=section.title(lang), expand=len(section.columns) > 4, title_justify="left")
    for col in section.columns:
        table.add_column(col.title(lang), justify="right" if col.kind in NUMERIC else "left",
                         overflow="fold", no_wrap=col.kind in NUMERIC | {"date"})
    for row in rows:
        alarming = bool(section.style and row.get(section.style))
        table.add_row(*(_cell(v) for v in section.values(row)), style="red" if alarming else None)
    if not hidden and not more:
        return table
    notes = []
    if more:
        notes.append(f"另有 {more} 行需关注，终端只列前 {TERMINAL_ROWS} 行（HTML、XLSX、JSON 中完整列出）" if lang == "zh"
                     else f"{more} more rows need attention; the terminal lists the first {TERMINAL_ROWS} "
                          "(HTML, XLSX and JSON list them all)")
    if hidden:
        notes.append(f"另有 {hidden} 行无需关注，未列出（HTML、XLSX、JSON 中完整列出）" if lang == "zh"
                     else f"{hidden} more rows need no attention and are not listed (HTML, XLSX and JSON list them all)")
    return Group(table, *(Text(n, style="dim") for n in notes))


def render_terminal(doc: Document) -> RenderableType:
    parts: list[RenderableType] = [Text(doc.title, style="bold")]
    if doc.summary:
        parts.append(Text("  ".join(f"{label}：{_cell(value)}" if doc.lang == "zh" else f"{label}: {_cell(value)}"
                                    for _, label, value in doc.summary)))
    parts += [Text(note) for note in doc.notes]
    parts += [_table(s, doc.lang) for s in doc.sections]
    if doc.problems:
        parts.append(Panel(Text("\n".join(doc.problems), overflow="fold"), border_style="red",
                           title="输入错误或引擎未给出结论" if doc.lang == "zh" else "Bad input or no verdict"))
    parts.append(Text(doc.stamp_line(), style="dim"))
    return Group(*parts)


# ---------------------------------------------------------------------------------------------- HTML
def _bars(section: Section) -> list[dict[str, Any]]:
    label, key = section.columns[0].key, section.chart
    items = [(str(r.get(label)), float(r.get(key) or 0)) for r in section.rows]
    top = max((v for _, v in items), default=0) or 1
    return [{"label": name, "value": int(v) if v == int(v) else v, "width": round(100 * v / top, 1)}
            for name, v in items[:30]]


def render_html(doc: Document) -> str:
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    source = resources.files("engine.report").joinpath("report.html.j2").read_text(encoding="utf-8")
    sections = [{"title": s.title(doc.lang), "columns": s.columns, "numeric": [c.kind in NUMERIC for c in s.columns],
                 "transpose": s.transpose,
                 "rows": [[_cell(v) for v in s.values(r)] for r in s.rows],
                 "alarm": [bool(s.style and r.get(s.style)) for r in s.rows],
                 "bars": _bars(s) if s.chart else None} for s in doc.sections]
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


def render_xlsx(doc: Document, path: Path) -> None:
    """A summary sheet (title, figures, stamp, problems), then one sheet per section with every row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    used: set[str] = set()
    ws = wb.active
    ws.title = _sheet_name("概要" if doc.lang == "zh" else "Summary", used)
    ws.append([doc.title])
    ws["A1"].font = Font(bold=True, size=14)
    for _, label, value in doc.summary:
        ws.append([label, value])
    ws.append([])
    for note in doc.notes:
        ws.append([note])
    ws.append([doc.stamp_line()])
    for problem in doc.problems:
        ws.append([problem])
    ws.column_dimensions["A"].width = 28
    for section in doc.sections:
        sheet = wb.create_sheet(_sheet_name(section.title(doc.lang), used))
        sheet.append([c.title(doc.lang) for c in section.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in section.rows:
            sheet.append(section.values(row))
        sheet.freeze_panes = "A2"
        for i, col in enumerate(section.columns, 1):
            sheet.column_dimensions[get_column_letter(i)].width = 14 if col.kind in NUMERIC | {"date"} else 28
    wb.save(path)


# ---------------------------------------------------------------------------------------------- dispatch
def write(doc: Document, fmt: str, output: Path | None) -> None:
    if fmt == "json":
        _emit(doc.to_json() + "\n", output)
    elif fmt == "html":
        _emit(render_html(doc), output)
    elif fmt == "xlsx":
        if output is None:
            raise CasecheckError("--format xlsx needs -o FILE.xlsx (a workbook is not written to a terminal)")
        render_xlsx(doc, output)
    elif output is not None:
        with output.open("w", encoding="utf-8") as fh:
            Console(file=fh, width=160, force_terminal=False).print(render_terminal(doc))
    else:
        Console().print(render_terminal(doc))


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
