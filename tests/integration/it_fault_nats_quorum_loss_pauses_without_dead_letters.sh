#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fault matrix case 7 (docs/reliability.md; beyond issue 5's six cases):
# JetStream loses its quorum while the router's NATS connection stays up.
# `kill -9` the two NATS nodes the router is not connected to, for 20 s.
# Every publish then fails with "no responders" (the stream has no leader)
# although NATS is connected. That is an outage, not a bad event: the
# router must back off and wait, not spend its retry budget and dead-letter
# the events. Retries are shortened here (backoff_max_ms 1000: the budget of
# 10 attempts lasts ~8 s instead of ~33 s) so 20 s is well past it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/fault_lib.sh"
# It runs at the matrix's 5 s duplicate window, 4 times shorter than the
# outage: publishes the stream leader took but could not commit stay in its
# log, and it commits them when the quorum returns. A recheck before a late
# retry that ran early in that recovery missed them once and stored 7 events
# twice; retries not found now wait until JetStream has stored a publish
# sent after them, or rechecks have succeeded for 10 s (resume.h,
# resume_settled; docs/reliability.md, "Past the duplicate window").
fault_begin 7 nats_quorum_loss_20s 6
fault_router_start a 19290 "retry:
  max_attempts: 10
  backoff_initial_ms: 100
  backoff_max_ms: 1000"
mapfile -t on < <(fault_router_nats_nodes)
[[ ${#on[@]} -eq 1 ]] || er_fail "router connected to '${on[*]}', want one node"
victims=()
for n in nats-1 nats-2 nats-3; do [[ $n == "${on[0]}" ]] || victims+=("$n"); done
fault_note "router connected to ${on[0]}; killed ${victims[*]}"

fault_load 60000 2000
er_wait_until 20 fault_published_over a 2000 || er_fail "router published nothing"
fault_mark start
fault_cluster kill "${victims[@]}"
for ((i = 0; i < 20; i++)); do
    sleep 1
    fault_alive a
done
er_assert_eq "$(fault_metric a er_nats_connected)" 1 "NATS connection stayed up (only JetStream was down)"
dead=$(fault_metric a er_events_dead_lettered_total)
fault_note "dead-lettered while JetStream had no quorum: ${dead:-0}" # fault_finish asserts 0
fault_mark end
fault_cluster start "${victims[@]}"
fault_wait_stream 60
fault_finish 180
er_pass
