"""The ASGI application: ``create_app(store_url)``; ``casecheck serve`` runs it with uvicorn.

One router per area (auth, cases, work, admin), each route declaring who may use it; security headers
on every answer; static files (style, script, no font needed: the system's CJK font is used) from the
package. ``/api/`` is left to the platform API's router, which ``create_app`` includes with one line.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from ..store import Store
from .deps import BadForm, Forbidden, NotFound, NotLoggedIn, render
from .service import CaseNotVisible

log = logging.getLogger("casecheck.web")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
MAX_BODY = 60 * 1024 * 1024          # an upload: a few files of the loader's 20 MB limit


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task or body copy): bounds a request body's declared size and
    adds the security headers to every answer."""

    HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
               (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
               (b"cross-origin-opener-policy", b"same-origin"),
               (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            refusal = None
            if length is None and headers.get(b"transfer-encoding"):
                refusal = PlainTextResponse("411 请提供 Content-Length / length required", status_code=411)
            elif length is not None and (not length.isdigit() or int(length) > MAX_BODY):
                refusal = PlainTextResponse(f"413 请求过大（上限 {MAX_BODY // 1024 // 1024} MB） / request too large",
                                            status_code=413)
            if refusal is not None:
                await self._with_headers(refusal, scope)(scope, receive, send)
                return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.HEADERS if k not in names]
                if not static and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _with_headers(self, response: Any, scope: Any) -> Any:
        for k, v in self.HEADERS:
            response.headers[k.decode()] = v.decode()
        return response


def create_app(store_url: str | None = None, *, store: Store | None = None, secure_cookies: bool = False) -> FastAPI:
    """The workspace on the store at ``store_url`` (default: ``--db`` rules: $CASECHECK_DB, ./casecheck.db).
    ``secure_cookies``: mark cookies Secure (behind an HTTPS proxy)."""
    from .. import api
    from . import admin, auth, cases, work
    from .api_session import session_identity

    app = FastAPI(title="casecheck", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store or Store.open(store_url)
    app.state.secure_cookies = secure_cookies
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(resources.files("engine.web").joinpath("static"))), name="static")
    for module in (auth, work, cases, admin):
        app.include_router(module.router)
    from . import supervision                       # issue 19: 监督通知书/意见书 and rectification

    app.include_router(supervision.router)
    # The platform API (/api/v1): tokens of platform clients, and the logged-in user's session.
    api.install(app, app.state.store)
    api.auth.add_identity_source(app, session_identity)

    @app.exception_handler(NotLoggedIn)
    async def _login(request: Request, exc: NotLoggedIn) -> Any:
        if request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return PlainTextResponse("401 请先登录 / log in first", status_code=401)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Any:
        return render(request, "error.html", status=403, code=403)

    @app.exception_handler(CaseNotVisible)
    async def _not_visible(request: Request, exc: CaseNotVisible) -> Any:
        return render(request, "error.html", status=404, code=404)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Any:
        return render(request, "error.html", status=404, code=404)

    @app.exception_handler(404)
    async def _missing(request: Request, exc: Any) -> Any:
        if request.url.path.startswith("/api/"):           # the API answers in problem details
            return await api.problems.http_handler(request, exc)
        return render(request, "error.html", status=404, code=404)

    @app.exception_handler(BadForm)
    async def _bad(request: Request, exc: BadForm) -> Any:
        return render(request, "error.html", status=400, code=400, message=str(exc))

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        """A page's address or query that does not parse: a page, not FastAPI's JSON. A bad part of the
        path (``/cases/abc``) is no such page (404); a bad query value is named with the value (400)."""
        if request.url.path.startswith("/api/"):
            return await api.problems.validation_handler(request, exc)
        errors = exc.errors()
        if any(e.get("loc", ("",))[0] == "path" for e in errors):
            return render(request, "error.html", status=404, code=404)
        bad = [(e.get("loc", ("", "?"))[-1], e.get("input", "")) for e in errors[:5]]
        said = ("；".join(f"{name}: “{value}” 无效" for name, value in bad) + " / "
                + "; ".join(f"{name}: {value!r} is not valid" for name, value in bad))
        return render(request, "error.html", status=400, code=400, message=said)

    return app


def app_from_env() -> FastAPI:
    """The app ``casecheck serve`` runs in each worker process: the store of $CASECHECK_DB."""
    import os

    return create_app(os.environ.get("CASECHECK_DB"), secure_cookies=os.environ.get("CASECHECK_SECURE_COOKIES") == "1")
