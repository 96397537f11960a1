"""Canonical JSON and the per-case hash chain of events."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from orjson import OPT_SORT_KEYS as _SORT_KEYS
from orjson import dumps as _orjson_dumps

__all__ = ["canonical", "canonical_dumped", "event_hash", "GENESIS", "digest"]

GENESIS = "0" * 64


def canonical(data: Any) -> str:
    return _CANONICAL(data)


# What ``json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))`` does, without building
# a new encoder on every call (an import encodes every event: a fifth of the encoding time was that).
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def canonical_dumped(data: Any) -> str:
    """``canonical`` of what ``model_dump(mode="json")`` gives (strings, integers, booleans, None, lists,
    string-keyed mappings; no floats: ``tests/test_import_fast.py`` pins that the case model serialises none)
    through orjson, a tenth of the time: for these types its compact, key-sorted output is the same text, every
    character escaped alike (the test compares all of Unicode). What orjson refuses (an integer beyond 64 bits)
    goes the ``json`` way."""
    try:
        return _orjson_dumps(data, option=_SORT_KEYS).decode("utf-8")
    except TypeError:                                    # orjson.JSONEncodeError is a TypeError
        return canonical(data)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_hash(prev_hash: str, case_key: str, seq: int, payload: str, recorded_by: str, recorded_at: str,
               proof: str | None = None, corrects: int | None = None) -> str:
    """Chains one event to the previous one of its case: any change to it, its position, its author or
    time, how its author was established (``proof``), the event it corrects, or to anything before it,
    changes every hash after it. Events stored before revision 0004 have no ``proof`` and were hashed
    without it (setting one on them, or clearing one, breaks the chain all the same)."""
    # Built by hand, byte for byte what ``canonical(parts)`` gives (``verify`` hashes every stored event:
    # the general encoder was a third of its time): every string through the JSON encoder's own string
    # escaper, the numbers as integers. ``tests/test_trail.py`` pins the equality.
    text = (f'[{_str(prev_hash)},{_str(case_key)},{int(seq)},{_str(payload)},{_str(recorded_by)},'
            f'{_str(recorded_at)}')
    if proof is not None:
        text += f',{_str(proof)},{"null" if corrects is None else int(corrects)}'
    return hashlib.sha256((text + "]").encode("utf-8")).hexdigest()


def event_hash_slow(prev_hash: str, case_key: str, seq: int, payload: str, recorded_by: str, recorded_at: str,
                    proof: str | None = None, corrects: int | None = None) -> str:
    """``event_hash`` through ``canonical`` (the definition; kept for the test that pins the two equal)."""
    parts: list[Any] = [prev_hash, case_key, seq, payload, recorded_by, recorded_at]
    if proof is not None:
        parts += [proof, corrects]
    return digest(canonical(parts))


_str = json.encoder.encode_basestring           # the C escaper json.dumps(ensure_ascii=False) uses
