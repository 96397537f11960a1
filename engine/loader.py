"""Case files on disk → validated ``CaseFile`` models, or located problems.

Reads JSON and YAML (``.json``, ``.yaml``, ``.yml``), one case per file or a list under ``cases:``;
a directory is read recursively in sorted order. Nothing is evaluated: YAML is loaded with the safe
loader, JSON refuses NaN/Infinity, and both are bounded (file size, expanded size after YAML aliases)
so a hostile file can neither hang nor exhaust memory. A bad file never stops the others: every
problem is collected with its file, case id, field path and value.
"""

from __future__ import annotations

import dataclasses

import json
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml
from pydantic import ValidationError

from .errors import InputProblem
from .hygiene import CONTROL, control_problems
from .model import EVENT_TYPES, CaseFile, LocatedValueError

__all__ = ["LoadedCase", "LoadResult", "load_paths", "iter_case_files", "parse_document", "validate_case"]

CASE_SUFFIXES = (".json", ".yaml", ".yml", ".xlsx")
EXPECTED_FILE = "expected.yaml"   # a fixture set's list of expected findings, not a case: skipped in directories
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_NODES = 2_000_000          # expanded size after YAML aliases: a billion-laughs file stops here
MAX_DEPTH = 64                 # a case file nests 5 deep; 1,000 would break pickling and repr downstream

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when present: same safe constructor


class _YamlLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that leaves dates as text, so a bad date is reported at its field by the model."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


@dataclass(frozen=True)
class LoadedCase:
    case: CaseFile
    file: str
    index: int | None = None    # position in a ``cases:`` list; a ledger's row number
    sheet: str | None = None    # a ledger's sheet
    unstated: frozenset[str] = frozenset()   # event types its ledger has no column for (engine.ledger.read.UNSTATED)

    @property
    def ref(self) -> str:
        if self.index is None:
            return self.file
        if self.file.lower().endswith(".xlsx"):
            return f"{self.file}!{self.sheet}#row {self.index}" if self.sheet else f"{self.file}#row {self.index}"
        return f"{self.file}#cases[{self.index}]"


def duplicate_id_text(case_id: str, first: str, again: str) -> tuple[str, str]:
    """The Chinese and the English of a case id met again at ``again`` (a case file's ref), first at ``first``."""
    return (f"案件编号“{case_id}”重复：已用于 {first}，{again} 又出现；同一执法机关的每个案件只写一次：请删去重复的案件，"
            f"或改正其案件编号",
            f"case id already used in {first} (again in {again}): one case once per agency; delete the copy or "
            f"correct its case id")


_LEDGER_REF = re.compile(r"^(?P<file>.*?\.xlsx)(?:!(?P<sheet>.*))?#row (?P<row>\d+)$", re.IGNORECASE)


def duplicate_id_problem(case_id: str, first: str, again: str) -> InputProblem:
    """A case id (of one agency) met a second time: at ``again``, first at ``first`` (refs), Chinese first.
    Between ledger rows: both rows with their sheets; between case files: both places."""
    second = _LEDGER_REF.match(again)
    if second is None:
        zh, en = duplicate_id_text(case_id, first, again)
        return InputProblem(again.split("#", 1)[0], case_id, "case_id", f"{zh} / {en}", message_en=en)
    earlier = _LEDGER_REF.match(first)

    def zh(m: re.Match[str] | None, ref: str, same: bool) -> str:
        if m is None:
            return ref
        place = (f"工作表“{m['sheet']}”" if m["sheet"] else "") + f"第 {m['row']} 行"
        return place if same else f"{m['file']} {place}"

    def en(m: re.Match[str] | None, ref: str, same: bool) -> str:
        if m is None:
            return ref
        place = (f"sheet {m['sheet']!r} " if m["sheet"] else "") + f"row {m['row']}"
        return place if same else f"{m['file']} {place}"

    same = earlier is not None and earlier["file"] == second["file"]
    where = second["file"] + (f"!{second['sheet']}" if second["sheet"] else "")
    return InputProblem(where, case_id, "case_id",
                        f"案件编号“{case_id}”重复：已用于{zh(earlier, first, same)}，{zh(second, again, True)}又出现；"
                        f"每个案件只写一行：请删去重复的一行，或改正其案件编号",
                        message_en=f"case id {case_id!r} already used in {en(earlier, first, same)}, again in "
                                   f"{en(second, again, True)}: one row per case; delete the copy or correct its case id")


