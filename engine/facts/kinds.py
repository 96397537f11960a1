"""The fact kinds: small typed records a rule condition compares with constants.

Field types are strict: condition fields are ``int`` (days as ordinals, money in fen, counts), ``bool``
or ``str`` codes. Fields made with ``_display`` (dates as text, names) are for messages only and never
reach the engine. Every fact has ``act_day``: the date of the act that selects the law version applied.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["Fact", "FACT_KINDS", "condition_fields", "DecisionFact", "FirstOffenceFact", "PublicityFact",
           "OfficerActFact", "ActFact", "DocumentFact", "StepFact", "DeadlineFact", "HearingFact",
           "LimitationFact", "PaymentFact", "ClosingFact"]


def _display(default: Any = "") -> Any:
    return field(default=default, metadata={"display": True})


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    KIND: ClassVar[str] = ""
    key: str = field(metadata={"display": True})
    act_day: int
    events: tuple[int, ...] = field(default=(), metadata={"display": True})
    due_date: str = _display()

    @property
    def kind(self) -> str:
        return self.KIND


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionFact(Fact):
    """One decision (``decided`` event) and what precedes it in the file."""

    KIND: ClassVar[str] = "decision"
    procedure: str
    outcome: str                      # penalty | no_penalty | transfer
    party_kind: str                   # person | organization | none
    penalty_kind: str                 # "" when no penalty
    fine_fen: int                     # the amount of a fine or confiscation, in fen
    major: bool
    review_required: bool             # law + profile: this decision must be legally reviewed first
    review_approved_before: bool      # the last review dated on/before it, listed before it, approved
    reviewer_investigated: bool       # that approving reviewer also acted in the investigation
    reviewer_qualified: bool          # that approving reviewer holds 法律职业资格
    reviewer_first_review_day: int    # the reviewer's first review (recorded, else this one); 0 = none
    notice_before: bool               # a 告知 listed before it and dated on/before it
    notice_hearing_right: bool        # a notice before it told the party of the hearing right
    statement_window_open: bool       # decided on/before the last day of the statement / hearing-request window
    rights_waived_or_heard: bool      # the party waived its rights after the last notice, or was heard
    discussed_before: bool            # a collective discussion listed before it, dated on/before it
    exemption: str                    # "" | first_offence | minor | no_fault
    educated: bool                    # an education record (教育, 告诫, 承诺书) is in the file
    heavier_than_notice: bool = False # the penalty is heavier than the one the last notice proposed
    hearing_requested_in_time: bool = False   # a hearing was requested within the period after a notice with the right
    heard_before: bool = False        # a hearing was held before the decision
    fine_position: str = ""           # a fine against the matter's statutory range: top | within | over_max | ""
    special_law: str = ""             # the special law (rules/special_laws.yaml) whose limits apply, else ""
    over_special_limit: bool = False  # a simple-procedure fine above that special law's on-the-spot limit
    reasons_given: bool = False       # the decision states reasons for the amount
    benchmark_status: str = ""        # the fine against the benchmark range of the level applied: within | outside | ""
    review_state: str = _display()    # none | approved | returned | rejected | late_review
    review_date: str = _display()
    reviewer_name: str = _display()
    reviewer_link: str = _display()   # how the approving reviewer investigated: self | same_person (another id, one certificate) | ""
    reviewer_same_person: str = _display()   # the reviewer's id and the investigating ids of the same person: R1、O1（津执02001）
    decision_date: str = _display()
    notice_date: str = _display()
    fine_yuan: str = _display()
    window_end_date: str = _display()
    window_text: str = _display()
    proposed_text: str = _display()   # the penalty the last notice proposed, in words
    penalty_text: str = _display()    # the penalty decided, in words
    request_date: str = _display()
    first_review_state: str = _display()   # recorded (the officer's first_review_on) | assumed (this review)
    first_review_date: str = _display()
    window_name: str = _display()     # 陈述申辩期 | 陈述申辩和听证申请期
    statutory_text: str = _display()  # "5,000–50,000 元（《消防法》…）"
    simple_limit_text: str = _display()
    level_text: str = _display()      # the circumstance applied and its benchmark range
    # why the heads had to discuss it (message only): major | fine | major_fine, each with "_nocolumn" when the
    # case came from a ledger that has no 集体讨论日期 column (it could not say a discussion took place); "" none
    discussion_case: str = _display()
    discussion_fine_yuan: str = _display()   # the profile's collective_discussion_fine, "50,000.00"


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstOffenceFact(Fact):
    """A decision on a matter, measured against the jurisdiction's first-offence exemption list."""

    KIND: ClassVar[str] = "first_offence"
    outcome: str
    exemption: str
    listed: bool                      # the matter is on the list in force on the decision date
    prior_in_lookback: bool           # the party violated the same matter within the look-back period
    harm: str                         # none | slight | serious | unrecorded
    harm_allowed: bool                # the recorded harm is one the list item allows
    corrected_in_time: bool           # corrected within the item's correction period
    matter_name: str = _display()
    prior_case: str = _display()
    lookback_months: int = _display(0)
    correction_due_date: str = _display()
    corrected_date: str = _display()
    list_name: str = _display()
    decision_date: str = _display()


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicityFact(Fact):
    """One publicity obligation: something to publicize (or withdraw) on one platform within a window."""

    KIND: ClassVar[str] = "publicity"
    obligation: str                   # penalty_decision | other_decision | withdrawal
    platform: str
    procedure: str
    window_workdays: int
    status: str                       # on_time | late | missed | open
    late_workdays: int                # working days past the due date (done, or as of the as-of date)
    start_date: str = _display()      # the decision, inspection or revocation the window runs from
    revoked_date: str = _display()    # the decision was revoked that day (status missed_revoked)
    publicized_date: str = _display()
    as_of_date: str = _display()


