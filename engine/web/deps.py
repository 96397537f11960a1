"""What every route declares: the store, the language, the current user and the roles a route allows,
the CSRF check of a form; and the one template renderer (Chinese first, ``t(zh, en)`` in templates).

A route reads like its URL: ``user: User = Depends(allow(*VIEW))`` says who may come in; the service
functions it calls filter every read by ``user``'s agencies.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from importlib import resources
from typing import Any, Callable
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from ..store import Store
from ..users import ROLES, User, role_label, session_user
from ..vocab import label, severity_label

SESSION_COOKIE = "cc_session"
LOGIN_COOKIE = "cc_login"          # the login form's CSRF secret (double submit, before there is a session)
LANG_COOKIE = "cc_lang"

ALL = tuple(ROLES)                                      # any logged-in user
RECORD = ("officer", "legal_reviewer", "head")          # record a step (as their own officer id)
IMPORT = ("officer", "head", "admin")
REVIEW = ("head", "case_reviewer", "supervisor")
ADJUST = ("case_reviewer", "supervisor")               # a reviewer's adjustment or waiver of a finding
REPORTS = ("officer", "legal_reviewer", "head", "case_reviewer", "supervisor")
STATS = ("head", "case_reviewer", "supervisor", "admin")
ADMIN = ("admin",)

templates = Jinja2Templates(directory=str(resources.files("engine.web").joinpath("templates")))


class NotLoggedIn(Exception):
    pass


class Forbidden(Exception):
    pass


class NotFound(Exception):
    pass


class BadForm(Exception):
    pass


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_lang(request: Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


def current_user(request: Request) -> User:
    found = session_user(get_store(request), request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise NotLoggedIn()
    user, csrf = found
    request.state.user, request.state.csrf = user, csrf
    return user


def allow(*roles: str) -> Callable[..., User]:
    """A dependency: the logged-in user, if they hold one of ``roles`` (else 403)."""

    def dependency(user: User = Depends(current_user)) -> User:
        if not user.has(*roles):
            raise Forbidden()
        return user

    dependency.roles = roles          # type: ignore[attr-defined]   (read by the route × role test)
    return dependency


async def checked_form(request: Request, user: User = Depends(current_user)) -> Any:
    """The posted form, if its CSRF token is the session's (every state-changing form carries it)."""
    form = await request.form()
    sent = str(form.get("csrf") or "")
    if not sent or not hmac.compare_digest(sent, request.state.csrf):
        raise Forbidden()
    return form


def t_factory(lang: str) -> Callable[[str, str], str]:
    return (lambda zh, en: zh) if lang == "zh" else (lambda zh, en: en)


@functools.cache
def _state_labels(lang: str) -> dict[str, str]:
    from ..workflow import default_workflows

    out: dict[str, str] = {}
    for wf in default_workflows().values():
        for st in wf.states:
            out.setdefault(st["name"], st[lang])
    return out


@functools.lru_cache(maxsize=256)
def agency_name(code: str) -> str:
    """An agency's name from its profile, for a reader (the code itself when no profile names it)."""
    from ..supervision import _agency_name

    return _agency_name(code)


def proof_label(proof: str, lang: str) -> str:
    """How a step's author was established, in words (``engine.cases.PROOFS``)."""
    from ..report.supervision_docx import PROOF_TITLES

    words = PROOF_TITLES.get(proof)
    return words[0 if lang == "zh" else 1] if words else proof


def _columns_of(section: Any, rows: int) -> list[Any]:
    """A report section's columns as a page shows them: the internal ones left out, and those empty in
    every row shown (the downloads keep them all)."""
    shown = section.rows[:rows]
    return [c for c in section.columns if not c.internal
            and any(r.get(c.key) not in (None, "", "—", [], False) for r in shown)]


def said_in(text: str, lang: str) -> str:
    """The engine's "中文 / English" message in the page's language."""
    from ..api.problems import split_bilingual

    zh, en = split_bilingual(text)
    return zh if lang == "zh" else en


def render(request: Request, name: str, status: int = 200, **context: Any) -> Any:
    lang = get_lang(request)
    user = getattr(request.state, "user", None)
    context.update(request=request, lang=lang, t=t_factory(lang), user=user, label=lambda c: label(c, lang),
                   severity=lambda s: severity_label(s, lang), role_label=lambda r: role_label(r, lang),
                   state_label=lambda s: _state_labels(lang).get(s, s), csrf=getattr(request.state, "csrf", ""), here=quote(request.url.path),
                   agency_name=agency_name, proof_label=lambda proof: proof_label(proof, lang),
                   said=lambda text: said_in(str(text), lang), columns_of=_columns_of)
    return templates.TemplateResponse(request, name, context, status_code=status)


def new_secret() -> str:
    return secrets.token_urlsafe(24)
