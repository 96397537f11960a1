"""Bilingual UI strings for the renderers (Chinese first)."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    "report_title": ("案卷合规检查报告", "Case-file compliance report"),
    "severity": ("性质", "Severity"), "finding": ("问题说明", "Finding"), "basis": ("法律依据", "Legal basis"),
    "summary": ("共检查 {cases} 件案卷：{flagged} 件有问题，违法 {errors} 项，瑕疵 {warnings} 项，提示 {infos} 项",
                "{cases} case files checked: {flagged} with findings, {errors} errors, {warnings} warnings, {infos} info"),
    "input_problems": ("输入错误（这些文件未被检查）", "Input problems (these were not checked)"),
    "engine_failures": ("引擎未能给出结论的案件", "Cases the engine could not judge"),
    "stamp": ("引擎 {engine} · 规则库 {rules} · 日历 {calendar} · 配置 {profile} · 截至 {as_of}",
              "engine {engine} · rules {rules} · calendar {calendar} · profile {profile} · as of {as_of}"),
}


def t(key: str, lang: str, **kw: object) -> str:
    zh, en = STRINGS[key]
    return (zh if lang == "zh" else en).format(**kw)
