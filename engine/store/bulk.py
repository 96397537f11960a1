"""New cases of an import, made into rows where they are read (in the ingest workers) and written by the parent.

Everything a new case's rows hold is known without the store: its header as canonical JSON, content hash,
workflow state, hash-chained events (a new case's chain starts at ``GENESIS``; its events are recorded by the
import's actor at one time, taken once before the input is read), officers, change-log entry, deadline rows and
party. ``prepare_cases`` computes them in the worker that validated the case, ``insert_prepared`` writes a batch
of them in a few bulk statements (PostgreSQL COPY, SQLite one ``executemany`` per table straight on the driver's
cursor) in the caller's transaction. The rows are byte for byte those of ``repo.insert_new_cases`` (the
reference path, still used for a batch of ``CaseFile`` objects; ``tests/test_import_fast.py`` compares the
two on both stores).

Which of the cases are new is known only to the parent (the store is not read in the workers): a case that
turns out to be stored already is re-imported from ``PreparedCase.load()``: the case validated anew from its
canonical JSON (the worker's validated case is not carried: pickling it cost a tenth of an import).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from sqlalchemy import insert

from ..errors import CasecheckError
from ..loader import LoadedCase
from ..persons import certificate_key
from .chain import GENESIS, canonical_dumped, digest
from .tables import CaseRow, ChangeRow, DeadlineRow, EventRow, OfficerRow, PartyRow

__all__ = ["PreparedCase", "prepare_cases", "insert_prepared"]

CASE_COLUMNS = ("agency", "case_id", "procedure", "party_id", "matter_code", "state", "header", "content_hash",
                "head_hash", "event_count", "source", "updated_at")
EVENT_COLUMNS = ("case_pk", "seq", "type", "date", "payload", "recorded_by", "recorded_at", "prev_hash", "hash",
                 "proof", "corrects")
OFFICER_COLUMNS = ("case_pk", "officer_id", "name", "certificate", "certificate_valid_until", "legal_qualification",
                   "certificate_key")
CHANGE_COLUMNS = ("case_pk", "at", "actor", "kind", "summary", "old_hash", "new_hash")
DEADLINE_COLUMNS = ("case_pk", "code", "platform", "start", "due", "open_until", "officers")
PARTY_COLUMNS = ("id", "kind", "name")


class PreparedCase(NamedTuple):
    """One valid case of the input with the rows it would be stored as if it is new (tuples in the
    ``*_COLUMNS`` order, without ``case_pk``: the parent draws the case's id)."""

    agency: str
    case_id: str
    file: str                          # where it was read (``LoadedCase.file``, ``index``)
    index: int | None
    case: tuple[Any, ...]              # CASE_COLUMNS
    events: list[tuple[Any, ...]]      # EVENT_COLUMNS[1:]
    officers: list[tuple[Any, ...]]    # OFFICER_COLUMNS[1:]
    change: tuple[Any, ...]            # CHANGE_COLUMNS[1:]
    deadlines: list[tuple[Any, ...]]   # DEADLINE_COLUMNS[1:]
    party: tuple[str, str, str] | None  # PARTY_COLUMNS

    @property
    def content_hash(self) -> str:
        return self.case[7]

    def load(self) -> LoadedCase:
        """The validated case again, for a case that turns out to be stored already (a re-import): validated
        anew from the canonical JSON it was dumped to, as a stored case is read back (``repo.load_case_range``)."""
        from ..loader import validate_case
        from .repo import _as_stored

        ref = LoadedCase(None, self.file, self.index).ref        # type: ignore[arg-type]
        case, problems = validate_case(_as_stored(self.case[6], [(e[0], e[3], None) for e in self.events]), ref)
        if case is None or problems:                    # a valid case's canonical form is valid: never here
            raise CasecheckError(f"{ref}: the validated case does not validate again: {problems[:3]}")
        return LoadedCase(case, self.file, self.index)


_CONTEXT: list[Any] = []                 # [profile, workflows, ctx] of the last call


def _context(profile: Any) -> tuple[dict[str, Any], Any]:
    """The workflows and the deadline rows' fact context, built once per process (per profile)."""
    if not _CONTEXT or _CONTEXT[0] != profile:
        from ..calendar import default_calendar
        from ..facts import FactContext
        from ..profile import load_profile
        from ..workflow import default_workflows

        workflows = default_workflows()           # as ``engine.cases._deadline_context`` (the as-of day unused)
        ctx = FactContext(default_calendar(), dt.date.today(), profile or load_profile(), workflows)
        _CONTEXT[:] = [profile, workflows, ctx]
    return _CONTEXT[1], _CONTEXT[2]


def prepare_cases(cases: list[LoadedCase], actor: str, at: dt.datetime, profile: Any = None) -> list[PreparedCase]:
    """The rows of each case as ``repo.insert_new_cases`` would store it (``at``: the import's one time)."""
    from .deadlines import deadline_rows_for
    from .repo import _chained, _state, case_key, dump_case

    workflows, ctx = _context(profile)
    out = []
    for item in cases:
        case, source = item.case, item.ref
        header, payloads = dump_case(case)
        events, head = _chained(payloads, case_key(case.agency.code, case.case_id), GENESIS, 0, actor, at,
                                encode=canonical_dumped)
        header_text = canonical_dumped(header)
        content = content_digest(header_text, [e["payload"] for e in events])
        row = (case.agency.code, case.case_id, case.procedure, case.party.id if case.party else None,
               case.matter.code if case.matter else None, _state(case, workflows), header_text, content,
               head, len(events), source[:1000], at)
        out.append(PreparedCase(
            case.agency.code, case.case_id, item.file, item.index, row,
            [tuple(e[c] for c in EVENT_COLUMNS[1:]) for e in events],
            [(o.id, o.name, o.certificate, o.certificate_valid_until, o.legal_qualification,
              certificate_key(o.certificate) or None) for o in case.officers],
            (at, actor, "imported", f"imported from {source}: {len(events)} events", "", content),
            [tuple(r[c] for c in DEADLINE_COLUMNS[1:]) for r in deadline_rows_for(case, ctx)],
            (case.party.id, case.party.kind, case.party.name) if case.party else None))
    return out


def content_digest(header_text: str, payload_texts: list[str]) -> str:
    """``repo._content_hash(header, events)`` from their canonical texts, without encoding them again: the
    canonical JSON of ``{"events": [...], "header": {...}}`` is the concatenation of its parts' (keys sorted,
    no spaces), which ``repo.check_chain`` relies on too."""
    return digest('{"events":[' + ",".join(payload_texts) + '],"header":' + header_text + "}")


def insert_prepared(session: Any, items: list[PreparedCase], cache: Any) -> None:
    """Store prepared new cases (none of them stored yet) in the caller's transaction: the case rows, then
    their events, officers, change log and deadline rows, then the parties (new ones inserted, known ones
    updated as ``insert_new_cases`` does). A row the database refuses aborts the transaction."""
    if not items:
        return
    from .repo import _NEXT_IDS, _copying

    conn = session.connection()
    copying = _copying(conn)
    if copying:                                  # PostgreSQL: ids drawn from the sequence, then one COPY
        ids = sorted(conn.execute(_NEXT_IDS, {"n": len(items)}).scalars().all())
        _copy(conn, "cases", ("id",) + CASE_COLUMNS, [(pk, *p.case) for pk, p in zip(ids, items)])
    elif conn.dialect.name == "sqlite":          # the one writer: ids follow the largest, checked below
        before = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM cases").scalar_one()
        _execute_many(conn, CaseRow.__table__, CASE_COLUMNS, [p.case for p in items])
        got = conn.exec_driver_sql(f"SELECT id, agency, case_id FROM cases WHERE id > {int(before)} ORDER BY id").all()
        if [(a, c) for _, a, c in got] != [(p.agency, p.case_id) for p in items]:
            raise CasecheckError("the store assigned case ids out of order during an import; nothing was stored")
        ids = [pk for pk, _, _ in got]
    else:
        table = CaseRow.__table__
        ids = [pk for (pk,) in conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                            [dict(zip(CASE_COLUMNS, p.case)) for p in items])]
    events, officers, changes, deadlines = [], [], [], []
    parties: dict[str, tuple[str, str]] = {}
    for pk, p in zip(ids, items):
        events.extend((pk, *e) for e in p.events)
        officers.extend((pk, *o) for o in p.officers)
        changes.append((pk, *p.change))
        deadlines.extend((pk, *d) for d in p.deadlines)
        if p.party:
            parties[p.party[0]] = (p.party[1], p.party[2])
        cache.keys.add((p.agency, p.case_id))
    for model, columns, values in ((EventRow, EVENT_COLUMNS, events), (OfficerRow, OFFICER_COLUMNS, officers),
                                   (ChangeRow, CHANGE_COLUMNS, changes), (DeadlineRow, DEADLINE_COLUMNS, deadlines)):
        if values:
            _bulk(conn, copying, model.__table__, columns, values)
    fresh = [(pid, kind, name) for pid, (kind, name) in parties.items() if pid not in cache.parties]
    for pid, (kind, name) in parties.items():
        if pid in cache.parties:
            known = cache.parties[pid] or session.get(PartyRow, pid)
            known.kind, known.name = kind, name
    if fresh:
        _bulk(conn, copying, PartyRow.__table__, PARTY_COLUMNS, fresh)
        cache.parties.update((pid, None) for pid, _, _ in fresh)        # stored; loaded only if needed


