"""Corrections of a stored case's header (issue 17), on SQLite and PostgreSQL: an attributed, reasoned
correction appended to the case's chain (the stored header is never rewritten), validated like a case
file, judged by the guard on a live case, read by everything that reads the case, sealed and verified,
and a re-import of the original file does not undo it."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlmodel import select

from engine.cases import StepRefused, _deadline_context, correct, import_paths, new_case, record, stored_cases
from engine.errors import CasecheckError, InputError
from engine.header_fix import HeaderFieldError, correct_header, header_edit
from engine.store import Store
from engine.store.audit import verify_store
from engine.store.chain import canonical, digest, event_hash
from engine.store.repo import find_case, load_case, verify
from engine.store.tables import CaseRow, ChangeRow, EventRow, OfficerRow, PartyRow
from engine.store.trail import init_key, load_public, make_checkpoint
from conftest import ROOT
from test_append_only import REVIEW, events, write
from test_store import DECISION, LIVE


def fix(store, sets, by="王某", reason="当事人名称笔误", case_id="LIVE-1", replace=None):
    return correct_header(store, case_id, header_edit(sets, replace), actor=by, reason=reason)


def stored_row(store, case_id="LIVE-1"):
    with store.reading() as s:
        return find_case(s, case_id)


def test_a_header_correction_is_appended_attributed_and_read_everywhere(url):
    store = Store.open(url)
    new_case(store, LIVE, actor="seed")
    original = stored_row(store).header
    done = fix(store, ["当事人.名称=刘某某", "当事人.证件号=１２０１０４１９８００１０１０００２", "执法人员.O2.执法证号=津执22"])
    assert done.seq == 6 and done.changes == [
        "执法人员的O2的执法证号 officers.O2.certificate: 津执2 → 津执22",
        "当事人的编号 party.id: 120104198001010001 → 120104198001010002",
        "当事人的名称 party.name: 刘某 → 刘某某"]             # the full-width digits NFKC-normalised
    row = stored_row(store)
    assert row.header == original                         # the stored header is never rewritten
    assert (row.party_id, row.procedure, row.matter_code) == ("120104198001010002", "ordinary", "SR-0101")
    [corr] = [e for e in events(store) if e.corrects == 0]
    assert (corr.seq, corr.type, corr.recorded_by, corr.proof) == (6, "header_corrected", "O1", "asserted")
    assert json.loads(corr.payload)["header"]["party"]["name"] == "刘某某"
    with store.reading() as s:
        case = load_case(s, row)
        assert case.party.name == "刘某某" and len(case.events) == 5 and case.officer("O2").certificate == "津执22"
        assert s.get(PartyRow, "120104198001010002").name == "刘某某"
        assert {o.officer_id: o.certificate for o in s.exec(select(OfficerRow).where(OfficerRow.case_pk == row.id))}[
            "O2"] == "津执22"
        change = s.exec(select(ChangeRow).where(ChangeRow.kind == "header_corrected")).one()
        assert change.actor == "O1" and "当事人名称笔误" in change.summary and "刘某 → 刘某某" in change.summary
        assert verify(s) == []
    [loaded] = stored_cases(store)                        # check --db, review, stats read the same
    assert loaded.case.party.name == "刘某某"
    # a later step and a later correction build on the corrected header
    record(store, "LIVE-1", dict(REVIEW), actor="孙某")
    fix(store, ["当事人.名称=刘某三"], reason="再次更正")
    with store.reading() as s:
        assert load_case(s, find_case(s, "LIVE-1")).party.name == "刘某三" and verify(s) == []
    # an event correction keeps the corrected header
    correct(store, "LIVE-1", 3, dict(LIVE["events"][2], recording="AV-9"), actor="王某", reason="录像编号笔误")
    with store.reading() as s:
        case = load_case(s, find_case(s, "LIVE-1"))
        assert case.party.name == "刘某三" and case.events[2].recording == "AV-9" and verify(s) == []


def test_a_header_correction_is_validated_and_the_case_identity_cannot_change(url):
    store = Store.open(url)
    new_case(store, LIVE, actor="seed")
    before = [e.hash for e in events(store)]
    with pytest.raises(InputError) as bad:
        fix(store, ["程序=普通程序", "当事人.类型=公司"])
    assert any(p.field == "party.kind" for p in bad.value.problems)
    with pytest.raises(InputError):
        fix(store, ["当事人.名称=刘某\x00"])                        # hygiene: a NUL byte never reaches the store
    with pytest.raises(InputError):
        fix(store, ["当事人.证件号=1201\u200b04"])                  # a zero-width character in an id
    with pytest.raises(CasecheckError, match="identify the case"):
        fix(store, [], replace={"case_id": "LIVE-2"})
    with pytest.raises(CasecheckError, match="identify the case"):
        fix(store, ["执法机关.代码=other"])
    with pytest.raises(CasecheckError, match="same as the header"):
        fix(store, ["当事人.名称=刘某"])
    with pytest.raises(CasecheckError, match="reason"):
        fix(store, ["当事人.名称=刘某某"], reason=" ")
    with pytest.raises(CasecheckError, match="not an officer"):
        fix(store, ["当事人.名称=刘某某"], by="外人")
    with pytest.raises(HeaderFieldError, match="执法证号"):
        header_edit(["执法人员.O1.执法证=津执9"])
    with pytest.raises(HeaderFieldError, match="当事人"):
        header_edit(["当事者.名称=某"])
    with pytest.raises(HeaderFieldError, match="O2"):
        fix(store, ["执法人员.O3.执法证号=津执9"])
    assert [e.hash for e in events(store)] == before               # nothing written by any refusal


def test_the_guard_refuses_a_header_correction_that_breaks_a_blocking_rule_on_a_live_case(url):
    store = Store.open(url)
    new_case(store, LIVE, actor="seed")
    audit = {**copy.deepcopy(LIVE), "case_id": "AUDIT-1"}
    new_case(store, audit, actor="seed")
    record(store, "LIVE-1", dict(REVIEW), actor="孙某")            # a live step: LIVE-1 is live
    before = [e.hash for e in events(store)]
    # the violation moved back three years: discovered after the limitation period, registration blocked
    with pytest.raises(StepRefused) as refused:
        fix(store, ["违法行为.发生日期=2021-01-01"], reason="发生日期录入错误")
    assert [f.rule_id for f in refused.value.findings] == ["deadline.limitation_period"]
    assert [e.hash for e in events(store)] == before
    # a correction that breaks nothing passes the guard
    fix(store, ["违法行为.发生日期=2024-02-20"], reason="发生日期录入错误")
    # an audit case (no live step) takes the same correction: its fault becomes a finding
    fix(store, ["违法行为.发生日期=2021-01-01"], reason="按原始卷宗更正", case_id="AUDIT-1")
    from engine.cases import _checker
    from engine.exemptions import PartyHistory
    from engine.loader import LoadedCase
    from engine.rulebook import default_rulebook

    with store.reading() as s:
        case = load_case(s, find_case(s, "AUDIT-1"))
        assert verify(s) == []
    [result] = list(_checker(default_rulebook(), dt.date(2024, 12, 31), PartyHistory([]), "zh")
                    .check([LoadedCase(case, "db")]))
    assert "deadline.limitation_period" in {f.rule_id for f in result.findings}


def test_a_correction_changing_the_procedure_under_a_live_decision_is_refused(url):
    store = Store.open(url)
    simple = {**copy.deepcopy(LIVE), "procedure": "simple",
              "events": [{"type": "discovered", "date": "2024-03-01"},
                         {"type": "notified", "date": "2024-03-01", "officers": ["O1", "O2"],
                          "proposed": {"kind": "warning"}},
                         {"type": "decided", "date": "2024-03-01", "officers": ["O1", "O2"], "outcome": "penalty",
                          "penalty": {"kind": "warning"}, "document": "简易-1"}]}
    new_case(store, simple, actor="seed")
    record(store, "LIVE-1", {"type": "served", "date": "2024-03-01", "method": "on_the_spot"}, actor="王某")
    with pytest.raises(StepRefused) as refused:
        fix(store, ["程序=普通程序"], reason="程序选错")
    assert refused.value.findings and {f.rule_id for f in refused.value.findings} & {
        "workflow.illegal_step", "legal_review.required_before_decision", "procedure.notice_before_decision"}


def test_reimport_of_the_original_file_after_a_header_correction_keeps_the_correction(url, tmp_path):
    store = Store.open(url)
    file = write(tmp_path / "live.json", LIVE)
    import_paths(store, [file], actor="导入员")
    fix(store, ["当事人.名称=刘某某"])
    report = import_paths(store, [file], actor="导入员")        # the original file, again
    assert (report.unchanged, report.conflicts, report.exit_code) == (1, [], 0)
    assert report.corrected == [(str(file), "LIVE-1")] or report.corrected[0][1] == "LIVE-1"
    # the original file grown by a step: the step is appended, the corrected header stands
    write(file, {**LIVE, "events": LIVE["events"] + [REVIEW]})
    report = import_paths(store, [file], actor="导入员")
    assert (report.updated, report.conflicts) == (1, [])
    with store.reading() as s:
        row = find_case(s, "LIVE-1")
        case = load_case(s, row)
        assert case.party.name == "刘某某" and case.events[-1].type == "legal_review" and verify(s) == []
    # a file with a header that was never the case's is a conflict, as before
    write(file, {**LIVE, "party": {**LIVE["party"], "name": "王某某"}})
    report = import_paths(store, [file], actor="导入员")
    [conflict] = report.conflicts
    assert conflict.where == "header: party" and conflict.stored["name"] == "刘某某" and report.exit_code == 1
    # the corrected file itself re-imports as unchanged
    corrected = {**LIVE, "party": {**LIVE["party"], "name": "刘某某"}, "events": LIVE["events"] + [REVIEW]}
    report = import_paths(store, [write(file, corrected)], actor="导入员")
    assert (report.unchanged, report.conflicts, report.corrected) == (1, [], [])


def _check(store, key, directory):
    with store.reading() as s:
        return verify_store(s, public_key=load_public(key), directory=directory, ctx=_deadline_context())


def test_a_header_correction_is_sealed_and_its_tamper_is_caught(url, tmp_path):
    store = Store.open(url)
    new_case(store, LIVE, actor="seed")
    fix(store, ["当事人.名称=刘某某", "事项.代码=SR-0102"])
    key = tmp_path / "cc.key"
    init_key(key)
    make_checkpoint(store, key, tmp_path / "cp")
    assert _check(store, key, tmp_path / "cp").broken == []     # the corrected query columns are accepted
    # a tampered correction (the party name in its payload) breaks the chain
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE events SET payload = replace(payload, '刘某某', '张某') WHERE corrects = 0"))
    assert any("changed after it was recorded" in b.problem for b in _check(store, key, tmp_path / "cp").broken)
    # the forger re-hashes the chain and the content hash: the plain chain is fooled, the checkpoint is not
    with store.engine.begin() as conn:
        pk, agency, case_id = conn.execute(text("SELECT id, agency, case_id FROM cases")).one()
        rows = conn.execute(text("SELECT id, seq, payload, recorded_by, recorded_at, proof, corrects FROM events "
                                 "WHERE case_pk = :p ORDER BY seq"), {"p": pk}).all()
        prev = "0" * 64
        for rid, seq, payload, by, at, proof, corrects in rows:
            at = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
            h = event_hash(prev, f"{agency}/{case_id}", seq, payload, by,
                           at.replace(microsecond=0, tzinfo=None).isoformat(), proof, corrects)
            conn.execute(text("UPDATE events SET prev_hash = :pv, hash = :h WHERE id = :i"), {"pv": prev, "h": h, "i": rid})
            prev = h
        header = json.loads(rows[-1][2])["header"]
        effective = [json.loads(r[2]) for r in rows if r[6] is None]
        conn.execute(text("UPDATE cases SET head_hash = :h, content_hash = :c WHERE id = :p"),
                     {"h": prev, "c": digest(canonical({"header": header, "events": effective})), "p": pk})
        conn.execute(text("UPDATE parties SET name = '张某'"))
    with store.reading() as s:
        assert verify(s) == []
    broken = _check(store, key, tmp_path / "cp").broken
    assert any("re-hashed" in b.problem for b in broken), broken


def test_verify_checks_the_query_columns_and_officers_against_the_corrected_header(url):
    store = Store.open(url)
    new_case(store, LIVE, actor="seed")
    fix(store, ["当事人.证件号=120104198001010002", "执法人员.R1.姓名=孙某某"])
    with store.reading() as s:
        assert verify_store(s, ctx=_deadline_context(), trail=False).broken == []
    with store.engine.begin() as conn:                  # back to the original value: no longer what it must be
        conn.execute(text("UPDATE cases SET party_id = '120104198001010001'"))
        conn.execute(text("UPDATE officers SET name = '孙某' WHERE officer_id = 'R1'"))
    with store.reading() as s:
        problems = " ".join(b.problem for b in verify_store(s, ctx=_deadline_context(), trail=False).broken)
    assert "party_id" in problems and "officers rows differ" in problems


def test_a_header_correction_moves_the_deadlines_and_alerts(url):
    """A simple-procedure case's filing deadline (备案) follows a procedure corrected to simple."""
    store = Store.open(url)
    case = {**copy.deepcopy(LIVE), "events": LIVE["events"][:2]}
    new_case(store, case, actor="seed")
    from engine.store.tables import DeadlineRow

    def codes():
        with store.reading() as s:
            return sorted(d.code for d in s.exec(select(DeadlineRow)).all())

    before = codes()
    fix(store, ["违法行为.发生日期=2024-02-01"], reason="日期更正")
    with store.reading() as s:
        assert verify_store(s, ctx=_deadline_context(), trail=False).broken == []
    assert codes() == before


