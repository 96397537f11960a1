"""The record-a-step form of each event type, derived from the ``casecheck/1`` model (so a new field of an
event type shows up in its form), and the form's values turned back into an event for the live guard.

Nothing is guessed: a field left empty is left out; the model (``engine.model``) then says what is missing
or wrong, and the page shows it next to the field.
"""

from __future__ import annotations

import datetime as dt
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union

from ..model import EVENT_TYPES, Event
from ..vocab import label

FIELD_LABELS: dict[str, tuple[str, str]] = {
    "date": ("日期", "date"), "officers": ("执法人员", "officers"), "documents": ("文书（每行一份）", "documents (one a line)"),
    "recording": ("执法记录仪编号", "audio-video record id"), "certificates_shown": ("出示执法证件", "certificates shown"),
    "note": ("备注", "note"), "pause": ("中止类型", "pause"), "result": ("结果", "result"),
    "proposed.kind": ("拟处罚种类", "proposed penalty"), "proposed.amount": ("拟罚款金额（元）", "proposed amount (yuan)"),
    "hearing_right": ("告知听证权利", "hearing right notified"), "hearing_on": ("听证日期", "hearing date"),
    "host": ("听证主持人", "hearing host"), "reviewer": ("审核人", "reviewer"), "approver": ("批准人", "approver"),
    "days": ("延长天数", "days"), "outcome": ("决定结果", "outcome"), "penalty.kind": ("处罚种类", "penalty"),
    "penalty.amount": ("罚款金额（元）", "amount (yuan)"), "exemption": ("不予处罚情形", "exemption"),
    "document": ("决定书文号", "decision number"), "major": ("重大案件", "major case"),
    "method": ("送达方式", "service method"), "platform": ("公示平台", "platform"), "amount": ("金额（元）", "amount (yuan)"),
    "late_fee": ("加处罚款（元）", "late fee (yuan)"), "reason": ("理由", "reason"),
}


@dataclass
class FormField:
    name: str                  # dotted for nested: penalty.kind
    kind: str                  # date | text | textarea | lines | number | bool | tristate | select | officers | officer
    required: bool
    choices: tuple[str, ...] = ()

    def title(self, lang: str) -> str:
        zh, en = FIELD_LABELS.get(self.name, (self.name, self.name))
        return zh if lang == "zh" else en


def _event_classes() -> dict[str, type]:
    out = {}
    for cls in typing.get_args(typing.get_args(Event)[0]):
        for t in typing.get_args(cls.model_fields["type"].annotation):
            out[t] = cls
    return out


_CLASSES = _event_classes()


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (Union, getattr(__import__("types"), "UnionType", Union)):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _base(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def fields_for(event_type: str) -> list[FormField]:
    cls = _CLASSES[event_type]
    out: list[FormField] = []
    for name, info in cls.model_fields.items():
        if name == "type":
            continue
        annotation, optional = _strip_optional(info.annotation)
        annotation = _base(annotation)
        required = info.is_required()
        if name in ("reviewer", "host"):
            out.append(FormField(name, "officer", required))
        elif name == "officers":
            out.append(FormField(name, "officers", False))
        elif name == "documents":
            out.append(FormField(name, "lines", False))
        elif name == "note":
            out.append(FormField(name, "textarea", False))
        elif annotation is dt.date:
            out.append(FormField(name, "date", required))
        elif annotation is bool:
            out.append(FormField(name, "tristate" if optional else "bool", False))
        elif typing.get_origin(annotation) is Literal:
            out.append(FormField(name, "select", required, tuple(typing.get_args(annotation))))
        elif hasattr(annotation, "model_fields"):           # a nested model: penalty / proposed
            for sub, sub_info in annotation.model_fields.items():
                sub_ann = _base(_strip_optional(sub_info.annotation)[0])
                if typing.get_origin(sub_ann) is Literal:
                    out.append(FormField(f"{name}.{sub}", "select", False, tuple(typing.get_args(sub_ann))))
                else:
                    out.append(FormField(f"{name}.{sub}", "number", False))
        elif annotation is int or "Decimal" in str(annotation):
            out.append(FormField(name, "number", required))
        else:
            out.append(FormField(name, "text", required))
    return out


def choice_label(value: str, lang: str) -> str:
    return label(value, lang)


def event_from_form(event_type: str, form: Any) -> dict[str, Any]:
    """The event the form describes (values as the model takes them; empty fields left out)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(event_type)
    event: dict[str, Any] = {"type": event_type}
    for f in fields_for(event_type):
        if f.kind == "officers":
            values = [v.strip() for v in form.getlist(f.name) if v.strip()]
            if values:
                event[f.name] = values
            continue
        raw = str(form.get(f.name) or "").strip() if f.kind != "textarea" else str(form.get(f.name) or "")
        if f.kind == "lines":
            values = [line.strip() for line in raw.splitlines() if line.strip()]
            if values:
                event[f.name] = values
            continue
        if f.kind == "bool":
            if raw:
                event[f.name] = raw in ("on", "true", "1")
            continue
        if f.kind == "tristate":
            if raw in ("true", "false"):
                event[f.name] = raw == "true"
            continue
        if not raw.strip():
            continue
        value: Any = raw
        if f.kind == "number" and f.name in ("days",):
            try:
                value = int(raw)
            except ValueError:
                value = raw
        if "." in f.name:
            outer, inner = f.name.split(".", 1)
            event.setdefault(outer, {})[inner] = value
        else:
            event[f.name] = value
    return event
