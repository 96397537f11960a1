"""Bilingual labels for the codes facts and findings carry (event types, outcomes, statuses…).

Facts hold codes, never prose; message templates and reports translate codes here, so one fact
renders in Chinese or English.
"""

from __future__ import annotations

from typing import Iterable

__all__ = ["label", "severity_label", "LABELS", "FIELD_NAMES", "EVENT_WORDS", "event_from_words", "event_type_code",
           "field_label", "suggest"]

LABELS: dict[str, tuple[str, str]] = {
    # inspection kinds and triggers (涉企行政检查)
    "routine": ("日常检查", "routine inspection"), "campaign": ("专项检查", "campaign inspection"),
    "case": ("个案检查", "case inspection"), "complaint": ("投诉举报", "complaint"),
    "referral": ("转办交办", "referral"), "monitoring": ("数据监测", "data monitoring"),
    "request": ("企业申请", "the business's request"),
    # event types
    "discovered": ("发现", "discovered"), "registered": ("立案", "registered"),
    "inspected": ("现场检查", "inspection"), "inquired": ("询问调查", "inquiry"),
    "evidence_preserved": ("先行登记保存证据", "evidence preservation"),
    "evidence_handled": ("证据处理决定", "evidence handled"),
    "notified": ("处罚告知", "notice of proposed penalty"), "statement": ("陈述申辩", "statement"),
    "rights_waived": ("放弃陈述申辩", "rights waived"), "hearing_requested": ("申请听证", "hearing requested"),
    "hearing_noticed": ("听证通知", "hearing notice"), "hearing_held": ("举行听证", "hearing held"),
    "legal_review": ("法制审核", "legal review"), "collective_discussion": ("集体讨论", "collective discussion"),
    "extension_approved": ("批准延期", "extension approved"), "decided": ("作出决定", "decision"),
    "educated": ("批评教育", "education"), "served": ("送达", "service"), "publicized": ("公示", "publicity"),
    "publicity_withdrawn": ("撤下公示", "publicity withdrawn"), "filed": ("备案", "filing"),
    "paid": ("缴纳罚款", "payment"), "enforced": ("强制执行", "enforcement"), "revoked": ("撤销", "revocation"),
    "closed": ("结案", "closing"), "suspended": ("中止", "suspension"), "resumed": ("恢复", "resumption"),
    "seized": ("查封扣押", "seizure"), "demolished": ("强制拆除", "demolition"),
    "released": ("解除查封扣押", "release of a seizure"), "seizure_extended": ("延长查封扣押期限", "seizure extended"),
    "seizure_30": ("查封扣押期限（30日）", "seizure period (30 days)"),
    # pauses of the decision clock
    "public_notice": ("公告送达", "service by public notice"), "hearing": ("听证", "hearing"),
    # certificates, service methods
    "shown": ("已出示", "shown"), "not_shown": ("未出示", "not shown"), "unrecorded": ("未记录", "not recorded"),
    "direct": ("直接送达", "direct service"), "on_the_spot": ("当场交付", "handed over on the spot"),
    "left": ("留置送达", "service by leaving"), "posted": ("张贴送达", "service by posting"),
    "mail": ("邮寄送达", "service by mail"), "electronic": ("电子送达", "electronic service"),
    "announcement": ("公告送达", "service by public notice"),
    # exemptions and harm
    "first_offence": ("首违不罚", "first offence"), "minor": ("轻微不罚", "minor violation"),
    "no_fault": ("无主观过错", "no fault"), "slight": ("轻微", "slight"), "serious": ("严重", "serious"),
    # publicity obligations, clocks
    "penalty_decision": ("行政处罚决定", "penalty decision"), "other_decision": ("执法决定", "enforcement decision"),
    "withdrawal": ("撤回公示", "withdrawal"), "met": ("按期", "met"),
    "decision_90": ("90日内作出决定", "decision within 90 days"), "service_7": ("决定书送达", "service"),
    "evidence_7": ("先行登记保存证据处理", "handling of preserved evidence"),
    "simple_filing": ("当场处罚备案", "filing of the on-the-spot decision"),
    # review results
    "approved": ("通过", "approved"), "returned": ("退回", "returned"), "rejected": ("不同意", "rejected"),
    "none": ("无", "none"), "late_review": ("审核晚于决定", "review dated after the decision"),
    # procedures, outcomes, parties
    "ordinary": ("普通程序", "ordinary procedure"), "simple": ("简易程序", "simple procedure"),
    "inspection": ("行政检查", "inspection"), "penalty": ("处罚", "penalty"),
    "no_penalty": ("不予处罚", "no penalty"), "transfer": ("移送", "transfer"),
    "person": ("自然人", "natural person"), "organization": ("单位", "organization"),
    "warning": ("警告", "warning"), "criticism": ("通报批评", "public criticism"), "fine": ("罚款", "fine"),
    "confiscation": ("没收", "confiscation"), "suspension": ("责令停产停业", "suspension of business"),
    "revocation": ("吊销许可证件", "licence revocation"), "closure": ("责令关闭", "closure"),
    "detention": ("行政拘留", "detention"), "other": ("其他", "other"),
    # publicity platforms and statuses
    "supervision_platform": ("天津市行政执法监督平台", "Tianjin enforcement supervision platform"),
    "credit_china": ("信用中国（天津）", "Credit China (Tianjin)"), "portal": ("政府门户网站", "government portal"),
    "on_time": ("按时", "on time"), "late": ("逾期", "late"), "missed": ("已错过", "missed"),
    "open": ("未到期", "still open"),
    # matter domains (执法领域)
    "fire_safety": ("消防安全", "fire safety"), "waste_sorting": ("生活垃圾分类", "waste sorting"),
    "civility": ("文明行为", "civil behaviour"), "city_appearance": ("市容环境卫生", "city appearance"),
    "air": ("大气污染防治", "air pollution"), "gas": ("燃气", "gas"), "greening": ("园林绿化", "greening"),
    "drainage": ("市政排水", "drainage"),
    # workflow refusal reasons
    "wrong_state": ("当前环节不允许此步骤", "not allowed in the current state"),
    "unknown_event": ("本程序没有此步骤", "not a step of this procedure"),
    "date_order": ("日期早于前一步骤", "dated before the previous step"),
}

