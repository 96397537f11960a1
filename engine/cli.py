"""``casecheck`` command line. Exit codes: 0 no error findings, 1 error findings, 2 bad input or usage."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import CasecheckError, DefinitionError, InputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="casecheck — 行政执法案卷程序合规检查 / procedure-compliance checks for enforcement case files")


class Lang(str, Enum):
    zh = "zh"
    en = "en"


class Format(str, Enum):
    table = "table"
    json = "json"


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    html = "html"
    xlsx = "xlsx"
    docx = "docx"


def _date(value: Optional[str], option: str) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from None


FORMAT_HELP = "table | json | html | xlsx | docx (default: from -o's extension, else table)"
UNMASK_HELP = ("show personal data (a person's ID number, phone, address) whole: a reviewer's internal copy; "
               "by default it is masked, e.g. 120104********1234, and the stamp says which")
DISTRICT_HELP = ("监督辖区（rules/districts/）：其各执法主体，附监督汇总 / a supervisor's district: its agencies, "
                 "with the supervisor's summary per agency")
VERBOSE_HELP = "show internal codes (rule ids, file paths, agency codes) in the terminal and HTML"


def _format(fmt, output: Optional[Path], allowed: tuple[str, ...] | None = None) -> str:
    """--format, else -o's extension; a contradiction is a usage error (exit 2)."""
    from .report.render import FORMATS, resolve_format

    return resolve_format(fmt.value if fmt is not None else None, output, allowed or FORMATS)


SHEET_HELP = ("只读各台账（.xlsx）中此名称的工作表；默认按表头找出数据表 / read only the sheet of this name in each "
              "ledger (.xlsx); by default the data sheets are found by their headers")
WORKERS_HELP = "工作进程数（每个进程完整地读取、校验、判断一部分输入）/ worker processes (each reads, validates and judges a share)"


def _sheet(sheet: Optional[str], paths: Optional[list[Path]]) -> Optional[str]:
    """``--sheet`` is for ledgers: given without any .xlsx among the inputs it is a usage error, not ignored."""
    if sheet is None:
        return None
    from .loader import iter_case_files

    try:
        ledgers = any(p.suffix.lower() == ".xlsx" for p in iter_case_files(paths or []))
    except FileNotFoundError:
        return sheet                          # the missing path is reported where it is read
    if not ledgers:
        raise typer.BadParameter("只用于 Excel 台账（.xlsx），所给输入中没有台账 / applies to Excel ledgers (.xlsx): "
                                 "none is among the inputs", param_hint="--sheet")
    return sheet


PARTITION_HELP = "K/N: judge only the K-th of N disjoint shares of the input (files by position, stored cases by row id)"


@app.command()
def check(
    paths: Optional[list[Path]] = typer.Argument(None, help="case files or directories (JSON/YAML/XLSX, read "
                                                             "recursively); none with --db: the stored cases"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="judge open deadlines as of this date (default today)"),
    fmt: Optional[ReportFormat] = typer.Option(None, "--format", help=FORMAT_HELP),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="zh | en"),
    profile: str = typer.Option("tianjin", "--profile", help="jurisdiction profile name or YAML path"),
    calendar_dir: Optional[Path] = typer.Option(None, "--calendar-dir", help="extra holiday schedules (<year>.yaml)"),
    workers: int = typer.Option(2, "--workers", min=1, max=64, help="worker processes (each runs the whole pipeline)"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="write the report to this file"),
    db: Optional[str] = typer.Option(None, "--db", help="check the cases of this store (URL or SQLite path)"),
    agency: Optional[str] = typer.Option(None, "--agency", help="with --db: only this agency's cases"),
    partition: Optional[str] = typer.Option(None, "--partition", help=PARTITION_HELP),
    verbose: bool = typer.Option(False, "--verbose", help=VERBOSE_HELP),
    unmask: bool = typer.Option(False, "--unmask", help=UNMASK_HELP),
    sheet: Optional[str] = typer.Option(None, "--sheet", help=SHEET_HELP),
) -> None:
    """案卷检查：检查案卷文件或库中的案件 / audit case files, or the cases of a store."""
    from .report.json_report import write_check_json
    from .report.terminal import render_check
    from .safe_io import atomic_output, check_output

    chosen = _format(fmt, output)
    check_output(output)
    result, _ = _run_check(paths, db, agency, _date(as_of, "--as-of"), profile, calendar_dir, workers, lang, "check",
                           partition=partition, sheet=_sheet(sheet, paths))
    if chosen in ("html", "xlsx", "docx"):
        from .report.builders import check_document
        from .report.render import write

        write(check_document(result, masked=not unmask), chosen, output, verbose)
    elif chosen == "json":                 # written as it is made: 200,000 findings never held as one text
        if output:
            with atomic_output(output) as target, target.open("w", encoding="utf-8") as fh:
                write_check_json(result, fh)
        else:
            write_check_json(result, sys.stdout)
    else:
        from .report.render import NARROW, render_terminal

        with atomic_output(output) as target:
            fh = target.open("w", encoding="utf-8") if target else None
            try:
                console = (Console(file=fh, width=int(os.environ.get("COLUMNS") or 100), force_terminal=False) if fh
                           else Console())
                if console.width < NARROW:                 # one finding per paragraph, not a 3-column table
                    from .report.builders import check_document

                    console.print(render_terminal(check_document(result, masked=not unmask), console.width, verbose))
                else:
                    console.print(render_check(result, verbose))
            finally:
                if fh:
                    fh.close()
    _said_incomplete(output, [str(p) for p in result.all_problems] + [str(f) for f in result.failures])
    raise typer.Exit(result.exit_code)


