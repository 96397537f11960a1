"""Cases in and out of the store, the hash chain, and ``verify``.

Everything here runs inside a ``Store.writing()`` / ``reading()`` session; nothing commits by itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from sqlalchemy import BigInteger, and_, bindparam, func, insert, or_, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from ..errors import CasecheckError, InputProblem
from ..loader import LoadedCase, validate_case
from ..model import CaseFile
from .chain import GENESIS, canonical, digest, event_hash
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
    advisory lock of this key in the same statement, before the row lock: the row is joined to the one
    row of a sub-select that takes the advisory lock, and rows are locked only once joined."""
    query = _find_statement(bool(agency), lock, writer_lock is not None)
    params = {"case_id": case_id, "agency": agency, "lock_key": writer_lock}
    rows = session.exec(query, params=params).all()
    if not rows:
        raise CaseNotFound(f"no case {case_id!r}" + (f" of agency {agency!r}" if agency else "") + " in the store")
    if len(rows) > 1:
        raise CaseNotFound(f"case id {case_id!r} is used by agencies {', '.join(r.agency for r in rows)}; "
                           f"name one with --agency")
    return rows[0]


@functools.cache
def _find_statement(by_agency: bool, lock: bool, writer_lock: bool) -> Any:
    """Built once (a live step's statements are the same every time; building one costs ~50 µs)."""
    query = select(CaseRow).where(CaseRow.case_id == bindparam("case_id"))
    if by_agency:
        query = query.where(CaseRow.agency == bindparam("agency"))
    if writer_lock:
        held = select(func.pg_advisory_xact_lock(bindparam("lock_key", type_=BigInteger)).label("held"))
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


def load_with_party(session: Session, row: CaseRow) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The stored case of ``row`` and the other stored cases of its party and matter that have a decision
    (only those can establish an earlier violation), as stored (header with ``events``, not yet
    validated): one query (the live guard's first-offence look-back)."""
    by_party = bool(row.party_id and row.matter_code)
    params = {"pk": row.id, "party": row.party_id, "matter": row.matter_code}
    headers: dict[int, str] = {}
    payloads: dict[int, list[str]] = {}
    for case_pk, header, payload in session.exec(_party_statement(by_party), params=params):
        headers[case_pk] = header
        events = payloads.setdefault(case_pk, [])
        if payload is not None:
            events.append(payload)
    cases = {pk: _as_stored(headers[pk], events) for pk, events in payloads.items()}
    stored = cases.pop(row.id)          # type: ignore[arg-type]
    return stored, list(cases.values())


@functools.cache
def _party_statement(by_party: bool) -> Any:
    query = select(CaseRow.id, CaseRow.header, EventRow.payload).outerjoin(EventRow, EventRow.case_pk == CaseRow.id)
    this = CaseRow.id == bindparam("pk")
    if by_party:
        decision = aliased(EventRow)
        decided = (select(decision.id).where(decision.case_pk == CaseRow.id, decision.type == "decided")
                   .correlate(CaseRow).exists())
        this = or_(this, and_(CaseRow.party_id == bindparam("party"), CaseRow.matter_code == bindparam("matter"),
                              decided))
    return query.where(this).order_by(CaseRow.id, EventRow.seq)


def _as_stored(header: str, payloads: Sequence[str]) -> dict[str, Any]:
    """A case as it was stored: its header with its events (JSON text in, not yet validated)."""
    return {**json.loads(header), "events": [json.loads(p) for p in payloads]}


def load_raw_cases(session: Session, rows: Sequence[CaseRow]) -> list[dict[str, Any]]:
    """The stored cases of ``rows`` as the JSON they were stored as (header with ``events``), not yet
    validated, in that order: their events in one query."""
    if not rows:
        return []
    payloads: dict[int, list[str]] = {row.id: [] for row in rows}   # type: ignore[misc]
    for case_pk, payload in session.exec(select(EventRow.case_pk, EventRow.payload)
                                         .where(EventRow.case_pk.in_(list(payloads)))       # type: ignore[attr-defined]
                                         .order_by(EventRow.case_pk, EventRow.seq)):
        payloads[case_pk].append(payload)
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
                               legal_qualification=o.legal_qualification))
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


def _append(session: Session, row: CaseRow, payload: dict[str, Any], actor: str, at: dt.datetime) -> EventRow:
    seq = row.event_count + 1
    text = canonical(payload)
    h = event_hash(row.head_hash, case_key(row.agency, row.case_id), seq, text, actor, _ts(at))
    event = EventRow(case_pk=row.id, seq=seq, type=payload["type"], date=dt.date.fromisoformat(payload["date"]),
                     payload=text, recorded_by=actor, recorded_at=at, prev_hash=row.head_hash, hash=h)
    session.add(event)
    row.head_hash, row.event_count = h, seq
    return event


