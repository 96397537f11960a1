"""Discretion benchmarks (行政处罚裁量基准, ``rules/discretion/<name>.yaml``): a matter's statutory fine range
by party kind and the benchmark's ranges by circumstance (light / ordinary / serious), each with its source.

A malformed table is a ``DefinitionError`` naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .definitions import read_yaml, rules_path
from .errors import DefinitionError

__all__ = ["Benchmark", "BenchmarkItem", "load_benchmarks", "LEVELS"]

LEVELS = ("light", "ordinary", "serious")
KINDS = ("person", "organization")


@dataclass(frozen=True)
class BenchmarkItem:
    matter: str
    name: str
    statutory: dict[str, tuple[int, int]]                 # party kind → (min, max) in fen
    levels: dict[str, dict[str, tuple[int, int]]]         # party kind → level → (min, max) in fen
    statutory_source: str
    levels_source: str
    verified: bool


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: dict[str, str]
    source: str
    verified: bool
    items: dict[str, BenchmarkItem]

    def item(self, matter: str | None) -> BenchmarkItem | None:
        return self.items.get(matter) if matter else None


_CACHE: dict[str, Benchmark] = {}


def load_benchmarks(name_or_path: str | Path) -> Benchmark:
    path = Path(name_or_path)
    if not path.suffix:
        path = rules_path("discretion", f"{name_or_path}.yaml")
    source = str(path)
    if source not in _CACHE:
        _CACHE[source] = _load(source)
    return _CACHE[source]


def _range(value: Any, source: str, key: str) -> tuple[int, int]:
    if (not isinstance(value, list) or len(value) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 0
                                                              for v in value) or value[0] > value[1]):
        raise DefinitionError(source, key, "a range [min, max] of whole yuan, min ≤ max")
    return value[0] * 100, value[1] * 100


def _load(source: str) -> Benchmark:
    data = read_yaml(source, "discretion benchmarks", dict)
    unknown = sorted(set(data) - {"name", "title", "source", "verified", "items"})
    if unknown:
        raise DefinitionError(source, unknown[0], "unknown key")
    if not isinstance(data.get("name"), str) or not data.get("source"):
        raise DefinitionError(source, "source", "give the table's name and the document it comes from")
    items: dict[str, BenchmarkItem] = {}
    for i, raw in enumerate(data.get("items") or []):
        key = f"items[{i}]"
        if not isinstance(raw, dict):
            raise DefinitionError(source, key, "an item is a mapping")
        extra = sorted(set(raw) - {"matter", "name", "statutory", "statutory_source", "levels", "levels_source",
                                   "verified"})
        if extra:
            raise DefinitionError(source, f"{key}.{extra[0]}", "unknown key")
        matter = raw.get("matter")
        if not isinstance(matter, str) or not matter or matter in items:
            raise DefinitionError(source, f"{key}.matter", "a matter code, listed once")
        if not raw.get("statutory_source") or not raw.get("levels_source"):
            raise DefinitionError(source, f"{key}.statutory_source", "cite the law and the benchmark")
        statutory_raw = raw.get("statutory")
        if not isinstance(statutory_raw, dict) or not set(statutory_raw) <= set(KINDS) or not statutory_raw:
            raise DefinitionError(source, f"{key}.statutory", f"ranges by party kind ({', '.join(KINDS)})")
        statutory = {k: _range(v, source, f"{key}.statutory.{k}") for k, v in statutory_raw.items()}
        levels: dict[str, dict[str, tuple[int, int]]] = {}
        for kind, by_level in (raw.get("levels") or {}).items():
            if kind not in statutory or not isinstance(by_level, dict) or set(by_level) - set(LEVELS):
                raise DefinitionError(source, f"{key}.levels.{kind}", f"levels {', '.join(LEVELS)} of a statutory party kind")
            levels[kind] = {lv: _range(v, source, f"{key}.levels.{kind}.{lv}") for lv, v in by_level.items()}
            low, high = statutory[kind]
            if any(a < low or b > high for a, b in levels[kind].values()):
                raise DefinitionError(source, f"{key}.levels.{kind}", "a benchmark range outside the statutory range")
        items[matter] = BenchmarkItem(matter, str(raw.get("name", "")), statutory, levels,
                                      str(raw["statutory_source"]), str(raw["levels_source"]), raw.get("verified") is True)
    title = data.get("title") if isinstance(data.get("title"), dict) else {}
    return Benchmark(data["name"], {k: str(v) for k, v in title.items()}, str(data["source"]),
                     data.get("verified") is True, items)
