"""The change-log digest a checkpoint seals and ``verify`` checks (``trail.changes_digest``, plain driver
rows encoded by orjson) equals its definition (``changes_digest_reference``: the ORM and ``canonical``),
on SQLite and PostgreSQL, over rows an import and a live step write and rows with awkward text; and an
edited row changes it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from engine.cases import import_paths
from engine.store import Store
from engine.store.trail import changes_digest, changes_digest_reference
from conftest import ROOT

AWKWARD = ["当事人更正：张三 → 李四", 'quote " backslash \\ slash /', "tab\tnewline\nreturn\r\x01\x1f\x7f",
           "emoji 😀 and U+2028 \u2028 U+FEFF \ufeff", "", "a" * 5000]


def _store(url):
    store = Store.open(url)
    assert import_paths(store, [ROOT / "fixtures" / "demo"], actor="导入员").new == 41
    with store.engine.begin() as conn:
        pk = conn.execute(text("SELECT min(id) FROM cases")).scalar_one()
        stamps = [dt.datetime(2026, 3, 1, 8, 0, 0, 123456), dt.datetime(2026, 3, 1, 8, 0, 0),
                  dt.datetime(2026, 12, 31, 23, 59, 59, 999999)]
        for i, summary in enumerate(AWKWARD):
            conn.execute(text("INSERT INTO changes (case_pk, at, actor, kind, summary, old_hash, new_hash) "
                              "VALUES (:pk, :at, :actor, 'recorded', :summary, :old, :new)"),
                         {"pk": pk, "at": stamps[i % 3], "actor": f"承办人{i}", "summary": summary,
                          "old": "" if i % 2 else "0" * 64, "new": "f" * 64})
    return store


def test_fast_change_digest_equals_its_definition(url):
    store = _store(url)
    with store.reading() as s:
        ids = [r[0] for r in s.execute(text("SELECT id FROM changes ORDER BY id")).all()]
        assert len(ids) == 41 + len(AWKWARD)
        for upto in (0, ids[0], ids[20], ids[-1], ids[-1] + 100):
            assert changes_digest(s, upto) == changes_digest_reference(s, upto)
            for mark in (0, ids[0], ids[10], upto):
                if mark <= upto:
                    assert changes_digest(s, upto, mark) == changes_digest_reference(s, upto, mark)
        before = changes_digest(s, ids[-1])
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE changes SET summary = summary || '.' WHERE id = :i"), {"i": ids[-3]})
    with store.reading() as s:
        after = changes_digest(s, ids[-1])
        assert after == changes_digest_reference(s, ids[-1])
    assert after[0] == before[0] and after[1] != before[1]
