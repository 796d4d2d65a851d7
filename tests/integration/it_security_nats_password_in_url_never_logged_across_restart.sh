#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A NATS password written in the server URL (tls://router:PASSWORD@host)
# never reaches a log line: not at start, not in the reconnect line after
# the NATS node restarts (cnats hands back the URL as configured, userinfo
# included), not in the connected line of a late first connection (NATS
# down at start), not in --print-config, not in `streams`. Every critical event
# produced before and after the restart is stored.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/security_lib.sh"
er_require_clusters
sec_nats_up users
it_world 2
R=${ER_ROUTER_BIN:-$ER_BUILD_DIR/event-router}
pw=$(cat "$ER_SEC_SECRETS/nats-router.password")
[[ -n $pw ]] || er_fail "no router password"
ER_NATS_URL="tls://router:$pw@${ER_SEC_NATS_URL#tls://}" \
    IT_NATS_EXTRA="  tls_ca_file: \"$ER_SEC_CERTS/ca.pem\"
  reconnect_wait_ms: 200" it_config "$ER_TEST_DIR/router.yaml" 19583
grep -qF "router:$pw@" "$ER_TEST_DIR/router.yaml" || er_fail "password not in the server URL"
out=$ER_TEST_DIR/cli.out
"$R" run -c "$ER_TEST_DIR/router.yaml" --print-config >"$out" 2>&1 || er_fail "--print-config: $(cat "$out")"
grep -q 'tls://router:\[redacted\]@127.0.0.1:' "$out" || er_fail "--print-config URL: $(grep tls: "$out")"
"$R" streams -c "$ER_TEST_DIR/router.yaml" >>"$out" 2>&1 || er_fail "streams: $(cat "$out")"

export ER_ROUTER_READY_URL=http://127.0.0.1:19583/readyz
it_produce --count 200 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/a.raw" --run-id url1 --seed 21 >/dev/null
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"
it_wait_committed 60 >"$ER_TEST_DIR/offsets1.json" ||
    er_fail "offsets not committed before the restart: $(cat "$ER_TEST_DIR/offsets1.json")"

sec_nats_restart
er_wait_until 30 grep -q 'id=SNK-0003' "$ER_TEST_DIR/router.log" ||
    er_fail "no reconnect line (SNK-0003) after the NATS restart"
grep 'id=SNK-0003' "$ER_TEST_DIR/router.log" | grep -q 'url=tls://router:\[redacted\]@127.0.0.1:' ||
    er_fail "reconnect line does not show the redacted URL: $(grep SNK-0003 "$ER_TEST_DIR/router.log")"

it_produce --count 200 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/b.raw" --run-id url2 --seed 22 >/dev/null
cat "$ER_TEST_DIR/a.raw" "$ER_TEST_DIR/b.raw" >"$ER_TEST_DIR/c.raw"
it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
it_wait_committed 60 >"$ER_TEST_DIR/offsets2.json" ||
    er_fail "offsets not committed after the restart: $(cat "$ER_TEST_DIR/offsets2.json")"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical" --check-subjects) ||
    er_fail "stream content: $v"
er_assert_eq "$(er_json stored "$v")" "$(wc -l <"$ER_TEST_DIR/critical")" \
    "every critical event stored across the NATS restart"
er_router_stop
er_assert_eq "$ER_ROUTER_STATUS" 0 "router exits 0 after SIGTERM"

# A late first connection (NATS down at start) logs the URL too (SNK-0001).
sec_nats_stop
ER_ROUTER_READY_URL=none er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router2.log"
er_wait_until 20 grep -q 'id=SNK-0005' "$ER_TEST_DIR/router2.log" ||
    er_fail "no SNK-0005 while NATS is down: $(tail -5 "$ER_TEST_DIR/router2.log")"
sec_nats_start
er_wait_until 30 grep -q 'id=SNK-0001.*url=' "$ER_TEST_DIR/router2.log" ||
    er_fail "no late SNK-0001 connected line: $(tail -5 "$ER_TEST_DIR/router2.log")"
grep 'id=SNK-0001' "$ER_TEST_DIR/router2.log" | grep -q 'url=tls://router:\[redacted\]@127.0.0.1:' ||
    er_fail "late connected line: $(grep SNK-0001 "$ER_TEST_DIR/router2.log")"
er_router_stop
cat "$ER_TEST_DIR/router2.log" >>"$ER_TEST_DIR/router.log"
n=$(cat "$ER_TEST_DIR/router.log" "$out" | grep -cF -- "$pw" || true)
er_assert_eq "$n" 0 "lines holding the password in the router log and the CLI output"
sec_assert_no_secrets "$ER_TEST_DIR/router.log" "$out"
er_pass