def _chained(payloads: list[dict[str, Any]], key: str, head: str, seq: int, actor: str,
             at: dt.datetime) -> tuple[list[dict[str, Any]], str]:
    """Event rows (without ``case_pk``) for ``payloads`` appended after event ``seq`` whose hash is
    ``head``, each hash-chained to the one before; and the new head."""
    rows, stamp = [], _ts(at)
    for seq, payload in enumerate(payloads, seq + 1):
        text = canonical(payload)
        h = event_hash(head, key, seq, text, actor, stamp)
        rows.append({"seq": seq, "type": payload["type"], "date": dt.date.fromisoformat(payload["date"]),
                     "payload": text, "recorded_by": actor, "recorded_at": at, "prev_hash": head, "hash": h})
        head = h
    return rows, head


def _append_all(session: Session, row: CaseRow, payloads: list[dict[str, Any]], actor: str,
                at: dt.datetime) -> None:
    """Chain and insert a case's events in one statement (an import; no ORM objects per event)."""
    rows, head = _chained(payloads, case_key(row.agency, row.case_id), row.head_hash, row.event_count, actor, at)
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
    ids = [pk for (pk,) in session.execute(
        insert(CaseRow).returning(CaseRow.id, sort_by_parameter_order=True), rows)]
    events, officers, changes, deadline_rows = [], [], [], []
    parties: dict[str, tuple[str, str]] = {}
    for pk, (case, _), (case_events, content, summary) in zip(ids, cases, chained):
        events.extend(dict(e, case_pk=pk) for e in case_events)
        officers.extend({"case_pk": pk, "officer_id": o.id, "name": o.name, "certificate": o.certificate,
                         "certificate_valid_until": o.certificate_valid_until,
                         "legal_qualification": o.legal_qualification} for o in case.officers)
        changes.append({"case_pk": pk, "at": at, "actor": actor, "kind": "imported", "summary": summary,
                        "old_hash": "", "new_hash": content})
        if case.party:
            parties[case.party.id] = (case.party.kind, case.party.name)
        if deadlines is not None:
            deadline_rows.extend(dict(r, case_pk=pk) for r in deadlines(case))
        cache.keys.add((case.agency.code, case.case_id))
    for table, values in ((EventRow, events), (OfficerRow, officers), (ChangeRow, changes)):
        if values:
            session.execute(insert(table), values)
    if deadline_rows:
        from .tables import DeadlineRow

        session.execute(insert(DeadlineRow), deadline_rows)
    fresh = [{"id": pid, "kind": kind, "name": name} for pid, (kind, name) in parties.items()
             if pid not in cache.parties]
    for pid, (kind, name) in parties.items():
        if pid in cache.parties:
            known = cache.parties[pid] or session.get(PartyRow, pid)
            known.kind, known.name = kind, name
    if fresh:
        session.execute(insert(PartyRow), fresh)
        cache.parties.update((p["id"], None) for p in fresh)        # stored; loaded only if needed


def put_case(session: Session, case: CaseFile, *, source: str, actor: str,
             workflows: dict[str, Any], cache: ImportCache | None = None) -> str:
    """Insert or update one case; returns ``new``, ``unchanged`` or ``updated`` (and records the change).
    ``cache``: for a bulk import inside one write transaction (nobody else writes meanwhile)."""
    header, events = dump_case(case)
    content = _content_hash(header, events)
    key = (case.agency.code, case.case_id)
    if cache is not None:
        row = cache.rows.get(key)
    else:
        row = session.exec(select(CaseRow).where(CaseRow.agency == key[0], CaseRow.case_id == key[1])).first()
    at = now()
    if row is not None and row.content_hash == content:
        return "unchanged"
    if row is None:
        row = CaseRow(agency=case.agency.code, case_id=case.case_id, procedure=case.procedure,
                      party_id=case.party.id if case.party else None,
                      matter_code=case.matter.code if case.matter else None, state=_state(case, workflows),
                      header=canonical(header), content_hash=content, head_hash=GENESIS, event_count=0,
                      source=source[:1000], updated_at=at)
        session.add(row)
        session.flush()
        if cache is not None:
            cache.rows[key] = row
        outcome, old_hash, summary = "new", "", f"imported from {source}: {len(events)} events"
    else:
        stored = _events(session, row)
        summary = _diff(json.loads(row.header), [json.loads(e.payload) for e in stored], header, events, source)
        for e in stored:
            session.delete(e)
        session.flush()
        old_hash = row.content_hash
        row.procedure, row.header, row.content_hash = case.procedure, canonical(header), content
        row.party_id = case.party.id if case.party else None
        row.matter_code = case.matter.code if case.matter else None
        row.state, row.head_hash, row.event_count = _state(case, workflows), GENESIS, 0
        row.source, row.updated_at = source[:1000], at
        outcome = "updated"
    _append_all(session, row, events, actor, at)
    _write_side_rows(session, row, case, outcome == "new", cache)
    session.add(ChangeRow(case_pk=row.id, at=at, actor=actor, kind="imported" if outcome == "new" else "updated",
                          summary=summary, old_hash=old_hash, new_hash=content))
    return outcome


