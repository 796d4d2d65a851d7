# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# router_lib.sh - what the router's integration tests share, on top of lib.sh:
# an isolated "world" per test (its own topics, consumer group, subject
# prefix and stream, so tests never see each other's events, nor the demo's
# COMMANDS stream) and a router config pointing at it.
#
#   source "$(dirname "$0")/lib.sh"
#   source "$(dirname "$0")/router_lib.sh"
#   it_world 4                # topics with 4 partitions each
#   it_config "$ER_TEST_DIR/router.yaml" 19181
#   er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"

# Replication factor and stream replicas follow the cluster mode.
if [[ ${ER_CLUSTER_MODE:-cluster} == single ]]; then IT_RF=1; else IT_RF=3; fi

# it_world PARTITIONS - create this test's topics, group, prefix and stream;
# all removed at exit. IT_TOPIC_CONFIG="k=v ..." adds configs to the two
# source topics (not the dead-letter topic). Sets IT_OFFICER IT_INCIDENT IT_DLQ IT_GROUP IT_PREFIX
# IT_STREAM IT_RULES. IT_STREAM_REPLICAS overrides the stream replicas (default: IT_RF),
# IT_DUPE_WINDOW_S its duplicate window (default 120), IT_ORDERING the rules'
# file-wide ordering (default: rules/default.yaml's, key).
it_world() {
    local parts=$1 id
    id=$(er_unique it | tr -d -)
    id=${id:0:24}
    IT_OFFICER="$id-officer-events"
    IT_INCIDENT="$id-incident-events"
    IT_DLQ="$id.dlq"
    IT_GROUP="$id-router"
    IT_PREFIX="$id"
    IT_STREAM="IT_${id^^}"
    local t
    local extra=() kv
    for kv in ${IT_TOPIC_CONFIG:-}; do extra+=(--config "$kv"); done
    for t in "$IT_OFFICER" "$IT_INCIDENT" "$IT_DLQ"; do
        [[ $t == "$IT_DLQ" ]] && extra=()
        er_tool er_admin create-topic "$t" --partitions "$parts" --replication-factor "$IT_RF" \
            --config min.insync.replicas=$((IT_RF > 1 ? 2 : 1)) "${extra[@]}" >/dev/null
        er_on_exit "$ER_BUILD_DIR/tools/er_admin" delete-topic "$t"
    done
    er_tool er_js stream-add "$IT_STREAM" --subjects "$IT_PREFIX.>" --replicas "${IT_STREAM_REPLICAS:-$IT_RF}" \
        --storage file --dupe-window-s "${IT_DUPE_WINDOW_S:-120}" >/dev/null
    er_on_exit "$ER_BUILD_DIR/tools/er_js" stream-rm "$IT_STREAM"
    # The shipped convention, with this test's subject prefix in front.
    IT_RULES="$ER_TEST_DIR/rules.yaml"
    sed -e "s|subject: \"commands\.|subject: \"$IT_PREFIX.commands.|" \
        "$ER_SOURCE_DIR/rules/default.yaml" >"$IT_RULES"
    grep -q "subject: \"$IT_PREFIX.commands." "$IT_RULES" ||
        er_fail "it_world: could not prefix the subject in rules/default.yaml"
    if [[ -n ${IT_ORDERING:-} ]]; then
        sed -i -e "s|^ordering: key\$|ordering: $IT_ORDERING|" "$IT_RULES"
        grep -q "^ordering: $IT_ORDERING\$" "$IT_RULES" ||
            er_fail "it_world: could not set ordering: $IT_ORDERING in the rules"
    fi
    export IT_OFFICER IT_INCIDENT IT_DLQ IT_GROUP IT_PREFIX IT_STREAM IT_RULES
    er_on_fail it_group_history
}

# it_group_history - what the local brokers' group coordinators logged about
# this test's consumer group (joins, epochs, target assignments, leaves).
it_group_history() {
    local f
    for f in "$ER_SOURCE_DIR"/deploy/local/.state/*/kafka-*/logs/server.log; do
        [[ -r $f ]] && grep -h "GroupId $IT_GROUP\]" "$f" | cut -c1-300
    done | sort | tail -n 40
}

