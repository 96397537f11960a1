"""Exit codes that mean one thing (issue 17): 0 clean, 1 findings / refused, 2 bad input or usage, 3 an
internal error (one line, a log file, no traceback, no partial output); reports written atomically; the
output path checked before the run; a read-only store still gets its report written."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys

import pytest

from engine import cli
from conftest import ROOT

DEMO = ROOT / "fixtures" / "demo"


def run_main(monkeypatch, *args):
    monkeypatch.setattr(sys, "argv", ["casecheck", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    return done.value.code


@pytest.mark.parametrize("command,name", [
    (["review", str(DEMO), "--quarter", "2024Q3", "--format", "json"], "report.json"),
    (["alerts", str(DEMO), "--as-of", "2024-12-31", "--format", "html"], "report.html"),
    (["stats", str(DEMO), "--year", "2024"], "report.xlsx"),
])
def test_an_internal_error_exits_3_with_one_line_a_log_and_no_partial_report(monkeypatch, tmp_path, capsys,
                                                                             command, name):
    import pathlib
    import zipfile

    def half_then_fail(self, data, *args, **kwargs):
        with open(self, "wb") as fh:                              # half a report, then the disk is full
            fh.write(bytes(data)[: len(data) // 2] if isinstance(data, (bytes, bytearray)) else b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_bytes", half_then_fail)
    monkeypatch.setattr(zipfile.ZipFile, "close", lambda self: half_then_fail(pathlib.Path(self.filename), b"PK"))
    monkeypatch.setenv("CASECHECK_LOG_DIR", str(tmp_path / "logs"))
    out = tmp_path / "out" / name
    out.parent.mkdir()
    assert run_main(monkeypatch, *command, "-o", str(out)) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "No space left on device" in err and "Traceback" not in err
    assert list(out.parent.iterdir()) == []                       # no report, no temporary file
    [log] = list((tmp_path / "logs").iterdir())
    assert "Traceback" in log.read_text(encoding="utf-8") and str(log) in err.replace("\n", "")


def test_an_existing_report_is_kept_whole_when_a_run_fails(monkeypatch, tmp_path):
    from engine.report import render

    out = tmp_path / "report.json"
    out.write_text("the previous report\n", encoding="utf-8")
    monkeypatch.setattr(render, "render", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    monkeypatch.setenv("CASECHECK_LOG_DIR", str(tmp_path / "logs"))
    assert run_main(monkeypatch, "stats", str(DEMO), "--year", "2024", "-o", str(out)) == 3
    assert out.read_text(encoding="utf-8") == "the previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "report.json"]


def test_the_output_path_is_checked_before_the_run(monkeypatch, tmp_path, capsys):
    assert run_main(monkeypatch, "review", str(DEMO), "--quarter", "2024Q3", "-o", str(tmp_path / "no" / "r.html"),
                    "--format", "html") == 2
    assert "does not exist" in capsys.readouterr().err
    assert run_main(monkeypatch, "check", str(DEMO), "-o", str(tmp_path)) == 2
    assert "is a directory" in capsys.readouterr().err


def test_a_read_only_store_still_gets_its_report_and_says_the_review_was_not_kept(tmp_path):
    db = tmp_path / "s.db"
    subprocess.run([sys.executable, "-m", "engine.cli", "import", str(DEMO), "--db", str(db)], check=True,
                   capture_output=True, cwd=ROOT, timeout=300)
    with sqlite3.connect(db) as conn:
        runs = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    out = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "engine.cli", "review", "--quarter", "2024Q3", "--format", "json",
                           "--db", f"sqlite:///file:{db}?mode=ro&uri=true", "-o", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 1, done.stderr                       # the demo has failing files
    assert "not kept" in out.read_text(encoding="utf-8") or "未保存" in out.read_text(encoding="utf-8")
    assert "Traceback" not in done.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == runs


def test_a_refused_correction_exits_1_and_a_bad_option_2(monkeypatch, tmp_path, capsys):
    import json

    from test_store import LIVE

    db = str(tmp_path / "s.db")
    case = tmp_path / "c.json"
    case.write_text(json.dumps(LIVE, ensure_ascii=False), encoding="utf-8")
    assert run_main(monkeypatch, "case", "new", str(case), "--db", db, "--by", "t") == 0
    event = json.dumps(dict(LIVE["events"][2], recording="AV-9"))
    assert run_main(monkeypatch, "case", "correct", "LIVE-1", "3", "--json", event, "--reason", "笔误",
                    "--db", db, "--by", "局外人") == 1                 # not an officer of the case
    assert "refused" in capsys.readouterr().err
    assert run_main(monkeypatch, "case", "correct", "LIVE-1", "3", "--json", event, "--reason", "笔误",
                    "--db", db, "--by", "王某") == 0
    assert run_main(monkeypatch, "alerts", "--within", "-3", "--db", db) == 2
