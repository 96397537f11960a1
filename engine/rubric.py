"""The review's scoring rubric as data (``rules/rubrics/<name>.yaml``), and a file scored with it.

A rubric says what a file starts with (``base``), the grades, and for each rule (else the catalogue's
deduction and veto): the points it deducts, whether once per rule and file (``per: item``, 每项) or per
finding (``per: instance``, 每处), a range the reviewer may pick within (with a reason), and the kind of veto:
``fail`` (不合格 whatever the score), ``zero`` (the file scores 0) or ``minus_100`` (100 points off). A
section (a review category) may have its own points: its deductions stop there (扣完为止，不计负分).

A reviewer's **adjustment** sets one rule's deduction on one file (within the rubric's range, or between 0
and the default), with a reason and who; a **waiver** accepts a finding for a documented reason until a
date: the finding stays in the report as 已豁免 and deducts nothing, and deducts again once the waiver has
expired (the review's as-of date is past it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from .definitions import read_yaml, rules_path
from .errors import CasecheckError, DefinitionError
from .rulebook import CATEGORIES

__all__ = ["Rubric", "RubricItem", "Adjustment", "Waiver", "Scored", "load_rubric", "score_findings", "VETO_KINDS"]

VETO_KINDS = ("fail", "zero", "minus_100")
PER = ("item", "instance")


@dataclass(frozen=True)
class RubricItem:
    deduct: int | None = None
    per: str | None = None
    range: tuple[int, int] | None = None
    veto: str | None = None


@dataclass(frozen=True)
class Rubric:
    name: str
    title: str
    source: str
    verified: bool
    base: int
    per: str
    veto: str
    grades: tuple[tuple[str, int], ...]
    sections: dict[str, int] = field(default_factory=dict)
    items: dict[str, RubricItem] = field(default_factory=dict)

    def describe(self) -> str:
        return f"评分标准 {self.name}" + ("" if self.verified else "（未核实）")


@dataclass(frozen=True)
class Adjustment:
    case_id: str
    rule_id: str
    value: int
    reason: str
    by: str
    at: str = ""


@dataclass(frozen=True)
class Waiver:
    case_id: str
    rule_id: str
    reason: str
    until: dt.date
    by: str
    at: str = ""


@dataclass
class Scored:
    score: int
    deductions: dict[str, int]
    vetoes: list[str]
    grade: str
    notes: dict[str, str]                  # rule id → 已豁免… / 调整… / 豁免已过期…
    applied: dict[str, int]                # rule id → points it deducted


def _int(source: str, key: str, value: Any, lo: int = 0, hi: int = 100) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise DefinitionError(source, key, f"a whole number {lo}–{hi}, not {value!r}")
    return value


def load_rubric(name_or_path: str | Path = "tianjin") -> Rubric:
    path = Path(name_or_path)
    if not path.suffix:
        path = rules_path("rubrics", f"{name_or_path}.yaml")
    if not path.exists():
        raise CasecheckError(f"--rubric {name_or_path}: 没有这个评分标准（rules/rubrics/ 下的名称或 YAML 路径）/ "
                             f"no such rubric (a name under rules/rubrics/ or a YAML path)")
    return _load(str(path))


@lru_cache(maxsize=8)
def _load(source: str) -> Rubric:
    data = read_yaml(source, "rubric", dict)
    for key in ("name", "title", "source"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise DefinitionError(source, key, "missing or not text")
    per = data.get("per", "item")
    if per not in PER:
        raise DefinitionError(source, "per", f"one of {' | '.join(PER)}")
    veto = data.get("veto", "fail")
    if veto not in VETO_KINDS:
        raise DefinitionError(source, "veto", f"one of {' | '.join(VETO_KINDS)}")
    grades = data.get("grades")
    if not isinstance(grades, dict) or not grades:
        raise DefinitionError(source, "grades", "a mapping grade: lowest score, best first")
    floors = [(str(g), _int(source, f"grades.{g}", v)) for g, v in grades.items()]
    if [f for _, f in floors] != sorted((f for _, f in floors), reverse=True) or floors[-1][1] != 0:
        raise DefinitionError(source, "grades", "best first, floors descending, the last 0")
    sections = data.get("sections") or {}
    if not isinstance(sections, dict):
        raise DefinitionError(source, "sections", "a mapping category: points")
    for cat, points in sections.items():
        if cat not in CATEGORIES:
            raise DefinitionError(source, f"sections.{cat}", f"one of {' '.join(CATEGORIES)}")
        _int(source, f"sections.{cat}", points)
    items: dict[str, RubricItem] = {}
    for rule_id, raw in (data.get("items") or {}).items():
        where = f"items.{rule_id}"
        if not isinstance(raw, dict) or set(raw) - {"deduct", "per", "range", "veto"}:
            raise DefinitionError(source, where, "a mapping with deduct, per, range, veto")
        deduct = _int(source, f"{where}.deduct", raw["deduct"]) if "deduct" in raw else None
        if raw.get("per", per) not in PER:
            raise DefinitionError(source, f"{where}.per", f"one of {' | '.join(PER)}")
        if raw.get("veto") not in (None, *VETO_KINDS):
            raise DefinitionError(source, f"{where}.veto", f"one of {' | '.join(VETO_KINDS)}")
        rng = raw.get("range")
        if rng is not None:
            if not isinstance(rng, list) or len(rng) != 2:
                raise DefinitionError(source, f"{where}.range", "[lowest, highest]")
            lo, hi = (_int(source, f"{where}.range", v) for v in rng)
            if lo > hi or (deduct is not None and not lo <= deduct <= hi):
                raise DefinitionError(source, f"{where}.range", "lowest ≤ deduct ≤ highest")
            rng = (lo, hi)
        items[str(rule_id)] = RubricItem(deduct, raw.get("per"), rng, raw.get("veto"))
    return Rubric(str(data["name"]), str(data["title"]), " ".join(str(data["source"]).split()),
                  bool(data.get("verified", False)), _int(source, "base", data.get("base", 100), 1, 1000), per, veto,
                  tuple(floors), {str(k): int(v) for k, v in sections.items()}, items)


def allowed_range(rubric: Rubric, rule_id: str, default: int) -> tuple[int, int]:
    item = rubric.items.get(rule_id)
    return item.range if item and item.range else (0, item.deduct if item and item.deduct is not None else default)


def score_findings(findings: Iterable[Any], rubric: Rubric, as_of: dt.date,
                   adjustments: dict[str, Adjustment] | None = None,
                   waivers: dict[str, Waiver] | None = None) -> Scored:
    """One file's score from its findings (``rule_id``, ``category``, ``deduction``, ``veto``), the rubric, the
    reviewer's adjustments and waivers (both keyed by rule id, for this file)."""
    adjustments, waivers = adjustments or {}, waivers or {}
    by_rule: dict[str, list[Any]] = {}
    for f in findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    deductions = {c: 0 for c in CATEGORIES}
    applied: dict[str, int] = {}
    notes: dict[str, str] = {}
    vetoes: list[tuple[str, str]] = []
    hundred: dict[str, int] = {}               # category → 100 per minus_100 veto: outside the section's cap
    for rule_id, group in sorted(by_rule.items()):
        w = waivers.get(rule_id)
        if w is not None and w.until >= as_of:
            notes[rule_id] = f"已豁免：{w.reason}（{w.by}，至 {w.until.isoformat()}）"
            applied[rule_id] = 0
            continue
        if w is not None:
            notes[rule_id] = f"豁免已于 {w.until.isoformat()} 到期（{w.reason}，{w.by}），恢复扣分"
        item = rubric.items.get(rule_id, RubricItem())
        unit = item.deduct if item.deduct is not None else max(f.deduction for f in group)
        adj = adjustments.get(rule_id)
        if adj is not None:
            unit = adj.value
            notes[rule_id] = (notes.get(rule_id, "") + "；" if rule_id in notes else "") + \
                f"扣分调整为 {adj.value}：{adj.reason}（{adj.by}）"
        count = len(group) if (item.per or rubric.per) == "instance" else 1
        points = unit * count
        applied[rule_id] = points
        deductions[group[0].category] += points
        kind = item.veto or (rubric.veto if any(f.veto for f in group) else None)
        if kind:
            vetoes.append((rule_id, kind))
            if kind == "minus_100":
                hundred[group[0].category] = hundred.get(group[0].category, 0) + 100
    for cat, cap in rubric.sections.items():
        deductions[cat] = min(deductions[cat], cap)
    for cat, points in hundred.items():
        deductions[cat] += points
    total = sum(deductions.values())
    score = max(0, rubric.base - total)
    kinds = {k for _, k in vetoes}
    if "zero" in kinds:
        score = 0
    grade = rubric.grades[-1][0] if kinds & {"fail", "zero"} else next(
        (g for g, floor in rubric.grades if score >= floor), rubric.grades[-1][0])
    return Scored(score, {k: v for k, v in deductions.items() if v}, sorted(r for r, _ in vetoes), grade, notes,
                  applied)


def check_note(rule_id: str, value: int | None, rubric_name: str = "tianjin") -> None:
    """A reviewer's note names a rule of the catalogue and, for an adjustment, a deduction within the
    rubric's range for that rule; else ``CasecheckError`` saying which and why."""
    from .errors import CasecheckError
    from .profile import load_profile
    from .rulebook import load_rulebook
    from .workflow import default_workflows

    rules = load_rulebook(load_profile("tianjin"), workflows=default_workflows()).rules
    if rule_id not in rules:
        raise CasecheckError(f"{rule_id}: 没有这条规则（casecheck rules 列出全部）/ no such rule (casecheck rules lists them)")
    if value is not None:
        lo, hi = allowed_range(load_rubric(rubric_name), rule_id, rules[rule_id].deduction)
        if not lo <= value <= hi:
            raise CasecheckError(f"{value}: 评分标准 {rubric_name} 对 {rule_id} 的扣分范围是 {lo}–{hi} / "
                                 f"the rubric {rubric_name} allows {lo}–{hi} points for {rule_id}")
