"""Cases in the store, for people and for platforms: import, new, record (with refusal), show, history.

``record`` is the live-enforcement entry point a platform calls::

    from engine.cases import record
    from engine.store import Store
    result = record(Store.open(url), "津南城管罚〔2024〕7号", {"type": "decided", "date": "2024-05-06", ...},
                    actor="王某")          # raises StepRefused (nothing written) when a rule blocks the step

The stored case plus the new event is validated, replayed through its workflow and judged by the rules
(the plain-Python evaluator, which the test suite checks against durable-rules on every fixture and on
thousands of generated cases; a live step must not wait for a worker process to start). The step is
refused — with every failing blocking rule, its message and its article — when the workflow does not
allow it or any rule that ``blocks`` this event type fires. Nothing is written then.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlmodel import select

from .calendar import default_calendar
from .check import Checker
from .errors import CasecheckError, InputError, InputProblem
from .exemptions import PartyHistory
from .facts import FactContext
from .findings import Finding
from .loader import LoadedCase, load_paths, validate_case
from .profile import Profile, load_profile
from .rulebook import Rulebook, default_rulebook
from .store import Store
from .store.repo import ImportCache, append_event, dump_case, find_case, iter_cases, load_case, put_case
from .store.deadlines import refresh_deadlines
from .store.tables import CaseRow, ChangeRow, EventRow
from .workflow import default_workflows

__all__ = ["ImportReport", "import_paths", "new_case", "record", "RecordResult", "StepRefused", "show",
           "history"]


@dataclass
class ImportReport:
    files: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[InputProblem] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 2 if self.problems else 0


def _deadline_context(profile: Profile | None = None) -> FactContext:
    """What the stored deadline rows are computed with (their due dates need no as-of day)."""
    return FactContext(default_calendar(), dt.date.today(), profile or load_profile(), default_workflows())


def import_paths(store: Store, paths: Iterable[str | Path], *, actor: str,
                 progress: Callable[[int, int], None] | None = None, profile: Profile | None = None) -> ImportReport:
    """All or nothing: any bad file → every problem listed, nothing stored. The same case twice changes
    nothing; a changed case is updated and the change recorded."""
    loaded = load_paths(paths)
    report = ImportReport(files=loaded.files, problems=list(loaded.problems))
    if report.problems:
        return report
    workflows = default_workflows()
    ctx = _deadline_context(profile)
    with store.writing() as session, session.no_autoflush:
        cache = ImportCache(session)
        total = len(loaded.cases)
        for n, item in enumerate(loaded.cases, 1):
            outcome = put_case(session, item.case, source=item.ref, actor=actor, workflows=workflows, cache=cache)
            if outcome != "unchanged":
                refresh_deadlines(session, cache.rows[(item.case.agency.code, item.case.case_id)], item.case, ctx)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if progress:
                progress(n, total)
    return report


class StepRefused(CasecheckError):
    """A live step a rule forbids. ``findings`` are every failing blocking rule (id, message, basis)."""

    def __init__(self, case_id: str, event_type: str, findings: list[Finding]):
        self.case_id, self.event_type, self.findings = case_id, event_type, findings
        lines = [f"{f.rule_id}: {f.message}（{f.basis}）" for f in findings]
        super().__init__(f"{case_id}: “{event_type}” refused / 拒绝记录:\n  " + "\n  ".join(lines))


@dataclass
class RecordResult:
    case_id: str
    seq: int
    state: str
    findings: list[Finding]          # what the rules say about the case now (nothing blocking)


def _checker(rulebook: Rulebook, as_of: dt.date, history: PartyHistory, lang: str) -> Checker:
    return Checker(rulebook, default_calendar(), default_workflows(), as_of, engine="oracle", lang=lang,
                   history=history)


def _history(session: Any, party_id: str | None, matter_code: str | None) -> PartyHistory:
    """The party's earlier violations of this matter: the only ones the first-offence look-back asks for."""
    history = PartyHistory()
    if party_id and matter_code:
        for row in session.exec(select(CaseRow).where(CaseRow.party_id == party_id,
                                                      CaseRow.matter_code == matter_code)).all():
            history.add(load_case(session, row))
    return history


def new_case(store: Store, raw: dict[str, Any], *, actor: str, source: str = "case new") -> str:
    """Store a new case (header, and any events it already has); refuses a case id already stored."""
    case, problems = validate_case(raw, source)
    if problems:
        raise InputError(problems)
    with store.writing() as session:
        exists = session.exec(select(CaseRow).where(CaseRow.agency == case.agency.code,
                                                    CaseRow.case_id == case.case_id)).first()
        if exists:
            raise CasecheckError(f"case {case.case_id} of {case.agency.code} is already stored; "
                                 f"record its next step with `casecheck case record`")
        put_case(session, case, source=source, actor=actor, workflows=default_workflows())
        row = session.exec(select(CaseRow).where(CaseRow.agency == case.agency.code,
                                                 CaseRow.case_id == case.case_id)).one()
        refresh_deadlines(session, row, case, _deadline_context())
    return case.case_id


def record(store: Store, case_id: str, event: dict[str, Any], *, actor: str, agency: str | None = None,
           as_of: dt.date | None = None, rulebook: Rulebook | None = None, lang: str = "zh") -> RecordResult:
    rulebook = rulebook or default_rulebook()
    with store.writing() as session:
        row = find_case(session, case_id, agency)
        case = load_case(session, row)
        header, events = dump_case(case)
        source = f"record {case_id}"
        candidate, problems = validate_case({**header, "events": events + [event]}, source)
        if problems:
            raise InputError([dataclasses.replace(p, field=p.field.replace(f"events.{len(events)}", "event", 1))
                              for p in problems])      # point at the new event, not at events.N
        index = len(candidate.events) - 1
        new = candidate.events[index]
        day = as_of or max(dt.date.today(), new.date)
        checker = _checker(rulebook, day, _history(session, row.party_id, row.matter_code), lang)
        [result] = list(checker.check([LoadedCase(candidate, source)]))
        if result.problem or result.failure:
            raise CasecheckError(str(result.problem or result.failure))
        blocking = [f for f in result.findings
                    if (f.rule_id == "workflow.illegal_step" and index in f.events)
                    or (rulebook.rules[f.rule_id].blocks == new.type)]
        if blocking:
            raise StepRefused(case_id, new.type, blocking)
        payload = new.model_dump(mode="json", exclude_none=True)
        stored = append_event(session, row, candidate, payload, actor, default_workflows())
        refresh_deadlines(session, row, candidate, _deadline_context(rulebook.profile))
        return RecordResult(case_id, stored.seq, row.state, result.findings)


def show(store: Store, case_id: str, agency: str | None = None) -> tuple[CaseRow, Any, list[EventRow]]:
    with store.reading() as session:
        row = find_case(session, case_id, agency)
        case = load_case(session, row)
        events = list(session.exec(select(EventRow).where(EventRow.case_pk == row.id)
                                   .order_by(EventRow.seq)).all())
        return row, case, events


def history(store: Store, case_id: str, agency: str | None = None) -> list[ChangeRow]:
    with store.reading() as session:
        row = find_case(session, case_id, agency)
        return list(session.exec(select(ChangeRow).where(ChangeRow.case_pk == row.id)
                                 .order_by(ChangeRow.at, ChangeRow.id)).all())


def stored_cases(store: Store, agency: str | None = None) -> list[LoadedCase]:
    """Every stored case, as input for ``check``."""
    with store.reading() as session:
        return [LoadedCase(case, f"db:{row.agency}/{row.case_id}") for row, case in iter_cases(session, agency)]
