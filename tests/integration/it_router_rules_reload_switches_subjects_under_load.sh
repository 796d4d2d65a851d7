#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hot reload under load. An invalid rule file is refused (the old rules stay,
# the failure counter goes up); a valid one is swapped in without a restart or
# a rebalance, and subjects switch at a clean point: in every partition, all
# events before some offset use the old subject and all after it the new one.
# Nothing is lost or stored twice across the swap.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 4
it_config "$ER_TEST_DIR/router.yaml" 19186
export ER_ROUTER_READY_URL=http://127.0.0.1:19186/readyz
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"

it_produce --count 40000 --rate 8000 --ids-out "$ER_TEST_DIR/c.raw" --run-id h1 --seed 41 \
    >"$ER_TEST_DIR/produce.json" &
producer=$!

# Editors and ConfigMaps replace files by rename; do the same.
replace_rules() { cp "$1" "$IT_RULES.tmp" && mv "$IT_RULES.tmp" "$IT_RULES"; }

sleep 1.5
sed -e 's/type_suffix: Requested/type_sufix: Requested/' "$IT_RULES" >"$ER_TEST_DIR/broken.yaml"
replace_rules "$ER_TEST_DIR/broken.yaml"
er_wait_until 10 sh -c "grep -q 'id=RUL-0002' '$ER_TEST_DIR/router.log'" ||
    er_fail "an invalid rule file was not reported (RUL-0002)"
grep 'id=RUL-0002' "$ER_TEST_DIR/router.log" | grep 'rules.yaml:[0-9]*:[0-9]*' >/dev/null ||
    er_fail "the reload error does not say file:line:col: $(grep 'id=RUL-0002' "$ER_TEST_DIR/router.log" | head -1)"
er_assert_eq "$(it_metric 19186 'er_rules_reloads_total{result="failure"}')" 1 "failed reload counted"

sleep 1
sed -e "s|subject: \"$IT_PREFIX.commands.|subject: \"$IT_PREFIX.v2.commands.|" \
    "$ER_SOURCE_DIR/rules/default.yaml" >"$ER_TEST_DIR/v2.yaml"
sed -i -e "s|subject: \"commands\.|subject: \"$IT_PREFIX.v2.commands.|" "$ER_TEST_DIR/v2.yaml"
replace_rules "$ER_TEST_DIR/v2.yaml"
er_wait_until 10 sh -c "grep -q 'id=RUL-0001' '$ER_TEST_DIR/router.log'" ||
    er_fail "the valid rule file was not reloaded (RUL-0001)"
er_assert_eq "$(it_metric 19186 'er_rules_reloads_total{result="success"}')" 1 "successful reload counted"

wait "$producer" || er_fail "producer failed"
it_wait_committed 90 >/dev/null || er_fail "offsets not committed to the end"
grep -q 'id=SRC-0003' "$ER_TEST_DIR/router.log" && er_fail "the reload caused a rebalance (partition released)"

it_prefixed "$ER_TEST_DIR/c.raw" "$ER_TEST_DIR/critical"
v=$(er_tool er_js verify "$IT_STREAM" --ids "$ER_TEST_DIR/critical") || er_fail "stream content: $v"
er_assert_eq "$(er_json missing "$v")" 0 "nothing lost across the reload"
er_assert_eq "$(er_json duplicates "$v")" 0 "nothing stored twice across the reload"

er_tool er_js dump "$IT_STREAM" >"$ER_TEST_DIR/dump.jsonl"
old=$(jq -r --arg p "$IT_PREFIX.commands." 'select(.subject | startswith($p)) | .seq' \
    "$ER_TEST_DIR/dump.jsonl" | wc -l)
new=$(jq -r --arg p "$IT_PREFIX.v2.commands." 'select(.subject | startswith($p)) | .seq' \
    "$ER_TEST_DIR/dump.jsonl" | wc -l)
er_log "old subjects: $old, new subjects: $new"
[[ $old -gt 0 && $new -gt 0 ]] || er_fail "expected events on both subject versions (old=$old new=$new)"
# Clean switch: per partition, the last old-subject offset is below the first new one.
mixed=$(jq -r --arg v2 "$IT_PREFIX.v2." '[.headers["Kafka-Topic"] + "/" + .headers["Kafka-Partition"],
        (.headers["Kafka-Offset"] | tonumber), (.subject | startswith($v2))] | @tsv' \
    "$ER_TEST_DIR/dump.jsonl" |
    awk -F'\t' '$3 == "false" { if ($2 > lastold[$1]) lastold[$1] = $2 }
                $3 == "true" { if (!($1 in firstnew) || $2 < firstnew[$1]) firstnew[$1] = $2 }
                END { for (p in firstnew) if ((p in lastold) && lastold[p] > firstnew[p]) n++; print n + 0 }')
er_assert_eq "$mixed" 0 "subjects switch at one clean offset in every partition"
er_router_stop
er_pass
