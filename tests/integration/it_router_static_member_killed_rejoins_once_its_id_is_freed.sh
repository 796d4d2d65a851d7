#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A static member (kafka.group_instance_id) killed with SIGKILL never
# left the group: with the consumer protocol the broker refuses its
# instance id to the restarted process until the old session times out
# (UNRELEASED_INSTANCE_ID, fatal in librdkafka). The restarted router does
# not exit into a crash loop: it logs SRC-0013, says so on /readyz, joins
# again every 2 s, and routes once the broker frees the id (the local
# brokers' consumer session is 10 s). Every critical event produced around
# the kill is stored once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 2
port=19232
it_config "$ER_TEST_DIR/a.yaml" $port
sed -i 's/^  group_id: .*/&\n  group_instance_id: "router-a"/' "$ER_TEST_DIR/a.yaml"
grep -q 'group_instance_id: "router-a"' "$ER_TEST_DIR/a.yaml" || er_fail "could not set the instance id"
export ER_ROUTER_READY_URL=http://127.0.0.1:$port/readyz

er_router_start "$ER_TEST_DIR/a.yaml" "$ER_TEST_DIR/a1.log"
it_produce --count 12000 --rate 2000 --ids-out "$ER_TEST_DIR/c.raw" --run-id sk --seed 31 \
    >"$ER_TEST_DIR/produce.json" &
producer=$!
sleep 2
kill -KILL "$ER_ROUTER_PID"
wait "$ER_ROUTER_PID" 2>/dev/null || true
ER_ROUTER_PID=
er_log "replica killed with SIGKILL; restarting it at once"

ER_ROUTER_READY_URL=none er_router_start "$ER_TEST_DIR/a.yaml" "$ER_TEST_DIR/a2.log"
pid=$ER_ROUTER_PID
body=
held() {
    body=$(curl -s --max-time 2 -w '\n%{http_code}' "$ER_ROUTER_READY_URL") &&
        [[ $body == *"group.instance.id is still held"*"(SRC-0013)"*$'\n503' ]]
}
er_wait_until 20 held || er_fail "/readyz does not say the instance id is held: '$body'"
grep -q 'id=SRC-0013 ' "$ER_TEST_DIR/a2.log" || er_fail "no SRC-0013 in the log"
t0=$SECONDS
ready() { curl -fs --max-time 2 "$ER_ROUTER_READY_URL" >/dev/null; }
er_wait_until 60 ready || er_fail "not ready 60 s after the restart: '$(curl -s "$ER_ROUTER_READY_URL")'"
er_log "ready $((SECONDS - t0)) s after /readyz first said the id was held"
kill -0 "$pid" || er_fail "the restarted router exited"
wait "$producer" || er_fail "producer failed: $(cat "$ER_TEST_DIR/produce.json")"

it_wait_committed 60 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "offsets not committed to the end: $(cat "$ER_TEST_DIR/offsets.json")"
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical") || er_fail "stream content: $v"
er_assert_eq "$(er_json missing "$v")" 0 "no critical event missing"
er_assert_eq "$(er_json duplicates "$v")" 0 "no critical event stored twice"
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "the restarted router exits 0 on SIGTERM"
er_pass
