"""``casecheck verify``: everything the store holds, checked against what it must be.

One pass over the cases in row order, a chunk at a time (bounded memory at a million cases):
- each case's hash chain, header and head (``repo.check_chain``);
- the rows derived from a case: its officers (from its header), its party (from the newest case naming
  it), its ``deadlines`` (recomputed from its events, as the import and the live step compute them);
- against the newest signed checkpoint (``trail.py``), when the store has one or a checkpoint directory
  is given: its signature (the public key comes from outside the store), its root over every case's head,
  every sealed case still there with the same header and the same event at the sealed position, nothing
  sealed removed, the sealed change-log rows unchanged; cases added or grown since are counted, not
  judged (they are sealed by the next checkpoint).
Every discrepancy is named (case, event, table); nothing stops at the first.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import func
from sqlmodel import Session, select

from .chain import GENESIS, canonical, digest
from .repo import Broken, _as_stored, check_chain, events_by_case
from .tables import CaseRow, ChangeRow, DeadlineRow, EventRow, OfficerRow, PartyRow
from .trail import CheckpointRow, changes_digest, read_checkpoint_file, verify_signature

__all__ = ["verify_store", "VerifyReport"]

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


def _leaf_stream(blob: bytes) -> Iterator[list[Any]]:
    with gzip.open(io.BytesIO(blob), "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def verify_store(session: Session, *, derived: bool = True, public_key: Any = None,
                 directory: Path | None = None, ctx: Any = None, trail: bool = True,
                 url: str | None = None, workers: int = 1) -> VerifyReport:
    """``derived``: check officers, parties and (with ``ctx``, the deadline context) deadlines; ``trail``:
    check against the newest signed checkpoint (``public_key`` from outside the store). ``workers`` > 1
    (with the store's ``url``): the deadlines, which are recomputed from every case's events (most of the
    work), are checked by that many processes, a chunk of rows each, while this one checks the rest."""
    report = VerifyReport()
    pool = None
    pending_checks: list[Any] = []
    if derived and ctx is not None and url is not None and workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        local_ctx, ctx = ctx, None

    def collect(block: bool) -> None:
        while pending_checks and (block or pending_checks[0].done() or len(pending_checks) > 2 * workers):
            report.broken.extend(pending_checks.pop(0).result())
    sealed = _reference(session, report, public_key, directory) if trail else None
    leaves = _leaf_stream(sealed[1]) if sealed else iter(())
    root = hashlib.sha256()
    pending = next(leaves, None)

    def brk(row_or_key: Any, seq: int | None, problem: str) -> None:
        if not isinstance(row_or_key, str):
            report.broken.append(Broken(row_or_key.agency, row_or_key.case_id, seq, problem))
        else:
            agency, _, case_id = str(row_or_key).partition("/")
            report.broken.append(Broken(agency, case_id, seq, problem))

    def consume_missing(upto_pk: int | None) -> None:
        """Sealed leaves of rows before ``upto_pk`` (or all) that the store no longer has."""
        nonlocal pending
        while pending is not None and (upto_pk is None or pending[0] < upto_pk):
            root.update(canonical(pending).encode("utf-8") + b"\n")
            brk(pending[1], None, f"封存于检查点 #{sealed[0]['seq']} 的案件已被删除 / the case sealed by checkpoint "
                                  f"#{sealed[0]['seq']} is missing from the store (deleted)")
            pending = next(leaves, None)

    parties_seen: dict[str, tuple[int, Any]] = {}
    conn = session.connection()             # plain rows, not ORM objects: a million cases stay cheap
    cases = CaseRow.__table__
    officer_t, deadline_t = OfficerRow.__table__, DeadlineRow.__table__
    last = 0
    while True:
        rows = conn.execute(cases.select().where(cases.c.id > last).order_by(cases.c.id).limit(CHUNK)).all()
        if not rows:
            break
        last = rows[-1].id
        if pool is not None:
            pending_checks.append(pool.submit(_deadline_range, url, rows[0].id, last))
            collect(False)
        events = events_by_case(session, rows[0].id, last)
        officers: dict[int, list[Any]] = {}
        deadlines: dict[int, list[Any]] = {}
        if derived:
            for o in conn.execute(officer_t.select().where(officer_t.c.case_pk >= rows[0].id,
                                                           officer_t.c.case_pk <= last)):
                officers.setdefault(o.case_pk, []).append(o)
            for d in conn.execute(deadline_t.select().where(deadline_t.c.case_pk >= rows[0].id,
                                                            deadline_t.c.case_pk <= last)):
                deadlines.setdefault(d.case_pk, []).append(d)
        for row in rows:
            report.cases += 1
            own = events.get(row.id, [])
            report.events += len(own)
            problem = check_chain(row, own)
            if problem:
                brk(row, *problem)
            if sealed:
                consume_missing(row.id)
                if pending is not None and pending[0] == row.id:
                    root.update(canonical(pending).encode("utf-8") + b"\n")
                    _against_leaf(row, own, pending, sealed[0]["seq"], brk, report)
                    pending = next(leaves, None)
                else:
                    report.added_since += 1
            if derived:
                _derived(row, own, officers.get(row.id, []), deadlines.get(row.id, []), ctx, brk, parties_seen)
    if pool is not None:
        try:
            collect(True)
        finally:
            pool.shutdown(cancel_futures=True)
        ctx = local_ctx
    if sealed:
        consume_missing(None)
        if root.hexdigest() != sealed[0]["root"]:
            report.broken.append(Broken("", "", None, f"检查点 #{sealed[0]['seq']} 的案件清单与其签名的根不符 / the case "
                                                      f"list of checkpoint #{sealed[0]['seq']} does not give its signed root"))
        changes = sealed[0]["changes"]
        count, value = changes_digest(session, changes["upto"])
        if (count, value) != (changes["count"], changes["digest"]):
            report.broken.append(Broken("", "", None, f"变更记录（changes 表）第 1–{changes['upto']} 行在检查点 "
                                                      f"#{sealed[0]['seq']} 之后被修改或删除 / change-log rows up to "
                                                      f"#{changes['upto']} were edited or deleted after checkpoint "
                                                      f"#{sealed[0]['seq']} ({changes['count']} sealed, {count} now)"))
    orphans = session.exec(select(func.count()).select_from(EventRow)
                           .where(EventRow.case_pk.not_in(select(CaseRow.id)))).one()
    if orphans:
        report.broken.append(Broken("", "", None, f"{orphans} event rows belong to no case"))
    if derived:
        _parties(session, parties_seen, report)
        for table, name in ((OfficerRow, "officers"), (DeadlineRow, "deadlines")):
            stray = session.exec(select(func.count()).select_from(table)
                                 .where(table.case_pk.not_in(select(CaseRow.id)))).one()
            if stray:
                report.broken.append(Broken("", "", None, f"{stray} rows of {name} belong to no case"))
    return report


def _reference(session: Session, report: VerifyReport, public_key: Any,
               directory: Path | None) -> tuple[dict[str, Any], bytes] | None:
    """The newest checkpoint, checked: from the directory when it is newer than (or equal to) the store's."""
    stored = session.exec(select(CheckpointRow).order_by(CheckpointRow.seq.desc()).limit(1)).first()
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
        text, signature, blob = copied.statement, copied.signature, copied.leaves
    else:
        text, signature, blob = stored.statement, stored.signature, stored.leaves
        if copied is not None and copied.seq == stored.seq and (copied.statement, copied.signature) != (
                stored.statement, stored.signature):
            report.broken.append(Broken("", "", None, f"库中的检查点 #{stored.seq} 与目录中的副本不同 / checkpoint "
                                                      f"#{stored.seq} in the store differs from its copy"))
            text, signature, blob = copied.statement, copied.signature, copied.leaves
        elif directory is not None and (copied is None or copied.seq < stored.seq):
            report.broken.append(Broken("", "", None, f"检查点 #{stored.seq} 不在检查点目录 {directory} 中 / "
                                                      f"checkpoint #{stored.seq} is not in {directory}"))
    if not verify_signature(public_key, text, signature):
        report.broken.append(Broken("", "", None, "检查点签名无效（不是该密钥所签，或已被改动）/ the checkpoint's "
                                                  "signature does not verify with this key (forged or altered)"))
        return None
    statement = json.loads(text)
    report.checkpoint = {k: statement[k] for k in ("seq", "at", "root", "cases")}
    return statement, blob


def _against_leaf(row: CaseRow, events: list[EventRow], leaf: list[Any], seq: int, brk: Any,
                  report: VerifyReport) -> None:
    _pk, key, count, head, header_hash = leaf
    if f"{row.agency}/{row.case_id}" != key:
        brk(row, None, f"检查点 #{seq} 中此行是案件 {key} / checkpoint #{seq} sealed row {row.id} as case {key}")
        return
    if digest(row.header) != header_hash:
        brk(row, None, f"案件基本信息与检查点 #{seq} 不符 / the case header differs from checkpoint #{seq}")
    if count == 0:
        sealed_head = GENESIS
    elif len(events) >= count and events[count - 1].seq == count:
        sealed_head = events[count - 1].hash
    else:
        brk(row, None, f"检查点 #{seq} 封存了 {count} 个环节，现仅存 {len(events)} 个 / checkpoint #{seq} sealed "
                       f"{count} events, the store holds {len(events)}")
        return
    if sealed_head != head:
        first = next((e.seq for e in events[:count]), None)
        brk(row, first, f"第 1–{count} 个环节与检查点 #{seq} 不符（被改写后重新计算了哈希）/ events #1–#{count} "
                        f"differ from what checkpoint #{seq} sealed (rewritten and re-hashed)")
    if len(events) > count:
        report.grown_since += 1


def _derived(row: CaseRow, events: list[EventRow], officers: list[OfficerRow], deadlines: list[DeadlineRow],
             ctx: Any, brk: Any, parties_seen: dict[str, tuple[int, Any]]) -> None:
    try:
        raw = _as_stored(row.header, [(e.seq, e.payload, e.corrects) for e in events])
    except ValueError:
        return                                   # named by the chain check
    want = sorted((o.get("id"), o.get("name"), o.get("certificate"), o.get("certificate_valid_until"),
                   bool(o.get("legal_qualification", False))) for o in raw.get("officers", []))
    have = sorted((o.officer_id, o.name, o.certificate,
                   o.certificate_valid_until.isoformat() if o.certificate_valid_until else None,
                   bool(o.legal_qualification)) for o in officers)
    if want != have:
        brk(row, None, "执法人员表（officers）与案件记载不符 / the officers rows differ from the case header")
    party = raw.get("party")
    if party and party.get("id"):
        parties_seen[party["id"]] = (row.id, (party.get("kind"), party.get("name")))
    if ctx is not None:
        _deadlines_of(row, raw, deadlines, ctx, brk)


def _deadlines_of(row: Any, raw: dict[str, Any], deadlines: list[Any], ctx: Any, brk: Any) -> None:
    from ..loader import validate_case
    from .deadlines import deadline_rows_for

    case, problems = validate_case(raw, f"db:{row.agency}/{row.case_id}")
    if case is None:
        brk(row, None, "已存案件不再通过校验 / the stored case no longer validates: " + "; ".join(map(str, problems[:2])))
        return
    expected = Counter(_deadline_key(r) for r in deadline_rows_for(case, ctx))
    stored = Counter(_deadline_key({"code": d.code, "platform": d.platform, "start": d.start, "due": d.due,
                                    "open_until": d.open_until, "officers": d.officers}) for d in deadlines)
    if expected != stored:
        diff = sorted((stored - expected).keys()) + sorted((expected - stored).keys())
        brk(row, None, f"期限表（deadlines）与案件环节推出的期限不符 / the deadlines rows differ from what the "
                       f"events imply: {', '.join(d[0] for d in diff[:3])}")


def _deadline_key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["code"], r.get("platform"), str(r["start"]), str(r["due"]), str(r["open_until"]), r.get("officers") or "")


