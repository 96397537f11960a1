"""Services over the store for the HTTP API (``engine.api``) and other edges: check documents sent in a
request, locate and read stored cases, record a live step, alerts, a quarter's review, import uploaded
files, the rule catalogue. Nothing here prints or knows about HTTP; the edges turn results into answers.

``record_step`` is the one place the API calls ``engine.cases.record`` (the live guard).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Iterable, Iterator

from sqlmodel import func, select

from . import __version__
from .calendar import default_calendar
from .check import Checker, CheckResult
from .errors import CasecheckError, InputProblem
from .exemptions import PartyHistory
from .loader import LoadedCase, LoadResult, duplicate_id_text, load_paths, validate_case
from .rulebook import Rulebook, default_rulebook
from .store import Store
from .store.repo import find_case
from .store.tables import CaseRow, DeadlineRow, EventRow
from .workflow import default_workflows

__all__ = ["stamp", "load_documents", "check_documents", "locate_case", "case_document", "list_cases",
           "record_step", "StepDone", "open_deadlines", "deadline_items", "review_document_for", "review_json", "import_files",
           "ScopeRefused", "rule_version_applied"]


class ScopeRefused(CasecheckError):
    """Input that names an agency outside the caller's scope."""


@contextmanager
def reading(store: Store, session: Any = None) -> Iterator[Any]:
    """``session`` when the caller has one (an API request reads through one connection), else a new one."""
    if session is not None:
        yield session
    else:
        with store.reading() as own:
            yield own


def release(session: Any) -> None:
    """Give a session's connection back to the pool before opening another (a caller never holds two:
    forty requests each waiting for a second connection would wait for each other). What it read stays
    usable (detached); its next read starts a new transaction, which sees what was written since."""
    session.expunge_all()
    session.rollback()


@functools.lru_cache(maxsize=8)
def stamp(profile: str = "tianjin") -> dict[str, str]:
    """What a verdict is judged with: engine version, rule-catalogue revision, calendar years."""
    book = default_rulebook(profile)
    return {"engine": __version__, "rules": book.version, "calendar": default_calendar().describe(),
            "profile": book.profile.name}


# ----------------------------------------------------------------------------------------------- check
def load_documents(raws: list[Any], source: str = "request") -> LoadResult:
    """casecheck/1 case mappings sent in a request, validated as the loader validates files (located
    problems; a case id used twice for one agency is a problem)."""
    result = LoadResult(files=1)
    seen: dict[tuple[str, str], str] = {}
    for index, raw in enumerate(raws):
        case, problems = validate_case(raw, source, index)
        result.problems.extend(problems)
        if case is None:
            continue
        item = LoadedCase(case, source, index)
        key = (case.agency.code, case.case_id)
        if key in seen:
            zh, en = duplicate_id_text(case.case_id, seen[key], item.ref)
            result.problems.append(InputProblem(source, case.case_id, f"cases.{index}.case_id", f"{zh} / {en}",
                                                message_en=en))
            continue
        seen[key] = item.ref
        result.cases.append(item)
    return result


def check_documents(raws: list[Any], as_of: dt.date, lang: str = "zh", profile: str = "tianjin") -> CheckResult:
    """What ``casecheck check --format json`` reports for these cases (``report.json_report.check_to_dict``
    renders it): the same rules, calendar, look-back over the cases given and findings. Judged by the
    plain-Python evaluator, which the suite checks against durable-rules on every fixture (a request
    must not wait for a rule-engine worker process to start). Nothing is stored."""
    loaded = load_documents(raws)
    book = default_rulebook(profile)
    calendar = default_calendar()
    checker = Checker(book, calendar, default_workflows(), as_of, engine="oracle", lang=lang,
                      history=PartyHistory(c.case for c in loaded.cases))
    cases = list(checker.check(loaded.cases))
    return CheckResult(cases, loaded.problems, as_of, book.profile.name, book.version, calendar.describe(), lang)


