/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sink: the JetStream edge of the pipeline.
 *
 * One natsConnection to every configured server with endless reconnects and
 * a reconnect buffer; start-up does not fail when NATS is down (the
 * connection keeps retrying and the router pauses consumption meanwhile).
 * Publishes are asynchronous; the PubAck handler, which cnats runs on its
 * async-reply subscription thread, only classifies the outcome and queues it
 * for the router's thread, in a ring allocated up front (it never allocates,
 * so it never loses an ack). Not for: deciding what to publish or when to
 * retry (router.c does both).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "monotime.h"
#include "natsopts.h"
#include "secret.h"
#include "sink.h"

#define DENIED_RING 32 /* distinct refused subjects remembered at once */

/* The completion ring holds this many in-flight windows
 * (limits.max_inflight_total). One would do while partitions stay put; the
 * second covers publishes a revoke abandoned (their late acks still come
 * back) while the next owner's window fills again. sink_publish() refuses
 * a publish beyond it, so the ring can never overflow. */
#define RING_PER_WINDOW 2

/* Allocation-failure injection for the unit tests (sink_test_fail_allocations). */
static atomic_int fail_allocs;

void sink_test_fail_allocations(int on)
{
    atomic_store(&fail_allocs, on);
}

/* Slow-callback injection for the unit tests (sink_test_delay_acks). */
static atomic_int ack_delay_ms;

void sink_test_delay_acks(int ms)
{
    atomic_store(&ack_delay_ms, ms);
}

static void *sink_malloc(size_t n)
{
    return atomic_load(&fail_allocs) ? NULL : malloc(n);
}

struct sink {
    natsConnection *nc;
    jsCtx *js;
    int64_t ack_timeout_ms;
    int efd;
    atomic_int connected;
    atomic_int closing;      /* sink_destroy started: quiet the disconnect log */
    atomic_int closed_seen;  /* on_closed ran: no new callback will start */
    atomic_int acks_running; /* PubAck handlers inside on_pub_ack right now */
    atomic_int failed;       /* cnats closed the connection by itself: it will not come back */
    atomic_uint_fast64_t reconnects;

    pthread_mutex_t lock;    /* guards the completion ring and the texts below */
    sink_completion_t *ring; /* allocated once, in sink_new: see RING_PER_WINDOW */
    size_t cap, head, count;
    size_t outstanding; /* publishes accepted and not yet drained; main thread only */
    char fail_why[256]; /* why cnats closed the connection (set before failed) */

    /* Subjects the server refused to let us publish on, most recent first
     * overwritten (see on_async_error / denied_recently). Own lock: written
     * on cnats's callback thread, read on its async-reply thread. */
    pthread_mutex_t denied_lock;
    struct {
        char subject[256];
        int64_t at_ns;
    } denied[DENIED_RING];
    unsigned denied_next;
};

static const char *outcome_names[SINK__COUNT] = {
    [SINK_STORED] = "stored",
    [SINK_DUPLICATE] = "duplicate",
    [SINK_TRANSIENT] = "transient",
    [SINK_PERMANENT] = "permanent",
};

const char *sink_outcome_name(sink_outcome_t o)
{
    return o < SINK__COUNT ? outcome_names[o] : "unknown";
}

/* JetStream API errors that no retry can fix. Everything else (timeouts,
 * no responders during a leader election, storage pressure) is retried with
 * backoff, and only dead-lettered after the configured attempts. */
static int js_code_is_permanent(int code)
{
    switch (code) {
    case 10054: /* JSStreamMessageExceedsMaximumErr: message size exceeds maximum */
    case 10060: /* JSStreamNotMatchErr: expected stream does not match */
    case 10070: /* JSStreamWrongLastMsgIDErr */
    case 10071: /* JSStreamWrongLastSequenceErr */
        return 1;
    default:
        return 0;
    }
}

