"""Rules as data (``rules/catalogue/*.yaml``): loading, load-time checks, compilation, and the oracle.

A rule file is a YAML list of rules. A rule::

    id: legal_review.required_before_decision        # stable: area.what
    title: {zh: …, en: …}
    severity: error                                  # error | warning | info
    category: 程序                                   # review-score category (主体 事实证据 适用法律 程序 文书 归档)
    deduction: 30                                    # points off the 案卷评查 score
    veto: true                                       # 否决项: fails the file whatever its score
    blocks: decided                                  # the live step it refuses (optional)
    fact: decision                                   # the fact kind it looks at (engine/facts/kinds.py)
    checks: {zh: …, en: …}                           # what it checks, in plain words
    severity_by: {by: event_type, cases: {seized: error}}   # optional: severity by a fact code
    uses: [statement_period_days]                    # optional: profile parameters its facts depend on
    versions:                                        # the law as it stood, chosen by the fact's act_day
      - from: 2021-07-15                             # inclusive; `to:` inclusive, omitted = still in force
        basis: [{law: 中华人民共和国行政处罚法, version: 2021修订, article: 第五十八条}]
        when: [[review_required, ==, true], [review_approved_before, ==, false]]
        # or when_any: [[…conjunction…], […]]  — alternatives (OR of flat ANDs)
    message: {zh: "…{decision_date}…", en: "…"}      # placeholders: fields of the fact
    fix: {zh: …, en: …}

Conditions are flat by construction: a conjunction of ``[field, op, value]`` comparisons of one fact's
field with a constant (or ``{param: name}`` from the jurisdiction profile; a date constant for a
``*_day`` field is compared as its day number). At load time each field
is checked to exist on the fact kind, the constant's type to equal the field's type exactly (``true``
is not ``1``), ordering operators to be used on numbers only, message placeholders to be fact fields,
and each compiled pattern to stay within durable-rules' 32-expression limit.

``Rulebook.evaluate`` is the oracle: a plain-Python interpreter of the compiled conditions, written
independently of the durable-rules path (``engine.durable``) so the two can be compared.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import operator
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence


from .definitions import parse_date, read_yaml, rules_path, text_pair
from .errors import DefinitionError
from .facts import FACT_KINDS, Fact, condition_fields
from .profile import Profile

__all__ = ["Rule", "RuleVersion", "Alternative", "Rulebook", "load_rulebook", "OPS", "MAX_EXPRESSIONS"]

OPS: dict[str, Any] = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
                       ">": operator.gt, ">=": operator.ge}
ORDERING = {"<", "<=", ">", ">="}
SEVERITIES = ("error", "warning", "info")
CATEGORIES = ("主体", "事实证据", "适用法律", "程序", "文书", "归档")
MAX_EXPRESSIONS = 32          # durable-rules: ERR_EXPRESSION_LIMIT_EXCEEDED past 32 per pattern
FAR_FUTURE = dt.date(9999, 12, 31)
_NO_KEY = object()
_EMPTY: list = []
_Check = tuple[str, int, int, Any, Any, tuple[tuple[Any, Any, Any], ...]]


def _compile(rule_id: str, conditions: Sequence[tuple[str, str, Any]], indexed: str | None,
             indexed_value: Any) -> _Check:
    """An alternative's conditions as (rule id, getter of the == fields, their values, other comparisons).
    The equality the index lookup decided (``indexed == indexed_value``) is not tested again."""
    conditions = list(conditions)
    if indexed_value is not _NO_KEY:
        conditions.remove((indexed, "==", indexed_value))
    low, high = -(2 ** 63), 2 ** 63             # the version's effective days, tested inline
    for cond in list(conditions):
        name, op, value = cond
        if name == "act_day" and op in (">=", "<=") and type(value) is int:
            low, high = (max(low, value), high) if op == ">=" else (low, min(high, value))
            conditions.remove(cond)
    equal = [(n, v) for n, op, v in conditions if op == "=="]
    others = tuple((operator.attrgetter(n), OPS[op], v) for n, op, v in conditions if op != "==")
    if not equal:
        return rule_id, low, high, None, None, others
    names = [n for n, _ in equal]
    values = tuple(v for _, v in equal)
    getter = operator.attrgetter(*names)
    return rule_id, low, high, getter, (values[0] if len(values) == 1 else values), others


@dataclass(frozen=True)
class Basis:
    law: str
    version: str
    article: str

    def text(self) -> str:
        law = self.law if self.law.startswith(("《", "国办", "国发", "津", "司法部", "深府")) else f"《{self.law}》"
        version = f"（{self.version}）" if self.version else ""
        return f"{law}{version}{self.article}"


@dataclass(frozen=True)
class Alternative:
    """One flat conjunction, compiled: the unit both engines evaluate."""

    rule_id: str
    version: int
    index: int
    kind: str
    day_from: int
    day_to: int
    conditions: tuple[tuple[str, str, Any], ...]

    @property
    def name(self) -> str:
        return f"{self.rule_id}|{self.version}|{self.index}"

    def all_conditions(self) -> tuple[tuple[str, str, Any], ...]:
        """The act-day window first, then the rule's own comparisons."""
        return (("act_day", ">=", self.day_from), ("act_day", "<=", self.day_to)) + self.conditions


