"""The decision log: every check and every live decision the HTTP API gives, kept for later audit.

A record holds the decision id returned to the caller, the time, the client and the acting officer, the
case, the SHA-256 of the input (canonical JSON), the outcome and the rule ids of the result, and the
engine version, rule-catalogue revision and calendar years it was judged with. The input itself is kept
too unless the server was started with inputs off (``CASECHECK_KEEP_INPUTS=0``): a kept input holds
personal data of the case (the party's name and id), a digest does not; without the input a decision
can be audited (its digest matched against a file) but not replayed.

``export`` streams records as JSON Lines; ``replay`` judges a kept input again with today's engine and
says whether it agrees.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

from sqlmodel import Session, select

from .errors import CasecheckError
from .store import Store
from .store.api_tables import DecisionRow

__all__ = ["digest", "log_decision", "add_decision", "decision_row", "export", "replay", "Replay", "keep_inputs_default"]


def keep_inputs_default() -> bool:
    return os.environ.get("CASECHECK_KEEP_INPUTS", "1").strip().lower() not in ("0", "no", "false", "off")


def canonical(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def digest(obj: Any) -> str:
    return hashlib.sha256(canonical(obj).encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def decision_values(*, kind: str, client: str, officer: str | None, agency: str | None, case_id: str | None,
                    payload: Any, outcome: str, rule_ids: list[str], stamp: dict[str, str], as_of: dt.date | None,
                    lang: str, event_seq: int | None = None, keep_input: bool = True) -> dict[str, Any]:
    """One decision-log record's columns (a random id: no writer needs to wait for another to insert it)."""
    text = canonical(payload)
    return dict(id=str(uuid.uuid4()), at=_now(), kind=kind, client=client, officer=officer, agency=agency,
                case_id=(case_id or None) and case_id[:1000], input_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                outcome=outcome, rule_ids=json.dumps(sorted(rule_ids), ensure_ascii=False), event_seq=event_seq,
                as_of=as_of, lang=lang, engine_version=stamp["engine"], rules_version=stamp["rules"],
                calendar_years=stamp["calendar"], input=text if keep_input else None)


def decision_row(**fields: Any) -> DecisionRow:
    """One decision-log record as an ORM object (``decision_values``)."""
    return DecisionRow(**decision_values(**fields))


def add_decision(session: Session, **fields: Any) -> str:
    """Write one record in ``session``'s transaction (an accepted step: inside the step's own transaction,
    so the event and its record are committed together or not at all); returns its decision id. One
    Core INSERT, no ORM object."""
    values = decision_values(**fields)
    session.connection().execute(_insert(), values)
    return values["id"]


def _insert() -> Any:
    from sqlalchemy import insert

    return insert(DecisionRow.__table__)


def log_decision(store: Store, *, session: Session | None = None, **fields: Any) -> str:
    """Append one record of a decision that stores nothing else (a check, a refused or invalid step), in
    its own short transaction; returns its decision id. On PostgreSQL through ``session`` when given
    (the API request's connection; its transaction is committed here)."""
    values = decision_values(**fields)
    if store.is_sqlite:                                  # one writer at a time on SQLite
        if session is not None:
            from .services import release

            release(session)
        with store.writing() as own:
            own.connection().execute(_insert(), values)
    elif session is not None:                            # an insert of a fresh key needs no writers' lock
        session.connection().execute(_insert(), values)
        session.commit()
    else:
        with Session(store.engine, expire_on_commit=False) as own:
            own.connection().execute(_insert(), values)
            own.commit()
    return values["id"]


def as_record(row: DecisionRow) -> dict[str, Any]:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.timezone.utc)
    return {"id": row.id, "at": at.isoformat().replace("+00:00", "Z"), "kind": row.kind, "client": row.client,
            "officer": row.officer, "agency": row.agency, "case_id": row.case_id, "input_sha256": row.input_sha256,
            "outcome": row.outcome, "rule_ids": json.loads(row.rule_ids), "event_seq": row.event_seq,
            "as_of": row.as_of.isoformat() if row.as_of else None, "lang": row.lang,
            "engine_version": row.engine_version, "rules_version": row.rules_version,
            "calendar_years": row.calendar_years, "input_kept": row.input is not None}


