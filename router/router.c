/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router: the pipeline loop, source -> route -> sink -> offsets.
 *
 * Everything here runs on one thread, the caller of router_run(). Records
 * come from source.c; route_decide() (pure) says what to do with each; the
 * JetStream publishes go out through sink.c, whose PubAcks come back as
 * completions on this same thread; dead letters go through dlq.c, whose
 * delivery reports are served here too. Each partition has a window
 * (offsets.c) and the window's watermark is the only offset ever stored.
 *
 * Failure handling, in one place:
 *   - transient publish failures (timeouts, no responders, connection loss)
 *     are retried on that partition with capped exponential backoff, and the
 *     partition is paused while it has an event waiting to be retried;
 *   - an attempt counts only when the failure is about the event: NATS was
 *     connected and JetStream acknowledged another publish after this one
 *     was sent. A disconnect, or a JetStream that answers nobody (no stream
 *     leader after a quorum loss: "no responders", timeouts), is an outage:
 *     the router backs off and pauses, it never dead-letters events for it;
 *   - permanent failures, and transient ones past retry.max_attempts, go to
 *     the dead-letter topic; the offset moves only after the DLQ ack;
 *   - a fatal error of the consumer, the DLQ producer or the NATS connection
 *     stops the router (exit 1); every graceful stop, whatever its cause,
 *     ends within limits.shutdown_timeout_ms (see "the shutdown deadline").
 *
 * Backpressure: when the in-flight window (limits.max_inflight_total, or one
 * partition's max_inflight_per_partition) is full, the loop stops reading
 * and waits for PubAcks; the records wait in librdkafka's queue, which
 * queued.max.messages.kbytes bounds. Pausing is kept for real stalls (the
 * window stays full for READ_STALL_MS, NATS is down, retries): a pause makes
 * librdkafka drop the partition's prefetched records and fetch them again
 * on resume, which is cheap once but collapses throughput when it happens
 * on every turn of a busy loop.
 *
 * Not for: parsing config or rules, or the HTTP endpoint.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dlq.h"
#include "kconf.h"
#include "log.h"
#include "metrics.h"
#include "monotime.h"
#include "natsmsg.h"
#include "offsets.h"
#include "route.h"
#include "router.h"
#include "sink.h"
#include "source.h"
#include "streams.h"

#define MAX_ROUTE_HEADERS 64   /* Kafka headers routing looks at */
#define CONSUME_BATCH     2000 /* records per loop turn before draining acks */
#define ROUTE_CACHE       8    /* per-partition cache of per-route series */
#define READ_STALL_MS     500  /* a full window this long pauses partitions */
#define READY_WHY_MAX     1024 /* the readiness reasons; http.c answers up to 1 KiB */

enum slot_state {
    S_FREE,
    S_PUBLISHING, /* JetStream publish in flight */
    S_RETRY,      /* waiting to republish (JetStream or core) */
    S_DLQ,        /* dead-letter produce in flight */
    S_DLQ_RETRY,  /* waiting to produce the dead letter again */
};

typedef struct slot {
    rd_kafka_message_t *rkm; /* the record, kept until done (retry, DLQ) */
    natsMsg *nmsg;           /* built message, held while waiting for a retry */
    rules_t *rules;          /* the rules that routed it (hot reload) */
    const char *route;       /* into rules */
    const char *dlq_code;    /* static */
    char *dlq_detail;
    int64_t retry_at_ns;
    int64_t sent_ns;
    uint16_t attempts;     /* failures counted toward retry.max_attempts */
    uint16_t outage_tries; /* failures during a JetStream outage: back off only */
    uint8_t state;
    uint8_t core;     /* core NATS publish, not JetStream */
    uint8_t dlq_omit; /* dead-letter without the value (too large for the DLQ) */
} slot_t;

typedef struct route_series {
    const char *route;
    metrics_series_t *published, *duplicate;
} route_series_t;

typedef struct part {
    char *topic;
    int32_t partition;
    uint32_t epoch; /* bumped on every assign and release */
    int assigned, paused, revoking;
    offsets_t *win;
    slot_t *slots;
    int64_t stored;      /* last offset handed to rd_kafka_offsets_store */
    int64_t next_offset; /* after the last record read; -1 before the first */
    int64_t last_progress_ns;
    uint32_t waiting; /* slots in S_RETRY or S_DLQ_RETRY */
    metrics_series_t *m_consumed, *m_committed, *m_lag;
    metrics_series_t *m_skipped[ROUTE_R__COUNT];
    route_series_t routes[ROUTE_CACHE];
    struct part *hnext, *next;
} part_t;

typedef struct ref {
    part_t *p;
    uint32_t epoch;
    uint64_t seq;
} ref_t;

/* natsMsg* -> slot, main thread only. Linear probing, backward-shift delete. */
typedef struct pm_entry {
    natsMsg *key;
    ref_t ref;
} pm_entry_t;

#define PART_BUCKETS 256

struct router {
    const config_t *cfg;
    rules_t *rules;
    source_t *src;
    rd_kafka_t *rk;
    sink_t *sink;
    dlq_t *dlq;

    part_t *buckets[PART_BUCKETS];
    part_t *parts;
    uint32_t total_inflight;
    uint32_t win_cap;
    int joined;               /* got an assignment (possibly empty) since the last revoke */
    int blocked;              /* a window is full: reading waits for PubAcks */
    int stalled;              /* ... for READ_STALL_MS already: pause, keep polling */
    int64_t blocked_since_ns; /* 0 while reading */
    int fatal;
    int64_t stop_deadline_ns;  /* the one shutdown deadline, set when stopping starts (0 before) */
    int64_t last_ack_ns;       /* when the latest PubAck (stored or duplicate) arrived */
    streams_filters_t filters; /* which subjects some stream listens on */

    pm_entry_t *pm;
    size_t pm_mask, pm_count;

    ref_t *retries;
    size_t retries_count, retries_cap;
    int64_t next_retry_ns;

    route_result_t res;
    sink_completion_t comp[512];
    router_signals_t *sig;

    int64_t last_store_ns, last_gauges_ns;
    int ino;               /* inotify on the rules file's directory, -1 if none */
    int64_t reload_due_ns; /* debounced reload after a file change */
    metrics_series_t *m_reload_ok, *m_reload_fail, *m_rules_info;
    char rules_info_labels[600];
    int dlq_missing_logged;

    /* Read by the HTTP thread. */
    atomic_int_fast64_t last_tick_ns;
    atomic_int ready;
    pthread_mutex_t why_lock;
    char why[READY_WHY_MAX];

    metrics_series_t *m_inflight, *m_assigned, *m_nats_up, *m_nats_reconnects, *m_ack_lat,
        *m_e2e_lat, *m_retries, *m_err_sync, *m_err_transient, *m_err_permanent, *m_paused,
        *m_refetch, *m_gaps;
    metrics_series_t *m_hdr_dropped[NATSMSG_VERDICT__COUNT]; /* by reason; [COPY] unused */
    uint64_t reconnects_seen;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the shutdown deadline ------------------------------------------------ */

/*
 * A graceful stop has one deadline, limits.shutdown_timeout_ms after it
 * starts, computed once (start_stop_clock) and shared by every step:
 * drain, final commit, leaving the group (with its revoke), DLQ flush, NATS
 * close. Each step gets what is left minus a share of the reserve kept for
 * the steps after it, so a step that hangs (NATS unreachable, a lost Kafka
 * cluster) cannot push the exit past the deadline, and the orchestrator's
 * grace period (terminationGracePeriodSeconds) can be set just above it.
 */
static void start_stop_clock(router_t *r)
{
    if (!r->stop_deadline_ns)
        r->stop_deadline_ns = monotime_ns() + (int64_t)r->cfg->limits.shutdown_timeout_ms * 1000000;
}

/* What the steps after the drain keep for themselves: a fifth of the
 * deadline, at most 5 s (they normally take milliseconds). */
static int64_t stop_reserve_ms(const router_t *r)
{
    int64_t fifth = r->cfg->limits.shutdown_timeout_ms / 5;
    return fifth < 5000 ? fifth : 5000;
}

/* Milliseconds left before the deadline minus keep_ms; 0 when past. */
static int stop_left_ms(const router_t *r, int64_t keep_ms)
{
    int64_t left = (r->stop_deadline_ns - monotime_ns()) / 1000000 - keep_ms;
    if (left < 0)
        return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* ---- natsMsg* map ------------------------------------------------------ */

static size_t pm_hash(const natsMsg *k, size_t mask)
{
    uint64_t x = (uint64_t)(uintptr_t)k;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & mask;
}

static int pm_put(router_t *r, natsMsg *k, ref_t ref)
{
    if (r->pm_count * 2 > r->pm_mask)
        return -1; /* keep the load under 1/2: the caller retries later */
    size_t i = pm_hash(k, r->pm_mask);
    while (r->pm[i].key)
        i = (i + 1) & r->pm_mask;
    r->pm[i].key = k;
    r->pm[i].ref = ref;
    r->pm_count++;
    return 0;
}

static int pm_take(router_t *r, const natsMsg *k, ref_t *out)
{
    size_t i = pm_hash(k, r->pm_mask);
    while (r->pm[i].key != k) {
        if (!r->pm[i].key)
            return -1;
        i = (i + 1) & r->pm_mask;
    }
    if (out)
        *out = r->pm[i].ref;
    /* Backward-shift deletion keeps probe chains intact without tombstones. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & r->pm_mask;
        if (!r->pm[j].key)
            break;
        size_t h = pm_hash(r->pm[j].key, r->pm_mask);
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            r->pm[i] = r->pm[j];
            i = j;
        }
    }
    r->pm[i].key = NULL;
    r->pm_count--;
    return 0;
}

/* ---- partitions ----------------------------------------------------------- */

static size_t part_bucket(const char *topic, int32_t partition)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = topic; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    return (size_t)((h ^ (uint64_t)partition * 0x9E3779B97F4A7C15ULL) % PART_BUCKETS);
}

static part_t *part_find(router_t *r, const char *topic, int32_t partition)
{
    for (part_t *p = r->buckets[part_bucket(topic, partition)]; p; p = p->hnext)
        if (p->partition == partition && !strcmp(p->topic, topic))
            return p;
    return NULL;
}

static part_t *part_get(router_t *r, const char *topic, int32_t partition)
{
    part_t *p = part_find(r, topic, partition);
    char labels[300];
    if (p)
        return p;
    p = calloc(1, sizeof(*p));
    if (!p || !(p->topic = strdup(topic)) || !(p->win = offsets_new(r->win_cap)) ||
        !(p->slots = calloc(r->win_cap, sizeof(slot_t)))) {
        LOG_ERROR("RTR-0901", "out of memory creating partition state", LKV_S("topic", topic));
        abort(); /* cannot track the partition safely; a restart resumes from commits */
    }
    p->partition = partition;
    p->stored = -1;
    p->next_offset = -1;
    snprintf(labels, sizeof(labels), "topic=\"%s\"", topic);
    p->m_consumed =
        metrics_counter("er_events_consumed_total", "Records consumed from Kafka.", labels);
    size_t b = part_bucket(topic, partition);
    p->hnext = r->buckets[b];
    r->buckets[b] = p;
    p->next = r->parts;
    r->parts = p;
    return p;
}

static slot_t *slot_of(part_t *p, uint64_t seq)
{
    return &p->slots[seq % offsets_capacity(p->win)];
}

/* Resolve a reference; NULL when the partition was released since. */
static slot_t *ref_slot(const ref_t *ref)
{
    if (ref->epoch != ref->p->epoch || !offsets_pending(ref->p->win, ref->seq))
        return NULL;
    return slot_of(ref->p, ref->seq);
}

static void slot_clear(slot_t *s)
{
    if (s->rkm)
        rd_kafka_message_destroy(s->rkm);
    natsMsg_Destroy(s->nmsg);
    rules_unref(s->rules);
    free(s->dlq_detail);
    memset(s, 0, sizeof(*s));
}

/* The event is acknowledged (stored, skipped, or dead-lettered). */
static void slot_finish(router_t *r, part_t *p, uint64_t seq)
{
    slot_t *s = slot_of(p, seq);
    if (s->state == S_RETRY || s->state == S_DLQ_RETRY)
        p->waiting--;
    slot_clear(s);
    offsets_done(p->win, seq);
    r->total_inflight--;
    p->last_progress_ns = monotime_ns();
}

static int64_t backoff_ns(const router_t *r, unsigned attempts)
{
    uint64_t ms = r->cfg->retry.backoff_initial_ms;
    for (unsigned i = 1; i < attempts && ms < r->cfg->retry.backoff_max_ms; i++)
        ms *= 2;
    if (ms > r->cfg->retry.backoff_max_ms)
        ms = r->cfg->retry.backoff_max_ms;
    return (int64_t)ms * 1000000;
}

static void push_retry(router_t *r, const ref_t *ref, int64_t when)
{
    if (r->retries_count == r->retries_cap) {
        size_t ncap = r->retries_cap ? r->retries_cap * 2 : 256;
        ref_t *n = realloc(r->retries, ncap * sizeof(*n));
        if (!n) {
            LOG_ERROR("RTR-0902", "out of memory scheduling a retry");
            abort();
        }
        r->retries = n;
        r->retries_cap = ncap;
    }
    r->retries[r->retries_count++] = *ref;
    if (!r->next_retry_ns || when < r->next_retry_ns)
        r->next_retry_ns = when;
}

static void schedule(router_t *r, part_t *p, uint64_t seq, uint8_t state)
{
    slot_t *s = slot_of(p, seq);
    if (s->state != S_RETRY && s->state != S_DLQ_RETRY)
        p->waiting++;
    s->state = state;
    unsigned tries = (unsigned)s->attempts + s->outage_tries;
    s->retry_at_ns = monotime_ns() + backoff_ns(r, tries ? tries : 1);
    push_retry(r, &(ref_t){p, p->epoch, seq}, s->retry_at_ns);
}

/* ---- metrics helpers ------------------------------------------------------- */

static route_series_t *route_series(part_t *p, const char *route)
{
    char labels[400], esc[200];
    for (int i = 0; i < ROUTE_CACHE; i++) {
        if (p->routes[i].route == route)
            return &p->routes[i];
        if (!p->routes[i].route) {
            metrics_label_escape(esc, sizeof(esc), route ? route : "", route ? strlen(route) : 0);
            snprintf(labels, sizeof(labels), "topic=\"%s\",route=\"%s\"", p->topic, esc);
            p->routes[i].route = route;
            p->routes[i].published = metrics_counter("er_events_published_total",
                                                     "Events stored in JetStream (new).", labels);
            p->routes[i].duplicate = metrics_counter(
                "er_events_duplicate_total",
                "Publishes JetStream acknowledged as duplicates (already stored).", labels);
            return &p->routes[i];
        }
    }
    /* Cache full (many routes on one partition): fall back to the registry. */
    static route_series_t spill;
    metrics_label_escape(esc, sizeof(esc), route ? route : "", route ? strlen(route) : 0);
    snprintf(labels, sizeof(labels), "topic=\"%s\",route=\"%s\"", p->topic, esc);
    spill.published = metrics_counter("er_events_published_total", NULL, labels);
    spill.duplicate = metrics_counter("er_events_duplicate_total", NULL, labels);
    return &spill;
}

static void count_skip(part_t *p, route_reason_t reason)
{
    if (!p->m_skipped[reason]) {
        char labels[300];
        snprintf(labels, sizeof(labels), "topic=\"%s\",reason=\"%s\"", p->topic,
                 route_reason_name(reason));
        p->m_skipped[reason] = metrics_counter(
            "er_events_skipped_total", "Events the rules skip (counted and committed).", labels);
    }
    metrics_add(p->m_skipped[reason], 1);
}

static void count_dead_letter(part_t *p, const char *code)
{
    char labels[300];
    snprintf(labels, sizeof(labels), "topic=\"%s\",reason=\"%s\"", p->topic, code);
    metrics_add(metrics_counter("er_events_dead_lettered_total",
                                "Events written to the dead-letter topic.", labels),
                1);
}

/* ---- building the NATS message -------------------------------------------- */

/* natsmsg's header accessor over a librdkafka header list. */
static int kafka_header_at(void *ctx, size_t i, route_header_t *out)
{
    return rd_kafka_header_get_all(ctx, i, &out->name, &out->value, &out->value_len) !=
           RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* has_headers: whether the record has Kafka headers (source_event saw
 * some); for a record without, rd_kafka_message_headers() still allocates
 * and frees a parse buffer on every call. The header policy (no Nats-*
 * header from Kafka, ever) lives in natsmsg.c; here the headers left out
 * are counted by reason. */
static natsMsg *build_msg(router_t *r, const rd_kafka_message_t *m, const route_result_t *res,
                          int jetstream, int has_headers)
{
    natsMsg *nm = NULL;
    rd_kafka_headers_t *h = NULL;
    rd_kafka_timestamp_type_t tstype;
    uint32_t dropped[NATSMSG_VERDICT__COUNT] = {0};
    natsmsg_input_t in = {
        .subject = res->subject,
        .payload = m->payload,
        .payload_len = m->len,
        .topic = rd_kafka_topic_name(m->rkt),
        .partition = m->partition,
        .offset = m->offset,
        .timestamp_ms = rd_kafka_message_timestamp(m, &tstype),
        .key = m->key,
        .key_len = m->key_len,
        .route = res,
        .msg_id = jetstream ? res->dedup_id : NULL,
    };

    if (has_headers && rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h) {
        in.header_at = kafka_header_at;
        in.header_ctx = h;
    }
    if (natsmsg_build(&nm, &in, dropped) != NATS_OK)
        return NULL;
    for (int v = NATSMSG_COPY + 1; v < NATSMSG_VERDICT__COUNT; v++)
        if (dropped[v])
            metrics_add(r->m_hdr_dropped[v], dropped[v]);
    return nm;
}

/* ---- dead letters ----------------------------------------------------------- */

static void dlq_send(router_t *r, part_t *p, uint64_t seq)
{
    slot_t *s = slot_of(p, seq);
    dlq_reason_t why = {s->dlq_code, s->dlq_detail ? s->dlq_detail : "", s->route, s->dlq_omit};
    ref_t *ref;
    int err;

    if (!r->dlq) {
        if (!r->dlq_missing_logged++)
            LOG_ERROR("RTR-0201",
                      "event needs the dead-letter topic but dlq.topic is not configured; "
                      "its partition stalls until one is configured",
                      LKV_S("topic", p->topic), LKV_I("partition", p->partition),
                      LKV_I("offset", s->rkm->offset), LKV_S("reason", s->dlq_code));
        s->attempts = 1000; /* back off at the maximum */
        schedule(r, p, seq, S_DLQ_RETRY);
        return;
    }
    ref = malloc(sizeof(*ref));
    if (!ref) {
        schedule(r, p, seq, S_DLQ_RETRY);
        return;
    }
    *ref = (ref_t){p, p->epoch, seq};
    err = dlq_produce(r->dlq, s->rkm, &why, ref);
    if (err && dlq_err_is_too_large(err) && !s->dlq_omit) {
        s->dlq_omit = why.omit_value = 1;
        err = dlq_produce(r->dlq, s->rkm, &why, ref);
    }
    if (err) {
        free(ref);
        s->attempts++;
        LOG_WARN("RTR-0202", "dead-letter produce refused; will retry",
                 LKV_S("error", rd_kafka_err2name((rd_kafka_resp_err_t)err)));
        schedule(r, p, seq, S_DLQ_RETRY);
        return;
    }
    if (s->state == S_DLQ_RETRY)
        p->waiting--;
    s->state = S_DLQ;
}

/* Send slot seq to the DLQ with a stable code and a human detail. */
static void to_dlq(router_t *r, part_t *p, uint64_t seq, const char *code, const char *detail)
{
    slot_t *s = slot_of(p, seq);
    natsMsg_Destroy(s->nmsg);
    s->nmsg = NULL;
    s->dlq_code = code;
    free(s->dlq_detail);
    s->dlq_detail = strdup(detail);
    s->attempts = 0;
    LOG_WARN("RTR-0203", "dead-lettering event", LKV_S("topic", p->topic),
             LKV_I("partition", p->partition), LKV_I("offset", s->rkm->offset),
             LKV_S("route", s->route ? s->route : "-"), LKV_S("reason", code),
             LKV_S("detail", detail));
    dlq_send(r, p, seq);
}

/* Delivery report from the DLQ producer; runs inside dlq_poll() on this thread. */
static void on_dlq_delivered(void *opaque, int err, const char *errstr, void *ctx)
{
    router_t *r = ctx;
    ref_t *ref = opaque;
    slot_t *s = ref_slot(ref);

    if (s && s->state == S_DLQ) {
        if (err && dlq_err_is_too_large(err) && !s->dlq_omit) {
            /* Never stall on a record the DLQ can never take: send the
             * reference without the value (the original stays in Kafka). */
            LOG_WARN("RTR-0205",
                     "dead letter too large for the DLQ topic; sending it without its value",
                     LKV_S("topic", ref->p->topic), LKV_I("partition", ref->p->partition),
                     LKV_I("offset", s->rkm->offset));
            s->dlq_omit = 1;
            s->state = S_FREE;
            dlq_send(r, ref->p, ref->seq);
        } else if (err) {
            s->attempts++;
            LOG_WARN("RTR-0204", "dead-letter delivery failed; will retry",
                     LKV_S("topic", ref->p->topic), LKV_I("partition", ref->p->partition),
                     LKV_S("error", errstr));
            schedule(r, ref->p, ref->seq, S_DLQ_RETRY);
        } else {
            count_dead_letter(ref->p, s->dlq_code);
            slot_finish(r, ref->p, ref->seq);
        }
    }
    free(ref);
}

/* ---- publishing --------------------------------------------------------------- */

static int status_is_permanent(int st)
{
    return st == NATS_MAX_PAYLOAD || st == NATS_INVALID_SUBJECT || st == NATS_INVALID_ARG;
}

/* Publish (or republish) the message held in the slot. */
static void publish_slot(router_t *r, part_t *p, uint64_t seq)
{
    slot_t *s = slot_of(p, seq);
    natsMsg *nm = s->nmsg;
    int st;

    if (s->state == S_RETRY)
        p->waiting--;
    s->state = S_FREE;
    s->nmsg = NULL;

    if (s->core) {
        st = sink_publish_core(r->sink, nm);
        if (st == NATS_OK) {
            natsMsg_Destroy(nm);
            route_series_t *rs = route_series(p, s->route);
            metrics_add(rs->published, 1);
            slot_finish(r, p, seq);
            return;
        }
    } else {
        if (pm_put(r, nm, (ref_t){p, p->epoch, seq}) != 0) {
            st = NATS_INSUFFICIENT_BUFFER;
        } else {
            s->sent_ns = monotime_ns();
            st = sink_publish(r->sink, &nm, NULL);
            if (st == NATS_OK) {
                s->state = S_PUBLISHING;
                return;
            }
            pm_take(r, nm, NULL);
        }
    }
    metrics_add(r->m_err_sync, 1);
    if (status_is_permanent(st)) {
        char detail[200];
        snprintf(detail, sizeof(detail), "NATS refused the publish: %s",
                 natsStatus_GetText((natsStatus)st));
        natsMsg_Destroy(nm);
        to_dlq(r, p, seq, st == NATS_MAX_PAYLOAD ? "too_large" : "nats_rejected", detail);
        return;
    }
    s->nmsg = nm;
    if (sink_connected(r->sink))
        s->attempts++;
    schedule(r, p, seq, S_RETRY);
}

/*
 * Does this transient failure count toward retry.max_attempts? Only when it
 * tells something about the event itself: NATS was connected and JetStream
 * acknowledged some other publish after this one was sent (completions are
 * handled in arrival order, so last_ack_ns is an ack that came before this
 * failure). If nothing was acknowledged meanwhile, JetStream as a whole was
 * not answering: a quorum loss or a restart leaves the connected node with
 * no stream leader, and every publish fails with "no responders" or times
 * out. That is an outage; counting it would dead-letter every event in
 * flight after a few seconds. JetStream error 10158, "duplicate message id
 * is in process", never counts: the stream holds an earlier copy of this
 * very event in its replication pipeline, and a later retry gets the
 * duplicate PubAck.
 */
static int failure_counts(router_t *r, const slot_t *s, const sink_completion_t *c)
{
    if (!sink_connected(r->sink) || c->js_code == 10158)
        return 0;
    if (r->last_ack_ns > s->sent_ns)
        return 1;
    /* Nothing else was acknowledged either. "No responders" still counts
     * when JetStream, asked directly, says no stream listens on the subject:
     * that is about the event, not an outage (a quiet router with one
     * misrouted event must dead-letter it, not stall). The listing is
     * refreshed at most every 10 s, with a short timeout. */
    if (c->status == NATS_NO_RESPONDERS) {
        if (monotime_ns() - r->filters.listed_ns > 10000000000LL)
            streams_filters_refresh(sink_js(r->sink), &r->filters, 1000);
        const char *subject = natsMsg_GetSubject(c->msg);
        return subject && streams_filters_cover(&r->filters, subject) == 0;
    }
    return 0;
}

static void on_completion(router_t *r, sink_completion_t *c)
{
    ref_t ref;
    slot_t *s;

    if (pm_take(r, c->msg, &ref) != 0 || !(s = ref_slot(&ref)) || s->state != S_PUBLISHING) {
        natsMsg_Destroy(c->msg); /* its partition was released meanwhile */
        return;
    }
    part_t *p = ref.p;
    switch (c->outcome) {
    case SINK_STORED:
    case SINK_DUPLICATE: {
        route_series_t *rs = route_series(p, s->route);
        if (c->acked_at_ns > r->last_ack_ns)
            r->last_ack_ns = c->acked_at_ns;
        metrics_add(c->outcome == SINK_STORED ? rs->published : rs->duplicate, 1);
        metrics_observe(r->m_ack_lat, (double)(c->acked_at_ns - s->sent_ns) / 1e9);
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(s->rkm, &tstype);
        if (ts > 0)
            metrics_observe(r->m_e2e_lat, (double)(wall_ms() - ts) / 1e3);
        natsMsg_Destroy(c->msg);
        slot_finish(r, p, ref.seq);
        return;
    }
    case SINK_TRANSIENT:
        metrics_add(r->m_err_transient, 1);
        if (failure_counts(r, s, c))
            s->attempts++;
        else if (sink_connected(r->sink) && s->outage_tries < UINT16_MAX)
            s->outage_tries++;
        if (s->attempts >= r->cfg->retry.max_attempts) {
            char detail[256];
            snprintf(detail, sizeof(detail), "JetStream publish failed %u times; last error: %s",
                     s->attempts, c->error);
            natsMsg_Destroy(c->msg);
            to_dlq(r, p, ref.seq, "publish_failed", detail);
            return;
        }
        LOG_DEBUG("RTR-0301", "publish failed; will retry", LKV_S("topic", p->topic),
                  LKV_I("partition", p->partition), LKV_U("attempt", s->attempts),
                  LKV_S("error", c->error));
        s->nmsg = c->msg;
        metrics_add(r->m_retries, 1);
        schedule(r, p, ref.seq, S_RETRY);
        return;
    default: {
        char detail[256];
        metrics_add(r->m_err_permanent, 1);
        natsMsg_Destroy(c->msg);
        if (c->status == NATS_NOT_PERMITTED) { /* the NATS user may not publish there */
            to_dlq(r, p, ref.seq, "permission_denied", c->error);
            return;
        }
        snprintf(detail, sizeof(detail), "JetStream rejected the event: %s (code %d)", c->error,
                 c->js_code);
        to_dlq(r, p, ref.seq, "jetstream_rejected", detail);
        return;
    }
    }
}

static void drain_completions(router_t *r)
{
    size_t n;
    do {
        n = sink_drain(r->sink, r->comp, sizeof(r->comp) / sizeof(r->comp[0]));
        for (size_t i = 0; i < n; i++)
            on_completion(r, &r->comp[i]);
    } while (n == sizeof(r->comp) / sizeof(r->comp[0]));
}

static void run_retries(router_t *r)
{
    int64_t now = monotime_ns();

    if (!r->next_retry_ns || now < r->next_retry_ns)
        return;
    /* Work on a snapshot: the actions below may schedule new retries. */
    ref_t *todo = r->retries;
    size_t n = r->retries_count;
    r->retries = NULL;
    r->retries_count = r->retries_cap = 0;
    r->next_retry_ns = 0;
    for (size_t i = 0; i < n; i++) {
        ref_t *ref = &todo[i];
        slot_t *s = ref_slot(ref);
        if (!s || (s->state != S_RETRY && s->state != S_DLQ_RETRY))
            continue;
        if (s->retry_at_ns > now) {
            push_retry(r, ref, s->retry_at_ns);
        } else if (s->state == S_DLQ_RETRY) {
            dlq_send(r, ref->p, ref->seq);
        } else if (!sink_connected(r->sink)) {
            push_retry(r, ref, now + 100000000); /* look again once NATS is back */
        } else {
            publish_slot(r, ref->p, ref->seq);
        }
    }
    free(todo);
}

/* ---- consuming ---------------------------------------------------------------- */

static void handle_record(router_t *r, rd_kafka_message_t *m)
{
    route_header_t hdrs[MAX_ROUTE_HEADERS];
    route_event_t ev;
    part_t *p;
    slot_t *s;
    uint64_t seq;
    int rc;

    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            LOG_WARN("SRC-0101", "consumer error",
                     LKV_S("topic", m->rkt ? rd_kafka_topic_name(m->rkt) : "-"),
                     LKV_S("error", rd_kafka_message_errstr(m)));
            char fe[256];
            if (rd_kafka_fatal_error(r->rk, fe, sizeof(fe))) {
                LOG_ERROR("SRC-0901", "fatal consumer error; stopping", LKV_S("error", fe));
                r->fatal = 1;
            }
        }
        rd_kafka_message_destroy(m);
        return;
    }
    const char *topic = rd_kafka_topic_name(m->rkt);
    p = part_find(r, topic, m->partition);
    if (!p || !p->assigned || p->revoking) {
        /* Not tracked, so never committed: the partition's owner reads it. */
        LOG_DEBUG("RTR-0101", "record for a partition not owned; ignored", LKV_S("topic", topic),
                  LKV_I("partition", m->partition));
        rd_kafka_message_destroy(m);
        return;
    }
    rc = offsets_push(p->win, m->offset, &seq);
    if (rc == -2) {
        LOG_DEBUG("RTR-0102", "record at or below a tracked offset; ignored", LKV_S("topic", topic),
                  LKV_I("partition", m->partition), LKV_I("offset", m->offset));
        rd_kafka_message_destroy(m);
        return;
    }
    if (rc == -1) {
        /* Window full (the pause came late). Rewind so the record is fetched
         * again after the resume; nothing is lost or committed past it. */
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, m->partition)->offset = m->offset;
        rd_kafka_pause_partitions(r->rk, l);
        p->paused = 1;
        p->next_offset = m->offset;
        rd_kafka_error_t *e = rd_kafka_seek_partitions(r->rk, l, 2000);
        if (e) {
            LOG_ERROR("RTR-0103", "seek back after a full window failed",
                      LKV_S("error", rd_kafka_error_string(e)));
            rd_kafka_error_destroy(e);
        }
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_message_destroy(m);
        return;
    }
    if (p->next_offset >= 0 && m->offset > p->next_offset)
        metrics_add(r->m_gaps, (uint64_t)(m->offset - p->next_offset));
    p->next_offset = m->offset + 1;
    if (offsets_inflight(p->win) == 1)
        p->last_progress_ns = monotime_ns();
    r->total_inflight++;
    if (r->total_inflight >= r->cfg->limits.max_inflight_total ||
        offsets_inflight(p->win) >= r->cfg->limits.max_inflight_per_partition)
        r->blocked = 1; /* read no further this turn */
    metrics_add(p->m_consumed, 1);
    s = slot_of(p, seq);
    s->rkm = m;
    s->rules = rules_ref(r->rules);

    source_event(m, &ev, hdrs, MAX_ROUTE_HEADERS);
    route_result_t *res = &r->res;
    route_decide(s->rules, &ev, res);
    s->route = res->route;
    switch (res->action) {
    case ROUTE_SKIP:
        count_skip(p, res->reason);
        slot_finish(r, p, seq);
        return;
    case ROUTE_DLQ:
        to_dlq(r, p, seq, route_reason_name(res->reason), res->detail);
        return;
    case ROUTE_JETSTREAM:
    case ROUTE_NATS_CORE:
    default:
        s->core = res->action == ROUTE_NATS_CORE;
        s->nmsg = build_msg(r, m, res, !s->core, ev.header_count > 0);
        if (!s->nmsg) {
            LOG_ERROR("RTR-0104", "could not build the NATS message (out of memory?)",
                      LKV_S("topic", topic), LKV_I("partition", m->partition),
                      LKV_I("offset", m->offset));
            to_dlq(r, p, seq, "internal_error", "could not build the NATS message");
            return;
        }
        publish_slot(r, p, seq);
        return;
    }
}

/* ---- flow control and offsets ------------------------------------------------- */

/* Whether the total window, or the window of a partition still being
 * fetched, is full. Once per loop turn: O(partitions). */
static int window_full(const router_t *r)
{
    const config_t *c = r->cfg;
    if (r->total_inflight >= c->limits.max_inflight_total)
        return 1;
    for (const part_t *p = r->parts; p; p = p->next)
        if (p->assigned && !p->paused &&
            offsets_inflight(p->win) >= c->limits.max_inflight_per_partition)
            return 1;
    return 0;
}

static void update_blocked(router_t *r, int64_t now)
{
    r->blocked = window_full(r);
    if (!r->blocked)
        r->blocked_since_ns = 0;
    else if (!r->blocked_since_ns)
        r->blocked_since_ns = now;
    r->stalled = r->blocked && now - r->blocked_since_ns >= (int64_t)READ_STALL_MS * 1000000;
}

static void flow_control(router_t *r)
{
    rd_kafka_topic_partition_list_t *pause = NULL, *resume = NULL;
    const config_t *c = r->cfg;
    int up = sink_connected(r->sink);
    /* A full window alone pauses only once it has stalled (see the top). */
    int total_full = r->stalled && r->total_inflight >= c->limits.max_inflight_total;
    int total_low = r->total_inflight <= c->limits.max_inflight_total / 4 * 3;
    unsigned npaused = 0;

    for (part_t *p = r->parts; p; p = p->next) {
        if (!p->assigned)
            continue;
        uint32_t inf = offsets_inflight(p->win);
        int want = !up || total_full || p->waiting > 0 || p->revoking ||
                   (r->stalled && inf >= c->limits.max_inflight_per_partition);
        int may_resume = up && total_low && p->waiting == 0 && !p->revoking &&
                         inf <= c->limits.max_inflight_per_partition / 4 * 3;
        if (!p->paused && want) {
            if (!pause)
                pause = rd_kafka_topic_partition_list_new(8);
            rd_kafka_topic_partition_list_add(pause, p->topic, p->partition);
            p->paused = 1;
        } else if (p->paused && may_resume) {
            if (!resume)
                resume = rd_kafka_topic_partition_list_new(8);
            rd_kafka_topic_partition_list_add(resume, p->topic, p->partition);
            p->paused = 0;
        }
        npaused += p->paused;
    }
    if (pause) {
        rd_kafka_pause_partitions(r->rk, pause);
        LOG_DEBUG("RTR-0401", "paused partitions", LKV_I("count", pause->cnt), LKV_I("nats_up", up),
                  LKV_U("inflight", r->total_inflight));
        rd_kafka_topic_partition_list_destroy(pause);
    }
    if (resume) {
        rd_kafka_resume_partitions(r->rk, resume);
        source_resumed(r->src);
        LOG_DEBUG("RTR-0402", "resumed partitions", LKV_I("count", resume->cnt));
        rd_kafka_topic_partition_list_destroy(resume);
    }
    metrics_set(r->m_paused, npaused);
}

/* Wake librdkafka's fetcher once its prefetch queue has been empty for
 * kafka.refetch_idle_ms after it probably stopped fetching (see
 * source_starved_since()): without this a catch-up idles up to a second per
 * prefetch bound's worth of records. Only partitions with records on the
 * broker past the last one read (cached high watermark), not paused and
 * not being revoked, each at exactly that next offset. */
static void refetch_stalled(router_t *r, int64_t now)
{
    int64_t since = source_starved_since(r->src);
    uint32_t ms = r->cfg->kafka.refetch_idle_ms;
    if (!ms || !since || now - since < (int64_t)ms * 1000000)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (part_t *p = r->parts; p; p = p->next) {
        int64_t lo, hi;
        /* An unknown watermark (-1 after a fetch error) does not hold the
         * restart back: a seek to the next offset can only rewind. */
        if (!p->assigned || p->paused || p->revoking || p->next_offset < 0 ||
            rd_kafka_get_watermark_offsets(r->rk, p->topic, p->partition, &lo, &hi) ||
            (hi >= 0 && hi <= p->next_offset))
            continue;
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->next_offset;
    }
    if (l->cnt > 0) {
        LOG_DEBUG("SRC-0103", "prefetch queue ran dry with records on the broker; refetching",
                  LKV_I("partitions", l->cnt), LKV_I("idle_ms", (now - since) / 1000000));
        metrics_add(r->m_refetch, 1);
    }
    source_refetch(r->src, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* Hand each partition's watermark to librdkafka; auto-commit commits it.
 * With only_revoking, just the partitions being revoked. Returns the list
 * of what was stored (caller frees) when want_list is set. */
static rd_kafka_topic_partition_list_t *store_offsets(router_t *r, int only_revoking, int want_list)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    for (part_t *p = r->parts; p; p = p->next) {
        if (!p->assigned || (only_revoking && !p->revoking))
            continue;
        int64_t c = offsets_committable(p->win);
        if (c < 0 || (c <= p->stored && !want_list))
            continue;
        if (!l)
            l = rd_kafka_topic_partition_list_new(8);
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = c;
        p->stored = c;
        metrics_set(p->m_committed, (double)c);
    }
    if (l) {
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(r->rk, l);
        if (err)
            LOG_WARN("OFF-0101", "storing offsets failed (partition no longer assigned?)",
                     LKV_S("error", rd_kafka_err2name(err)));
        if (!want_list) {
            rd_kafka_topic_partition_list_destroy(l);
            l = NULL;
        }
    }
    return l;
}

static uint32_t pending_events(router_t *r, int only_revoking)
{
    uint32_t n = 0;
    for (part_t *p = r->parts; p; p = p->next)
        if (p->assigned && (!only_revoking || p->revoking))
            n += offsets_inflight(p->win);
    return n;
}

/* Keep acks, retries and dead letters moving until nothing is pending or the
 * deadline passes (used on revoke and at shutdown). No new records are read. */
static uint32_t wait_pending(router_t *r, int only_revoking, uint32_t timeout_ms)
{
    int64_t deadline = monotime_ns() + (int64_t)timeout_ms * 1000000;
    uint32_t n;
    while ((n = pending_events(r, only_revoking)) > 0 && monotime_ns() < deadline &&
           r->sig->stop < 2) {
        struct pollfd pfd = {.fd = sink_fd(r->sink), .events = POLLIN};
        poll(&pfd, 1, 20);
        drain_completions(r);
        if (r->dlq)
            dlq_poll(r->dlq, 0);
        run_retries(r);
        atomic_store(&r->last_tick_ns, monotime_ns());
    }
    return n;
}

static void release_part(router_t *r, part_t *p)
{
    for (uint64_t seq = offsets_head(p->win); seq < offsets_tail(p->win); seq++) {
        slot_t *s = slot_of(p, seq);
        if (offsets_pending(p->win, seq)) {
            r->total_inflight--;
            /* An in-flight natsMsg belongs to cnats; its late ack finds a
             * stale epoch and is dropped. */
            slot_clear(s);
        }
    }
    offsets_reset(p->win);
    p->epoch++;
    p->assigned = p->paused = p->revoking = 0;
    p->waiting = 0;
    p->stored = -1;
    char labels[300];
    snprintf(labels, sizeof(labels), "topic=\"%s\",partition=\"%" PRId32 "\"", p->topic,
             p->partition);
    metrics_remove("er_partition_committed_offset", labels);
    metrics_remove("er_partition_lag", labels);
}

static void update_gauges(router_t *r)
{
    unsigned assigned = 0;
    for (part_t *p = r->parts; p; p = p->next) {
        if (!p->assigned)
            continue;
        assigned++;
        int64_t lo, hi;
        if (rd_kafka_get_watermark_offsets(r->rk, p->topic, p->partition, &lo, &hi) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            hi >= 0) {
            int64_t c = offsets_committable(p->win);
            if (c < 0)
                c = p->stored >= 0 ? p->stored : lo;
            metrics_set(p->m_lag, (double)(hi > c ? hi - c : 0));
        }
    }
    metrics_set(r->m_assigned, assigned);
    metrics_set(r->m_inflight, r->total_inflight);
    metrics_set(r->m_nats_up, sink_connected(r->sink));
    uint64_t rc = sink_reconnects(r->sink);
    if (rc > r->reconnects_seen) {
        metrics_add(r->m_nats_reconnects, rc - r->reconnects_seen);
        r->reconnects_seen = rc;
    }

    /* Readiness, for the HTTP thread. */
    char why[READY_WHY_MAX] = "";
    size_t w = 0;
    int64_t now = monotime_ns(), stuck = (int64_t)r->cfg->http.stuck_after_ms * 1000000;
    if (!sink_connected(r->sink))
        w += (size_t)snprintf(why + w, sizeof(why) - w, "NATS is not connected\n");
    if (!r->joined && w < sizeof(why))
        w += (size_t)snprintf(why + w, sizeof(why) - w,
                              "no partition assignment yet (joining the consumer group)\n");
    char kauth[KCONF_AUTH_WHY_MAX];
    if (!r->joined && w < sizeof(why) && kconf_auth_failure(60000, kauth, sizeof(kauth)))
        w += (size_t)snprintf(why + w, sizeof(why) - w, "Kafka authentication failed: %s\n", kauth);
    for (part_t *p = r->parts; p && w < sizeof(why); p = p->next)
        if (p->assigned && offsets_inflight(p->win) > 0 && now - p->last_progress_ns > stuck)
            w += (size_t)snprintf(why + w, sizeof(why) - w,
                                  "partition %s[%" PRId32 "] made no progress for %" PRId64
                                  " s with %u events in flight\n",
                                  p->topic, p->partition, (now - p->last_progress_ns) / 1000000000,
                                  offsets_inflight(p->win));
    pthread_mutex_lock(&r->why_lock);
    snprintf(r->why, sizeof(r->why), "%s", why);
    pthread_mutex_unlock(&r->why_lock);
    atomic_store(&r->ready, why[0] == '\0');
}

/* ---- rebalance (served from source_next, on this thread) ---------------------- */

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    router_t *r = opaque;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            part_t *p = part_get(r, parts->elems[i].topic, parts->elems[i].partition);
            offsets_reset(p->win);
            p->epoch++;
            p->assigned = 1;
            p->paused = p->revoking = 0;
            p->waiting = 0;
            p->stored = -1;
            p->next_offset = -1;
            p->last_progress_ns = monotime_ns();
            char labels[300];
            snprintf(labels, sizeof(labels), "topic=\"%s\",partition=\"%" PRId32 "\"", p->topic,
                     p->partition);
            p->m_committed =
                metrics_gauge("er_partition_committed_offset",
                              "Offset stored for commit (the acknowledged watermark).", labels);
            p->m_lag = metrics_gauge("er_partition_lag",
                                     "High watermark minus the acknowledged watermark.", labels);
            LOG_INFO("SRC-0002", "partition assigned", LKV_S("topic", p->topic),
                     LKV_I("partition", p->partition));
        }
        rd_kafka_assign(rk, parts);
        /* librdkafka keeps a partition's pause flag across reassignment. */
        rd_kafka_resume_partitions(rk, parts);
        r->joined = 1;
        return;
    }

    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        int lost = rd_kafka_assignment_lost(rk);
        for (int i = 0; i < parts->cnt; i++) {
            part_t *p = part_find(r, parts->elems[i].topic, parts->elems[i].partition);
            if (p && p->assigned)
                p->revoking = 1;
        }
        if (lost) {
            LOG_WARN("SRC-0004",
                     "assignment lost (session timed out?); releasing without committing",
                     LKV_I("partitions", parts->cnt));
            /* Another member may own them by now. librdkafka's auto-commit
             * would still try to commit what was stored (the broker refuses
             * it); an invalid stored offset is never committed. */
            rd_kafka_topic_partition_list_t *none = rd_kafka_topic_partition_list_copy(parts);
            for (int i = 0; i < none->cnt; i++)
                none->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
            rd_kafka_offsets_store(rk, none);
            rd_kafka_topic_partition_list_destroy(none);
        } else {
            uint32_t wait_ms = r->cfg->limits.revoke_timeout_ms;
            if (r->stop_deadline_ns) { /* leaving the group at shutdown */
                int max = stop_left_ms(r, stop_reserve_ms(r) / 2);
                if ((uint32_t)max < wait_ms)
                    wait_ms = (uint32_t)max;
            }
            uint32_t left = wait_pending(r, 1, wait_ms);
            if (left)
                LOG_WARN("SRC-0005",
                         "revoke: events still unacknowledged after the timeout; they will be "
                         "redelivered to the next owner (dedup absorbs repeats)",
                         LKV_U("pending", left), LKV_U("timeout_ms", wait_ms));
            rd_kafka_topic_partition_list_t *l = store_offsets(r, 1, 1);
            if (l) {
                rd_kafka_resp_err_t cerr = rd_kafka_commit(rk, l, 0);
                if (cerr && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
                    LOG_WARN("OFF-0102", "commit on revoke failed",
                             LKV_S("error", rd_kafka_err2name(cerr)));
                rd_kafka_topic_partition_list_destroy(l);
            }
        }
        for (int i = 0; i < parts->cnt; i++) {
            part_t *p = part_find(r, parts->elems[i].topic, parts->elems[i].partition);
            if (p && p->assigned) {
                LOG_INFO("SRC-0003", "partition released", LKV_S("topic", p->topic),
                         LKV_I("partition", p->partition), LKV_I("committed", p->stored));
                release_part(r, p);
            }
        }
        rd_kafka_assign(rk, NULL);
        r->joined = 0;
        return;
    }

    /* The whole assignment goes: release every partition as a lost
     * revoke does (no commit: who owns them now is unknown), or their
     * records stay in flight for ever and the window never empties. */
    int released = 0;
    for (part_t *p = r->parts; p; p = p->next)
        if (p->assigned) {
            release_part(r, p);
            released++;
        }
    LOG_ERROR("SRC-0006", "rebalance error; dropping the assignment",
              LKV_S("error", rd_kafka_err2str(err)), LKV_I("partitions", released));
    rd_kafka_assign(rk, NULL);
    r->joined = 0;
}