/*
 * Permissions. A server that does not allow a publish answers with an
 * asynchronous "-ERR 'Permissions Violation for Publish to "subj"'"; the
 * JetStream publish itself then just gets no PubAck and times out. To tell
 * that timeout from a transient one, on_async_error() remembers the refused
 * subject, and a failed publish to a subject refused within the ack timeout
 * (plus a second) is classified permanent: retrying cannot help until the
 * server's permissions change, and the event is dead-lettered with the
 * server's words instead of after retry.max_attempts timeouts.
 */
static void remember_denied(sink_t *s, const char *text)
{
    static const char marker[] = "Publish to \"";
    const char *p = text ? strstr(text, marker) : NULL, *end;
    if (!p)
        return; /* a subscribe violation, or a form we do not know: logged only */
    p += sizeof(marker) - 1;
    end = strchr(p, '"');
    if (!end || (size_t)(end - p) >= sizeof(s->denied[0].subject))
        return;
    pthread_mutex_lock(&s->denied_lock);
    unsigned i = s->denied_next++ % DENIED_RING;
    memcpy(s->denied[i].subject, p, (size_t)(end - p));
    s->denied[i].subject[end - p] = '\0';
    s->denied[i].at_ns = monotime_ns();
    pthread_mutex_unlock(&s->denied_lock);
}

static int denied_recently(sink_t *s, const char *subject)
{
    int64_t since = monotime_ns() - (s->ack_timeout_ms + 1000) * 1000000;
    int hit = 0;
    if (!subject)
        return 0;
    pthread_mutex_lock(&s->denied_lock);
    for (unsigned i = 0; i < DENIED_RING && !hit; i++)
        hit = s->denied[i].at_ns >= since && s->denied[i].at_ns &&
              !strcmp(s->denied[i].subject, subject);
    pthread_mutex_unlock(&s->denied_lock);
    return hit;
}

static void queue_pub_ack(sink_t *s, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae);

/* Called on the cnats async-reply thread (see sink.h). Must not block long.
 * Counted, so that sink_destroy() can wait for a handler still running. */
static void on_pub_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    sink_t *s = closure;
    (void)js;
    atomic_fetch_add(&s->acks_running, 1);
    if (atomic_load(&ack_delay_ms))
        usleep((useconds_t)atomic_load(&ack_delay_ms) * 1000);
    queue_pub_ack(s, msg, pa, pae);
    atomic_fetch_sub(&s->acks_running, 1); /* last touch of s */
}

