"""Who is calling: an ``Identity`` from the first identity source that recognises the request.

Sources are tried in order; each returns an ``Identity``, ``None`` (not mine: try the next) or raises
``Problem`` (mine, but refused: a revoked token). The API ships the bearer-token source (platform
clients, ``engine.api_clients``); the web server adds the logged-in user's session with
``add_identity_source(app, source)`` — its user's agencies, roles and linked officer id become an Identity
(``kind="session"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Optional

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from ..api_clients import TOKEN_PREFIX, AuthRefused, authenticate
from .problems import Problem

__all__ = ["Identity", "IdentitySource", "identity", "writer", "add_identity_source", "token_source", "db"]


async def db(request: Request) -> AsyncIterator[Session]:
    """One store session per request: the token, the case and what is read back share one connection
    (on PostgreSQL each checkout of a pooled connection costs a round trip: its pre-ping). Opened on the
    event loop (no I/O until the first statement, which runs in the endpoint's thread) and closed there
    when it holds no transaction (giving the connection back is then no round trip); a session left
    inside a transaction is closed in a worker thread (its ROLLBACK is one). FastAPI would run a plain
    generator dependency in the thread pool: two thread hops per request."""
    from starlette.concurrency import run_in_threadpool

    session = Session(request.app.state.casecheck_api.store.engine, expire_on_commit=False)
    request.state.casecheck_db = session
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


@dataclass(frozen=True)
class Identity:
    kind: str                                  # token | session
    name: str                                  # the client's name, or the user's login
    agencies: tuple[str, ...] | None           # None: every agency
    can_write: bool
    officer: str | None = None                 # a session user's own officer id (a token names one per request)
    person: tuple[Any, Any, Any] | None = None  # a session user: (officer id, name, certificate), the officer
                                               # of each case they act on is found from it (users.acting_officer)

    def sees(self, agency: str) -> bool:
        return self.agencies is None or agency in self.agencies

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


IdentitySource = Callable[[Request, Any], Optional[Identity]]

_bearer = HTTPBearer(auto_error=False, scheme_name="token",
                     description="API token of a platform client (`casecheck api-client add`), sent as "
                                 "`Authorization: Bearer cck_…`")


def token_source(request: Request, state: Any) -> Identity | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    token = token.strip()
    if not token.startswith(TOKEN_PREFIX):
        raise Problem(401, "bad-token", "令牌格式不对（应以 cck_ 开头）", "malformed token (it starts with cck_)",
                      headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    try:
        client = authenticate(state.store, token, getattr(request.state, "casecheck_db", None))
    except AuthRefused as exc:
        zh, _, en = str(exc).partition(" / ")
        raise Problem(401, "bad-token", zh, en or zh, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return Identity("token", client.name, client.agencies, client.can_write)


def add_identity_source(app: Any, source: IdentitySource, first: bool = False) -> None:
    """Let ``source`` identify callers too (the web server's session)."""
    sources = app.state.casecheck_api.identity_sources
    sources.insert(0, source) if first else sources.append(source)


def identity(request: Request, _token: HTTPAuthorizationCredentials | None = Depends(_bearer),
             _session: Session = Depends(db)) -> Identity:
    state = request.app.state.casecheck_api
    for source in state.identity_sources:
        found = source(request, state)
        if found is not None:
            return found
    raise Problem(401, "unauthenticated", "需要认证：请在 Authorization 头中提供 API 令牌",
                  "authentication needed: send an API token as `Authorization: Bearer cck_…`",
                  headers={"WWW-Authenticate": "Bearer"})


async def writer(who: Identity = Depends(identity)) -> Identity:        # no I/O: on the event loop, no thread hop
    if not who.can_write:
        raise Problem(403, "read-only", f"“{who.name}”只有读取权限，不能写入", f"{who.name!r} may read but not write")
    return who