/* ---- hot reload ----------------------------------------------------------------- */

static void set_rules_info(router_t *r)
{
    char esc[400];
    if (r->rules_info_labels[0])
        metrics_remove("er_rules_info", r->rules_info_labels);
    metrics_label_escape(esc, sizeof(esc), rules_path(r->rules), strlen(rules_path(r->rules)));
    snprintf(r->rules_info_labels, sizeof(r->rules_info_labels), "path=\"%s\",hash=\"%s\"", esc,
             rules_hash(r->rules));
    r->m_rules_info = metrics_gauge("er_rules_info", "The loaded rule set (value is always 1).",
                                    r->rules_info_labels);
    metrics_set(r->m_rules_info, 1);
}

/*
 * Compile the rule file again and swap it in between two records. Events in
 * flight keep the rule set that routed them (each slot holds a reference),
 * so nothing is re-routed halfway. An invalid file changes nothing.
 */
static void reload_rules(router_t *r, const char *trigger)
{
    rules_t *nr = NULL;
    rules_diags_t d = {0};
    char buf[1024];

    if (rules_load_file(r->cfg->rules, &nr, &d) != 0) {
        for (size_t i = 0; i < d.count; i++)
            if (!d.items[i].warning) {
                const char *line = rules_diag_format(&d.items[i], buf, sizeof(buf));
                LOG_ERROR("RUL-0002", "rule reload failed; keeping the rules in force",
                          LKV_S("trigger", trigger), LKV_S("error", line));
            }
        metrics_add(r->m_reload_fail, 1);
    } else if (!strcmp(rules_hash(nr), rules_hash(r->rules))) {
        LOG_DEBUG("RUL-0003", "rule file unchanged; nothing to reload", LKV_S("trigger", trigger));
        rules_unref(nr);
    } else {
        LOG_INFO("RUL-0001", "rules reloaded", LKV_S("trigger", trigger),
                 LKV_U("routes", rules_route_count(nr)), LKV_S("old_hash", rules_hash(r->rules)),
                 LKV_S("new_hash", rules_hash(nr)));
        rules_unref(r->rules);
        r->rules = nr;
        metrics_add(r->m_reload_ok, 1);
        set_rules_info(r);
        if (sink_connected(r->sink))
            streams_check_routes(sink_js(r->sink), r->cfg, rules_route_at, r->rules);
    }
    rules_diags_clear(&d);
}

