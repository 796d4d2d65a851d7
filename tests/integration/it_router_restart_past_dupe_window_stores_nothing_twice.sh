#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Exactly once past the duplicate window (docs/reliability.md): the stream
# remembers a Nats-Msg-Id for 5 s only. The router is killed with -9 right
# after it published (so it stored events it had not committed yet), and
# restarted 30 s later, far past the window: JetStream would store those
# events again. The restarted router looks the partitions' committed offsets
# up in the stream first (the commit metadata says from when) and skips
# what is there. Checked end to end: every critical event stored once, none
# missing, none twice, each key in Kafka order; and the look-up did find
# stored events (else this test proves nothing). IT_LOOKUP=off runs the same
# with the look-up turned off, to show the duplicates it prevents.
# IT_PW_COUNT / IT_PW_RATE / IT_PW_KILL_AFTER (events, events/s, published
# events before the kill) size it for measuring the look-up's cost
# (docs/benchmarks: the RTR-0601 line gives scanned messages and ms).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
IT_DUPE_WINDOW_S=5 it_world 6
[[ ${IT_LOOKUP:-on} == off ]] && IT_LIMITS_EXTRA="  reconcile_timeout_ms: 0"
it_config "$ER_TEST_DIR/router.yaml" 19233
export ER_ROUTER_READY_URL=http://127.0.0.1:19233/readyz

it_produce --count "${IT_PW_COUNT:-12000}" --rate "${IT_PW_RATE:-1500}" \
    --ids-out "$ER_TEST_DIR/c.raw" --run-id pw --seed 23 \
    >"$ER_TEST_DIR/produce.json" &
producer=$!
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router1.log"
published() { local n; n=$(it_metric 19233 er_events_published_total); ((${n:-0} > $1)); }
er_wait_until 60 published "${IT_PW_KILL_AFTER:-1500}" || er_fail "router published too little"
kill -KILL "$ER_ROUTER_PID"
wait "$ER_ROUTER_PID" 2>/dev/null || true
ER_ROUTER_PID=
er_log "router killed with -9; restarting in 30 s (duplicate window 5 s)"
wait "$producer" || er_fail "producer failed: $(cat "$ER_TEST_DIR/produce.json")"
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
critical=$(wc -l <"$ER_TEST_DIR/critical")
sleep 30

er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router2.log"
it_wait_committed 90 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "committed offsets did not reach the end: $(cat "$ER_TEST_DIR/offsets.json")"
found=$(it_metric 19233 er_events_already_stored_total)
scanned=$(it_metric 19233 er_lookup_scanned_messages_total)
er_router_stop
grep -h "RTR-060" "$ER_TEST_DIR/router2.log" | head -n 3 | tee "${IT_PW_LOOKUP_OUT:-/dev/null}" >&2 || true
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical" --check-key-order) || true
er_log "critical $critical; after the restart: $found found already stored ($scanned scanned); $v"
er_assert_eq "$(er_json missing "$v")" 0 "no critical event missing"
er_assert_eq "$(er_json duplicates "$v")" 0 "no critical event stored twice past the window"
er_assert_eq "$(er_json key_order_violations "$v")" 0 "each key in Kafka order"
er_assert_eq "$(er_json stored "$v")" "$critical" "the stream holds exactly the critical events"
if [[ ${IT_LOOKUP:-on} != off ]]; then
    [[ ${found:-0} -gt 0 ]] ||
        er_fail "the look-up found nothing already stored: the kill came too late to prove anything"
fi
er_pass
