"""案件: the case list, a case's page, and recording a step (or correcting a recorded one) through the live
guard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from ..cases import ConcurrentChange, RecorderRefused, StepRefused
from ..errors import CasecheckError, InputError
from ..model import EVENT_TYPES
from ..users import User
from .deps import ALL, RECORD, BadForm, NotFound, allow, checked_form, get_lang, get_store, render, said_in
from .forms import HEADER_GROUPS, event_from_form, fields_for, header_changes, header_fields
from .caselist import MAX_JUMP, Cursor
from .service import (CaseFilter, case_list, case_view, correct_case_header, correct_step, event_form_values,
                      record_step, standing_event, visible_case)

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
               page: str = "", n: int | None = None, mine: str = "") -> Any:
    flt = CaseFilter(agency=agency.strip(), procedure=procedure.strip(), state=state.strip(), officer=officer.strip(),
                     matter=matter.strip(), date_from=_date(date_from, "date_from"), date_to=_date(date_to, "date_to"),
                     findings=bool(findings), q=q.strip(), person=user.person if mine else None)
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
    acting, _why = _acting_in(view, user, get_lang(request))
    return render(request, "case.html", v=view, can_record=user.has(*RECORD) and acting is not None)


def _acting_in(view: Any, user: User, lang: str) -> tuple[str | None, str | None]:
    """The case's officer id that is the user, or None and why not (in the page's language)."""
    from ..users import acting_officer

    try:
        return acting_officer(user, [(o.id, o.name, o.certificate) for o in view.case.officers]), None
    except RecorderRefused as refused:
        return None, said_in(str(refused), lang)


def _record_form(request: Request, user: User, pk: int, event_type: str, *, status: int = 200,
                 values: Any = None, refusal: Any = None, problems: Any = None, expect: int | None = None,
                 correcting: int | None = None, view: Any = None) -> Any:
    """The form of a step of ``event_type``; with ``correcting``, the form of a correction of stored event
    #``correcting`` (its values, and the reason a correction needs)."""
    if event_type not in EVENT_TYPES:
        raise NotFound()
    view = view or case_view(get_store(request), user, pk, get_lang(request))
    acting, acting_problem = _acting_in(view, user, get_lang(request))
    return render(request, "record.html", status=status, v=view, event_type=event_type, acting=acting,
                  acting_problem=acting_problem,
                  fields=fields_for(event_type), values=values, refusal=refusal, problems=problems or [],
                  expect=view.row.event_count if expect is None else expect, types=EVENT_TYPES,
                  today=dt.date.today().isoformat(), correcting=correcting)


def _expected(request: Request, user: User, pk: int, form: Any) -> int:
    try:
        return int(str(form.get("expect") or ""))
    except ValueError:
        visible_case(get_store(request), user, pk)              # out of scope: 404 rather than 400
        raise BadForm("expect: 缺少表单所见环节数 / the form's event count is missing") from None


def _judged(step: Any, again: Any, lang: str) -> tuple[Any, Any]:
    """``step()`` (a record or a correction): (its result, None), or (None, ``again(status=…, refusal=…)``
    or ``again(status=…, problems=…)``: the form again with why nothing was stored: the guard's refusal with
    every failing rule, someone else's step meanwhile, a bad value), in the page's language."""
    try:
        return step(), None
    except StepRefused as refused:
        return None, again(status=422, refusal=refused.findings)
    except (RecorderRefused, ConcurrentChange) as refused:
        return None, again(status=409, problems=[said_in(str(refused), lang)])
    except InputError as bad:
        return None, again(status=422, problems=[f"{p.field}: {said_in(p.message, lang)}" for p in bad.problems])
    except CasecheckError as bad:
        return None, again(status=422, problems=[said_in(str(bad), lang)])


