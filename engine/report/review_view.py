"""The quarterly review as rich renderables: per-case scores and grades, then the summaries."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .. import __version__
from ..review import ReviewResult
from ..rulebook import CATEGORIES
from ..vocab import label
from .text import t

GRADE_STYLE = {0: "bold green", 1: "green", 2: "yellow"}


def render_review(result: ReviewResult, lang: str) -> RenderableType:
    zh = lang == "zh"
    parts: list[RenderableType] = []
    title = (f"案卷评查 {result.quarter}（{result.start} 至 {result.end}）" if zh
             else f"Case-file review {result.quarter} ({result.start} – {result.end})")
    cases = Table(title=title + (f" · {result.agency}" if result.agency else ""), expand=True)
    cases.add_column("案卷" if zh else "case", ratio=3, overflow="fold")
    cases.add_column("程序" if zh else "procedure", no_wrap=True)
    cases.add_column("得分" if zh else "score", justify="right", no_wrap=True)
    cases.add_column("等级" if zh else "grade", no_wrap=True)
    cases.add_column("扣分" if zh else "deductions", ratio=2, overflow="fold")
    cases.add_column("否决项" if zh else "veto", ratio=3, overflow="fold")
    order = list(result.grade_names)
    for c in result.cases:
        rank = order.index(c.grade) if c.grade in order else 9
        style = "bold red" if c.vetoes or rank == len(order) - 1 else GRADE_STYLE.get(rank, "")
        cases.add_row(c.case_id, label(c.procedure, lang), str(c.score), Text(c.grade, style=style),
                      " ".join(f"{k}-{c.deductions[k]}" for k in CATEGORIES if k in c.deductions),
                      "\n".join(c.vetoes))
    parts.append(cases)
    grades = "  ".join(f"{g} {n}" for g, n in sorted(result.grades.items(), key=lambda x: -x[1]))
    parts.append(Text((f"共评查 {len(result.cases)} 件，平均 {result.average} 分；" if zh
                       else f"{len(result.cases)} files, average {result.average}; ") + grades, style="bold"))
    rules = Table(title="问题分布（按规则）" if zh else "Findings by rule")
    for col in (("规则", "rule"), ("问题数", "findings"), ("案卷数", "files")):
        rules.add_column(col[0] if zh else col[1])
    for rule_id, n, k in result.by_rule():
        rules.add_row(rule_id, str(n), str(k))
    officers = Table(title="执法人员" if zh else "By officer")
    for col in (("执法人员", "officer"), ("案卷数", "files"), ("有问题", "with findings"), ("平均分", "average")):
        officers.add_column(col[0] if zh else col[1])
    for name, n, k, avg in result.by_officer():
        officers.add_row(name, str(n), str(k), str(avg))
    domains = Table(title="执法领域" if zh else "By matter domain")
    for col in (("领域", "domain"), ("案卷数", "files"), ("问题数", "findings"), ("平均分", "average")):
        domains.add_column(col[0] if zh else col[1])
    for domain, n, k, avg in result.by_domain():
        domains.add_row(domain, str(n), str(k), str(avg))
    parts += [rules, officers, domains]
    check = result.check
    if check.all_problems or check.failures:
        parts.append(Text(("未能评查（输入错误或引擎未给出结论）：" if zh else "Not reviewed (bad input or no verdict): ")
                          + str(len(check.all_problems) + len(check.failures)), style="bold red"))
    parts.append(Text(t("stamp", lang, engine=__version__, rules=check.rules_version, calendar=check.calendar_years,
                        profile=check.profile, as_of=check.as_of), style="dim"))
    return Group(*parts)