@dataclass(frozen=True)
class RuleVersion:
    effective_from: dt.date
    effective_to: dt.date | None
    basis: tuple[Basis, ...]
    severity: str

    def basis_text(self) -> str:
        return "；".join(b.text() for b in self.basis)


@dataclass(frozen=True)
class Rule:
    id: str
    title: dict[str, str]
    severity: str
    category: str
    deduction: int
    veto: bool
    blocks: str | None
    fact: str
    regions: tuple[str, ...]
    versions: tuple[RuleVersion, ...]
    message: dict[str, str]
    fix: dict[str, str]
    source: str
    checks: dict[str, str] = dataclasses.field(default_factory=dict)
    message_by: str | None = None                       # fact field choosing a variant
    message_cases: tuple[tuple[str, dict[str, str]], ...] = ()
    severity_by: str | None = None                      # fact field choosing the severity
    severity_cases: tuple[tuple[str, str], ...] = ()
    params: tuple[str, ...] = ()                        # profile parameters its conditions use

    def severity_for(self, fact: Fact, version: "RuleVersion") -> str:
        if self.severity_by:
            value = getattr(fact, self.severity_by)
            for key, severity in self.severity_cases:
                if key == value:
                    return severity
        return version.severity

    def message_for(self, fact: Fact, lang: str) -> str:
        """The template for this fact: the variant named by ``message_by``'s value, else the default."""
        if self.message_by:
            value = getattr(fact, self.message_by)
            for key, texts in self.message_cases:
                if key == value:
                    return texts[lang]
        return self.message[lang]

    @property
    def effective_from(self) -> dt.date:
        return min(v.effective_from for v in self.versions)

    @property
    def effective_to(self) -> dt.date | None:
        ends = [v.effective_to for v in self.versions]
        return None if any(e is None for e in ends) else max(e for e in ends if e)


class Rulebook:
    """The loaded catalogue for one profile: rules, their compiled alternatives, and the oracle."""

    def __init__(self, rules: Sequence[Rule], alternatives: Sequence[Alternative], profile: Profile,
                 version: str):
        self.rules = {r.id: r for r in rules}
        self.alternatives = tuple(alternatives)
        self.profile = profile
        self.version = version
        # the oracle's plan, built once per kind: alternatives indexed by the value one text field must
        # equal (the field most alternatives of the kind test with ==), plus those that test no such
        # value. Each alternative becomes (rule id, getter of its == fields, their values, the other
        # comparisons): one C-level attribute fetch and one tuple comparison for all its equalities.
        self._plan: dict[str, tuple[str | None, dict[Any, list[_Check]], list[_Check]]] = {}
        fields: dict[str, set[str]] = {}
        by_kind: dict[str, list[Alternative]] = {}
        for alt in self.alternatives:
            by_kind.setdefault(alt.kind, []).append(alt)
            fields.setdefault(alt.kind, set()).update(name for name, _, _ in alt.all_conditions())
        for kind, alts in by_kind.items():
            counts: dict[str, int] = {}
            for alt in alts:
                for name in {n for n, op, v in alt.conditions if op == "==" and isinstance(v, str)}:
                    counts[name] = counts.get(name, 0) + 1
            key = max(sorted(counts), key=counts.__getitem__) if counts else None
            index: dict[Any, list[_Check]] = {}
            rest: list[_Check] = []
            for alt in alts:
                conds = alt.all_conditions()
                value = next((v for n, op, v in conds if n == key and op == "=="), _NO_KEY)
                (rest if value is _NO_KEY else index.setdefault(value, [])).append(
                    _compile(alt.rule_id, conds, key, value))
            self._plan[kind] = (key, index, rest)
        self.fields_by_kind: dict[str, tuple[str, ...]] = {k: tuple(sorted(v)) for k, v in fields.items()}

    def evaluate(self, facts: Iterable[Fact]) -> set[tuple[str, str]]:
        """Oracle: the ``(rule_id, fact key)`` pairs whose conditions hold, in plain Python."""
        hits: set[tuple[str, str]] = set()
        for fact in facts:
            plan = self._plan.get(fact.KIND)
            if plan is None:
                continue
            key, index, rest = plan
            if key is None:
                candidates = rest
            else:
                candidates = index.get(getattr(fact, key), _EMPTY)
                if rest:
                    candidates = candidates + rest
            day = fact.act_day
            for rule_id, low, high, equal_get, equal_values, others in candidates:
                if not low <= day <= high:
                    continue
                if equal_get is not None and equal_get(fact) != equal_values:
                    continue
                for get, op, value in others:
                    if not op(get(fact), value):
                        break
                else:
                    hits.add((rule_id, fact.key))
        return hits

    def version_for(self, rule_id: str, act_day: int) -> int:
        rule = self.rules[rule_id]
        day = dt.date.fromordinal(act_day)
        for i, v in enumerate(rule.versions):
            if v.effective_from <= day <= (v.effective_to or FAR_FUTURE):
                return i
        raise LookupError(f"{rule_id} has no version in force on {day}")


