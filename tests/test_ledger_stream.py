"""Import and check in bounded memory (issue 18): the same problems, in the same order, as reading
everything at once; chunks of cases written in input order; ``--sheet`` on check and import; the
report's compact findings read back equal; check's JSON written piece by piece is the same text."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from engine.cases import import_paths
from engine.loader import load_paths
from engine.store import Store
from ledgers import HEADERS, clerk_ledger, clerk_row

ROOT = Path(__file__).parent.parent
DEMO = ROOT / "fixtures" / "demo"


def _count(store: Store) -> list[str]:
    from sqlmodel import select

    from engine.store.tables import CaseRow

    with store.reading() as session:
        return [r.case_id for r in session.exec(select(CaseRow).order_by(CaseRow.id))]


def _mixed_input(tmp_path: Path, *, bad: bool) -> Path:
    """JSON files, one of them broken; a ledger with two bad cells; a case id used twice."""
    src = tmp_path / "in"
    src.mkdir()
    text = (DEMO / "xuefu" / "xuefu-ordinary-01.yaml").read_text(encoding="utf-8")
    (src / "a.yaml").write_text(text, encoding="utf-8")
    (src / "b-twin.yaml").write_text(text, encoding="utf-8")
    if bad:
        (src / "c-broken.json").write_text("{not json", encoding="utf-8")
    rows = [clerk_row(n) for n in range(1, 8)]
    if bad:
        rows[1][HEADERS.index("出示证件")] = "不知道"
        rows[5][HEADERS.index("罚款金额（元）")] = "两千"
    clerk_ledger(src / "d.xlsx", rows)
    return src


@pytest.mark.parametrize("workers", [1, 2])
def test_import_lists_the_same_problems_in_the_same_order_as_reading_all_at_once(tmp_path, monkeypatch, workers):
    from engine.ledger import read as ledger_read

    monkeypatch.setattr(ledger_read, "CHUNK_ROWS", 2)           # the ledger in four chunks, spread over workers
    src = _mixed_input(tmp_path, bad=True)
    expected = load_paths([src]).problems
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    report = import_paths(store, [src], actor="t", workers=workers)
    assert [(p.file, p.case_id, p.field, p.message) for p in report.problems] == \
        [(p.file, p.case_id, p.field, p.message) for p in expected]
    fields = [p.field for p in report.problems]
    assert fields == ["case_id", "", "rows.6.出示证件", "rows.10.罚款金额（元）"]
    assert report.files == 4 and _count(store) == []                                 # nothing stored


@pytest.mark.parametrize("workers", [1, 2])
def test_import_writes_every_case_in_input_order_a_chunk_at_a_time(tmp_path, monkeypatch, workers):
    from engine import cases as cases_mod
    from engine.ledger import read as ledger_read

    monkeypatch.setattr(ledger_read, "CHUNK_ROWS", 2)
    monkeypatch.setattr(cases_mod, "IMPORT_CHUNK", 3)
    src = _mixed_input(tmp_path, bad=False)
    (src / "b-twin.yaml").unlink()
    seen = []
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    report = import_paths(store, [src], actor="t", workers=workers, progress=lambda n, total: seen.append((n, total)))
    assert not report.problems and report.new == 8
    assert seen == [(3, 8), (6, 8), (8, 8)]
    expected = [c.case.case_id for c in load_paths([src]).cases]
    assert _count(store) == expected
    again = import_paths(store, [src], actor="t", workers=workers)
    assert again.unchanged == 8 and again.new == 0


def _two_sheets(path: Path) -> Path:
    book = Workbook()
    first = book.active
    first.title = "2023年台账"
    first.append(HEADERS)
    first.append(clerk_row(1))
    second = book.create_sheet("2024年台账")
    second.append(HEADERS)
    for n in (2, 3):
        second.append(clerk_row(n))
    book.save(path)
    return path


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_sheet_on_import_and_check_reads_only_that_sheet(tmp_path):
    ledger = _two_sheets(tmp_path / "两表.xlsx")
    db = str(tmp_path / "s.db")
    done = _cli("import", str(ledger), "--db", db, "--sheet", "2024年台账", "--by", "t")
    assert done.returncode == 0, done.stderr
    assert _count(Store.open(db)) == ["津南学府罚〔2024〕2号", "津南学府罚〔2024〕3号"]
    checked = _cli("check", str(ledger), "--sheet", "2023年台账", "--as-of", "2024-12-31", "--format", "json")
    assert checked.returncode in (0, 1), checked.stderr
    assert json.loads(checked.stdout)["cases"] == 1
    assert json.loads(_cli("check", str(ledger), "--as-of", "2024-12-31", "--format", "json").stdout)["cases"] == 3


def test_a_missing_sheet_is_the_same_refusal_everywhere(tmp_path):
    ledger = _two_sheets(tmp_path / "两表.xlsx")
    db = str(tmp_path / "s.db")
    said = []
    for command in (["ledger", "check", str(ledger)], ["check", str(ledger), "--as-of", "2024-12-31"],
                    ["import", str(ledger), "--db", db]):
        run = _cli(*command, "--sheet", "2025年台账")
        assert run.returncode == 2, (command, run.stdout, run.stderr)
        out = run.stdout + run.stderr
        assert "没有名为“2025年台账”的工作表" in out and "2023年台账、2024年台账" in out, out
        said.append(out)
    en = _cli("ledger", "check", str(ledger), "--sheet", "2025年台账", "--lang", "en")
    assert "no sheet named '2025年台账'" in en.stderr
    assert _count(Store.open(db)) == []


def test_sheet_without_a_ledger_is_a_usage_error_not_ignored(tmp_path):
    run = _cli("check", str(DEMO), "--sheet", "台账", "--as-of", "2024-12-31")
    assert run.returncode == 2 and "只用于 Excel 台账" in run.stderr


def test_ledger_check_says_what_import_would_say(tmp_path):
    rows = [clerk_row(1), clerk_row(2), clerk_row(1)]            # the first case twice
    ledger = clerk_ledger(tmp_path / "c.xlsx", rows)
    data = json.loads(_cli("ledger", "check", str(ledger), "--json").stdout)
    assert data["cases"] == 3 and [p["field"] for p in data["problems"]] == ["case_id"]
    report = import_paths(Store.open(f"sqlite:///{tmp_path / 's.db'}"), [ledger], actor="t")
    assert [p.as_dict() for p in report.problems] == [{k: v for k, v in p.items() if k != "message_en"}
                                                      for p in data["problems"]]


def test_compact_findings_read_back_equal_and_the_json_report_is_the_same_text(tmp_path):
    import io

    from engine.check import CheckResult
    from engine.findings import Findings
    from engine.report.json_report import render_check_json, write_check_json
    from engine.runner import FileSource, RunSpec, RunStats, run

    stats = RunStats()
    results = list(run(FileSource((str(DEMO),)), RunSpec(dt.date(2024, 12, 31)), workers=1, stats=stats))
    assert all(isinstance(r.findings, Findings) for r in results)
    result = CheckResult(results, stats.problems, dt.date(2024, 12, 31), "tianjin", "v", "2004–2026")
    assert result.findings and list(result.iter_findings()) == result.findings
    out = io.StringIO()
    write_check_json(result, out)
    assert out.getvalue() == render_check_json(result) + "\n"
    plain = CheckResult([r for r in results], [], dt.date(2024, 12, 31), "tianjin", "v", "2004–2026")
    for r in plain.cases:
        r.findings = list(r.findings)
    assert render_check_json(plain) == render_check_json(result)
