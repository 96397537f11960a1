"""Correcting a stored case's header (当事人、事项、程序、执法人员、违法行为…): issue 17.

``correct_header(store, case_id, edit, actor=…, reason=…)`` appends a header correction to the case's
chain (``engine.store.header``): attributed to an officer of the case, with its reason and every changed
field (old → new) in the change log. The stored header is never rewritten. The corrected header is
validated like a case file's (the pydantic model, input hygiene, NFKC identifiers) together with the
case's events; the case's identity (``case_id``, ``agency.code``) cannot be corrected. On a live case (one
with a live step) the correction is judged by the guard: refused when, with the corrected header, a rule
that blocks one of the case's steps fails that did not fail with the header it replaces (a procedure or a
party changed under a decision already taken, a reviewer's legal qualification removed…).

``header_edit(sets, replace)`` turns the command line's ``--set 当事人.名称=某公司`` (Chinese or code field
names; officers addressed by their id: ``执法人员.R1.法律职业资格=否``) and ``--json`` (top-level fields
replaced whole) into the edit; an unknown field name is refused with the closest known one.
"""

from __future__ import annotations

import copy
import datetime as dt
from types import SimpleNamespace
from typing import Any, Callable

from sqlalchemy import delete
from sqlmodel import select

from .errors import CasecheckError, InputError
from .store import Store

__all__ = ["correct_header", "header_edit", "path_edit", "HeaderFieldError", "HeaderResult"]


class HeaderFieldError(CasecheckError):
    """A ``--set`` path or value that names no header field (with a did-you-mean)."""


class HeaderResult(SimpleNamespace):
    """``case_id``, ``seq`` (the correction's number), ``state``, ``changes`` (``field: old → new`` lines)."""


# ----------------------------------------------------------------------------------- words → header paths
TOP_WORDS = {"当事人": "party", "程序": "procedure", "办案程序": "procedure", "程序类型": "procedure",
             "事项": "matter", "案由": "matter", "违法行为": "violation", "首违情况": "first_offence",
             "首违": "first_offence", "执法人员": "officers", "执法机关": "agency"}
SUB_WORDS = {"名称": "name", "姓名": "name", "编号": "id", "证件号": "id", "证件号码": "id", "身份证号": "id",
             "身份证号码": "id", "统一社会信用代码": "id", "信用代码": "id", "类型": "kind", "代码": "code",
             "事项代码": "code", "领域": "domain", "地区": "region", "发生日期": "occurred_on", "违法行为日期": "occurred_on",
             "终了日期": "ended_on", "违法行为终了日期": "ended_on", "违法依据": "basis", "依据": "basis",
             "危害安全": "harm_to_safety", "危害后果": "harm", "改正日期": "corrected_on", "执法证号": "certificate",
             "证件有效期至": "certificate_valid_until", "证件有效期起": "certificate_valid_from",
             "法律职业资格": "legal_qualification", "首次审核日期": "first_review_on", "角色": "role"}
VALUES = {"procedure": {"普通程序": "ordinary", "普通": "ordinary", "简易程序": "simple", "简易": "simple",
                        "行政检查": "inspection", "检查": "inspection"},
          "party.kind": {"自然人": "person", "个人": "person", "单位": "organization", "法人": "organization",
                         "组织": "organization", "法人或其他组织": "organization"},
          "first_offence.harm": {"无": "none", "没有": "none", "轻微": "slight", "严重": "serious"},
          "officers.role": {"执法人员": "officer", "协管员": "auxiliary", "网格员": "grid", "第三方": "third_party"}}
BOOLEANS = {"legal_qualification", "harm_to_safety"}
YES, NO = {"是", "有", "true", "True", "yes", "√"}, {"否", "无", "false", "False", "no", "×"}


def _fields(model: Any) -> list[str]:
    return list(model.model_fields)


def _level_fields(top: str) -> list[str]:
    from . import model as m

    return _fields({"party": m.Party, "matter": m.Matter, "violation": m.Violation, "first_offence": m.FirstOffence,
                    "officers": m.Officer, "agency": m.Agency}[top])


def _word(word: str, codes: list[str], words: dict[str, str], path: str) -> str:
    from .vocab import suggest

    word = word.strip()
    if word in codes:
        return word
    code = words.get(word)
    if code in codes:
        return code
    known = [w for w, c in words.items() if c in codes] + codes
    guess = suggest(word, known)
    hint = f"；是否想写 {guess}？/ did you mean {guess}?" if guess else ""
    raise HeaderFieldError(f"{path}: 案件信息中没有字段“{word}”{hint} / no header field {word!r} "
                           f"(fields: {', '.join(codes)})")


