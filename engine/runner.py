"""The parallel, streaming run behind ``check`` and ``review``: files or a store in, verdicts out.

The work is cut into units (a few files, or a range of store rows); each worker process runs the whole
pipeline on a unit — read, validate, facts, durable-rules cross-checked by the oracle, findings and,
for a review, the file's score — and sends back only the verdicts, never the cases. So memory stays
flat however many cases there are (a million files review in well under 1 GiB), both cores work, and
the parent only merges results, in input order.

Two passes: the first-offence look-back needs every party's earlier violations, so a first pass reads
each unit once and validates only the cases with a decision (the only ones that can establish a
violation); the second pass judges. The look-back counts every valid decided case of the input.

Fence: durable-rules runs inside the workers. A worker that dies (a native crash) breaks only the
units in flight; the parent re-runs those units itself with the engine in its own crash-isolating
pool (``DurablePool``), where a case that crashes the engine again fails alone with an
``EngineFailure``.

Partitions (``--partition K/N``): the K-th of N disjoint shares of the input — files by position in
the sorted file list, stored cases by row id modulo N — so N machines can review one store (or one
file tree) together and the union of their reports is the whole review. The look-back always reads
the whole input, so each share's verdicts equal the same cases' verdicts in a single run.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import multiprocessing
import os
import pickle
import tempfile
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from .check import CaseResult, Checker
from .errors import CasecheckError, InputProblem
from .exemptions import PartyHistory, PriorViolation
from .findings import Findings
from .loader import LoadedCase, duplicate_id_problem, iter_case_files, load_file

__all__ = ["RunSpec", "Partition", "FileSource", "StoreSource", "run"]

UNIT_BYTES = 1 << 20           # files are grouped into units of about this many bytes
UNIT_ROWS = 500                # stored cases per unit


@dataclass(frozen=True)
class Partition:
    index: int                 # 0-based
    count: int

    @classmethod
    def parse(cls, text: str | None) -> "Partition | None":
        if not text:
            return None
        k, sep, n = text.partition("/")
        if not (sep and k.strip().isdigit() and n.strip().isdigit()) or not 1 <= int(k) <= int(n):
            raise CasecheckError(f"--partition {text!r}：请写成 K/N，1 ≤ K ≤ N，如 1/4 / --partition {text!r}: write "
                                 f"K/N with 1 ≤ K ≤ N, e.g. 1/4")
        return cls(int(k) - 1, int(n))

    def __str__(self) -> str:
        return f"{self.index + 1}/{self.count}"


@dataclass(frozen=True)
class RunSpec:
    """What a worker rebuilds its pipeline from (picklable)."""

    as_of: dt.date
    profile: str = "tianjin"
    calendar_dir: str | None = None
    lang: str = "zh"
    quarter: str | None = None         # a review: workers score the files of this quarter
    agency: str | None = None          # a review limited to one agency


@dataclass(frozen=True)
class FileSource:
    paths: tuple[str, ...]
    sheet: str | None = None           # of each ledger, read only this sheet (``--sheet``)

    def units(self, partition: Partition | None = None) -> list[tuple[str, ...]]:
        files = list(iter_case_files(self.paths))
        if partition:
            files = [f for i, f in enumerate(files) if i % partition.count == partition.index]
        units: list[Any] = []
        group: list[str] = []
        size = 0
        for f in files:
            if f.suffix.lower() == ".xlsx":        # a ledger: its rows spread over the workers as chunks
                if group:
                    units.append(tuple(group))
                    group, size = [], 0
                units.extend(_ledger_chunks(f, self.sheet))
                continue
            group.append(str(f))
            try:
                size += f.stat().st_size
            except OSError:
                pass                   # load_file reports it
            if size >= UNIT_BYTES:
                units.append(tuple(group))
                group, size = [], 0
        if group:
            units.append(tuple(group))
        return units

    def read(self, unit: Any, partition: Partition | None,
             decided_only: bool = False) -> tuple[list[LoadedCase], list[InputProblem]]:
        if not isinstance(unit, tuple):
            from .loader import load_ledger_chunk

            return load_ledger_chunk(unit, decided_only)
        cases: list[LoadedCase] = []
        problems: list[InputProblem] = []
        for name in unit:
            loaded, found = load_file(Path(name), decided_only=decided_only, sheet=self.sheet)
            cases.extend(loaded)
            problems.extend(found)
        return cases, problems


_CHUNKS: dict[tuple[str, int, int, str | None], list[Any]] = {}


def _ledger_chunks(path: Path, sheet: str | None = None) -> list[Any]:
    """A ledger's rows as chunk units (``engine.ledger.read.split_ledger``), split once per run in a
    temporary directory removed at exit."""
    import atexit
    import shutil

    from .ledger.read import split_ledger

    try:
        stat = path.stat()
    except OSError:
        return [(str(path),)]                   # load_file reports it
    key = (str(path), stat.st_mtime_ns, stat.st_size, sheet)
    if stat.st_size > MAX_LEDGER_BYTES:
        return [(str(path),)]
    if key not in _CHUNKS:
        directory = tempfile.mkdtemp(prefix="casecheck-ledger-")
        atexit.register(shutil.rmtree, directory, True)
        _CHUNKS[key] = split_ledger(path, Path(directory), sheet)
    return _CHUNKS[key]


MAX_LEDGER_BYTES = 20 * 1024 * 1024     # the loader's file limit: a bigger ledger is refused by load_file


@dataclass(frozen=True)
class StoreSource:
    url: str
    agency: str | None = None

    def units(self, partition: Partition | None = None) -> list[tuple[int, int]]:
        from sqlmodel import func, select

        from .store import Store
        from .store.tables import CaseRow

        store = Store.open(self.url)
        with store.reading() as session:
            low, high = session.exec(select(func.min(CaseRow.id), func.max(CaseRow.id))).one()
        store.engine.dispose()
        if low is None:
            return []
        step = UNIT_ROWS * (partition.count if partition else 1)
        return [(lo, min(lo + step - 1, high)) for lo in range(low, high + 1, step)]

    def read(self, unit: tuple[int, int], partition: Partition | None,
             decided_only: bool = False) -> tuple[list[LoadedCase], list[InputProblem]]:
        from .store import Store
        from .store.repo import load_case_range

        store = _STORES.get(self.url)
        if store is None:
            store = _STORES[self.url] = Store.open(self.url, migrate=False)
        with store.reading() as session:
            return load_case_range(session, unit[0], unit[1], self.agency,
                                   (partition.index, partition.count) if partition else None, decided_only)


_STORES: dict[str, Any] = {}          # one engine per store URL per process


# ------------------------------------------------------------------------------------------ workers

_STATE: dict[str, Any] = {}


def _checker(spec: RunSpec, history: PartyHistory, engine: str) -> Checker:
    from .calendar import default_calendar
    from .profile import load_profile
    from .rulebook import load_rulebook
    from .workflow import default_workflows

    workflows = default_workflows()
    rulebook = load_rulebook(load_profile(spec.profile), workflows=workflows)
    calendar = default_calendar(spec.calendar_dir)
    return Checker(rulebook, calendar, workflows, spec.as_of, engine=engine,  # type: ignore[arg-type]
                   workers=1, lang=spec.lang, history=history)


def _init(spec: RunSpec, source: Any, partition: Partition | None) -> None:
    _STATE.clear()
    _STATE.update(spec=spec, source=source, partition=partition)


def _prepare_judging(history_file: str) -> None:
    """Load the look-back (once per worker) and build the pipeline around it."""
    if _STATE.get("history_file") == history_file:
        return
    with open(history_file, "rb") as fh:
        history = pickle.load(fh)  # noqa: S301 - written by this run's parent a moment ago, never input
    spec = _STATE["spec"]
    _STATE["checker"] = _checker(spec, history, "inprocess")
    _STATE["history_file"] = history_file
    gc.freeze()                     # the pipeline and the look-back live as long as the worker: never scan them
    if spec.quarter:
        from .review import quarter_bounds

        _STATE["bounds"] = quarter_bounds(spec.quarter)
        _STATE["grades"] = _STATE["checker"].rulebook.profile["review_grades"]


def _unit_cases(unit: Any, decided_only: bool = False) -> tuple[list[LoadedCase], list[InputProblem]]:
    return _STATE["source"].read(unit, _STATE["partition"], decided_only)


def _history_unit(unit: Any) -> list[tuple[Any, Any]]:
    cases, _ = _unit_cases(unit, decided_only=True)
    return [entry for c in cases for entry in PartyHistory.entries(c.case) + PartyHistory.inspection_entries(c.case)]


def _judge_unit(unit: Any, history_file: str) -> tuple[list[CaseResult], list[InputProblem]]:
    _prepare_judging(history_file)
    cases, problems = _unit_cases(unit)
    return _judge(_STATE["checker"], cases), problems


def _judge(checker: Checker, cases: Sequence[LoadedCase]) -> list[CaseResult]:
    """Verdicts, each scored for the review's quarter and then stripped of its case."""
    from .review import score_case

    out = []
    bounds, spec = _STATE.get("bounds"), _STATE["spec"]
    for result in checker.check(cases):
        if bounds is not None:
            result.score = score_case(result, bounds[0], bounds[1], spec.agency, _STATE["grades"])
        result.loaded = None
        result.findings = Findings(result.findings)    # tuples, not objects: a quarter of the size to send and keep
        out.append(result)
    return out


