#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shutdown with work that cannot finish (its subject has no stream, so the
# publish keeps being retried): the first SIGTERM starts a bounded drain, a
# second SIGTERM exits at once with status 130, and nothing unacknowledged
# was committed: the stuck event's offset is still ahead of the commit.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 1
sed -i -e "s|subject: \"$IT_PREFIX.commands.|subject: \"er-nostream-$IT_PREFIX.commands.|" "$IT_RULES"
it_config "$ER_TEST_DIR/router.yaml" 19198 "retry:
  max_attempts: 1000
  backoff_initial_ms: 100
  backoff_max_ms: 200"
export ER_ROUTER_READY_URL=http://127.0.0.1:19198/readyz
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"
printf '{"eventId":"stuck-1","eventType":"RegisterOfficerRequested","aggregateType":"Officer"}' |
    kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$IT_OFFICER" -p 0 -k stuck -X acks=all
er_wait_until 20 sh -c "[ \$(curl -fsS localhost:19198/metrics | awk '/^er_publish_retries_total/{print \$2}') -gt 2 ]" ||
    er_fail "the stuck publish is not being retried"

kill -TERM "$ER_ROUTER_PID"
sleep 1
kill -0 "$ER_ROUTER_PID" || er_fail "the router exited before the drain timeout with work pending"
t0=$EPOCHREALTIME
kill -TERM "$ER_ROUTER_PID"
er_router_wait_exit 5 || er_fail "a second SIGTERM did not end the router within 5 s"
dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
er_log "exited ${dt}s after the second SIGTERM with status $ER_ROUTER_STATUS"
er_assert_eq "$ER_ROUTER_STATUS" 130 "second signal: exit status 130"
c=$(er_tool er_admin offsets --group "$IT_GROUP" --topic "$IT_OFFICER" | jq -r '.topics[0].partitions[0].committed')
[[ $c -le 0 ]] || er_fail "the unacknowledged event's offset was committed (committed=$c)"
er_pass
