#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A NATS user allowed to publish only under commands.> (plus the JetStream
# API and its reply inbox): the rules route CloseIncidentRequested to
# audit.<prefix>.{event}, outside that. The server refuses those publishes
# ("Permissions Violation"); the router dead-letters each at its first
# failure with er-dlq-code permission_denied and a reason that says so, not
# after retry.max_attempts timeouts. Everything else is stored, and nothing
# is lost: stored + dead-lettered = critical, committed = produced.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
source "$(dirname "$0")/security_lib.sh"
er_require_clusters
sec_nats_up users
it_world 2
# Subjects under commands.<prefix>. and, for one command, audit.<prefix>.
sed -i -e "s|subject: \"$IT_PREFIX\.commands\.|subject: \"commands.$IT_PREFIX.|" "$IT_RULES"
python3 - "$IT_RULES" "$IT_PREFIX" <<'PY'
import sys
p, prefix = sys.argv[1], sys.argv[2]
s = open(p).read()
s = s.replace("routes:\n", "routes:\n  - name: audit\n    match: {type: CloseIncidentRequested}\n"
              "    critical: true\n    subject: \"audit.%s.{event}\"\n" % prefix, 1)
open(p, "w").write(s)
PY
"$ER_BUILD_DIR/event-router" check "$IT_RULES" >/dev/null || er_fail "test rules do not check"
STREAM="${IT_STREAM}_P"
er_tool er_js stream-add "$STREAM" --subjects "commands.$IT_PREFIX.>,audit.$IT_PREFIX.>" \
    --replicas 1 >/dev/null
er_on_exit "$ER_BUILD_DIR/tools/er_js" stream-rm "$STREAM"

export ER_TEST_NATS_PASSWORD
ER_TEST_NATS_PASSWORD=$(cat "$ER_SEC_SECRETS/nats-limited.password")
IT_ACK_TIMEOUT_MS=2000 IT_NATS_EXTRA="  tls_ca_file: \"$ER_SEC_CERTS/ca.pem\"
  user: limited
  password_env: ER_TEST_NATS_PASSWORD" it_config "$ER_TEST_DIR/router.yaml" 19584 "retry:
  max_attempts: 10
  backoff_initial_ms: 1000
  backoff_max_ms: 5000"
sec_print_config "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/print-config.yaml"

p=$(it_produce --count 600 --critical-ratio 0.5 --ids-out "$ER_TEST_DIR/critical.raw" --run-id perm \
    --seed 21)
produced=$(er_json produced "$p")
critical=$(wc -l <"$ER_TEST_DIR/critical.raw")
audit=$(awk -F'\t' '$6 == "CloseIncidentRequested"' "$ER_TEST_DIR/critical.raw" | wc -l)
((audit > 0 && audit < critical)) || er_fail "test data: $audit audit events of $critical critical"
er_log "produced $produced, critical $critical, of which $audit routed outside commands.>"

ER_ROUTER_READY_URL=http://127.0.0.1:19584/readyz \
    er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"
start=$SECONDS
it_wait_committed 60 >"$ER_TEST_DIR/offsets.json" ||
    er_fail "offsets not committed: $(cat "$ER_TEST_DIR/offsets.json")"
took=$((SECONDS - start))
er_assert_eq "$(er_json committed_total "$(cat "$ER_TEST_DIR/offsets.json")")" "$produced" \
    "every event committed"

stored=$(er_json messages "$(er_tool er_js stream-info "$STREAM")")
kcat -C -b "$ER_KAFKA_BOOTSTRAP" -t "$IT_DLQ" -e -q -J >"$ER_TEST_DIR/dlq.jsonl"
hdr() { jq -r --arg h "$1" '[.headers | _nwise(2) | {(.[0]): .[1]}] | add | .[$h]' "$ER_TEST_DIR/dlq.jsonl"; }
dead=$(wc -l <"$ER_TEST_DIR/dlq.jsonl")
er_assert_eq "$stored" "$((critical - audit))" "every event inside commands.> stored"
er_assert_eq "$dead" "$audit" "every refused event dead-lettered"
er_assert_eq "$((stored + dead))" "$critical" "nothing lost: stored + dead-lettered = critical"
er_assert_eq "$(hdr er-dlq-code | sort -u)" permission_denied "dead letters say permission_denied"
er_assert_eq "$(hdr er-dlq-route | sort -u)" audit "dead letters name the route"
hdr er-dlq-reason | grep -v "^permission denied: the NATS server does not allow this user to publish to \"audit\.$IT_PREFIX\." &&
    er_fail "a reason does not say permission denied (above)"
grep -q 'SNK-0010.*Permissions Violation for Publish to' "$ER_TEST_DIR/router.log" ||
    er_fail "the server's refusal is not in the log"
retries=$(it_metric 19584 er_publish_retries_total)
er_assert_eq "${retries:-0}" 0 "refused publishes are not retried"
er_log "done in ${took}s; $stored stored, $dead dead-lettered"
er_router_stop
sec_assert_no_secrets "$ER_TEST_DIR/router.log" "$ER_TEST_DIR/print-config.yaml"
er_pass
