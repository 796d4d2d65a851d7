#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `event-router check -c` on the broken deployments of tests/data/deploy/:
# each run must report every planted problem, each at its file:line:col,
# and nothing else (the count of diagnostics is exact), and exit 1. The
# clean deployment and the shipped configs exit 0 even with --strict.
set -u
bin=$(realpath "$1") src=$(realpath "$2")
data=$src/tests/data/deploy
fail=0

# deployment EXPECTED_ERRORS EXPECTED_WARNINGS EXPECTED_RC -- LINES...
# Each LINE is a fixed string that must appear in what check printed.
deployment() {
    local dir=$1 errors=$2 warnings=$3 want_rc=$4
    shift 5
    local out rc got_e got_w
    out=$(cd "$data/.." && env -u ER_CHECK_SURELY_UNSET_PASSWORD "$bin" check -c "deploy/$dir/router.yaml" 2>&1)
    rc=$?
    got_e=$(grep -c ': error: ' <<<"$out")
    got_w=$(grep -c ': warning: ' <<<"$out")
    echo "== check -c deploy/$dir/router.yaml (exit $rc)"
    echo "$out"
    if [[ $rc -ne $want_rc || $got_e -ne $errors || $got_w -ne $warnings ]]; then
        echo "FAIL: $dir: want exit $want_rc, $errors errors, $warnings warnings;" \
            "got exit $rc, $got_e errors, $got_w warnings"
        fail=1
    fi
    for line in "$@"; do
        grep -qF -- "$line" <<<"$out" || { echo "FAIL: $dir: missing: $line"; fail=1; }
    done
}

deployment typos 5 0 1 -- \
    "deploy/typos/router.yaml:8:7: error: 'kafka.properties[0]': librdkafka has no property 'fetch.wait.maxms' (did you mean 'fetch.wait.max.ms'?)" \
    "deploy/typos/router.yaml:9:7: error: 'kafka.properties[1]': enable.auto.offset.store must stay false" \
    "deploy/typos/router.yaml:10:7: error: 'kafka.properties[2]': sasl.password: environment variable ER_CHECK_SURELY_UNSET_PASSWORD is not set" \
    "deploy/typos/router.yaml:13:7: error: 'nats.servers[0]': expected nats://host:port" \
    "deploy/typos/router.yaml:18:3: error: unknown key 'levl' in 'log' (did you mean 'level'?)"

deployment new_route 2 1 1 -- \
    "deploy/new_route/router.yaml:1:1: error: 'dlq.topic' is not set, but the rules can dead-letter events" \
    "deploy/new_route/rules.yaml:13:14: error: route 'hr' publishes to 'events.hr.officer-promoted', which no stream of" \
    "deploy/new_route/rules.yaml:19:5: warning: 'critical' means nothing on a route that does not publish (action: skip)"

deployment missing_files 3 0 1 -- \
    "deploy/missing_files/router.yaml:15:8: error: 'rules': cannot read the rule file" \
    "(did you mean 'rules.yaml'?)" \
    "deploy/missing_files/router.yaml:11:7: error: 'kafka.properties[3]': sasl.password:" \
    "deploy/missing_files/router.yaml:14:15: error: 'nats.creds_file': cannot read '/nonexistent/event-router/router.creds'"

# A config that does not load still gets the rule file it names checked.
deployment unloadable 3 0 1 -- \
    "deploy/unloadable/router.yaml:10:1: error: YAML syntax error" \
    "deploy/unloadable/rules.yaml:9:5: error: unknown key 'subjct' in route 'commands' (did you mean 'subject'?)"

deployment clean 0 0 0 -- "deploy/clean/router.yaml: ok"

deployment warnings_only 0 2 0 -- \
    "deploy/warnings_only/router.yaml:8:7: warning: 'kafka.properties[0]': 'range' is an eager assignor" \
    "deploy/warnings_only/router.yaml:15:7: warning: 'dlq.properties[0]': 'fetch.wait.max.ms' applies to consumers only" \
    "deploy/warnings_only/router.yaml: ok"
(cd "$data/.." && "$bin" check --strict -c deploy/warnings_only/router.yaml >/dev/null 2>&1)
[[ $? -eq 1 ]] || { echo "FAIL: --strict must fail on warnings"; fail=1; }

# The shipped configs are clean, warnings included. Those for images name
# the rule file's path inside the image: --rules gives the repository's.
for cfg in deploy/local/router.yaml "deploy/compose/router.yaml --rules rules/default.yaml" \
    "deploy/k8s/router.yaml --rules rules/default.yaml"; do
    # shellcheck disable=SC2086
    out=$(cd "$src" && "$bin" check --strict -c $cfg 2>&1) ||
        { echo "FAIL: check --strict -c $cfg:"; echo "$out"; fail=1; }
done

# --strict turns warnings into a failure; --json says the same.
out=$(cd "$data/.." && "$bin" check --json -c deploy/new_route/router.yaml)
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"] is False and d["errors"]==2 and d["warnings"]==1, d' <<<"$out" ||
    { echo "FAIL: --json"; fail=1; }

# A rule file given to -c, and a config given as a rule file, are told apart.
out=$("$bin" check -c "$src/rules/default.yaml" 2>&1) || { echo "FAIL: -c rules"; fail=1; }
grep -qF "this is a rule file, not a router config" <<<"$out" || { echo "FAIL: -c rules note"; fail=1; }
out=$("$bin" check "$data/clean/router.yaml" 2>&1) || { echo "FAIL: config as FILE: $out"; fail=1; }
grep -qF "this is a router config" <<<"$out" || { echo "FAIL: config note"; fail=1; }

[[ $fail -eq 0 ]] && echo "ok"
exit $fail
