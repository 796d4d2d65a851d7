#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The prefetch restart (kafka.refetch_idle_ms) seeks a partition to the
# offset after the last record the router read, while librdkafka may still
# have a fetch of the old position in flight. With a tiny prefetch bound
# (queued.max.messages.kbytes=64, 16 KiB per partition per fetch) it fires hundreds of times during one
# catch-up; every critical event must still be stored exactly once, in
# Kafka order per partition, every record counted once, and the committed
# offsets reach the end.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 4
IT_KAFKA_PROPS="queued.max.messages.kbytes=64
max.partition.fetch.bytes=16384" it_config "$ER_TEST_DIR/router.yaml" 19194
export ER_ROUTER_READY_URL=http://127.0.0.1:19194/readyz
p1=$(it_produce --count 12000 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c1" --run-id pf1 --seed 31)
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"
# More while it catches up, so reads, refetches and new records interleave.
p2=$(it_produce --count 8000 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c2" --run-id pf2 --seed 32)
cat "$ER_TEST_DIR"/c1 "$ER_TEST_DIR"/c2 >"$ER_TEST_DIR/critical.raw"
it_prefixed "$ER_TEST_DIR/critical.raw" "$ER_TEST_DIR/critical"
produced=$(($(er_json produced "$p1") + $(er_json produced "$p2")))
critical=$(wc -l <"$ER_TEST_DIR/critical")
it_wait_committed 120 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "committed offsets did not reach the end offsets: $(cat "$ER_TEST_DIR/offsets.json")"

refetches=$(it_metric 19194 er_kafka_refetches_total)
er_log "produced $produced events ($critical critical); prefetch restarts: $refetches"
[[ ${refetches:-0} -gt 10 ]] ||
    er_fail "the prefetch restart did not fire (er_kafka_refetches_total=$refetches): this test proves nothing"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical" --check-subjects \
    --check-order) || er_fail "stream content: $v"
er_assert_eq "$(er_json missing "$v")" 0 "no critical event missing"
er_assert_eq "$(er_json duplicates "$v")" 0 "no critical event stored twice"
er_assert_eq "$(er_json order_violations "$v")" 0 "JetStream order equals Kafka order per partition"
er_assert_eq "$(er_json stored "$v")" "$critical" "stream holds exactly the critical events"
er_assert_eq "$(it_metric 19194 er_events_consumed_total)" "$produced" \
    "every record handled once (er_events_consumed_total)"
er_assert_eq "$(it_metric 19194 er_kafka_offset_gaps_total)" 0 "no offset skipped"
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0 after SIGTERM"
er_pass
