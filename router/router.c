/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router: the loop that connects source -> route -> sink -> offsets.
 *
 * Everything here runs on one thread, the caller of router_run(). Records
 * come from source.c; route_decide() (pure) says what to do with each; the
 * in-flight table (inflight.c, pure) keeps every event until it is finished;
 * publishes go out through sink.c, whose PubAcks come back as completions
 * on this same thread; dead letters go through dlq.c, whose delivery
 * reports are served here too. Each partition's watermark is the only
 * offset ever stored.
 *
 * Failure handling, in one place:
 *   - transient publish failures (timeouts, no responders, connection loss)
 *     are retried on that partition with capped exponential backoff, and the
 *     partition is paused while it has an event waiting to be retried;
 *   - an attempt counts only when the failure is about the event (see
 *     failure_counts()): an outage only backs off, it never dead-letters;
 *   - permanent failures, and transient ones past retry.max_attempts, go to
 *     the dead-letter topic; the offset moves only after the DLQ ack;
 *   - a fatal error of the consumer, the DLQ producer or the NATS connection
 *     stops the router (exit 1); every graceful stop, whatever its cause,
 *     ends within limits.shutdown_timeout_ms (see "the shutdown deadline").
 *
 * Backpressure: when one partition's window (max_inflight_per_partition) is
 * full, that partition is held at the source: its records wait in its own
 * librdkafka queue while the other partitions are read on; it is read again
 * once its window is down to three quarters. When the whole window
 * (limits.max_inflight_total) is full, the loop stops reading and waits for
 * PubAcks. queued.max.messages.kbytes bounds each partition's queue.
 * Pausing is kept for real stalls (the window stays full for
 * READ_STALL_MS, NATS is down, retries): a pause makes
 * librdkafka drop the partition's prefetched records and fetch them again
 * on resume, which is cheap once but collapses throughput when it happens
 * on every turn of a busy loop.
 *
 * Not for: parsing config or rules, the HTTP endpoint, or any library call
 * beyond freeing and reading a NATS message (the edges own those).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "log.h"
#include "monotime.h"
#include "deliver.h"
#include "health.h"
#include "router.h"
#include "pipeline.h"
#include "resume.h"

#define MAX_ROUTE_HEADERS 64   /* Kafka headers routing looks at */
#define CONSUME_BATCH     2000 /* records per loop turn before draining acks */
#define TP_BATCH          64   /* partitions per pause/resume/store call */
#define READ_STALL_MS     500  /* a full window this long pauses partitions */

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

/* ---- partition batches for the source --------------------------------------- */

enum tp_op { TP_PAUSE, TP_RESUME, TP_STORE };

typedef struct tp_batch {
    router_t *r;
    enum tp_op op;
    size_t n, total;
    source_tp_t tp[TP_BATCH];
} tp_batch_t;

static void tp_flush(tp_batch_t *b)
{
    if (!b->n)
        return;
    if (b->op == TP_PAUSE || b->op == TP_RESUME)
        source_pause(b->r->src, b->tp, b->n, b->op == TP_PAUSE);
    else
        source_store(b->r->src, b->tp, b->n);
    b->n = 0;
}

static void tp_add(tp_batch_t *b, const inflight_part_t *p, int64_t offset)
{
    b->tp[b->n] = (source_tp_t){p->topic, p->partition, offset, ""};
    if (b->op == TP_STORE)
        resume_commit_metadata(p, b->tp[b->n].metadata, sizeof(b->tp[b->n].metadata));
    b->n++;
    b->total++;
    if (b->n == TP_BATCH)
        tp_flush(b);
}

