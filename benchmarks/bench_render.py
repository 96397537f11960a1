"""The review rendered to HTML, XLSX and DOCX, against the review itself, in one process and one run.

    python -m benchmarks.bench_render N [N …]     (generates each N under build/bench/scale-N if missing)

For each N (cases from ``fixtures.scale``, the same data as bench_review): the review as the CLI runs it
(``_run_check`` with two workers, scoring, ``review_document``) is timed, then each renderer on that same
Document (``render(doc, fmt)`` → bytes, as the web calls it). Printed: the review's time, each format's time
and its ratio to the review (target: each < 0.5×), the output size, and the peak resident memory of the
process (``ru_maxrss``) after the review and after all renderers, plus the workers' peak (target: < 1 GiB).
"""

from __future__ import annotations

import gc
import resource
import sys
import time

from benchmarks.bench_review import QUARTER, dataset
from benchmarks.common import table


def _rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def measure(n: int) -> dict[str, float]:
    from engine.cli import Lang, _run_check
    from engine.report.builders import review_document
    from engine.report.render import render
    from engine.review import quarter_bounds, review

    directory = dataset(n)
    _, end = quarter_bounds(QUARTER)
    start = time.perf_counter()
    result, rulebook = _run_check([directory], None, None, end, "tianjin", None, 2, Lang.zh, "review", keep=False,
                                  quarter=QUARTER,
                                  retain=lambda r: r.score is not None or r.problem is not None or r.failure is not None)
    reviewed = review(result, QUARTER, rulebook.profile["review_grades"])
    doc = review_document(reviewed, "zh")
    out: dict[str, float] = {"n": n, "review": time.perf_counter() - start, "reviewed": len(reviewed.cases),
                             "lost points": len(reviewed.ranked()), "rss review": _rss_mib()}
    for fmt in ("html", "xlsx", "docx"):
        gc.collect()
        t = time.perf_counter()
        data = render(doc, fmt)
        out[fmt] = time.perf_counter() - t
        out[f"{fmt} KiB"] = len(data) / 1024
        del data
    out["rss all"] = _rss_mib()
    out["rss workers"] = _rss_mib(resource.RUSAGE_CHILDREN)
    return out


def report(results: list[dict[str, float]]) -> str:
    rows = []
    for r in results:
        rows.append([f"{int(r['n']):,}", f"{int(r['reviewed']):,}", f"{int(r['lost points']):,}", f"{r['review']:.1f}",
                     *(f"{r[f]:.2f} ({r[f] / r['review']:.2f}×)" for f in ("html", "xlsx", "docx")),
                     f"{(r['html'] + r['xlsx'] + r['docx']) / r['review']:.2f}×",
                     *(f"{r[f + ' KiB']:,.0f}" for f in ("html", "xlsx", "docx")),
                     f"{r['rss review']:.0f}", f"{r['rss all']:.0f}", f"{r['rss workers']:.0f}"])
    head = ["cases", "in quarter", "lost points", "review s", "HTML s (÷review)", "XLSX s (÷review)",
            "DOCX s (÷review)", "all three ÷review", "HTML KiB", "XLSX KiB", "DOCX KiB", "peak MiB after review",
            "peak MiB after render", "worker peak MiB"]
    verdicts = []
    for r in results:
        worst = max(r[f] / r["review"] for f in ("html", "xlsx", "docx"))
        verdicts.append(f"{int(r['n']):,}: slowest renderer {worst:.2f}× the review (target < 0.5×): "
                        f"{'ok' if worst < 0.5 else 'OVER'}; peak {max(r['rss all'], r['rss workers']):.0f} MiB "
                        f"(target < 1024): {'ok' if max(r['rss all'], r['rss workers']) < 1024 else 'OVER'}")
    return table("review rendered (one process, two workers)", head, rows) + "\n" + "\n".join(verdicts)


def main(argv: list[str]) -> None:
    sizes = [int(a.replace("_", "")) for a in argv] or [10_000]
    print(report([measure(n) for n in sizes]))


if __name__ == "__main__":
    main(sys.argv[1:])
