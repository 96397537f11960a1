"""Issue 19 item 4: the supervisors' view (《行政执法监督条例》) — 监督通知书/意见书 tracked to closure in the store
(SQLite and PostgreSQL), overdue rectifications in alerts, the supervisor's summary per agency in review and
alerts, and the notice as a DOCX one files."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from sqlmodel import select

from engine.cases import import_paths
from engine.store import Store
from engine.store.supervision import SupervisionNoticeRow, SupervisionStepRow
from engine.supervision import (SupervisionError, add_supervisor_section, decide, issue, notice, notices,
                                rectification_alerts, reply)
from conftest import ROOT
from test_cli import run

DEMO = ROOT / "fixtures" / "demo"
CASE, RULE = "津南学罚〔2024〕5号", "legal_review.required_before_decision"
D = dt.date


@pytest.fixture
def store(url):
    store = Store.open(url)
    assert import_paths(store, [DEMO], actor="t").new == 41
    return store


def _issue(store, **kw):
    args = dict(agency="xuefu", kind="notice", case_ids=[CASE], rule_ids=[RULE], problem="",
                requirement="补正法制审核并组织培训", deadline=D(2026, 12, 20), by="司法所张某", proof="asserted",
                issued_on=D(2026, 12, 1), district="nankai", agencies=["xuefu", "nkcgw"])
    args.update(kw)
    return issue(store, **args)


def _rows(store):
    with store.reading() as s:
        notices_ = [(r.id, r.number, r.agency, r.problem, r.basis, r.deadline, r.by, r.proof, r.at)
                    for r in s.exec(select(SupervisionNoticeRow).order_by(SupervisionNoticeRow.id))]
        steps = [(r.id, r.notice_pk, r.seq, r.action, r.text, r.day, r.deadline, r.by, r.proof, r.at)
                 for r in s.exec(select(SupervisionStepRow).order_by(SupervisionStepRow.id))]
    return notices_, steps


def test_a_notice_from_a_finding_is_tracked_to_closure_append_only(store):
    view = _issue(store)
    assert view.number == "南开区行政执法监督通知书〔2026〕1号" and view.state == "issued"
    assert CASE in view.problem and "法制审核" in view.problem                 # the finding's message
    assert "第五十八条" in view.basis                                           # the finding's legal basis
    assert "《行政执法监督条例》（国务院令第825号" in view.basis and "第二条、第六条" in view.basis
    assert "未核实" in view.basis                                               # the unverified articles are said so
    assert not view.overdue_on(D(2026, 12, 20)) and view.overdue_on(D(2026, 12, 21))
    before, _ = _rows(store)

    with pytest.raises(SupervisionError):                                        # nothing to accept yet
        decide(store, view.pk, accept=True, text="好", day=D(2026, 12, 2), by="张某", proof="asserted")
    with pytest.raises(SupervisionError):                                        # before the issue day
        reply(store, view.pk, text="已整改", day=D(2026, 11, 30), by="李某", proof="authenticated")
    with pytest.raises(SupervisionError):                                        # another agency's notice
        reply(store, view.pk, text="已整改", day=D(2026, 12, 5), by="李某", proof="authenticated", agencies=["nkcgw"])

    reply(store, view.pk, text="已补正法制审核", day=D(2026, 12, 10), by="学府李某", proof="authenticated")
    returned = decide(store, view.pk, accept=False, text="材料不全", day=D(2026, 12, 11), by="张某",
                      proof="asserted", deadline=D(2027, 1, 10))
    assert returned.state == "returned" and returned.deadline == D(2027, 1, 10)
    assert returned.first_deadline == D(2026, 12, 20) and not returned.overdue_on(D(2026, 12, 25))
    reply(store, view.pk, text="补充培训记录", day=D(2026, 12, 15), by="学府李某", proof="authenticated")
    closed = decide(store, view.pk, accept=True, text="整改到位，销号", day=D(2026, 12, 16), by="张某", proof="asserted")
    assert closed.state == "closed" and not closed.overdue_on(D(2027, 6, 1))
    assert [(s["seq"], s["action"], s["proof"]) for s in closed.steps] == [
        (1, "reply", "authenticated"), (2, "return", "asserted"), (3, "reply", "authenticated"), (4, "accept", "asserted")]
    with pytest.raises(SupervisionError):                                        # closed: no more reports
        reply(store, view.pk, text="再报", day=D(2026, 12, 17), by="学府李某", proof="authenticated")

    after, steps = _rows(store)
    assert after == before                                                       # the notice row never changes
    assert len(steps) == 4 and [s[2] for s in steps] == [1, 2, 3, 4]
    with pytest.raises(SupervisionError):
        reply(store, view.pk, text="x", day=D(2026, 12, 17), by="x", proof="guessed")


def test_a_notice_is_refused_outside_the_scope_without_a_finding_or_without_a_basis(store):
    with pytest.raises(SupervisionError, match="监督范围"):
        _issue(store, agency="other", agencies=["xuefu"])
    with pytest.raises(SupervisionError, match="publicity.penalty_within_7_workdays"):
        _issue(store, rule_ids=["publicity.penalty_within_7_workdays"])
    with pytest.raises(SupervisionError, match="basis"):
        _issue(store, case_ids=[], rule_ids=[], problem="普遍存在简易程序适用超限")
    with pytest.raises(SupervisionError, match="整改期限"):
        _issue(store, deadline=D(2026, 12, 1))
    wide = _issue(store, case_ids=[], rule_ids=[], problem="普遍存在简易程序适用超限", kind="opinion",
                  basis="《中华人民共和国行政处罚法》第五十一条")
    assert wide.number == "南开区行政执法监督意见书〔2026〕1号" and wide.case_ids == []
    old = _issue(store, issued_on=D(2025, 6, 1), deadline=D(2025, 7, 1))
    assert "津政令第9号" in old.basis and "825号" not in old.basis              # before the 条例 was in force


def test_an_overdue_rectification_is_an_alert_and_in_the_supervisors_summary(store):
    from engine.report.document import Document

    late = _issue(store)
    _issue(store, agency="nkcgw", case_ids=[], rule_ids=[], problem="p", basis="b", deadline=D(2027, 3, 1))
    day = D(2026, 12, 22)
    found = rectification_alerts(store, day, agencies=["xuefu", "nkcgw"])
    assert [(a.agency, a.code, a.overdue, a.due) for a in found] == [
        ("xuefu", "supervision.rectification", True, D(2026, 12, 20)), ("nkcgw", "supervision.rectification", False, D(2027, 3, 1))]
    assert [a.agency for a in rectification_alerts(store, day, within=5)] == ["xuefu"]
    assert rectification_alerts(store, day, agencies=["nkcgw"], within=5) == []
    exact, into_2027 = found
    assert exact.estimated_from is None and exact.left_text("zh") == "逾期 2 个工作日"
    # 2027's holiday schedule is not loaded: the days after 2026 are counted Monday–Friday, and said so
    assert into_2027.estimated_from == 2027 and into_2027.workdays_left == 7 + 42     # 23–31 Dec 2026, then Jan–1 Mar 2027 in weekdays
    assert into_2027.left_text("zh") == "剩约 49 个工作日（2027 年起放假安排未载入，按周一至周五估算）"
    assert into_2027.left_text("en").startswith("about 49 working days left (no holiday schedule loaded from 2027")
    doc = Document("alerts", "zh", "t", {})
    add_supervisor_section(doc, store, ["xuefu", "nkcgw"], alerts=found, as_of=day)
    rows = {r["agency"]: r for r in doc.sections[0].rows}
    assert (rows["xuefu"]["open_notices"], rows["xuefu"]["overdue_notices"]) == (1, 1)
    assert (rows["nkcgw"]["open_notices"], rows["nkcgw"]["overdue_notices"]) == (1, 0)
    assert dict((k, v) for k, _, v in doc.summary)["rectification_overdue"] == 1
    reply(store, late.pk, text="r", day=D(2026, 12, 21), by="x", proof="asserted")
    decide(store, late.pk, accept=True, text="ok", day=D(2026, 12, 22), by="y", proof="asserted")
    assert [a.agency for a in rectification_alerts(store, day)] == ["nkcgw"]
    assert [n.agency for n in notices(store, ["xuefu"], state="closed")] == ["xuefu"]


def test_the_notice_is_a_docx_on_a4_with_the_record():
    import docx

    from engine.report.supervision_docx import notice_docx
    from engine.supervision import NoticeView

    view = NoticeView(1, "南开区行政执法监督通知书〔2026〕1号", "notice", "nankai", "xuefu", [CASE], [RULE],
                      "问题一\n问题二", "依据", "要求", D(2026, 12, 1), D(2026, 12, 20), D(2026, 12, 20), "张某",
                      "authenticated", dt.datetime(2026, 12, 1, 9, 0),
                      steps=[{"seq": 1, "action": "reply", "text": "已整改", "day": D(2026, 12, 10), "deadline": None,
                              "by": "李某", "proof": "authenticated", "at": dt.datetime(2026, 12, 10, 9, 0)}],
                      state="replied")
    d = docx.Document(io.BytesIO(notice_docx(view, "zh", D(2026, 12, 11), "南开区学府街道办事处", "南开区司法局")))
    text = "\n".join(p.text for p in d.paragraphs)
    cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
    assert "南开区司法局行政执法监督通知书" in text and "南开区学府街道办事处：" in text
    assert "1. 问题一" in text and "2. 问题二" in text and "请于2026年12月20日前完成整改" in text
    assert "整改报告" in cells and "已整改" in cells and "登录验证" in cells
    sec = d.sections[0]
    assert [round(x.mm) for x in (sec.page_width, sec.page_height, sec.top_margin, sec.left_margin)] == [210, 297, 37, 28]


def test_the_command_line_issues_replies_closes_lists_and_writes_the_docx(tmp_path):
    db = str(tmp_path / "s.db")
    assert run("import", str(DEMO), "--db", db).returncode == 0
    r = run("supervise", "issue", "--agency", "xuefu", "--case", CASE, "--rule", RULE, "--requirement", "补正",
            "--deadline", "2026-12-20", "--date", "2026-12-01", "--district", "nankai", "--by", "张某",
            "--format", "json", "--db", db)
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert made["state"] == "issued" and made["proof"] == "asserted" and made["issued_by"] == "张某"
    shown = run("supervise", "show", str(made["id"]), "--db", db)
    assert "南开区学府街道办事处" in shown.stdout and "自述（命令行 --by）" in shown.stdout, shown.stdout  # names, not codes
    listed = run("supervise", "list", "--as-of", "2026-12-21", "--db", db)
    assert listed.returncode == 1 and "逾期" in listed.stdout                   # an overdue notice: exit 1
    en = run("supervise", "list", "--as-of", "2026-12-21", "--lang", "en", "--db", db)
    assert "overdue" in en.stdout and "deadline" in en.stdout
    alerts = run("alerts", "--db", db, "--as-of", "2026-12-21", "--district", "nankai", "--format", "json")
    data = json.loads(alerts.stdout)
    assert alerts.returncode == 1
    assert any(a["code"] == "supervision.rectification" and a["overdue"] for a in data["sections"]["alerts"])
    rows = {r["agency"]: r for r in data["sections"]["supervision"]}
    assert rows["xuefu"]["overdue_notices"] == 1 and set(rows) == {"xuefu", "nkcgw"}
    review = run("review", "--db", db, "--quarter", "2024Q2", "--as-of", "2026-12-21", "--district", "nankai",
                 "--format", "json")
    summary = {r["agency"]: r for r in json.loads(review.stdout)["sections"]["supervision"]}
    assert (summary["xuefu"]["open_notices"], summary["xuefu"]["overdue_notices"]) == (1, 1), review.stderr
    assert summary["nkcgw"]["open_notices"] == 0 and summary["xuefu"]["reviewed"] > 0
    refused = run("supervise", "close", str(made["id"]), "--text", "好", "--date", "2026-12-02", "--db", db)
    assert refused.returncode == 2 and "尚无待审核的整改报告" in refused.stderr
    assert run("supervise", "reply", str(made["id"]), "--text", "已整改", "--date", "2026-12-10", "--agency", "xuefu",
               "--by", "李某", "--db", db).returncode == 0
    closed = run("supervise", "close", str(made["id"]), "--text", "销号", "--date", "2026-12-11", "--format", "json",
                 "--db", db)
    assert json.loads(closed.stdout)["state"] == "closed"
    out = tmp_path / "notice.docx"
    assert run("supervise", "show", str(made["id"]), "-o", str(out), "--db", db).returncode == 0
    assert out.read_bytes()[:2] == b"PK"
    assert run("supervise", "list", "--as-of", "2026-12-21", "--db", db).returncode == 0
    help_ = run("supervise", "--help")
    assert "监督" in help_.stdout and "issue" in help_.stdout


def test_review_of_a_district_has_the_supervisors_summary_in_every_format(tmp_path):
    r = run("review", str(DEMO), "--quarter", "2024Q2", "--district", "nankai", "--format", "json")
    assert r.returncode == 1, r.stderr                                           # a file fails the review
    data = json.loads(r.stdout)
    rows = {row["agency"]: row for row in data["sections"]["supervision"]}
    assert set(rows) == {"xuefu", "nkcgw"}
    assert sum(row["reviewed"] for row in rows.values()) == data["summary"]["cases_reviewed"]
    assert rows["xuefu"]["vetoed"] + rows["nkcgw"]["vetoed"] == data["summary"]["vetoed"]
    for code, row in rows.items():
        mine = [c for c in data["sections"]["cases"] if c["agency"] == code]
        assert row["reviewed"] == len(mine) and row["grade:不合格"] == sum(c["grade"] == "不合格" for c in mine)
        assert row["grade:优秀"] == sum(c["grade"] == "优秀" for c in mine)
    assert "×" in rows["xuefu"]["typical"] and rows["xuefu"]["average"] is not None
    table = run("review", str(DEMO), "--quarter", "2024Q2", "--district", "nankai")
    assert "监督汇总（各执法主体）" in table.stdout
    for fmt in ("html", "xlsx", "docx"):
        out = tmp_path / f"r.{fmt}"
        assert run("review", str(DEMO), "--quarter", "2024Q2", "--district", "nankai", "-o", str(out)).returncode == 1
        assert out.stat().st_size > 0
    assert "监督汇总" in (tmp_path / "r.html").read_text(encoding="utf-8")
    import openpyxl

    assert "监督汇总（各执法主体）" in openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames
    plain = run("review", str(DEMO), "--quarter", "2024Q2", "--format", "json")
    assert "supervision" not in json.loads(plain.stdout)["sections"]               # only for a district
    bad = run("review", str(DEMO), "--quarter", "2024Q2", "--district", "nowhere")
    assert bad.returncode == 2 and "nowhere" in bad.stderr


def test_a_notice_number_taken_meanwhile_is_numbered_again(store, monkeypatch):
    """Two supervisors issuing at once: the unique number refuses the second insert, which numbers again."""
    import engine.supervision as sv

    first = _issue(store)
    real, calls = sv._next_number, []

    def stale(session, *args):
        calls.append(1)
        return first.number if len(calls) == 1 else real(session, *args)

    monkeypatch.setattr(sv, "_next_number", stale)
    second = _issue(store)
    assert len(calls) == 2 and second.number == "南开区行政执法监督通知书〔2026〕2号"
    assert [n.number for n in notices(store)] == [second.number, first.number]