SEVERITY_LABELS: dict[str, tuple[str, str]] = {
    "error": ("违法", "error"), "warning": ("瑕疵", "warning"), "info": ("提示", "info"),
}


def label(code: str, lang: str = "zh") -> str:
    pair = LABELS.get(code)
    if pair is None:
        return code
    return pair[0] if lang == "zh" else pair[1]


def severity_label(severity: str, lang: str = "zh") -> str:
    zh, en = SEVERITY_LABELS.get(severity, (severity, severity))
    return zh if lang == "zh" else en


# ------------------------------------------------------------------ Chinese words as input (issue 18)

# Chinese names of case-file fields (validation messages name the field in Chinese)
FIELD_NAMES: dict[str, str] = {
    "format": "格式", "case_id": "案件编号", "agency": "执法机关", "code": "代码", "name": "名称", "region": "地区",
    "procedure": "程序", "matter": "事项", "domain": "领域", "party": "当事人", "kind": "类型", "id": "编号",
    "violation": "违法行为", "occurred_on": "违法行为日期", "ended_on": "违法行为终了日期", "basis": "违法依据",
    "harm_to_safety": "危害安全", "first_offence": "首违情况", "harm": "危害后果", "corrected_on": "改正日期",
    "officers": "执法人员", "certificate": "执法证号", "certificate_valid_from": "证件有效期起",
    "certificate_valid_until": "证件有效期至", "legal_qualification": "法律职业资格", "first_review_on": "首次审核日期",
    "events": "事件", "type": "事件类型", "date": "日期", "documents": "文书", "recording": "音像记录编号",
    "certificates_shown": "出示证件", "note": "备注", "pause": "中止类型", "result": "结果", "proposed": "拟处罚",
    "hearing_right": "告知听证权利", "hearing_on": "听证日期", "host": "听证主持人", "reviewer": "法制审核人员",
    "approver": "批准人", "days": "天数", "outcome": "处理结果", "penalty": "处罚", "amount": "金额",
    "exemption": "不予处罚情形", "document": "决定书文号", "major": "重大案件", "method": "送达方式",
    "discretion_level": "裁量情形", "benchmark": "裁量基准", "reasons": "罚款数额理由",
    "platform": "公示平台", "late_fee": "滞纳金", "reason": "原因",
}

# words a person types for an event type (the labels above, and common synonyms)
EVENT_WORDS: dict[str, str] = {
    "发现": "discovered", "立案": "registered", "现场检查": "inspected", "检查": "inspected", "询问": "inquired",
    "询问调查": "inquired", "调查": "inquired", "先行登记保存证据": "evidence_preserved", "证据保存": "evidence_preserved",
    "证据处理决定": "evidence_handled", "处罚告知": "notified", "告知": "notified", "陈述申辩": "statement",
    "放弃陈述申辩": "rights_waived", "申请听证": "hearing_requested", "听证通知": "hearing_noticed",
    "举行听证": "hearing_held", "法制审核": "legal_review", "审核": "legal_review", "集体讨论": "collective_discussion",
    "批准延期": "extension_approved", "延期": "extension_approved", "作出决定": "decided", "决定": "decided",
    "处罚决定": "decided", "批评教育": "educated", "送达": "served", "公示": "publicized", "撤下公示": "publicity_withdrawn",
    "备案": "filed", "缴纳罚款": "paid", "缴款": "paid", "强制执行": "enforced", "撤销": "revoked", "结案": "closed",
    "中止": "suspended", "恢复": "resumed", "查封扣押": "seized", "强制拆除": "demolished",
}

