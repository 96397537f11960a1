"""The command line in Chinese first, English with ``--lang en``: help texts, help headings, usage errors.

Help texts are written ``中文 / English`` in the code, or in English with their Chinese here (``ZH``, by
the English text; ``MISSING`` gives both for a parameter declared without help). ``localize(app)`` makes
every help text of the Typer app bilingual once, at import, so ``casecheck X --help`` reads Chinese with
the English beside it; with ``--lang en`` anywhere on the command line ``english(command)`` keeps only the
English. ``tests/test_help.py`` walks every command and fails on a help text without Chinese.
"""

from __future__ import annotations

import inspect
import re
import sys
from typing import Any

CJK = re.compile(r"[\u3400-\u9fff]")
SEP = re.compile(r"(?:\s/|(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])/)\s+")          # between the Chinese and the English: "中文 / English", "（…）/ English"

# English help text → its Chinese (the English stays beside it)
ZH: dict[str, str] = {
    "case files or directories (JSON/YAML/XLSX, read recursively); none with --db: the stored cases":
        "案卷文件或目录（JSON/YAML/XLSX，递归读取）；用 --db 时省略：检查库中案件",
    "judge open deadlines as of this date (default today)": "以此日期判断未到期限（默认今天）",
    "table | json | html | xlsx | docx (default: from -o's extension, else table)":
        "输出格式（默认按 -o 的扩展名，否则为 table）",
    "zh | en": "中文或英文",
    "jurisdiction profile name or YAML path": "地区配置名称或 YAML 路径",
    "extra holiday schedules (<year>.yaml)": "另加的节假日安排（<年份>.yaml）",
    "worker processes (each runs the whole pipeline)": "工作进程数（每个进程完整地读取、校验、判断）",
    "write the report to this file": "报告写到此文件",
    "check the cases of this store (URL or SQLite path)": "检查此案件库中的案件（URL 或 SQLite 路径）",
    "with --db: only this agency's cases": "与 --db 同用：只查此执法机关的案件",
    "K/N: judge only the K-th of N disjoint shares of the input (files by position, stored cases by row id)":
        "K/N：只判断输入 N 等分中的第 K 份（文件按位置，库中案件按行号）",
    "show internal codes (rule ids, file paths, agency codes) in the terminal and HTML":
        "在终端和 HTML 中显示内部代码（规则编号、文件路径、机关代码）",
    "show personal data (a person's ID number, phone, address) whole: a reviewer's internal copy; by default it "
    "is masked, e.g. 120104********1234, and the stamp says which":
        "完整显示个人信息（身份证号、电话、住址），仅供评查人员内部使用；默认遮蔽（如 120104********1234），报告戳记注明",
    "case files or directories; none with --db": "案卷文件或目录；用 --db 时省略",
    "YYYYQn, e.g. 2024Q4": "季度，写作 YYYYQn，如 2024Q4",
    "only this agency's cases": "只评查此执法机关的案件",
    "review the cases of this store (and keep the review)": "评查此案件库中的案件（并保存评查结果）",
    "the previous quarter's review as JSON (with --db the stored review is used)":
        "上一季度评查结果（JSON）；用 --db 时取库中保存的",
    "judge open deadlines as of (default: quarter end)": "以此日期判断未到期限（默认季度末）",
    "worker processes": "工作进程数",
    "K/N: judge only the K-th of N disjoint shares of the input (files by position, stored cases by row id); the "
    "share's review is not kept in the store":
        "K/N：只判断输入 N 等分中的第 K 份（文件按位置，库中案件按行号）；这一份的评查结果不保存到库中",
    "scoring rubric: a name under rules/rubrics/ (tianjin, zhejiang) or a YAML path":
        "评分细则：rules/rubrics/ 下的名称（tianjin、zhejiang）或 YAML 路径",
    "the day to judge (default today)": "判断日（默认今天）",
    "open deadlines due within N working days": "N 个工作日内到期的未到期限",
    "the deadlines of this store (an indexed query)": "此案件库中的期限（按索引查询）",
    "the year to count": "统计年度",
    "only this agency": "只统计此执法机关",
    "agency profile YAML (default rules/agencies/<code>.yaml)": "执法机关配置 YAML（默认 rules/agencies/<代码>.yaml）",
    "the cases of this store": "此案件库中的案件",
    "table | json": "输出格式",
    "table | mermaid": "输出格式：表格或 Mermaid 状态图",
    "case files, directories, Excel ledgers (.xlsx)": "案卷文件、目录、Excel 台账（.xlsx）",
    "store: SQLAlchemy URL or SQLite file (default $CASECHECK_DB, else ./casecheck.db)":
        "案件库：SQLAlchemy URL 或 SQLite 文件（默认 $CASECHECK_DB，否则 ./casecheck.db）",
    "who imports (default $CASECHECK_USER or the login)": "导入人（默认 $CASECHECK_USER 或登录名）",
    "the signing key or its .pub (default $CASECHECK_KEY)": "签名密钥或其 .pub 公钥（默认 $CASECHECK_KEY）",
    "the checkpoint directory (default $CASECHECK_CHECKPOINTS)": "检查点目录（默认 $CASECHECK_CHECKPOINTS）",
    "processes recomputing the deadlines": "重算期限的进程数",
    "address to listen on": "监听地址",
    "server processes (all state is in the store)": "服务进程数（全部状态都在案件库中）",
    "mark cookies Secure (behind HTTPS)": "Cookie 标记为 Secure（部署在 HTTPS 之后时）",
    "rule id, e.g. publicity.penalty_within_7_workdays": "规则编号，如 publicity.penalty_within_7_workdays",
    "the deduction the reviewer picks": "评查人员选定的扣分",
    "why (shown in the reports)": "理由（显示在报告中）",
    "who (default $CASECHECK_USER or the login name)": "操作人（默认 $CASECHECK_USER 或登录名）",
    "the rubric whose range the value must lie in": "扣分须在其范围内的评分细则",
    "the store": "案件库",
    "rule id": "规则编号",
    "the documented reason, e.g. a court order": "有据可查的理由，如法院裁定",
    "YYYY-MM-DD: the last day the waiver holds": "豁免有效的最后一天（YYYY-MM-DD）",
    "a casecheck/1 case file (header, and any events so far)": "casecheck/1 案卷文件（案件信息及已有环节）",
    "date of the step, YYYY-MM-DD": "环节日期（YYYY-MM-DD）",
    "officer id acting (repeat)": "办案执法人员编号（可重复）",
    "further fields as a JSON object": "其他字段（JSON 对象）",
    "the recording officer: id or name of an officer of the case (default $CASECHECK_USER, else the login name)":
        "记录人：本案执法人员的编号或姓名（默认 $CASECHECK_USER，否则登录名）",
    "the number of events you saw: refused if the case changed since (another writer recorded a step)":
        "您看到的环节数：若此后案件已变化（他人记录了环节）则拒绝记录",
    "the case's path through its workflow": "显示案件在办案流程中的路径",
    "diagram as table | mermaid": "流程图格式：表格或 Mermaid",
    "Correct a stored event: a new attributed event naming the one it corrects (both stay stored).":
        "更正已存环节：记录一个注明所更正环节的新环节（两者都保留）",
    "the number (#) of the stored event to correct": "要更正的已存环节序号（#）",
    "the corrected event, whole, as a JSON object": "更正后的完整环节（JSON 对象）",
    "why (kept in the change log)": "理由（记入变更记录）",
    "the correcting officer (an officer of the case)": "更正人（本案执法人员）",
    "signing key and signed checkpoints of the audit trail": "审计记录的签名密钥与签名检查点",
    "Create the Ed25519 signing key (and KEY.pub for verifiers); never overwrites one.":
        "生成 Ed25519 签名密钥（及供校验用的 KEY.pub）；从不覆盖已有密钥",
    "where to write the private key (default $CASECHECK_KEY); keep it off the database server":
        "私钥写到何处（默认 $CASECHECK_KEY）；不要放在数据库服务器上",
    "Sign a checkpoint of the whole store (case count, every case head, root, change log).":
        "为整个案件库签一个检查点（案件数、每个案件的链头、根哈希、变更记录）",
    "default $CASECHECK_KEY": "签名密钥，默认 $CASECHECK_KEY",
    "default $CASECHECK_CHECKPOINTS": "检查点目录，默认 $CASECHECK_CHECKPOINTS",
    "ordinary | simple | inspection": "办案流程：普通程序、简易程序或检查",
    "users of the web workspace: add, passwd, disable, list": "网页工作台的用户：新增、改密码、停用、列出",
    "Add a user (the password is asked for, or read from stdin).": "新增用户（询问密码，或从标准输入读取）",
    "full name (shown in the workspace)": "姓名（显示在工作台中）",
    "officer | legal_reviewer | head | case_reviewer | supervisor | admin (repeat)":
        "角色：执法人员、法制审核人员、负责人、评查人员、监督人员、管理员（可重复）",
    "agency code the user belongs to (repeat)": "用户所属执法机关代码（可重复）",
    "a supervisor's district (all its agencies)": "监督人员所辖区（其全部执法机关）",
    "the user's officer id in case files": "用户在案卷中的执法人员编号",
    "the officer's certificate number (who the user is: a case's officer ids are that file's own codes)":
        "执法证号（用户本人是谁：案卷中的执法人员编号只是该案卷自己的代号）",
    "read the password from stdin": "从标准输入读取密码",
    "Set a new password (the user's sessions end).": "设置新密码（该用户的会话随之结束）",
    "Disable a user: no more logins; sessions end, calendar feeds revoked.":
        "停用用户：不能再登录；会话结束，日历订阅作废",
    "The users, their roles and scopes.": "列出用户及其角色和范围",
    "The web workspace (工作台): logins, roles, agency scopes, on the store.":
        "网页工作台：登录、角色、机关范围，基于案件库",
    "A reviewer's adjustment of one finding's deduction (评查扣分调整), kept with the reviews.":
        "评查扣分调整：评查人员调整一项问题的扣分，随评查结果保存",
    "A waiver (豁免) of one finding until a date: shown as 已豁免, deducts nothing until it expires.":
        "豁免一项问题至某日：显示为“已豁免”，到期前不扣分",
    "the HTTP API (/api/v1) served alone": "单独提供 HTTP 接口（/api/v1）",
    "Serve /api/v1 (OpenAPI at /api/v1/openapi.json, interactive page at /api/v1/docs). Inputs of decisions\n"
    "are kept for replay unless CASECHECK_KEEP_INPUTS=0.":
        "提供 /api/v1 接口（OpenAPI 见 /api/v1/openapi.json，交互页面见 /api/v1/docs）；判断的输入留存以便重放，"
        "除非 CASECHECK_KEEP_INPUTS=0",
    "server processes (one store: they act as one)": "服务进程数（共用一个案件库，如同一个）",
    "critical | error | warning | info | debug": "日志级别",
    "HTTP API clients (platforms) and their tokens": "HTTP 接口的客户端（平台）及其令牌",
    "Create a client and print its token ONCE (only its hash is kept).": "新建客户端并只显示一次令牌（只保存其哈希）",
    "the client's name (the platform), e.g. supervision-platform": "客户端名称（平台），如 supervision-platform",
    "an agency code the client may reach (repeat)": "客户端可访问的执法机关代码（可重复）",
    "may store cases and record steps (default read only)": "可存入案件、记录环节（默认只读）",
    "valid for N days (default 365)": "有效天数（默认 365）",
    "valid until this day or time (UTC), instead of --days": "有效至此日期或时间（UTC），代替 --days",
    "the admin creating it (default $CASECHECK_USER or the login)": "创建它的管理员（默认 $CASECHECK_USER 或登录名）",
    "The clients: scope, access, expiry, revocation (never their tokens).": "列出客户端：范围、权限、有效期、是否作废（从不显示令牌）",
    "Revoke a client's token: refused from the next request on, by every server process.":
        "作废客户端的令牌：自下一个请求起，所有服务进程都拒绝它",
    "the HTTP API's decision log: export, replay": "HTTP 接口的判断记录：导出、重放",
    "The decision log as JSON Lines, oldest first (digests, not the inputs).":
        "以 JSON Lines 导出判断记录，最早的在前（只含摘要，不含输入）",
    "from this day or time (UTC) on": "自此日期或时间（UTC）起",
    "write to this file (default stdout)": "写到此文件（默认标准输出）",
    "Judge a logged input again with today's engine; exit 0 when it agrees, 1 when it does not.":
        "用当前引擎重新判断一条记录的输入；结果一致退出码 0，不一致 1",
    "a decision id (from an API answer or the export)": "判断编号（见接口应答或导出）",
}

