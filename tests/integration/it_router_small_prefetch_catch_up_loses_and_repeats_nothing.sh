#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A catch-up through a tiny prefetch bound (queued.max.messages.kbytes=64,
# 16 KiB per partition per fetch) fills librdkafka's queue hundreds of
# times. Each time librdkafka postpones the partition's next fetch by
# fetch.queue.backoff.ms, which the router sets from kafka.refetch_idle_ms
# (default 5): librdkafka's own 1 s default idled a catch-up for most of
# each second. The router must neither lose nor repeat anything: every
# critical event stored exactly once, in Kafka order per partition, every
# record counted once, and the committed offsets reach the end. librdkafka's
# fetch debug log names each of those postponements and its length, which
# proves the stall gone without timing anything: at least 10 of them, none
# longer than the router's default.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 4
IT_LOG_LEVEL=debug IT_KAFKA_PROPS="queued.max.messages.kbytes=64
max.partition.fetch.bytes=16384
debug=fetch" it_config "$ER_TEST_DIR/router.yaml" 19194
export ER_ROUTER_READY_URL=http://127.0.0.1:19194/readyz
p1=$(it_produce --count 12000 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c1" --run-id pf1 --seed 31)
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"
# More while it catches up, so reads, full queues and new records interleave.
p2=$(it_produce --count 8000 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c2" --run-id pf2 --seed 32)
cat "$ER_TEST_DIR"/c1 "$ER_TEST_DIR"/c2 >"$ER_TEST_DIR/critical.raw"
it_prefixed "$ER_TEST_DIR/critical.raw" "$ER_TEST_DIR/critical"
produced=$(($(er_json produced "$p1") + $(er_json produced "$p2")))
critical=$(wc -l <"$ER_TEST_DIR/critical")
it_wait_committed 120 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "committed offsets did not reach the end offsets: $(cat "$ER_TEST_DIR/offsets.json")"

# "<topic> [<partition>]: Fetch backoff for <ms>ms: Local: Queue full"
grep -oE 'Fetch backoff for [0-9]+ms: Local: Queue full' "$ER_TEST_DIR/router.log" |
    grep -oE '[0-9]+' >"$ER_TEST_DIR/backoffs" || true
full=$(grep -c . "$ER_TEST_DIR/backoffs" || true)
longest=$(sort -n "$ER_TEST_DIR/backoffs" | tail -n 1)
er_log "produced $produced events ($critical critical); full prefetch queues: $full, longest backoff ${longest:-none} ms"
[[ $full -gt 10 ]] ||
    er_fail "the prefetch queue filled only $full times: this test proves nothing"
[[ $longest -le 5 ]] ||
    er_fail "librdkafka postponed a fetch by $longest ms after a full prefetch queue (router default 5): the catch-up stalls"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical" --check-subjects \
    --check-key-order) || er_fail "stream content: $v"
er_assert_eq "$(er_json missing "$v")" 0 "no critical event missing"
er_assert_eq "$(er_json duplicates "$v")" 0 "no critical event stored twice"
er_assert_eq "$(er_json key_order_violations "$v")" 0 "JetStream order equals Kafka order per key (ordering: key)"
[[ $(er_json key_order_checked "$v") -eq $(er_json stored "$v") ]] ||
    er_fail "every stored event carries a Kafka-Key to check: $v"
er_assert_eq "$(er_json stored "$v")" "$critical" "stream holds exactly the critical events"
er_assert_eq "$(it_metric 19194 er_events_consumed_total)" "$produced" \
    "every record handled once (er_events_consumed_total)"
er_assert_eq "$(it_metric 19194 er_kafka_offset_gaps_total)" 0 "no offset skipped"
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0 after SIGTERM"
er_pass