@dataclass
class LoadResult:
    cases: list[LoadedCase] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    files: int = 0


class PathProblem(FileNotFoundError):
    """A path that cannot be read as case files: missing, an unreadable directory, a FIFO or a device.
    ``str()`` is the path; ``message`` says what is wrong with it."""

    def __init__(self, path: str, message: str = "文件或目录不存在 / no such file or directory"):
        super().__init__(path)
        self.path, self.message = path, message

    def __str__(self) -> str:
        return self.path


def iter_case_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Every case file under the given paths (directories recursively, sorted); a missing path, an
    unreadable subdirectory, a FIFO or a device raises ``PathProblem`` (never skipped in silence)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = []

            def unreadable(err: OSError) -> None:
                raise PathProblem(err.filename or str(path), f"目录不可读 / unreadable directory: "
                                                             f"{err.strerror or err}")

            for root, _dirs, names in os.walk(path, onerror=unreadable):
                found.extend(p for p in (Path(root) / n for n in names)
                             if p.suffix.lower() in CASE_SUFFIXES + tuple(OTHER_FORMATS)   # named, not skipped
                             and not p.name.startswith(".")
                             and p.name != EXPECTED_FILE and p.is_file())
            for p in sorted(found):
                yield _clean_name(p)
        elif path.is_file():
            yield _clean_name(path)
        else:
            raise PathProblem(str(path), _not_a_file(path))


def _clean_name(path: Path) -> Path:
    """A path whose name holds a control character (an escape sequence for the terminal) is refused."""
    bad = CONTROL.search(str(path))
    if bad:
        raise PathProblem(repr(str(path)), f"文件名含控制字符 U+{ord(bad.group()):04X}，请改名 / the file name holds the "
                                           f"control character U+{ord(bad.group()):04X}: rename the file")
    return path


NO_SUCH_FILE = "文件或目录不存在 / no such file or directory"
# files a clerk may pass that are not case files: what to do with each
OTHER_FORMATS = {
    ".xls": "旧版 Excel 97–2003 工作簿（.xls）：请在 Excel 或 WPS 中“另存为”.xlsx 后再用 / an Excel 97–2003 workbook "
            "(.xls): save it as .xlsx in Excel or WPS, then use that",
    ".et": "WPS 表格文件（.et）：请在 WPS 中“另存为”.xlsx 后再用 / a WPS spreadsheet (.et): save it as .xlsx, then use that",
    ".xlsm": "带宏的 Excel 工作簿（.xlsm）：请“另存为”不带宏的 .xlsx 后再用 / a macro workbook (.xlsm): save it as .xlsx",
    ".ods": "OpenDocument 表格（.ods）：请“另存为”.xlsx 后再用 / an OpenDocument spreadsheet: save it as .xlsx",
    ".csv": "CSV 文件：请在 Excel 中打开并“另存为”.xlsx 台账（表头一行、每行一个案件）后再用 / a CSV file: open it in "
            "Excel and save it as an .xlsx ledger (one header row, one case a row), then use that",
}


def _not_a_file(path: Path) -> str:
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "符号链接指向不存在的文件 / a broken symbolic link" if path.is_symlink() else NO_SUCH_FILE
    except OSError as exc:
        return f"无法读取 / cannot read it: {exc.strerror or exc}"
    kind = ("命名管道 FIFO / a named pipe (FIFO)" if stat.S_ISFIFO(mode) else
            "设备文件 / a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
            "套接字 / a socket" if stat.S_ISSOCK(mode) else "不是普通文件 / not a regular file")
    return f"{kind}，不是案卷文件；只读取普通文件与目录 / not a case file: casecheck reads regular files and directories only"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} 不是案卷可写的数值 / {name} is not a number a case file may hold")