# texts written half in Chinese: their whole bilingual form
REPLACE: dict[str, str] = {"案卷 (case id)": "案号 / case id"}

# parameters declared without any help: (Chinese, English) by parameter name
MISSING: dict[str, tuple[str, str]] = {
    "lang": ("中文或英文", "zh | en"),
    "profile": ("地区配置名称或 YAML 路径", "jurisdiction profile name or YAML path"),
    "agency": ("执法机关代码", "agency code"),
    "output": ("写到此文件", "write to this file"),
    "by": ("操作人（默认 $CASECHECK_USER 或登录名）", "who (default $CASECHECK_USER or the login name)"),
    "case_id": ("案号", "the case number"),
    "db": ("案件库：SQLAlchemy URL 或 SQLite 文件（默认 $CASECHECK_DB，否则 ./casecheck.db）",
           "store: SQLAlchemy URL or SQLite file (default $CASECHECK_DB, else ./casecheck.db)"),
    "port": ("监听端口", "port to listen on"),
    "host": ("监听地址", "address to listen on"),
    "login": ("登录名", "login name"),
    "password_stdin": ("从标准输入读取密码", "read the password from stdin"),
    "name": ("名称", "the name"),
}

HELP_OPTION = ("显示此帮助并退出；加 --lang en 显示英文 / show this message and exit", "Show this message and exit.")

