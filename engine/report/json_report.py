"""The check result as JSON: a stamp, findings sorted by case then rule, problems, engine failures."""

from __future__ import annotations

import json
from typing import IO, Any, Iterator

from .. import __version__
from ..check import CheckResult


def check_to_dict(result: CheckResult) -> dict[str, Any]:
    return {
        "stamp": {"engine": __version__, "rules": result.rules_version, "calendar": result.calendar_years,
                  "profile": result.profile, "as_of": result.as_of.isoformat(), "lang": result.lang},
        "cases": len(result.cases),
        "findings": [f.model_dump() for f in result.findings],
        "problems": [p.as_dict() for p in result.all_problems],
        "engine_failures": [{"case": f.case_ref, "reason": f.reason} for f in result.failures],
        "exit_code": result.exit_code,
    }


def render_check_json(result: CheckResult) -> str:
    return json.dumps(check_to_dict(result), ensure_ascii=False, indent=2)


class _Streamed(list):  # type: ignore[type-arg]
    """A list to ``json``'s encoder that makes its items one at a time (the encoder asks only its
    length and iterates it), so 200,000 findings are never held as dicts and one string at once."""

    def __init__(self, count: int, items: Any) -> None:
        super().__init__()
        self._count, self._items = count, items

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items())


def write_check_json(result: CheckResult, out: IO[str]) -> None:
    """``render_check_json(result) + "\\n"`` written to ``out`` piece by piece: the same bytes."""
    doc = {
        "stamp": {"engine": __version__, "rules": result.rules_version, "calendar": result.calendar_years,
                  "profile": result.profile, "as_of": result.as_of.isoformat(), "lang": result.lang},
        "cases": len(result.cases),
        "findings": _Streamed(result.finding_count(), lambda: (f.model_dump() for f in result.iter_findings())),
        "problems": [p.as_dict() for p in result.all_problems],
        "engine_failures": [{"case": f.case_ref, "reason": f.reason} for f in result.failures],
        "exit_code": result.exit_code,
    }
    buffer: list[str] = []
    size = 0
    for piece in json.JSONEncoder(ensure_ascii=False, indent=2).iterencode(doc):
        buffer.append(piece)
        size += len(piece)
        if size >= 1 << 16:
            out.write("".join(buffer))
            buffer, size = [], 0
    buffer.append("\n")
    out.write("".join(buffer))
