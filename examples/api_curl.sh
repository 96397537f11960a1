#!/usr/bin/env bash
# The same steps with curl: store a case, a decision refused for want of a legal review (409), the review
# and the decision (201). Usage: examples/api_curl.sh http://127.0.0.1:8000/api/v1 cck_…
# Exit 0 when every status was the one expected.
set -u
BASE=${1:-http://127.0.0.1:8000/api/v1}
TOKEN=${2:?give the API token}
STAMP=$(date +%Y%m%d%H%M%S%3N)                        # a case number of its own each run (a store may hold the last)
CASE_NUMBER="津南城管罚〔示例〕${STAMP}号"
CASE_ID="%E6%B4%A5%E5%8D%97%E5%9F%8E%E7%AE%A1%E7%BD%9A%E3%80%94%E7%A4%BA%E4%BE%8B%E3%80%95${STAMP}%E5%8F%B7"   # the same, percent-encoded
fail=0

call() {   # expected-status method path [json-body] [extra header]
  local want=$1 method=$2 path=$3 body=${4:-} extra=${5:-X-Casecheck-Officer: O1}
  local out status
  out=$(curl -sS -X "$method" "$BASE$path" -H "Authorization: Bearer $TOKEN" -H "$extra" \
        -H 'Content-Type: application/json' ${body:+--data-binary "$body"} -w '\n%{http_code}')
  status=${out##*$'\n'}
  echo "$([ "$status" = "$want" ] && echo ✓ || echo ✗) $status $method $path"
  echo "  ${out%$'\n'*}" | cut -c1-400 | iconv -f UTF-8 -t UTF-8 -c   # cut counts bytes: drop a split character
  [ "$status" = "$want" ] || fail=1
}

OFFICERS='[{"id":"O1","name":"王某","certificate":"津执1","certificate_valid_until":"2026-06-30"},{"id":"O2","name":"赵某","certificate":"津执2","certificate_valid_until":"2026-06-30"},{"id":"R1","name":"孙某","certificate":"津执3","certificate_valid_until":"2026-06-30","legal_qualification":true}]'
EVENTS='[{"type":"discovered","date":"2024-03-01"},{"type":"registered","date":"2024-03-04","officers":["O1","O2"],"documents":["立案审批表"]},{"type":"inspected","date":"2024-03-04","officers":["O1","O2"],"certificates_shown":true,"recording":"AV-1","documents":["现场检查笔录"]},{"type":"notified","date":"2024-03-08","officers":["O1","O2"],"proposed":{"kind":"fine","amount":"2000"},"documents":["行政处罚事先告知书"]},{"type":"rights_waived","date":"2024-03-11"}]'
CASE='{"format":"casecheck/1","case_id":"'"$CASE_NUMBER"'","agency":{"code":"nkcgw","name":"南开区城市管理委员会"},"procedure":"ordinary","matter":{"code":"SR-0101","name":"超出门窗外墙经营"},"party":{"kind":"person","name":"刘某","id":"120104198001010002"},"violation":{"occurred_on":"2024-03-01"},"officers":'$OFFICERS',"events":'$EVENTS'}'
DECISION='{"type":"decided","date":"2024-03-13","officers":["O1","O2"],"outcome":"penalty","penalty":{"kind":"fine","amount":"2000"},"document":"津南城管罚决〔2024〕2号"}'
REVIEW='{"type":"legal_review","date":"2024-03-12","reviewer":"R1","result":"approved","documents":["法制审核意见书"]}'

call 200 GET  /health
call 201 POST /cases "$CASE"
call 409 POST "/cases/$CASE_ID/events" '{"event":'"$DECISION"',"expected_event_count":5}'
call 201 POST "/cases/$CASE_ID/events" '{"event":'"$REVIEW"'}' 'X-Casecheck-Officer: R1'
call 201 POST "/cases/$CASE_ID/events" '{"event":'"$DECISION"',"expected_event_count":6}'
call 200 GET  "/cases/$CASE_ID"
exit $fail