PANELS = {"ARGUMENTS_PANEL_TITLE": ("参数 / Arguments", "Arguments"),
          "OPTIONS_PANEL_TITLE": ("选项 / Options", "Options"),
          "COMMANDS_PANEL_TITLE": ("命令 / Commands", "Commands"),
          "ERRORS_PANEL_TITLE": ("错误 / Error", "Error"),
          "DEFAULT_STRING": ("[默认 / default: {}]", "[default: {}]"),
          "REQUIRED_LONG_STRING": ("[必填 / required]", "[required]"),
          "RICH_HELP": ("查看帮助 / Try [blue]'{command_path} {help_option}'[/] for help.",
                        "Try [blue]'{command_path} {help_option}'[/] for help.")}


def chinese_first(text: str | None) -> bool:
    """Chinese first: ``中文 / English``, or mostly Chinese (an English text with a Chinese term in
    brackets is not)."""
    if not text:
        return False
    head, sep, tail = _split(text)
    if sep and CJK.search(head) and tail.strip():
        return True
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(bool(CJK.match(c)) for c in letters) * 2 >= len(letters)


def bilingual(text: str | None, param: str | None = None) -> str | None:
    """``中文 / English`` for a help text (unchanged when it is Chinese first already, or none is known)."""
    if text in REPLACE:
        return REPLACE[text]
    if text and chinese_first(text):
        return text
    if not text:
        if param in MISSING:
            zh, en = MISSING[param]
            return f"{zh} / {en}"
        return text
    zh = ZH.get(text) or ZH.get(inspect.cleandoc(text))
    return f"{zh} / {text}" if zh else text


