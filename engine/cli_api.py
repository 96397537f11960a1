"""Commands of the HTTP API: ``casecheck api-client add|list|revoke`` (platform clients and their tokens)
and ``casecheck decisions export|replay`` (the decision log). Thin edges over ``engine.api_clients`` and
``engine.decisions``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

DB_HELP = "store: SQLAlchemy URL or SQLite file (default $CASECHECK_DB, else ./casecheck.db)"

client_app = typer.Typer(no_args_is_help=True, help="HTTP API clients (platforms) and their tokens")
decisions_app = typer.Typer(no_args_is_help=True, help="the HTTP API's decision log: export, replay")
api_app = typer.Typer(no_args_is_help=True, help="the HTTP API (/api/v1) served alone")


@api_app.command("serve")
def api_serve(
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=0, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="server processes (one store: they act as one)"),
    log_level: str = typer.Option("info", "--log-level", help="critical | error | warning | info | debug"),
) -> None:
    """Serve /api/v1 (OpenAPI at /api/v1/openapi.json, interactive page at /api/v1/docs). Inputs of decisions
    are kept for replay unless CASECHECK_KEEP_INPUTS=0."""
    from .api.serve import serve

    serve(db, host, port, workers, log_level)


def _when(value: Optional[str], option: str) -> Optional[dt.datetime]:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r}: write YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)", param_hint=option) from None
    return parsed.astimezone(dt.timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


@client_app.command("add")
def client_add(
    name: str = typer.Argument(..., help="the client's name (the platform), e.g. supervision-platform"),
    agency: list[str] = typer.Option(..., "--agency", help="an agency code the client may reach (repeat)"),
    write: bool = typer.Option(False, "--write", help="may store cases and record steps (default read only)"),
    days: Optional[int] = typer.Option(365, "--days", min=1, max=3660, help="valid for N days (default 365)"),
    expires: Optional[str] = typer.Option(None, "--expires", help="valid until this day or time (UTC), instead of --days"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
    by: Optional[str] = typer.Option(None, "--by", help="the admin creating it (default $CASECHECK_USER or the login)"),
) -> None:
    """Create a client and print its token ONCE (only its hash is kept)."""
    from .api_clients import create_client
    from .cli import _actor
    from .store import Store

    until = _when(expires, "--expires") if expires else (
        dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=days or 365))
    row, token = create_client(Store.open(db), name, agency, write=write, expires=until, by=_actor(by))
    Console(stderr=True).print(f"已建立客户端 / client created: {row.name}（{'读写 read-write' if row.can_write else '只读 read-only'}，"
                               f"{', '.join(json.loads(row.agencies))}，有效至 / expires {row.expires_at:%Y-%m-%d %H:%M} UTC）\n"
                               f"令牌只显示这一次，请妥善保存 / the token is shown this once only:")
    sys.stdout.write(token + "\n")


@client_app.command("list")
def client_list(db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """The clients: scope, access, expiry, revocation (never their tokens)."""
    from .api_clients import list_clients
    from .store import Store

    table = Table("名称 name", "令牌 token", "机关 agencies", "权限 access", "有效至 expires", "撤销 revoked", "建立 created")
    for row in list_clients(Store.open(db)):
        table.add_row(row.name, row.prefix + "…", ", ".join(json.loads(row.agencies)),
                      "read-write" if row.can_write else "read",
                      f"{row.expires_at:%Y-%m-%d %H:%M}" if row.expires_at else "—",
                      f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "—",
                      f"{row.created_at:%Y-%m-%d} {row.created_by}")
    Console().print(table)


@client_app.command("revoke")
def client_revoke(name: str = typer.Argument(...), db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Revoke a client's token: refused from the next request on, by every server process."""
    from .api_clients import revoke_client
    from .store import Store

    row = revoke_client(Store.open(db), name)
    Console().print(f"已撤销 / revoked: {row.name}（{row.revoked_at:%Y-%m-%d %H:%M} UTC）")


@decisions_app.command("export")
def decisions_export(
    since: Optional[str] = typer.Option(None, "--since", help="from this day or time (UTC) on"),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="write to this file (default stdout)"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """The decision log as JSON Lines, oldest first (digests, not the inputs)."""
    from .decisions import export
    from .store import Store

    out = open(output, "w", encoding="utf-8") if output else sys.stdout
    try:
        for record in export(Store.open(db), _when(since, "--since")):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if output:
            out.close()


@decisions_app.command("replay")
def decisions_replay(
    decision_id: str = typer.Argument(..., help="a decision id (from an API answer or the export)"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
    fmt: str = typer.Option("table", "--format", help="table | json"),
) -> None:
    """Judge a logged input again with today's engine; exit 0 when it agrees, 1 when it does not."""
    from .decisions import replay
    from .store import Store

    done = replay(Store.open(db), decision_id)
    if fmt == "json":
        sys.stdout.write(json.dumps({"decision": done.record, "today": {
            "outcome": done.outcome, "rule_ids": done.rule_ids, "engine_version": done.engine_version,
            "rules_version": done.rules_version, "calendar_years": done.calendar_years},
            "agrees": done.agrees, "input_digest_matches": done.digest_matches, "note": done.note},
            ensure_ascii=False, indent=2) + "\n")
    else:
        rec = done.record
        console = Console()
        console.print(f"决定 / decision {rec['id']}  {rec['at']}  {rec['kind']}  {rec['case_id'] or '—'}  "
                      f"{rec['client']} / {rec['officer'] or '—'}")
        console.print(f"  当时 / then : {rec['outcome']} {', '.join(rec['rule_ids']) or '—'}  "
                      f"(engine {rec['engine_version']}, rules {rec['rules_version'][:12]}, calendar {rec['calendar_years']})")
        console.print(f"  今天 / today: {done.outcome} {', '.join(done.rule_ids) or '—'}  "
                      f"(engine {done.engine_version}, rules {done.rules_version[:12]}, calendar {done.calendar_years})")
        if not done.digest_matches:
            console.print("[red]  保存的输入与摘要不符 / the kept input does not match its SHA-256[/red]")
        console.print("[green]  一致 / agrees[/green]" if done.agrees else "[red]  不一致 / disagrees[/red]")
        if done.note:
            console.print(f"  注 / note: {done.note}")
    raise typer.Exit(0 if done.agrees and done.digest_matches else 1)
