"""The routes of ``/api/v1`` (see ``engine.api`` for the whole)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal, Optional

from fastapi import APIRouter, Body, Depends, File, Header, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from .. import decisions, services
from ..errors import CasecheckError, InputError
from ..store.repo import CaseNotFound
from .auth import Identity, db, identity, writer
from .problems import Problem, located, split_bilingual

PREFIX = "/api/v1"
MAX_CASES = 500                     # cases per check request
MAX_PAGE = 500

router = APIRouter(prefix=PREFIX)


class FastJSON(JSONResponse):
    """A JSON answer rendered by orjson (UTF-8, compact; the same document as ``JSONResponse``'s): the
    live step's and the check's answers, the API's hot paths."""

    def render(self, content: Any) -> bytes:
        import orjson

        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def _state(request: Request) -> Any:
    return request.app.state.casecheck_api


_release = services.release


Lang = Literal["zh", "en"]


# ------------------------------------------------------------------------------------------- models
class CheckRequest(BaseModel):
    """One case (``case``) or several (``cases``), casecheck/1 JSON, judged as of ``as_of``."""
    as_of: Optional[dt.date] = Field(None, description="judge open deadlines as of this day (default today)")
    lang: Lang = "zh"
    case: Optional[dict[str, Any]] = Field(None, description="one casecheck/1 case")
    cases: Optional[list[Any]] = Field(None, description=f"several casecheck/1 cases (at most {MAX_CASES})")
    officer: Optional[str] = Field(None, description="the acting officer (recorded in the decision log)")


class EventRequest(BaseModel):
    event: dict[str, Any] = Field(..., description="one casecheck/1 event: type, date and the fields of its type")
    officer: Optional[str] = Field(None, description="the recording officer (id, or unique name, of an officer "
                                                     "of the case); or the X-Casecheck-Officer header")
    expected_event_count: Optional[int] = Field(None, ge=0, description="the event count you saw (or If-Match): "
                                                "412 when another step landed since")
    as_of: Optional[dt.date] = None
    lang: Lang = "zh"


def _officer(given: str | None, header: str | None, who: Identity, required: bool = True) -> str | None:
    """The acting officer a token's client names; a session user acts as themself (their officer id, else
    their login), never as a name the request gives. A step or a new case of a session user is recorded
    as the case's officer who is them (``_as_person``)."""
    officer = (given or header or "").strip() or None
    if who.kind == "session":
        own = who.officer or who.name
        if officer and officer != own:
            raise Problem(403, "officer-mismatch", f"登录用户只能以本人（{own}）名义记录",
                          f"a logged-in user records as themself ({own})")
        return own
    if officer is None and required:
        raise Problem(422, "officer-missing", "缺少执法人员：请在 officer 字段或 X-Casecheck-Officer 头中给出",
                      "the acting officer is missing: give `officer` or the X-Casecheck-Officer header",
                      errors=[{"field": "officer", "message": "required"}])
    return officer


def _case_row(request: Request, case_id: str, agency: str | None, who: Identity, session: Any = None) -> Any:
    """The stored case, if the caller may see it; 404 alike for "none" and "not yours" (no probing)."""
    if agency and not who.sees(agency):
        raise _not_found(case_id)
    try:
        row = services.locate_case(_state(request).store, case_id, agency, session)
    except CaseNotFound as exc:
        raise _missing(exc, case_id)
    if not who.sees(row.agency):
        raise _not_found(case_id)
    return row


def _as_person(who: Identity, officer: str | None, officers: Any) -> str | None:
    """A session user acts as the case's officer who is them (``users.acting_officer``: by certificate
    number, or by officer id and name), whatever the case's own code for them; an officer the request names
    must be that one. A token's client names the officer (``officer`` as given)."""
    if who.kind != "session":
        return officer
    if who.person is None:          # a host application's identity source that vouches for an officer id itself
        return _officer(officer, None, who)
    from ..cases import RecorderRefused
    from ..users import acting_officer

    try:
        acting = acting_officer(who.person, officers)
    except RecorderRefused as exc:
        raise Problem(403, "not-case-officer", *split_bilingual(str(exc))) from None
    if officer and officer not in (acting, who.officer):
        raise Problem(403, "officer-mismatch", f"登录用户只能以本人（本案 {acting}）名义记录",
                      f"a logged-in user records as themself ({acting} in this case)")
    return acting


def _case_officers(store: Any, who: Identity, case_id: str, agency: str | None) -> tuple[list[Any], int]:
    """The stored case's officers (id, name, certificate), for ``_as_person``, and its event count then
    (the step checks it under its lock: officers changed meanwhile are a stale read); 404 when it is not
    there or not the caller's."""
    from sqlmodel import select

    from ..store.repo import find_case
    from ..store.tables import OfficerRow

    with store.reading() as session:
        try:
            row = find_case(session, case_id, agency)
        except CaseNotFound as exc:
            raise _missing(exc, case_id) from None
        if not who.sees(row.agency):
            raise _not_found(case_id)
        return list(session.exec(select(OfficerRow.officer_id, OfficerRow.name, OfficerRow.certificate)
                                 .where(OfficerRow.case_pk == row.id)).all()), row.event_count


def _missing(exc: CaseNotFound, case_id: str) -> Problem:
    """No such case (404, alike for "not yours"), or a case id several agencies use (400)."""
    if "used by agencies" in str(exc):
        return Problem(400, "ambiguous-case", f"案号 {case_id} 被多个机关使用，请用 ?agency= 指定",
                       f"case id {case_id!r} is used by several agencies: name one with ?agency=")
    return _not_found(case_id)


def _not_found(case_id: str) -> Problem:
    return Problem(404, "case-not-found", f"没有案件 {case_id}（或不在您的权限范围内）",
                   f"no case {case_id!r} (or not within your scope)")


def _cases_of(body: CheckRequest) -> list[Any]:
    if (body.case is None) == (body.cases is None):
        raise Problem(422, "invalid-request", "请给出 case（一个案卷）或 cases（案卷列表）之一",
                      "give either `case` (one case file) or `cases` (a list)",
                      errors=[{"field": "case", "message": "exactly one of case, cases"}])
    raws = [body.case] if body.case is not None else list(body.cases or [])
    if len(raws) > MAX_CASES:
        raise Problem(422, "too-many-cases", f"一次最多检查 {MAX_CASES} 个案卷，收到 {len(raws)} 个",
                      f"at most {MAX_CASES} cases per request; got {len(raws)}",
                      errors=[{"field": "cases", "message": f"at most {MAX_CASES} items"}])
    return raws


# ------------------------------------------------------------------------------------------- check
@router.post("/check", tags=["check"], summary="Check case files (案卷检查); nothing is stored")
def check(request: Request, body: CheckRequest, who: Identity = Depends(identity),
          x_casecheck_officer: Optional[str] = Header(None), session: Any = Depends(db)) -> JSONResponse:
    """Exactly what `casecheck check --format json` reports for these cases, plus a `decision_id`."""
    from ..report.json_report import check_to_dict

    raws = _cases_of(body)
    day = body.as_of or dt.date.today()
    result = services.check_documents(raws, day, body.lang)
    state = _state(request)
    officer = _officer(body.officer, x_casecheck_officer, who, required=False)
    case_ids = ",".join(c.case_id for c in result.cases) or None
    agencies = sorted({c.agency for c in result.cases})
    decision = decisions.log_decision(
        state.store, kind="check", client=who.label, officer=officer, agency=",".join(agencies) or None,
        case_id=case_ids, payload={"cases": raws, "as_of": day.isoformat(), "lang": body.lang},
        outcome=decisions.check_outcome(result), rule_ids=decisions.check_rule_ids(result),
        stamp=services.stamp(), as_of=day, lang=body.lang, keep_input=state.keep_inputs, session=session)
    return FastJSON({"decision_id": decision, **check_to_dict(result)}, headers={"X-Decision-Id": decision})


# ------------------------------------------------------------------------------------------- cases
@router.get("/cases", tags=["cases"], summary="Stored cases in your scope (paged)")
def list_cases(request: Request, who: Identity = Depends(identity), agency: Optional[str] = None,
               state: Optional[str] = None, limit: int = Query(50, ge=1, le=MAX_PAGE),
               offset: int = Query(0, ge=0), session: Any = Depends(db)) -> dict[str, Any]:
    if agency and not who.sees(agency):
        raise Problem(403, "out-of-scope", f"机关 {agency} 不在您的权限范围内", f"agency {agency!r} is outside your scope")
    scope = [agency] if agency else who.agencies
    total, items = services.list_cases(_state(request).store, scope, state=state, limit=limit, offset=offset,
                                       session=session)
    return {"total": total, "limit": limit, "offset": offset, "cases": items}


@router.post("/cases", tags=["cases"], status_code=201, summary="Store a new case (header and any events so far)")
def create_case(request: Request, case: dict[str, Any] = Body(..., description="a casecheck/1 case"),
                who: Identity = Depends(writer), x_casecheck_officer: Optional[str] = Header(None),
                session: Any = Depends(db)) -> JSONResponse:
    from ..cases import new_case
    from ..loader import validate_case

    if isinstance(case.get("case"), dict) and "case_id" not in case:
        raise Problem(422, "wrong-shape", "POST /cases 的请求体就是案卷本身（casecheck/1 的一个案件），不要包在“case”里；"
                                          "执法人员放在 X-Casecheck-Officer 头中",
                      "the body of POST /cases is the case itself (one casecheck/1 case), not wrapped in \"case\"; "
                      "the acting officer goes in the X-Casecheck-Officer header")
    officer = _officer(None, x_casecheck_officer, who) if who.kind != "session" else None
    parsed, problems = validate_case(case, "request")
    if problems:
        raise _invalid(problems)
    if not who.sees(parsed.agency.code):
        raise Problem(403, "out-of-scope", f"机关 {parsed.agency.code} 不在您的权限范围内",
                      f"agency {parsed.agency.code!r} is outside your scope")
    officer = _as_person(who, (x_casecheck_officer or "").strip() or None,
                         [(o.id, o.name, o.certificate) for o in parsed.officers]) if who.kind == "session" else officer
    if officer not in {o.id for o in parsed.officers} | {o.name for o in parsed.officers}:
        raise Problem(403, "not-case-officer", f"“{officer}”不是本案执法人员，不能建立本案",
                      f"{officer!r} is not an officer of this case and may not store it")
    state = _state(request)
    _release(session)
    try:
        new_case(state.store, case, actor=officer)
    except InputError as exc:
        raise _invalid(exc.problems)
    except CasecheckError as exc:
        if "already stored" in str(exc):
            raise Problem(409, "case-exists", f"案件 {parsed.case_id} 已存在", f"case {parsed.case_id!r} is already "
                          f"stored; record its next step with POST {PREFIX}/cases/{{id}}/events")
        zh, en = split_bilingual(str(exc))
        raise Problem(422, "not-stored", zh, en)
    row = services.locate_case(state.store, parsed.case_id, parsed.agency.code, session)
    return JSONResponse(services.case_document(state.store, row, session), status_code=201,
                        headers={"ETag": f'"{row.event_count}"', "Location": _case_url(row)})


CASE_ID = Path(..., description="the case id (案号) as stored, percent-encoded in the path: every reserved "
                                 "character, \"/\" included, as %XX of its UTF-8 bytes (津和城罚〔2024〕12号 → "
                                 "%E6%B4%A5…; A/2024/7 → A%2F2024%2F7); an id ending in \"/events\" is read with GET "
                                 "only", examples=["津和城罚〔2024〕12号"])


def _case_url(row: Any) -> str:
    from urllib.parse import quote

    return f"{PREFIX}/cases/{quote(row.case_id, safe='')}?agency={quote(row.agency, safe='')}"


@router.get("/cases/{case_id:path}", tags=["cases"], summary="A stored case: document, state, events, open deadlines")
def get_case(request: Request, case_id: str = CASE_ID, agency: Optional[str] = None,
             who: Identity = Depends(identity), session: Any = Depends(db)) -> JSONResponse:
    row = _case_row(request, case_id, agency, who, session)
    return JSONResponse(services.case_document(_state(request).store, row, session),
                        headers={"ETag": f'"{row.event_count}"'})


def _invalid(problems: list[Any]) -> Problem:
    listed = "；".join(f"{p.field or '<document>'}: {p.message}" for p in problems[:5])
    return Problem(422, "invalid-input", f"输入有误（{len(problems)} 处）：{listed}",
                   f"{len(problems)} problem(s) in the input: {listed}", errors=located(problems))


def _refusal(exc: CasecheckError) -> tuple[str, list[str]]:
    """The decision log's outcome and rule ids of a judged step that was not stored."""
    from ..cases import RecorderRefused, StepRefused

    if isinstance(exc, StepRefused):
        return "refused", [f.rule_id for f in exc.findings]
    if isinstance(exc, RecorderRefused):
        return "forbidden", []
    return "invalid", []


def _logged(exc: CasecheckError) -> str | None:
    """The decision id the step's own transaction logged the refusal under, if it did."""
    value = getattr(exc, "then", None)
    return value if isinstance(value, str) else None


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise Problem(400, "bad-if-match", f"If-Match 应为事件数（如 \"5\"），收到 {value!r}",
                      f"If-Match must be the event count you saw (e.g. \"5\"); got {value!r}")
    return int(text)


@router.post("/cases/{case_id:path}/events", tags=["cases"], status_code=201,
             summary="Record a step, judged first (the live guard)",
             responses={409: {"description": "refused: every failing rule"},
                        412: {"description": "the case changed since the expected event count"},
                        422: {"description": "a malformed event: located problems"}})
def record_event(request: Request, body: EventRequest, case_id: str = CASE_ID, agency: Optional[str] = None,
                 who: Identity = Depends(writer), if_match: Optional[str] = Header(None),
                 x_casecheck_officer: Optional[str] = Header(None), session: Any = Depends(db)) -> JSONResponse:
    """201 with the stored event, the new state and the deadlines it started; 409 with every failing rule;
    412 when `expected_event_count` (or If-Match) is stale; 422 for a malformed event. Nothing is written
    unless 201. Every judged step (201, 409, 403 recorder refused, 422) gets a `decision_id`."""
    from ..cases import ConcurrentChange, RecorderRefused, StepRefused

    read_at: int | None = None
    if who.kind != "session":
        officer = _officer(body.officer, x_casecheck_officer, who)
    header_expect = _if_match(if_match)
    if header_expect is not None and body.expected_event_count is not None \
            and header_expect != body.expected_event_count:
        raise Problem(400, "bad-if-match", "If-Match 与 expected_event_count 不一致",
                      "If-Match and expected_event_count disagree")
    expect = header_expect if header_expect is not None else body.expected_event_count
    if agency and not who.sees(agency):
        raise _not_found(case_id)
    state = _state(request)
    if who.kind == "session":           # a session user: the officer of this case who is them
        officers, read_at = _case_officers(state.store, who, case_id, agency)
        officer = _as_person(who, (body.officer or x_casecheck_officer or "").strip() or None, officers)
    day = services.step_day(body.event, body.as_of)
    shared = None if state.store.is_sqlite else session      # PostgreSQL: the step continues this transaction
    if shared is None:
        _release(session)
    found: list[Any] = []

    def admit(locked: Any) -> None:
        """The case as the step's lock found it: 404 alike for "none" and "not yours" (no probing)."""
        if not who.sees(locked.agency):
            raise _not_found(case_id)
        if read_at is not None and locked.event_count != read_at:    # its officers were read before the lock
            raise ConcurrentChange(f"{locked.case_id}: 本案在读取执法人员后被他人更新，未记录；请重试 / the case "
                                   f"changed while the step was being recorded; nothing was recorded: retry")
        found.append(locked)

    def fields(outcome: str, rule_ids: list[str], before: int, upto: int | None, seq: int | None = None
               ) -> dict[str, Any]:
        row = found[0]
        payload = {"case_id": row.case_id, "agency": row.agency, "officer": officer, "event": body.event,
                   "as_of": day.isoformat(), "events_before": before, "lookback_upto": upto, "lang": body.lang}
        return dict(kind="record", client=who.label, officer=officer, agency=row.agency, case_id=row.case_id,
                    payload=payload, outcome=outcome, rule_ids=rule_ids, stamp=services.stamp(), as_of=day,
                    lang=body.lang, event_seq=seq, keep_input=state.keep_inputs)

    def log(outcome: str, rule_ids: list[str], exc: Exception) -> str:
        """A step that stored nothing: its record in its own transaction."""
        return decisions.log_decision(state.store, session=session, **fields(
            outcome, rule_ids, getattr(exc, "events_before", found[0].event_count), getattr(exc, "lookback_upto", None)))

    def accepted(step_session: Any, stored_row: Any, event: Any, result: Any) -> str:
        """In the step's transaction: its decision-log record (stored with the event or not at all)."""
        return decisions.add_decision(step_session, **fields("accepted", [f.rule_id for f in result.findings],
                                                             result.events_before, result.lookback_upto, event.seq))

    def refused(step_session: Any, stored_row: Any, exc: CasecheckError) -> str:
        """In the step's transaction (which stored nothing): the refusal's decision-log record."""
        outcome, rule_ids = _refusal(exc)
        return decisions.add_decision(step_session, **fields(outcome, rule_ids, exc.events_before,  # type: ignore[attr-defined]
                                                             getattr(exc, "lookback_upto", None)))

    try:
        done = services.record_step(state.store, case_id, agency, body.event, officer=officer, as_of=day,
                                    lang=body.lang, expect=expect,
                                    proof="authenticated" if who.kind == "session" else "platform",
                                    then=accepted, refused=refused, session=shared, admit=admit)
    except ConcurrentChange as exc:
        zh, en = split_bilingual(str(exc))
        raise Problem(412, "stale-event-count", zh, en, expected_event_count=expect)
    except StepRefused as exc:
        decision = _logged(exc) or log("refused", [f.rule_id for f in exc.findings], exc)
        book = services.default_rulebook()
        failing = [{"rule_id": f.rule_id, "title": f.title, "explanation": f.message, "basis": f.basis,
                    "severity": f.severity, "version": services.rule_version_applied(book, f.rule_id, f.basis,
                                                             services.event_day(body.event) or day)}
                   for f in exc.findings]
        listed = "；".join(f"{f.rule_id}（{f.title}）" for f in exc.findings)
        case_shown = found[0].case_id
        raise Problem(409, "step-refused", f"{case_shown}：“{exc.event_type}”未记录，违反：{listed}",
                      f"{case_shown}: {exc.event_type!r} was not recorded; failing rules: "
                      + ", ".join(f.rule_id for f in exc.findings),
                      headers={"X-Decision-Id": decision}, decision_id=decision, findings=failing)
    except RecorderRefused as exc:
        decision = _logged(exc) or log("forbidden", [], exc)
        zh, en = split_bilingual(str(exc))
        rule = {"rule_id": exc.rule_id} if exc.rule_id else {}
        raise Problem(403, "recorder-refused", zh, en, headers={"X-Decision-Id": decision}, decision_id=decision,
                      **rule)
    except InputError as exc:
        decision = _logged(exc) or log("invalid", [], exc)
        problem = _invalid(exc.problems)
        problem.extensions["decision_id"] = decision
        problem.headers["X-Decision-Id"] = decision
        raise problem
    except CaseNotFound as exc:
        raise _missing(exc, case_id)
    except CasecheckError as exc:                   # a step the engine cannot judge (e.g. a year with no calendar)
        if not found:
            raise
        decision = _logged(exc) or log("invalid", [], exc)
        zh, en = split_bilingual(str(exc))
        raise Problem(422, "not-judged", zh, en, headers={"X-Decision-Id": decision}, decision_id=decision)
    row, decision = found[0], done.then
    deadlines = services.deadline_items(done.deadlines or [])
    return FastJSON({
        "decision_id": decision, "case_id": row.case_id, "agency": row.agency,
        "event": _event_out(done.event, who),
        "state": done.state, "event_count": done.seq,
        "deadlines_started": [d for d in deadlines if d["start"] >= done.event.date.isoformat()],
        "deadlines_open": deadlines,
        "findings": [f.model_dump() for f in done.findings],
    }, status_code=201, headers={"ETag": f'"{done.seq}"', "X-Decision-Id": decision, "Location": _case_url(row)})


def _event_out(event: Any, who: Identity) -> dict[str, Any]:
    return {"seq": event.seq, "type": event.type, "date": event.date.isoformat(), "recorded_by": event.recorded_by,
            "recorded_at": event.recorded_at.isoformat(), "proof": event.proof, "client": who.label,
            "hash": event.hash, "data": json.loads(event.payload)}


# ------------------------------------------------------------------------------------------- alerts, reviews
@router.get("/alerts", tags=["reports"], summary="Deadlines about to be missed or missed (期限预警)")
def alerts(request: Request, who: Identity = Depends(identity), as_of: Optional[dt.date] = None,
           within: Optional[int] = Query(None, ge=0, le=366), agency: Optional[str] = None,
           lang: Lang = "zh", session: Any = Depends(db)) -> dict[str, Any]:
    from ..calendar import default_calendar
    from ..store.deadlines import store_alerts

    if agency and not who.sees(agency):
        raise Problem(403, "out-of-scope", f"机关 {agency} 不在您的权限范围内", f"agency {agency!r} is outside your scope")
    day = as_of or dt.date.today()
    _release(session)
    calendar = default_calendar()
    found = [a for a in store_alerts(_state(request).store, calendar, day, within=within, agency=agency, lang=lang)
             if who.sees(a.agency)]
    return {"as_of": day.isoformat(), "within": within, "agency": agency, "stamp": services.stamp(),
            "overdue": sum(a.overdue for a in found), "alerts": [a.as_dict() for a in found]}


@router.get("/reviews/{quarter}", tags=["reports"], summary="A quarter's case-file review (案卷评查) of stored cases")
def review(request: Request, quarter: str, who: Identity = Depends(identity), agency: Optional[str] = None,
           lang: Lang = "zh", session: Any = Depends(db)) -> JSONResponse:
    """The review's JSON document, as `casecheck review --db … --format json` writes it (nothing stored)."""
    from ..review import quarter_bounds

    try:
        quarter_bounds(quarter.strip().upper())
    except (CasecheckError, ValueError) as exc:
        raise Problem(422, "bad-quarter", f"季度应写作 YYYYQn（如 2024Q4）：{quarter}",
                      f"write the quarter as YYYYQn (e.g. 2024Q4): {exc}",
                      errors=[{"field": "quarter", "message": "YYYYQn"}])
    if agency is None and who.agencies is not None:
        if len(who.agencies) != 1:
            raise Problem(422, "agency-missing", "您可访问多个机关，请用 ?agency= 指定一个",
                          "your scope holds several agencies: name one with ?agency=",
                          errors=[{"field": "agency", "message": "required"}])
        agency = who.agencies[0]
    if agency and not who.sees(agency):
        raise Problem(403, "out-of-scope", f"机关 {agency} 不在您的权限范围内", f"agency {agency!r} is outside your scope")
    _release(session)
    doc = services.review_document_for(_state(request).store, quarter, agency, lang,
                                       agencies=[agency] if agency else who.agencies)
    return JSONResponse(services.review_json(doc))


# ------------------------------------------------------------------------------------------- imports
@router.post("/imports", tags=["cases"], status_code=201,
             summary="Import case files or Excel ledgers: all or nothing")
async def imports(request: Request, files: list[UploadFile] = File(..., description="JSON/YAML case files, .xlsx ledgers"),
                  who: Identity = Depends(writer), x_casecheck_officer: Optional[str] = Header(None),
                  session: Any = Depends(db)) -> JSONResponse:
    from starlette.concurrency import run_in_threadpool

    officer = _officer(None, x_casecheck_officer, who)
    data = [(f.filename or "upload", await f.read()) for f in files]
    state = _state(request)
    await run_in_threadpool(_release, session)
    try:
        report = await run_in_threadpool(services.import_files, state.store, data, actor=officer,
                                         agencies=who.agencies)
    except services.ScopeRefused as exc:
        zh, en = split_bilingual(str(exc))
        raise Problem(403, "out-of-scope", zh, en)
    if report.problems:
        raise Problem(422, "invalid-input", f"{len(report.problems)} 处错误，未导入任何案卷",
                      f"{len(report.problems)} problems: nothing was imported", errors=located(report.problems))
    return JSONResponse({"files": report.files, "new": report.new, "updated": report.updated,
                         "unchanged": report.unchanged,
                         "notices": [{"message": zh, "message_en": en} for zh, en in report.notices]}, status_code=201)


# ------------------------------------------------------------------------------------------- rules, health
def _rule_data(book: Any, lang: str) -> list[dict[str, Any]]:
    from ..report.rule_view import catalogue_data

    data = catalogue_data(book, lang)
    for item in data:
        rule = book.rules[item["id"]]
        item["message"], item["fix"] = rule.message.get(lang), rule.fix.get(lang)
    return data


@router.get("/rules", tags=["rules"], summary="The rule catalogue (规则库)")
def rules(who: Identity = Depends(identity), lang: Lang = "zh") -> dict[str, Any]:
    book = services.default_rulebook()
    return {"rules_version": book.version, "rules": _rule_data(book, lang)}


@router.get("/rules/{rule_id}", tags=["rules"], summary="One rule: versions, basis, message")
def rule(rule_id: str, who: Identity = Depends(identity), lang: Lang = "zh") -> dict[str, Any]:
    book = services.default_rulebook()
    for item in _rule_data(book, lang):
        if item["id"] == rule_id:
            return item
    raise Problem(404, "rule-not-found", f"没有规则 {rule_id}", f"no rule {rule_id!r}")


@router.get("/health", tags=["health"], summary="Liveness and the store (no authentication)")
def health(request: Request) -> JSONResponse:
    from sqlalchemy import text

    try:
        with _state(request).store.reading() as session:
            session.execute(text("SELECT 1"))
        ok = True
    except Exception:                                     # noqa: BLE001 - reported, not raised
        ok = False
    body = {"status": "ok" if ok else "unavailable", "store": ok, **services.stamp()}
    return JSONResponse(body, status_code=200 if ok else 503)


# ------------------------------------------------------------------------------------------- docs
ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript",
          "docs.js": "text/javascript", "favicon.png": "image/png"}


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> JSONResponse:
    from . import openapi_document

    return JSONResponse(openapi_document(request.app))


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
def docs() -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>casecheck API v1</title>'
        f'<link rel="stylesheet" href="{PREFIX}/docs/assets/swagger-ui.css">'
        f'<link rel="icon" href="{PREFIX}/docs/assets/favicon.png"></head>'
        '<body><div id="swagger-ui"></div>'
        f'<script src="{PREFIX}/docs/assets/swagger-ui-bundle.js"></script>'
        f'<script src="{PREFIX}/docs/assets/docs.js"></script></body></html>')


@router.get("/docs/assets/{name}", include_in_schema=False)
def docs_asset(name: str) -> FileResponse:
    from pathlib import Path

    import fastapi_offline                  # ships Swagger UI 5 (renders OpenAPI 3.1), no CDN

    if name not in ASSETS:
        raise Problem(404, "not-found", "没有该文件", "no such file")
    base = Path(__file__).parent / "static" if name == "docs.js" else Path(fastapi_offline.__file__).parent / "static"
    return FileResponse(base / name, media_type=ASSETS[name], headers={"Cache-Control": "max-age=86400"})