def _bulk(conn: Any, copying: bool, table: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    if copying:
        _copy(conn, table.name, columns, rows)
    elif conn.dialect.name == "sqlite":
        _execute_many(conn, table, columns, rows)
    else:                                        # PostgreSQL without COPY (CASECHECK_NO_COPY): SQLAlchemy's INSERT
        conn.execute(insert(table), [dict(zip(columns, r)) for r in rows])


def _copy(conn: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """``COPY table (columns) FROM STDIN`` on the session's own connection (psycopg 3), values adapted by
    psycopg exactly as ``repo._copy`` has them adapted."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
            write = copy.write_row
            for r in rows:
                write(r)
    finally:
        cursor.close()


def _execute_many(conn: Any, table: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """One ``executemany`` on the driver's cursor (SQLite), each value through the column type's own bind
    processor: the values SQLAlchemy's ``insert(table)`` would send, without its per-row bookkeeping."""
    processors = [(i, p, {}) for i, c in enumerate(columns)
                  if (p := table.c[c].type._cached_bind_processor(conn.dialect)) is not None]
    if processors:                 # dates and times: few distinct values (one import time), each processed once
        out = []
        for r in rows:
            r = list(r)
            for i, p, seen in processors:
                v = r[i]
                try:
                    r[i] = seen[v]
                except KeyError:
                    r[i] = seen[v] = p(v)
            out.append(r)
        rows = out                                                     # type: ignore[assignment]
    sql = (f'INSERT INTO "{table.name}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) '
           f'VALUES ({", ".join("?" * len(columns))})')
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()

