"""``python -m engine.report.headline REPORT.json …``: each report's title and headline figures, two lines
per report (what ``make demo`` ends with). Reads the JSON that ``--format json`` / ``-o x.json`` writes."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def headline(data: dict) -> str:
    if "kind" in data:                                    # a Document: review, alerts, stats
        labels = data.get("summary_labels", {})
        figures = "  ".join(f"{labels.get(k, k)} {v}" for k, v in data.get("summary", {}).items())
        lines = [f"{data['title']}", f"  {figures}"]
        titles = {c["key"]: c["title"] for c in data.get("columns", {}).get("supervision", [])}
        for row in data.get("sections", {}).get("supervision", []):     # a supervisor's summary (issue 19)
            shown = [f"{titles[k]} {row[k]}" for k in titles if k not in ("agency_name", "agency", "typical")
                     and row.get(k) is not None]
            lines.append(f"  {titles.get('agency_name', '')} {row.get('agency_name')}：{' · '.join(shown)}")
        return "\n".join(lines)
    counts: dict[str, int] = {}                           # casecheck check --format json
    for f in data.get("findings", []):
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    flagged = len({(f["agency"], f["case_id"]) for f in data.get("findings", [])})
    return (f"案卷合规检查报告\n  检查案卷 {data.get('cases')}  有问题案卷 {flagged}  违法 {counts.get('error', 0)}  "
            f"瑕疵 {counts.get('warning', 0)}  提示 {counts.get('info', 0)}")


def main(argv: list[str]) -> int:
    for name in argv:
        print(headline(json.loads(Path(name).read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
