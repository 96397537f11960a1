"""Facts about a decision: what precedes it (review, notice, waiting period, discussion), and the
first-offence exemption measured against the list and the party's history."""

from __future__ import annotations

import datetime as dt
from typing import Iterator

from ..exemptions import months_before
from ..model import CaseFile, Decided, LegalReview, Officer
from ..persons import same_person_as, same_person_text
from .context import FactContext, fen, iso
from .kinds import DecisionFact, Fact, FirstOffenceFact

INVESTIGATIVE = frozenset({"registered", "inspected", "inquired", "evidence_preserved", "evidence_handled",
                           "notified", "seized"})
EDUCATION_WORDS = ("教育", "告诫", "承诺书")
# how heavy a kind of penalty is, for "heavier than notified" (行政处罚法 第九条's order, lightest first);
# "other" is not ranked: a decision of another kind is not compared
SEVERITY = {"warning": 1, "criticism": 1, "fine": 2, "confiscation": 3, "suspension": 4, "revocation": 5,
            "closure": 6, "detention": 7}


def penalty_text(penalty: object, lang: str = "zh") -> str:
    """罚款 2,000.00 元 / 警告 / 责令停产停业: a penalty in words, the amount only where there is one."""
    from ..vocab import label

    if penalty is None:
        return ""
    amount = getattr(penalty, "amount", None)
    kind = label(penalty.kind, lang)      # type: ignore[attr-defined]
    if amount is None:
        return kind
    return f"{kind} {amount:,.2f} 元" if lang == "zh" else f"{kind} of {amount:,.2f} yuan"


def heavier(decided: object, proposed: object) -> bool:
    if decided is None or proposed is None:
        return False
    a, b = SEVERITY.get(decided.kind), SEVERITY.get(proposed.kind)        # type: ignore[attr-defined]
    if a is None or b is None:
        return False
    if a != b:
        return a > b
    return decided.kind == proposed.kind and (decided.amount or 0) > (proposed.amount or 0)   # type: ignore[attr-defined]


def decision_facts(case: CaseFile, ctx: FactContext) -> Iterator[Fact]:
    for i, event in enumerate(case.events):
        if isinstance(event, Decided):
            yield _decision(case, i, event, ctx)
            offence = _first_offence(case, i, event, ctx)
            if offence is not None:
                yield offence


def _investigators(case: CaseFile, before: int) -> set[str]:
    return {o for e in case.events[:before] if e.type in INVESTIGATIVE for o in e.officers}


def investigated_as(case: CaseFile, officer: Officer, before: int) -> list[Officer]:
    """The case's officers who investigated it (acted in an investigative step listed before index
    ``before``) and are ``officer``: the officer itself, or an officer with the same certificate number
    (one person listed under two ids). Empty when that person took no part in the investigation."""
    ids = _investigators(case, before)
    return same_person_as(officer, [o for o in case.officers if o.id in ids])


def _educated(case: CaseFile) -> bool:
    return any(e.type == "educated" or any(w in d for d in e.documents for w in EDUCATION_WORDS)
               for e in case.events)


def _before(case: CaseFile, i: int, event_type: str, day: dt.date) -> list[tuple[int, object]]:
    """Events of a type listed before index ``i`` and dated on or before ``day``."""
    return [(j, e) for j, e in enumerate(case.events[:i]) if e.type == event_type and e.date <= day]


