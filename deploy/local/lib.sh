# SPDX-License-Identifier: Apache-2.0
# Shared by the deploy/local scripts: paths, pinned tool versions, ports and
# small helpers. Sourced, never run. Knows nothing about any one script.

ER_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ER_ROOT="$(cd "$ER_LOCAL_DIR/../.." && pwd)"
ER_STATE_DIR="${ER_STATE_DIR:-$ER_LOCAL_DIR/.state}"
ER_TOOLS_DIR="${ER_TOOLS_DIR:-$ER_LOCAL_DIR/.tools}"
ER_TOOLS_BIN="$ER_TOOLS_DIR/bin"
ER_KAFKA_LIBS="$ER_TOOLS_DIR/kafka/libs"
# Kafka 3.9 broker jars (conf/kafka-3.9/pom.xml), only for
# `secure-services kafka-up --version 3.9` (an older broker to try by hand).
ER_KAFKA39_LIBS="$ER_TOOLS_DIR/kafka-3.9/libs"

# Pinned versions: the one place to change them. JetStream needs
# nats-server >= 2.10.23; the Kafka version lives in conf/kafka/pom.xml.
# nats-server stays on the 2.12 line: 2.14.x and 2.15.x leave an R3 stream
# leaderless after a rejected Nats-Expected-Last-Msg-Id publish
# (docs/reliability.md, "nats-server: a rejected expected-last-msg-id
# publish wedges an R3 stream").
ER_NATS_SERVER_VERSION="v2.12.15"
ER_NATSCLI_VERSION="v0.5.0"
# Go that builds both (their go.mod say "go 1.26.0"); used only when the
# installed go is older and has to fetch a toolchain through the module proxy.
ER_GO_MIN_VERSION="1.26"
ER_GO_TOOLCHAIN="go1.26.8"
# librdkafka, built by install-deps from Debian's source package (sid's
# deb-src; Debian 12 ships 2.0.2, which cannot SCRAM-authenticate to Kafka 4,
# librdkafka#4895). Upstream version and Debian revision: `apt-get source
# librdkafka=2.14.2-1`. CMakeLists.txt reads these two lines too.
ER_LIBRDKAFKA_VERSION="2.14.2"
ER_LIBRDKAFKA_DEBIAN_REVISION="1"

# shellcheck source=ports.env
. "$ER_LOCAL_DIR/ports.env"
read -r -a ER_KAFKA_PORT_LIST <<<"$ER_KAFKA_PORTS"
read -r -a ER_KAFKA_CONTROLLER_PORT_LIST <<<"$ER_KAFKA_CONTROLLER_PORTS"
read -r -a ER_NATS_PORT_LIST <<<"$ER_NATS_PORTS"
read -r -a ER_NATS_MONITOR_PORT_LIST <<<"$ER_NATS_MONITOR_PORTS"
read -r -a ER_NATS_CLUSTER_PORT_LIST <<<"$ER_NATS_CLUSTER_PORTS"

er_prog="$(basename "$0")"

er_note() { printf '%s: %s\n' "$er_prog" "$*" >&2; }
er_die() {
    printf '%s: error: %s\n' "$er_prog" "$*" >&2
    exit 1
}

# The prefix librdkafka is installed into, outside any clone so that CI and
# every clone on the machine share one build: ER_LIBRDKAFKA_PREFIX if set,
# else /var/cache/event-router/librdkafka-V-R when it is already complete or
# /var/cache is writable, else ~/.cache/event-router/librdkafka-V-R.
# CMakeLists.txt looks in the same two places.
er_librdkafka_prefix() {
    if [[ -n "${ER_LIBRDKAFKA_PREFIX:-}" ]]; then
        echo "$ER_LIBRDKAFKA_PREFIX"
        return 0
    fi
    local name="librdkafka-$ER_LIBRDKAFKA_VERSION-$ER_LIBRDKAFKA_DEBIAN_REVISION"
    local sys="/var/cache/event-router"
    if [[ -f "$sys/$name/.complete" ]] || [[ -w "$sys" ]] ||
        { [[ ! -e "$sys" ]] && [[ -w /var/cache ]]; }; then
        echo "$sys/$name"
    else
        echo "$HOME/.cache/event-router/$name"
    fi
}

# Go binary to use: PATH first, then the usual tarball location.
er_find_go() {
    if command -v go >/dev/null 2>&1; then
        command -v go
    elif [[ -x /usr/local/go/bin/go ]]; then
        echo /usr/local/go/bin/go
    fi
}

# A new Kafka cluster id: 16 random bytes, base64url without padding, drawn
# again while it starts with '-' (1 in 64), which kafka-storage's argument
# parser takes for an option ("argument --cluster-id/-t: expected one
# argument"). Callers also pass it as --cluster-id=ID, which parses either way.
er_kafka_new_cluster_id() {
    local id
    while id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')" && [[ "$id" == -* ]]; do
        :
    done
    echo "$id"
}

# Small JVM for command-line tools: quick start matters more than peak speed.
ER_KAFKA_TOOL_JVM_OPTS=(-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    -Xshare:auto -Djava.awt.headless=true)

er_require_kafka_libs() {
    [[ -f "$ER_KAFKA_LIBS/.resolved" ]] ||
        er_die "Kafka jars missing in $ER_KAFKA_LIBS; run deploy/local/install-deps"
}
