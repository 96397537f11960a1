"""Annual statistics: the generated data sets print the seed reports' figures exactly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections import defaultdict
from decimal import Decimal

import pytest
import yaml
from openpyxl import load_workbook

from engine.agency import load_agency
from engine.errors import DefinitionError
from engine.loader import load_paths
from engine.report.privacy import mask_id
from engine.stats import rate, wan, year_stats
from conftest import ROOT
from datasets import dataset


@pytest.fixture(scope="module")
def xuefu(tmp_path_factory):
    return dataset("xuefu-2024", tmp_path_factory.mktemp("ds"))


@pytest.fixture(scope="module")
def nkcgw(tmp_path_factory):
    return dataset("nkcgw-2023", tmp_path_factory.mktemp("ds"))


def stats_json(path, year, *extra):
    out = subprocess.run([sys.executable, "-m", "engine.cli", "stats", str(path), "--year", str(year), "--format", "json",
                          *extra], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_wan_is_written_as_the_reports_write_it():
    assert [wan(Decimal(x)) for x in (9200, 171975, 116000, 29925, 1400, 14150, 10500, 0)] == \
        ["0.92", "17.1975", "11.6", "2.9925", "0.14", "1.415", "1.05", "0"]
    assert rate((22, 23)) == "95.7%" and rate((23, 23)) == "100%" and rate(None) == "—"


def test_xuefu_2024_matches_the_annual_report(xuefu):
    report = stats_json(xuefu, 2024)
    [row] = report["sections"]["overview"]
    assert (row["cases"], row["inspections"], row["simple"], row["ordinary"]) == (2943, 2895, 45, 3)
    assert (row["fines_yuan"], row["fines_wan"]) == (9200, "0.92")
    basis = {r["basis"]: r["cases"] for r in report["sections"]["by_basis"]}
    assert {k: basis[k] for k in ("《天津市生活垃圾管理条例》", "《天津市文明行为促进条例》",
                                  "《天津市市容和环境卫生管理条例》", "《天津市消防条例》")} == \
        {"《天津市生活垃圾管理条例》": 5, "《天津市文明行为促进条例》": 5, "《天津市市容和环境卫生管理条例》": 5,
         "《天津市消防条例》": 28}
    assert (row["participation"], row["certified"], row["exercise"]) == ("100%", 23, "100%")
    powers = {r["category"]: r["powers"] for r in report["sections"]["powers"]}
    assert powers == {"行政处罚": 250, "行政检查": 46, "行政强制": 35, "行政确认": 7, "行政给付": 1, "其他职权": 20,
                      "合计": 359}
    assert "行政检查案件2895件，简易程序处罚案件45件，普通程序行政处罚案件3起，共计处罚金额0.92万元" in report["notes"][0]


def test_nkcgw_2023_matches_the_annual_report(nkcgw):
    report = stats_json(nkcgw, 2023, "--agency", "nkcgw")
    [row] = report["sections"]["overview"]
    assert (row["inspections"], row["simple"] + row["ordinary"], row["simple"], row["ordinary"]) == (1356, 32, 12, 20)
    assert (row["fines_yuan"], row["fines_wan"]) == (171975, "17.1975")
    assert (row["participation"], row["exercise"]) == ("100%", "100%")
    domains = {r["domain"]: (r["cases"], r["fines"], r["warnings"], r["fines_wan"]) for r in report["sections"]["by_domain"]}
    assert domains["燃气"] == (12, 12, 0, "11.6")
    assert domains["园林绿化"] == (5, 5, 0, "2.9925")
    assert domains["生活垃圾分类"] == (4, 4, 0, "0.14")
    assert domains["市政排水"] == (8, 7, 1, "1.415")
    assert domains["大气污染防治"][3] == "1.05"
    publicity = {(r["what"], r["platform"]): r["cases"] for r in report["sections"]["publicity"]}
    assert publicity[("行政处罚决定", "天津市行政执法监督平台")] == 27
    assert publicity[("行政处罚决定", "信用中国（天津）")] == 15


@pytest.mark.parametrize("name", ["xuefu-2024", "nkcgw-2023"])
def test_generated_findings_are_exactly_the_injected_faults(name, tmp_path_factory):
    path = dataset(name, tmp_path_factory.mktemp("ds"))
    expected = yaml.safe_load((path / "expected.yaml").read_text(encoding="utf-8"))
    out = subprocess.run([sys.executable, "-m", "engine.cli", "check", str(path), "--as-of", expected["as_of"],
                          "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    report = json.loads(out.stdout)
    assert not report["problems"] and not report["engine_failures"]
    got = defaultdict(set)
    for f in report["findings"]:
        got[f["case_id"]].add(f["rule_id"])
    want = {k: set(v) for k, v in expected["expected"].items()}
    assert {k: v for k, v in got.items() if v} == want
    assert 0.01 < len(want) / report["cases"] < 0.1            # a realistic share, not none and not most


def test_rates_count_idle_officers_and_unexercised_duties(nkcgw):
    """Only January's cases: the rates follow from who acted and which matters came up, counted here
    independently of engine.stats."""
    cases = [c.case for c in load_paths([nkcgw]).cases]
    january = [c for c in cases if c.events[0].date.month == 1 and c.events[0].date.year == 2023
               and c.procedure == "inspection"]
    profile = load_agency("nkcgw")
    [s] = year_stats(january, 2023, {"nkcgw": profile})
    certificates = {c.officer(o).certificate for c in january for e in c.events for o in e.officers}
    acted = sum(o.certificate in certificates for o in profile.officers)
    matters = {c.matter.code for c in january}
    assert s.participation() == (acted, 18) and acted < 18                # the reviewer has no inspection
    assert s.exercise() == (sum(d.code in matters for d in profile.duties), 8)
    assert s.unexercised() and all(code.split()[0] not in matters for code in s.unexercised())
    assert (s.inspections, s.penalties) == (len(january), 0)


def test_no_profile_gives_no_rates(nkcgw):
    cases = [c.case for c in load_paths([nkcgw]).cases][:50]
    [s] = year_stats(cases, 2023, {})
    assert s.participation() is None and rate(s.participation()) == "—"


def test_agency_profile_errors_name_file_and_key(tmp_path):
    good = yaml.safe_load((ROOT / "rules" / "agencies" / "xuefu.yaml").read_text(encoding="utf-8"))
    bad = dict(good, officers=good["officers"] + [good["officers"][0]])
    path = tmp_path / "dup.yaml"
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load_agency(path)
    assert err.value.source == str(path) and err.value.key == "officers.23"
    bad = dict(good, powers={"penalty": -1})
    path = tmp_path / "neg.yaml"
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load_agency(path)
    assert err.value.key == "powers.penalty"
    with pytest.raises(DefinitionError):
        load_agency("nowhere")


# ---------------------------------------------------------------------------------------------- personal data
RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")     # 18-digit resident ID (date unchecked)


def _cli(*args, env=None):
    out = subprocess.run([sys.executable, "-m", "engine.cli", *map(str, args)], capture_output=True, text=True,
                         cwd=ROOT, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _xlsx_text(path) -> str:
    wb = load_workbook(path, read_only=True)
    return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                     for v in row if v is not None)


def _docx_text(path) -> str:
    with zipfile.ZipFile(path) as z:
        return re.sub(r"<[^>]+>", " ", z.read("word/document.xml").decode("utf-8"))


@pytest.fixture(scope="module")
def xuefu_reports(xuefu, tmp_path_factory):
    """The 2024 statistics of 学府街道 (1,438 inspected persons) in every format, as a user writes them."""
    out = tmp_path_factory.mktemp("stats")
    texts = {}
    for ext in ("html", "xlsx", "docx", "json"):
        _cli("stats", xuefu, "--year", 2024, "-o", out / f"stats.{ext}")
    texts["html"] = (out / "stats.html").read_text(encoding="utf-8")
    texts["xlsx"] = _xlsx_text(out / "stats.xlsx")
    texts["docx"] = _docx_text(out / "stats.docx")
    texts["json"] = (out / "stats.json").read_text(encoding="utf-8")
    wide = dict(os.environ, COLUMNS="250")                 # no ID folded over two lines of the terminal
    texts["terminal"] = _cli("stats", xuefu, "--year", 2024, "--format", "table", env=wide)
    return out, texts


@pytest.mark.parametrize("fmt", ["html", "xlsx", "docx", "json", "terminal"])
def test_stats_mask_every_persons_id_number_by_default(xuefu_reports, fmt):
    _, texts = xuefu_reports
    text = texts[fmt]
    assert RESIDENT_ID.findall(text) == []
    assert re.search(r"120104\*{8}\d{3}[\dX]", text)                       # the persons are listed, masked
    assert fmt == "terminal" or "91120104MA" in text     # a credit code is public (the terminal lists persons first)
    assert "个人信息已脱敏" in text.replace("\n", "")


def test_stats_unmask_gives_the_internal_copy_with_whole_id_numbers(xuefu, xuefu_reports):
    out, texts = xuefu_reports
    masked = json.loads(texts["json"])
    whole = json.loads(_cli("stats", xuefu, "--year", 2024, "--format", "json", "--unmask"))
    rows, shown = whole["sections"]["inspection_frequency"], masked["sections"]["inspection_frequency"]
    persons = [r for r in rows if r["party_kind"] == "person"]
    assert len(persons) > 1000 and all(RESIDENT_ID.fullmatch(r["party_id"]) for r in persons)
    assert [mask_id(r["party_id"]) if r["party_kind"] == "person" else r["party_id"] for r in rows] == \
        [r["party_id"] for r in shown]
    assert {r["party_type"] for r in rows} == {"自然人", "单位"}
    assert whole["stamp"]["masking"] == "个人信息未脱敏（内部使用，不得公开）"
    _cli("stats", xuefu, "--year", 2024, "--unmask", "-o", out / "whole.xlsx")
    assert len(set(RESIDENT_ID.findall(_xlsx_text(out / "whole.xlsx")))) == len({r["party_id"] for r in persons})


def test_stats_workbook_holds_numbers_that_sum(xuefu_reports):
    out, _ = xuefu_reports
    wb = load_workbook(out / "stats.xlsx")
    overview = wb["基本情况"]
    head = [c.value for c in overview[1]]
    row = {h: c for h, c in zip(head, overview[2])}
    for title in ("罚款（元）", "罚款（万元）", "录入案件", "执法人员参与办案率", "执法职权履职率", "持证人数"):
        assert row[title].data_type == "n", (title, row[title].value)
    assert row["罚款（万元）"].value == pytest.approx(0.92) and row["罚款（万元）"].number_format == "#,##0.00##"
    assert row["执法人员参与办案率"].value == 1 and row["执法人员参与办案率"].number_format == "0.0%"
    for sheet in ("处罚案件（按法律依据）", "处罚案件（按执法领域）"):
        ws = wb[sheet]
        head = [c.value for c in ws[1]]
        wan_col, yuan_col = head.index("罚款（万元）"), head.index("罚款（元）")
        body = list(ws.iter_rows(min_row=2))
        assert body and all(r[wan_col].data_type == "n" and r[yuan_col].data_type == "n" for r in body)
        assert sum(r[wan_col].value for r in body) == pytest.approx(sum(r[yuan_col].value for r in body) / 10000)
    summary = {r[0].value: r[1] for r in wb.worksheets[0].iter_rows() if len(r) > 1}
    assert summary["罚款（万元）"].data_type == "n" and summary["罚款（万元）"].value == pytest.approx(0.92)
    counts = wb["涉企检查频次（按检查对象）"]
    assert [c.value for c in counts[1]] == ["执法主体", "检查对象", "类型", "证件号码或统一社会信用代码", "检查次数",
                                            "其中个案检查"]
    assert all(r[4].data_type == "n" for r in counts.iter_rows(min_row=2))
