"""Random facts whose condition fields sit on and around the constants the rules compare them with."""

from __future__ import annotations

import dataclasses
import random

from engine.facts import FACT_KINDS, Fact, condition_fields


def interesting(rulebook, spread: int = 1) -> dict[tuple[str, str], set]:
    """Per (kind, field): the constants rules compare it with, and integers up to ``spread`` either side."""
    values: dict[tuple[str, str], set] = {}
    for alt in rulebook.alternatives:
        for name, _, value in alt.all_conditions():
            bucket = values.setdefault((alt.kind, name), set())
            bucket.update(range(value - spread, value + spread + 1) if type(value) is int else {value})
    return values


def random_fact(rng: random.Random, rulebook, near: dict[tuple[str, str], set], key: str = "f0",
                on_constants: float = 0.8) -> Fact:
    """A fact of a random kind; each field on/near a constant with probability ``on_constants``."""
    kind = rng.choice(sorted(rulebook.fields_by_kind))
    values = {}
    for name, typ in condition_fields(kind).items():
        pool = sorted(near.get((kind, name), set()), key=repr)
        if typ is bool:
            values[name] = rng.random() < 0.5
        elif typ is int:
            values[name] = rng.choice(pool) if pool and rng.random() < on_constants else rng.randint(-5, 800_000)
        else:
            values[name] = rng.choice(pool) if pool and rng.random() < on_constants else rng.choice(["", "x", "其他"])
    cls = FACT_KINDS[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(key=key, **{k: v for k, v in values.items() if k in names})
