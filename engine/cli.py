"""``casecheck`` command line. Exit codes: 0 no error findings, 1 error findings, 2 bad input or usage."""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .errors import CasecheckError, DefinitionError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="casecheck — 行政执法案卷程序合规检查 / procedure-compliance checks for enforcement case files")


class Lang(str, Enum):
    zh = "zh"
    en = "en"


class Format(str, Enum):
    table = "table"
    json = "json"


def _date(value: Optional[str], option: str) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from None


@app.command()
def check(
    paths: list[Path] = typer.Argument(..., help="case files or directories (JSON/YAML, read recursively)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="judge open deadlines as of this date (default today)"),
    fmt: Format = typer.Option(Format.table, "--format", help="table | json"),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="zh | en"),
    profile: str = typer.Option("tianjin", "--profile", help="jurisdiction profile name or YAML path"),
    calendar_dir: Optional[Path] = typer.Option(None, "--calendar-dir", help="extra holiday schedules (<year>.yaml)"),
    workers: int = typer.Option(2, "--workers", min=1, max=64, help="rule-engine worker processes"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="write the report to this file"),
) -> None:
    """Audit case files without a store (案卷检查)."""
    from .calendar import default_calendar
    from .check import Checker, CheckResult
    from .exemptions import PartyHistory
    from .loader import load_paths
    from .profile import load_profile
    from .report.json_report import render_check_json
    from .report.terminal import render_check
    from .rulebook import load_rulebook
    from .workflow import default_workflows

    day = _date(as_of, "--as-of")
    workflows = default_workflows()
    rulebook = load_rulebook(load_profile(profile), workflows=workflows)
    calendar = default_calendar(str(calendar_dir) if calendar_dir else None)
    loaded = load_paths(paths)
    history = PartyHistory(c.case for c in loaded.cases)
    checker = Checker(rulebook, calendar, workflows, day, workers=workers, lang=lang.value, history=history)
    result = CheckResult(list(checker.check(loaded.cases)), loaded.problems, day, rulebook.profile.name,
                         rulebook.version, calendar.describe(), lang.value)
    if fmt is Format.json:
        text = render_check_json(result)
        if output:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            sys.stdout.write(text + "\n")
    elif output:
        with output.open("w", encoding="utf-8") as fh:
            Console(file=fh, width=160, force_terminal=False).print(render_check(result))
    else:
        Console().print(render_check(result))
    raise typer.Exit(result.exit_code)


@app.command()
def schema(output: Optional[Path] = typer.Option(None, "-o", "--output")) -> None:
    """Print the JSON Schema of the casecheck/1 case-file format."""
    from .model import CaseFile

    text = json.dumps(CaseFile.model_json_schema(), ensure_ascii=False, indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


@app.command()
def rules(
    rule_id: Optional[str] = typer.Argument(None, help="show one rule in full, with examples from its fixtures"),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
    profile: str = typer.Option("tianjin", "--profile"),
    fmt: Format = typer.Option(Format.table, "--format", help="table | json"),
) -> None:
    """The rule catalogue with legal citations and effective dates (规则库)."""
    from .profile import load_profile
    from .report.rule_view import catalogue_data, catalogue_table, rule_detail
    from .rulebook import load_rulebook
    from .workflow import default_workflows

    book = load_rulebook(load_profile(profile), workflows=default_workflows())
    console = Console()
    if rule_id:
        rule = book.rules.get(rule_id)
        if rule is None:
            raise typer.BadParameter(f"no rule {rule_id!r}; `casecheck rules` lists them", param_hint="RULE_ID")
        if fmt is Format.json:
            data = next(d for d in catalogue_data(book, lang.value) if d["id"] == rule_id)
            sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        else:
            console.print(rule_detail(book, rule, lang.value))
        return
    if fmt is Format.json:
        sys.stdout.write(json.dumps(catalogue_data(book, lang.value), ensure_ascii=False, indent=2) + "\n")
    else:
        console.print(catalogue_table(book, lang.value))


def main() -> None:
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(2)
    except DefinitionError as exc:
        Console(stderr=True).print(f"[red]配置错误 / definition error:[/red] {exc}")
        sys.exit(2)
    except CasecheckError as exc:
        Console(stderr=True).print(f"[red]错误 / error:[/red] {exc}")
        sys.exit(2)
    except typer.TyperException as exc:      # usage errors (bad option, bad value): typer's ClickException
        show = getattr(exc, "show", None)
        if show:
            show()
        else:
            Console(stderr=True).print(f"[red]用法错误 / usage error:[/red] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