/* Watch the directory, not the file: editors and Kubernetes ConfigMaps
 * replace files by rename, which a watch on the file itself would miss. */
static void watch_rules(router_t *r)
{
    char *copy = strdup(r->cfg->rules);
    r->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (r->ino >= 0 && copy &&
        inotify_add_watch(r->ino, dirname(copy),
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE) < 0) {
        LOG_WARN("RUL-0004", "cannot watch the rules directory; reload with SIGHUP",
                 LKV_S("path", r->cfg->rules), LKV_I("errno", errno));
        close(r->ino);
        r->ino = -1;
    }
    free(copy);
}

static void check_reload(router_t *r, int ino_ready)
{
    char buf[4096];
    if (ino_ready) {
        while (read(r->ino, buf, sizeof(buf)) > 0)
            ;
        /* Let the writer finish (several events per save): reload 200 ms later. */
        r->reload_due_ns = monotime_ns() + 200000000;
    }
    if (r->sig->reload) {
        r->sig->reload = 0;
        reload_rules(r, "sighup");
    }
    if (r->reload_due_ns && monotime_ns() >= r->reload_due_ns) {
        r->reload_due_ns = 0;
        reload_rules(r, "file_change");
    }
}

/* ---- lifecycle ------------------------------------------------------------------ */

