"""The command-line edge of the append-only store and its keyed trail (issue 17): ``keys init``,
``keys seal``, ``keys show``, ``case correct``, and the output of ``import``, ``verify`` and ``case history``.
Registered on the main app by ``engine.cli``; every service it calls lives in ``engine.cases`` and
``engine.store``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table


__all__ = ["register", "import_outcome", "run_verify", "print_history", "origin_label"]

ORIGIN = {"import": "审计导入 audit import", "asserted": "现场记录 live (--by)",
          "authenticated": "现场记录 live (登录 logged in)",
          "platform": "平台记录 live (平台令牌 platform token)", None: "0004 前 before 0004"}


def origin_label(event: Any) -> str:
    text = ORIGIN.get(event.proof, str(event.proof))
    if event.corrects == 0:
        return f"更正案件信息 #0 / corrects the header · {text}"
    return f"更正 #{event.corrects} / corrects #{event.corrects} · {text}" if event.corrects else text


def _key(path: Optional[Path]) -> Optional[Path]:
    from .store.trail import key_path

    return key_path(path)


def _dir(path: Optional[Path]) -> Optional[Path]:
    from .store.trail import checkpoint_dir

    return checkpoint_dir(path)


def import_outcome(store: Any, report: Any, key: Optional[Path], checkpoints: Optional[Path], lang: str = "zh") -> None:
    """Print an import's outcome (conflicts with both versions, refused steps, a ledger's missing step
    columns), seal a checkpoint when a key is configured and something was written, and exit with the report's code."""
    err = Console(stderr=True)
    for zh, en in getattr(report, "notices", ()):
        err.print(f"[yellow]![/yellow] {escape(zh if lang == 'zh' else en)}", soft_wrap=True)
    for conflict in report.conflicts:
        err.print(f"[red]≠[/red] {escape(str(conflict))}", soft_wrap=True)
    for source, case_id in getattr(report, "corrected", ()):
        err.print(f"[yellow]![/yellow] {escape(source)}: {escape(case_id)} 的案件信息已于库中更正，以更正为准（文件未改动库中记录）/ "
                  f"the case header was corrected in the store since; the correction stands", soft_wrap=True)
    for source, refused in report.refused:
        err.print(f"[red bold]拒绝导入 / refused[/red bold] {escape(source)}: {escape(refused.case_id)} "
                  f"“{escape(refused.event_type)}”（本案未写入任何内容 / nothing of this case was stored）")
        for f in refused.findings:
            err.print(f"  [red]✗ {escape(f.rule_id)}[/red] {escape(f.message)}\n    依据 / basis: {escape(f.basis)}",
                      soft_wrap=True)
    Console().print(f"{report.files} 个文件：新增 {report.new}，追加环节 {report.updated}，未变 {report.unchanged}，"
                    f"冲突 {len(report.conflicts)}，拒绝 {len(report.refused)} / {report.files} files: {report.new} new, "
                    f"{report.updated} with events appended, {report.unchanged} unchanged, "
                    f"{len(report.conflicts)} conflicts, {len(report.refused)} refused")
    signing = _key(key)
    if signing is not None and (report.new or report.updated):
        row = _seal(store, signing, checkpoints)
        Console().print(f"已封存检查点 / sealed checkpoint #{row.seq}: {row.cases} cases, root {row.root}")
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _seal(store: Any, key: Path, checkpoints: Optional[Path], workers: int = 2) -> Any:
    """Seal a checkpoint; a store that contradicts its previous checkpoint is named and exits 1."""
    from .store.trail import SealRefused, make_checkpoint

    try:
        return make_checkpoint(store, key, _dir(checkpoints), workers=workers)
    except SealRefused as exc:
        Console(stderr=True).print(f"[red]✗ 未封存 / not sealed:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None


def run_verify(db: Optional[str], key: Optional[Path], checkpoints: Optional[Path], workers: int = 2,
               deep: bool = False) -> int:
    from .cases import _deadline_context
    from .store import Store, default_url
    from .store.audit import verify_store
    from .store.trail import load_public

    store = Store.open(db, create=False)
    signing = _key(key)
    public = load_public(signing) if signing is not None else None
    with store.reading() as session:
        report = verify_store(session, public_key=public, directory=_dir(checkpoints), ctx=_deadline_context(),
                              url=default_url(db), workers=workers, deep=deep)
    console = Console()
    for b in report.broken:
        where = (f"{b.agency}/{b.case_id}" if b.case_id else "store") + (f" #{b.seq}" if b.seq else "")
        console.print(f"[red]✗ {escape(where)}[/red]: {escape(b.problem)}", soft_wrap=True)
    for note in report.notes:
        console.print(f"  {escape(note)}", soft_wrap=True)
    cp = report.checkpoint
    if cp:
        console.print(f"检查点 / checkpoint #{cp['seq']} ({cp['at']}, {cp['cases']} cases) root {cp['root']}; "
                      f"其后新增 {report.added_since} 件、追加环节 {report.grown_since} 件（待下次封存）/ since then "
                      f"{report.added_since} cases added and {report.grown_since} grown (sealed by the next checkpoint)")
        if cp.get("root_sm3"):
            console.print(f"SM3 根 / SM3 root {cp['root_sm3']}")
    else:
        console.print("无签名检查点：仅核对了哈希链与派生表（有数据库写权限者可重算哈希）/ no signed checkpoint: only the "
                      "hash chains and derived rows were checked (someone with write access can re-hash them); "
                      "`casecheck keys init` and `casecheck keys seal`")
    if report.broken:
        console.print(f"[red]{len(report.broken)} 处不符 / discrepancies[/red] ({report.cases} cases, {report.events} events)")
        return 1
    console.print(f"审计链完整 / audit trail intact ({report.cases} cases, {report.events} events)")
    return 0


def _local(at: Any, zone: Any) -> str:
    import datetime as dt

    return (at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def events_table(events: list[Any], lang: str, zone: Any, *, title: Optional[str] = None,
                 with_hash: bool = False) -> Table:
    """A stored case's events: when, what, who recorded it and when (``zone``), and how it came in."""
    from .vocab import label

    table = Table(title=title)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("日期 date", no_wrap=True)
    table.add_column("步骤 step")
    table.add_column("记录人 by")
    table.add_column(f"记录时间 at ({getattr(zone, 'key', 'UTC')})")
    table.add_column("来源 origin")
    if with_hash:
        table.add_column("hash", no_wrap=True)
    for e in events:
        step = ("更正案件信息" if lang == "zh" else "header corrected") if e.corrects == 0 else label(e.type, lang)
        cells = [str(e.seq), e.date.isoformat(), step, escape(e.recorded_by),
                 _local(e.recorded_at, zone), origin_label(e)]
        table.add_row(*cells, *([e.hash[:16]] if with_hash else []))
    return table


def print_history(store: Any, case_id: str, agency: Optional[str], zone: Any = None, lang: str = "zh") -> None:
    """The change log, then every stored event with how it came in (audit import, live step, correction);
    times (stored in UTC) shown in ``zone`` (a ``ZoneInfo``; default UTC)."""
    import datetime as dt

    from .cases import history, show

    zone = zone or dt.timezone.utc
    console = Console()
    table = Table(f"时间 at ({getattr(zone, 'key', 'UTC')})", "人员 by", "类型 kind", "说明 summary",
                  title="变更记录 / change log")
    kinds = {"imported": "审计导入 audit import", "appended": "审计导入追加 audit import (appended)",
             "recorded": "现场记录 live step", "corrected": "更正 correction", "updated": "更新 updated (before 0004)",
             "header_corrected": "更正案件信息 header correction"}
    for change in history(store, case_id, agency):
        table.add_row(_local(change.at, zone), escape(change.actor), kinds.get(change.kind, change.kind),
                      escape(change.summary.replace("; ", "\n")))
    console.print(table)
    _row, _case, events = show(store, case_id, agency)
    console.print(events_table(events, lang, zone, title="环节 / events"))


def header_corrections(store: Any, case_id: str, agency: Optional[str], zone: Any) -> Optional[Table]:
    """The case's header corrections from its change log (when, who, why, each field old → new), or None."""
    from .cases import history

    rows = [c for c in history(store, case_id, agency) if c.kind == "header_corrected"]
    if not rows:
        return None
    table = Table(f"时间 at ({getattr(zone, 'key', 'UTC')})", "更正人 by", "理由与变更 reason, old → new",
                  title="案件信息更正 / header corrections")
    for change in rows:
        table.add_row(_local(change.at, zone), escape(change.actor), escape(change.summary.replace("; ", "\n")))
    return table


def register(app: typer.Typer, case_app: typer.Typer) -> None:
    keys = typer.Typer(no_args_is_help=True, help="signing key and signed checkpoints of the audit trail")
    app.add_typer(keys, name="keys")

    @keys.command("init")
    def keys_init(key: Optional[Path] = typer.Option(None, "--key", help="where to write the private key "
                                                     "(default $CASECHECK_KEY); keep it off the database server")) -> None:
        """Create the Ed25519 signing key (and KEY.pub for verifiers); never overwrites one."""
        from .store.trail import init_key

        path = _key(key)
        if path is None:
            raise typer.BadParameter("give --key PATH or set CASECHECK_KEY", param_hint="--key")
        key_id = init_key(path)
        Console().print(f"已生成签名密钥 / signing key written: {path} (public: {path}.pub, id {key_id[:16]}…)")

    @keys.command("seal")
    def keys_seal(db: Optional[str] = typer.Option(None, "--db", help="the store"),
                  key: Optional[Path] = typer.Option(None, "--key", help="default $CASECHECK_KEY"),
                  checkpoints: Optional[Path] = typer.Option(None, "--checkpoints",
                                                             help="default $CASECHECK_CHECKPOINTS"),
                  if_changed: bool = typer.Option(False, "--if-changed", help="自上次检查点以来有写入才签署（供定时任务）/ seal only if something was "
                                                  "written since the last checkpoint (for cron)"),
                  workers: int = typer.Option(2, "--workers", min=1, max=64, help="重算新案件期限摘要的进程数 / "
                                              "processes recomputing the deadline digests of new cases")
                  ) -> None:
        """签署全库检查点（案件数、各案件链头、根、变更记录）；库与上一检查点矛盾时拒绝 / Sign a checkpoint of the whole
        store (case count, every case head, root, change log); refused when the store contradicts the previous
        checkpoint."""
        from .store import Store
        from .store.trail import unchanged_since_checkpoint

        path = _key(key)
        if path is None:
            raise typer.BadParameter("give --key PATH or set CASECHECK_KEY", param_hint="--key")
        store = Store.open(db, create=False)
        if if_changed:
            last = unchanged_since_checkpoint(store)
            if last is not None:
                Console().print(f"检查点 #{last.seq} 之后无写入，未封存 / nothing written since checkpoint "
                                f"#{last.seq}; nothing sealed")
                return
        row = _seal(store, path, checkpoints, workers)
        Console().print(f"已封存检查点 / sealed checkpoint #{row.seq}: {row.cases} cases, root {row.root}")

    @case_app.command("correct")
    def case_correct(
        case_id: str = typer.Argument(...),
        target: str = typer.Argument(..., help="要更正的已存环节序号（#），或“案卷”/“案件信息”更正案件信息（当事人、事项、程序、"
                                     "执法人员等）/ the number (#) of the stored event to correct, or header (also 案卷) "
                                     "to correct the case header (party, matter, procedure, officers…)"),
        data: Optional[str] = typer.Option(None, "--json", help="环节：更正后的完整环节（JSON 对象）；案件信息：整体替换的字段（JSON "
                                           "对象）/ an event: the corrected event, whole, as a JSON object; the header: "
                                           "top-level fields replaced whole"),
        sets: list[str] = typer.Option([], "--set", help="案件信息的字段=值，可用中文（当事人.名称=某公司，程序=普通程序，"
                                       "执法人员.R1.法律职业资格=否；值为空即删除该字段）/ a header field=value, Chinese "
                                       "words too (party.name=…, procedure=ordinary, officers.R1.legal_qualification=no; "
                                       "an empty value removes the field)"),
        reason: str = typer.Option(..., "--reason", help="理由（记入变更记录）/ why (kept in the change log)"),
        agency: Optional[str] = typer.Option(None, "--agency", help="执法机关代码（案件编号重复时）/ the agency code "
                                             "(when the case id is used by several)"),
        db: Optional[str] = typer.Option(None, "--db", help="案件库 / the store"),
        by: Optional[str] = typer.Option(None, "--by", help="更正人（本案执法人员）/ the correcting officer (an officer "
                                         "of the case)"),
    ) -> None:
        """更正已存环节或案件信息：记录一个注明所更正对象（环节 #N 或案件信息 #0）、署名并说明理由的更正，原记录保留；
        在办案件的更正先经规则判断 / correct a stored event or the case header: an attributed, reasoned correction
        naming what it corrects (event #N, or the header #0) is appended; the original stays stored. A header
        correction on a live case is judged by the guard first."""
        from .cli import _actor, _json_object
        from .store import Store

        extra = _json_object(data) if data is not None else None
        if target.strip() in HEADER_WORDS:
            _correct_header(case_id, extra, sets, reason, agency, db, _actor(by))
            return
        if not target.strip().lstrip("#").isdigit():
            raise typer.BadParameter(f"{target!r}: 写环节序号（如 3）或“案卷”/ write an event number (e.g. 3) or 案卷 "
                                     f"(header)", param_hint="TARGET")
        if sets:
            raise typer.BadParameter("--set 只用于更正案件信息；更正环节请用 --json 给出完整环节 / --set is for the header; "
                                     "give a corrected event whole with --json", param_hint="--set")
        if extra is None:
            raise typer.BadParameter("请用 --json 给出更正后的完整环节 / give the corrected event with --json",
                                     param_hint="--json")
        from .cases import correct

        seq = int(target.strip().lstrip("#"))
        done = correct(Store.open(db, create=False), case_id, seq, extra, actor=_actor(by), reason=reason,
                       agency=agency)
        Console().print(f"已更正 / corrected: {case_id} #{seq} by #{done.seq} → {done.state}")


HEADER_WORDS = {"案卷", "案件信息", "案件", "卷首", "header", "#0", "0"}


def _correct_header(case_id: str, extra: Any, sets: list[str], reason: str, agency: Optional[str],
                    db: Optional[str], actor: str) -> None:
    from .header_fix import HeaderFieldError, correct_header, header_edit
    from .store import Store

    if not sets and extra is None:
        raise typer.BadParameter("请用 --set 字段=值 或 --json 给出更正 / give the correction with --set field=value "
                                 "or --json", param_hint="--set")
    try:
        edit = header_edit(sets, extra)
        done = correct_header(Store.open(db, create=False), case_id, edit, actor=actor, reason=reason,
                              agency=agency)
    except HeaderFieldError as exc:
        raise typer.BadParameter(str(exc), param_hint="--set") from None
    console = Console()
    console.print(f"已更正案件信息 / header corrected: {escape(done.case_id)} by #{done.seq} → {done.state}")
    for line in done.changes:
        console.print(f"  {escape(line)}", soft_wrap=True)


def keep_run(store: Any, save: Any, lang: Optional[str]) -> Optional[str]:
    """Keep a run in the store; when the store cannot be written (read-only file, read-only role), say so
    instead of losing the report: returns the note for the report (None when kept)."""
    from sqlalchemy.exc import DBAPIError

    try:
        with store.writing() as session:
            save(session)
    except (DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        note = (f"本次评查未保存到案件库（{reason}）；报告照常输出" if lang == "zh" else
                f"this run was not kept in the store ({reason}); the report is written all the same")
        Console(stderr=True).print(f"[yellow]![/yellow] {escape(note)}", soft_wrap=True)
        return note
    return None