def _form_again(request: Request, user: User, pk: int, event_type: str, form: Any, expect: int,
                correcting: int | None = None) -> Any:
    return lambda **why: _record_form(request, user, pk, event_type, values=form, expect=expect,
                                      correcting=correcting, **why)


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
    expect = _expected(request, user, pk, form)
    event = event_from_form(event_type, form)
    result, again = _judged(lambda: record_step(get_store(request), user, pk, event, expect=expect,
                                                lang=get_lang(request)),
                            _form_again(request, user, pk, event_type, form, expect), get_lang(request))
    if again is not None:
        return again
    return RedirectResponse(f"/cases/{pk}?recorded={result.seq}", status_code=303)


def _standing(request: Request, user: User, pk: int, seq: int) -> tuple[Any, Any]:
    view = case_view(get_store(request), user, pk, get_lang(request))
    found = standing_event(view, seq)
    if found is None:
        raise NotFound()
    return view, found[1]


@router.get("/cases/{pk}/correct/{seq}")
def correct_page(request: Request, pk: int, seq: int, user: User = Depends(allow(*RECORD))) -> Any:
    """The form of a correction of stored event #seq: the event's values as they stand, and a reason."""
    view, event = _standing(request, user, pk, seq)
    return _record_form(request, user, pk, event.type, values=event_form_values(event), correcting=seq, view=view)


@router.post("/cases/{pk}/correct/{seq}")
def correct(request: Request, pk: int, seq: int, user: User = Depends(allow(*RECORD)),
            form: Any = Depends(checked_form)) -> Any:
    _view, event = _standing(request, user, pk, seq)
    expect = _expected(request, user, pk, form)
    corrected = event_from_form(event.type, form)           # the type is the corrected event's
    reason = str(form.get("correction_reason") or "")
    result, again = _judged(lambda: correct_step(get_store(request), user, pk, seq, corrected, reason=reason,
                                                 expect=expect, lang=get_lang(request)),
                            _form_again(request, user, pk, event.type, form, expect, seq), get_lang(request))
    if again is not None:
        return again
    return RedirectResponse(f"/cases/{pk}?corrected={seq}&by={result.seq}", status_code=303)


def _header_form(request: Request, user: User, pk: int, *, status: int = 200, view: Any = None, form: Any = None,
                 expect: int | None = None, refusal: Any = None, problems: Any = None) -> Any:
    """The form of a correction of the case header: every correctable field as it stands (the posted
    values again after a refusal)."""
    view = view or case_view(get_store(request), user, pk, get_lang(request))
    acting, acting_problem = _acting_in(view, user, get_lang(request))
    fields = header_fields(view.case)
    groups = [(top, title, [f for f in fields if f.path[0] == top]) for top, title in HEADER_GROUPS]
    officers = [(o, [f for f in fields if f.path[:2] == ["officers", o.id]]) for o in view.case.officers]
    return render(request, "header.html", status=status, v=view, groups=groups, officers=officers, acting=acting,
                  acting_problem=acting_problem,
                  values=form, refusal=refusal, problems=problems or [],
                  expect=view.row.event_count if expect is None else expect)


@router.get("/cases/{pk}/correct-header")
def correct_header_page(request: Request, pk: int, user: User = Depends(allow(*RECORD))) -> Any:
    return _header_form(request, user, pk)


@router.post("/cases/{pk}/correct-header")
def correct_header(request: Request, pk: int, user: User = Depends(allow(*RECORD)),
                   form: Any = Depends(checked_form)) -> Any:
    expect = _expected(request, user, pk, form)
    view = case_view(get_store(request), user, pk, get_lang(request))
    changes = header_changes(header_fields(view.case), form)
    reason = str(form.get("correction_reason") or "")
    result, again = _judged(lambda: correct_case_header(get_store(request), user, pk, changes, reason=reason,
                                                        expect=expect, lang=get_lang(request)),
                            lambda **why: _header_form(request, user, pk, form=form, expect=expect, **why),
                            get_lang(request))
    if again is not None:
        return again
    return RedirectResponse(f"/cases/{pk}?header_corrected={result.seq}", status_code=303)
