#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A CloudEvents binary-mode record (ce_* Kafka headers) is routed by its
# ce_type, deduplicated by ce_id, and published with the NATS binding's
# header names: ce_type -> ce-type, ... and content-type ->
# ce-datacontenttype. Other Kafka headers are copied as they are.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 1
it_config "$ER_TEST_DIR/router.yaml" 19197
export ER_ROUTER_READY_URL=http://127.0.0.1:19197/readyz
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"

printf '{"officerId":"off-7","status":"on-duty"}' |
    kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$IT_OFFICER" -p 0 -k off-7 -X acks=all \
        -H ce_specversion=1.0 -H ce_type=ChangeOfficerStatusRequested -H ce_id=ce-123 \
        -H ce_source=/officers -H content-type=application/json -H traceparent=00-abc-def-01
er_tool er_js wait-count "$IT_STREAM" --count 1 --timeout-s 20 >/dev/null ||
    er_fail "the CloudEvent was not published"
m=$(er_tool er_js dump "$IT_STREAM")
h() { jq -r --arg k "$1" '.headers[$k] // ""' <<<"$m"; }
er_assert_eq "$(jq -r .subject <<<"$m")" "$IT_PREFIX.commands.officer.change-status" "routed by ce_type"
er_assert_eq "$(h Nats-Msg-Id)" "ce-123" "dedup ID is ce_id"
er_assert_eq "$(h ce-type)" "ChangeOfficerStatusRequested" "ce_type -> ce-type"
er_assert_eq "$(h ce-id)" "ce-123" "ce_id -> ce-id"
er_assert_eq "$(h ce-source)" "/officers" "ce_source -> ce-source"
er_assert_eq "$(h ce-specversion)" "1.0" "ce_specversion -> ce-specversion"
er_assert_eq "$(h ce-datacontenttype)" "application/json" "content-type -> ce-datacontenttype"
er_assert_eq "$(h ce_type)" "" "no ce_ (Kafka form) header left"
er_assert_eq "$(h traceparent)" "00-abc-def-01" "other headers copied unchanged"
er_router_stop
er_pass
