"""Errors as RFC 9457 problem details (``application/problem+json``): ``title``/``detail`` in Chinese,
``title_en``/``detail_en`` beside them, and extension members (``errors`` with located problems,
``findings`` with the failing rules, ``decision_id``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_TYPE = "application/problem+json"

TITLES: dict[int, tuple[str, str]] = {
    400: ("请求有误", "Bad request"),
    401: ("未认证", "Not authenticated"),
    403: ("无权操作", "Forbidden"),
    404: ("未找到", "Not found"),
    405: ("方法不允许", "Method not allowed"),
    409: ("拒绝记录", "Step refused"),
    412: ("案件已被他人更新", "Precondition failed: the case changed"),
    413: ("请求过大", "Request too large"),
    415: ("不支持的内容类型", "Unsupported media type"),
    422: ("输入有误", "Unprocessable input"),
    500: ("服务器内部错误", "Internal server error"),
    503: ("服务不可用", "Service unavailable"),
}


class Problem(Exception):
    """Raised by a route; rendered by ``problem_handler``."""

    def __init__(self, status: int, slug: str, detail: str, detail_en: str | None = None, *,
                 headers: dict[str, str] | None = None, **extensions: Any):
        self.status, self.slug, self.detail, self.detail_en = status, slug, detail, detail_en
        self.headers, self.extensions = headers or {}, extensions
        super().__init__(detail)


def split_bilingual(text: str) -> tuple[str, str]:
    """The engine's messages are "中文 / English": the two halves, when it has both."""
    if " / " in text:
        zh, en = text.split(" / ", 1)
        return zh.strip(), en.strip()
    return text, text


def problem_body(request: Request | None, status: int, slug: str, detail: str, detail_en: str | None,
                 **extensions: Any) -> dict[str, Any]:
    title, title_en = TITLES.get(status, ("错误", "Error"))
    body = {"type": f"/api/v1/problems#{slug}", "title": title, "title_en": title_en, "status": status,
            "detail": detail, "detail_en": detail_en or detail}
    if request is not None:
        body["instance"] = request.url.path
    body.update(extensions)
    return body


def problem_response(request: Request | None, status: int, slug: str, detail: str, detail_en: str | None = None,
                     headers: dict[str, str] | None = None, **extensions: Any) -> JSONResponse:
    return JSONResponse(problem_body(request, status, slug, detail, detail_en, **extensions), status_code=status,
                        media_type=PROBLEM_TYPE, headers=headers)


async def problem_handler(request: Request, exc: Problem) -> JSONResponse:
    return problem_response(request, exc.status, exc.slug, exc.detail, exc.detail_en, exc.headers, **exc.extensions)


def _api(request: Request) -> bool:
    """The handlers are installed on the whole application; pages outside /api/v1 (the web server's)
    keep FastAPI's own answers."""
    return request.url.path.startswith("/api/")


async def validation_handler(request: Request, exc: RequestValidationError) -> Any:
    if not _api(request):
        from fastapi.exception_handlers import request_validation_exception_handler

        return await request_validation_exception_handler(request, exc)
    errors = [{"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "<body>",
               "message": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
    listed = "；".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem_response(request, 422, "invalid-request", f"请求内容不符合接口要求：{listed}",
                            f"the request does not match the API: {listed}", errors=errors)


async def http_handler(request: Request, exc: StarletteHTTPException) -> Any:
    if not _api(request):
        from fastapi.exception_handlers import http_exception_handler

        return await http_exception_handler(request, exc)
    slug = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}.get(exc.status_code, "http-error")
    zh, en = TITLES.get(exc.status_code, ("错误", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) else en
    detail = FRAMEWORK_WORDS.get(detail, detail)
    if detail in ("Not Found", en):
        return problem_response(request, exc.status_code, slug, zh, detail, headers=getattr(exc, "headers", None))
    return problem_response(request, exc.status_code, "bad-body" if detail in FRAMEWORK_WORDS.values() else slug,
                            *split_bilingual(detail), headers=getattr(exc, "headers", None))


# FastAPI's own English words for a body it cannot read, in the API's "中文 / English"
FRAMEWORK_WORDS = {
    "There was an error parsing the body": "请求体无法解析：不是有效的 JSON，或嵌套过深 / the request body could not be "
                                           "parsed: not valid JSON, or nested too deeply",
}


async def internal_handler(request: Request, exc: Exception) -> Any:
    if not _api(request):
        from fastapi.responses import PlainTextResponse

        return PlainTextResponse("Internal Server Error", status_code=500)
    return problem_response(request, 500, "internal", f"服务器内部错误（{exc.__class__.__name__}），未写入任何内容",
                            f"internal error ({exc.__class__.__name__}); nothing was written")


def located(problems: list[Any]) -> list[dict[str, Any]]:
    """Located input problems (``engine.errors.InputProblem``) as the ``errors`` member."""
    return [p.as_dict() for p in problems]
