#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `run` refuses a broken config or rule file with one log line per problem
# (RUN-0101 config, RUN-0102 rule error, RUN-0103 rule warning; then
# RUN-0100 / RUN-0104) in the format the config asks for: log.format json
# gives JSON lines even when the config does not load (a type error, a YAML
# syntax error after log.format), logfmt otherwise. Every line is one
# well-formed log line carrying what `check` prints as
# file:line:col: error: message (msg, file, line, col).
#   usage: run_logs_startup_errors_in_the_configs_log_format.sh BIN PYTHON3
set -u
bin=$1 py=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0

# The checker: every line of ERRFILE is a JSON object (json) or a logfmt
# line (logfmt); as "level|id|line|col|msg" each starts with the matching
# line of WANTFILE (a message may go on past what the test names), and there
# are as many lines as there.
cat >"$tmp/check.py" <<'EOF'
import json, shlex, sys
fmt, errf, wantf = sys.argv[1:4]
got = []
for raw in open(errf, encoding="utf-8"):
    raw = raw.rstrip("\n")
    try:
        if fmt == "json":
            o = json.loads(raw)
        elif raw.startswith("ts="):
            o = dict(kv.split("=", 1) for kv in shlex.split(raw))
        else:
            raise ValueError("not logfmt")
        got.append("|".join(str(o.get(k, "-")) for k in ("level", "id", "line", "col", "msg")))
    except (ValueError, KeyError) as e:
        got.append("NOT A %s LINE (%s): %s" % (fmt, e, raw))
want = open(wantf, encoding="utf-8").read().splitlines()
ok = len(got) == len(want) and all(g.startswith(w) for g, w in zip(got, want))
for w in want:
    print("  want: " + w)
for g in got:
    print("  got:  " + g)
sys.exit(0 if ok else 1)
EOF

# case NAME FORMAT CONFIG_TEXT WANT (level|id|line|col|msg-start, one a line)
case_() {
    local name=$1 fmt=$2 rc
    n=$((n + 1))
    printf '%s\n' "$3" >"$tmp/router.yaml"
    printf '%s\n' "$4" >"$tmp/want"
    "$bin" run -c "$tmp/router.yaml" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if ! "$py" "$tmp/check.py" "$fmt" "$tmp/err" "$tmp/want" >"$tmp/diff" ||
        [[ $rc -ne 1 || -s $tmp/out ]]; then
        echo "FAIL: $name: want exit 1 (got $rc), nothing on stdout and these $fmt lines:"
        cat "$tmp/diff"
        sed 's/^/  stderr: /' "$tmp/err"
        fail=1
    fi
}

good='kafka: {brokers: "127.0.0.1:1", group_id: g, topics: [t]}
nats: {servers: ["nats://127.0.0.1:1"]}'
cat >"$tmp/rules.yaml" <<'EOF'
version: 1
routes:
  - name: a
    match: {type_glob: Foo}
    action: skip
  - name: b
    match: {type: X}
    action: jetstream
    subject: "a.{nope}"
EOF
summary="error|RUN-0100|-|-|the config has errors; not starting"

for fmt in logfmt json; do
    # The config loads (an unknown key, a bad value in log: itself): every
    # problem, then RUN-0100.
    case_ "loaded, $fmt" $fmt "$good
rules: rules.yaml
limits: {max_inflit_total: 5}
log: {format: $fmt, level: loud}" "error|RUN-0101|4|10|unknown key 'max_inflit_total' in 'limits' (did you mean 'max_inflight_total'?)
error|RUN-0101|5|$((24 + ${#fmt}))|'log.level' must be debug, info, warn or error, got 'loud'
$summary"
    # The config does not load (a type error): log.format is read from the file.
    case_ "not loaded, $fmt" $fmt "log:
  level: info
  format: $fmt
$good
rules: rules.yaml
retry: {max_attempts: many}" "error|RUN-0101|7|23|'retry.max_attempts' must be an unsigned integer, got 'many'
$summary"
    # A YAML syntax error after log.format: what was read counts.
    case_ "syntax error after log.format, $fmt" $fmt "log: {format: $fmt}
$good
rules: [rules.yaml" "error|RUN-0101|4|8|'rules' must be a string, not a list
error|RUN-0101|5|1|YAML syntax error
$summary"
    # The rule file: a warning (RUN-0103) and an error (RUN-0102), then RUN-0104.
    case_ "rule file, $fmt" $fmt "$good
rules: rules.yaml
log: {format: $fmt}" "warn|RUN-0103|0|0|type_glob 'Foo' has no wildcard in route 'a'
error|RUN-0102|9|14|unknown variable '{nope}' in template 'a.{nope}' in route 'b'
error|RUN-0104|-|-|the rule file has errors; not starting"
done
# A syntax error before log.format: it cannot be read, so logfmt.
case_ "syntax error before log.format" logfmt "rules: [rules.yaml
log: {format: json}" "error|RUN-0101|1|8|'rules' must be a string, not a list
error|RUN-0101|2|4|YAML syntax error
$summary"
# format: elsewhere than under the top-level log: does not count.
case_ "format not under the top-level log" logfmt "$good
format: json
kafka2: {log: {format: json}}
log: {x: {format: json}}
rules: rules.yaml
retry: {max_attempts: many}" "error|RUN-0101|3|1|unknown key 'format'
error|RUN-0101|4|1|unknown key 'kafka2'
error|RUN-0101|5|7|unknown key 'x' in 'log'
error|RUN-0101|7|23|'retry.max_attempts' must be an unsigned integer, got 'many'
$summary"

[[ $fail -eq 0 ]] && echo "ok: $n cases"
exit $fail