def _check_size(obj: Any, budget: int = MAX_NODES) -> None:
    """Walk the loaded document as pydantic would, a level at a time; shared (aliased) nodes count every
    time (a mapping counts its keys and values), and nesting deeper than ``MAX_DEPTH`` is refused.
    Only containers are visited: the scalars are counted by their container's length (a mapping's keys
    are scalars: a safe-loaded key can't be a list or a mapping)."""
    level = [obj]
    seen = 1
    depth = 1
    while level:
        following: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                seen += 2 * len(item)
                children: Any = item.values()
            elif isinstance(item, list):
                seen += len(item)
                children = item
            else:
                continue
            if depth > MAX_DEPTH:
                raise ValueError(f"文档嵌套超过 {MAX_DEPTH} 层 / document nested more than {MAX_DEPTH} levels deep")
            if seen > budget:
                raise ValueError(f"文档展开后超过 {budget:,} 个值（YAML 别名炸弹？）/ document expands to more than "
                                 f"{budget:,} values (YAML alias bomb?)")
            following += [child for child in children if isinstance(child, (dict, list))]
        level = following
        depth += 1


def parse_document(text: str, suffix: str) -> Any:
    """Parse one file's text safely. Raises ValueError with a readable reason."""
    if suffix == ".json":
        try:
            data = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise ValueError(f"JSON 无效（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg} / invalid JSON at line "
                             f"{exc.lineno} column {exc.colno}: {exc.msg}") from None
        except RecursionError:
            raise ValueError("JSON 嵌套过深 / JSON nested too deeply") from None
        if text.count("[") + text.count("{") > MAX_DEPTH:      # JSON has no aliases: only depth to check
            _check_size(data)
        return data
    else:
        try:
            data = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - CSafeLoader/SafeLoader only
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
            where_zh = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）" if mark else ""
            problem = getattr(exc, 'problem', None) or exc
            raise ValueError(f"YAML 无效{where_zh}：{problem} / invalid YAML{where}: {problem}") from None
        except RecursionError:
            raise ValueError("YAML 嵌套过深 / YAML nested too deeply") from None
    _check_size(data)
    return data


def _path(loc: tuple[Any, ...]) -> str:
    """pydantic's location as a dotted path, without the tag it inserts for the event union
    (``events.3.decided.outcome`` → ``events.3.outcome``)."""
    parts = [str(p) for p in loc]
    out = [p for i, p in enumerate(parts)
           if not (i >= 2 and parts[i - 2] == "events" and parts[i - 1].isdigit() and p in EVENT_TYPES)]
    return ".".join(out)


def validate_case(raw: Any, file: str, index: int | None = None) -> tuple[CaseFile | None, list[InputProblem]]:
    """Validate one case mapping; returns the model or located problems."""
    case_id = raw.get("case_id") if isinstance(raw, dict) else None
    case_id = case_id if isinstance(case_id, str) else None
    prefix = "" if index is None else f"cases.{index}."
    if not isinstance(raw, dict):
        return None, [InputProblem(file, None, prefix.rstrip(".") or "<document>",
                                   "expected a mapping with case_id, agency, procedure, events",
                                   raw, True)]
    dirty = control_problems(raw)
    if dirty:
        return None, [InputProblem(file, case_id if case_id and not CONTROL.search(case_id) else None,
                                   prefix + where, message) for where, message in dirty]
    try:
        return CaseFile.model_validate(raw), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, LocatedValueError):
                problems.append(InputProblem(file, case_id, prefix + cause.path,
                                             str(cause).split(": ", 1)[1]))
                continue
            msg = err["msg"].removeprefix("Value error, ")
            path = _path(err["loc"])
            zh, en = _bilingual(err, path, msg)
            problems.append(InputProblem(file, case_id, prefix + path, f"{zh} / {en}",
                                         err.get("input"), "input" in err and err["type"] != "missing", en))
        return None, problems


