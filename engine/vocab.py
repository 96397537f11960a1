"""Bilingual labels for the codes facts and findings carry (event types, outcomes, statuses…).

Facts hold codes, never prose; message templates and reports translate codes here, so one fact
renders in Chinese or English.
"""

from __future__ import annotations

__all__ = ["label", "severity_label", "LABELS"]

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