# field words for ``--set``, and the value words of each coded field
SET_FIELDS: dict[str, str] = {
    "结论": "result", "审核结论": "result", "结果": "result", "检查结果": "result", "处理结果": "outcome",
    "送达方式": "method", "方式": "method", "平台": "platform", "公示平台": "platform", "金额": "amount",
    "缴款金额": "amount", "罚款金额": "penalty.amount", "处罚种类": "penalty.kind", "文号": "document",
    "决定书文号": "document", "听证权利": "hearing_right", "告知听证权利": "hearing_right", "审核人": "reviewer",
    "审核人员": "reviewer", "法制审核人员": "reviewer", "出示证件": "certificates_shown", "备注": "note",
    "音像记录": "recording", "音像记录编号": "recording", "重大": "major", "不予处罚情形": "exemption",
    "天数": "days", "批准人": "approver", "原因": "reason", "滞纳金": "late_fee", "听证日期": "hearing_on",
    "主持人": "host", "文书": "documents",
}
VALUE_WORDS: dict[str, dict[str, object]] = {
    "result": {"通过": "approved", "同意": "approved", "退回": "returned", "不同意": "rejected", "合格": "compliant",
               "未发现问题": "no_violation", "未发现违法行为": "no_violation", "发现违法": "violation_found",
               "发现违法行为": "violation_found", "责令改正": "ordered_correction"},
    "outcome": {"处罚": "penalty", "给予处罚": "penalty", "行政处罚": "penalty", "不予处罚": "no_penalty", "移送": "transfer"},
    "method": {"直接送达": "direct", "当场交付": "on_the_spot", "留置送达": "left", "邮寄送达": "mail",
               "电子送达": "electronic", "公告送达": "announcement", "张贴送达": "posted"},
    "platform": {"监督平台": "supervision_platform", "执法监督平台": "supervision_platform",
                 "天津市行政执法监督平台": "supervision_platform", "信用中国": "credit_china",
                 "信用中国（天津）": "credit_china", "门户网站": "portal", "政府门户网站": "portal"},
    "penalty.kind": {"警告": "warning", "通报批评": "criticism", "罚款": "fine", "没收": "confiscation",
                     "责令停产停业": "suspension", "吊销许可证件": "revocation", "责令关闭": "closure",
                     "行政拘留": "detention", "其他": "other"},
    "exemption": {"首违不罚": "first_offence", "轻微不罚": "minor", "无主观过错": "no_fault"},
    "pause": {"中止": "suspension", "听证": "hearing", "公告送达": "public_notice"},
}
BOOLEAN_FIELDS = {"hearing_right", "certificates_shown", "major"}
YES_WORDS = {"是", "有", "已", "已出示", "已告知", "√"}
NO_WORDS = {"否", "无", "未", "未出示", "未告知", "×"}


def suggest(word: str, candidates: "Iterable[str]") -> str | None:
    """The closest candidate to a misspelt word (did you mean…?), or None."""
    import difflib

    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    return found[0] if found else None


def event_type_code(word: str) -> str:
    """An event type written as its code or in Chinese → the code (unknown words unchanged)."""
    return EVENT_WORDS.get(word.strip(), word.strip())


def event_from_words(event: dict) -> dict:
    """An event written with Chinese type, field and value words → the casecheck/1 codes. Codes pass
    unchanged; a word that is not known is left as it is (validation then names it)."""
    out: dict = {}
    for key, value in event.items():
        if key == "type" and isinstance(value, str):
            out[key] = event_type_code(value)
            continue
        path = SET_FIELDS.get(key, key) if isinstance(key, str) else key
        out_key = path
        if path == "amount" and event.get("type") in ("decided", "作出决定", "决定", "处罚决定"):
            out_key = "penalty.amount"
        if isinstance(value, str):
            table = VALUE_WORDS.get(out_key) or VALUE_WORDS.get(path) or {}
            value = table.get(value.strip(), value)
            if out_key in BOOLEAN_FIELDS:
                value = True if value in YES_WORDS else False if value in NO_WORDS else value
        if "." in out_key:
            head, _, tail = out_key.partition(".")
            target = out.setdefault(head, {})
            if isinstance(target, dict):
                if tail == "kind" and isinstance(value, str):
                    value = VALUE_WORDS["penalty.kind"].get(value, value)
                target[tail] = value
                continue
        if isinstance(value, dict) and out_key == "penalty" and isinstance(value.get("kind"), str):
            value = {**value, "kind": VALUE_WORDS["penalty.kind"].get(value["kind"], value["kind"])}
        out[out_key] = value
    return out


def field_label(path: str, lang: str = "zh") -> str:
    """``events.3.reviewer`` → ``第 4 个事件的法制审核人员`` (1-based, Chinese names) / ``event 4 reviewer``."""
    parts = path.split(".")
    out_zh: list[str] = []
    out_en: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in ("events", "officers", "cases", "documents", "basis") and i + 1 < len(parts) and parts[i + 1].isdigit():
            n = int(parts[i + 1]) + 1
            noun = {"events": ("事件", "event"), "officers": ("执法人员", "officer"), "cases": ("案件", "case"),
                    "documents": ("文书", "document"), "basis": ("违法依据", "basis")}[part]
            out_zh.append(f"第 {n} 个{noun[0]}")
            out_en.append(f"{noun[1]} {n}")
            i += 2
            continue
        out_zh.append(FIELD_NAMES.get(part, part))
        out_en.append(part)
        i += 1
    return "的".join(out_zh) if lang == "zh" else " ".join(out_en)
