"""工作台, 导入, 案卷评查, 期限预警, 年度统计, 规则, and the calendar feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from ..errors import CasecheckError
from ..loader import MAX_FILE_BYTES
from ..review import previous_quarter, quarter_bounds
from ..users import User, feed_user, has_feed, new_feed_token, revoke_feed_tokens
from .deps import ADJUST, ALL, IMPORT, REPORTS, REVIEW, STATS, BadForm, NotFound, allow, checked_form, get_lang, get_store, render
from .service import (RENDERERS, CaseNotVisible, add_review_note, alerts_report, dashboard, ics_feed, import_upload, render_download, rule_catalogue,
                      run_review, stats_report)

router = APIRouter()

MAX_UPLOAD_FILES = 20
SHOWN_ROWS = 500              # rows of a report section shown on the page (downloads carry them all)


def _download(doc: Any, fmt: str, name: str) -> Response:
    if fmt not in RENDERERS:
        raise NotFound()
    body, media, suffix = render_download(doc, fmt)
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}.{suffix}"', "X-Content-Type-Options": "nosniff"})


def _as_of(value: str) -> dt.date:
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadForm(f"as_of: “{value}” 不是日期 YYYY-MM-DD / not a date") from None


@router.get("/")
def home(request: Request, user: User = Depends(allow(*ALL)), as_of: str = "") -> Any:
    board = dashboard(get_store(request), user, get_lang(request), _as_of(as_of))
    from .supervision import dashboard_card                     # issue 19: open and overdue 整改

    return render(request, "dashboard.html", board=board,
                  supervision=dashboard_card(get_store(request), user, board.as_of))


# ---------------------------------------------------------------------------------------------- import
@router.get("/import")
def import_page(request: Request, user: User = Depends(allow(*IMPORT))) -> Any:
    return render(request, "import.html", report=None)


@router.post("/import")
async def import_files(request: Request, user: User = Depends(allow(*IMPORT)), form: Any = Depends(checked_form)) -> Any:
    uploads = [f for f in form.getlist("files") if hasattr(f, "read")]
    if not uploads:
        raise BadForm("请选择要导入的文件 / choose files to import")
    if len(uploads) > MAX_UPLOAD_FILES:
        raise BadForm(f"一次最多 {MAX_UPLOAD_FILES} 个文件 / at most {MAX_UPLOAD_FILES} files at a time")
    files = []
    for upload in uploads:
        data = await upload.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise BadForm(f"{upload.filename}: 文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB / file larger than the "
                          f"loader's limit")
        files.append((upload.filename or "upload", data))
    report = import_upload(get_store(request), user, files)
    return render(request, "import.html", status=422 if report.problems else 200, report=report)


# ---------------------------------------------------------------------------------------------- review
def _quarter(value: str) -> str:
    value = (value or "").strip().upper()
    try:
        quarter_bounds(value)
    except (CasecheckError, ValueError):
        raise BadForm(f"quarter: “{value}” 应写作 2024Q4 / write a quarter as 2024Q4") from None
    return value


def _this_quarter() -> str:
    today = dt.date.today()
    return previous_quarter(f"{today.year}Q{(today.month - 1) // 3 + 1}")


def _found(doc: Any) -> dict[str, list[str]]:
    """The files and rules of the review's findings, offered in the adjustment form."""
    rows = [r for s in (doc.sections if doc else []) if s.key == "findings" for r in s.rows]
    return {"found_cases": sorted({r["case_id"] for r in rows}), "found_rules": sorted({r["rule_id"] for r in rows})}


@router.get("/review")
def review_page(request: Request, user: User = Depends(allow(*REVIEW)), quarter: str = "", show: str = "") -> Any:
    """The form; with ``show``, the quarter's review (not kept again) with its adjustments."""
    if show:
        quarter = _quarter(quarter)
        doc = run_review(get_store(request), user, quarter, get_lang(request), keep=False)
    else:
        doc = None
    return render(request, "review.html", quarter=quarter or _this_quarter(), doc=doc, rows=SHOWN_ROWS,
                  formats=list(RENDERERS), error=None, **_found(doc))


