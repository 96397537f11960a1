"""The check result as JSON: a stamp, findings sorted by case then rule, problems, engine failures."""

from __future__ import annotations

import json
from typing import Any

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
