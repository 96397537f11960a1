"""Jobs' results → ``Document``: the quarterly review, the deadline alerts, the annual statistics.

Rows are flat (text, numbers, dates as ISO text) and already in the reader's language, so every
renderer shows the same thing; codes that other systems need (case ids, rule ids) stay as they are.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from ..agency import POWER_CATEGORIES
from ..alerts import Alert
from ..check import CheckResult
from ..review import ReviewResult, compare
from ..rulebook import CATEGORIES
from ..stats import AgencyStats, rate, wan
from ..vocab import label, severity_label
from .document import Column, Document, LazyRows, Section, stamp
from .privacy import mask_text, masking_note, party_text

__all__ = ["review_document", "alerts_document", "stats_document", "check_document", "finding_row", "finding_columns",
           "average_score"]


def _money(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


def _pick(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


CENT = Decimal("0.01")


def average_score(scores: Iterable[int | float]) -> float:
    """The files' mean score to two decimals (half up), as every format shows it; never the highest (or
    lowest) score unless every file has it: 17 files of 748 one point short give 99.95, not 100.0, and one
    point lost among 100,000 files gives 99.99. No files: 0.0."""
    values = [Decimal(str(v)) for v in scores]
    if not values:
        return 0.0
    mean = (sum(values, Decimal(0)) / len(values)).quantize(CENT, ROUND_HALF_UP)
    top, bottom = max(values), min(values)
    if top != bottom:
        mean = min(max(mean, bottom + CENT), top - CENT)
    return float(mean)


# ---------------------------------------------------------------------------------------------- findings
def finding_columns(lang: str, *, scored: bool) -> list[Column]:
    """The columns of one explained finding: what is wrong, why (the sentence), when, under which article."""
    cols = [Column("case_id", "案卷", "case"), Column("agency_name", "执法主体", "agency")]
    if scored:
        cols += [Column("party", "当事人", "party"), Column("grade", "等级", "grade"),
                 Column("score", "得分", "score", "int"), Column("officers", "承办人", "officers")]
    cols += [Column("title", "问题", "finding"), Column("message", "说明", "explanation"),
             Column("due", "应完成日", "due", "date"), Column("late", "逾期", "late", "int"), Column("late_unit", "逾期单位", "late in"),
             Column("basis", "法律依据（适用版本）", "legal basis (version applied)"),
             Column("category", "类别", "category"), Column("severity", "性质", "severity"),
             Column("deduction", "扣分", "deduction", "int"), Column("veto", "否决项", "veto", "bool"),
             Column("curable", "可整改", "curable", "bool"), Column("note", "评查人意见", "reviewer's note"),
             Column("rule_id", "规则代码", "rule id", internal=True), Column("file", "文件", "file", internal=True)]
    return cols


def finding_row(f, lang: str, head: dict[str, Any] | None = None, masked: bool = True) -> dict[str, Any]:
    row = dict(head or {})
    row.update({"case_id": f.case_id, "title": f.title, "message": mask_text(f.message) if masked else f.message, "due": f.due, "late": f.late,
                "late_unit": (("日" if f.late_unit == "days" else "工作日") if lang == "zh" else f.late_unit) if f.late else None,
                "basis": f.basis, "category": f.category, "severity": severity_label(f.severity, lang),
                "deduction": f.deduction, "veto": f.veto, "curable": f.curable, "note": "", "rule_id": f.rule_id,
                "file": f.file})
    row.setdefault("agency_name", f.agency)
    return row


def agency_names(codes: Iterable[str]) -> dict[str, str]:
    """Agency code → name from the shipped agency profiles (the code itself when there is none)."""
    from ..agency import agency_path, load_agency

    out = {}
    for code in codes:
        try:
            out[code] = str(load_agency(code).name) if agency_path(code).exists() else code
        except Exception:                 # a broken profile is reported by the jobs that use it, not here
            out[code] = code
    return out


def check_document(result: CheckResult, masked: bool = True) -> Document:
    """``casecheck check`` as a Document (HTML, XLSX, DOCX): every finding explained, grouped by file."""
    lang = result.lang
    doc = Document("check", lang, _pick(lang, "案卷合规检查报告", "Case-file compliance report"),
                   stamp(result.rules_version, result.calendar_years, result.profile, result.as_of))
    findings = result.findings
    names = {c.case_id: str(c.loaded.case.agency.name) for c in result.cases if c.loaded is not None}
    known = agency_names({f.agency for f in findings})
    counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "info")}
    doc.summary = [("cases", _pick(lang, "检查案卷", "files checked"), len(result.cases)),
                   ("flagged", _pick(lang, "有问题案卷", "files with findings"),
                    len({(f.agency, f.case_id) for f in findings})),
                   ("errors", _pick(lang, "违法", "errors"), counts["error"]),
                   ("warnings", _pick(lang, "瑕疵", "warnings"), counts["warning"]),
                   ("infos", _pick(lang, "提示", "info"), counts["info"])]
    rows = [finding_row(f, lang, {"agency_name": names.get(f.case_id) or known.get(f.agency, f.agency)}, masked)
            for f in findings]
    doc.stamp["masking"] = masking_note(masked, lang)
    doc.sections.append(Section("findings", "问题明细", "Findings", finding_columns(lang, scored=False), rows,
                                group=("case_id", "agency_name"), style="veto"))
    doc.problems = [str(p) for p in result.all_problems] + [str(f) for f in result.failures]
    _incomplete(doc)
    doc.exit_code = result.exit_code
    return doc


def _incomplete(doc: Document) -> None:
    """A report some of whose input could not be read (or judged) says so first, not only at its end: its
    figures and "no findings" cover only what was read."""
    if doc.problems:
        n = len(doc.problems)
        doc.notes.insert(0, f"⚠ 本报告不完整：{n}项输入未能读取或未得出结论（见文末“输入错误或引擎未给出结论”），"
                            f"以上数字和问题明细不含这些案卷" if doc.lang == "zh" else
                            f"⚠ This report is incomplete: {n} input(s) could not be read or judged (see “Bad input or "
                            f"no verdict” at the end); the figures and findings above leave them out")


# ---------------------------------------------------------------------------------------------- review
STATUS = {"new": ("新发现", "new"), "still_open": ("仍未整改", "still open"),
          "not_curable": ("无法整改", "cannot be corrected"), "fixed": ("已整改", "fixed")}


def review_document(result: ReviewResult, lang: str, previous: dict[str, set[str]] | None = None,
                    masked: bool = True, rubric: Any = None) -> Document:
    """The review, findings first: the headline, the files that lost points (worst first) each with its
    findings explained, the summaries, and the clean files listed compactly at the end.

    ``previous``: case id → rule ids found in the previous quarter's stored review (for new/open/fixed)."""
    check = result.check
    grades = result.grades
    title = (_pick(lang, f"案卷评查报告 {result.quarter}（{result.start} 至 {result.end}）",
                   f"Case-file review {result.quarter} ({result.start} – {result.end})")
             + (f" · {result.agency}" if result.agency else ""))
    doc = Document("review", lang, title, stamp(check.rules_version, check.calendar_years, check.profile, check.as_of))
    doc.stamp["masking"] = masking_note(masked, lang)
    if rubric is not None:
        doc.stamp["rubric"] = rubric.describe() if lang == "zh" else f"rubric {rubric.name}"
    ranked = result.ranked()
    changes = compare(result, previous) if previous is not None else None
    doc.summary = [("quarter", _pick(lang, "评查季度", "quarter"), result.quarter),
                   ("cases_reviewed", _pick(lang, "评查案卷", "files reviewed"), len(result.cases)),
                   ("average_score", _pick(lang, "平均分", "average score"), average_score(c.score for c in result.cases))]
    doc.summary += [(f"grade:{g}", g, grades.get(g, 0)) for g in result.grade_names]
    doc.summary += [("vetoed", _pick(lang, "否决", "vetoed"), result.vetoed),
                    ("with_findings", _pick(lang, "有问题案卷", "files with findings"), len(ranked))]
    if changes is not None:
        for code, (zh, en) in STATUS.items():
            doc.summary.append((f"changes:{code}", _pick(lang, zh, en), sum(1 for *_, s in changes if s == code)))
    worst = result.grade_names[-1] if result.grade_names else None
    titles = result.rule_titles()

    def head(c) -> dict[str, Any]:
        return {"case_id": c.case_id, "agency_name": c.agency_name or c.agency, "party": party(c), "grade": c.grade,
                "score": c.score, "officers": "、".join(c.officers)}

    def party(c) -> str:
        return party_text(*c.party, masked) if c.party else ""

    def explained(c) -> list[dict[str, Any]]:
        """The file's findings; with a rubric, a rule's deduction on its first finding (已豁免, adjusted…)."""
        out, seen = [], set()
        for f in c.findings:
            row = finding_row(f, lang, head(c), masked)
            if c.applied:
                row["deduction"] = c.applied.get(f.rule_id, 0) if f.rule_id not in seen else 0
                row["note"] = c.notes.get(f.rule_id, "")
                seen.add(f.rule_id)
            out.append(row)
        return out

    rows = [row for c in ranked for row in explained(c)]
    doc.sections.append(Section("findings", "失分案卷及问题", "Files that lost points, with their findings",
                                finding_columns(lang, scored=True), rows,
                                group=("case_id", "agency_name", "party", "grade", "score", "officers"), style="veto"))

    def file_row(c) -> dict[str, Any]:
        return {"case_id": c.case_id, "agency": c.agency, "agency_name": c.agency_name or c.agency, "party": party(c),
                "procedure": label(c.procedure, lang), "domain": label(c.domain, lang), "date": c.day.isoformat(),
                "score": c.score, "grade": c.grade,
                "deductions": " ".join(f"{k}-{c.deductions[k]}" for k in CATEGORIES if k in c.deductions),
                "vetoes": "、".join(titles.get(v, v) for v in c.vetoes), "rules": _counted(c.rules),
                "findings": len(c.findings), "officers": "、".join(c.officers),
                "attention": bool(c.rules), "failed": c.grade == worst}

    file_columns = [Column("case_id", "案卷", "case"), Column("agency_name", "执法主体", "agency"),
                    Column("party", "当事人", "party"), Column("procedure", "程序", "procedure"), Column("domain", "领域", "domain"),
                    Column("date", "决定/结案日", "decided/closed", "date"), Column("score", "得分", "score", "int"),
                    Column("grade", "等级", "grade"), Column("deductions", "扣分", "deductions"),
                    Column("vetoes", "否决项", "veto items"), Column("findings", "问题数", "findings", "int"),
                    Column("officers", "执法人员", "officers"), Column("rules", "规则代码", "rule ids", internal=True),
                    Column("agency", "主体代码", "agency code", internal=True)]
    doc.sections.append(Section("files", "失分案卷一览", "Files that lost points", file_columns,
                                LazyRows(ranked, file_row), style="failed"))
    doc.sections.append(Section(
        "grades", "等级分布", "Grades",
        [Column("grade", "等级", "grade"), Column("cases", "案卷数", "files", "int")],
        [{"grade": g, "cases": grades.get(g, 0)} for g in result.grade_names], chart="cases"))
    by_rule = [{"title": titles.get(r, r), "findings": n, "cases": k, "rule_id": r} for r, n, k in result.by_rule()]
    doc.sections.append(Section(
        "by_rule", "典型问题（按规则）", "Typical problems by rule",
        [Column("title", "问题", "finding"), Column("findings", "问题数", "findings", "int"),
         Column("cases", "案卷数", "files", "int"), Column("rule_id", "规则代码", "rule id", internal=True)],
        by_rule, chart="findings"))
    if changes is not None:
        doc.sections.append(_changes(changes, titles, lang))
    officer_scores: dict[str, list[int]] = defaultdict(list)      # the groups of ReviewResult.by_officer/by_domain,
    domain_scores: dict[str, list[int]] = defaultdict(list)       # averaged as the headline is
    for c in result.cases:
        for name in c.officers:
            officer_scores[name].append(c.score)
        domain_scores[c.domain].append(c.score)
    doc.sections.append(Section(
        "by_officer", "执法人员", "By officer",
        [Column("officer", "执法人员", "officer"), Column("cases", "案卷数", "files", "int"),
         Column("with_findings", "有问题", "with findings", "int"),
         Column("average_score", "平均分", "average", "number")],
        [{"officer": o, "cases": n, "with_findings": k, "average_score": average_score(officer_scores[o])}
         for o, n, k, _ in result.by_officer()]))
    doc.sections.append(Section(
        "by_domain", "执法领域", "By matter domain",
        [Column("domain", "领域", "domain"), Column("cases", "案卷数", "files", "int"),
         Column("findings", "问题数", "findings", "int"), Column("average_score", "平均分", "average", "number")],
        [{"domain": label(d, lang), "cases": n, "findings": k, "average_score": average_score(domain_scores[d])}
         for d, n, k, _ in result.by_domain()]))
    clean = [c for c in result.cases if not c.lost_points]
    doc.sections.append(Section(
        "clean", "无问题案卷", "Files without findings",
        [Column("case_id", "案卷", "case"), Column("score", "得分", "score", "int"),
         Column("date", "决定/结案日", "decided/closed", "date")],
        LazyRows(clean, lambda c: {"case_id": c.case_id, "score": c.score, "date": c.day.isoformat()}), compact=True))
    doc.sections.append(Section(                    # every file: JSON (the next quarter's --previous) and a sheet
        "cases", "全部案卷评分", "All files scored", file_columns, LazyRows(result.cases, file_row),
        style="failed", only=("json", "xlsx")))
    doc.extra = {"rubric": rubric, "quarter": result.quarter, "start": result.start, "end": result.end, "agency": result.agency,
                 "grade_names": result.grade_names, "previous": previous is not None}
    doc.problems = [str(p) for p in check.all_problems] + [str(f) for f in check.failures]
    _incomplete(doc)
    doc.exit_code = 2 if doc.problems else (1 if worst and grades.get(worst) else 0)
    return doc


