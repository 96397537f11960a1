"""Append-only cases (issue 17), on SQLite and PostgreSQL: a re-import never deletes or rewrites a stored
event nor its attribution; a live case's new events go through the guard; corrections are new events."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func
from sqlmodel import select

from engine.cases import StepRefused, correct, import_paths, new_case, record
from engine.store.repo import load_case
from engine.store import Store
from engine.store.repo import find_case, verify
from engine.store.tables import CaseRow, ChangeRow, EventRow
from test_store import DECISION, LIVE

REVIEW = {"type": "legal_review", "date": "2024-03-12", "reviewer": "R1", "result": "approved",
          "documents": ["法制审核意见书"]}


def write(path, case):
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    return path


def events(store, case_id="LIVE-1"):
    with store.reading() as s:
        row = find_case(s, case_id)
        return s.exec(select(EventRow).where(EventRow.case_pk == row.id).order_by(EventRow.seq)).all()


def counts(store):
    with store.reading() as s:
        return tuple(s.exec(select(func.count()).select_from(t)).one() for t in (CaseRow, EventRow, ChangeRow))


def test_reimport_after_a_live_step_keeps_it_and_its_attribution(url, tmp_path):
    store = Store.open(url)
    file = write(tmp_path / "live.json", LIVE)
    assert import_paths(store, [file], actor="导入员").new == 1
    record(store, "LIVE-1", dict(REVIEW), actor="孙某")
    before = [(e.seq, e.payload, e.recorded_by, e.recorded_at, e.proof, e.hash) for e in events(store)]
    again = import_paths(store, [file], actor="另一导入员")
    assert (again.new, again.updated, again.unchanged, again.conflicts, again.exit_code) == (0, 0, 1, [], 0)
    after = [(e.seq, e.payload, e.recorded_by, e.recorded_at, e.proof, e.hash) for e in events(store)]
    assert after == before
    assert [e[2] for e in after] == ["导入员"] * 5 + ["R1"]
    assert [e[4] for e in after] == ["import"] * 5 + ["asserted"]
    with store.reading() as s:
        assert verify(s) == []


def test_a_live_case_reimported_with_a_refused_step_stores_nothing_of_it(url, tmp_path):
    store = Store.open(url)
    new_case(store, {**LIVE, "events": LIVE["events"][:4]}, actor="seed")
    record(store, "LIVE-1", dict(LIVE["events"][4]), actor="王某")          # a live step: the case is live
    other = {**copy.deepcopy(LIVE), "case_id": "AUDIT-1"}
    before = counts(store)
    file = write(tmp_path / "a.json", {**LIVE, "events": LIVE["events"] + [DECISION]})
    write(tmp_path / "b.json", {**other, "events": other["events"] + [DECISION]})
    report = import_paths(store, [tmp_path], actor="导入员")
    assert report.exit_code == 1 and report.new == 1 and report.updated == 0
    [(source, refused)] = report.refused
    assert source.endswith("a.json") and isinstance(refused, StepRefused)
    assert [f.rule_id for f in refused.findings] == ["legal_review.required_before_decision"]
    assert len(events(store)) == 5                                            # nothing of LIVE-1 written
    assert counts(store)[0] == before[0] + 1                                  # the audit file was stored,
    assert [e.type for e in events(store, "AUDIT-1")][-1] == "decided"        # its fault is a finding
    # with the legal review recorded live, the same file's decision passes the guard and is appended
    record(store, "LIVE-1", dict(REVIEW), actor="孙某")
    write(file, {**LIVE, "events": LIVE["events"] + [REVIEW, DECISION]})
    report = import_paths(store, [file], actor="导入员")
    assert (report.updated, report.refused, report.conflicts) == (1, [], [])
    stored = events(store)
    assert [(e.type, e.recorded_by, e.proof) for e in stored][-3:] == [
        ("rights_waived", "O1", "asserted"), ("legal_review", "R1", "asserted"), ("decided", "导入员", "import")]
    with store.reading() as s:
        assert verify(s) == []
        kinds = [c.kind for c in s.exec(select(ChangeRow).where(ChangeRow.case_pk == find_case(s, "LIVE-1").id)
                                         .order_by(ChangeRow.id))]
    assert kinds == ["imported", "recorded", "recorded", "appended"]


def test_an_audit_case_takes_a_faulty_past_step_and_a_missing_event_is_a_conflict(url, tmp_path):
    store = Store.open(url)
    file = write(tmp_path / "c.json", LIVE)
    import_paths(store, [file], actor="t")
    write(file, {**LIVE, "events": LIVE["events"] + [DECISION]})
    assert import_paths(store, [file], actor="t").updated == 1                 # an audit import: no guard
    dropped = {**LIVE, "events": LIVE["events"][:2] + LIVE["events"][3:] + [DECISION]}
    write(file, dropped)
    before = [(e.seq, e.hash) for e in events(store)]
    report = import_paths(store, [file], actor="t")
    [conflict] = report.conflicts
    assert conflict.where == "event #3" and conflict.stored["type"] == "inspected"
    assert conflict.file["type"] == "notified" and report.exit_code == 1
    assert [(e.seq, e.hash) for e in events(store)] == before


def test_a_correction_is_a_new_attributed_event_naming_the_one_it_corrects(url, tmp_path):
    store = Store.open(url)
    new_case(store, LIVE, actor="seed")
    fixed = dict(LIVE["events"][2], recording="AV-2")
    done = correct(store, "LIVE-1", 3, fixed, actor="王某", reason="录像编号笔误")
    assert done.seq == 6
    stored = events(store)
    assert stored[2].payload != stored[5].payload and stored[5].corrects == 3
    assert (stored[5].recorded_by, stored[5].proof) == ("O1", "asserted")
    with store.reading() as s:
        case = load_case(s, find_case(s, "LIVE-1"))
        assert len(case.events) == 5 and case.events[2].recording == "AV-2"
        change = s.exec(select(ChangeRow).where(ChangeRow.kind == "corrected")).one()
        assert "录像编号笔误" in change.summary and change.actor == "O1"
        assert verify(s) == []
    # the corrected file re-imports as unchanged; the old file is now a conflict
    assert import_paths(store, [write(tmp_path / "new.json", {**LIVE, "events": LIVE["events"][:2] + [fixed]
                                                               + LIVE["events"][3:]})], actor="t").unchanged == 1
    assert len(import_paths(store, [write(tmp_path / "new.json", LIVE)], actor="t").conflicts) == 1
    with pytest.raises(Exception, match="reason"):
        correct(store, "LIVE-1", 3, fixed, actor="王某", reason=" ")