def english(text: str | None) -> str | None:
    """The English of a ``中文 / English`` text (a text without Chinese is returned as it is)."""
    if not text or not CJK.search(text):
        return text
    head, sep, tail = _split(text)
    if sep and CJK.search(head) and tail.strip():
        return tail.strip()
    return text


def _split(text: str) -> tuple[str, str, str]:
    match = SEP.search(text)
    if not match:
        return text, "", ""
    return text[:match.start()], match.group(), text[match.end():]


def localize(app: Any) -> None:
    """Every help text of the Typer ``app`` (commands, groups, parameters) made bilingual, in place."""
    _localize_typer(app, set())
    set_language("zh")
    _fold_help_tables()


def _fold_help_tables() -> None:
    """Typer's help cuts a help text too long for its column with "…" (rich's default), and a Chinese help
    text has no space to wrap at: at 80 columns most of it was cut. Each help text folds onto the next
    lines instead."""
    from rich.text import Text
    from typer import rich_utils

    def folding(make: Any) -> Any:
        if getattr(make, "folds", False):
            return make

        def made(*args: Any, **kwargs: Any) -> Any:
            out = make(*args, **kwargs)
            for item in [out, *getattr(out, "renderables", ())]:
                if isinstance(item, Text):
                    item.overflow = "fold"
            return out

        made.folds = True                 # type: ignore[attr-defined]
        return made

    for name in ("_get_parameter_help", "_make_command_help", "_get_help_text"):
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, folding(getattr(rich_utils, name)))


