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


def _check_rule(rule_id: str, value: int | None, rubric_name: str) -> None:
    from .profile import load_profile
    from .rubric import allowed_range, load_rubric
    from .rulebook import load_rulebook
    from .workflow import default_workflows

    rules = load_rulebook(load_profile("tianjin"), workflows=default_workflows()).rules
    if rule_id not in rules:
        raise CasecheckError(f"{rule_id}: 没有这条规则（casecheck rules 列出全部）/ no such rule (casecheck rules lists them)")
    if value is not None:
        lo, hi = allowed_range(load_rubric(rubric_name), rule_id, rules[rule_id].deduction)
        if not lo <= value <= hi:
            raise CasecheckError(f"--value {value}: 评分标准 {rubric_name} 对 {rule_id} 的扣分范围是 {lo}–{hi} / "
                                 f"the rubric {rubric_name} allows {lo}–{hi} points for {rule_id}")


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
    from .store.review_notes import add_note

    if not reason.strip():
        raise CasecheckError("--reason: 请写明调整理由 / give the reason")
    _check_rule(rule_id, value, rubric)
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
    from .store.review_notes import add_note

    try:
        day = dt.date.fromisoformat(until)
    except ValueError:
        raise typer.BadParameter(f"{until!r} is not a date YYYY-MM-DD", param_hint="--until") from None
    if not reason.strip():
        raise CasecheckError("--reason: 请写明豁免理由 / give the reason")
    _check_rule(rule_id, None, "tianjin")
    add_note(Store.open(db), case_id=case_id, rule_id=rule_id, kind="waive", until=day, reason=reason.strip(),
             by=_actor(by))
    typer.echo(f"已记录：{case_id} {rule_id} 豁免至 {day}（{reason.strip()}）")


def register(app: typer.Typer) -> None:
    app.command()(adjust)
    app.command()(waive)
