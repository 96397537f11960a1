"""The audit: validated cases → facts → rules (durable-rules, cross-checked by the oracle) → findings.

``Checker.check`` streams: cases go in one at a time and results come out in the same order, so a
million files need memory for a few chunks only. Every case's durable-rules verdict is compared with
the plain-Python oracle on the same facts; a difference, a crash or an engine error gives that case an
``EngineFailure`` and no findings — a verdict is never reported unless both agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator, Literal

from .calendar import WorkCalendar
from .errors import CalendarError, EngineFailure, InputProblem
from .exemptions import PartyHistory
from .facts import Fact, FactContext, build_facts
from .findings import Finding, make_finding, sort_findings
from .loader import LoadedCase
from .rulebook import Rulebook
from .workflow import Workflow

__all__ = ["CaseResult", "CheckResult", "Checker"]

EngineName = Literal["durable", "inprocess", "oracle"]


@dataclass(slots=True)
class CaseResult:
    """One case's verdict. ``loaded`` (the whole case) is dropped by the parallel runner once the
    worker has scored it, so a million results fit in memory; ``case_id``/``agency``/``ref`` stay."""

    loaded: LoadedCase | None
    findings: list[Finding] = field(default_factory=list)
    problem: InputProblem | None = None
    failure: EngineFailure | None = None
    case_id: str = ""
    agency: str = ""
    ref: str = ""
    score: Any = None              # the review's CaseScore, when a runner worker scored it (None: out of scope)

    def __post_init__(self) -> None:
        if self.loaded is not None:
            self.case_id = self.loaded.case.case_id
            self.agency = self.loaded.case.agency.code
            self.ref = self.loaded.ref


@dataclass
class CheckResult:
    """Everything ``casecheck check`` reports; renderers consume this, nothing here prints."""

    cases: list[CaseResult]
    problems: list[InputProblem]
    as_of: dt.date
    profile: str
    rules_version: str
    calendar_years: str
    lang: str = "zh"

    @property
    def findings(self) -> list[Finding]:
        return sort_findings([f for c in self.cases for f in c.findings])

    @property
    def failures(self) -> list[EngineFailure]:
        return [c.failure for c in self.cases if c.failure]

    @property
    def all_problems(self) -> list[InputProblem]:
        return self.problems + [c.problem for c in self.cases if c.problem]

    @property
    def exit_code(self) -> int:
        if self.all_problems or self.failures:
            return 2
        return 1 if any(s == "error" for c in self.cases for s in _severities(c.findings)) else 0

    def finding_count(self) -> int:
        return sum(len(c.findings) for c in self.cases)

    def iter_findings(self) -> Iterator[Finding]:
        """``findings`` one at a time, in the same order, never all at once: the cases sorted by (agency,
        case id), each key's findings sorted by the rest of ``Finding.sort_key`` (a stable sort of all the
        findings by that key gives exactly this)."""
        groups: dict[tuple[str, str], list[int]] = {}
        for n, c in enumerate(self.cases):
            if c.findings:
                if any(key != (c.agency, c.case_id) for key in _keys(c.findings)):   # never so: the old way
                    yield from self.findings
                    return
                groups.setdefault((c.agency, c.case_id), []).append(n)
        for _, numbers in sorted(groups.items(), key=lambda item: item[0]):
            yield from sort_findings([f for n in numbers for f in self.cases[n].findings])


def _keys(findings: Any) -> Iterator[tuple[str, str]]:
    if hasattr(findings, "keys"):
        return findings.keys()
    return ((f.agency, f.case_id) for f in findings)


def _severities(findings: Any) -> Iterator[str]:
    if hasattr(findings, "severities"):
        return findings.severities()
    return (f.severity for f in findings)


class Checker:
    def __init__(self, rulebook: Rulebook, calendar: WorkCalendar, workflows: dict[str, Workflow],
                 as_of: dt.date, *, engine: EngineName = "durable", workers: int = 2, lang: str = "zh",
                 history: PartyHistory | None = None, classes: bool = True):
        """``history``: the parties' violations in other cases (first-offence look-back); without it,
        no prior violation is known. ``casecheck check`` builds it from every case of the run.
        ``classes`` (in-process engine): ask durable-rules once per fact class rather than per fact."""
        self.rulebook, self.workflows, self.lang = rulebook, workflows, lang
        self.ctx = FactContext(calendar, as_of, rulebook.profile, workflows, history or PartyHistory())
        self.engine, self.workers, self.classes = engine, workers, classes
        self._session: Any = None
        self._memo: Any = None
        self._contexts: dict[frozenset[str], FactContext] = {}

    def facts(self, loaded: LoadedCase) -> list[Fact]:
        unstated = loaded.unstated
        if not unstated:
            return build_facts(loaded.case, self.ctx)
        ctx = self._contexts.get(unstated)
        if ctx is None:                  # a ledger without a step's column: its silence is said in the words
            ctx = self._contexts[unstated] = replace(self.ctx, unstated=unstated)
        return build_facts(loaded.case, ctx)

    def check(self, cases: Iterable[LoadedCase]) -> Iterator[CaseResult]:
        prepared = self._prepare(cases)
        if self.engine == "oracle":
            for loaded, facts in prepared:
                yield facts if isinstance(facts, CaseResult) else self._result(loaded, facts, None)
            return
        if self.engine == "inprocess":
            yield from self._check_inprocess(prepared)
            return
        from .durable import DurablePool

        pending: dict[int, tuple[LoadedCase, list[Fact] | CaseResult]] = {}

        def feed() -> Iterator[tuple[int, list[Fact]]]:
            for n, (loaded, facts) in enumerate(prepared):
                pending[n] = (loaded, facts)
                yield n, ([] if isinstance(facts, CaseResult) else facts)

        with DurablePool(self.rulebook, workers=self.workers) as pool:
            for n, hits in pool.evaluate(feed()):
                loaded, facts = pending.pop(n)
                if isinstance(facts, CaseResult):
                    yield facts
                elif isinstance(hits, EngineFailure):
                    yield CaseResult(loaded, failure=EngineFailure(loaded.ref, hits.reason))
                else:
                    yield self._result(loaded, facts, hits)

    def _check_inprocess(self, prepared: Iterable[tuple[LoadedCase, list[Fact] | CaseResult]]) -> Iterator[CaseResult]:
        """durable-rules in this very process: only for a process that is itself fenced (a runner
        worker, whose death the parent turns into per-case ``EngineFailure``s). The engine is asked once
        per fact class (``engine.durable.ClassMemo``), or about every fact when ``classes`` is off."""
        from .durable import BATCH, ClassMemo, DurableSession, FactClasses, compile_ruleset, project, run_batched

        if self._session is None:
            self._session = DurableSession(compile_ruleset(self.rulebook.alternatives))
            self._memo = ClassMemo(self._session, FactClasses(self.rulebook.alternatives, self.rulebook.fields_by_kind),
                                   self.rulebook.fields_by_kind)
        group: list[tuple[LoadedCase, list[Fact] | CaseResult]] = []

        def every_fact(items: list[tuple[int, list[Fact]]]) -> list[tuple[int, Any]]:
            sendable: list[tuple[int, list[dict[str, Any]]]] = []
            verdicts: list[tuple[int, Any]] = []
            for n, facts in items:
                try:
                    sendable.append((n, project(facts, self.rulebook.fields_by_kind)))
                except TypeError as exc:
                    verdicts.append((n, f"fact not sendable to the rule engine: {exc}"))
            return verdicts + run_batched(self._session, sendable)

        def flush() -> Iterator[CaseResult]:
            items = [(n, facts) for n, (_, facts) in enumerate(group) if not isinstance(facts, CaseResult)]
            verdicts = dict(self._memo.run(items) if self.classes else every_fact(items))
            for n, (loaded, facts) in enumerate(group):
                if isinstance(facts, CaseResult):
                    yield facts
                elif isinstance(verdicts[n], str):
                    yield CaseResult(loaded, failure=EngineFailure(loaded.ref, f"rule engine error: {verdicts[n]}"))
                else:
                    yield self._result(loaded, facts, verdicts[n])
            group.clear()

        for item in prepared:
            group.append(item)
            if len(group) >= BATCH:
                yield from flush()
        if group:
            yield from flush()

    def _prepare(self, cases: Iterable[LoadedCase]) -> Iterator[tuple[LoadedCase, list[Fact] | CaseResult]]:
        for loaded in cases:
            try:
                yield loaded, self.facts(loaded)
            except CalendarError as exc:
                problem = InputProblem(loaded.file, loaded.case.case_id, "events", str(exc))
                yield loaded, CaseResult(loaded, problem=problem)

    def _result(self, loaded: LoadedCase, facts: list[Fact], hits: frozenset[tuple[str, str]] | None) -> CaseResult:
        expected = self.rulebook.evaluate(facts)
        if hits is not None and set(hits) != expected:
            only_engine = sorted(set(hits) - expected)
            only_oracle = sorted(expected - set(hits))
            return CaseResult(loaded, failure=EngineFailure(
                loaded.ref, f"durable-rules and the oracle disagree (engine only: {only_engine}; "
                            f"oracle only: {only_oracle}); no verdict was given for this case"))
        by_key = {f.key: f for f in facts}
        case = loaded.case
        workflow = self.workflows[case.procedure]
        findings = [make_finding(self.rulebook, self.rulebook.rules[rule_id], by_key[key], case_id=case.case_id,
                                 agency=case.agency.code, file=loaded.file, lang=self.lang, workflow=workflow)
                    for rule_id, key in expected]
        return CaseResult(loaded, findings=sort_findings(findings))