@dataclass(frozen=True, slots=True, kw_only=True)
class OfficerActFact(Fact):
    """One officer acting in one event."""

    KIND: ClassVar[str] = "officer_act"
    event_type: str
    role: str = "officer"             # officer | auxiliary | grid | third_party (assistants need no certificate)
    has_certificate: bool
    certificate_valid: bool           # held and valid on the date of the act
    officer_name: str = _display()
    certificate: str = _display()
    valid_until_date: str = _display()
    act_date: str = _display()
    cert_state: str = _display()      # none | not_yet | expired | valid
    valid_from_date: str = _display()


@dataclass(frozen=True, slots=True, kw_only=True)
class ActFact(Fact):
    """One act done by officers (inspection, inquiry, evidence preservation, service, decision…)."""

    KIND: ClassVar[str] = "act"
    event_type: str
    procedure: str
    officer_count: int                # distinct persons named on the act (one certificate, one person; assistants not counted)
    consented: bool = True            # electronic service: the party agreed to it beforehand (else True)
    one_officer_allowed: bool = False  # a special law lets one officer decide this on the spot (道路交通安全法 第一百零七条)
    certificates: str                 # shown | not_shown | unrecorded
    has_recording: bool               # an audio-video record id is attached
    service_method: str               # the method of a service, else ""
    act_date: str = _display()
    recording: str = _display()
    staffing: str = _display()        # none (no one named on the act) | named | same_person (one listed twice)
    same_person: str = _display()     # the ids that name one person: O1、O2（津执07718）


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentFact(Fact):
    """A step that must leave a document in the file (全过程记录)."""

    KIND: ClassVar[str] = "document"
    event_type: str
    procedure: str
    has_document: bool
    document_zh: str = _display()
    document_en: str = _display()
    act_date: str = _display()


@dataclass(frozen=True, slots=True, kw_only=True)
class StepFact(Fact):
    """One event replayed through the case's workflow."""

    KIND: ClassVar[str] = "step"
    event_type: str
    procedure: str
    allowed: bool
    reason: str                       # "" | wrong_state | unknown_event | date_order
    state_before: str = _display()
    act_date: str = _display()
    previous_date: str = _display()   # the latest date of the steps before it


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineFact(Fact):
    """A deadline clock running from an act (act_day) to a due date."""

    KIND: ClassVar[str] = "deadline"
    clock: str                        # decision_90 | service_7 | evidence_7 | simple_filing
    status: str                       # met | late | missed | open
    overdue_days: int                 # calendar days past due (at the act, or at the as-of date)
    overdue_workdays: int             # the same in working days
    extension_days: int
    paused_days: int
    start_date: str = _display()
    done_date: str = _display()
    as_of_date: str = _display()
    period_text: str = _display()
    late_text: str = _display()       # "2 个工作日" or "3 日": lateness in the period's own unit
    late_unit: str = _display("workdays")   # the period's unit: workdays (工作日) | days (日)
    late_text_en: str = _display()
    backdated_date: str = _display()  # a service on file dated before the decision it would serve


