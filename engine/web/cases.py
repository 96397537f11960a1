"""案件: the case list, a case's page, and recording a step through the live guard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from ..cases import ConcurrentChange, RecorderRefused, StepRefused
from ..errors import CasecheckError, InputError
from ..model import EVENT_TYPES
from ..users import User
from .deps import ALL, RECORD, BadForm, NotFound, allow, checked_form, get_lang, get_store, render
from .forms import fields_for, event_from_form
from .caselist import MAX_JUMP, Cursor
from .service import CaseFilter, case_list, case_view, record_step, visible_case

router = APIRouter()

PROCEDURES = ("ordinary", "simple", "inspection")


def _date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadForm(f"{name}: “{value}” 不是日期 YYYY-MM-DD / not a date YYYY-MM-DD") from None


@router.get("/cases")
def cases_page(request: Request, user: User = Depends(allow(*ALL)), agency: str = "", procedure: str = "",
               state: str = "", officer: str = "", matter: str = "", date_from: str = "", date_to: str = "",
               findings: str = "", q: str = "", after: int | None = None, before: int | None = None,
               page: str = "", n: int | None = None) -> Any:
    flt = CaseFilter(agency=agency.strip(), procedure=procedure.strip(), state=state.strip(), officer=officer.strip(),
                     matter=matter.strip(), date_from=_date(date_from, "date_from"), date_to=_date(date_to, "date_to"),
                     findings=bool(findings), q=q.strip())
    page = case_list(get_store(request), user, flt, cursor=_cursor(after, before, page, n))
    from ..workflow import default_workflows

    states: dict[str, str] = {}
    for wf in default_workflows().values():
        for st in wf.states:
            states.setdefault(st["name"], st[get_lang(request)])
    return render(request, "cases.html", page=page, flt=flt, params=flt.params(), after=after,
                  agencies=sorted(user.agencies), procedures=PROCEDURES, states=states, max_jump=MAX_JUMP)


def _cursor(after: int | None, before: int | None, page: str, n: int | None) -> Cursor:
    """The page asked for: ``page=last``, ``page=N`` (1 … MAX_JUMP), or a keyset link (``after`` / ``before``
    with the page's number ``n`` when known)."""
    page = page.strip()
    if page == "last":
        return Cursor(last=True, number=None)
    if page:
        try:
            number = int(page)
        except ValueError:
            raise BadForm(f"page: “{page}” 不是页码 / not a page number (1–{MAX_JUMP} or last)") from None
        if not 1 <= number <= MAX_JUMP:
            raise BadForm(f"page: 页码须在 1–{MAX_JUMP} 之间；更后的页请用“下一页”或“末页”，或缩小筛选范围 / "
                          f"a page number is 1–{MAX_JUMP}: further on, use next / last page or narrow the filters")
        return Cursor(page=number, number=number)
    number = n if n is not None and n >= 1 else None
    if before is not None:
        return Cursor(before=before, number=number)
    if after is not None:
        return Cursor(after=after, number=number)
    return Cursor()


@router.get("/cases/{pk}")
def case_page(request: Request, pk: int, user: User = Depends(allow(*ALL))) -> Any:
    view = case_view(get_store(request), user, pk, get_lang(request))
    return render(request, "case.html", v=view, can_record=user.has(*RECORD) and bool(user.officer_id))


def _record_form(request: Request, user: User, pk: int, event_type: str, *, status: int = 200,
                 values: Any = None, refusal: Any = None, problems: Any = None, expect: int | None = None) -> Any:
    if event_type not in EVENT_TYPES:
        raise NotFound()
    view = case_view(get_store(request), user, pk, get_lang(request))
    return render(request, "record.html", status=status, v=view, event_type=event_type,
                  fields=fields_for(event_type), values=values, refusal=refusal, problems=problems or [],
                  expect=view.row.event_count if expect is None else expect, types=EVENT_TYPES,
                  today=dt.date.today().isoformat())


@router.get("/cases/{pk}/record")
def record_page(request: Request, pk: int, type: str = "", user: User = Depends(allow(*RECORD))) -> Any:
    if not type:
        view = case_view(get_store(request), user, pk, get_lang(request))
        type = view.next_steps[0][0] if view.next_steps else "closed"
    return _record_form(request, user, pk, type)


@router.post("/cases/{pk}/record")
def record(request: Request, pk: int, user: User = Depends(allow(*RECORD)), form: Any = Depends(checked_form)) -> Any:
    event_type = str(form.get("type") or "")
    if event_type not in EVENT_TYPES:
        raise NotFound()
    try:
        expect = int(str(form.get("expect") or ""))
    except ValueError:
        visible_case(get_store(request), user, pk)              # out of scope: 404 rather than 400
        raise BadForm("expect: 缺少表单所见环节数 / the form's event count is missing") from None
    event = event_from_form(event_type, form)
    lang = get_lang(request)
    try:
        result = record_step(get_store(request), user, pk, event, expect=expect, lang=lang)
    except StepRefused as refused:
        return _record_form(request, user, pk, event_type, status=422, values=form, refusal=refused.findings,
                            expect=expect)
    except (RecorderRefused, ConcurrentChange) as refused:
        return _record_form(request, user, pk, event_type, status=409, values=form, problems=[str(refused)],
                            expect=expect)
    except InputError as bad:
        return _record_form(request, user, pk, event_type, status=422, values=form,
                            problems=[f"{p.field}: {p.message}" for p in bad.problems], expect=expect)
    except CasecheckError as bad:
        return _record_form(request, user, pk, event_type, status=422, values=form, problems=[str(bad)],
                            expect=expect)
    return RedirectResponse(f"/cases/{pk}?recorded={result.seq}", status_code=303)
