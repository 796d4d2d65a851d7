#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Stream provisioning: `streams --dry-run` only says what it would create;
# `streams` creates a missing stream as declared; a declaration that differs
# from the existing stream is reported (exit 1) and the stream is left as it
# was; --json says the same as one object; at start, the router warns about
# a route no stream covers (STR-0001).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 1
stream="${IT_STREAM}_P"
er_on_exit "$ER_BUILD_DIR/tools/er_js" stream-rm "$stream"
decl() { # decl FILE REPLICAS DUPE_S
    it_config "$1" 19188 "streams:
  - name: $stream
    subjects: [\"${IT_PREFIX}p.>\"]
    replicas: $2
    storage: file
    duplicate_window_s: $3"
}
decl "$ER_TEST_DIR/a.yaml" "$IT_RF" 90
R="$ER_BUILD_DIR/event-router"

out=$("$R" streams --dry-run -c "$ER_TEST_DIR/a.yaml") || er_fail "dry run failed: $out"
grep -q "stream $stream: missing; would create it" <<<"$out" || er_fail "dry run output: $out"
st=0
er_tool er_js stream-info "$stream" >/dev/null 2>&1 || st=$?
er_assert_eq "$st" 1 "dry run created nothing"

out=$("$R" streams --dry-run --json -c "$ER_TEST_DIR/a.yaml") || er_fail "json dry run failed: $out"
er_assert_eq "$(jq -c '[.ok, .dry_run, .streams[0].name, .streams[0].state]' <<<"$out")" \
    "[true,true,\"$stream\",\"missing\"]" "--json dry run"
out=$("$R" streams -c "$ER_TEST_DIR/a.yaml") || er_fail "create failed: $out"
grep -q "stream $stream: created" <<<"$out" || er_fail "create output: $out"
info=$(er_tool er_js stream-info "$stream")
er_assert_eq "$(jq -r .dupe_window_s <<<"$info")" 90 \
    "created with the declared duplicate window"

out=$("$R" streams -c "$ER_TEST_DIR/a.yaml") || er_fail "second run should find it ok: $out"
grep -q "stream $stream: ok" <<<"$out" || er_fail "second run output: $out"

decl "$ER_TEST_DIR/b.yaml" "$IT_RF" 30
st=0
out=$("$R" streams -c "$ER_TEST_DIR/b.yaml") || st=$?
er_assert_eq "$st" 1 "a differing declaration exits 1"
grep -q "duplicate window is 90 s, config says 30 s" <<<"$out" || er_fail "difference not reported: $out"
st=0
out=$("$R" streams --json -c "$ER_TEST_DIR/b.yaml") || st=$?
er_assert_eq "$st" 1 "a differing declaration exits 1 with --json too"
er_assert_eq "$(jq -c '[.ok, .streams[0].state]' <<<"$out")" '[false,"differs"]' "--json differs"
jq -r '.streams[0].differences' <<<"$out" | grep -q "duplicate window is 90 s, config says 30 s" ||
    er_fail "--json differences: $out"
info=$(er_tool er_js stream-info "$stream")
er_assert_eq "$(jq -r .dupe_window_s <<<"$info")" 90 \
    "the existing stream was not changed"

# The test world's routes publish under $IT_PREFIX.commands., which the
# declared stream (${IT_PREFIX}p.>) does not cover: the router says so.
export ER_ROUTER_READY_URL=http://127.0.0.1:19188/readyz
er_router_start "$ER_TEST_DIR/a.yaml" "$ER_TEST_DIR/router.log"
er_wait_until 10 grep -q 'id=STR-0001' "$ER_TEST_DIR/router.log" ||
    er_fail "no warning for a route outside every stream"
grep 'id=STR-0001' "$ER_TEST_DIR/router.log" | grep 'route=commands' >/dev/null ||
    er_fail "the warning does not name the route"
er_router_stop
er_pass
