"""Input hygiene at the boundary (issue 17): control characters refused with their place, ids NFKC-normalised
and invisible characters refused, unreadable directories and FIFOs/devices named, escape sequences never
reach the terminal; a NUL never reaches PostgreSQL."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest

from engine.cases import import_paths
from engine.loader import load_paths, validate_case
from engine.store import Store
from test_store import LIVE
from conftest import ROOT


def case(**changes):
    raw = copy.deepcopy(LIVE)
    for path, value in changes.items():
        target = raw
        keys = path.split("__")
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target[k]
        target[keys[-1]] = value
    return raw


@pytest.mark.parametrize("field, value, where", [
    ("events__2__recording", "AV\x001", "events.2.recording"),
    ("party__name", "刘\x1b[31m某", "party.name"),
    ("matter__name", "超出\x7f门窗", "matter.name"),
    ("violation__occurred_on", "2024-03-01\x00", "violation.occurred_on"),
])
def test_control_characters_are_refused_with_their_place(field, value, where):
    found, problems = validate_case(case(**{field: value}), "f.json")
    assert found is None and [p.field for p in problems] == [where]
    assert "control character" in problems[0].message and "position" in problems[0].message


def test_ids_are_nfkc_normalised_and_invisible_characters_refused():
    found, _ = validate_case(case(case_id="ＬＩＶＥ－１"), "f.json")
    assert found.case_id == "LIVE-1"
    for bad in ("LIVE\u200b-1", "LIVE-1\u202e", "\ufeffLIVE-1"):
        found, problems = validate_case(case(case_id=bad), "f.json")
        assert found is None and problems[0].field == "case_id" and "invisible" in problems[0].message


def test_two_files_whose_ids_look_the_same_are_one_id(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(case(), ensure_ascii=False), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(case(case_id="ＬＩＶＥ－１"), ensure_ascii=False), encoding="utf-8")
    problems = load_paths([tmp_path]).problems
    assert len(problems) == 1 and "already used" in problems[0].message and "案件编号“LIVE-1”重复" in problems[0].message


def test_a_nul_never_reaches_the_store(url, tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(case(party__name="刘\x00某"), ensure_ascii=False), encoding="utf-8")
    report = import_paths(Store.open(url), [tmp_path], actor="t")
    assert report.exit_code == 2 and report.problems[0].field == "party.name"


def test_fifo_device_and_unreadable_directory_are_named(tmp_path, monkeypatch):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert "FIFO" in load_paths([fifo]).problems[0].message
    assert "device" in load_paths(["/dev/null"]).problems[0].message
    (tmp_path / "set" / "locked").mkdir(parents=True)
    real = os.scandir

    def scandir(path="."):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    [problem] = load_paths([tmp_path / "set"]).problems
    assert problem.file.endswith("locked") and "unreadable directory" in problem.message


def test_escape_sequences_from_files_never_reach_the_terminal(tmp_path):
    name = tmp_path / "evil\x1b]0;pwned\x07.json"
    name.write_text(json.dumps(case(case_id="X\x1b[2J"), ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "engine.cli", "check", str(tmp_path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert "\x1b]0;" not in done.stdout + done.stderr and "\x1b[2J" not in done.stdout + done.stderr
    assert "rename the file" in (done.stdout + done.stderr).replace("\n", " ") or "重命名" in done.stdout + done.stderr
