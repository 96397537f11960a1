"""Property tests of the ledger reader (issue 18), bounded in ``make test``, long in ``make fuzz``.

1. Any value in any column: the row is either refused, with every problem located at that cell (sheet,
   row, header), or read; a value whose meaning is known (a date in any accepted form, a word, an amount
   in any accepted form) is read to exactly that meaning; and whatever is read round-trips: writing the
   meaning back in its plain form reads to the same case, and the case file (JSON) validates to the same.
2. Mutated workbooks (stale dimensions, formulas without results, numbers as text, truncated or flipped
   bytes, bombs, huge rows): never an exception, always cases or located refusals.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from engine.ledger import read_ledger
from engine.ledger.mapping import CODES, FIELDS, load_mappings
from engine.loader import validate_case
from ledgers import HEADERS, clerk_row, edit_part

EXAMPLES = int(os.environ.get("CASECHECK_FUZZ", "150"))
SHEET = "台账"
MAPPING = load_mappings()[0]
KEY = {h: MAPPING.field_of(h) for h in HEADERS if MAPPING.field_of(h)}


def _write(path: Path, row: list) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(HEADERS)
    sheet.append(row)
    book.save(path)
    return path


def _event(raw: dict, kind: str, platform: str | None = None) -> dict | None:
    return next((e for e in raw["events"] if e["type"] == kind and (platform is None or e.get("platform") == platform)),
                None)


def meaning(raw: dict, key: str):
    """What the case says about the column ``key``."""
    kind = FIELDS[key][2]
    if kind == "date":
        if key == "occurred_on":
            return raw["violation"]["occurred_on"]
        platform = {"publicized_supervision": "supervision_platform", "publicized_credit": "credit_china"}.get(key)
        event = _event(raw, "publicized" if platform else key, platform)
        return event and event["date"]
    simple = {"case_id": ("case_id",), "agency_code": ("agency", "code"), "agency_name": ("agency", "name"),
              "procedure": ("procedure",), "matter_code": ("matter", "code"), "matter_name": ("matter", "name"),
              "domain": ("matter", "domain"), "party_kind": ("party", "kind"), "party_name": ("party", "name"),
              "party_id": ("party", "id")}
    if key in simple:
        node = raw
        for part in simple[key]:
            node = node.get(part) if isinstance(node, dict) else None
        return node
    decided = _event(raw, "decided")
    return {
        "basis": lambda: raw["violation"].get("basis"),
        "officers": lambda: [(o["name"], o["certificate"]) for o in raw["officers"] if o["id"] != "R1"],
        "reviewer": lambda: [(o["name"], o["certificate"]) for o in raw["officers"] if o["id"] == "R1"],
        "reviewer_qualified": lambda: next(o.get("legal_qualification") for o in raw["officers"] if o["id"] == "R1"),
        "certificates_shown": lambda: decided.get("certificates_shown"),
        "documents_complete": lambda: bool(decided.get("documents")),
        "inspection_result": lambda: _event(raw, "inspected").get("result"),
        "hearing_right": lambda: _event(raw, "notified")["hearing_right"],
        "review_result": lambda: _event(raw, "legal_review")["result"],
        "outcome": lambda: decided["outcome"],
        "penalty_kind": lambda: decided["penalty"]["kind"],
        "amount": lambda: (decided["penalty"].get("amount"), _event(raw, "paid")["amount"]),
        "document": lambda: decided.get("document"),
    }[key]()


def plain(raw: dict, key: str):
    """The meaning written back in its plain form (ISO date, code, yuan, 是/否, the text)."""
    value = meaning(raw, key)
    kind = FIELDS[key][2]
    if value is None or value == []:
        return None                                    # blank: unrecorded
    if kind == "yes_no":
        return "是" if value else "否"
    if key == "amount":
        return value[0]
    if key in ("officers", "reviewer"):
        return "；".join(f"{n}({c})" for n, c in value)
    if key == "basis":
        return "；".join(value)
    return value


_D = st.dates(dt.date(1950, 1, 1), dt.date(2099, 12, 31))
_FORMS = ("{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}.{m}.{d}", "{y}年{m}月{d}日", "{y}-{m}-{d}", "{y}{m:02d}{d:02d}")


@st.composite
def known(draw):
    """(header, value, its meaning) for values whose meaning is known."""
    header = draw(st.sampled_from([h for h in HEADERS if h in KEY]))
    key = KEY[header]
    kind = FIELDS[key][2]
    if kind == "date":
        day = draw(_D)
        form = draw(st.sampled_from(_FORMS + ("date", "serial")))
        if form == "date":
            value = day
        elif form == "serial":
            value = (day - dt.date(1899, 12, 30)).days
        else:
            value = form.format(y=day.year, m=day.month, d=day.day)
        return header, value, day.isoformat()
    if kind == "word":
        word, code = draw(st.sampled_from(sorted(MAPPING.words[key].items()) + [(c, c) for c in CODES[key]]))
        return header, word, code
    if kind == "amount":
        yuan = Decimal(draw(st.integers(0, 10**9))) / 100
        form = draw(st.sampled_from(["number", "plain", "comma", "yuan", "wan"]))
        text = format(yuan, "f")
        value = {"number": float(yuan), "plain": text, "comma": f"{yuan:,.2f}", "yuan": text + "元",
                 "wan": format(yuan / 10000, "f") + "万元"}[form]
        return header, value, yuan
    if kind == "yes_no":
        word = draw(st.sampled_from(sorted(MAPPING.yes | MAPPING.no)))
        return header, word, word in MAPPING.yes
    return header, None, None


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24).filter(
    lambda s: not ILLEGAL_CHARACTERS_RE.search(s))
ANY = st.one_of(_TEXT, st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                _D, st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(2099, 1, 1)), st.none(),
                st.sampled_from(sorted({w for t in MAPPING.words.values() for w in t} | MAPPING.yes | MAPPING.no)))


def _read(tmp: str, row: list, name: str):
    rows, problems = read_ledger(_write(Path(tmp) / name, row))
    return rows, problems


def _check(header: str, value, expected=None) -> None:
    key = KEY[header]
    row = clerk_row(1)[1:-1]                            # no 序号/备注 needed here
    headers = HEADERS[1:-1]
    row[headers.index(header)] = value
    if key == "outcome" and expected not in (None, "penalty"):
        for column in ("处罚种类", "罚款金额（元）", "缴款日期"):     # a penalty kind, a fine, a payment go only with a penalty
            row[headers.index(column)] = None
    with tempfile.TemporaryDirectory() as tmp:
        book_rows, problems = _read_with(tmp, headers, row)
        if problems:
            assert not book_rows
            fields = {p.field for p in problems}
            assert all(f.startswith("rows.2.") or f.startswith("rows.1") for f in fields), fields
            assert all(p.message and p.message_en for p in problems), problems
            assert expected is None, (header, value, [str(p) for p in problems])
            return
        assert len(book_rows) == 1
        raw = book_rows[0].raw
        got = meaning(raw, key)
        if expected is not None:
            if key == "amount":
                assert Decimal(got[0]) == expected and Decimal(got[1]) == expected
            else:
                assert got == expected, (header, value, got)
        case, found = validate_case(raw, "x")
        assert not found or expected is None, found
        if case is not None:                               # the case file means the same
            again, _ = validate_case(json.loads(case.model_dump_json(exclude_defaults=True)), "x")
            assert again == case
        row[headers.index(header)] = plain(raw, key)      # the meaning written plainly reads the same
        again_rows, again_problems = _read_with(tmp, headers, row, "again.xlsx")
        assert not again_problems and again_rows[0].raw == raw, (value, again_problems)


def _read_with(tmp: str, headers: list, row: list, name: str = "p.xlsx"):
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(headers)
    sheet.append(row)
    path = Path(tmp) / name
    book.save(path)
    return read_ledger(path)


SETTINGS = settings(max_examples=EXAMPLES, deadline=20_000, suppress_health_check=list(HealthCheck),
                    derandomize=EXAMPLES <= 150, database=None)


@SETTINGS
@given(known())
def test_a_value_of_known_meaning_is_read_to_exactly_that_meaning(item):
    header, value, expected = item
    if value is None:
        return
    _check(header, value, expected)


@SETTINGS
@given(st.sampled_from([h for h in HEADERS[1:-1] if h in KEY]), ANY)
def test_any_value_in_any_column_is_refused_at_its_cell_or_round_trips(header, value):
    _check(header, value)


# ------------------------------------------------------------------------------------ mutated workbooks

MUTATIONS = ("stale_dimension", "formula", "numbers_as_text", "truncate", "flip", "bomb", "wide_row", "drop_part")


def _mutate(path: Path, kind: str, rnd: random.Random) -> None:
    part = "xl/worksheets/sheet1.xml"
    if kind == "stale_dimension":
        edit_part(path, part, lambda x: x.replace(b"<sheetData", b'<dimension ref="A1:B1"/><sheetData', 1)
                  if b"<dimension" not in x else re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B1"', x))
    elif kind == "formula":
        edit_part(path, part, lambda x: re.sub(rb'<v>([^<]*)</v>', lambda m: b"<f>1+1</f>" + (m.group(0) if rnd.random() < .5 else b""),
                                               x, count=rnd.randint(1, 5)))
    elif kind == "numbers_as_text":
        edit_part(path, part, lambda x: re.sub(rb'<c r="([A-Z]+\d+)"([^>]*)><v>([^<]*)</v>',
                                               rb'<c r="\1" t="inlineStr"><is><t>\3</t></is>', x))
    elif kind == "truncate":
        edit_part(path, part, lambda x: x[: rnd.randint(0, len(x))])
    elif kind == "flip":
        data = bytearray(path.read_bytes())
        for _ in range(rnd.randint(1, 8)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        path.write_bytes(bytes(data))
    elif kind == "bomb":
        edit_part(path, part, lambda x: x + b" " * (3 << 20))        # over the limit the test sets (2 MiB)
    elif kind == "wide_row":
        edit_part(path, part, lambda x: x.replace(b"</row>", b"<c/>" * 50_000 + b"</row>", 1))
    elif kind == "drop_part":
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
        victim = rnd.choice(names)
        edit_part(path, victim, lambda x: b"")


@settings(max_examples=max(20, EXAMPLES // 3), deadline=60_000, suppress_health_check=list(HealthCheck),
          derandomize=EXAMPLES <= 150, database=None)
@given(st.sampled_from(MUTATIONS), st.integers(0, 2**32))
def test_a_mutated_workbook_gives_cases_or_located_refusals_never_an_exception(kind, seed):
    from engine.ledger import xlsx

    rnd = random.Random(seed)
    limit, xlsx.MAX_SHEET_BYTES = xlsx.MAX_SHEET_BYTES, 2 << 20
    try:
        _mutated(kind, rnd)
    finally:
        xlsx.MAX_SHEET_BYTES = limit


def _mutated(kind: str, rnd: random.Random) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.xlsx"
        book = Workbook()
        sheet = book.active
        sheet.title = SHEET
        sheet.append(HEADERS)
        for n in range(1, 4):
            sheet.append(clerk_row(n))
        book.save(path)
        _mutate(path, kind, rnd)
        rows, problems = read_ledger(path)
        assert rows or problems
        for p in problems:
            assert p.file.startswith(str(path)) and p.message and p.message_en and "Traceback" not in p.message
        if kind in ("stale_dimension", "numbers_as_text", "wide_row"):
            assert not problems or kind == "numbers_as_text", [str(p) for p in problems]
            if not problems:
                assert len(rows) == 3
        if kind == "bomb":
            assert problems and not rows
