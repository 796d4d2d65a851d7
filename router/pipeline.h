/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline.h: the pipeline's state, shared by the files that make up the
 * router and by nobody else: router.c (the loop, partition lifecycle, flow
 * control, shutdown), deliver.c (what happens to one routed event:
 * publish, retry, dead-letter, finish; include/deliver.h) and health.c
 * (gauges, readiness, fatal errors of the edges; include/health.h). One
 * thread, the caller of router_run(), owns all of it, except the fields
 * marked for the HTTP thread. It includes no header of those three files,
 * so the calls go one way: router.c -> deliver.c, health.c.
 */
#ifndef ER_PIPELINE_H
#define ER_PIPELINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "dlq.h"
#include "inflight.h"
#include "reconcile.h"
#include "reload.h"
#include "rmetrics.h"
#include "route.h"
#include "sink.h"
#include "source.h"
#include "streams.h"

typedef struct router router_t;

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

    int joined;                /* got an assignment (possibly empty) since the last revoke */
    int64_t unjoined_since_ns; /* when joined last went 0 (or the start) */
    int blocked;               /* a window is full: reading waits for PubAcks */
    int stalled;               /* ... for READ_STALL_MS already: pause, keep polling */
    int64_t blocked_since_ns;  /* 0 while reading */
    int fatal;
    int64_t stop_deadline_ns;  /* the one shutdown deadline, set when stopping starts (0 before) */
    int64_t last_ack_ns;       /* when the latest PubAck (stored or duplicate) arrived */
    streams_filters_t filters; /* which subjects some stream listens on */

    route_result_t res;
    sink_completion_t comp[512];
    inflight_ref_t due[DUE_BATCH];
    struct router_signals *sig;
    int64_t last_store_ns, last_gauges_ns;
    int dlq_missing_logged;
    uint64_t reconnects_seen;
    int64_t min_dupe_ms;        /* shortest duplicate window of the scanned streams (resume.c) */
    int64_t dupe_listed_ns;     /* when it was last listed */
    int64_t recheck_failing_ns; /* since when rechecks fail (0: they work) */
    reconcile_settle_t settle;  /* when a recheck is trusted (resume_settled) */

    /* Read by the HTTP thread. */
    atomic_int_fast64_t last_tick_ns;
    atomic_int ready;
    pthread_mutex_t why_lock;
    char why[READY_WHY_MAX];
};

#endif /* ER_PIPELINE_H */