def _load_cases(paths: Optional[list[Path]], db: Optional[str], agency: Optional[str], sheet: Optional[str] = None):
    """The cases of the given files, or else of the store (which is returned too)."""
    from .loader import load_paths

    if paths:
        return load_paths(paths, sheet), None
    if db is None:
        raise typer.BadParameter("give case files or directories, or --db", param_hint="PATHS")
    from .cases import stored_cases
    from .loader import LoadResult
    from .store import Store

    store = Store.open(db, create=False)
    return LoadResult(cases=stored_cases(store, agency)), store




def _run_check(paths: Optional[list[Path]], db: Optional[str], agency: Optional[str], day: dt.date, profile: str,
               calendar_dir: Optional[Path], workers: int, lang: Lang, kind: str, keep: bool = True,
               quarter: Optional[str] = None, partition: Optional[str] = None, retain=None,
               sheet: Optional[str] = None):
    """Judge files or the store with the parallel runner; (``keep``) keep a whole-store run in the store.
    ``retain(result)``: keep only the verdicts the report needs (a million reviewed files stay small)."""
    from .calendar import default_calendar
    from .check import CheckResult
    from .profile import load_profile
    from .rulebook import load_rulebook
    from .runner import FileSource, Partition, RunSpec, RunStats, StoreSource, run
    from .workflow import default_workflows

    share = Partition.parse(partition)
    if paths:
        source: FileSource | StoreSource = FileSource(tuple(str(p) for p in paths), sheet)
        store = None
    elif db is None:
        raise typer.BadParameter("give case files or directories, or --db", param_hint="PATHS")
    else:
        from .store import Store, default_url

        store = Store.open(db, create=False)
        source = StoreSource(default_url(db), agency)
    rulebook = load_rulebook(load_profile(profile), workflows=default_workflows())  # fails early on a bad profile
    calendar = default_calendar(str(calendar_dir) if calendar_dir else None)
    spec = RunSpec(day, profile, str(calendar_dir) if calendar_dir else None, lang.value, quarter,
                   agency if quarter else None)
    stats = RunStats()
    from rich.progress import track

    judged = track(run(source, spec, workers=workers, partition=share, stats=stats), total=None,
                   description="检查案卷 / checking", console=Console(stderr=True), transient=True,
                   disable=not sys.stderr.isatty())
    cases = [r for r in judged if retain(r)] if retain else list(judged)
    result = CheckResult(cases, stats.problems, day, rulebook.profile.name,
                         rulebook.version, calendar.describe(), lang.value)
    if store is not None and keep and share is None:      # a check of the whole store is kept in it
        from . import __version__
        from .store.repo import save_run
        from .trail_cli import keep_run

        keep_run(store, lambda session: save_run(session, result, kind, __version__), None)
    return result, rulebook