def _known_fields() -> list[str]:
    from .model import CaseFile

    names: set[str] = set()
    stack: list[Any] = [CaseFile]
    seen: set[Any] = set()
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(name)
            for arg in _walk_types(info.annotation):
                if isinstance(arg, type) and hasattr(arg, "model_fields"):
                    stack.append(arg)
    return sorted(names)


def _walk_types(tp: Any) -> Iterator[Any]:
    yield tp
    for arg in getattr(tp, "__args__", ()) or ():
        yield from _walk_types(arg)
    for meta in getattr(tp, "__metadata__", ()) or ():
        pass
    origin = getattr(tp, "__origin__", None)
    if origin is not None and origin is not tp:
        yield from _walk_types(origin)


_FIELDS: list[str] = []


def _event_fields(event_type: str) -> list[str]:
    """The fields an event of ``event_type`` takes (but its type)."""
    import typing

    from .model import Event

    for cls in typing.get_args(typing.get_args(Event)[0]):
        if event_type in typing.get_args(cls.model_fields["type"].annotation):
            return [f for f in cls.model_fields if f != "type"]
    return []


def _bilingual(err: dict[str, Any], path: str, msg: str) -> tuple[str, str]:
    """A pydantic error in Chinese (the field's Chinese name, events counted from 1) and in English,
    with a did-you-mean for a misspelt field name or event type (a field of another step: this step's
    fields)."""
    from .vocab import EVENT_WORDS, FIELD_NAMES, field_label, label, suggest

    where = field_label(path) if path else "案卷"
    kind = err["type"]
    if kind == "extra_forbidden":
        if not _FIELDS:
            _FIELDS.extend(_known_fields())
        key = path.rsplit(".", 1)[-1]
        tag = next((p for p in err.get("loc", ()) if isinstance(p, str) and p in EVENT_TYPES), None)
        if tag is not None and key in _FIELDS:          # a field of other steps, not of this one
            own = _event_fields(tag)
            near = suggest(key, own)
            words = "、".join(f"{f}（{FIELD_NAMES[f]}）" if f in FIELD_NAMES else f for f in own)
            return (f"“{key}”不是“{label(tag)}”的字段" + (f"，是否想写“{near}”？" if near else "") + f"（可填：{words}）",
                    f"{key!r} is not a field of {tag!r}" + (f" (did you mean {near!r}?)" if near else "")
                    + f"; its fields: {', '.join(own)}")
        guess = suggest(key, _FIELDS)
        return (f"不认识的字段“{key}”" + (f"，是否想写“{guess}”？" if guess else "（字段名拼写有误，或不属于此处）"),
                msg + (f" (did you mean {guess!r}?)" if guess else ""))
    if kind == "missing":
        return f"缺少必填项：{where}", msg
    if kind == "union_tag_invalid":
        tag = str((err.get("ctx") or {}).get("tag", ""))
        guess = suggest(tag, list(EVENT_TYPES) + list(EVENT_WORDS))
        hint = f"，是否想写“{guess}”（{label(EVENT_WORDS.get(guess, guess))}）？" if guess else ""
        return (f"{where}：不认识的事件类型“{tag}”{hint}",
                f"unknown event type {tag!r}" + (f" (did you mean {guess!r}?)" if guess else f": {msg}"))
    if kind == "literal_error":
        expected = str((err.get("ctx") or {}).get("expected", ""))
        codes = [c.strip().strip("'") for c in expected.replace(" or ", ",").split(",") if c.strip()]
        words = "、".join(f"{c}（{label(c)}）" if label(c) != c else c for c in codes)
        value = err.get("input")
        guess = suggest(str(value), codes) if isinstance(value, str) else None
        hint = f"，是否想写“{guess}”？" if guess else ""
        return f"{where}：只能是 {words}{hint}", msg + (f" (did you mean {guess!r}?)" if guess else "")
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type") or "date" in msg.lower():
        return f"{where}：日期无效（写成 YYYY-MM-DD）", msg
    if "decimal" in kind or kind in ("greater_than_equal", "less_than_equal", "finite_number"):
        return f"{where}：金额或数值无效", msg
    if kind in ("string_type", "string_too_short", "string_too_long", "int_type", "int_parsing", "bool_type",
                "bool_parsing", "list_type", "dict_type", "model_type", "model_attributes_type", "too_long"):
        return f"{where}：类型或长度不符合要求", msg
    return f"{where}：不符合要求", msg


