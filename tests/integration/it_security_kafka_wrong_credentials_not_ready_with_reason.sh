#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kafka credentials the broker refuses: librdkafka treats that as retriable
# and keeps trying, so the router keeps running, but it is never ready:
# /readyz answers 503 with "Kafka authentication failed: <librdkafka's
# reason>", the log has KFK-0002 with that reason, and nothing is consumed
# or committed. Two cases:
#  - SASL_SSL/SCRAM-SHA-512 with a wrong password (from ${env:...});
#  - mTLS with a client certificate from a CA the broker does not trust.
# No secret appears in the logs or --print-config.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/security_lib.sh"
er_require_clusters
sec_kafka_up
it_world 1
p=$(it_produce --count 40 --critical-ratio 1 --run-id kdeny --seed 9)

# refused NAME BROKERS PROPERTIES WANT: start, wait for the reason on /readyz, check, stop.
refused() {
    local name=$1 port=19586 want=$4
    body=""
    IT_KAFKA_EXTRA=$3 it_config "$ER_TEST_DIR/$name.yaml" $port
    sed -i "s|^  brokers: .*|  brokers: \"$2\"|" "$ER_TEST_DIR/$name.yaml"
    sec_print_config "$ER_TEST_DIR/$name.yaml" "$ER_TEST_DIR/$name.print-config.yaml"
    ER_ROUTER_READY_URL=none er_router_start "$ER_TEST_DIR/$name.yaml" "$ER_TEST_DIR/$name.log"
    ready_reason() {
        body=$(curl -s --max-time 2 -w '\n%{http_code}' "http://127.0.0.1:$port/readyz") &&
            [[ $body == *"Kafka authentication failed: "*"$want"*$'\n503' ]]
    }
    local t
    for ((t = 0; t < 100; t++)); do
        ready_reason && break
        sleep 0.3
    done
    ready_reason || er_fail "$name: /readyz does not give the reason: '$body'"
    er_log "$name: /readyz: $(head -n 3 <<<"$body" | tr '\n' '|')"
    grep -q "KFK-0002.*$want" "$ER_TEST_DIR/$name.log" || er_fail "$name: no KFK-0002 with the reason in the log"
    er_assert_eq "$(it_metric $port er_events_consumed_total)" "" "$name: nothing consumed"
    er_router_stop
    sec_assert_no_secrets "$ER_TEST_DIR/$name.log" "$ER_TEST_DIR/$name.print-config.yaml"
}

export ER_TEST_KAFKA_PASSWORD="not-the-password"
refused wrong-password "$ER_SEC_KAFKA_SASL" "    - security.protocol=SASL_SSL
    - sasl.mechanisms=SCRAM-SHA-512
    - sasl.username=router
    - sasl.password=\${env:ER_TEST_KAFKA_PASSWORD}
    - ssl.ca.location=$ER_SEC_CERTS/ca.pem" "SASL authentication error"
grep -q 'sasl.password=${env:ER_TEST_KAFKA_PASSWORD}' "$ER_TEST_DIR/wrong-password.print-config.yaml" ||
    er_fail "--print-config does not show the password reference"

refused untrusted-client "$ER_SEC_KAFKA_MTLS" "    - security.protocol=SSL
    - ssl.ca.location=$ER_SEC_CERTS/ca.pem
    - ssl.certificate.location=$ER_SEC_CERTS/rogue-client.pem
    - ssl.key.location=$ER_SEC_CERTS/rogue-client.key" "SSL alert"
# (the broker's TLS alert: "certificate unknown" with librdkafka 2.0.2's
# OpenSSL handshake, "bad certificate" with 2.14.2's)

committed=$(er_tool er_admin offsets --group "$IT_GROUP" --topic "$IT_OFFICER,$IT_INCIDENT")
er_assert_eq "$(er_json end_total "$committed")" 40 "the 40 events are in Kafka"
er_assert_eq "$(er_json committed_total "$committed")" 0 "nothing committed"
er_pass
