"""The input of ``casecheck import`` read in bounded memory, spread over worker processes like ``check``.

Import is all or nothing with respect to its input: any bad file or row → every problem listed, nothing
stored. So everything is read and validated before the first write, but never held whole: the files are
cut into the runner's units (a few files, or a ledger's chunks of rows); each unit is read, validated and
its valid cases spilled to a temporary file (in a worker when there is more than one unit); the parent
keeps only the problems and one small key per case (to find duplicated case ids). The spill is one
anonymous temporary file (already unlinked: nothing is left behind even when the import is killed). When
there is no problem, ``Staged.chunks`` hands the cases back in input order, a chunk at a time, for the writer.

The problems are the same, in the same order, as ``load_paths`` gives: per file, its own problems, then
the duplicated ids among its cases; a ledger's problems sorted by sheet and row (sheets in the order they
were read).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import InputProblem
from .loader import LoadedCase, duplicate_id_problem, ledger_problem_order

__all__ = ["Staged", "staged", "unstated_notices"]


@dataclass
class Staged:
    """What pass one found: ``files`` read, every ``problems``, ``count`` valid cases spilled to ``spill``
    (pickled lists at ``parts``: offset, length)."""

    files: int = 0
    problems: list[InputProblem] = field(default_factory=list)
    count: int = 0
    parts: list[tuple[int, int]] = field(default_factory=list)
    spill: Any = None
    # (file, sheet, event type) → the cases with a penalty decision from a ledger sheet without that step's
    # column (``engine.ledger.read.UNSTATED``): said once per sheet (``unstated_notices``), never silently
    unstated: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def chunks(self, size: int) -> Iterator[list[Any]]:
        """The cases (``LoadedCase``, or ``PreparedCase`` when staged with ``prepare``) in input order, ``size``
        at a time (the last chunk may be smaller)."""
        held: list[Any] = []
        for offset, length in self.parts:
            self.spill.seek(offset)
            held.extend(pickle.loads(self.spill.read(length)))  # noqa: S301 - written by this import, never input
            while len(held) >= size:
                yield held[:size]
                held = held[size:]
        if held:
            yield held


def _stage(unit: Any, spill: bool, prepare: tuple[Any, ...] | None = None,
           ) -> tuple[list[tuple[str, list[InputProblem], list[tuple[Any, ...]]]], bytes | None, int]:
    """Read and validate one unit (in a worker or here). Returns, per file of the unit, (file, problems,
    [(agency, case id, ref)]), then the valid cases pickled (``spill``; made into the rows they would be
    stored as when ``prepare`` = (actor, time, profile): ``engine.store.bulk``) and their number."""
    from .runner import _STATE

    source = _STATE["source"]
    per_file = []
    cases: list[LoadedCase] = []
    if isinstance(unit, tuple):
        for name in unit:
            loaded, problems = source.read((name,), None)
            per_file.append((name, problems, [(c.case.agency.code, c.case.case_id, c.ref) for c in loaded]))
            cases.extend(loaded)
    else:
        loaded, problems = source.read(unit, None)
        per_file.append((unit.file, problems, [(c.case.agency.code, c.case.case_id, c.ref) for c in loaded]))
        cases.extend(loaded)
    silent = _unstated(cases)
    if not (cases and spill):
        return per_file, None, len(cases), silent
    if prepare is not None:
        from .store.bulk import prepare_cases

        if any(problems for _, problems, _ in per_file):
            return per_file, None, len(cases), silent     # nothing will be stored: the rows are not worth making
        return per_file, pickle.dumps(prepare_cases(cases, *prepare), protocol=pickle.HIGHEST_PROTOCOL), len(cases), silent
    return per_file, pickle.dumps(cases, protocol=pickle.HIGHEST_PROTOCOL), len(cases), silent


def _unstated(cases: list[LoadedCase]) -> dict[tuple[str, str, str], int]:
    """Per (file, sheet, event type) the cases with a penalty decision whose ledger sheet has no column for
    that step (a ledger without 集体讨论日期 cannot say a large fine was discussed)."""
    out: dict[tuple[str, str, str], int] = {}
    for c in cases:
        if c.unstated and any(e.type == "decided" and getattr(e, "outcome", None) == "penalty" for e in c.case.events):
            for kind in c.unstated:
                key = (c.file, c.sheet or "", kind)
                out[key] = out.get(key, 0) + 1
    return out


def unstated_notices(unstated: dict[tuple[str, str, str], int]) -> list[tuple[str, str]]:
    """One notice (zh, en) per ledger sheet without a step's column, naming the column to add."""
    from .ledger.mapping import FIELDS

    out = []
    for (file, sheet, kind), count in sorted(unstated.items()):
        zh, en, _ = FIELDS[kind]
        where = f"{file}!{sheet}" if sheet else file
        out.append((f"{where}：台账没有“{zh}”列，其中 {count} 个处罚案件是否经负责人集体讨论无从读取；标为重大或罚款达到"
                    f"集体讨论金额标准的案件，检查和评查将判为决定前没有集体讨论记录。已经集体讨论的，请在导入前增加“{zh}”列并填写日期"
                    f"（已导入的案件不能在决定前补入讨论记录：已存环节从不改写）",
                    f"{where}: the ledger has no {zh} ({en}) column, so for its {count} penalty cases nothing says whether "
                    f"the heads discussed them; a case flagged major or with a fine from the discussion amount will be "
                    f"found to have no discussion before its decision. Where they did discuss it, add the {zh} column "
                    f"with the date before importing (a stored case cannot take a discussion before its decision "
                    f"later: stored events are never rewritten)"))
    return out


