"""Canonical JSON and the per-case hash chain of events."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical", "event_hash", "GENESIS", "digest"]

GENESIS = "0" * 64


def canonical(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_hash(prev_hash: str, case_key: str, seq: int, payload: str, recorded_by: str, recorded_at: str) -> str:
    """Chains one event to the previous one of its case: any change to it, its position, its author or
    time, or to anything before it, changes every hash after it."""
    return digest(canonical([prev_hash, case_key, seq, payload, recorded_by, recorded_at]))
