"""The scoring rubric as data: per item vs per instance, section floors, ranges and adjustments, three veto
kinds, waivers that expire; and the reviewer's notes kept in the store and shown in the review."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from conftest import ROOT
from engine.errors import CasecheckError, DefinitionError
from engine.rubric import Adjustment, Waiver, load_rubric, score_findings

DAY = dt.date(2024, 12, 31)


@dataclass
class F:
    rule_id: str
    category: str = "程序"
    deduction: int = 5
    veto: bool = False


def rubric(tmp_path, text: str):
    path = tmp_path / "r.yaml"
    path.write_text("name: t\ntitle: 测试\nsource: 测试来源\ngrades: {优秀: 90, 合格: 60, 不合格: 0}\n" + text,
                    encoding="utf-8")
    return load_rubric(path)


def test_shipped_rubrics_load_with_their_source():
    for name in ("tianjin", "zhejiang"):
        r = load_rubric(name)
        assert r.source and r.grades[-1][1] == 0
    z = load_rubric("zhejiang")
    assert z.sections["程序"] == 25 and z.items["procedure.two_officers"].veto == "minus_100"
    with pytest.raises(CasecheckError):
        load_rubric("nowhere")


def test_per_item_and_per_instance(tmp_path):
    r = rubric(tmp_path, "per: item\nitems: {b: {deduct: 2, per: instance}}\n")
    s = score_findings([F("a"), F("a"), F("b"), F("b"), F("b")], r, DAY)
    assert s.applied == {"a": 5, "b": 6} and s.score == 89 and s.grade == "合格"


def test_section_floor(tmp_path):
    r = rubric(tmp_path, "sections: {程序: 8}\n")
    s = score_findings([F("a"), F("b"), F("c", "文书", 3)], r, DAY)
    assert s.deductions == {"程序": 8, "文书": 3} and s.score == 89


@pytest.mark.parametrize("kind,score,grade", [("fail", 95, "不合格"), ("zero", 0, "不合格"), ("minus_100", 0, "不合格")])
def test_three_veto_kinds(tmp_path, kind, score, grade):
    r = rubric(tmp_path, f"veto: {kind}\n")
    s = score_findings([F("a", veto=True)], r, DAY)
    assert (s.score, s.grade, s.vetoes) == (score, grade, ["a"])


def test_minus_100_ignores_the_section_floor(tmp_path):
    r = rubric(tmp_path, "sections: {主体: 10}\nitems: {a: {veto: minus_100}}\n")
    s = score_findings([F("a", "主体")], r, DAY)
    assert s.deductions == {"主体": 105} and s.score == 0


def test_adjustment_and_waiver(tmp_path):
    r = rubric(tmp_path, "items: {a: {deduct: 3, range: [1, 5]}}\n")
    adj = {"a": Adjustment("C", "a", 1, "情节轻微", "张三")}
    s = score_findings([F("a")], r, DAY, adjustments=adj)
    assert s.applied == {"a": 1} and "情节轻微" in s.notes["a"] and "张三" in s.notes["a"]
    waiver = {"b": Waiver("C", "b", "法院裁定暂缓公示", dt.date(2025, 1, 31), "李四")}
    held = score_findings([F("b")], r, DAY, waivers=waiver)
    assert held.score == 100 and held.notes["b"].startswith("已豁免") and "2025-01-31" in held.notes["b"]
    expired = score_findings([F("b")], r, dt.date(2025, 2, 1), waivers=waiver)
    assert expired.score == 95 and "到期" in expired.notes["b"]


def test_bad_rubric_names_file_and_key(tmp_path):
    with pytest.raises(DefinitionError, match="items.a.range"):
        rubric(tmp_path, "items: {a: {deduct: 9, range: [1, 5]}}\n")
    with pytest.raises(DefinitionError, match="veto"):
        rubric(tmp_path, "veto: maybe\n")


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=240, env={**os.environ, **(env or {})})


def test_notes_are_stored_and_shown_and_waivers_expire(tmp_path):
    db = str(tmp_path / "s.db")
    assert _cli("import", str(ROOT / "fixtures" / "demo"), "--db", db).returncode == 0
    case, rule = "津南学罚〔2024〕9号", "publicity.penalty_within_7_workdays"
    w = _cli("waive", case, rule, "--reason", "法院裁定暂缓公示", "--until", "2024-06-30", "--by", "张三", "--db", db)
    assert w.returncode == 0, w.stderr
    a = _cli("adjust", "津南学罚〔2024〕6号", "legal_review.reviewer_independent", "--value", "8", "--reason",
             "审核人仅参与送达", "--by", "李四", "--db", db)
    assert a.returncode == 0, a.stderr
    bad = _cli("adjust", "津南学罚〔2024〕6号", "legal_review.reviewer_independent", "--value", "80", "--reason", "x",
               "--db", db)
    assert bad.returncode == 2 and "0–20" in bad.stderr

    def review(*extra):
        out = _cli("review", "--db", db, "--quarter", "2024Q2", "--format", "json", "--workers", "1", *extra)
        assert out.returncode in (0, 1), out.stderr
        doc = json.loads(out.stdout)
        return ({r["case_id"]: r for r in doc["sections"]["cases"]},
                {(r["case_id"], r["rule_id"]): r for r in doc["sections"]["findings"]})

    files, findings = review()
    assert files[case]["score"] == 100 and findings[(case, rule)]["note"].startswith("已豁免")
    assert findings[(case, rule)]["deduction"] == 0
    assert files["津南学罚〔2024〕6号"]["score"] == 92
    assert "李四" in findings[("津南学罚〔2024〕6号", "legal_review.reviewer_independent")]["note"]
    files, findings = review("--as-of", "2024-07-31")            # the waiver has expired: it deducts again
    assert files[case]["score"] == 95 and "到期" in findings[(case, rule)]["note"]
