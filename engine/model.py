"""The ``casecheck/1`` case-file format as pydantic models.

The format is a contract with users' files (see ``shared/design.md``): field names are kept, and new
fields are optional. Unknown fields are refused (``extra='forbid'``): a misspelt ``reviwer`` would
otherwise vanish silently and change a verdict. Dates are ISO ``YYYY-MM-DD`` strings (or YAML dates);
numbers are never accepted for dates. Money is yuan with at most two decimals, never NaN or infinite.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from .hygiene import clean_id

__all__ = ["CaseFile", "Event", "Officer", "Penalty", "EVENT_TYPES", "FORMAT"]

FORMAT = "casecheck/1"


EARLIEST, LATEST = dt.date(1950, 1, 1), dt.date(2099, 12, 31)     # any date a case file can truly hold


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date YYYY-MM-DD, not a date-time")
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            day = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"not a real date: {exc}") from None
    else:
        raise ValueError("expected a date written YYYY-MM-DD")
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"{day.isoformat()} is not a plausible date for a case file "
                         f"({EARLIEST.year}–{LATEST.year}; 日期不合理)")
    return day


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(max_length=4000)]
Id = Annotated[str, BeforeValidator(clean_id), StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
Yuan = Annotated[Decimal, Field(ge=0, le=Decimal("1e10"), decimal_places=2, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Agency(_Model):
    code: Id
    name: Text
    region: Id = "tianjin"


class Matter(_Model):
    code: Id
    name: Text
    domain: Id | None = None


class Party(_Model):
    kind: Literal["person", "organization"]
    name: Text
    id: Id


class Violation(_Model):
    occurred_on: Date
    ended_on: Date | None = None          # a continuing act: the limitation runs from its end
    basis: list[Text] = Field(default_factory=list, max_length=50)
    harm_to_safety: bool = False          # life/health/financial safety with harm: 5-year limitation


class FirstOffence(_Model):
    harm: Literal["none", "slight", "serious"]
    corrected_on: Date | None = None


class Officer(_Model):
    id: Id
    name: Text
    certificate: Id | None = None
    certificate_valid_from: Date | None = None
    certificate_valid_until: Date | None = None
    legal_qualification: bool = False
    first_review_on: Date | None = None         # first legal review done (grandfathering, APL 2017 Art 38)
    role: Literal["officer", "auxiliary", "grid", "third_party"] | None = None   # 协管员, 网格员, 第三方 (issue 19)


class Penalty(_Model):
    kind: Literal["warning", "criticism", "fine", "confiscation", "suspension", "revocation",
                  "closure", "detention", "other"]
    amount: Yuan | None = None

    @model_validator(mode="after")
    def _fine_has_amount(self) -> "Penalty":
        if self.kind == "fine" and self.amount is None:
            raise ValueError("a fine needs an amount (yuan)")
        return self


class _EventBase(_Model):
    date: Date
    officers: list[Id] = Field(default_factory=list, max_length=50)
    documents: list[Text] = Field(default_factory=list, max_length=50)
    recording: Id | None = None                 # audio-video record id (执法记录仪)
    certificates_shown: bool | None = None
    note: LongText | None = None


class PlainEvent(_EventBase):
    type: Literal["discovered", "registered", "inquired", "evidence_preserved", "evidence_handled",
                  "statement", "rights_waived", "hearing_requested", "collective_discussion",
                  "educated", "filed", "enforced", "closed", "seized", "demolished",
                  "released"]                                     # 解除查封、扣押 (行政强制法 第二十八条)


class Paused(_EventBase):
    """One end of a period excluded from the decision clock (中止, 听证, 公告送达), paired by ``pause``."""

    type: Literal["suspended", "resumed"]
    pause: Literal["suspension", "hearing", "public_notice"] = "suspension"


class Inspected(_EventBase):
    type: Literal["inspected"]
    result: Literal["compliant", "violation_found", "ordered_correction", "no_violation"] | None = None
    # 涉企行政检查 (国办发〔2024〕54号; 司法部《行政检查文书基本格式文本（试行）》), all optional:
    kind: Literal["routine", "campaign", "case"] | None = None          # 日常 | 专项 | 个案
    trigger: Literal["complaint", "referral", "monitoring", "request"] | None = None   # 个案: 投诉举报 | 转办交办 | 数据监测 | 企业申请
    item: Id | None = None                      # inspection item code on the agency's published list
    approved_on: Date | None = None             # 行政检查审批表: the head's approval
    emergency: bool | None = None               # approval completed afterwards in an emergency
    plan_approved_on: Date | None = None        # 专项检查: the campaign plan approved
    plan_filed_on: Date | None = None           # … filed (备案)
    plan_published_on: Date | None = None       # … published
    feedback_on: Date | None = None             # result fed back to the business (检查结果告知)
    scanned_on: Date | None = None              # 扫码入企 / 亮码检查: when the code was scanned
    scan_reason: LongText | None = None         # why a scan was late (系统故障 etc.)


class Notified(_EventBase):
    type: Literal["notified"]
    proposed: Penalty | None = None
    hearing_right: bool = False


class HearingNoticed(_EventBase):
    type: Literal["hearing_noticed"]
    hearing_on: Date | None = None


class HearingHeld(_EventBase):
    type: Literal["hearing_held"]
    host: Id | None = None


class LegalReview(_EventBase):
    type: Literal["legal_review"]
    reviewer: Id
    result: Literal["approved", "returned", "rejected"]


class ExtensionApproved(_EventBase):
    type: Literal["extension_approved"]
    approver: Text
    days: int = Field(ge=1, le=365)


class SeizureExtended(_EventBase):
    """The head's approval to extend a seizure by at most 30 days (行政强制法 第二十五条)."""

    type: Literal["seizure_extended"]
    approver: Text
    days: int = Field(ge=1, le=30)