def _parties(session: Session, seen: dict[str, tuple[int, Any]], report: VerifyReport) -> None:
    stored = {p.id: (p.kind, p.name) for p in session.exec(select(PartyRow))}
    for pid, (_pk, want) in seen.items():
        have = stored.get(pid)
        if have is None:
            report.broken.append(Broken("", "", None, f"当事人 {pid} 不在当事人表（parties）中 / party {pid} is missing "
                                                      f"from the parties rows"))
        elif have != want:
            report.broken.append(Broken("", "", None, f"当事人表（parties）中 {pid} 与最新案件记载不符 / the parties "
                                                      f"row of {pid} differs from the newest case naming it"))


_WORKER: dict[str, Any] = {}


def _deadline_range(url: str, low: int, high: int) -> list[Broken]:
    """A worker's share of ``verify``: the deadlines of the cases with ids in [low, high]."""
    if _WORKER.get("url") != url:
        from ..cases import _deadline_context
        from . import Store

        _WORKER.update(url=url, store=Store.open(url, migrate=False, create=False), ctx=_deadline_context())
    out: list[Broken] = []

    def brk(row: Any, seq: int | None, problem: str) -> None:
        out.append(Broken(row.agency, row.case_id, seq, problem))

    with _WORKER["store"].reading() as session:
        conn = session.connection()
        cases, deadline_t = CaseRow.__table__, DeadlineRow.__table__
        rows = conn.execute(cases.select().where(cases.c.id >= low, cases.c.id <= high).order_by(cases.c.id)).all()
        events = events_by_case(session, low, high)
        deadlines: dict[int, list[Any]] = {}
        for d in conn.execute(deadline_t.select().where(deadline_t.c.case_pk >= low, deadline_t.c.case_pk <= high)):
            deadlines.setdefault(d.case_pk, []).append(d)
        for row in rows:
            try:
                raw = _as_stored(row.header, [(e.seq, e.payload, e.corrects) for e in events.get(row.id, [])])
            except ValueError:
                continue
            _deadlines_of(row, raw, deadlines.get(row.id, []), _WORKER["ctx"], brk)
    return out
