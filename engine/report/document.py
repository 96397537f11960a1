"""One report object, four renderers: terminal (rich), HTML (jinja2), XLSX (openpyxl), JSON.

A ``Document`` is what a job (review, alerts, stats) has to say, already in the reader's language: a
title, the stamp (engine version, rule catalogue version, calendar years, profile, as-of date), a few
headline figures and tabular sections. Every renderer prints exactly these rows, so an Excel sheet, the
printed page and the JSON for other systems can never disagree.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

__all__ = ["Column", "Section", "Document", "stamp"]

Kind = Literal["text", "int", "number", "money", "decimal", "date", "pct", "bool"]   # decimal: exact text, e.g. 万元


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: Kind = "text"
    internal: bool = False          # a code or path for other systems: the terminal shows it with --verbose only

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class LazyRows(Sequence):
    """Rows made from items on access, so a review of a million files never holds a million dicts."""

    def __init__(self, items: Sequence[Any], make: Callable[[Any], dict[str, Any]]):
        self._items, self._make = items, make

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._make(x) for x in self._items[index]]
        return self._make(self._items[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(self._make, self._items)


@dataclass
class Section:
    key: str
    zh: str
    en: str
    columns: list[Column]
    rows: Sequence[dict[str, Any]]          # flat JSON scalars (text, numbers, bool, None), keyed by column key
    chart: str | None = None                # a numeric column drawn as bars, labelled by the first column
    brief: str | None = None                # the terminal lists only rows where this column is truthy
    style: str | None = None                # a column whose truthy value marks a row as alarming (red)
    transpose: bool = False                 # terminal and HTML show one column per row (few, wide rows)
    group: tuple[str, ...] = ()             # columns shared by consecutive rows (a file): shown once, as a heading
    only: tuple[str, ...] = ()              # the formats that show it (none: all), e.g. the all-files list
    compact: bool = False                   # few columns, many rows: HTML lists them inline, the terminal counts them

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def values(self, row: dict[str, Any]) -> list[Any]:
        return [row.get(c.key) for c in self.columns]


@dataclass
class Document:
    kind: str                               # review | alerts | stats
    lang: str
    title: str
    stamp: dict[str, str]
    summary: list[tuple[str, str, Any]] = field(default_factory=list)     # (key, label in lang, value)
    sections: list[Section] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)                     # bad input, engine failures
    notes: list[str] = field(default_factory=list)                        # paragraphs, e.g. report wording
    exit_code: int = 0
    extra: dict[str, Any] = field(default_factory=dict)                  # what a renderer needs beyond the rows

    def stamp_line(self) -> str:
        s = self.stamp
        if self.lang == "zh":
            line = (f"引擎 {s['engine']} · 规则库 {s['rules']} · 日历 {s['calendar']} · 配置 {s['profile']} · "
                    f"截至 {s['as_of']} · 生成于 {s['generated']}")
        else:
            line = (f"engine {s['engine']} · rules {s['rules']} · calendar {s['calendar']} · profile {s['profile']} · "
                    f"as of {s['as_of']} · generated {s['generated']}")
        extra = [s[k] for k in ("rubric", "masking", "checkpoint") if s.get(k)]   # checkpoint: the store's root (issue 17)
        return " · ".join([line, *extra])

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "lang": self.lang, "stamp": self.stamp,
                "summary": {key: value for key, _, value in self.summary},
                "summary_labels": {key: label for key, label, _ in self.summary},
                "notes": self.notes, "sections": {s.key: list(s.rows) for s in self.sections},
                "columns": {s.key: [{"key": c.key, "title": c.title(self.lang), "kind": c.kind} for c in s.columns]
                            for s in self.sections},
                "problems": self.problems, "exit_code": self.exit_code}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def stamp(rules: str, calendar: str, profile: str, as_of: dt.date) -> dict[str, str]:
    from .. import __version__

    return {"engine": __version__, "rules": rules, "calendar": calendar, "profile": profile,
            "as_of": as_of.isoformat(), "generated": dt.datetime.now().isoformat(timespec="seconds")}