def _counted(rules: list[str]) -> str:
    """rule ids with how often each fired: ``a、b×6``."""
    counts: dict[str, int] = {}
    for r in rules:
        counts[r] = counts.get(r, 0) + 1
    return "、".join(r if n == 1 else f"{r}×{n}" for r, n in counts.items())


def _changes(changes: list[tuple[str, str, str]], titles: dict[str, str], lang: str) -> Section:
    rows = [{"case_id": case_id, "title": titles.get(rule, rule), "rule_id": rule,
             "status": STATUS[status][0 if lang == "zh" else 1], "status_code": status}
            for case_id, rule, status in changes]
    return Section("changes", "与上季度评查相比", "Compared with the previous quarter's review",
                   [Column("case_id", "案卷", "case"), Column("title", "问题", "finding"),
                    Column("status", "状态", "status"), Column("rule_id", "规则代码", "rule id", internal=True),
                    Column("status_code", "状态代码", "status code", internal=True)], rows)


# ---------------------------------------------------------------------------------------------- alerts
def alerts_document(found: list[Alert], lang: str, *, as_of: dt.date, within: int | None, rules: str, calendar: str,
                    profile: str, problems: Iterable[str] = (), masked: bool = True) -> Document:
    title = _pick(lang, f"期限预警（截至 {as_of}）", f"Deadline alerts as of {as_of}")
    if within is not None:
        title += _pick(lang, f"：已逾期及 {within} 个工作日内到期", f": overdue and due within {within} working days")
    doc = Document("alerts", lang, title, stamp(rules, calendar, profile, as_of))
    doc.stamp["masking"] = masking_note(masked, lang)        # the repeat-inspection section names parties
    overdue = sum(a.overdue for a in found)
    names = agency_names({a.agency for a in found})
    doc.summary = [("as_of", _pick(lang, "截至", "as of"), as_of.isoformat()),
                   ("within", _pick(lang, "预警范围（工作日）", "window (working days)"), within),
                   ("alerts", _pick(lang, "预警", "alerts"), len(found)),
                   ("overdue", _pick(lang, "已逾期", "overdue"), overdue)]
    rows = [{"workdays_left": a.workdays_left, "status": a.left_text("zh" if lang == "zh" else "en"),
             "due": a.due.isoformat(), "case_id": a.case_id, "agency": a.agency, "deadline": a.what, "code": a.code,
             "agency_name": names.get(a.agency, a.agency),
             "from": a.start, "officers": a.officers, "file": a.file, "overdue": a.overdue} for a in found]
    doc.sections.append(Section(
        "alerts", "期限", "Deadlines",
        [Column("status", "状态", "status"), Column("workdays_left", "剩余工作日", "working days left", "int"),
         Column("due", "到期日", "due", "date"), Column("case_id", "案件", "case"), Column("deadline", "期限", "deadline"),
         Column("from", "起算日", "from", "date"), Column("officers", "执法人员", "officers"),
         Column("agency_name", "执法主体", "agency"), Column("overdue", "已逾期", "overdue", "bool"),
         Column("code", "期限代码", "code", internal=True), Column("agency", "主体代码", "agency code", internal=True),
         Column("file", "文件", "file", internal=True)], rows, style="overdue"))
    doc.problems = list(problems)
    doc.exit_code = 2 if doc.problems else (1 if overdue else 0)
    return doc