@app.command()
def review(
    paths: Optional[list[Path]] = typer.Argument(None, help="case files or directories; none with --db"),
    quarter: str = typer.Option(..., "--quarter", help="YYYYQn, e.g. 2024Q4"),
    agency: Optional[str] = typer.Option(None, "--agency", help="only this agency's cases"),
    db: Optional[str] = typer.Option(None, "--db", help="review the cases of this store (and keep the review)"),
    previous: Optional[Path] = typer.Option(None, "--previous", help="the previous quarter's review as JSON "
                                            "(with --db the stored review is used)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="judge open deadlines as of (default: quarter end)"),
    fmt: Optional[ReportFormat] = typer.Option(None, "--format", help=FORMAT_HELP),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="write the report to this file"),
    verbose: bool = typer.Option(False, "--verbose", help=VERBOSE_HELP),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
    profile: str = typer.Option("tianjin", "--profile"),
    workers: int = typer.Option(2, "--workers", min=1, max=64, help="worker processes"),
    partition: Optional[str] = typer.Option(None, "--partition", help=PARTITION_HELP + "; the share's "
                                            "review is not kept in the store"),
    unmask: bool = typer.Option(False, "--unmask", help=UNMASK_HELP),
    rubric_name: str = typer.Option("tianjin", "--rubric", help="scoring rubric: a name under rules/rubrics/ "
                                    "(tianjin, zhejiang) or a YAML path"),
    district: Optional[str] = typer.Option(None, "--district", help=DISTRICT_HELP),
    sheet: Optional[str] = typer.Option(None, "--sheet", help=SHEET_HELP),
) -> None:
    """季度案卷评查：评分、否决项、等级、汇总；有不合格案卷时退出码 1 / quarterly case-file review: score, veto
    items, grade, summaries. Exit 1 if a file fails."""
    from .report.builders import review_document
    from .report.render import write
    from .review import previous_from_report, previous_quarter, quarter_bounds, review as run_review
    from .safe_io import check_output
    chosen = _format(fmt, output)
    from .rubric import load_rubric

    check_output(output)
    rubric = load_rubric(rubric_name)                 # a bad rubric fails before the cases are judged
    _, end = quarter_bounds(quarter)
    day = _date(as_of, "--as-of") if as_of else end
    before = previous_from_report(previous) if previous else None
    store = None
    if db is not None and partition is None:
        from .store import Store                      # only with a store: SQLAlchemy takes a while to import
        from .store.repo import load_review

        store = Store.open(db, create=False)
        if before is None:
            before = load_review(store, previous_quarter(quarter.strip().upper()), agency)
    wanted = set(before or ())

    def retain(r) -> bool:
        """What the report needs: the quarter's files, any problem, the previous review's files."""
        return r.score is not None or r.problem is not None or r.failure is not None or r.case_id in wanted

    result, rulebook = _run_check(paths, db, agency, day, profile, None, workers, lang, "review", keep=False,
                                  quarter=quarter, partition=partition, retain=retain, sheet=_sheet(sheet, paths))
    notes = None
    if store is not None:
        from .store.review_notes import load_notes

        notes = load_notes(store)
    if district:
        from .cli_supervise import keep_district

        keep_district(result, district, agency)
    reviewed = run_review(result, quarter, rulebook.profile["review_grades"], agency, rubric=rubric, notes=notes)
    not_kept = None
    if store is not None:
        from . import __version__
        from .store.repo import save_run
        from .trail_cli import keep_run

        not_kept = keep_run(store, lambda session: save_run(
            session, result, "review", __version__, scope=reviewed.quarter, agency=agency,
            case_ids={c.case_id for c in reviewed.cases}), lang.value)
    doc = review_document(reviewed, lang.value, before, masked=not unmask, rubric=rubric)
    if district:
        from .cli_supervise import review_summary

        review_summary(doc, reviewed, district=district, agency=agency, paths=paths, store=store, day=day,
                       profile=profile)
    if store is not None:
        from .store.trail import stamp_checkpoint

        stamp_checkpoint(doc, store)
        if not_kept:
            doc.notes.append(not_kept)
    write(doc, chosen, output, verbose)
    _said_incomplete(output, doc.problems)
    raise typer.Exit(doc.exit_code)


def _said_incomplete(output: Optional[Path], problems: list) -> None:
    """A report written to a file with input that could not be read or judged: the terminal says so too
    (it printed nothing else), with the first problems."""
    if output is None or not problems:
        return
    shown = "\n".join(f"  {p}" for p in problems[:5]) + (f"\n  …（共 {len(problems)} 项 / {len(problems)} in all）"
                                                      if len(problems) > 5 else "")
    Console(stderr=True).print(f"已写入 {output}，但本报告不完整：{len(problems)}项输入未能读取或未得出结论（见报告文末）/ "
                               f"written to {output}, but incomplete: {len(problems)} input(s) could not be read "
                               f"or judged (listed at its end):\n{shown}", soft_wrap=True, markup=False)


