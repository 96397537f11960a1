"""A 监督通知书 / 监督意见书 as a document one files (DOCX), in the conventions of ``engine.report.docx``:
A4, GB/T 9704 margins, 仿宋 body, 黑体 headings, 小标宋 title, page numbers; with its rectification record
(整改报告, acceptance or return: who, how established, when) after the notice itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .docx import _Writer

__all__ = ["notice_docx"]

ACTION_TITLES = {"reply": ("整改报告", "rectification report"), "accept": ("审核通过，销号", "accepted, closed"),
                 "return": ("退回重新整改", "returned")}
PROOF_TITLES = {"authenticated": ("登录验证", "logged in"), "asserted": ("自述（命令行 --by）", "asserted (--by)"),
                "platform": ("平台令牌", "platform token")}


def _day(value: dt.date, zh: bool) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if zh else value.isoformat()


def notice_docx(view: Any, lang: str = "zh", as_of: dt.date | None = None, agency_name: str = "",
                issuer: str = "") -> bytes:
    """``view``: an ``engine.supervision.NoticeView``."""
    zh = lang == "zh"
    w = _Writer(lang)
    w.title(f"{issuer or ''}{view.kind_title(lang)}" if zh else view.kind_title(lang).capitalize(), view.number)
    w.para(f"{agency_name or view.agency}：" if zh else f"To: {agency_name or view.agency}", indent=False)
    if zh:
        w.para("经行政执法监督，发现你单位存在下列问题：")
    else:
        w.para("Supervision of your enforcement found the following problems:")
    for i, line in enumerate([x for x in view.problem.splitlines() if x.strip()], 1):
        w.para(f"{i}. {line.strip()}")
    if view.case_ids:
        w.para("、".join(view.case_ids), bold_lead="涉及案卷：" if zh else "Cases: ")
    if view.rule_ids:
        w.para("、".join(view.rule_ids), bold_lead="检查规则：" if zh else "Rules: ")
    w.h1("一、法律依据" if zh else "1. Legal basis")
    for line in [x for x in view.basis.splitlines() if x.strip()]:
        w.para(line.strip())
    w.h1("二、整改要求" if zh else "2. Requirement")
    for line in [x for x in view.requirement.splitlines() if x.strip()]:
        w.para(line.strip())
    w.closing(f"请于{_day(view.deadline, zh)}前完成整改，并将整改报告（整改情况及相关材料）报送本机关。" if zh
              else f"Rectify by {view.deadline.isoformat()} and send the rectification report (what was done, with the "
              "documents) to this office.",
              (issuer or ("行政执法监督机构" if zh else "Enforcement supervision office"), _day(view.issued_on, zh)))
    w.h1("三、整改跟踪" if zh else "3. Rectification record")
    state = view.state_label(lang, as_of)
    w.para(f"{'当前状态' if zh else 'State'}：{state}；{'整改期限' if zh else 'deadline'} {_day(view.deadline, zh)}")
    header = ["序号", "事项", "日期", "经办人", "身份确认", "记录时间", "内容"] if zh else \
        ["#", "step", "date", "by", "identity", "recorded", "text"]
    rows = [["0", "发出" if zh else "issued", view.issued_on.isoformat(), view.by,
             PROOF_TITLES.get(view.proof, (view.proof, view.proof))[0 if zh else 1],
             view.at.isoformat(timespec="minutes"), view.number]]
    for s in view.steps:
        what = ACTION_TITLES[s["action"]][0 if zh else 1]
        if s.get("deadline"):
            what += f"（{'新期限' if zh else 'new deadline'} {s['deadline'].isoformat()}）"
        rows.append([str(s["seq"]), what, s["day"].isoformat(), s["by"],
                     PROOF_TITLES.get(s["proof"], (s["proof"], s["proof"]))[0 if zh else 1],
                     s["at"].isoformat(timespec="minutes"), s["text"]])
    w.table(header, rows, widths=[10, 24, 22, 18, 22, 28, 32])
    return w.bytes()
