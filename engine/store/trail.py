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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

from sqlalchemy import Column, LargeBinary, Text, func
from sqlmodel import Field, Session, SQLModel, select

from ..errors import CasecheckError
from .chain import canonical, digest

__all__ = ["CheckpointRow", "stamp_checkpoint", "KeyError_", "init_key", "load_private", "load_public", "key_path",
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


def case_leaves(session: Session, previous: "_Carry | None" = None, ctx: Any = None) -> Iterator[list[Any]]:
    """Every stored case's leaf, in row order: [row id, agency/case id, events, head hash, header hash] and,
    with ``ctx`` (the deadline context), a sixth element: the digest of the deadline rows the case's events
    imply (``audit.deadline_digest``). It is carried over from the ``previous`` checkpoint for a case
    unchanged since (same events, same head, same header) and recomputed from the events for the others,
    so ``verify`` checks a sealed case's deadlines by digest instead of recomputing them."""
    from types import SimpleNamespace

    from .audit import INVALID, deadline_digest, implied_deadlines
    from .repo import event_tuples
    from .tables import CaseRow

    last = 0
    while True:
        query = (select(CaseRow.id, CaseRow.agency, CaseRow.case_id, CaseRow.event_count, CaseRow.head_hash,
                        CaseRow.header).where(CaseRow.id > last).order_by(CaseRow.id).limit(5000))
        rows = session.exec(query).all()
        if not rows:
            return
        out = [[pk, f"{agency}/{case_id}", count, head, digest(header)] for pk, agency, case_id, count, head, header
               in rows]
        if ctx is not None:
            need = []
            for leaf, row in zip(out, rows):
                before = previous.get(leaf[0]) if previous is not None else None
                if before is not None and len(before) > 5 and before[1:5] == leaf[1:5]:
                    leaf.append(before[5])
                else:
                    need.append((leaf, row))
            if need:
                events = event_tuples(session, need[0][0][0], need[-1][0][0])
                for leaf, (pk, agency, case_id, _count, _head, header) in need:
                    implied = implied_deadlines(SimpleNamespace(agency=agency, case_id=case_id, header=header),
                                                [(e[0], e[3], e[9]) for e in events.get(pk, [])], ctx)
                    leaf.append(INVALID if implied is None else deadline_digest(implied))
        yield from out
        last = rows[-1][0]


class _Carry:
    """The previous checkpoint's leaves, read alongside the cases (both in row order), its root recomputed
    on the way: its digests are carried over only when that root is the signed one."""

    def __init__(self, blob: bytes):
        self._lines = gzip.open(io.BytesIO(blob), "rt", encoding="utf-8")
        self._root = hashlib.sha256()
        self._next: list[Any] | None = None
        self._advance()

    def _advance(self) -> None:
        self._next = None
        for line in self._lines:
            if line.strip():
                self._next = json.loads(line)
                self._root.update(canonical(self._next).encode("utf-8") + b"\n")
                return

    def get(self, pk: int) -> list[Any] | None:
        while self._next is not None and self._next[0] < pk:
            self._advance()
        return self._next if self._next is not None and self._next[0] == pk else None

    def root(self) -> str:
        while self._next is not None:
            self._advance()
        return self._root.hexdigest()


def leaves_root(leaves: list[list[Any]]) -> str:
    h = hashlib.sha256()
    for leaf in leaves:
        h.update(canonical(leaf).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def changes_digest(session: Session, upto: int) -> tuple[int, str]:
    """How many change-log rows have ids up to ``upto``, and a hash over them (every column)."""
    from .tables import ChangeRow

    h, count, last = hashlib.sha256(), 0, 0
    while True:
        rows = session.exec(select(ChangeRow.id, ChangeRow.case_pk, ChangeRow.at, ChangeRow.actor, ChangeRow.kind,
                                   ChangeRow.summary, ChangeRow.old_hash, ChangeRow.new_hash)
                            .where(ChangeRow.id > last, ChangeRow.id <= upto).order_by(ChangeRow.id)
                            .limit(20000)).all()
        if not rows:
            return count, h.hexdigest()
        for r in rows:
            at = r[2].replace(tzinfo=None, microsecond=0).isoformat() if r[2] else ""
            h.update(canonical([r[0], r[1], at, r[3], r[4], r[5], r[6], r[7]]).encode("utf-8"))
            h.update(b"\n")
            count += 1
        last = rows[-1][0]


def latest_checkpoint(session: Session) -> CheckpointRow | None:
    return session.exec(select(CheckpointRow).order_by(CheckpointRow.seq.desc()).limit(1)).first()


def _encode(leaves: list[list[Any]]) -> bytes:
    return gzip.compress("".join(canonical(leaf) + "\n" for leaf in leaves).encode("utf-8"), compresslevel=3)


def decode_leaves(blob: bytes) -> list[list[Any]]:
    return [json.loads(line) for line in gzip.decompress(blob).decode("utf-8").splitlines() if line]


def _deadline_context() -> Any:
    from ..cases import _deadline_context as context

    return context()


def make_checkpoint(store: Any, key_file: Path, directory: Path | None) -> CheckpointRow:
    """Sign and keep a checkpoint of the whole store (inside one writer transaction, so nothing changes
    meanwhile), then write it to ``directory`` as ``<seq>.json`` (never overwriting a file there)."""
    from .tables import ChangeRow

    private = load_private(key_file)
    key_id = _key_id(private.public_key())
    with store.writing() as session:
        previous = latest_checkpoint(session)
        ctx = _deadline_context()
        carry = None
        if previous is not None and verify_signature(private.public_key(), previous.statement, previous.signature):
            carry = _Carry(previous.leaves)
        leaves = list(case_leaves(session, carry, ctx))
        if carry is not None and carry.root() != json.loads(previous.statement)["root"]:
            leaves = list(case_leaves(session, None, ctx))      # its leaves were altered: carry nothing over
        upto = session.exec(select(func.coalesce(func.max(ChangeRow.id), 0))).one()
        count, changes = changes_digest(session, upto)
        seq = (previous.seq + 1) if previous else 1
        at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        statement = {"format": FORMAT, "seq": seq, "at": at.replace(tzinfo=None).isoformat() + "Z", "cases": len(leaves),
                     "root": leaves_root(leaves), "changes": {"upto": upto, "count": count, "digest": changes},
                     "previous": digest(previous.statement) if previous else None, "key": key_id,
                     "leaf": ["row", "case", "events", "head", "header", "deadlines"]}
        text = canonical(statement)
        signature = base64.b64encode(private.sign(text.encode("utf-8"))).decode("ascii")
        row = CheckpointRow(seq=seq, at=at, cases=len(leaves), root=statement["root"], key_id=key_id,
                            statement=text, signature=signature, leaves=_encode(leaves))
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


def _write_file(directory: Path, row: CheckpointRow) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{row.seq:08d}.json"
    data = {"statement": row.statement, "signature": row.signature,
            "leaves": base64.b64encode(row.leaves).decode("ascii")}
    tmp = directory / f".{row.seq:08d}.json.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
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
    seq: int
    statement: str
    signature: str
    leaves: bytes


def read_checkpoint_file(directory: Path) -> FileCheckpoint | None:
    """The newest checkpoint file of ``directory``."""
    files = sorted(p for p in directory.glob("*.json") if p.stem.isdigit()) if directory.is_dir() else []
    if not files:
        return None
    data = json.loads(files[-1].read_text(encoding="utf-8"))
    statement = data["statement"]
    return FileCheckpoint(json.loads(statement)["seq"], statement, data["signature"],
                          base64.b64decode(data["leaves"]))


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
