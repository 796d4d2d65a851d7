#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fault matrix case 4 (docs/reliability.md): `kill -9` one Kafka broker
# (topics RF 3, min.insync.replicas 2, producer acks=all + idempotence)
# under a steady load, restart it a few seconds later. Leadership of its
# partitions moves to the survivors once the controller fences it; the
# producer and the router's consumer follow; the group coordinator may move
# too. Nothing acknowledged to the producer is lost, the router needs no
# restart, and every critical event is stored exactly once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/fault_lib.sh"
fault_begin 4 kafka_broker_kill9 6
victim=kafka-2
id=${victim#kafka-}
led=$(for t in "$IT_OFFICER" "$IT_INCIDENT"; do er_tool er_admin describe-topic "$t"; done |
    jq -s --argjson id "$id" '[.[].partitions[] | select(.leader == $id)] | length')
fault_router_start a 19284
fault_note "$victim led $led of the 12 partitions"

fault_load 60000 4000
er_wait_until 20 fault_published_over a 2000 || er_fail "router published nothing"
fault_mark start
fault_cluster kill "$victim"
sleep 6
fault_alive a
fault_mark end
fault_cluster start "$victim"
fault_alive a
# Whether the victim also coordinated the group decides the cost: then the
# consumer loses its coordinator until the controller fences the broker,
# and with session.timeout.ms=10000 its session may time out (SRC-0004).
port=$(jq -r --arg n "$victim" '.nodes[] | select(.node == $n) | .port' \
    <<<"$("$FAULT_CLUSTER" status --json)")
if grep -q "GroupCoordinator: 127.0.0.1:$port: Disconnected" "$ER_TEST_DIR/a.log"; then
    fault_note "$victim was the group coordinator"
fi
grep -q 'id=SRC-0004' "$ER_TEST_DIR/a.log" && fault_note "the router's session timed out (SRC-0004) and it rejoined"
fault_finish 180
er_pass
