"""Special laws' own limits (``rules/special_laws.yaml``): on-the-spot decisions and on-the-spot collection.

"法律另有规定的，从其规定" (行政处罚法 第五十一条、第六十八条): a case whose violation basis names a listed law
takes its limits from the version of that law in force on the day. Malformed entries are a
``DefinitionError`` naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .definitions import parse_date, read_yaml, rules_path
from .errors import DefinitionError

__all__ = ["SpecialLimits", "special_limits", "one_officer_allowed", "APL_SPOT_COLLECTION"]

NEW_LAW = dt.date(2021, 7, 15)
# 行政处罚法 当场收缴: 1996 第四十七条第（一）项 二十元以下; 2021 第六十八条第（一）项 一百元以下 (fen)
APL_SPOT_COLLECTION = ((dt.date(1996, 10, 1), 2_000, "《中华人民共和国行政处罚法》（1996）第四十七条第（一）项（二十元以下）"),
                       (NEW_LAW, 10_000, "《中华人民共和国行政处罚法》（2021修订）第六十八条第（一）项（一百元以下）"))


@dataclass(frozen=True)
class SpecialLimits:
    law_id: str
    law: str
    simple_max: dict[str, int]              # party kind → fen
    simple_basis: str
    spot_max: dict[str, int]
    spot_basis: str
    one_officer_max: dict[str, int] | None = None     # party kind → fen: one officer may decide on the spot
    one_officer_basis: str = ""


@lru_cache(maxsize=1)
def _table() -> list[tuple[str, str, tuple[str, ...], dt.date, dt.date | None, SpecialLimits]]:
    source = str(rules_path("special_laws.yaml"))
    data = read_yaml(source, "special-law table", dict)
    out = []
    for i, law in enumerate(data.get("laws") or []):
        key = f"laws[{i}]"
        if not isinstance(law, dict) or not law.get("id") or not law.get("law") or not isinstance(law.get("match"), list):
            raise DefinitionError(source, key, "give id, law and match (words of the basis that name the law)")
        for j, v in enumerate(law.get("versions") or []):
            vkey = f"{key}.versions[{j}]"
            start = parse_date(v.get("from"), source, f"{vkey}.from")
            end = parse_date(v["to"], source, f"{vkey}.to") if v.get("to") is not None else None
            limits = {}
            for name in ("simple_max", "spot_collection_max"):
                raw = v.get(name)
                if not isinstance(raw, dict) or not raw or any(
                        k not in ("person", "organization") or isinstance(a, bool) or not isinstance(a, int) or a < 0
                        for k, a in raw.items()):
                    raise DefinitionError(source, f"{vkey}.{name}", "yuan by party kind (person, organization)")
                limits[name] = {k: a * 100 for k, a in raw.items()}
            if not v.get("simple_basis") or not v.get("spot_basis"):
                raise DefinitionError(source, f"{vkey}.simple_basis", "cite the article of each limit")
            one = v.get("one_officer_max")
            if one is not None:
                if not isinstance(one, dict) or not one or any(
                        k not in ("person", "organization") or isinstance(a, bool) or not isinstance(a, int) or a < 0
                        for k, a in one.items()):
                    raise DefinitionError(source, f"{vkey}.one_officer_max", "yuan by party kind (person, organization)")
                if not v.get("one_officer_basis"):
                    raise DefinitionError(source, f"{vkey}.one_officer_basis", "cite the article that allows one officer")
                one = {k: a * 100 for k, a in one.items()}
            out.append((law["id"], law["law"], tuple(str(m) for m in law["match"]), start, end,
                        SpecialLimits(law["id"], law["law"], limits["simple_max"], str(v["simple_basis"]),
                                      limits["spot_collection_max"], str(v["spot_basis"]), one,
                                      str(v.get("one_officer_basis") or ""))))
    return out


def special_limits(basis: Any, day: dt.date) -> SpecialLimits | None:
    """The limits of the special law the violation's basis names, in force on ``day``; None otherwise."""
    texts = list(getattr(basis, "basis", None) or [])
    for _, _, match, start, end, limits in _table():
        if start <= day <= (end or dt.date.max) and any(m in t for t in texts for m in match):
            return limits
    return None


def one_officer_allowed(case: Any, event: Any) -> bool:
    """A simple-procedure decision that a special law lets one officer make on the spot: its basis names
    the law, the law's version in force that day has ``one_officer_max``, and the penalty is a warning or a
    fine up to that amount for the party's kind (行政处罚法 第四十二条第一款 “法律另有规定的除外”)."""
    if getattr(event, "type", None) != "decided" or getattr(case, "procedure", None) != "simple":
        return False
    limits = special_limits(case.violation, event.date)
    if limits is None or not limits.one_officer_max:
        return False
    cap = limits.one_officer_max.get(case.party.kind if case.party else "person")
    penalty = getattr(event, "penalty", None)
    if cap is None or penalty is None:
        return False
    if penalty.kind == "warning":
        return True
    return penalty.kind == "fine" and penalty.amount is not None and penalty.amount * 100 <= cap
