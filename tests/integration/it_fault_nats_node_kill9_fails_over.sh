#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fault matrix case 2 (docs/reliability.md): `kill -9` the NATS node that
# leads the stream under a steady load, restart it a few seconds later. The
# stream (R3) elects a new leader among the two survivors; the router's
# unacknowledged publishes time out or fail and are retried (deduplicated by
# Nats-Msg-Id), its connection fails over if it was on that node, and it
# keeps going without a restart: every critical event is stored exactly once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/fault_lib.sh"
fault_begin 2 nats_node_kill9 6
victim=nats-2
fault_make_stream_leader "$victim"
fault_router_start a 19282
fault_note "stream leader $victim killed; router connected to $(fault_router_nats_nodes | paste -sd,)"

fault_load 60000 5000
er_wait_until 20 fault_published_over a 2000 || er_fail "router published nothing"
fault_mark start
fault_cluster kill "$victim"
sleep 5
fault_alive a
fault_mark end
fault_cluster start "$victim"
fault_alive a
fault_note "new stream leader $(fault_stream_leader)"
fault_finish 120
er_pass
