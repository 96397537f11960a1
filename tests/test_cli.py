"""The command line end to end, in a subprocess, as users run it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from conftest import ROOT, read_expected

DEMO = ROOT / "fixtures" / "demo"


def run(*args, cwd=ROOT):
    exe = shutil.which("casecheck") or str(ROOT / ".venv" / "bin" / "casecheck")
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_demo_report_has_exactly_the_expected_findings():
    as_of, expected = read_expected(DEMO)
    proc = run("check", str(DEMO), "--as-of", as_of, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["problems"] == [] and report["engine_failures"] == []
    got: dict[str, set[str]] = {cid: set() for cid in expected}
    for f in report["findings"]:
        got[f["case_id"]].add(f["rule_id"])
    assert got == {cid: set(rules) for cid, rules in expected.items()}
    keys = [(f["agency"], f["case_id"], f["rule_id"]) for f in report["findings"]]
    assert keys == sorted(keys)
    assert report["stamp"]["as_of"] == as_of and report["stamp"]["profile"] == "tianjin"


def test_table_is_chinese_by_default_and_english_on_request():
    zh = run("check", str(DEMO), "--as-of", "2024-12-31")
    assert zh.returncode == 1 and "案卷合规检查报告" in zh.stdout and "法律依据" in zh.stdout
    en = run("check", str(DEMO), "--as-of", "2024-12-31", "--lang", "en")
    assert "Case-file compliance report" in en.stdout and "Legal basis" in en.stdout


def test_clean_files_exit_0(tmp_path):
    for f in sorted(DEMO.rglob("*inspection*.yaml")):
        shutil.copy(f, tmp_path / f.name)
    proc = run("check", str(tmp_path), "--as-of", "2024-12-31")
    assert proc.returncode == 0, proc.stdout


def test_bad_file_exits_2_after_checking_the_rest(tmp_path):
    shutil.copy(DEMO / "xuefu" / "xuefu-ordinary-04.yaml", tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("case_id: B\nagency: {code: x, name: y}\nprocedure: ordinary\n"
                                     "events: [{type: decided, date: 2024-02-30}]\n", encoding="utf-8")
    proc = run("check", str(tmp_path), "--as-of", "2024-12-31", "--format", "json")
    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    assert report["findings"]                                       # a.yaml was still checked
    problem = report["problems"][0]
    assert problem["file"].endswith("b.yaml") and problem["case_id"] == "B"
    assert problem["field"] == "events.0.date" and problem["value"] == "'2024-02-30'"


def test_missing_calendar_year_is_a_located_error(tmp_path):
    src = (DEMO / "xuefu" / "xuefu-ordinary-01.yaml").read_text(encoding="utf-8")
    (tmp_path / "c.yaml").write_text(src.replace("2024-", "2031-"), encoding="utf-8")
    proc = run("check", str(tmp_path), "--as-of", "2031-12-31", "--format", "json")
    assert proc.returncode == 2
    assert "2031" in json.loads(proc.stdout)["problems"][0]["message"]


def test_usage_errors_exit_2():
    assert run("check", str(DEMO), "--as-of", "yesterday").returncode == 2
    assert run("check", str(DEMO), "--format", "pdf").returncode == 2
    assert run("check", "/no/such/dir").returncode == 2


def test_schema_is_json_schema():
    proc = run("schema")
    schema = json.loads(proc.stdout)
    assert proc.returncode == 0 and schema["title"] == "CaseFile" and "events" in schema["properties"]


def test_rules_lists_the_whole_catalogue():
    import yaml

    ids = [r["id"] for path in sorted((ROOT / "rules" / "catalogue").glob("*.yaml"))
           for r in yaml.safe_load(path.read_text(encoding="utf-8"))]
    table = run("rules")
    assert table.returncode == 0 and f"规则库（{len(ids)} 条）" in table.stdout
    listing = json.loads(run("rules", "--format", "json").stdout)
    assert sorted(r["id"] for r in listing) == sorted(ids)
    assert all(r["versions"] and all(v["basis"] for v in r["versions"]) for r in listing)
    assert run("rules", "no.such_rule").returncode == 2


def test_one_rule_in_full_with_examples_from_its_fixtures():
    one = run("rules", "simple.threshold").stdout
    assert "第五十一条" in one and "检查内容" in one and "如何整改" in one
    assert "违反示例" in one and "SIMPLE-违反-" in one and "超出决定日适用的简易程序范围" in one
    assert "合规示例" in one and "SIMPLE-合规-" in one
    hearing = run("rules", "procedure.hearing_right_notified", "--lang", "en").stdout
    assert "hearing_fine_person = 5,000.00" in hearing and "unverified" in hearing


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "schema"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0


def test_output_file_in_both_formats(tmp_path):
    table, data = tmp_path / "r.txt", tmp_path / "r.json"
    assert run("check", str(DEMO), "--as-of", "2024-12-31", "-o", str(table)).returncode == 1
    assert run("check", str(DEMO), "--as-of", "2024-12-31", "--format", "json", "-o", str(data)).returncode == 1
    assert "案卷合规检查报告" in table.read_text(encoding="utf-8")
    assert json.loads(data.read_text(encoding="utf-8"))["cases"] == len(read_expected(ROOT / "fixtures" / "demo")[1])


def test_a_report_with_unreadable_input_says_first_that_it_is_incomplete(tmp_path):
    """A missing file next to a good one: the report (every format) says before its figures that it is
    incomplete, and the problem is named in Chinese and English; exit 2."""
    out = tmp_path / "r.html"
    done = run("check", str(DEMO / "xuefu" / "xuefu-ordinary-01.yaml"), str(tmp_path / "nope.json"), "-o", str(out))
    assert done.returncode == 2
    html = out.read_text(encoding="utf-8")
    assert html.index("本报告不完整：1项输入未能读取") < html.index("问题明细") < html.index("文件或目录不存在")
    assert "本报告不完整" in done.stdout + done.stderr


def test_chinese_help_is_folded_not_cut_in_an_80_column_terminal():
    """A Chinese help text has no space to wrap at: rich cut it with "…" at 80 columns (13 texts of
    `review --help`); each is folded onto the next lines, whole."""
    import os

    exe = shutil.which("casecheck") or str(ROOT / ".venv" / "bin" / "casecheck")
    for command in (["review"], ["check"], ["ledger", "check"], []):
        done = subprocess.run([exe, *command, "--help"], capture_output=True, text=True, cwd=ROOT, timeout=120,
                              env={**os.environ, "COLUMNS": "80"})
        assert done.returncode == 0 and "…" not in done.stdout, (command, done.stdout)
    assert "保存评查结果" in subprocess.run([exe, "review", "--help"], capture_output=True, text=True, cwd=ROOT,
                                          timeout=120, env={**os.environ, "COLUMNS": "80"}).stdout