def _decision(case: CaseFile, i: int, event: Decided, ctx: FactContext) -> DecisionFact:
    prior = case.events[:i]
    reviews = [(j, e) for j, e in enumerate(prior) if isinstance(e, LegalReview)]
    on_time = [(j, e) for j, e in reviews if e.date <= event.date]
    last = on_time[-1] if on_time else None
    if last is not None:
        state = last[1].result
    elif reviews:
        state = "late_review"           # listed before the decision but dated after it
    else:
        later = [e for e in case.events[i + 1:] if isinstance(e, LegalReview)]
        state = "late_review" if later else "none"
    approved = last is not None and last[1].result == "approved"
    reviewer = case.officer(last[1].reviewer) if approved else None
    first_review = 0
    if reviewer is not None:
        first_review = (reviewer.first_review_on or last[1].date).toordinal()
    investigated = investigated_as(case, reviewer, i) if reviewer is not None else []
    notices = _before(case, i, "notified", event.date)
    penalty = event.penalty
    heard = any(e.type == "hearing_held" for e in prior)
    required = (case.procedure == "ordinary" and event.outcome == "penalty"
                and (ctx.profile["legal_review_all_ordinary_penalties"] or event.major or heard))
    window_open, waived, window_end, window_text = False, False, None, ""
    if notices:
        n_index, notice = notices[-1]
        after = case.events[n_index + 1:i]
        waived = any(e.type in ("rights_waived", "hearing_held") for e in after)
        statement = ctx.periods.at("statement", notice.date)
        ends = [(statement.due(notice.date, ctx.calendar), statement)] if statement else []
        if getattr(notice, "hearing_right", False):
            hearing = ctx.periods.at("hearing_request", notice.date)
            if hearing:
                ends.append((hearing.due(notice.date, ctx.calendar), hearing))
        if ends:
            window_end, period = max(ends, key=lambda pair: pair[0])
            window_text = period.text("zh")
            window_open = event.date <= window_end
    proposed = getattr(notices[-1][1], "proposed", None) if notices else None
    requested_in_time, request_day = False, None
    hearing_notices = [(j, e) for j, e in notices if getattr(e, "hearing_right", False)]
    if hearing_notices:
        h_index, h_notice = hearing_notices[-1]
        period = ctx.periods.at("hearing_request", h_notice.date)
        due = period.due(h_notice.date, ctx.calendar) if period else None
        requests = [e for e in case.events[h_index + 1:i] if e.type == "hearing_requested"]
        if requests:
            request_day = requests[0].date
            requested_in_time = due is None or request_day <= due
    shown = [i] + ([last[0]] if last else []) + ([notices[-1][0]] if notices else [])
    return DecisionFact(
        key=f"d{i}", act_day=event.date.toordinal(), events=tuple(sorted(set(shown))),
        procedure=case.procedure, outcome=event.outcome,
        party_kind=case.party.kind if case.party else "none",
        penalty_kind=penalty.kind if penalty else "", fine_fen=fen(penalty.amount if penalty else None),
        major=event.major, review_required=required, review_approved_before=approved,
        reviewer_investigated=bool(investigated),
        reviewer_link=("self" if any(o.id == reviewer.id for o in investigated) else "same_person")
        if reviewer is not None and investigated else "",
        reviewer_same_person=same_person_text(reviewer, investigated) if reviewer is not None else "",
        reviewer_qualified=reviewer is not None and reviewer.legal_qualification,
        reviewer_first_review_day=first_review,
        notice_before=bool(notices),
        notice_hearing_right=any(getattr(e, "hearing_right", False) for _, e in notices),
        statement_window_open=window_open, rights_waived_or_heard=waived,
        discussed_before=bool(_before(case, i, "collective_discussion", event.date)),
        exemption=event.exemption or "", educated=_educated(case),
        review_state=state, review_date=iso(last[1].date) if last else "",
        reviewer_name=reviewer.name if reviewer else "",
        decision_date=event.date.isoformat(), notice_date=iso(notices[-1][1].date) if notices else "",
        fine_yuan=f"{penalty.amount:,.2f}" if penalty and penalty.amount is not None else "",
        window_end_date=iso(window_end), window_text=window_text,
        heavier_than_notice=heavier(penalty, proposed), hearing_requested_in_time=requested_in_time,
        heard_before=heard, proposed_text=penalty_text(proposed), penalty_text=penalty_text(penalty),
        request_date=iso(request_day),
        first_review_state="recorded" if reviewer is not None and reviewer.first_review_on else "assumed",
        first_review_date=iso(reviewer.first_review_on) if reviewer is not None else "",
        window_name="陈述申辩和听证申请期" if notices and getattr(notices[-1][1], "hearing_right", False) else "陈述申辩期",
        **_discussion(event, ctx),
        **_discretion(case, event, ctx), **_special(case, event),
    )


def _discussion(event: Decided, ctx: FactContext) -> dict[str, object]:
    """Why the heads had to discuss this decision (flagged major, a fine from the profile's amount), for the
    message: it says why, never a 重大：否 the input did not state."""
    threshold = ctx.profile.params.get("collective_discussion_fine")
    amount = fen(event.penalty.amount) if event.penalty else 0
    by_fine = event.outcome == "penalty" and threshold is not None and amount >= threshold
    reason = "major_fine" if event.major and by_fine else ("major" if event.major else ("fine" if by_fine else ""))
    if reason and "collective_discussion" in ctx.unstated:
        reason += "_nocolumn"
    return {"discussion_case": reason,
            "discussion_fine_yuan": f"{threshold / 100:,.2f}" if threshold is not None else ""}


