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
import json
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
from .model import CaseFile
from .profile import Profile, load_profile
from .rulebook import Rulebook, default_rulebook
from .store import Store
from .store.repo import (Conflict, ImportCache, _content_hash, _effective, append_event, append_imported, append_step,
                         compare_stored,
                         dump_case, find_case, iter_cases, live_case_pks, load_case,
                         load_with_party, put_case, stored_effective)
from .store.repo import as_corrected, superseded_headers
from .store.bulk import PreparedCase, insert_prepared
from .store.deadlines import deadline_rows_for, refresh_deadlines
from .store.tables import CaseRow, ChangeRow, EventRow
from .workflow import default_workflows

__all__ = ["ImportReport", "import_paths", "new_case", "record", "correct", "RecordResult", "StepRefused", "RecorderRefused",
           "ConcurrentChange", "show", "history"]


@dataclass
class ImportReport:
    """``updated``: stored cases the file carries further (its later events appended; nothing stored is
    ever rewritten). ``conflicts``: files that contradict what is stored (both versions; nothing of that
    case written). ``refused``: live cases whose new events the guard refused (nothing of that case written)."""

    files: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[InputProblem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    refused: list[tuple[str, "StepRefused"]] = field(default_factory=list)
    corrected: list[tuple[str, str]] = field(default_factory=list)     # (file, case id): its header corrected since
    notices: list[tuple[str, str]] = field(default_factory=list)      # (zh, en): a ledger without a step's column

    @property
    def exit_code(self) -> int:
        return 2 if self.problems else 1 if (self.conflicts or self.refused) else 0


def _deadline_context(profile: Profile | None = None) -> FactContext:
    """What the stored deadline rows are computed with (their due dates need no as-of day)."""
    return FactContext(default_calendar(), dt.date.today(), profile or load_profile(), default_workflows())


def import_paths(store: Store, paths: Iterable[str | Path], *, actor: str,
                 progress: Callable[[int, int], None] | None = None, profile: Profile | None = None,
                 sheet: str | None = None, workers: int = 1) -> ImportReport:
    """Any bad file → every problem listed, nothing stored. Otherwise the cases are written in
    transactions of ``IMPORT_CHUNK`` cases, each all or nothing and serialised with every other writer:
    an import killed half-way leaves whole chunks behind, never half a case, and running it again
    finishes it (a stored case that has not changed is left as it is; a changed one is updated and the
    change recorded). Concurrent imports of the same cases store each case once.

    The input is read in bounded memory (``engine.ingest``: validated in ``workers`` processes, the
    valid cases spilled to a temporary directory and read back a chunk at a time); ``sheet``: of each
    ledger, only this sheet."""
    from .ingest import staged, unstated_notices
    from .store import repo as store_repo

    at = store_repo.now()        # the import's one time: its new cases' rows (and hashes) are made while reading
    with staged(paths, sheet=sheet, workers=workers, prepare=(actor, at, profile)) as loaded:
        report = ImportReport(files=loaded.files, problems=list(loaded.problems),
                              notices=unstated_notices(loaded.unstated))
        if report.problems:
            return report
        _write_chunks(store, loaded.chunks(IMPORT_CHUNK), loaded.count, report, actor=actor, progress=progress,
                      profile=profile)
    return report


def _write_chunks(store: Store, chunks: Iterable[list[PreparedCase]], total: int, report: ImportReport, *,
                  actor: str, progress: Callable[[int, int], None] | None, profile: Profile | None) -> None:
    """Each chunk in its own transaction, all or nothing (see ``import_paths``). A new case is written
    from the rows its worker made (``insert_prepared``); a stored one is re-imported from its validated case."""
    workflows = default_workflows()
    ctx = _deadline_context(profile)
    done = 0
    for chunk in chunks:
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        stored: list[LoadedCase] = []
        with store.writing() as session, session.no_autoflush:
            cache = ImportCache(session, [(c.agency, c.case_id) for c in chunk],
                                [c.party[0] for c in chunk if c.party])
            fresh: list[PreparedCase] = []
            for item in chunk:
                key = (item.agency, item.case_id)
                if key not in cache.keys:                  # new: stored in batches, a few statements each
                    fresh.append(item)
                    counts["new"] += 1
                    if len(fresh) >= IMPORT_BATCH:
                        insert_prepared(session, fresh, cache)
                        fresh = []
                elif key in cache.rows and cache.rows[key].content_hash == item.content_hash:
                    counts["unchanged"] += 1               # the same as stored: what ``_reimport`` says first
                else:
                    stored.append(item.load())
            insert_prepared(session, fresh, cache)
            live = live_case_pks(session, [cache.rows[(i.case.agency.code, i.case.case_id)].id for i in stored
                                           if (i.case.agency.code, i.case.case_id) in cache.rows])
            for item in stored:
                outcome = _reimport(session, cache, item, live, actor=actor, workflows=workflows, ctx=ctx,
                                    report=report)
                if outcome:
                    counts[outcome] += 1
        for name, value in counts.items():              # counted once the chunk is committed
            setattr(report, name, getattr(report, name) + value)
        done += len(chunk)
        if progress:
            progress(done, total)


IMPORT_CHUNK = 5000
IMPORT_BATCH = 1000


def _reimport(session: Any, cache: ImportCache, item: LoadedCase, live: set[int], *, actor: str,
              workflows: dict[str, Any], ctx: FactContext, report: ImportReport) -> str | None:
    """A file of a case already stored: ``unchanged`` (same, or the store is further along), ``updated``
    (the file's further events appended), or None (a conflict or a refusal, listed in ``report``; nothing
    of the case written). Events a file adds to a live case are judged one by one like ``case record``."""
    key = (item.case.agency.code, item.case.case_id)
    if key not in cache.rows:                     # stored by this import, earlier in the same chunk
        cache.rows.update(ImportCache(session, [key]).rows)
    row = cache.rows[key]
    header, events = dump_case(item.case)
    if row.content_hash == _content_hash(header, events):
        return "unchanged"
    stored_header, stored_events = stored_effective(session, row)
    superseded = superseded_headers(session, row, stored_header, item.case)
    conflicts, extra = compare_stored(row, stored_header, stored_events, item.case, item.ref, superseded)
    if conflicts:
        report.conflicts.extend(conflicts)
        return None
    if header in superseded:                      # the file's header was corrected since: the correction stands
        report.corrected.append((item.ref, row.case_id))
    if not extra:
        return "unchanged"                        # the store has later steps than the file: they stand
    if row.id in live:
        rulebook = default_rulebook()
        stored_raw, party_history = _with_history(session, row)
        so_far = list(stored_raw["events"])
        for payload in extra:
            candidate, problems = validate_case({**stored_raw, "events": so_far + [payload]}, item.ref)
            if problems:
                raise InputError(problems)
            index = len(candidate.events) - 1
            blocking, _ = _judge(candidate, index, rulebook, party_history, None, "zh", item.ref)
            if blocking:
                report.refused.append((item.ref, StepRefused(row.case_id, payload["type"], blocking)))
                return None
            so_far.append(payload)
    case = as_corrected(item.case, stored_header, stored_events, extra)
    append_imported(session, row, case, extra, source=item.ref, actor=actor, workflows=workflows)
    refresh_deadlines(session, row, case, ctx)
    return "updated"


def _judge(candidate: Any, index: int, rulebook: Rulebook, party_history: PartyHistory, as_of: dt.date | None,
           lang: str, source: str) -> tuple[list[Finding], list[Finding]]:
    """The live guard on event ``index`` of ``candidate``: (the blocking findings, every finding)."""
    new = candidate.events[index]
    day = as_of or max(dt.date.today(), new.date)
    checker = _checker(rulebook, day, party_history, lang)
    [result] = list(checker.check([LoadedCase(candidate, source)]))
    if result.problem or result.failure:
        raise CasecheckError(str(result.problem or result.failure))
    blocking = [f for f in result.findings
                if (f.rule_id == "workflow.illegal_step" and index in f.events)
                or (rulebook.rules[f.rule_id].blocks == new.type)]
    return blocking, result.findings


class StepRefused(CasecheckError):
    """A live step a rule forbids. ``findings`` are every failing blocking rule (id, message, basis)."""

    def __init__(self, case_id: str, event_type: str, findings: list[Finding]):
        self.case_id, self.event_type, self.findings = case_id, event_type, findings
        lines = [f"{f.rule_id}: {f.message}（{f.basis}）" for f in findings]
        super().__init__(f"{case_id}: “{event_type}” refused / 拒绝记录:\n  " + "\n  ".join(lines))


class RecorderRefused(CasecheckError):
    """The person recording the step may not record it (separation of duties); nothing is written.
    ``rule_id``: the catalogue rule the refusal applies, when one does."""

    def __init__(self, *args: Any, rule_id: str | None = None):
        super().__init__(*args)
        self.rule_id = rule_id


class ConcurrentChange(CasecheckError):
    """The case changed after the recorder read it (another writer won); nothing is written."""


def _recorder(case: Any, actor: str) -> Any:
    """The case officer ``actor`` names (by officer id, or by name when the name is unique)."""
    by_id = [o for o in case.officers if o.id == actor]
    by_name = [o for o in case.officers if o.name == actor]
    if by_id:
        return by_id[0]
    if len(by_name) == 1:
        return by_name[0]
    listed = "、".join(f"{o.id} {o.name}" for o in case.officers) or "—"
    if len(by_name) > 1:
        raise RecorderRefused(f"{case.case_id}: 记录人“{actor}”同名执法人员不止一人，请用执法人员编号 / "
                              f"“{actor}” names more than one officer of the case; give the officer id ({listed})")
    raise RecorderRefused(f"{case.case_id}: 记录人“{actor}”不是本案执法人员，不能记录本案执法环节 / "
                          f"“{actor}” is not an officer of this case and may not record its steps "
                          f"(case officers: {listed}; 依据 / basis: 《行政处罚法》（2021修订）第四十二条、"
                          f"第四十七条：执法人员办案，全过程记录)")


def _check_duties(case: Any, index: int, actor: str, rulebook: Rulebook) -> str:
    """The recorder's officer id; refuses a recorder outside the case, and a legal review recorded by one
    of the case's investigators (法制审核 must be independent of the investigation), that person listed
    under the same id or under another id with the same certificate number (``persons``)."""
    from .facts.decision import investigated_as
    from .persons import same_person_text

    officer = _recorder(case, actor)
    event = case.events[index]
    investigated = investigated_as(case, officer, index) if event.type == "legal_review" else []
    if investigated:
        rule_id = "legal_review.reviewer_independent"
        rule = rulebook.rules.get(rule_id)
        basis = rule.versions[-1].basis_text() if rule else "《行政处罚法》（2021修订）第五十八条"
        if any(o.id == officer.id for o in investigated):
            zh = f"{officer.id} {officer.name} 参与了本案调查"
            en = f"{officer.id} {officer.name} investigated this case and"
        else:
            same = same_person_text(officer, investigated)
            zh = f"{same} 执法证号相同，是同一人，参与了本案调查"
            en = f"{same} share one certificate number, so are one person, who investigated this case and"
        raise RecorderRefused(f"{case.case_id}: {zh}，不能记录法制审核（{rule_id}；依据：{basis}） / "
                              f"{case.case_id}: {en} may not record its legal review ({rule_id}; basis: {basis})",
                              rule_id=rule_id)
    return officer.id


@dataclass
class RecordResult:
    case_id: str
    seq: int
    state: str
    findings: list[Finding]          # what the rules say about the case now (nothing blocking)
    then: Any = None                 # what ``record(…, then=)`` returned, inside the step's transaction
    events_before: int = 0           # the case's event count the step was judged against
    deadlines: list[dict[str, Any]] = field(default_factory=list)   # the case's deadline rows as now stored
    lookback_upto: int | None = None  # the newest event id the party look-back could see (decision replay)
    event: Any = None                # the stored event (``engine.store.repo.StoredEvent``)


def _checker(rulebook: Rulebook, as_of: dt.date, history: PartyHistory, lang: str) -> Checker:
    return Checker(rulebook, default_calendar(), default_workflows(), as_of, engine="oracle", lang=lang,
                   history=history)


def _with_history(session: Any, row: CaseRow, upto: list[int | None] | None = None
                  ) -> tuple[dict[str, Any], PartyHistory]:
    """The stored case as stored (its header with ``events``), and its party's decided cases of this
    matter (the only ones the first-offence look-back asks for): one query; for an inspection case also
    the party's stored inspections (the yearly cap): one more. ``upto[0]`` is set to the newest event id
    the look-back read (``load_with_party``), which a decision's replay judges against."""
    from .store.inspections import party_inspections

    stored, others = load_with_party(session, row, upto=upto)
    history = PartyHistory(CaseFile.model_validate(raw) for raw in others)
    return stored, party_inspections(session, row, history, upto) if row.procedure == "inspection" else history


def new_case(store: Store, raw: dict[str, Any], *, actor: str, source: str = "case new") -> str:
    """Store a new case (header, and any events it already has); refuses a case id already stored."""
    case, problems = validate_case(raw, source)
    if problems:
        raise InputError(problems)
    with store.writing_new(case.agency.code, case.case_id, case.party.id if case.party else None) as session:
        exists = session.exec(select(CaseRow).where(CaseRow.agency == case.agency.code,
                                                    CaseRow.case_id == case.case_id)).first()
        if exists:
            raise CasecheckError(f"案件 {case.case_id}（{case.agency.code}）已在库中；下一步请用 `casecheck case record` "
                                 f"记录 / case {case.case_id} of {case.agency.code} is already stored; "
                                 f"record its next step with `casecheck case record`")
        put_case(session, case, source=source, actor=actor, workflows=default_workflows())
        row = session.exec(select(CaseRow).where(CaseRow.agency == case.agency.code,
                                                 CaseRow.case_id == case.case_id)).one()
        refresh_deadlines(session, row, case, _deadline_context())
    return case.case_id


# How the author of a live step was established (stored with the event, hashed into its chain).
PROOFS = ("asserted", "authenticated", "platform")


def record(store: Store, case_id: str, event: dict[str, Any], *, actor: str, agency: str | None = None,
           as_of: dt.date | None = None, rulebook: Rulebook | None = None, lang: str = "zh",
           expect: int | None = None, proof: str = "asserted",
           then: Callable[[Any, CaseRow, EventRow, RecordResult], Any] | None = None,
           refused: Callable[[Any, CaseRow, CasecheckError], Any] | None = None, session: Any = None,
           admit: Callable[[CaseRow], Any] | None = None) -> RecordResult:
    """Judge and store one step. ``actor``: the recording officer (id, or unique name, of an officer of
    the case). ``proof``: how that was established, stored with the event: ``asserted`` (named on the
    command line, ``--by``), ``authenticated`` (a user logged in to the web workspace, or calling the API with
    their session) or ``platform`` (named by a platform client that authenticated with its API token). ``expect``: how many events the recorder saw; when another step landed meanwhile the
    step is refused (``ConcurrentChange``) instead of being appended to a case the recorder has not seen.
    ``then(session, row, event, result)``: called once the step is stored, in the step's own transaction
    before it commits (the API's decision-log record, what it reads back): the step and what ``then``
    writes are stored together or not at all; its return value is ``result.then``. ``refused(session, row,
    exc)``: called when the step is judged and refused (``StepRefused``, ``RecorderRefused``, ``InputError``
    or an engine error about the step), in the step's transaction, which then commits what ``refused``
    wrote (the decision log's record; the step wrote nothing) before ``exc`` is raised with ``exc.then``
    set to its return value. ``session``: continue that (PostgreSQL) session's transaction
    (``Store.writing_case``). ``admit(row)``: called with the locked case row before anything is judged
    (the API's scope check: it raises to refuse; nothing is written then).

    Whatever it raises after the lock carries ``events_before`` (the event count it was judged
    against) and ``lookback_upto`` (see ``RecordResult``), as the result does."""
    if proof not in PROOFS:
        raise CasecheckError(f"proof must be one of {', '.join(PROOFS)}, not {proof!r}")
    rulebook = rulebook or default_rulebook()
    refusal: CasecheckError | None = None
    with store.writing_case(case_id, agency, session) as (session, row):
        if admit is not None:
            admit(row)
        if expect is not None and row.event_count != expect:
            raise ConcurrentChange(_changed_since(session, row, expect))
        upto: list[int | None] = [None]
        try:
            stored, party_history = _with_history(session, row, upto)
            events = stored["events"]
            source = f"record {case_id}"
            candidate, problems = validate_case({**stored, "events": events + [event]}, source)
            if problems:
                raise InputError([dataclasses.replace(p, field=p.field.replace(f"events.{len(events)}", "event", 1))
                                  for p in problems])      # point at the new event, not at events.N
            index = len(candidate.events) - 1
            new = candidate.events[index]
            recorder = _check_duties(candidate, index, actor, rulebook)
            blocking, findings = _judge(candidate, index, rulebook, party_history, as_of, lang, source)
            if blocking:
                raise StepRefused(case_id, new.type, blocking)
        except CasecheckError as exc:
            exc.events_before, exc.lookback_upto = row.event_count, upto[0]     # type: ignore[attr-defined]
            if refused is None or session.new or session.dirty or session.deleted:
                raise
            exc.then = refused(session, row, exc)      # type: ignore[attr-defined]
            refusal = exc
        if refusal is None:
            payload = new.model_dump(mode="json", exclude_none=True)
            before = row.event_count
            deadlines = deadline_rows_for(candidate, _deadline_context(rulebook.profile))
            stored = append_step(session, row, candidate, payload, recorder, default_workflows(), deadlines,
                                 proof=proof)
            result = RecordResult(case_id, stored.seq, row.state, findings, events_before=before,
                                  deadlines=deadlines, lookback_upto=upto[0], event=stored)
            if then is not None:
                result.then = then(session, row, stored, result)
    if refusal is not None:
        raise refusal
    return result


def correct(store: Store, case_id: str, seq: int, event: dict[str, Any], *, actor: str, reason: str,
            agency: str | None = None, proof: str = "asserted", expect: int | None = None,
            lang: str = "zh") -> RecordResult:
    """Correct stored event ``seq`` of a case: a new event, attributed to ``actor`` (an officer of the
    case) and naming the one it corrects, takes its place in the case; the corrected event stays stored,
    chained and shown. ``reason`` is kept in the change log. Nothing stored is rewritten. ``expect``: how
    many events the corrector saw (``ConcurrentChange`` when another landed meanwhile, as ``record``);
    ``lang``: of the guard's findings when it refuses a correction of a live case."""
    if proof not in PROOFS:
        raise CasecheckError(f"proof must be one of {', '.join(PROOFS)}, not {proof!r}")
    if not reason.strip():
        raise CasecheckError("更正须说明理由 / a correction needs a reason (--reason)")
    with store.writing_case(case_id, agency) as (session, row):
        if expect is not None and row.event_count != expect:
            raise ConcurrentChange(_changed_since(session, row, expect))
        target = session.exec(select(EventRow).where(EventRow.case_pk == row.id, EventRow.seq == seq)).first()
        if target is None or target.corrects is not None:
            raise CasecheckError(f"{case_id}: 没有可更正的第 {seq} 个环节 / no event #{seq} to correct "
                                 f"(name the original event, not a correction)")
        header, _ = stored_effective(session, row)
        items = session.exec(select(EventRow.seq, EventRow.payload, EventRow.corrects)
                             .where(EventRow.case_pk == row.id).order_by(EventRow.seq)).all()
        originals = [i for i in items if i[2] is None]
        position = [i[0] for i in originals].index(seq)
        events = [json.loads(p) for p in _effective(items)]
        before = events[position]
        events[position] = event
        source = f"correct {case_id} #{seq}"
        candidate, problems = validate_case({**header, "events": events}, source)
        if problems:
            raise InputError([dataclasses.replace(p, field=p.field.replace(f"events.{position}", "event", 1))
                              for p in problems])
        recorder = _recorder(candidate, actor).id
        if row.id in live_case_pks(session, [row.id]):      # a live case: the guard judges the correction
            from .header_fix import judge_correction

            judge_correction(session, row, {**header, "events": [json.loads(p) for p in _effective(items)]}, candidate,
                             f"更正 #{seq} correction of #{seq}", lang=lang)
        payload = candidate.events[position].model_dump(mode="json", exclude_none=True)
        stored = append_event(session, row, candidate, payload, recorder, default_workflows(), proof=proof,
                              corrects=seq, note=_correction_note(reason, before, payload))
        refresh_deadlines(session, row, candidate, _deadline_context())
        return RecordResult(case_id, stored.seq, row.state, [])


def _correction_note(reason: str, before: dict[str, Any], after: dict[str, Any]) -> str:
    """The change log's words for a correction: the reason, then each field with its old and new value."""
    from .store.repo import changed_fields

    changes = changed_fields(before, after)
    shown = changes[:40] + ([f"…（另 {len(changes) - 40} 处 / {len(changes) - 40} more）"] if len(changes) > 40 else [])
    return f"理由 / reason: {reason.strip()[:500]}" + ("; 变更 / changed: " + "; ".join(shown) if shown else "")


def _changed_since(session: Any, row: CaseRow, expect: int) -> str:
    later = session.exec(select(EventRow).where(EventRow.case_pk == row.id, EventRow.seq > expect)
                         .order_by(EventRow.seq)).all()
    from .vocab import label

    done = "；".join(f"#{e.seq} {label(e.type)} {e.date}（{e.recorded_by}，{e.recorded_at:%Y-%m-%d %H:%M:%S}）"
                    for e in later)
    return (f"{row.case_id}: 本案已被他人更新（您看到 {expect} 个环节，现有 {row.event_count} 个：{done}），"
            f"未记录；请重新查看后再记录 / the case changed after you read it (you saw {expect} events, it now "
            f"has {row.event_count}); nothing was recorded: look again and retry")


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
