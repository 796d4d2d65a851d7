#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The dedup promise, with its limit: two DIFFERENT events that carry the
# same eventId (a producer bug, or IDs unique only per producer) get the
# same Nats-Msg-Id, so within the stream's duplicate window JetStream
# stores the first and acknowledges the second as a duplicate. The router
# commits both, and counts the second in er_events_duplicate_total
# {route="commands"}: that counter is how an operator sees events that were
# absorbed as duplicates, whether replays or reused IDs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 1
it_config "$ER_TEST_DIR/router.yaml" 19212
export ER_ROUTER_READY_URL=http://127.0.0.1:19212/readyz
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"

for status in on-duty off-duty; do
    printf '{"officerId":"off-7","status":"%s"}' "$status" |
        kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$IT_OFFICER" -p 0 -k off-7 -X acks=all \
            -H eventType=ChangeOfficerStatusRequested -H eventId=reused-1
done
it_wait_committed 30 || er_fail "both records must be committed (the duplicate is a success)"
er_tool er_js wait-count "$IT_STREAM" --count 1 --timeout-s 10 >/dev/null || er_fail "nothing stored"
sleep 1
dump=$(er_tool er_js dump "$IT_STREAM" --data)
stored=$(grep -c . <<<"$dump" || true)
dup=$(it_metric 19212 "er_events_duplicate_total{topic=\"$IT_OFFICER\",route=\"commands\",critical=\"true\"}")
pub=$(it_metric 19212 "er_events_published_total{topic=\"$IT_OFFICER\",route=\"commands\",critical=\"true\"}")
er_log "stored=$stored published=${pub:-none} duplicate=${dup:-none}"
er_assert_eq "$stored" 1 "one of the two events stored"
er_assert_eq "$(jq -r .data <<<"$dump" | jq -r .status)" "on-duty" "the first one"
er_assert_eq "$(jq -r '.headers["Nats-Msg-Id"]' <<<"$dump")" "reused-1" "dedup ID is the eventId"
er_assert_eq "$pub" 1 "one published"
er_assert_eq "$dup" 1 "the second counted as a duplicate on its route"
er_router_stop
er_pass
