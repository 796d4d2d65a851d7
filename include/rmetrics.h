/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file rmetrics.h
 * \brief The pipeline's metric series: registered once (the router-wide
 *        ones) or once per partition and route (cached), so the loop only
 *        adds and observes.
 *
 * Owns: the per-partition series cache (rmetrics_part_t, freed by
 * rmetrics_part_free()); the series themselves live in metrics.c's registry.
 * Allocation failure: metrics.c hands back a series that ignores updates,
 * so nothing here fails; a partition cache that cannot be allocated makes
 * rmetrics_part_new() return NULL and the per-partition calls accept NULL.
 *
 * Threads: the router's thread.
 */
#ifndef ER_RMETRICS_H
#define ER_RMETRICS_H

#include <stdint.h>

#include "metrics.h"
#include "natsmsg.h"
#include "decision.h"

/** The router-wide series. */
typedef struct rmetrics {
    metrics_series_t *inflight, *assigned, *paused, *nats_up, *nats_reconnects, *gaps;
    metrics_series_t *part_assigned, *part_revoked, *part_lost; /**< rebalances, by partition */
    metrics_series_t *holds, *pauses; /**< full windows held at the source; partitions paused */
    metrics_series_t *ack_lat, *e2e_lat, *retries, *err_sync, *err_transient, *err_permanent;
    metrics_series_t *hdr_dropped[NATSMSG_VERDICT__COUNT]; /**< by reason; [NATSMSG_COPY] unused */
    metrics_series_t
        *order_waits[ROUTE_ORDER__COUNT]; /**< by ordering; [NONE] is NULL: never waits */
    metrics_series_t *held;               /**< events held behind their key */
    metrics_series_t *already_stored;     /**< events skipped: a look-up found them stored */
    metrics_series_t *lookup_scanned;     /**< stream messages read by look-ups */
} rmetrics_t;

typedef struct rmetrics_part rmetrics_part_t;

/** \brief Register the router-wide series. */
void rmetrics_init(rmetrics_t *m);

/** \brief Per-partition series of \p topic (consumed, skipped, published...), or NULL. */
rmetrics_part_t *rmetrics_part_new(const char *topic);

/** \brief Free the cache (the series stay registered). NULL is a no-op. */
void rmetrics_part_free(rmetrics_part_t *pm);

/** \brief A partition was assigned: its committed-offset and lag gauges appear. */
void rmetrics_assigned(rmetrics_part_t *pm, const char *topic, int32_t partition);

/** \brief A partition was released: its gauges go away. */
void rmetrics_released(rmetrics_part_t *pm, const char *topic, int32_t partition);

void rmetrics_consumed(rmetrics_part_t *pm);
void rmetrics_committed(rmetrics_part_t *pm, int64_t offset);
void rmetrics_lag(rmetrics_part_t *pm, int64_t lag);
void rmetrics_skipped(rmetrics_part_t *pm, route_reason_t reason);
void rmetrics_dead_lettered(rmetrics_part_t *pm, const char *code);

/**
 * \brief An event of \p route was stored (\p duplicate: JetStream had it
 *        already). \p critical is the route's `critical:` (label critical="true"
 *        or "false": one series per route, as a route has one value).
 */
void rmetrics_published(rmetrics_part_t *pm, const char *route, int critical, int duplicate);

#endif /* ER_RMETRICS_H */
