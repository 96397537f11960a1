"""Cases in and out of the store, the hash chain, and ``verify``.

Everything here runs inside a ``Store.writing()`` / ``reading()`` session; nothing commits by itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from sqlalchemy import BigInteger, and_, bindparam, func, insert, or_, text, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from ..errors import CasecheckError, InputProblem
from ..loader import INSPECTION_CAP_FROM, LoadedCase, validate_case
from ..model import CaseFile
from ..persons import certificate_key
from .chain import GENESIS, canonical, digest, event_hash
from .header import header_fix_text
from .tables import CaseRow, ChangeRow, EventRow, OfficerRow, PartyRow

__all__ = ["ImportCache", "put_case", "find_case", "load_case", "load_cases", "load_with_party", "append_event", "iter_cases", "insert_new_cases", "verify", "Broken", "now",
           "case_key", "dump_case"]


class CaseNotFound(CasecheckError):
    pass


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _ts(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat()


def case_key(agency: str, case_id: str) -> str:
    return f"{agency}/{case_id}"


def dump_case(case: CaseFile) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header (everything but the events) and the events, as plain JSON data."""
    data = case.model_dump(mode="json", exclude_none=True)
    events = data.pop("events")
    return data, events


def _content_hash(header: dict[str, Any], events: list[dict[str, Any]]) -> str:
    return digest(canonical({"header": header, "events": events}))


def _state(case: CaseFile, workflows: dict[str, Any]) -> str:
    wf = workflows[case.procedure]
    path = wf.path([(e.type, e.date.toordinal()) for e in case.events])
    return path[-1] if path else wf.initial


def find_case(session: Session, case_id: str, agency: str | None = None, lock: bool = False,
              writer_lock: int | None = None) -> CaseRow:
    """``lock``: hold the row until the transaction ends (PostgreSQL ``FOR UPDATE``; a SQLite writer
    already holds the whole database). ``writer_lock`` (PostgreSQL, with ``lock``): take the writers'
    advisory lock of this key SHARED (a live step: see ``engine.store``) in the same statement, before
    the row lock: the row is joined to the one row of a sub-select that takes the advisory lock, and rows
    are locked only once joined."""
    query = _find_statement(bool(agency), lock, writer_lock is not None)
    params = {"case_id": case_id, "agency": agency, "lock_key": writer_lock}
    rows = session.exec(query, params=params).all()
    if not rows:
        raise CaseNotFound(f"库中没有案件 {case_id!r}" + (f"（执法主体 {agency!r}）" if agency else "") + " / no case "
                           f"{case_id!r}" + (f" of agency {agency!r}" if agency else "") + " in the store")
    if len(rows) > 1:
        raise CaseNotFound(f"案件编号 {case_id!r} 有多个执法主体使用（{'、'.join(r.agency for r in rows)}），请用 --agency "
                           f"指明 / case id {case_id!r} is used by agencies {', '.join(r.agency for r in rows)}; "
                           f"name one with --agency")
    return rows[0]


@functools.cache
def _find_statement(by_agency: bool, lock: bool, writer_lock: bool) -> Any:
    """Built once (a live step's statements are the same every time; building one costs ~50 µs)."""
    query = select(CaseRow).where(CaseRow.case_id == bindparam("case_id"))
    if by_agency:
        query = query.where(CaseRow.agency == bindparam("agency"))
    if writer_lock:
        held = select(func.pg_advisory_xact_lock_shared(bindparam("lock_key", type_=BigInteger)).label("held"))
        query = query.join(held.subquery("writer_lock"), true())
    if lock:
        query = query.with_for_update(of=CaseRow) if writer_lock else query.with_for_update()
    return query


def _events(session: Session, row: CaseRow) -> list[EventRow]:
    return list(session.exec(select(EventRow).where(EventRow.case_pk == row.id).order_by(EventRow.seq)).all())


def load_case(session: Session, row: CaseRow) -> CaseFile:
    return load_cases(session, [row])[0]


def load_cases(session: Session, rows: Sequence[CaseRow]) -> list[CaseFile]:
    """The stored cases of ``rows``, in that order: their events in one query."""
    return [CaseFile.model_validate(raw) for raw in load_raw_cases(session, rows)]


