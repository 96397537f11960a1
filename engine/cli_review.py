"""``casecheck adjust`` and ``casecheck waive``: a reviewer's decisions on one finding, kept in the store.

    casecheck adjust CASE RULE --value 3 --reason "…" [--by 张三] --db store.db
    casecheck waive  CASE RULE --reason "法院裁定暂缓公示" --until 2025-03-31 [--by 张三] --db store.db

The next ``casecheck review --db`` scores with them and shows them: an adjusted deduction with its reason and
who; a waived finding as 已豁免 (who, why, until when), deducting nothing until it expires.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

import typer

from .errors import CasecheckError


def adjust(
    case_id: str = typer.Argument(..., help="案卷 (case id)"),
    rule_id: str = typer.Argument(..., help="rule id, e.g. publicity.penalty_within_7_workdays"),
    value: int = typer.Option(..., "--value", min=0, max=100, help="the deduction the reviewer picks"),
    reason: str = typer.Option(..., "--reason", help="why (shown in the reports)"),
    by: Optional[str] = typer.Option(None, "--by", help="who (default $CASECHECK_USER or the login name)"),
    rubric: str = typer.Option("tianjin", "--rubric", help="the rubric whose range the value must lie in"),
    db: Optional[str] = typer.Option(None, "--db", help="the store"),
) -> None:
    """A reviewer's adjustment of one finding's deduction (评查扣分调整), kept with the reviews."""
    from .cli import _actor
    from .store import Store
    from .rubric import check_note
    from .store.review_notes import add_note

    if not reason.strip():
        raise CasecheckError("--reason: 请写明调整理由 / give the reason")
    check_note(rule_id, value, rubric)
    add_note(Store.open(db), case_id=case_id, rule_id=rule_id, kind="adjust", value=value, reason=reason.strip(),
             by=_actor(by))
    typer.echo(f"已记录：{case_id} {rule_id} 扣分调整为 {value}（{reason.strip()}）")


def waive(
    case_id: str = typer.Argument(..., help="案卷 (case id)"),
    rule_id: str = typer.Argument(..., help="rule id"),
    reason: str = typer.Option(..., "--reason", help="the documented reason, e.g. a court order"),
    until: str = typer.Option(..., "--until", help="YYYY-MM-DD: the last day the waiver holds"),
    by: Optional[str] = typer.Option(None, "--by", help="who (default $CASECHECK_USER or the login name)"),
    db: Optional[str] = typer.Option(None, "--db", help="the store"),
) -> None:
    """A waiver (豁免) of one finding until a date: shown as 已豁免, deducts nothing until it expires."""
    from .cli import _actor
    from .store import Store
    from .rubric import check_note
    from .store.review_notes import add_note

    try:
        day = dt.date.fromisoformat(until)
    except ValueError:
        raise typer.BadParameter(f"{until!r} is not a date YYYY-MM-DD", param_hint="--until") from None
    if not reason.strip():
        raise CasecheckError("--reason: 请写明豁免理由 / give the reason")
    check_note(rule_id, None)
    add_note(Store.open(db), case_id=case_id, rule_id=rule_id, kind="waive", until=day, reason=reason.strip(),
             by=_actor(by))
    typer.echo(f"已记录：{case_id} {rule_id} 豁免至 {day}（{reason.strip()}）")


def register(app: typer.Typer) -> None:
    app.command()(adjust)
    app.command()(waive)
