#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# NATS over TLS with CA verification (the router trusts only the test CA)
# and user/password authentication, the password taken from an environment
# variable: every critical event reaches JetStream, once. Neither the router
# log nor --print-config shows any secret.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/security_lib.sh"
er_require_clusters
sec_nats_up users
it_world 2
export ER_TEST_NATS_PASSWORD
ER_TEST_NATS_PASSWORD=$(cat "$ER_SEC_SECRETS/nats-router.password")
IT_NATS_EXTRA="  tls_ca_file: \"$ER_SEC_CERTS/ca.pem\"
  user: router
  password_env: ER_TEST_NATS_PASSWORD" it_config "$ER_TEST_DIR/router.yaml" 19581
grep -q '^    - tls://127.0.0.1:' "$ER_TEST_DIR/router.yaml" || er_fail "router not pointed at tls://"
sec_print_config "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/print-config.yaml"
grep -q 'password_env: "ER_TEST_NATS_PASSWORD"' "$ER_TEST_DIR/print-config.yaml" ||
    er_fail "--print-config does not show where the password comes from"

export ER_ROUTER_READY_URL=http://127.0.0.1:19581/readyz
p=$(it_produce --count 400 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/c.raw" --run-id tls1 --seed 11)
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"
it_wait_committed 60 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "offsets not committed: $(cat "$ER_TEST_DIR/offsets.json")"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical" --check-subjects) ||
    er_fail "stream content: $v"
er_assert_eq "$(er_json stored "$v")" "$(wc -l <"$ER_TEST_DIR/critical")" \
    "every critical event stored through TLS + password"
grep -q 'SNK-0001.*url=tls://127.0.0.1' "$ER_TEST_DIR/router.log" ||
    grep -q 'SNK-0001' "$ER_TEST_DIR/router.log" || er_fail "router never logged the connection"
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0 after SIGTERM"
sec_assert_no_secrets "$ER_TEST_DIR/router.log" "$ER_TEST_DIR/print-config.yaml"
er_pass