@app.command()
def alerts(
    paths: Optional[list[Path]] = typer.Argument(None, help="case files or directories; none with --db"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="the day to judge (default today)"),
    within: Optional[int] = typer.Option(None, "--within", min=0, help="open deadlines due within N working days"),
    agency: Optional[str] = typer.Option(None, "--agency"),
    db: Optional[str] = typer.Option(None, "--db", help="the deadlines of this store (an indexed query)"),
    fmt: Optional[ReportFormat] = typer.Option(None, "--format", help=FORMAT_HELP),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="write the report to this file"),
    verbose: bool = typer.Option(False, "--verbose", help=VERBOSE_HELP),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
    profile: str = typer.Option("tianjin", "--profile"),
    district: Optional[str] = typer.Option(None, "--district", help=DISTRICT_HELP),
    sheet: Optional[str] = typer.Option(None, "--sheet", help=SHEET_HELP),
    unmask: bool = typer.Option(False, "--unmask", help=UNMASK_HELP),
) -> None:
    """期限预警：即将超期或已超期的期限，最紧急的在前；有超期时退出码 1 / deadlines about to be missed or missed,
    most urgent first. Exit 1 if any is overdue."""
    from .alerts import alerts as find_alerts
    from .calendar import default_calendar
    from .exemptions import PartyHistory
    from .facts import FactContext
    from .profile import load_profile
    from .report.builders import alerts_document
    from .report.render import write
    from .rulebook import catalogue_version
    from .safe_io import check_output
    from .workflow import default_workflows

    check_output(output)
    day = _date(as_of, "--as-of")
    calendar = default_calendar()
    chosen = _format(fmt, output)
    problems: list[str] = []
    if paths:
        loaded, _ = _load_cases(paths, None, agency, _sheet(sheet, paths))
        ctx = FactContext(calendar, day, load_profile(profile), default_workflows(),
                          PartyHistory(c.case for c in loaded.cases))
        found = find_alerts(loaded.cases, ctx, within=within, agency=agency, lang=lang.value)
        problems = [str(p) for p in loaded.problems]
    elif db is not None:
        from .store import Store
        from .store.deadlines import store_alerts

        found = store_alerts(Store.open(db, create=False), calendar, day, within=within, agency=agency, lang=lang.value)
        from .cli_supervise import with_rectifications      # overdue 整改 of supervision notices (issue 19)

        found = with_rectifications(found, Store.open(db, create=False), day, within, agency, district, lang.value)
    else:
        raise typer.BadParameter("give case files or directories, or --db", param_hint="PATHS")
    if district:
        from .cli_supervise import in_district

        found = in_district(found, district)
    doc = alerts_document(found, lang.value, as_of=day, within=within, rules=catalogue_version(),
                          calendar=calendar.describe(), profile=load_profile(profile).name, problems=problems,
                          masked=not unmask)
    _repeat_inspections(doc, paths and loaded.cases, db, day, agency, load_profile(profile), lang.value,
                        masked=not unmask)
    if district:
        from .cli_supervise import alerts_summary

        alerts_summary(doc, found, district=district, agency=agency, db=db, day=day)
    write(doc, chosen, output, verbose)
    raise typer.Exit(doc.exit_code)


def _repeat_inspections(doc: "object", cases: "object", db: Optional[str], day: dt.date, agency: Optional[str],
                        profile: "object", lang: str, masked: bool = True) -> None:
    """Repeat inspections of a business (涉企行政检查, issue 19), from the files or the store."""
    from .inspections import add_repeat_section, repeat_inspections, rows_from_cases

    days, agencies = profile["inspection_repeat_days"], profile["inspection_repeat_agencies"]
    if cases:
        rows = rows_from_cases(cases)
    else:
        from .store import Store
        from .store.inspections import inspections_between

        with Store.open(db).reading() as session:
            rows = inspections_between(session, day - dt.timedelta(days=2 * days), day)
    found = repeat_inspections(rows, day, days=days, agencies=agencies, agency=agency)
    add_repeat_section(doc, found, lang, days=days, agencies=agencies, masked=masked)


@app.command()
def stats(
    paths: Optional[list[Path]] = typer.Argument(None, help="case files or directories; none with --db"),
    year: int = typer.Option(..., "--year", min=2000, max=2100, help="the year to count"),
    agency: Optional[str] = typer.Option(None, "--agency", help="only this agency"),
    agency_profile: Optional[Path] = typer.Option(None, "--agency-profile",
                                                  help="agency profile YAML (default rules/agencies/<code>.yaml)"),
    db: Optional[str] = typer.Option(None, "--db", help="the cases of this store"),
    fmt: Optional[ReportFormat] = typer.Option(None, "--format", help=FORMAT_HELP),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="write the report to this file"),
    verbose: bool = typer.Option(False, "--verbose", help=VERBOSE_HELP),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
    profile: str = typer.Option("tianjin", "--profile"),
    sheet: Optional[str] = typer.Option(None, "--sheet", help=SHEET_HELP),
    unmask: bool = typer.Option(False, "--unmask", help=UNMASK_HELP),
) -> None:
    """年度行政执法统计：年度报告“基本情况”部分的数字 / annual statistics: the figures of an annual report's
    基本情况 section."""
    from .agency import agency_path, load_agency
    from .calendar import default_calendar
    from .profile import load_profile
    from .report.builders import stats_document
    from .report.render import write
    from .rulebook import catalogue_version
    from .safe_io import check_output
    from .stats import year_stats
    chosen = _format(fmt, output)

    check_output(output)
    loaded, stats_store = _load_cases(paths, db, agency, _sheet(sheet, paths))
    cases = [c.case for c in loaded.cases]
    profiles = {}
    for code in sorted({c.agency.code for c in cases}):
        if agency_profile is not None:
            given = load_agency(agency_profile)
            profiles[code] = given if given.code == code else None
        else:
            profiles[code] = load_agency(code) if agency_path(code).exists() else None
    items = year_stats(cases, year, profiles, agency)
    doc = stats_document(items, lang.value, year=year, rules=catalogue_version(), calendar=default_calendar().describe(),
                         profile=load_profile(profile).name, as_of=dt.date(year, 12, 31),
                         problems=[str(p) for p in loaded.problems], masked=not unmask)
    from .inspections import add_counts_section, inspection_counts, rows_from_cases

    add_counts_section(doc, inspection_counts(rows_from_cases(loaded.cases), year, agency), lang.value,
                       masked=not unmask)
    if stats_store is not None:
        from .store.trail import stamp_checkpoint

        stamp_checkpoint(doc, stats_store)
    write(doc, chosen, output, verbose)
    raise typer.Exit(doc.exit_code)


