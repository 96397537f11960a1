"""The keyed audit trail: signing keys, signed checkpoints, and what ``verify`` checks against them.

The hash chain of each case (``chain.py``) shows an edit made by someone who does not recompute the hashes.
Someone with write access to the database can recompute them all. A checkpoint closes that gap: it states
the number of cases, every case's head (key, number of events, hash of the last event, hash of its header),
a root over them, the change log up to its last row, a sequence number and the time, and is signed with an
Ed25519 key kept outside the database (``casecheck keys init``). It is written to the store and, as a file,
to an append-only checkpoint directory that can be copied off the machine. Without the key nobody can
sign a checkpoint for a re-sealed forgery; ``verify`` finds every sealed event, header, case and change-log
row that is not what the last checkpoint says.

Not covered: someone holding the key AND every copy of the checkpoint files can write a consistent forgery.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import zlib
from collections import namedtuple
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import orjson
from sqlalchemy import Column, LargeBinary, Text, func
from sqlmodel import Field, Session, SQLModel, select

from ..errors import CasecheckError
from .chain import canonical, digest

__all__ = ["CheckpointRow", "SealRefused", "ChainBreaks", "unchanged_since_checkpoint", "stamp_checkpoint", "KeyError_", "init_key", "load_private", "load_public", "key_path",
           "checkpoint_dir", "make_checkpoint", "case_leaves", "changes_digest", "latest_checkpoint",
           "read_checkpoint_file", "verify_signature"]

FORMAT = "casecheck-checkpoint/1"
KEY_ENV = "CASECHECK_KEY"
DIR_ENV = "CASECHECK_CHECKPOINTS"


class CheckpointRow(SQLModel, table=True):
    """A signed checkpoint: ``statement`` is the canonical JSON that was signed, ``leaves`` every case's head
    at that time (gzip'd JSON lines, in case-row order; the root is their hash)."""

    __tablename__ = "checkpoints"

    id: Optional[int] = Field(default=None, primary_key=True)
    seq: int = Field(index=True, unique=True)
    at: dt.datetime
    cases: int
    root: str = Field(max_length=64)
    key_id: str = Field(max_length=64)
    statement: str = Field(sa_column=Column(Text, nullable=False))
    signature: str = Field(max_length=200)
    leaves: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class SealRefused(CasecheckError):
    """The store contradicts its previous checkpoint: nothing is sealed (exit 1, like a discrepancy)."""


class KeyError_(CasecheckError):
    """No key, an unreadable key, or a key that is not casecheck's."""


def key_path(path: str | os.PathLike | None = None) -> Path | None:
    value = path or os.environ.get(KEY_ENV)
    return Path(value) if value else None


def checkpoint_dir(path: str | os.PathLike | None = None) -> Path | None:
    value = path or os.environ.get(DIR_ENV)
    return Path(value) if value else None


def init_key(path: Path) -> str:
    """Write a new Ed25519 private key (PEM, mode 0600) at ``path`` and its public key at ``path.pub``;
    refuses to overwrite. Returns the key id (sha256 of the raw public key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pub_path = Path(str(path) + ".pub")
    if path.exists() or pub_path.exists():
        raise KeyError_(f"{path}: 密钥文件已存在，不覆盖 / a key already exists there; it is never overwritten")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    pub_path.write_bytes(pub)
    return _key_id(key.public_key())


def _key_id(public: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_private(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyError_(f"{path}: 无法读取签名密钥 / cannot read the signing key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(f"{path}: 不是 Ed25519 密钥 / not an Ed25519 key")
    return key


def load_public(path: Path) -> Any:
    """The public key: ``path`` itself if it is a public key, else ``path.pub``, else derived from the
    private key at ``path``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    for candidate in (path, Path(str(path) + ".pub")):
        try:
            key = serialization.load_pem_public_key(candidate.read_bytes())
        except (OSError, ValueError, TypeError):
            continue
        if isinstance(key, Ed25519PublicKey):
            return key
    return load_private(path).public_key()


def case_leaves(session: Session, previous: "_Carry | None" = None, ctx: Any = None, *, url: str | None = None,
                workers: int = 1, breaks: "ChainBreaks | None" = None) -> Iterator[list[Any]]:
    """Every stored case's leaf, in row order: [row id, agency/case id, events, head hash, header hash] and,
    with ``ctx`` (the deadline context), a sixth element: the digest of the deadline rows the case's events
    imply (``audit.deadline_digest``). It is carried over from the ``previous`` checkpoint for a case
    unchanged since (same events, same head, same header) and recomputed from the events for the others,
    so ``verify`` checks a sealed case's deadlines by digest instead of recomputing them.

    ``workers`` > 1 (with the store's ``url``): the digests of a batch of cases are recomputed by that many
    processes (each reads the batch's events itself; the headers are the ones read here), while this one
    reads on, checks the ``previous`` leaves and hands the leaves out in row order; from the first batch of
    at least ``POOL_FROM`` such cases on (a small seal is not worth starting processes).

    ``breaks`` (the seal's): every case's chain is checked as ``verify`` checks it (``audit._chain``: each
    event re-hashed and in sequence, the case's event count, head and content hash against its events) in
    the same read of its events, and each broken case goes into ``breaks``. Then every batch's events are
    read (not only those of the cases new or changed since the previous checkpoint); with the pool (started
    as above, or once ``CHAIN_POOL_FROM`` cases were checked here), by the worker that takes the batch,
    whose verdicts come back with its digests."""
    from collections import deque

    from .tables import CaseRow

    pool = None
    parallel = ctx is not None and url is not None and workers > 1
    chains = breaks is not None
    checked = 0                                          # cases read so far
    waiting: deque[tuple[list[list[Any]], list[list[Any]], Any]] = deque()
    last = 0
    try:
        while True:
            query = (select(CaseRow.id, CaseRow.agency, CaseRow.case_id, CaseRow.event_count, CaseRow.head_hash,
                            CaseRow.header, CaseRow.content_hash).where(CaseRow.id > last).order_by(CaseRow.id)
                     .limit(BATCH))
            rows = [tuple(r) for r in session.exec(query).all()]
            if not rows:
                break
            out = [[pk, f"{agency}/{case_id}", count, head, digest(header)] for pk, agency, case_id, count, head,
                   header, _content in rows]
            need = []
            for leaf, row in zip(out, rows):
                before = previous.get(leaf[0]) if previous is not None else None
                if before is not None and before[1:5] == leaf[1:5]:
                    if len(before) > 5:
                        leaf.append(before[5])
                        continue
                elif before is not None:
                    previous.differs(before, leaf)
                need.append((leaf, row, before))
            if parallel and pool is None and (len(need) >= POOL_FROM or (chains and checked >= CHAIN_POOL_FROM)):
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            grown = [(before, leaf[0]) for leaf, _row, before in need if before is not None and before[2] < leaf[2]]
            events: dict[int, list[Any]] = {}
            if chains and pool is None:                  # the whole batch's events: every chain is checked
                events = _events(session, rows[0][0], rows[-1][0])
            elif need and (grown or (ctx is not None and pool is None)):
                events = _events(session, need[0][0][0], need[-1][0][0])
            for before, pk in grown:
                previous.grown(before, events.get(pk, []))
            if chains and pool is None:
                breaks.extend(_chains(rows, events))
            future = None
            if pool is not None and (need or chains):
                future = pool.submit(_seal_worker, url, [n[1] for n in need], rows if chains else None)
            elif ctx is not None and need:
                for leaf, digested in zip((n[0] for n in need), _digests([n[1] for n in need], events, ctx)):
                    leaf.append(digested)
            del events
            waiting.append((out, [n[0] for n in need], future))
            while waiting and (waiting[0][2] is None or waiting[0][2].done() or len(waiting) > 2 * workers):
                yield from _handed(waiting.popleft(), breaks)
            last = rows[-1][0]
            checked += len(rows)
        while waiting:
            yield from _handed(waiting.popleft(), breaks)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _handed(item: tuple[list[list[Any]], list[list[Any]], Any], breaks: "ChainBreaks | None") -> list[list[Any]]:
    out, needed, future = item
    if future is not None:
        digests, broken = future.result()
        for leaf, digested in zip(needed, digests):
            leaf.append(digested)
        if breaks is not None:
            breaks.extend(broken)
    return out


def _events(session: Session, low: int, high: int) -> dict[int, list[tuple[Any, ...]]]:
    """The events of the cases with row ids in [low, high] by case, as ``verify`` reads them
    (``audit._events``: ``repo.EVENT_COLUMNS`` and the row id, the dates as text)."""
    from .audit import _events as events

    return events(session, low, high)


_SealCase = namedtuple("_SealCase", "id agency case_id event_count head_hash header content_hash")


def _chains(rows: list[tuple[Any, ...]], events: dict[int, list[Any]]) -> list[Any]:
    """The broken cases of ``rows`` (the ``_SealCase`` columns), each its first break (``repo.Broken``): the
    chain check of ``verify`` (``audit._chain``, the verdict of ``repo.check_chain``) on ``events``."""
    from .audit import _chain, _Memo
    from .repo import Broken

    memo, out = _Memo(), []
    for row in map(_SealCase._make, rows):
        problem = _chain(row, events.get(row.id, []), memo)
        if problem:
            out.append(Broken(row.agency, row.case_id, *problem))
    return out


def _digests(rows: list[tuple[Any, ...]], events: dict[int, list[Any]], ctx: Any) -> list[str]:
    """The deadline digest of each case of ``rows`` ((row id, agency, case id, events, head, header, content
    hash)) from its ``events`` (by row id): ``audit.INVALID`` for a case that does not validate."""
    from types import SimpleNamespace

    from .audit import INVALID, deadline_digest, implied_deadlines

    out = []
    for pk, agency, case_id, _count, _head, header, _content in rows:
        implied = implied_deadlines(SimpleNamespace(agency=agency, case_id=case_id, header=header),
                                    [(e[0], e[3], e[9]) for e in events.get(pk, [])], ctx)
        out.append(INVALID if implied is None else deadline_digest(implied))
    return out


BATCH = 5000               # cases read at a time
POOL_FROM = 1000
CHAIN_POOL_FROM = 50_000   # cases chain-checked here before the pool takes the chains (starting it costs
                           # seconds: a reseal of 10,000 unchanged cases took 3.5× longer with it, measured)
_SEALER: dict[str, Any] = {}


def _seal_worker(url: str, rows: list[tuple[Any, ...]], batch: list[tuple[Any, ...]] | None
                 ) -> tuple[list[str], list[Any]]:
    """A seal worker's share of one batch, its events read from the store: the digests of ``rows`` (in
    order) and, given the ``batch``'s case rows (all of them, ``_SealCase``), its broken chains (``_chains``)."""
    if _SEALER.get("url") != url:
        from . import Store

        _SEALER.update(url=url, store=Store.open(url, migrate=False, create=False), ctx=_deadline_context())
    span = batch or rows
    with _SEALER["store"].reading() as session:
        events = _events(session, span[0][0], span[-1][0])
    return (_digests(rows, events, _SEALER["ctx"]) if rows else [],
            _chains(batch, events) if batch is not None else [])


class ChainBreaks:
    """The broken chains the seal found (``repo.Broken``): all counted, the first ``LIMIT`` kept to be named
    (a store altered wholesale must not fill the memory with its breaks; ``verify`` names every one)."""

    LIMIT = 1000

    def __init__(self) -> None:
        self.count = 0
        self.named: list[Any] = []

    def extend(self, broken: list[Any]) -> None:
        for b in broken:
            self.count += 1
            if len(self.named) < self.LIMIT:
                self.named.append(b)

    def lines(self) -> list[str]:
        """Each named break, Chinese first, English after " / ": the case and the event."""
        return [chain_problem_line(b) for b in self.named]


_CHAIN_ZH = [
    (r"event #(\d+) is missing \(next stored is #(\d+)\)", "第 {0} 个环节缺失（其后存有第 {1} 个）"),
    (r"event #(\d+) does not follow the event before it", "第 {0} 个环节未接续前一环节（环节被删除、插入或调换）"),
    (r"event #(\d+): its recording time .* is unreadable", "第 {0} 个环节的记录时间无法读取（在 casecheck 之外被改动）"),
    (r"event #(\d+) \(.*\) was changed after it was recorded", "第 {0} 个环节记录后被改动"),
    (r"event #(\d+) is not valid JSON", "第 {0} 个环节不是有效的 JSON"),
    (r"event #(\d+): its type/date columns differ", "第 {0} 个环节的类型/日期列与所记环节不符"),
    (r"the case records (\d+) events ending in (\S+), the store holds (\d+) ending in (\S+) ",
     "案件记载 {0} 个环节、链头 {1}，库中存有 {2} 个、链头 {3}（环节被删除或添加，或案件的链头被改动）"),
    (r"a header correction carries no header", "案件信息更正中没有案件信息（在 casecheck 之外被改动）"),
    (r"the case header is not valid JSON", "案件基本信息不是有效的 JSON（在 casecheck 之外被改动）"),
    (r"the case header was changed outside casecheck", "案件基本信息在 casecheck 之外被改动"),
]


def chain_problem_line(b: Any) -> str:
    """A broken chain (``repo.Broken``) as one line: the case, the event, the problem in Chinese and then as
    ``verify`` words it in English."""
    import re

    zh = "哈希链校验未通过"
    for pattern, words in _CHAIN_ZH:
        found = re.match(pattern, b.problem)
        if found:
            zh = words.format(*found.groups())
            break
    where = f"{b.agency}/{b.case_id}"
    return f"{where}: {zh} / {where}" + (f" #{b.seq}" if b.seq else "") + f": {b.problem}"


class _Carry:
    """The previous checkpoint's leaves, read alongside the cases (both in row order), its root recomputed
    on the way: its digests are carried over only when that root is the signed one. What the store no
    longer holds of it (a sealed case gone, its header changed, sealed events rewritten) is collected in
    ``problems``: the seal refuses, so a checkpoint never blesses a store altered since the last one."""

    def __init__(self, blob: bytes, seq: int):
        self._lines = gzip.open(io.BytesIO(blob), "rt", encoding="utf-8")
        self._root = hashlib.sha256()
        self._next: list[Any] | None = None
        self.seq = seq
        self.problems: list[str] = []
        self._asked = -1
        self._advance()

    def _gone(self, leaf: list[Any]) -> None:
        self.problems.append(f"{leaf[1]}: 封存于检查点 #{self.seq} 的案件已不在库中 / the case sealed by checkpoint "
                             f"#{self.seq} is gone from the store")

    def differs(self, before: list[Any], leaf: list[Any]) -> None:
        """A sealed case whose leaf changed: only more events are allowed (checked by ``grown``)."""
        if before[1] != leaf[1]:
            self.problems.append(f"{before[1]}: 行 {before[0]} 现为案件 {leaf[1]} / row {before[0]} is now case {leaf[1]}")
        elif before[4] != leaf[4]:
            self.problems.append(f"{before[1]}: 案件基本信息与检查点 #{self.seq} 不符 / the header differs from "
                                 f"checkpoint #{self.seq}")
        elif before[2] > leaf[2] or (before[2] == leaf[2] and before[3] != leaf[3]):
            self.problems.append(f"{before[1]}: 检查点 #{self.seq} 封存的环节被删除或改写 / events sealed by "
                                 f"checkpoint #{self.seq} were removed or rewritten")

    def grown(self, before: list[Any], events: list[tuple[Any, ...]]) -> None:
        """A sealed case with events added since: its sealed events must still end in the sealed head."""
        count, head = before[2], before[3]
        sealed = events[count - 1] if 0 < count <= len(events) else None
        if count and (sealed is None or sealed[0] != count or sealed[7] != head):
            self.problems.append(f"{before[1]}: 检查点 #{self.seq} 封存的第 1–{count} 个环节被改写 / events #1–#{count} "
                                 f"sealed by checkpoint #{self.seq} were rewritten")

    def _advance(self) -> None:
        self._next = None
        for line in self._lines:
            if line.strip():
                self._next = json.loads(line)
                self._root.update(canonical(self._next).encode("utf-8") + b"\n")
                return

    def get(self, pk: int) -> list[Any] | None:
        """The sealed leaf of row ``pk`` (asked in row order), or None; the sealed rows skipped are gone."""
        while self._next is not None and self._next[0] < pk:
            if self._next[0] != self._asked:             # the leaf handed out last time is not gone
                self._gone(self._next)
            self._advance()
        self._asked = pk
        return self._next if self._next is not None and self._next[0] == pk else None

    def root(self) -> str:
        """Read to the end (the leaves after the last case asked for are gone) and give the root."""
        while self._next is not None:
            if self._next[0] > self._asked:
                self._gone(self._next)
            self._advance()
        return self._root.hexdigest()


def sm3_hash() -> Any:
    """A streaming SM3 hash (GB/T 32905, named by DA/T 97—2023 for electronic records) from ``cryptography``,
    or None when its OpenSSL lacks SM3. Checkpoints state an SM3 root beside the SHA-256 root."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes

    try:
        return hashes.Hash(hashes.SM3())
    except (UnsupportedAlgorithm, AttributeError):
        return None


def leaves_root_sm3(leaves: list[list[Any]]) -> str | None:
    h = sm3_hash()
    if h is None:
        return None
    for leaf in leaves:
        h.update(canonical(leaf).encode("utf-8") + b"\n")
    return h.finalize().hex()


def leaves_root(leaves: list[list[Any]]) -> str:
    h = hashlib.sha256()
    for leaf in leaves:
        h.update(canonical(leaf).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def changes_digest(session: Session, upto: int, mark: int | None = None) -> Any:
    """How many change-log rows have ids up to ``upto``, and a hash over them (every column). With ``mark``
    (the previous checkpoint's last row, at most ``upto``): also the count and hash up to ``mark``, the same
    pass (a third value).

    Each row is hashed as the canonical JSON of ``[id, case_pk, at, actor, kind, summary, old_hash,
    new_hash]`` and a newline, ``at`` to the second without its zone (``changes_digest_reference``, the
    definition, pinned equal by ``tests/test_trail_changes.py``). The rows are read as plain driver tuples
    and encoded by orjson (a million rows: a few seconds instead of about twenty)."""
    from .repo import raw_rows

    h, count, last = hashlib.sha256(), 0, 0
    at_mark: tuple[int, str] | None = None
    stamps: dict[Any, str] = {}
    while True:
        rows = raw_rows(session, "SELECT id, case_pk, at, actor, kind, summary, old_hash, new_hash FROM changes "
                                 "WHERE id > ? AND id <= ? ORDER BY id LIMIT 20000", last, upto)
        if not rows:
            if mark is None:
                return count, h.hexdigest()
            return count, h.hexdigest(), at_mark or (count, h.hexdigest())
        lines = []
        for r in rows:
            if mark is not None and at_mark is None and r[0] > mark:
                h.update(b"".join(lines))
                lines = []
                at_mark = (count, h.hexdigest())
            at = stamps.get(r[2])
            if at is None:
                at = stamps[r[2]] = _change_time(r[2])
            lines.append(_line([r[0], r[1], at, r[3], r[4], r[5], r[6], r[7]]))
            count += 1
        h.update(b"".join(lines))
        last = rows[-1][0]


def _change_time(value: Any) -> str:
    """A change row's time as hashed: to the second, without its zone (the driver gives a datetime, or on
    SQLite the stored text, read as SQLAlchemy reads it; text it cannot read is hashed as it stands, so
    it gives another digest rather than an error)."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.replace(tzinfo=None, microsecond=0).isoformat()


def _line(values: list[Any]) -> bytes:
    """``canonical(values)`` and a newline, as UTF-8: through orjson for these plain values (the same text,
    as ``chain.canonical_dumped`` shows), else the ``json`` way."""
    try:
        return orjson.dumps(values) + b"\n"
    except TypeError:
        return canonical(values).encode("utf-8") + b"\n"


def changes_digest_reference(session: Session, upto: int, mark: int | None = None) -> Any:
    """``changes_digest`` as first written (the ORM, ``canonical`` per row): its definition, kept for the
    test that pins the fast one to it."""
    from .tables import ChangeRow

    h, count, last = hashlib.sha256(), 0, 0
    at_mark: tuple[int, str] | None = None
    while True:
        rows = session.exec(select(ChangeRow.id, ChangeRow.case_pk, ChangeRow.at, ChangeRow.actor, ChangeRow.kind,
                                   ChangeRow.summary, ChangeRow.old_hash, ChangeRow.new_hash)
                            .where(ChangeRow.id > last, ChangeRow.id <= upto).order_by(ChangeRow.id)
                            .limit(20000)).all()
        if not rows:
            if mark is None:
                return count, h.hexdigest()
            return count, h.hexdigest(), at_mark or (count, h.hexdigest())
        for r in rows:
            if mark is not None and at_mark is None and r[0] > mark:
                at_mark = (count, h.hexdigest())
            at = r[2].replace(tzinfo=None, microsecond=0).isoformat() if r[2] else ""
            h.update(canonical([r[0], r[1], at, r[3], r[4], r[5], r[6], r[7]]).encode("utf-8"))
            h.update(b"\n")
            count += 1
        last = rows[-1][0]


def latest_checkpoint(session: Session) -> CheckpointRow | None:
    return session.exec(select(CheckpointRow).order_by(CheckpointRow.seq.desc()).limit(1)).first()


class _Packed:
    """A checkpoint's leaves taken one at a time, as the seal makes them: each leaf's line (canonical JSON and
    a newline) goes into the SHA-256 and SM3 roots and a gzip stream, and is dropped. What ``leaves_root``,
    ``leaves_root_sm3`` and ``_encode`` give of the whole list (the blob's bytes aside: a gzip stream of the
    same lines), without holding the list: a million leaves and their joined text were 2 GB."""

    def __init__(self) -> None:
        self.count = 0
        self._sha, self._sm3 = hashlib.sha256(), sm3_hash()
        self._zip = zlib.compressobj(3, zlib.DEFLATED, 31)           # 31: a gzip header and trailer
        self._parts: list[bytes] = []

    def add(self, leaf: list[Any]) -> None:
        line = canonical(leaf).encode("utf-8") + b"\n"
        self._sha.update(line)
        if self._sm3 is not None:
            self._sm3.update(line)
        packed = self._zip.compress(line)
        if packed:
            self._parts.append(packed)
        self.count += 1

    def root(self) -> str:
        return self._sha.hexdigest()

    def root_sm3(self) -> str | None:
        return None if self._sm3 is None else self._sm3.copy().finalize().hex()

    def blob(self) -> bytes:
        self._parts.append(self._zip.flush())
        blob, self._parts = b"".join(self._parts), []
        return blob


def _encode(leaves: list[list[Any]]) -> bytes:
    return gzip.compress("".join(canonical(leaf) + "\n" for leaf in leaves).encode("utf-8"), compresslevel=3)


def decode_leaves(blob: bytes) -> list[list[Any]]:
    return [json.loads(line) for line in gzip.decompress(blob).decode("utf-8").splitlines() if line]


def _deadline_context() -> Any:
    from ..cases import _deadline_context as context

    return context()


def make_checkpoint(store: Any, key_file: Path, directory: Path | None, *, workers: int = 1) -> CheckpointRow:
    """Sign and keep a checkpoint of the whole store (inside one writer transaction, so nothing changes
    meanwhile), then write it to ``directory`` as ``<seq>.json`` (never overwriting a file there).
    ``workers`` > 1: the deadline digests of the cases new or changed since the previous checkpoint are
    recomputed by that many processes. They read what this transaction reads: every other casecheck writer
    waits for the writers' lock it holds (on SQLite ``BEGIN IMMEDIATE``, whose lock lets readers in, and
    this transaction has written nothing when they read)."""
    from .tables import ChangeRow

    private = load_private(key_file)
    key_id = _key_id(private.public_key())
    with store.writing() as session:
        previous = latest_checkpoint(session)
        ctx = _deadline_context()
        carry = None
        if previous is not None and verify_signature(private.public_key(), previous.statement, previous.signature):
            carry = _Carry(previous.leaves, previous.seq)
        url = store.engine.url.render_as_string(hide_password=False)
        packed = _Packed()                      # the leaves, one pass: both roots and the gzip'd blob
        breaks = ChainBreaks()                  # and every case's chain checked in that pass
        for leaf in case_leaves(session, carry, ctx, url=url, workers=workers, breaks=breaks):
            packed.add(leaf)
        before = json.loads(previous.statement) if carry is not None else None
        if carry is not None and carry.root() != before["root"]:
            raise SealRefused(f"检查点 #{previous.seq} 的案件清单与其签名的根不符（库中的检查点被改动）；请运行 casecheck "
                                 f"verify，未封存 / the leaves of checkpoint #{previous.seq} in the store do not give "
                                 f"its signed root (altered); run `casecheck verify`; nothing was sealed")
        upto = session.exec(select(func.coalesce(func.max(ChangeRow.id), 0))).one()
        count, changes, sealed_changes = changes_digest(session, upto, before["changes"]["upto"] if before else 0)
        if before is not None and sealed_changes != (before["changes"]["count"], before["changes"]["digest"]):
            carry.problems.append(f"变更记录第 1–{before['changes']['upto']} 行在检查点 #{previous.seq} 之后被修改或删除 / "
                                  f"change-log rows up to #{before['changes']['upto']} were edited or deleted after "
                                  f"checkpoint #{previous.seq}")
        if breaks.count or (carry is not None and carry.problems):
            raise SealRefused(_refusal(breaks, carry))
        seq = (previous.seq + 1) if previous else 1
        at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        statement = {"format": FORMAT, "seq": seq, "at": at.replace(tzinfo=None).isoformat() + "Z",
                     "cases": packed.count, "root": packed.root(),
                     "changes": {"upto": upto, "count": count, "digest": changes},
                     "previous": digest(previous.statement) if previous else None, "key": key_id,
                     "leaf": ["row", "case", "events", "head", "header", "deadlines"]}
        sm3_root = packed.root_sm3()
        if sm3_root is not None:
            statement["root_sm3"] = sm3_root
        text = canonical(statement)
        signature = base64.b64encode(private.sign(text.encode("utf-8"))).decode("ascii")
        row = CheckpointRow(seq=seq, at=at, cases=packed.count, root=statement["root"], key_id=key_id,
                            statement=text, signature=signature, leaves=packed.blob())
        session.add(row)
        session.flush()
        written = _write_file(directory, row) if directory is not None else None
        try:
            session.commit()
        except BaseException:
            if written is not None:
                written.unlink(missing_ok=True)  # not kept in the store: no copy of it either
            raise
    return row


def _refusal(breaks: ChainBreaks, carry: "_Carry | None") -> str:
    """Why the seal refuses: the broken chains (each case and event), then what contradicts the previous
    checkpoint."""
    parts = []
    if breaks.count:
        lines = breaks.lines()
        more = (f"\n  … 另有 {breaks.count - len(lines)} 件 / {breaks.count - len(lines)} more"
                if breaks.count > len(lines) else "")
        parts.append(f"{breaks.count} 件案件的哈希链断裂或与案件记载不符，未封存（新检查点不会为改动背书）；请运行 casecheck "
                     f"verify / cases whose hash chain is broken or contradicts the case row: {breaks.count}; nothing "
                     f"was sealed (a checkpoint never vouches for an altered store); run `casecheck verify`:\n  "
                     + "\n  ".join(lines) + more)
    if carry is not None and carry.problems:
        shown = "\n  ".join(carry.problems[:20]) + (f"\n  … +{len(carry.problems) - 20}" if len(carry.problems) > 20
                                                   else "")
        parts.append(f"库与检查点 #{carry.seq} 不符，未封存（新检查点不会为改动背书）；请运行 casecheck verify / "
                     f"the store contradicts checkpoint #{carry.seq}; nothing was sealed (a new "
                     f"checkpoint never vouches for an altered store); run `casecheck verify`:\n  {shown}")
    return "\n".join(parts)


def unchanged_since_checkpoint(store: Any) -> CheckpointRow | None:
    """The newest checkpoint when nothing was written since it (same number of cases, no change-log row
    after its last one: every import, live step and correction adds one), else None. Two indexed queries:
    ``keys seal --if-changed`` run from cron costs nothing while the store is idle."""
    from .tables import CaseRow, ChangeRow

    with store.reading() as session:
        cp = latest_checkpoint(session)
        if cp is None:
            return None
        statement = json.loads(cp.statement)
        upto = session.exec(select(func.coalesce(func.max(ChangeRow.id), 0))).one()
        cases = session.exec(select(func.count()).select_from(CaseRow)).one()
    return cp if (upto, cases) == (statement["changes"]["upto"], statement["cases"]) else None


FILE_SLICE = 3 << 20       # bytes of leaves encoded at a time: whole groups of 3, so the slices' base64 joins up


def _write_file(directory: Path, row: CheckpointRow) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{row.seq:08d}.json"
    tmp = directory / f".{row.seq:08d}.json.tmp"
    with tmp.open("w", encoding="utf-8") as fh:        # json.dumps(data)'s text, the leaves' base64 a slice at a time
        fh.write(json.dumps({"statement": row.statement, "signature": row.signature}, ensure_ascii=False)[:-1])
        fh.write(', "leaves": "')
        step = FILE_SLICE
        for at in range(0, len(row.leaves), step):
            fh.write(base64.b64encode(row.leaves[at:at + step]).decode("ascii"))
        fh.write('"}')
    try:
        os.link(tmp, target)                     # fails if the file exists: the directory is append-only
    except FileExistsError:
        raise CasecheckError(f"{target}: 检查点文件已存在 / a checkpoint file of that number already exists "
                             f"(another store writes to this directory?); nothing was sealed") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


@dataclass
class FileCheckpoint:
    """A checkpoint file: its statement and signature read, its leaves (base64 of the gzip'd lines, the
    file's last field: 177 MB at a million cases) left in the file until ``open_leaves`` streams them."""

    seq: int
    statement: str
    signature: str
    path: Path
    start: int                  # the offset of the leaves' base64 in the file
    end: int                    # the offset just after it
    inline: bytes | None = None  # the leaves of a file laid out otherwise, decoded when it was read

    def open_leaves(self) -> io.RawIOBase:
        """The gzip'd leaves, decoded from the file a slice at a time (bounded memory)."""
        if self.inline is not None:
            return io.BytesIO(self.inline)
        return _Base64Slice(self.path, self.start, self.end)

    @property
    def leaves(self) -> bytes:
        with self.open_leaves() as fh:
            return fh.read()


HEAD = 1 << 20                  # the statement and signature come first, well within this


def read_checkpoint_file(directory: Path) -> FileCheckpoint | None:
    """The newest checkpoint file of ``directory``. Its statement and signature are read; its leaves are
    located, not read: a file as ``_write_file`` writes it (``{"statement": …, "signature": …, "leaves":
    "…"}``) has them last, as one base64 string. A file laid out otherwise (still the same JSON) is read
    whole once to find them."""
    files = sorted(p for p in directory.glob("*.json") if p.stem.isdigit()) if directory.is_dir() else []
    if not files:
        return None
    path = files[-1]
    with path.open("rb") as fh:
        head = fh.read(HEAD)
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - 2))
        tail = fh.read()
    marker = head.find(b', "leaves": "')
    data = None
    if marker > 0 and tail == b'"}':
        try:
            data = json.loads(head[:marker] + b"}")
        except ValueError:
            data = None
    inline = None
    if isinstance(data, dict) and set(data) == {"statement", "signature"}:
        start, end = marker + len(b', "leaves": "'), size - 2
    else:                                        # another layout: read whole
        data = json.loads(path.read_bytes())
        start = end = 0
        inline = base64.b64decode(data["leaves"])
    statement = data["statement"]
    return FileCheckpoint(json.loads(statement)["seq"], statement, data["signature"], path, start, end, inline)


