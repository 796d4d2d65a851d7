#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The right SCRAM-SHA-512 password, and Kafka 4.4 still refuses the login:
# librdkafka before 2.6.1 (Debian 12 ships 2.0.2) repeats the client nonce
# in SCRAM's final message (librdkafka#4895) and Kafka 4.0+ checks it. The
# broker's answer is the one for a wrong password, so the router says
# which case this may be: it warns once at start-up (KFK-0004), and while
# it is refused it is not ready, /readyz answering 503 with "Kafka
# authentication failed: <librdkafka's reason>; librdkafka 2.0.2 cannot
# SCRAM-authenticate to Kafka 4.0+ brokers (librdkafka#4895, ...)" and what
# to do, KFK-0002 carrying the same hint. Nothing is consumed or committed.
# Then the hint's first advice, SASL/PLAIN over TLS with the same user and
# password on the same broker: every event goes through, no warning.
# No secret appears in the logs or --print-config.
# (SCRAM with the same librdkafka works against Kafka 3.9:
# it_security_kafka_sasl_scram_consumes_events.sh.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/security_lib.sh"
sec_librdkafka_scram_broken ||
    er_fail "the router links librdkafka $SEC_LIBRDKAFKA (>= 2.6.1, librdkafka#4895 fixed): SCRAM" \
        "to Kafka 4.4 should work now; make this test expect events (like" \
        "it_security_kafka_sasl_scram_consumes_events.sh) and drop the hint's premise"
er_require_clusters
sec_kafka_up 4.4
it_world 1
p=$(it_produce --count 200 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c.raw" --run-id kscram4 --seed 11)
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
port=19588
export ER_TEST_KAFKA_PASSWORD
ER_TEST_KAFKA_PASSWORD=$(cat "$ER_SEC_SECRETS/kafka-router.password")
IT_KAFKA_EXTRA="    - security.protocol=SASL_SSL
    - sasl.mechanisms=SCRAM-SHA-512
    - sasl.username=router
    - sasl.password=\${env:ER_TEST_KAFKA_PASSWORD}
    - ssl.ca.location=$ER_SEC_CERTS/ca.pem" it_config "$ER_TEST_DIR/router.yaml" $port
sed -i "s|^  brokers: .*|  brokers: \"$ER_SEC_KAFKA_SASL\"|" "$ER_TEST_DIR/router.yaml"

# The premise: the password is right. Kafka's own (Java) client logs in
# with it over the same listener and sees this test's topics.
(umask 077 && cat >"$ER_TEST_DIR/java-client.properties" <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="router" password="$ER_TEST_KAFKA_PASSWORD";
ssl.truststore.type=PEM
ssl.truststore.location=$ER_SEC_CERTS/ca.pem
PROPS
)
topics=$(timeout 60 "$ER_SOURCE_DIR/deploy/local/kafka" topics --bootstrap-server "$ER_SEC_KAFKA_SASL" \
    --command-config "$ER_TEST_DIR/java-client.properties" --list 2>"$ER_TEST_DIR/java-client.err") ||
    er_fail "Kafka's Java client cannot log in with the password either: $(tail -n 5 "$ER_TEST_DIR/java-client.err")"
grep -qxF "$IT_OFFICER" <<<"$topics" || er_fail "the Java client does not see $IT_OFFICER: $topics"
er_log "Kafka 4.4's Java client logs in as router with the same password"
sec_print_config "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/print-config.yaml"
ER_ROUTER_READY_URL=none er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"

hint="librdkafka $SEC_LIBRDKAFKA cannot SCRAM-authenticate to Kafka 4.0+ brokers (librdkafka#4895, fixed in 2.6.1)"
body=""
ready_reason() {
    body=$(curl -s --max-time 2 -w '\n%{http_code}' "http://127.0.0.1:$port/readyz") &&
        [[ $body == *"Kafka authentication failed: "*"SASL authentication error"*"; $hint"*$'\n503' ]]
}
for ((t = 0; t < 100; t++)); do
    ready_reason && break
    sleep 0.3
done
ready_reason || er_fail "/readyz does not give the reason and the librdkafka#4895 hint: '$body'"
er_log "/readyz: $(head -n 3 <<<"$body" | tr '\n' '|')"
for what in "Kafka <= 3.9" "sasl.mechanisms=PLAIN" "security.protocol=SSL" "librdkafka >= 2.6.1"; do
    [[ $body == *"$what"* ]] || er_fail "/readyz does not say what to do ('$what'): '$body'"
done
grep -qF "hint=\"$hint" <(grep 'KFK-0002.*SASL authentication error' "$ER_TEST_DIR/router.log") ||
    er_fail "no KFK-0002 with the SASL error and the hint in the log"
er_assert_eq "$(grep -c "KFK-0004.*librdkafka=$SEC_LIBRDKAFKA mechanism=SCRAM-SHA-512.*librdkafka#4895" \
    "$ER_TEST_DIR/router.log")" 1 "one start-up warning (KFK-0004)"
er_assert_eq "$(it_metric $port er_events_consumed_total)" "" "nothing consumed"
er_router_stop

committed=$(er_tool er_admin offsets --group "$IT_GROUP" --topic "$IT_OFFICER,$IT_INCIDENT")
er_assert_eq "$(er_json end_total "$committed")" "$(er_json produced "$p")" "the events are in Kafka"
er_assert_eq "$(er_json committed_total "$committed")" 0 "nothing committed"

# The advice: PLAIN over TLS, same broker, user and password.
sed 's/sasl.mechanisms=SCRAM-SHA-512/sasl.mechanisms=PLAIN/' "$ER_TEST_DIR/router.yaml" \
    >"$ER_TEST_DIR/plain.yaml"
grep -q 'sasl.mechanisms=PLAIN' "$ER_TEST_DIR/plain.yaml" || er_fail "no PLAIN config"
sec_print_config "$ER_TEST_DIR/plain.yaml" "$ER_TEST_DIR/plain.print-config.yaml"
ER_ROUTER_READY_URL=http://127.0.0.1:$port/readyz \
    er_router_start "$ER_TEST_DIR/plain.yaml" "$ER_TEST_DIR/plain.log"
it_wait_committed 60 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "offsets not committed over SASL/PLAIN: $(cat "$ER_TEST_DIR/offsets.json")"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical") || er_fail "stream content: $v"
er_assert_eq "$(er_json missing "$v")" 0 "no critical event missing from JetStream"
er_assert_eq "$(er_json stored "$v")" "$(er_json critical "$p")" \
    "JetStream holds as many events as Kafka's critical ones"
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0"
if grep -E 'KFK-0004|KFK-0002.*(AUTHENTICATION|SSL|SASL)' "$ER_TEST_DIR/plain.log" >&2; then
    er_fail "SCRAM warning or authentication errors (above) with SASL/PLAIN"
fi
sec_assert_no_secrets "$ER_TEST_DIR/router.log" "$ER_TEST_DIR/print-config.yaml" \
    "$ER_TEST_DIR/plain.log" "$ER_TEST_DIR/plain.print-config.yaml"
er_pass