# ---------------------------------------------------------------------------------------------- stats
def stats_document(items: list[AgencyStats], lang: str, *, year: int, rules: str, calendar: str, profile: str,
                   as_of: dt.date, problems: Iterable[str] = (), masked: bool = True) -> Document:
    """The annual statistics. ``masked``: what the stamp says of the sections added with the inspected
    parties (``engine.inspections.add_counts_section``, given the same ``masked``)."""
    names = "、".join(s.name for s in items)
    doc = Document("stats", lang, _pick(lang, f"{year}年度行政执法统计 · {names}", f"Enforcement statistics {year} · {names}"),
                   stamp(rules, calendar, profile, as_of))
    doc.stamp["masking"] = masking_note(masked, lang)
    doc.summary = [("year", _pick(lang, "年度", "year"), year), ("agencies", _pick(lang, "执法主体", "agencies"), len(items)),
                   ("cases", _pick(lang, "案件", "cases"), sum(s.total for s in items)),
                   ("fines_wan", _pick(lang, "罚款（万元）", "fines (10k yuan)"), wan(sum((s.amount for s in items), Decimal(0))))]
    main, basis, domain, publicity, powers = [], [], [], [], []
    for s in items:
        part, exer = s.participation(), s.exercise()
        main.append({
            "agency": s.agency, "name": s.name, "cases": s.total, "inspections": s.inspections,
            "simple": s.simple, "ordinary": s.ordinary, "no_penalty": s.no_penalty, "transfers": s.transfer,
            "fines_yuan": _money(s.amount), "fines_wan": wan(s.amount),
            "participation": rate(part), "acted": part[0] if part else None, "certified": part[1] if part else None,
            "exercise": rate(exer), "exercised": exer[0] if exer else None, "duties": exer[1] if exer else None,
            "idle_officers": "、".join(s.idle_officers()), "unexercised": "、".join(s.unexercised())})
        for key, g in sorted(s.by_basis.items(), key=lambda x: (-x[1].cases, x[0])):
            basis.append({"agency": s.agency, "basis": key, "cases": g.cases, "fines_yuan": _money(g.amount),
                          "fines_wan": wan(g.amount)})
        for key, g in sorted(s.by_domain.items(), key=lambda x: (-x[1].cases, x[0])):
            domain.append({"agency": s.agency, "domain": label(key, lang), "cases": g.cases, "fines": g.fines,
                           "warnings": g.warnings, "fines_yuan": _money(g.amount), "fines_wan": wan(g.amount)})
        for platform in ("supervision_platform", "credit_china", "portal"):
            if s.publicized.get(platform):
                publicity.append({"agency": s.agency, "what": _pick(lang, "行政处罚决定", "penalty decisions"),
                                  "platform": label(platform, lang), "cases": s.publicized[platform]})
        if s.inspections_publicized:
            publicity.append({"agency": s.agency, "what": _pick(lang, "行政检查结果", "inspection results"),
                              "platform": label("supervision_platform", lang), "cases": s.inspections_publicized})
        if s.profile and s.profile.powers:
            for key, n in s.profile.powers.items():
                powers.append({"agency": s.agency, "category": POWER_CATEGORIES[key][0 if lang == "zh" else 1],
                               "powers": n})
            powers.append({"agency": s.agency, "category": _pick(lang, "合计", "total"), "powers": s.profile.power_total})
    doc.sections.append(Section(
        "overview", "基本情况", "Overview",
        [Column("name", "执法主体", "agency"), Column("cases", "录入案件", "cases", "int"),
         Column("inspections", "行政检查", "inspections", "int"), Column("simple", "简易程序处罚", "simple penalties", "int"),
         Column("ordinary", "普通程序处罚", "ordinary penalties", "int"),
         Column("no_penalty", "不予处罚", "no penalty", "int"), Column("transfers", "移送", "transfers", "int"),
         Column("fines_yuan", "罚款（元）", "fines (yuan)", "money"), Column("fines_wan", "罚款（万元）", "fines (10k yuan)", "decimal"),
         Column("participation", "执法人员参与办案率", "officer participation", "pct"),
         Column("acted", "参与办案人数", "officers who acted", "int"), Column("certified", "持证人数", "certified", "int"),
         Column("exercise", "执法职权履职率", "power exercise rate", "pct"),
         Column("exercised", "已履职事项", "duties exercised", "int"), Column("duties", "应履职事项", "duties", "int"),
         Column("idle_officers", "未参与办案人员", "officers without cases"),
         Column("unexercised", "未履职事项", "duties not exercised")], main, transpose=True))
    doc.sections.append(Section(
        "by_basis", "处罚案件（按法律依据）", "Penalty cases by legal basis",
        [Column("basis", "法律依据", "legal basis"), Column("cases", "案件数", "cases", "int"),
         Column("fines_yuan", "罚款（元）", "fines (yuan)", "money"), Column("fines_wan", "罚款（万元）", "fines (10k yuan)", "decimal"),
         Column("agency", "执法主体", "agency")], basis, chart="cases"))
    doc.sections.append(Section(
        "by_domain", "处罚案件（按执法领域）", "Penalty cases by domain",
        [Column("domain", "领域", "domain"), Column("cases", "案件数", "cases", "int"),
         Column("fines", "罚款", "fines", "int"), Column("warnings", "警告", "warnings", "int"),
         Column("fines_yuan", "罚款（元）", "fines (yuan)", "money"), Column("fines_wan", "罚款（万元）", "fines (10k yuan)", "decimal"),
         Column("agency", "执法主体", "agency")], domain, chart="fines_yuan"))
    doc.sections.append(Section(
        "publicity", "公示情况", "Publicity",
        [Column("what", "公示内容", "what"), Column("platform", "平台", "platform"),
         Column("cases", "件数", "cases", "int"), Column("agency", "执法主体", "agency")], publicity))
    if powers:
        doc.sections.append(Section(
            "powers", "行政职权（权责清单）", "Powers (power list)",
            [Column("category", "类别", "category"), Column("powers", "项数", "powers", "int"),
             Column("agency", "执法主体", "agency")], powers))
    doc.notes = [_stats_wording(s, lang) for s in items]
    doc.problems = list(problems)
    doc.exit_code = 2 if doc.problems else 0
    return doc


