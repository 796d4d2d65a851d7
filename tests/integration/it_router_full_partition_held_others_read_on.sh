#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A partition whose window is full is held at the source, not paused, and
# the other partitions are read past it. The first 4,000 events carry only
# two keys (one aggregate per domain), so with ordering: key the partitions
# that hold them publish one event at a time and their window (32 here)
# stays full for seconds; 4,000 more events over ~2,000 keys follow, in
# every partition. Each partition has its own librdkafka queue: a full one
# waits there (er_partition_holds_total), and nothing is paused
# (er_partition_pauses_total 0), so nothing prefetched is dropped and
# fetched again. Through one shared queue the router stopped reading every
# partition behind the full one's fetched batch and, 500 ms later, paused
# it. End to end: every critical event stored once, in Kafka order per key,
# and the committed offsets reach the end.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 6
IT_INFLIGHT_PER_PARTITION=32 it_config "$ER_TEST_DIR/router.yaml" 19195
export ER_ROUTER_READY_URL=http://127.0.0.1:19195/readyz
hot=$(it_produce --count 4000 --critical-ratio 0.9 --aggregates 1 --ids-out "$ER_TEST_DIR/c1" \
    --run-id hot --seed 41)
wide=$(it_produce --count 4000 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c2" --run-id wide \
    --seed 42)
cat "$ER_TEST_DIR"/c1 "$ER_TEST_DIR"/c2 >"$ER_TEST_DIR/critical.raw"
it_prefixed "$ER_TEST_DIR/critical.raw" "$ER_TEST_DIR/critical"
produced=$(($(er_json produced "$hot") + $(er_json produced "$wide")))
critical=$(wc -l <"$ER_TEST_DIR/critical")
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"
it_wait_committed 180 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "committed offsets did not reach the end offsets: $(cat "$ER_TEST_DIR/offsets.json")"

holds=$(it_metric 19195 er_partition_holds_total)
pauses=$(it_metric 19195 er_partition_pauses_total)
waits=$(it_metric 19195 'er_order_waits_total{ordering="key"}')
er_log "produced $produced events ($critical critical); holds: $holds, pauses: $pauses, waits for a key: $waits"
[[ ${waits:-0} -gt 1000 ]] ||
    er_fail "only ${waits:-0} events waited for their key: the windows never filled, this test proves nothing"
[[ ${holds:-0} -gt 0 ]] || er_fail "no partition was held although windows filled (holds: ${holds:-none})"
er_assert_eq "$pauses" 0 "a full window holds its partition; nothing is paused (er_partition_pauses_total)"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical" --check-subjects \
    --check-key-order) || er_fail "stream content: $v"
er_assert_eq "$(er_json missing "$v")" 0 "no critical event missing"
er_assert_eq "$(er_json duplicates "$v")" 0 "no critical event stored twice"
er_assert_eq "$(er_json key_order_violations "$v")" 0 "JetStream order equals Kafka order per key"
er_assert_eq "$(er_json stored "$v")" "$critical" "stream holds exactly the critical events"
er_assert_eq "$(it_metric 19195 er_events_consumed_total)" "$produced" \
    "every record handled once (er_events_consumed_total)"
er_assert_eq "$(it_metric 19195 er_kafka_offset_gaps_total)" 0 "no offset skipped"
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0 after SIGTERM"
er_pass
