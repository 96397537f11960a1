"""The seed-matching data sets, generated once per test session into a temporary directory."""

from __future__ import annotations

from pathlib import Path

from fixtures.generate import write_dataset

_made: dict[str, Path] = {}


def dataset(name: str, base: Path) -> Path:
    if name not in _made:
        target = base / name
        write_dataset(name, target)
        _made[name] = target
    return _made[name]
