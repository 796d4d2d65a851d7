#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deploy/local/cluster formats Kafka storage whatever its cluster id looks
# like (issue 13 item 13): a base64url id may start with '-', which
# kafka-storage's argument parser took for an option ("argument
# --cluster-id/-t: expected one argument"), so about one `reset` + `up` in 64
# failed. Formats one node's storage into a temp dir with a forced id that
# starts with '-' (ER_KAFKA_CLUSTER_ID), and checks that the generator
# draws again when its random bytes give an id starting with '-'. No
# cluster is started. Skips (77) without java or the Kafka jars (deploy/local/install-deps).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
name="$(basename "${BASH_SOURCE[0]}" .sh)"

ER_STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/er-$name.XXXXXX")"
export ER_STATE_DIR
trap 'rm -rf "$ER_STATE_DIR"' EXIT
# Defines the functions only (see its last lines); lib.sh comes with it.
# shellcheck source=../../deploy/local/cluster
. "$root/deploy/local/cluster"

fail() {
    printf 'FAIL: %s: %s\n' "$name" "$*" >&2
    exit 1
}

# The generator, without java: its random source (head -c 16 /dev/urandom)
# is replaced so that the first draw starts with '-' (0xf8 = 111110..:
# base64 index 62); the id it keeps must not. A file counts the draws, as
# kafka_cluster_id runs in a subshell.
head() {
    local n
    n=$(($(cat "$ER_STATE_DIR/draws" 2>/dev/null || echo 0) + 1))
    echo "$n" >"$ER_STATE_DIR/draws"
    if ((n == 1)); then
        printf '\370\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017'
    else
        command head "$@"
    fi
}
unset ER_KAFKA_CLUSTER_ID
id="$(kafka_cluster_id single)"
unset -f head
[[ "$id" =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{21}$ ]] ||
    fail "generated cluster id '$id' is not 22 base64url characters starting with [A-Za-z0-9_] (random draws: $(cat "$ER_STATE_DIR/draws"))"
rm -f "$ER_STATE_DIR/single/kafka-cluster-id"

if ! command -v java >/dev/null 2>&1 || [[ ! -f "$ER_KAFKA_LIBS/.resolved" ]]; then
    printf 'SKIP: %s: generator checked; formatting needs java and the Kafka jars in %s (deploy/local/install-deps)\n' \
        "$name" "$ER_KAFKA_LIBS" >&2
    exit 77
fi

# The same 16 bytes as above, in base64url.
forced=-AECAwQFBgcICQoLDA0ODw
export ER_KAFKA_CLUSTER_ID="$forced"
kafka_write_config kafka-1 single
# er_die (exit 1, the format log on stderr) if kafka-storage refuses the id.
kafka_format kafka-1 single
meta="$(node_dir kafka-1 single)/data/meta.properties"
[[ -f "$meta" ]] || fail "no $meta after formatting"
got="$(sed -n 's/^cluster.id=//p' "$meta")"
[[ "$got" == "$forced" ]] || fail "meta.properties has cluster.id='$got', expected '$forced'"
printf 'PASS: %s: formatted with cluster id %s; a generated id starting with '-' is drawn again\n' "$name" "$forced" >&2
