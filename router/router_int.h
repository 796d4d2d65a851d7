/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router_int.h: the pipeline's state, shared by the files that make up the
 * router and by nobody else: router.c (the loop, partition lifecycle, flow
 * control, shutdown), deliver.c (what happens to one routed event:
 * publish, retry, dead-letter, finish) and health.c (gauges, readiness,
 * fatal errors of the edges). One thread, the caller of router_run(), owns
 * all of it, except the fields marked for the HTTP thread.
 */
#ifndef ER_ROUTER_INT_H
#define ER_ROUTER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "dlq.h"
#include "inflight.h"
#include "reload.h"
#include "rmetrics.h"
#include "route.h"
#include "router.h"
#include "sink.h"
#include "source.h"
#include "streams.h"

#define DUE_BATCH     256  /* retries acted on per loop turn */
#define READY_WHY_MAX 1024 /* the readiness reasons; http.c answers up to 1 KiB */

struct router {
    const config_t *cfg;
    reload_t *reload;
    source_t *src;
    sink_t *sink;
    dlq_t *dlq;
    inflight_t *inf;
    rmetrics_t m;

    int joined;               /* got an assignment (possibly empty) since the last revoke */
    int blocked;              /* a window is full: reading waits for PubAcks */
    int stalled;              /* ... for READ_STALL_MS already: pause, keep polling */
    int64_t blocked_since_ns; /* 0 while reading */
    int fatal;
    int64_t stop_deadline_ns;  /* the one shutdown deadline, set when stopping starts (0 before) */
    int64_t last_ack_ns;       /* when the latest PubAck (stored or duplicate) arrived */
    streams_filters_t filters; /* which subjects some stream listens on */

    route_result_t res;
    sink_completion_t comp[512];
    inflight_ref_t due[DUE_BATCH];
    router_signals_t *sig;
    int64_t last_store_ns, last_gauges_ns;
    int dlq_missing_logged;
    uint64_t reconnects_seen;

    /* Read by the HTTP thread. */
    atomic_int_fast64_t last_tick_ns;
    atomic_int ready;
    pthread_mutex_t why_lock;
    char why[READY_WHY_MAX];
};

/* deliver.c */

/** Act on the rules' decision (r->res) for the event in slot seq: skip,
 *  dead-letter, or build the message and publish it. */
void deliver_dispatch(router_t *r, inflight_part_t *p, uint64_t seq, int has_headers);

/** Handle every queued PubAck completion. */
void deliver_drain(router_t *r);

/** Publish again (or dead-letter again) the events whose retry is due. */
void deliver_retries(router_t *r);

/** The in-flight table's clear callback: frees what a slot holds. */
void deliver_clear_slot(void *ctx, inflight_slot_t *s);

/** The dead-letter producer's delivery report (runs inside dlq_poll()). */
void deliver_dlq_report(void *opaque, int err, const char *errstr, void *ctx);

/* health.c */

/** Refresh the gauges and the readiness reasons (about once a second). */
void health_update(router_t *r);

/** Stop (r->fatal) when the consumer, the NATS connection or the DLQ
 *  producer failed for good. */
void health_check_fatal(router_t *r);

#endif /* ER_ROUTER_INT_H */