static void handle_record(router_t *r, source_record_t *m, const route_event_t *ev)
{
    inflight_part_t *p = inflight_find(r->inf, ev->topic, ev->partition);
    int64_t last;
    uint64_t seq;
    int rc;

    if (!p || !p->assigned || p->revoking) {
        /* Not tracked, so never committed: the partition's owner reads it. */
        LOG_DEBUG("RTR-0101", "record for a partition not owned; ignored",
                  LKV_S("topic", ev->topic), LKV_I("partition", ev->partition));
        source_record_free(m);
        return;
    }
    last = p->next_offset;
    rc = inflight_push(r->inf, p, ev->offset, monotime_ns(), &seq);
    if (rc == -2) {
        LOG_DEBUG("RTR-0102", "record at or below a tracked offset; ignored",
                  LKV_S("topic", ev->topic), LKV_I("partition", ev->partition),
                  LKV_I("offset", ev->offset));
        source_record_free(m);
        return;
    }
    if (rc == -1) {
        /* Window full (the pause came late). Rewind so the record is fetched
         * again after the resume; nothing is lost or committed past it. */
        source_rewind(r->src, ev->topic, ev->partition, ev->offset);
        p->paused = 1;
        metrics_add(r->m.pauses, 1);
        p->next_offset = ev->offset;
        source_record_free(m);
        return;
    }
    if (last >= 0 && ev->offset > last)
        metrics_add(r->m.gaps, (uint64_t)(ev->offset - last));
    if (!p->read_held && inflight_part_full(r->inf, p) &&
        source_hold(r->src, p->topic, p->partition, 1)) {
        /* Its records wait in its own queue; the others are read on. */
        p->read_held = 1;
        metrics_add(r->m.holds, 1);
    }
    if (inflight_full(r->inf))
        r->blocked = 1; /* read no further this turn */
    rmetrics_consumed(p->user);
    if (p->lookup_due) /* the first record since the assignment */
        resume_lookup(r);
    if (p->mark_due) /* nothing of ours committed yet: commit before publishing */
        resume_mark(r, p, ev->offset);
    inflight_slot_t *s = inflight_slot(p, seq);
    s->record = m;
    s->timestamp_ms = ev->timestamp_ms;
    s->read_ms = wall_ms();
    s->rules = rules_ref(reload_rules(r->reload));
    route_decide(s->rules, ev, &r->res);
    deliver_dispatch(r, p, seq, ev->header_count > 0);
}

/* ---- flow control and offsets ------------------------------------------------- */

static void update_blocked(router_t *r, int64_t now)
{
    r->blocked = inflight_full(r->inf);
    if (!r->blocked)
        r->blocked_since_ns = 0;
    else if (!r->blocked_since_ns)
        r->blocked_since_ns = now;
    else if (inflight_total(r->inf) >= inflight_limits(r->inf)->total &&
             inflight_last_finish(r->inf) > r->blocked_since_ns)
        /* The whole window is full but moving: every PubAck makes room and
         * the next turn refills it. That is backpressure, not a stall;
         * pausing would throw every partition's prefetched records away. */
        r->blocked_since_ns = inflight_last_finish(r->inf);
    r->stalled = r->blocked && now - r->blocked_since_ns >= (int64_t)READ_STALL_MS * 1000000;
}

static void flow_control(router_t *r)
{
    tp_batch_t pause = {.r = r, .op = TP_PAUSE}, resume = {.r = r, .op = TP_RESUME};
    const inflight_limits_t *lim = inflight_limits(r->inf);
    uint32_t total = inflight_total(r->inf);
    int up = sink_connected(r->sink);
    /* A full window alone pauses only once it has stalled (see the top). */
    int total_full = r->stalled && total >= lim->total;
    int total_low = total <= lim->total / 4 * 3;
    unsigned npaused = 0;

    for (inflight_part_t *p = inflight_parts(r->inf); p; p = p->next) {
        if (!p->assigned)
            continue;
        uint32_t inf = inflight_count(p);
        int want = !up || total_full || p->waiting > 0 || p->revoking ||
                   (r->stalled && inf >= lim->per_partition && !p->read_held);
        int may_resume =
            up && total_low && p->waiting == 0 && !p->revoking && inf <= lim->per_partition / 4 * 3;
        if (!p->paused && want) {
            tp_add(&pause, p, -1);
            p->paused = 1;
        } else if (p->paused && may_resume) {
            tp_add(&resume, p, -1);
            p->paused = 0;
        }
        npaused += (unsigned)p->paused;
        if (p->read_held && inflight_part_has_room(r->inf, p)) {
            p->read_held = 0;
            source_hold(r->src, p->topic, p->partition, 0);
        }
    }
    tp_flush(&pause);
    tp_flush(&resume);
    metrics_add(r->m.pauses, pause.total);
    if (pause.total)
        LOG_DEBUG("RTR-0401", "paused partitions", LKV_U("count", pause.total),
                  LKV_I("nats_up", up), LKV_U("inflight", total));
    if (resume.total)
        LOG_DEBUG("RTR-0402", "resumed partitions", LKV_U("count", resume.total));
    metrics_set(r->m.paused, npaused);
}