def _localize_typer(app: Any, seen: set[int]) -> None:
    if id(app) in seen:
        return
    seen.add(id(app))
    info = app.info
    if isinstance(getattr(info, "help", None), str):
        info.help = bilingual(info.help)
    for command in app.registered_commands:
        doc = command.help if isinstance(command.help, str) else inspect.getdoc(command.callback)
        if not callable(command.callback):
            continue
        if doc and not chinese_first(doc):
            command.help = bilingual(doc)
        _localize_params(command.callback)
    for group in app.registered_groups:
        if isinstance(getattr(group, "help", None), str):
            group.help = bilingual(group.help)
        if callable(group.callback):
            _localize_params(group.callback)
        _localize_typer(group.typer_instance, seen)
    callback = getattr(app.registered_callback, "callback", None)
    if callable(callback):
        _localize_params(callback)


def _localize_params(callback: Any) -> None:
    from typer.models import ParameterInfo

    for name, param in inspect.signature(callback).parameters.items():
        info = param.default
        if isinstance(info, ParameterInfo):
            info.help = bilingual(info.help, name)


def wants_english(argv: list[str]) -> bool:
    """``--lang en`` (or ``--lang=en``) anywhere on the command line."""
    return any(a == "--lang=en" or (a == "--lang" and argv[i + 1:i + 2] == ["en"]) for i, a in enumerate(argv))


USAGE = ("用法 / Usage: ", "Usage: ")     # the usage line's prefix in Chinese (with the English) and in English


def set_language(lang: str) -> None:
    """Typer's own words (panel headings, defaults, the --help option) in ``lang``."""
    from typer import rich_utils
    from typer._click import core

    pick = 0 if lang == "zh" else 1
    for name, texts in PANELS.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, texts[pick])
    original = getattr(core.Command.get_help_option, "_casecheck_original", core.Command.get_help_option)

    def get_help_option(self: Any, ctx: Any) -> Any:
        option = original(self, ctx)
        if option is not None:
            option.help = HELP_OPTION[pick]
        return option

    get_help_option._casecheck_original = original  # type: ignore[attr-defined]
    core.Command.get_help_option = get_help_option  # type: ignore[method-assign]

    from typer._click import formatting

    write_usage = getattr(formatting.HelpFormatter.write_usage, "_casecheck_original",
                          formatting.HelpFormatter.write_usage)

    def usage_line(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, USAGE[pick] if prefix is None else prefix)

    usage_line._casecheck_original = write_usage  # type: ignore[attr-defined]
    formatting.HelpFormatter.write_usage = usage_line  # type: ignore[method-assign]


