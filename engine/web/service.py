"""The web edge's service layer: every store read is scoped, and the few calls into engine services that
other branches change are made from one place each.

- Scope is a query filter: every read here takes the user and adds ``CaseRow.agency IN (their agencies)``;
  a case outside the scope is ``CaseNotVisible`` ("not found"), whatever page or id asked for it.
- ``record_step`` is the ONLY call of ``engine.cases.record`` from the web.
- ``RENDERERS`` is the ONLY format → renderer mapping for downloads (review, alerts, stats).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import exists, or_
from sqlmodel import select

from ..alerts import Alert, alert_title, make_alert, sort_alerts, window_end
from ..calendar import default_calendar
from ..check import Checker, CheckResult
from ..errors import CasecheckError
from ..exemptions import PartyHistory
from ..findings import Finding
from ..loader import LoadedCase
from ..model import CaseFile
from ..report.document import Document
from ..report.render import MEDIA_TYPES
from ..rulebook import Rulebook, catalogue_version, default_rulebook
from ..store import Store
from ..store.repo import load_cases, load_raw_cases
from ..store.tables import CaseRow, ChangeRow, DeadlineRow, EventRow, OfficerRow
from ..users import User
from ..workflow import Workflow, default_workflows
from .caselist import officer_is

PAGE = 50                     # rows per page of the case list
NEVER = dt.date(9999, 12, 31)


class CaseNotVisible(CasecheckError):
    """No such case in the user's scope (whether it exists elsewhere is not said)."""


def scoped(query: Any, user: User) -> Any:
    """``query`` limited to the user's agencies (the one scope filter every case read goes through)."""
    return query.where(CaseRow.agency.in_(sorted(user.agencies)))


# ---------------------------------------------------------------------------------------------- case list
@dataclass
class CaseFilter:
    agency: str = ""
    procedure: str = ""
    state: str = ""
    officer: str = ""
    matter: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    findings: bool = False
    q: str = ""                       # a case id or its beginning
    person: tuple[Any, Any, Any] | None = None    # mine: the user's (officer id, name, certificate)

    def params(self) -> dict[str, str]:
        out = {k: v for k, v in (("agency", self.agency), ("procedure", self.procedure), ("state", self.state),
                                  ("officer", self.officer), ("matter", self.matter), ("q", self.q)) if v}
        if self.person:
            out["mine"] = "1"
        if self.date_from:
            out["date_from"] = self.date_from.isoformat()
        if self.date_to:
            out["date_to"] = self.date_to.isoformat()
        if self.findings:
            out["findings"] = "1"
        return out


@dataclass
class CaseListItem:
    pk: int
    case_id: str
    agency: str
    procedure: str
    state: str
    matter: str | None
    party: str | None
    events: int
    updated_at: dt.datetime


