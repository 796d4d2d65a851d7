#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SIGTERM during a steady load: the router stops reading, waits for its
# in-flight PubAcks, commits, leaves the group and exits 0. Nothing it
# committed is missing from JetStream (no commit ran ahead of an ack), and a
# second router picks up exactly where the first stopped: produced = stored.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 4
it_config "$ER_TEST_DIR/router.yaml" 19185
export ER_ROUTER_READY_URL=http://127.0.0.1:19185/readyz

er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router1.log"
it_produce --count 60000 --rate 15000 --all-ids-out "$ER_TEST_DIR/all" \
    --ids-out "$ER_TEST_DIR/c.raw" --run-id d1 --seed 31 >"$ER_TEST_DIR/produce.json" &
producer=$!
sleep 2
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0 after SIGTERM under load"
grep -q 'id=RTR-0503' "$ER_TEST_DIR/router1.log" || er_fail "no 'drained and committed' line in the log"

# What was committed at the stop, per partition.
off=$(er_tool er_admin offsets --group "$IT_GROUP" --topic "$IT_OFFICER,$IT_INCIDENT")
jq -r '.topics[] | .topic as $t | .partitions[] | "\($t)\t\(.partition)\t\(.committed)"' \
    <<<"$off" >"$ER_TEST_DIR/committed"
committed_total=$(er_json committed_total "$off")
er_log "committed at SIGTERM: $committed_total records"
[[ $committed_total -gt 0 ]] || er_fail "nothing committed before the stop (test too fast?)"

wait "$producer" || er_fail "producer failed"
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
# The critical events below the committed offsets must all be in the stream.
awk 'BEGIN{FS=OFS="\t"} NR==FNR { c[$1 "/" $2] = $3; next }
     ($3 "/" $4) in c && $5 < c[$3 "/" $4]' "$ER_TEST_DIR/committed" "$ER_TEST_DIR/critical" \
    >"$ER_TEST_DIR/below"
below=$(wc -l <"$ER_TEST_DIR/below")
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/below" --allow-unexpected) ||
    er_fail "a committed event is missing from JetStream: $v"
er_assert_eq "$(er_json missing "$v")" 0 "every critical event below the commit is stored ($below)"

# A second router finishes the job: produced = stored, nothing twice.
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router2.log"
it_wait_committed 90 >/dev/null || er_fail "second router did not commit to the end"
er_router_stop
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical") || er_fail "final: $v"
er_log "produced $(wc -l <"$ER_TEST_DIR/all"), critical $(wc -l <"$ER_TEST_DIR/critical"), stored $(er_json stored "$v"), committed before stop $committed_total"
er_assert_eq "$(er_json duplicates "$v")" 0 "no event stored twice across the stop"
er_pass
