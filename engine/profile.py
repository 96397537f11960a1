"""Jurisdiction profiles (``rules/profiles/<name>.yaml``): the values the law leaves to a place.

Every parameter carries its value, the source it comes from and whether that source was verified.
A missing or malformed value is a load-time ``DefinitionError`` naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import DefinitionError

__all__ = ["Profile", "load_profile", "PARAM_TYPES"]

# name → (type check, description). The profile must give every one of them.
PARAM_TYPES: dict[str, tuple[type, str]] = {
    "legal_review_all_ordinary_penalties": (bool, "every ordinary-procedure penalty gets legal review"),
    "credit_publicity_party_kinds": (list, "party kinds whose penalties are also publicized on Credit China"),
    "decision_extension_max_days": (int, "longest approved extension of the 90-day decision period"),
}


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
        path = Path(str(resources.files("rules").joinpath("profiles", f"{name_or_path}.yaml")))
    return _load(str(path))


@lru_cache(maxsize=8)
def _load(source: str) -> Profile:
    try:
        data = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DefinitionError(source, "<file>", "no such profile") from None
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(source, "<file>", f"cannot read profile: {exc}") from None
    if not isinstance(data, dict):
        raise DefinitionError(source, "<file>", "a profile is a mapping")
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
        value = entry["value"]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise DefinitionError(source, where + ".value", f"expected a whole number, got {value!r}")
        if kind is not int and not isinstance(value, kind):
            raise DefinitionError(source, where + ".value", f"expected {kind.__name__}, got {value!r}")
        if not entry.get("source"):
            raise DefinitionError(source, where + ".source", "say where the value comes from")
        params[key], sources[key] = value, str(entry["source"])
        if entry.get("verified") is not True:
            unverified.append(key)
    unknown = sorted(set(raw) - set(PARAM_TYPES))
    if unknown:
        raise DefinitionError(source, f"params.{unknown[0]}", "unknown parameter")
    return Profile(data["name"], data["region"], dict(data.get("title") or {}), params, sources,
                   tuple(unverified), source)
