"""Every ``--help`` and usage error of ``casecheck`` is Chinese first (English beside it), English alone
with ``--lang en``: every command and subcommand, every option and argument."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from engine.cli import app
from engine.cli_lang import chinese_first, english, english_command, set_language

ROOT = Path(__file__).parent.parent
CJK = re.compile(r"[\u3400-\u9fff]")


def _walk(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, path + (name,))


def _texts(command):
    yield "<command>", command.help
    for param in command.params:
        yield param.name, getattr(param, "help", None)


def test_every_command_and_option_is_chinese_first_with_english_beside():
    root = typer.main.get_command(app)
    bad = []
    commands = list(_walk(root))
    assert len(commands) >= 40 and ("ledger", "check") in dict(commands) and ("decisions", "replay") in dict(commands)
    for path, command in commands:
        for name, text in _texts(command):
            english_part = [english(text)] if text and english(text) != text else []
            if not chinese_first(text) or not english_part or not re.search(r"[A-Za-z]", english_part[0]):
                bad.append((" ".join(path) or "casecheck", name, text))
    assert not bad, "help texts not 中文 / English:\n" + "\n".join(map(str, bad))


def test_with_lang_en_every_help_text_is_english():
    root = english_command(typer.main.get_command(app))
    try:
        bad = [(" ".join(path), name, text) for path, command in _walk(root) for name, text in _texts(command)
               if text and (chinese_first(text) or CJK.match(text.strip()[:1]))]
    finally:
        set_language("zh")
    assert not bad, bad


def _run(*args):
    import os

    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env={**os.environ, "COLUMNS": "250", "TERMINAL_WIDTH": "250"})


@pytest.mark.parametrize("command", [["check"], ["import"], ["ledger", "check"], ["serve"], ["keys", "seal"],
                                     ["api-client", "add"], ["decisions", "replay"], ["case", "correct"], []])
def test_help_in_chinese_and_in_english(command):
    zh, en = _run(*command, "--help"), _run(*command, "--help", "--lang", "en")
    assert zh.returncode == en.returncode == 0, (zh.stderr, en.stderr)
    assert "选项 / Options" in zh.stdout and "显示此帮助并退出" in zh.stdout
    assert "用法 / Usage: " in zh.stdout and "用法" not in en.stdout and "Usage: " in en.stdout
    assert "Options" in en.stdout and "Show this message and exit." in en.stdout
    chinese = [line for line in (raw.strip("│ ") for raw in en.stdout.splitlines()) if chinese_first(line)]
    assert not chinese, chinese            # a Chinese term in an English sentence (基本情况 section) is fine


def test_usage_errors_in_chinese_and_in_english():
    zh = _run("check", "--bogus")
    assert zh.returncode == 2 and "没有此选项 --bogus" in zh.stderr and "No such option" in zh.stderr
    assert zh.stderr.count("用法 / Usage: ") == 1 and "用法 / 用法" not in zh.stderr and "Traceback" not in zh.stderr
    en = _run("check", "--bogus", "--lang", "en")
    assert en.returncode == 2 and "No such option: --bogus" in en.stderr and not CJK.search(en.stderr)
    missing = _run("review", "fixtures/demo")
    assert missing.returncode == 2 and "缺少必填选项 --quarter" in missing.stderr
    value = _run("check", "fixtures/demo", "--workers", "0")
    assert value.returncode == 2 and "应不小于 1" in value.stderr
    date = _run("check", "fixtures/demo", "--as-of", "2024-13-01")
    assert date.returncode == 2 and "不是日期" in date.stderr
    date_en = _run("check", "fixtures/demo", "--as-of", "2024-13-01", "--lang", "en")
    assert date_en.returncode == 2 and "is not a date" in date_en.stderr and not CJK.search(date_en.stderr)
    command = _run("nonesuch")
    assert command.returncode == 2 and "没有此命令 nonesuch" in command.stderr
    # a command without a --lang of its own still takes --lang en for its help and errors
    seal = _run("keys", "seal", "--lang", "en", "--bogus")
    assert seal.returncode == 2 and "No such option: --bogus" in seal.stderr and not CJK.search(seal.stderr)
