"""The case store: SQLite by default, any SQLAlchemy URL (PostgreSQL for a district).

``Store.open(url)`` creates or migrates the schema (Alembic, ``migrations/``) and hands out sessions.
Writers serialise per store: ``BEGIN IMMEDIATE`` on SQLite, a transaction-level advisory lock on
PostgreSQL, so two processes importing or recording at once never interleave half-written cases.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..errors import CasecheckError

__all__ = ["Store", "default_url", "StoreError"]

DEFAULT_DB = "casecheck.db"
_LOCK_KEY = 0x43415345      # "CASE": the advisory lock id of casecheck writers on PostgreSQL


class StoreError(CasecheckError):
    pass


def default_url(db: str | None = None) -> str:
    """``--db`` value, else ``CASECHECK_DB``, else ``./casecheck.db``; a plain path means SQLite."""
    value = db or os.environ.get("CASECHECK_DB") or DEFAULT_DB
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).resolve()}"


_MIGRATING = threading.Lock()


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._writer = engine.execution_options(sqlite_immediate=True) if self.is_sqlite else engine

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True) -> "Store":
        url = default_url(url)
        try:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"timeout": 60})
                _sqlite_transactions(engine)
            else:
                engine = create_engine(url, pool_pre_ping=True)
            store = cls(engine)
            if migrate:
                store.migrate()
        except CasecheckError:
            raise
        except Exception as exc:                       # bad URL, unreachable server, unwritable file
            raise StoreError(f"cannot open the store {_safe(url)}: {exc.__class__.__name__}: {exc}") from None
        return store

    def migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("engine.store").joinpath("migrations")))
        with _MIGRATING, self.engine.begin() as conn:    # alembic's context is process-global: one at a time
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY + 1})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One write transaction, serialised with every other casecheck writer; all or nothing."""
        with Session(self._writer, expire_on_commit=False) as session:
            if not self.is_sqlite:
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def _safe(url: str) -> str:
    """The URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 driver, decide when transactions begin (so BEGIN IMMEDIATE works),
    and turn on foreign keys."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        immediate = conn.get_execution_options().get("sqlite_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