class Decided(_EventBase):
    type: Literal["decided"]
    outcome: Literal["penalty", "no_penalty", "transfer"]
    penalty: Penalty | None = None
    exemption: Literal["first_offence", "minor", "no_fault"] | None = None
    document: Text | None = None
    major: bool = False                         # flagged 重大 / complex by the agency
    discretion_level: Literal["light", "ordinary", "serious"] | None = None   # 裁量基准: the circumstance applied
    benchmark: Text | None = None               # the discretion benchmark cited (name and item)
    reasons: LongText | None = None             # the reasons stated for the amount (顶格 / 高额罚款)

    @model_validator(mode="after")
    def _penalty_matches_outcome(self) -> "Decided":
        if self.outcome == "penalty" and self.penalty is None:
            raise ValueError("outcome 'penalty' needs a 'penalty' {kind, amount}")
        if self.outcome != "penalty" and self.penalty is not None:
            raise ValueError(f"outcome '{self.outcome}' cannot carry a 'penalty'")
        if self.exemption and self.outcome != "no_penalty":
            raise ValueError("an exemption goes with outcome 'no_penalty'")
        return self


class Served(_EventBase):
    type: Literal["served"]
    method: Literal["direct", "on_the_spot", "left", "posted", "mail", "electronic", "announcement"] = "direct"
    consent_on: Date | None = None              # electronic service: the party's consent (送达地址确认书)


class Publicized(_EventBase):
    type: Literal["publicized", "publicity_withdrawn"]
    platform: Literal["supervision_platform", "credit_china", "portal"]


class Paid(_EventBase):
    type: Literal["paid"]
    amount: Yuan
    late_fee: Yuan = Decimal(0)
    on_the_spot: bool | None = None             # 当场收缴 by the officers
    spot_reason: Literal["hard_to_execute", "remote_area"] | None = None   # 行政处罚法 第六十八条第（二）项、第六十九条


class Revoked(_EventBase):
    type: Literal["revoked"]
    reason: Text | None = None


Event = Annotated[
    Union[PlainEvent, Paused, Inspected, Notified, HearingNoticed, HearingHeld, LegalReview,
          ExtensionApproved, Decided, Served, Publicized, Paid, Revoked, SeizureExtended],
    Field(discriminator="type"),
]

EVENT_TYPES: tuple[str, ...] = tuple(sorted(
    t for cls in (PlainEvent, Paused, Inspected, Notified, HearingNoticed, HearingHeld, LegalReview,
                  ExtensionApproved, Decided, Served, Publicized, Paid, Revoked, SeizureExtended)
    for t in cls.model_fields["type"].annotation.__args__
))


class CaseFile(_Model):
    format: Literal["casecheck/1"] = FORMAT
    case_id: Id
    agency: Agency
    procedure: Literal["ordinary", "simple", "inspection"]
    matter: Matter | None = None
    party: Party | None = None
    violation: Violation | None = None
    first_offence: FirstOffence | None = None
    officers: list[Officer] = Field(default_factory=list, max_length=200)
    events: list[Event] = Field(default_factory=list, max_length=2000)

    @model_validator(mode="after")
    def _references(self) -> "CaseFile":
        known: set[str] = set()
        for i, officer in enumerate(self.officers):
            if officer.id in known:
                raise _located(f"officers.{i}.id", f"执法人员编号“{officer.id}”重复列出 / officer id {officer.id!r} is "
                                                   f"listed twice")
            known.add(officer.id)
        for i, event in enumerate(self.events):
            for j, ref in enumerate(event.officers):
                if ref not in known:
                    raise _located(f"events.{i}.officers.{j}",
                                   f"“{ref}”不在本案执法人员名单（officers）中 / officer {ref!r} is not in "
                                   f"the case's officers list")
            for name in ("reviewer", "host"):
                ref = event.__dict__.get(name)        # not getattr: pydantic's miss path is slow
                if ref is not None and ref not in known:
                    raise _located(f"events.{i}.{name}",
                                   f"“{ref}”不在本案执法人员名单（officers）中 / officer {ref!r} is not in "
                                   f"the case's officers list")
        if self.procedure != "inspection" and self.party is None and any(
                e.type == "decided" for e in self.events):
            raise _located("party", "作出决定的案件须写明当事人（kind、name、id）/ a case with a decision needs its "
                                    "party {kind, name, id}")
        return self

    def officer(self, officer_id: str) -> Officer:
        return next(o for o in self.officers if o.id == officer_id)


class LocatedValueError(ValueError):
    """A cross-field error that knows its own field path (pydantic's loc points at the model)."""

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(f"{path}: {message}")


def _located(path: str, message: str) -> LocatedValueError:
    return LocatedValueError(path, message)
