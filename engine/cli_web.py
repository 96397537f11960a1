"""``casecheck serve`` and ``casecheck user add|passwd|disable|list``: registered on the main CLI by
``register(app)`` (one line in ``engine/cli.py``)."""

from __future__ import annotations

import os
import sys
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

DB_HELP = "store: SQLAlchemy URL or SQLite file (default $CASECHECK_DB, else ./casecheck.db)"

user_app = typer.Typer(no_args_is_help=True, help="users of the web workspace: add, passwd, disable, list")


def serve(
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", min=0, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="server processes (all state is in the store)"),
    secure_cookies: bool = typer.Option(False, "--secure-cookies", help="mark cookies Secure (behind HTTPS)"),
) -> None:
    """The web workspace (工作台): logins, roles, agency scopes, on the store."""
    from .api.serve import serve as run
    from .store import default_url

    url = default_url(db)
    if secure_cookies:
        os.environ["CASECHECK_SECURE_COOKIES"] = "1"
    Console(stderr=True).print(f"casecheck 工作台 / workspace: http://{host}:{port}/  (API: /api/v1/docs)")
    run(url, host, port, workers, factory="engine.web.app:app_from_env")


def _password(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise typer.BadParameter("密码从管道或文件传入时请加 --password-stdin / the password comes from a pipe or a "
                                 "file: add --password-stdin", param_hint="--password-stdin")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def user_add(
    login: str = typer.Argument(...),
    name: str = typer.Option(..., "--name", help="full name (shown in the workspace)"),
    role: list[str] = typer.Option(..., "--role", help="officer | legal_reviewer | head | case_reviewer | supervisor | admin (repeat)"),
    agency: list[str] = typer.Option([], "--agency", help="agency code the user belongs to (repeat)"),
    district: Optional[str] = typer.Option(None, "--district", help="a supervisor's district (all its agencies)"),
    officer: Optional[str] = typer.Option(None, "--officer", help="the user's officer id in case files"),
    certificate: Optional[str] = typer.Option(None, "--certificate", help="the officer's certificate number (who the "
                                              "user is: a case's officer ids are that file's own codes)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin"),
    db: Optional[str] = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Add a user (the password is asked for, or read from stdin)."""
    from .store import Store
    from .users import add_user

    user = add_user(Store.open(db), login, name, _password("密码 / password", password_stdin), roles=role,
                    agencies=agency, district=district, officer_id=officer, certificate=certificate)
    Console().print(f"已添加 / added: {user.login} ({', '.join(sorted(user.roles))}; "
                    f"{', '.join(sorted(user.agencies))})")


@user_app.command("passwd")
def user_passwd(login: str = typer.Argument(...),
                password_stdin: bool = typer.Option(False, "--password-stdin"),
                db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Set a new password (the user's sessions end)."""
    from .store import Store
    from .users import set_password

    set_password(Store.open(db), login, _password("新密码 / new password", password_stdin))
    Console().print(f"已更新密码 / password set: {login}")


@user_app.command("disable")
def user_disable(login: str = typer.Argument(...), db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Disable a user: no more logins; sessions end, calendar feeds revoked."""
    from .store import Store
    from .users import disable_user

    disable_user(Store.open(db), login)
    Console().print(f"已停用 / disabled: {login}")


@user_app.command("list")
def user_list(db: Optional[str] = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """The users, their roles and scopes."""
    from .store import Store
    from .users import list_users

    table = Table()
    for heading in ("登录名 login", "姓名 name", "角色 roles", "执法主体 agencies", "辖区 district", "执法证号 certificate",
                    "执法人员 officer", "状态 status"):
        table.add_column(heading, overflow="fold")          # a narrow terminal wraps a value, never cuts it
    for row in list_users(Store.open(db)):
        table.add_row(row.login, row.name, row.roles, row.agencies or "—", row.district or "—", row.certificate or "—",
                      row.officer_id or "—", "停用 disabled" if row.disabled else "正常 active")
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
