# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# fault_lib.sh - what the fault matrix (tests/integration/it_fault_*.sh,
# docs/reliability.md) shares, on top of lib.sh and router_lib.sh: a guard
# that the cluster a test kills is the one it tests against, router replicas
# by name, a paced background load, two samplers (the stream's message count
# every 0.25 s, the group's committed offsets every 0.5 s), cluster faults
# that are undone at exit even when the test fails, and the verdict: one
# JSON line per run appended to $FAULT_RESULTS and printed as a table row.
#
#   source "$(dirname "$0")/lib.sh"
#   source "$(dirname "$0")/router_lib.sh"
#   source "$(dirname "$0")/fault_lib.sh"
#   fault_begin 2 nats_node_kill9 6     # case number, name, partitions per topic
#   fault_router_start a 19282
#   fault_load 60000 5000               # er_produce in the background
#   fault_mark start; fault_cluster kill nats-2; ...; fault_mark end
#   fault_finish 120                    # commits to the end, verify, record, assert
#
# Environment: ER_RESULTS_DIR (default $ER_BUILD_DIR/fault-results), ER_RUN_ID
# (the run the row belongs to: tests/run sets it; under plain ctest the
# fixture test it_fault_00_new_run writes one to $ER_RESULTS_DIR/run_id).
# A case needs the 3+3 node clusters; in single mode it exits 77 (ctest: skipped).

FAULT_RESULTS_DIR=${ER_RESULTS_DIR:-$ER_BUILD_DIR/fault-results}
FAULT_RESULTS=$FAULT_RESULTS_DIR/faults.jsonl
# A row without the current run's id is ignored by fault_table; a script run
# by hand outside any run gets an id of its own (its row stands alone).
FAULT_RUN_ID=${ER_RUN_ID:-$(cat "$FAULT_RESULTS_DIR/run_id" 2>/dev/null || true)}
FAULT_RUN_ID=${FAULT_RUN_ID:-adhoc-$(date -u +%Y%m%dT%H%M%SZ)-$$}
FAULT_CLUSTER=$ER_SOURCE_DIR/deploy/local/cluster
FAULT_SAMPLERS=()
FAULT_PRODUCER=
FAULT_NOTE=
declare -A FAULT_PID=() FAULT_PORT=() FAULT_DOWN=()

