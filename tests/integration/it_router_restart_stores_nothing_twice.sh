#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Restart over the same data: stopping the router and starting it again does
# not change the stream's message count, neither with the same consumer group
# (nothing is re-read past the commits) nor with a new group that re-reads
# every event from the start (JetStream's duplicate window absorbs them all,
# and the router counts them as duplicates).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 3
it_config "$ER_TEST_DIR/router.yaml" 19182
export ER_ROUTER_READY_URL=http://127.0.0.1:19182/readyz

it_produce --count 9000 --ids-out "$ER_TEST_DIR/c.raw" --run-id r1 --seed 11 >/dev/null
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
critical=$(wc -l <"$ER_TEST_DIR/critical")

er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router1.log"
it_wait_committed 60 >/dev/null || er_fail "first run did not commit everything"
er_router_stop
count() { er_json messages "$(er_tool er_js stream-info "$IT_STREAM")"; }
first=$(count)
er_assert_eq "$first" "$critical" "first run stored every critical event once"

# Same group: starts from the commits, reads nothing again.
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router2.log"
sleep 3
er_assert_eq "$(it_metric 19182 er_events_consumed_total)" 0 "same group re-reads nothing"
er_router_stop
er_assert_eq "$(count)" "$first" "stream count unchanged after a restart"

# New group: replays everything; every publish is a duplicate.
IT_GROUP="$IT_GROUP-replay"
it_config "$ER_TEST_DIR/replay.yaml" 19182
er_router_start "$ER_TEST_DIR/replay.yaml" "$ER_TEST_DIR/router3.log"
it_wait_committed 60 >/dev/null || er_fail "replay did not commit everything"
dups=$(it_metric 19182 er_events_duplicate_total)
new=$(it_metric 19182 er_events_published_total)
er_router_stop
er_assert_eq "$(count)" "$first" "stream count unchanged after a full replay"
er_assert_eq "$dups" "$critical" "every replayed critical event was acknowledged as a duplicate"
er_assert_eq "$new" 0 "no replayed event was stored again"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical") || er_fail "verify: $v"
er_pass
