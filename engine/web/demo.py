"""A demo store for ``make serve``: the shipped demo cases, three open cases of 学府街道 dated around
today (so the dashboard has live deadlines), and demo users of each role.

    python -m engine.web.demo DB [FIXTURES_DIR]      # prints the logins
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from ..store import Store
from ..users import add_user, list_users

DEMO_PASSWORD = "casecheck-demo"
DEMO_USERS = [
    # login, name, roles, agencies, district, officer id
    ("zhou", "周某甲", ["officer"], ["xuefu"], None, "O1"),
    ("lin", "林某审", ["legal_reviewer"], ["xuefu"], None, "R1"),
    ("head", "学府街道负责人", ["head"], ["xuefu"], None, None),
    ("pingcha", "区评查员", ["case_reviewer"], ["xuefu", "nkcgw"], None, None),
    ("jiandu", "区司法局监督员", ["supervisor"], [], "nankai", None),
    ("admin", "学府街道管理员", ["admin"], ["xuefu"], None, None),
    ("chengguan", "城管委执法人员", ["officer"], ["nkcgw"], None, "O1"),
]

OFFICERS = [{"id": "O1", "name": "周某甲", "certificate": "津执07718", "certificate_valid_until": "2028-12-31"},
            {"id": "O2", "name": "黄某乙", "certificate": "津执09735", "certificate_valid_until": "2028-12-31"},
            {"id": "R1", "name": "林某审", "certificate": "津执56422", "certificate_valid_until": "2028-12-31",
             "legal_qualification": True}]


def _day(today: dt.date, back: int) -> str:
    return (today - dt.timedelta(days=back)).isoformat()


def open_case(number: int, today: dt.date, events: list[dict[str, Any]], party: str = "何某",
              party_id: str = "120104198001010011") -> dict[str, Any]:
    """An ordinary 学府街道 case of 超出门窗外墙经营 with these events (dates as days before ``today``)."""
    return {
        "format": "casecheck/1", "case_id": f"津南学罚〔{today.year}〕{number}号",
        "agency": {"code": "xuefu", "name": "南开区学府街道办事处", "region": "tianjin"},
        "procedure": "ordinary",
        "matter": {"code": "SR-0101", "name": "超出门窗外墙经营", "domain": "city_appearance"},
        "party": {"kind": "person", "name": party, "id": party_id},
        "violation": {"occurred_on": _day(today, 101), "basis": ["《天津市市容和环境卫生管理条例》第二十条"]},
        "officers": OFFICERS,
        "events": [{**e, "date": _day(today, e["date"])} for e in events],
    }


def investigated(back: int = 30) -> list[dict[str, Any]]:
    """Discovered, registered, inspected, inquired, notified, rights waived: a decision is next."""
    both = ["O1", "O2"]
    return [{"type": "discovered", "date": back},
            {"type": "registered", "date": back - 1, "officers": both, "documents": ["立案审批表"]},
            {"type": "inspected", "date": back - 1, "officers": both, "certificates_shown": True,
             "recording": "AV-1", "documents": ["现场检查笔录"]},
            {"type": "inquired", "date": back - 3, "officers": both, "certificates_shown": True,
             "documents": ["询问笔录"]},
            {"type": "notified", "date": back - 10, "officers": both, "proposed": {"kind": "fine", "amount": 500},
             "hearing_right": False, "documents": ["行政处罚事先告知书"]},
            {"type": "rights_waived", "date": back - 11}]


def demo_cases(today: dt.date) -> list[dict[str, Any]]:
    decided = [{"type": "legal_review", "reviewer": "R1", "result": "approved", "documents": ["法制审核意见书"]},
               {"type": "decided", "officers": ["O1", "O2"], "outcome": "penalty",
                "penalty": {"kind": "fine", "amount": 500}, "document": "津南学罚决〔demo〕号"}]

    def served(back: int) -> list[dict[str, Any]]:
        steps = investigated(100)
        return steps + [{**decided[0], "date": back + 2}, {**decided[1], "date": back + 1},
                        {"type": "served", "date": back, "officers": ["O1", "O2"], "method": "direct",
                         "certificates_shown": True, "documents": ["送达回证"]}]

    return [open_case(901, today, investigated(100)),                       # a decision is next (needs the review)
            open_case(902, today, served(12), "孙某", "120104198001010022"),  # publicity overdue: a red card
            open_case(903, today, served(2), "钱某", "120104198001010033")]   # publicity due soon: a yellow card


def _beside(db: str, name: str) -> Path:
    if "://" not in db or db.startswith("sqlite:///"):
        return Path(db.replace("sqlite:///", "", 1)).resolve().parent / name
    import tempfile

    return Path(tempfile.gettempdir()) / name


def build(db: str, fixtures: Path | None) -> list[str]:
    """Import the demo cases and add the demo users (idempotent); the lines to print."""
    import json

    from ..cases import import_paths

    from ..calendar import default_calendar

    store = Store.open(db)
    # dated around today, but every clock of the cases must end in a year the working-day calendar covers
    today = min(dt.date.today(), dt.date(max(default_calendar().years), 12, 20))
    from sqlmodel import select

    from ..store.tables import CaseRow

    with store.reading() as session:                     # made once: a later day does not rewrite them
        stored = set(session.exec(select(CaseRow.case_id).where(CaseRow.agency == "xuefu")).all())
    fresh = [c for c in demo_cases(today) if c["case_id"] not in stored]
    paths = [fixtures] if fixtures else []
    if fresh:
        live = _beside(db, "demo-open-cases.json")      # kept next to the store: the cases' source
        live.write_text(json.dumps({"format": "casecheck/1", "cases": fresh}, ensure_ascii=False, indent=1),
                        encoding="utf-8")
        paths.append(live)
    report = import_paths(store, paths, actor="demo")
    if report.problems:
        raise SystemExit("\n".join(str(p) for p in report.problems))
    known = {row.login for row in list_users(store)}
    certificates = {o["name"]: o["certificate"] for o in OFFICERS}     # the demo cases' officers are persons
    for login, name, roles, agencies, district, officer in DEMO_USERS:
        if login not in known:
            add_user(store, login, name, DEMO_PASSWORD, roles=roles, agencies=agencies, district=district,
                     officer_id=officer, certificate=certificates.get(name))
    lines = [f"demo store: {db} ({report.new} new, {report.unchanged} unchanged cases)",
             f"demo logins (password {DEMO_PASSWORD}):"]
    for login, name, roles, agencies, district, officer in DEMO_USERS:
        scope = f"district {district}" if district else ",".join(agencies)
        cert = {o["name"]: o["certificate"] for o in OFFICERS}.get(name)
        lines.append(f"  {login:<10} {name}  {'/'.join(roles)} · {scope}" + (f" · officer {officer}" if officer else "")
                     + (f" · 执法证号 {cert}" if cert else ""))
    return lines


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        raise SystemExit(__doc__)
    for line in build(args[0], Path(args[1]) if len(args) > 1 else None):
        print(line)


if __name__ == "__main__":
    main()
