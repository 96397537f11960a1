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
    "discretion_level": ("裁量情形", "discretion level"), "benchmark": ("适用的裁量基准（名称及条目）", "discretion benchmark"),
    "reasons": ("罚款数额的理由", "reasons for the amount"), "kind": ("检查类型", "inspection kind"),
    "trigger": ("个案检查来源", "what prompted it"), "item": ("检查事项编码", "inspection item"),
    "approved_on": ("检查审批日期", "approved on"), "emergency": ("紧急情况事后补批", "approved afterwards (emergency)"),
    "plan_approved_on": ("专项检查计划批准日期", "campaign plan approved on"),
    "plan_filed_on": ("专项检查计划备案日期", "campaign plan filed on"),
    "plan_published_on": ("专项检查计划公布日期", "campaign plan published on"),
    "feedback_on": ("检查结果告知日期", "result fed back on"), "scanned_on": ("扫码入企日期", "code scanned on"),
    "scan_reason": ("未及时扫码的原因", "why the scan was late"), "on_the_spot": ("当场收缴罚款", "collected on the spot"),
    "spot_reason": ("当场收缴的情形", "why collected on the spot"), "consent_on": ("当事人同意电子送达日期", "consent to e-service on"),
}
# a choice whose word depends on its field (``ordinary`` is 普通程序 as a procedure, 一般 as a discretion level)
CHOICE_LABELS: dict[tuple[str, str], tuple[str, str]] = {
    ("discretion_level", "light"): ("从轻", "light"), ("discretion_level", "ordinary"): ("一般", "ordinary"),
    ("discretion_level", "serious"): ("从重", "serious"),
    ("result", "compliant"): ("未发现问题", "compliant"), ("result", "violation_found"): ("发现违法行为", "violation found"),
    ("result", "ordered_correction"): ("责令改正", "ordered to correct"), ("result", "no_violation"): ("不构成违法", "no violation"),
    ("spot_reason", "hard_to_execute"): ("不当场收缴事后难以执行", "hard to execute afterwards"),
    ("spot_reason", "remote_area"): ("边远、水上、交通不便地区", "remote area"),
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

    def choice(self, code: str, lang: str) -> str:
        """A choice's words in this field (``CHOICE_LABELS``), else the vocabulary's."""
        pair = CHOICE_LABELS.get((self.name, code))
        return label(code, lang) if pair is None else pair[0 if lang == "zh" else 1]


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


# ------------------------------------------------------------------------------------- the case header
HEADER_LABELS: dict[str, tuple[str, str]] = {
    "procedure": ("办案程序", "procedure"), "agency.name": ("执法机关名称", "agency name"),
    "agency.region": ("地区", "region"), "party.kind": ("当事人类型", "party kind"),
    "party.name": ("当事人名称或姓名", "party name"), "party.id": ("证件号码或统一社会信用代码", "party id number"),
    "matter.code": ("事项代码", "matter code"), "matter.name": ("事项名称", "matter"), "matter.domain": ("领域", "domain"),
    "violation.occurred_on": ("违法行为发生日期", "violation occurred on"),
    "violation.ended_on": ("违法行为终了日期", "violation ended on"),
    "violation.basis": ("违法依据（每行一条）", "basis (one a line)"),
    "violation.harm_to_safety": ("危害安全", "harm to safety"), "first_offence.harm": ("首违：危害后果", "first offence: harm"),
    "first_offence.corrected_on": ("首违：改正日期", "first offence: corrected on"),
    "officers.name": ("姓名", "name"), "officers.certificate": ("执法证号", "certificate"),
    "officers.certificate_valid_from": ("证件有效期起", "certificate valid from"),
    "officers.certificate_valid_until": ("证件有效期至", "certificate valid until"),
    "officers.legal_qualification": ("法律职业资格", "legal qualification"),
    "officers.first_review_on": ("首次审核日期", "first review on"), "officers.role": ("角色", "role"),
}
HEADER_GROUPS = (("procedure", ("案件", "case")), ("agency", ("执法机关", "agency")), ("party", ("当事人", "party")),
                 ("matter", ("事项", "matter")), ("violation", ("违法行为", "violation")),
                 ("first_offence", ("首违不罚", "first offence")))


@dataclass
class HeaderField:
    """One field of the header form: ``path`` as ``header_fix`` applies it (``["party", "name"]``,
    ``["officers", "O1", "certificate"]``), its form name (``h.0``, by position: an officer's id may hold any
    character), its kind (as ``FormField``'s) and its value as the form shows it."""
    path: list[str]
    name: str
    kind: str
    choices: tuple[str, ...]
    value: str
    label: str                  # the HEADER_LABELS key

    def title(self, lang: str) -> str:
        zh, en = HEADER_LABELS.get(self.label, (self.label, self.label))
        return zh if lang == "zh" else en


def _header_kind(annotation: Any) -> tuple[str, tuple[str, ...]]:
    annotation, optional = _strip_optional(annotation)
    annotation = _base(annotation)
    if annotation is dt.date:
        return "date", ()
    if annotation is bool:
        return "tristate", ()
    if typing.get_origin(annotation) is Literal:
        return "select", tuple(typing.get_args(annotation))
    if typing.get_origin(annotation) is list:
        return "lines", ()
    return "text", ()


def _shown(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "lines":
        return "\n".join(str(v) for v in value)
    if kind == "tristate":
        return "true" if value else "false"
    return str(value)


def header_fields(case: Any) -> list[HeaderField]:
    """The header form of a case as it stands (``CaseFile``): every correctable field, derived from the
    model (the identity, ``case_id`` and ``agency.code``, is not correctable), each officer's fields but
    the id."""
    from ..model import CaseFile

    data = case.model_dump(mode="json", exclude_none=True)
    out: list[HeaderField] = []

    def add(path: list[str], label: str, annotation: Any, value: Any) -> None:
        kind, choices = _header_kind(annotation)
        out.append(HeaderField(path, f"h.{len(out)}", kind, choices, _shown(kind, value), label))

    for top, _title in HEADER_GROUPS:
        info = CaseFile.model_fields[top]
        model = _base(_strip_optional(info.annotation)[0])
        if not hasattr(model, "model_fields"):
            add([top], top, info.annotation, data.get(top))
            continue
        for sub, sub_info in model.model_fields.items():
            if (top, sub) == ("agency", "code"):
                continue
            add([top, sub], f"{top}.{sub}", sub_info.annotation, (data.get(top) or {}).get(sub))
    officer_model = _base(typing.get_args(CaseFile.model_fields["officers"].annotation)[0])
    for officer in data.get("officers") or []:
        for sub, sub_info in officer_model.model_fields.items():
            if sub != "id":
                add(["officers", str(officer["id"]), sub], f"officers.{sub}", sub_info.annotation, officer.get(sub))
    return out


def header_changes(fields: list[HeaderField], form: Any) -> list[tuple[list[str], Any]]:
    """The fields the form changed, as (path, value) for ``header_fix.path_edit``: text as typed (the model
    validates it), an emptied field removed (None), yes/no as a bool, lines as a list. A field whose posted
    text is what the form showed is left alone (a correction made meanwhile to it stands)."""
    out: list[tuple[list[str], Any]] = []
    for f in fields:
        raw = str(form.get(f.name) or "")
        posted = "\n".join(line.strip() for line in raw.splitlines() if line.strip()) if f.kind == "lines" \
            else raw.strip()
        if posted == f.value.strip():
            continue
        if not posted:
            value: Any = None
        elif f.kind == "lines":
            value = posted.split("\n")
        elif f.kind == "tristate":
            value = posted == "true" if posted in ("true", "false") else posted
        else:
            value = posted
        out.append((f.path, value))
    return out
