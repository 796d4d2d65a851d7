#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One argument parser for every subcommand (cliopt.h): each case runs the
# binary and checks its exit status and one line of what it printed.
#   --help: exit 0, usage on stdout;  an unknown option, a missing value or
#   a number that does not parse: exit 2, the message and the usage on stderr.
set -u
bin=$(realpath "$1") src=$(realpath "$2")
rules=$src/rules/default.yaml
fail=0 n=0

# case EXPECTED_RC STREAM(out|err) GREP_F_TEXT -- ARGS...
case_() {
    local want=$1 stream=$2 text=$3
    shift 4
    local out err rc
    out=$(mktemp) err=$(mktemp)
    "$bin" "$@" >"$out" 2>"$err"
    rc=$?
    n=$((n + 1))
    local f=$out
    [[ $stream == err ]] && f=$err
    # An empty TEXT means: nothing at all on that stream.
    if [[ $rc -ne $want ]] || { [[ -n $text ]] && ! grep -qF -- "$text" "$f"; } ||
        { [[ -z $text ]] && [[ -s $f ]]; }; then
        echo "FAIL: event-router $*: want exit $want and '$text' on std$stream; got exit $rc"
        sed 's/^/  stdout: /' "$out" | head -5
        sed 's/^/  stderr: /' "$err" | head -5
        fail=1
    fi
    rm -f "$out" "$err"
}

for cmd in run check explain test streams version; do
    case_ 0 out "usage: event-router $cmd" -- "$cmd" --help
    case_ 0 out "usage: event-router $cmd" -- "$cmd" -h
    case_ 2 err "event-router $cmd: unknown option '--bogus'" -- "$cmd" --bogus
    case_ 2 err "usage: event-router $cmd" -- "$cmd" --bogus
done
# Values: missing, and numbers that are not numbers.
case_ 2 err "event-router run: -c needs a value" -- run -c
case_ 2 err "event-router check: --config needs a value" -- check --config
case_ 2 err "event-router explain: --partition wants a whole number" -- \
    explain --rules "$rules" --type XRequested --partition abc
case_ 2 err "event-router explain: --offset wants a whole number" -- \
    explain --rules "$rules" --type XRequested --offset 12x
case_ 2 err "event-router explain: --partition wants a whole number" -- \
    explain --rules "$rules" --type XRequested --partition -1
# A flag is never taken for a file name, nor a file for a flag.
case_ 0 out "" -- check -q "$rules"
case_ 2 err "unknown option '-z'" -- check -z "$rules"
case_ 2 err "event-router test: unknown option '--bogus'" -- test --bogus "$rules"
# The top level: -V is version; version --help is its usage, not versions.
case_ 0 out "event-router " -- -V
case_ 0 out "event-router " -- --version
case_ 0 out '"librdkafka":' -- version --json
case_ 2 err "unknown command 'bogus'" -- bogus
case_ 2 err "usage: event-router <command>" -- bogus
# streams needs a server, and says so.
case_ 0 out "Connects to NATS" -- streams --help
# --json where a subcommand prints results.
case_ 0 out '"ok":true' -- check --json "$rules"
case_ 0 out '"passed":' -- test --json "$rules"
case_ 0 out '"route":"commands"' -- explain --json --rules "$rules" --type ChangeOfficerStatusRequested

[[ $fail -eq 0 ]] && echo "ok: $n cases"
exit $fail
