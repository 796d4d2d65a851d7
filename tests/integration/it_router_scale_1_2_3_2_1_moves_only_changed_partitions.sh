#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Scale the router 1 -> 2 -> 3 -> 2 -> 1 replicas under a steady load. At
# every step a replica that stays gives up only the partitions that change
# owner: what it releases (SRC-0003 in its log) is exactly what it owned
# before the step and not after, and er_partitions_revoked_total{how=
# "revoked"} counts the same number. The partitions it keeps never stop.
# Every critical event is stored once, none is missing.
#
# IT_SCALE_PROTOCOL picks the group protocol: consumer (KIP-848, the
# default), cooperative (classic with cooperative-sticky) or eager (classic
# with range, what librdkafka 2.0.2 gave). eager releases everything at
# every step, so that run records the steps without asserting the "only the
# moved ones" rule; bench/scaling_pause.sh runs it to compare the pauses.
# IT_SCALE_OUT=DIR keeps the step table, the logs and a dump of the stream.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/fault_lib.sh"
er_require_clusters
it_world 6
er_on_exit _fault_cleanup
FAULT_N=scale # fault_load: the run id of the events

protocol=${IT_SCALE_PROTOCOL:-consumer}
case $protocol in
consumer) ;;
cooperative) export IT_KAFKA_EXTRA="    - group.protocol=classic" ;;
eager) export IT_KAFKA_EXTRA=$'    - group.protocol=classic\n    - partition.assignment.strategy=range' ;;
*) er_fail "IT_SCALE_PROTOCOL: consumer, cooperative or eager, not '$protocol'" ;;
esac
declare -A port=([a]=19221 [b]=19222 [c]=19223)
for r in a b c; do er_on_fail tail -n 15 "$ER_TEST_DIR/$r.log"; done
steps=$ER_TEST_DIR/steps.tsv
printf 'step\tt_action\tt_settled\tmoved\treleased_by_stayers\treleased\n' >"$steps"

# owned NAME - the partitions replica NAME owns now, one "topic[p]" per
# line, from its log (SRC-0002 assigned, SRC-0003 released).
owned() {
    awk '/id=SRC-000[23] / {
            t = p = ""
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^topic=/) t = substr($i, 7)
                if ($i ~ /^partition=/) p = substr($i, 11)
            }
            k = t "[" p "]"
            if ($0 ~ /id=SRC-0002 /) have[k] = 1; else delete have[k]
        }
        END { for (k in have) print k }' "$ER_TEST_DIR/$1.log" | sort
}
# released_after NAME LINE - the partitions NAME released after log line LINE.
released_after() {
    tail -n "+$(($2 + 1))" "$ER_TEST_DIR/$1.log" | awk '/id=SRC-0003 / {
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^topic=/) t = substr($i, 7)
                if ($i ~ /^partition=/) p = substr($i, 11)
            }
            print t "[" p "]"
        }' | sort
}
revoked() { it_metric "${port[$1]}" 'er_partitions_revoked_total{how="revoked"}'; }
lines() { wc -l <"$ER_TEST_DIR/$1.log"; }

# scale_step LABEL "STAYERS" "AFTER" ACTION... - run ACTION, wait until the
# replicas AFTER share the 12 partitions, then check each replica in
# STAYERS (alive before and after) released exactly what it lost.
scale_step() {
    local label=$1 stayers=$2 after=$3 r t0 t1
    shift 3
    declare -A before_set=() before_line=() before_rev=()
    for r in $stayers; do
        before_set[$r]=$(owned "$r")
        before_line[$r]=$(lines "$r")
        before_rev[$r]=$(revoked "$r")
    done
    declare -A all_line=()
    for r in a b c; do [[ -f $ER_TEST_DIR/$r.log ]] && all_line[$r]=$(lines "$r"); done
    t0=$EPOCHREALTIME
    "$@"
    local ports=() n=0
    for r in $after; do ports+=("${port[$r]}") && n=$((n + 1)); done
    if ((n == 1)); then
        er_wait_until 60 fault_owns "$after" 12 ||
            er_fail "$label: $after owns $(fault_assigned "$after") partitions, want 12"
    else
        er_wait_until 60 it_split_settled 12 "${ports[@]}" ||
            er_fail "$label: replicas $after do not share the 12 partitions"
    fi
    t1=$EPOCHREALTIME
    sleep 1 # the gauges lag the log by up to a second; let both settle
    local moved stayer_rel=0 rel all_released
    all_released=$(for r in "${!all_line[@]}"; do released_after "$r" "${all_line[$r]}"; done)
    moved=$(sort -u <<<"$all_released" | grep -c . || true)
    for r in $stayers; do
        local lost released rev
        lost=$(comm -23 <(echo "${before_set[$r]}") <(owned "$r") | grep -c . || true)
        released=$(released_after "$r" "${before_line[$r]}" | grep -c . || true)
        rev=$(($(revoked "$r") - ${before_rev[$r]}))
        stayer_rel=$((stayer_rel + released))
        er_log "$label: replica $r owned $(echo "${before_set[$r]}" | grep -c .), now $(owned "$r" | grep -c .); released $released, lost $lost, revoked metric +$rev"
        er_assert_eq "$rev" "$released" "$label: replica $r: er_partitions_revoked_total counts what its log released"
        if [[ $protocol != eager ]]; then
            er_assert_eq "$released" "$lost" \
                "$label: replica $r releases only the partitions it no longer owns"
        fi
    done
    rel=$(grep -c . <<<"$all_released" || true)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$t0" "$t1" "$moved" "$stayer_rel" "$rel" >>"$steps"
}

start_replica() { fault_router_start "$1" "${port[$1]}"; }

fault_load 100000 2500 15 # 40 s: longer than the four steps take
start_replica a
er_wait_until 20 fault_published_over a 1000 || er_fail "replica a published nothing"
sleep 1
scale_step "1->2" "a" "a b" start_replica b
sleep 2
scale_step "2->3" "a b" "a b c" start_replica c
sleep 2
scale_step "3->2" "a b" "a b" fault_router_stop c
sleep 2
scale_step "2->1" "a" "a" fault_router_stop b
fault_wait_load 120
it_wait_committed 90 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "offsets not committed to the end: $(cat "$ER_TEST_DIR/offsets.json")"

it_prefixed "$ER_TEST_DIR/critical.raw" "$ER_TEST_DIR/critical"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical") || er_fail "stream content: $v"
er_log "protocol $protocol: steps (moved partitions, released by the replicas that stayed):"
column -t "$steps" >&2
if [[ -n ${IT_SCALE_OUT:-} ]]; then
    mkdir -p "$IT_SCALE_OUT"
    cp "$steps" "$ER_TEST_DIR"/[abc].log "$IT_SCALE_OUT/"
    er_tool er_js dump "$IT_STREAM" >"$IT_SCALE_OUT/stream.jsonl"
fi
er_assert_eq "$(er_json missing "$v")" 0 "no critical event missing"
er_assert_eq "$(er_json duplicates "$v")" 0 "no critical event stored twice"
er_assert_eq "$(er_tool er_admin end-offsets --topic "$IT_DLQ" | jq .end_total)" 0 "nothing dead-lettered"
fault_alive a
fault_router_stop a
er_pass
