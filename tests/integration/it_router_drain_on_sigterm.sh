#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SIGTERM during a steady load: the router stops reading, waits for its
# in-flight PubAcks, commits, leaves the group and exits 0. Each partition's
# committed offset is then the offset after its last acknowledged event:
# nothing it committed is missing from JetStream (no commit ran ahead of an
# ack) and nothing it stored is above the commit (no ack was left
# uncommitted). A partition with no commit counts as nothing committed: the
# load runs on the officer topic only and the incident topic gets its events
# after the stop, so its partitions always have none. A second router picks
# up exactly where the first stopped: produced = stored, nothing twice.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 4
it_config "$ER_TEST_DIR/router.yaml" 19185
export ER_ROUTER_READY_URL=http://127.0.0.1:19185/readyz

er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router1.log"
it_produce --topics "$IT_OFFICER" --count 60000 --rate 15000 --all-ids-out "$ER_TEST_DIR/all" \
    --ids-out "$ER_TEST_DIR/c.raw" --run-id d1 --seed 31 >"$ER_TEST_DIR/produce.json" &
producer=$!
sleep 2
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0 after SIGTERM under load"
drained=$(grep 'id=RTR-0503' "$ER_TEST_DIR/router1.log") || er_fail "no 'drained and committed' line in the log"
[[ $drained == *' pending=0'* ]] || er_fail "the drain left events unacknowledged: $drained"

# What was committed at the stop, per partition; -1 where nothing was
# (er_admin prints null), so no event of that partition is below it.
off=$(er_tool er_admin offsets --group "$IT_GROUP" --topic "$IT_OFFICER,$IT_INCIDENT")
jq -r '.topics[] | .topic as $t | .partitions[] | "\($t)\t\(.partition)\t\(.committed // -1)"' \
    <<<"$off" | sort >"$ER_TEST_DIR/committed"
committed_total=$(er_json committed_total "$off")
er_log "committed at SIGTERM: $committed_total records"
[[ $committed_total -gt 0 ]] || er_fail "nothing committed before the stop (test too fast?)"

# The router's own watermark at release (SRC-0003, -1 = nothing acknowledged)
# is what the broker holds: no partition's last acknowledgement went uncommitted.
sed -n 's/.*id=SRC-0003 .* topic=\([^ ]*\) partition=\([0-9]*\) committed=\(-\{0,1\}[0-9]*\).*/\1\t\2\t\3/p' \
    "$ER_TEST_DIR/router1.log" | sort >"$ER_TEST_DIR/released"
diff "$ER_TEST_DIR/released" "$ER_TEST_DIR/committed" >&2 ||
    er_fail "committed offsets differ from the router's acknowledged watermarks (diff above: < router, > broker)"

# Events the first router never read; the second router must route them.
er_tool er_produce --topics "$IT_INCIDENT" --quiet --count 4000 --all-ids-out "$ER_TEST_DIR/all2" \
    --ids-out "$ER_TEST_DIR/c2.raw" --run-id d2 --seed 32 >"$ER_TEST_DIR/produce2.json" ||
    er_fail "second producer failed"
wait "$producer" || er_fail "producer failed"
cat "$ER_TEST_DIR/all2" >>"$ER_TEST_DIR/all"
cat "$ER_TEST_DIR/c2.raw" >>"$ER_TEST_DIR/c.raw"
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
# The critical events below the committed offsets must all be in the stream;
# none at or above them may be (each was read after the last acknowledgement).
awk -v below="$ER_TEST_DIR/below" -v above="$ER_TEST_DIR/above" '
    BEGIN { FS = OFS = "\t" }
    NR == FNR { c[$1 "/" $2] = $3 + 0; next }
    !(($3 "/" $4) in c) { print "no committed offset listed for " $3 "/" $4 > "/dev/stderr"; exit 1 }
    { print > ($5 + 0 < c[$3 "/" $4] ? below : above) }' \
    "$ER_TEST_DIR/committed" "$ER_TEST_DIR/critical" || er_fail "partition list mismatch"
below=$(wc -l <"$ER_TEST_DIR/below")
above=$(wc -l <"$ER_TEST_DIR/above")
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/below" --allow-unexpected) ||
    er_fail "a committed event is missing from JetStream: $v"
er_assert_eq "$(er_json missing "$v")" 0 "every critical event below the commit is stored ($below)"
rc=0
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/above" --allow-unexpected) || rc=$?
[[ $rc -le 1 ]] || er_fail "reading the stream failed: $v"
er_assert_eq "$(($(er_json expected "$v") - $(er_json missing "$v")))" 0 \
    "no critical event at or above the commit is stored ($above checked)"

# A second router finishes the job: produced = stored, nothing twice.
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router2.log"
it_wait_committed 90 >/dev/null || er_fail "second router did not commit to the end"
er_router_stop
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical") || er_fail "final: $v"
er_log "produced $(wc -l <"$ER_TEST_DIR/all"), critical $(wc -l <"$ER_TEST_DIR/critical"), stored $(er_json stored "$v"), committed before stop $committed_total"
er_assert_eq "$(er_json duplicates "$v")" 0 "no event stored twice across the stop"
er_pass
