"""Ledger mappings (``rules/ledgers/*.yaml``): which headers mean which field, which words mean which code.

A district's own headers and words are a YAML file, no code. A variant ``extends`` another mapping and
adds headers, ignored columns and words to it. Checked when loaded: unknown keys, a header claimed by two
fields, a word given two codes, an unknown code are ``DefinitionError``s naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..definitions import read_yaml, rules_path
from ..errors import DefinitionError
from .values import norm

__all__ = ["Mapping", "FIELDS", "CODES", "load_mappings", "header_key"]

# field key → (Chinese name, English name, kind). Kinds: id, text, agency, word, date, yes_no, amount,
# officers, officer, list.
FIELDS: dict[str, tuple[str, str, str]] = {
    "case_id": ("案件编号", "case id", "id"), "agency_code": ("执法机关代码", "agency code", "agency"),
    "agency_name": ("执法机关名称", "agency name", "text"), "procedure": ("程序", "procedure", "word"),
    "matter_code": ("事项代码", "matter code", "id"), "matter_name": ("事项名称", "matter name", "text"),
    "domain": ("领域", "domain", "word"), "basis": ("违法依据", "legal basis", "list"),
    "party_kind": ("当事人类型", "party kind", "word"), "party_name": ("当事人名称", "party name", "text"),
    "party_id": ("当事人证件号", "party id", "id"), "occurred_on": ("违法行为日期", "violation date", "date"),
    "officers": ("执法人员", "officers", "officers"), "reviewer": ("法制审核人员", "reviewer", "officer"),
    "reviewer_qualified": ("审核人员法律职业资格", "reviewer qualified", "yes_no"),
    "certificates_shown": ("出示证件", "certificates shown", "yes_no"),
    "recording": ("音像记录编号", "recording id", "id"), "documents_complete": ("文书齐全", "documents complete", "yes_no"),
    "discovered": ("发现日期", "discovered", "date"), "registered": ("立案日期", "registered", "date"),
    "inspected": ("检查日期", "inspected", "date"), "inspection_result": ("检查结果", "inspection result", "word"),
    "notified": ("告知日期", "notified", "date"), "hearing_right": ("告知听证权利", "hearing right told", "yes_no"),
    "rights_waived": ("放弃陈述申辩日期", "rights waived", "date"),
    "hearing_requested": ("申请听证日期", "hearing requested", "date"),
    "hearing_noticed": ("听证通知日期", "hearing notice served", "date"),
    "hearing_held": ("举行听证日期", "hearing held", "date"), "legal_review": ("法制审核日期", "legal review", "date"),
    "review_result": ("审核结论", "review result", "word"),
    "collective_discussion": ("集体讨论日期", "heads' collective discussion", "date"),
    "major": ("重大案件", "major case", "yes_no"), "decided": ("决定日期", "decided", "date"),
    "outcome": ("处理结果", "outcome", "word"), "penalty_kind": ("处罚种类", "penalty kind", "word"),
    "amount": ("罚款金额", "fine (yuan)", "amount"), "document": ("决定书文号", "decision number", "text"),
    "served": ("送达日期", "served", "date"), "service_method": ("送达方式", "service method", "word"),
    "filed": ("备案日期", "filed", "date"), "publicized_supervision": ("监督平台公示日期", "publicized (supervision platform)", "date"),
    "publicized_credit": ("信用平台公示日期", "publicized (Credit China)", "date"), "paid": ("缴款日期", "paid", "date"),
    "closed": ("结案日期", "closed", "date"),
}

# the codes each coded column may hold (the case-file format's)
CODES: dict[str, tuple[str, ...]] = {
    "procedure": ("ordinary", "simple", "inspection"),
    "party_kind": ("person", "organization"),
    "review_result": ("approved", "returned", "rejected"),
    "outcome": ("penalty", "no_penalty", "transfer"),
    "penalty_kind": ("warning", "criticism", "fine", "confiscation", "suspension", "revocation", "closure",
                     "detention", "other"),
    "inspection_result": ("compliant", "violation_found", "ordered_correction", "no_violation"),
    "service_method": ("direct", "on_the_spot", "left", "posted", "mail", "electronic", "announcement"),
    "domain": ("fire_safety", "waste_sorting", "civility", "city_appearance", "air", "gas", "greening", "drainage"),
}


def header_key(text: str) -> str:
    """A header as compared: folded, no spaces or line breaks, no ``*`` (required marks)."""
    return "".join(norm(text).split()).replace("*", "")


def _strip_note(key: str) -> str:
    """``决定日期（年/月/日）`` → ``决定日期``."""
    for open_, close in (("(", ")"), ("（", "）")):
        if key.endswith(close) and open_ in key:
            return key[: key.rindex(open_)]
    return key


@dataclass(frozen=True)
class Mapping:
    name: str
    title: dict[str, str]
    headers: dict[str, str]            # header key → field key
    ignore: frozenset[str]
    words: dict[str, dict[str, str]]   # field → word → code
    yes: frozenset[str]
    no: frozenset[str]
    first_headers: dict[str, str]      # field → the header the template writes

    def field_of(self, header: str) -> str | None:
        key = header_key(header)
        return self.headers.get(key) or self.headers.get(_strip_note(key)) or (key if key in FIELDS else None)

    def ignored(self, header: str) -> bool:
        key = header_key(header)
        return key in self.ignore or _strip_note(key) in self.ignore

    def code(self, field: str, text: str) -> str | None:
        table = self.words.get(field, {})
        value = norm(text)
        if value in table:
            return table[value]
        if value in CODES[field]:
            return value
        compact = "".join(value.split())
        return table.get(compact)


def _raw(name: str, seen: tuple[str, ...] = ()) -> tuple[str, dict[str, Any]]:
    path = rules_path("ledgers", f"{name}.yaml")
    if not path.exists():
        raise DefinitionError(str(path), "<file>", f"no ledger mapping {name!r}")
    if name in seen:
        raise DefinitionError(str(path), "extends", "mappings extend each other in a circle")
    return str(path), read_yaml(str(path), "ledger mapping", dict)


def _build(name: str, seen: tuple[str, ...] = ()) -> Mapping:
    source, data = _raw(name, seen)
    unknown = sorted(set(data) - {"name", "extends", "columns", "ignore", "words", "yes_words", "no_words"})
    if unknown:
        raise DefinitionError(source, unknown[0], "unknown key (name, extends, columns, ignore, words, yes_words, no_words)")
    base = _build(data["extends"], seen + (name,)) if data.get("extends") else None
    headers = dict(base.headers) if base else {}
    first = dict(base.first_headers) if base else {}
    words = {k: dict(v) for k, v in base.words.items()} if base else {}
    for field, names in (data.get("columns") or {}).items():
        if field not in FIELDS:
            raise DefinitionError(source, f"columns.{field}", f"unknown field (one of {', '.join(FIELDS)})")
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            raise DefinitionError(source, f"columns.{field}", "a list of headers")
        for n in names:
            key = header_key(n)
            if headers.get(key, field) != field:
                raise DefinitionError(source, f"columns.{field}", f"header {n!r} already means {headers[key]}")
            headers[key] = field
        first.setdefault(field, names[0])
    ignore = set(base.ignore) if base else set()
    ignore |= {header_key(n) for n in data.get("ignore") or []}
    for field, table in (data.get("words") or {}).items():
        if field not in CODES:
            raise DefinitionError(source, f"words.{field}", f"not a coded field (one of {', '.join(CODES)})")
        if not isinstance(table, dict):
            raise DefinitionError(source, f"words.{field}", "a mapping word → code")
        for word, code in table.items():
            if code not in CODES[field]:
                raise DefinitionError(source, f"words.{field}.{word}", f"unknown code {code!r} ({', '.join(CODES[field])})")
            key = norm(str(word))
            if words.setdefault(field, {}).get(key, code) != code:
                raise DefinitionError(source, f"words.{field}.{word}", f"already means {words[field][key]}")
            words[field][key] = code
    yes = (set(base.yes) if base else set()) | {norm(str(w)).upper() for w in data.get("yes_words") or []}
    no = (set(base.no) if base else set()) | {norm(str(w)).upper() for w in data.get("no_words") or []}
    for key in ("yes_words", "no_words"):
        if not all(isinstance(w, str) for w in data.get(key) or []):
            raise DefinitionError(source, key, "quote every word (YAML reads a bare Y, NO or 1 as a boolean or number)")
    if yes & no:
        raise DefinitionError(source, "yes_words", f"words both yes and no: {', '.join(sorted(yes & no))}")
    title = data.get("name") or {"zh": name, "en": name}
    missing = [f for f in FIELDS if f not in first]
    if missing:
        raise DefinitionError(source, "columns", f"no header for {', '.join(missing)}")
    return Mapping(name, title, headers, frozenset(ignore), words, frozenset(yes), frozenset(no), first)


@lru_cache(maxsize=8)
def load_mappings(directory: str | None = None) -> tuple[Mapping, ...]:
    """Every mapping in ``rules/ledgers``, the default first."""
    folder = Path(directory) if directory else rules_path("ledgers")
    names = sorted(p.stem for p in folder.glob("*.yaml"))
    names.sort(key=lambda n: n != "default")
    return tuple(_build(n) for n in names)