def _special(case: CaseFile, event: Decided) -> dict[str, object]:
    """A special law's own on-the-spot limit (“法律另有规定的，从其规定”)."""
    from ..special_laws import special_limits

    limits = special_limits(case.violation, event.date)
    if limits is None:
        if event.date >= dt.date(2021, 7, 15):
            return {"simple_limit_text": "《行政处罚法》第五十一条：公民二百元、单位三千元以下罚款或者警告"}
        return {"simple_limit_text": "《行政处罚法》（1996）第三十三条：公民五十元、单位一千元以下罚款或者警告"}
    kind = case.party.kind if case.party else "person"
    cap = limits.simple_max.get(kind)
    amount = fen(event.penalty.amount) if event.penalty and event.penalty.kind == "fine" else 0
    return {"special_law": limits.law_id, "over_special_limit": cap is not None and amount > cap,
            "simple_limit_text": limits.simple_basis}


LEVEL_ZH = {"light": "情节较轻", "ordinary": "一般情节", "serious": "情节严重"}


def _discretion(case: CaseFile, event: Decided, ctx: FactContext) -> dict[str, object]:
    """A fine against its matter's statutory range and the benchmark range of the circumstance applied."""
    penalty = event.penalty
    item = ctx.benchmarks.item(case.matter.code if case.matter else None)
    out: dict[str, object] = {"reasons_given": bool(event.reasons)}
    if penalty is None or penalty.kind != "fine" or item is None or case.party is None:
        return out
    statutory = item.statutory.get(case.party.kind)
    if statutory is None:
        return out
    amount = fen(penalty.amount)
    low, high = statutory
    out["fine_position"] = "over_max" if amount > high else ("top" if amount == high else "within")
    out["statutory_text"] = f"{low / 100:,.0f}–{high / 100:,.0f} 元（{item.statutory_source}）"
    level = event.discretion_level
    bounds = item.levels.get(case.party.kind, {}).get(level) if level else None
    if bounds is not None:
        out["benchmark_status"] = "within" if bounds[0] <= amount <= bounds[1] else "outside"
        out["level_text"] = f"{LEVEL_ZH[level]} {bounds[0] / 100:,.0f}–{bounds[1] / 100:,.0f} 元"
    return out


def _first_offence(case: CaseFile, i: int, event: Decided, ctx: FactContext) -> FirstOffenceFact | None:
    """Only decisions that penalise or exempt, on a case that names its party and matter."""
    if event.outcome not in ("penalty", "no_penalty") or case.party is None:
        return None
    if event.outcome == "penalty" and case.matter is None:
        return None
    matter = case.matter.code if case.matter else None
    item = ctx.exemptions.item(matter, event.date)
    violation_day = case.violation.occurred_on if case.violation else event.date
    prior = []
    if item is not None and matter is not None:
        since = months_before(violation_day, item.lookback_months)
        prior = ctx.history.prior(case.party.id, matter, violation_day, since, case.case_id)
    record = case.first_offence
    harm = record.harm if record else "unrecorded"
    corrected = record.corrected_on if record else None
    due = None
    if item is not None:
        order = next((e.date for e in case.events if e.type == "inspected"
                      and getattr(e, "result", None) == "ordered_correction"), None)
        order = order or next((e.date for e in case.events if e.type == "discovered"), None) \
            or (case.events[0].date if case.events else event.date)
        due = ctx.calendar.add_days(order, item.correction_days)
    return FirstOffenceFact(
        key=f"f{i}", act_day=event.date.toordinal(), events=(i,), outcome=event.outcome,
        exemption=event.exemption or "", listed=item is not None, prior_in_lookback=bool(prior),
        harm=harm, harm_allowed=item is not None and harm in item.harm_allowed,
        corrected_in_time=due is not None and corrected is not None and corrected <= due,
        matter_name=case.matter.name if case.matter else "", prior_case=prior[0].case_id if prior else "",
        lookback_months=item.lookback_months if item else 0, correction_due_date=iso(due),
        corrected_date=iso(corrected), list_name=ctx.exemptions.title.get("zh", ctx.exemptions.name),
        decision_date=event.date.isoformat(), due_date=iso(due))
