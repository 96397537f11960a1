"""casecheck's HTTP API, ``/api/v1``: check case files, store and read cases, record steps through the
live guard, alerts, reviews, imports, the rule catalogue — for case-handling systems and supervision
platforms written in any language. Every check and live decision gets a decision id and a record in the
decision log (``engine.decisions``). Errors are RFC 9457 problem details, Chinese with English beside.

Serve it alone::

    uvicorn --factory engine.api:app_from_env        # CASECHECK_DB=postgresql+psycopg://… (or a SQLite path)

or inside another FastAPI application (the web server) with one line::

    engine.api.install(app, store)                   # routes, error handlers, body limit, state

``install`` keeps the API's state on ``app.state.casecheck_api``; ``engine.api.auth.add_identity_source``
lets the host application identify callers by its own session as well as by API tokens.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..store import Store
from .auth import IdentitySource, token_source
from .problems import Problem, http_handler, internal_handler, problem_body, problem_handler, validation_handler
from .routes import PREFIX, router

__all__ = ["router", "install", "create_api_app", "app_from_env", "openapi_document", "ApiState", "PREFIX",
           "MAX_BODY_BYTES"]

MAX_BODY_BYTES = 20 * 1024 * 1024          # the loader's limit for one file


@dataclass
class ApiState:
    store: Store
    keep_inputs: bool = True
    identity_sources: list[IdentitySource] = field(default_factory=lambda: [token_source])
    openapi: dict[str, Any] | None = None


class _TooLarge(StarletteHTTPException):
    """A streamed body past the limit. An HTTP exception, so that FastAPI, reading the body, lets it through
    as 413 (any other exception there becomes its English 400 "error parsing the body")."""

    def __init__(self, limit: int, seen: int):
        super().__init__(413, f"请求体超过上限 {limit:,} 字节（收到至少 {seen:,} 字节） / the request body exceeds the "
                              f"limit of {limit:,} bytes (at least {seen:,} received)")


class BodyLimit:
    """ASGI middleware: a request body under ``/api/v1`` larger than ``limit`` bytes gets 413 (by its
    Content-Length at once, or as soon as a streamed body passes the limit)."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, send, int(length))
            return
        seen = 0
        started = False

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge(self.limit, seen)
            return message

        async def watched(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await self._refuse(scope, send, seen)

    async def _refuse(self, scope: dict, send: Any, size: int) -> None:
        import json

        body = json.dumps(problem_body(None, 413, "body-too-large",
                                       f"请求体超过上限 {self.limit:,} 字节（收到至少 {size:,} 字节）",
                                       f"the request body exceeds the limit of {self.limit:,} bytes "
                                       f"(at least {size:,} received)", instance=scope["path"]),
                          ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, store: Store, *, keep_inputs: bool | None = None, max_body: int | None = None) -> ApiState:
    """Serve ``/api/v1`` from ``app`` on ``store``."""
    from ..decisions import keep_inputs_default

    state = ApiState(store, keep_inputs_default() if keep_inputs is None else keep_inputs)
    app.state.casecheck_api = state
    app.include_router(router)
    app.add_exception_handler(Problem, problem_handler)
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_exception_handler(StarletteHTTPException, http_handler)
    app.add_exception_handler(Exception, internal_handler)
    limit = max_body or int(os.environ.get("CASECHECK_API_MAX_BODY", MAX_BODY_BYTES))
    app.add_middleware(BodyLimit, limit=limit)
    return state


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The API's OpenAPI document: the ``/api/v1`` routes only, whatever else ``app`` serves."""
    from fastapi.openapi.utils import get_openapi

    state: ApiState = app.state.casecheck_api
    if state.openapi is None:
        routes = [r for r in router.routes if getattr(r, "path", "").startswith(PREFIX)]
        state.openapi = get_openapi(
            title="casecheck API", version=f"1 (engine {__version__})", routes=routes,
            summary="行政执法案卷程序合规检查接口 / procedure-compliance decisions for enforcement case files",
            description=(__doc__ or "").split("\n\n")[0])
    return state.openapi


def create_api_app(store_url: str | None = None, *, keep_inputs: bool | None = None,
                   max_body: int | None = None) -> FastAPI:
    """An application serving the API alone (its OpenAPI at /api/v1/openapi.json, the page at /api/v1/docs)."""
    app = FastAPI(title="casecheck API", version="1", openapi_url=None, docs_url=None, redoc_url=None)
    install(app, Store.open(store_url), keep_inputs=keep_inputs, max_body=max_body)
    return app


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory engine.api:app_from_env``: the store of ``CASECHECK_DB``."""
    return create_api_app(os.environ.get("CASECHECK_DB"))