/* cnats gave up on the connection (e.g. the server refused the credentials):
 * waiting would only keep an unready router forever, so stop as after a
 * fatal Kafka error (drain what can be drained, commit only what was
 * acknowledged, exit 1) and let the supervisor restart it, e.g. after the
 * Secret is fixed. */
static void check_sink_failed(router_t *r)
{
    char why[256];
    if (r->fatal || !sink_failed(r->sink, why, sizeof(why)))
        return;
    LOG_ERROR("RTR-0904",
              "NATS refused the connection for good; stopping (check nats.user and its "
              "password, nats.token_env, nats.creds_file, nats.nkey_seed_file and TLS)",
              LKV_S("error", why));
    r->fatal = 1;
}

/* The DLQ producer hit a fatal error (e.g. its idempotent producer was
 * fenced): it will never deliver again, so the partitions with dead letters
 * would stall for good. Stop with the reason, as for the consumer's. */
static void check_dlq_failed(router_t *r)
{
    char why[512];
    if (r->fatal || !r->dlq || !dlq_fatal(r->dlq, why, sizeof(why)))
        return;
    LOG_ERROR("DLQ-0901", "fatal dead-letter producer error; stopping", LKV_S("error", why));
    r->fatal = 1;
}

/* Create declared streams and warn about routes no stream covers. A NATS
 * outage at start only postpones this to the operator (`event-router streams`). */
