# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# security_lib.sh - what the security tests share, on top of lib.sh and
# router_lib.sh: the secured single-node services of
# deploy/local/secure-services (started by the test, stopped at its exit,
# even on failure), the tools pointed at them, and the check that no secret
# value ever reaches a log or the printed config.
#
#   source "$(dirname "$0")/lib.sh"
#   source "$(dirname "$0")/router_lib.sh"
#   source "$(dirname "$0")/security_lib.sh"
#   sec_nats_up users           # before it_world: the test stream goes there
#   it_world 2
#   ...
#   sec_assert_no_secrets "$ER_TEST_DIR/router.log" "$ER_TEST_DIR/print-config.yaml"

SEC_SERVICES=$ER_SOURCE_DIR/deploy/local/secure-services

_sec_env() {
    local line
    while IFS= read -r line; do
        [[ $line =~ ^export\ (ER_SEC_[A-Z_]+)=([^\ \;\&\|\`\$]*)$ ]] &&
            export "${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
    done < <("$SEC_SERVICES" env)
}

# sec_nats_up MODE [--mtls] - start the secured NATS (users, token or
# operator auth) and point the tools (er_js; it_world's stream) at it as an
# administrator: ER_NATS_URL, ER_NATS_TLS_CA and the mode's credentials.
sec_nats_up() {
    er_on_exit "$SEC_SERVICES" down
    "$SEC_SERVICES" nats-up "$@" >&2 || er_fail "could not start the secured NATS"
    _sec_env
    er_on_fail sh -c "grep -v 'PING\|PONG' '$ER_SEC_DIR/nats/nats.log' | tail -n 40"
    export ER_NATS_URL=$ER_SEC_NATS_URL ER_NATS_TLS_CA=$ER_SEC_CERTS/ca.pem IT_STREAM_REPLICAS=1
    unset ER_NATS_USER ER_NATS_PASSWORD ER_NATS_TOKEN ER_NATS_CREDS ER_NATS_TLS_CERT ER_NATS_TLS_KEY
    if [[ ${2:-} == --mtls ]]; then
        export ER_NATS_TLS_CERT=$ER_SEC_CERTS/client.pem ER_NATS_TLS_KEY=$ER_SEC_CERTS/client.key
    fi
    case $1 in
    users) export ER_NATS_USER=admin ER_NATS_PASSWORD="$(cat "$ER_SEC_SECRETS/nats-admin.password")" ;;
    token) export ER_NATS_TOKEN="$(cat "$ER_SEC_SECRETS/nats.token")" ;;
    operator) export ER_NATS_CREDS=$ER_SEC_SECRETS/admin.creds ;;
    esac
}

# sec_kafka_up [VERSION] - start the secured Kafka, 4.4 by default (or 3.9,
# an older broker). Topic set-up and
# offset checks (er_admin, it_world, kcat) use its PLAINTEXT set-up
# listener; only the router goes through SASL_SSL or mTLS.
sec_kafka_up() {
    local version=${1:-4.4}
    er_on_exit "$SEC_SERVICES" down
    "$SEC_SERVICES" kafka-up --version "$version" >&2 ||
        er_fail "could not start the secured Kafka $version"
    _sec_env
    er_assert_eq "$ER_SEC_KAFKA_VERSION" "$version" "secured Kafka version"
    export ER_KAFKA_BOOTSTRAP=$ER_SEC_KAFKA_INTERNAL IT_RF=1
}

# sec_secret_values - every secret the services generated, one per line:
# passwords and tokens whole, and the nkey seeds (SU...) of nkey and creds files.
sec_secret_values() {
    local f
    for f in "$ER_SEC_SECRETS"/*; do
        [[ -f $f ]] || continue
        case $f in
        *.creds | *.nkey-seed) grep -oE '\bSU[A-Z2-7]{56}\b' "$f" || true ;;
        *) head -n 1 "$f" ;;
        esac
    done | sort -u
}

# sec_assert_no_secrets FILE... - fail if any secret value appears in any FILE.
sec_assert_no_secrets() {
    local s f n=0
    while IFS= read -r s; do
        [[ -n $s ]] || continue
        n=$((n + 1))
        for f in "$@"; do
            [[ -f $f ]] || er_fail "sec_assert_no_secrets: no such file $f"
            if grep -qF -- "$s" "$f"; then
                er_fail "a secret value (${s:0:3}...) appears in $f"
            fi
        done
    done < <(sec_secret_values)
    ((n > 0)) || er_fail "sec_assert_no_secrets: no secrets found in $ER_SEC_SECRETS"
    er_log "no secret value ($n checked) in: $*"
}

# sec_print_config CONFIG OUT - `event-router run --print-config`, kept for the secret check.
sec_print_config() {
    "$ER_BUILD_DIR/event-router" run -c "$1" --print-config >"$2" 2>&1 ||
        er_fail "--print-config failed: $(cat "$2")"
}

# sec_nats_stop / sec_nats_start - stop the secured NATS, then start it
# again with the same configuration, credentials and JetStream store (a node
# restart, not a new server: `nats-up` would make new secrets). Start waits
# until it is healthy. sec_nats_restart does both.
sec_nats_stop() {
    local dir=$ER_SEC_DIR/nats pid t
    pid=$(cat "$dir/pid") || er_fail "sec_nats_stop: no pid file in $dir"
    mapfile -d '' _SEC_NATS_ARGV <"/proc/$pid/cmdline"
    ((${#_SEC_NATS_ARGV[@]} > 0)) || er_fail "sec_nats_stop: cannot read the command of pid $pid"
    kill -TERM "$pid"
    for ((t = 0; t < 100; t++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && er_fail "sec_nats_stop: NATS (pid $pid) did not stop"
    rm -f "$dir/pid"
    er_log "secured NATS stopped (pid $pid)"
}

sec_nats_start() {
    local dir=$ER_SEC_DIR/nats
    ((${#_SEC_NATS_ARGV[@]} > 0)) || er_fail "sec_nats_start: call sec_nats_stop first"
    (cd "$dir" && exec setsid nohup bash -c 'echo $$ >pid; exec "$@"' er-secure "${_SEC_NATS_ARGV[@]}") \
        </dev/null >>"$dir/stdout.log" 2>&1 &
    er_wait_until 30 curl -sf -m 2 "$ER_SEC_NATS_MONITOR_URL/healthz" ||
        er_fail "sec_nats_start: NATS not healthy after 30 s"
    er_log "secured NATS started (pid $(cat "$dir/pid"))"
}

sec_nats_restart() {
    sec_nats_stop
    sec_nats_start
}
