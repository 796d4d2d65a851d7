#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fault matrix case 3 (docs/reliability.md): the whole NATS cluster stops for
# 30 s under a steady load. The router stays up, reports not-ready with a
# reason naming NATS, pauses every assigned partition (consumption stops),
# commits nothing that JetStream has not acknowledged, and resumes by itself
# when NATS is back (no restart), ready again within 60 s: every critical
# event is stored exactly once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/fault_lib.sh"
fault_begin 3 nats_outage_30s 6
port=19283
fault_router_start a "$port"
pid=${FAULT_PID[a]}

# 40 s of load: before, during and after the outage.
fault_load 60000 1500
er_wait_until 20 fault_published_over a 2000 || er_fail "router published nothing"
fault_mark start
fault_cluster stop nats-1 nats-2 nats-3
down_at=$EPOCHREALTIME

# While NATS is down -----------------------------------------------------------
readyz() { curl -s --max-time 2 -o "$ER_TEST_DIR/readyz" -w '%{http_code}' "http://127.0.0.1:$port/readyz"; }
not_ready_for_nats() { [[ $(readyz) == 503 ]] && grep -q NATS "$ER_TEST_DIR/readyz"; }
er_wait_until 10 not_ready_for_nats ||
    er_fail "/readyz did not answer 503 naming NATS: $(readyz) $(cat "$ER_TEST_DIR/readyz")"
er_log "/readyz: 503 $(tr '\n' ' ' <"$ER_TEST_DIR/readyz")"
assigned=$(fault_metric a er_assigned_partitions)
er_assert_eq "$assigned" 12 "the single replica owns all partitions"
all_paused() { [[ $(fault_metric a er_paused_partitions) == "$assigned" ]]; }
er_wait_until 10 all_paused ||
    er_fail "er_paused_partitions=$(fault_metric a er_paused_partitions), want $assigned"
# Let the last in-flight commits land, then freeze the picture.
sleep 3
consumed1=$(fault_metric a er_events_consumed_total)
er_tool er_admin offsets --group "$IT_GROUP" --topic "$IT_OFFICER,$IT_INCIDENT" |
    jq -r '.topics[] | .topic as $t | .partitions[] | "\($t)\t\(.partition)\t\(.committed // 0)"' \
        >"$ER_TEST_DIR/committed.down"
er_log "down: consumed $consumed1, committed $(awk '{s += $3} END {print s}' "$ER_TEST_DIR/committed.down")"

while awk -v a="$down_at" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 30) }'; do
    fault_alive a
    all_paused || er_fail "a partition was resumed while NATS is down"
    sleep 1
done
consumed2=$(fault_metric a er_events_consumed_total)
er_assert_eq "$consumed2" "$consumed1" "records consumed while NATS is down (paused)"
er_tool er_admin offsets --group "$IT_GROUP" --topic "$IT_OFFICER,$IT_INCIDENT" |
    jq -r '.topics[] | .topic as $t | .partitions[] | "\($t)\t\(.partition)\t\(.committed // 0)"' \
        >"$ER_TEST_DIR/committed.down2"
cmp -s "$ER_TEST_DIR/committed.down" "$ER_TEST_DIR/committed.down2" ||
    er_fail "committed offsets moved while NATS was down: $(diff "$ER_TEST_DIR/committed.down" "$ER_TEST_DIR/committed.down2" | head -n 6)"

# NATS back -----------------------------------------------------------------------
fault_mark end
fault_cluster start nats-1 nats-2 nats-3
back_at=$EPOCHREALTIME
fault_alive a
er_assert_eq "${FAULT_PID[a]}" "$pid" "the same router process (no restart)"
# `cluster start` waits until every stream a node lists has a leader
# (JetStream's /healthz alone says ok before that), but a node that has not
# recovered its streams yet lists none, so under load the election can
# still be under way: give it a bounded wait.
fault_wait_stream 30
# Ready again by itself: the first PubAcks clear the stuck-partition reason
# (bounded by the ack timeout plus one retry backoff, ~16 s).
ready_again() { [[ $(readyz) == 200 ]]; }
er_wait_until 60 ready_again ||
    er_fail "/readyz not 200 within 60 s of NATS being back: $(readyz) $(tr '\n' ' ' <"$ER_TEST_DIR/readyz")"
fault_note "ready again $(awk -v a="$back_at" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s after NATS was back"

# What was committed while NATS was down must all be in the stream.
fault_wait_load 120
it_prefixed "$ER_TEST_DIR/critical.raw" "$ER_TEST_DIR/critical"
awk 'BEGIN { FS = OFS = "\t" } NR == FNR { c[$1 "/" $2] = $3; next }
     ($3 "/" $4) in c && $5 < c[$3 "/" $4]' "$ER_TEST_DIR/committed.down" \
    "$ER_TEST_DIR/critical" >"$ER_TEST_DIR/below"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/below" --allow-unexpected 2>/dev/null) ||
    er_fail "an event committed during the outage is not in the stream: $v"
fault_note "committed while down: $(wc -l <"$ER_TEST_DIR/below") critical events, all stored before the outage"
fault_finish 180
er_pass
