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
from starlette.middleware.base import BaseHTTPMiddleware

from ..store import Store
from .deps import BadForm, Forbidden, NotFound, NotLoggedIn, render
from .service import CaseNotVisible

log = logging.getLogger("casecheck.web")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
MAX_BODY = 60 * 1024 * 1024          # an upload: a few files of the loader's 20 MB limit


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: Any) -> Any:
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            length = request.headers.get("content-length")
            if length is None and request.headers.get("transfer-encoding"):
                return PlainTextResponse("411 请提供 Content-Length / length required", status_code=411)
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
                return PlainTextResponse(f"413 请求过大（上限 {MAX_BODY // 1024 // 1024} MB） / request too large",
                                         status_code=413)
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        return response


def create_app(store_url: str | None = None, *, store: Store | None = None, secure_cookies: bool = False) -> FastAPI:
    """The workspace on the store at ``store_url`` (default: ``--db`` rules: $CASECHECK_DB, ./casecheck.db).
    ``secure_cookies``: mark cookies Secure (behind an HTTPS proxy)."""
    from . import admin, auth, cases, work

    app = FastAPI(title="casecheck", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store or Store.open(store_url)
    app.state.secure_cookies = secure_cookies
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(resources.files("engine.web").joinpath("static"))), name="static")
    for module in (auth, work, cases, admin):
        app.include_router(module.router)
    # The platform API (issue 22) is included here with one line, e.g.:
    #   app.include_router(api.router, prefix="/api/v1")

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
        return render(request, "error.html", status=404, code=404)

    @app.exception_handler(BadForm)
    async def _bad(request: Request, exc: BadForm) -> Any:
        return render(request, "error.html", status=400, code=400, message=str(exc))

    return app


def app_from_env() -> FastAPI:
    """The app ``casecheck serve`` runs in each worker process: the store of $CASECHECK_DB."""
    import os

    return create_app(os.environ.get("CASECHECK_DB"), secure_cookies=os.environ.get("CASECHECK_SECURE_COOKIES") == "1")