@app.command()
def schema(output: Optional[Path] = typer.Option(None, "-o", "--output")) -> None:
    """输出 casecheck/1 案卷格式的 JSON Schema / print the JSON Schema of the casecheck/1 case-file format."""
    from .model import CaseFile

    text = json.dumps(CaseFile.model_json_schema(), ensure_ascii=False, indent=2)
    if output:
        from .safe_io import atomic_output

        with atomic_output(output) as target:
            target.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


@app.command()
def rules(
    rule_id: Optional[str] = typer.Argument(None, help="规则编号，或标题中的词（法制审核）/ show one rule in full, "
                                            "with examples from its fixtures; or title words to find rules"),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
    profile: str = typer.Option("tianjin", "--profile"),
    fmt: Format = typer.Option(Format.table, "--format", help="table | json"),
) -> None:
    """规则库：规则、法律依据、施行日期；可按标题中的词查找 / the rule catalogue with legal citations and effective
    dates; find rules by title words."""
    from .profile import load_profile
    from .report.rule_view import catalogue_data, catalogue_table, rule_detail
    from .rulebook import load_rulebook
    from .workflow import default_workflows

    book = load_rulebook(load_profile(profile), workflows=default_workflows())
    console = Console()
    if rule_id:
        rule = book.rules.get(rule_id)
        if rule is None:
            _find_rules(book, rule_id, lang.value, console)     # title words, or did-you-mean (issue 18)
            return
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


def _find_rules(book, words: str, lang: str, console: Console) -> None:
    """Rules whose id or title holds every word (``casecheck rules 法制审核``); none: the nearest id."""
    from .vocab import suggest

    terms = [w.lower() for w in words.replace("，", " ").split() if w]
    found = [r for r in book.rules.values()
             if all(t in f"{r.id} {r.title['zh']} {r.title['en']}".lower() for t in terms)]
    if not found:
        guess = suggest(words, list(book.rules))
        hint = f"；是否想写 {guess}？/ did you mean {guess}?" if guess else ""
        raise typer.BadParameter(f"没有规则 {words!r}{hint} / no rule {words!r}; `casecheck rules` lists them",
                                 param_hint="RULE_ID")
    table = Table(title=f"规则（含“{words}”）/ rules matching {words!r}: {len(found)}", show_lines=False)
    table.add_column("id", no_wrap=True)
    table.add_column("规则" if lang == "zh" else "title", overflow="fold")
    for r in found:
        table.add_row(r.id, r.title[lang])
    console.print(table)


def _json_object(data: str) -> dict:
    """``--json``'s text as a JSON object, or the usage error (exit 2) saying what is wrong with it."""
    from .loader import parse_document

    try:
        value = parse_document(data, ".json")
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--json") from None
    if not isinstance(value, dict):
        raise typer.BadParameter("a JSON object", param_hint="--json")
    return value


def _actor(by: Optional[str]) -> str:
    import getpass
    import os

    return by or os.environ.get("CASECHECK_USER") or getpass.getuser()


DB_HELP = "store: SQLAlchemy URL or SQLite file (default $CASECHECK_DB, else ./casecheck.db)"


