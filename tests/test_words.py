"""Chinese in, Chinese out (issue 18): Chinese words on the command line, Chinese validation messages
with 1-based event numbers and did-you-mean, ``--version``."""

from __future__ import annotations

import shutil
import subprocess
import sys

from conftest import ROOT
from engine.loader import validate_case
from engine.vocab import event_from_words, field_label, suggest

DEMO = ROOT / "fixtures" / "demo"


def run(*args):
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_event_words_become_codes():
    assert event_from_words({"type": "法制审核", "date": "2024-01-01", "结论": "通过", "审核人": "R1"}) == {
        "type": "legal_review", "date": "2024-01-01", "result": "approved", "reviewer": "R1"}
    assert event_from_words({"type": "作出决定", "处理结果": "处罚", "处罚种类": "罚款", "金额": 200}) == {
        "type": "decided", "outcome": "penalty", "penalty": {"kind": "fine", "amount": 200}}
    assert event_from_words({"type": "公示", "平台": "信用中国"})["platform"] == "credit_china"
    assert event_from_words({"type": "告知", "听证权利": "否"}) == {"type": "notified", "hearing_right": False}
    assert event_from_words({"type": "registered", "result": "approved"}) == {"type": "registered", "result": "approved"}
    assert field_label("events.3.reviewer") == "第 4 个事件的法制审核人员"
    assert field_label("events.0.penalty.amount", "en") == "event 1 penalty amount"
    assert suggest("reviwer", ["reviewer", "result"]) == "reviewer" and suggest("decision", ["decided"]) == "decided"


def test_validation_messages_in_chinese_with_did_you_mean_and_english_beside():
    raw = {"case_id": "x", "agency": {"code": "a"}, "procedure": "ordinary",
           "events": [{"type": "registerd", "date": "2024-01-01"},
                      {"type": "legal_review", "date": "2024-01-02", "reviwer": "R1", "result": "approved"}]}
    _, problems = validate_case(raw, "f.yaml")
    by = {p.field: p for p in problems}
    assert by["agency.name"].message.startswith("缺少必填项：执法机关的名称")
    assert "第 1 个事件" in by["events.0"].message and "registered" in by["events.0"].message
    assert "unknown event type 'registerd' (did you mean 'registered'?)" in by["events.0"].text("en")
    assert "不认识的字段“reviwer”，是否想写“reviewer”" in by["events.1.reviwer"].message
    assert "did you mean 'reviewer'" in by["events.1.reviwer"].text("en")
    assert "第 2 个事件的法制审核人员" in by["events.1.reviewer"].message


def test_a_field_of_another_step_is_named_as_such_with_this_steps_fields():
    """``result`` is a field of a legal review, not of a decision: the message says so and lists what a
    decision takes (``outcome`` 处理结果), never "did you mean 'result'" for ``result`` itself."""
    raw = {"case_id": "x", "agency": {"code": "a", "name": "b"}, "procedure": "ordinary",
           "events": [{"type": "decided", "date": "2024-01-02", "result": "penalty"}]}
    _, problems = validate_case(raw, "f.yaml")
    wrong = next(p for p in problems if p.field == "events.0.result")
    assert "“result”不是“作出决定”的字段" in wrong.message and "outcome（处理结果）" in wrong.message
    assert "是否想写“result”" not in wrong.message and "is not a field of 'decided'" in wrong.text("en")


def test_case_record_takes_chinese_words_and_suggests_for_a_misspelt_type(tmp_path):
    db = str(tmp_path / "w.db")
    assert run("import", str(DEMO), "--db", db).returncode == 0
    case_id = "津南学罚〔2024〕1号"
    zh = run("case", "record", case_id, "作出决定", "--date", "2024-12-20", "--db", db, "--by", "O1",
             "--set", "处理结果=处罚", "--set", "处罚种类=警告")
    assert zh.returncode == 1 and "workflow.illegal_step" in zh.stderr      # read as 'decided', judged, refused
    bad = run("case", "record", case_id, "registerd", "--date", "2024-12-20", "--db", db, "--by", "O1")
    assert bad.returncode == 2 and "registered" in bad.stderr and "Traceback" not in bad.stderr


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("casecheck ")


def test_rules_are_found_by_title_words_and_a_misspelt_id_gets_a_suggestion():
    found = run("rules", "法制审核")
    assert found.returncode == 0 and "legal_review.required_before_decision" in found.stdout
    assert "legal_review.reviewer_qualified" in found.stdout and "publicity" not in found.stdout
    missed = run("rules", "legal_review.requred_before_decision")
    assert missed.returncode == 2 and "legal_review.required_before_decision" in missed.stderr


def test_case_history_says_what_changed_in_local_time(tmp_path):
    """A re-imported ledger that contradicts the store is a conflict naming both versions (nothing is
    overwritten, issue 17); a correction is the change, and case history lists it field by field (old →
    new) in local time."""
    from openpyxl import load_workbook

    db = str(tmp_path / "h.db")
    first = tmp_path / "台账.xlsx"
    assert run("ledger", "template", "-o", str(first)).returncode == 0
    assert run("import", str(first), "--db", db).returncode == 0
    book = load_workbook(first)
    sheet = book["台账"]
    column = [c.value for c in sheet[2]].index("当事人名称") + 1
    sheet.cell(3, column, "刘某某")
    second = tmp_path / "台账2.xlsx"
    book.save(second)
    conflict = run("import", str(second), "--db", db)
    assert conflict.returncode == 1 and "刘某" in conflict.stderr + conflict.stdout and "刘某某" in conflict.stderr + conflict.stdout
    fixed = run("case", "correct", "津南学府罚〔2024〕1号", "8", "--json",
                '{"type": "served", "date": "2024-03-13", "method": "mail", "officers": ["O1", "O2"], '
                '"certificates_shown": true, "documents": ["送达回证"]}', "--reason", "送达方式录入错误", "--by", "O1",
                "--db", db)
    assert fixed.returncode == 0, fixed.stderr
    shown = run("case", "history", "津南学府罚〔2024〕1号", "--db", db)
    flat = " ".join(shown.stdout.split())
    assert shown.returncode == 0 and "Asia/Shanghai" in flat and "更正" in flat
    from engine.store import Store
    from engine.cases import history
    changes = history(Store.open(db), "津南学府罚〔2024〕1号")
    assert "method: direct → mail" in changes[-1].summary and "送达方式录入错误" in changes[-1].summary
    utc = run("case", "history", "津南学府罚〔2024〕1号", "--db", db, "--tz", "UTC")
    stamp = changes[-1].at.strftime("%Y-%m-%d %H:%M:%S")
    assert stamp in utc.stdout and stamp not in shown.stdout                # Shanghai is 8 hours ahead
    assert run("case", "history", "x", "--db", db, "--tz", "Mars/Base").returncode == 2


def test_every_commands_help_is_chinese_with_english_beside():
    import re

    from typer.testing import CliRunner

    from engine.cli import app

    commands = [["check"], ["review"], ["alerts"], ["stats"], ["schema"], ["rules"], ["import"], ["verify"],
                ["case", "new"], ["case", "record"], ["case", "show"], ["case", "history"], ["workflow", "show"],
                ["ledger", "template"], ["ledger", "check"], ["case"], ["workflow"], ["ledger"], []]
    runner = CliRunner()
    for command in commands:
        out = runner.invoke(app, [*command, "--help"], terminal_width=200).output
        summary = out.split("Options", 1)[0]
        assert re.search(r"[\u4e00-\u9fff]", summary) and re.search(r"/\s*[a-zA-Z]", summary), (command, summary)