@contextmanager
def staged(paths: Iterable[str | Path], *, sheet: str | None = None, workers: int = 1,
           spill: bool = True, prepare: tuple[Any, ...] | None = None) -> Iterator[Staged]:
    """Pass one over ``paths`` (see the module); the spill is closed (and so gone) on leaving.
    ``spill=False``: only the problems and the count (``casecheck ledger check``). ``prepare`` = (actor,
    time, profile): spill each case as ``engine.store.bulk.PreparedCase`` (its rows made in the worker)."""
    from .runner import FileSource, RunSpec, _init, _ordered, _Pool

    source = FileSource(tuple(str(p) for p in paths), sheet)
    out = Staged()
    try:
        units = source.units(None)
    except FileNotFoundError as exc:
        out.problems.append(InputProblem(str(exc), None, "", getattr(exc, "message", "文件或目录不存在 / no such file or directory")))
        yield out
        return
    spec = RunSpec(dt.date.today())
    with tempfile.TemporaryFile(prefix="casecheck-import-") as out.spill:
        jobs = [(unit, spill, prepare) for unit in units]

        def here(job: tuple[Any, ...]) -> Any:            # one process, or a worker died on this unit
            _init(spec, source, None)
            return _stage(*job)

        if workers > 1 and len(units) > 1:
            pool = _Pool(min(workers, len(units)), spec, source, None)
            try:
                results: Iterator[Any] = _ordered(pool, _stage_job, jobs, (), workers * 3, here)
                _collect(out, results)
            finally:
                pool.close()
        else:
            _collect(out, (here(job) for job in jobs))
        yield out


def _stage_job(job: tuple[Any, ...]) -> Any:
    return _stage(*job)


def _collect(out: Staged, results: Iterable[Any]) -> None:
    """Merge the units' answers in input order: problems per file (a ledger's, gathered over its chunks
    and sorted), duplicated ids after the file's own problems, the spill files in order."""
    seen: dict[bytes, str] = {}
    files: set[str] = set()
    ledger: list[Any] = []                 # the chunks of the ledger being read: (problems, keys)
    ledger_name: str | None = None

    def close_ledger() -> None:
        nonlocal ledger_name
        if ledger_name is None:
            return
        problems = [p for found, _ in ledger for p in found]
        out.problems.extend(ledger_problem_order(ledger_name, problems))
        for _, keys in ledger:
            _duplicates(out, seen, keys)
        ledger.clear()
        ledger_name = None

    for per_file, blob, count, silent in results:
        for key, n in silent.items():
            out.unstated[key] = out.unstated.get(key, 0) + n
        for name, problems, keys in per_file:
            if ledger_name is not None and name != ledger_name:
                close_ledger()
            files.add(name)
            if name.lower().endswith(".xlsx"):
                ledger_name = name
                ledger.append((problems, keys))
                continue
            out.problems.extend(problems)
            _duplicates(out, seen, keys)
        if blob is not None:
            out.spill.seek(0, os.SEEK_END)
            out.parts.append((out.spill.tell(), len(blob)))
            out.spill.write(blob)
        out.count += count
    close_ledger()
    out.files = len(files)


def _duplicates(out: Staged, seen: dict[bytes, str], keys: list[tuple[Any, ...]]) -> None:
    for agency, case_id, ref in keys:
        key = hashlib.blake2b(f"{agency}\x00{case_id}".encode("utf-8"), digest_size=16).digest()
        if key in seen:
            out.problems.append(duplicate_id_problem(case_id, seen[key], ref))
            continue
        seen[key] = ref