def english_command(command: Any) -> Any:
    """The click command tree with every help text in English only (``--lang en``)."""
    def walk(cmd: Any) -> None:
        cmd.help = english(cmd.help)
        if getattr(cmd, "short_help", None):
            cmd.short_help = english(cmd.short_help)
        for param in cmd.params:
            if getattr(param, "help", None):
                param.help = english(param.help)
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)
    walk(command)
    set_language("en")
    return command


# ----------------------------------------------------------------------------------------- usage errors

_ERRORS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"No such option: (?P<a>\S+)(?: \(Possible options: (?P<b>.+)\))?"), "没有此选项 {a}{b}"),
    (re.compile(r"No such option: (?P<a>\S+) Did you mean (?P<b>\S+)\?"), "没有此选项 {a}，是否想写 {b}？"),
    (re.compile(r"Option '(?P<a>.+)' requires an argument\."), "选项 {a} 需要一个值"),
    (re.compile(r"Option '(?P<a>.+)' requires (?P<b>\d+) arguments\."), "选项 {a} 需要 {b} 个值"),
    (re.compile(r"Option '(?P<a>.+)' does not take a value\."), "选项 {a} 不带值"),
    (re.compile(r"Missing option '(?P<a>.+)'\."), "缺少必填选项 {a}"),
    (re.compile(r"Missing argument '(?P<a>.+)'\."), "缺少参数 {a}"),
    (re.compile(r"Missing parameter: (?P<a>.+)"), "缺少参数 {a}"),
    (re.compile(r"No such command '(?P<a>.+)'\."), "没有此命令 {a}"),
    (re.compile(r"Missing command\."), "缺少命令"),
    (re.compile(r"Got unexpected extra arguments? \((?P<a>.+)\)"), "多余的参数：{a}"),
    (re.compile(r"Invalid value for (?P<a>.+?): (?P<b>.+)", re.S), "{a} 的值无效：{b}"),
    (re.compile(r"Invalid value: (?P<b>.+)", re.S), "值无效：{b}"),
]

_VALUES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?:Value error, )?'(?P<a>.*)' is not one of (?P<b>.+?)\.?$"), "“{a}”不是可选值之一，只能是 {b}"),
    (re.compile(r"Input should be greater than or equal to (?P<a>\S+)"), "应不小于 {a}"),
    (re.compile(r"Input should be less than or equal to (?P<a>\S+)"), "应不大于 {a}"),
    (re.compile(r"(?P<a>\S+) is not in the range (?P<b>.+?)\.?$"), "{a} 不在 {b} 范围内"),
    (re.compile(r"'?(?P<a>.*?)'? is not a valid integer(?: range)?\.?"), "“{a}”不是整数"),
    (re.compile(r"'?(?P<a>.*?)'? is not a valid (?P<b>float|boolean)\.?"), "“{a}”不是有效的数值或是/否"),
    (re.compile(r"(?:Input should be a valid integer, unable to parse string as an integer)"), "应为整数"),
    (re.compile(r"(?:File|Path|Directory) '(?P<a>.+)' does not exist\.?"), "路径 {a} 不存在"),
    (re.compile(r"^(?P<a>.*) is not a date YYYY-MM-DD$"), "{a} 不是日期，请写成 YYYY-MM-DD"),
    (re.compile(r"^give case files or directories, or --db$"), "请给出案卷文件或目录，或用 --db"),
    (re.compile(r"^(?P<a>.*): write YYYY-MM-DD or YYYY-MM-DDTHH:MM \(UTC\)$"), "{a}：请写成 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM（UTC）"),
    (re.compile(r"^give --key PATH or set CASECHECK_KEY$"), "请用 --key 给出密钥路径，或设置 CASECHECK_KEY"),
    (re.compile(r"^a JSON object$"), "应为一个 JSON 对象"),
    (re.compile(r"^(?P<a>.*): write field=value$"), "{a}：请写成 字段=值"),
    (re.compile(r"^(?P<a>.*): (?P<b>.*) is not a mapping$"), "{a}：{b} 不是映射"),
    (re.compile(r"^(?P<a>.*): one of (?P<b>.+)$"), "{a}：只能是 {b}"),
    (re.compile(r"invalid JSON at line (?P<a>\d+) column (?P<b>\d+)"), "JSON 无效（第 {a} 行第 {b} 列）"),
    (re.compile(r"invalid YAML"), "YAML 无效"),
]