def rule_version_applied(book: Rulebook, rule_id: str, basis: str, day: dt.date | None) -> dict[str, Any] | None:
    """The version of ``rule_id`` a finding was judged by (its basis, and the day's window when two
    versions cite the same articles)."""
    rule = book.rules.get(rule_id)
    if rule is None:
        return None
    matching = [v for v in rule.versions if v.basis_text() == basis] or list(rule.versions)
    if day is not None and len(matching) > 1:
        inside = [v for v in matching if v.effective_from <= day and (v.effective_to is None or day <= v.effective_to)]
        matching = inside or matching
    v = matching[-1]
    return {"from": v.effective_from.isoformat(), "to": v.effective_to.isoformat() if v.effective_to else None,
            "severity": v.severity, "basis": v.basis_text()}


# ----------------------------------------------------------------------------------------------- cases
def locate_case(store: Store, case_id: str, agency: str | None = None, session: Any = None) -> CaseRow:
    """The stored case (``CaseNotFound`` when there is none, or when the id is used by two agencies and
    none is named)."""
    with reading(store, session) as session:
        return find_case(session, case_id, agency)


def case_document(store: Store, row: CaseRow, session: Any = None) -> dict[str, Any]:
    """A stored case as the API shows it: its casecheck/1 document, state, event count and who recorded
    each event when."""
    from .store.repo import load_with_party

    with reading(store, session) as session:
        stored, _ = load_with_party(session, row)
        events = session.exec(select(EventRow.seq, EventRow.type, EventRow.date, EventRow.recorded_by,
                                     EventRow.recorded_at, EventRow.hash, EventRow.proof, EventRow.corrects)
                              .where(EventRow.case_pk == row.id).order_by(EventRow.seq)).all()
    return {"case_id": row.case_id, "agency": row.agency, "procedure": row.procedure, "state": row.state,
            "event_count": row.event_count, "updated_at": row.updated_at.isoformat(),
            "recorded": [{"seq": e.seq, "type": e.type, "date": e.date.isoformat(), "recorded_by": e.recorded_by,
                          "recorded_at": e.recorded_at.isoformat(), "proof": e.proof, "corrects": e.corrects,
                          "hash": e.hash} for e in events],
            "deadlines": open_deadlines(store, row.id, session),
            "document": stored}


def list_cases(store: Store, agencies: Iterable[str] | None, *, state: str | None = None, limit: int = 50,
               offset: int = 0, session: Any = None) -> tuple[int, list[dict[str, Any]]]:
    """Stored cases of ``agencies`` (None: all), newest change first, a page at a time."""
    query = select(CaseRow.case_id, CaseRow.agency, CaseRow.procedure, CaseRow.state, CaseRow.event_count,
                   CaseRow.updated_at)
    counted = select(func.count()).select_from(CaseRow)
    if agencies is not None:
        codes = list(agencies)
        query, counted = query.where(CaseRow.agency.in_(codes)), counted.where(CaseRow.agency.in_(codes))
    if state:
        query, counted = query.where(CaseRow.state == state), counted.where(CaseRow.state == state)
    with reading(store, session) as session:
        total = session.exec(counted).one()
        rows = session.exec(query.order_by(CaseRow.updated_at.desc(), CaseRow.id.desc())
                            .limit(limit).offset(offset)).all()
    return total, [{"case_id": r.case_id, "agency": r.agency, "procedure": r.procedure, "state": r.state,
                    "event_count": r.event_count, "updated_at": r.updated_at.isoformat()} for r in rows]


def open_deadlines(store: Store, case_pk: int, session: Any = None) -> list[dict[str, Any]]:
    """The case's open deadlines as stored, by due day then code (sorted here, so the order is the same
    whatever the database's collation, and the same as ``deadline_items`` gives a live step)."""
    with reading(store, session) as session:
        rows = session.exec(select(DeadlineRow.code, DeadlineRow.platform, DeadlineRow.start, DeadlineRow.due,
                                   DeadlineRow.open_until)
                            .where(DeadlineRow.case_pk == case_pk, DeadlineRow.open_until == dt.date(9999, 12, 31))
                            ).all()
    return deadline_items({"code": d[0], "platform": d[1], "start": d[2], "due": d[3], "open_until": d[4]}
                          for d in rows)