# ---------------------------------------------------------------------------------------------- loading


def _placeholders(template: str, source: str, key: str) -> set[str]:
    names = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise DefinitionError(source, key, f"bad template: {exc}") from None
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            raise DefinitionError(source, key, f"placeholder {{{name}}} must be a plain field name")
        names.add(name)
    return names


def _condition(raw: Any, kind: str, profile: Profile, source: str, key: str,
               used: dict[str, None]) -> tuple[str, str, Any]:
    """One checked comparison; a ``{param: name}`` constant is resolved from the profile and noted in ``used``."""
    if not isinstance(raw, list) or len(raw) != 3:
        raise DefinitionError(source, key, "a condition is [field, op, value]")
    name, op, value = raw
    fields = condition_fields(kind)
    if name not in fields:
        raise DefinitionError(source, key, f"fact '{kind}' has no condition field {name!r}; "
                                           f"it has: {', '.join(sorted(fields))}")
    if op not in OPS:
        raise DefinitionError(source, key, f"operator {op!r} is not one of {' '.join(OPS)}")
    if isinstance(value, dict):
        if set(value) != {"param"}:
            raise DefinitionError(source, key, "a value mapping must be {param: name}")
        pname = value["param"]
        if pname not in profile.params:
            raise DefinitionError(source, key, f"profile {profile.name} has no parameter {pname!r}")
        value = profile.params[pname]
        used[pname] = None
    expected = fields[name]
    if isinstance(value, dt.date) and expected is int and name.endswith("_day"):
        value = value.toordinal()
    if type(value) is not expected:
        raise DefinitionError(source, key, f"{name} is {expected.__name__}; {value!r} is {type(value).__name__}")
    if op in ORDERING and expected is not int:
        raise DefinitionError(source, key, f"{op} compares numbers only; {name} is {expected.__name__}")
    if expected is int and not -(2 ** 53) < value < 2 ** 53:
        raise DefinitionError(source, key, f"{value} is outside the exact integer range")
    return name, op, value


