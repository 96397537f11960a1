"""``casecheck ledger``: the template to start from, and a ledger's check before import (thin edge)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True, help="台账（Excel）：模板与检查 / Excel ledgers: template and check")


@app.command("template")
def template(
    output: Path = typer.Option(Path("台账模板.xlsx"), "-o", "--output", help="写到此文件 / the file to write"),
) -> None:
    """写出默认台账模板（含填表说明、下拉选项、日期格式、示例行）/ write the default ledger template
    (instructions sheet, drop-downs, date-formatted cells, an example row)."""
    from .template import write_template

    write_template(output)
    Console().print(f"已写出台账模板 / template written: {output}")


@app.command("check")
def check(
    path: Path = typer.Argument(..., help="台账文件 / the ledger (.xlsx)"),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="只读此工作表 / read only this sheet"),
    lang: str = typer.Option("zh", "--lang", help="问题用中文或英文 / problems in zh | en"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出 / JSON output"),
    workers: int = typer.Option(2, "--workers", min=1, max=64, help="工作进程数 / worker processes"),
) -> None:
    """检查台账能否读取：列出全部问题（工作表、行、列、值、改法），不导入 / read a ledger and list every
    problem (sheet, row, column, value, fix) without importing. Exit 2 when there is any."""
    from ..ingest import staged

    if lang not in ("zh", "en"):
        raise typer.BadParameter(f"{lang!r}：只能是 zh 或 en / one of zh, en", param_hint="--lang")
    from ..ingest import unstated_notices

    with staged([path], sheet=sheet, workers=workers, spill=False) as read:   # what import would say, row by row
        cases, problems = read.count, read.problems
        notices = unstated_notices(read.unstated)
    if as_json:
        sys.stdout.write(json.dumps({"cases": cases, "problems": [p.as_dict() | {"message_en": p.message_en}
                                                                  for p in problems],
                                     "notices": [{"message": zh, "message_en": en} for zh, en in notices]},
                                    ensure_ascii=False, indent=2) + "\n")
    else:
        err = Console(stderr=True)
        for zh, en in notices:                 # not a problem: the ledger imports, but says less than it could
            err.print("! " + (zh if lang == "zh" else en), soft_wrap=True, markup=False, highlight=False)
        for problem in problems:
            err.print("✗ " + problem.text(lang), soft_wrap=True, markup=False, highlight=False)
        if problems:
            err.print(f"{len(problems)} 处问题 / problems" if lang == "zh" else f"{len(problems)} problems")
        else:
            Console().print(f"可以导入：{cases} 个案件 / ready to import: {cases} cases")
    raise typer.Exit(2 if problems else 0)
