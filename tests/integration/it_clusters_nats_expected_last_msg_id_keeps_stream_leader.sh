#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The running nats-server does not have the bug of issue 13 item 1
# (docs/reliability.md, "nats-server: a rejected expected-last-msg-id publish
# wedges an R3 stream"): on a throw-away R3 stream, a publish with
# Nats-Msg-Id: m1 and then one with Nats-Expected-Last-Msg-Id: nope is
# rejected (JetStream error 10070), and within 10 s the stream still acks a
# publish and every node's /healthz answers 200. 2.14.x and 2.15.x fail this:
# the followers log "critical write error: last msgid mismatch" and the
# stream is left without a leader; that is why ER_NATS_SERVER_VERSION pins
# the 2.12 line. Needs the 3-node cluster; skipped (77) in --single mode.
# tests/tools/nats_expected_last_msg_id_repro.sh checks any binary on its own
# private cluster.
source "$(dirname "$0")/lib.sh"

if [[ ${ER_CLUSTER_MODE:-cluster} == single ]]; then
    printf 'SKIP: %s: needs the 3-node NATS cluster for an R3 stream (not --single)\n' \
        "$ER_TEST_NAME" >&2
    exit 77
fi
er_require_clusters

tools=${ER_TOOLS_DIR:-$ER_SOURCE_DIR/deploy/local/.tools}
nats_cli=$tools/bin/nats
[[ -x $nats_cli ]] || er_fail "natscli missing at $nats_cli (deploy/local/install-deps)"
if [[ -n ${ER_NATS_MONITOR_URL:-} ]]; then
    IFS=, read -r -a monitors <<<"$ER_NATS_MONITOR_URL"
else
    monitors=()
    for p in ${ER_NATS_MONITOR_PORTS:-}; do monitors+=("http://127.0.0.1:$p"); done
fi
((${#monitors[@]} == 3)) ||
    er_fail "expected 3 NATS monitor URLs, got '${monitors[*]}' (eval \"\$(deploy/local/cluster env)\")"

# Every call is bounded: a wedged stream must not hang the test or its cleanup.
js() { timeout 20 "$nats_cli" --server "$ER_NATS_URL" --timeout 2s "$@"; }
unhealthy_nodes() { # prints "URL: body" for each node whose /healthz is not 200
    local m body code
    for m in "${monitors[@]}"; do
        body=$(curl -s -m 2 -w '\n%{http_code}' "$m/healthz" 2>/dev/null) || body=$'unreachable\n000'
        code=${body##*$'\n'}
        [[ $code == 200 ]] || printf '%s: %s\n' "$m" "${body%$'\n'*}"
    done
    return 0
}
all_healthy() { [[ -z $(unhealthy_nodes) ]]; }
# is_ack JSON MINSEQ: a PubAck for a sequence >= MINSEQ (empty input checked
# first: jq -e exits 0 on it).
is_ack() { [[ -n $1 ]] && jq -e --argjson min "$2" '(.error == null) and ((.seq // 0) >= $min)' >/dev/null 2>&1 <<<"$1"; }

er_wait_until 30 all_healthy ||
    er_fail "NATS not healthy before the test: $(unhealthy_nodes | tr '\n' ' ')"

stream=$(er_unique IT_MSGID | tr 'a-z-' 'A-Z_')
subject=it.msgid.$(er_unique s)
# The stream is deleted whatever happens. If the server has the bug, the
# leaderless stream keeps /healthz at 503 on every node and would break the
# tests after this one; deleting it (a meta-leader operation, which the bug
# leaves working) is what brings /healthz back, so the cleanup waits for that
# and says so if it does not happen. lib.sh silences exit hooks, so the
# cleanup reports on fd 3, a copy of stderr.
exec 3>&2
cleanup() {
    js stream rm -f "$stream" >/dev/null 2>&1 || er_log "cleanup: deleting stream $stream failed" 2>&3
    if er_wait_until 30 all_healthy; then
        er_log "cleanup: stream $stream deleted; /healthz 200 on every node" 2>&3
    else
        er_log 2>&3 "cleanup: /healthz still not 200 30 s after deleting $stream; the next tests will see an unhealthy cluster (deploy/local/cluster down && up): $(unhealthy_nodes | tr '\n' ' ')"
    fi
}
er_on_exit cleanup

out=$(js stream add "$stream" --subjects "$subject" --replicas 3 --storage file --defaults 2>&1) ||
    er_fail "creating R3 stream $stream failed: $out"
stream_led() { js stream info "$stream" --json 2>/dev/null | jq -e '(.cluster.leader // "") != ""'; }
er_wait_until 30 stream_led || er_fail "stream $stream has no leader 30 s after creation"
versions=$(for m in "${monitors[@]}"; do curl -s -m 2 "$m/varz" | jq -r '.version // "?"'; done | sort -u | xargs)
er_log "nats-server ${versions:-?} (from /varz); stream $stream (R3)"

ack=$(js req "$subject" one -H "Nats-Msg-Id:m1" --raw 2>&1) || true
is_ack "$ack" 1 || er_fail "publish with Nats-Msg-Id: m1 not acked: $ack"
ack=$(js req "$subject" two -H "Nats-Expected-Last-Msg-Id:nope" --raw 2>&1) || true
[[ -n $ack ]] && jq -e '.error.err_code == 10070' >/dev/null 2>&1 <<<"$ack" ||
    er_fail "publish with Nats-Expected-Last-Msg-Id: nope: expected JetStream error 10070, got: $ack"
er_log "rejected as expected: $ack"

acked=0 ack=""
publish_acked() {
    ((acked)) && return 0
    ack=$(js req "$subject" three --raw 2>&1) || true
    is_ack "$ack" 2 && acked=1
}
stream_works() { publish_acked && all_healthy; }
t0=$SECONDS
if ! er_wait_until 10 stream_works; then
    er_fail "after the rejected Nats-Expected-Last-Msg-Id publish, within 10 s: publish acked=$acked (last answer: ${ack:-no reply within 2 s}); /healthz: $(unhealthy_nodes | tr '\n' ' ')-- this nats-server has the stream-wedging bug (docs/reliability.md); pin a release without it in deploy/local/lib.sh (ER_NATS_SERVER_VERSION)"
fi
er_log "stream acked a publish and /healthz is 200 on every node after $((SECONDS - t0)) s"
er_pass