# ------------------------------------------------------------------------------------------- parent


@dataclass
class RunStats:
    units: int = 0
    cases: int = 0
    worker_crashes: int = 0
    problems: list[InputProblem] = field(default_factory=list)


class _Pool:
    """A spawn-context process pool that is replaced when a worker dies (both passes share it)."""

    def __init__(self, workers: int, spec: RunSpec, source: Any, partition: Partition | None):
        self._args = (workers, spec, source, partition)
        self.executor = self._new()

    def _new(self) -> ProcessPoolExecutor:
        workers, spec, source, partition = self._args
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init, initargs=(spec, source, partition),
                                   max_tasks_per_child=400)

    def replace(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.executor = self._new()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def _ordered(pool: _Pool, fn: Any, units: Sequence[Any], extra: tuple[Any, ...], window: int,
             on_crash: Any) -> Iterator[Any]:
    """``fn(unit, *extra)`` for every unit in the pool, results in unit order; units in flight when a
    worker dies are handed to ``on_crash(unit)`` (in this process) and the pool is replaced; a unit
    whose call raised in the worker goes to ``on_crash`` alone."""
    in_flight: deque[tuple[Any, Future[Any]]] = deque()

    def take() -> Iterator[Any]:
        unit, future = in_flight.popleft()
        try:
            yield future.result()
        except BrokenProcessPool:
            crashed = [unit] + [u for u, _ in in_flight]
            in_flight.clear()
            pool.replace()
            for u in crashed:
                yield on_crash(u)
        except Exception:                   # noqa: BLE001 - e.g. a result that could not be sent back:
            yield on_crash(unit)            # redo that unit here; the pool is still sound

    for unit in units:
        in_flight.append((unit, pool.executor.submit(fn, unit, *extra)))
        while len(in_flight) >= window:
            yield from take()
    while in_flight:
        yield from take()


def run(source: FileSource | StoreSource, spec: RunSpec, *, workers: int = 2,
        partition: Partition | None = None, stats: RunStats | None = None) -> Iterator[CaseResult]:
    """Every case's verdict, in input order (files sorted, then position; stored cases by row id).
    Input problems (unreadable files, invalid cases, duplicated ids) are appended to ``stats.problems``."""
    stats = stats if stats is not None else RunStats()
    try:
        all_units = source.units(None)
    except FileNotFoundError as exc:
        stats.problems.append(InputProblem(str(exc), None, "", getattr(exc, "message", "文件或目录不存在 / no such file or directory")))
        return
    units = all_units if partition is None else source.units(partition)
    stats.units = len(units)
    workers = max(1, min(workers, len(all_units) or 1))
    window = workers * 3

    pool = _Pool(workers, spec, source, partition)
    try:
        history = _history(pool, source, spec, all_units, window)
        with tempfile.TemporaryDirectory(prefix="casecheck-run-") as tmp:
            history_file = os.path.join(tmp, "history.pickle")
            with open(history_file, "wb") as fh:
                pickle.dump(history, fh, protocol=pickle.HIGHEST_PROTOCOL)
            yield from _judge_all(pool, source, spec, partition, units, history, history_file, window, stats)
    finally:
        pool.close()
        gc.unfreeze()


def _history(pool: _Pool, source: Any, spec: RunSpec, units: Sequence[Any], window: int) -> PartyHistory:
    """Pass 1: the look-back, over the whole input (every partition needs all of it)."""
    history = PartyHistory()

    def here(unit: Any) -> Any:               # a worker died reading this unit: read it here
        _init(spec, source, None)
        return _history_unit(unit)

    for entries in _ordered(pool, _history_unit, units, (), window, here):
        for key, prior in entries:
            if isinstance(key, str):                       # a party's inspection (the yearly cap)
                history.merge_inspection(key, prior)
            else:
                history.merge(key, prior)
    return history


def _judge_all(pool: _Pool, source: Any, spec: RunSpec, partition: Partition | None, units: Sequence[Any],
               history: PartyHistory, history_file: str, window: int, stats: RunStats) -> Iterator[CaseResult]:
    """Pass 2: judge the units; drop (as a problem) a case whose id an earlier case already used."""
    seen = _Seen()
    fallback: dict[str, Checker] = {}

    def here(unit: Any) -> Any:
        """A worker died on this unit: judge it here, the engine in a crash-isolating pool."""
        stats.worker_crashes += 1
        _init(spec, source, partition)
        if "checker" not in fallback:
            fallback["checker"] = _checker(spec, history, "durable")
        checker = fallback["checker"]
        if spec.quarter:
            from .review import quarter_bounds

            _STATE["bounds"] = quarter_bounds(spec.quarter)
            _STATE["grades"] = checker.rulebook.profile["review_grades"]
        cases, problems = _unit_cases(unit)
        return _judge(checker, cases), problems

    for results, problems in _ordered(pool, _judge_unit, units, (history_file,), window, here):
        gc.freeze()                 # verdicts kept for the report: keep the collector from rescanning them
        stats.problems.extend(problems)
        for result in results:
            earlier = seen.add(result.agency, result.case_id, result.ref)
            if earlier is not None:
                stats.problems.append(duplicate_id_problem(result.case_id, earlier, result.ref))
                continue
            stats.cases += 1
            yield result


class _Seen:
    """Case keys met so far, in a few dozen bytes each (a million cases: ~100 MB, not ~300 MB): a
    128-bit digest of the key (a collision is as likely as guessing a random 128-bit number) and the
    first occurrence's place, as (file number, position)."""

    def __init__(self) -> None:
        self._first: dict[bytes, int] = {}
        self._files: dict[str, int] = {}
        self._names: list[str] = []

    def add(self, agency: str, case_id: str, ref: str) -> str | None:
        """None if the key is new (and remember it), else where it was met first."""
        key = hashlib.blake2b(f"{agency}\x00{case_id}".encode("utf-8"), digest_size=16).digest()
        known = self._first.get(key)
        if known is not None:
            name, index = self._names[known >> 24], (known & 0xFFFFFF) - 1
            return name if index < 0 else f"{name}#cases[{index}]"
        file, sep, rest = ref.partition("#cases[")
        number = self._files.get(file)
        if number is None:
            number = self._files[file] = len(self._names)
            self._names.append(file)
        position = int(rest[:-1]) + 1 if sep and rest[:-1].isdigit() else 0
        self._first[key] = (number << 24) | min(position, 0xFFFFFF)
        return None


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
