"""One error family.

    CasecheckError
    ├── DefinitionError     bad rule, workflow, profile or calendar data (load time; a bug in config)
    ├── CalendarError       a date outside every working-day calendar source
    ├── InputError          a bad case file: names file, case, field path and value
    └── EngineFailure       the fenced rule engine crashed or disagreed with the oracle on one case

Violations found in an audit are data (``engine.findings.Finding``), never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "CasecheckError",
    "DefinitionError",
    "CalendarError",
    "InputError",
    "EngineFailure",
]


class CasecheckError(Exception):
    """Base of every error casecheck raises on purpose."""


class DefinitionError(CasecheckError):
    """A rule, workflow, profile or calendar file is malformed. Names the file and the key."""

    def __init__(self, source: str, key: str, problem: str):
        self.source, self.key, self.problem = source, key, problem
        super().__init__(f"{source}: {key}: {problem}")


class CalendarError(CasecheckError):
    """A working-day computation needs a year no calendar source covers."""

    def __init__(self, year: int, known: tuple[int, int] | None = None):
        self.year = year
        span = f" (chinese-calendar covers {known[0]}–{known[1]})" if known else ""
        super().__init__(
            f"没有 {year} 年的工作日历（法定节假日与调休安排）{span}；"
            f"请添加 workflows/calendar/{year}.yaml / no working-day calendar for {year}: "
            f"add workflows/calendar/{year}.yaml with that year's State Council holiday schedule"
        )


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class InputProblem:
    """One located problem in a case file."""

    file: str
    case_id: str | None
    field: str
    message: str
    value: Any = None
    has_value: bool = False

    def __str__(self) -> str:
        where = self.file
        if self.case_id:
            where += f" [{self.case_id}]"
        value = f" (值/value: {_short(self.value)})" if self.has_value else ""
        return f"{where}: {self.field or '<file>'}: {self.message}{value}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "case_id": self.case_id, "field": self.field,
                "message": self.message, "value": _short(self.value) if self.has_value else None}


class InputError(CasecheckError):
    """One or more located problems in case files."""

    def __init__(self, problems: list[InputProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class EngineFailure(CasecheckError):
    """The rule engine could not give a trustworthy verdict for one case."""

    def __init__(self, case_ref: str, reason: str):
        self.case_ref, self.reason = case_ref, reason
        super().__init__(f"{case_ref}: {reason}")

