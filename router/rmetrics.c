/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rmetrics: what the pipeline counts, by name, help text and labels, kept
 * apart from the loop that counts. Per partition, a small cache of the
 * per-route series spares a registry lookup (and a label string) per event.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rmetrics.h"

#define ROUTE_CACHE 8 /* routes whose series a partition keeps at hand */

typedef struct route_series {
    char *route; /* a copy: rule sets come and go with reloads */
    int critical;
    metrics_series_t *published, *duplicate;
} route_series_t;

struct rmetrics_part {
    char topic[256]; /* escaped */
    metrics_series_t *consumed, *committed, *lag;
    metrics_series_t *skipped[ROUTE_R__COUNT];
    route_series_t routes[ROUTE_CACHE];
};

void rmetrics_init(rmetrics_t *m)
{
    m->inflight =
        metrics_gauge("er_inflight_events", "Events consumed and not yet acknowledged.", NULL);
    m->assigned = metrics_gauge("er_assigned_partitions", "Partitions assigned.", NULL);
    m->paused =
        metrics_gauge("er_paused_partitions", "Assigned partitions paused by backpressure.", NULL);
    m->holds = metrics_counter(
        "er_partition_holds_total",
        "Times a partition's window was full and reading it was held (its records wait in its "
        "own queue; the other partitions are read on).",
        NULL);
    m->pauses = metrics_counter(
        "er_partition_pauses_total",
        "Times a partition was paused at the consumer (NATS down, retries, a stalled window, a "
        "revoke): its prefetched records are dropped and fetched again on resume.",
        NULL);
    m->nats_up = metrics_gauge("er_nats_connected", "1 when connected to NATS.", NULL);
    m->nats_reconnects = metrics_counter("er_nats_reconnects_total", "NATS reconnects.", NULL);
    m->gaps = metrics_counter(
        "er_kafka_offset_gaps_total",
        "Offsets skipped between two consecutive records of a partition: expected with "
        "compacted topics and transaction markers, otherwise a sign of a consumer problem.",
        NULL);
    m->part_assigned = metrics_counter("er_partitions_assigned_total",
                                       "Partitions this replica was given by rebalances.", NULL);
    m->part_revoked = metrics_counter(
        "er_partitions_revoked_total",
        "Partitions this replica gave up in rebalances, by how: revoked (finished what was in "
        "flight and committed) or lost (another member may own them already: no commit).",
        "how=\"revoked\"");
    m->part_lost = metrics_counter("er_partitions_revoked_total", NULL, "how=\"lost\"");
    m->ack_lat =
        metrics_histogram("er_publish_ack_seconds", "Time from JetStream publish to PubAck.", NULL,
                          metrics_latency_buckets, metrics_latency_bucket_count);
    m->e2e_lat =
        metrics_histogram("er_end_to_end_seconds", "Kafka record timestamp to JetStream PubAck.",
                          NULL, metrics_latency_buckets, metrics_latency_bucket_count);
    m->retries = metrics_counter("er_publish_retries_total", "Publishes retried.", NULL);
    m->err_sync =
        metrics_counter("er_publish_errors_total", "Publish failures by kind.", "kind=\"send\"");
    m->err_transient = metrics_counter("er_publish_errors_total", NULL, "kind=\"transient\"");
    m->err_permanent = metrics_counter("er_publish_errors_total", NULL, "kind=\"permanent\"");
    for (int o = 0; o < ROUTE_ORDER_NONE; o++) { /* none never waits */
        char labels[64];
        snprintf(labels, sizeof(labels), "ordering=\"%s\"", route_ordering_name(o));
        m->order_waits[o] = metrics_counter(
            "er_order_waits_total",
            o == 0 ? "Events that waited for an earlier event of their key (or partition) to be "
                     "stored or dead-lettered before being published, by ordering mode."
                   : NULL,
            labels);
    }
    m->already_stored = metrics_counter(
        "er_events_already_stored_total",
        "Events not published because a look-up found them in a stream already (after an "
        "assignment, or before a retry later than half the duplicate window).",
        NULL);
    m->lookup_scanned = metrics_counter("er_lookup_scanned_messages_total",
                                        "Stream messages read by look-ups.", NULL);
    m->held = metrics_gauge("er_order_held_events",
                            "Events waiting now for an earlier event of their key.", NULL);
    for (int v = NATSMSG_COPY + 1; v < NATSMSG_VERDICT__COUNT; v++) {
        char labels[64];
        snprintf(labels, sizeof(labels), "reason=\"%s\"", natsmsg_verdict_name(v));
        m->hdr_dropped[v] = metrics_counter(
            "er_headers_not_copied_total",
            v == NATSMSG_COPY + 1
                ? "Kafka headers not copied to NATS, by reason: reserved_nats "
                  "(Nats-* JetStream control headers), reserved_router (any case of "
                  "the router's Kafka-* provenance headers), too_long, bad_name, "
                  "not_printable."
                : NULL,
            labels);
    }
}

