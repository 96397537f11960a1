"""Revision 0010's index, declared on the models too (the migration creates it): the newest case naming a
party (``audit._parties``) in one index probe."""

from __future__ import annotations

from sqlalchemy import Index


def _mirror_indexes() -> None:
    from .tables import CaseRow

    c = CaseRow.__table__.c
    if not any(ix.name == "ix_cases_party_id_id" for ix in CaseRow.__table__.indexes):
        Index("ix_cases_party_id_id", c.party_id, c.id)


_mirror_indexes()