@dataclass(frozen=True, slots=True, kw_only=True)
class HearingFact(Fact):
    """A hearing held, and the notice of its time and place."""

    KIND: ClassVar[str] = "hearing"
    noticed: bool                     # a hearing notice precedes it
    notice_short: bool                # the notice came later than the lead time before the hearing
    host_investigated: bool = False   # the host (主持人) acted in the case's investigation
    notice_state: str = _display()    # missing | short | ok
    host_name: str = _display()
    host_link: str = _display()       # how the host investigated: self | same_person (another id, one certificate) | ""
    host_same_person: str = _display()   # the host's id and the investigating ids of the same person: H1、O1（津执02001）
    notice_date: str = _display()
    hearing_date: str = _display()
    period_text: str = _display()


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitationFact(Fact):
    """The violation and its discovery, for the limitation period (act_day = the violation)."""

    KIND: ClassVar[str] = "limitation"
    harm_to_safety: bool
    within_2_years: bool              # discovered on or before the day two years after the violation
    within_5_years: bool
    occurred_date: str = _display()
    discovered_date: str = _display()
    limit_2_date: str = _display()
    limit_5_date: str = _display()


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentFact(Fact):
    """What was paid against a fine, and the late fee (加处罚款)."""

    KIND: ClassVar[str] = "payment"
    fine_fen: int
    late_fee_fen: int
    late_fee_excess_fen: int          # late fee minus the fine (> 0: over the cap)
    spot_collected: bool = False      # collected on the spot by the officers (当场收缴)
    spot_allowed: bool = True         # within the on-the-spot collection limit, or a lawful reason recorded
    spot_limit_text: str = _display()
    fine_yuan: str = _display()
    late_fee_yuan: str = _display()
    paid_date: str = _display()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosingFact(Fact):
    """The closing of a case that had a decision or a revocation."""

    KIND: ClassVar[str] = "closing"
    outcome: str                      # penalty | no_penalty | transfer | revoked
    executed: bool                    # the outcome was carried out before closing
    closing_date: str = _display()
    penalty_kind: str = _display()
    fine_yuan: str = _display()
    paid_yuan: str = _display()


FACT_KINDS: dict[str, type[Fact]] = {
    cls.KIND: cls for cls in (DecisionFact, FirstOffenceFact, PublicityFact, OfficerActFact, ActFact,
                              DocumentFact, StepFact, DeadlineFact, HearingFact, LimitationFact, PaymentFact,
                              ClosingFact)
}


def condition_fields(kind: str) -> dict[str, type]:
    """The fields of a fact kind a rule condition may compare, with their Python types."""
    cls = FACT_KINDS[kind]
    types = {"int": int, "bool": bool, "str": str}
    return {f.name: types[f.type if isinstance(f.type, str) else f.type.__name__]
            for f in dataclasses.fields(cls) if not f.metadata.get("display")}


@dataclass(frozen=True, slots=True, kw_only=True)
class InspectionFact(Fact):
    """One on-site inspection of a business (涉企行政检查) in an inspection-procedure case."""

    KIND: ClassVar[str] = "inspection"
    inspection_kind: str              # routine | campaign | case | unrecorded
    trigger: str                      # complaint | referral | monitoring | request | "" (个案 only)
    item_status: str                  # listed | not_listed | no_list | unrecorded
    approval: str                     # before | emergency_in_time | emergency_late | after | missing
    plan: str                         # na (not a campaign) | ok | not_approved | not_filed | not_published
    certified_officers: int           # officers named with a certificate valid that day
    assistants: int                   # auxiliary staff, grid workers, third parties named on it
    feedback: str                     # given | missing (case closed without it) | open
    year_count: int                   # nth counted inspection of the business by this agency this year
    over_cap: bool                    # year_count beyond the profile's yearly cap for the matter's domain
    scan: str                         # not_required | on_time | late_with_reason | late | missing
    act_date: str = _display()
    item: str = _display()
    approved_date: str = _display()
    approval_due_date: str = _display()
    year_cap: int = _display(0)
    year_text: str = _display()
    scan_date: str = _display()
    agency_name: str = _display()


FACT_KINDS[InspectionFact.KIND] = InspectionFact
__all__.append("InspectionFact")
