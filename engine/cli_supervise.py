"""``casecheck supervise``: 监督通知书 / 监督意见书 issued to an agency and tracked to closure in the store
(《行政执法监督条例》, issue 19).

    casecheck supervise issue --agency xuefu --case 津南学罚〔2024〕1号 --rule publicity.penalty_within_7_workdays \\
        --requirement "补正公示并说明逾期原因" --deadline 2026-12-31 [--kind notice|opinion] [--by 司法所张某] --db store.db
    casecheck supervise reply 1 --text "已于…补正公示" [--date 2026-12-10] [--by 学府街道李某] --db store.db
    casecheck supervise close 1 [--return --deadline 2027-01-15] --text "整改到位" --db store.db
    casecheck supervise list [--agency xuefu] [--district nankai] [--overdue] [--as-of D] [--format json]
    casecheck supervise show 1 [-o notice.docx] [--format json]

Who acts is asserted (``--by``, else $CASECHECK_USER or the login name), and stored as such (proof
``asserted``); the web stores its logged-in user as ``authenticated``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import CasecheckError

app = typer.Typer(no_args_is_help=True, help="执法监督：监督通知书、监督意见书的发出、整改报告与销号 / supervision: "
                  "notices and opinions to an agency, its rectification report, closure")

DB_HELP = "库 / store: SQLAlchemy URL or SQLite file (default $CASECHECK_DB, else ./casecheck.db)"


def _day(value: Optional[str], option: str) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} 不是日期 YYYY-MM-DD / not a date YYYY-MM-DD", param_hint=option) from None


def _store(db: Optional[str], create: bool = False):
    from .store import Store

    return Store.open(db, create=create)


def _agencies(agency: Optional[str], district: Optional[str]) -> Optional[list[str]]:
    if district:
        from .users import district_agencies

        codes = list(district_agencies(district))
        return [agency] if agency and agency in codes else ([] if agency else codes)
    return [agency] if agency else None


def _proof(proof: str, lang: str) -> str:
    """How the actor was established, in the DOCX's words (the stored value is one of ``engine.cases.PROOFS``)."""
    from .report.supervision_docx import PROOF_TITLES

    words = PROOF_TITLES.get(proof)
    return words[0 if lang == "zh" else 1] if words else proof


def _agency(code: str) -> str:
    """The agency's name for a reader (its code when no profile names it)."""
    from .supervision import _agency_name

    return _agency_name(code)


def _print_notice(view, lang: str, day: dt.date) -> None:
    zh = lang == "zh"
    out = Console()
    out.print(f"[bold]{view.number}[/bold]  {view.kind_title(lang)} · {_agency(view.agency)} · "
              f"{view.state_label(lang, day)}", soft_wrap=True, markup=True)
    from .cli import _neutral

    for name_zh, name_en, value in (("涉及案卷", "cases", "、".join(view.case_ids) or "—"),
                                    ("规则", "rules", "、".join(view.rule_ids) or "—"),
                                    ("问题", "problem", view.problem), ("依据", "basis", view.basis),
                                    ("要求", "requirement", view.requirement),
                                    ("发出", "issued", f"{view.issued_on} {view.by}（{_proof(view.proof, lang)}）"),
                                    ("整改期限", "deadline", view.deadline.isoformat())):
        out.print(f"[bold]{name_zh if zh else name_en}[/bold]：{_neutral(value)}", soft_wrap=True)
    from .report.supervision_docx import ACTION_TITLES

    for s in view.steps:
        extra = (f"（新期限 {s['deadline']}）" if zh else f" (new deadline {s['deadline']})") if s["deadline"] else ""
        what = ACTION_TITLES[s["action"]][0 if zh else 1]
        out.print(f"  {s['seq']}. {s['day']} {what}{extra} · {_neutral(s['by'])}（{_proof(s['proof'], lang)}） · "
                  f"{_neutral(s['text'])}", soft_wrap=True)