def export(store: Store, since: dt.datetime | None = None, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Records from ``since`` (UTC) on, oldest first, a batch at a time (the input itself is not exported)."""
    last: tuple[dt.datetime, str] | None = None
    while True:
        query = select(DecisionRow).order_by(DecisionRow.at, DecisionRow.id).limit(batch)
        if since is not None:
            query = query.where(DecisionRow.at >= since)
        if last is not None:
            query = query.where((DecisionRow.at > last[0]) | ((DecisionRow.at == last[0]) & (DecisionRow.id > last[1])))
        with store.reading() as session:
            rows = session.exec(query).all()
        for row in rows:
            yield as_record(row)
        if len(rows) < batch:
            return
        last = (rows[-1].at, rows[-1].id)


def get(store: Store, decision_id: str) -> DecisionRow:
    with store.reading() as session:
        row = session.get(DecisionRow, decision_id)
    if row is None:
        raise CasecheckError(f"没有决定 {decision_id} / no decision {decision_id!r} in the log")
    return row


@dataclass
class Replay:
    record: dict[str, Any]
    outcome: str
    rule_ids: list[str]
    agrees: bool
    digest_matches: bool
    engine_version: str
    rules_version: str
    calendar_years: str
    note: str = ""


def replay(store: Store, decision_id: str) -> Replay:
    """Judge the logged input again with today's engine (nothing is stored) and compare outcome and rule ids."""
    from .services import stamp

    row = get(store, decision_id)
    if row.input is None:
        raise CasecheckError(f"决定 {decision_id} 未保存输入（服务以 CASECHECK_KEEP_INPUTS=0 运行），无法重新判定 / "
                             f"the input of decision {decision_id} was not kept (server ran with "
                             f"CASECHECK_KEEP_INPUTS=0); it cannot be replayed")
    payload = json.loads(row.input)
    if row.kind == "check":
        outcome, rule_ids, note = _replay_check(payload)
    else:
        outcome, rule_ids, note = _replay_step(store, payload, row.at)
    now = stamp()
    logged = json.loads(row.rule_ids)
    return Replay(as_record(row), outcome, sorted(rule_ids), outcome == row.outcome and sorted(rule_ids) == logged,
                  digest(payload) == row.input_sha256, now["engine"], now["rules"], now["calendar"], note)


def check_rule_ids(result: Any) -> list[str]:
    return sorted(f.rule_id for f in result.findings)


def check_outcome(result: Any) -> str:
    return "invalid" if result.all_problems else "checked"


def _replay_check(payload: dict[str, Any]) -> tuple[str, list[str], str]:
    from .services import check_documents

    result = check_documents(payload["cases"], dt.date.fromisoformat(payload["as_of"]), payload.get("lang", "zh"))
    return check_outcome(result), check_rule_ids(result), ""


def _replay_step(store: Store, payload: dict[str, Any], at: dt.datetime | None = None) -> tuple[str, list[str], str]:
    """The live guard's judgement of the step, without writing, against the store as it was when the
    step was judged: the stored case's first ``events_before`` events (stored events are never
    rewritten), and for the party's look-back (first offence; an inspection's yearly cap) only the events
    the guard could see then — those with ids up to the logged ``lookback_upto`` (every event of a party
    is written under its lock, so those are exactly the ones it saw), or, for a record logged before
    that was kept, those recorded by the decision's time ``at`` (to the second). Then the recorder's
    duties, the rules and the workflow, as ``engine.cases.record`` judges them."""
    from sqlalchemy import func

    from .cases import RecorderRefused, _check_duties
    from .calendar import default_calendar
    from .check import Checker
    from .exemptions import PartyHistory
    from .loader import LoadedCase, validate_case
    from .model import CaseFile
    from .rulebook import default_rulebook
    from .store.inspections import party_inspections
    from .store.repo import find_case, load_with_party
    from .store.tables import EventRow
    from .workflow import default_workflows

    book = default_rulebook()
    note = ""
    with store.reading() as session:
        row = find_case(session, payload["case_id"], payload["agency"])
        if "lookback_upto" in payload:
            bound = payload["lookback_upto"]
            if bound is None:                 # the guard read no event at all: nothing of the party was stored
                bound = 0
        elif at is not None:
            moment = at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)
            bound = session.exec(select(func.max(EventRow.id)).where(EventRow.recorded_at <= moment)).one() or 0
            note = "look-back as of the decision's time (events recorded by then, to the second)"
        else:
            bound = None
        stored, others = load_with_party(session, row, before=bound)
        history = PartyHistory(CaseFile.model_validate(raw) for raw in others)
        if row.procedure == "inspection":
            history = party_inspections(session, row, history, before=bound)
    before = payload["events_before"]
    if len(stored["events"]) < before:
        raise CasecheckError(f"{row.case_id}: 存储的环节少于记录时（{len(stored['events'])} < {before}）/ the store holds "
                             f"fewer events than when the step was judged; run `casecheck verify`")
    source = f"replay {row.case_id}"
    candidate, problems = validate_case({**stored, "events": stored["events"][:before] + [payload["event"]]}, source)
    if problems:
        return "invalid", [], note
    index = len(candidate.events) - 1
    new = candidate.events[index]
    try:
        _check_duties(candidate, index, payload["officer"], book)
    except RecorderRefused:
        return "forbidden", [], note
    checker = Checker(book, default_calendar(), default_workflows(), dt.date.fromisoformat(payload["as_of"]),
                      engine="oracle", lang=payload.get("lang", "zh"), history=history)
    [result] = list(checker.check([LoadedCase(candidate, source)]))
    if result.problem or result.failure:
        return "invalid", [], str(result.problem or result.failure)
    blocking = [f for f in result.findings if (f.rule_id == "workflow.illegal_step" and index in f.events)
                or book.rules[f.rule_id].blocks == new.type]
    if blocking:
        return "refused", [f.rule_id for f in blocking], note
    return "accepted", [f.rule_id for f in result.findings], note