def _rule(raw: Any, profile: Profile, source: str, pos: int) -> tuple[Rule, list[Alternative]]:
    where = f"rules[{pos}]"
    if not isinstance(raw, dict):
        raise DefinitionError(source, where, "a rule is a mapping")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or "." not in rule_id:
        raise DefinitionError(source, where + ".id", "a rule id looks like area.what")
    where = rule_id
    known = {"id", "title", "checks", "severity", "category", "deduction", "veto", "blocks", "fact", "regions",
             "versions", "message", "fix", "severity_by", "uses"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise DefinitionError(source, f"{where}.{unknown[0]}", "unknown key")
    severity = raw.get("severity")
    if severity not in SEVERITIES:
        raise DefinitionError(source, f"{where}.severity", f"one of {', '.join(SEVERITIES)}")
    category = raw.get("category")
    if category not in CATEGORIES:
        raise DefinitionError(source, f"{where}.category", f"one of {' '.join(CATEGORIES)}")
    deduction = raw.get("deduction")
    if isinstance(deduction, bool) or not isinstance(deduction, int) or not 0 <= deduction <= 100:
        raise DefinitionError(source, f"{where}.deduction", "a whole number of points 0–100")
    kind = raw.get("fact")
    if kind not in FACT_KINDS:
        raise DefinitionError(source, f"{where}.fact", f"one of {', '.join(FACT_KINDS)}")
    fields = {f.name for f in dataclasses.fields(FACT_KINDS[kind])}
    raw_message = raw.get("message")
    message_by, cases = None, []
    if isinstance(raw_message, dict) and "by" in raw_message:
        message_by = raw_message.get("by")
        text_fields = {f.name for f in dataclasses.fields(FACT_KINDS[kind]) if f.type in ("str", str)}
        if message_by not in text_fields:
            raise DefinitionError(source, f"{where}.message.by", f"not a text field of fact '{kind}'")
        if not isinstance(raw_message.get("cases"), dict):
            raise DefinitionError(source, f"{where}.message.cases", "a mapping value → {zh, en}")
        cases = [(str(k), text_pair(v, source, f"{where}.message.cases.{k}"))
                 for k, v in raw_message["cases"].items()]
        message = text_pair(raw_message.get("default"), source, f"{where}.message.default")
    else:
        message = text_pair(raw_message, source, f"{where}.message")
    for key, texts in [("", message)] + cases:
        for lang, template in texts.items():
            missing = _placeholders(template, source, f"{where}.message.{key}.{lang}") - fields
            if missing:
                raise DefinitionError(source, f"{where}.message.{key}.{lang}",
                                      f"fact '{kind}' has no field {sorted(missing)[0]!r}")
    versions: list[RuleVersion] = []
    alternatives: list[Alternative] = []
    params_used: dict[str, None] = {}
    raw_versions = raw.get("versions")
    if not isinstance(raw_versions, list) or not raw_versions:
        raise DefinitionError(source, f"{where}.versions", "at least one version with from/basis/when")
    for vi, rv in enumerate(raw_versions):
        vkey = f"{where}.versions[{vi}]"
        if not isinstance(rv, dict):
            raise DefinitionError(source, vkey, "a version is a mapping")
        extra = sorted(set(rv) - {"from", "to", "basis", "when", "when_any", "severity"})
        if extra:
            raise DefinitionError(source, f"{vkey}.{extra[0]}", "unknown key")
        start = parse_date(rv.get("from"), source, f"{vkey}.from")
        end = parse_date(rv["to"], source, f"{vkey}.to") if rv.get("to") is not None else None
        if end is not None and end < start:
            raise DefinitionError(source, f"{vkey}.to", "before 'from'")
        if versions and (versions[-1].effective_to is None or versions[-1].effective_to >= start):
            raise DefinitionError(source, f"{vkey}.from", "versions must be in date order without overlap")
        basis = []
        for bi, b in enumerate(rv.get("basis") or []):
            if not isinstance(b, dict) or not b.get("law") or not b.get("article"):
                raise DefinitionError(source, f"{vkey}.basis[{bi}]", "needs law, version, article")
            basis.append(Basis(str(b["law"]), str(b.get("version", "")), str(b["article"])))
        if not basis:
            raise DefinitionError(source, f"{vkey}.basis", "every version cites its legal basis")
        vsev = rv.get("severity", severity)
        if vsev not in SEVERITIES:
            raise DefinitionError(source, f"{vkey}.severity", f"one of {', '.join(SEVERITIES)}")
        if ("when" in rv) == ("when_any" in rv):
            raise DefinitionError(source, vkey, "give exactly one of when / when_any")
        conjunctions = [rv["when"]] if "when" in rv else rv["when_any"]
        if not isinstance(conjunctions, list) or not conjunctions:
            raise DefinitionError(source, vkey, "when_any is a list of condition lists")
        for ai, conj in enumerate(conjunctions):
            ckey = f"{vkey}.when" + ("" if "when" in rv else f"_any[{ai}]")
            if not isinstance(conj, list) or not conj:
                raise DefinitionError(source, ckey, "a non-empty list of [field, op, value]")
            conds = tuple(_condition(c, kind, profile, source, f"{ckey}[{ci}]", params_used)
                          for ci, c in enumerate(conj))
            if len(conds) + 3 > MAX_EXPRESSIONS:
                raise DefinitionError(source, ckey, f"more than {MAX_EXPRESSIONS - 3} comparisons")
            alternatives.append(Alternative(rule_id, vi, ai, kind, start.toordinal(),
                                            (end or FAR_FUTURE).toordinal(), conds))
        versions.append(RuleVersion(start, end, tuple(basis), vsev))
    regions = raw.get("regions") or []
    if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
        raise DefinitionError(source, f"{where}.regions", "a list of region names")
    blocks = raw.get("blocks")
    if blocks is not None and not isinstance(blocks, str):
        raise DefinitionError(source, f"{where}.blocks", "an event type")
    uses = raw.get("uses") or []
    if not isinstance(uses, list) or any(u not in profile.params for u in uses):
        raise DefinitionError(source, f"{where}.uses", f"a list of parameters of profile {profile.name}")
    uses = tuple(uses)
    severity_by, severity_cases = None, []
    raw_sev = raw.get("severity_by")
    if raw_sev is not None:
        text_fields = set(condition_fields(kind)) & {f.name for f in dataclasses.fields(FACT_KINDS[kind])
                                                     if f.type in ("str", str)}
        if not isinstance(raw_sev, dict) or raw_sev.get("by") not in text_fields \
                or not isinstance(raw_sev.get("cases"), dict):
            raise DefinitionError(source, f"{where}.severity_by", f"{{by: <text field of {kind}>, cases: {{code: severity}}}}")
        for code, sev in raw_sev["cases"].items():
            if sev not in SEVERITIES:
                raise DefinitionError(source, f"{where}.severity_by.cases.{code}", f"one of {', '.join(SEVERITIES)}")
            severity_cases.append((str(code), sev))
        severity_by = raw_sev["by"]
    rule = Rule(rule_id, text_pair(raw.get("title"), source, f"{where}.title"), severity, category, deduction,
                bool(raw.get("veto", False)), blocks, kind, tuple(regions), tuple(versions), message,
                text_pair(raw.get("fix"), source, f"{where}.fix"), source,
                text_pair(raw.get("checks"), source, f"{where}.checks"), message_by, tuple(cases),
                severity_by, tuple(severity_cases), tuple(params_used) + uses)
    return rule, alternatives


def load_rulebook(profile: Profile, directory: str | Path | None = None,
                  workflows: dict[str, Any] | None = None) -> Rulebook:
    """Load and check every rule file; rules limited to other regions are left out for this profile."""
    directory = Path(directory) if directory else rules_path("catalogue")
    rules: list[Rule] = []
    alternatives: list[Alternative] = []
    seen: dict[str, str] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise DefinitionError(str(directory), "<dir>", "no rule files")
    for path in files:
        source = str(path)
        data = read_yaml(source, "rule file", list)
        for pos, raw in enumerate(data):
            rule, alts = _rule(raw, profile, source, pos)
            if rule.id in seen:
                raise DefinitionError(source, rule.id, f"rule id already defined in {seen[rule.id]}")
            seen[rule.id] = source
            if rule.regions and profile.region not in rule.regions:
                continue
            rules.append(rule)
            alternatives.extend(alts)
    if workflows:
        _check_guards(rules, workflows)
    return Rulebook(rules, alternatives, profile, _digest(files))


def _digest(files: Sequence[Path]) -> str:
    return hashlib.sha256("".join(p.read_text(encoding="utf-8") for p in files).encode()).hexdigest()[:12]


def catalogue_version(directory: str | Path | None = None) -> str:
    """The catalogue's version stamp (a digest of its files), without compiling it: what reports print."""
    directory = Path(directory) if directory else rules_path("catalogue")
    return _digest(sorted(directory.glob("*.yaml")))


def _check_guards(rules: Sequence[Rule], workflows: dict[str, Any]) -> None:
    """A rule's ``blocks`` and the workflows' ``guards`` must name the same (rule, trigger) pairs."""
    by_id = {r.id: r for r in rules}
    guarded: set[tuple[str, str]] = set()
    for wf in workflows.values():
        for tr in wf.transitions:
            for rule_id in tr.guards:
                rule = by_id.get(rule_id)
                if rule is None:
                    raise DefinitionError(wf.source, f"{tr.trigger}.guards", f"no rule {rule_id!r}")
                if rule.blocks != tr.trigger:
                    raise DefinitionError(wf.source, f"{tr.trigger}.guards",
                                          f"{rule_id} blocks {rule.blocks!r}, not {tr.trigger!r}")
                guarded.add((rule_id, tr.trigger))
    for rule in rules:
        if rule.blocks and (rule.id, rule.blocks) not in guarded:
            raise DefinitionError(rule.source, f"{rule.id}.blocks",
                                  f"no workflow guards {rule.blocks!r} with this rule")


@lru_cache(maxsize=8)
def default_rulebook(profile_name: str = "tianjin") -> Rulebook:
    from .profile import load_profile
    from .workflow import default_workflows

    return load_rulebook(load_profile(profile_name), workflows=default_workflows())
