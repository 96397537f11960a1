"""durable-rules 2.0.28, fenced. The only module that imports it.

What this module does about each defect recorded in ``shared/domain/durable-rules-notes.md``:

- nested ``$and`` drops comparisons → patterns are generated flat, one fact per pattern, and
  ``compile_ruleset`` re-checks the structure (``assert_flat``) before the engine sees it;
- ``none()`` depends on fact order, joins read out of bounds → no ``none()``, no cross-fact joins:
  absence and arithmetic are precomputed in ``engine.facts``;
- floats in exponent notation segfault, strings compare as strings, big ints saturate, a missing
  field silently fails to match → ``project`` sends only the fields the rules reference, each of its
  declared type exactly (bool, str, or int within ±2⁵³), and refuses anything else;
- session ids collide by a 32-bit hash, 1024 live sessions max → one live session at a time per
  worker, deleted after each case;
- ``delete_state`` segfaults (measured here, with no ``none()`` at all: any session in which no rule
  fired crashed it once the full catalogue was loaded) → every session carries one sentinel fact that
  a sentinel rule (``_seen|_session``) always matches, so every session fires; the sentinel must come
  back exactly once and the engine must report no duplicate fact, or the case fails with an
  ``EngineFailure``. (An earlier version had a catch-all rule per fact kind, so every fact came back:
  that doubled the engine's cost with one action per fact, and the oracle comparison already catches
  any fact the engine mishandles);
- ``Host`` starts timer threads, defers actions to them, swallows action errors, keeps a global
  registry → no ``Host`` at all: the C module is driven directly, actions are drained synchronously
  and nothing runs user code inside the engine;
- a new ruleset leaks ~0.5 MB → rulesets are built once per worker process, never recreated;
- native crashes → the engine runs in worker processes (``DurablePool``); a crashed chunk is re-run
  case by case so a crash fails one case with an ``EngineFailure``, never the run.

Results are sets of ``(rule_id, fact key)``; the caller compares them with the oracle
(``Rulebook.evaluate``) and refuses to report a verdict the two disagree on.

Fact classes (``FactClasses``, ``ClassMemo``): every rule is one flat conjunction of comparisons of one
fact's fields with constants, so which rules a fact matches depends only on, per field, which side of
each constant its value lies. Facts alike in that are one class; durable-rules is asked once per class
(about a real fact of the class, projected and type-checked as above) and its answer is given to every
fact of the class. 10,000 generated cases have 100,000–320,000 facts but only 120–180 classes. The oracle
still judges every fact of every case itself, so a class answer that were wrong for some fact would be a
disagreement, and that case would get no verdict.
"""

from __future__ import annotations

import json
import multiprocessing
import operator
import os
from bisect import bisect_left, bisect_right
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterable, Iterator, Sequence

from .errors import EngineFailure
from .facts import Fact
from .rulebook import Alternative, Rulebook

__all__ = ["compile_ruleset", "assert_flat", "project", "DurableSession", "DurablePool", "run_batched",
           "FactClasses", "ClassMemo"]

