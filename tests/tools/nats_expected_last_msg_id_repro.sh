#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Standalone reproduction of the nats-server bug of issue 13 item 1
# (docs/reliability.md, "Nats-Expected-Last-Msg-Id wedges an R3 stream"):
# starts a private 3-node JetStream cluster of the given nats-server binary
# on loopback, creates an R3 stream, publishes one message with
# Nats-Msg-Id: m1 and one with Nats-Expected-Last-Msg-Id: nope (rejected,
# JetStream error 10070), then checks that within 10 s the stream still
# accepts a publish and every node's /healthz answers 200. Kept separate from
# deploy/local so that any binary (an older release line, a patched build)
# can be judged without touching the local clusters.
#
#   tests/tools/nats_expected_last_msg_id_repro.sh [NATS_SERVER_BIN]
#
# NATS_SERVER_BIN defaults to $ER_TOOLS_DIR/bin/nats-server; natscli comes
# from $ER_NATS_CLI or $ER_TOOLS_DIR/bin/nats (ER_TOOLS_DIR defaults to
# deploy/local/.tools). Ports: REPRO_PORT_BLOCK=B (default 22) gives client
# ports B422-B424, monitor B822-B824 and cluster B622-B624; REPRO_NATS_PORTS,
# REPRO_MONITOR_PORTS and REPRO_CLUSTER_PORTS override them one by one.
# REPRO_KEEP=1 keeps the temp dir (configs, logs). Exit status: 0 healthy
# (bug absent), 1 bug present, 2 the check itself could not run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="${ER_TOOLS_DIR:-$here/../../deploy/local/.tools}"
server="${1:-$tools/bin/nats-server}"
nats="${ER_NATS_CLI:-$tools/bin/nats}"
block="${REPRO_PORT_BLOCK:-22}"
read -r -a cports <<<"${REPRO_NATS_PORTS:-${block}422 ${block}423 ${block}424}"
read -r -a mports <<<"${REPRO_MONITOR_PORTS:-${block}822 ${block}823 ${block}824}"
read -r -a rports <<<"${REPRO_CLUSTER_PORTS:-${block}622 ${block}623 ${block}624}"
cluster_name=policesystem-nats-cluster
stream=REPRO_MSGID
subject=repro.msgid

say() { printf 'repro: %s\n' "$*" >&2; }
setup_fail() {
    say "cannot run the check: $*"
    exit 2
}

[[ -x "$server" ]] || setup_fail "no nats-server binary at $server"
[[ -x "$nats" ]] || setup_fail "no natscli at $nats"
command -v curl >/dev/null && command -v jq >/dev/null || setup_fail "curl and jq are needed"

dir="$(mktemp -d "${TMPDIR:-/tmp}/nats-msgid-repro.XXXXXX")"
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [[ "${REPRO_KEEP:-0}" == 1 ]]; then say "files kept in $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
for p in "${cports[@]}" "${mports[@]}" "${rports[@]}"; do
    port_open "$p" && setup_fail "port $p is in use (set REPRO_PORT_BLOCK or REPRO_*_PORTS)"
done

say "$("$server" --version) on client ports ${cports[*]}"
urls=""
for i in 0 1 2; do
    urls+="${urls:+,}nats://127.0.0.1:${cports[$i]}"
    routes=""
    for j in 0 1 2; do
        ((j == i)) || routes+="${routes:+, }nats-route://127.0.0.1:${rports[$j]}"
    done
    mkdir -p "$dir/n$((i + 1))/js"
    cat >"$dir/n$((i + 1))/nats.conf" <<CONF
server_name: n$((i + 1))
listen: 127.0.0.1:${cports[$i]}
http: 127.0.0.1:${mports[$i]}
log_file: "$dir/n$((i + 1))/nats.log"
logtime: true
jetstream { store_dir: "$dir/n$((i + 1))/js", max_mem_store: 64MB, max_file_store: 1GB }
cluster {
    name: $cluster_name
    listen: 127.0.0.1:${rports[$i]}
    routes: [ $routes ]
}
CONF
    "$server" -c "$dir/n$((i + 1))/nats.conf" >"$dir/n$((i + 1))/stdout.log" 2>&1 &
    pids+=($!)
done

healthz_code() { curl -s -o /dev/null -w '%{http_code}' -m 2 "http://127.0.0.1:$1/healthz" || true; }
all_healthy() {
    local p
    for p in "${mports[@]}"; do [[ "$(healthz_code "$p")" == 200 ]] || return 1; done
}
js() { "$nats" --server "$urls" --timeout 2s "$@"; }
# is_ack JSON MINSEQ: a PubAck for a sequence >= MINSEQ. Empty input is
# checked first: jq -e exits 0 on it (jq 1.6).
is_ack() { [[ -n "$1" ]] && jq -e --argjson min "$2" '(.error == null) and ((.seq // 0) >= $min)' >/dev/null 2>&1 <<<"$1"; }

deadline=$((SECONDS + 60))
until all_healthy && curl -sf -m 2 "http://127.0.0.1:${mports[0]}/jsz" |
    jq -e '(.meta_cluster.leader // "") != ""' >/dev/null 2>&1; do
    ((SECONDS < deadline)) || setup_fail "cluster not healthy after 60 s (logs in $dir; REPRO_KEEP=1)"
    sleep 0.5
done

js stream add "$stream" --subjects "$subject" --replicas 3 --storage file --defaults >"$dir/stream-add.out" 2>&1 ||
    setup_fail "stream add failed: $(tail -n 3 "$dir/stream-add.out")"
deadline=$((SECONDS + 30))
until js stream info "$stream" --json 2>/dev/null | jq -e '(.cluster.leader // "") != ""' >/dev/null; do
    ((SECONDS < deadline)) || setup_fail "stream $stream has no leader 30 s after creation"
    sleep 0.5
done

ack1="$(js req "$subject" one -H "Nats-Msg-Id:m1" --raw 2>&1)" || setup_fail "first publish failed: $ack1"
is_ack "$ack1" 1 || setup_fail "first publish not acked: $ack1"
ack2="$(js req "$subject" two -H "Nats-Expected-Last-Msg-Id:nope" --raw 2>&1 || true)"
say "publish with Nats-Expected-Last-Msg-Id: nope answered: $ack2"
[[ -n "$ack2" ]] && jq -e '.error.err_code == 10070' >/dev/null 2>&1 <<<"$ack2" ||
    say "note: expected a 10070 rejection, got the answer above"

# The verdict: a publish acked and every /healthz 200, within 10 s.
t0=$SECONDS deadline=$((SECONDS + 10)) acked=0 ack3=""
while ((SECONDS < deadline)); do
    if ((!acked)); then
        ack3="$(js req "$subject" three --raw 2>&1 || true)"
        is_ack "$ack3" 2 && acked=1
    fi
    if ((acked)) && all_healthy; then
        say "HEALTHY: stream accepts publishes and /healthz is 200 on all nodes ($((SECONDS - t0)) s)"
        exit 0
    fi
    sleep 0.5
done

say "BUG PRESENT: within 10 s: publish acked=$acked (last answer: ${ack3:-no reply within 2 s})"
for p in "${mports[@]}"; do
    say "  :$p /healthz $(curl -s -m 2 "http://127.0.0.1:$p/healthz" || echo unreachable)"
done
for i in 1 2 3; do
    grep -h 'last msgid mismatch' "$dir/n$i/nats.log" 2>/dev/null | head -n 2 | sed "s/^/  n$i log: /" >&2 || true
done
exit 1
