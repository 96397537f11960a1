"""One error family.

    CasecheckError
    ├── DefinitionError     bad rule, workflow, profile or calendar data (load time; a bug in config)
    ├── CalendarError       a date outside every working-day calendar source
    ├── InputError          a bad case file: names file, case, field path and value
    └── EngineFailure       the fenced rule engine crashed or disagreed with the oracle on one case

Violations found in an audit are data (``engine.findings.Finding``), never raised.
"""

from __future__ import annotations

import dataclasses
import reprlib
from dataclasses import dataclass
from decimal import Decimal
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


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 3, 80, 80, 6, 6


def _short(value: Any, limit: int = 80) -> str:
    text = _REPR.repr(value)                # bounded: a 10 MB string or 1,000-deep list costs nothing
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Shown(str):
    """A value already shortened for display: shown as it is."""

    def __repr__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class InputProblem:
    """One located problem in a case file."""

    file: str
    case_id: str | None
    field: str
    message: str
    value: Any = None
    has_value: bool = False
    message_en: str | None = None     # the English message when ``message`` is Chinese (ledgers)

    def __post_init__(self) -> None:
        # Keep only what is shown: a problem must stay small and picklable whatever the file held.
        if self.has_value and not (self.value is None or isinstance(self.value, (bool, int, float, Decimal))
                                   or isinstance(self.value, str) and len(self.value) <= 80):
            object.__setattr__(self, "value", _Shown(_short(self.value)))

    def __str__(self) -> str:
        where = self.file
        if self.case_id:
            where += f" [{self.case_id}]"
        value = f" (值/value: {_short(self.value)})" if self.has_value else ""
        return f"{where}: {self.field or '<file>'}: {self.message}{value}"

    def text(self, lang: str = "zh") -> str:
        """As ``str()``, in English when ``lang`` is ``en`` and an English message exists."""
        if lang != "en" or not self.message_en:
            return str(self)
        return str(dataclasses.replace(self, message=self.message_en, message_en=None))

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