static void provision_streams(router_t *r)
{
    char errstr[512], *buf = NULL;
    size_t len = 0;
    FILE *mem;

    if (!sink_connected(r->sink)) {
        LOG_WARN("STR-0002", "NATS not reachable at start; streams not checked",
                 LKV_U("declared", r->cfg->streams_count));
        return;
    }
    mem = open_memstream(&buf, &len);
    if (!mem)
        return;
    int rc = streams_ensure(sink_js(r->sink), r->cfg, 0, mem, errstr, sizeof(errstr));
    fclose(mem);
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (rc == 1 && strstr(line, "differs"))
            LOG_WARN("STR-0003", "stream differs from its declaration", LKV_S("detail", line));
        else
            LOG_INFO("STR-0004", "stream", LKV_S("detail", line));
    }
    free(buf);
    if (rc < 0)
        LOG_WARN("STR-0005", "stream provisioning failed", LKV_S("error", errstr));
    streams_check_routes(sink_js(r->sink), r->cfg, rules_route_at, r->rules);
}

int router_new(const config_t *cfg, rules_t *rules, router_t **out, char *errstr,
               size_t errstr_size)
{
    router_t *r = calloc(1, sizeof(*r));
    size_t pm_size = 1024;

    if (!r) {
        snprintf(errstr, errstr_size, "out of memory");
        rules_unref(rules);
        return -1;
    }
    r->cfg = cfg;
    r->rules = rules;
    pthread_mutex_init(&r->why_lock, NULL);
    snprintf(r->why, sizeof(r->why), "starting\n");
    /* Room for one event past the pause point plus headroom, per partition. */
    r->win_cap = cfg->limits.max_inflight_per_partition * 2 + 16;
    while (pm_size < (size_t)cfg->limits.max_inflight_total * 4)
        pm_size *= 2;
    r->pm = calloc(pm_size, sizeof(*r->pm));
    r->pm_mask = pm_size - 1;

    r->m_inflight =
        metrics_gauge("er_inflight_events", "Events consumed and not yet acknowledged.", NULL);
    r->m_assigned = metrics_gauge("er_assigned_partitions", "Partitions assigned.", NULL);
    r->m_paused =
        metrics_gauge("er_paused_partitions", "Assigned partitions paused by backpressure.", NULL);
    r->m_nats_up = metrics_gauge("er_nats_connected", "1 when connected to NATS.", NULL);
    r->m_nats_reconnects = metrics_counter("er_nats_reconnects_total", "NATS reconnects.", NULL);
    r->m_refetch = metrics_counter(
        "er_kafka_refetches_total",
        "Times the Kafka prefetch queue ran dry while librdkafka waited to fetch more, "
        "and the router restarted the fetch (kafka.refetch_idle_ms).",
        NULL);
    r->m_gaps = metrics_counter(
        "er_kafka_offset_gaps_total",
        "Offsets skipped between two consecutive records of a partition: expected with "
        "compacted topics and transaction markers, otherwise a sign of a consumer problem.",
        NULL);
    r->m_ack_lat =
        metrics_histogram("er_publish_ack_seconds", "Time from JetStream publish to PubAck.", NULL,
                          metrics_latency_buckets, metrics_latency_bucket_count);
    r->m_e2e_lat =
        metrics_histogram("er_end_to_end_seconds", "Kafka record timestamp to JetStream PubAck.",
                          NULL, metrics_latency_buckets, metrics_latency_bucket_count);
    r->m_retries = metrics_counter("er_publish_retries_total", "Publishes retried.", NULL);
    r->m_err_sync =
        metrics_counter("er_publish_errors_total", "Publish failures by kind.", "kind=\"send\"");
    r->m_err_transient = metrics_counter("er_publish_errors_total", NULL, "kind=\"transient\"");
    r->m_err_permanent = metrics_counter("er_publish_errors_total", NULL, "kind=\"permanent\"");
    for (int v = NATSMSG_COPY + 1; v < NATSMSG_VERDICT__COUNT; v++) {
        char labels[64];
        snprintf(labels, sizeof(labels), "reason=\"%s\"", natsmsg_verdict_name(v));
        r->m_hdr_dropped[v] = metrics_counter(
            "er_headers_not_copied_total",
            v == NATSMSG_COPY + 1
                ? "Kafka headers not copied to NATS, by reason: reserved_nats "
                  "(Nats-* JetStream control headers), reserved_router (any case of "
                  "the router's Kafka-* provenance headers), too_long, bad_name, "
                  "not_printable."
                : NULL,
            labels);
    }
    r->m_reload_ok =
        metrics_counter("er_rules_reloads_total", "Rule reloads by result.", "result=\"success\"");
    r->m_reload_fail = metrics_counter("er_rules_reloads_total", NULL, "result=\"failure\"");
    set_rules_info(r);
    r->ino = -1;
    watch_rules(r);
    atomic_store(&r->last_tick_ns, monotime_ns());

    if (!r->pm)
        goto err;
    if (sink_new(cfg, &r->sink, errstr, errstr_size) != 0)
        goto err;
    provision_streams(r);
    if (cfg->dlq.topic && dlq_new(cfg, on_dlq_delivered, r, &r->dlq, errstr, errstr_size) != 0)
        goto err;
    if (source_new(cfg, on_rebalance, r, &r->src, errstr, errstr_size) != 0)
        goto err;
    r->rk = source_rk(r->src);
    *out = r;
    return 0;
err:
    router_destroy(r);
    return -1;
}

