"""The case store: SQLite by default, any SQLAlchemy URL (PostgreSQL for a district).

``Store.open(url)`` creates or migrates the schema (Alembic, ``migrations/``) and hands out sessions.
Writers on SQLite serialise per store (``BEGIN IMMEDIATE``: one writer at a time, whatever it writes).

On PostgreSQL the store has one transaction-level advisory lock, the writers' lock (``_LOCK_KEY``):
- ``writing()`` (imports, ``keys seal`` and checkpoints, users, API clients, review runs: anything that reads
  or writes across cases, or needs the whole store quiet) takes it EXCLUSIVE: it waits for every running
  live step and every other such writer, and they wait for it;
- ``writing_case()`` (a live step: ``case record``/``correct``, the web form, the API) takes it SHARED, so
  live steps run side by side, and then serialises only with what touches the same data:
  1. the writers' lock, shared (waits for an exclusive writer; one queued for the lock is not overtaken);
  2. the case's row, ``FOR UPDATE`` (two steps on one case: one after the other; the second sees the
     first's event) — on PostgreSQL 1 and 2 are one statement;
  3. the party's lock: an exclusive transaction advisory lock whose 64-bit key is derived from the party
     id the store keys parties by (``party_lock_key``). The live guard reads the party's other cases (the
     first-offence look-back, the inspection yearly cap): two steps on two cases of one business would
     each judge without the other's event, and both could pass the cap. The party's lock makes them one
     after the other, and the second, whose next statement starts after the lock is granted, reads the
     first one committed.
  The order is always writers' lock → case row → party lock, and a step holds nothing else it could wait
  for (its writes are its own case's rows and fresh keys), so two steps never wait for each other in a
  circle. A step on a case without a party takes no party lock.
- ``writing_new()`` (``case new``, the API's ``POST /cases``: one new case) takes the writers' lock shared,
  then an advisory lock of the case's key (agency and id: two creations of one id are one after the
  other, the second finds the first) and its party's lock (the party row it inserts or updates): the same
  order as a step's, the case key in the row's place.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..errors import CasecheckError

__all__ = ["Store", "default_url", "StoreError", "party_lock_key", "case_lock_key"]

DEFAULT_DB = "casecheck.db"
_LOCK_KEY = 0x43415345      # "CASE": the advisory lock id of casecheck writers on PostgreSQL
_WRITER_LOCK = text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=_LOCK_KEY)
_WRITER_SHARED = text("SELECT pg_advisory_xact_lock_shared(:k)").bindparams(k=_LOCK_KEY)
_PARTY_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def party_lock_key(party_id: str) -> int:
    """The advisory lock key of a party (stable across processes and versions): the first 8 bytes of the
    SHA-256 of its id, as a signed 64-bit integer (PostgreSQL's ``bigint``)."""
    return _key(b"casecheck party\x00" + party_id.encode("utf-8"))


def case_lock_key(agency: str, case_id: str) -> int:
    """The advisory lock key of a case's key (agency, id), for creating it."""
    return _key(b"casecheck case\x00" + agency.encode("utf-8") + b"\x00" + case_id.encode("utf-8"))


def _key(data: bytes) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big", signed=True)


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
    def open(cls, url: str | None = None, *, migrate: bool = True, create: bool = True) -> "Store":
        """``create=False`` (every command that only reads or adds to an existing store): refuse a store
        that does not exist, instead of creating an empty one that reports "intact" and "0 alerts"."""
        url = default_url(url)
        if not create:
            _must_exist(url)
        try:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"timeout": 60})
                _sqlite_transactions(engine)
            else:
                engine = create_engine(url, pool_pre_ping=True)
            store = cls(engine)
            if not create:
                from sqlalchemy import inspect

                with engine.connect() as conn:
                    if not inspect(conn).has_table("alembic_version"):
                        raise StoreError(_missing(url))
            if migrate:
                store.migrate()
        except CasecheckError:
            raise
        except Exception as exc:                       # bad URL, unreachable server, unwritable file
            raise StoreError(f"无法打开案件库 {_safe(url)}：{exc.__class__.__name__}: {exc} / cannot open the store "
                             f"{_safe(url)}: {exc.__class__.__name__}: {exc}") from None
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
        """One write transaction, serialised with every other casecheck writer and every live step (the
        writers' lock exclusive); all or nothing."""
        with self._transaction() as session:
            if not self.is_sqlite:
                session.execute(_WRITER_LOCK)
            yield session

    @contextmanager
    def writing_case(self, case_id: str, agency: str | None = None,
                     session: Session | None = None) -> Iterator[tuple[Session, Any]]:
        """One write transaction on one stored case (a live step). SQLite: the one writer. PostgreSQL: the
        writers' lock shared, the case's row (``CaseRow``) locked, then its party's lock (see the module
        docstring). One statement takes the writers' lock and the row, the writers' lock first: a round
        trip less per step. That statement's snapshot is older than its wait for the writers' lock; the
        row it locks is still the newest (``FOR UPDATE`` follows an update committed meanwhile), and the
        next statements see all the writer it waited for committed. A case that writer stored is not in
        the snapshot, so "not found" is looked up again once the lock is held. The party's lock is its own
        statement, so the statements after it (the look-back) see what the party's previous step committed.

        ``session`` (PostgreSQL; ignored on SQLite, whose writer must begin ``IMMEDIATE``): continue the
        caller's transaction (an API request that looked up its token and case through it) instead of
        checking out another connection: under READ COMMITTED every statement sees what was committed
        before it, so what the step reads after its locks is as fresh as in a transaction of its own; the
        objects that session loaded are dropped first (the locked row is read anew). Committed at the end,
        rolled back on an error, like a transaction of its own."""
        from .repo import CaseNotFound, find_case

        if session is not None and not self.is_sqlite:
            session.expunge_all()
            transaction = self._continuing(session)
        else:
            transaction = self._transaction()
        with transaction as session:
            if self.is_sqlite:
                row = find_case(session, case_id, agency, lock=True)
            else:
                try:
                    row = find_case(session, case_id, agency, lock=True, writer_lock=_LOCK_KEY)
                except CaseNotFound:
                    session.execute(_WRITER_SHARED)
                    row = find_case(session, case_id, agency, lock=True)
                if row.party_id:
                    session.execute(_PARTY_LOCK, {"k": party_lock_key(row.party_id)})
            yield session, row

    @contextmanager
    def writing_new(self, agency: str, case_id: str, party_id: str | None) -> Iterator[Session]:
        """One write transaction that stores one new case: on PostgreSQL the writers' lock shared, the
        case key's lock and its party's lock (see the module docstring); SQLite: the one writer."""
        with self._transaction() as session:
            if not self.is_sqlite:
                session.execute(_WRITER_SHARED)
                session.execute(_PARTY_LOCK, {"k": case_lock_key(agency, case_id)})
                if party_id:
                    session.execute(_PARTY_LOCK, {"k": party_lock_key(party_id)})
            yield session

    @contextmanager
    def _continuing(self, session: Session) -> Iterator[Session]:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with Session(self._writer, expire_on_commit=False) as session:
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


def _missing(url: str) -> str:
    return (f"没有这个案件库 / no casecheck store at {_safe(url)}: 只有 import 与 case new 会新建案件库，请检查 --db / "
            f"only `casecheck import` and `casecheck case new` create one; check --db or CASECHECK_DB")


def _must_exist(url: str) -> None:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if not path or path == ":memory:":
            return
        path = path.split("?", 1)[0]
        if path.startswith("file:"):                 # sqlite:///file:PATH?mode=ro&uri=true
            path = path[5:]
        if not Path(path).is_file():
            raise StoreError(_missing(url))


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