def load_with_party(session: Session, row: CaseRow, party_matter: tuple[str | None, str | None] | None = None,
                    upto: list[int | None] | None = None, before: int | None = None,
                    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The stored case of ``row`` and the other stored cases of its party and matter that have a decision
    (only those can establish an earlier violation), as stored (header with ``events``, not yet
    validated): one query (the live guard's first-offence look-back). ``party_matter``: look back for this
    party id and matter code instead of the row's (a header correction that changes them).

    ``upto``: a one-item list, set to the newest event id read (None when none was). Every event of the
    party is written under the party's lock (or the writers' lock held exclusively), so the events a
    look-back saw are exactly the party's events with ids up to that one: ``before`` (a decision's
    replay) reads the store as it was then — only events with ids up to ``before``, and only the other
    cases whose decision is among them."""
    party_id, matter = party_matter if party_matter is not None else (row.party_id, row.matter_code)
    by_party = bool(party_id and matter)
    params = {"pk": row.id, "party": party_id, "matter": matter, "before": before}
    headers: dict[int, str] = {}
    payloads: dict[int, list[Any]] = {}
    newest: int | None = None
    for case_pk, header, seq, payload, corrects, event_id in session.exec(
            _party_statement(by_party, before is not None), params=params):
        headers[case_pk] = header
        events = payloads.setdefault(case_pk, [])
        if payload is not None:
            events.append((seq, payload, corrects))
            newest = event_id if newest is None else max(newest, event_id)
    if upto is not None:
        upto[0] = newest
    cases = {pk: _as_stored(headers[pk], events) for pk, events in payloads.items()}
    stored = cases.pop(row.id)          # type: ignore[arg-type]
    return stored, list(cases.values())


@functools.cache
def _party_statement(by_party: bool, bounded: bool = False) -> Any:
    join = EventRow.case_pk == CaseRow.id
    if bounded:
        join = and_(join, EventRow.id <= bindparam("before"))
    query = select(CaseRow.id, CaseRow.header, EventRow.seq, EventRow.payload, EventRow.corrects,
                   EventRow.id).outerjoin(EventRow, join)
    this = CaseRow.id == bindparam("pk")
    if by_party:
        decision = aliased(EventRow)
        decided = select(decision.id).where(decision.case_pk == CaseRow.id, decision.type == "decided")
        if bounded:
            decided = decided.where(decision.id <= bindparam("before"))
        this = or_(this, and_(CaseRow.party_id == bindparam("party"), CaseRow.matter_code == bindparam("matter"),
                              decided.correlate(CaseRow).exists()))
    return query.where(this).order_by(CaseRow.id, EventRow.seq)


def _as_stored(header: str, items: Sequence[Any]) -> dict[str, Any]:
    """A case as it stands: its header with its events (``(seq, payload, corrects)`` rows by seq; JSON text
    in, corrections applied — a header correction's header too, see ``header.py`` — not yet validated)."""
    from .header import effective_header

    fixed = effective_header(None, items)
    return {**(json.loads(header) if fixed is None else fixed), "events": [json.loads(p) for p in _effective(items)]}


def load_raw_cases(session: Session, rows: Sequence[CaseRow]) -> list[dict[str, Any]]:
    """The stored cases of ``rows`` as the JSON they were stored as (header with ``events``), not yet
    validated, in that order: their events in one query."""
    if not rows:
        return []
    payloads: dict[int, list[Any]] = {row.id: [] for row in rows}   # type: ignore[misc]
    for case_pk, seq, payload, corrects in session.exec(
            select(EventRow.case_pk, EventRow.seq, EventRow.payload, EventRow.corrects)
            .where(EventRow.case_pk.in_(list(payloads)))       # type: ignore[attr-defined]
            .order_by(EventRow.case_pk, EventRow.seq)):
        payloads[case_pk].append((seq, payload, corrects))
    return [_as_stored(row.header, payloads[row.id]) for row in rows]


class ImportCache:
    """What a bulk import looks up once instead of once per case: the stored cases by key, the parties."""

    def __init__(self, session: Session, keys: list[tuple[str, str]] | None = None,
                 party_ids: list[str] | None = None):
        """Everything stored (``keys`` None), or only the rows of these case keys and these parties."""
        if keys is None:
            rows = session.exec(select(CaseRow)).all()
            parties = session.exec(select(PartyRow)).all()
        else:
            wanted = set(keys)
            rows = [r for part in _chunks(sorted({k[1] for k in wanted}))
                    for r in session.exec(select(CaseRow).where(CaseRow.case_id.in_(part))).all()
                    if (r.agency, r.case_id) in wanted]
            parties = [p for part in _chunks(sorted(set(party_ids or ())))
                       for p in session.exec(select(PartyRow).where(PartyRow.id.in_(part))).all()]
        self.rows = {(r.agency, r.case_id): r for r in rows}
        self.parties: dict[str, PartyRow | None] = {p.id: p for p in parties}
        self.keys: set[tuple[str, str]] = set(self.rows)        # stored case keys, this import's too


def _chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _write_side_rows(session: Session, row: CaseRow, case: CaseFile, is_new: bool,
                     cache: ImportCache | None) -> None:
    if not is_new:
        for old in session.exec(select(OfficerRow).where(OfficerRow.case_pk == row.id)).all():
            session.delete(old)
        session.flush()
    for o in case.officers:
        session.add(OfficerRow(case_pk=row.id, officer_id=o.id, name=o.name, certificate=o.certificate,
                               certificate_valid_until=o.certificate_valid_until,
                               legal_qualification=o.legal_qualification,
                               certificate_key=certificate_key(o.certificate) or None))
    if case.party:
        if cache is None or case.party.id in cache.parties:       # stored (maybe not loaded yet)
            party = (cache.parties.get(case.party.id) if cache else None) or session.get(PartyRow, case.party.id)
        else:
            party = None
        if party is None:
            party = PartyRow(id=case.party.id, kind=case.party.kind, name=case.party.name)
            session.add(party)
            if cache:
                cache.parties[party.id] = party
        else:
            party.kind, party.name = case.party.kind, case.party.name


def _append(session: Session, row: CaseRow, payload: dict[str, Any], actor: str, at: dt.datetime,
            proof: str = "asserted", corrects: int | None = None) -> EventRow:
    seq = row.event_count + 1
    text = canonical(payload)
    h = event_hash(row.head_hash, case_key(row.agency, row.case_id), seq, text, actor, _ts(at), proof, corrects)
    event = EventRow(case_pk=row.id, seq=seq, type=payload["type"], date=dt.date.fromisoformat(payload["date"]),
                     payload=text, recorded_by=actor, recorded_at=at, prev_hash=row.head_hash, hash=h,
                     proof=proof, corrects=corrects)
    session.add(event)
    row.head_hash, row.event_count = h, seq
    return event


def _chained(payloads: list[dict[str, Any]], key: str, head: str, seq: int, actor: str,
             at: dt.datetime, proof: str = "import", encode: Any = canonical) -> tuple[list[dict[str, Any]], str]:
    """Event rows (without ``case_pk``) for ``payloads`` appended after event ``seq`` whose hash is
    ``head``, each hash-chained to the one before; and the new head. ``encode``: ``canonical`` or a faster
    equal (``chain.canonical_dumped`` for model dumps)."""
    rows, stamp = [], _ts(at)
    for seq, payload in enumerate(payloads, seq + 1):
        text = encode(payload)
        h = event_hash(head, key, seq, text, actor, stamp, proof)
        rows.append({"seq": seq, "type": payload["type"], "date": dt.date.fromisoformat(payload["date"]),
                     "payload": text, "recorded_by": actor, "recorded_at": at, "prev_hash": head, "hash": h,
                     "proof": proof, "corrects": None})
        head = h
    return rows, head


def _append_all(session: Session, row: CaseRow, payloads: list[dict[str, Any]], actor: str,
                at: dt.datetime, proof: str = "import") -> None:
    """Chain and insert a case's events in one statement (an import; no ORM objects per event)."""
    rows, head = _chained(payloads, case_key(row.agency, row.case_id), row.head_hash, row.event_count, actor, at,
                          proof)
    if rows:
        session.execute(insert(EventRow), [dict(r, case_pk=row.id) for r in rows])
        row.head_hash, row.event_count = head, rows[-1]["seq"]


def insert_new_cases(session: Session, cases: list[tuple[CaseFile, str]], *, actor: str,
                     workflows: dict[str, Any], cache: ImportCache, deadlines: Any = None) -> None:
    """Store cases not yet in the store, in a few statements per batch instead of a few per case: the
    rows, their hash-chained events, officers, parties, change log and (``deadlines(case)`` → rows)
    deadline rows. Same rows, same hashes as ``put_case``; the caller's transaction makes it atomic."""
    if not cases:
        return
    at = now()
    rows, chained = [], []
    for case, source in cases:
        header, payloads = dump_case(case)
        events, head = _chained(payloads, case_key(case.agency.code, case.case_id), GENESIS, 0, actor, at)
        content = _content_hash(header, payloads)
        rows.append({"agency": case.agency.code, "case_id": case.case_id, "procedure": case.procedure,
                     "party_id": case.party.id if case.party else None,
                     "matter_code": case.matter.code if case.matter else None, "state": _state(case, workflows),
                     "header": canonical(header), "content_hash": content, "head_hash": head,
                     "event_count": len(events), "source": source[:1000], "updated_at": at})
        chained.append((events, content, f"imported from {source}: {len(events)} events"))
    conn = session.connection()              # Core executemany: no ORM bookkeeping per row
    table = CaseRow.__table__
    if _copying(conn):                       # PostgreSQL: ids drawn from the sequence, then one COPY
        ids = sorted(conn.execute(_NEXT_IDS, {"n": len(rows)}).scalars().all())
        _copy(conn, table, [dict(r, id=pk) for pk, r in zip(ids, rows)])
    else:
        ids = [pk for (pk,) in conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                            rows)]
    events, officers, changes, deadline_rows = [], [], [], []
    parties: dict[str, tuple[str, str]] = {}
    for pk, (case, _), (case_events, content, summary) in zip(ids, cases, chained):
        events.extend(dict(e, case_pk=pk) for e in case_events)
        officers.extend({"case_pk": pk, "officer_id": o.id, "name": o.name, "certificate": o.certificate,
                         "certificate_valid_until": o.certificate_valid_until,
                         "legal_qualification": o.legal_qualification,
                         "certificate_key": certificate_key(o.certificate) or None} for o in case.officers)
        changes.append({"case_pk": pk, "at": at, "actor": actor, "kind": "imported", "summary": summary,
                        "old_hash": "", "new_hash": content})
        if case.party:
            parties[case.party.id] = (case.party.kind, case.party.name)
        if deadlines is not None:
            deadline_rows.extend(dict(r, case_pk=pk) for r in deadlines(case))
        cache.keys.add((case.agency.code, case.case_id))
    from .tables import DeadlineRow

    for model, values in ((EventRow, events), (OfficerRow, officers), (ChangeRow, changes),
                          (DeadlineRow, deadline_rows)):
        if values:
            _bulk_insert(conn, model.__table__, values)
    fresh = [{"id": pid, "kind": kind, "name": name} for pid, (kind, name) in parties.items()
             if pid not in cache.parties]
    for pid, (kind, name) in parties.items():
        if pid in cache.parties:
            known = cache.parties[pid] or session.get(PartyRow, pid)
            known.kind, known.name = kind, name
    if fresh:
        _bulk_insert(conn, PartyRow.__table__, fresh)
        cache.parties.update((p["id"], None) for p in fresh)        # stored; loaded only if needed


