"""Personal data in reports: a natural person's ID number, phone and address masked by default.

Public-facing publicity shows ``120104********1234``; a reviewer's internal copy (``--unmask``) shows them
whole, and the stamp says which. An organisation's unified social credit code is public and stays whole.
"""

from __future__ import annotations

import re

__all__ = ["mask_id", "mask_phone", "mask_address", "mask_text", "party_id_text", "party_text", "masking_note"]

ID18 = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
ID15 = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{6})(\d{3})(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)(\d{3,4})(\d{4})(?!\d)")


def mask_id(value: str) -> str:
    """``120104197208494381`` → ``120104********4381`` (the region and the last four kept)."""
    v = value.strip()
    if len(v) <= 10:
        return "*" * len(v)
    return v[:6] + "*" * (len(v) - 10) + v[-4:]


def mask_phone(value: str) -> str:
    v = value.strip()
    return v[:3] + "*" * max(len(v) - 7, 0) + v[-4:] if len(v) > 7 else "*" * len(v)


def mask_address(value: str) -> str:
    """The district kept (first six characters), the street and number masked."""
    v = value.strip()
    return v[:6] + "****" if len(v) > 6 else v


def mask_text(text: str) -> str:
    """ID numbers and phone numbers inside free text (a message quoting a document), masked."""
    text = ID18.sub(lambda m: m.group(1) + "*" * 8 + m.group(3)[-4:], text)
    text = ID15.sub(lambda m: m.group(1) + "*" * 5 + m.group(3)[-4:], text)
    text = MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    return LANDLINE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


def party_id_text(kind: str | None, ident: str | None, masked: bool) -> str:
    """A party's ID as a report shows it: a person's (自然人, 个体工商户 by their resident ID) masked unless
    ``masked`` is False; an organisation's unified social credit code is public and stays whole. A party
    of unknown kind is treated as a person."""
    if not ident:
        return ""
    return mask_id(ident) if masked and kind != "organization" else ident


def party_text(kind: str | None, name: str | None, ident: str | None, masked: bool) -> str:
    """``name（ID）`` as a report shows the party; a person's ID masked unless ``masked`` is False."""
    if not name:
        return ""
    if not ident:
        return name
    return f"{name}（{party_id_text(kind, ident, masked)}）"


def masking_note(masked: bool, lang: str) -> str:
    if lang == "zh":
        return "个人信息已脱敏" if masked else "个人信息未脱敏（内部使用，不得公开）"
    return "personal data masked" if masked else "personal data NOT masked (internal copy, not for publication)"
