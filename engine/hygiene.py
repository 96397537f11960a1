"""Input hygiene at the boundary (issue 17): what no case file may carry into the store or a terminal.

- Control characters (NUL, C0 except tab and line breaks, DEL, C1) are refused in every text value and
  key, with the field's path and the character's position: PostgreSQL never sees a NUL, and no escape
  sequence from a file reaches a terminal.
- Identifiers (``Id`` fields: case, agency, party, officer, matter, certificate, record ids) are
  Unicode-normalised (NFKC: full-width "ＡＢ１" is "AB1"; the full-width punctuation of Chinese document
  numbers, （）［］：；，。！？、, is kept as written) and refused when they hold zero-width or
  bidirectional-control characters, so two ids that look the same are the same id.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

__all__ = ["clean_id", "control_problems", "CONTROL"]

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
INVISIBLE = re.compile(r"[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _name(ch: str) -> str:
    return f"U+{ord(ch):04X}" + (f" {unicodedata.name(ch)}" if unicodedata.name(ch, "") else
                                 " NUL" if ch == "\x00" else "")


def clean_id(value: Any) -> Any:
    """NFKC form of an identifier; refuses invisible (zero-width, bidi-control) characters."""
    if not isinstance(value, str):
        return value
    bad = INVISIBLE.search(value)
    if bad:
        raise ValueError(f"标识含不可见字符 {_name(bad.group())}（第 {bad.start() + 1} 个字符），请删除 / the "
                         f"identifier holds an invisible character {_name(bad.group())} at position "
                         f"{bad.start() + 1}: two ids that look the same must be the same id; remove it")
    return "".join(part if part in KEPT else unicodedata.normalize("NFKC", part) for part in _KEPT_SPLIT.split(value))


# Full-width punctuation Chinese document numbers are written with (（2024）, ［2024］): kept as written, so a
# case id reads as on the document; everything else (full-width letters and digits, compatibility forms)
# takes its NFKC form.
KEPT = set("（）［］｛｝：；，。！？、")
_KEPT_SPLIT = re.compile("([" + re.escape("".join(sorted(KEPT))) + "])")


_SUSPECT = re.compile(r"\\u00[01][0-9a-fA-F]|\\[bf]|\\u007[fF]|[\x7f-\x9f]")


def control_problems(raw: Any, limit: int = 20) -> list[tuple[str, str]]:
    """(field path, message) for each text value or key holding a control character (at most ``limit``).
    Fast path: the document as JSON (C encoder; control characters come out escaped) is searched once,
    and only a document that may hold one is walked (a literal backslash can look like an escape: the
    walk then finds nothing)."""
    try:
        text = json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = None
    if text is not None and not _SUSPECT.search(text):
        return []
    out: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [("", raw)]
    while stack and len(out) < limit:
        path, item = stack.pop()
        if isinstance(item, str):
            bad = CONTROL.search(item)
            if bad:
                out.append((path or "<document>", _message(bad)))
        elif isinstance(item, dict):
            for key, value in item.items():
                sub = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and CONTROL.search(key):
                    out.append((sub, _message(CONTROL.search(key))))
                    continue
                stack.append((sub, value))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}" if path else str(i), v) for i, v in enumerate(item))
    return sorted(out)


def _message(bad: re.Match) -> str:
    return (f"含控制字符 {_name(bad.group())}（第 {bad.start() + 1} 个字符），不允许，请删除 / holds the control "
            f"character {_name(bad.group())} at position {bad.start() + 1}; control characters are not allowed "
            f"in a case file: remove it")
