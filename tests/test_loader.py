"""Bad input: every problem names the file, the case, the field path and the value; nothing is evaluated."""

from __future__ import annotations

from pathlib import Path

import json

import pytest

from engine.loader import load_paths

GOOD = """case_id: OK-1
agency: {code: a, name: 某街道}
procedure: inspection
officers: [{id: O1, name: 王某}, {id: O2, name: 赵某}]
events:
  - {type: inspected, date: 2024-03-01, officers: [O1, O2]}
"""


def one(tmp_path, name, text, *, binary=False):
    path = tmp_path / name
    path.write_bytes(text) if binary else path.write_text(text, encoding="utf-8")
    result = load_paths([path])
    return result


@pytest.mark.parametrize("text, field, fragment", [
    (GOOD.replace("2024-03-01", "2024-13-01"), "events.0.date", "month must be in 1..12"),
    (GOOD.replace("2024-03-01", "20240301"), "events.0.date", "YYYY-MM-DD"),
    (GOOD.replace("[O1, O2]", "[O1, O9]"), "events.0.officers.1", "'O9' is not in the case's officers"),
    (GOOD.replace("procedure: inspection", "procedure: quick"), "procedure", "'ordinary', 'simple' or 'inspection'"),
    (GOOD.replace("type: inspected", "type: teleported"), "events.0", "teleported"),
    (GOOD + "reviwer: R1\n", "reviwer", "Extra inputs are not permitted"),
    (GOOD.replace("agency: {code: a, name: 某街道}", "agency: {code: a}"), "agency.name", "Field required"),
    (GOOD + "  - {type: legal_review, date: 2024-03-02, reviewer: O1, result: ok}\n", "events.1.result", "'approved'"),
    (GOOD + "  - {type: paid, date: 2024-03-02, amount: .nan}\n", "events.1.amount", ""),
    (GOOD + "  - {type: paid, date: 2024-03-02, amount: 12.345}\n", "events.1.amount", "2 decimal places"),
    (GOOD + "  - {type: decided, date: 2024-03-02, outcome: penalty}\n", "events.1", "needs a 'penalty'"),
])
def test_problem_is_located(tmp_path, text, field, fragment):
    result = one(tmp_path, "c.yaml", text)
    assert not result.cases
    assert any(p.field == field and fragment in p.message for p in result.problems), result.problems
    problem = next(p for p in result.problems if p.field == field)
    assert problem.file.endswith("c.yaml") and problem.case_id == "OK-1"
    assert "c.yaml [OK-1]: " + field in str(problem)


def test_value_is_shown(tmp_path):
    result = one(tmp_path, "c.yaml", GOOD.replace("2024-03-01", "2024-02-30"))
    assert "'2024-02-30'" in str(result.problems[0])


