"""The store's deadline rows and the alerts query on them.

Every import and recorded step rewrites the case's rows from the same facts the rules and the file-based
alerts use (``engine.alerts``), so ``casecheck alerts --db`` answers with one indexed query instead of
rebuilding every case: open on the as-of day (``start <= D < open_until``) and due by the window's last
day. Only the returned rows are turned into alerts (working days left on the Chinese calendar).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import delete, insert, select
from sqlmodel import Session

from ..alerts import Alert, deadline_rows, make_alert, sort_alerts, window_end
from ..calendar import WorkCalendar
from ..errors import CalendarError
from ..facts import FactContext
from ..model import CaseFile
from .tables import CaseRow, DeadlineRow

__all__ = ["refresh_deadlines", "deadline_rows_for", "store_alerts"]

def deadline_rows_for(case: CaseFile, ctx: FactContext) -> list[dict[str, Any]]:
    """The case's deadline rows (``ctx.as_of`` is ignored: the rows hold no status)."""
    if not case.events:
        return []
    last = max(e.date for e in case.events)
    try:
        return deadline_rows(case, dataclasses.replace(ctx, as_of=last))    # the profile's tables as loaded
    except CalendarError:
        return []                  # dates no calendar covers: `check` reports the case; no alert is guessed


def refresh_deadlines(session: Session, row: CaseRow, case: CaseFile, ctx: FactContext) -> None:
    """Replace the case's deadline rows."""
    session.execute(delete(DeadlineRow).where(DeadlineRow.case_pk == row.id),
                    execution_options={"synchronize_session": False})   # never scan the session's objects
    rows = deadline_rows_for(case, ctx)
    if rows:
        session.execute(insert(DeadlineRow), [dict(r, case_pk=row.id) for r in rows])


def store_alerts(store: Any, calendar: WorkCalendar, as_of: dt.date, *, within: int | None = None,
                 agency: str | None = None, lang: str = "zh") -> list[Alert]:
    """The same alerts as ``engine.alerts.alerts`` on the stored cases, from the indexed deadline rows."""
    query = (select(DeadlineRow.code, DeadlineRow.platform, DeadlineRow.start, DeadlineRow.due,
                    DeadlineRow.officers, CaseRow.case_id, CaseRow.agency, CaseRow.source)
             .join(CaseRow, CaseRow.id == DeadlineRow.case_pk)
             .where(DeadlineRow.open_until > as_of, DeadlineRow.due <= window_end(calendar, as_of, within),
                    DeadlineRow.start <= as_of))
    if agency:
        query = query.where(CaseRow.agency == agency)
    out = []
    with store.reading() as session:
        for code, platform, start, due, officers, case_id, agency_code, source in session.execute(query):
            alert = make_alert(calendar, as_of, within, lang, case_id=case_id, agency=agency_code, file=source,
                               code=code, platform=platform, start=start, due=due, officers=officers)
            if alert is not None:
                out.append(alert)
    return sort_alerts(out)
