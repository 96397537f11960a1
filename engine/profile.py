"""Jurisdiction profiles (``rules/profiles/<name>.yaml``): the values the law leaves to a place.

Every parameter carries its value, the source it comes from and whether that source was verified.
A missing or malformed value is a load-time ``DefinitionError`` naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from decimal import Decimal
from typing import Any

from .definitions import read_yaml, rules_path
from .errors import DefinitionError

__all__ = ["Profile", "load_profile", "PARAM_TYPES"]

# name → (kind, description). The profile must give every one of them. Kinds:
#   bool, int (whole number), money (yuan, stored as fen so rules compare whole numbers),
#   codes (a list of text codes), text, grades (grade → minimum score, strictly descending).
PARAM_TYPES: dict[str, tuple[str, str]] = {
    "legal_review_all_ordinary_penalties": ("bool", "every ordinary-procedure penalty gets legal review"),
    "credit_publicity_party_kinds": ("codes", "party kinds whose penalties are also publicized on Credit China"),
    "publicity_simple_penalties": ("bool", "simple-procedure penalties are publicized within 7 working days too"),
    "decision_extension_max_days": ("int", "longest approved extension of the 90-day decision period"),
    "decision_clock_pauses": ("codes", "paused periods excluded from the 90-day clock (suspension, hearing, "
                                       "public_notice)"),
    "hearing_fine_person": ("money", "较大数额罚款 for a natural person: hearing right from this amount"),
    "hearing_fine_organization": ("money", "较大数额罚款 for an organization: hearing right from this amount"),
    "collective_discussion_fine": ("money", "fine from which the heads' collective discussion is required"),
    "statement_period_days": ("int", "statement/defence period after notice without a hearing right "
                                     "(working days from 2021-07-15, calendar days before)"),
    "simple_filing_workdays": ("int", "working days to file (备案) an on-the-spot decision"),
    "exemption_list": ("text", "the first-offence / minor-violation exemption list (rules/exemptions/<name>.yaml)"),
    "review_grades": ("grades", "案卷评查 grade cut-offs: grade → minimum score"),
    "discretion_benchmarks": ("text", "the discretion benchmark table (rules/discretion/<name>.yaml)"),
    # 涉企行政检查 (issue 19)
    "inspection_yearly_cap": ("caps", "yearly on-site inspections of one business by one agency, by matter domain "
                                      "(`default` for the rest); 个案 inspections are not counted"),
    "inspection_emergency_approval_workdays": ("int", "working days after an emergency inspection to complete "
                                                      "the head's approval"),
    "inspection_repeat_days": ("int", "a business inspected again within this many calendar days is alerted "
                                      "(个案 excluded)"),
    "inspection_repeat_agencies": ("int", "a business inspected by this many agencies in the window is alerted"),
    "inspection_scan_on_entry": ("bool", "inspections are scanned into the platform (扫码入企/亮码检查)"),
    "inspection_scan_late_days": ("int", "calendar days within which a scan missed on site may be entered, "
                                         "with a reason"),
}
PAUSE_KINDS = ("suspension", "hearing", "public_notice")


@dataclass(frozen=True)
class Profile:
    name: str
    region: str
    title: dict[str, str]
    params: dict[str, Any]
    sources: dict[str, str]
    unverified: tuple[str, ...]
    path: str

    def __getitem__(self, key: str) -> Any:
        return self.params[key]


def load_profile(name_or_path: str | Path = "tianjin") -> Profile:
    path = Path(name_or_path)
    if not path.suffix:
        path = rules_path("profiles", f"{name_or_path}.yaml")
    return _load(str(path))


@lru_cache(maxsize=8)
def _load(source: str) -> Profile:
    data = read_yaml(source, "profile", dict)
    for key in ("name", "region"):
        if not isinstance(data.get(key), str):
            raise DefinitionError(source, key, "missing or not text")
    raw = data.get("params")
    if not isinstance(raw, dict):
        raise DefinitionError(source, "params", "missing")
    params, sources, unverified = {}, {}, []
    for key, (kind, _desc) in PARAM_TYPES.items():
        entry = raw.get(key)
        where = f"params.{key}"
        if not isinstance(entry, dict) or "value" not in entry:
            raise DefinitionError(source, where, "missing (give value, source, verified)")
        params[key] = _value(kind, entry["value"], source, where + ".value")
        if not entry.get("source"):
            raise DefinitionError(source, where + ".source", "say where the value comes from")
        sources[key] = str(entry["source"])
        if entry.get("verified") is not True:
            unverified.append(key)
    bad = sorted(set(params["decision_clock_pauses"]) - set(PAUSE_KINDS))
    if bad:
        raise DefinitionError(source, "params.decision_clock_pauses.value",
                              f"{bad[0]!r} is not one of {', '.join(PAUSE_KINDS)}")
    unknown = sorted(set(raw) - set(PARAM_TYPES))
    if unknown:
        raise DefinitionError(source, f"params.{unknown[0]}", "unknown parameter")
    return Profile(data["name"], data["region"], dict(data.get("title") or {}), params, sources,
                   tuple(unverified), source)


def _value(kind: str, value: Any, source: str, where: str) -> Any:
    if kind == "bool":
        if not isinstance(value, bool):
            raise DefinitionError(source, where, f"expected true or false, got {value!r}")
        return value
    if kind in ("int", "money"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise DefinitionError(source, where, f"expected a number ≥ 0, got {value!r}")
        if kind == "int":
            if not isinstance(value, int):
                raise DefinitionError(source, where, f"expected a whole number, got {value!r}")
            return value
        fen = Decimal(str(value)) * 100
        if fen != fen.to_integral_value():
            raise DefinitionError(source, where, f"yuan with at most two decimals, got {value!r}")
        return int(fen)
    if kind == "codes":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise DefinitionError(source, where, f"expected a list of codes, got {value!r}")
        return tuple(value)
    if kind == "text":
        if not isinstance(value, str) or not value:
            raise DefinitionError(source, where, f"expected text, got {value!r}")
        return value
    if kind == "caps":
        if not isinstance(value, dict) or "default" not in value:
            raise DefinitionError(source, where, "expected domain: yearly cap, with a `default` entry")
        for code, cap in value.items():
            if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= 1000:
                raise DefinitionError(source, f"{where}.{code}", "a whole number of inspections 1–1000")
        return tuple((str(c), n) for c, n in value.items())
    if kind == "grades":
        if not isinstance(value, dict) or not value:
            raise DefinitionError(source, where, "expected grade: minimum score, highest first")
        last = 101
        for grade, floor in value.items():
            if isinstance(floor, bool) or not isinstance(floor, int) or not 0 <= floor < last:
                raise DefinitionError(source, f"{where}.{grade}",
                                      "minimum scores are whole numbers 0–100, strictly descending")
            last = floor
        return tuple((str(g), f) for g, f in value.items())
    raise AssertionError(kind)