/* Hand each partition's new watermark to the source; auto-commit commits it. */
static void store_offsets(router_t *r)
{
    tp_batch_t b = {.r = r, .op = TP_STORE};
    for (inflight_part_t *p = inflight_parts(r->inf); p; p = p->next) {
        int64_t c = p->assigned ? inflight_committable(p) : -1;
        if (c < 0 || c <= p->stored)
            continue;
        tp_add(&b, p, c);
        p->stored = c;
        rmetrics_committed(p->user, c);
    }
    tp_flush(&b);
}

/* Keep acks, retries and dead letters moving until nothing is pending or the
 * deadline passes (used on revoke and at shutdown). No new records are read. */
static uint32_t wait_pending(router_t *r, int only_revoking, uint32_t timeout_ms)
{
    int64_t deadline = monotime_ns() + (int64_t)timeout_ms * 1000000;
    uint32_t n;
    while ((n = inflight_pending(r->inf, only_revoking)) > 0 && monotime_ns() < deadline &&
           r->sig->stop < 2) {
        struct pollfd pfd = {.fd = sink_fd(r->sink), .events = POLLIN};
        poll(&pfd, 1, 20);
        deliver_drain(r);
        if (r->dlq)
            dlq_poll(r->dlq, 0);
        deliver_retries(r);
        atomic_store(&r->last_tick_ns, monotime_ns());
    }
    return n;
}

/* ---- partition lifecycle (hooks served from source_next, on this thread) ------- */

static void on_assigned(void *ctx, const char *topic, int32_t partition)
{
    router_t *r = ctx;
    inflight_part_t *p = inflight_part(r->inf, topic, partition);
    if (!p) {
        /* Its records are ignored (never committed); stop and let a
         * restart resume from the commits. */
        LOG_ERROR("RTR-0901", "out of memory tracking a partition; stopping", LKV_S("topic", topic),
                  LKV_I("partition", partition));
        r->fatal = 1;
        return;
    }
    if (!p->user)
        p->user = rmetrics_part_new(topic);
    inflight_assign(r->inf, p, monotime_ns());
    resume_assigned(r, p);
    rmetrics_assigned(p->user, topic, partition);
    metrics_add(r->m.part_assigned, 1);
}

static void on_joined(void *ctx, int member)
{
    router_t *r = ctx;
    if (r->joined && !member)
        r->unjoined_since_ns = monotime_ns();
    r->joined = member;
}

/* Finish what can be finished (bounded by limits.revoke_timeout_ms, and by
 * the shutdown deadline when leaving the group) and say what to commit. */
