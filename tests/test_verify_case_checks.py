"""``verify`` covers ``case_checks`` (the case list's "has findings" cache, issue 21), on SQLite and
PostgreSQL: each row against the check run it names (``case_checks.recount``); an edit that hides a case's
findings is named with its case."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.cases import _deadline_context, import_paths
from engine.store import Store
from engine.store.audit import verify_store
from engine.store.audit_case_checks import LIMIT, verify_case_checks
from engine.store.case_checks import recount
from conftest import ROOT


def _checked(url, tmp_path):
    from typer.testing import CliRunner

    from engine.cli import app

    store = Store.open(url)
    assert import_paths(store, [ROOT / "fixtures" / "demo"], actor="导入员").new == 41
    result = CliRunner().invoke(app, ["check", "--db", url, "--as-of", "2024-12-31", "-o", str(tmp_path / "c.json")])
    assert result.exit_code in (0, 1), result.output
    return store


def _problems(store):
    with store.reading() as s:
        return [(b.case_id, b.problem) for b in verify_store(s, ctx=_deadline_context(), trail=False).broken]


def _sql(store, statement, **params):
    with store.engine.begin() as conn:
        return conn.execute(text(statement), params)


def test_verify_names_a_case_checks_row_that_differs_from_its_run(url, tmp_path):
    store = _checked(url, tmp_path)
    with store.reading() as s:
        run = s.execute(text("SELECT max(id) FROM runs WHERE kind = 'check'")).scalar_one()
        counts = recount(s, run)
        rows = dict(s.execute(text("SELECT case_pk, findings FROM case_checks")).all())
        flagged, n = next((pk, k) for pk, k in sorted(counts.items()) if k)
        clean = next(pk for pk in sorted(rows) if pk not in counts)
        names = dict(s.execute(text("SELECT id, case_id FROM cases")).all())
    assert len(rows) == 41 and all(rows[pk] == k for pk, k in counts.items())
    assert _problems(store) == []
    # a case's findings hidden from the case list
    _sql(store, "UPDATE case_checks SET findings = 0 WHERE case_pk = :p", p=flagged)
    [(case_id, problem)] = _problems(store)
    assert case_id == names[flagged] and f"says 0 findings, check run #{run} kept {n}" in problem
    _sql(store, "UPDATE case_checks SET findings = :n WHERE case_pk = :p", n=n, p=flagged)
    assert _problems(store) == []
    # a clean case said to have findings; another's verdict moved in time or to another kind of run
    _sql(store, "UPDATE case_checks SET findings = 3 WHERE case_pk = :p", p=clean)
    _sql(store, "UPDATE case_checks SET as_of = '2030-01-01' WHERE case_pk = :p", p=flagged)
    assert {c for c, _ in _problems(store)} == {names[clean], names[flagged]}
    _sql(store, "UPDATE case_checks SET findings = 0, as_of = '2024-12-31' WHERE case_pk = :p", p=clean)
    _sql(store, "UPDATE case_checks SET as_of = '2024-12-31' WHERE case_pk = :p", p=flagged)
    assert _problems(store) == []
    _sql(store, "UPDATE case_checks SET checked_at = checked_at + interval '1 day' WHERE case_pk = :p"
         if "postgresql" in url else "UPDATE case_checks SET checked_at = '2099-01-01 00:00:00.000000' "
                                     "WHERE case_pk = :p", p=flagged)
    [(case_id, problem)] = _problems(store)
    assert case_id == names[flagged] and "kept at" in problem


def test_many_differing_rows_are_named_up_to_a_limit(url, tmp_path, monkeypatch):
    store = _checked(url, tmp_path)
    _sql(store, "UPDATE case_checks SET findings = findings + 1")
    from engine.store import audit_case_checks

    monkeypatch.setattr(audit_case_checks, "LIMIT", 5)
    with store.reading() as s:
        broken = verify_case_checks(s)
    assert len(broken) == 6 and "more case_checks rows differ" in broken[-1].problem
    assert LIMIT == 200
