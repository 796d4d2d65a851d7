#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shutdown with NATS unreachable and events in flight: every step of the
# graceful stop waits for something that will not come (PubAcks, the revoke's
# acks, NATS's close), yet the router exits within limits.shutdown_timeout_ms
# of SIGTERM (the one deadline), below the drain + revoke timeouts (15 s +
# 10 s) that used to add up. The events are put in flight first (their
# subject has no stream, so they are retried), then NATS is stopped: a
# router with NATS down reads nothing new.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 2
sed -i -e "s|subject: \"$IT_PREFIX.commands.|subject: \"er-nostream-$IT_PREFIX.commands.|" "$IT_RULES"
deadline_ms=12000
margin_s=4 # process start-up of the exit path, poll granularity, a loaded CI host
it_config "$ER_TEST_DIR/router.yaml" 19196 "retry:
  max_attempts: 1000
  backoff_initial_ms: 100
  backoff_max_ms: 200"
sed -i "s|^  revoke_timeout_ms: 10000$|  revoke_timeout_ms: 10000\n  shutdown_timeout_ms: $deadline_ms|" \
    "$ER_TEST_DIR/router.yaml"
grep -q "shutdown_timeout_ms: $deadline_ms" "$ER_TEST_DIR/router.yaml" ||
    er_fail "could not set limits.shutdown_timeout_ms in the config"
export ER_ROUTER_READY_URL=http://127.0.0.1:19196/readyz
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"

it_produce --count 500 --rate 5000 --run-id sd1 --seed 7 >"$ER_TEST_DIR/produce.json" ||
    er_fail "producer failed"
inflight() { [[ $(it_metric 19196 er_inflight_events) -gt 0 ]]; }
er_wait_until 20 inflight || er_fail "no events in flight (retried for lack of a stream)"
# Every NATS node: with one left, the router would just fail over to it.
if [[ ${ER_CLUSTER_MODE:-cluster} == single ]]; then nodes=(nats-1); else nodes=(nats-1 nats-2 nats-3); fi
# Restarted together at exit: one node alone waits for a JetStream quorum.
er_on_exit bash -c 'for n in "${@:2}"; do "$1" start "$n" & done; wait' _ \
    "$ER_SOURCE_DIR/deploy/local/cluster" "${nodes[@]}"
for n in "${nodes[@]}"; do
    "$ER_SOURCE_DIR/deploy/local/cluster" stop "$n" >>"$ER_TEST_DIR/cluster.log" 2>&1 ||
        er_fail "could not stop $n"
done
sleep 2
er_log "in flight before SIGTERM, NATS stopped: $(it_metric 19196 er_inflight_events)"

t0=$EPOCHREALTIME
kill -TERM "$ER_ROUTER_PID"
er_router_wait_exit $((deadline_ms / 1000 + 30)) || er_fail "router still running 30 s past the deadline"
dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
er_log "exited ${dt}s after SIGTERM (deadline $((deadline_ms / 1000)) s) with status $ER_ROUTER_STATUS"
awk -v dt="$dt" -v lim="$((deadline_ms / 1000 + margin_s))" 'BEGIN { exit !(dt <= lim) }' ||
    er_fail "shutdown took ${dt}s, past limits.shutdown_timeout_ms ($deadline_ms ms) + ${margin_s}s"
er_assert_eq "$ER_ROUTER_STATUS" 0 "exit status after a timed-out drain"
grep -q 'id=RTR-0502' "$ER_TEST_DIR/router.log" || er_fail "no 'drain timed out' line in the log"
c=$(er_tool er_admin offsets --group "$IT_GROUP" --topic "$IT_OFFICER,$IT_INCIDENT")
er_log "committed at the stop: $(er_json committed_total "$c") of 500"
er_pass