COPY_ENV = "CASECHECK_NO_COPY"          # set (to anything) to import with INSERT on PostgreSQL too
_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, :n)")


def _copying(conn: Any) -> bool:
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg" and not os.environ.get(COPY_ENV)


def _bulk_insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in the caller's transaction: PostgreSQL's COPY through
    psycopg 3, one executemany elsewhere. Same rows either way; a failure aborts the transaction, so an
    import chunk stays all or nothing."""
    if _copying(conn):
        _copy(conn, table, rows)
    else:
        conn.execute(insert(table), rows)


def _copy(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """``COPY table (columns) FROM STDIN`` on the session's own connection (psycopg 3's ``cursor.copy``):
    the columns are those of the first row, in the table's order; values adapted by psycopg as for INSERT."""
    columns = [c.name for c in table.columns if c.name in rows[0]]
    quoted = ", ".join(f'"{c}"' for c in columns)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row([r[c] for c in columns])
    finally:
        cursor.close()


def put_case(session: Session, case: CaseFile, *, source: str, actor: str,
             workflows: dict[str, Any], cache: ImportCache | None = None, proof: str = "import") -> str:
    """Insert a case not yet stored (``new``); for a stored one, append the events the file adds
    (``updated``, an audit import: no guard) or say ``unchanged``. A stored case is never rewritten: a file
    that contradicts it raises with both versions (``compare_stored``)."""
    header, events = dump_case(case)
    content = _content_hash(header, events)
    key = (case.agency.code, case.case_id)
    if cache is not None:
        row = cache.rows.get(key)
    else:
        row = session.exec(select(CaseRow).where(CaseRow.agency == key[0], CaseRow.case_id == key[1])).first()
    at = now()
    if row is not None:
        if row.content_hash == content:
            return "unchanged"
        stored_header, stored_events = stored_effective(session, row)
        conflicts, extra = compare_stored(row, stored_header, stored_events, case, source,
                                          superseded_headers(session, row, stored_header, case))
        if conflicts:
            raise CasecheckError("\n".join(map(str, conflicts)))
        if not extra:
            return "unchanged"
        append_imported(session, row, as_corrected(case, stored_header, stored_events, extra), extra, source=source,
                        actor=actor, workflows=workflows)
        return "updated"
    row = CaseRow(agency=case.agency.code, case_id=case.case_id, procedure=case.procedure,
                  party_id=case.party.id if case.party else None,
                  matter_code=case.matter.code if case.matter else None, state=_state(case, workflows),
                  header=canonical(header), content_hash=content, head_hash=GENESIS, event_count=0,
                  source=source[:1000], updated_at=at)
    session.add(row)
    session.flush()
    if cache is not None:
        cache.rows[key] = row
    _append_all(session, row, events, actor, at, proof)
    _write_side_rows(session, row, case, True, cache)
    session.add(ChangeRow(case_pk=row.id, at=at, actor=actor, kind="imported",
                          summary=f"imported from {source}: {len(events)} events", old_hash="", new_hash=content))
    return "new"


