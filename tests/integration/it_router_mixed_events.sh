#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Mixed events on several topics and partitions: the stream holds exactly the
# critical ones (by event ID), on the right subjects, with the provenance
# headers, in Kafka order per partition; the committed offsets equal the end
# offsets. Half the events carry their type in a header, half only in JSON.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 4
it_config "$ER_TEST_DIR/router.yaml" 19181
export ER_ROUTER_READY_URL=http://127.0.0.1:19181/readyz

p1=$(it_produce --count 6000 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c1" --run-id m1 --seed 1)
p2=$(it_produce --count 6000 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c2" --run-id m2 --seed 2 \
    --header-type)
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"
# A third batch while the router runs (tailing, not only catching up).
p3=$(it_produce --count 6000 --critical-ratio 0.3 --ids-out "$ER_TEST_DIR/c3" --run-id m3 --seed 3)
cat "$ER_TEST_DIR"/c1 "$ER_TEST_DIR"/c2 "$ER_TEST_DIR"/c3 >"$ER_TEST_DIR/critical.raw"
it_prefixed "$ER_TEST_DIR/critical.raw" "$ER_TEST_DIR/critical"
produced=$(($(er_json produced "$p1") + $(er_json produced "$p2") + $(er_json produced "$p3")))
critical=$(wc -l <"$ER_TEST_DIR/critical")
er_log "produced $produced events, $critical critical"

it_wait_committed 90 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "committed offsets did not reach the end offsets: $(cat "$ER_TEST_DIR/offsets.json")"
er_assert_eq "$(er_json committed_total "$(cat "$ER_TEST_DIR/offsets.json")")" "$produced" \
    "committed offsets equal end offsets"

v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical" --check-subjects \
    --check-key-order) || er_fail "stream content: $v"
er_assert_eq "$(er_json stored "$v")" "$critical" "stream holds exactly the critical events"
er_assert_eq "$(er_json missing "$v")" 0 "no critical event missing"
er_assert_eq "$(er_json duplicates "$v")" 0 "no event stored twice"
er_assert_eq "$(er_json unexpected "$v")" 0 "no non-critical event published"
er_assert_eq "$(er_json subject_mismatch "$v")" 0 "subjects follow commands.{domain}.{action}"
er_assert_eq "$(er_json key_order_violations "$v")" 0 "JetStream order equals Kafka order per key (ordering: key)"
[[ $(er_json key_order_checked "$v") -eq $(er_json stored "$v") ]] ||
    er_fail "every stored event carries a Kafka-Key to check: $v"

# Headers on every stored message: provenance, dedup ID = event ID, copied Kafka headers.
er_tool er_js dump "$IT_STREAM" >"$ER_TEST_DIR/dump.jsonl"
bad=$(jq -r 'select((.headers["Kafka-Topic"] // "") == "" or
                    (.headers["Kafka-Partition"] // "") == "" or
                    (.headers["Kafka-Offset"] // "") == "" or
                    (.headers["Kafka-Timestamp"] // "") == "" or
                    (.headers["Kafka-Key"] // "") == "" or
                    (.headers["Nats-Msg-Id"] // "") == "") | .seq' "$ER_TEST_DIR/dump.jsonl" |
    wc -l)
er_assert_eq "$bad" 0 "every message carries Kafka-Topic/Partition/Offset/Timestamp/Key and Nats-Msg-Id"
copied=$(jq -r 'select(.headers.eventType != null) | .headers["Nats-Msg-Id"]' \
    "$ER_TEST_DIR/dump.jsonl" | grep -c '^m2-' || true)
er_assert_eq "$copied" "$(wc -l <"$ER_TEST_DIR/c2")" "Kafka headers of header-typed events are copied"

# The router's own counters agree with what the test did.
consumed=$(it_metric 19181 er_events_consumed_total)
published=$(it_metric 19181 er_events_published_total)
skipped=$(it_metric 19181 er_events_skipped_total)
er_assert_eq "$consumed" "$produced" "er_events_consumed_total counts every record"
er_assert_eq "$published" "$critical" "er_events_published_total counts the critical events"
er_assert_eq "$skipped" "$((produced - critical))" "er_events_skipped_total counts the others"

er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0 after SIGTERM"
er_pass
