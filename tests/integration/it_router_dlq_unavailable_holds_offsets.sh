#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# When the dead-letter topic cannot take a record (here: it does not exist
# yet), the router never drops the event and never commits past it: that
# partition is held (back-pressure) while the others keep flowing. Once the
# topic exists, the dead letter is delivered and the offset moves on.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 2
missing_dlq="$IT_DLQ.late"
IT_DLQ=$missing_dlq
er_on_exit "$ER_BUILD_DIR/tools/er_admin" delete-topic "$missing_dlq"
it_config "$ER_TEST_DIR/router.yaml" 19196 "retry:
  max_attempts: 10
  backoff_initial_ms: 200
  backoff_max_ms: 1000"
# Fail dead-letter deliveries quickly while the topic is missing.
sed -i "s|^  topic: \"$missing_dlq\"|  topic: \"$missing_dlq\"\n  properties:\n    - topic.metadata.propagation.max.ms=1000\n    - message.timeout.ms=3000|" \
    "$ER_TEST_DIR/router.yaml"
export ER_ROUTER_READY_URL=http://127.0.0.1:19196/readyz
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"

T=$IT_OFFICER
printf '{not json' | kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$T" -p 0 -k bad -X acks=all
for i in 1 2 3; do
    printf '{"eventId":"after-%d","eventType":"OfficerRegistered"}\n' "$i"
done | kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$T" -p 0 -k later -X acks=all
for i in $(seq 1 20); do
    printf '{"eventId":"p1-%d","eventType":"RegisterOfficerRequested","aggregateType":"Officer"}\n' "$i"
done | kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$T" -p 1 -k good -X acks=all

committed() { # committed PARTITION
    er_tool er_admin offsets --group "$IT_GROUP" --topic "$T" |
        jq -r --argjson p "$1" '.topics[0].partitions[] | select(.partition == $p) | .committed'
}
er_wait_until 20 sh -c "[ \"\$('$ER_BUILD_DIR/tools/er_admin' offsets --group '$IT_GROUP' --topic '$T' | jq -r '.topics[0].partitions[] | select(.partition == 1) | .committed')\" = 20 ]" ||
    er_fail "partition 1 did not flow while partition 0's dead letter was stuck"
sleep 6 # several failed dead-letter deliveries
c0=$(committed 0)
[[ $c0 == -1 || $c0 == 0 || -z $c0 || $c0 == null ]] ||
    er_fail "partition 0 committed past an event whose dead letter was not delivered (committed=$c0)"
kill -0 "$ER_ROUTER_PID" || er_fail "router died"
grep -q 'id=RTR-0204\|id=RTR-0202' "$ER_TEST_DIR/router.log" || er_fail "no dead-letter retry logged"

er_tool er_admin create-topic "$missing_dlq" --partitions 1 --replication-factor "$IT_RF" >/dev/null
er_wait_until 60 sh -c "'$ER_BUILD_DIR/tools/er_admin' wait-offsets --group '$IT_GROUP' --topic '$T' --timeout-s 1 --quiet" ||
    er_fail "partition 0 did not move on after the dead-letter topic appeared"
n=$(kcat -C -b "$ER_KAFKA_BOOTSTRAP" -t "$missing_dlq" -e -q -f '%k\n' | grep -c '^bad$' || true)
er_assert_eq "$n" 1 "the held event was dead-lettered exactly once"
er_router_stop
er_pass