def test_other_files_still_load(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("case_id: [unclosed", encoding="utf-8")
    result = load_paths([tmp_path])
    assert [c.case.case_id for c in result.cases] == ["OK-1"]
    assert result.problems[0].file.endswith("bad.yaml") and "invalid YAML at line 2" in result.problems[0].message


def test_cases_list_locates_by_index(tmp_path):
    text = "format: casecheck/1\ncases:\n  - " + GOOD.replace("\n", "\n    ").replace("OK-1", "A") + "\n  - 42\n"
    result = one(tmp_path, "many.yaml", text)
    assert [c.case.case_id for c in result.cases] == ["A"]
    assert result.problems[0].field == "cases.1"


def test_json_nan_and_constants_refused(tmp_path):
    doc = json.loads(json.dumps({"case_id": "J", "agency": {"code": "a", "name": "b"}, "procedure": "simple"}))
    text = json.dumps(doc)[:-1] + ', "events": [{"type": "paid", "date": "2024-01-02", "amount": NaN}]}'
    result = one(tmp_path, "c.json", text)
    assert "NaN is not a number" in result.problems[0].message


def test_yaml_alias_bomb_is_bounded(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    result = one(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    assert "expands to more than" in result.problems[0].message


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_nesting_is_refused_past_the_limit_and_not_before(tmp_path, suffix):
    from engine.loader import MAX_DEPTH, parse_document

    def nested(levels):                         # the document itself is level 1
        return "[" * (levels - 1) + "1" + "]" * (levels - 1) if levels > 1 else "1"

    for levels, refused in ((MAX_DEPTH - 1, False), (MAX_DEPTH, False), (MAX_DEPTH + 1, True)):
        text = '{"a": ' + nested(levels) + "}"    # the mapping is level 1, the innermost list is level `levels`
        if refused:
            with pytest.raises(ValueError, match="nested more than"):
                parse_document(text, suffix)
        else:
            parse_document(text, suffix)


def test_python_tags_are_not_constructed(tmp_path):
    result = one(tmp_path, "evil.yaml", "case_id: !!python/object/apply:os.system ['touch /tmp/pwned']\n")
    assert result.problems and "invalid YAML" in result.problems[0].message


def test_invalid_utf8(tmp_path):
    result = one(tmp_path, "c.yaml", b"case_id: \xff\xfe\n", binary=True)
    assert "not UTF-8" in result.problems[0].message


def test_duplicate_case_id(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    result = load_paths([tmp_path])
    [problem] = result.problems
    assert len(result.cases) == 1 and "already used" in problem.message
    assert problem.message.startswith("案件编号“") and "重复：已用于" in problem.message      # Chinese first
    assert "a.yaml" in problem.message and "b.yaml" in problem.message                      # both places
    assert problem.text("en").endswith(problem.message_en) and "重复" not in problem.message_en


def test_missing_path(tmp_path):
    result = load_paths([tmp_path / "nope"])
    assert result.problems[0].message == "文件或目录不存在 / no such file or directory"


def test_an_old_excel_a_wps_or_a_csv_file_is_named_with_what_to_do_never_skipped(tmp_path):
    """A clerk's .xls, .et or .csv (given, or lying in a folder given) is not read as text and not
    skipped: each is named with the fix (save it as .xlsx)."""
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "台账2023.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    (tmp_path / "台账.csv").write_text("案件编号,执法机关\nX-1,xuefu\n", encoding="gbk")
    (tmp_path / "notes.txt").write_text("not a case file", encoding="utf-8")
    result = load_paths([tmp_path])
    said = {Path(p.file).name: p.message for p in result.problems}
    assert len(result.cases) == 1 and set(said) == {"台账2023.xls", "台账.csv"}, said
    assert "另存为”.xlsx" in said["台账2023.xls"] and "save it as .xlsx" in said["台账2023.xls"]
    assert "CSV" in said["台账.csv"] and "UTF-8" not in said["台账.csv"]


@pytest.mark.parametrize("text, zh, en", [
    (GOOD.replace("[O1, O2]", "[O1, O9]"), "“O9”不在本案执法人员名单", "'O9' is not in the case's officers"),
    (GOOD.replace("{id: O2, name: 赵某}", "{id: O1, name: 赵某}"), "执法人员编号“O1”重复列出", "is listed twice"),
    ("case_id: [\n", "YAML 无效（第", "invalid YAML at line"),
    ("cases: 3\n", "cases 应为案件列表", "expected a list of cases"),
    ("format: casecheck/1\ncases: []\nextra: 1\n", "含 cases: 的文件只能有", "holds only 'format' and 'cases'"),
])
def test_a_case_file_problem_is_chinese_first_with_the_english_beside(tmp_path, text, zh, en):
    [problem] = one(tmp_path, "c.yaml", text).problems
    assert problem.message.startswith(zh[:4]) and zh in problem.message and en in problem.message, problem.message
    assert problem.message.index(zh) < problem.message.index(" / ") < problem.message.index(en)


def test_invalid_json_is_chinese_first(tmp_path):
    [problem] = one(tmp_path, "c.json", '{"case_id": }').problems
    assert problem.message.startswith("JSON 无效（第 1 行第 13 列）") and "/ invalid JSON at line 1 column 13" in problem.message