# fault_begin N NAME PARTITIONS - check the clusters, create this test's
# world (it_world), start the samplers. Skips (exit 77) in single mode.
fault_begin() {
    [[ $# -eq 3 ]] || er_fail "fault_begin: usage: fault_begin N NAME PARTITIONS"
    FAULT_N=$1 FAULT_CASE=$2
    FAULT_T0=$EPOCHREALTIME
    er_require_clusters
    _fault_check_own_cluster
    # A 5 s duplicate window (IT_DUPE_WINDOW_S overrides it): every replay
    # and late retry of a case is past it, so JetStream's dedup cannot hide
    # a repeat; only the router's look-up keeps events from being stored
    # twice (docs/reliability.md#past-the-duplicate-window).
    IT_DUPE_WINDOW_S=${IT_DUPE_WINDOW_S:-5} it_world "$3"
    # Registered after it_world so that it runs before the world is deleted.
    er_on_exit _fault_cleanup
    : >"$ER_TEST_DIR/marks"
    _fault_sampler "$ER_TEST_DIR/stream.samples" _fault_sample_stream
    _fault_sampler "$ER_TEST_DIR/commits.samples" _fault_sample_commits 0.5
    er_log "case $FAULT_N ($FAULT_CASE): stream $IT_STREAM, group $IT_GROUP"
}

# The fault cases kill and restart nodes through deploy/local/cluster, which
# finds them by its state directory. Make sure those nodes are the ones at
# $ER_KAFKA_BOOTSTRAP / $ER_NATS_URL, all up, in cluster mode: otherwise a
# test would kill one cluster and measure another.
_fault_check_own_cluster() {
    local st down p
    st=$("$FAULT_CLUSTER" status --json 2>/dev/null) ||
        er_fail "deploy/local/cluster status failed"
    if [[ $(jq -r .mode <<<"$st") != cluster || ${ER_CLUSTER_MODE:-cluster} != cluster ]]; then
        printf 'SKIP: %s: needs the 3+3 node clusters (not --single)\n' "$ER_TEST_NAME" >&2
        exit 77
    fi
    down=$(jq -r '[.nodes[] | select(.state != "up") | .node] | join(" ")' <<<"$st")
    [[ -z $down ]] || er_fail "nodes not up before the test: $down (deploy/local/cluster up)"
    for p in $(jq -r '.nodes[] | select(.kind == "kafka") | .port' <<<"$st"); do
        [[ ,$ER_KAFKA_BOOTSTRAP, == *":$p,"* ]] ||
            er_fail "kafka port $p of deploy/local/cluster is not in ER_KAFKA_BOOTSTRAP=$ER_KAFKA_BOOTSTRAP: the test would kill a cluster it does not use (export the same ER_*_PORTS to both)"
    done
    for p in $(jq -r '.nodes[] | select(.kind == "nats") | .port' <<<"$st"); do
        [[ ,$ER_NATS_URL, == *":$p,"* ]] ||
            er_fail "nats port $p of deploy/local/cluster is not in ER_NATS_URL=$ER_NATS_URL: the test would kill a cluster it does not use (export the same ER_*_PORTS to both)"
    done
}

_fault_cleanup() {
    local name pid p n
    [[ -n $FAULT_PRODUCER ]] && kill "$FAULT_PRODUCER" 2>/dev/null
    for p in "${FAULT_SAMPLERS[@]}"; do kill "$p" 2>/dev/null; done
    for name in "${!FAULT_PID[@]}"; do
        pid=${FAULT_PID[$name]}
        [[ -n $pid ]] || continue
        kill -CONT "$pid" 2>/dev/null
        kill -TERM "$pid" 2>/dev/null
    done
    for name in "${!FAULT_PID[@]}"; do
        pid=${FAULT_PID[$name]}
        [[ -n $pid ]] || continue
        for ((n = 0; n < 200; n++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    # Leave the cluster as we found it, whatever happened.
    if ((${#FAULT_DOWN[@]})); then
        er_log "cleanup: restarting ${!FAULT_DOWN[*]}"
        local starts=()
        for n in "${!FAULT_DOWN[@]}"; do
            # A paused node is running: resume it (start is a no-op then).
            "$FAULT_CLUSTER" resume "$n" >>"$ER_TEST_DIR/cluster.log" 2>&1
            "$FAULT_CLUSTER" start "$n" >>"$ER_TEST_DIR/cluster.log" 2>&1 &
            starts+=($!)
        done
        for p in "${starts[@]}"; do wait "$p"; done
    fi
    return 0
}

# ---- samplers ------------------------------------------------------------------

_fault_sampler() { # OUTFILE FUNCTION [ARGS...]
    local out=$1
    shift
    (
        trap - EXIT
        trap 'exit 0' TERM
        "$@" >>"$out" 2>/dev/null
    ) &
    FAULT_SAMPLERS+=($!)
}

# "<epoch s> <messages>" every 0.25 s; "-" while the stream cannot be read.
_fault_sample_stream() {
    local info
    while :; do
        info=$(timeout 3 "$ER_BUILD_DIR/tools/er_js" stream-info "$IT_STREAM" \
            --api-timeout-s 1 2>/dev/null) || info=
        if [[ $info =~ \"messages\":([0-9]+) ]]; then
            echo "$EPOCHREALTIME ${BASH_REMATCH[1]}"
        else
            echo "$EPOCHREALTIME -"
        fi
        sleep 0.25
    done
}

# "<epoch s> <topic> <partition> <committed> <end>" every INTERVAL s, for
# DURATION s (default: until stopped). The time is when the read started.
_fault_sample_commits() {
    local o t interval=$1 until=$((SECONDS + ${2:-1000000}))
    while ((SECONDS < until)); do
        t=$EPOCHREALTIME
        if o=$(timeout 5 "$ER_BUILD_DIR/tools/er_admin" offsets --group "$IT_GROUP" \
            --topic "$IT_OFFICER,$IT_INCIDENT" --timeout-s 2 2>/dev/null); then
            jq -r --arg t "$t" '.topics[] | .topic as $tp | .partitions[] |
                select(.committed != null) | "\($t) \($tp) \(.partition) \(.committed) \(.end)"' \
                <<<"$o"
        fi
        sleep "$interval"
    done
}

# fault_sample_commits_fast SECONDS - sample the committed offsets as fast as
# er_admin answers (~10/s) for the next SECONDS, into the same monotonicity
# check: for moments when a stale commit could slip in between two samples.
fault_sample_commits_fast() {
    _fault_sampler "$ER_TEST_DIR/commits.fast.samples" _fault_sample_commits 0.02 "$1"
}

# ---- routers -------------------------------------------------------------------

# fault_router_start NAME PORT [EXTRA_YAML] - start (or restart) replica NAME
# with its own config and HTTP port; wait until it is ready (joined the group
# and connected to NATS). Stopped at exit by _fault_cleanup.
fault_router_start() {
    local name=$1 port=$2
    it_config "$ER_TEST_DIR/$name.yaml" "$port" "${3:-}"
    ER_ROUTER_PID=
    ER_ROUTER_READY_URL=http://127.0.0.1:$port/readyz \
        er_router_start "$ER_TEST_DIR/$name.yaml" "$ER_TEST_DIR/$name.log"
    FAULT_PID[$name]=$ER_ROUTER_PID
    FAULT_PORT[$name]=$port
    ER_ROUTER_PID= # the replicas are ours to stop, not lib.sh's exit trap
}

# fault_router_kill NAME - SIGKILL replica NAME and reap it.
fault_router_kill() {
    local pid=${FAULT_PID[$1]}
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    FAULT_PID[$1]=
    er_log "replica $1 (pid $pid) killed with SIGKILL"
}

# fault_router_stop NAME... - SIGTERM the replicas together (as a scale-down
# does); each must drain and exit 0 within 30 s.
fault_router_stop() {
    local name pid n st
    for name in "$@"; do kill -TERM "${FAULT_PID[$name]}"; done
    for name in "$@"; do
        pid=${FAULT_PID[$name]} st=0
        for ((n = 0; n < 300; n++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null &&
            er_fail "replica $name (pid $pid) did not exit within 30 s of SIGTERM"
        wait "$pid" || st=$?
        FAULT_PID[$name]=
        er_assert_eq "$st" 0 "replica $name exits 0 after SIGTERM"
        er_log "replica $name (pid $pid) stopped"
    done
}

# fault_alive NAME - fail unless replica NAME's process is still running.
fault_alive() {
    kill -0 "${FAULT_PID[$1]:-0}" 2>/dev/null ||
        er_fail "replica $1 died; last lines of its log: $(tail -n 20 "$ER_TEST_DIR/$1.log")"
}

# fault_metric NAME METRIC - it_metric for replica NAME.
fault_metric() {
    it_metric "${FAULT_PORT[$1]}" "$2"
}

# fault_assigned NAME - partitions replica NAME owns (er_assigned_partitions,
# refreshed every second).
fault_assigned() {
    fault_metric "$1" er_assigned_partitions
}

# fault_split NAME... - true when the replicas together own all 12
# partitions and each owns some. The gauges are refreshed once a second and
# not at all while a replica waits out a revoke, so this is polled until
# one reading agrees.
fault_split() {
    local name ports=()
    for name in "$@"; do ports+=("${FAULT_PORT[$name]}"); done
    it_split_settled 12 "${ports[@]}"
}

# fault_owns NAME N... - true when the replicas own exactly N... partitions,
# in order ("*" for any number above 0; for er_wait_until).
fault_owns() {
    local name want have
    while (($# >= 2)); do
        name=$1 want=$2
        shift 2
        have=$(fault_assigned "$name") || return 1
        if [[ $want == "*" ]]; then
            ((${have:-0} > 0)) || return 1
        else
            [[ $have == "$want" ]] || return 1
        fi
    done
}

# fault_published NAME - PubAcks (new + duplicate) replica NAME has counted.
fault_published() {
    local a b
    a=$(fault_metric "$1" er_events_published_total) b=$(fault_metric "$1" er_events_duplicate_total)
    echo $((${a:-0} + ${b:-0}))
}

# fault_published_over NAME N - true once replica NAME counted more than N
# PubAcks (for er_wait_until: arguments are expanded only once there).
fault_published_over() {
    (($(fault_published "$1") > $2))
}

# ---- load and faults ------------------------------------------------------------

# fault_load COUNT RATE [SEED] - produce COUNT events at RATE/s in the
# background (critical IDs to critical.raw). FAULT_AGGREGATES: aggregates
# (Kafka keys) per domain, two domains (er_produce's default 997).
fault_load() {
    it_produce --count "$1" --rate "$2" --seed "${3:-$FAULT_N}" --run-id "f$FAULT_N" \
        --aggregates "${FAULT_AGGREGATES:-997}" \
        --ids-out "$ER_TEST_DIR/critical.raw" >"$ER_TEST_DIR/produce.json" \
        2>"$ER_TEST_DIR/produce.err" &
    FAULT_PRODUCER=$!
    er_log "load: $1 events at $2/s (pid $FAULT_PRODUCER)"
}

# fault_wait_load TIMEOUT_S - wait for the producer; fail if it failed.
fault_wait_load() {
    [[ -n $FAULT_PRODUCER ]] || return 0
    local deadline=$((SECONDS + $1)) st=0
    while kill -0 "$FAULT_PRODUCER" 2>/dev/null; do
        ((SECONDS < deadline)) || er_fail "producer still running after $1 s"
        sleep 0.2
    done
    wait "$FAULT_PRODUCER" || st=$?
    FAULT_PRODUCER=
    [[ $st -eq 0 ]] || er_fail "producer failed ($st): $(cat "$ER_TEST_DIR/produce.json") $(tail -n 5 "$ER_TEST_DIR/produce.err")"
    er_log "load done: $(cat "$ER_TEST_DIR/produce.json")"
}

# fault_mark NAME - timestamp a moment: "start" (fault injected), "end"
# (the action that undoes it; recover_s is measured from each "end") and,
# optionally, "recovered" (the router's first PubAck after an "end", when
# the stream alone cannot tell: a killed router's last publishes are still
# stored after its death).
fault_mark() {
    echo "$EPOCHREALTIME $1" >>"$ER_TEST_DIR/marks"
    er_log "-- $1"
}

# fault_cluster VERB NODE... - deploy/local/cluster VERB on each NODE, in
# parallel (a lone NATS node cannot become ready without its peers). Nodes
# killed or stopped here are started again at exit if the test ends early.
fault_cluster() {
    local verb=$1 n p rc=0 pids=()
    shift
    for n in "$@"; do
        [[ $verb == start || $verb == resume ]] || FAULT_DOWN[$n]=1
        "$FAULT_CLUSTER" "$verb" "$n" >>"$ER_TEST_DIR/cluster.log" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    ((rc == 0)) || er_fail "deploy/local/cluster $verb $*: failed: $(tail -n 5 "$ER_TEST_DIR/cluster.log")"
    if [[ $verb == start || $verb == resume ]]; then
        for n in "$@"; do unset "FAULT_DOWN[$n]"; done
    fi
    er_log "cluster $verb $*: done"
}

# fault_note TEXT - a remark for the result line (e.g. who led the stream).
fault_note() {
    FAULT_NOTE+="${FAULT_NOTE:+; }$*"
}

# ---- verdict ---------------------------------------------------------------------

# fault_finish TIMEOUT_S - wait for the load and for the committed offsets to
# reach the end offsets, verify the stream against the produced critical IDs,
# append the result line, print the row, then assert: nothing missing,
# nothing stored twice, no committed offset ever went backwards.
fault_finish() {
    local timeout=$1 committed_ok=true v verify_rc=0 p
    fault_wait_load 300
    it_prefixed "$ER_TEST_DIR/critical.raw" "$ER_TEST_DIR/critical"
    if ! it_wait_committed "$timeout" >"$ER_TEST_DIR/offsets.json"; then
        committed_ok=false
        er_log "committed offsets did not reach the end within $timeout s"
    fi
    sleep 1 # one more sample of each kind after the end
    for p in "${FAULT_SAMPLERS[@]}"; do kill "$p" 2>/dev/null || true; done
    FAULT_SAMPLERS=()

    # Per-key order is checked whatever the mode; with IT_ORDERING=none its
    # violations are recorded but do not fail the case (that mode promises none).
    v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical" --check-key-order) ||
        verify_rc=$?
    [[ $verify_rc -le 1 ]] || er_fail "er_js verify failed ($verify_rc): $v"
    local produced critical dlq regress order_ok=true
    [[ ${IT_ORDERING:-key} == none || $(er_json key_order_violations "$v") == 0 ]] || order_ok=false
    produced=$(er_json produced "$(cat "$ER_TEST_DIR/produce.json")")
    critical=$(wc -l <"$ER_TEST_DIR/critical")
    dlq=$(er_tool er_admin end-offsets --topic "$IT_DLQ" | jq .end_total)
    # Committed offsets per partition must never decrease. Checked per
    # sampler: one sampler's reads are sequential, but two samplers overlap
    # (a slow read started earlier can return later), so merging them by
    # time would report false regressions.
    : >"$ER_TEST_DIR/regressions"
    for p in "$ER_TEST_DIR"/commits*.samples; do
        awk '{ k = $2 " " $3 } (k in last) && $4 < last[k] { print; n++ } { last[k] = $4 }' \
            "$p" >>"$ER_TEST_DIR/regressions"
    done
    regress=$(wc -l <"$ER_TEST_DIR/regressions")
    local recover stall pstall
    read -r recover stall pstall <<<"$(_fault_times)"

    mkdir -p "$FAULT_RESULTS_DIR"
    jq -nc --argjson n "$FAULT_N" --arg case "$FAULT_CASE" --arg test "$ER_TEST_NAME" \
        --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$(hostname -s) ($(nproc) cores)" \
        --argjson produced "${produced:-0}" --argjson critical "$critical" --argjson v "$v" \
        --argjson dlq "${dlq:-0}" --argjson regress "$regress" \
        --argjson recover "$recover" --argjson stall "$stall" --argjson pstall "$pstall" \
        --argjson total "$(awk -v a="$FAULT_T0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')" \
        --argjson committed "$committed_ok" --arg note "$FAULT_NOTE" --arg run "$FAULT_RUN_ID" \
        --arg ordering "${IT_ORDERING:-key}" --argjson order_ok "$order_ok" \
        '{n: $n, case: $case, test: $test, run: $run, date: $date, host: $host, produced: $produced,
          critical: $critical, stored: $v.stored, missing: $v.missing,
          duplicates: $v.duplicates, unexpected: $v.unexpected, dead_lettered: $dlq,
          ordering: $ordering, order_violations: $v.key_order_violations,
          commit_regressions: $regress, committed_to_end: $committed,
          recover_s: $recover, stall_s: $stall, part_stall_s: $pstall, total_s: $total,
          note: $note,
          pass: ($v.missing == 0 and $v.duplicates == 0 and $v.unexpected == 0 and
                 $regress == 0 and $committed and $dlq == 0 and $order_ok)}' >>"$FAULT_RESULTS"
    tail -n 1 "$FAULT_RESULTS" | "$ER_SOURCE_DIR/tests/integration/fault_table" --run "$FAULT_RUN_ID" - >&2

    [[ $committed_ok == true ]] ||
        er_fail "committed offsets did not reach the end offsets: $(cat "$ER_TEST_DIR/offsets.json")"
    er_assert_eq "$(er_json missing "$v")" 0 "critical events missing from the stream"
    er_assert_eq "$(er_json duplicates "$v")" 0 "critical events stored twice"
    er_assert_eq "$(er_json unexpected "$v")" 0 "unexpected events in the stream"
    er_assert_eq "$regress" 0 "committed offsets that went backwards ($(head -n 3 "$ER_TEST_DIR/regressions"))"
    er_assert_eq "$dlq" 0 "events dead-lettered (each would be missing from the stream)"
    [[ $order_ok == true ]] ||
        er_fail "$(er_json key_order_violations "$v") events stored before an earlier event of their key (ordering: ${IT_ORDERING:-key})"
}

# "<recover_s> <stall_s> <part_stall_s>" from the marks and the samples:
#   recover_s:    from each "end" mark to the next "recovered" mark if
#                 there is one, else to the first sample showing a new
#                 stored event; the worst over all "end" marks;
#   stall_s:      the longest time without a new stored event, from the
#                 first "start" mark until the stream holds everything;
#   part_stall_s: the longest time one partition's committed offset stood
#                 still while it had a backlog (committed < end), from the
#                 first "start" mark on.
_fault_times() {
    local fs recover_stall pstall
    fs=$(awk '$2 == "start" { print $1; exit }' "$ER_TEST_DIR/marks")
    recover_stall=$(awk 'FNR == NR { if ($2 == "end") e[++ne] = $1
                                     if ($2 == "recovered") rv[ne] = $1; next }
         $2 != "-" { n++; t[n] = $1; c[n] = $2 }
         END {
             if (!n) { print "0 0"; exit }
             if (fs == "") fs = t[1]
             final = c[n]; prev = 0; last = fs; stall = 0
             for (i = 1; i <= n; i++) {
                 if (t[i] < fs) { prev = c[i]; continue }
                 if (c[i] > prev) { g = t[i] - last; if (g > stall) stall = g; last = t[i]; prev = c[i] }
                 if (c[i] >= final) break
             }
             rec = 0
             for (j = 1; j <= ne; j++) {
                 if (j in rv) { r = rv[j] - e[j]; if (r > rec) rec = r; continue }
                 c0 = 0
                 for (i = 1; i <= n && t[i] <= e[j]; i++) c0 = c[i]
                 for (; i <= n; i++) if (c[i] > c0) { r = t[i] - e[j]; if (r > rec) rec = r; break }
             }
             printf "%.1f %.1f\n", rec, stall
         }' fs="$fs" "$ER_TEST_DIR/marks" "$ER_TEST_DIR/stream.samples")
    # A sample that shows the offset moved closes the stall at its own time
    # (an upper bound by one sampling interval; samples missing while the
    # group coordinator is away count as standing still).
    pstall=$(awk -v fs="$fs" '$1 >= fs + 0 {
             k = $2 " " $3
             if (k in since && $1 - since[k] > m) m = $1 - since[k]
             if (!(k in since) || $4 != val[k] || $4 >= $5) since[k] = $1
             val[k] = $4
         }
         END { printf "%.1f\n", m }' "$ER_TEST_DIR/commits.samples")
    echo "$recover_stall $pstall"
}

# ---- NATS placement ----------------------------------------------------------------

# fault_stream_leader - the node leading this test's stream ("" if none).
fault_stream_leader() {
    er_tool er_js stream-info "$IT_STREAM" --api-timeout-s 2 2>/dev/null |
        jq -r '.cluster.leader // ""'
}

# fault_wait_stream TIMEOUT_S - until the stream answers again (it elects a
# leader some seconds after the nodes report ready).
fault_wait_stream() {
    _fault_stream_up() { [[ -n $(fault_stream_leader) ]]; }
    er_wait_until "$1" _fault_stream_up || er_fail "stream $IT_STREAM has no leader after $1 s"
}

# fault_make_stream_leader NODE - move the stream's leadership to NODE, so
# that a fault on NODE hits the leader (a follower's loss is a non-event).
fault_make_stream_leader() {
    local i
    for ((i = 0; i < 5; i++)); do
        [[ $(fault_stream_leader) == "$1" ]] && return 0
        "$ER_SOURCE_DIR/deploy/local/nats" --server "$ER_NATS_URL" stream cluster step-down \
            "$IT_STREAM" --preferred "$1" >>"$ER_TEST_DIR/cluster.log" 2>&1 || true
        sleep 1
    done
    [[ $(fault_stream_leader) == "$1" ]] || er_fail "could not move the leadership of $IT_STREAM to $1"
}

# fault_router_nats_nodes - the NATS nodes that router connections (client
# name event-router) are attached to, one per line.
fault_router_nats_nodes() {
    local st node mon
    st=$("$FAULT_CLUSTER" status --json 2>/dev/null) || return 0
    while read -r node mon; do
        if curl -fsS --max-time 2 "http://127.0.0.1:$mon/connz?limit=1024" 2>/dev/null |
            jq -e '[.connections[]? | select(.name == "event-router")] | length > 0' >/dev/null; then
            echo "$node"
        fi
    done < <(jq -r '.nodes[] | select(.kind == "nats" and .state == "up") | "\(.node) \(.other_ports[0])"' <<<"$st")
}