@dataclass
class StepDone:
    seq: int
    state: str
    findings: list[Any]
    events_before: int
    as_of: dt.date
    then: Any = None
    deadlines: list[dict[str, Any]] | None = None       # the case's deadline rows as the step left them
    event: Any = None                                   # the stored event (``engine.store.repo.StoredEvent``)


def deadline_items(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The open ones among a case's deadline rows (``engine.store.deadlines.deadline_rows_for``), as
    ``open_deadlines`` gives them from the store: by due day, then code."""
    from .alerts import NEVER

    return [{"code": d["code"], "platform": d["platform"], "start": d["start"].isoformat(), "due": d["due"].isoformat()}
            for d in sorted((d for d in rows if d["open_until"] == NEVER), key=lambda d: (d["due"], d["code"]))]


def event_day(event: dict[str, Any]) -> dt.date | None:
    value = event.get("date")
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def step_day(event: dict[str, Any], as_of: dt.date | None) -> dt.date:
    """The day a step is judged as of: the one given, else today or the step's own later date (as
    ``engine.cases.record`` does), fixed here so the decision log can replay it."""
    if as_of is not None:
        return as_of
    day = event_day(event)
    return max(dt.date.today(), day) if day else dt.date.today()


def record_step(store: Store, case_id: str, agency: str | None, event: dict[str, Any], *, officer: str,
                as_of: dt.date, lang: str = "zh", expect: int | None = None, proof: str = "platform",
                then: Any = None, refused: Any = None, session: Any = None, admit: Any = None) -> StepDone:
    """Judge and store one step of the stored case ``case_id`` (of ``agency``; the live guard,
    ``engine.cases.record``). ``expect``: the caller's event count (a stale one raises
    ``ConcurrentChange``); without it the step is judged against the case as its lock finds it.
    Refusals raise as ``record`` raises them (``StepRefused``, ``RecorderRefused``, ``InputError``), with
    ``exc.events_before`` the count they were judged against. ``then``, ``refused``, ``session``, ``admit``:
    as ``engine.cases.record``'s (``then`` runs in the step's transaction; its result is ``StepDone.then``;
    ``refused``'s is ``exc.then``; ``admit(row)`` checks the locked case row before anything is judged)."""
    from .cases import record

    # The one call of the live guard from the API: ``proof`` says how the officer was established.
    result = record(store, case_id, event, actor=officer, agency=agency, as_of=as_of, lang=lang, expect=expect,
                    proof=proof, then=then, refused=refused, session=session, admit=admit)
    return StepDone(result.seq, result.state, result.findings, result.events_before, as_of, result.then,
                    result.deadlines, result.event)


