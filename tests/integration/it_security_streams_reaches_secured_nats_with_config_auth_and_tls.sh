#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `event-router streams` connects the way `run` does (one options builder,
# natsopts.c): with the config's TLS CA and credentials it provisions and
# describes streams on a NATS server that requires both. Checked for
# user/password (from a file) and for a token (from an environment
# variable); the output holds no secret. Needs no Kafka.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/security_lib.sh"
R=${ER_ROUTER_BIN:-$ER_BUILD_DIR/event-router}

streams_cycle() { # streams_cycle MODE AUTH_YAML: dry run, create, ok
    local mode=$1 auth=$2 stream cfg out st
    stream="ER_SEC_$(er_unique s | tr -d - | tr '[:lower:]' '[:upper:]' | cut -c1-20)"
    cfg=$ER_TEST_DIR/$mode.yaml
    out=$ER_TEST_DIR/$mode.out
    cat >"$cfg" <<YAML
kafka:
  brokers: "127.0.0.1:1"
  topics: ["unused"]
nats:
  servers: ["$ER_SEC_NATS_URL"]
  tls_ca_file: "$ER_SEC_CERTS/ca.pem"
$auth
rules: "$ER_SOURCE_DIR/rules/default.yaml"
streams:
  - name: $stream
    subjects: ["$stream.>"]
    replicas: 1
    storage: file
    duplicate_window_s: 60
YAML
    st=0
    "$R" streams --dry-run -c "$cfg" >"$out" 2>&1 || st=$?
    er_assert_eq "$st" 0 "$mode: streams --dry-run exit status ($(cat "$out"))"
    grep -q "stream $stream: missing; would create it" "$out" || er_fail "$mode dry run: $(cat "$out")"
    "$R" streams -c "$cfg" >>"$out" 2>&1 || er_fail "$mode: streams failed: $(cat "$out")"
    grep -q "stream $stream: created" "$out" || er_fail "$mode create: $(cat "$out")"
    er_assert_eq "$(er_tool er_js stream-info "$stream" | jq -r .dupe_window_s)" 60 \
        "$mode: stream created as declared"
    "$R" streams -c "$cfg" >>"$out" 2>&1 || er_fail "$mode: second run: $(cat "$out")"
    grep -q "stream $stream: ok" "$out" || er_fail "$mode second run: $(cat "$out")"
    sec_assert_no_secrets "$out"
}

sec_nats_up users
streams_cycle users "  user: router
  password_file: \"$ER_SEC_SECRETS/nats-router.password\""

sec_nats_up token
export ER_TEST_NATS_TOKEN
ER_TEST_NATS_TOKEN=$(cat "$ER_SEC_SECRETS/nats.token")
streams_cycle token "  token_env: ER_TEST_NATS_TOKEN"
er_pass
