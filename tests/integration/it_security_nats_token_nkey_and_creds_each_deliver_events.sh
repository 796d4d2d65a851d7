#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The other ways to authenticate to NATS, each over CA-verified TLS, each
# against a server that accepts only that way, each delivering every
# critical event to JetStream:
#  - a token from an environment variable (nats.token_env);
#  - a user nkey (nats.nkey_seed_file; the router derives the public key);
#  - a creds file (nats.creds_file: user JWT + seed; operator/account JWTs
#    on the server, the account JetStream-enabled);
#  - mutual TLS on top of a password (nats.tls_cert_file/tls_key_file, the
#    server requires a client certificate from the CA).
# No secret appears in the router log or in --print-config. (Each phase
# restarts NATS empty, so the earlier phases' stream-rm cleanups report
# "cleanup failed" at exit: expected, the streams went with the server.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/security_lib.sh"
er_require_clusters

# deliver NAME AUTH_YAML: a fresh world, 200 events, every critical one stored.
deliver() {
    local name=$1 port=19583
    it_world 1
    IT_NATS_EXTRA="  tls_ca_file: \"$ER_SEC_CERTS/ca.pem\"
$2" it_config "$ER_TEST_DIR/$name.yaml" $port
    sec_print_config "$ER_TEST_DIR/$name.yaml" "$ER_TEST_DIR/$name.print-config.yaml"
    it_produce --count 200 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/$name.raw" --run-id "$name" \
        --seed 7 >/dev/null
    it_prefixed "$ER_TEST_DIR/$name.raw" "$ER_TEST_DIR/$name.critical"
    ER_ROUTER_READY_URL=http://127.0.0.1:$port/readyz \
        er_router_start "$ER_TEST_DIR/$name.yaml" "$ER_TEST_DIR/$name.log"
    it_wait_committed 60 >"$ER_TEST_DIR/$name.offsets.json" ||
        er_fail "$name: offsets not committed: $(cat "$ER_TEST_DIR/$name.offsets.json")"
    local v
    v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/$name.critical") ||
        er_fail "$name: stream content: $v"
    er_router_stop
    er_assert_eq "$ER_ROUTER_STATUS" 0 "$name: router exits 0"
    sec_assert_no_secrets "$ER_TEST_DIR/$name.log" "$ER_TEST_DIR/$name.print-config.yaml"
    er_log "$name: $(er_json stored "$v") critical events stored"
}

sec_nats_up token
export ER_TEST_NATS_TOKEN
ER_TEST_NATS_TOKEN=$(cat "$ER_SEC_SECRETS/nats.token")
deliver token "  token_env: ER_TEST_NATS_TOKEN"

sec_nats_up users
deliver nkey "  nkey_seed_file: \"$ER_SEC_SECRETS/nats-router.nkey-seed\""
grep -q "SNK-0011.*public_key=U" "$ER_TEST_DIR/nkey.log" || er_fail "nkey: public key not logged"

sec_nats_up operator
deliver creds "  creds_file: \"$ER_SEC_SECRETS/router.creds\""

sec_nats_up users --mtls
export ER_TEST_NATS_PASSWORD
ER_TEST_NATS_PASSWORD=$(cat "$ER_SEC_SECRETS/nats-router.password")
deliver mtls "  tls_cert_file: \"$ER_SEC_CERTS/client.pem\"
  tls_key_file: \"$ER_SEC_CERTS/client.key\"
  user: router
  password_env: ER_TEST_NATS_PASSWORD"
er_pass