static void queue_pub_ack(sink_t *s, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae)
{
    sink_completion_t c = {.msg = msg, .acked_at_ns = monotime_ns()};

    if (pa) {
        c.outcome = pa->Duplicate ? SINK_DUPLICATE : SINK_STORED;
        c.seq = pa->Sequence;
    } else {
        c.status = pae ? (int)pae->Err : NATS_ERR;
        c.js_code = pae ? (int)pae->ErrCode : 0;
        c.outcome = js_code_is_permanent(c.js_code) ? SINK_PERMANENT : SINK_TRANSIENT;
        snprintf(c.error, sizeof(c.error), "%s",
                 pae && pae->ErrText ? pae->ErrText : natsStatus_GetText((natsStatus)c.status));
        if (denied_recently(s, natsMsg_GetSubject(msg))) {
            c.outcome = SINK_PERMANENT;
            c.status = NATS_NOT_PERMITTED;
            snprintf(c.error, sizeof(c.error),
                     "permission denied: the NATS server does not allow this user to publish "
                     "to \"%.80s\"",
                     natsMsg_GetSubject(msg));
        }
    }

    pthread_mutex_lock(&s->lock);
    if (s->count == s->cap) {
        /* Cannot happen: sink_publish() keeps the publishes not yet drained
         * within the ring's capacity, so every ack has a place. Never
         * allocate here (a failure would lose the ack for good). */
        pthread_mutex_unlock(&s->lock);
        LOG_ERROR("SNK-0901", "PubAck queue full; dropping an acknowledgement",
                  LKV_U("capacity", s->cap));
        natsMsg_Destroy(msg);
        return;
    }
    s->ring[(s->head + s->count) % s->cap] = c;
    int was_empty = s->count++ == 0;
    pthread_mutex_unlock(&s->lock);

    /* Wake the router only when the queue turns non-empty: one write() per
     * burst of PubAcks, not per ack. sink_drain() reads the eventfd before it
     * takes the lock, so an ack queued behind a non-empty queue is either
     * taken by that drain or left with the eventfd set again. */
    if (was_empty) {
        uint64_t one = 1;
        if (write(s->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            LOG_ERROR("SNK-0902", "eventfd write failed", LKV_I("errno", errno));
    }
}

size_t sink_drain(sink_t *s, sink_completion_t *out, size_t max)
{
    uint64_t v;
    size_t n = 0;

    if (read(s->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        LOG_ERROR("SNK-0903", "eventfd read failed", LKV_I("errno", errno));
    pthread_mutex_lock(&s->lock);
    while (n < max && s->count > 0) {
        out[n++] = s->ring[s->head];
        s->head = (s->head + 1) % s->cap;
        s->count--;
    }
    int more = s->count > 0;
    pthread_mutex_unlock(&s->lock);
    s->outstanding -= n;
    if (more) { /* keep the fd readable so the router comes back for the rest */
        uint64_t one = 1;
        if (write(s->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            LOG_ERROR("SNK-0902", "eventfd write failed", LKV_I("errno", errno));
    }
    return n;
}

/* Connection callbacks run on cnats's internal threads: they only touch atomics and log. */
static void on_connected(natsConnection *nc, void *closure)
{
    sink_t *s = closure;
    char url[256] = "", shown[300];
    natsConnection_GetConnectedUrl(nc, url, sizeof(url));
    atomic_store(&s->connected, 1);
    /* cnats returns the URL as configured, user:password@ included. */
    LOG_INFO("SNK-0001", "connected to NATS",
             LKV_S("url", secret_redact_url(url, shown, sizeof(shown))));
    explicit_bzero(url, sizeof(url));
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    sink_t *s = closure;
    (void)nc;
    atomic_store(&s->connected, 0);
    if (!atomic_load(&s->closing))
        LOG_WARN("SNK-0002", "disconnected from NATS; publishing paused until reconnect");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    sink_t *s = closure;
    char url[256] = "", shown[300];
    natsConnection_GetConnectedUrl(nc, url, sizeof(url));
    atomic_store(&s->connected, 1);
    atomic_fetch_add(&s->reconnects, 1);
    LOG_INFO("SNK-0003", "reconnected to NATS",
             LKV_S("url", secret_redact_url(url, shown, sizeof(shown))));
    explicit_bzero(url, sizeof(url));
}

/* cnats posts this last, on its callback thread, possibly after
 * natsConnection_Close() returned: sink_destroy waits for it before freeing. */
static void on_closed(natsConnection *nc, void *closure)
{
    sink_t *s = closure;
    atomic_store(&s->connected, 0);
    if (!atomic_load(&s->closing)) {
        /* Not our doing: cnats gives up for good, e.g. after the server
         * refused the credentials twice. Nothing will reconnect. */
        const char *text = NULL;
        char why[300]; /* a copy: fail_why is read under the lock */
        natsConnection_GetLastError(nc, &text);
        pthread_mutex_lock(&s->lock);
        snprintf(s->fail_why, sizeof(s->fail_why), "%s",
                 text && *text ? text : "connection closed by the client library");
        snprintf(why, sizeof(why), "%s", s->fail_why);
        pthread_mutex_unlock(&s->lock);
        LOG_ERROR("SNK-0007", "NATS connection closed and will not reconnect", LKV_S("error", why));
        atomic_store(&s->failed, 1);
    } else {
        LOG_INFO("SNK-0004", "NATS connection closed");
    }
    atomic_store(&s->closed_seen, 1); /* last touch of s */
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    const char *text = NULL;
    sink_t *s = closure;
    (void)sub;
    natsConnection_GetLastError(nc, &text);
    if (err == NATS_NOT_PERMITTED)
        remember_denied(s, text);
    LOG_ERROR("SNK-0010", "NATS asynchronous error", LKV_I("status", (int)err),
              LKV_S("error", text));
}

#define TRY(call, what)                                                                            \
    do {                                                                                           \
        natsStatus _st = (call);                                                                   \
        if (_st != NATS_OK) {                                                                      \
            snprintf(errstr, errstr_size, "nats: %s: %s", what, nats_GetLastError(NULL));          \
            goto err;                                                                              \
        }                                                                                          \
    } while (0)

/* The eventfd that wakes the main thread and the PubAck completion ring,
 * sized once from limits.max_inflight_total. Returns 0, or -1 with errstr
 * set. */
static int sink_init_queue(sink_t *s, const config_t *cfg, char *errstr, size_t errstr_size)
{
    s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->ack_timeout_ms = cfg->nats.ack_timeout_ms;
    if (s->efd < 0) {
        snprintf(errstr, errstr_size, "eventfd: %s", strerror(errno));
        return -1;
    }
    s->cap = (size_t)cfg->limits.max_inflight_total * RING_PER_WINDOW;
    if (s->cap < 64)
        s->cap = 64;
    s->ring = sink_malloc(s->cap * sizeof(*s->ring));
    if (!s->ring) {
        snprintf(errstr, errstr_size, "out of memory (PubAck queue of %zu)", s->cap);
        return -1;
    }
    return 0;
}

/* Connect s->nc with the options o (callbacks already set). Returns 0 when
 * connected or retrying in the background, or -1 with errstr set when the
 * server refused us. */
static int sink_connect(sink_t *s, const config_t *cfg, natsOptions *o, char *errstr,
                        size_t errstr_size)
{
    natsStatus st;

    /* A first attempt without retrying tells "down" from "refused": a
     * server that refuses the credentials or the TLS handshake stops the
     * start with its reason (cnats would otherwise retry, then close the
     * connection saying only "no server available"); a server that is
     * merely unreachable is retried in the background as always. */
    TRY(natsOptions_SetRetryOnFailedConnect(o, false, NULL, NULL), "retry on failed connect");
    st = natsConnection_Connect(&s->nc, o);
    if (st == NATS_NO_SERVER) {
        char q[256]; /* a copy: the next connect attempt overwrites the last error */
        snprintf(q, sizeof(q), "%s", nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
        natsopts_scrub(cfg, q, sizeof(q));
        TRY(natsOptions_SetRetryOnFailedConnect(o, true, on_connected, s),
            "retry on failed connect");
        st = natsConnection_Connect(&s->nc, o);
        if (st == NATS_NOT_YET_CONNECTED) {
            LOG_WARN("SNK-0005", "NATS not reachable yet; retrying in the background",
                     LKV_U("servers", cfg->nats.servers_count), LKV_S("error", q));
            st = NATS_OK;
        } else if (st == NATS_OK) {
            atomic_store(&s->connected, 1);
            LOG_INFO("SNK-0001", "connected to NATS", LKV_U("servers", cfg->nats.servers_count));
        }
    } else if (st == NATS_OK) {
        atomic_store(&s->connected, 1);
        LOG_INFO("SNK-0001", "connected to NATS", LKV_U("servers", cfg->nats.servers_count));
    }
    if (st != NATS_OK) {
        snprintf(errstr, errstr_size,
                 "nats: connect: %s: %s (check nats.servers, the credentials and TLS settings)",
                 natsStatus_GetText(st), nats_GetLastError(NULL));
        natsopts_scrub(cfg, errstr, errstr_size);
        return -1;
    }
    return 0;
err:
    return -1;
}

int sink_new(const config_t *cfg, sink_t **out, char *errstr, size_t errstr_size)
{
    natsOptions *o = NULL;
    sink_t *s = calloc(1, sizeof(*s));
    jsOptions jo;

    errstr[0] = '\0';
    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->denied_lock, NULL);
    if (sink_init_queue(s, cfg, errstr, errstr_size) != 0)
        goto err;

    if (natsopts_new(cfg, &o, errstr, errstr_size) != 0)
        goto err;
    TRY(natsOptions_SetDisconnectedCB(o, on_disconnected, s), "callbacks");
    TRY(natsOptions_SetReconnectedCB(o, on_reconnected, s), "callbacks");
    TRY(natsOptions_SetClosedCB(o, on_closed, s), "callbacks");
    TRY(natsOptions_SetErrorHandler(o, on_async_error, s), "callbacks");
    if (sink_connect(s, cfg, o, errstr, errstr_size) != 0)
        goto err;

    natsopts_js(cfg, &jo);
    jo.PublishAsync.AckHandler = on_pub_ack;
    jo.PublishAsync.AckHandlerClosure = s;
    /* The router bounds in-flight events itself; cnats must never stall it. */
    jo.PublishAsync.MaxPending = 0;
    TRY(natsConnection_JetStream(&s->js, s->nc, &jo), "jetstream context");

    natsOptions_Destroy(o);
    *out = s;
    return 0;
err:
    natsOptions_Destroy(o);
    sink_destroy(s, 5000);
    return -1;
}

void sink_destroy(sink_t *s, int timeout_ms)
{
    if (!s)
        return;
    if (s->nc) {
        int64_t until = monotime_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000;
        atomic_store(&s->closing, 1);
        /* Close unsubscribes the PubAck inbox and stops the async-publish
         * timer (no new handler starts); destroying the context and the
         * connection drops our references. The closed callback and a PubAck
         * handler already running may still come after, on cnats's
         * threads: wait for both before freeing what they write. */
        natsConnection_Close(s->nc);
        jsCtx_Destroy(s->js);
        s->js = NULL;
        natsConnection_Destroy(s->nc);
        s->nc = NULL;
        while ((!atomic_load(&s->closed_seen) || atomic_load(&s->acks_running)) &&
               monotime_ns() < until)
            usleep(5000);
        if (!atomic_load(&s->closed_seen) || atomic_load(&s->acks_running)) {
            /* A callback may still write here: leave the sink allocated
             * rather than free memory it would write to. The process is
             * exiting anyway. */
            LOG_WARN("SNK-0006",
                     "NATS callbacks still pending at shutdown; leaving the sink allocated",
                     LKV_I("timeout_ms", timeout_ms), LKV_I("closed", atomic_load(&s->closed_seen)),
                     LKV_I("acks_running", atomic_load(&s->acks_running)));
            return;
        }
    }
    /* Completions still queued own their messages. */
    for (size_t i = 0; i < s->count; i++)
        natsMsg_Destroy(s->ring[(s->head + i) % s->cap].msg);
    free(s->ring);
    if (s->efd >= 0)
        close(s->efd);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->denied_lock);
    free(s);
}

int sink_fd(const sink_t *s)
{
    return s->efd;
}

int sink_connected(const sink_t *s)
{
    return atomic_load(&s->connected);
}

int sink_failed(sink_t *s, char *why, size_t why_size)
{
    if (!atomic_load(&s->failed))
        return 0;
    pthread_mutex_lock(&s->lock);
    snprintf(why, why_size, "%s", s->fail_why);
    pthread_mutex_unlock(&s->lock);
    return 1;
}

uint64_t sink_reconnects(const sink_t *s)
{
    return atomic_load(&s->reconnects);
}

jsCtx *sink_js(sink_t *s)
{
    return s->js;
}

/* ---- scans ------------------------------------------------------------------------ */

static int64_t scan_left_ms(int64_t deadline_ns)
{
    int64_t left = (deadline_ns - monotime_ns()) / 1000000;
    return left > 0 ? left : 0;
}

int sink_scan(sink_t *s, const char *stream, int64_t since_ms, int64_t timeout_ms, sink_scan_fn *fn,
              void *ctx, uint64_t *read, char *errstr, size_t errstr_size)
{
    int64_t deadline = monotime_ns() + timeout_ms * 1000000;
    jsStreamInfo *si = NULL;
    jsConsumerInfo *ci = NULL;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    jsOptions jo;
    jsSubOptions so;
    char filter[256];
    uint64_t last, pending;
    natsStatus st;
    int rc = -1;

    *read = 0;
    jsOptions_Init(&jo);
    jo.Wait = scan_left_ms(deadline);
    if ((st = js_GetStreamInfo(&si, s->js, stream, &jo, &jerr)) != NATS_OK) {
        snprintf(errstr, errstr_size, "stream info of %s: %s (JetStream error %d)", stream,
                 natsStatus_GetText(st), (int)jerr);
        return -1;
    }
    last = si->State.LastSeq;
    /* cnats wants a subject even bound to a stream: its only one, or ">". */
    snprintf(filter, sizeof(filter), "%s",
             si->Config->SubjectsLen == 1 ? si->Config->Subjects[0] : ">");
    int empty = si->State.Msgs == 0;
    jsStreamInfo_Destroy(si);
    if (empty)
        return 0;

    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartTime;
    so.Config.OptStartTime = (since_ms > 0 ? since_ms : 0) * 1000000;
    so.Config.HeadersOnly = true;
    if ((st = js_SubscribeSync(&sub, s->js, filter, &jo, &so, &jerr)) != NATS_OK) {
        snprintf(errstr, errstr_size, "ordered consumer on %s: %s (JetStream error %d)", stream,
                 natsStatus_GetText(st), (int)jerr);
        return -1;
    }
    natsSubscription_SetPendingLimits(sub, -1, -1);
    /* How many messages from since_ms on: the ones to read (newer ones, past
     * last, may be delivered too; the loop stops at last). */
    if ((st = natsSubscription_GetConsumerInfo(&ci, sub, &jo, &jerr)) != NATS_OK) {
        snprintf(errstr, errstr_size, "consumer info on %s: %s", stream, natsStatus_GetText(st));
        goto out;
    }
    pending = ci->NumPending + ci->Delivered.Consumer;
    jsConsumerInfo_Destroy(ci);
    while (*read < pending) {
        natsMsg *m = NULL;
        jsMsgMetaData *meta = NULL;
        int64_t left = scan_left_ms(deadline);
        st = left ? natsSubscription_NextMsg(&m, sub, left) : NATS_TIMEOUT;
        if (st != NATS_OK) {
            snprintf(errstr, errstr_size, "reading %s: %s after %llu of %llu messages", stream,
                     natsStatus_GetText(st), (unsigned long long)*read,
                     (unsigned long long)pending);
            goto out;
        }
        uint64_t seq = 0;
        if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
            seq = meta->Sequence.Stream;
            jsMsgMetaData_Destroy(meta);
        }
        (*read)++;
        fn(ctx, m);
        natsMsg_Destroy(m);
        if (seq >= last)
            break;
    }
    rc = 0;
out:
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return rc;
}

int sink_publish(sink_t *s, natsMsg **msg, const char *msg_id)
{
    jsPubOptions po;
    natsStatus st;

    /* Reserve the ack's place in the ring before cnats can answer. */
    if (s->outstanding >= s->cap)
        return NATS_INSUFFICIENT_BUFFER;
    s->outstanding++;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id;
    po.MaxWait = s->ack_timeout_ms;
    st = js_PublishMsgAsync(s->js, msg, &po);
    if (st != NATS_OK)
        s->outstanding--;
    return (int)st;
}

int sink_publish_core(sink_t *s, natsMsg *msg)
{
    return (int)natsConnection_PublishMsg(s->nc, msg);
}
