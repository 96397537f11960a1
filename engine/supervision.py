"""Supervision (《行政执法监督条例》, 国务院令第825号, in force 2026-02-01): the district justice bureau and the
司法所 supervise street offices and departments. A supervisor turns findings — of one case, several cases of
one agency, or an agency-wide problem — into a 监督意见书 or 监督通知书 with a rectification deadline
(整改期限), tracked to closure in the store:

    issued ──reply──▶ replied ──accept──▶ closed
       ▲                 │
       └────return───────┘   (returned: a new report is due, by a new deadline if one is given)

Overdue: the deadline in force has passed and the notice is not closed. Every state change is a new row
(``engine.store.supervision``) with who, how that was established (``PROOFS``) and when.

Citations: Art 2 (county-level governments supervise their departments and 派出机关) and Art 6 (the justice
administration department is the supervision body; the 司法所 of a 乡镇/街道 assists) are read
(shared/domain/law-2024-2026.md). The articles on supervision notices / opinions and on rectification
periods were NOT verified (same source: "outputs: supervision notices, opinions and decisions [read, Q&A];
articles on case-file review and correction periods [unverified]"): the documents say so.

Nothing here prints; the CLI (``engine.cli_supervise``) and the web (``engine.web.supervision``) are edges.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import func
from sqlmodel import select

from .errors import CasecheckError

__all__ = ["KINDS", "ACTIONS", "REGULATION", "REGULATION_IN_FORCE", "SupervisionError", "NoticeView", "issue",
           "reply", "decide", "notices", "notice", "regulation_basis", "finding_basis", "rectification_alerts",
           "supervisor_section", "add_supervisor_section"]

KINDS = {"notice": ("行政执法监督通知书", "supervision notice"), "opinion": ("行政执法监督意见书", "supervision opinion")}
ACTIONS = ("reply", "accept", "return")
STATES = {"issued": ("待整改", "awaiting rectification"), "replied": ("已报整改，待审核", "rectification reported"),
          "returned": ("退回重新整改", "returned"), "closed": ("已销号", "closed")}
REGULATION_IN_FORCE = dt.date(2026, 2, 1)
REGULATION = ("《行政执法监督条例》（国务院令第825号，2026年2月1日起施行）第二条、第六条",
              "监督意见书、监督通知书及整改期限的具体条款未核实，请以条例正式文本为准（第二条、第六条据国务院官方问答引用）")
TIANJIN_BEFORE = ("《天津市行政执法监督规定》（津政令第9号，2014年10月1日起施行）第六条",
                  "（2026年2月1日前：《行政执法监督条例》尚未施行）")
MAX_TEXT = 4000
ATTEMPTS = 3
SOON_WORKDAYS = 5         # "due soon" in the supervisor's summary (the dashboard's yellow cards)


class SupervisionError(CasecheckError):
    """A supervision step refused: named notice missing, out of scope, out of order, or bad input."""


def regulation_basis(day: dt.date) -> tuple[str, str]:
    """(the supervision's own basis, what of it is unverified) for a notice issued on ``day``."""
    return REGULATION if day >= REGULATION_IN_FORCE else TIANJIN_BEFORE


@dataclass
class NoticeView:
    pk: int
    number: str
    kind: str
    district: str | None
    agency: str
    case_ids: list[str]
    rule_ids: list[str]
    problem: str
    basis: str
    requirement: str
    issued_on: dt.date
    deadline: dt.date                       # the deadline in force (a return may set a new one)
    first_deadline: dt.date
    by: str
    proof: str
    at: dt.datetime
    steps: list[dict[str, Any]] = field(default_factory=list)
    state: str = "issued"

    @property
    def closed(self) -> bool:
        return self.state == "closed"

    def overdue_on(self, day: dt.date) -> bool:
        return not self.closed and day > self.deadline

    def kind_title(self, lang: str = "zh") -> str:
        return KINDS[self.kind][0 if lang == "zh" else 1]

    def state_label(self, lang: str = "zh", day: dt.date | None = None) -> str:
        text = STATES[self.state][0 if lang == "zh" else 1]
        if day is not None and self.overdue_on(day):
            text += "（逾期）" if lang == "zh" else " (overdue)"
        return text

    def as_dict(self, day: dt.date | None = None) -> dict[str, Any]:
        return {"id": self.pk, "number": self.number, "kind": self.kind, "district": self.district,
                "agency": self.agency, "case_ids": self.case_ids, "rule_ids": self.rule_ids, "problem": self.problem,
                "basis": self.basis, "requirement": self.requirement, "issued_on": self.issued_on.isoformat(),
                "deadline": self.deadline.isoformat(), "first_deadline": self.first_deadline.isoformat(),
                "state": self.state, "overdue": self.overdue_on(day) if day else None, "issued_by": self.by,
                "proof": self.proof, "issued_at": self.at.isoformat(),
                "steps": [{**s, "day": s["day"].isoformat(), "at": s["at"].isoformat(),
                           "deadline": s["deadline"].isoformat() if s["deadline"] else None} for s in self.steps]}


def _text(value: str | None, name: str, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise SupervisionError(f"{name}: 不能为空 / {name} is required")
    if len(text) > MAX_TEXT:
        raise SupervisionError(f"{name}: 最多 {MAX_TEXT} 字 / at most {MAX_TEXT} characters")
    return text


def _proof(proof: str) -> str:
    from .cases import PROOFS

    if proof not in PROOFS:
        raise SupervisionError(f"proof must be one of {', '.join(PROOFS)}, not {proof!r}")
    return proof


def _scope(agency: str, agencies: Iterable[str] | None) -> None:
    if agencies is not None and agency not in set(agencies):
        raise SupervisionError(f"执法主体“{agency}”不在您的监督范围内 / agency {agency!r} is outside your scope")


def finding_basis(store: Any, agency: str, case_ids: list[str], rule_ids: list[str], as_of: dt.date,
                  lang: str = "zh") -> tuple[list[str], list[str]]:
    """The messages and the legal bases of the named rules' findings on the named stored cases (judged as
    of ``as_of`` by the one store check): what a notice made from findings states as problem and basis.
    A case not stored for ``agency`` is refused; a rule with no finding on those cases is refused."""
    from .calendar import default_calendar
    from .check import Checker
    from .exemptions import PartyHistory
    from .loader import LoadedCase
    from .model import CaseFile
    from .rulebook import default_rulebook
    from .store.repo import find_case, load_cases, load_with_party
    from .workflow import default_workflows

    loaded, others = [], []
    with store.reading() as session:
        for case_id in case_ids:
            row = find_case(session, case_id, agency)
            [case] = load_cases(session, [row])
            loaded.append(LoadedCase(case, f"db:{row.agency}/{row.case_id}"))
            _, party = load_with_party(session, row)
            others.extend(CaseFile.model_validate(raw) for raw in party)
    checker = Checker(default_rulebook(), default_calendar(), default_workflows(), as_of, engine="oracle", lang=lang,
                      history=PartyHistory(others))
    messages: list[str] = []
    bases: list[str] = []
    found_rules: set[str] = set()
    for result in checker.check(loaded):
        for f in result.findings:
            if f.rule_id in rule_ids:
                found_rules.add(f.rule_id)
                messages.append(f"{f.case_id}：{f.message}")
                if f.basis not in bases:
                    bases.append(f.basis)
    missing = [r for r in rule_ids if r not in found_rules]
    if missing:
        raise SupervisionError(f"案卷 {'、'.join(case_ids)} 没有规则 {'、'.join(missing)} 的问题（截至 {as_of}） / "
                               f"no finding of {', '.join(missing)} on {', '.join(case_ids)} as of {as_of}")
    return messages, bases


def _next_number(session: Any, kind: str, district: str | None, year: int) -> str:
    from .store.supervision import SupervisionNoticeRow

    prefix = _district_name(district) + KINDS[kind][0] + f"〔{year}〕"
    count = session.exec(select(func.count()).select_from(SupervisionNoticeRow)
                         .where(SupervisionNoticeRow.number.startswith(prefix))).one()
    return f"{prefix}{count + 1}号"


def _district_name(code: str | None) -> str:
    if not code:
        return ""
    from .users import _districts

    return _districts().get(code, {}).get("name", code)


def issue(store: Any, *, agency: str, kind: str, case_ids: list[str], rule_ids: list[str], problem: str,
          requirement: str, deadline: dt.date, by: str, proof: str, issued_on: dt.date | None = None,
          basis: str = "", district: str | None = None, agencies: Iterable[str] | None = None,
          from_findings: bool = True, lang: str = "zh") -> NoticeView:
    """Issue a 监督通知书 (``kind="notice"``) or 监督意见书 (``"opinion"``) to ``agency``. With case ids and
    rule ids and ``from_findings``, the findings of those rules on those stored cases (judged as of the issue
    day) are checked to exist and their messages and legal bases are added to ``problem`` and ``basis``.
    ``agencies``: the issuer's scope (None: all)."""
    from .agency import agency_path
    from .store.repo import now
    from .store.supervision import SupervisionNoticeRow

    if kind not in KINDS:
        raise SupervisionError(f"kind: notice（监督通知书）或 opinion（监督意见书），不是 {kind!r} / not {kind!r}")
    agency = _text(agency, "agency")
    _scope(agency, agencies)
    if not agency_path(agency).exists():
        from .store.tables import CaseRow

        with store.reading() as session:
            if not session.exec(select(CaseRow.id).where(CaseRow.agency == agency).limit(1)).first():
                raise SupervisionError(f"没有执法主体“{agency}” / no agency {agency!r}")
    day = issued_on or dt.date.today()
    if deadline <= day:
        raise SupervisionError(f"整改期限 {deadline} 应晚于发出日 {day} / the deadline must be after the issue day {day}")
    case_ids = [c.strip() for c in case_ids if c.strip()]
    rule_ids = [r.strip() for r in rule_ids if r.strip()]
    problem = _text(problem, "problem", required=not (case_ids and rule_ids and from_findings))
    requirement = _text(requirement, "requirement")
    bases = [_text(basis, "basis", required=False)] if basis.strip() else []
    if case_ids and rule_ids and from_findings:
        messages, found = finding_basis(store, agency, case_ids, rule_ids, day, lang)
        problem = "\n".join([problem, *messages] if problem else messages)
        bases += [b for b in found if b not in bases]
    elif case_ids:
        from .store.repo import find_case

        with store.reading() as session:
            for case_id in case_ids:
                find_case(session, case_id, agency)            # CaseNotFound names the case
    if not bases:
        raise SupervisionError("basis: 请写明法律依据，或指明案卷和规则以引用问题的依据 / give the legal basis, or name "
                               "the case(s) and rule(s) whose findings carry it")
    own, unverified = regulation_basis(day)
    full_basis = "\n".join([*bases, f"监督依据：{own}（{unverified}）"])
    from sqlalchemy.exc import IntegrityError

    by, proof = _text(by, "by"), _proof(proof)
    for attempt in range(ATTEMPTS):        # two supervisors numbering at once: the unique number decides
        try:
            with store.writing() as session:
                row = SupervisionNoticeRow(number=_next_number(session, kind, district, day.year), kind=kind,
                                           district=district, agency=agency,
                                           case_ids=json.dumps(case_ids, ensure_ascii=False),
                                           rule_ids=json.dumps(rule_ids), problem=problem, basis=full_basis,
                                           requirement=requirement, issued_on=day, deadline=deadline, by=by,
                                           proof=proof, at=now())
                session.add(row)
                session.flush()
                pk = int(row.id)
            return notice(store, pk)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise SupervisionError("文号冲突，请重试 / the notice number was taken meanwhile: try again") from None
    raise AssertionError("unreachable")


def _view(row: Any, steps: list[Any]) -> NoticeView:
    view = NoticeView(int(row.id), row.number, row.kind, row.district, row.agency, json.loads(row.case_ids),
                      json.loads(row.rule_ids), row.problem, row.basis, row.requirement, row.issued_on, row.deadline,
                      row.deadline, row.by, row.proof, row.at)
    for s in steps:
        view.steps.append({"seq": s.seq, "action": s.action, "text": s.text, "day": s.day, "deadline": s.deadline,
                           "by": s.by, "proof": s.proof, "at": s.at})
        view.state = {"reply": "replied", "accept": "closed", "return": "returned"}[s.action]
        if s.action == "return" and s.deadline is not None:
            view.deadline = s.deadline
    return view


def notices(store: Any, agencies: Iterable[str] | None = None, *, state: str | None = None,
            overdue_on: dt.date | None = None, session: Any = None) -> list[NoticeView]:
    """The notices addressed to ``agencies`` (None: all), newest first, with their steps and state;
    ``state``: only those in it; ``overdue_on``: only those overdue on that day."""
    from .store.supervision import SupervisionNoticeRow, SupervisionStepRow

    def read(session: Any) -> list[NoticeView]:
        query = select(SupervisionNoticeRow).order_by(SupervisionNoticeRow.id.desc())
        if agencies is not None:
            query = query.where(SupervisionNoticeRow.agency.in_(sorted(set(agencies))))
        rows = list(session.exec(query).all())
        steps: dict[int, list[Any]] = {}
        if rows:
            for s in session.exec(select(SupervisionStepRow).where(SupervisionStepRow.notice_pk.in_([r.id for r in rows]))
                                  .order_by(SupervisionStepRow.notice_pk, SupervisionStepRow.seq)):
                steps.setdefault(s.notice_pk, []).append(s)
        return [_view(r, steps.get(r.id, [])) for r in rows]

    if session is not None:
        out = read(session)
    else:
        with store.reading() as own:
            out = read(own)
    if state:
        out = [n for n in out if n.state == state]
    if overdue_on is not None:
        out = [n for n in out if n.overdue_on(overdue_on)]
    return out


def notice(store: Any, pk: int, agencies: Iterable[str] | None = None) -> NoticeView:
    """One notice (``SupervisionError`` when there is none, or it is addressed outside ``agencies``)."""
    from .store.supervision import SupervisionNoticeRow, SupervisionStepRow

    with store.reading() as session:
        row = session.get(SupervisionNoticeRow, pk)
        if row is None or (agencies is not None and row.agency not in set(agencies)):
            raise SupervisionError(f"没有第 {pk} 号监督文书 / no supervision notice #{pk}")
        steps = list(session.exec(select(SupervisionStepRow).where(SupervisionStepRow.notice_pk == pk)
                                  .order_by(SupervisionStepRow.seq)).all())
    return _view(row, steps)


def _step(store: Any, pk: int, action: str, text: str, day: dt.date, by: str, proof: str,
          agencies: Iterable[str] | None, deadline: dt.date | None = None) -> NoticeView:
    """One state change, judged against the steps as read; a step that landed meanwhile (the unique
    notice and seq) makes it judge again against the new state, which may then refuse it."""
    from sqlalchemy.exc import IntegrityError

    text = _text(text, "text")
    by, proof = _text(by, "by"), _proof(proof)
    for attempt in range(ATTEMPTS):
        try:
            return _append_step(store, pk, action, text, day, by, proof, agencies, deadline)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise SupervisionError("另一步骤同时写入，请重试 / another step landed meanwhile: try again") from None
    raise AssertionError("unreachable")


def _append_step(store: Any, pk: int, action: str, text: str, day: dt.date, by: str, proof: str,
                 agencies: Iterable[str] | None, deadline: dt.date | None) -> NoticeView:
    from .store.repo import now
    from .store.supervision import SupervisionNoticeRow, SupervisionStepRow

    with store.writing() as session:
        row = session.get(SupervisionNoticeRow, pk)
        if row is None or (agencies is not None and row.agency not in set(agencies)):
            raise SupervisionError(f"没有第 {pk} 号监督文书 / no supervision notice #{pk}")
        steps = list(session.exec(select(SupervisionStepRow).where(SupervisionStepRow.notice_pk == pk)
                                  .order_by(SupervisionStepRow.seq)).all())
        view = _view(row, steps)
        if day < (steps[-1].day if steps else row.issued_on):
            raise SupervisionError(f"日期 {day} 早于上一步（{steps[-1].day if steps else row.issued_on}） / the date "
                                   f"{day} is before the previous step")
        if action == "reply" and view.state not in ("issued", "returned"):
            raise SupervisionError(f"{row.number}：{view.state_label()}，不能再报送整改报告 / {view.state_label('en')}: "
                                   "no rectification report is expected")
        if action in ("accept", "return") and view.state != "replied":
            raise SupervisionError(f"{row.number}：{view.state_label()}，尚无待审核的整改报告 / "
                                   f"{view.state_label('en')}: no rectification report to decide on")
        if deadline is not None and deadline <= day:
            raise SupervisionError(f"新的整改期限 {deadline} 应晚于 {day} / the new deadline must be after {day}")
        session.add(SupervisionStepRow(notice_pk=pk, seq=len(steps) + 1, action=action, text=text, day=day,
                                       deadline=deadline, by=by, proof=proof, at=now()))
    return notice(store, pk)


def reply(store: Any, pk: int, *, text: str, day: dt.date, by: str, proof: str,
          agencies: Iterable[str] | None = None) -> NoticeView:
    """The agency's rectification report (整改报告/反馈) on notice ``pk``, dated ``day``."""
    return _step(store, pk, "reply", text, day, by, proof, agencies)


def decide(store: Any, pk: int, *, accept: bool, text: str, day: dt.date, by: str, proof: str,
           agencies: Iterable[str] | None = None, deadline: dt.date | None = None) -> NoticeView:
    """The supervisor accepts the report (the notice is closed) or returns it (a new report is due, by
    ``deadline`` when given, else by the deadline in force)."""
    if accept and deadline is not None:
        raise SupervisionError("销号时不设新的整改期限 / a closed notice has no new deadline")
    return _step(store, pk, "accept" if accept else "return", text, day, by, proof, agencies, deadline)


# ----------------------------------------------------------------------------------------- alerts, summary
def rectification_alerts(store: Any, as_of: dt.date, *, within: int | None = None, agencies: Iterable[str] | None = None,
                         lang: str = "zh") -> list[Any]:
    """Open notices whose rectification deadline has passed or falls within ``within`` working days, as
    deadline alerts (code ``supervision.rectification``), so they sit in ``alerts`` beside the cases'."""
    from .alerts import Alert, sort_alerts
    from .calendar import default_calendar

    calendar = default_calendar()
    out = []
    for n in notices(store, agencies):
        if n.closed or n.issued_on > as_of:
            continue
        left, estimated_from = _left(calendar, as_of, n.deadline)
        if within is not None and left > within:
            continue
        what = (f"{n.kind_title(lang)}整改（{n.number}，{n.state_label(lang)}）" if lang == "zh"
                else f"rectification of {n.kind_title(lang)} {n.number} ({n.state_label(lang)})")
        out.append(Alert("、".join(n.case_ids) or "—", n.agency, f"supervision:{n.pk}", what, "supervision.rectification",
                         n.issued_on.isoformat(), n.deadline, left, "", estimated_from))
    return sort_alerts(out)


def _left(calendar: Any, as_of: dt.date, due: dt.date) -> tuple[int, int | None]:
    """Working days from ``as_of`` to ``due`` (negative: overdue), and the first year counted Monday to
    Friday because no holiday schedule covers it (``None`` when the count is exact). A rectification period
    often runs into a year whose schedule the State Council has not published yet: the part in such years
    is an estimate, said so wherever the figure is shown (``Alert.left_text``), never a silent guess. It
    can only be ahead, never overdue, on a covered as-of day."""
    from .alerts import workdays_left
    from .errors import CalendarError

    try:
        return workdays_left(calendar, as_of, due), None
    except CalendarError:
        covered = dt.date(as_of.year, 12, 31)
        while True:
            try:
                calendar.is_workday(covered + dt.timedelta(days=1))
            except CalendarError:
                break
            covered = dt.date(covered.year + 1, 12, 31)
        left = workdays_left(calendar, as_of, covered) if covered >= as_of else 0
        day = covered + dt.timedelta(days=1)
        while day <= due:
            left += day.weekday() < 5
            day += dt.timedelta(days=1)
        return left, covered.year + 1


def _agency_name(code: str) -> str:
    from .agency import agency_path, load_agency

    try:
        return load_agency(code).name if agency_path(code).exists() else code
    except CasecheckError:
        return code


def supervisor_section(agencies: Iterable[str], lang: str, *, reviewed: Any = None, alerts: Iterable[Any] = (),
                       open_notices: Iterable[NoticeView] = (), as_of: dt.date | None = None,
                       grade_names: tuple[str, ...] = (), rule_titles: dict[str, str] | None = None,
                       top: int = 3) -> Any:
    """The supervisor's summary, one row per agency: files reviewed, each grade's count, average score,
    vetoed files, typical problems (the ``top`` rules by findings), overdue and due-soon deadlines, open and
    overdue rectifications. ``reviewed``: a ``ReviewResult`` (None for alerts alone)."""
    from .report.builders import average_score
    from .report.document import Column, Section

    codes = sorted(set(agencies) | {a.agency for a in alerts} |
                   ({c.agency for c in reviewed.cases} if reviewed is not None else set()))
    titles = rule_titles or (reviewed.rule_titles() if reviewed is not None else {})
    grades = tuple(grade_names or (reviewed.grade_names if reviewed is not None else ()))
    columns = [Column("agency_name", "执法主体", "agency"), Column("agency", "代码", "code", internal=True)]
    if reviewed is not None:
        columns += [Column("reviewed", "评查案卷", "files reviewed", "int")]
        columns += [Column(f"grade:{g}", g, g, "int") for g in grades]
        columns += [Column("average", "平均分", "average score", "number"), Column("vetoed", "否决", "vetoed", "int"),
                    Column("typical", "典型问题（前三）", "typical problems (top 3)")]
    columns += [Column("overdue", "逾期期限", "overdue deadlines", "int"),
                Column("due_soon", "即将到期", "due soon", "int"),
                Column("open_notices", "未销号监督文书", "open supervision notices", "int"),
                Column("overdue_notices", "逾期未整改", "rectification overdue", "int")]
    rows = []
    notices_list = list(open_notices)
    alerts_list = [a for a in alerts if a.code != "supervision.rectification"]
    for code in codes:
        row: dict[str, Any] = {"agency_name": _agency_name(code), "agency": code}
        if reviewed is not None:
            cases = [c for c in reviewed.cases if c.agency == code]
            counts = Counter(c.grade for c in cases)
            rules = Counter(r for c in cases for r in c.rules)
            row.update(reviewed=len(cases), average=average_score(c.score for c in cases) if cases else None,
                       vetoed=sum(bool(c.vetoes) for c in cases),
                       typical="；".join(f"{titles.get(r, r)}×{n}" for r, n in
                                        sorted(rules.items(), key=lambda x: (-x[1], x[0]))[:top]) or "—")
            for g in grades:
                row[f"grade:{g}"] = counts.get(g, 0)
        mine = [a for a in alerts_list if a.agency == code]
        row.update(overdue=sum(a.overdue for a in mine), due_soon=sum(not a.overdue for a in mine))
        open_ = [n for n in notices_list if n.agency == code and not n.closed]
        row.update(open_notices=len(open_),
                   overdue_notices=sum(n.overdue_on(as_of) for n in open_) if as_of else 0)
        row["alarm"] = bool(row["overdue"] or row["overdue_notices"] or row.get("vetoed"))
        rows.append(row)
    return Section("supervision", "监督汇总（各执法主体）", "Supervisor's summary (per agency)", columns, rows,
                   style="alarm")


def add_supervisor_section(doc: Any, store: Any, agencies: Iterable[str], *, reviewed: Any = None,
                           alerts: Iterable[Any] = (), as_of: dt.date) -> None:
    """Put the supervisor's summary first among ``doc``'s sections (the notices from ``store`` if given) and
    a headline figure of the overdue rectifications."""
    agencies = sorted(set(agencies))
    open_notices = [n for n in notices(store, agencies) if not n.closed and n.issued_on <= as_of] \
        if store is not None else []
    section = supervisor_section(agencies, doc.lang, reviewed=reviewed, alerts=alerts, open_notices=open_notices,
                                 as_of=as_of)
    doc.sections.insert(0, section)
    overdue = sum(n.overdue_on(as_of) for n in open_notices)
    doc.summary.append(("rectification_overdue", "逾期未整改的监督文书" if doc.lang == "zh" else
                        "supervision notices overdue", overdue))


def issuer_name(district: str | None, lang: str = "zh") -> str:
    """Who issues a district's notices: its justice bureau (the 条例's supervision body, Art 6)."""
    name = _district_name(district)
    if lang != "zh":
        return f"{name} justice bureau (enforcement supervision)" if name else ""
    return f"{name}司法局" if name else ""


def notice_docx_bytes(view: NoticeView, lang: str = "zh", as_of: dt.date | None = None) -> bytes:
    """The notice as a DOCX one files (``engine.report.supervision_docx``)."""
    from .report.supervision_docx import notice_docx

    return notice_docx(view, lang, as_of, agency_name=_agency_name(view.agency), issuer=issuer_name(view.district, lang))
