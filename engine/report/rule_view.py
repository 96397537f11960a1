"""``casecheck rules``: the catalogue as a table, and one rule in full with examples from its fixtures.

The examples are not written twice: the rule's fixture file (``fixtures/rules/<rule-id>.yaml``) is
checked with the oracle, and the first violating and complying cases are shown with the finding the
rule produces, so the explanation can never drift from what the engine does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..rulebook import Rule, Rulebook
from ..vocab import label, severity_label

__all__ = ["catalogue_table", "rule_detail", "catalogue_data", "FIXTURES"]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"

S = {
    "title": ("规则库（{n} 条）· 配置 {profile}", "Rule catalogue ({n} rules) · profile {profile}"),
    "checks": ("检查内容", "What it checks"), "why": ("法律依据（按行为日期适用）", "Why: legal basis by date of the act"),
    "fix": ("如何整改", "How to fix"), "params": ("管辖配置参数", "Profile parameters"),
    "unverified": ("（未经核实的默认值）", "(unverified default)"),
    "violating": ("违反示例", "Violating example"), "complying": ("合规示例", "Complying example"),
    "finding": ("检查结论", "Finding"), "no_fixture": ("未随附示例案卷", "no fixture shipped"),
    "in_force": ("至今", "in force"), "meta": ("性质 {sev} · 类别 {cat} · 扣分 {ded}{veto}{blocks}",
                                              "severity {sev} · category {cat} · deduction {ded}{veto}{blocks}"),
    "veto": (" · 否决项", " · veto"), "blocks": (" · 阻止“{step}”", " · blocks “{step}”"),
}


def _s(key: str, lang: str, **kw: Any) -> str:
    zh, en = S[key]
    return (zh if lang == "zh" else en).format(**kw)


def _dates(rule: Rule, lang: str) -> str:
    end = rule.effective_to.isoformat() if rule.effective_to else _s("in_force", lang)
    return f"{rule.effective_from} – {end}"


def catalogue_data(book: Rulebook, lang: str) -> list[dict[str, Any]]:
    return [{"id": r.id, "title": r.title[lang], "severity": r.severity, "category": r.category,
             "deduction": r.deduction, "veto": r.veto, "blocks": r.blocks, "fact": r.fact,
             "effective_from": r.effective_from.isoformat(),
             "effective_to": r.effective_to.isoformat() if r.effective_to else None,
             "params": list(r.params),
             "versions": [{"from": v.effective_from.isoformat(),
                           "to": v.effective_to.isoformat() if v.effective_to else None,
                           "severity": v.severity, "basis": v.basis_text()} for v in r.versions]}
            for r in book.rules.values()]


def catalogue_table(book: Rulebook, lang: str) -> Table:
    zh = lang == "zh"
    table = Table(title=_s("title", lang, n=len(book.rules), profile=book.profile.name), expand=True,
                  show_lines=True)
    table.add_column("id", no_wrap=True)
    table.add_column("规则" if zh else "title", overflow="fold")
    table.add_column("性质" if zh else "severity", no_wrap=True)
    table.add_column("法律依据" if zh else "basis", overflow="fold", ratio=2)
    table.add_column("施行" if zh else "effective", overflow="fold")
    for rule in book.rules.values():
        current = rule.versions[-1]
        table.add_row(rule.id, rule.title[lang], severity_label(rule.severity, lang), current.basis_text(),
                      _dates(rule, lang))
    return table


def _example(book: Rulebook, rule: Rule, violating: bool, lang: str) -> RenderableType | None:
    path = FIXTURES / (rule.id.replace(".", "-") + ".yaml")
    if not path.exists():
        return None
    from ..calendar import default_calendar
    from ..check import Checker
    from ..exemptions import PartyHistory
    from ..loader import load_paths
    from ..workflow import default_workflows

    import yaml

    loaded = load_paths([path])
    expected_file = FIXTURES / "expected.yaml"
    as_of = dt.date.fromisoformat(str(yaml.safe_load(expected_file.read_text(encoding="utf-8"))["as_of"]))
    word = "违反" if violating else "合规"
    wanted = [c for c in loaded.cases if word in c.case.case_id]
    if not wanted:
        return None
    checker = Checker(book, default_calendar(), default_workflows(), as_of, engine="oracle", lang=lang,
                      history=PartyHistory(c.case for c in loaded.cases))
    for result in checker.check(wanted):
        mine = [f for f in result.findings if f.rule_id == rule.id]
        if bool(mine) != violating:
            continue
        case = result.loaded.case
        shown = sorted({i for f in mine for i in f.events}) if mine else []
        if not shown:              # complying: the events of the kind the rule is about
            types = _TYPES.get(rule.fact, set())
            shown = [i for i, e in enumerate(case.events) if e.type in types] or list(range(len(case.events)))
        lines = Text()
        lines.append(f"{case.case_id}  ({case.procedure and label(case.procedure, lang)})\n", style="bold")
        for i in shown:
            e = case.events[i]
            lines.append(f"  {e.date}  {label(e.type, lang)}\n")
        if mine:
            lines.append(f"  → {mine[0].message}\n", style="red" if mine[0].severity == "error" else "yellow")
        lines.rstrip()
        return lines
    return None


_TYPES = {"decision": {"notified", "legal_review", "decided", "collective_discussion", "rights_waived",
                       "hearing_held"},
          "publicity": {"decided", "inspected", "revoked", "publicized", "publicity_withdrawn"},
          "act": {"inspected", "inquired", "evidence_preserved", "seized", "served", "decided"},
          "officer_act": {"inspected", "inquired", "decided"}, "document": {"registered", "inquired", "closed"},
          "deadline": {"registered", "decided", "served", "filed", "evidence_preserved", "evidence_handled"},
          "hearing": {"hearing_noticed", "hearing_held"}, "limitation": {"discovered", "registered"},
          "payment": {"decided", "paid"}, "closing": {"decided", "paid", "enforced", "closed"},
          "first_offence": {"inspected", "decided", "educated"}, "step": set()}


def rule_detail(book: Rulebook, rule: Rule, lang: str) -> RenderableType:
    parts: list[RenderableType] = []
    head = Text()
    head.append(f"{rule.id}  ", style="bold")
    head.append(rule.title[lang] + "\n", style="bold")
    head.append(_s("meta", lang, sev=severity_label(rule.severity, lang), cat=rule.category, ded=rule.deduction,
                   veto=_s("veto", lang) if rule.veto else "",
                   blocks=_s("blocks", lang, step=label(rule.blocks, lang)) if rule.blocks else ""))
    parts.append(head)
    parts.append(Text(f"\n{_s('checks', lang)}", style="bold"))
    parts.append(Text(rule.checks[lang]))
    parts.append(Text(f"\n{_s('why', lang)}", style="bold"))
    for v in rule.versions:
        end = v.effective_to.isoformat() if v.effective_to else _s("in_force", lang)
        parts.append(Text(f"  {v.effective_from} – {end}  [{severity_label(v.severity, lang)}]  {v.basis_text()}"))
    if rule.params:
        parts.append(Text(f"\n{_s('params', lang)}", style="bold"))
        profile = book.profile
        for name in rule.params:
            value = profile[name]
            flag = f" {_s('unverified', lang)}" if name in profile.unverified else ""
            parts.append(Text(f"  {name} = {_param_text(name, value)}{flag}\n    {profile.sources[name]}"))
    for violating in (True, False):
        parts.append(Text(f"\n{_s('violating' if violating else 'complying', lang)}", style="bold"))
        example = _example(book, rule, violating, lang)
        parts.append(example if example is not None else Text(_s("no_fixture", lang)))
    parts.append(Text(f"{_s('fix', lang)}", style="bold"))
    parts.append(Text(rule.fix[lang]))
    return Group(*parts)


def _param_text(name: str, value: Any) -> str:
    from ..profile import PARAM_TYPES

    if PARAM_TYPES[name][0] == "money":
        return f"{value / 100:,.2f} 元"
    if isinstance(value, tuple):
        return ", ".join(v if isinstance(v, str) else f"{v[0]} ≥ {v[1]}" for v in value)
    return str(value).lower() if isinstance(value, bool) else str(value)