# it_config OUT HTTP_PORT [EXTRA_YAML] - a router config for this world.
# EXTRA_YAML is appended as top-level sections, so it must not repeat one
# that is already written (kafka, nats, limits, log, ...). Two sections can
# be adjusted through the environment instead:
#   IT_KAFKA_PROPS  more librdkafka properties, one key=value per line; they
#                   come after the defaults below, so they override them
#                   (librdkafka keeps the last value set)
#   IT_LOG_LEVEL    log.level (default info; debug for a post-mortem)
#   IT_KAFKA_EXTRA  lines inserted into the kafka: section (indent 2), right
#                   after its properties list (so "    - k=v" lines add
#                   properties), e.g. "  group_instance_id_env: POD_NAME"
#   IT_NATS_EXTRA   lines inserted into the nats: section (indent 2)
#   IT_LIMITS_EXTRA lines inserted into the limits: section (indent 2)
it_config() {
    local out=$1 port=$2 extra=${3:-}
    local brokers nats_list="" props="" u kv
    brokers=$ER_KAFKA_BOOTSTRAP
    IFS=, read -r -a urls <<<"$ER_NATS_URL"
    for u in "${urls[@]}"; do nats_list+="    - $u"$'\n'; done
    while IFS= read -r kv; do
        [[ -n $kv ]] || continue
        [[ $kv == ?*=* ]] || er_fail "it_config: IT_KAFKA_PROPS: expected key=value, got '$kv'"
        props+="    - \"$kv\""$'\n'
    done <<<"${IT_KAFKA_PROPS:-}"
    cat >"$out" <<YAML
kafka:
  brokers: "$brokers"
  group_id: "$IT_GROUP"
  topics: ["$IT_OFFICER", "$IT_INCIDENT"]
  properties:
    - fetch.wait.max.ms=10
${props}${IT_KAFKA_EXTRA:+$IT_KAFKA_EXTRA
}nats:
  servers:
$nats_list  ack_timeout_ms: ${IT_ACK_TIMEOUT_MS:-5000}
${IT_NATS_EXTRA:-}
rules: "$IT_RULES"
limits:
  max_inflight_per_partition: ${IT_INFLIGHT_PER_PARTITION:-2000}
  max_inflight_total: 8000
  drain_timeout_ms: 15000
  commit_interval_ms: 500
  revoke_timeout_ms: 10000
${IT_LIMITS_EXTRA:-}
dlq:
  topic: "$IT_DLQ"
http:
  listen: "127.0.0.1:$port"
  stuck_after_ms: 30000
log:
  level: ${IT_LOG_LEVEL:-info}
$extra
YAML
}

# it_kill_config CONFIG - SIGKILL any router still running with CONFIG
# (cleanup for tests that start more than one replica).
it_kill_config() {
    pkill -KILL -f "$1" || true
}

# it_produce ARGS... - er_produce into this world's topics (JSON summary on stdout).
it_produce() {
    er_tool er_produce --topics "$IT_OFFICER,$IT_INCIDENT" --quiet "$@"
}

# it_prefixed IDS_IN IDS_OUT - rewrite expected subjects with this world's prefix.
it_prefixed() {
    awk -v p="$IT_PREFIX." 'BEGIN{FS=OFS="\t"} {$2 = p $2; print}' "$1" >"$2"
}

# it_wait_committed TIMEOUT_S - until the group committed every end offset.
it_wait_committed() {
    er_tool er_admin wait-offsets --group "$IT_GROUP" --topic "$IT_OFFICER,$IT_INCIDENT" \
        --timeout-s "$1" --quiet
}

# it_split_settled TOTAL PORT... - true when the replicas at these admin
# ports together own TOTAL partitions and each owns at least one. A group
# is settled only then: with cooperative-sticky, a joining member first gets
# an empty assignment and its partitions only in the next round.
it_split_settled() {
    local total=$1 sum=0 n port
    shift
    for port in "$@"; do
        n=$(it_metric "$port" er_assigned_partitions)
        [[ -n $n && $n -gt 0 ]] || return 1
        sum=$((sum + n))
    done
    [[ $sum -eq $total ]]
}

# it_metric PORT NAME_WITH_LABELS - one value scraped from /metrics (sum over series
# when only a name prefix is given).
it_metric() {
    curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" |
        awk -v m="$2" 'index($0, m) == 1 && $0 !~ /^#/ { s += $NF; n++ } END { if (n) printf "%d\n", s; else print "" }'
}