@app.command("import")
def import_(
    paths: list[Path] = typer.Argument(..., help="case files, directories, Excel ledgers (.xlsx)"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
    by: Optional[str] = typer.Option(None, "--by", help="who imports (default $CASECHECK_USER or the login)"),
    key: Optional[Path] = typer.Option(None, "--key", help="签名密钥：导入后签一个检查点 / signing key: seal a "
                                       "checkpoint after the import (default $CASECHECK_KEY)"),
    checkpoints: Optional[Path] = typer.Option(None, "--checkpoints", help="只追加的检查点目录 / append-only "
                                               "checkpoint directory (default $CASECHECK_CHECKPOINTS)"),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="问题用中文或英文 / problems in zh | en"),
    sheet: Optional[str] = typer.Option(None, "--sheet", help=SHEET_HELP),
    workers: int = typer.Option(2, "--workers", min=1, max=64, help=WORKERS_HELP),
) -> None:
    """案卷导入：任一文件有错则不导入；分批提交，中断后重新运行即可续完；已存环节从不改写，文件与库中记录矛盾即为冲突
    （退出码 1）/ import case files into the store: any bad file, nothing stored; written in committed chunks
    of 5,000 cases, so an interrupted import is finished by running it again; idempotent. Stored events are
    never rewritten: a file that contradicts them is a conflict (exit 1)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .cases import import_paths
    from .store import Store

    store = Store.open(db)
    console = Console(stderr=True)
    with Progress(TextColumn("导入 / importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("import", total=None)
        report = import_paths(store, paths, actor=_actor(by), sheet=_sheet(sheet, paths), workers=workers,
                              progress=lambda n, total: bar.update(task, completed=n, total=total))
    if report.problems:
        for problem in report.problems:
            from rich.text import Text

            console.print(Text.assemble(("✗ ", "red"), _neutral(problem.text(lang.value))), soft_wrap=True)
        console.print(f"[red]{len(report.problems)} 处错误，未导入任何案卷 / {len(report.problems)} problems: "
                      f"nothing was imported[/red]")
        raise typer.Exit(2)
    from .trail_cli import import_outcome

    import_outcome(store, report, key, checkpoints, lang.value)


@app.command()
def verify(db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
           key: Optional[Path] = typer.Option(None, "--key", help="the signing key or its .pub (default "
                                              "$CASECHECK_KEY)"),
           checkpoints: Optional[Path] = typer.Option(None, "--checkpoints", help="the checkpoint directory "
                                                      "(default $CASECHECK_CHECKPOINTS)"),
           workers: int = typer.Option(2, "--workers", min=1, max=64, help="检查案件的进程数 / processes checking the cases"),
           deep: bool = typer.Option(False, "--deep", help="按事件重新计算每个案件的期限，已签名检查点摘要覆盖的也重算 / recompute every case's deadlines from its events, "
                                     "also where the signed checkpoint's digest covers them")
           ) -> None:
    """防篡改校验：每个事件的哈希链、案件头、人员与当事人记录、期限与事件是否一致、库与最新签名检查点是否一致；
    有改动时退出码 1 / check the audit trail: every event's chain, case header, officer and party rows, the
    deadlines against the events, and the store against its newest signed checkpoint. Exit 1 if anything
    was altered."""
    from .trail_cli import run_verify

    raise typer.Exit(run_verify(db, key, checkpoints, workers, deep=deep))


case_app = typer.Typer(no_args_is_help=True, help="库中案件：新建、记录步骤、查看、变更记录 / stored cases: new, record a step, show, history")
app.add_typer(case_app, name="case")


@case_app.command("new")
def case_new(
    file: Path = typer.Argument(..., help="a casecheck/1 case file (header, and any events so far)"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
    by: Optional[str] = typer.Option(None, "--by"),
) -> None:
    """新建案件 / store a new case."""
    from .cases import new_case
    from .errors import InputError
    from .loader import parse_document
    from .store import Store

    try:
        raw = parse_document(file.read_text(encoding="utf-8"), file.suffix.lower())
    except (OSError, ValueError) as exc:
        raise InputError([_problem(str(file), None, "", str(exc))]) from None
    case_id = new_case(Store.open(db), raw, actor=_actor(by), source=str(file))
    Console().print(f"已建立 / stored: {case_id}")


def _problem(file: str, case_id: Optional[str], fld: str, message: str):
    from .errors import InputProblem

    return InputProblem(file, case_id, fld, message)


def _set_path(target: dict, dotted: str, value: object) -> None:
    keys = dotted.split(".")
    for key in keys[:-1]:
        target = target.setdefault(key, {})
        if not isinstance(target, dict):
            raise typer.BadParameter(f"{dotted}: {key} is not a mapping", param_hint="--set")
    target[keys[-1]] = value


@case_app.command("record")
def case_record(
    case_id: str = typer.Argument(...),
    event_type: str = typer.Argument(..., help="事件类型，中文或代码（立案、法制审核、作出决定…）/ an event type of "
                                     "casecheck/1, in Chinese or as its code (e.g. decided, legal_review)"),
    date: str = typer.Option(..., "--date", help="date of the step, YYYY-MM-DD"),
    officer: list[str] = typer.Option([], "--officer", help="officer id acting (repeat)"),
    sets: list[str] = typer.Option([], "--set", help="字段=值，可用中文（结论=通过）/ field=value (value in YAML; dotted "
                                   "paths: penalty.amount=200; Chinese words too: 结论=通过)"),
    data: Optional[str] = typer.Option(None, "--json", help="further fields as a JSON object"),
    agency: Optional[str] = typer.Option(None, "--agency"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
    by: Optional[str] = typer.Option(None, "--by", help="the recording officer: id or name of an officer of the "
                                     "case (default $CASECHECK_USER, else the login name)"),
    expect: Optional[int] = typer.Option(None, "--expect", min=0, help="the number of events you saw: refused "
                                         "if the case changed since (another writer recorded a step)"),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
) -> None:
    """记录一个步骤（先经规则判断，被阻止时不写入，退出码 1）/ record one step, judged first: refused (exit 1,
    nothing written) when a rule blocks it, when the
    recorder may not record it (separation of duties) or when the case changed since --expect."""
    from .cases import ConcurrentChange, RecorderRefused, StepRefused, record
    from .loader import parse_document
    from .store import Store

    event: dict = {"type": event_type, "date": date}
    if officer:
        event["officers"] = officer
    if data:
        event.update(_json_object(data))
    for item in sets:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r}: write field=value", param_hint="--set")
        try:
            value = parse_document(raw, ".yaml") if raw else ""
        except ValueError as exc:
            raise typer.BadParameter(f"{item!r}: {exc}", param_hint="--set") from None
        _set_path(event, key, value)
    event = _event_words(event)                 # Chinese type, field and value words → codes (issue 18)
    console = Console()
    try:
        result = record(Store.open(db, create=False), case_id, _decimal_to_str(event), actor=_actor(by), agency=agency,
                        lang=lang.value, expect=expect)
    except (RecorderRefused, ConcurrentChange) as refused:
        Console(stderr=True).print(f"[red bold]拒绝记录 / refused[/red bold]: {refused}", soft_wrap=True)
        raise typer.Exit(1)
    except StepRefused as refused:
        err = Console(stderr=True)
        err.print(f"[red bold]拒绝记录 / refused[/red bold]: {case_id} “{event_type}” {date}")
        for f in refused.findings:
            err.print(f"  [red]✗ {f.rule_id}[/red] {f.title}\n    {f.message}\n    依据 / basis: {f.basis}",
                      soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"已记录 / recorded: {case_id} #{result.seq} {event_type} {date} → {result.state}")
    for f in result.findings:
        console.print(f"  [yellow]! {f.rule_id}[/yellow] {f.message}", soft_wrap=True)


def _event_words(event: dict) -> dict:
    from .model import EVENT_TYPES
    from .vocab import EVENT_WORDS, event_from_words, suggest

    event = event_from_words(event)
    if event["type"] not in EVENT_TYPES:
        guess = suggest(event["type"], list(EVENT_TYPES) + list(EVENT_WORDS))
        hint = f"；是否想写 {guess}？/ did you mean {guess}?" if guess else ""
        raise typer.BadParameter(f"未知的事件类型 {event['type']!r}{hint} / unknown event type", param_hint="EVENT_TYPE")
    return event


def _decimal_to_str(obj: object) -> object:
    from decimal import Decimal

    if isinstance(obj, dict):
        return {k: _decimal_to_str(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decimal_to_str(v) for v in obj]
    return str(obj) if isinstance(obj, Decimal) else obj


class DiagramFormat(str, Enum):
    table = "table"
    mermaid = "mermaid"


@case_app.command("show")
def case_show(
    case_id: str = typer.Argument(...),
    agency: Optional[str] = typer.Option(None, "--agency"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
    diagram: bool = typer.Option(False, "--diagram", help="the case's path through its workflow"),
    fmt: DiagramFormat = typer.Option(DiagramFormat.table, "--format", help="diagram as table | mermaid"),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
    tz: Optional[str] = typer.Option(None, "--tz", help="时区，默认 $CASECHECK_TZ 或 Asia/Shanghai / time zone shown"),
    verbose: bool = typer.Option(False, "--verbose", help="显示每个环节的哈希 / show each event's hash"),
) -> None:
    """查看案件：事件（谁、何时记录）及当前环节 / a stored case: its events (who recorded them, when) and its state."""
    from .cases import show
    from .diagram import mermaid, transition_table
    from .store import Store
    from .vocab import label
    from .workflow import default_workflows

    row, case, events = show(Store.open(db, create=False), case_id, agency)
    console = Console()
    workflow = default_workflows()[case.procedure]
    pairs = [(e.type, e.date.toordinal()) for e in case.events]
    if diagram and fmt is DiagramFormat.mermaid:
        sys.stdout.write(mermaid(workflow, lang.value, pairs) + "\n")
        return
    console.print(f"[bold]{row.case_id}[/bold]  {row.agency} · {label(case.procedure, lang.value)} · "
                  f"{workflow.state_label(row.state, lang.value)}")
    from .trail_cli import events_table

    console.print(events_table(events, lang.value, _zone(tz), with_hash=verbose))
    if any(e.corrects == 0 for e in events):                 # the header as corrected: who, when, why, what
        from .trail_cli import header_corrections

        console.print(header_corrections(Store.open(db, create=False), case_id, agency, _zone(tz)))
    if diagram:
        console.print(transition_table(workflow, lang.value, pairs))


@case_app.command("history")
def case_history(
    case_id: str = typer.Argument(...),
    agency: Optional[str] = typer.Option(None, "--agency"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
    tz: Optional[str] = typer.Option(None, "--tz", help="时区，默认 $CASECHECK_TZ 或 Asia/Shanghai / time zone shown "
                                     "(default $CASECHECK_TZ, else Asia/Shanghai)"),
) -> None:
    """案卷的全部变更：审计导入、追加、现场记录、更正（字段、原值、新值），按本地时间 / every change to a stored
    case: audit imports, appended events, live steps, corrections (field, old value, new value), in local time."""
    from .store import Store
    from .trail_cli import print_history

    print_history(Store.open(db, create=False), case_id, agency, _zone(tz))


from .trail_cli import register as _register_trail  # noqa: E402  (keys, case correct: issue 17)

_register_trail(app, case_app)


def _zone(name: Optional[str]):
    import os
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = name or os.environ.get("CASECHECK_TZ") or "Asia/Shanghai"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"未知的时区 {name!r} / unknown time zone (e.g. Asia/Shanghai, UTC)",
                                 param_hint="--tz") from None


workflow_app = typer.Typer(no_args_is_help=True, help="办案流程（状态机）/ the procedures as state machines")
app.add_typer(workflow_app, name="workflow")


@workflow_app.command("show")
def workflow_show(
    name: str = typer.Argument(..., help="ordinary | simple | inspection"),
    fmt: DiagramFormat = typer.Option(DiagramFormat.table, "--format", help="table | mermaid"),
    lang: Lang = typer.Option(Lang.zh, "--lang"),
) -> None:
    """办案流程：状态转换表或 Mermaid 状态图 / a workflow as a transition table or a Mermaid state diagram."""
    from .diagram import mermaid, transition_table
    from .workflow import default_workflows

    workflows = default_workflows()
    if name not in workflows:
        raise typer.BadParameter(f"{name!r}: one of {', '.join(workflows)}", param_hint="NAME")
    if fmt is DiagramFormat.mermaid:
        sys.stdout.write(mermaid(workflows[name], lang.value) + "\n")
    else:
        Console().print(transition_table(workflows[name], lang.value))


from .cli_web import register as _register_web  # noqa: E402  (serve, user: the web workspace)

_register_web(app)

from .cli_api import api_app, client_app, decisions_app  # noqa: E402  (the HTTP API's commands, issue 22)

app.add_typer(api_app, name="api")
app.add_typer(client_app, name="api-client")
app.add_typer(decisions_app, name="decisions")

from .cli_review import register as _register_review_notes  # noqa: E402  (issue 20: adjust, waive)

_register_review_notes(app)

from .cli_supervise import register as _register_supervise  # noqa: E402  (issue 19: 监督通知书/意见书, 整改)

_register_supervise(app)

from .ledger.cli import app as _ledger_app  # noqa: E402  (issue 18: casecheck ledger template / check)

app.add_typer(_ledger_app, name="ledger")


def _show_version(value: bool) -> None:
    if value:
        from . import __version__
        from .rulebook import catalogue_version

        Console().print(f"casecheck {__version__}（规则目录 / rules {catalogue_version()}）")
        raise typer.Exit(0)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                       help="显示版本 / show the version"),
          lang: Lang = typer.Option(Lang.zh, "--lang", help="帮助与用法错误的语言（也可写在命令之后）/ the language of "
                                    "help and usage errors (may follow the command too)")) -> None:
    """casecheck — 行政执法案卷程序合规检查 / procedure-compliance checks for enforcement case files"""


from .cli_lang import localize as _localize  # noqa: E402  (every help text 中文 / English; --lang en: English)

_localize(app)


def main() -> None:
    from .cli_lang import argv_lang, command_args, english_command, show_usage_error

    lang = argv_lang()
    try:
        command = typer.main.get_command(app)
        if lang == "en":
            english_command(command)
        code = command(args=command_args(command, sys.argv[1:]), standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(2)
    except DefinitionError as exc:
        Console(stderr=True).print(f"[red]配置错误 / definition error:[/red] {exc}")
        sys.exit(2)
    except InputError as exc:
        err = Console(stderr=True)
        for problem in exc.problems:
            err.print(f"[red]✗[/red] {_neutral(str(problem))}", soft_wrap=True)
        sys.exit(2)
    except CasecheckError as exc:
        from .cases import ConcurrentChange, RecorderRefused, StepRefused

        refused = isinstance(exc, (StepRefused, RecorderRefused, ConcurrentChange))
        Console(stderr=True).print(f"[red]{'拒绝记录 / refused' if refused else '错误 / error'}:[/red] "
                                   f"{_neutral(str(exc))}", soft_wrap=True, markup=True)
        sys.exit(1 if refused else 2)
    except typer.TyperException as exc:      # usage errors (bad option, bad value): typer's ClickException
        if hasattr(exc, "format_message"):
            show_usage_error(exc, lang)          # Chinese with the English beside it; English with --lang en
        else:
            Console(stderr=True).print(f"[red]用法错误 / usage error:[/red] {exc}")
        sys.exit(2)
    except Exception as exc:                 # noqa: BLE001 - never a traceback: one line, a log file, exit 3
        from .safe_io import EXIT_INTERNAL, internal_error

        try:
            Console(stderr=True).print(_neutral(internal_error(exc)), soft_wrap=True, markup=False)
        except Exception:                    # noqa: BLE001 - the terminal itself failed
            pass
        sys.exit(EXIT_INTERNAL)


def _neutral(text: str) -> str:
    """Text from case files and the store made safe for a terminal: rich markup escaped, control and
    escape characters (ANSI sequences a file could carry) shown as \\xNN instead of acted on."""
    from rich.markup import escape

    return escape("".join(c if c in "\n\t" or (ord(c) >= 32 and not 0x7f <= ord(c) < 0xa0) else f"\\x{ord(c):02x}"
                          for c in text))


if __name__ == "__main__":
    main()
