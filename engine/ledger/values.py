"""Cell values as clerks write them → one meaning each, or a ``Refused`` with the fix (Chinese and English).

Nothing is guessed: a value that could mean two things (``5/7/24``), a number in a text column that has
lost digits, a formula without a saved result, a yes/no word outside the vocabulary are refused.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from .xlsx import Cell

__all__ = ["Refused", "as_text", "as_id", "as_date", "as_amount", "as_yes_no", "serial_date", "norm"]

EARLIEST, LATEST = dt.date(1950, 1, 1), dt.date(2099, 12, 31)
MAX_TEXT = 500


class Refused(Exception):
    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en
        super().__init__(zh)


def norm(text: str) -> str:
    """Full-width forms folded (NFKC), outer whitespace dropped."""
    return unicodedata.normalize("NFKC", text).strip()


def _plain(cell: Cell) -> None:
    if cell.kind == "noresult":
        raise Refused("公式没有保存的计算结果：请在 Excel 中打开、重新计算并保存，或直接填写数值",
                      "a formula without a saved result: open the file in Excel, recalculate and save, or type the value")
    if cell.kind == "error":
        raise Refused(f"单元格是错误值 {cell.value}：请改正公式或直接填写", f"the cell holds the error {cell.value}: fix "
                      "the formula or type the value")


def _number_text(raw: str) -> str:
    """A stored number as a person reads it: ``2000`` not ``2000.0``; exponent forms kept for the checks."""
    try:
        d = Decimal(raw)
    except InvalidOperation:
        raise Refused(f"无法识别的数字 {raw!r}", f"not a number: {raw!r}") from None
    if d == d.to_integral_value() and abs(d) < Decimal("1e15"):
        return str(int(d))
    return format(d.normalize(), "f")


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")    # line breaks and tabs are allowed


def as_text(cell: Cell) -> str:
    _plain(cell)
    if cell.kind == "bool":
        raise Refused("此列应填写文字，单元格却是逻辑值 TRUE/FALSE", "this column holds text, the cell is TRUE/FALSE")
    text = _number_text(cell.value) if cell.kind in ("number", "date") else cell.value
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) > MAX_TEXT:
        raise Refused(f"文字过长（{len(text):,} 字，上限 {MAX_TEXT}）", f"text too long ({len(text):,} characters; "
                      f"the limit is {MAX_TEXT})")
    if _CONTROL.search(text):
        raise Refused("含有控制字符（不可见字符）：请删去后重新输入", "holds control characters: delete them and type it again")
    return text


def as_id(cell: Cell) -> str:
    """An identifier (case number, ID card, credit code): a long number stored as an Excel number has
    lost digits (Excel keeps 15), so it is refused, never read."""
    if cell.kind in ("number", "date"):
        digits = re.sub(r"[^0-9]", "", cell.value.split("E")[0].split("e")[0])
        if "e" in cell.value.lower() or len(digits.lstrip("0")) > 11 or "." in cell.value:
            raise Refused("长号码以数字格式保存，末几位可能已丢失：请把该列设置为“文本”格式后重新录入",
                          "a long number stored as an Excel number may have lost its last digits: format the column "
                          "as text and type the number again")
    return as_text(cell)


_DATE_TEXT = re.compile(r"^(\d{4})\s*(?:[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?)"
                        r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def serial_date(serial: Decimal, date1904: bool = False) -> dt.date:
    """An Excel date serial → its date. 1900 system: serial 60 is the 29 Feb 1900 that never was (Lotus's
    leap-year bug, which Excel keeps), so serials before it are one day later than the arithmetic says."""
    whole = int(serial)
    if date1904:
        return dt.date(1904, 1, 1) + dt.timedelta(days=whole)
    if whole == 60:
        raise Refused("Excel 日期序号 60 表示不存在的 1900年2月29日", "Excel date serial 60 is 29 Feb 1900, which never was")
    if whole < 60:
        return dt.date(1899, 12, 31) + dt.timedelta(days=whole)
    return dt.date(1899, 12, 30) + dt.timedelta(days=whole)


def _checked(day: dt.date, shown: str) -> str:
    if not EARLIEST <= day <= LATEST:
        raise Refused(f"日期 {shown} 不合理（应在 {EARLIEST.year}–{LATEST.year} 年之间）",
                      f"the date {shown} is not plausible ({EARLIEST.year}–{LATEST.year})")
    return day.isoformat()


DATE_FIX = ("请写成 2024-05-07、2024/5/7、2024.5.7 或 2024年5月7日，或设置为日期格式",
            "write 2024-05-07, 2024/5/7, 2024.5.7 or 2024年5月7日, or format the cell as a date")


def as_date(cell: Cell, date1904: bool = False) -> str:
    """A date cell, an Excel serial (date-formatted or not), ``yyyymmdd`` as a number, or text in the
    common Chinese forms → ``YYYY-MM-DD``. A time of day after the date is allowed (the day is kept)."""
    _plain(cell)
    if cell.kind == "bool":
        raise Refused(f"这里应是日期，却是逻辑值；{DATE_FIX[0]}", f"a date is expected, not TRUE/FALSE; {DATE_FIX[1]}")
    if cell.kind in ("number", "date"):
        try:
            serial = Decimal(cell.value)
        except InvalidOperation:
            raise Refused(f"无法识别的日期 {cell.value!r}；{DATE_FIX[0]}", f"not a date: {cell.value!r}; {DATE_FIX[1]}") from None
        m = _COMPACT.match(cell.value)
        if m and cell.kind == "number":
            return _compact(m, cell.value)
        if serial < 1 or serial >= 2958466:
            raise Refused(f"数字 {cell.value} 不是 Excel 日期；{DATE_FIX[0]}", f"{cell.value} is not an Excel date; {DATE_FIX[1]}")
        day = serial_date(serial, date1904)
        return _checked(day, day.isoformat())
    text = norm(cell.value)
    m = _DATE_TEXT.match(text)
    if m:
        year, month, dayn = m.group(1), m.group(2) or m.group(4), m.group(3) or m.group(5)
        try:
            day = dt.date(int(year), int(month), int(dayn))
        except ValueError:
            raise Refused(f"{text} 不是真实存在的日期", f"{text} is not a real date") from None
        return _checked(day, text)
    m = _COMPACT.match(text)
    if m:
        return _compact(m, text)
    raise Refused(f"无法识别的日期；{DATE_FIX[0]}", f"not a date; {DATE_FIX[1]}")


def _compact(m: re.Match[str], shown: str) -> str:
    try:
        day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise Refused(f"{shown} 不是真实存在的日期", f"{shown} is not a real date") from None
    return _checked(day, shown)


_AMOUNT = re.compile(r"^[¥￥]?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(万元|万|元)?$")
AMOUNT_FIX = ("请填写金额（元），如 2000、2,000、2000元 或 0.2万元", "write the amount in yuan, e.g. 2000, 2,000, 2000元 or 0.2万元")


def as_amount(cell: Cell) -> str:
    """Yuan, at most two decimals, ``2,000`` / ``2000元`` / ``0.2万元`` / ``¥2000`` accepted. A text written
    with more decimals (in 万: more than six, the fen) is refused even when they are zeros (``3.000`` is 3,000
    with a point for a comma as often as it is three yuan); a number cell holds no written decimals."""
    _plain(cell)
    if cell.kind == "bool":
        raise Refused(f"这里应是金额，却是逻辑值；{AMOUNT_FIX[0]}", f"an amount is expected, not TRUE/FALSE; {AMOUNT_FIX[1]}")
    if cell.kind in ("number", "date"):
        try:
            value = Decimal(cell.value)
        except InvalidOperation:
            raise Refused(f"无法识别的金额；{AMOUNT_FIX[0]}", f"not an amount; {AMOUNT_FIX[1]}") from None
        if not value.is_finite():
            raise Refused(f"无法识别的金额；{AMOUNT_FIX[0]}", f"not an amount; {AMOUNT_FIX[1]}")
        # a float cell holds 2000.1 as 2000.0999999999999: 15 significant digits is what Excel shows
        value = Decimal(format(float(value), ".15g")) if "e" not in cell.value.lower() else value
    else:
        text = norm(cell.value).replace("，", ",").replace(" ", "")
        m = _AMOUNT.match(text)
        if not m:
            raise Refused(f"无法识别的金额；{AMOUNT_FIX[0]}", f"not an amount; {AMOUNT_FIX[1]}")
        wan = m.group(3) in ("万元", "万")
        places = len(m.group(2) or ".") - 1
        if places > (6 if wan else 2):
            # 3.000 is a thousands separator typed as a point as often as three decimals: never guessed
            shown = cell.value.strip()
            if wan:
                raise Refused(f"金额“{shown}”写了 {places} 位小数：以万元为单位最多六位小数（即到分）；请以元为单位填写",
                              f"the amount {shown!r} has {places} decimals: at most two decimals (fen), in 万 six; write "
                              f"it in yuan")
            if places == 3 and re.fullmatch(r"[1-9]\d{0,2}", m.group(1)):
                whole = m.group(1) + m.group(2)[1:]
                raise Refused(f"金额“{shown}”写了 3 位小数：金额最多两位小数（分），小数点后三位常是千位分隔符写成了点；"
                              f"如指 {whole} 元，请写 {whole} 或 {int(whole):,}；如指 {m.group(1)} 元，请写 {m.group(1)}",
                              f"the amount {shown!r} has 3 decimals: at most two decimals (fen); three after the point is "
                              f"often a thousands separator typed as a point: for {whole} yuan write {whole} or "
                              f"{int(whole):,}; for {m.group(1)} yuan write {m.group(1)}")
            raise Refused(f"金额“{shown}”写了 {places} 位小数：金额最多两位小数（分）；请改正金额",
                          f"the amount {shown!r} has {places} decimals: at most two decimals (fen); correct the amount")
        value = Decimal(m.group(1).replace(",", "") + (m.group(2) or ""))
        if m.group(3) in ("万元", "万"):
            value *= 10000
    if value < 0:
        raise Refused("金额不能为负数", "an amount cannot be negative")
    if value > Decimal("1e10"):
        raise Refused("金额超过一百亿元，不合理", "an amount over 10 billion yuan is not plausible")
    if value != value.quantize(Decimal("0.01")):
        raise Refused("金额最多两位小数（分）", "an amount has at most two decimals (fen)")
    value = value.quantize(Decimal("0.01"))
    return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")


def as_yes_no(cell: Cell, yes: frozenset[str], no: frozenset[str]) -> bool:
    _plain(cell)
    if cell.kind == "bool":
        return cell.value == "1"
    text = _number_text(cell.value) if cell.kind in ("number", "date") else norm(cell.value)
    key = text.upper()
    if key in yes:
        return True
    if key in no:
        return False
    raise Refused(f"只能填写“是/否”一类的词（是、否、有、无、已出示、未出示、√、×、Y、N…）",
                  "write yes or no (是/否, 有/无, 已出示/未出示, √/×, Y/N, TRUE/FALSE, 1/0)")
