"""The shipped ledger template opened in LibreOffice Calc (headless): saved again by Calc as .xlsx and
as CSV, its headers, drop-downs, hidden options sheet and date formats survive, and the Calc copy still
imports to exactly the example case. Needs Debian's libreoffice-calc-nogui (skipped without ``soffice``
unless ``CASECHECK_REQUIRE_CALC=1``, as in CI)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from engine.ledger.template import write_template
from engine.loader import load_paths

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
CALC = SOFFICE is not None and any(Path("/usr/lib/libreoffice/program").glob("libsclo.so"))

pytestmark = pytest.mark.skipif(not CALC and os.environ.get("CASECHECK_REQUIRE_CALC") != "1",
                                reason="LibreOffice Calc (libreoffice-calc-nogui) is not installed")


def _calc(source: Path, target: str, out: Path, profile: Path) -> Path:
    run = subprocess.run([SOFFICE or "soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                          "--convert-to", target, "--outdir", str(out), str(source)],
                         capture_output=True, text=True, timeout=180)
    made = out / f"{source.stem}.{target.split(':', 1)[0]}"
    assert run.returncode == 0 and made.exists(), (run.stdout, run.stderr)
    return made


def test_the_template_survives_calc(tmp_path):
    original = tmp_path / "台账模板.xlsx"
    write_template(original)
    out, profile = tmp_path / "calc", tmp_path / "profile"
    resaved = _calc(original, "xlsx:Calc MS Excel 2007 XML", out, profile)
    text = _calc(original, "csv:Text - txt - csv (StarCalc):44,34,76,1", out, profile)

    ours, theirs = load_workbook(original), load_workbook(resaved)
    assert theirs.sheetnames == ours.sheetnames and theirs["选项"].sheet_state == "hidden"
    sheet, before = theirs["台账"], ours["台账"]
    headers = [c.value for c in before[2]]
    assert [c.value for c in sheet[2]] == headers and "决定日期" in headers and "罚款金额" in headers

    def drop_downs(ws):
        return sorted((str(d.sqref), d.type, d.formula1) for d in ws.data_validations.dataValidation)
    assert drop_downs(sheet) == drop_downs(before) and len(drop_downs(sheet)) >= 9
    for name in ("决定日期", "立案日期", "送达日期"):
        column = headers.index(name) + 1
        for row in (3, 4, 500):
            fmt = sheet.cell(row, column).number_format.replace("\\", "")
            assert fmt == "yyyy-mm-dd", (name, row, fmt)

    with open(text, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [v for v in rows[1] if v] == [h for h in headers if h]
    assert "2024-03-13" in rows[2] and "津南学府罚〔2024〕1号" in rows[2]

    mine, calcs = load_paths([original]), load_paths([resaved])
    assert not calcs.problems and len(calcs.cases) == len(mine.cases) == 1
    assert calcs.cases[0].case == mine.cases[0].case
