#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fault matrix case 8 (docs/reliability.md): `kill -9` the node that leads
# the stream, restart it, then kill the next leader too, under a steady
# keyed load. Each leader change fails or times out the publishes in flight;
# they are retried while later events keep being read. With `ordering: key`
# (the default) no event may be stored before an earlier event of its Kafka
# key in the same partition: fault_finish checks that per key, beside
# "nothing missing, nothing stored twice". IT_ORDERING=none runs the same
# case without the guarantee, to show what it prevents (the violations are
# then recorded, not failed).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/fault_lib.sh"
fault_begin 8 stream_leader_kill9_twice 6
first=nats-2
fault_make_stream_leader "$first"
fault_router_start a 19291
fault_note "ordering ${IT_ORDERING:-key}; router connected to $(fault_router_nats_nodes | paste -sd,)"

# 1,000 aggregates (500 per domain): ~20 events per key.
FAULT_AGGREGATES=500 fault_load 20000 700 # ~29 s: the load outlasts both leader changes
er_wait_until 20 fault_published_over a 2000 || er_fail "router published nothing"
fault_mark start
fault_cluster kill "$first"
sleep 4
fault_alive a
fault_cluster start "$first"
fault_wait_stream 30
second=$(fault_stream_leader)
[[ -n $second && $second != "$first" ]] || er_fail "no new stream leader after $first was killed"
er_wait_until 20 fault_published_over a "$(($(fault_published a) + 2000))" ||
    er_fail "router published nothing after the first leader change"
fault_cluster kill "$second"
sleep 4
fault_alive a
fault_mark end
fault_cluster start "$second"
fault_alive a
fault_note "leaders killed: $first, then $second; now $(fault_stream_leader)"
fault_note "waits for a key: $(fault_metric a 'er_order_waits_total{ordering="key"}'), retries: $(fault_metric a er_publish_retries_total)"
fault_finish 120
er_pass
