#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Against a Kafka 3.9 broker (older than the consumer group protocol's 4.0):
#  - with the default group protocol (consumer), the router runs but never
#    joins; after 30 s /readyz answers 503 and names the cause and the
#    fix ("needs Kafka 4.0+ ... group.protocol=classic"), nothing is
#    consumed. (librdkafka 2.14.2 gets no error from a 3.9 broker and
#    retries for ever, so the router cannot fall back by itself; it does,
#    SRC-0011, only when a Kafka 4 broker refuses the protocol.)
#  - with group.protocol=classic in kafka.properties, it joins with
#    cooperative-sticky and stores every critical event once.
# The secured services' Kafka 3.9 (deploy/local/secure-services), through
# its PLAINTEXT set-up listener: what is tested is the protocol, not TLS.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/security_lib.sh"
er_require_clusters
sec_kafka_up 3.9
it_world 1
it_produce --count 60 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c.raw" --run-id k39 --seed 11 >/dev/null
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
port=19588
url=http://127.0.0.1:$port/readyz

it_config "$ER_TEST_DIR/default.yaml" $port
# Under ASan: full stacks, so that tests/lsan.supp can name librdkafka's
# leak of the never-joined group (it needs the frame in librdkafka).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0" \
    ER_ROUTER_READY_URL=none er_router_start "$ER_TEST_DIR/default.yaml" "$ER_TEST_DIR/default.log"
body=
says_why() {
    body=$(curl -s --max-time 2 -w '\n%{http_code}' "$url") &&
        [[ $body == *"needs Kafka 4.0+"*"group.protocol=classic"*$'\n503' ]]
}
er_wait_until 60 says_why || er_fail "after 60 s against Kafka 3.9, /readyz does not say why: '$body'"
er_log "/readyz: $(head -n 2 <<<"$body" | tr '\n' '|')"
grep -q 'id=SRC-0001 .*group_protocol=consumer ' "$ER_TEST_DIR/default.log" ||
    er_fail "the router did not start with the consumer protocol"
er_assert_eq "$(it_metric $port er_events_consumed_total)" "" "nothing consumed while not joined"
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "the unjoined router stops cleanly on SIGTERM"

IT_KAFKA_EXTRA="    - group.protocol=classic" it_config "$ER_TEST_DIR/classic.yaml" $port
ER_ROUTER_READY_URL=$url er_router_start "$ER_TEST_DIR/classic.yaml" "$ER_TEST_DIR/classic.log"
it_wait_committed 60 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "classic: offsets not committed: $(cat "$ER_TEST_DIR/offsets.json")"
grep -q 'id=SRC-0002 .*incremental=true' "$ER_TEST_DIR/classic.log" ||
    er_fail "classic: not assigned incrementally (cooperative-sticky)"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical") || er_fail "stream content: $v"
er_assert_eq "$(er_json missing "$v")" 0 "no critical event missing"
er_assert_eq "$(er_json duplicates "$v")" 0 "no critical event stored twice"
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "classic router exits 0"
er_pass