# --------------------------------------------------------------------------------------------- reviews
def review_document_for(store: Store, quarter: str, agency: str | None, lang: str = "zh",
                        profile: str = "tianjin", *, cases: list[LoadedCase] | None = None,
                        agencies: Iterable[str] | None = None, scope: str | None = None, keep: bool = False,
                        rubric_name: str = "tianjin", masked: bool = True,
                        summary_agencies: Iterable[str] | None = None) -> Any:
    """The quarter's review (案卷评查) of stored cases as ``casecheck review --db`` builds it: scored with the
    rubric and the reviewers' notes, compared with the stored review of the previous quarter, personal data
    masked, stamped with the store's newest signed checkpoint. ``cases``: the cases to review (default: the
    stored cases of ``agency``); ``agencies``: the caller's scope, whose reviewers' notes apply (None: all);
    ``scope``: the key the reviews are kept and compared under (default ``agency``); ``keep``: store this
    review for the next quarter's comparison. ``summary_agencies``: a supervisor's agencies — the review
    then opens with the supervisor's summary per agency (``engine.supervision``; deadlines as of the quarter's
    end, the store's supervision notices)."""
    from .cases import stored_cases
    from .report.builders import review_document
    from .review import previous_quarter, quarter_bounds, review
    from .rubric import load_rubric
    from .store.repo import load_review, save_run
    from .store.review_notes import load_notes
    from .store.trail import stamp_checkpoint

    quarter = quarter.strip().upper()
    _, end = quarter_bounds(quarter)
    rubric = load_rubric(rubric_name)
    scope = agency if scope is None else scope
    loaded = stored_cases(store, agency) if cases is None else cases
    book = default_rulebook(profile)
    calendar = default_calendar()
    checker = Checker(book, calendar, default_workflows(), end, engine="oracle", lang=lang,
                      history=PartyHistory(c.case for c in loaded))
    result = CheckResult(list(checker.check(loaded)), [], end, book.profile.name, book.version,
                         calendar.describe(), lang)
    reviewed = review(result, quarter, book.profile["review_grades"], agency, rubric=rubric,
                      notes=load_notes(store, agencies))
    before = load_review(store, previous_quarter(quarter), scope)
    if keep:
        with store.writing() as session:
            save_run(session, result, "review", __version__, scope=reviewed.quarter, agency=scope,
                     case_ids={c.case_id for c in reviewed.cases})
    doc = review_document(reviewed, lang, before, masked=masked, rubric=rubric)
    if summary_agencies is not None:
        from .store.deadlines import store_alerts
        from .supervision import SOON_WORKDAYS, add_supervisor_section

        codes = set(summary_agencies)
        found = [a for a in store_alerts(store, calendar, end, within=SOON_WORKDAYS, lang=lang) if a.agency in codes]
        add_supervisor_section(doc, store, codes, reviewed=reviewed, alerts=found, as_of=end)
    stamp_checkpoint(doc, store)
    return doc


def review_json(doc: Any) -> dict[str, Any]:
    """The review's JSON document, from the JSON renderer (what ``casecheck review --format json`` writes)."""
    return json.loads(doc.to_json())


# --------------------------------------------------------------------------------------------- imports
MAX_IMPORT_FILES = 200


def import_files(store: Store, files: list[tuple[str, bytes]], *, actor: str, agencies: Iterable[str] | None):
    """Uploaded case files or Excel ledgers, imported as ``casecheck import`` imports them: any problem in
    any file → every problem listed and nothing stored. ``agencies``: the caller's scope (None: all);
    a case of another agency refuses the whole upload (``ScopeRefused``)."""
    from .cases import ImportReport, import_paths

    if len(files) > MAX_IMPORT_FILES:
        raise CasecheckError(f"一次最多上传 {MAX_IMPORT_FILES} 个文件 / at most {MAX_IMPORT_FILES} files per upload")
    with tempfile.TemporaryDirectory(prefix="casecheck-upload-") as tmp:
        names: set[str] = set()
        for n, (name, data) in enumerate(files):
            base = PurePath(name.replace("\\", "/")).name or f"upload-{n}"
            if base.startswith(".") or base in names:
                base = f"{n}-{base.lstrip('.')}"
            names.add(base)
            (Path(tmp) / base).write_bytes(data)
        loaded = load_paths([tmp])
        problems = [_relocate(p, tmp) for p in loaded.problems]
        if problems:
            return ImportReport(files=loaded.files, problems=problems)
        if agencies is not None:
            allowed = set(agencies)
            outside = sorted({c.case.agency.code for c in loaded.cases} - allowed)
            if outside:
                raise ScopeRefused(f"上传的案卷属于您无权访问的机关：{'、'.join(outside)} / the upload holds cases of "
                                   f"agencies outside your scope: {', '.join(outside)}")
        report = import_paths(store, [tmp], actor=actor)
        report.problems = [_relocate(p, tmp) for p in report.problems]
        report.notices = [tuple(m.replace(tmp + "/", "").replace(tmp, "upload") for m in n) for n in report.notices]
        return report


def _relocate(problem: InputProblem, tmp: str) -> InputProblem:
    import dataclasses

    return dataclasses.replace(problem, file=problem.file.replace(tmp + "/", "").replace(tmp, "upload"))
