"""A ``Document`` as a Word file (python-docx), set as a district files it (GB/T 9704 公文 layout).

For a review: the quarterly 评查情况报告 (scope, method, results, typical problems by rule, officers and
domains, comparison with the last quarter), then one 案卷评查意见书 per file that lost points (案卷,
执法主体, 承办人, 得分, 等级, each problem with its explanation and legal basis, 整改要求), each starting a
page (pageBreakBefore on its title, never an empty break paragraph) and ending with its last paragraph and
signature block (评查单位（盖章）, 评查人, date) kept on one page; last, the files without findings as a
compact annex (case numbers by 字号, runs as ``1273—1366``). Other jobs (check, alerts, stats): the title,
the headline figures, each section as a table, findings per file.

A4, margins 37/35/28/26 mm, 仿宋 body, 黑体/楷体 headings, 小标宋 title, page numbers "— n —" centred in
the footer. Font names are those a government PC has; elsewhere (LibreOffice on Linux) the CJK fallback
font draws them.
"""

from __future__ import annotations

import io
import re
from typing import Any
from xml.sax.saxutils import escape

from ..findings import late_words
from .document import Document, Section

__all__ = ["render_docx"]

BODY, HEI, KAI, TITLE = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体"
CN_NUM = "一二三四五六七八九十"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: Any) -> str:
    """Text for WordprocessingML: escaped, without the control characters XML cannot hold."""
    return escape(_NOT_XML.sub("", str(text)))


def _font(style_or_run: Any, name: str, size: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = style_or_run.font
    font.name = name
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attr), name)