static void on_revoking(void *ctx, source_tp_t *tps, size_t n, int lost)
{
    router_t *r = ctx;
    for (size_t i = 0; i < n; i++) {
        inflight_part_t *p = inflight_find(r->inf, tps[i].topic, tps[i].partition);
        if (p && p->assigned)
            p->revoking = 1;
    }
    metrics_add(lost ? r->m.part_lost : r->m.part_revoked, n);
    if (lost)
        return;
    uint32_t wait_ms = r->cfg->limits.revoke_timeout_ms;
    if (r->stop_deadline_ns) {
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
    for (size_t i = 0; i < n; i++) {
        inflight_part_t *p = inflight_find(r->inf, tps[i].topic, tps[i].partition);
        int64_t c = p && p->assigned ? inflight_committable(p) : -1;
        if (c >= 0) {
            tps[i].offset = p->stored = c;
            resume_commit_metadata(p, tps[i].metadata, sizeof(tps[i].metadata));
            rmetrics_committed(p->user, c);
        }
    }
}

static void on_released(void *ctx, const char *topic, int32_t partition)
{
    router_t *r = ctx;
    inflight_part_t *p = inflight_find(r->inf, topic, partition);
    if (!p || !p->assigned)
        return;
    LOG_INFO("SRC-0003", "partition released", LKV_S("topic", p->topic),
             LKV_I("partition", p->partition), LKV_I("committed", p->stored));
    inflight_release(r->inf, p);
    resume_released(p);
    rmetrics_released(p->user, topic, partition);
}

/* ---- lifecycle ------------------------------------------------------------------ */

/* Create declared streams and warn about routes no stream covers. A NATS
 * outage at start only postpones this to the operator (`event-router streams`). */
static void log_stream(void *ctx, const config_stream_t *d, streams_state_t st, const char *diff)
{
    char line[1024];
    (void)ctx;
    streams_report_text(line, sizeof(line), d, st, diff);
    if (st == STREAMS_DIFFERS)
        LOG_WARN("STR-0003", "stream differs from its declaration", LKV_S("detail", line));
    else
        LOG_INFO("STR-0004", "stream", LKV_S("detail", line));
}

static void provision_streams(router_t *r)
{
    char errstr[512];

    if (!sink_connected(r->sink)) {
        LOG_WARN("STR-0002", "NATS not reachable at start; streams not checked",
                 LKV_U("declared", r->cfg->streams_count));
        return;
    }
    int rc = streams_ensure(sink_js(r->sink), r->cfg, 0, log_stream, NULL, errstr, sizeof(errstr));
    if (rc < 0)
        LOG_WARN("STR-0005", "stream provisioning failed", LKV_S("error", errstr));
    streams_check_routes(sink_js(r->sink), r->cfg, rules_route_at, reload_rules(r->reload));
    resume_start(r);
}

int router_new(const config_t *cfg, rules_t *rules, router_t **out, char *errstr,
               size_t errstr_size)
{
    router_t *r = calloc(1, sizeof(*r));
    inflight_limits_t lim = {cfg->limits.max_inflight_per_partition, cfg->limits.max_inflight_total,
                             cfg->retry.backoff_initial_ms, cfg->retry.backoff_max_ms};
    source_hooks_t hooks = {on_assigned, on_joined, on_revoking, on_released, r};

    if (!r) {
        snprintf(errstr, errstr_size, "out of memory");
        rules_unref(rules);
        return -1;
    }
    r->cfg = cfg;
    pthread_mutex_init(&r->why_lock, NULL);
    snprintf(r->why, sizeof(r->why), "starting\n");
    rmetrics_init(&r->m);
    atomic_store(&r->last_tick_ns, monotime_ns());
    r->unjoined_since_ns = monotime_ns();
    /* reload_new() takes the rules reference, also when it fails. */
    if (reload_new(cfg->rules, rules, &r->reload) != 0 ||
        inflight_new(&lim, deliver_clear_slot, r, &r->inf) != 0) {
        snprintf(errstr, errstr_size, "out of memory");
        goto err;
    }
    if (sink_new(cfg, &r->sink, errstr, errstr_size) != 0)
        goto err;
    provision_streams(r);
    if (cfg->dlq.topic && dlq_new(cfg, deliver_dlq_report, r, &r->dlq, errstr, errstr_size) != 0)
        goto err;
    if (source_new(cfg, &hooks, &r->src, errstr, errstr_size) != 0)
        goto err;
    *out = r;
    return 0;
err:
    router_destroy(r);
    return -1;
}

/* Shorten the poll timeout to at most ms (0 when already due). */
static void wake_by(int *timeout, int64_t ms)
{
    if (ms < *timeout)
        *timeout = ms < 0 ? 0 : (int)ms;
}

/* How long the loop may sleep in poll(). */
static int poll_timeout(router_t *r, int reading, int more, int64_t now)
{
    int timeout = 100;
    int64_t due = inflight_next_due(r->inf);
    if (more && reading)
        return 0;
    if (due)
        wake_by(&timeout, (due - now) / 1000000);
    if (!reading)
        wake_by(&timeout, (r->blocked_since_ns - now) / 1000000 + READ_STALL_MS + 1);
    if (r->dlq && dlq_outq_len(r->dlq) > 0)
        wake_by(&timeout, 10);
    if (reload_due_ns(r->reload))
        wake_by(&timeout, 50);
    return timeout;
}

/* Read and route up to CONSUME_BATCH records. \return 1 when records may
 * still be waiting (the wake-up pipe only signals an empty queue turning
 * non-empty), so the next turn looks again without sleeping. */
static int consume(router_t *r)
{
    route_header_t hdrs[MAX_ROUTE_HEADERS];
    route_event_t ev;
    for (int i = 0; !r->sig->stop; i++) {
        /* A full window waits for PubAcks; the records stay in librdkafka's queue. */
        if (i == CONSUME_BATCH || (r->blocked && !r->stalled))
            return 1;
        source_record_t *m = source_next(r->src, &ev, hdrs, MAX_ROUTE_HEADERS);
        if (!m)
            return 0;
        handle_record(r, m, &ev);
        if ((i & 127) == 127)
            deliver_drain(r);
    }
    return 0;
}

/* Graceful stop: read nothing more, drain, commit; all within
 * limits.shutdown_timeout_ms from here (router_destroy leaves the group). */
static int drain_and_commit(router_t *r)
{
    start_stop_clock(r);
    uint32_t drain_ms = r->cfg->limits.drain_timeout_ms;
    int max = stop_left_ms(r, stop_reserve_ms(r));
    if ((uint32_t)max < drain_ms)
        drain_ms = (uint32_t)max;
    LOG_INFO("RTR-0501", "stopping: draining in-flight events",
             LKV_U("inflight", inflight_total(r->inf)), LKV_U("timeout_ms", drain_ms),
             LKV_U("shutdown_timeout_ms", r->cfg->limits.shutdown_timeout_ms));
    source_pause_all(r->src);
    uint32_t left = wait_pending(r, 0, drain_ms);
    if (r->sig->stop >= 2)
        return 130;
    if (left)
        LOG_WARN("RTR-0502",
                 "drain timed out; unacknowledged events are not committed and will be "
                 "redelivered on restart",
                 LKV_U("pending", left));
    store_offsets(r);
    source_commit(r->src, stop_left_ms(r, stop_reserve_ms(r) / 2));
    LOG_INFO("RTR-0503", "drained and committed; leaving the group", LKV_U("pending", left));
    return r->fatal ? 1 : 0;
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
                                {.fd = reload_fd(r->reload), .events = POLLIN}};
        if (poll(pfd, 3, poll_timeout(r, reading, more, now)) < 0 && errno != EINTR)
            LOG_ERROR("RTR-0903", "poll failed", LKV_I("errno", errno));
        int hup = sig->reload;
        sig->reload = 0;
        if (reload_check(r->reload, (pfd[2].revents & POLLIN) != 0, hup, monotime_ns()) &&
            sink_connected(r->sink))
            streams_check_routes(sink_js(r->sink), r->cfg, rules_route_at, reload_rules(r->reload));

        deliver_drain(r);
        update_blocked(r, monotime_ns()); /* the acks may have made room */
        more = consume(r);
        deliver_drain(r);
        if (r->dlq)
            dlq_poll(r->dlq, 0);
        deliver_retries(r);
        flow_control(r);
        health_check_fatal(r);

        now = monotime_ns();
        if (now - r->last_store_ns > 50000000) {
            store_offsets(r);
            r->last_store_ns = now;
        }
        if (now - r->last_gauges_ns > 1000000000) {
            health_update(r);
            r->last_gauges_ns = now;
        }
        atomic_store(&r->last_tick_ns, now);
    }
    return sig->stop >= 2 ? 130 : drain_and_commit(r);
}