def _decided(raw: Any) -> bool:
    """A case the look-back pass needs: one with a decision, or an inspection of a business from the
    day the yearly inspection cap applies (the cap counts the business's other inspections)."""
    events = raw.get("events") if isinstance(raw, dict) else None
    if not isinstance(events, list):
        return False
    if any(isinstance(e, dict) and e.get("type") == "decided" for e in events):
        return True
    return raw.get("procedure") == "inspection" and any(
        isinstance(e, dict) and e.get("type") == "inspected" and str(e.get("date", "")) >= INSPECTION_CAP_FROM
        for e in events)


INSPECTION_CAP_FROM = "2025-01-01"      # the first year inspection.yearly_cap counts (in force 2025-07-01)


def load_file(path: Path, decided_only: bool = False,
              sheet: str | None = None) -> tuple[list[LoadedCase], list[InputProblem]]:
    """The file's valid cases and its problems. ``decided_only``: validate only the cases with a
    decision event (the first-offence look-back's pass needs nothing else). ``sheet``: of a ledger,
    read only this sheet (``--sheet``)."""
    name = str(path)
    if path.suffix.lower() == ".xlsx":
        return _load_ledger(path, sheet)
    if path.suffix.lower() in OTHER_FORMATS:
        return [], [InputProblem(name, None, "", OTHER_FORMATS[path.suffix.lower()])]
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return [], [InputProblem(name, None, "", f"文件有 {size:,} 字节，超过上限 {MAX_FILE_BYTES:,}：请拆分 / file is "
                                                     f"{size:,} bytes; the limit is {MAX_FILE_BYTES:,}: split it")]
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [InputProblem(name, None, "", f"不是 UTF-8 文本（第 {exc.start} 字节），请以 UTF-8 编码另存 / not "
                                                 f"UTF-8 text (byte {exc.start}: {exc.reason}): save it as UTF-8")]
    except OSError as exc:
        return [], [InputProblem(name, None, "", f"无法读取 / cannot read: {exc.strerror or exc}")]
    try:
        data = parse_document(text, path.suffix.lower())
    except ValueError as exc:
        return [], [InputProblem(name, None, "", str(exc))]
    if isinstance(data, dict) and "cases" in data:
        extra = sorted(set(data) - {"cases", "format"})
        if extra:
            return [], [InputProblem(name, None, extra[0], "含 cases: 的文件只能有 format 和 cases 两项 / a file with "
                                     "'cases:' holds only 'format' and 'cases'")]
        if not isinstance(data["cases"], list):
            return [], [InputProblem(name, None, "cases", "cases 应为案件列表 / expected a list of cases", data["cases"],
                                     True)]
        items = [(i, item) for i, item in enumerate(data["cases"])]
    else:
        items = [(None, data)]
    loaded, problems = [], []
    for index, raw in items:
        if decided_only and not _decided(raw):
            continue
        case, found = validate_case(raw, name, index)
        if case is not None:
            loaded.append(LoadedCase(case, name, index))
        problems.extend(found)
    return loaded, problems


def _load_ledger(path: Path, sheet: str | None = None) -> tuple[list[LoadedCase], list[InputProblem]]:
    from .ledger import read_ledger

    name = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return [], [InputProblem(name, None, "", f"文件大于 {MAX_FILE_BYTES:,} 字节，请分成几个文件",
                                     message_en=f"file is larger than {MAX_FILE_BYTES:,} bytes: split it")]
    except OSError as exc:
        return [], [InputProblem(name, None, "", f"无法读取 / cannot read: {exc.strerror or exc}")]
    return _Ledger(name).load(path, sheet)


