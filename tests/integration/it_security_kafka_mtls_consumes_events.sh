#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kafka with mutual TLS: the router (consumer and dead-letter producer)
# reaches a broker listener that requires a client certificate from the test
# CA, with only librdkafka properties (security.protocol=SSL,
# ssl.ca.location, ssl.certificate.location, ssl.key.location), and every
# critical event reaches JetStream; offsets are committed through it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/security_lib.sh"
er_require_clusters
sec_kafka_up
it_world 2
IT_KAFKA_EXTRA="    - security.protocol=SSL
    - ssl.ca.location=$ER_SEC_CERTS/ca.pem
    - ssl.certificate.location=$ER_SEC_CERTS/client.pem
    - ssl.key.location=$ER_SEC_CERTS/client.key" it_config "$ER_TEST_DIR/router.yaml" 19585
sed -i "s|^  brokers: .*|  brokers: \"$ER_SEC_KAFKA_MTLS\"|" "$ER_TEST_DIR/router.yaml"
sec_print_config "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/print-config.yaml"

it_produce --count 300 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c.raw" --run-id mtls --seed 3 \
    >/dev/null
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
ER_ROUTER_READY_URL=http://127.0.0.1:19585/readyz \
    er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"
it_wait_committed 60 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "offsets not committed: $(cat "$ER_TEST_DIR/offsets.json")"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical") || er_fail "stream content: $v"
er_assert_eq "$(er_json missing "$v")" 0 "every critical event consumed over mTLS and stored"
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0"
sec_assert_no_secrets "$ER_TEST_DIR/router.log" "$ER_TEST_DIR/print-config.yaml"
er_pass