def cli(*args, db):
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={**os.environ, "CASECHECK_DB": db, "COLUMNS": "200"})


def test_cli_case_correct_header_in_chinese_show_and_history(tmp_path):
    db = str(tmp_path / "s.db")
    store = Store.open(db)
    new_case(store, LIVE, actor="seed")
    done = cli("case", "correct", "LIVE-1", "案卷", "--set", "当事人.名称=刘某某", "--set", "程序=普通程序",
               "--set", "执法人员.R1.法律职业资格=是", "--reason", "名称笔误", "--by", "王某", db=db)
    assert done.returncode == 0, done.stderr
    assert "header corrected" in done.stdout and "party.name: 刘某 → 刘某某" in done.stdout
    shown = cli("case", "show", "LIVE-1", "--tz", "UTC", db=db)
    assert shown.returncode == 0 and "更正案件信息" in shown.stdout and "名称笔误" in shown.stdout
    assert "刘某 → 刘某某" in shown.stdout and "O1" in shown.stdout
    history = cli("case", "history", "LIVE-1", db=db)
    assert history.returncode == 0 and "header correction" in history.stdout and "名称笔误" in history.stdout
    typo = cli("case", "correct", "LIVE-1", "案卷", "--set", "当事人.民称=某", "--reason", "x", "--by", "王某", db=db)
    assert typo.returncode == 2 and "名称" in typo.stderr and "Traceback" not in typo.stderr
    again = cli("case", "correct", "LIVE-1", "案卷", "--set", "当事人.名称=刘某某", "--reason", "x", "--by", "王某", db=db)
    assert again.returncode == 2 and "nothing recorded" in again.stderr
    assert cli("verify", db=db).returncode == 0


