#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Static membership (group.instance.id from an environment variable, as a pod
# name would be): a replica restarted within the session timeout gets its
# partitions back without a rebalance, so the other replica keeps its own
# partitions untouched (no revoke, no re-assign in its log) and nothing is
# lost or stored twice meanwhile.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 4
export IT_KAFKA_EXTRA="  group_instance_id_env: POD_NAME"
it_config "$ER_TEST_DIR/a.yaml" 19189
it_config "$ER_TEST_DIR/b.yaml" 19190

export ER_ROUTER_READY_URL=http://127.0.0.1:19190/readyz
POD_NAME=router-b er_router_start "$ER_TEST_DIR/b.yaml" "$ER_TEST_DIR/b.log"
pid_b=$ER_ROUTER_PID
er_on_exit it_kill_config "$ER_TEST_DIR/b.yaml" # if the test fails before its own stop
ER_ROUTER_PID=
export ER_ROUTER_READY_URL=http://127.0.0.1:19189/readyz
POD_NAME=router-a er_router_start "$ER_TEST_DIR/a.yaml" "$ER_TEST_DIR/a1.log"
grep -q 'instance=router-a' "$ER_TEST_DIR/a1.log" || er_fail "instance id not taken from POD_NAME"
er_wait_until 60 it_split_settled 8 19189 19190 ||
    er_fail "the two replicas did not settle on 8 partitions"
a_parts=$(it_metric 19189 er_assigned_partitions)
b_parts=$(it_metric 19190 er_assigned_partitions)
er_log "settled: A owns $a_parts, B owns $b_parts"

it_produce --count 30000 --rate 6000 --ids-out "$ER_TEST_DIR/c.raw" --run-id s1 --seed 51 \
    >"$ER_TEST_DIR/produce.json" &
producer=$!
sleep 1
b_lines=$(grep -cE 'id=SRC-000[23]' "$ER_TEST_DIR/b.log")
er_router_stop
POD_NAME=router-a er_router_start "$ER_TEST_DIR/a.yaml" "$ER_TEST_DIR/a2.log"
wait "$producer" || er_fail "producer failed"
it_wait_committed 60 >/dev/null || er_fail "offsets not committed to the end"

er_assert_eq "$(grep -cE 'id=SRC-000[23]' "$ER_TEST_DIR/b.log")" "$b_lines" \
    "replica B saw no revoke or assignment while A restarted"
er_assert_eq "$(it_metric 19189 er_assigned_partitions)" "$a_parts" "A got its partitions back"
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical") || er_fail "stream: $v"
er_router_stop
kill -TERM "$pid_b"
st=0
wait "$pid_b" || st=$?
er_assert_eq "$st" 0 "replica B exits 0"
er_pass