rmetrics_part_t *rmetrics_part_new(const char *topic)
{
    rmetrics_part_t *pm = calloc(1, sizeof(*pm));
    char labels[512];
    if (!pm)
        return NULL;
    metrics_label_escape(pm->topic, sizeof(pm->topic), topic, strlen(topic));
    snprintf(labels, sizeof(labels), "topic=\"%s\"", pm->topic);
    pm->consumed =
        metrics_counter("er_events_consumed_total", "Records consumed from Kafka.", labels);
    return pm;
}

void rmetrics_part_free(rmetrics_part_t *pm)
{
    if (!pm)
        return;
    for (int i = 0; i < ROUTE_CACHE; i++)
        free(pm->routes[i].route);
    free(pm);
}

static void partition_labels(char *buf, size_t size, const rmetrics_part_t *pm, int32_t partition)
{
    snprintf(buf, size, "topic=\"%s\",partition=\"%" PRId32 "\"", pm->topic, partition);
}

void rmetrics_assigned(rmetrics_part_t *pm, const char *topic, int32_t partition)
{
    char labels[512];
    (void)topic;
    if (!pm)
        return;
    partition_labels(labels, sizeof(labels), pm, partition);
    pm->committed = metrics_gauge("er_partition_committed_offset",
                                  "Offset stored for commit (the acknowledged watermark).", labels);
    pm->lag = metrics_gauge("er_partition_lag", "High watermark minus the acknowledged watermark.",
                            labels);
}

void rmetrics_released(rmetrics_part_t *pm, const char *topic, int32_t partition)
{
    char labels[512];
    (void)topic;
    if (!pm)
        return;
    partition_labels(labels, sizeof(labels), pm, partition);
    metrics_remove("er_partition_committed_offset", labels);
    metrics_remove("er_partition_lag", labels);
    pm->committed = pm->lag = NULL;
}

void rmetrics_consumed(rmetrics_part_t *pm)
{
    if (pm)
        metrics_add(pm->consumed, 1);
}

void rmetrics_committed(rmetrics_part_t *pm, int64_t offset)
{
    if (pm && pm->committed)
        metrics_set(pm->committed, (double)offset);
}

void rmetrics_lag(rmetrics_part_t *pm, int64_t lag)
{
    if (pm && pm->lag)
        metrics_set(pm->lag, (double)lag);
}

void rmetrics_skipped(rmetrics_part_t *pm, route_reason_t reason)
{
    if (!pm)
        return;
    if (!pm->skipped[reason]) {
        char labels[512];
        snprintf(labels, sizeof(labels), "topic=\"%s\",reason=\"%s\"", pm->topic,
                 route_reason_name(reason));
        pm->skipped[reason] = metrics_counter(
            "er_events_skipped_total", "Events the rules skip (counted and committed).", labels);
    }
    metrics_add(pm->skipped[reason], 1);
}

void rmetrics_dead_lettered(rmetrics_part_t *pm, const char *code)
{
    char labels[512];
    if (!pm)
        return;
    snprintf(labels, sizeof(labels), "topic=\"%s\",reason=\"%s\"", pm->topic, code);
    metrics_add(metrics_counter("er_events_dead_lettered_total",
                                "Events written to the dead-letter topic.", labels),
                1);
}

static void route_labels(char *buf, size_t size, const rmetrics_part_t *pm, const char *route,
                         int critical)
{
    char esc[200];
    metrics_label_escape(esc, sizeof(esc), route ? route : "", route ? strlen(route) : 0);
    snprintf(buf, size, "topic=\"%s\",route=\"%s\",critical=\"%s\"", pm->topic, esc,
             critical ? "true" : "false");
}

void rmetrics_published(rmetrics_part_t *pm, const char *route, int critical, int duplicate)
{
    char labels[512];
    route_series_t *rs = NULL;
    if (!pm)
        return;
    if (!route)
        route = "";
    for (int i = 0; i < ROUTE_CACHE && !rs; i++) {
        if (pm->routes[i].route && !strcmp(pm->routes[i].route, route) &&
            pm->routes[i].critical == !!critical) {
            rs = &pm->routes[i];
        } else if (!pm->routes[i].route) {
            if (!(pm->routes[i].route = strdup(route)))
                break;
            pm->routes[i].critical = !!critical;
            route_labels(labels, sizeof(labels), pm, route, critical);
            pm->routes[i].published = metrics_counter("er_events_published_total",
                                                      "Events stored in JetStream (new).", labels);
            pm->routes[i].duplicate = metrics_counter(
                "er_events_duplicate_total",
                "Publishes JetStream acknowledged as duplicates (already stored).", labels);
            rs = &pm->routes[i];
        }
    }
    if (rs) {
        metrics_add(duplicate ? rs->duplicate : rs->published, 1);
        return;
    }
    /* Cache full (many routes on one partition): look the series up. */
    route_labels(labels, sizeof(labels), pm, route, critical);
    metrics_add(
        metrics_counter(duplicate ? "er_events_duplicate_total" : "er_events_published_total", NULL,
                        labels),
        1);
}
