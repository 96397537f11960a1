from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from engine.calendar import default_calendar
from engine.check import Checker
from engine.rulebook import default_rulebook
from engine.workflow import default_workflows

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def rulebook():
    return default_rulebook()


@pytest.fixture(scope="session")
def calendar():
    return default_calendar()


@pytest.fixture(scope="session")
def workflows():
    return default_workflows()


@pytest.fixture(scope="session")
def make_checker(rulebook, calendar, workflows):
    def make(as_of: str = "2024-12-31", engine: str = "oracle", **kw) -> Checker:
        return Checker(rulebook, calendar, workflows, dt.date.fromisoformat(as_of), engine=engine, **kw)
    return make


def read_expected(directory: Path) -> tuple[str, dict[str, list[str]]]:
    data = yaml.safe_load((directory / "expected.yaml").read_text(encoding="utf-8"))
    return str(data["as_of"]), data["expected"]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A fresh store URL: a SQLite file, and a new database on the real local PostgreSQL 15 (tests/pg.py)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    import pg

    url = pg.create_database()
    yield url
    pg.drop_database(url)
