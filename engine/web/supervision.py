"""执法监督 (《行政执法监督条例》, issue 19): a supervisor issues a 监督通知书/意见书 from a case's finding (or for an
agency-wide problem), sees them listed with state and overdue, and accepts or returns a rectification
report; the agency's head or officer sees the notices addressed to their agency and files the report.

Every read and write is limited to the user's agencies (a supervisor: their district's); a notice outside
them is 404, as a case is. Who acts is the logged-in user (proof ``authenticated``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from ..errors import CasecheckError
from ..supervision import KINDS, SupervisionError, decide, issue, notice, notices, reply
from ..users import User
from .deps import BadForm, NotFound, allow, checked_form, get_lang, get_store, render

router = APIRouter()

SUPERVISE = ("supervisor",)                              # issue, accept or return
RECTIFY = ("head", "officer")                            # the agency's rectification report
SEE = ("supervisor", "head", "officer")                  # the notices of one's scope


def _day(value: Any, name: str, default: dt.date | None = None) -> dt.date:
    text = str(value or "").strip()
    if not text and default is not None:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadForm(f"{name}: “{text}” 不是日期 YYYY-MM-DD / not a date") from None


def _who(user: User) -> str:
    return f"{user.name}（{user.login}）"


def _visible(request: Request, user: User, nid: int) -> Any:
    try:
        return notice(get_store(request), nid, user.agencies)
    except SupervisionError:
        raise NotFound() from None


@router.get("/supervision")
def supervision_list(request: Request, user: User = Depends(allow(*SEE)), as_of: str = "", state: str = "",
                     overdue: str = "") -> Any:
    day = _day(as_of, "as_of", dt.date.today())
    found = notices(get_store(request), user.agencies, state=state or None, overdue_on=day if overdue else None)
    return render(request, "supervision_list.html", notices=found, as_of=day, state=state, overdue=bool(overdue),
                  kinds=KINDS)


@router.get("/supervision/new")
def supervision_form(request: Request, user: User = Depends(allow(*SUPERVISE)), pk: int = 0, rule: str = "") -> Any:
    """The issue form; from a case's finding (``pk``, ``rule``) the case and rule are filled in."""
    values: dict[str, Any] = {"agency": "", "case_id": "", "rule_id": rule, "kind": "notice"}
    if pk:
        from .service import visible_case

        row = visible_case(get_store(request), user, pk)              # 404 for a case outside the scope
        values.update(agency=row.agency, case_id=row.case_id)
    return render(request, "supervision_new.html", values=values, agencies=sorted(user.agencies), kinds=KINDS,
                  error=None, today=dt.date.today().isoformat())


@router.post("/supervision/new")
def supervision_issue(request: Request, user: User = Depends(allow(*SUPERVISE)), form: Any = Depends(checked_form)) -> Any:
    values = {k: str(form.get(k) or "") for k in ("agency", "case_id", "rule_id", "kind", "problem", "basis",
                                                   "requirement", "deadline")}
    agency = values["agency"].strip()
    if agency not in user.agencies:
        raise NotFound()
    try:
        view = issue(get_store(request), agency=agency, kind=values["kind"] or "notice",
                     case_ids=[c for c in values["case_id"].replace("，", ",").split(",") if c.strip()],
                     rule_ids=[r for r in values["rule_id"].replace("，", ",").split(",") if r.strip()],
                     problem=values["problem"], requirement=values["requirement"],
                     deadline=_day(values["deadline"], "deadline"), by=_who(user), proof="authenticated",
                     basis=values["basis"], district=user.district, agencies=user.agencies, lang=get_lang(request))
    except CasecheckError as bad:
        return render(request, "supervision_new.html", status=422, values=values, agencies=sorted(user.agencies),
                      kinds=KINDS, error=str(bad), today=dt.date.today().isoformat())
    return RedirectResponse(f"/supervision/{view.pk}", status_code=303)


@router.get("/supervision/{nid}")
def supervision_page(request: Request, nid: int, user: User = Depends(allow(*SEE)), as_of: str = "") -> Any:
    view = _visible(request, user, nid)
    return render(request, "supervision_notice.html", n=view, as_of=_day(as_of, "as_of", dt.date.today()),
                  today=dt.date.today().isoformat(), error=None)


def _step_failed(request: Request, user: User, nid: int, bad: Exception) -> Any:
    return render(request, "supervision_notice.html", status=422, n=_visible(request, user, nid), as_of=dt.date.today(),
                  today=dt.date.today().isoformat(), error=str(bad))


@router.post("/supervision/{nid}/reply")
def supervision_reply(request: Request, nid: int, user: User = Depends(allow(*RECTIFY)),
                      form: Any = Depends(checked_form)) -> Any:
    _visible(request, user, nid)
    try:
        reply(get_store(request), nid, text=str(form.get("text") or ""), day=_day(form.get("day"), "day", dt.date.today()),
              by=_who(user), proof="authenticated", agencies=user.agencies)
    except CasecheckError as bad:
        return _step_failed(request, user, nid, bad)
    return RedirectResponse(f"/supervision/{nid}", status_code=303)


@router.post("/supervision/{nid}/close")
def supervision_close(request: Request, nid: int, user: User = Depends(allow(*SUPERVISE)),
                      form: Any = Depends(checked_form)) -> Any:
    _visible(request, user, nid)
    accept = str(form.get("decision") or "") != "return"
    deadline = str(form.get("deadline") or "").strip()
    try:
        decide(get_store(request), nid, accept=accept, text=str(form.get("text") or ""),
               day=_day(form.get("day"), "day", dt.date.today()), by=_who(user), proof="authenticated",
               agencies=user.agencies, deadline=_day(deadline, "deadline") if deadline and not accept else None)
    except CasecheckError as bad:
        return _step_failed(request, user, nid, bad)
    return RedirectResponse(f"/supervision/{nid}", status_code=303)


@router.get("/supervision/{nid}/docx")
def supervision_docx(request: Request, nid: int, user: User = Depends(allow(*SEE))) -> Any:
    from ..supervision import notice_docx_bytes

    view = _visible(request, user, nid)
    body = notice_docx_bytes(view, get_lang(request), dt.date.today())
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": f'attachment; filename="supervision-{view.pk}.docx"',
                             "X-Content-Type-Options": "nosniff"})


def dashboard_card(store: Any, user: User, day: dt.date) -> dict[str, Any] | None:
    """For a supervisor or an agency head: the open notices of their scope and how many are overdue."""
    if not user.has("supervisor", "head"):
        return None
    open_ = [n for n in notices(store, user.agencies) if not n.closed]
    return {"open": len(open_), "overdue": sum(n.overdue_on(day) for n in open_),
            "waiting": sum(n.state == "replied" for n in open_),
            "items": sorted(open_, key=lambda n: (n.deadline, n.pk))[:6]}
