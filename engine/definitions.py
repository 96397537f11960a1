"""Reading definition files (rules, profiles, periods, lists): YAML and dates, with located errors.

Definition files are the project's own data, loaded with ``yaml.safe_load`` (never ``eval``); any
problem is a ``DefinitionError`` naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import DefinitionError

__all__ = ["read_yaml", "parse_date", "text_pair", "rules_path"]


@lru_cache(maxsize=256)
def rules_path(*parts: str) -> Path:
    """A file shipped in the ``rules`` package (``importlib.resources`` is slow to ask on every call)."""
    return Path(str(resources.files("rules").joinpath(*parts)))


_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)     # libyaml's safe loader when PyYAML was built with it


def read_yaml(source: str, what: str, expect: type) -> Any:
    """The parsed file, which must be a ``dict`` or ``list`` (``expect``)."""
    try:
        data = yaml.load(Path(source).read_text(encoding="utf-8"), Loader=_SAFE)  # noqa: S506 - safe loaders only
    except FileNotFoundError:
        raise DefinitionError(source, "<file>", f"no such {what}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DefinitionError(source, "<file>", f"cannot read {what}: {exc}") from None
    if not isinstance(data, expect):
        raise DefinitionError(source, "<file>", f"a {what} is a YAML {'mapping' if expect is dict else 'list'}")
    return data


def parse_date(raw: Any, source: str, key: str) -> dt.date:
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise DefinitionError(source, key, f"not a date YYYY-MM-DD: {raw!r}") from None


def text_pair(raw: Any, source: str, key: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(lang), str) and raw[lang] for lang in ("zh", "en")):
        raise DefinitionError(source, key, "needs both zh and en text")
    return {"zh": raw["zh"], "en": raw["en"]}
