"""``verify`` of the ``case_checks`` cache (issue 17, the case list's "has findings" of issue 21).

A ``case_checks`` row says: case ``case_pk`` was judged by check run ``run_id`` as of ``as_of``, kept at
``checked_at``, with ``findings`` findings. What it must hold follows from the run it names
(``case_checks.recount``): a run of kind ``check``, the run's ``as_of`` and ``started_at``, and as many
findings as the run keeps finding rows of that case. One statement compares every row with that (the
findings counted once per case and run, grouped by the database: one pass over ``case_checks`` and the
findings of the runs it names); only the rows that differ come back, at most ``LIMIT`` of them, so memory
stays bounded at any size. An edit that hides a case's findings from the case list (``findings``
set to 0, the row moved to another run or time) is named with its case.

Not covered (and said so): the runs and findings tables themselves are not sealed by the checkpoints; a
row pointed at another run *together with* that run's finding rows forged is consistent here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select

__all__ = ["verify_case_checks", "LIMIT"]

LIMIT = 200


def verify_case_checks(session: Any) -> list[Any]:
    """One ``Broken`` per ``case_checks`` row that differs from what its run implies (the first ``LIMIT``,
    then one line saying there are more)."""
    from .case_checks import CaseCheckRow
    from .repo import Broken
    from .tables import CaseRow, FindingRow, RunRow

    checks = CaseCheckRow.__table__
    cc, c, r, f = checks.c, CaseRow.__table__.c, RunRow.__table__.c, FindingRow.__table__.c
    counted = (select(f.run_id, f.case_pk, func.count().label("n"))
               .where(f.run_id.in_(select(cc.run_id).distinct()))
               .group_by(f.run_id, f.case_pk).subquery("counted"))
    n = func.coalesce(counted.c.n, 0)
    differs = or_(r.id.is_(None), r.kind != "check", cc.as_of != r.as_of,
                  cc.checked_at != r.started_at, cc.findings != n)
    query = (select(c.agency, c.case_id, cc.run_id, cc.findings, n, r.kind, cc.as_of, r.as_of,
                    cc.checked_at, r.started_at)
             .select_from(checks.join(CaseRow.__table__, c.id == cc.case_pk)
                          .outerjoin(RunRow.__table__, r.id == cc.run_id)
                          .outerjoin(counted, and_(counted.c.run_id == cc.run_id, counted.c.case_pk == cc.case_pk)))
             .where(differs).order_by(cc.case_pk).limit(LIMIT + 1))
    out: list[Any] = []
    rows = session.connection().execute(query).all()
    for agency, case_id, run_id, have, want, kind, as_of, run_as_of, checked_at, started_at in rows[:LIMIT]:
        if kind is None or kind != "check":
            what = f"names run #{run_id}, which is {'missing' if kind is None else 'not a check run'}"
        elif have != want:
            what = f"says {have} findings, check run #{run_id} kept {want}"
        else:
            what = (f"as of {as_of}, checked at {checked_at}; check run #{run_id} was as of {run_as_of}, "
                    f"kept at {started_at}")
        out.append(Broken(agency, case_id, None, f"案件检查结果缓存（case_checks）与检查记录不符 / the case_checks row "
                                                 f"differs from the check run it names: {what}"))
    if len(rows) > LIMIT:
        out.append(Broken("", "", None, f"… more case_checks rows differ from their check runs (the first {LIMIT} "
                                        f"are named)"))
    return out
