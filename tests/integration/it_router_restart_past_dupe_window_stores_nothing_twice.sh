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
# IT_PW_STREAMS=2 splits the route's subjects over two streams (officer
# commands, incident commands; it_router_restart_past_dupe_window_two_streams_...),
# so that one look-up must read both; IT_PW_PORT moves the admin port.
# IT_PW_NO_COMMIT=1 keeps the first router from committing any watermark
# (it_router_killed_before_its_first_commit_...): only the commits written
# at each partition's first record remain for the restart to look up from.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
IT_DUPE_WINDOW_S=5 it_world 6
port=${IT_PW_PORT:-19233}
streams=("$IT_STREAM")
if [[ ${IT_PW_STREAMS:-1} == 2 ]]; then
    er_tool er_js stream-rm "$IT_STREAM" >/dev/null
    streams=("${IT_STREAM}_OFF" "${IT_STREAM}_INC")
    er_tool er_js stream-add "${streams[0]}" --subjects "$IT_PREFIX.commands.officer.>" \
        --replicas "$IT_RF" --storage file --dupe-window-s 5 >/dev/null
    er_on_exit "$ER_BUILD_DIR/tools/er_js" stream-rm "${streams[0]}"
    er_tool er_js stream-add "${streams[1]}" --subjects "$IT_PREFIX.commands.incident.>" \
        --replicas "$IT_RF" --storage file --dupe-window-s 5 >/dev/null
    er_on_exit "$ER_BUILD_DIR/tools/er_js" stream-rm "${streams[1]}"
fi
[[ ${IT_LOOKUP:-on} == off ]] && IT_LIMITS_EXTRA="  reconcile_timeout_ms: 0"
it_config "$ER_TEST_DIR/router.yaml" "$port"
cp "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router1.yaml"
if [[ ${IT_PW_NO_COMMIT:-0} == 1 ]]; then
    sed -i 's/^  commit_interval_ms: .*/  commit_interval_ms: 3600000/' "$ER_TEST_DIR/router1.yaml"
    grep -q '^  commit_interval_ms: 3600000$' "$ER_TEST_DIR/router1.yaml" ||
        er_fail "could not set commit_interval_ms in router1.yaml"
fi
export ER_ROUTER_READY_URL=http://127.0.0.1:$port/readyz

it_produce --count "${IT_PW_COUNT:-12000}" --rate "${IT_PW_RATE:-1500}" \
    --ids-out "$ER_TEST_DIR/c.raw" --run-id pw --seed 23 \
    >"$ER_TEST_DIR/produce.json" &
producer=$!
er_router_start "$ER_TEST_DIR/router1.yaml" "$ER_TEST_DIR/router1.log"
published() { local n; n=$(it_metric "$port" er_events_published_total); ((${n:-0} > $1)); }
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
found=$(it_metric "$port" er_events_already_stored_total)
scanned=$(it_metric "$port" er_lookup_scanned_messages_total)
er_router_stop
grep -h "RTR-060" "$ER_TEST_DIR/router2.log" | head -n 3 | tee "${IT_PW_LOOKUP_OUT:-/dev/null}" >&2 || true
missing=0 dups=0 violations=0 stored=0 found_in=0
for st in "${streams[@]}"; do
    ids=$ER_TEST_DIR/critical
    if [[ ${#streams[@]} -gt 1 ]]; then # this stream's share of the critical events
        dom=officer
        [[ $st == *_INC ]] && dom=incident
        ids=$ER_TEST_DIR/critical.$dom
        awk -F '\t' -v d=".commands.$dom." 'index($2, d)' "$ER_TEST_DIR/critical" >"$ids"
    fi
    v=$(er_tool er_js verify "$st" --ids "$ids" --check-key-order) || true
    er_log "$st: $v"
    missing=$((missing + $(er_json missing "$v")))
    dups=$((dups + $(er_json duplicates "$v")))
    violations=$((violations + $(er_json key_order_violations "$v")))
    stored=$((stored + $(er_json stored "$v")))
    [[ $(er_json stored "$v") -gt 0 ]] && found_in=$((found_in + 1))
done
er_log "critical $critical in ${#streams[@]} stream(s); after the restart: $found found already stored ($scanned scanned)"
er_assert_eq "$missing" 0 "no critical event missing"
er_assert_eq "$dups" 0 "no critical event stored twice past the window"
er_assert_eq "$violations" 0 "each key in Kafka order"
er_assert_eq "$stored" "$critical" "the streams hold exactly the critical events"
er_assert_eq "$found_in" "${#streams[@]}" "every stream holds some of them"
if [[ ${IT_LOOKUP:-on} != off ]]; then
    [[ ${found:-0} -gt 0 ]] ||
        er_fail "the look-up found nothing already stored: the kill came too late to prove anything"
fi
er_pass
