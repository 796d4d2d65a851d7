#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kafka SASL_SSL with SCRAM-SHA-512: the router (consumer and dead-letter
# producer) logs in as user router with the password from ${file:...} and
# verifies the broker against the test CA, with only librdkafka properties.
# Every event reaches its outcome through it: as many critical events in
# JetStream as were produced to Kafka (none missing, none twice), one bad
# event in the dead-letter topic, every offset committed. No secret appears
# in the logs or --print-config.
#
# The broker is Kafka 3.9: librdkafka before 2.6.1 (Debian 12 ships 2.0.2)
# cannot SCRAM-authenticate to Kafka 4.0+ (librdkafka#4895; see
# it_security_kafka4_refuses_scram_with_hint_and_plain_consumes.sh), so the
# router also warns once at start-up (KFK-0004), for both clients together.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/security_lib.sh"
er_require_clusters
sec_kafka_up 3.9
it_world 2
IT_KAFKA_EXTRA="    - security.protocol=SASL_SSL
    - sasl.mechanisms=SCRAM-SHA-512
    - sasl.username=router
    - sasl.password=\${file:$ER_SEC_SECRETS/kafka-router.password}
    - ssl.ca.location=$ER_SEC_CERTS/ca.pem" it_config "$ER_TEST_DIR/router.yaml" 19587
sed -i "s|^  brokers: .*|  brokers: \"$ER_SEC_KAFKA_SASL\"|" "$ER_TEST_DIR/router.yaml"
sec_print_config "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/print-config.yaml"
grep -qF "sasl.password=\${file:$ER_SEC_SECRETS/kafka-router.password}" \
    "$ER_TEST_DIR/print-config.yaml" || er_fail "--print-config does not show the password reference"

p=$(it_produce --count 300 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c.raw" --run-id scram --seed 5)
critical=$(er_json critical "$p")
((critical > 0)) || er_fail "no critical events produced: $p"
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
# One event for the dead-letter producer: a '.' cannot go into a subject.
printf '{"eventId":"scram-dlq-1","eventType":"Register.OfficerRequested"}' |
    kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$IT_OFFICER" -p 0 -k dlq-1 -X acks=all ||
    er_fail "kcat could not produce the dead-letter case"

ER_ROUTER_READY_URL=http://127.0.0.1:19587/readyz \
    er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"
it_wait_committed 60 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "offsets not committed: $(cat "$ER_TEST_DIR/offsets.json")"
offsets=$(cat "$ER_TEST_DIR/offsets.json")
er_assert_eq "$(er_json end_total "$offsets")" $(($(er_json produced "$p") + 1)) "events in Kafka"
er_assert_eq "$(er_json committed_total "$offsets")" "$(er_json end_total "$offsets")" \
    "every offset committed over SASL_SSL/SCRAM-SHA-512"

v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical") || er_fail "stream content: $v"
er_assert_eq "$(er_json missing "$v")" 0 "no critical event missing from JetStream"
er_assert_eq "$(er_json stored "$v")" "$critical" "JetStream holds as many events as Kafka's critical ones"

kcat -C -b "$ER_KAFKA_BOOTSTRAP" -t "$IT_DLQ" -e -q -J >"$ER_TEST_DIR/dlq.jsonl" ||
    er_fail "kcat could not read the dead-letter topic"
er_assert_eq "$(jq -s 'length' "$ER_TEST_DIR/dlq.jsonl")" 1 "dead letters written over SASL_SSL"
er_assert_eq "$(jq -r '.key' "$ER_TEST_DIR/dlq.jsonl")" dlq-1 "the dead letter is the bad event"

er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0"
if grep -E 'KFK-0002.*(AUTHENTICATION|SSL|SASL)' "$ER_TEST_DIR/router.log" >&2; then
    er_fail "authentication errors (above) although every event went through"
fi
if sec_librdkafka_scram_broken; then
    er_assert_eq "$(grep -c 'KFK-0004.*librdkafka#4895' "$ER_TEST_DIR/router.log")" 1 \
        "one start-up warning that librdkafka $SEC_LIBRDKAFKA cannot SCRAM to Kafka 4.0+"
fi
sec_assert_no_secrets "$ER_TEST_DIR/router.log" "$ER_TEST_DIR/print-config.yaml"
er_pass