def _diff(old_header: dict[str, Any], old_events: list[dict[str, Any]], header: dict[str, Any],
          events: list[dict[str, Any]], source: str) -> str:
    """What a re-import changed, field by field with the old and the new value (``case history``)."""
    changes = _changed("", old_header, header)
    same = 0
    for a, b in zip(old_events, events):
        if a != b:
            break
        same += 1
    for n, (a, b) in enumerate(zip(old_events[same:], events[same:]), same + 1):
        changes += _changed(f"事件#{n}/event #{n} ", a, b)
    for n, a in enumerate(old_events[len(events):], len(events) + 1):
        changes.append(f"事件#{n}/event #{n}: {_short_value(a.get('type'))} {_short_value(a.get('date'))} → （删去/removed）")
    for n, b in enumerate(events[len(old_events):], len(old_events) + 1):
        changes.append(f"事件#{n}/event #{n}: （新增/added） → {_short_value(b.get('type'))} {_short_value(b.get('date'))}")
    parts = [f"重新导入 / re-imported from {source}"]
    if old_events[same:] or events[same:]:
        parts.append(f"事件自#{same + 1}起替换 / events from #{same + 1} replaced "
                     f"({len(old_events) - same} → {len(events) - same})")
    if changes:
        shown = changes[:40] + ([f"…（另 {len(changes) - 40} 处 / {len(changes) - 40} more）"] if len(changes) > 40 else [])
        parts.append("变更 / changed: " + "; ".join(shown))
    return "; ".join(parts)


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
                 workflows: dict[str, Any]) -> EventRow:
    """Record one new event at the end of a stored case (the caller has judged it)."""
    at = now()
    event = _append(session, row, payload, actor, at)
    header, events = dump_case(case)
    row.content_hash = _content_hash(header, events)
    row.state, row.updated_at = _state(case, workflows), at
    session.add(ChangeRow(case_pk=row.id, at=at, actor=actor, kind="recorded",
                          summary=f"recorded #{event.seq} {payload['type']} of {payload['date']}",
                          old_hash="", new_hash=row.content_hash))
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
        query = query.where(CaseRow.id.in_(select(EventRow.case_pk).where(
            EventRow.type == "decided", EventRow.case_pk >= low, EventRow.case_pk <= high)))
    rows = session.exec(query.order_by(CaseRow.id)).all()
    if not rows:
        return [], []
    events: dict[int, list[Any]] = {}
    for case_pk, payload in session.exec(
            select(EventRow.case_pk, EventRow.payload).where(EventRow.case_pk >= rows[0].id,
                                                             EventRow.case_pk <= rows[-1].id)
            .order_by(EventRow.case_pk, EventRow.seq)):
        events.setdefault(case_pk, []).append(payload)
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
    head edited, breaks it. Returns one entry per broken case (its first break)."""
    out: list[Broken] = []
    rows = session.exec(select(CaseRow).order_by(CaseRow.agency, CaseRow.case_id)).all()
    for row in rows:
        problem = _verify_case(session, row)
        if problem:
            out.append(Broken(row.agency, row.case_id, *problem))
    orphans = session.exec(select(func.count()).select_from(EventRow)
                           .where(EventRow.case_pk.not_in(select(CaseRow.id)))).one()
    if orphans:
        out.append(Broken("", "", None, f"{orphans} event rows belong to no case"))
    return out


def _verify_case(session: Session, row: CaseRow) -> tuple[int | None, str] | None:
    prev = GENESIS
    key = case_key(row.agency, row.case_id)
    events = _events(session, row)
    for expected_seq, e in enumerate(events, 1):
        if e.seq != expected_seq:
            return e.seq, f"event #{expected_seq} is missing (next stored is #{e.seq})"
        if e.prev_hash != prev:
            return e.seq, f"event #{e.seq} does not follow the event before it (removed, inserted or reordered)"
        if event_hash(prev, key, e.seq, e.payload, e.recorded_by, _ts(e.recorded_at)) != e.hash:
            return e.seq, f"event #{e.seq} ({e.type} {e.date}) was changed after it was recorded"
        try:
            payload = json.loads(e.payload)
        except ValueError:
            return e.seq, f"event #{e.seq} is not valid JSON"
        if payload.get("type") != e.type or payload.get("date") != e.date.isoformat():
            return e.seq, f"event #{e.seq}: its type/date columns differ from the recorded event"
        prev = e.hash
    if len(events) != row.event_count or prev != row.head_hash:
        return None, (f"the case records {row.event_count} events ending in {row.head_hash[:12]}…, "
                      f"the store holds {len(events)} ending in {prev[:12]}… (events removed or added)")
    header = json.loads(row.header)
    if _content_hash(header, [json.loads(e.payload) for e in events]) != row.content_hash:
        return None, "the case header was changed outside casecheck"
    return None


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
