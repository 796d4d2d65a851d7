#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input end to end. Each hostile or broken record gets its defined
# outcome: a dead-letter record with the original key, value and headers
# plus the reason, or a publish where the event is usable (missing event ID,
# null key, tombstone with header type, odd bytes in an unrelated header).
# The router never crashes, never drops one: consumed = published + skipped
# + dead-lettered, and every offset is committed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 1
it_config "$ER_TEST_DIR/router.yaml" 19187
export ER_ROUTER_READY_URL=http://127.0.0.1:19187/readyz
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"

T=$IT_OFFICER
n=0
declare -A want # offset -> expected outcome ("dlq:<code>", "pub:<subject>" or "skip")
send() { # send OUTCOME KCAT_ARGS... (value on stdin)
    local outcome=$1
    shift
    kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$T" -p 0 -X acks=all "$@" ||
        er_fail "kcat could not produce case $n"
    want[$n]=$outcome
    n=$((n + 1))
}
ok_json() { printf '{"eventId":"%s","eventType":"%s","aggregateType":"Officer","aggregateId":"off-1"}' "$1" "$2"; }

send dlq:bad_envelope -k k0 < <(printf '{not json')
send dlq:bad_envelope -k k1 < <(printf '{"eventType":"RegisterOfficerRequested","eventId":"t1"')
send dlq:bad_envelope -k k2 < <(python3 -c 'print("[" * 5000 + "]" * 5000, end="")')
send dlq:unsafe_token -k k3 < <(ok_json t3 'Register.OfficerRequested')
send dlq:unsafe_token -k k4 -H 'eventType=Register OfficerRequested' < <(printf '{}')
send dlq:no_domain -k k5 < <(printf '{"eventId":"t5","eventType":"FrobnicateWidgetRequested"}')
send dlq:no_event_type -k k6 < <(printf '{"eventId":"t6","eventType":""}')
send dlq:unsafe_token -k k7 < <(python3 -c 'import json; print(json.dumps({"eventId":"t7","eventType":"A"*10000+"Requested"}), end="")')
send dlq:unsafe_token -k k8 < <(printf '{"eventId":"t8","eventType":"Reg\\u0007OfficerRequested"}')
send "pub:$IT_PREFIX.commands.officer.register:$T-0-9" -k k9 < <(printf '{"eventType":"RegisterOfficerRequested","aggregateType":"Officer"}')
send "pub:$IT_PREFIX.commands.officer.register:t10" -Z -K '\t' -H eventType=RegisterOfficerRequested -H eventId=t10 < <(printf 'k10\t\n') # tombstone: empty value after the key = NULL
send "pub:$IT_PREFIX.commands.officer.change-status:t11" -k k11 -H "$(printf 'note=caf\xff\xfe')" < <(ok_json t11 ChangeOfficerStatusRequested)
send skip -k k12 < <(ok_json t12 OfficerRegistered)
send "pub:$IT_PREFIX.commands.incident.report:t13" < <(printf '{"eventId":"t13","eventType":"ReportIncidentRequested","aggregateType":"Incident"}') # null key
total=$n

er_wait_until 30 sh -c "'$ER_BUILD_DIR/tools/er_admin' wait-offsets --group '$IT_GROUP' --topic '$T' --timeout-s 1 --quiet" ||
    er_fail "not every bad record was committed"
kill -0 "$ER_ROUTER_PID" || er_fail "the router died on bad input"

# Dead letters: reason, provenance, original key/value/headers.
kcat -C -b "$ER_KAFKA_BOOTSTRAP" -t "$IT_DLQ" -e -q -J >"$ER_TEST_DIR/dlq.jsonl"
dlq_count=0
for ((i = 0; i < total; i++)); do
    [[ ${want[$i]} == dlq:* ]] || continue
    dlq_count=$((dlq_count + 1))
    rec=$(jq -c --arg o "$i" 'select(([.headers | _nwise(2) | {(.[0]): .[1]}] | add)["er-dlq-offset"] == $o)' \
        "$ER_TEST_DIR/dlq.jsonl")
    [[ -n $rec ]] || er_fail "case $i: no dead-letter record (expected ${want[$i]})"
    h() { jq -r --arg k "$1" '[.headers | _nwise(2) | {(.[0]): .[1]}] | add | .[$k] // ""' <<<"$rec"; }
    er_assert_eq "dlq:$(h er-dlq-code)" "${want[$i]}" "case $i: dead-letter reason code"
    er_assert_eq "$(h er-dlq-topic)" "$T" "case $i: er-dlq-topic"
    er_assert_eq "$(h er-dlq-partition)" 0 "case $i: er-dlq-partition"
    [[ -n $(h er-dlq-reason) && -n $(h er-dlq-time) ]] || er_fail "case $i: reason or time header empty"
    er_assert_eq "$(jq -r .key <<<"$rec")" "k$i" "case $i: original key kept"
done
orig0=$(jq -r 'select(.key == "k0") | .payload' "$ER_TEST_DIR/dlq.jsonl")
er_assert_eq "$orig0" '{not json' "original value kept byte for byte"
hdr4=$(jq -r 'select(.key == "k4") | [.headers | _nwise(2) | {(.[0]): .[1]}] | add | .eventType' \
    "$ER_TEST_DIR/dlq.jsonl")
er_assert_eq "$hdr4" "Register OfficerRequested" "original headers kept"
er_assert_eq "$(wc -l <"$ER_TEST_DIR/dlq.jsonl")" "$dlq_count" "one dead letter per bad record"

# Published ones: subject and dedup ID.
er_tool er_js dump "$IT_STREAM" >"$ER_TEST_DIR/dump.jsonl"
pub_count=0
for ((i = 0; i < total; i++)); do
    [[ ${want[$i]} == pub:* ]] || continue
    pub_count=$((pub_count + 1))
    IFS=: read -r _ subj id <<<"${want[$i]}"
    got=$(jq -r --arg o "$i" 'select(.headers["Kafka-Offset"] == $o) | "\(.subject) \(.headers["Nats-Msg-Id"])"' \
        "$ER_TEST_DIR/dump.jsonl")
    er_assert_eq "$got" "$subj $id" "case $i: published subject and dedup ID"
done
er_assert_eq "$(wc -l <"$ER_TEST_DIR/dump.jsonl")" "$pub_count" "only the usable events were published"
nokey=$(jq -r 'select(.headers["Kafka-Offset"] == "13") | .headers["Kafka-Key"] // "none"' "$ER_TEST_DIR/dump.jsonl")
er_assert_eq "$nokey" none "a null key adds no Kafka-Key header"

consumed=$(it_metric 19187 er_events_consumed_total)
published=$(it_metric 19187 er_events_published_total)
skipped=$(it_metric 19187 er_events_skipped_total)
dead=$(it_metric 19187 er_events_dead_lettered_total)
er_log "consumed $consumed = published $published + skipped $skipped + dead-lettered $dead"
er_assert_eq "$consumed" "$total" "every record consumed"
er_assert_eq "$((published + skipped + dead))" "$total" "every record accounted for"
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0"
er_pass
