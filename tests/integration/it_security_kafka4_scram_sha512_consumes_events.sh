#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kafka 4.4 over SASL_SSL with SCRAM-SHA-512: the router (consumer and
# dead-letter producer) logs in as user router with the password from
# ${file:...} and verifies the broker against the test CA, with only
# librdkafka properties. Every event reaches its outcome through it: as
# many critical events in JetStream as were produced to Kafka (none
# missing, none twice), one bad event in the dead-letter topic, every
# offset committed, no authentication error. Then SASL/PLAIN over TLS on
# the same listener, with the same user and the password from ${env:...}:
# a second batch goes through the same way. No secret appears in the logs
# or --print-config. (librdkafka before 2.6.1 could not SCRAM-authenticate
# to Kafka 4.0+, librdkafka#4895; the router links 2.14.2.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/security_lib.sh"
er_require_clusters
sec_kafka_up 4.4
it_world 2
port=19587
IT_KAFKA_EXTRA="    - security.protocol=SASL_SSL
    - sasl.mechanisms=SCRAM-SHA-512
    - sasl.username=router
    - sasl.password=\${file:$ER_SEC_SECRETS/kafka-router.password}
    - ssl.ca.location=$ER_SEC_CERTS/ca.pem" it_config "$ER_TEST_DIR/router.yaml" $port
sed -i "s|^  brokers: .*|  brokers: \"$ER_SEC_KAFKA_SASL\"|" "$ER_TEST_DIR/router.yaml"
sec_print_config "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/print-config.yaml"
grep -qF "sasl.password=\${file:$ER_SEC_SECRETS/kafka-router.password}" \
    "$ER_TEST_DIR/print-config.yaml" || er_fail "--print-config does not show the password reference"

p=$(it_produce --count 300 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c.raw" --run-id scram4 --seed 5)
critical=$(er_json critical "$p")
((critical > 0)) || er_fail "no critical events produced: $p"
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
# One event for the dead-letter producer: a '.' cannot go into a subject.
printf '{"eventId":"scram-dlq-1","eventType":"Register.OfficerRequested"}' |
    kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$IT_OFFICER" -p 0 -k dlq-1 -X acks=all ||
    er_fail "kcat could not produce the dead-letter case"

# verify STAGE IDS EXPECTED_STORED: every offset committed, no critical
# event missing or stored twice.
verify() {
    local offsets v
    it_wait_committed 60 >"$ER_TEST_DIR/offsets.$1.json" ||
        er_fail "$1: offsets not committed: $(cat "$ER_TEST_DIR/offsets.$1.json")"
    offsets=$(cat "$ER_TEST_DIR/offsets.$1.json")
    er_assert_eq "$(er_json committed_total "$offsets")" "$(er_json end_total "$offsets")" \
        "$1: every offset committed"
    v=$(er_tool er_js verify "$IT_STREAM" --ids "$2") || er_fail "$1: stream content: $v"
    er_assert_eq "$(er_json missing "$v")" 0 "$1: no critical event missing from JetStream"
    er_assert_eq "$(er_json duplicates "$v")" 0 "$1: no critical event stored twice"
    er_assert_eq "$(er_json stored "$v")" "$3" "$1: JetStream holds as many events as Kafka's critical ones"
}

ER_ROUTER_READY_URL=http://127.0.0.1:$port/readyz \
    er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"
verify SCRAM-SHA-512 "$ER_TEST_DIR/critical" "$critical"
er_assert_eq "$(er_json end_total "$(cat "$ER_TEST_DIR/offsets.SCRAM-SHA-512.json")")" \
    $(($(er_json produced "$p") + 1)) "events in Kafka"
kcat -C -b "$ER_KAFKA_BOOTSTRAP" -t "$IT_DLQ" -e -q -J >"$ER_TEST_DIR/dlq.jsonl" ||
    er_fail "kcat could not read the dead-letter topic"
er_assert_eq "$(jq -s 'length' "$ER_TEST_DIR/dlq.jsonl")" 1 "dead letters written over SCRAM-SHA-512"
er_assert_eq "$(jq -r '.key' "$ER_TEST_DIR/dlq.jsonl")" dlq-1 "the dead letter is the bad event"
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0"
if grep -E 'KFK-0002.*(AUTHENTICATION|SSL|SASL)' "$ER_TEST_DIR/router.log" >&2; then
    er_fail "authentication errors (above) with SCRAM-SHA-512"
fi
er_log "SCRAM-SHA-512 against Kafka $ER_SEC_KAFKA_VERSION: $critical critical events, 0 missing, 0 duplicates"

# SASL/PLAIN over TLS: same listener and user, the password from ${env:...}.
export ER_TEST_KAFKA_PASSWORD
ER_TEST_KAFKA_PASSWORD=$(cat "$ER_SEC_SECRETS/kafka-router.password")
sed -e 's/sasl.mechanisms=SCRAM-SHA-512/sasl.mechanisms=PLAIN/' \
    -e 's|sasl.password=\${file:[^}]*}|sasl.password=${env:ER_TEST_KAFKA_PASSWORD}|' \
    "$ER_TEST_DIR/router.yaml" >"$ER_TEST_DIR/plain.yaml"
grep -q 'sasl.mechanisms=PLAIN' "$ER_TEST_DIR/plain.yaml" &&
    grep -qF 'sasl.password=${env:ER_TEST_KAFKA_PASSWORD}' "$ER_TEST_DIR/plain.yaml" ||
    er_fail "no PLAIN config: $(grep sasl "$ER_TEST_DIR/plain.yaml")"
sec_print_config "$ER_TEST_DIR/plain.yaml" "$ER_TEST_DIR/plain.print-config.yaml"
p2=$(it_produce --count 100 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c2.raw" --run-id plain4 --seed 6)
it_prefixed "$ER_TEST_DIR/c2.raw" "$ER_TEST_DIR/critical2"
cat "$ER_TEST_DIR/critical" "$ER_TEST_DIR/critical2" >"$ER_TEST_DIR/critical.all"
ER_ROUTER_READY_URL=http://127.0.0.1:$port/readyz \
    er_router_start "$ER_TEST_DIR/plain.yaml" "$ER_TEST_DIR/plain.log"
verify PLAIN "$ER_TEST_DIR/critical.all" $((critical + $(er_json critical "$p2")))
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0"
if grep -E 'KFK-0002.*(AUTHENTICATION|SSL|SASL)' "$ER_TEST_DIR/plain.log" >&2; then
    er_fail "authentication errors (above) with SASL/PLAIN"
fi
sec_assert_no_secrets "$ER_TEST_DIR/router.log" "$ER_TEST_DIR/print-config.yaml" \
    "$ER_TEST_DIR/plain.log" "$ER_TEST_DIR/plain.print-config.yaml"
er_pass
