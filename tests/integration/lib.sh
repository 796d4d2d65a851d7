# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# lib.sh - helpers sourced by the integration tests (tests/integration/it_*.sh).
#
# A test looks like:
#
#   #!/usr/bin/env bash
#   source "$(dirname "$0")/lib.sh"
#   topic=$(er_unique it-topic)
#   er_tool er_admin create-topic "$topic" --partitions 3 --replication-factor 3
#   er_on_exit er_tool er_admin delete-topic "$topic"
#   er_router_start "$cfg" "$ER_TEST_DIR/router.log"
#   ...
#   er_assert_eq "$(jq .missing <<<"$out")" 0 "every critical event reached JetStream"
#   er_pass
#
# Environment (all optional):
#   ER_BUILD_DIR            build tree (default: build/ under the source dir)
#   ER_SOURCE_DIR           source tree (default: two levels above this file)
#   ER_KAFKA_BOOTSTRAP      brokers for the tools (default: `deploy/local/cluster env`,
#                           else deploy/local/ports.env)
#   ER_NATS_URL             NATS URLs for the tools (same defaults)
#   ER_ROUTER_BIN           router binary (default $ER_BUILD_DIR/event-router)
#   ER_ROUTER_READY_URL     readiness probe (default http://127.0.0.1:$ER_HTTP_PORT/readyz);
#                           "none" = only check the process stays up for 1 s
#   ER_ROUTER_START_TIMEOUT seconds to wait for readiness (default 30)
#   ER_ROUTER_STOP_TIMEOUT  seconds to wait after SIGTERM (default 30)
#   ER_KEEP_TEST_DIR=1      keep $ER_TEST_DIR after the test
#
# Every helper that waits has a bound; nothing here waits forever. The
# script runs with `set -euo pipefail`; a failing command ends the test.

set -euo pipefail