def _stats_wording(s: AgencyStats, lang: str) -> str:
    """The 基本情况 sentence of an annual report, worded as the seed reports word it."""
    laws = sorted(s.by_basis.items(), key=lambda x: (-x[1].cases, x[0]))
    part, exer = s.participation(), s.exercise()
    if lang == "zh":
        text = (f"{s.year}年，{s.name}开展各类执法检查并录入行政执法监督平台案件{s.total}件，其中行政检查案件"
                f"{s.inspections}件，简易程序处罚案件{s.simple}件，普通程序行政处罚案件{s.ordinary}起，"
                f"共计处罚金额{wan(s.amount)}万元。")
        if laws:
            text += "其中" + "，".join(f"依据{k}处罚{g.cases}起" for k, g in laws) + "。"
        if part or exer:
            text += f"执法人员参与办案率{rate(part)}，执法职权履职率{rate(exer)}。"
        return text
    text = (f"In {s.year}, {s.name} entered {s.total} cases on the supervision platform: {s.inspections} inspections, "
            f"{s.simple} simple-procedure and {s.ordinary} ordinary-procedure penalty cases, with fines of "
            f"{wan(s.amount)} × 10,000 yuan.")
    if laws:
        text += " By legal basis: " + "; ".join(f"{k} {g.cases}" for k, g in laws) + "."
    if part or exer:
        text += f" Officer participation {rate(part)}, power exercise rate {rate(exer)}."
    return text
