"""用户管理: an admin adds and disables the users of their own agencies (as ``casecheck user`` does)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from ..users import ROLES, User, UserError, add_user, disable_user, district_agencies, list_users
from .deps import ADMIN, NotFound, allow, checked_form, get_store, render

router = APIRouter()


def _in_scope(admin: User, row: Any) -> bool:
    agencies = set(filter(None, (row.agencies or "").split(",")))
    if row.district:
        try:
            agencies.update(district_agencies(row.district))
        except UserError:
            return False
    return bool(agencies) and agencies <= admin.agencies


@router.get("/admin/users")
def users_page(request: Request, user: User = Depends(allow(*ADMIN))) -> Any:
    rows = [r for r in list_users(get_store(request)) if _in_scope(user, r)]
    return render(request, "users.html", rows=rows, roles=list(ROLES), error=None, agencies=sorted(user.agencies))


@router.post("/admin/users")
def users_add(request: Request, user: User = Depends(allow(*ADMIN)), form: Any = Depends(checked_form)) -> Any:
    agencies = [a for a in form.getlist("agencies") if a]
    outside = [a for a in agencies if a not in user.agencies]
    try:
        if outside:
            raise UserError(f"执法主体 {', '.join(outside)} 不在您的管理范围 / outside your scope")
        add_user(get_store(request), str(form.get("login") or "").strip(), str(form.get("name") or ""),
                 str(form.get("password") or ""), roles=[r for r in form.getlist("roles") if r],
                 agencies=agencies, officer_id=str(form.get("officer_id") or "").strip() or None,
                 certificate=str(form.get("certificate") or "").strip() or None)
    except UserError as bad:
        rows = [r for r in list_users(get_store(request)) if _in_scope(user, r)]
        return render(request, "users.html", status=422, rows=rows, roles=list(ROLES), error=str(bad),
                      agencies=sorted(user.agencies))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{login}/disable")
def users_disable(request: Request, login: str, user: User = Depends(allow(*ADMIN)),
                  form: Any = Depends(checked_form)) -> Any:
    rows = {r.login: r for r in list_users(get_store(request))}
    if login not in rows or not _in_scope(user, rows[login]):
        raise NotFound()
    disable_user(get_store(request), login)
    return RedirectResponse("/admin/users", status_code=303)