void router_destroy(router_t *r)
{
    if (!r)
        return;
    /* Within the shutdown deadline (router_run started it; a router that
     * never ran starts it here). The revoke hook commits and releases;
     * bounded so that a lost Kafka cluster cannot keep a stopping router
     * alive. Each step leaves a share of the reserve to the ones after. */
    start_stop_clock(r);
    int64_t reserve = stop_reserve_ms(r);
    source_close(r->src, stop_left_ms(r, reserve / 4));
    if (r->dlq)
        dlq_destroy(r->dlq, stop_left_ms(r, reserve / 8));
    for (inflight_part_t *p = r->inf ? inflight_parts(r->inf) : NULL; p; p = p->next)
        if (p->assigned)
            inflight_release(r->inf, p);
    sink_destroy(r->sink, stop_left_ms(r, 0));
    for (inflight_part_t *p = r->inf ? inflight_parts(r->inf) : NULL; p; p = p->next) {
        rmetrics_part_free(p->user);
        resume_released(p);
    }
    inflight_destroy(r->inf);
    streams_filters_clear(&r->filters);
    reload_destroy(r->reload);
    pthread_mutex_destroy(&r->why_lock);
    free(r);
}

uint32_t router_inflight(const router_t *r)
{
    return inflight_total(r->inf);
}

void router_test_rebalance_error(router_t *r)
{
    source_test_rebalance_error(r->src);
}

rd_kafka_t *router_test_dlq_handle(router_t *r)
{
    return r->dlq ? dlq_handle(r->dlq) : NULL;
}
