#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two replicas in one consumer group split the partitions between them and
# together store every critical event exactly once, including events
# produced while the second replica joins (a rebalance under load).
# IT_GROUP_PROTOCOL (consumer by default) is the group protocol both use
# and that their logs must show; it_router_classic_protocol_* runs this
# with the classic one.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 6
protocol=${IT_GROUP_PROTOCOL:-consumer}
[[ $protocol == consumer ]] || export IT_KAFKA_EXTRA="    - group.protocol=$protocol"
it_config "$ER_TEST_DIR/a.yaml" 19183
it_config "$ER_TEST_DIR/b.yaml" 19184

export ER_ROUTER_READY_URL=http://127.0.0.1:19183/readyz
er_router_start "$ER_TEST_DIR/a.yaml" "$ER_TEST_DIR/a.log"
pid_a=$ER_ROUTER_PID
er_on_exit it_kill_config "$ER_TEST_DIR/a.yaml" # if the test fails before its own stop
er_on_fail tail -n 25 "$ER_TEST_DIR/a.log"

it_produce --count 40000 --rate 8000 --ids-out "$ER_TEST_DIR/c.raw" --run-id t1 --seed 21 \
    >"$ER_TEST_DIR/produce.json" &
producer=$!
sleep 1.5
export ER_ROUTER_READY_URL=http://127.0.0.1:19184/readyz
ER_ROUTER_PID=
# B is ready once it has joined (an assignment, even an empty one). That
# takes about a second here; its time is logged, and the generous timeout
# leaves a slow join to the split check below, which shows the group's
# history from the broker if it never settles.
t0=$EPOCHREALTIME
ER_ROUTER_START_TIMEOUT=90 er_router_start "$ER_TEST_DIR/b.yaml" "$ER_TEST_DIR/b.log"
pid_b=$ER_ROUTER_PID
er_log "replica B ready after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s"
wait "$producer" || er_fail "producer failed: $(cat "$ER_TEST_DIR/produce.json")"

it_wait_committed 90 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "offsets not committed to the end: $(cat "$ER_TEST_DIR/offsets.json")"
er_wait_until 60 it_split_settled 12 19183 19184 ||
    er_fail "the two replicas do not share the 12 partitions after 60 s" \
        "(A=$(it_metric 19183 er_assigned_partitions) B=$(it_metric 19184 er_assigned_partitions))"
er_log "replica A owns $(it_metric 19183 er_assigned_partitions) partitions," \
    "replica B owns $(it_metric 19184 er_assigned_partitions)"

it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical" --check-subjects) ||
    er_fail "stream content: $v"
er_assert_eq "$(er_json missing "$v")" 0 "no critical event missing"
er_assert_eq "$(er_json duplicates "$v")" 0 "no critical event stored twice"
for r in a b; do
    grep -q "id=SRC-0001 .*group_protocol=$protocol " "$ER_TEST_DIR/$r.log" ||
        er_fail "replica $r did not join with the $protocol protocol: $(grep 'id=SRC-0001' "$ER_TEST_DIR/$r.log")"
    grep -q 'id=SRC-0002 .*incremental=true' "$ER_TEST_DIR/$r.log" ||
        er_fail "replica $r was not assigned incrementally: $(grep -m1 'id=SRC-0002' "$ER_TEST_DIR/$r.log")"
done

kill -TERM "$pid_a" "$pid_b"
for pid in "$pid_a" "$pid_b"; do
    st=0
    wait "$pid" || st=$?
    er_assert_eq "$st" 0 "replica $pid exits 0 on SIGTERM"
done
ER_ROUTER_PID=
er_pass