@dataclass
class CasePage:
    items: list[CaseListItem]
    next_after: int | None            # keyset: the next (older) page starts below this id
    prev_before: int | None = None    # keyset: the previous (newer) page starts above this id
    number: int | None = 1            # the page's number, when known (not after "last" and going back)
    total: Any = None                 # caselist.Count: exact up to its cap, else "10,000+"
    first: bool = True                # no newer page
    size: int = PAGE                  # rows per page

    @property
    def pages(self) -> int | None:
        """How many pages, when the count is exact."""
        if self.total is None or not self.total.exact:
            return None
        return max(1, -(-self.total.value // self.size))


def case_list(store: Store, user: User, flt: CaseFilter, after: int | None = None, limit: int = PAGE, *,
              cursor: Any = None, count: bool = True) -> CasePage:
    """One page of the user's cases, newest first, keyset-paged on the row id (no OFFSET except a page
    number jumped to directly, at most ``caselist.MAX_JUMP``); the total is counted up to a cap
    (``count``). See ``engine.web.caselist``."""
    from .caselist import Cursor, capped_count, fast_reads, page_rows

    cursor = cursor or Cursor(after=after, number=None if after is not None else 1)
    with store.reading() as session:
        fast_reads(session)
        total = capped_count(session, user, flt) if count else None
        rows, newer, older, number = page_rows(session, user, flt, cursor, limit, total)
    items = [CaseListItem(*r) for r in rows]
    return CasePage(items, items[-1].pk if older and items else None,
                    items[0].pk if newer and items else None, number, total, not newer, limit)


# ---------------------------------------------------------------------------------------------- case page
@dataclass
class CaseView:
    row: CaseRow
    case: CaseFile
    workflow: Workflow
    events: list[EventRow]
    history: list[ChangeRow]
    deadlines: list[tuple[str, DeadlineRow]]          # (what, row)
    findings: list[Finding]
    next_steps: list[tuple[str, tuple[str, ...]]]      # (event type, guard rule ids)
    transitions: list[dict[str, Any]]                  # the workflow as rows, with the case's path marked
    path: list[str]
    details: list[list[tuple[str, str]]] = field(default_factory=list)   # each event's other fields, as text


def _detail_text(value: Any, lang: str) -> str:
    from ..vocab import label

    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, dict):
        return "，".join(f"{k} {_detail_text(v, lang)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(_detail_text(v, lang) for v in value)
    return label(value, lang) if isinstance(value, str) else str(value)


def _choice_text(name: str, value: Any, lang: str) -> str:
    from .forms import CHOICE_LABELS

    pair = CHOICE_LABELS.get((name, value)) if isinstance(value, str) else None
    return _detail_text(value, lang) if pair is None else pair[0 if lang == "zh" else 1]


def event_details(case: CaseFile, lang: str) -> list[list[tuple[str, str]]]:
    from .forms import FIELD_LABELS

    def title(name: str) -> str:
        return FIELD_LABELS.get(name, (name, name))[0 if lang == "zh" else 1].split("（")[0].split(" (")[0]

    out = []
    for event in case.events:
        data = event.model_dump(mode="json", exclude_none=True, exclude={"type", "date", "officers"})
        flat: list[tuple[str, Any]] = []
        for k, v in data.items():                  # a nested value (penalty, proposed): each field labelled
            flat.extend(((f"{k}.{sub}", x) for sub, x in v.items()) if isinstance(v, dict) else [(k, v)])
        out.append([(title(k), _choice_text(k, v, lang)) for k, v in flat if v not in ([], "", None)])
    return out


def _visible_row(session: Any, user: User, pk: int) -> CaseRow:
    row = session.exec(scoped(select(CaseRow).where(CaseRow.id == pk), user)).first()
    if row is None:
        raise CaseNotVisible(f"no case #{pk}")
    return row


def visible_case(store: Store, user: User, pk: int) -> CaseRow:
    with store.reading() as session:
        return _visible_row(session, user, pk)


def _party_history(session: Any, row: CaseRow) -> PartyHistory:
    from ..store.repo import load_with_party

    _, others = load_with_party(session, row)
    return PartyHistory(CaseFile.model_validate(raw) for raw in others)


def _standing(rows: list[EventRow]) -> list[EventRow]:
    """The stored rows that hold the case's events as they stand, in the case's order (a correction's row
    in the place of the event it corrects; a header correction is not an event), for "recorded by"."""
    out: list[EventRow] = []
    at: dict[int, int] = {}
    for r in rows:
        if r.corrects is None:
            at[r.seq] = len(out)
            out.append(r)
        elif r.corrects in at:
            out[at[r.corrects]] = r
    return out


def case_view(store: Store, user: User, pk: int, lang: str, as_of: dt.date | None = None) -> CaseView:
    workflows = default_workflows()
    with store.reading() as session:
        row = _visible_row(session, user, pk)
        case = load_cases(session, [row])[0]
        events = list(session.exec(select(EventRow).where(EventRow.case_pk == row.id).order_by(EventRow.seq)).all())
        changes = list(session.exec(select(ChangeRow).where(ChangeRow.case_pk == row.id)
                                    .order_by(ChangeRow.at, ChangeRow.id)).all())
        deadlines = [(alert_title(d.code, d.platform, lang), d) for d in session.exec(
            select(DeadlineRow).where(DeadlineRow.case_pk == row.id, DeadlineRow.open_until == NEVER)
            .order_by(DeadlineRow.due)).all()]
        history = _party_history(session, row)
    rulebook = default_rulebook()
    checker = Checker(rulebook, default_calendar(), workflows, as_of or dt.date.today(), engine="oracle",
                      lang=lang, history=history)
    [result] = list(checker.check([LoadedCase(case, f"db:{row.agency}/{row.case_id}")]))
    workflow = workflows[case.procedure]
    pairs = [(e.type, e.date.toordinal()) for e in case.events]
    taken = {(s.state_before, s.event_type, s.state_after) for s in workflow.replay(pairs) if s.allowed}
    transitions, next_steps = [], []
    for t in workflow.transitions:
        for source in t.sources:
            dest = t.dest or source
            transitions.append({"from": source, "trigger": t.trigger, "to": dest, "stays": t.dest is None,
                                "guards": t.guards, "taken": (source, t.trigger, dest) in taken,
                                "next": source == row.state})
            if source == row.state and all(s != t.trigger for s, _ in next_steps):
                next_steps.append((t.trigger, workflow.guards_for(t.trigger)))
    return CaseView(row, case, workflow, _standing(events), changes, deadlines, list(result.findings), next_steps,
                    transitions, workflow.path(pairs), event_details(case, lang))


# ---------------------------------------------------------------------------------------------- record
def record_step(store: Store, user: User, pk: int, event: dict[str, Any], *, expect: int | None,
                lang: str) -> Any:
    """The web's one call of the live guard. The recorder is the case's officer who is the logged-in user
    (``users.acting_officer``: by certificate number, or by officer id and name; never a value from the
    form); the case must be in their scope. Raises what ``engine.cases.record`` raises. The step is stored
    as ``authenticated``."""
    from ..cases import record

    if store.is_sqlite:
        row, actor = acting_on_case(store, user, pk)
        return record(store, row.case_id, event, actor=actor, agency=row.agency, lang=lang, expect=expect,
                      proof="authenticated")
    from sqlmodel import Session

    with Session(store.engine, expire_on_commit=False) as session:      # PostgreSQL: one connection, one
        row = _visible_row(session, user, pk)                            # transaction for the scope and the step
        return record(store, row.case_id, event, actor=_acting(session, user, row), agency=row.agency, lang=lang,
                      expect=expect, proof="authenticated", session=session)


def _acting(session: Any, user: User, row: CaseRow) -> str:
    """The case's officer id that is ``user`` (``users.acting_officer``), or ``RecorderRefused``."""
    from ..users import acting_officer

    return acting_officer(user, session.exec(select(OfficerRow.officer_id, OfficerRow.name, OfficerRow.certificate)
                                             .where(OfficerRow.case_pk == row.id)).all())


def acting_on_case(store: Store, user: User, pk: int) -> tuple[CaseRow, str]:
    """A case in the user's scope, and the case's officer id that is the user (else ``RecorderRefused``).
    A later change of the case's officers is caught by the step's ``expect`` (a header correction is an
    event)."""
    with store.reading() as session:
        row = _visible_row(session, user, pk)
        return row, _acting(session, user, row)


def standing_event(view: CaseView, seq: int) -> tuple[int, Any] | None:
    """The event stored as #``seq`` (an original, not a correction) as it stands now (its latest correction
    in its place): (its position in the case, the event); None when #``seq`` is no such event."""
    for index, r in enumerate(view.events):
        if (r.seq if r.corrects is None else r.corrects) == seq:
            return index, view.case.events[index]
    return None


class FormValues(dict):
    """Values as the record form posts them (``getlist`` for the officers' checkboxes)."""

    def getlist(self, name: str) -> list[str]:
        value = self.get(name)
        return list(value) if isinstance(value, list) else ([] if value is None else [value])


def event_form_values(event: Any) -> FormValues:
    """A stored event as the values of its record form (what the form would post to record it again), for
    the form of a correction: every field of the event type, as ``forms.event_from_form`` reads it back."""
    from .forms import fields_for

    data = event.model_dump(mode="json", exclude_none=True)
    out = FormValues()
    for f in fields_for(data["type"]):
        outer, _, inner = f.name.partition(".")
        value = data.get(outer)
        if inner:
            value = value.get(inner) if isinstance(value, dict) else None
        if value is None:
            continue
        if f.kind == "officers":
            out[f.name] = [str(v) for v in value]
        elif f.kind == "lines":
            out[f.name] = "\n".join(str(v) for v in value)
        elif f.kind == "bool":
            if value:
                out[f.name] = "on"
        elif f.kind == "tristate":
            out[f.name] = "true" if value else "false"
        else:
            out[f.name] = str(value)
    return out


def correct_step(store: Store, user: User, pk: int, seq: int, event: dict[str, Any], *, reason: str,
                 expect: int | None, lang: str) -> Any:
    """The web's correction of stored event #``seq``: appended by the logged-in user's officer id (never a
    value from the form), in their scope, judged by the live guard when the case is live; the corrected
    event stays stored and shown. Raises what ``engine.cases.correct`` raises."""
    from ..cases import correct

    row, actor = acting_on_case(store, user, pk)
    return correct(store, row.case_id, seq, event, actor=actor, reason=reason, agency=row.agency,
                   proof="authenticated", expect=expect, lang=lang)


def correct_case_header(store: Store, user: User, pk: int, changes: list[tuple[list[str], Any]], *, reason: str,
                        expect: int | None, lang: str) -> Any:
    """The web's correction of a case's header (the fields the form changed, ``forms.header_changes``):
    appended by the logged-in user's officer id, in their scope, judged by the live guard when the case is
    live. Raises what ``engine.header_fix.correct_header`` raises."""
    from ..header_fix import correct_header, path_edit

    row, actor = acting_on_case(store, user, pk)
    return correct_header(store, row.case_id, path_edit(changes), actor=actor, reason=reason,
                          agency=row.agency, proof="authenticated", lang=lang, expect=expect)


# ---------------------------------------------------------------------------------------------- deadlines
@dataclass
class DeadlineCard:
    pk: int
    case_id: str
    agency: str
    what: str
    due: dt.date
    left: int                       # working days; negative = overdue

    @property
    def colour(self) -> str:
        return "red" if self.left < 0 else "yellow"


def scoped_alerts(store: Store, user: User, as_of: dt.date, *, within: int | None, lang: str,
                  mine: bool = False, agency: str | None = None, limit: int | None = None
                  ) -> list[tuple[int, Alert]]:
    """The open deadlines of the user's cases (``mine``: only the cases the user is an officer of,
    ``caselist.officer_is``) as of a day, most urgent first, from the indexed deadline rows: (case row id,
    alert)."""
    calendar = default_calendar()
    query = scoped(select(CaseRow.id, DeadlineRow.code, DeadlineRow.platform, DeadlineRow.start, DeadlineRow.due,
                          DeadlineRow.officers, CaseRow.case_id, CaseRow.agency, CaseRow.source)
                   .join(CaseRow, CaseRow.id == DeadlineRow.case_pk)
                   .where(DeadlineRow.open_until > as_of, DeadlineRow.due <= window_end(calendar, as_of, within),
                          DeadlineRow.start <= as_of), user)
    if mine:
        query = query.where(officer_is(user.person, CaseRow.id))
    if agency:
        query = query.where(CaseRow.agency == agency)
    if limit:
        query = query.order_by(DeadlineRow.due).limit(limit)
    out = []
    with store.reading() as session:
        for pk, code, platform, start, due, officers, case_id, agency_code, source in session.execute(query):
            alert = make_alert(calendar, as_of, within, lang, case_id=case_id, agency=agency_code,
                               file=f"/cases/{pk}", code=code, platform=platform, start=start, due=due,
                               officers=officers)      # the case's page, not a path on the server
            if alert is not None:
                out.append((pk, alert))
    order = {id(a): i for i, a in enumerate(sort_alerts([a for _, a in out]))}
    return sorted(out, key=lambda pair: order[id(pair[1])])


@dataclass
class Dashboard:
    as_of: dt.date
    my_cases: list[CaseListItem]
    cards: list[DeadlineCard]
    per_agency: list[dict[str, Any]] = field(default_factory=list)


DASHBOARD_CARDS = 24
YELLOW_DAYS = 5


def dashboard(store: Store, user: User, lang: str, as_of: dt.date | None = None) -> Dashboard:
    """My cases (those I am an officer of), my deadlines as yellow / red cards; for a head or a
    supervisor the counts per agency of their scope."""
    day = as_of or dt.date.today()
    mine: list[CaseListItem] = []
    cards: list[DeadlineCard] = []
    if user.may_act:
        mine = case_list(store, user, CaseFilter(person=user.person), limit=10, count=False).items
        for pk, a in scoped_alerts(store, user, day, within=YELLOW_DAYS, lang=lang, mine=True,
                                   limit=200)[:DASHBOARD_CARDS]:
            cards.append(DeadlineCard(pk, a.case_id, a.agency, a.what, a.due, a.workdays_left))
    board = Dashboard(day, mine, cards)
    if user.has("head", "supervisor", "case_reviewer", "admin"):
        calendar = default_calendar()
        soon = window_end(calendar, day, YELLOW_DAYS)
        from .caselist import agency_figures

        with store.reading() as session:
            figures = agency_figures(session, user, day, soon)      # cases: exact up to 10,000, else "10,000+"
        board.per_agency = [{"agency": code, "name": agency_name(code), **figures[code]} for code in sorted(user.agencies)]
    return board


@functools.cache
def agency_name(code: str) -> str:
    from ..agency import agency_path, load_agency

    try:
        return load_agency(code).name if agency_path(code).exists() else code
    except CasecheckError:
        return code


# ---------------------------------------------------------------------------------------------- jobs
def _scope_key(user: User) -> str:
    return ",".join(sorted(user.agencies))[:120]


def scoped_cases(store: Store, user: User, agency: str | None = None) -> list[LoadedCase]:
    """Every stored case of the user's scope (``agency``: one agency of it), for a review or statistics."""
    out: list[LoadedCase] = []
    with store.reading() as session:
        query = scoped(select(CaseRow), user).order_by(CaseRow.id)
        if agency:
            query = query.where(CaseRow.agency == agency)
        rows = list(session.exec(query).all())
        for start in range(0, len(rows), 1000):
            part = rows[start:start + 1000]
            for row, raw in zip(part, load_raw_cases(session, part)):
                out.append(LoadedCase(CaseFile.model_validate(raw), f"db:{row.agency}/{row.case_id}"))
    return out


def add_review_note(store: Store, user: User, kind: str, case_id: str, rule_id: str, reason: str, *,
                    value: int | None = None, until: dt.date | None = None, rubric: str = "tianjin") -> None:
    """A reviewer's adjustment of one finding's deduction (within the rubric's range) or waiver of it until a
    day, on a file of the user's scope, appended to the store's review notes as the logged-in user."""
    from ..rubric import check_note
    from ..store.review_notes import add_note

    reason = reason.strip()
    if not reason or len(reason) > 1000:
        raise CasecheckError("须写明理由（1–1000 字） / give the reason (1–1000 characters)")
    if kind not in ("adjust", "waive"):
        raise CasecheckError(f"{kind!r}: adjust | waive")
    if kind == "adjust" and value is None:
        raise CasecheckError("调整须给出扣分 / an adjustment needs the deduction")
    if kind == "waive" and until is None:
        raise CasecheckError("豁免须给出截止日期 / a waiver needs its last day")
    with store.reading() as session:
        rows = session.exec(scoped(select(CaseRow.agency), user).where(CaseRow.case_id == case_id.strip())).all()
    if len(rows) != 1:
        raise CaseNotVisible(f"no case {case_id!r}")
    check_note(rule_id.strip(), value if kind == "adjust" else None, rubric)
    add_note(store, case_id=case_id.strip(), rule_id=rule_id.strip(), kind=kind, reason=reason, by=user.login,
             value=value if kind == "adjust" else None, until=until if kind == "waive" else None, agency=rows[0])


def run_review(store: Store, user: User, quarter: str, lang: str, *, keep: bool = True,
               rubric_name: str = "tianjin") -> Document:
    """The quarter's review of the user's scope (kept in the store under that scope, so the next quarter
    compares with it), as ``casecheck review --db`` builds it: rubric, the reviewers' notes on the scope's
    files, personal data masked, the store's checkpoint."""
    from ..services import review_document_for

    return review_document_for(store, quarter, None, lang, cases=scoped_cases(store, user), agencies=user.agencies,
                               scope=_scope_key(user), keep=keep, rubric_name=rubric_name,
                               summary_agencies=user.agencies if user.has("supervisor") else None)


def alerts_report(store: Store, user: User, as_of: dt.date, within: int | None, lang: str) -> tuple[Document, list[int]]:
    from ..profile import load_profile
    from ..report.builders import alerts_document

    found = scoped_alerts(store, user, as_of, within=within, lang=lang)
    shown = [a for _, a in found]
    if user.has("supervisor", "head"):                   # overdue 整改 of supervision notices (issue 19)
        from ..supervision import rectification_alerts

        shown = sort_alerts(shown + rectification_alerts(store, as_of, within=within, agencies=user.agencies, lang=lang))
    doc = alerts_document(shown, lang, as_of=as_of, within=within, rules=catalogue_version(),
                          calendar=default_calendar().describe(), profile=load_profile().name)
    if user.has("supervisor"):
        from ..supervision import add_supervisor_section

        add_supervisor_section(doc, store, user.agencies, alerts=shown, as_of=as_of)
    return doc, [pk for pk, _ in found]


def stats_report(store: Store, user: User, year: int, lang: str) -> Document:
    """The year's statistics of the user's scope, as ``casecheck stats --db`` gives them: with the
    inspections per inspected party, a person's ID number masked (the web has no unmasked copy)."""
    from ..agency import agency_path, load_agency
    from ..inspections import add_counts_section, inspection_counts, rows_from_cases
    from ..profile import load_profile
    from ..report.builders import stats_document
    from ..stats import year_stats

    loaded = scoped_cases(store, user)
    cases = [c.case for c in loaded]
    profiles = {code: (load_agency(code) if agency_path(code).exists() else None)
                for code in sorted({c.agency.code for c in cases})}
    doc = stats_document(year_stats(cases, year, profiles, None), lang, year=year, rules=catalogue_version(),
                         calendar=default_calendar().describe(), profile=load_profile().name,
                         as_of=dt.date(year, 12, 31), masked=True)
    add_counts_section(doc, inspection_counts(rows_from_cases(loaded), year), lang, masked=True)
    return doc


# ---------------------------------------------------------------------------------------------- downloads
# format → (media type, file suffix): the report renderers of engine.report.render, one per format.
RENDERERS: dict[str, tuple[str, str]] = {fmt: (MEDIA_TYPES[fmt], fmt) for fmt in ("html", "xlsx", "docx", "json")}


def render_download(doc: Document, fmt: str) -> tuple[bytes, str, str]:
    from ..report.render import render

    if fmt not in RENDERERS:
        raise CasecheckError(f"没有格式 {fmt!r}，只能是 {'、'.join(RENDERERS)} / unknown format {fmt!r}: one of "
                             f"{', '.join(RENDERERS)}")
    media, suffix = RENDERERS[fmt]
    return render(doc, fmt), media, suffix


# ---------------------------------------------------------------------------------------------- import
def import_upload(store: Store, user: User, files: Sequence[tuple[str, bytes]]) -> Any:
    """Uploaded case files / ledgers through the CLI's import (all or nothing, every problem located). A
    case of an agency outside the user's scope is refused like any other problem, before anything is
    stored. Files are written to a private temporary directory under their base names only."""
    from ..cases import ImportReport, import_paths
    from ..errors import InputProblem
    from ..loader import load_paths

    with tempfile.TemporaryDirectory(prefix="casecheck-upload-") as tmp:
        paths = []
        for n, (name, data) in enumerate(files):
            base = Path(name or "").name or f"upload-{n}"
            target = Path(tmp) / f"{n:03d}-{base}"
            target.write_bytes(data)
            paths.append(target)
        loaded = load_paths(paths)
        outside = [InputProblem(c.ref, c.case.case_id, "agency.code",
                                f"执法主体“{c.case.agency.code}”不在您的权限范围内（{'、'.join(sorted(user.agencies))}） / "
                                f"agency {c.case.agency.code!r} is outside your scope")
                   for c in loaded.cases if c.case.agency.code not in user.agencies]
        if loaded.problems or outside:
            report = ImportReport(files=loaded.files, problems=list(loaded.problems) + outside)
        else:
            report = import_paths(store, paths, actor=user.officer_id or user.login)
        prefix = str(tmp) + "/"
        report.problems = [dataclasses.replace(p, file=_strip_upload(p.file, prefix)) for p in report.problems]
        report.notices = [(_strip_upload(zh, prefix), _strip_upload(en, prefix)) for zh, en in report.notices]
        return report


def _strip_upload(path: str, prefix: str) -> str:
    text = str(path).replace(prefix, "")
    return text[4:] if len(text) > 4 and text[:3].isdigit() and text[3] == "-" else text


# ---------------------------------------------------------------------------------------------- ICS feed
def ics_feed(store: Store, user: User, lang: str = "zh") -> str:
    """The open deadlines of the user's cases (their officer id's cases; all of the scope when the user is
    not an officer) as an iCalendar (RFC 5545) feed: one all-day event per deadline."""
    today = dt.date.today()
    found = scoped_alerts(store, user, today, within=None, lang=lang, mine=user.may_act)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//casecheck//deadlines//ZH", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", _fold("X-WR-CALNAME:" + _ics_text(f"casecheck 期限 · {user.name}"))]
    for pk, a in found:
        uid = f"{pk}-{a.code}-{a.due.isoformat()}@casecheck"
        lines += ["BEGIN:VEVENT", _fold("UID:" + _ics_text(uid)), f"DTSTAMP:{stamp}",
                  f"DTSTART;VALUE=DATE:{a.due:%Y%m%d}", f"DTEND;VALUE=DATE:{a.due + dt.timedelta(days=1):%Y%m%d}",
                  _fold("SUMMARY:" + _ics_text(f"{a.case_id} {a.what}")),
                  _fold("DESCRIPTION:" + _ics_text(f"{a.agency} · {a.case_id} · {a.what} · 到期 {a.due} · "
                                                   + a.left_text("zh"))),
                  "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def _ics_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r", "").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """RFC 5545 line folding: at most 75 octets a line, continuation lines start with a space."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts, current = [], b""
    for ch in line:
        b = ch.encode("utf-8")
        if len(current) + len(b) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += b
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


# ---------------------------------------------------------------------------------------------- rules
@functools.cache
def rule_catalogue(lang: str) -> list[dict[str, Any]]:
    from ..vocab import label, severity_label

    book = default_rulebook()
    return [{"id": r.id, "title": r.title[lang], "checks": r.checks[lang], "fix": r.fix[lang],
             "severity": severity_label(r.severity, lang), "category": r.category, "deduction": r.deduction,
             "veto": r.veto, "blocks": label(r.blocks, lang) if r.blocks else "",
             "versions": [(v.effective_from.isoformat(), v.effective_to.isoformat() if v.effective_to else "",
                           v.basis_text()) for v in r.versions]}
            for r in book.rules.values()]
