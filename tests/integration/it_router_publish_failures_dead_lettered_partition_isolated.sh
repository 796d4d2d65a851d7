#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# JetStream refusals end in the dead-letter topic with the reason, on that
# partition only:
#  - a subject no stream listens on: "no responders", retried with backoff
#    retry.max_attempts times, then dead-lettered (publish_failed);
#  - an event larger than the NATS server accepts: dead-lettered at once
#    (too_large), never retried; and as it is also larger than the DLQ topic
#    accepts, its dead letter carries the reference without the value.
# Meanwhile the other partition keeps flowing: its events are stored and
# committed while partition 0 is busy retrying. Nothing is lost.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
IT_TOPIC_CONFIG="max.message.bytes=3000000" it_world 2
# An extra route, first, whose subject no stream covers.
python3 - "$IT_RULES" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("routes:\n", "routes:\n  - name: orphan\n    match: {type: LostThingRequested}\n"
              "    critical: true\n    subject: \"er-nostream.{event}\"\n", 1)
open(p, "w").write(s)
PY
"$ER_BUILD_DIR/event-router" check "$IT_RULES" >/dev/null || er_fail "test rules do not check"
it_config "$ER_TEST_DIR/router.yaml" 19191 "retry:
  max_attempts: 4
  backoff_initial_ms: 200
  backoff_max_ms: 1000"
export ER_ROUTER_READY_URL=http://127.0.0.1:19191/readyz
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"

T=$IT_OFFICER
printf '{"eventId":"lost-1","eventType":"LostThingRequested"}' |
    kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$T" -p 0 -k lost -X acks=all
# A valid 1,048,560-byte envelope: under the rules' 1 MiB JSON limit, but
# with the provenance headers over NATS's 1 MiB max_payload.
python3 -c '
import json
e = {"eventId": "big-1", "eventType": "RegisterOfficerRequested", "aggregateType": "Officer", "data": {"blob": ""}}
pad = 1048560 - len(json.dumps(e))
e["data"]["blob"] = "x" * pad
print(json.dumps(e), end="")' |
    kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$T" -p 0 -k big -X acks=all -X message.max.bytes=3000000 -D '\0'
start=$SECONDS
# Partition 1 keeps flowing while partition 0 retries.
for i in $(seq 1 50); do
    printf '{"eventId":"ok-%d","eventType":"RegisterOfficerRequested","aggregateType":"Officer"}\n' "$i"
done | kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$T" -p 1 -k good -X acks=all
er_wait_until 20 sh -c "'$ER_BUILD_DIR/tools/er_js' wait-count '$IT_STREAM' --count 50 --timeout-s 1" ||
    er_fail "partition 1's events did not reach JetStream while partition 0 was retrying"
p1_done=$((SECONDS - start))

er_wait_until 60 sh -c "'$ER_BUILD_DIR/tools/er_admin' wait-offsets --group '$IT_GROUP' --topic '$T' --timeout-s 1 --quiet" ||
    er_fail "partition 0 was not committed after dead-lettering"
kcat -C -b "$ER_KAFKA_BOOTSTRAP" -t "$IT_DLQ" -e -q -J >"$ER_TEST_DIR/dlq.jsonl"
code_of() { jq -r --arg k "$1" 'select(.key == $k) | [.headers | _nwise(2) | {(.[0]): .[1]}] | add | .["er-dlq-code"]' "$ER_TEST_DIR/dlq.jsonl"; }
er_assert_eq "$(code_of lost)" publish_failed "no-stream subject dead-lettered after the retries"
er_assert_eq "$(code_of big)" too_large "oversized event dead-lettered at once"
# With its headers it is also more than the DLQ topic takes (1 MB default): the dead letter
# carries the reference, not the value, and says so.
omitted=$(jq -r 'select(.key == "big") | [.headers | _nwise(2) | {(.[0]): .[1]}] | add | .["er-dlq-value-omitted"] // ""' \
    "$ER_TEST_DIR/dlq.jsonl")
grep -q '^1048560 bytes' <<<"$omitted" || er_fail "oversized dead letter not marked: '$omitted'"
retries=$(it_metric 19191 er_publish_retries_total)
er_log "partition 1 flowed in ${p1_done}s; retries for the no-stream event: $retries"
[[ $retries -ge 3 ]] || er_fail "expected at least 3 retries before dead-lettering, got $retries"
reason=$(jq -r 'select(.key == "lost") | [.headers | _nwise(2) | {(.[0]): .[1]}] | add | .["er-dlq-reason"]' \
    "$ER_TEST_DIR/dlq.jsonl")
grep -qi 'responders' <<<"$reason" || er_fail "reason does not say why: $reason"
er_assert_eq "$(er_json messages "$(er_tool er_js stream-info "$IT_STREAM")")" 50 "only the good events stored"
er_router_stop
er_pass
