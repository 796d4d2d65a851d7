#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fault matrix case 1 (docs/reliability.md): `kill -9` the router five times
# at random moments under a steady load, restarting it at once each time.
# A killed router commits nothing more; its successor re-reads from the last
# commit and re-publishes what was in flight, which JetStream's duplicate
# window absorbs (same Nats-Msg-Id): every critical event is stored exactly
# once. FAULT_SEED makes the kill moments reproducible.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/fault_lib.sh"
fault_begin 1 router_kill9_x5 6
seed=${FAULT_SEED:-$((10#${EPOCHREALTIME#*.} % 32768))}
RANDOM=$seed
fault_router_start a 19281

# About a minute of load, so that every kill lands while events arrive
# (each restart waits out the dead member's session, session.timeout.ms=10 s).
fault_load 60000 1000
delays=() replayed=0
for kill in 1 2 3 4 5; do
    # Kill while it works: after it published again since its (re)start,
    # then 0.2-1.9 s later (often while it catches up on the backlog).
    er_wait_until 30 fault_published_over a 100 || er_fail "router $kill did not publish"
    d=$(printf "%d.%d" $((RANDOM % 2)) $((RANDOM % 10)))
    [[ $d != 0.[01] ]] || d=0.2
    sleep "$d"
    delays+=("$d")
    ((kill > 1)) || fault_mark start
    replayed=$((replayed + $(fault_metric a er_events_duplicate_total)))
    er_log "kill $kill of 5 after ${d}s, $(fault_metric a er_inflight_events) events in flight"
    fault_router_kill a
    fault_mark end
    fault_router_start a 19281
    er_wait_until 30 fault_published_over a 0 || er_fail "restarted router published nothing"
    fault_mark recovered
done
fault_note "seed $seed; kill delays ${delays[*]} s; replays absorbed as duplicates (before the last kill): $replayed"
fault_finish 180
er_pass