def _page_number(paragraph: Any) -> None:
    """``— PAGE —`` as a field Word and LibreOffice fill in."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph.add_run("— ")
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            run._r.append(el)
        elif text == "PAGE":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = " PAGE "
            run._r.append(el)
        else:
            el = OxmlElement("w:t")
            el.text = text
            run._r.append(el)
    paragraph.add_run(" —")


class _Writer:
    def __init__(self, lang: str):
        from docx import Document as Docx
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml.ns import qn
        from docx.shared import Mm, Pt

        self.lang = lang
        self.d = Docx()
        self.center = WD_ALIGN_PARAGRAPH.CENTER
        self.right = WD_ALIGN_PARAGRAPH.RIGHT
        sec = self.d.sections[0]
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
        sec.footer_distance = Mm(20)
        styles = self.d.styles
        normal = styles["Normal"]
        _font(normal, BODY, 16)
        normal.paragraph_format.line_spacing = Pt(28)
        normal.paragraph_format.space_after = Pt(0)
        normal.paragraph_format.space_before = Pt(0)
        normal.paragraph_format.widow_control = True        # no paragraph's first or last line alone on a page
        for name, font, size in (("Title", TITLE, 22), ("Heading 1", HEI, 16), ("Heading 2", KAI, 16),
                                 ("Heading 3", BODY, 16)):
            st = styles[name]
            _font(st, font, size, bold=name == "Heading 3")
            st.font.color.rgb = None
            st.font.italic = False
            st.paragraph_format.space_before = Pt(6 if name != "Title" else 0)
            st.paragraph_format.space_after = Pt(6 if name == "Title" else 0)
            st.paragraph_format.line_spacing = Pt(36 if name == "Title" else 28)
        styles["Title"].paragraph_format.alignment = self.center
        from docx.enum.style import WD_STYLE_TYPE

        indent = styles.add_style("Body Indent", WD_STYLE_TYPE.PARAGRAPH)
        indent.base_style = normal
        indent.paragraph_format.first_line_indent = Pt(32)
        self.style = {name: styles[name] for name in ("Title", "Heading 1", "Heading 2", "Table Grid")}
        self.ids = {name: styles[name].style_id for name in ("Title", "Heading 1", "Heading 2", "Body Indent")}
        self._opinion_table: Any = None
        self._sect: Any = None
        self.buf: list[str] | None = None          # buffered mode: paragraphs as XML text, parsed at once
        ppr = styles["Title"].element.pPr
        if ppr is not None:                                   # python-docx's Title has a blue rule under it
            for border in ppr.findall(qn("w:pBdr")):
                ppr.remove(border)
        self.table_font = 10.5
        footer = sec.footer.paragraphs[0]
        footer.alignment = self.center
        _page_number(footer)

    def add_paragraph(self, text: str = "") -> Any:
        """A paragraph put before the section properties directly: python-docx's ``add_paragraph`` looks for
        them among all the body's children each time, which is quadratic in a long document."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.text.paragraph import Paragraph

        if self._sect is None:
            self._sect = self.d.element.body.find(qn("w:sectPr"))
        el = OxmlElement("w:p")
        self._sect.addprevious(el)
        p = Paragraph(el, self.d._body)
        if text:
            p.add_run(text)
        return p

    def _raw(self, text: str, style: str | None = None, bold_lead: str | None = None,
             align: str | None = None, keep: bool = False, new_page: bool = False,
             space_before: int | None = None) -> None:
        """One paragraph as XML; ``keep``: on the page of the next one, never split (keepNext, keepLines);
        ``new_page``: starts a page (pageBreakBefore: no empty paragraph that could land on a page of its own)."""
        ppr = ((f'<w:pStyle w:val="{self.ids[style]}"/>' if style else "")          # the schema's order
               + ("<w:keepNext/><w:keepLines/>" if keep else "") + ("<w:pageBreakBefore/>" if new_page else "")
               + (f'<w:spacing w:before="{space_before * 20}"/>' if space_before else "")
               + (f'<w:jc w:val="{align}"/>' if align else ""))
        runs = (f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{_x(bold_lead)}</w:t></w:r>' if bold_lead else "")
        runs += f'<w:r><w:t xml:space="preserve">{_x(text)}</w:t></w:r>' if text else ""
        assert self.buf is not None
        self.buf.append(f"<w:p>{'<w:pPr>' + ppr + '</w:pPr>' if ppr else ''}{runs}</w:p>")

    def flush(self) -> None:
        """Parse the buffered XML once and put it before the section properties."""
        from docx.oxml.ns import qn
        from docx.oxml.parser import parse_xml

        if not self.buf:
            return
        body = parse_xml(f'<w:body xmlns:w="{W_NS}">' + "".join(self.buf) + "</w:body>")
        if self._sect is None:
            self._sect = self.d.element.body.find(qn("w:sectPr"))
        for child in list(body):
            self._sect.addprevious(child)
        self.buf = []

    def _p(self, text: str, style: str | None, new_page: bool = False) -> Any:
        """A paragraph with a style set by id (python-docx's by-name or by-object lookup scans every style)."""
        if self.buf is not None:
            return self._raw(text, style, align="center" if style == "Title" else None, new_page=new_page)
        p = self.add_paragraph(text)
        if style:
            p._p.style = self.ids[style]
        if new_page:
            p.paragraph_format.page_break_before = True
        return p

    def title(self, text: str, sub: str | None = None, new_page: bool = False) -> None:
        """The title, centred; ``new_page``: it starts a page (a letter after another)."""
        p = self._p(text, "Title", new_page)
        if p is None:
            return
        p.alignment = self.center
        if sub:
            q = self.add_paragraph(sub)
            q.alignment = self.center

    def h1(self, text: str) -> None:
        self._p(text, "Heading 1")

    def h2(self, text: str) -> None:
        self._p(text, "Heading 2")

    def para(self, text: str, indent: bool = True, bold_lead: str | None = None, align: str | None = None,
             keep: bool = False, space_before: int | None = None) -> Any:
        """A body paragraph; ``keep``: on one page with the next paragraph (and not split);
        ``space_before`` in points."""
        if self.buf is not None:
            return self._raw(text, "Body Indent" if indent else None, bold_lead, align, keep=keep,
                             space_before=space_before)
        from docx.shared import Pt

        p = self._p("", "Body Indent" if indent else None)
        if align:
            p.alignment = self.right if align == "right" else self.center
        if keep:
            p.paragraph_format.keep_with_next = True
            p.paragraph_format.keep_together = True
        if space_before:
            p.paragraph_format.space_before = Pt(space_before)
        if bold_lead:
            p.add_run(bold_lead).bold = True
        p.add_run(text)
        return p

    def closing(self, last: str, lines: tuple[str, ...] | list[str], indent: bool = True) -> None:
        """A letter's last paragraph and its signature block (seal, signer, date: right-aligned, a line of
        space above), all on one page: the block never split, never on a page of its own without the
        letter's last lines, never a date alone on a page."""
        self.para(last, indent=indent, keep=True)
        for i, line in enumerate(lines):
            self.para(line, indent=False, align="right", keep=i < len(lines) - 1, space_before=28 if i == 0 else None)

    def small(self, text: str, bold_lead: str | None = None) -> None:
        from docx.shared import Pt

        p = self.add_paragraph()
        if bold_lead:
            lead = p.add_run(bold_lead)
            lead.bold = True
            lead.font.size = Pt(10.5)
        r = p.add_run(text)
        r.font.size = Pt(10.5)
        p.paragraph_format.line_spacing = Pt(16)

    def table(self, header: list[str], rows: list[list[str]], widths: list[float] | None = None,
              header_bold: bool = True) -> None:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Mm, Pt

        t = self.d.add_table(rows=1 + len(rows), cols=len(header))
        t.style = self.style["Table Grid"]
        cells = t._cells
        n = len(header)
        for i, text in enumerate(header):
            cell = cells[i]
            cell.text = text
            if header_bold and cell.paragraphs[0].runs:
                cell.paragraphs[0].runs[0].font.bold = True
        trpr = t.rows[0]._tr.get_or_add_trPr()            # repeat the header row on every page
        el = OxmlElement("w:tblHeader")
        el.set(qn("w:val"), "true")
        trpr.append(el)
        for r, row in enumerate(rows, 1):
            for c, text in enumerate(row):
                cells[r * n + c].text = text
        for cell in cells:
            for p in cell.paragraphs:
                p.paragraph_format.line_spacing = Pt(15)
                p.paragraph_format.first_line_indent = None
                for run in p.runs:
                    run.font.size = Pt(self.table_font)
        if widths:
            t.autofit = False
            for col, w in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths):   # what LibreOffice reads
                col.set(qn("w:w"), str(int(Mm(w).twips)))
            for row in t.rows:
                for cell, w in zip(row.cells, widths):
                    cell.width = Mm(w)
        self.add_paragraph()

    def table_like_first(self, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
        """The same table again with other texts: the first is built by python-docx, the others are copies of its
        XML with the texts replaced (a thousand opinions' header tables in a fraction of the time)."""
        import copy

        from docx.oxml.ns import qn

        if self.buf is not None and isinstance(self._opinion_table, str):
            texts = [*header, *(c for r in rows for c in r)]
            xml = self._opinion_table
            for i, text in enumerate(texts):
                xml = xml.replace(f"@@{i}@@", _x(text), 1)
            self.buf.append(xml)
            return
        if self._opinion_table is None:
            self.table(header, rows, widths, header_bold=False)
            body = self.d.element.body
            tbl = body.findall(qn("w:tbl"))[-1]
            self._opinion_table = (copy.deepcopy(tbl), copy.deepcopy(tbl.getnext()))
            return
        tbl, after = (copy.deepcopy(x) for x in self._opinion_table)
        texts = [*header, *(c for r in rows for c in r)]
        for node, text in zip(tbl.iter(qn("w:t")), texts):
            node.text = text
        if self._sect is None:
            self._sect = self.d.element.body.find(qn("w:sectPr"))
        self._sect.addprevious(tbl)
        self._sect.addprevious(after)

    def table_template(self, cells: int, widths: list[float]) -> None:
        """The opinion's header table, built once by python-docx, kept as XML text with numbered slots."""
        from lxml import etree
        from docx.oxml.ns import qn

        n = len(widths)
        slots = [f"@@{i}@@" for i in range(cells)]
        self.table(slots[:n], [slots[i:i + n] for i in range(n, cells, n)], widths, header_bold=False)
        body = self.d.element.body
        tbl = body.findall(qn("w:tbl"))[-1]
        after = tbl.getnext()
        self._opinion_table = (etree.tostring(tbl, encoding="unicode") + etree.tostring(after, encoding="unicode"))
        body.remove(tbl)
        body.remove(after)

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        self.d.save(buf)
        return buf.getvalue()


def _v(value: Any, lang: str = "zh") -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    return str(value)


def _files(section: Section | None) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The findings section's rows, grouped by file (consecutive rows of one case)."""
    out: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if section is None:
        return out
    for row in section.rows:
        if not out or out[-1][0].get("case_id") != row.get("case_id"):
            out.append((row, []))
        out[-1][1].append(row)
    return out


def _finding(w: _Writer, i: int, f: dict[str, Any], zh: bool) -> None:
    tags = [str(f.get("category") or ""), f"扣{f.get('deduction')}分" if zh else f"−{f.get('deduction')} points"]
    if f.get("veto"):
        tags.append("否决项" if zh else "veto")
    w.para(f"（{'、'.join(t for t in tags if t)}）" if zh else f" ({', '.join(t for t in tags if t)})",
           bold_lead=f"{i}. {f.get('title')}")
    w.para(str(f.get("message") or ""))
    if f.get("due"):
        late = f.get("late")
        words = late_words(late, f.get("late_unit") or "workdays", "zh" if zh else "en")
        w.para((f"最迟应于{f['due']}完成" + (f"，{words}。" if words else "。")) if zh
               else f"Due {f['due']}" + (f", {words}." if words else "."))
    if f.get("basis"):
        w.para(("法律依据：" if zh else "Legal basis: ") + str(f["basis"]))
    if f.get("note"):
        w.para(("评查人意见：" if zh else "Reviewer's note: ") + str(f["note"]))


def _opinions(w: _Writer, doc: Document) -> None:
    zh = doc.lang == "zh"
    files = _files(doc.section("findings"))
    if not files:
        return
    w.table_template(12, [22, 56, 24, 54])
    w.buf = []                                     # a thousand opinions: XML text, parsed once at the end
    for head, items in files:
        w.title("案卷评查意见书" if zh else "Case-file review opinion", new_page=True)
        w.table_like_first(["案卷" if zh else "Case", _v(head.get("case_id")), "执法主体" if zh else "Agency",
                            _v(head.get("agency_name"))],
                           [["当事人" if zh else "Party", _v(head.get("party")),
                             "得分 / 等级" if zh else "Score / grade",
                             f"{_v(head.get('score'))} / {_v(head.get('grade'))}"],
                            ["承办人" if zh else "Officers", _v(head.get("officers")),
                             "评查季度" if zh else "Quarter", _v(doc.extra.get("quarter"))]],
                           widths=[22, 56, 24, 54])
        w.h1("一、存在问题" if zh else "1. Problems found")
        for i, f in enumerate(items, 1):
            _finding(w, i, f, zh)
        w.h1("二、整改要求" if zh else "2. Corrections required")
        curable = [f for f in items if f.get("curable") is not False]
        fixed = [f for f in items if f.get("curable") is False]
        required = []
        if curable:
            required.append(("请承办单位对第" + "、".join(str(items.index(f) + 1) for f in curable)
                             + "项问题逐项整改，补正相关文书或程序，于收到本意见书之日起15个工作日内将整改情况书面报送评查组织单位。")
                            if zh else "Correct problems " + ", ".join(str(items.index(f) + 1) for f in curable)
                            + " and report in writing within 15 working days of receiving this opinion.")
        if fixed:
            required.append(("第" + "、".join(str(items.index(f) + 1) for f in fixed)
                             + "项问题所涉行为已逾期完成，无法整改，应在今后办案中严格执行法定期限，杜绝同类问题。")
                            if zh else "Problems " + ", ".join(str(items.index(f) + 1) for f in fixed)
                            + " concern acts already done late and cannot be corrected; keep the statutory periods in future cases.")
        for text in required[:-1]:
            w.para(text)
        w.closing(required[-1], ("评查单位（盖章）：　　　　　　　　", "评查人：　　　　　　　　", "　　年　　月　　日") if zh
                  else ("Reviewing body (seal):", "Reviewer:", "Date:"))
    w.flush()
    w.buf = None


def _review_report(w: _Writer, doc: Document) -> None:
    zh = doc.lang == "zh"
    x = doc.extra
    s = {k: v for k, _, v in doc.summary}
    grades = [(g, s.get(f"grade:{g}", 0)) for g in x.get("grade_names", ())]
    w.title(f"{x.get('quarter')}行政执法案卷评查情况报告" if zh else f"Case-file review report {x.get('quarter')}")
    w.small(doc.stamp_line())
    n = s.get("cases_reviewed", 0)
    w.h1("一、评查范围" if zh else "1. Scope")
    w.para((f"本次评查对{x.get('start')}至{x.get('end')}期间作出处罚决定或结案的"
            f"{('执法主体' + x['agency'] + '的') if x.get('agency') else ''}行政执法案卷共{n}件进行了全面评查。")
           if zh else f"All {n} case files decided or closed between {x.get('start')} and {x.get('end')} were reviewed.")
    w.h1("二、评查方法" if zh else "2. Method")
    st = doc.stamp
    w.para((f"依据评查标准逐卷核查主体、事实证据、适用法律、程序、文书、归档六类事项：每卷以100分为基准，"
            f"按问题扣分，同一规则同一案卷只扣一次，扣完为止，不计负分；存在否决项的案卷评为最低等级。"
            f"等级：{'、'.join(g for g, _ in grades)}。期限按工作日计算（日历 {st['calendar']}），"
            f"法律依据按行为发生时施行的版本适用（规则库 {st['rules']}，配置 {st['profile']}）。")
           if zh else "Each file starts at 100 points; each problem deducts once per rule and file, never below 0; "
           "a veto item gives the lowest grade. Deadlines count working days; each legal basis is the version "
           "in force at the act.")
    w.h1("三、评查结果" if zh else "3. Results")
    clean = doc.section("clean")
    n_clean = len(clean.rows) if clean is not None else 0
    w.para((f"评查案卷{n}件，平均得分{s.get('average_score')}分。其中"
            + "，".join(f"{g}{k}件" for g, k in grades)
            + f"；存在否决项的{s.get('vetoed', 0)}件；存在问题的案卷{s.get('with_findings', 0)}件"
            + (f"；未发现问题的案卷{n_clean}件（清单附后）" if n_clean else "") + "。")
           if zh else f"{n} files reviewed, average score {s.get('average_score')}; "
           + ", ".join(f"{g}: {k}" for g, k in grades) + f"; vetoed {s.get('vetoed', 0)}"
           + (f"; {n_clean} files without findings (listed at the end)." if n_clean else "."))
    supervision = doc.section("supervision")          # a supervisor's review of a district (issue 19)
    if supervision is not None and supervision.rows:
        cols = [c for c in supervision.columns if not c.internal]
        w.h2(supervision.title(doc.lang))
        w.table([c.title(doc.lang) for c in cols], [[_v(r.get(c.key), doc.lang) for c in cols]
                                                    for r in supervision.rows])
    w.h1("四、发现的典型问题" if zh else "4. Typical problems")
    by_rule = doc.section("by_rule")
    rows = list(by_rule.rows) if by_rule else []
    if rows:
        for i, r in enumerate(rows[:10]):
            w.para(f"（{CN_NUM[i]}）{r['title']}：共{r['findings']}处，涉及案卷{r['cases']}件。" if zh
                   else f"({i + 1}) {r['title']}: {r['findings']} findings in {r['cases']} files.")
            example = next((f for _, items in _files(doc.section("findings")) for f in items
                            if f.get("rule_id") == r.get("rule_id")), None)
            if example:
                w.para(("例如：" if zh else "E.g. ") + f"{example['case_id']}，{example['message']}"
                       + (f"（{example['basis']}）" if example.get("basis") else ""))
    else:
        w.para("本季度评查未发现问题。" if zh else "No problems were found this quarter.")
    w.h1("五、执法人员和执法领域情况" if zh else "5. Officers and domains")
    for key in ("by_officer", "by_domain"):
        sec = doc.section(key)
        if sec and sec.rows:
            w.h2(sec.title(doc.lang))
            w.table([c.title(doc.lang) for c in sec.columns], [[_v(r.get(c.key), doc.lang) for c in sec.columns]
                                                               for r in sec.rows])
    w.h1("六、与上季度评查情况比较" if zh else "6. Compared with the previous quarter")
    if x.get("previous"):
        parts = [(label, v) for k, label, v in doc.summary if k.startswith("changes:")]
        w.para(("与上季度评查相比：" + "，".join(f"{label}{v}项" for label, v in parts) + "。") if zh
               else "Compared with the previous quarter: " + ", ".join(f"{label} {v}" for label, v in parts) + ".")
    else:
        w.para("未找到上季度评查结果，本次不作比较。" if zh else "No previous quarter's review was found.")
    w.h1("七、整改要求" if zh else "7. Corrections")
    w.para(("对存在问题的案卷，已逐卷出具案卷评查意见书（附后），请各承办单位逐项整改，并在今后办案中严格执行法定程序和期限。"
            "无法整改的问题（行为已逾期完成）应作为典型问题在执法人员培训中讲评。") if zh
           else "A review opinion for each file with problems follows; correct each problem and keep the statutory "
           "procedure and periods; problems that cannot be corrected are to be discussed in training.")
    if doc.problems:
        w.h2("输入错误或引擎未给出结论" if zh else "Bad input or no verdict")
        for p in doc.problems:
            w.small(p)


_NUMBERED = re.compile(r"^(.*?)(\d+)(\D*)$")


def _case_number_groups(ids: list[str], zh: bool = True) -> list[tuple[str, int, str]]:
    """Case numbers as a reader scans them: (字号, how many, the numbers in order) per 字号 (``津南学检〔2024〕``,
    in order of first appearance), runs of three or more consecutive numbers as ``1273—1366``, ``号`` once at the
    end; numbers that do not end in digits last, as they are. Exact: a run names only numbers in ``ids``.
    Between the items a zero-width space (a line may break there), around a run's dash word joiners."""
    groups: dict[tuple[str, str], list[tuple[int, str]]] = {}
    other: list[str] = []
    for case_id in ids:
        m = _NUMBERED.match(case_id)
        if m and (m[1] or m[3]):
            groups.setdefault((m[1], m[3]), []).append((int(m[2]), m[2]))
        else:
            other.append(case_id)
    sep = "、\u200b" if zh else ", "        # a line may break after 、 (which Unicode glues to the digits that follow)
    out = []
    for (prefix, suffix), numbers in groups.items():
        numbers.sort()
        tail, each = (suffix, "") if suffix == "号" else ("", suffix)
        parts: list[str] = []
        i = 0
        while i < len(numbers):
            j = i
            while j + 1 < len(numbers) and numbers[j + 1][0] == numbers[j][0] + 1:
                j += 1
            if j - i >= 2:
                parts.append(f"{numbers[i][1]}{each}\u2060—\u2060{numbers[j][1]}{each}")     # but not at the dash
            else:
                parts.extend(x + each for _, x in numbers[i:j + 1])
            i = j + 1
        out.append((prefix, len(numbers), sep.join(parts) + tail))
    if other:
        out.append(("", len(other), sep.join(other)))
    return out


def _clean_annex(w: _Writer, doc: Document) -> None:
    """The files without findings, after the opinions: a count and their case numbers by 字号, compact (a
    quarter's seven hundred clean files in half a page, not six); the HTML and XLSX list each with its date."""
    zh = doc.lang == "zh"
    clean = doc.section("clean")
    if clean is None or not clean.rows:
        return
    ids = [str(r.get("case_id")) for r in clean.rows]
    w.title("无问题案卷清单" if zh else "Files without findings", new_page=True)
    quarter = doc.extra.get("quarter") or ""
    w.para((f"{quarter}评查未发现问题的案卷共{len(ids)}件，按案号列出；“—”表示其间编号连续的案卷均在此列。") if zh
           else f"{len(ids)} files of {quarter} without findings, by case number; a dash stands for every number "
           "between its ends.")
    for prefix, count, text in _case_number_groups(ids, zh):
        lead = ((f"{prefix}（{count}件）：" if prefix else f"其他（{count}件）：") if zh
                else (f"{prefix} ({count}): " if prefix else f"other ({count}): "))
        w.small(text, bold_lead=lead)


def _generic(w: _Writer, doc: Document) -> None:
    zh = doc.lang == "zh"
    w.title(doc.title)
    w.small(doc.stamp_line())
    if doc.summary:
        w.table(["项目" if zh else "Item", "数值" if zh else "Value"],
                [[label, _v(v, doc.lang)] for _, label, v in doc.summary], widths=[100, 56])
    for note in doc.notes:
        w.para(note)
    for i, sec in enumerate(s for s in doc.sections if not s.only or "docx" in s.only):
        w.h1(f"{CN_NUM[i % 10]}、{sec.title(doc.lang)}" if zh else f"{i + 1}. {sec.title(doc.lang)}")
        if sec.group:
            for head, items in _files(sec):
                w.h2(f"{head.get('case_id')}　{_v(head.get('agency_name'))}")
                for j, f in enumerate(items, 1):
                    _finding(w, j, f, zh)
        elif sec.rows:
            cols = [c for c in sec.columns if not c.internal]
            w.table([c.title(doc.lang) for c in cols], [[_v(r.get(c.key), doc.lang) for c in cols] for r in sec.rows])
        else:
            w.para("无" if zh else "None")
    if doc.problems:
        w.h1("输入错误或引擎未给出结论" if zh else "Bad input or no verdict")
        for p in doc.problems:
            w.small(p)


def render_docx(doc: Document) -> bytes:
    w = _Writer(doc.lang)
    if doc.kind == "review":
        _review_report(w, doc)
        _opinions(w, doc)
        _clean_annex(w, doc)
    else:
        _generic(w, doc)
    return w.bytes()