ER_SOURCE_DIR=${ER_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ER_BUILD_DIR=${ER_BUILD_DIR:-$ER_SOURCE_DIR/build}
ER_TEST_NAME=${ER_TEST_NAME:-$(basename "${0%.sh}")}

# Endpoints: the environment wins; else ask the local cluster script (it
# knows the running mode, e.g. one node or three); else derive them from
# ports.env. Only `export ER_*=...` lines of its output are evaluated.
if [[ (-z ${ER_KAFKA_BOOTSTRAP:-} || -z ${ER_NATS_URL:-}) &&
    -x $ER_SOURCE_DIR/deploy/local/cluster ]]; then
    while IFS= read -r _er_line; do
        if [[ $_er_line =~ ^export\ (ER_[A-Z_]+)=([^\ \;\&\|\`\$]*)$ ]]; then
            [[ -n ${!BASH_REMATCH[1]:-} ]] || export "${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
        fi
    done < <(timeout 20 "$ER_SOURCE_DIR/deploy/local/cluster" env 2>/dev/null || true)
    unset _er_line
fi
if [[ -f $ER_SOURCE_DIR/deploy/local/ports.env ]]; then
    # shellcheck source=../../deploy/local/ports.env
    source "$ER_SOURCE_DIR/deploy/local/ports.env"
fi
if [[ -z ${ER_KAFKA_BOOTSTRAP:-} && -n ${ER_KAFKA_PORTS:-} ]]; then
    ER_KAFKA_BOOTSTRAP=$(for p in $ER_KAFKA_PORTS; do printf '127.0.0.1:%s,' "$p"; done)
    ER_KAFKA_BOOTSTRAP=${ER_KAFKA_BOOTSTRAP%,}
fi
if [[ -z ${ER_NATS_URL:-} && -n ${ER_NATS_PORTS:-} ]]; then
    ER_NATS_URL=$(for p in $ER_NATS_PORTS; do printf 'nats://127.0.0.1:%s,' "$p"; done)
    ER_NATS_URL=${ER_NATS_URL%,}
fi
export ER_SOURCE_DIR ER_BUILD_DIR ER_KAFKA_BOOTSTRAP ER_NATS_URL

# A scratch directory per test run, removed at exit unless ER_KEEP_TEST_DIR=1
# or the test failed (then its path is printed for the post-mortem).
ER_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/er-${ER_TEST_NAME}.XXXXXX")
export ER_TEST_DIR

ER_ROUTER_PID=
ER_ROUTER_STATUS=
_ER_ON_EXIT=()

# er_log MSG... - a timestamped progress line on stderr.
er_log() {
    printf '%s %s: %s\n' "$(date +%H:%M:%S)" "$ER_TEST_NAME" "$*" >&2
}

# er_on_exit CMD [ARGS...] - run CMD at exit (last registered runs first).
# Failures in cleanup are reported but do not change the test's verdict.
er_on_exit() {
    local q
    printf -v q '%q ' "$@"
    _ER_ON_EXIT+=("$q")
}

# er_on_fail CMD [ARGS...] - run CMD if the test fails, before the cleanup,
# and show what it prints: the post-mortem that a CI log needs (the other
# replica's log, what the broker said about the group).
_ER_ON_FAIL=()
er_on_fail() {
    local q
    printf -v q '%q ' "$@"
    _ER_ON_FAIL+=("$q")
}

_er_exit_trap() {
    local rc=$?
    set +e
    local f
    if [[ $rc -ne 0 && $rc -ne 77 ]]; then
        for f in "${_ER_ON_FAIL[@]}"; do
            echo "---- on failure: $f----" >&2
            eval "$f" >&2 2>&1
        done
    fi
    if [[ -n $ER_ROUTER_PID ]] && kill -0 "$ER_ROUTER_PID" 2>/dev/null; then
        # Not er_router_stop: er_fail would exit from inside this trap.
        er_log "cleanup: router $ER_ROUTER_PID still running; stopping it"
        kill -TERM "$ER_ROUTER_PID" 2>/dev/null
        local t
        for ((t = 0; t < ${ER_ROUTER_STOP_TIMEOUT:-30} * 10; t++)); do
            kill -0 "$ER_ROUTER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$ER_ROUTER_PID" 2>/dev/null
        wait "$ER_ROUTER_PID" 2>/dev/null
        ER_ROUTER_PID=
    fi
    local i
    for ((i = ${#_ER_ON_EXIT[@]} - 1; i >= 0; i--)); do
        eval "${_ER_ON_EXIT[i]}" >/dev/null 2>&1 || er_log "cleanup failed: ${_ER_ON_EXIT[i]}"
    done
    if [[ $rc -ne 0 || ${ER_KEEP_TEST_DIR:-0} == 1 ]]; then
        er_log "test files kept in $ER_TEST_DIR"
    else
        rm -rf "$ER_TEST_DIR"
    fi
    exit "$rc"
}
trap _er_exit_trap EXIT
trap 'exit 130' INT TERM

# er_fail MSG... - report the failure and end the test with status 1.
er_fail() {
    printf 'FAIL: %s: %s\n' "$ER_TEST_NAME" "$*" >&2
    exit 1
}

# er_pass - report success and end the test with status 0.
er_pass() {
    printf 'PASS: %s\n' "$ER_TEST_NAME" >&2
    exit 0
}

# er_unique NAME - print NAME with a suffix unique to this run
# (safe in topic, stream and group names: [A-Za-z0-9-]).
er_unique() {
    [[ $# -eq 1 && -n $1 ]] || er_fail "er_unique: usage: er_unique NAME"
    printf '%s-%s-%s-%04x\n' "$1" "$(date +%s)" "$$" "$((RANDOM))"
}

# er_tool NAME ARGS... - run build/tools/NAME (exit status passed through).
er_tool() {
    [[ $# -ge 1 ]] || er_fail "er_tool: usage: er_tool NAME ARGS..."
    local bin=$ER_BUILD_DIR/tools/$1
    [[ -x $bin ]] || er_fail "er_tool: $bin not built (ninja -C $ER_BUILD_DIR)"
    shift
    "$bin" "$@"
}

# er_assert_eq ACTUAL EXPECTED MSG - fail unless ACTUAL == EXPECTED (as strings).
er_assert_eq() {
    [[ $# -eq 3 ]] || er_fail "er_assert_eq: usage: er_assert_eq ACTUAL EXPECTED MSG"
    if [[ $1 != "$2" ]]; then
        er_fail "$3: expected '$2', got '$1'"
    fi
}

# er_json FIELD JSON - print a top-level scalar field of a one-line JSON
# object (the tools' summaries); uses jq when present.
er_json() {
    if command -v jq >/dev/null 2>&1; then
        jq -r --arg f "$1" '.[$f] // empty' <<<"$2"
    else
        python3 -c 'import json,sys; v=json.loads(sys.argv[2]).get(sys.argv[1]); print("" if v is None else (str(v).lower() if isinstance(v,bool) else v))' "$1" "$2"
    fi
}

# er_wait_until TIMEOUT_S CMD [ARGS...] - run CMD every ER_WAIT_INTERVAL
# seconds (default 0.2) until it succeeds; return 0 then, 1 after TIMEOUT_S.
# CMD's output is discarded. Use: er_wait_until 30 cmd || er_fail "..."
er_wait_until() {
    [[ $# -ge 2 ]] || er_fail "er_wait_until: usage: er_wait_until TIMEOUT_S CMD..."
    local timeout=$1
    shift
    local deadline=$((SECONDS + ${timeout%.*} + 1))
    local start=$EPOCHREALTIME
    while :; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        # EPOCHREALTIME gives sub-second precision where SECONDS does not.
        if awk -v s="$start" -v n="$EPOCHREALTIME" -v t="$timeout" 'BEGIN{exit !(n-s>=t)}' ||
            ((SECONDS > deadline)); then
            return 1
        fi
        sleep "${ER_WAIT_INTERVAL:-0.2}"
    done
}

_er_router_ready() {
    local url=$1
    kill -0 "$ER_ROUTER_PID" 2>/dev/null || return 2
    curl -fs -o /dev/null --max-time 2 "$url"
}

# er_router_start CONFIG LOGFILE [EXTRA_ARGS...] - (call it directly, not in
# $(...): it sets ER_ROUTER_PID in this shell) start the router in the
# background (stdout and stderr to LOGFILE), set ER_ROUTER_PID, and wait up
# to ER_ROUTER_START_TIMEOUT seconds for its readiness probe. Fails the test
# (with the log's tail) if it exits or does not become ready in time.
er_router_start() {
    [[ $# -ge 2 ]] || er_fail "er_router_start: usage: er_router_start CONFIG LOGFILE [ARGS...]"
    local config=$1 log=$2
    shift 2
    local bin=${ER_ROUTER_BIN:-$ER_BUILD_DIR/event-router}
    [[ -x $bin ]] || er_fail "er_router_start: $bin not built"
    [[ -r $config ]] || er_fail "er_router_start: cannot read config $config"
    if [[ -n $ER_ROUTER_PID ]] && kill -0 "$ER_ROUTER_PID" 2>/dev/null; then
        er_fail "er_router_start: router $ER_ROUTER_PID already running"
    fi
    local url=${ER_ROUTER_READY_URL:-http://127.0.0.1:${ER_HTTP_PORT:-9180}/readyz}
    local timeout=${ER_ROUTER_START_TIMEOUT:-30}

    "$bin" run -c "$config" "$@" >>"$log" 2>&1 &
    ER_ROUTER_PID=$!
    er_log "router started (pid $ER_ROUTER_PID, log $log)"

    local deadline=$((SECONDS + timeout)) rc
    if [[ $url == none ]]; then
        sleep 1
        kill -0 "$ER_ROUTER_PID" 2>/dev/null && return 0
        rc=2
    else
        while :; do
            rc=0
            _er_router_ready "$url" || rc=$?
            [[ $rc -eq 0 ]] && return 0
            [[ $rc -eq 2 || $SECONDS -ge $deadline ]] && break
            sleep 0.2
        done
    fi
    local why="not ready at $url after ${timeout}s"
    if [[ $rc -eq 2 ]]; then
        local status=0
        wait "$ER_ROUTER_PID" || status=$?
        why="exited with status $status during startup"
        ER_ROUTER_PID=
    fi
    echo "---- last lines of $log ----" >&2
    tail -n 30 "$log" >&2 || true
    er_fail "er_router_start: router $why"
}

# The router helpers below set ER_ROUTER_STATUS (the exit status) instead of
# printing it: they must run in the test's own shell, never in $(...), since
# only the shell that started the router can wait for it.

# er_router_wait_exit TIMEOUT_S - wait for the router to exit by itself; set
# ER_ROUTER_STATUS and clear ER_ROUTER_PID. Return 1 if it is still running.
er_router_wait_exit() {
    [[ $# -eq 1 ]] || er_fail "er_router_wait_exit: usage: er_router_wait_exit TIMEOUT_S"
    [[ -n $ER_ROUTER_PID ]] || er_fail "er_router_wait_exit: no router running"
    local deadline=$((SECONDS + $1))
    while kill -0 "$ER_ROUTER_PID" 2>/dev/null; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
    ER_ROUTER_STATUS=0
    wait "$ER_ROUTER_PID" 2>/dev/null || ER_ROUTER_STATUS=$?
    ER_ROUTER_PID=
    return 0
}

# er_router_stop - SIGTERM the router and wait up to ER_ROUTER_STOP_TIMEOUT
# seconds (default 30) for a clean exit (it drains and commits); sets
# ER_ROUTER_STATUS. Fails the test if the router does not exit in time (it
# is then SIGKILLed, so no process outlives the test).
er_router_stop() {
    [[ -n $ER_ROUTER_PID ]] || er_fail "er_router_stop: no router running"
    local pid=$ER_ROUTER_PID timeout=${ER_ROUTER_STOP_TIMEOUT:-30}
    kill -TERM "$pid" 2>/dev/null || true
    if ! er_router_wait_exit "$timeout"; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        ER_ROUTER_PID=
        er_fail "er_router_stop: router $pid did not exit within ${timeout}s of SIGTERM (killed)"
    fi
    er_log "router $pid stopped (status $ER_ROUTER_STATUS)"
}

# er_router_kill - SIGKILL the router (a crash, for at-least-once tests) and
# reap it; sets ER_ROUTER_STATUS (137).
er_router_kill() {
    [[ -n $ER_ROUTER_PID ]] || er_fail "er_router_kill: no router running"
    local pid=$ER_ROUTER_PID
    kill -KILL "$pid" 2>/dev/null || true
    ER_ROUTER_STATUS=0
    wait "$pid" 2>/dev/null || ER_ROUTER_STATUS=$?
    ER_ROUTER_PID=
    er_log "router $pid killed (status $ER_ROUTER_STATUS)"
}

# er_require_clusters - skip-free precondition: fail clearly if the shared
# clusters are not reachable, instead of timing out deep inside a test.
er_require_clusters() {
    [[ -n ${ER_KAFKA_BOOTSTRAP:-} ]] || er_fail "ER_KAFKA_BOOTSTRAP not set"
    [[ -n ${ER_NATS_URL:-} ]] || er_fail "ER_NATS_URL not set"
    # Broker metadata, not a topic: a brand-new cluster has no
    # __consumer_offsets until some group commits.
    timeout 20 kcat -L -b "$ER_KAFKA_BOOTSTRAP" -m 10 >/dev/null 2>&1 ||
        er_fail "Kafka not reachable at $ER_KAFKA_BOOTSTRAP (deploy/local/cluster up?)"
    local rc=0
    timeout 20 "$ER_BUILD_DIR/tools/er_js" stream-info __er_probe__ --api-timeout-s 5 \
        >/dev/null 2>&1 || rc=$?
    # 1 = "stream not found": the server answered, which is all we ask.
    [[ $rc -le 1 ]] || er_fail "NATS not reachable at $ER_NATS_URL (deploy/local/cluster up?)"
}
