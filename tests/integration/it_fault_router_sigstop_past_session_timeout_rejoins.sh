#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fault matrix case 6 (docs/reliability.md): two replicas; SIGSTOP one for
# longer than session.timeout.ms (10 s here), under a steady load. The group
# gives its partitions to the other replica. On SIGCONT the frozen replica
# learns that its assignment was lost, releases it without committing
# (log id SRC-0004; any commit it still attempts carries the old generation
# and the broker refuses it), and rejoins: both own partitions again. No
# committed offset ever goes backwards (sampled every 0.5 s), and every
# critical event is stored exactly once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/fault_lib.sh"
fault_begin 6 router_sigstop_past_session_timeout 6
session_s=10 # it_config: session.timeout.ms=10000
fault_router_start a 19288
fault_router_start b 19289
er_wait_until 30 fault_split a b || er_fail "the replicas do not share the partitions"

fault_load 60000 3000
er_wait_until 20 fault_published_over b 1000 || er_fail "replica b published nothing"
a_before=$(fault_assigned a) b_before=$(fault_assigned b)
pid_b=${FAULT_PID[b]}
fault_mark start
kill -STOP "$pid_b"
stopped_at=$SECONDS
er_log "replica b (pid $pid_b, $b_before partitions) stopped with SIGSTOP"
er_wait_until $((session_s + 25)) fault_owns a 12 ||
    er_fail "replica a did not take over b's partitions (a owns $(fault_assigned a))"
takeover=$((SECONDS - stopped_at))
er_log "replica a took over all 12 partitions ${takeover}s after the SIGSTOP"
sleep $((session_s + 3 - (SECONDS - stopped_at) > 0 ? session_s + 3 - (SECONDS - stopped_at) : 0))
fault_sample_commits_fast 8 # a stale commit from b would show right after this
fault_mark end
kill -CONT "$pid_b"
er_log "replica b continued after $((SECONDS - stopped_at))s"

lost() { grep -q 'id=SRC-0004' "$ER_TEST_DIR/b.log"; }
er_wait_until 20 lost || er_fail "replica b did not report its lost assignment (SRC-0004)"
er_wait_until 40 fault_split a b ||
    er_fail "replica b did not rejoin: a=$(fault_assigned a) b=$(fault_assigned b)"
fault_alive a
fault_alive b
# Commits b still tried for the old generation: refused by the broker.
fenced=$(grep -c 'facility=COMMITFAIL' "$ER_TEST_DIR/b.log" || true)
fault_note "before: a=$a_before b=$b_before; a owned 12 after ${takeover}s; b released without commit (SRC-0004), $fenced refused commit attempts logged; after rejoin a=$(fault_assigned a) b=$(fault_assigned b)"
fault_finish 180
er_pass