/* Commit what was stored, bounded by the shutdown deadline (a synchronous
 * commit waits as long as librdkafka retries, e.g. with brokers gone). */
static void final_commit(router_t *r)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(r->rk);
    rd_kafka_resp_err_t cerr = rd_kafka_commit_queue(r->rk, NULL, q, NULL, NULL);
    if (!cerr) {
        int wait_ms = stop_left_ms(r, stop_reserve_ms(r) / 2);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, wait_ms);
        if (!ev) {
            LOG_WARN("OFF-0104", "final commit did not finish before the shutdown deadline",
                     LKV_I("waited_ms", wait_ms));
        } else {
            cerr = rd_kafka_event_error(ev);
            rd_kafka_event_destroy(ev);
        }
    }
    if (cerr && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
        LOG_WARN("OFF-0103", "final commit failed", LKV_S("error", rd_kafka_err2name(cerr)));
    rd_kafka_queue_destroy(q);
}

/* Shorten the poll timeout to at most ms (0 when already due). */
static void wake_by(int *timeout, int64_t ms)
{
    if (ms < *timeout)
        *timeout = ms < 0 ? 0 : (int)ms;
}

int router_run(router_t *r, router_signals_t *sig)
{
    int more = 0;
    r->sig = sig;

    while (!sig->stop && !r->fatal) {
        int64_t now = monotime_ns();
        update_blocked(r, now);
        int reading = !r->blocked || r->stalled;
        /* While waiting for PubAcks the consumer's fd is left out, or a
         * queue that stays non-empty would spin the loop. */
        struct pollfd pfd[3] = {{.fd = reading ? source_fd(r->src) : -1, .events = POLLIN},
                                {.fd = sink_fd(r->sink), .events = POLLIN},
                                {.fd = r->ino, .events = POLLIN}};
        int timeout = 100;
        if (more && reading)
            timeout = 0;
        else if (r->next_retry_ns)
            wake_by(&timeout, (r->next_retry_ns - now) / 1000000);
        if (!reading)
            wake_by(&timeout, (r->blocked_since_ns - now) / 1000000 + READ_STALL_MS + 1);
        if (r->dlq && dlq_outq_len(r->dlq) > 0)
            wake_by(&timeout, 10);
        if (r->reload_due_ns)
            wake_by(&timeout, 50);
        int64_t starved = source_starved_since(r->src);
        if (reading && starved && r->cfg->kafka.refetch_idle_ms)
            wake_by(&timeout, (starved - now) / 1000000 + r->cfg->kafka.refetch_idle_ms);
        if (poll(pfd, 3, timeout) < 0 && errno != EINTR)
            LOG_ERROR("RTR-0903", "poll failed", LKV_I("errno", errno));
        check_reload(r, r->ino >= 0 && (pfd[2].revents & POLLIN));

        drain_completions(r);
        update_blocked(r, monotime_ns()); /* the acks may have made room */
        more = 0;
        for (int i = 0; !sig->stop; i++) {
            if (i == CONSUME_BATCH || (r->blocked && !r->stalled)) {
                /* Records may be waiting (the wake-up pipe only signals an
                 * empty queue turning non-empty): look again without sleeping
                 * once there is room. A full window waits for PubAcks; the
                 * records stay in librdkafka's queue. */
                more = 1;
                break;
            }
            rd_kafka_message_t *m = source_next(r->src);
            if (!m)
                break;
            handle_record(r, m);
            if ((i & 127) == 127)
                drain_completions(r);
        }
        drain_completions(r);
        if (r->dlq)
            dlq_poll(r->dlq, 0);
        run_retries(r);
        flow_control(r);
        refetch_stalled(r, monotime_ns());
        check_sink_failed(r);
        check_dlq_failed(r);

        now = monotime_ns();
        if (now - r->last_store_ns > 50000000) {
            store_offsets(r, 0, 0);
            r->last_store_ns = now;
        }
        if (now - r->last_gauges_ns > 1000000000) {
            update_gauges(r);
            r->last_gauges_ns = now;
        }
        atomic_store(&r->last_tick_ns, now);
    }

    if (sig->stop >= 2)
        return 130;

    /* Graceful stop: read nothing more, drain, commit, leave the group;
     * all within limits.shutdown_timeout_ms from here. */
    start_stop_clock(r);
    uint32_t drain_ms = r->cfg->limits.drain_timeout_ms;
    int max = stop_left_ms(r, stop_reserve_ms(r));
    if ((uint32_t)max < drain_ms)
        drain_ms = (uint32_t)max;
    LOG_INFO("RTR-0501", "stopping: draining in-flight events",
             LKV_U("inflight", r->total_inflight), LKV_U("timeout_ms", drain_ms),
             LKV_U("shutdown_timeout_ms", r->cfg->limits.shutdown_timeout_ms));
    rd_kafka_topic_partition_list_t *all = NULL;
    rd_kafka_assignment(r->rk, &all);
    if (all) {
        rd_kafka_pause_partitions(r->rk, all);
        rd_kafka_topic_partition_list_destroy(all);
    }
    uint32_t left = wait_pending(r, 0, drain_ms);
    if (sig->stop >= 2)
        return 130;
    if (left)
        LOG_WARN("RTR-0502",
                 "drain timed out; unacknowledged events are not committed and will be "
                 "redelivered on restart",
                 LKV_U("pending", left));
    store_offsets(r, 0, 0);
    final_commit(r);
    LOG_INFO("RTR-0503", "drained and committed; leaving the group", LKV_U("pending", left));
    return r->fatal ? 1 : 0;
}

