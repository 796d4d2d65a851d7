#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fault matrix case 9 (docs/reliability.md): SIGSTOP the node that leads the
# stream for 10 s under a steady keyed load, then SIGCONT it. The frozen
# leader answers nothing: the publishes it holds time out (ack_timeout_ms
# 2000 here) and are retried, while the two other nodes elect a new leader
# and later events are stored. The retried events are older than those
# later ones; with `ordering: key` (the default) a later event of the same
# key waits for them, so no key is reordered (checked per key, beside
# "nothing missing, nothing stored twice"). IT_ORDERING=none shows the
# reordering this prevents (recorded, not failed).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/fault_lib.sh"
fault_begin 9 stream_leader_sigstop_10s 6
IT_ACK_TIMEOUT_MS=2000 fault_router_start a 19292
# The stream leader frozen here is never the node the router is connected
# to: that would freeze the router's own connection, with its retries in
# it, a different fault (docs/reliability.md, "Past the duplicate window").
conn=$(fault_router_nats_nodes | paste -sd,)
victim=nats-3
[[ $conn == *nats-3* ]] && victim=nats-2
[[ $conn == *"$victim"* ]] && er_fail "router connected to $conn: no other node to freeze"
fault_make_stream_leader "$victim"
fault_note "ordering ${IT_ORDERING:-key}; router connected to $conn"

# 1,000 aggregates (500 per domain): ~20 events per key.
FAULT_AGGREGATES=500 fault_load 20000 1000 # 20 s: outlasts the 10 s freeze
er_wait_until 20 fault_published_over a 2000 || er_fail "router published nothing"
fault_mark start
fault_cluster pause "$victim"
sleep 10
fault_alive a
fault_mark end
fault_cluster resume "$victim"
fault_alive a
fault_note "stream leader $victim frozen 10 s; now $(fault_stream_leader)"
fault_note "waits for a key: $(fault_metric a 'er_order_waits_total{ordering="key"}'), retries: $(fault_metric a er_publish_retries_total)"
fault_finish 120
er_pass