def usage_error_text(message: str, lang: str) -> str:
    """A usage error's message: Chinese with the English beside it, or the English alone."""
    text = message.strip()
    for pattern, zh in _ERRORS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        parts = {k: (v or "") for k, v in match.groupdict().items()}
        if "值无效" in zh:                         # the value's own message may be ours, bilingual already
            value = parts["b"]
            if CJK.search(value):
                head = value.partition(" / ")[0]
                parts["b"], en = head, text.replace(value, english(value) or value)
            else:
                parts["b"], en = _value_text(value), text
        else:
            en = text
            if zh.startswith("没有此选项") and parts.get("b"):
                parts["b"] = f"（是否想写 {parts['b']}？）"
        return en if lang == "en" else f"{zh.format(**parts)} / {en}"
    if lang == "en":
        return english(text) or text
    return text if CJK.search(text) else f"用法错误 / {text}"


def _value_text(text: str) -> str:
    for pattern, zh in _VALUES:
        match = pattern.search(text)
        if match:
            return zh.format(**{k: (v or "") for k, v in match.groupdict().items()})
    return text


def show_usage_error(exc: Any, lang: str) -> None:
    """Print a usage error (bad option, missing value…) as click would, in ``lang``."""
    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True, highlight=False)
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        usage = ctx.get_usage()
        path = ctx.command_path
        if lang == "zh":
            err.print(escape(usage if usage.startswith(USAGE[0]) else usage.replace("Usage:", USAGE[0].rstrip(), 1)),
                      soft_wrap=True)
            err.print(escape(f"查看帮助 / Try '{path} --help' for help."), soft_wrap=True)
        else:
            err.print(escape(usage), soft_wrap=True)
            err.print(escape(f"Try '{path} --help' for help."), soft_wrap=True)
        err.print("")
    label = "错误 / Error" if lang == "zh" else "Error"
    err.print(f"[red]{label}:[/red] {escape(usage_error_text(exc.format_message(), lang))}", soft_wrap=True)


def command_args(command: Any, args: list[str]) -> list[str]:
    """``args`` without ``--lang en`` when the command they name has no ``--lang`` of its own (it
    still chose the language of its help and errors)."""
    cmd, leaf = command, command
    for token in args:
        sub = getattr(cmd, "commands", {}).get(token)
        if sub is not None:
            cmd = leaf = sub
    if leaf is command or any("--lang" in getattr(p, "opts", ()) for p in leaf.params):
        return args
    out, skip = [], False
    for i, token in enumerate(args):
        if skip:
            skip = False
            continue
        if token == "--lang=en" or (token == "--lang" and args[i + 1:i + 2] == ["en"]):
            skip = token == "--lang"
            continue
        out.append(token)
    return out


def argv_lang() -> str:
    return "en" if wants_english(sys.argv[1:]) else "zh"
