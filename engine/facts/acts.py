"""Facts about single acts: workflow steps, officers acting, acts done by officers, documents left."""

from __future__ import annotations

import datetime as dt
from typing import Iterator

from ..model import CaseFile, Officer
from ..persons import certificate_key
from ..special_laws import one_officer_allowed
from .context import FactContext, iso
from .kinds import ActFact, DocumentFact, Fact, OfficerActFact, StepFact

ASSISTANTS = frozenset({"auxiliary", "grid", "third_party"})   # 辅助人员, 网格员, 第三方: not officers
ACTS = frozenset({"inspected", "inquired", "evidence_preserved", "evidence_handled", "served", "decided",
                  "hearing_held", "notified", "seized", "demolished"})


def step_facts(case: CaseFile, ctx: FactContext) -> Iterator[Fact]:
    events = case.events
    workflow = ctx.workflows[case.procedure]
    for step in workflow.replay([(e.type, e.date.toordinal()) for e in events]):
        yield StepFact(key=f"s{step.index}", act_day=step.date_ordinal, events=(step.index,),
                       event_type=step.event_type, procedure=case.procedure, allowed=step.allowed,
                       reason=step.reason, state_before=step.state_before,
                       act_date=events[step.index].date.isoformat(),
                       previous_date=max(e.date for e in events[:step.index]).isoformat() if step.index else "")


def act_facts(case: CaseFile, ctx: FactContext) -> Iterator[Fact]:
    officers = {o.id: o for o in case.officers}
    for i, event in enumerate(case.events):
        for officer_id in dict.fromkeys(event.officers):
            yield _officer_act(i, event.type, event.date, officers[officer_id])
        if event.type in ACTS:
            shown = event.certificates_shown
            yield ActFact(key=f"a{i}", act_day=event.date.toordinal(), events=(i,), event_type=event.type,
                          procedure=case.procedure,
                          officer_count=len(persons := _persons(officers, event.officers)),
                          certificates="unrecorded" if shown is None else ("shown" if shown else "not_shown"),
                          has_recording=bool(event.recording), service_method=getattr(event, "method", "")
                          if event.type == "served" else "", act_date=event.date.isoformat(),
                          recording=event.recording or "",
                          staffing=("same_person" if any(len(ids) > 1 for ids in persons.values()) else "named")
                          if event.officers else "none",
                          same_person=_same_person(officers, persons),
                          consented=_consented(case, i, event),
                          one_officer_allowed=event.type == "decided" and one_officer_allowed(case, event))


def _persons(officers: dict[str, Officer], named: list[str]) -> dict[str, list[str]]:
    """The persons (not assistants) among the officers named on an act, each with the case's officer ids
    that name them: officers with the same certificate number are one person (a certificate is issued to
    one officer), however often the file lists them; officers without a certificate are told apart by id."""
    out: dict[str, list[str]] = {}
    for officer_id in dict.fromkeys(named):
        officer = officers[officer_id]
        if officer.role in ASSISTANTS:
            continue
        cert = certificate_key(officer.certificate)
        out.setdefault(f"c:{cert}" if cert else f"i:{officer_id}", []).append(officer_id)
    return out


def _same_person(officers: dict[str, Officer], persons: dict[str, list[str]]) -> str:
    """The ids listed more than once for one person, for the message: ``O1、O2（津执07718）``."""
    return "；".join(f"{'、'.join(ids)}（{officers[ids[0]].certificate}）" for ids in persons.values() if len(ids) > 1)


CONSENT_WORDS = ("送达地址确认书", "电子送达确认", "同意电子送达")


def _consented(case: CaseFile, i: int, event: object) -> bool:
    """Electronic service only with the party's prior consent (行政处罚法 第六十一条第二款): a consent
    date on or before the service, or a consent document (送达地址确认书) filed before it."""
    if event.type != "served" or getattr(event, "method", "") != "electronic":   # type: ignore[attr-defined]
        return True
    consent = getattr(event, "consent_on", None)
    if consent is not None:
        return consent <= event.date                                             # type: ignore[attr-defined]
    return any(w in d for e in case.events[:i + 1] for d in e.documents for w in CONSENT_WORDS)


def document_facts(case: CaseFile, ctx: FactContext) -> Iterator[Fact]:
    for i, event in enumerate(case.events):
        rule = ctx.documents.get(event.type)
        if rule is None or case.procedure not in rule.procedures:
            continue
        names = list(event.documents)
        has = rule.satisfied_by(names) or (event.type == "decided" and bool(getattr(event, "document", None)))
        yield DocumentFact(key=f"doc{i}", act_day=event.date.toordinal(), events=(i,), event_type=event.type,
                           procedure=case.procedure, has_document=has, document_zh=rule.name["zh"],
                           document_en=rule.name["en"], act_date=event.date.isoformat())


def _officer_act(i: int, event_type: str, day: dt.date, officer: Officer) -> OfficerActFact:
    held = bool(officer.certificate)
    valid = held and (officer.certificate_valid_until is None or day <= officer.certificate_valid_until) \
        and (officer.certificate_valid_from is None or officer.certificate_valid_from <= day)
    state = "none" if not held else ("not_yet" if officer.certificate_valid_from is not None
                                     and day < officer.certificate_valid_from else ("valid" if valid else "expired"))
    return OfficerActFact(key=f"o{i}:{officer.id}", act_day=day.toordinal(), events=(i,), event_type=event_type,
                          cert_state=state, valid_from_date=iso(officer.certificate_valid_from),
                          role=officer.role if officer.role in ASSISTANTS else "officer",
                          has_certificate=held, certificate_valid=valid, officer_name=officer.name,
                          certificate=officer.certificate or "", act_date=day.isoformat(),
                          valid_until_date=iso(officer.certificate_valid_until))
