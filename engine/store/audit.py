"""``casecheck verify``: everything the store holds, checked against what it must be.

The cases are checked a range of row ids at a time (bounded memory at a million cases), by ``workers``
processes when the store's URL is given: each range whole — every event re-hashed (``_chain``: the verdict
of ``repo.check_chain``, the definition, with what repeats encoded once; events read as plain driver
tuples, payloads and headers parsed by orjson), its header and head, its leaf in the newest signed checkpoint, its
officer rows and query columns against its header, its party row if it is the newest case naming the
party, and its ``deadlines`` rows. Those are checked against the digest the checkpoint's leaf carries of
the deadlines the events implied when it was sealed (``trail.case_leaves`` computes it from the events, not
from the table) when the case is unchanged since; recomputed from the events for cases added or grown
since the checkpoint, on a digest mismatch (to name the deadline), and for every case with ``deep``.
This process reads the checkpoint (its signature with the public key from outside the store; its leaves
streamed and hashed as stored, their SHA-256 and SM3 roots recomputed), hands each range its leaves, names
every sealed case no longer stored, and checks the change log against the checkpoint. The ranges cover
every possible row id, so the event, officer and deadline rows that belong to no case are counted by the
range they fall in (no store-wide scan).
Every discrepancy is named (case, event, table); nothing stops at the first.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zlib
import datetime as dt
from collections import Counter, deque, namedtuple
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterator

import orjson
from sqlmodel import Session, select

from .chain import GENESIS, digest
from .header import effective_header
from .repo import EVENT_COLUMNS, Broken, _as_stored, _chunks, case_key, content_problem, raw_rows
from .tables import CaseRow, PartyRow
from .trail import (CheckpointRow, FileCheckpoint, changes_digest, read_checkpoint_file, sm3_hash,
                    verify_signature)

__all__ = ["verify_store", "VerifyReport", "deadline_digest", "implied_deadlines"]

CHUNK = 2000


@dataclass
class VerifyReport:
    broken: list[Broken] = field(default_factory=list)
    cases: int = 0
    events: int = 0
    checkpoint: dict[str, Any] | None = None       # the checkpoint checked against: seq, at, root, cases
    added_since: int = 0                            # cases stored after it (not yet sealed)
    grown_since: int = 0                            # sealed cases with steps added after it
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.broken else 0


class _StoredLeaves(io.RawIOBase):
    """The leaves of a checkpoint kept in the store, read a slice at a time (the blob of a million cases is
    over 100 MB: read whole, with the driver's and SQLAlchemy's copies, it was most of ``verify``'s memory)."""

    SLICE = 16 << 20

    def __init__(self, session: Session, row_id: int):
        self.session, self.row_id, self.pos = session, row_id, 1

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = raw_rows(self.session, "SELECT substr(leaves, CAST(? AS INTEGER), CAST(? AS INTEGER)) FROM checkpoints "
                                      "WHERE id = ?", self.pos, min(len(buffer), self.SLICE), self.row_id)[0][0]
        data = bytes(data or b"")
        buffer[:len(data)] = data
        self.pos += len(data)
        return len(data)


def _leaf_lines(blob: Any) -> Iterator[bytes]:
    """The checkpoint's leaf lines as stored (UTF-8 bytes, each with its newline; blank lines skipped):
    ``blob`` the store's (``_StoredLeaves``) or a checkpoint file's (``FileCheckpoint``) gzip'd leaves, read
    a slice at a time; or the gzip'd bytes."""
    if isinstance(blob, bytes):
        raw: Any = io.BytesIO(blob)
    elif isinstance(blob, FileCheckpoint):
        raw = blob.open_leaves()
    else:
        raw = blob
    with raw, gzip.open(io.BufferedReader(raw, _StoredLeaves.SLICE) if isinstance(raw, io.RawIOBase) else raw,
                        "rb") as fh:
        for line in fh:
            if line.strip():
                yield line


def _leaf(line: bytes) -> list[Any]:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def _readable_leaves(blob: Any, seq: int, report: VerifyReport) -> Iterator[tuple[bytes, list[Any]]]:
    """The checkpoint's leaves, each as its stored line and its parsed list. Leaves that cannot be read (the
    base64 of a file copy, the gzip stream or a line altered or cut short) are named as a break of that
    copy, and end the leaves there: the cases after are then unsealed, and the root does not match."""
    where = (f"检查点文件 {blob.path}" if isinstance(blob, FileCheckpoint) else f"库中的检查点 #{seq}",
             f"the checkpoint file {blob.path}" if isinstance(blob, FileCheckpoint) else
             f"checkpoint #{seq} in the store")
    good = 0
    try:
        for line in _leaf_lines(blob):
            leaf = _leaf(line)
            if not (isinstance(leaf, list) and len(leaf) >= 5):
                raise ValueError(f"entry {good + 1} is not a case leaf")
            yield line, leaf
            good += 1
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        report.broken.append(Broken("", "", None, f"{where[0]}的案件清单读出 {good} 项后无法再读（被改动或截断）/ "
                                                  f"the case list of {where[1]} cannot be read past entry {good} "
                                                  f"(altered or cut short): {exc}"))


LOWEST, HIGHEST = -(2 ** 63), 2 ** 63 - 1            # the row ids a range can hold (64-bit; bound as such)


def verify_store(session: Session, *, derived: bool = True, public_key: Any = None,
                 directory: Path | None = None, ctx: Any = None, trail: bool = True,
                 url: str | None = None, workers: int = 1, deep: bool = False) -> VerifyReport:
    """``derived``: check officers, parties and deadlines (recomputed from the events with ``ctx``, the
    deadline context, where no signed digest covers them); ``trail``: check against the newest signed
    checkpoint (``public_key`` from outside the store); ``deep``: recompute every case's deadlines from its
    events even where the checkpoint's signed digest covers them. ``workers`` > 1 (with the store's
    ``url``): the cases are checked by that many processes, a range of row ids each, while this one reads
    the checkpoint's leaves, hands each range its leaves, and checks the store-wide rest.

    The ranges are contiguous and cover every possible row id (the first starts at the lowest, a last one
    without cases ends at the highest): every event, officer and deadline row falls in exactly one range,
    which names the rows of it that belong to no case, so no store-wide scan is needed for them."""
    report = VerifyReport()
    sealed = _reference(session, report, public_key, directory) if trail else None
    seq = sealed[0]["seq"] if sealed else None
    leaves = _readable_leaves(sealed[1], seq, report) if sealed else iter(())
    root = hashlib.sha256()
    root_sm3 = sm3_hash() if sealed and "root_sm3" in sealed[0] else None
    line, pending = next(leaves, (None, None))
    pool = None
    if url is not None and workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    # the change log's digest, a store-wide pass: by a worker while the ranges are checked, when there are
    # workers (at the end, alone, it was a sixth of a million cases' verify)
    changes_job = (pool.submit(_changes_worker, url, sealed[0]["changes"]["upto"])
                   if pool is not None and sealed else None)
    futures: deque[Any] = deque()
    strays: Counter[str] = Counter()

    def missing(leaf: list[Any]) -> None:
        agency, _, case_id = str(leaf[1]).partition("/")
        report.broken.append(Broken(agency, case_id, None, f"封存于检查点 #{seq} 的案件已被删除 / the case sealed by "
                                                          f"checkpoint #{seq} is missing from the store (deleted)"))

    def merge(part: "_Part") -> None:
        report.broken.extend(part.broken)
        report.cases += part.cases
        report.events += part.events
        report.added_since += part.added
        report.grown_since += part.grown
        report.notes.extend(part.notes)
        strays.update(part.strays)

    def hashed(taken: list[bytes]) -> None:
        # The root is over each leaf's canonical JSON and a newline: the stored lines are written so
        # (``trail._Packed``), and are hashed as stored: a line not canonical gives another root.
        data = b"".join(taken)
        root.update(data)
        if root_sm3 is not None:
            root_sm3.update(data)

    def submit(low: int, high: int, chunk: dict[int, list[Any]]) -> None:
        args = (low, high, chunk, seq, derived, recompute, deep)
        if pool is None:
            merge(_check_range(session, ctx, *args))
        else:
            futures.append(pool.submit(_range_worker, url, *args))
            while futures and (futures[0].done() or len(futures) > 2 * workers):
                merge(futures.popleft().result())

    conn = session.connection()
    cases = CaseRow.__table__
    recompute = derived and ctx is not None
    low = LOWEST
    try:
        while True:
            query = select(cases.c.id).order_by(cases.c.id).limit(CHUNK)
            if low != LOWEST:
                query = query.where(cases.c.id >= low)
            ids = conn.execute(query).scalars().all()
            if not ids:
                break
            last = ids[-1]
            present = set(ids)
            chunk: dict[int, list[Any]] = {}
            taken: list[bytes] = []
            while pending is not None and _pk(pending) <= last:
                taken.append(line)
                if _pk(pending) in present:
                    chunk[_pk(pending)] = pending
                else:
                    missing(pending)
                line, pending = next(leaves, (None, None))
            hashed(taken)
            submit(low, last, chunk)
            low = last + 1
        submit(low, HIGHEST, {})                        # no case: the rows after the last case's
        while futures:
            merge(futures.popleft().result())
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if sealed:
        taken = []
        while pending is not None:
            taken.append(line)
            missing(pending)
            line, pending = next(leaves, (None, None))
        hashed(taken)
        if root.hexdigest() != sealed[0]["root"]:
            report.broken.append(Broken("", "", None, f"检查点 #{seq} 的案件清单与其签名的根不符 / the case "
                                                      f"list of checkpoint #{seq} does not give its signed root"))
        if "root_sm3" in sealed[0]:
            if root_sm3 is None:
                report.notes.append("此环境的 OpenSSL 不支持 SM3，未核对 SM3 根 / no SM3 in this OpenSSL: the SM3 root "
                                    "was not checked (the SHA-256 root was)")
            elif root_sm3.finalize().hex() != sealed[0]["root_sm3"]:
                report.broken.append(Broken("", "", None, f"检查点 #{seq} 的案件清单与其签名的 SM3 根不符 / the case "
                                                          f"list of checkpoint #{seq} does not give its signed SM3 root"))
        changes = sealed[0]["changes"]
        count, value = (changes_job.result() if changes_job is not None
                        else changes_digest(session, changes["upto"]))
        if (count, value) != (changes["count"], changes["digest"]):
            report.broken.append(Broken("", "", None, f"变更记录（changes 表）第 1–{changes['upto']} 行在检查点 "
                                                      f"#{seq} 之后被修改或删除 / change-log rows up to "
                                                      f"#{changes['upto']} were edited or deleted after checkpoint "
                                                      f"#{seq} ({changes['count']} sealed, {count} now)"))
    if derived:
        from .audit_case_checks import verify_case_checks  # the case list's check cache against its runs

        report.broken.extend(verify_case_checks(session))
    if strays["events"]:
        report.broken.append(Broken("", "", None, f"{strays['events']} event rows belong to no case"))
    if derived:
        for name in ("officers", "deadlines"):
            if strays[name]:
                report.broken.append(Broken("", "", None, f"{strays[name]} rows of {name} belong to no case"))
    return report


def _pk(leaf: Any) -> int:
    """A leaf's row id (a leaf that is not a list starting with a whole number sorts last: it is named
    by the root, which it cannot give)."""
    try:
        return int(leaf[0])
    except (TypeError, ValueError, KeyError, IndexError):
        return HIGHEST


@dataclass
class _Part:
    """What one range of cases gave (a worker's answer)."""

    broken: list[Broken] = field(default_factory=list)
    cases: int = 0
    events: int = 0
    added: int = 0
    grown: int = 0
    notes: list[str] = field(default_factory=list)
    strays: Counter[str] = field(default_factory=Counter)     # rows of the range that belong to no case


_Case = namedtuple("_Case", "id agency case_id procedure party_id matter_code header content_hash head_hash "
                            "event_count")
CASE_COLUMNS = ", ".join(_Case._fields)


def _check_range(session: Session, ctx: Any, low: int, high: int, leaves: dict[int, list[Any]], seq: int | None,
                 derived: bool, recompute: bool, deep: bool) -> _Part:
    """Every check of the cases with row ids in [low, high]: chain, header, the checkpoint's leaf, and
    (``derived``) officers, party and deadlines; and the rows of the range that belong to no case."""
    part = _Part()

    def brk(row: Any, at: int | None, problem: str) -> None:
        part.broken.append(Broken(row.agency, row.case_id, at, problem))

    rows = [_Case._make(r) for r in raw_rows(session, f"SELECT {CASE_COLUMNS} FROM cases WHERE id >= ? AND id <= ? "
                                                       f"ORDER BY id", low, high)]
    ids = {row.id for row in rows}
    events = _events(session, low, high)                 # plain driver tuples: every event row is read
    officers: dict[int, list[Any]] = {}
    deadlines: dict[int, list[Any]] = {}
    if derived:
        for o in raw_rows(session, "SELECT case_pk, officer_id, name, certificate, certificate_valid_until, "
                                   "legal_qualification, certificate_key FROM officers "
                                   "WHERE case_pk >= ? AND case_pk <= ?", low, high):
            officers.setdefault(o[0], []).append(o[1:])
        for d in raw_rows(session, "SELECT case_pk, code, platform, start, due, open_until, officers FROM deadlines "
                                   "WHERE case_pk >= ? AND case_pk <= ?", low, high):
            deadlines.setdefault(d[0], []).append(d[1:])
    for name, found in (("events", events), ("officers", officers), ("deadlines", deadlines)):
        stray = sum(len(v) for pk, v in found.items() if pk not in ids)
        if stray:
            part.strays[name] += stray
    memo = _Memo()
    parties: dict[int, tuple[str, Any, Any]] = {}
    for row in rows:
        part.cases += 1
        own = events.get(row.id, [])
        part.events += len(own)
        problem = _chain(row, own, memo)
        if problem:
            brk(row, *problem)
        try:                                     # the header as corrected (``header.py``), if it was
            header = effective_header(_loads(row.header), own, 3, 9)
        except ValueError:
            header = None
        leaf = leaves.get(row.id)
        unchanged = False
        if leaf is None:
            part.added += 1
        else:
            unchanged = _against_leaf(row, own, leaf, seq, brk, part)
        if not derived or not isinstance(header, dict):
            continue                             # an unreadable header is named by the chain check
        _officers(row, header, officers.get(row.id, []), brk)
        party = header.get("party") if isinstance(header.get("party"), dict) else None
        _columns(row, header, party, brk)
        if party and party.get("id"):
            parties[row.id] = (party["id"], party.get("kind"), party.get("name"))
        stored = deadlines.get(row.id, [])
        if leaf is not None and len(leaf) > 5 and unchanged and not deep:
            if deadline_digest(stored) == leaf[5]:
                continue                         # the rows the signed checkpoint sealed, untouched
            if not recompute:
                brk(row, None, f"期限表（deadlines）与检查点 #{seq} 签名的摘要不符 / the deadlines rows differ from "
                               f"what checkpoint #{seq} sealed")
                continue
            if _deadlines_of(row, own, stored, ctx, brk):
                part.notes.append(f"{row.agency}/{row.case_id}: 期限与环节一致，但与检查点 #{seq} 封存时不同（日历或规则"
                                  f"数据已更新？）/ the deadlines match the events but not what checkpoint #{seq} "
                                  f"sealed (calendar or rule data updated since?)")
        elif recompute:
            _deadlines_of(row, own, stored, ctx, brk)
    if parties:
        _parties(session, parties, {r.id: r for r in rows}, brk)
    return part


# ``EVENT_COLUMNS`` with the date and the recording time (in UTC) as text, in the same places
EVENT_COLUMNS_AS_TEXT = EVENT_COLUMNS.replace("date,", "date::text,").replace(
    "recorded_at,", "(recorded_at AT TIME ZONE 'UTC')::text,")


def _events(session: Session, low: int, high: int) -> dict[int, list[tuple[Any, ...]]]:
    """The events of the cases with ids in [low, high] by case, as ``repo.check_chain`` takes them (the
    ``EVENT_COLUMNS``; here with the case's row id after them, which nothing reads by position)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # The date and the recording time (in UTC) as ISO text: the driver then reads half as much as when it
        # makes date and datetime objects of them (a million cases: about 15 CPU-seconds), and ``_chain`` reads
        # either. ``SET LOCAL``: for this transaction only, whatever DateStyle the database was given.
        conn.exec_driver_sql("SET LOCAL DateStyle = 'ISO, YMD'")
        columns = EVENT_COLUMNS_AS_TEXT
    else:
        columns = EVENT_COLUMNS                     # SQLite gives them as the text stored
    rows = raw_rows(session, f"SELECT {columns}, case_pk FROM events WHERE case_pk >= ? AND case_pk <= ? "
                             f"ORDER BY case_pk, seq", low, high)
    return {pk: list(group) for pk, group in groupby(rows, itemgetter(10))}


def _loads(text: Any) -> Any:
    """``json.loads`` through orjson (a few times faster): what orjson refuses (NaN, a lone surrogate…)
    goes to ``json.loads``, which gives the answer or the ValueError it always gave."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class _Memo:
    """What ``_chain`` computes once per distinct value in a range instead of once per event, as the UTF-8
    bytes it hashes: the JSON of an author and recording time (an import stamps one time on thousands of
    events) with the origin that follows them."""

    __slots__ = ("stamped",)

    def __init__(self) -> None:
        self.stamped: dict[tuple[Any, Any, Any, Any], bytes | None] = {}

    def stamp(self, by: Any, at: Any, proof: Any, corrects: Any) -> bytes | None:
        """``,"author","YYYY-MM-DDTHH:MM:SS"`` (the recording time in UTC, as hashed) and, for an event with
        an origin, ``,"proof",corrects``; None when the time is unreadable."""
        key = (by, at, proof, corrects)
        try:
            return self.stamped[key]
        except KeyError:
            pass
        try:
            if isinstance(at, str):
                at = dt.datetime.fromisoformat(at)
            if at.utcoffset():
                at = at.astimezone(dt.timezone.utc)
            text: str | None = f",{_str(by)},{_str(at.isoformat(timespec='seconds')[:19])}"
        except (ValueError, TypeError, AttributeError):
            text = None
        if text is not None and proof is not None:
            text += f',{_str(proof)},{"null" if corrects is None else int(corrects)}'
        value = self.stamped[key] = None if text is None else text.encode("utf-8")
        return value


def _chain(row: Any, events: list[Any], memo: _Memo) -> tuple[int | None, str] | None:
    """``repo.check_chain`` (the definition: same verdict, same words, pinned by a test), the hash of each
    event built as ``chain.event_hash`` builds it, as bytes: the parts that repeat (author and time,
    origin, the case key) encoded once, the payload escaped by orjson; the payload parsed by orjson."""
    prev = GENESIS
    key = _str(case_key(row.agency, row.case_id)).encode("utf-8")
    sha, stamped, dumps, loads = hashlib.sha256, memo.stamped, _dumps, orjson.loads
    for expected_seq, (seq, type_, date, text, by, at, prev_hash, h, proof, corrects, _pk) in enumerate(events, 1):
        if seq != expected_seq:
            return seq, f"event #{expected_seq} is missing (next stored is #{seq})"
        if prev_hash != prev:
            return seq, f"event #{seq} does not follow the event before it (removed, inserted or reordered)"
        stamp = stamped.get((by, at, proof, corrects)) or memo.stamp(by, at, proof, corrects)
        if stamp is None:
            return seq, f"event #{seq}: its recording time {at!r} is unreadable (changed outside casecheck)"
        # ``chain.event_hash``: [prev, key, seq, payload, by, at(, proof, corrects)] as canonical JSON; prev
        # is this loop's own hex digest (or GENESIS): no character of it needs escaping
        try:
            escaped = dumps(text)             # ``json``'s escape, byte for byte (test_import_fast: all of Unicode)
        except TypeError:                     # a lone surrogate: the ``json`` way, whose encoding then fails as
            escaped = _str(text).encode("utf-8")          # ``chain.event_hash``'s does
        if sha(b'["%s",%s,%d,%s%s]' % (prev.encode(), key, expected_seq, escaped, stamp)).hexdigest() != h:
            return seq, f"event #{seq} ({type_} {date}) was changed after it was recorded"
        try:
            payload = loads(text)
        except orjson.JSONDecodeError:
            try:
                payload = json.loads(text)
            except ValueError:
                return seq, f"event #{seq} is not valid JSON"
        if not isinstance(payload, dict) or payload.get("type") != type_ or payload.get("date") != (
                date if isinstance(date, str) else date.isoformat()):
            return seq, f"event #{seq}: its type/date columns differ from the recorded event"
        prev = h
    if len(events) != row.event_count or prev != row.head_hash:
        return None, (f"the case records {row.event_count} events ending in {row.head_hash[:12]}…, "
                      f"the store holds {len(events)} ending in {prev[:12]}… (events removed or added)")
    return content_problem(row, events)


def _officers(row: Any, header: dict[str, Any], officers: list[Any], brk: Any) -> None:
    """The officer rows are the header's officers, each with its certificate's key (``certificate_key``,
    what "my cases" matches a login's certificate against)."""
    from ..persons import certificate_key

    want = sorted((o.get("id"), o.get("name"), o.get("certificate"), o.get("certificate_valid_until"),
                   bool(o.get("legal_qualification", False)), certificate_key(o.get("certificate")) or None)
                  for o in header.get("officers", []) if isinstance(o, dict))
    have = sorted((officer_id, name, certificate, _iso(valid) if valid else None, bool(legal), key)
                  for officer_id, name, certificate, valid, legal, key in officers)
    if want != have:
        brk(row, None, "执法人员表（officers）与案件记载不符 / the officers rows differ from the case header")


def _columns(row: Any, header: dict[str, Any], party: dict[str, Any] | None, brk: Any) -> None:
    """The case row's query columns (the first-offence look-back finds a party's cases by ``party_id`` and
    ``matter_code``) against its header."""
    matter = header.get("matter") if isinstance(header.get("matter"), dict) else None
    want = (header.get("procedure"), party.get("id") if party else None, matter.get("code") if matter else None)
    if (row.procedure, row.party_id, row.matter_code) != want:
        brk(row, None, "案件行的程序/当事人/事项列与案件记载不符 / the case row's procedure, party_id or matter_code "
                       "column differs from its header")


def _parties(session: Session, parties: dict[int, tuple[str, Any, Any]], rows: dict[int, Any], brk: Any) -> None:
    """Each party row against the newest case naming it (the highest row id), for the parties of one range:
    two queries per range on PostgreSQL (the ids as one array), two per 500 ids on SQLite."""
    ids = sorted({pid for pid, _, _ in parties.values()})
    newest: dict[str, int] = {}
    stored: dict[str, tuple[Any, Any]] = {}
    if session.connection().dialect.name == "postgresql":
        # one probe of the index (party_id, id) per party, however many cases name it (revision 0010)
        newest.update(raw_rows(session, "SELECT p.pid, (SELECT max(c.id) FROM cases c WHERE c.party_id = p.pid) "
                                        "FROM unnest(?::text[]) AS p(pid)", ids))
        stored.update((pid, (kind, name)) for pid, kind, name in raw_rows(
            session, "SELECT id, kind, name FROM parties WHERE id = ANY(?)", ids))
    else:
        for part in _chunks(ids):
            marks = ",".join("?" * len(part))
            newest.update(raw_rows(session, f"SELECT party_id, max(id) FROM cases WHERE party_id IN ({marks}) "
                                            f"GROUP BY party_id", *part))
            stored.update((pid, (kind, name)) for pid, kind, name in raw_rows(
                session, f"SELECT id, kind, name FROM parties WHERE id IN ({marks})", *part))
    for pk, (pid, kind, name) in parties.items():
        if newest.get(pid, pk) != pk:
            continue                                     # a later case names the party: its range checks it
        have = stored.get(pid)
        if have is None:
            brk(rows[pk], None, f"当事人 {pid} 不在当事人表（parties）中 / party {pid} is missing from the parties rows")
        elif have != (kind, name):
            brk(rows[pk], None, f"当事人表（parties）中 {pid} 与最新案件记载不符 / the parties row of {pid} differs "
                                f"from the newest case naming it")


def _reference(session: Session, report: VerifyReport, public_key: Any,
               directory: Path | None) -> tuple[dict[str, Any], bytes] | None:
    """The newest checkpoint, checked: from the directory when it is newer than (or equal to) the store's."""
    c = CheckpointRow.__table__.c              # not the leaves: read a slice at a time (``_StoredLeaves``)
    stored = session.connection().execute(select(c.id, c.seq, c.statement, c.signature).order_by(c.seq.desc())
                                          .limit(1)).first()
    copied = read_checkpoint_file(directory) if directory is not None else None
    if stored is None and copied is None:
        if directory is not None:
            report.notes.append(f"{directory}: 没有检查点 / no checkpoint there")
        return None
    if public_key is None:
        report.broken.append(Broken("", "", None, "库中有签名检查点，但未提供公钥，无法核对 / the store has signed "
                                                  "checkpoints but no key was given to check them (--key or "
                                                  "CASECHECK_KEY: the key file or its .pub)"))
        return None
    if copied is not None and (stored is None or copied.seq > stored.seq):
        report.broken.append(Broken("", "", None, f"检查点 #{copied.seq} 在检查点目录中，却不在库中（库被回滚？）/ "
                                                  f"checkpoint #{copied.seq} is in the checkpoint directory but "
                                                  f"not in the store (rolled back or deleted)"))
        text, signature, blob = copied.statement, copied.signature, copied
    else:
        text, signature, blob = stored.statement, stored.signature, _StoredLeaves(session, stored.id)
        if copied is not None and copied.seq == stored.seq and (copied.statement, copied.signature) != (
                stored.statement, stored.signature):
            report.broken.append(Broken("", "", None, f"库中的检查点 #{stored.seq} 与目录中的副本不同 / checkpoint "
                                                      f"#{stored.seq} in the store differs from its copy"))
            text, signature, blob = copied.statement, copied.signature, copied
        elif directory is not None and (copied is None or copied.seq < stored.seq):
            report.broken.append(Broken("", "", None, f"检查点 #{stored.seq} 不在检查点目录 {directory} 中 / "
                                                      f"checkpoint #{stored.seq} is not in {directory}"))
    if not verify_signature(public_key, text, signature):
        report.broken.append(Broken("", "", None, "检查点签名无效（不是该密钥所签，或已被改动）/ the checkpoint's "
                                                  "signature does not verify with this key (forged or altered)"))
        return None
    statement = json.loads(text)
    report.checkpoint = {k: statement[k] for k in ("seq", "at", "root", "cases")}
    if "root_sm3" in statement:
        report.checkpoint["root_sm3"] = statement["root_sm3"]
    return statement, blob


def _against_leaf(row: Any, events: list[Any], leaf: list[Any], seq: int | None, brk: Any, part: _Part) -> bool:
    """The case against its sealed leaf; True when it is as sealed (no event added since, same header)."""
    _pk, key, count, head, header_hash = leaf[:5]
    if f"{row.agency}/{row.case_id}" != key:
        brk(row, None, f"检查点 #{seq} 中此行是案件 {key} / checkpoint #{seq} sealed row {row.id} as case {key}")
        return False
    same = True
    if digest(row.header) != header_hash:
        brk(row, None, f"案件基本信息与检查点 #{seq} 不符 / the case header differs from checkpoint #{seq}")
        same = False
    if count == 0:
        sealed_head = GENESIS
    elif len(events) >= count and events[count - 1][0] == count:
        sealed_head = events[count - 1][7]
    else:
        brk(row, None, f"检查点 #{seq} 封存了 {count} 个环节，现仅存 {len(events)} 个 / checkpoint #{seq} sealed "
                       f"{count} events, the store holds {len(events)}")
        return False
    if sealed_head != head:
        first = next((e[0] for e in events[:count]), None)
        brk(row, first, f"第 1–{count} 个环节与检查点 #{seq} 不符（被改写后重新计算了哈希）/ events #1–#{count} "
                        f"differ from what checkpoint #{seq} sealed (rewritten and re-hashed)")
        same = False
    if len(events) > count:
        part.grown += 1
        same = False
    return same


def implied_deadlines(row: Any, items: list[Any], ctx: Any) -> list[dict[str, Any]] | None:
    """The deadline rows a stored case's events (``(seq, payload, corrects)`` by seq) imply, as the import
    and a live step compute them; None when the stored case does not validate."""
    from ..loader import validate_case
    from .deadlines import deadline_rows_for

    try:
        raw = _as_stored(row.header, items)
    except ValueError:
        return None
    case, _problems = validate_case(raw, f"db:{row.agency}/{row.case_id}")
    return None if case is None else deadline_rows_for(case, ctx)


def deadline_digest(rows: list[Any]) -> str:
    """A digest of a case's deadline rows (dicts, or stored rows as tuples of code, platform, start, due,
    open_until, officers), independent of their order: what a checkpoint seals of them. Each row is its
    fields as JSON strings (``null`` for no platform), one line; the lines sorted, joined by newlines, the
    SHA-256 of that. The lines are encoded by orjson (the bytes ``json`` gives, in the order of the text:
    UTF-8 keeps code-point order); ``tests/test_verify_fast.py`` pins this to the definition as first written,
    which the checkpoints already signed carry."""
    lines = []
    for r in rows:
        if isinstance(r, dict):
            code, platform, start, due, until, officers = (r["code"], r.get("platform"), r["start"], r["due"],
                                                           r["open_until"], r.get("officers"))
        else:
            code, platform, start, due, until, officers = r
        values = [code, platform, str(start), str(due), str(until), officers or ""]
        try:
            if not (isinstance(code, str) and isinstance(values[5], str)
                    and (platform is None or isinstance(platform, str))):
                raise TypeError
            line = _dumps(values)[1:-1]
        except TypeError:                     # a lone surrogate, or not text: as ``json`` encodes it, or fails
            line = ",".join(["null" if i == 1 and v is None else _str(v) for i, v in enumerate(values)]
                            ).encode("utf-8")
        lines.append(line)
    lines.sort()
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


_str = json.encoder.encode_basestring
_dumps = orjson.dumps


def _iso(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat()


INVALID = "invalid"          # the sealed digest of a case that did not validate when it was sealed


def _deadlines_of(row: Any, events: list[Any], deadlines: list[Any], ctx: Any, brk: Any) -> bool:
    """Recompute the case's deadlines and name a difference from the stored rows; True when they agree."""
    from ..loader import validate_case

    try:
        raw = _as_stored(row.header, [(e[0], e[3], e[9]) for e in events])
    except ValueError:
        return False                             # named by the chain check
    case, problems = validate_case(raw, f"db:{row.agency}/{row.case_id}")
    if case is None:
        brk(row, None, "已存案件不再通过校验 / the stored case no longer validates: " + "; ".join(map(str, problems[:2])))
        return False
    from .deadlines import deadline_rows_for

    expected = Counter(_deadline_key(r) for r in deadline_rows_for(case, ctx))
    stored = Counter(_deadline_key({"code": code, "platform": platform, "start": start, "due": due,
                                    "open_until": until, "officers": officers})
                     for code, platform, start, due, until, officers in deadlines)
    if expected != stored:
        diff = sorted((stored - expected).keys()) + sorted((expected - stored).keys())
        brk(row, None, f"期限表（deadlines）与案件环节推出的期限不符 / the deadlines rows differ from what the "
                       f"events imply: {', '.join(d[0] for d in diff[:3])}")
        return False
    return True


def _deadline_key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["code"], r.get("platform"), str(r["start"]), str(r["due"]), str(r["open_until"]), r.get("officers") or "")


_WORKER: dict[str, Any] = {}


def _worker_store(url: str) -> Any:
    if _WORKER.get("url") != url:
        from ..cases import _deadline_context
        from . import Store

        _WORKER.update(url=url, store=Store.open(url, migrate=False, create=False), ctx=_deadline_context())
    return _WORKER["store"]


def _range_worker(url: str, *args: Any) -> _Part:
    """A worker's share of ``verify``: every check of one range of row ids (``_check_range``)."""
    with _worker_store(url).reading() as session:
        return _check_range(session, _WORKER["ctx"], *args)


def _changes_worker(url: str, upto: int) -> tuple[int, str]:
    """The change log's count and digest up to ``upto`` (``trail.changes_digest``), in a worker."""
    with _worker_store(url).reading() as session:
        return changes_digest(session, upto)
