#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A start with the shipped local config logs no librdkafka CONFWARN (the
# dead-letter producer takes only the producer's share of kafka.properties)
# and says "admin endpoint listening" once. No broker is needed: the config
# is pointed at closed ports, so the only warnings left are the connection
# failures, which this test does not count.
set -u
bin=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
port=$((20000 + RANDOM % 20000))
sed -e "s#^  brokers: .*#  brokers: 127.0.0.1:1#" \
    -e "s#nats://127.0.0.1:422[234]#nats://127.0.0.1:1#" \
    -e "s#^  listen: .*#  listen: 127.0.0.1:$port#" \
    -e "s#^rules: .*#rules: $src/rules/default.yaml#" \
    "$src/deploy/local/router.yaml" >"$tmp/router.yaml"
# A consumer-only property the DLQ producer must not be given.
grep -q 'fetch.wait.max.ms' "$tmp/router.yaml" || { echo "FAIL: the shipped config changed"; exit 1; }
"$bin" run -c "$tmp/router.yaml" >"$tmp/log" 2>&1 &
pid=$!
sleep 3
kill -TERM $pid
wait $pid
rc=$?
cat "$tmp/log" | cut -c1-200
fail=0
if grep -q 'CONFWARN' "$tmp/log"; then echo "FAIL: a CONFWARN was logged"; fail=1; fi
n=$(grep -c 'admin endpoint listening' "$tmp/log")
[[ $n -eq 1 ]] || { echo "FAIL: 'admin endpoint listening' logged $n times"; fail=1; }
[[ $rc -eq 0 ]] || { echo "FAIL: exit $rc after SIGTERM"; fail=1; }
[[ $fail -eq 0 ]] && echo ok
exit $fail
