#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fault matrix case 5 (docs/reliability.md): scale the router from 1 to 3
# replicas and back to 1 under a steady load. Each step is a rebalance (with
# the consumer group protocol, only the partitions that change owner are
# revoked: their in-flight PubAcks are awaited and committed before they
# move); scale-down is a SIGTERM, as Kubernetes sends. The partitions are
# shared by all three, then all return to the survivor, and every critical
# event is stored exactly once. The step-by-step view (what each replica
# releases) is it_router_scale_1_2_3_2_1_moves_only_changed_partitions.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/fault_lib.sh"
fault_begin 5 router_scale_1_3_1 6
fault_router_start a 19285

fault_load 60000 3000
er_wait_until 20 fault_published_over a 2000 || er_fail "router published nothing"
fault_mark start
fault_router_start b 19286
fault_router_start c 19287
er_wait_until 40 fault_split a b c ||
    er_fail "the 3 replicas do not share the 12 partitions: a=$(fault_assigned a) b=$(fault_assigned b) c=$(fault_assigned c)"
fault_note "at 3 replicas: a=$(fault_assigned a) b=$(fault_assigned b) c=$(fault_assigned c) partitions"
er_wait_until 20 fault_published_over b 100 || er_fail "replica b published nothing"
er_wait_until 20 fault_published_over c 100 || er_fail "replica c published nothing"
sleep 2
fault_mark end
fault_router_stop b c
er_wait_until 30 fault_owns a 12 || er_fail "a owns $(fault_assigned a) partitions after scale-down, want 12"
fault_alive a
fault_finish 180
er_pass
