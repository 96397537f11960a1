"""Log in, log out, the language switch."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from ..users import SESSION_HOURS, LoginRefused, authenticate, close_session, open_session
from .deps import (LANG_COOKIE, LOGIN_COOKIE, SESSION_COOKIE, checked_form, get_store, new_secret,
                   render)

router = APIRouter()


def _local(path: str | None) -> str:
    """Only a path of this site (never ``//host`` or ``https://…``): no open redirect."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or "\n" in path:
        return "/"
    return path


def _cookie(request: Request, response: Any, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", path="/",
                        secure=bool(request.app.state.secure_cookies))


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Any:
    secret = new_secret()
    response = render(request, "login.html", next=_local(next), login_csrf=secret, error=None)
    _cookie(request, response, LOGIN_COOKIE, secret, max_age=3600)
    return response


@router.post("/login")
async def login(request: Request) -> Any:
    form = await request.form()
    sent, kept = str(form.get("csrf") or ""), request.cookies.get(LOGIN_COOKIE) or ""
    target = _local(str(form.get("next") or "/"))
    if not sent or not kept or not hmac.compare_digest(sent, kept):
        return login_page(request, target)
    store = get_store(request)
    address = request.client.host if request.client else "?"
    try:
        user = authenticate(store, str(form.get("login") or ""), str(form.get("password") or ""), address)
    except LoginRefused as refused:
        secret = new_secret()
        response = render(request, "login.html", status=429 if refused.limited else 401, next=target,
                          login_csrf=secret, error=str(refused))
        _cookie(request, response, LOGIN_COOKIE, secret, max_age=3600)
        return response
    token, _ = open_session(store, user)
    response = RedirectResponse(target, status_code=303)
    _cookie(request, response, SESSION_COOKIE, token, max_age=SESSION_HOURS * 3600)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, form: Any = Depends(checked_form)) -> Any:
    close_session(get_store(request), request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> Any:
    response = RedirectResponse(_local(next), status_code=303)
    _cookie(request, response, LANG_COOKIE, "en" if code == "en" else "zh", max_age=365 * 86400)
    return response
