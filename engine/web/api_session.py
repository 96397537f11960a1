"""The web session as an identity of the HTTP API (``/api/v1``): a logged-in user may call the API from
the browser with their own scope, as their own officer. Writing needs a role that records steps and the
session's CSRF token in an ``X-CSRF-Token`` header, so a page of another site cannot write through the
user's cookie; without it the session reads only."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Request

from ..api.auth import Identity
from ..users import session_user
from .deps import RECORD, SESSION_COOKIE

__all__ = ["session_identity"]


def session_identity(request: Request, state: Any) -> Identity | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = session_user(state.store, cookie)
    if found is None:
        return None
    user, csrf = found
    sent = request.headers.get("x-csrf-token", "")
    can_write = user.has(*RECORD) and bool(sent) and hmac.compare_digest(sent, csrf)
    return Identity("session", user.login, tuple(sorted(user.agencies)), can_write, officer=user.officer_id,
                    person=user.person)