@app.command("issue")
def issue_cmd(
    agency: str = typer.Option(..., "--agency", help="被监督的执法主体代码 / the agency supervised (code)"),
    case: Optional[list[str]] = typer.Option(None, "--case", help="涉及的案卷（可重复） / a case concerned (repeatable)"),
    rule: Optional[list[str]] = typer.Option(None, "--rule", help="问题的规则代码（可重复） / a rule id (repeatable)"),
    problem: str = typer.Option("", "--problem", help="问题（指明案卷和规则时自动加入其问题） / the problem (the "
                                "findings of --case and --rule are added)"),
    requirement: str = typer.Option(..., "--requirement", help="整改要求 / what the agency must do"),
    deadline: str = typer.Option(..., "--deadline", help="整改期限 YYYY-MM-DD / rectification deadline"),
    kind: str = typer.Option("notice", "--kind", help="文书种类：notice（监督通知书）或 opinion（监督意见书）/ notice | opinion"),
    basis: str = typer.Option("", "--basis", help="法律依据（指明案卷和规则时取其依据） / the legal basis (else the "
                              "findings')"),
    district: Optional[str] = typer.Option(None, "--district", help="监督辖区（rules/districts/） / the "
                                           "supervisor's district: only its agencies"),
    on: Optional[str] = typer.Option(None, "--date", help="发出日期（默认今天） / the issue date (default today)"),
    by: Optional[str] = typer.Option(None, "--by", help="发出人（默认 $CASECHECK_USER 或登录名） / who"),
    fmt: str = typer.Option("table", "--format", help="table | json"),
    lang: str = typer.Option("zh", "--lang", help="zh | en"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """发出监督通知书或监督意见书（含整改期限） / issue a supervision notice or opinion with a rectification deadline."""
    from .cli import _actor
    from .supervision import issue

    scope = _agencies(None, district)
    view = issue(_store(db), agency=agency, kind=kind, case_ids=list(case or []), rule_ids=list(rule or []),
                 problem=problem, requirement=requirement, deadline=_day(deadline, "--deadline"), by=_actor(by),
                 proof="asserted", issued_on=_day(on, "--date"), basis=basis, district=district, agencies=scope,
                 lang=lang)
    _show(view, fmt, lang, view.issued_on)


@app.command("reply")
def reply_cmd(
    notice_id: int = typer.Argument(..., help="监督文书编号（list 中的 id） / the notice's id"),
    text: str = typer.Option(..., "--text", help="整改报告内容 / the rectification report"),
    on: Optional[str] = typer.Option(None, "--date", help="报告日期（默认今天） / the report's date"),
    agency: Optional[str] = typer.Option(None, "--agency", help="报送机关（须为文书所致机关） / your agency"),
    by: Optional[str] = typer.Option(None, "--by", help="报送人 / who"),
    fmt: str = typer.Option("table", "--format", help="table | json"),
    lang: str = typer.Option("zh", "--lang", help="zh | en"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """执法主体报送整改报告 / the agency files its rectification report."""
    from .cli import _actor
    from .supervision import reply

    day = _day(on, "--date")
    view = reply(_store(db), notice_id, text=text, day=day, by=_actor(by), proof="asserted",
                 agencies=[agency] if agency else None)
    _show(view, fmt, lang, day)


@app.command("close")
def close_cmd(
    notice_id: int = typer.Argument(..., help="监督文书编号 / the notice's id"),
    text: str = typer.Option(..., "--text", help="审核意见 / the supervisor's assessment"),
    returned: bool = typer.Option(False, "--return", help="退回重新整改（不销号） / return it (not closed)"),
    deadline: Optional[str] = typer.Option(None, "--deadline", help="退回时的新整改期限 / a new deadline (with --return)"),
    on: Optional[str] = typer.Option(None, "--date", help="日期（默认今天） / the date"),
    district: Optional[str] = typer.Option(None, "--district", help="监督辖区 / the supervisor's district"),
    by: Optional[str] = typer.Option(None, "--by", help="审核人 / who"),
    fmt: str = typer.Option("table", "--format", help="table | json"),
    lang: str = typer.Option("zh", "--lang", help="zh | en"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """监督机关审核整改报告：销号或退回 / the supervisor accepts the report (closed) or returns it."""
    from .cli import _actor
    from .supervision import decide

    day = _day(on, "--date")
    if deadline and not returned:
        raise typer.BadParameter("新的整改期限只用于 --return / a new deadline goes with --return", param_hint="--deadline")
    view = decide(_store(db), notice_id, accept=not returned, text=text, day=day, by=_actor(by), proof="asserted",
                  agencies=_agencies(None, district), deadline=_day(deadline, "--deadline") if deadline else None)
    _show(view, fmt, lang, day)


@app.command("list")
def list_cmd(
    agency: Optional[str] = typer.Option(None, "--agency", help="只列此机关 / only this agency"),
    district: Optional[str] = typer.Option(None, "--district", help="只列此辖区 / only this district's agencies"),
    overdue: bool = typer.Option(False, "--overdue", help="只列逾期未整改 / only those overdue"),
    state: Optional[str] = typer.Option(None, "--state", help="状态：issued 待整改、replied 已报整改待审核、returned 退回重新整改、closed 已销号 / issued | replied | returned | closed"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="判断逾期的日期（默认今天） / the day overdue is judged"),
    fmt: str = typer.Option("table", "--format", help="table | json"),
    lang: str = typer.Option("zh", "--lang", help="zh | en"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """监督文书台账：状态、整改期限、是否逾期；有逾期时退出码 1 / the notices with state and deadline. Exit 1 if
    any is overdue."""
    from .supervision import notices

    day = _day(as_of, "--as-of")
    found = notices(_store(db), _agencies(agency, district), state=state, overdue_on=day if overdue else None)
    late = any(n.overdue_on(day) for n in found)
    if fmt == "json":
        sys.stdout.write(json.dumps({"as_of": day.isoformat(), "notices": [n.as_dict(day) for n in found]},
                                    ensure_ascii=False, indent=2) + "\n")
    else:
        zh = lang == "zh"
        table = Table()
        for name in (["id", "文号", "机关", "涉及案卷", "整改期限", "状态"] if zh else
                     ["id", "number", "agency", "cases", "deadline", "state"]):
            table.add_column(name, overflow="fold")
        for n in found:
            state_text = n.state_label(lang, day)
            table.add_row(str(n.pk), n.number, _agency(n.agency) if zh else n.agency, "、".join(n.case_ids) or "—", n.deadline.isoformat(),
                          f"[red]{state_text}[/red]" if n.overdue_on(day) else state_text)
        Console().print(table)
        if not found:
            Console().print("没有监督文书。" if zh else "No supervision notices.")
    raise typer.Exit(1 if late else 0)


@app.command("show")
def show_cmd(
    notice_id: int = typer.Argument(..., help="监督文书编号 / the notice's id"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="写成 DOCX 文书 / write the notice as DOCX"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="判断逾期的日期 / the day overdue is judged"),
    fmt: str = typer.Option("table", "--format", help="输出格式 / table | json | docx"),
    lang: str = typer.Option("zh", "--lang", help="zh | en"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """查看一份监督文书及其整改记录，或写成 DOCX / show one notice and its rectification record, or write it as DOCX."""
    from .supervision import notice

    view = notice(_store(db), notice_id)
    day = _day(as_of, "--as-of")
    if output is not None or fmt == "docx":
        if output is None:
            raise typer.BadParameter("--format docx 需要 -o 文件 / give -o FILE", param_hint="-o")
        from .safe_io import check_output

        check_output(output)
        from .supervision import notice_docx_bytes

        output.write_bytes(notice_docx_bytes(view, lang, day))
        Console().print(f"已写入 / written: {output}")
        return
    _show(view, fmt, lang, day)


def _show(view, fmt: str, lang: str, day: dt.date) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(view.as_dict(day), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "table":
        _print_notice(view, lang, day)
    else:
        raise CasecheckError(f"--format: table 或 json，不是 {fmt!r} / table or json")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="supervise")


# ------------------------------------------------------------------ review / alerts: the supervisor's summary
def _district_codes(district: str, agency: Optional[str]) -> list[str]:
    from .users import district_agencies

    codes = list(district_agencies(district))
    if agency and agency not in codes:
        raise CasecheckError(f"执法主体“{agency}”不属于辖区“{district}” / agency {agency!r} is not in district {district!r}")
    return [agency] if agency else codes


def keep_district(result, district: str, agency: Optional[str]) -> None:
    """Keep only the district's cases in a check result (bad input and engine failures stay reported)."""
    codes = set(_district_codes(district, agency))
    result.cases = [r for r in result.cases if r.agency in codes or r.problem is not None or r.failure is not None]


def in_district(found: list, district: str) -> list:
    codes = set(_district_codes(district, None))
    return [a for a in found if a.agency in codes]


def with_rectifications(found: list, store, day: dt.date, within: Optional[int], agency: Optional[str],
                        district: Optional[str], lang: str) -> list:
    """The store's alerts and the rectification deadlines of its open supervision notices, most urgent first."""
    from .alerts import sort_alerts
    from .supervision import rectification_alerts

    codes = _district_codes(district, agency) if district else ([agency] if agency else None)
    return sort_alerts(list(found) + rectification_alerts(store, day, within=within, agencies=codes, lang=lang))




def review_summary(doc, reviewed, *, district: str, agency: Optional[str], paths, store, day: dt.date,
                   profile: str) -> None:
    """The supervisor's summary in a review: per agency the files, grades, average, vetoes, typical problems,
    and the deadlines overdue or due within 5 working days on the review's as-of day (files: from the
    files; a store: its deadline rows), with the store's open supervision notices."""
    from .calendar import default_calendar
    from .supervision import SOON_WORKDAYS as SOON, add_supervisor_section

    codes = _district_codes(district, agency)
    calendar = default_calendar()
    if store is not None:
        from .store.deadlines import store_alerts

        found = store_alerts(store, calendar, day, within=SOON, lang=doc.lang)
    else:
        from .alerts import alerts as find_alerts
        from .cli import _load_cases
        from .exemptions import PartyHistory
        from .facts import FactContext
        from .profile import load_profile
        from .workflow import default_workflows

        loaded, _ = _load_cases(paths, None, agency)
        ctx = FactContext(calendar, day, load_profile(profile), default_workflows(),
                          PartyHistory(c.case for c in loaded.cases))
        found = find_alerts(loaded.cases, ctx, within=SOON, lang=doc.lang)
    found = [a for a in found if a.agency in set(codes)]
    add_supervisor_section(doc, store, codes, reviewed=reviewed, alerts=found, as_of=day)


def alerts_summary(doc, found: list, *, district: str, agency: Optional[str], db: Optional[str], day: dt.date) -> None:
    from .supervision import add_supervisor_section

    add_supervisor_section(doc, _store(db) if db else None, _district_codes(district, agency), alerts=found,
                           as_of=day)
