"""People, not officer ids: a case file names its officers by codes of its own, and may list one person
under two codes. A certificate number (执法证号) is issued to one officer, so officers with the same
certificate number are one person; officers without one are told apart by id only.

``certificate_key`` is the one comparison every check uses (the two-officer rules, legal-review and
hearing-host independence, a login's cases and steps)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable

__all__ = ["certificate_key", "same_person_as", "same_person_text"]


def certificate_key(text: str | None) -> str:
    """A certificate number as compared: NFKC (full-width digits as ASCII), without spaces, upper case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).upper()


def same_person_as(officer: Any, others: Iterable[Any]) -> list[Any]:
    """Those of ``others`` (officers) who are ``officer``: the officer itself (by id) and every officer
    holding the same certificate number, in the order given."""
    key = certificate_key(getattr(officer, "certificate", None))
    return [o for o in others
            if o.id == officer.id or (key and certificate_key(getattr(o, "certificate", None)) == key)]


def same_person_text(officer: Any, others: Iterable[Any]) -> str:
    """``O3、O1（津执02001）``: ``officer``'s id then the other ids naming the same person, with the
    certificate they share ("" when no other id names them)."""
    ids = [o.id for o in others if o.id != officer.id]
    return f"{'、'.join([officer.id, *ids])}（{officer.certificate}）" if ids else ""
