"""Which document each step leaves in the file (``rules/documents.yaml``), for ``recording.documents_complete``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .definitions import read_yaml, rules_path, text_pair
from .errors import DefinitionError
from .model import EVENT_TYPES

__all__ = ["DocumentRule", "load_documents"]

PROCEDURES = ("ordinary", "simple", "inspection")


@dataclass(frozen=True)
class DocumentRule:
    event: str
    procedures: tuple[str, ...]
    name: dict[str, str]
    match: tuple[str, ...]

    def satisfied_by(self, names: list[str]) -> bool:
        return any(word in name for name in names for word in self.match)


_CACHE: dict[str, dict[str, DocumentRule]] = {}


def load_documents(path: str | Path | None = None) -> dict[str, DocumentRule]:
    """event type → its document rule."""
    source = str(path or rules_path("documents.yaml"))
    if source in _CACHE:
        return _CACHE[source]
    data = read_yaml(source, "document list", list)
    out: dict[str, DocumentRule] = {}
    for i, raw in enumerate(data):
        key = f"[{i}]"
        if not isinstance(raw, dict) or raw.get("event") not in EVENT_TYPES:
            raise DefinitionError(source, f"{key}.event", "an event type of casecheck/1")
        if raw["event"] in out:
            raise DefinitionError(source, f"{key}.event", f"{raw['event']} listed twice")
        procs = raw.get("procedures")
        if not isinstance(procs, list) or not procs or not set(procs) <= set(PROCEDURES):
            raise DefinitionError(source, f"{key}.procedures", f"a list of {', '.join(PROCEDURES)}")
        match = raw.get("match")
        if not isinstance(match, list) or not match or not all(isinstance(m, str) and m for m in match):
            raise DefinitionError(source, f"{key}.match", "a list of words a document name contains")
        out[raw["event"]] = DocumentRule(raw["event"], tuple(procs), text_pair(raw, source, key), tuple(match))
    _CACHE[source] = out
    return out