def _value(path: str, raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith(("[", "{")):
        from .loader import parse_document

        try:
            return parse_document(raw, ".yaml")
        except ValueError as exc:
            raise HeaderFieldError(f"{path}={raw}: {exc}") from None
    leaf = path.rsplit(".", 1)[-1]
    if leaf in BOOLEANS:
        return True if raw in YES else False if raw in NO else raw
    table = VALUES.get(path) or VALUES.get(f"officers.{leaf}" if path.startswith("officers.") else "", {})
    return table.get(raw, raw)


def header_edit(sets: list[str], replace: dict[str, Any] | None = None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The edit ``--set`` and ``--json`` describe, checked now (an unknown field is refused before the store
    is opened) and applied to the header as it stands when the correction is made. ``--set PATH=VALUE``:
    PATH in Chinese or as codes, dotted (``当事人.名称``, ``party.id``, ``执法人员.R1.执法证号``); VALUE as text
    (``是``/``否`` for yes/no fields, Chinese words for coded values, a JSON/YAML list or mapping in ``[…]``
    or ``{…}``); an empty VALUE removes the field. ``replace``: top-level fields replaced whole."""
    from .model import CaseFile

    top_codes = [f for f in _fields(CaseFile) if f != "events"]
    steps: list[tuple[list[str], Any]] = []
    for item in sets:
        words, sep, raw = item.partition("=")
        if not sep or not words.strip():
            raise HeaderFieldError(f"{item!r}: 写作 字段=值 / write field=value (e.g. 当事人.名称=某某有限公司)")
        parts = [p for p in words.strip().split(".")]
        path = [_word(parts[0], top_codes, TOP_WORDS, words)]
        rest = parts[1:]
        if path[0] == "officers":
            if not rest:
                raise HeaderFieldError(f"{words}: 写作 执法人员.<编号>.<字段> / write officers.<id>.<field>, or give the "
                                       f"whole list with --json '{{\"officers\": […]}}'")
            path.append(rest.pop(0).strip())             # the officer's id
        if rest:
            if path[0] not in ("party", "matter", "violation", "first_offence", "officers", "agency"):
                raise HeaderFieldError(f"{words}: “{parts[0]}”没有下级字段 / {path[0]} has no sub-fields")
            if len(rest) > 1:
                raise HeaderFieldError(f"{words}: 字段层级过深 / too many levels")
            path.append(_word(rest[0], _level_fields(path[0]), SUB_WORDS, words))
        dotted = ".".join([path[0]] + path[2:] if path[0] == "officers" else path)
        steps.append((path, None if raw.strip() == "" else _value(dotted, raw)))
    if replace is not None:
        if not isinstance(replace, dict):
            raise HeaderFieldError("--json: 须为 JSON 对象 / a JSON object of header fields")
        for key in replace:
            _word(str(key), top_codes, TOP_WORDS, "--json")
        replace = {_word(str(k), top_codes, TOP_WORDS, "--json"): v for k, v in replace.items()}

    by_path = path_edit(steps)

    def edit(header: dict[str, Any]) -> dict[str, Any]:
        return by_path({**header, **copy.deepcopy(replace)} if replace else header)

    return edit


def path_edit(changes: list[tuple[list[str], Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The edit of typed values by path (the web's header form: ``["party", "name"]``, ``["officers", "O1",
    "certificate"]``; None removes the field), applied to the header as it stands when the correction is
    made."""
    def edit(header: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(header)
        for path, value in changes:
            _apply(out, path, value)
        return out

    return edit


def _apply(header: dict[str, Any], path: list[str], value: Any) -> None:
    if path[0] == "officers":
        officers = header.get("officers") or []
        ids = [o.get("id") for o in officers if isinstance(o, dict)]
        if path[1] not in ids:
            from .vocab import suggest

            guess = suggest(path[1], [str(i) for i in ids])
            hint = f"；是否想写 {guess}？/ did you mean {guess}?" if guess else ""
            raise HeaderFieldError(f"执法人员.{path[1]}: 本案没有编号为“{path[1]}”的执法人员{hint} / no officer {path[1]!r} "
                                   f"in the case (officers: {', '.join(map(str, ids)) or '—'}; add one with --json)")
        target = officers[ids.index(path[1])]
        if len(path) == 2:
            raise HeaderFieldError(f"执法人员.{path[1]}: 请写出字段，如 执法人员.{path[1]}.执法证号 / name the field")
        _put(target, path[2], value)
        return
    if len(path) == 1:
        _put(header, path[0], value)
        return
    target = header.get(path[0])
    if not isinstance(target, dict):
        if value is None:
            return
        target = header[path[0]] = {}
    _put(target, path[1], value)


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


# ----------------------------------------------------------------------------------------------- service
def correct_header(store: Store, case_id: str, edit: Callable[[dict[str, Any]], dict[str, Any]], *, actor: str,
                   reason: str, agency: str | None = None, proof: str = "asserted", lang: str = "zh",
                   as_of: dt.date | None = None, expect: int | None = None) -> HeaderResult:
    """Correct the header of a stored case: ``edit`` (the header as it stands → the corrected header) is
    applied inside the step's transaction (a live step's locks), so it sees every correction before it.
    ``expect``: how many events the corrector saw (``ConcurrentChange`` when another landed meanwhile)."""
    from .cases import PROOFS, ConcurrentChange, _changed_since, _deadline_context, _recorder
    from .loader import validate_case
    from .store.deadlines import refresh_deadlines
    from .store.header import HEADER, HEADER_TYPE, officers_by_id
    from .store.repo import (_append, _content_hash, _state, changed_fields, dump_case, live_case_pks, now,
                             stored_effective)
    from .persons import certificate_key
    from .store.tables import ChangeRow, OfficerRow, PartyRow
    from .workflow import default_workflows

    if proof not in PROOFS:
        raise CasecheckError(f"proof must be one of {', '.join(PROOFS)}, not {proof!r}")
    if not reason.strip():
        raise CasecheckError("更正须说明理由 / a correction needs a reason (--reason)")
    with store.writing_case(case_id, agency) as (session, row):
        if expect is not None and row.event_count != expect:
            raise ConcurrentChange(_changed_since(session, row, expect))
        before, events = stored_effective(session, row)
        after = edit(copy.deepcopy(before))
        source = f"correct {row.case_id} 案件信息 header"
        if not isinstance(after, dict):
            raise CasecheckError(f"{row.case_id}: 更正后的案件信息须为映射 / the corrected header must be a mapping")
        for key in ("format", "case_id"):
            if after.get(key) != before.get(key):
                raise _identity(row.case_id, key)
        if (after.get("agency") or {}).get("code") != (before.get("agency") or {}).get("code"):
            raise _identity(row.case_id, "agency.code")
        candidate, problems = validate_case({**after, "events": events}, source)
        if problems:
            raise InputError(problems)
        header, _ = dump_case(candidate)
        if header == before:
            raise CasecheckError(f"{row.case_id}: 更正后的案件信息与现有相同，未记录 / the corrected header is the same "
                                 f"as the header as it stands; nothing recorded")
        recorder = _recorder(SimpleNamespace(case_id=row.case_id, officers=[
            SimpleNamespace(id=o.get("id"), name=o.get("name")) for o in before.get("officers") or []
            if isinstance(o, dict)]), actor).id
        if row.id in live_case_pks(session, [row.id]):
            judge_correction(session, row, {**before, "events": events}, candidate, "案件信息更正 header correction",
                             as_of, lang)
        at = now()
        payload = {"type": HEADER_TYPE, "date": _today().isoformat(), "header": header}
        event = _append(session, row, payload, recorder, at, proof, HEADER)
        workflows = default_workflows()
        _, effective = dump_case(candidate)
        old_hash = row.content_hash
        row.content_hash = _content_hash(header, effective)
        row.state, row.updated_at = _state(candidate, workflows), at
        row.procedure = candidate.procedure
        row.party_id = candidate.party.id if candidate.party else None
        row.matter_code = candidate.matter.code if candidate.matter else None
        session.add(row)
        session.execute(delete(OfficerRow).where(OfficerRow.case_pk == row.id),
                        execution_options={"synchronize_session": False})
        session.flush()
        for o in candidate.officers:
            session.add(OfficerRow(case_pk=row.id, officer_id=o.id, name=o.name, certificate=o.certificate,
                                   certificate_valid_until=o.certificate_valid_until,
                                   legal_qualification=o.legal_qualification,
                                   certificate_key=certificate_key(o.certificate) or None))
        session.flush()
        if candidate.party:
            _party_row(session, row, candidate.party, PartyRow)
        gone = (before.get("party") or {}).get("id") if isinstance(before.get("party"), dict) else None
        if gone and gone != row.party_id:
            _reparty(session, gone, PartyRow)
        changes = [_labelled(c) for c in changed_fields(officers_by_id(before), officers_by_id(header))]
        shown = changes[:40] + ([f"…（另 {len(changes) - 40} 处 / {len(changes) - 40} more）"] if len(changes) > 40 else [])
        session.add(ChangeRow(case_pk=row.id, at=at, actor=recorder, kind="header_corrected",
                              summary=f"更正案件信息（#0），更正记录 #{event.seq} / corrected the header (#0) by #{event.seq}; 理由 / reason: {reason.strip()[:500]}; "
                                      f"变更 / changed: " + "; ".join(shown), old_hash=old_hash,
                              new_hash=row.content_hash))
        refresh_deadlines(session, row, candidate, _deadline_context())
        return HeaderResult(case_id=row.case_id, seq=event.seq, state=row.state, changes=changes)


def _labelled(change: str) -> str:
    """``party.name: A → B`` → ``当事人的名称 party.name: A → B``."""
    from .vocab import field_label

    path, _, rest = change.partition(": ")
    return f"{field_label(path)} {path}: {rest}"


def _today() -> dt.date:
    """The day in the time zone the case's officers work in ($CASECHECK_TZ, else Asia/Shanghai)."""
    import os
    from zoneinfo import ZoneInfo

    try:
        return dt.datetime.now(ZoneInfo(os.environ.get("CASECHECK_TZ") or "Asia/Shanghai")).date()
    except (ValueError, KeyError, OSError):
        return dt.date.today()


def _identity(case_id: str, key: str) -> CasecheckError:
    return CasecheckError(f"{case_id}: 案件编号与执法机关代码是案件的标识，不能更正（{key}）；如确有错误，请以正确编号新建案件 / "
                          f"the case id and agency code identify the case and cannot be corrected ({key}); store the "
                          f"case under the right id instead")


def _party_row(session: Any, row: Any, party: Any, PartyRow: Any) -> None:
    """The party row follows the newest case naming the party (as an import writes it): written only when
    this case is that case, or the party has no row yet."""
    from sqlalchemy import func

    from .store.tables import CaseRow

    stored = session.get(PartyRow, party.id)
    newest = session.exec(select(func.max(CaseRow.id)).where(CaseRow.party_id == party.id)).one()
    if stored is None:
        session.add(PartyRow(id=party.id, kind=party.kind, name=party.name))
    elif newest is None or newest <= row.id:
        stored.kind, stored.name = party.kind, party.name
        session.add(stored)


def _reparty(session: Any, party_id: str, PartyRow: Any) -> None:
    """A party the corrected case no longer names: its row follows the newest case that still names it."""
    from sqlalchemy import func

    from .store.repo import load_raw_cases
    from .store.tables import CaseRow

    newest = session.exec(select(func.max(CaseRow.id)).where(CaseRow.party_id == party_id)).one()
    stored = session.get(PartyRow, party_id)
    if newest is None or stored is None:
        return                                  # no case names it any more: the row stays as it was
    [raw] = load_raw_cases(session, [session.get(CaseRow, newest)])
    party = raw.get("party") or {}
    stored.kind, stored.name = party.get("kind", stored.kind), party.get("name", stored.name)
    session.add(stored)


def judge_correction(session: Any, row: Any, before: dict[str, Any], candidate: Any, what: str,
                     as_of: dt.date | None = None, lang: str = "zh") -> None:
    """The live guard on a correction (of the header or of an event) of a live case: ``StepRefused`` when a
    rule that blocks one of the case's steps fails with the correction (``candidate``) and did not fail on
    the case as it stood (``before``, as stored: header with ``events``)."""
    from .cases import StepRefused
    from .loader import validate_case
    from .rulebook import default_rulebook

    rulebook = default_rulebook()
    was, _ = validate_case(before, f"db:{row.agency}/{row.case_id}")   # None: a stored case that no longer
    day = as_of or max([dt.date.today()] + [e.date for e in candidate.events])   # validates: judged alone
    new = _blocking(session, row, candidate, rulebook, day, lang)
    old = _blocking(session, row, was, rulebook, day, lang) if was is not None else {}
    added = [f for key, f in new.items() if key not in old]
    if added:
        raise StepRefused(row.case_id, what, added)


def _blocking(session: Any, row: Any, case: Any, rulebook: Any, day: dt.date, lang: str) -> dict[tuple, Any]:
    """The findings of ``case`` (with its own party's history) by a rule that blocks one of its steps (or a
    step its workflow does not allow), by (rule id, events)."""
    from .cases import _checker
    from .exemptions import PartyHistory
    from .loader import LoadedCase
    from .model import CaseFile
    from .store.inspections import party_inspections
    from .store.repo import load_with_party

    party_id = case.party.id if case.party else None
    _, others = load_with_party(session, row, (party_id, case.matter.code if case.matter else None))
    history = PartyHistory(CaseFile.model_validate(raw) for raw in others)
    if case.procedure == "inspection":
        history = party_inspections(session, SimpleNamespace(id=row.id, party_id=party_id), history)
    [result] = list(_checker(rulebook, day, history, lang).check([LoadedCase(case, f"db:{row.agency}/{row.case_id}")]))
    if result.problem or result.failure:
        raise CasecheckError(str(result.problem or result.failure))
    types = {e.type for e in case.events}
    out = {}
    for f in result.findings:
        rule = rulebook.rules.get(f.rule_id)
        if f.rule_id == "workflow.illegal_step" or (rule is not None and rule.blocks in types):
            out[(f.rule_id, tuple(f.events))] = f
    return out