@router.post("/review/adjust")
def review_adjust(request: Request, user: User = Depends(allow(*ADJUST)), form: Any = Depends(checked_form)) -> Any:
    """A reviewer's adjustment of one finding's deduction, or a waiver of it until a day (engine.rubric)."""
    quarter = _quarter(str(form.get("quarter") or ""))
    kind = str(form.get("kind") or "adjust")
    value = until = None
    try:
        if kind == "adjust":
            value = int(str(form.get("value") or "").strip())
        else:
            until = dt.date.fromisoformat(str(form.get("until") or "").strip())
    except ValueError:
        raise BadForm("扣分应为整数，截止日期应为 YYYY-MM-DD / the deduction is a whole number, the last day "
                      "YYYY-MM-DD") from None
    try:
        add_review_note(get_store(request), user, kind, str(form.get("case_id") or ""), str(form.get("rule_id") or ""),
                        str(form.get("reason") or ""), value=value, until=until)
    except CaseNotVisible:
        raise
    except CasecheckError as bad:
        raise BadForm(str(bad)) from None
    return RedirectResponse(f"/review?quarter={quarter}&show=1", status_code=303)


@router.post("/review")
def review_run(request: Request, user: User = Depends(allow(*REVIEW)), form: Any = Depends(checked_form)) -> Any:
    quarter = _quarter(str(form.get("quarter") or ""))
    doc = run_review(get_store(request), user, quarter, get_lang(request))
    return render(request, "review.html", quarter=quarter, doc=doc, rows=SHOWN_ROWS, formats=list(RENDERERS),
                  error=None, **_found(doc))


@router.get("/review/download")
def review_download(request: Request, quarter: str, format: str = "html", user: User = Depends(allow(*REVIEW))) -> Any:
    quarter = _quarter(quarter)
    doc = run_review(get_store(request), user, quarter, get_lang(request), keep=False)
    return _download(doc, format, f"review-{quarter}")


# ---------------------------------------------------------------------------------------------- alerts, stats
@router.get("/alerts")
def alerts_page(request: Request, user: User = Depends(allow(*REPORTS)), as_of: str = "", within: int = 5,
                format: str = "") -> Any:
    day = _as_of(as_of)
    doc, pks = alerts_report(get_store(request), user, day, within, get_lang(request))
    if format:
        return _download(doc, format, f"alerts-{day}")
    return render(request, "report.html", doc=doc, rows=SHOWN_ROWS, formats=list(RENDERERS), kind="alerts",
                  query=f"as_of={day}&within={within}", as_of=day, within=within)


@router.get("/stats")
def stats_page(request: Request, user: User = Depends(allow(*STATS)), year: int = 0, format: str = "") -> Any:
    year = year or dt.date.today().year - 1
    if not 2000 <= year <= 2100:
        raise BadForm("年度应在 2000–2100 之间 / year: 2000–2100")
    doc = stats_report(get_store(request), user, year, get_lang(request))
    if format:
        return _download(doc, format, f"stats-{year}")
    return render(request, "report.html", doc=doc, rows=SHOWN_ROWS, formats=list(RENDERERS), kind="stats",
                  query=f"year={year}", year=year)


@router.get("/rules")
def rules_page(request: Request, user: User = Depends(allow(*ALL))) -> Any:
    return render(request, "rules.html", rules=rule_catalogue(get_lang(request)))


# ---------------------------------------------------------------------------------------------- calendar feed
@router.get("/feed")
def feed_page(request: Request, user: User = Depends(allow(*ALL))) -> Any:
    return render(request, "feed.html", url=None, active=has_feed(get_store(request), user))


@router.post("/feed/new")
def feed_new(request: Request, user: User = Depends(allow(*ALL)), form: Any = Depends(checked_form)) -> Any:
    token = new_feed_token(get_store(request), user)
    url = str(request.base_url).rstrip("/") + f"/ics/{token}.ics"
    return render(request, "feed.html", url=url, active=True)


@router.post("/feed/revoke")
def feed_revoke(request: Request, user: User = Depends(allow(*ALL)), form: Any = Depends(checked_form)) -> Any:
    revoke_feed_tokens(get_store(request), user)
    return RedirectResponse("/feed", status_code=303)


@router.get("/ics/{token}.ics")
def feed(request: Request, token: str) -> Any:
    """The feed's secret is its only credential (a calendar program sends no cookie)."""
    user = feed_user(get_store(request), token)
    if user is None:
        return PlainTextResponse("404", status_code=404)
    return Response(ics_feed(get_store(request), user), media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="casecheck.ics"'})
