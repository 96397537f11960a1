"""Agency profiles (执法主体档案): the power list (权责清单), its duties for the year and the certified officers.

``rules/agencies/<code>.yaml`` holds what the annual report's 基本情况 counts against: the number of
powers by category, the powers the agency is expected to exercise (应履职事项, by matter code) and
the roster of certified officers (持证执法人员). The annual statistics take two rates from it:

* officer participation rate (执法人员参与办案率) = certified officers who acted in at least one case of
  the year / certified officers on the roster;
* power exercise rate (执法职权履职率) = duties with at least one case of the year (inspection or penalty,
  by the case's matter code) / duties listed.

A malformed profile is a ``DefinitionError`` naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from .definitions import read_yaml, rules_path
from .errors import DefinitionError

__all__ = ["AgencyProfile", "Duty", "InspectionItem", "RosterOfficer", "load_agency", "POWER_CATEGORIES"]

Text = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]

# 权责清单 categories, in the order annual reports list them
POWER_CATEGORIES: dict[str, tuple[str, str]] = {
    "penalty": ("行政处罚", "penalty"), "inspection": ("行政检查", "inspection"),
    "coercion": ("行政强制", "coercion"), "confirmation": ("行政确认", "confirmation"),
    "payment": ("行政给付", "payment"), "licensing": ("行政许可", "licensing"),
    "collection": ("行政征收", "collection"), "award": ("行政奖励", "award"),
    "ruling": ("行政裁决", "ruling"), "other": ("其他职权", "other"),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Duty(_Model):
    code: Text                       # matter code, as in case files' ``matter.code``
    name: Text
    kind: Literal["penalty", "inspection", "coercion", "other"] = "penalty"
    basis: Text


class RosterOfficer(_Model):
    id: Text
    name: Text
    certificate: Text
    valid_until: dt.date | None = None


class InspectionItem(_Model):
    """One item of the agency's published inspection list (涉企行政检查事项清单)."""

    code: Text
    name: Text
    basis: Text
    matters: list[Text] = Field(default_factory=list)    # the case matter codes this item inspects


class AgencyProfile(_Model):
    code: Text
    name: Text
    region: Text = "tianjin"
    source: Text                     # where the counts and the roster come from
    powers: dict[Literal[tuple(POWER_CATEGORIES)], Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    powers_source: Text | None = None
    duties: list[Duty] = Field(min_length=1)
    officers: list[RosterOfficer] = Field(min_length=1)
    inspection_items: list[InspectionItem] | None = None     # None: no published list on file
    inspection_items_source: Text | None = None

    def inspection_listed(self, item: str | None, matter: str | None) -> str:
        """listed | not_listed | no_list | unrecorded: an inspection's item (or its matter) against the
        published list (国办发〔2024〕54号: 未经公布的检查事项不得实施)."""
        if self.inspection_items is None:
            return "no_list"
        if item:
            return "listed" if any(i.code == item for i in self.inspection_items) else "not_listed"
        if matter:
            return "listed" if any(matter == i.code or matter in i.matters for i in self.inspection_items) \
                else "not_listed"
        return "unrecorded"

    @property
    def power_total(self) -> int:
        return sum(self.powers.values())

    def officer_ids(self) -> set[str]:
        return {o.id for o in self.officers}


@lru_cache(maxsize=16)
def _load(source: str) -> AgencyProfile:
    data = read_yaml(source, "agency profile", dict)
    try:
        profile = AgencyProfile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DefinitionError(source, ".".join(str(p) for p in err["loc"]) or "<file>", err["msg"]) from None
    for what, ids in (("officers", [o.id for o in profile.officers]), ("duties", [d.code for d in profile.duties])):
        seen: set[str] = set()
        for n, item in enumerate(ids):
            if item in seen:
                raise DefinitionError(source, f"{what}.{n}", f"{item!r} is listed twice")
            seen.add(item)
    return profile


def agency_path(code: str) -> Path:
    return rules_path("agencies", f"{code}.yaml")


def load_agency(code_or_path: str | Path) -> AgencyProfile:
    """An agency profile by code (``rules/agencies/<code>.yaml``) or by path."""
    path = Path(code_or_path)
    if not path.suffix:
        path = agency_path(str(code_or_path))
        if not path.exists():
            known = sorted(p.stem for p in path.parent.glob("*.yaml"))
            raise DefinitionError(str(path), "<file>", f"no agency profile {code_or_path!r} (known: {', '.join(known)})")
    return _load(str(path))
