"""Hypothesis strategies for fuzzing case files: valid ones from the fixtures generator, and the same
mutated into every kind of broken input a district's exports produce (or an attacker would send).

``documents()`` draws ``(name, bytes, kind)``: the file name (its suffix decides the parser), its bytes,
and which mutation made it ("valid" for an untouched case).
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from hypothesis import strategies as st

from fixtures.casegen import CaseGen
from fixtures.scale import MIXES

TEN_MB = 10 * 1024 * 1024
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)       # libyaml: a 10 MB string in 0.1 s, not 3 s


@st.composite
def valid_case(draw: Any) -> dict[str, Any]:
    """A case as the fixtures generator writes it (any procedure, maybe with rule faults): valid input."""
    seed = draw(st.integers(0, 2 ** 32 - 1))
    raw, _ = CaseGen(seed=seed).random_case(draw(st.integers(1, 999)), draw(st.sampled_from([2022, 2023, 2024])),
                                            mix=MIXES["penalties"])
    return raw


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside ``obj`` (dict keys and list indexes)."""
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, prefix + (i,))
    return out


def _parent(obj: Any, path: tuple) -> tuple[Any, Any]:
    for step in path[:-1]:
        obj = obj[step]
    return obj, path[-1]


ODD_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70), st.floats(allow_nan=False),
                       st.text(max_size=30), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5),
                                                                                                     st.integers(),
                                                                                                     max_size=2))
ODD_DATES = st.sampled_from(["1900-01-01", "2100-12-31", "1899-12-31", "0001-01-01", "9999-12-31", "2024-02-30",
                             "2024-13-01", "24-01-01", "2024/01/01", "2024-01-01T08:00:00", ""])


STRUCTURAL = ["wrong_type", "missing", "unknown_event", "odd_date", "shuffled_events", "duplicate_officer",
              "huge_string", "deep_nesting", "nan_amount", "extra_field", "empty"]
BYTE_LEVEL = ["invalid_utf8", "truncated", "yaml_bomb", "yaml_tag", "nan_literal", "bom", "garbage"]
KINDS = ["valid", *STRUCTURAL, *BYTE_LEVEL, "duplicate_case_id"]


@st.composite
def mutated(draw: Any, raw: dict[str, Any], only: str | None = None) -> tuple[Any, str]:
    """One or more structural mutations of a valid case (just one, of kind ``only``, when given);
    returns (data, what was done)."""
    kinds = []
    for _ in range(1 if only else draw(st.integers(1, 3))):
        kind = only or draw(st.sampled_from(STRUCTURAL))
        paths = _paths(raw)
        events = raw.get("events") if isinstance(raw, dict) else None
        if kind == "wrong_type" and paths:
            parent, key = _parent(raw, draw(st.sampled_from(paths)))
            parent[key] = draw(ODD_VALUES)
        elif kind == "missing" and paths:
            parent, key = _parent(raw, draw(st.sampled_from(paths)))
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
        elif kind == "unknown_event" and isinstance(events, list) and events and isinstance(events[0], dict):
            events[draw(st.integers(0, len(events) - 1)) if all(isinstance(e, dict) for e in events) else 0][
                "type"] = draw(st.text(min_size=1, max_size=12))
        elif kind == "odd_date":
            dated = [p for p in paths if p and p[-1] in ("date", "occurred_on", "certificate_valid_until")]
            if dated:
                parent, key = _parent(raw, draw(st.sampled_from(dated)))
                parent[key] = draw(ODD_DATES)
        elif kind == "shuffled_events" and isinstance(events, list):
            raw["events"] = draw(st.permutations(events))
        elif kind == "duplicate_officer" and isinstance(raw.get("officers"), list) and raw["officers"]:
            raw["officers"].append(raw["officers"][0])
        elif kind == "huge_string":
            texts = [p for p in paths if isinstance(_parent(raw, p)[0][_parent(raw, p)[1]], str)]
            if texts:
                parent, key = _parent(raw, draw(st.sampled_from(texts)))
                parent[key] = "案" * (TEN_MB // 3)           # 10 MB of UTF-8
        elif kind == "deep_nesting":                 # spliced in as text by _dump: [[[…1…]]]
            raw[draw(st.sampled_from(["events", "matter", "notes"]))] = f"__DEEP_{draw(st.integers(200, 5000))}__"
        elif kind == "nan_amount":
            money = [p for p in paths if p and p[-1] in ("amount", "late_fee")]
            if money:
                parent, key = _parent(raw, draw(st.sampled_from(money)))
                parent[key] = draw(st.sampled_from([float("nan"), float("inf"), -1, "NaN", "1e400", 1e300]))
        elif kind == "extra_field":
            raw[draw(st.text(min_size=1, max_size=8))] = draw(ODD_VALUES)
        elif kind == "empty":
            raw = draw(st.sampled_from([{}, [], None, "", 0]))
        kinds.append(kind)
        if not isinstance(raw, dict):
            break
    return raw, "+".join(kinds)


def _dump(data: Any, fmt: str) -> bytes:
    if fmt == "json":
        text = json.dumps(data, ensure_ascii=False, default=str)        # NaN is written as NaN
    else:
        try:
            text = yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False, width=10 ** 9)
        except yaml.YAMLError:
            text = json.dumps(data, ensure_ascii=False, default=str)
    text = re.sub(r"[\"']?__DEEP_(\d+)__[\"']?", lambda m: "[" * int(m[1]) + "1" + "]" * int(m[1]), text)
    return text.encode("utf-8")


BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
case_id: *i
"""


@st.composite
def byte_level(draw: Any, data: bytes, only: str | None = None) -> tuple[bytes, str]:
    """Damage below the parser: invalid UTF-8, truncation, YAML tags and anchor bombs, NaN literals."""
    kind = only or draw(st.sampled_from(BYTE_LEVEL))
    if kind == "invalid_utf8":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80\x80"])) + data[at:], kind
    if kind == "truncated":
        return data[:draw(st.integers(0, max(0, len(data) - 1)))], kind
    if kind == "yaml_bomb":
        return BOMB, kind
    if kind == "yaml_tag":
        return b"case_id: !!python/object/apply:os.system ['echo pwned']\n" + data, kind
    if kind == "nan_literal":
        return data.replace(b'"amount": "', b'"amount": NaN, "x": "', 1), kind
    if kind == "bom":
        return b"\xef\xbb\xbf" + data, kind
    return draw(st.binary(max_size=200)), kind


@st.composite
def documents(draw: Any, only: str | None = None) -> tuple[str, bytes, str]:
    """A case file of any kind (or of kind ``only``, one of ``KINDS``)."""
    raw = draw(valid_case())
    fmt = draw(st.sampled_from(["json", "yaml"]))
    if only is None:
        layer = draw(st.sampled_from(["valid", "structure", "structure", "bytes", "list"]))
    else:
        layer = ("valid" if only == "valid" else "list" if only == "duplicate_case_id"
                 else "structure" if only in STRUCTURAL else "bytes")
    if layer == "valid":
        return f"case.{fmt}", _dump(raw, fmt), "valid"
    if layer == "list":                                      # a cases: list with a duplicated case id
        other = draw(valid_case())
        other["case_id"] = raw["case_id"]
        other["agency"] = raw["agency"]
        return f"cases.{fmt}", _dump({"format": "casecheck/1", "cases": [raw, other]}, fmt), "duplicate_case_id"
    if layer == "structure":
        data, kind = draw(mutated(raw, only))
        return f"case.{fmt}", _dump(data, fmt), kind
    data, kind = draw(byte_level(_dump(raw, fmt), only))
    return f"case.{'yaml' if kind in ('yaml_bomb', 'yaml_tag') else fmt}", data, kind