Hits = frozenset[tuple[str, str]]
_OPS = {"==": None, "!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_INT_LIMIT = 2 ** 53


def _expression(name: str, op: str, value: Any) -> dict[str, Any]:
    tag = _OPS[op]
    return {name: value} if tag is None else {tag: {name: value}}


SEEN = "_seen"
SENTINEL = {"kind": "_session", "key": "_session", "act_day": 0}


def compile_ruleset(alternatives: Sequence[Alternative]) -> dict[str, Any]:
    """One durable rule per alternative: a single fact pattern, one flat ``$and`` of comparisons;
    plus the sentinel rule ``_seen|_session`` (see the module docstring)."""
    rules: dict[str, Any] = {}
    for alt in alternatives:
        terms = [{"kind": alt.kind}] + [_expression(n, op, v) for n, op, v in alt.all_conditions()]
        rules[alt.name] = {"all": [{"m": {"$and": terms}}]}
    rules[f"{SEEN}|{SENTINEL['kind']}"] = {"all": [{"m": {"$and": [{"kind": SENTINEL["kind"]},
                                                                   {"$gte": {"act_day": 0}}]}}]}
    assert_flat(rules)
    return rules


def assert_flat(rules: dict[str, Any]) -> None:
    """Refuse any pattern that is not one flat ``$and`` of field-to-constant comparisons."""
    for name, rule in rules.items():
        patterns = rule.get("all")
        if set(rule) != {"all"} or not isinstance(patterns, list) or len(patterns) != 1:
            raise ValueError(f"{name}: exactly one fact pattern per rule")
        pattern = patterns[0]
        if set(pattern) != {"m"} or set(pattern["m"]) != {"$and"}:
            raise ValueError(f"{name}: the pattern must be one $and")
        for term in pattern["m"]["$and"]:
            if len(term) != 1:
                raise ValueError(f"{name}: one comparison per term")
            (key, body), = term.items()
            if key.startswith("$"):
                if key not in _OPS.values() or not isinstance(body, dict) or len(body) != 1:
                    raise ValueError(f"{name}: {key} is not a flat comparison")
                (_, value), = body.items()
            else:
                value = body
            if isinstance(value, (dict, list, float)) or value is None:
                raise ValueError(f"{name}: {key} compares with {value!r}: constants only (no joins, no floats)")


def project(facts: Iterable[Fact], fields_by_kind: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    """The facts as the engine sees them: only referenced fields, strictly typed. Raises TypeError."""
    out = []
    keys: set[str] = set()
    getters = _getters(fields_by_kind)
    for fact in facts:
        kind = fact.KIND
        names = fields_by_kind.get(kind)
        if names is None:
            continue                      # no rule looks at this kind: nothing to send
        if fact.key in keys:
            raise TypeError(f"fact key {fact.key} is used twice in one case")
        keys.add(fact.key)
        values = getters[kind](fact)
        for name, value in zip(names, values):
            cls = type(value)
            if cls is int:
                if not -_INT_LIMIT < value < _INT_LIMIT:
                    raise TypeError(f"{fact.key}.{name}: {value} is outside the exact integer range")
            elif cls is not bool and cls is not str:
                raise TypeError(f"{fact.key}.{name}: {cls.__name__} values are never sent to the engine")
        item = dict(zip(names, values))
        item["kind"] = kind
        item["key"] = fact.key
        out.append(item)
    return out


_GETTERS: dict[int, tuple[dict[str, tuple[str, ...]], dict[str, Any]]] = {}


def _getters(fields_by_kind: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """Per kind, one getter returning the tuple of its referenced fields (built once per mapping)."""
    cached = _GETTERS.get(id(fields_by_kind))
    if cached is None or cached[0] is not fields_by_kind:
        getters = {kind: (operator.attrgetter(*names) if len(names) > 1
                          else (lambda f, _g=operator.attrgetter(names[0]): (_g(f),)))
                   for kind, names in fields_by_kind.items() if names}
        cached = _GETTERS[id(fields_by_kind)] = (fields_by_kind, getters)
    return cached[1]


class DurableSession:
    """The durable-rules C engine for one ruleset, driven directly, one live session at a time."""

    def __init__(self, rules: dict[str, Any], name: str = "casecheck"):
        import durable_rules_engine as dre          # only here

        self._dre = dre
        assert_flat(rules)
        self._handle = dre.create_ruleset(f"{name}_{os.getpid()}", json.dumps(rules, ensure_ascii=False))
        self._sid = 0

    def run(self, facts: list[dict[str, Any]]) -> Hits:
        """Assert one case's facts as one batch in a fresh session; return the matched (rule, key)."""
        if not facts:
            return frozenset()
        sid = self._next_sid()
        return frozenset(self._session(sid, [dict(f, sid=sid) for f in facts]))

    def _session(self, sid: str, batch: list[dict[str, Any]]) -> set[tuple[str, str]]:
        """Assert ``batch`` (plus the sentinel) in session ``sid``, run its actions, delete it."""
        dre = self._dre
        batch.append(dict(SENTINEL, sid=sid))
        hits: set[tuple[str, str]] = set()
        sentinels = 0
        try:
            code, offset = dre.assert_facts(self._handle, json.dumps(batch, ensure_ascii=False))
            if code not in (0, 1):            # 1: some fact matched no rule (normal); 2: a duplicate fact
                                              # (keys are unique by ``project``, so 2 means a broken engine)
                raise EngineFailure(sid, f"assert_facts returned code {code}")
            sentinels = self._drain(offset, hits)
        finally:
            dre.delete_state(self._handle, sid)
        if sentinels != 1:
            raise EngineFailure(sid, f"the session's sentinel fact came back {sentinels} times, not once")
        return hits

    def run_many(self, cases: Sequence[list[dict[str, Any]]]) -> list[Hits]:
        """Several cases' facts in one session: one ``assert_facts`` call, one sentinel, one
        ``delete_state`` for the lot. Every rule is a single-fact pattern with no join (``assert_flat``),
        so facts of different cases cannot meet in a match; each fact's key carries its case's
        position (``3|d7``) and hits are handed back per case. The projected dicts are consumed (keys
        rewritten in place; retrying a case alone strips them again). Same answers as ``run`` case by case
        (the differential tests check it), at a fraction of the per-session cost."""
        if len(cases) <= 1:
            return [self.run(c) for c in cases]
        sid = self._next_sid()
        batch = []
        for n, facts in enumerate(cases):          # the projected dicts are this call's to change
            for f in facts:
                f["key"] = f"{n}|{f['key']}"
                f["sid"] = sid
                batch.append(f)
        found = self._session(sid, batch)
        hits: list[set[tuple[str, str]]] = [set() for _ in cases]
        for rule_id, key in found:
            n, _, own = key.partition("|")
            hits[int(n)].add((rule_id, own))
        return [frozenset(h) for h in hits]

    def run_one_at_a_time(self, facts: list[dict[str, Any]]) -> Hits:
        """durable-rules used naively, for the benchmarks only: a fresh session per case, each fact
        asserted by its own call and its actions run before the next. Same ruleset, same answer."""
        if not facts:
            return frozenset()
        dre = self._dre
        sid = self._next_sid()
        hits: set[tuple[str, str]] = set()
        sentinels = 0
        try:
            for fact in facts + [SENTINEL]:
                code, offset = dre.assert_fact(self._handle, json.dumps(dict(fact, sid=sid), ensure_ascii=False))
                if code not in (0, 1):
                    raise EngineFailure(sid, f"assert_fact returned code {code}")
                sentinels += self._drain(offset, hits)
        finally:
            dre.delete_state(self._handle, sid)
        if sentinels != 1:
            raise EngineFailure(sid, f"the session's sentinel fact came back {sentinels} times, not once")
        return frozenset(hits)

    def _next_sid(self) -> str:
        self._sid += 1
        return str(self._sid)

    def _drain(self, offset: int, hits: set[tuple[str, str]]) -> int:
        """Run the pending actions synchronously; collect hits; return how many sentinels fired."""
        dre = self._dre
        sentinels = 0
        result = dre.start_action_for_state(self._handle, offset)
        message = result[1] if result else None
        while message:
            for rule_name, frame in json.loads(message).items():
                rule_id = rule_name.split("|", 1)[0]
                if rule_id == SEEN:
                    sentinels += 1
                else:
                    hits.add((rule_id, frame["m"]["key"]))
            message = dre.complete_and_start_action(self._handle, offset)
        return sentinels


# ------------------------------------------------------------------------------------------ fact classes

class FactClasses:
    """Which facts every rule treats alike.

    For a field the rules compare with integer constants ``c₁ < … < cₖ``, an integer value ``v`` is
    replaced by ``bisect_left + bisect_right`` of those constants: even ``2i`` when ``v`` lies strictly
    between ``cᵢ`` and ``cᵢ₊₁``, odd ``2i+1`` when ``v == cᵢ₊₁``. That number decides every ``==, !=, <,
    <=, >, >=`` against every constant, and nothing else about ``v`` matters to any rule. Other fields
    keep their values. A fact whose value in such a field is not an ``int`` is its own class (its values
    kept whole, marked ``"raw"``), so it goes to the engine itself and the projection judges it.
    Two facts of one class are equal under Python's ``==`` field by field after that mapping, which is
    how the oracle compares too (``True == 1``): a class never mixes facts the oracle tells apart.
    """

    def __init__(self, alternatives: Sequence[Alternative], fields_by_kind: dict[str, tuple[str, ...]]):
        bounds: dict[tuple[str, str], set[int]] = {}
        for alt in alternatives:
            for name, _op, value in alt.all_conditions():
                if type(value) is int:
                    bounds.setdefault((alt.kind, name), set()).add(value)
        getters = _getters(fields_by_kind)
        self._of: dict[str, Any] = {}
        for kind, names in fields_by_kind.items():
            if kind in getters:
                cuts = tuple((i, tuple(sorted(bounds[kind, name])))
                             for i, name in enumerate(names) if (kind, name) in bounds)
                self._of[kind] = _classifier(kind, getters[kind], cuts)

    def of(self, fact: Fact) -> tuple[Any, ...] | None:
        """The fact's class; ``None`` when no rule looks at its kind."""
        of = self._of.get(fact.KIND)
        return None if of is None else of(fact)


def _classifier(kind: str, getter: Any, cuts: tuple[tuple[int, tuple[int, ...]], ...]) -> Any:
    """One kind's class function; the usual shape (one cut field, the first: ``act_day``) is spelled
    out, because this runs for every fact of every case."""
    if len(cuts) == 1 and cuts[0][0] == 0:
        bounds = cuts[0][1]

        def first(fact: Fact) -> tuple[Any, ...]:
            values = getter(fact)
            value = values[0]
            if type(value) is not int:
                return kind, "raw", values
            return kind, bisect_left(bounds, value) + bisect_right(bounds, value), values[1:]
        return first

    def general(fact: Fact) -> tuple[Any, ...]:
        values = list(getter(fact))
        for i, bounds in cuts:
            value = values[i]
            if type(value) is not int:
                return kind, "raw", tuple(values)
            values[i] = bisect_left(bounds, value) + bisect_right(bounds, value)
        return kind, tuple(values)
    return general


class ClassMemo:
    """durable-rules asked once per fact class (``FactClasses``) and per process; when ``limit`` answers
    are kept, the oldest are forgotten down to half, so memory stays flat however many cases stream past.

    ``run`` takes ``(ref, facts)`` and gives ``(ref, hits or an error text)`` like ``run_batched``: the
    classes not yet known are sent, one real fact each, through ``project`` and ``run_batched`` (so the
    fence above applies to them unchanged); a class the engine fails on is not remembered, and every case
    with a fact of it gets the error.
    """

    def __init__(self, session: DurableSession, classes: FactClasses, fields_by_kind: dict[str, tuple[str, ...]],
                 limit: int = 100_000):
        self.session, self.classes, self._fields, self.limit = session, classes, fields_by_kind, limit
        self._answers: dict[tuple[Any, ...], frozenset[str]] = {}
        self.asked = 0                 # classes sent to the engine so far
        self.facts = 0                 # facts of the cases judged so far

    def run(self, items: Sequence[tuple[Any, Sequence[Fact]]]) -> list[tuple[Any, Hits | str]]:
        answers, of = self._answers, self.classes.of
        if len(answers) >= self.limit:                # forget the oldest, down to half, between calls only
            for stale in list(answers)[:len(answers) - self.limit // 2]:
                del answers[stale]
        get = answers.get
        cases: list[tuple[Any, set[tuple[str, str]] | str, list[tuple[Any, str]]]] = []
        pending: dict[tuple[Any, ...], Fact] = {}
        for ref, facts in items:
            hits: set[tuple[str, str]] = set()
            unknown: list[tuple[Any, str]] = []
            self.facts += len(facts)
            try:
                for fact in facts:
                    cls = of(fact)
                    if cls is None:
                        continue
                    rules = get(cls)
                    if rules is None:
                        pending.setdefault(cls, fact)
                        unknown.append((cls, fact.key))
                    elif rules:
                        for rule_id in rules:
                            hits.add((rule_id, fact.key))
            except TypeError as exc:                 # an unhashable value: it could never be sent either
                cases.append((ref, f"fact not sendable to the rule engine: {exc}", []))
                continue
            cases.append((ref, hits, unknown))
        known = self._ask(pending) if pending else {}
        answers.update((cls, rules) for cls, rules in known.items() if not isinstance(rules, str))
        out: list[tuple[Any, Hits | str]] = []
        for ref, found, unknown in cases:
            for cls, key in unknown:
                rules = known[cls]
                if isinstance(rules, str):
                    found = rules
                    break
                for rule_id in rules:
                    found.add((rule_id, key))                 # type: ignore[union-attr]
            out.append((ref, found if isinstance(found, str) else frozenset(found)))
        return out

    def _ask(self, pending: dict[tuple[Any, ...], Fact]) -> dict[tuple[Any, ...], frozenset[str] | str]:
        known: dict[tuple[Any, ...], frozenset[str] | str] = {}
        sendable: list[tuple[Any, list[dict[str, Any]]]] = []
        for cls, fact in pending.items():
            try:
                sendable.append((cls, project([fact], self._fields)))
            except TypeError as exc:
                known[cls] = f"fact not sendable to the rule engine: {exc}"
        self.asked += len(sendable)
        for cls, hits in run_batched(self.session, sendable):
            known[cls] = hits if isinstance(hits, str) else frozenset(rule_id for rule_id, _ in hits)
        return known


# ------------------------------------------------------------------------------------------ workers

_SESSION: DurableSession | None = None


def _worker_init(rules_json: str) -> None:
    global _SESSION
    _SESSION = DurableSession(json.loads(rules_json))


def _worker_run(chunk: list[tuple[Any, list[dict[str, Any]]]]) -> list[tuple[Any, Hits | str]]:
    assert _SESSION is not None
    return run_batched(_SESSION, chunk)


BATCH = 25                       # cases per durable session (measured best between 10 and 100)


def run_batched(session: DurableSession, items: Sequence[tuple[Any, list[dict[str, Any]]]]
                ) -> list[tuple[Any, Hits | str]]:
    """``(ref, projected facts)`` → ``(ref, hits or an error text)``, ``BATCH`` cases per session; a
    batch the engine fails on is re-run case by case, so an error stays with its own case."""
    out: list[tuple[Any, Hits | str]] = []
    for start in range(0, len(items), BATCH):
        part = items[start:start + BATCH]
        try:
            out.extend(zip((ref for ref, _ in part), session.run_many([facts for _, facts in part])))
            continue
        except Exception:                 # engine error codes: retry each case alone
            pass
        for ref, facts in part:
            facts = [{k: v for k, v in f.items() if k != "sid"} | {"key": f["key"].partition("|")[2] or f["key"]}
                     if "sid" in f else f for f in facts]
            try:
                out.append((ref, session.run(facts)))
            except Exception as exc:
                out.append((ref, f"{type(exc).__name__}: {exc}"))
    return out


class DurablePool:
    """durable-rules in worker processes. ``evaluate`` streams results in input order.

    A worker that dies (segfault, abort) breaks only the chunks in flight; their cases are re-run
    one by one in fresh workers, and a case that kills its worker again is reported as an
    ``EngineFailure`` for that case alone.
    """

    def __init__(self, rulebook: Rulebook, workers: int = 2, chunk_size: int = 200,
                 tasks_per_child: int = 500):
        self._rules_json = json.dumps(compile_ruleset(rulebook.alternatives), ensure_ascii=False)
        self._fields = rulebook.fields_by_kind
        self.workers = max(1, workers)
        self.chunk_size = chunk_size
        self._tasks_per_child = tasks_per_child
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self, workers: int | None = None) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers or self.workers,
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_worker_init, initargs=(self._rules_json,),
                                   max_tasks_per_child=self._tasks_per_child)

    def __enter__(self) -> "DurablePool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def evaluate(self, items: Iterable[tuple[Any, Sequence[Fact]]]) -> Iterator[tuple[Any, Hits | EngineFailure]]:
        """``(ref, facts)`` in → ``(ref, hits or EngineFailure)`` out, same order."""
        projected = ((ref, self._project(ref, facts)) for ref, facts in items)
        yield from self.evaluate_projected(projected)

    def _project(self, ref: Any, facts: Sequence[Fact]) -> list[dict[str, Any]] | EngineFailure:
        try:
            return project(facts, self._fields)
        except TypeError as exc:
            return EngineFailure(str(ref), f"fact not sendable to the rule engine: {exc}")

    def evaluate_projected(self, items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Any, Hits | EngineFailure]]:
        if self._pool is None:
            self._pool = self._new_pool()
        in_flight: deque[tuple[list[tuple[Any, Any]], Future[Any]]] = deque()
        limit = self.workers * 3
        chunk: list[tuple[Any, Any]] = []

        def submit(part: list[tuple[Any, Any]]) -> None:
            assert self._pool is not None
            in_flight.append((part, self._pool.submit(_worker_run, part)))

        def drain(until: int) -> Iterator[tuple[Any, Hits | EngineFailure]]:
            while len(in_flight) > until:
                part, future = in_flight.popleft()
                try:
                    results = future.result()
                except BrokenProcessPool:
                    broken = [part] + [p for p, _ in in_flight]
                    in_flight.clear()
                    self.close()
                    for failed in broken:
                        yield from self._isolate(failed)
                    self._pool = self._new_pool()
                    continue
                for ref, hits in results:
                    yield ref, (EngineFailure(str(ref), f"rule engine error: {hits}") if isinstance(hits, str) else hits)

        for ref, facts in items:
            if isinstance(facts, EngineFailure):
                yield from drain(0)
                yield ref, facts
                continue
            chunk.append((ref, facts))
            if len(chunk) >= self.chunk_size:
                submit(chunk)
                chunk = []
                yield from drain(limit)
        if chunk:
            submit(chunk)
        yield from drain(0)

    def _isolate(self, part: list[tuple[Any, Any]]) -> Iterator[tuple[Any, Hits | EngineFailure]]:
        """Re-run a crashed chunk case by case; a case that crashes a fresh worker fails alone."""
        pool = self._new_pool(1)
        try:
            for ref, facts in part:
                try:
                    ((_, hits),) = pool.submit(_worker_run, [(ref, facts)]).result()
                except BrokenProcessPool:
                    pool.shutdown(wait=True, cancel_futures=True)
                    pool = self._new_pool(1)
                    yield ref, EngineFailure(str(ref), "the rule engine crashed on this case (native crash in "
                                                       "durable-rules); no verdict was given for it")
                    continue
                yield ref, (EngineFailure(str(ref), f"rule engine error: {hits}") if isinstance(hits, str) else hits)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
