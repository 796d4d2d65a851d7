#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kafka producers must not steer JetStream. Records carrying JetStream
# control headers (Nats-Expected-*, Nats-Rollup, Nats-TTL, Nats-Schedule,
# Nats-Marker-Reason, a mixed-case variant, and a Nats-Msg-Id that collides
# with another event's dedup ID, on a core NATS route where the router sets
# none) are each stored exactly once on their subject; no stored message
# carries a Nats-* header but the router's own Nats-Msg-Id; and
# er_headers_not_copied_total{reason="reserved_nats"} counts every header
# left out. Copied as-is, these headers make JetStream reject the events
# (dead letters), drop one as a duplicate, or worse (a rollup purges).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/router_lib.sh"
er_require_clusters
it_world 1
# A core NATS route on a subject the test stream also captures: the router
# sets no Nats-Msg-Id there, so a copied one would reach JetStream's dedup.
sed -i "0,/^    dedup: event_id\$/s||    dedup: event_id\\
  - name: pings\\
    match:\\
      type: OfficerPinged\\
    action: nats\\
    subject: \"$IT_PREFIX.pings.officer\"|" "$IT_RULES"
grep -q "subject: \"$IT_PREFIX.pings.officer\"" "$IT_RULES" || er_fail "could not add the pings route"
it_config "$ER_TEST_DIR/router.yaml" 19211
export ER_ROUTER_READY_URL=http://127.0.0.1:19211/readyz
er_router_start "$ER_TEST_DIR/router.yaml" "$ER_TEST_DIR/router.log"

cmd=ChangeOfficerStatusRequested
# type|eventId|the hostile Kafka header
records=(
    "$cmd|hdr-1|Nats-Expected-Last-Sequence=999"
    "$cmd|hdr-2|Nats-Expected-Stream=NOT_THIS_STREAM"
    "$cmd|hdr-3|Nats-Expected-Last-Msg-Id=never-stored"
    "$cmd|hdr-4|Nats-Expected-Last-Subject-Sequence=999"
    "$cmd|hdr-5|Nats-Rollup=all"
    "$cmd|hdr-6|Nats-TTL=1s"
    "$cmd|hdr-7|Nats-Schedule=@every 1s"
    "$cmd|hdr-8|Nats-Marker-Reason=MaxAge"
    "$cmd|hdr-9|nAtS-eXpEcTeD-sTrEaM=NOT_THIS_STREAM"
    "$cmd|hdr-10|NATS-MSG-ID=hdr-1"
    "OfficerPinged|ping-1|Nats-Msg-Id=hdr-2"
)
n=${#records[@]}
for rec in "${records[@]}"; do
    IFS='|' read -r type id hdr <<<"$rec"
    printf '{"officerId":"off-7","eventId":"%s"}' "$id" |
        kcat -P -b "$ER_KAFKA_BOOTSTRAP" -t "$IT_OFFICER" -p 0 -k off-7 -X acks=all \
            -H "eventType=$type" -H "eventId=$id" -H "$hdr" -H traceparent=00-abc-def-01
done
it_wait_committed 30 || er_log "offsets not all committed after 30s"
er_tool er_js wait-count "$IT_STREAM" --count "$n" --timeout-s 10 >/dev/null || true
dump=$(er_tool er_js dump "$IT_STREAM")
stored=$(grep -c . <<<"$dump" || true)
offsets=$(jq -r '.headers["Kafka-Offset"]' <<<"$dump" | sort -u | grep -c . || true)
nats_hdrs=$(jq -r '.headers | keys[] | select(ascii_downcase | startswith("nats-"))
    | select(. != "Nats-Msg-Id")' <<<"$dump" | sort | uniq -c | tr '\n' ' ')
dlq=$(it_metric 19211 er_events_dead_lettered_total)
dropped=$(it_metric 19211 'er_headers_not_copied_total{reason="reserved_nats"}')
er_log "stored=$stored distinct_offsets=$offsets of $n; dead_lettered=${dlq:-0}; Nats-* headers stored: [${nats_hdrs}];" \
    "reserved_nats not copied=${dropped:-none}"
er_assert_eq "$stored" "$n" "every record stored once"
er_assert_eq "$offsets" "$n" "each record stored exactly once (distinct Kafka offsets)"
er_assert_eq "$nats_hdrs" "" "no Nats-* header stored but the router's Nats-Msg-Id"
for rec in "${records[@]}"; do
    IFS='|' read -r type id hdr <<<"$rec"
    m=$(jq -c --arg id "$id" 'select(.headers.eventId == $id)' <<<"$dump")
    [[ -n $m ]] || er_fail "$id ($hdr) not stored"
    if [[ $type == "$cmd" ]]; then
        er_assert_eq "$(jq -r .subject <<<"$m")" "$IT_PREFIX.commands.officer.change-status" "$id subject"
        er_assert_eq "$(jq -r '.headers["Nats-Msg-Id"]' <<<"$m")" "$id" "$id dedup ID is its event ID"
    else
        er_assert_eq "$(jq -r .subject <<<"$m")" "$IT_PREFIX.pings.officer" "$id subject"
        er_assert_eq "$(jq -r '.headers["Nats-Msg-Id"] // ""' <<<"$m")" "" "$id: no Nats-Msg-Id on core NATS"
    fi
    er_assert_eq "$(jq -r '.headers.traceparent' <<<"$m")" "00-abc-def-01" "$id: other headers copied"
done
er_assert_eq "$dropped" "$n" "every control header counted as reason=reserved_nats"
er_router_stop
er_pass
