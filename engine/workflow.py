"""Workflows as data (``workflows/*.yaml``) on ``transitions``, and the replay of a case's events.

One ``Machine`` per workflow is built once; a single cursor object is its only model and is moved to
the initial state for each case (``set_state``), so replaying a million cases costs constant memory
(attaching many models is O(n²) in transitions 0.9.3). transitions' own behaviour stays in this
module: callers see ``Workflow.replay`` returning plain ``Step`` records, never a ``MachineError``.
A step the machine refuses, an event type the workflow does not know, or an event dated before the
previous one is recorded as not allowed and replay goes on from the same state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import yaml
from transitions import Machine, MachineError

from .errors import DefinitionError
from .model import EVENT_TYPES

__all__ = ["Step", "Workflow", "load_workflows", "default_workflows"]

logging.getLogger("transitions").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Step:
    index: int
    event_type: str
    date_ordinal: int
    state_before: str
    state_after: str
    allowed: bool
    reason: str          # "" | "wrong_state" | "unknown_event" | "date_order"


_MEMO_LIMIT = 65_536          # distinct walks remembered per workflow


class _Cursor:
    """The one model object a workflow's Machine moves; it holds nothing but ``state``."""

    state: str


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    sources: tuple[str, ...]
    dest: str | None
    guards: tuple[str, ...]


class Workflow:
    def __init__(self, spec: dict[str, Any], source: str):
        self.source = source
        self.name = _req(spec, "name", str, source)
        self.title = _req(spec, "title", dict, source)
        self.initial = _req(spec, "initial", str, source)
        states = _req(spec, "states", list, source)
        self.states: list[dict[str, str]] = []
        for i, st in enumerate(states):
            if not isinstance(st, dict) or not isinstance(st.get("name"), str):
                raise DefinitionError(source, f"states[{i}]", "each state needs a name (and zh/en labels)")
            self.states.append({"name": st["name"], "zh": st.get("zh", st["name"]), "en": st.get("en", st["name"])})
        names = [s["name"] for s in self.states]
        if self.initial not in names:
            raise DefinitionError(source, "initial", f"{self.initial!r} is not a state")
        self.transitions: list[TransitionSpec] = []
        for i, tr in enumerate(_req(spec, "transitions", list, source)):
            key = f"transitions[{i}]"
            if not isinstance(tr, dict):
                raise DefinitionError(source, key, "expected a mapping")
            trigger = tr.get("trigger")
            if trigger not in EVENT_TYPES:
                raise DefinitionError(source, key + ".trigger", f"{trigger!r} is not an event type of casecheck/1")
            sources = tr.get("source")
            sources = [sources] if isinstance(sources, str) else sources
            if not sources or any(s not in names for s in sources):
                raise DefinitionError(source, key + ".source", f"unknown state in {sources!r}")
            dest = tr.get("dest")
            if dest is not None and dest not in names:
                raise DefinitionError(source, key + ".dest", f"{dest!r} is not a state")
            guards = tr.get("guards") or []
            if not isinstance(guards, list) or not all(isinstance(g, str) for g in guards):
                raise DefinitionError(source, key + ".guards", "expected a list of rule ids")
            self.transitions.append(TransitionSpec(trigger, tuple(sources), dest, tuple(guards)))
        self.triggers = frozenset(t.trigger for t in self.transitions)
        self._cursor = _Cursor()
        self._walks: dict[tuple[str, tuple[str | None, ...]], tuple[tuple[str, str, bool, str], ...]] = {}
        self._machine = Machine(
            model=self._cursor, states=names, initial=self.initial, auto_transitions=False,
            send_event=False, queued=False,
            transitions=[{"trigger": t.trigger, "source": list(t.sources), "dest": t.dest}
                         for t in self.transitions],
        )

    def guards_for(self, trigger: str) -> tuple[str, ...]:
        out: list[str] = []
        for t in self.transitions:
            if t.trigger == trigger:
                out.extend(g for g in t.guards if g not in out)
        return tuple(out)

    def state_label(self, name: str, lang: str = "zh") -> str:
        for st in self.states:
            if st["name"] == name:
                return st[lang]
        return name

    def replay(self, events: Sequence[tuple[str, int]], start: str | None = None) -> list[Step]:
        """Walk ``(event_type, date_ordinal)`` pairs from ``start`` (default: the initial state).

        The Machine decides every walk; a walk depends only on the start state, the event types and
        which events are out of date order, so each distinct walk is asked of the Machine once and
        remembered (most case files follow a handful of paths; the memo is bounded)."""
        start = start or self.initial
        shape: list[str | None] = []
        last_day = None
        for event_type, day in events:
            if last_day is not None and day < last_day:
                shape.append(None)                     # out of date order: not fed to the Machine
            else:
                last_day = day
                shape.append(event_type)
        key = (start, tuple(shape))
        walk = self._walks.get(key)
        if walk is None:
            walk = self._walk(start, key[1])
            if len(self._walks) >= _MEMO_LIMIT:
                self._walks.clear()
            self._walks[key] = walk
        return [Step(index, event_type, day, *moves)
                for index, ((event_type, day), moves) in enumerate(zip(events, walk))]

    def _walk(self, start: str, shape: tuple[str | None, ...]) -> tuple[tuple[str, str, bool, str], ...]:
        cursor, machine = self._cursor, self._machine
        machine.set_state(start, model=cursor)
        out: list[tuple[str, str, bool, str]] = []
        for event_type in shape:
            before = cursor.state
            if event_type is None:
                out.append((before, before, False, "date_order"))
            elif event_type not in self.triggers:
                out.append((before, before, False, "unknown_event"))
            else:
                try:
                    ok = cursor.trigger(event_type)
                except MachineError:
                    ok = False
                out.append((before, cursor.state, bool(ok), "" if ok else "wrong_state"))
        return tuple(out)

    def path(self, events: Sequence[tuple[str, int]]) -> list[str]:
        """The states a case passed through (for diagrams)."""
        steps = self.replay(events)
        out = [self.initial]
        for s in steps:
            if s.allowed and s.state_after != out[-1]:
                out.append(s.state_after)
        return out


def _req(spec: dict[str, Any], key: str, kind: type, source: str) -> Any:
    value = spec.get(key) if isinstance(spec, dict) else None
    if not isinstance(value, kind):
        raise DefinitionError(source, key, f"missing or not a {kind.__name__}")
    return value


def load_workflows(directory: str | Path) -> dict[str, Workflow]:
    out: dict[str, Workflow] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise DefinitionError(str(path), "<file>", str(exc)) from None
        wf = Workflow(spec, str(path))
        if wf.name != path.stem:
            raise DefinitionError(str(path), "name", f"{wf.name!r} must match the file name {path.stem!r}")
        out[wf.name] = wf
    for needed in ("ordinary", "simple", "inspection"):
        if needed not in out:
            raise DefinitionError(str(directory), needed, "workflow file missing")
    return out


@lru_cache(maxsize=1)
def default_workflows() -> dict[str, Workflow]:
    return load_workflows(Path(str(resources.files("workflows"))))
