"""A platform's side of the casecheck HTTP API, in Python with httpx: store a case, try to record the
penalty decision before the legal review (refused, with the rule and its article), record the review and
then the decision (accepted: the deadlines it starts), and check a case file without storing it.

    casecheck api-client add my-platform --agency nkcgw --write      # prints the token once
    casecheck api serve --port 8000 &
    python examples/api_client.py --base http://127.0.0.1:8000/api/v1 --token cck_…

Exit 0 when every answer was the one expected.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from urllib.parse import quote

import httpx

NOW = dt.datetime.now()
CASE_ID = f"津南城管罚〔示例〕{NOW:%Y%m%d%H%M%S}{NOW.microsecond // 1000:03d}号"    # a number of its own each run
CASE = {
    "format": "casecheck/1", "case_id": CASE_ID,
    "agency": {"code": "nkcgw", "name": "南开区城市管理委员会"}, "procedure": "ordinary",
    "matter": {"code": "SR-0101", "name": "超出门窗外墙经营"},
    "party": {"kind": "person", "name": "刘某", "id": "120104198001010001"},
    "violation": {"occurred_on": "2024-03-01"},
    "officers": [{"id": "O1", "name": "王某", "certificate": "津执1", "certificate_valid_until": "2026-06-30"},
                 {"id": "O2", "name": "赵某", "certificate": "津执2", "certificate_valid_until": "2026-06-30"},
                 {"id": "R1", "name": "孙某", "certificate": "津执3", "certificate_valid_until": "2026-06-30",
                  "legal_qualification": True}],
    "events": [{"type": "discovered", "date": "2024-03-01"},
               {"type": "registered", "date": "2024-03-04", "officers": ["O1", "O2"], "documents": ["立案审批表"]},
               {"type": "inspected", "date": "2024-03-04", "officers": ["O1", "O2"], "certificates_shown": True,
                "recording": "AV-1", "documents": ["现场检查笔录"]},
               {"type": "notified", "date": "2024-03-08", "officers": ["O1", "O2"],
                "proposed": {"kind": "fine", "amount": "2000"}, "documents": ["行政处罚事先告知书"]},
               {"type": "rights_waived", "date": "2024-03-11"}]}
DECISION = {"type": "decided", "date": "2024-03-13", "officers": ["O1", "O2"], "outcome": "penalty",
            "penalty": {"kind": "fine", "amount": "2000"}, "document": "津南城管罚决〔2024〕1号"}
REVIEW = {"type": "legal_review", "date": "2024-03-12", "reviewer": "R1", "result": "approved",
          "documents": ["法制审核意见书"]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8000/api/v1")
    ap.add_argument("--token", required=True)
    args = ap.parse_args()
    api = httpx.Client(base_url=args.base, headers={"Authorization": f"Bearer {args.token}"}, timeout=30)
    events = f"/cases/{quote(CASE_ID, safe='')}/events"         # the id holds Chinese and 〔〕: percent-encode it
    ok = True

    def expect(response: httpx.Response, status: int, what: str) -> dict:
        nonlocal ok
        body = response.json()
        mark = "✓" if response.status_code == status else "✗"
        ok &= response.status_code == status
        print(f"{mark} {response.status_code} {what}  decision {body.get('decision_id', '—')}")
        return body

    # 1. the case as the platform has it so far (the acting officer: an officer of the case)
    created = expect(api.post("/cases", json=CASE, headers={"X-Casecheck-Officer": "O1"}), 201, "case stored")
    seen = created.get("event_count", 5)

    # 2. the decision before the legal review: refused, nothing stored
    refused = expect(api.post(events, json={"event": DECISION, "officer": "O1", "expected_event_count": seen}),
                     409, "decision without legal review")
    for rule in refused.get("findings", []):
        print(f"    {rule['rule_id']}: {rule['title']}\n    {rule['explanation']}\n    依据 / basis: {rule['basis']}")

    # 3. the review, recorded by the reviewer (not an investigator), then the decision
    review = expect(api.post(events, json={"event": REVIEW, "officer": "R1"}, headers={"If-Match": f'"{seen}"'}),
                    201, "legal review")
    decided = expect(api.post(events, json={"event": DECISION, "officer": "O1",
                                            "expected_event_count": review.get("event_count")}), 201, "decision")
    for d in decided.get("deadlines_started", []):
        print(f"    deadline {d['code']}: due {d['due']}")

    # 4. a stale view of the case (another writer recorded a step since): 412, nothing stored
    expect(api.post(events, json={"event": {"type": "served", "date": "2024-03-14", "officers": ["O1", "O2"],
                                            "method": "direct", "certificates_shown": True},
                                  "officer": "O1", "expected_event_count": seen}), 412, "stale event count")

    # 5. check a case file without storing it: what `casecheck check --format json` reports
    checked = expect(api.post("/check", json={"case": CASE, "as_of": "2024-12-31"}), 200, "check")
    for f in checked.get("findings", []):
        print(f"    {f['rule_id']} ({f['severity']}): {f['message']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
