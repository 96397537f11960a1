"""The check result as rich renderables (grouped by case); the CLI's Console prints them."""

from __future__ import annotations

from itertools import groupby

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..findings import late_words

from .. import __version__
from ..check import CheckResult
from ..vocab import severity_label
from .text import t

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_check(result: CheckResult, verbose: bool = False) -> RenderableType:
    """Findings grouped by file; rule ids and file paths only with ``verbose``."""
    lang = result.lang
    parts: list[RenderableType] = []
    problems = result.all_problems
    if problems:
        parts.append(Panel(Text("\n".join(str(p) for p in problems), overflow="fold"),
                           title=t("input_problems", lang), border_style="red"))
    if result.failures:
        parts.append(Panel(Text("\n".join(str(f) for f in result.failures), overflow="fold"),
                           title=t("engine_failures", lang), border_style="red"))
    findings = result.findings
    table = Table(title=t("report_title", lang), show_lines=False, expand=True)
    table.add_column(t("severity", lang), no_wrap=True)
    table.add_column(t("finding", lang), ratio=3)
    table.add_column(t("basis", lang), ratio=1, overflow="fold")
    for (_agency, case_id), group in groupby(findings, key=lambda f: (f.agency, f.case_id)):
        items = list(group)
        table.add_section()
        table.add_row("", Text.assemble((case_id, "bold"), "  ", (items[0].file if verbose else "", "dim")), "")
        for f in items:
            body = Text.assemble((f.title, "bold"), " ", (f.rule_id if verbose else "", "dim"), "\n", f.message)
            if f.due and f.late:
                body.append((f"\n最迟应于 {f.due} 完成，" if lang == "zh" else f"\ndue {f.due}, ")
                            + late_words(f.late, f.late_unit, lang), style="yellow")
            table.add_row(Text(severity_label(f.severity, lang), style=STYLE[f.severity]), body,
                          Text(f.basis, style="dim"))
    if findings:
        parts.append(table)
    counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "info")}
    flagged = len({(f.agency, f.case_id) for f in findings})
    parts.append(Text(t("summary", lang, cases=len(result.cases), flagged=flagged, errors=counts["error"],
                        warnings=counts["warning"], infos=counts["info"]), style="bold"))
    parts.append(Text(t("stamp", lang, engine=__version__, rules=result.rules_version,
                        calendar=result.calendar_years, profile=result.profile, as_of=result.as_of),
                      style="dim"))
    return Group(*parts)