void router_destroy(router_t *r)
{
    if (!r)
        return;
    /* Within the shutdown deadline (router_run started it; a router that
     * never ran starts it here). The revoke callback commits and releases;
     * bounded so that a lost Kafka cluster cannot keep a stopping router
     * alive. Each step leaves a share of the reserve to the ones after. */
    start_stop_clock(r);
    int64_t reserve = stop_reserve_ms(r);
    source_close(r->src, stop_left_ms(r, reserve / 4));
    if (r->dlq)
        dlq_destroy(r->dlq, stop_left_ms(r, reserve / 8));
    for (part_t *p = r->parts; p; p = p->next)
        if (p->assigned)
            release_part(r, p);
    sink_destroy(r->sink, stop_left_ms(r, 0));
    while (r->parts) {
        part_t *p = r->parts;
        r->parts = p->next;
        offsets_destroy(p->win);
        free(p->slots);
        free(p->topic);
        free(p);
    }
    free(r->retries);
    free(r->pm);
    streams_filters_clear(&r->filters);
    if (r->ino >= 0)
        close(r->ino);
    rules_unref(r->rules);
    pthread_mutex_destroy(&r->why_lock);
    free(r);
}

uint32_t router_inflight(const router_t *r)
{
    return r->total_inflight;
}

void router_test_rebalance_error(router_t *r)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(r->rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    on_rebalance(r->rk, RD_KAFKA_RESP_ERR__FAIL, l, r);
    rd_kafka_topic_partition_list_destroy(l);
}

rd_kafka_t *router_test_dlq_handle(router_t *r)
{
    return r->dlq ? dlq_handle(r->dlq) : NULL;
}

int router_live(void *opaque, char *why, size_t why_size)
{
    router_t *r = opaque;
    int64_t age = (monotime_ns() - atomic_load(&r->last_tick_ns)) / 1000000;
    if (age > 30000) {
        snprintf(why, why_size, "main loop has not turned for %" PRId64 " ms\n", age);
        return 0;
    }
    snprintf(why, why_size, "ok\n");
    return 1;
}

int router_ready(void *opaque, char *why, size_t why_size)
{
    router_t *r = opaque;
    pthread_mutex_lock(&r->why_lock);
    snprintf(why, why_size, "%s", r->why[0] ? r->why : "ready\n");
    pthread_mutex_unlock(&r->why_lock);
    return atomic_load(&r->ready);
}
