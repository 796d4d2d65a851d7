#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A NATS server that refuses the router stops it at start, exit status 1,
# with the server's reason, and nothing is published or committed:
#  - a wrong password: "Authorization Violation";
#  - a server certificate the configured CA does not vouch for: the TLS
#    handshake fails ("unable to get local issuer certificate");
#  - a password variable that is not set: named in the error.
# (A server that is merely unreachable is not a reason to stop: the router
# retries in the background; see docs/operations.md.) No secret in any log.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/security_lib.sh"
er_require_clusters
sec_nats_up users
it_world 1
p=$(it_produce --count 50 --critical-ratio 1 --run-id deny --seed 5)

# run_refused NAME: run the router on $ER_TEST_DIR/NAME.yaml; it must exit 1 within 20 s.
run_refused() {
    local rc=0
    timeout 20 "$ER_BUILD_DIR/event-router" run -c "$ER_TEST_DIR/$1.yaml" >"$ER_TEST_DIR/$1.log" 2>&1 ||
        rc=$?
    [[ $rc == 1 ]] || er_fail "$1: router exit status $rc, expected 1 (log: $(tail -n 5 "$ER_TEST_DIR/$1.log"))"
    er_log "$1: refused: $(grep 'id=RUN-0105' "$ER_TEST_DIR/$1.log")"
}

export ER_TEST_NATS_PASSWORD="not-the-password"
IT_NATS_EXTRA="  tls_ca_file: \"$ER_SEC_CERTS/ca.pem\"
  user: router
  password_env: ER_TEST_NATS_PASSWORD" it_config "$ER_TEST_DIR/wrong-password.yaml" 19582
run_refused wrong-password
grep -q 'level=error id=RUN-0105 .*why="nats: connect: .*Authorization Violation' "$ER_TEST_DIR/wrong-password.log" ||
    er_fail "wrong password: no clear error: $(cat "$ER_TEST_DIR/wrong-password.log")"

ER_TEST_NATS_PASSWORD=$(cat "$ER_SEC_SECRETS/nats-router.password")
IT_NATS_EXTRA="  tls_ca_file: \"$ER_SEC_CERTS/rogue-ca.pem\"
  user: router
  password_env: ER_TEST_NATS_PASSWORD" it_config "$ER_TEST_DIR/untrusted-server.yaml" 19582
run_refused untrusted-server
grep -q 'level=error id=RUN-0105 .*why="nats: connect: .*SSL handshake error.*unable to get local issuer certificate' \
    "$ER_TEST_DIR/untrusted-server.log" ||
    er_fail "untrusted server certificate: no clear error: $(cat "$ER_TEST_DIR/untrusted-server.log")"

IT_NATS_EXTRA="  tls_ca_file: \"$ER_SEC_CERTS/ca.pem\"
  user: router
  password_env: ER_TEST_NATS_PASSWORD_UNSET" it_config "$ER_TEST_DIR/unset-variable.yaml" 19582
unset ER_TEST_NATS_PASSWORD_UNSET
run_refused unset-variable
grep -q 'level=error id=RUN-0105 .*why="environment variable ER_TEST_NATS_PASSWORD_UNSET is not set' \
    "$ER_TEST_DIR/unset-variable.log" ||
    er_fail "unset variable: no clear error: $(cat "$ER_TEST_DIR/unset-variable.log")"

er_assert_eq "$(er_json messages "$(er_tool er_js stream-info "$IT_STREAM")")" 0 "nothing published"
committed=$(er_tool er_admin offsets --group "$IT_GROUP" --topic "$IT_OFFICER,$IT_INCIDENT")
er_assert_eq "$(er_json end_total "$committed")" 50 "the 50 events are in Kafka"
er_assert_eq "$(er_json committed_total "$committed")" 0 "nothing committed ($committed)"
sec_assert_no_secrets "$ER_TEST_DIR"/*.log
er_pass
