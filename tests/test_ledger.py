"""Excel ledgers (台账): one row per case, columns mapped by their Chinese headers."""

from __future__ import annotations

import datetime as dt

from openpyxl import Workbook

from engine.cases import import_paths
from engine.loader import load_paths
from engine.store import Store

D = dt.date.fromisoformat
HEADERS = ["案件编号", "执法机关代码", "执法机关名称", "程序", "事项代码", "事项名称", "当事人类型", "当事人名称",
           "当事人证件号", "违法行为日期", "执法人员", "法制审核人员", "审核人员法律职业资格", "出示证件", "音像记录编号",
           "文书齐全", "发现日期", "立案日期", "检查日期", "告知日期", "告知听证权利", "放弃陈述申辩日期", "法制审核日期", "审核结论",
           "决定日期", "处理结果", "处罚种类", "罚款金额", "决定书文号", "送达日期", "监督平台公示日期", "缴款日期",
           "结案日期"]
LAWFUL = ["津南城管罚〔2024〕1号", "nkcgw", "南开区城市管理委员会", "普通程序", "SR-0101", "超出门窗外墙经营", "自然人",
          "刘某", "120104198001010001", D("2024-03-01"), "王某(津执01001)；赵某(津执01002)", "孙某(津执01003)", "是",
          "是", "AV-0304-1", "是", D("2024-03-01"), D("2024-03-04"), D("2024-03-04"), D("2024-03-08"), "否",
          D("2024-03-11"), D("2024-03-12"), "通过", D("2024-03-13"), "处罚", "罚款", 2000, "津南城管罚决〔2024〕1号",
          D("2024-03-13"), D("2024-03-15"), D("2024-03-18"), "2024-03-19"]


def ledger(path, *rows):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_ledger_rows_become_cases_and_are_judged(tmp_path, make_checker):
    unreviewed = list(LAWFUL)
    unreviewed[0] = "津南城管罚〔2024〕2号"
    unreviewed[HEADERS.index("法制审核日期")] = None
    unreviewed[HEADERS.index("审核结论")] = None       # a conclusion without its date is refused, not dropped
    path = ledger(tmp_path / "台账.xlsx", LAWFUL, unreviewed)
    loaded = load_paths([path])
    assert loaded.problems == [] and [c.ref.endswith(f"#row {n}") for c, n in zip(loaded.cases, (2, 3))] == [True, True]
    results = {r.loaded.case.case_id: sorted(f.rule_id for f in r.findings)
               for r in make_checker("2024-12-31").check(loaded.cases)}
    assert results == {"津南城管罚〔2024〕1号": [], "津南城管罚〔2024〕2号": ["legal_review.required_before_decision"]}


def test_bad_cells_name_the_row_and_column(tmp_path):
    bad = list(LAWFUL)
    bad[HEADERS.index("决定日期")] = "2024-02-30"
    bad[HEADERS.index("当事人类型")] = "外星人"
    loaded = load_paths([ledger(tmp_path / "bad.xlsx", LAWFUL, bad)])
    fields = {p.field for p in loaded.problems}
    assert "rows.3.当事人类型" in fields
    assert all(p.case_id == "津南城管罚〔2024〕1号" for p in loaded.problems)
    only_date = list(LAWFUL)
    only_date[HEADERS.index("决定日期")] = "2024-02-30"
    loaded = load_paths([ledger(tmp_path / "bad2.xlsx", only_date)])
    assert [p.field for p in loaded.problems] == ["rows.2.决定日期"]


def test_unknown_column_and_broken_workbook(tmp_path):
    book = Workbook()
    book.active.append(["案件编号", "执法机关代码", "执法机关名称", "程序", "备注栏"])
    book.save(tmp_path / "odd.xlsx")
    problems = load_paths([tmp_path / "odd.xlsx"]).problems
    assert [p.field for p in problems] == ["rows.1.备注栏"]
    (tmp_path / "junk.xlsx").write_bytes(b"not a zip")
    problems = load_paths([tmp_path / "junk.xlsx"]).problems
    assert problems and "not a readable Excel workbook" in problems[0].message_en and "不是可读取的" in problems[0].message


def test_ledger_import_is_atomic_and_idempotent(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    good = ledger(tmp_path / "good.xlsx", LAWFUL)
    assert import_paths(store, [good], actor="t").new == 1
    assert import_paths(store, [good], actor="t").unchanged == 1
    bad = list(LAWFUL)
    bad[0] = "津南城管罚〔2024〕9号"
    bad[HEADERS.index("立案日期")] = "昨天"
    report = import_paths(store, [ledger(tmp_path / "more.xlsx", bad)], actor="t")
    assert report.exit_code == 2 and report.problems[0].field == "rows.2.立案日期"
    with store.reading() as s:
        from sqlmodel import func, select
        from engine.store.tables import CaseRow
        assert s.exec(select(func.count()).select_from(CaseRow)).one() == 1