def test_the_web_case_page_shows_the_corrected_header_and_each_steps_recorder(url):
    from engine.users import User
    from engine.web.service import case_view

    store = Store.open(url)
    new_case(store, LIVE, actor="seed")
    fix(store, ["当事人.名称=刘某某"])
    record(store, "LIVE-1", dict(REVIEW), actor="孙某")                  # after the header correction
    correct(store, "LIVE-1", 3, dict(LIVE["events"][2], recording="AV-9"), actor="赵某", reason="笔误")
    view = case_view(store, User(1, "u", "u", frozenset({"officer"}), frozenset({"nkcgw"}), None),
                     stored_row(store).id, "zh")
    assert view.case.party.name == "刘某某" and len(view.events) == len(view.case.events) == 6
    assert [e.recorded_by for e in view.events] == ["seed", "seed", "O2", "seed", "seed", "R1"]


def test_a_party_row_follows_the_newest_case_naming_it_after_a_correction(url):
    store = Store.open(url)
    new_case(store, LIVE, actor="seed")
    other = {**copy.deepcopy(LIVE), "case_id": "LIVE-2", "party": {**LIVE["party"], "name": "刘某乙"}}
    new_case(store, other, actor="seed")
    with store.reading() as s:
        assert s.get(PartyRow, LIVE["party"]["id"]).name == "刘某乙"
    fix(store, ["当事人.名称=刘某丙"])                  # LIVE-1 is not the newest case naming the party
    with store.reading() as s:
        assert s.get(PartyRow, LIVE["party"]["id"]).name == "刘某乙"
        assert verify_store(s, ctx=_deadline_context(), trail=False).broken == []
    fix(store, ["当事人.证件号=120104198001019999"], case_id="LIVE-2")   # the newest one names another party
    with store.reading() as s:
        assert s.get(PartyRow, LIVE["party"]["id"]).name == "刘某丙"
        assert s.get(PartyRow, "120104198001019999").name == "刘某乙"
        assert verify_store(s, ctx=_deadline_context(), trail=False).broken == []


def test_an_event_correction_on_a_live_case_is_judged_by_the_guard_too(url):
    store = Store.open(url)
    new_case(store, LIVE, actor="seed")
    record(store, "LIVE-1", dict(REVIEW), actor="孙某")
    record(store, "LIVE-1", dict(DECISION), actor="王某")
    before = [e.hash for e in events(store)]
    with pytest.raises(StepRefused) as refused:                 # the approval that let the decision through
        correct(store, "LIVE-1", 6, dict(REVIEW, result="returned"), actor="孙某", reason="结论录错")
    assert [f.rule_id for f in refused.value.findings] == ["legal_review.required_before_decision"]
    assert [e.hash for e in events(store)] == before
    correct(store, "LIVE-1", 6, dict(REVIEW, documents=["法制审核意见书（更正）"]), actor="孙某", reason="文书名称")
    audit = {**copy.deepcopy(LIVE), "case_id": "AUDIT-1", "events": LIVE["events"] + [REVIEW, DECISION]}
    new_case(store, audit, actor="seed")                        # an audit case: the fault becomes a finding
    correct(store, "AUDIT-1", 6, dict(REVIEW, result="returned"), actor="孙某", reason="按原始卷宗")
    with store.reading() as s:
        assert verify(s) == []