class _Base64Slice(io.RawIOBase):
    """Bytes decoded from the base64 text between two offsets of a file, 4 MB of text at a time. Text that
    is not base64 (an altered copy) raises ``ValueError``, as decoding the whole did (``binascii.Error``)."""

    TEXT = 4 << 20                                # a multiple of 4: each slice decodes on its own

    def __init__(self, path: Path, start: int, end: int):
        self.fh = path.open("rb")
        self.fh.seek(start)
        self.left = end - start
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending and self.left > 0:
            text = self.fh.read(min(self.TEXT, self.left))
            if not text:
                raise ValueError("the checkpoint file ends early")
            self.left -= len(text)
            self.pending = base64.b64decode(text, validate=True)
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

    def close(self) -> None:
        self.fh.close()
        super().close()


def verify_signature(public: Any, statement: str, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public.verify(base64.b64decode(signature), statement.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return False
    return True


def stamp_checkpoint(doc: Any, store: Any) -> None:
    """A report over a store names the store's newest signed checkpoint (its root), so a reader can check
    the report against the checkpoint files: in the stamp (JSON) and as a note (every format)."""
    with store.reading() as session:
        cp = latest_checkpoint(session)
    if cp is None:
        doc.stamp["checkpoint"] = None
        note = ("案件库尚无签名检查点（casecheck keys seal）" if doc.lang == "zh" else
                "the store has no signed checkpoint yet (casecheck keys seal)")
    else:
        at = cp.at.replace(tzinfo=None).isoformat(timespec="seconds")
        doc.stamp["checkpoint"] = {"seq": cp.seq, "at": at, "cases": cp.cases, "root": cp.root}
        note = (f"审计检查点 #{cp.seq}（{at}，{cp.cases} 件）根 {cp.root}" if doc.lang == "zh" else
                f"audit checkpoint #{cp.seq} ({at}, {cp.cases} cases) root {cp.root}")
    doc.notes.append(note)