class _Ledger:
    """Each row read, validated and let go as the sheet streams (only the cases are kept), every
    problem in one list sorted by sheet and row."""

    def __init__(self, name: str):
        self.name = name
        self.date1904 = False
        self.loaded: list[LoadedCase] = []
        self.invalid: list[InputProblem] = []

    def __call__(self, layout: Any, number: int, cells: Any, heads: Any) -> None:
        from .ledger.read import build_row

        row = build_row(self.date1904, layout, number, cells, heads, self.problems)
        if row is not None:
            loaded, found = _validate_rows(self.name, [row], [])
            self.loaded += loaded
            self.invalid += found

    def load(self, path: Path, sheet: str | None = None) -> tuple[list[LoadedCase], list[InputProblem]]:
        from .ledger.read import Problems, read_ledger

        self.problems = Problems(self.name)
        _, problems = read_ledger(path, sheet, emit=self, problems=self.problems)
        return self.loaded, ledger_problem_order(self.name, problems + self.invalid)


def ledger_problem_order(name: str, problems: list[InputProblem]) -> list[InputProblem]:
    """A ledger's problems sorted by sheet (in the order the list first names them; the file's own
    problems first) and row, otherwise in the order given."""
    sheets: dict[str, int] = {}
    for p in problems:
        sheets.setdefault(p.file, len(sheets))

    def key(p: InputProblem) -> tuple[int, int]:
        head, _, rest = p.field.partition(".")
        number = rest.split(".", 1)[0]
        return (-1 if p.file == name else sheets.get(p.file, 0),
                int(number) if head == "rows" and number.isdigit() else 0)
    return sorted(problems, key=key)


def load_ledger_chunk(chunk: Any, decided_only: bool = False) -> tuple[list[LoadedCase], list[InputProblem]]:
    """One chunk of a large ledger (``engine.ledger.read.split_ledger``), read and validated."""
    from .ledger.read import read_chunk

    rows, problems = read_chunk(chunk)
    if decided_only:
        rows = [r for r in rows if _decided(r.raw)]
    return _validate_rows(chunk.file, rows, problems)


def _validate_rows(name: str, rows: list[Any], problems: list[InputProblem]) -> tuple[list[LoadedCase], list[InputProblem]]:
    loaded = []
    for row in rows:
        case, found = validate_case(row.raw, name)
        for p in found:                         # events.N…, party.id… → the ledger column it came from
            parts = p.field.split(".")
            column = next((row.where[".".join(parts[:n])] for n in range(len(parts), 0, -1)
                           if ".".join(parts[:n]) in row.where), p.field)
            problems.append(dataclasses.replace(p, file=f"{name}!{row.sheet}", field=f"rows.{row.number}.{column}"))
        if case is not None:
            loaded.append(LoadedCase(case, name, row.number, row.sheet, row.unstated))
    return loaded, problems


def load_paths(paths: Iterable[str | Path], sheet: str | None = None) -> LoadResult:
    """Load every case under ``paths``; duplicated case ids (per agency) are problems too. ``sheet``: of
    each ledger, read only this sheet."""
    result = LoadResult()
    try:
        files = list(iter_case_files(paths))
    except FileNotFoundError as exc:
        result.problems.append(InputProblem(str(exc), None, "", getattr(exc, "message", NO_SUCH_FILE)))
        return result
    seen: dict[tuple[str, str], str] = {}
    for path in files:
        result.files += 1
        loaded, problems = load_file(path, sheet=sheet)
        result.problems.extend(problems)
        for item in loaded:
            key = (item.case.agency.code, item.case.case_id)
            if key in seen:
                result.problems.append(duplicate_id_problem(item.case.case_id, seen[key], item.ref))
                continue
            seen[key] = item.ref
            result.cases.append(item)
    return result