@dataclass(frozen=True)
class Conflict:
    """A file that contradicts what is stored: both versions, never an overwrite."""

    agency: str
    case_id: str
    source: str
    where: str                  # "event #3" | "header: party" | "event #4 (missing from the file)"
    stored: Any
    file: Any

    def __str__(self) -> str:
        return (f"{self.source} [{self.case_id}]: {self.where}: 文件与已存记录不一致，未覆盖 / the file contradicts the "
                f"stored record, nothing overwritten; 已存 stored: {_brief(self.stored)}；文件 file: {_brief(self.file)}")


def _brief(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else canonical(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def stored_effective(session: Session, row: CaseRow) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the case's events as they stand (corrections applied, the header's too)."""
    from .header import effective_header

    items = session.exec(select(EventRow.seq, EventRow.payload, EventRow.corrects)
                         .where(EventRow.case_pk == row.id).order_by(EventRow.seq)).all()
    fixed = effective_header(None, items)
    return json.loads(row.header) if fixed is None else fixed, [json.loads(p) for p in _effective(items)]


def superseded_headers(session: Session, row: CaseRow, stored_header: dict[str, Any],
                       case: CaseFile) -> list[dict[str, Any]]:
    """The headers a correction has replaced (the stored one, earlier corrections'), when the file's header
    is not the effective one: a file carrying one of them is the case as it was before that correction."""
    from .header import header_versions

    if dump_case(case)[0] == stored_header:
        return []
    return header_versions(session, row)[:-1]


def as_corrected(case: CaseFile, stored_header: dict[str, Any], stored_events: list[dict[str, Any]],
                 extra: list[dict[str, Any]]) -> CaseFile:
    """The case a re-imported file carries further, with the effective (corrected) header."""
    if dump_case(case)[0] == stored_header:
        return case
    return CaseFile.model_validate({**stored_header, "events": stored_events + extra})


def compare_stored(row: CaseRow, stored_header: dict[str, Any], stored_events: list[dict[str, Any]],
                   case: CaseFile, source: str, superseded: Sequence[dict[str, Any]] = ()
                   ) -> tuple[list[Conflict], list[dict[str, Any]]]:
    """What a re-imported file says against the stored case: its conflicts (a header field or an event that
    differs; the first differing event only, since every later one follows from it) and, when there is
    none, the events the store lacks (the file goes further). A file that stops earlier than the store (a
    live step recorded after the file was made) is no conflict: the later stored events stand. Nor is a
    file header among ``superseded`` (``superseded_headers``): the header correction stands."""
    header, events = dump_case(case)
    conflicts = [] if header in superseded else [     # a header corrected since (``header.py``): it stands
        Conflict(row.agency, row.case_id, source, f"header: {k}", stored_header.get(k), header.get(k))
        for k in sorted(set(stored_header) | set(header)) if stored_header.get(k) != header.get(k)]
    for i, (a, b) in enumerate(zip(stored_events, events)):
        if a != b:
            conflicts.append(Conflict(row.agency, row.case_id, source, f"event #{i + 1}", a, b))
            break
    if conflicts:
        return conflicts, []
    return [], events[len(stored_events):]


def append_imported(session: Session, row: CaseRow, case: CaseFile, payloads: list[dict[str, Any]], *,
                    source: str, actor: str, workflows: dict[str, Any]) -> None:
    """Append the events a re-imported file adds to a stored case (audit import: attributed to the importer,
    proof ``import``); nothing stored is touched."""
    at = now()
    first = row.event_count + 1
    _append_all(session, row, payloads, actor, at, "import")
    header, events = dump_case(case)
    old = row.content_hash
    row.content_hash = _content_hash(header, events)
    row.state, row.updated_at = _state(case, workflows), at
    session.add(ChangeRow(case_pk=row.id, at=at, actor=actor, kind="appended",
                          summary=f"re-imported from {source}: events #{first}–#{row.event_count} appended "
                                  f"({len(payloads)})", old_hash=old, new_hash=row.content_hash))


def live_case_pks(session: Session, pks: list[int]) -> set[int]:
    """The cases among ``pks`` that have a live step (recorded with ``case record``, the web or the API)."""
    out: set[int] = set()
    for part in _chunks(sorted(pks)):
        out.update(session.exec(select(ChangeRow.case_pk).where(ChangeRow.case_pk.in_(part),
                                                                ChangeRow.kind == "recorded").distinct()).all())
    return out


def _effective(items: Sequence[Any]) -> list[str]:
    """Event payloads (``(seq, payload, corrects)`` by seq) as they stand: a correction takes the place
    of the event it corrects (the corrected event stays stored and chained)."""
    out: list[str] = []
    at: dict[int, int] = {}
    for seq, payload, corrects in items:
        if corrects is None:
            at[seq] = len(out)
            out.append(payload)
        elif corrects in at:
            out[at[corrects]] = payload
    return out


def changed_fields(old: Any, new: Any) -> list[str]:
    """``field: old → new`` for every leaf that differs between two stored documents (a correction's)."""
    return _changed("", old, new)


def _changed(prefix: str, old: Any, new: Any, path: str = "") -> list[str]:
    """``field: old → new`` for every leaf that differs (mappings walked; lists compared whole)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            out += _changed(prefix, old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        return out
    if old == new:
        return []
    return [f"{prefix}{path}: {_short_value(old)} → {_short_value(new)}"]


def _short_value(value: Any) -> str:
    if value is None:
        return "（空/none）"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


def append_event(session: Session, row: CaseRow, case: CaseFile, payload: dict[str, Any], actor: str,
                 workflows: dict[str, Any], proof: str = "asserted", corrects: int | None = None,
                 note: str = "") -> EventRow:
    """Record one new event at the end of a stored case (the caller has judged it). ``corrects``: the seq
    of the stored event this one corrects (it takes that event's place in the case; both stay stored)."""
    at = now()
    event = _append(session, row, payload, actor, at, proof, corrects)
    header, events = dump_case(case)
    row.content_hash = _content_hash(header, events)
    row.state, row.updated_at = _state(case, workflows), at
    summary = (f"recorded #{event.seq} {payload['type']} of {payload['date']}" if corrects is None else
               f"corrected #{corrects} by #{event.seq} ({payload['type']} of {payload['date']})")
    if note:
        summary += f"; {note}"
    session.add(ChangeRow(case_pk=row.id, at=at, actor=actor, kind="recorded" if corrects is None else "corrected",
                          summary=summary, old_hash="", new_hash=row.content_hash))
    return event


def load_case_range(session: Session, low: int, high: int, agency: str | None = None,
                    partition: tuple[int, int] | None = None, decided_only: bool = False,
                    ) -> tuple[list[LoadedCase], list[InputProblem]]:
    """The stored cases with row ids in [low, high] (of ``agency``; of share ``partition`` = (k, n):
    row id mod n == k; only those with a decision, if ``decided_only``), by row id, in two queries.
    A stored case that no longer validates is a problem, not a crash."""
    query = select(CaseRow).where(CaseRow.id >= low, CaseRow.id <= high)
    if agency:
        query = query.where(CaseRow.agency == agency)
    if partition:
        query = query.where(CaseRow.id % partition[1] == partition[0])
    if decided_only:
        query = query.where(CaseRow.id.in_(select(EventRow.case_pk).where(     # + inspections under the yearly cap
            or_(EventRow.type == "decided", and_(EventRow.type == "inspected",
                                                 EventRow.date >= dt.date.fromisoformat(INSPECTION_CAP_FROM))),
            EventRow.case_pk >= low, EventRow.case_pk <= high)))
    rows = session.exec(query.order_by(CaseRow.id)).all()
    if not rows:
        return [], []
    events: dict[int, list[Any]] = {}
    for case_pk, seq, payload, corrects in session.exec(
            select(EventRow.case_pk, EventRow.seq, EventRow.payload, EventRow.corrects)
            .where(EventRow.case_pk >= rows[0].id, EventRow.case_pk <= rows[-1].id)
            .order_by(EventRow.case_pk, EventRow.seq)):
        events.setdefault(case_pk, []).append((seq, payload, corrects))
    cases, problems = [], []
    for row in rows:
        ref = f"db:{row.agency}/{row.case_id}"
        try:
            raw = _as_stored(row.header, events.get(row.id, ()))
        except ValueError as exc:
            problems.append(InputProblem(ref, row.case_id, "header", f"stored JSON is unreadable: {exc}"))
            continue
        case, found = validate_case(raw, ref)
        problems.extend(found)
        if case is not None:
            cases.append(LoadedCase(case, ref))
    return cases, problems


def iter_cases(session: Session, agency: str | None = None) -> Iterator[tuple[CaseRow, CaseFile]]:
    query = select(CaseRow).order_by(CaseRow.agency, CaseRow.case_id)
    if agency:
        query = query.where(CaseRow.agency == agency)
    for rows in _chunks(session.exec(query).all()):
        yield from zip(rows, load_cases(session, rows))


@dataclass(frozen=True)
class Broken:
    agency: str
    case_id: str
    seq: int | None
    problem: str


def verify(session: Session) -> list[Broken]:
    """Recompute every case's chain: an event changed, removed, inserted or reordered, or a header or
    head edited, breaks it. Returns one entry per broken case (its first break). The full check (derived
    rows, signed checkpoints) is ``engine.store.audit.verify_store``."""
    from .audit import verify_store

    return verify_store(session, derived=False, trail=False).broken


def events_by_case(session: Session, low: int, high: int) -> dict[int, list[Any]]:
    """The event rows (plain rows, with the columns as attributes) of the cases with ids in [low, high]."""
    t = EventRow.__table__
    out: dict[int, list[Any]] = {}
    for e in session.connection().execute(t.select().where(t.c.case_pk >= low, t.c.case_pk <= high)
                                          .order_by(t.c.case_pk, t.c.seq)):
        out.setdefault(e.case_pk, []).append(e)
    return out


EVENT_COLUMNS = "seq, type, date, payload, recorded_by, recorded_at, prev_hash, hash, proof, corrects"


def check_chain(row: Any, events: list[Any], header: Any = None) -> tuple[int | None, str] | None:
    """The first break of one case's chain, or None. ``events``: its event rows by seq, as plain tuples of
    ``EVENT_COLUMNS`` straight from the database driver (dates and times as the driver gives them: objects
    on PostgreSQL, text on SQLite); ``header``: the case header already parsed (saves parsing it twice)."""
    prev = GENESIS
    key = case_key(row.agency, row.case_id)
    loads, utc, hash_of, parse = json.loads, dt.timezone.utc, event_hash, dt.datetime.fromisoformat
    for expected_seq, (seq, type_, date, text, by, at, prev_hash, h, proof, corrects) in enumerate(events, 1):
        if seq != expected_seq:
            return seq, f"event #{expected_seq} is missing (next stored is #{seq})"
        if prev_hash != prev:
            return seq, f"event #{seq} does not follow the event before it (removed, inserted or reordered)"
        try:
            if isinstance(at, str):
                at = parse(at)
            if at.utcoffset():
                at = at.astimezone(utc)
        except (ValueError, TypeError, AttributeError):
            return seq, f"event #{seq}: its recording time {at!r} is unreadable (changed outside casecheck)"
        if hash_of(prev, key, seq, text, by, at.isoformat(timespec="seconds")[:19], proof, corrects) != h:
            return seq, f"event #{seq} ({type_} {date}) was changed after it was recorded"
        try:
            payload = loads(text)
        except ValueError:
            return seq, f"event #{seq} is not valid JSON"
        if not isinstance(date, str):
            date = date.isoformat()
        if payload.get("type") != type_ or payload.get("date") != date:
            return seq, f"event #{seq}: its type/date columns differ from the recorded event"
        prev = h
    if len(events) != row.event_count or prev != row.head_hash:
        return None, (f"the case records {row.event_count} events ending in {row.head_hash[:12]}…, "
                      f"the store holds {len(events)} ending in {prev[:12]}… (events removed or added)")
    return content_problem(row, events, header)


def content_problem(row: Any, events: list[Any], header: Any = None) -> tuple[None, str] | None:
    """Whether the case row's content hash is its (effective) header's and its effective events', the
    chain already checked: ``(None, problem)`` or None. ``events``: rows of ``EVENT_COLUMNS``; ``header``:
    the stored header already parsed, if it was. Shared by ``check_chain`` and ``audit._chain``."""
    effective = _effective([(e[0], e[3], e[9]) for e in events])
    header_text = row.header
    fix = header_fix_text(events, 3, 9)                   # a header correction: its header is the case's
    if fix is not None:
        fixed = json.loads(fix).get("header")
        if not isinstance(fixed, dict):
            return None, "a header correction carries no header (changed outside casecheck)"
        header, header_text = fixed, canonical(fixed)
    # The stored header and payloads are canonical JSON (written by ``canonical``): the content hash of
    # header and effective events is their concatenation's, no parsing and re-encoding. Only when that
    # differs is the header parsed and the hash computed the long way (a store whose text is not canonical).
    if digest('{"events":[' + ",".join(effective) + '],"header":' + header_text + "}") == row.content_hash:
        return None
    try:
        header = json.loads(row.header) if header is None else header
    except ValueError:
        return None, "the case header is not valid JSON (changed outside casecheck)"
    if _content_hash(header, [json.loads(p) for p in effective]) != row.content_hash:
        return None, "the case header was changed outside casecheck"
    return None


def raw_rows(session: Session, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """``sql`` (``?`` placeholders) on the session's own connection and transaction, through the database
    driver's cursor: plain tuples, none of SQLAlchemy's per-row processing (``verify`` reads every row)."""
    conn = session.connection()
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def event_tuples(session: Session, low: int, high: int) -> dict[int, list[tuple[Any, ...]]]:
    """The events of the cases with ids in [low, high] as ``check_chain`` takes them, by case."""
    out: dict[int, list[tuple[Any, ...]]] = {}
    for r in raw_rows(session, f"SELECT case_pk, {EVENT_COLUMNS} FROM events WHERE case_pk >= ? AND case_pk <= ? "
                               f"ORDER BY case_pk, seq", low, high):
        out.setdefault(r[0], []).append(r[1:])
    return out


def save_run(session: Session, result: Any, kind: str, engine_version: str, *, scope: str | None = None,
             agency: str | None = None, case_ids: set[str] | None = None) -> int:
    """Keep a run over stored cases and its findings (with due dates). A review keeps its quarter
    (``scope``) and only the findings of the files it reviewed (``case_ids``)."""
    from .tables import FindingRow, RunRow

    run = RunRow(kind=kind, started_at=now(), as_of=result.as_of, profile=result.profile,
                 rules_version=result.rules_version, engine_version=engine_version,
                 cases=len(result.cases) if case_ids is None else len(case_ids), scope=scope, agency=agency)
    session.add(run)
    session.flush()
    wanted = sorted({f.case_id for f in result.findings})
    ids: dict[tuple[str, str], int] = {}
    for start in range(0, len(wanted), 500):       # only the rows with findings, ids only
        part = wanted[start:start + 500]
        for pk, agency_code, case_id in session.exec(
                select(CaseRow.id, CaseRow.agency, CaseRow.case_id).where(CaseRow.case_id.in_(part))):
            ids[(agency_code, case_id)] = pk
    for f in result.findings:
        if case_ids is not None and f.case_id not in case_ids:
            continue
        session.add(FindingRow(run_id=run.id, case_pk=ids[(f.agency, f.case_id)], rule_id=f.rule_id,
                               severity=f.severity, category=f.category, deduction=f.deduction, veto=f.veto,
                               due=dt.date.fromisoformat(f.due) if f.due else None, fact=f.fact,
                               message=f.message, basis=f.basis))
    if kind == "check":                             # each judged case's verdict, for the case list (issue 21)
        from .case_checks import note_check_run

        note_check_run(session, run.id, run.started_at, result.as_of, ((c.agency, c.case_id, len(c.findings))
                       for c in result.cases if c.problem is None and c.failure is None))
    return run.id


def load_review(store: Any, quarter: str, agency: str | None = None) -> dict[str, set[str]] | None:
    """Case id → rule ids of the latest stored review of ``quarter`` (same agency scope), or None."""
    from .tables import FindingRow, RunRow

    with store.reading() as session:
        query = select(RunRow).where(RunRow.kind == "review", RunRow.scope == quarter)
        query = query.where(RunRow.agency == agency) if agency else query.where(RunRow.agency.is_(None))
        run = session.exec(query.order_by(RunRow.id.desc())).first()
        if run is None:
            return None
        out: dict[str, set[str]] = {}
        rows = session.exec(select(CaseRow.case_id, FindingRow.rule_id)
                            .join(CaseRow, CaseRow.id == FindingRow.case_pk).where(FindingRow.run_id == run.id))
        for case_id, rule_id in rows:
            out.setdefault(case_id, set()).add(rule_id)
        return out


@dataclass(frozen=True)
class StoredEvent:
    """An event as ``append_step`` stored it (the ``EventRow`` fields a caller reads back, without an ORM
    object: a live step builds none)."""

    id: int | None
    case_pk: int
    seq: int
    type: str
    date: dt.date
    payload: str
    recorded_by: str
    recorded_at: dt.datetime
    prev_hash: str
    hash: str
    proof: str
    corrects: int | None = None


def append_step(session: Session, row: CaseRow, case: CaseFile, payload: dict[str, Any], actor: str,
                workflows: dict[str, Any], deadlines: list[dict[str, Any]], *, proof: str = "asserted",
                corrects: int | None = None, note: str = "") -> StoredEvent:
    """``append_event`` and ``refresh_deadlines`` of a live step in one go, as Core statements (no ORM
    unit of work): the same rows, the same hashes. On PostgreSQL one statement writes the event, the
    case row, the change log and the case's deadline rows (``deadlines``, from ``deadline_rows_for``:
    replaced whole, as ``refresh_deadlines`` does); elsewhere one statement each. ``row`` (locked by the
    caller) is brought up to date without being marked dirty (nothing is flushed for it again)."""
    from sqlalchemy.orm.attributes import set_committed_value

    at = now()
    seq = row.event_count + 1
    text_ = canonical(payload)
    key = case_key(row.agency, row.case_id)
    h = event_hash(row.head_hash, key, seq, text_, actor, _ts(at), proof, corrects)
    header, events = dump_case(case)
    content = _content_hash(header, events)
    state = _state(case, workflows)
    summary = (f"recorded #{seq} {payload['type']} of {payload['date']}" if corrects is None else
               f"corrected #{corrects} by #{seq} ({payload['type']} of {payload['date']})")
    if note:
        summary += f"; {note}"
    event = {"case_pk": row.id, "seq": seq, "type": payload["type"], "date": dt.date.fromisoformat(payload["date"]),
             "payload": text_, "recorded_by": actor, "recorded_at": at, "prev_hash": row.head_hash, "hash": h,
             "proof": proof, "corrects": corrects}
    change = {"case_pk": row.id, "at": at, "actor": actor, "kind": "recorded" if corrects is None else "corrected",
              "summary": summary, "old_hash": "", "new_hash": content}
    case_values = {"pk": row.id, "state": state, "content_hash": content, "head_hash": h, "event_count": seq,
                   "updated_at": at}
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        columns = _DEADLINE_COLUMNS
        arrays = {f"d_{c}": [d.get(c) for d in deadlines] for c in columns}
        event_id = conn.execute(_step_statement(), {**{f"e_{k}": v for k, v in event.items()},
                                                     **{f"c_{k}": v for k, v in change.items()},
                                                     **case_values, **arrays}).scalar_one()
    else:
        from .tables import DeadlineRow

        event_id = conn.execute(insert(EventRow.__table__).returning(EventRow.__table__.c.id), event).scalar_one()
        conn.execute(_update_case_statement(), case_values)
        conn.execute(insert(ChangeRow.__table__), change)
        conn.execute(DeadlineRow.__table__.delete().where(DeadlineRow.__table__.c.case_pk == row.id))
        if deadlines:
            conn.execute(insert(DeadlineRow.__table__), [dict(d, case_pk=row.id) for d in deadlines])
    for name in ("state", "content_hash", "head_hash", "event_count", "updated_at"):
        set_committed_value(row, name, case_values[name])
    return StoredEvent(id=event_id, **event)


_DEADLINE_COLUMNS = ("code", "platform", "start", "due", "open_until", "officers")


@functools.cache
def _update_case_statement() -> Any:
    table = CaseRow.__table__
    return (table.update().where(table.c.id == bindparam("pk"))
            .values(state=bindparam("state"), content_hash=bindparam("content_hash"),
                    head_hash=bindparam("head_hash"), event_count=bindparam("event_count"),
                    updated_at=bindparam("updated_at")))


@functools.cache
def _step_statement() -> Any:
    """PostgreSQL: a live step's writes as one statement of data-modifying CTEs (each runs exactly once,
    whatever the outer query reads). The deadline rows are replaced: the DELETE sees the statement's
    snapshot (the case's old rows), not the rows the INSERT beside it adds. Returns the event's id."""
    from sqlalchemy import Date, Integer, String
    from sqlalchemy.dialects.postgresql import ARRAY

    e = ("case_pk", "seq", "type", "date", "payload", "recorded_by", "recorded_at", "prev_hash", "hash", "proof",
         "corrects")
    c = ("case_pk", "at", "actor", "kind", "summary", "old_hash", "new_hash")
    sql = text(
        "WITH ev AS (INSERT INTO events (" + ", ".join(e) + ") VALUES (" + ", ".join(f":e_{k}" for k in e)
        + ") RETURNING id), "
        "up AS (UPDATE cases SET state = :state, content_hash = :content_hash, head_hash = :head_hash, "
        "event_count = :event_count, updated_at = :updated_at WHERE id = :pk), "
        "ch AS (INSERT INTO changes (" + ", ".join(c) + ") VALUES (" + ", ".join(f":c_{k}" for k in c) + ")), "
        "gone AS (DELETE FROM deadlines WHERE case_pk = :pk), "
        "dl AS (INSERT INTO deadlines (case_pk, " + ", ".join(_DEADLINE_COLUMNS) + ") "
        "SELECT :pk, * FROM unnest(:d_code, :d_platform, :d_start, :d_due, :d_open_until, :d_officers)) "
        "SELECT id FROM ev")
    events, changes, cases = EventRow.__table__.c, ChangeRow.__table__.c, CaseRow.__table__.c
    when = events.recorded_at.type                      # the columns' own types (UTC date-times)
    return sql.bindparams(
        bindparam("e_case_pk", type_=Integer), bindparam("e_seq", type_=Integer), bindparam("e_date", type_=Date),
        bindparam("e_recorded_at", type_=when), bindparam("e_corrects", type_=Integer),
        bindparam("c_case_pk", type_=Integer), bindparam("c_at", type_=changes.at.type), bindparam("pk", type_=Integer),
        bindparam("event_count", type_=Integer), bindparam("updated_at", type_=cases.updated_at.type),
        bindparam("d_code", type_=ARRAY(String)), bindparam("d_platform", type_=ARRAY(String)),
        bindparam("d_start", type_=ARRAY(Date)), bindparam("d_due", type_=ARRAY(Date)),
        bindparam("d_open_until", type_=ARRAY(Date)), bindparam("d_officers", type_=ARRAY(String)))
