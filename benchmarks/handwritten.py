"""The catalogue's checks written by hand in plain Python: the speed baseline for the rule stage.

It reads the same precomputed facts as casecheck's engines and returns the same ``(rule id, fact
key)`` pairs, with every rule's versions and effective dates typed in as constants (date ordinals:
728933 = 1996-10-01, 734503 = 2012-01-01, 736695 = 2017-12-29, 737033 = 2019-01-03,
737986 = 2021-07-15, the revised 行政处罚法). ``bench_rules`` asserts that it agrees with casecheck on
every generated case before it times anything. It is what a team would write without a rule engine:
fast, and with every legal constant buried in code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

NEW_LAW = 737986                  # 2021-07-15
OLD_LAW = 728933                  # 1996-10-01
REVIEW_2018 = 736695              # 法制审核 (三项制度) in force
PUBLIC_2019 = 737033              # 公示 / 全过程记录 in force
LATE_FEE_LAW = 734503             # 行政强制法 late-fee cap
COERCION_LAW = 734503             # 行政强制法 in force (2012-01-01)
DISCRETION_2022 = dt.date(2022, 8, 1).toordinal()      # 国办发〔2022〕27号 裁量基准
FINES_2024 = dt.date(2024, 2, 9).toordinal()           # 国发〔2024〕5号 顶格罚款
INSPECTION_54 = dt.date(2025, 1, 3).toordinal()        # 国办发〔2024〕54号 published
INSPECTION_KINDS = dt.date(2025, 5, 8).toordinal()     # 津司发〔2025〕8号: kinds, the head's approval
INSPECTION_FEEDBACK = dt.date(2025, 6, 1).toordinal()  # 司法部 行政检查文书格式: result fed back
INSPECTION_CAP = dt.date(2025, 7, 1).toordinal()       # published yearly caps


def _new(day: int) -> bool:
    return day >= NEW_LAW


def _old(day: int) -> bool:
    return OLD_LAW <= day < NEW_LAW


ON_SITE = {"inspected", "inquired", "evidence_preserved"}
SHOWN_ACTS = {"inspected", "inquired", "evidence_preserved", "seized", "demolished"}
SHOWN_SERVICE = {"direct", "on_the_spot", "left"}
RECORDED_ACTS = {"inspected", "evidence_preserved", "seized", "demolished", "hearing_held"}
RECORDED_SERVICE = {"left", "posted", "announcement"}
PUBLICITY = {"penalty_decision": ("publicity.penalty_within_7_workdays", PUBLIC_2019),
             "other_decision": ("publicity.decision_within_20_workdays", PUBLIC_2019),
             "withdrawal": ("publicity.withdrawn_within_3_workdays", NEW_LAW)}
CLOCKS = {"decision_90": ("deadline.decision_within_90_days", NEW_LAW),
          "service_7": ("deadline.service_within_7_workdays", OLD_LAW),
          "evidence_7": ("deadline.evidence_handled_7_workdays", OLD_LAW),
          "simple_filing": ("simple.filed", OLD_LAW),
          "seizure_30": ("coercion.seizure_period", COERCION_LAW)}


def evaluate(facts: Iterable[Any]) -> set[tuple[str, str]]:
    hits: set[tuple[str, str]] = set()
    add = hits.add
    for f in facts:
        kind = f.KIND
        day = f.act_day
        if day < OLD_LAW:
            continue
        if kind == "step":
            if not f.allowed:
                add(("workflow.illegal_step", f.key))
        elif kind == "officer_act":
            if not f.certificate_valid and f.role == "officer":
                add(("procedure.certificate_valid", f.key))
        elif kind == "act":
            _act(f, day, add)
        elif kind == "document":
            if day >= PUBLIC_2019 and not f.has_document:
                add(("recording.documents_complete", f.key))
        elif kind == "decision":
            _decision(f, day, add)
        elif kind == "first_offence":
            _first_offence(f, day, add)
        elif kind == "deadline":
            rule = CLOCKS.get(f.clock)
            if rule and day >= rule[1] and f.status in ("late", "missed", "backdated"):
                add((rule[0], f.key))
        elif kind == "publicity":
            rule = PUBLICITY.get(f.obligation)
            if rule and day >= rule[1] and f.status in ("late", "missed", "missed_revoked"):
                add((rule[0], f.key))
        elif kind == "limitation":
            if _new(day):
                if (not f.within_2_years and not f.harm_to_safety) or not f.within_5_years:
                    add(("deadline.limitation_period", f.key))
            elif not f.within_2_years:
                add(("deadline.limitation_period", f.key))
        elif kind == "hearing":
            if not f.noticed or f.notice_short:
                add(("procedure.hearing_notice_7_workdays", f.key))
            if f.host_investigated:
                add(("procedure.hearing_host_independent", f.key))
        elif kind == "payment":
            if day >= LATE_FEE_LAW and f.late_fee_excess_fen > 0:
                add(("execution.late_fee_cap", f.key))
            if f.spot_collected and not f.spot_allowed:
                add(("execution.on_the_spot_collection", f.key))
        elif kind == "closing":
            if not f.executed:
                add(("closing.outcome_executed", f.key))
        elif kind == "inspection":
            if day >= INSPECTION_54:
                _inspection(f, day, add)
    return hits


def _inspection(f: Any, day: int, add: Any) -> None:
    if f.item_status == "not_listed":
        add(("inspection.item_listed", f.key))
    if f.plan in ("not_approved", "not_filed", "not_published"):
        add(("inspection.campaign_plan", f.key))
    if f.assistants >= 1 and f.certified_officers < 2:
        add(("inspection.certified_officers", f.key))
    if day >= INSPECTION_KINDS:
        if f.inspection_kind == "unrecorded" or (f.inspection_kind == "case" and f.trigger == ""):
            add(("inspection.kind_recorded", f.key))
        if f.approval in ("missing", "after", "emergency_late"):
            add(("inspection.approved_before", f.key))
    if day >= INSPECTION_FEEDBACK and f.feedback == "missing":
        add(("inspection.result_fed_back", f.key))
    if day >= INSPECTION_CAP and f.over_cap:
        add(("inspection.yearly_cap", f.key))
    if f.scan in ("missing", "late"):
        add(("inspection.scan_on_entry", f.key))


def _act(f: Any, day: int, add: Any) -> None:
    event, method = f.event_type, f.service_method
    simple_decision = event == "decided" and f.procedure == "simple"
    if f.officer_count < 2 and (event in ON_SITE or (_new(day) and simple_decision and not f.one_officer_allowed)):
        add(("procedure.two_officers", f.key))
    if f.certificates != "shown" and (event in SHOWN_ACTS or (event == "served" and method in SHOWN_SERVICE)
                                      or simple_decision):
        add(("publicity.certificates_shown", f.key))
    if event == "seized" and f.officer_count < 2 and day >= COERCION_LAW:
        add(("coercion.two_officers", f.key))
    if _new(day) and event == "served" and method == "electronic" and not f.consented:
        add(("procedure.electronic_service_consent", f.key))
    if day >= PUBLIC_2019 and not f.has_recording and (
            event in RECORDED_ACTS or (event == "served" and method in RECORDED_SERVICE)):
        add(("recording.av_on_site", f.key))


def _decision(f: Any, day: int, add: Any) -> None:
    new = _new(day)
    penalty = f.outcome == "penalty"
    if day >= REVIEW_2018 and f.review_required and not f.review_approved_before:
        add(("legal_review.required_before_decision", f.key))
    if day >= PUBLIC_2019 and f.review_approved_before and f.reviewer_investigated:
        add(("legal_review.reviewer_independent", f.key))
    if (day >= REVIEW_2018 and f.review_approved_before and not f.reviewer_qualified
            and f.reviewer_first_review_day >= REVIEW_2018):
        add(("legal_review.reviewer_qualified", f.key))
    if new and f.outcome == "no_penalty" and f.exemption in ("first_offence", "minor", "no_fault") and not f.educated:
        add(("first_offence.education_missing", f.key))
    if not penalty:
        return
    if day >= DISCRETION_2022 and (f.benchmark_status == "outside" or f.fine_position == "over_max"):
        add(("discretion.benchmark_range", f.key))
    if day >= FINES_2024 and f.fine_position == "top" and not f.reasons_given:
        add(("discretion.top_fine_reasons", f.key))
    if f.notice_before and f.heavier_than_notice:
        add(("procedure.heavier_than_notified", f.key))
    if f.hearing_requested_in_time and not f.heard_before:
        add(("procedure.hearing_not_held", f.key))
    if not f.notice_before:
        add(("procedure.notice_before_decision", f.key))
    elif f.procedure == "ordinary" and f.statement_window_open and not f.rights_waived_or_heard:
        add(("procedure.statement_period", f.key))
    if f.notice_before and not f.notice_hearing_right and _hearing_right(f, new):
        add(("procedure.hearing_right_notified", f.key))
    if not f.discussed_before and (f.major or f.fine_fen >= 5_000_000):
        add(("procedure.collective_discussion", f.key))
    if f.procedure == "simple":
        person, org = (20_000, 300_000) if new else (5_000, 100_000)
        if f.special_law:                   # a special law's own on-the-spot limit (rules/special_laws.yaml)
            over = f.over_special_limit
        else:
            over = (f.party_kind == "person" and f.fine_fen > person) or (
                f.party_kind == "organization" and f.fine_fen > org)
        if over or f.penalty_kind not in ("warning", "fine"):
            add(("simple.threshold", f.key))


def _hearing_right(f: Any, new: bool) -> bool:
    kind = f.penalty_kind
    if kind in ("suspension", "revocation") or (new and kind == "closure"):
        return True
    if kind in ("fine", "confiscation"):        # confiscation before 2021 too: 〔2004〕行他字第1号, 指导案例6号
        return (f.party_kind == "person" and f.fine_fen >= 500_000) or (
            f.party_kind == "organization" and f.fine_fen >= 10_000_000)
    return False


def _first_offence(f: Any, day: int, add: Any) -> None:
    if not _new(day):
        return
    if (f.outcome == "penalty" and f.listed and not f.prior_in_lookback and f.harm_allowed
            and f.corrected_in_time):
        add(("first_offence.not_applied", f.key))
    if f.exemption == "first_offence" and (not f.listed or f.prior_in_lookback or not f.harm_allowed
                                           or not f.corrected_in_time):
        add(("first_offence.without_basis", f.key))
