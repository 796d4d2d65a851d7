/* SPDX-License-Identifier: Apache-2.0 */
/*
 * deliver: what happens to one routed event until it is finished. The
 * rules' decision becomes a skip, a dead letter or a NATS message; the
 * message is published, its PubAck (or failure) comes back as a
 * completion, a transient failure is retried with backoff, a permanent one
 * (or too many counted failures) is dead-lettered, and the slot is finished
 * only once JetStream or the dead-letter topic has the event. Runs on the
 * router's thread; the state is pipeline.h's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "monotime.h"
#include "natsmsg.h"
#include "deliver.h"
#include "pipeline.h"
#include "reconcile.h"
#include "resume.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void finish_slot(router_t *r, inflight_part_t *p, uint64_t seq);

/* ---- dead letters ----------------------------------------------------------- */

static void dlq_send(router_t *r, inflight_part_t *p, uint64_t seq)
{
    inflight_slot_t *s = inflight_slot(p, seq);
    dlq_reason_t why = {s->dlq_code, s->dlq_detail ? s->dlq_detail : "", s->route, s->dlq_omit};
    int64_t now = monotime_ns();
    inflight_ref_t *ref;
    int err;

    if (!r->dlq) {
        if (!r->dlq_missing_logged++)
            LOG_ERROR("RTR-0201",
                      "event needs the dead-letter topic but dlq.topic is not configured; "
                      "its partition stalls until one is configured",
                      LKV_S("topic", p->topic), LKV_I("partition", p->partition),
                      LKV_I("offset", s->offset), LKV_S("reason", s->dlq_code));
        s->attempts = 1000; /* back off at the maximum */
        inflight_schedule(r->inf, p, seq, IF_DLQ_RETRY, now);
        return;
    }
    /* The delivery report carries the reference (freed in on_dlq_delivered). */
    ref = malloc(sizeof(*ref));
    if (!ref) {
        inflight_schedule(r->inf, p, seq, IF_DLQ_RETRY, now);
        return;
    }
    *ref = inflight_ref(p, seq);
    err = dlq_produce(r->dlq, s->record, &why, ref);
    if (err && dlq_err_is_too_large(err) && !s->dlq_omit) {
        s->dlq_omit = why.omit_value = 1;
        err = dlq_produce(r->dlq, s->record, &why, ref);
    }
    if (err) {
        free(ref);
        s->attempts++;
        LOG_WARN("RTR-0202", "dead-letter produce refused; will retry",
                 LKV_S("error", dlq_err_name(err)));
        inflight_schedule(r->inf, p, seq, IF_DLQ_RETRY, now);
        return;
    }
    inflight_set_state(p, seq, IF_DLQ);
}

/* Send slot seq to the DLQ with a stable code and a human detail. */
static void to_dlq(router_t *r, inflight_part_t *p, uint64_t seq, const char *code,
                   const char *detail)
{
    inflight_slot_t *s = inflight_slot(p, seq);
    natsMsg_Destroy(s->msg);
    s->msg = NULL;
    s->dlq_code = code;
    free(s->dlq_detail);
    s->dlq_detail = strdup(detail);
    s->attempts = 0;
    LOG_WARN("RTR-0203", "dead-lettering event", LKV_S("topic", p->topic),
             LKV_I("partition", p->partition), LKV_I("offset", s->offset),
             LKV_S("route", s->route ? s->route : "-"), LKV_S("reason", code),
             LKV_S("detail", detail));
    dlq_send(r, p, seq);
}

/* Delivery report from the DLQ producer; runs inside dlq_poll() on this thread. */
void deliver_dlq_report(void *opaque, int err, const char *errstr, void *ctx)
{
    router_t *r = ctx;
    inflight_ref_t *ref = opaque;
    inflight_slot_t *s = inflight_resolve(ref);

    if (s && s->state == IF_DLQ) {
        if (err && dlq_err_is_too_large(err) && !s->dlq_omit) {
            /* Never stall on a record the DLQ can never take: send the
             * reference without the value (the original stays in Kafka). */
            LOG_WARN("RTR-0205",
                     "dead letter too large for the DLQ topic; sending it without its value",
                     LKV_S("topic", ref->p->topic), LKV_I("partition", ref->p->partition),
                     LKV_I("offset", s->offset));
            s->dlq_omit = 1;
            inflight_set_state(ref->p, ref->seq, IF_FREE);
            dlq_send(r, ref->p, ref->seq);
        } else if (err) {
            s->attempts++;
            LOG_WARN("RTR-0204", "dead-letter delivery failed; will retry",
                     LKV_S("topic", ref->p->topic), LKV_I("partition", ref->p->partition),
                     LKV_S("error", errstr));
            inflight_schedule(r->inf, ref->p, ref->seq, IF_DLQ_RETRY, monotime_ns());
        } else {
            rmetrics_dead_lettered(ref->p->user, s->dlq_code);
            finish_slot(r, ref->p, ref->seq);
        }
    }
    free(ref);
}

/* ---- publishing --------------------------------------------------------------- */

static int status_is_permanent(int st)
{
    return st == NATS_MAX_PAYLOAD || st == NATS_INVALID_SUBJECT || st == NATS_INVALID_ARG;
}

/* Publish (or republish) the message held in the slot. Returns 1 when a
 * core NATS publish went out: the event is done and the caller finishes
 * the slot (finish_slot()); 0 otherwise. */
static int publish_slot(router_t *r, inflight_part_t *p, uint64_t seq)
{
    inflight_slot_t *s = inflight_slot(p, seq);
    natsMsg *nm = s->msg;
    int st;

    inflight_set_state(p, seq, IF_FREE);
    s->msg = NULL;
    if (!s->first_sent_ms)
        s->first_sent_ms = wall_ms();
    if (s->core) {
        st = sink_publish_core(r->sink, nm);
        if (st == NATS_OK) {
            natsMsg_Destroy(nm);
            rmetrics_published(p->user, s->route, s->critical, 0);
            return 1;
        }
    } else if (inflight_map_put(r->inf, nm, inflight_ref(p, seq)) != 0) {
        st = NATS_INSUFFICIENT_BUFFER;
    } else {
        s->sent_ns = monotime_ns();
        st = sink_publish(r->sink, &nm, NULL);
        if (st == NATS_OK) {
            inflight_set_state(p, seq, IF_PUBLISHING);
            return 0;
        }
        inflight_map_take(r->inf, nm, NULL);
    }
    metrics_add(r->m.err_sync, 1);
    if (status_is_permanent(st)) {
        char detail[200];
        snprintf(detail, sizeof(detail), "NATS refused the publish: %s",
                 natsStatus_GetText((natsStatus)st));
        natsMsg_Destroy(nm);
        to_dlq(r, p, seq, st == NATS_MAX_PAYLOAD ? "too_large" : "nats_rejected", detail);
        return 0;
    }
    s->msg = nm;
    if (sink_connected(r->sink))
        s->attempts++;
    inflight_schedule(r->inf, p, seq, IF_RETRY, monotime_ns());
    return 0;
}

/*
 * The event in slot seq is done (stored, dead-lettered, skipped). The next
 * event of its order key, held until now, is published; when that is a
 * core publish, it is done at once and releases the one after it.
 */
static void finish_slot(router_t *r, inflight_part_t *p, uint64_t seq)
{
    uint64_t next;
    while (inflight_finish(r->inf, p, seq, monotime_ns(), &next) == 1) {
        if (!publish_slot(r, p, next))
            break;
        seq = next;
    }
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
static int failure_counts(router_t *r, const inflight_slot_t *s, const sink_completion_t *c)
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

static void on_stored(router_t *r, inflight_part_t *p, uint64_t seq, const sink_completion_t *c)
{
    inflight_slot_t *s = inflight_slot(p, seq);
    if (c->acked_at_ns > r->last_ack_ns)
        r->last_ack_ns = c->acked_at_ns;
    if (c->outcome == SINK_STORED)
        reconcile_settle_stored(&r->settle, s->sent_ns); /* a barrier for rechecks */
    rmetrics_published(p->user, s->route, s->critical, c->outcome == SINK_DUPLICATE);
    metrics_observe(r->m.ack_lat, (double)(c->acked_at_ns - s->sent_ns) / 1e9);
    if (s->timestamp_ms > 0)
        metrics_observe(r->m.e2e_lat, (double)(wall_ms() - s->timestamp_ms) / 1e3);
    natsMsg_Destroy(c->msg);
    finish_slot(r, p, seq);
}

static void on_transient(router_t *r, inflight_part_t *p, uint64_t seq, sink_completion_t *c)
{
    inflight_slot_t *s = inflight_slot(p, seq);
    metrics_add(r->m.err_transient, 1);
    if (failure_counts(r, s, c))
        s->attempts++;
    else if (sink_connected(r->sink) && s->outage_tries < UINT16_MAX)
        s->outage_tries++;
    if (s->attempts >= r->cfg->retry.max_attempts) {
        char detail[256];
        snprintf(detail, sizeof(detail), "JetStream publish failed %u times; last error: %s",
                 s->attempts, c->error);
        natsMsg_Destroy(c->msg);
        to_dlq(r, p, seq, "publish_failed", detail);
        return;
    }
    LOG_DEBUG("RTR-0301", "publish failed; will retry", LKV_S("topic", p->topic),
              LKV_I("partition", p->partition), LKV_U("attempt", s->attempts),
              LKV_S("error", c->error));
    s->msg = c->msg;
    metrics_add(r->m.retries, 1);
    inflight_schedule(r->inf, p, seq, IF_RETRY, monotime_ns());
}

static void on_completion(router_t *r, sink_completion_t *c)
{
    inflight_ref_t ref;
    inflight_slot_t *s;

    if (inflight_map_take(r->inf, c->msg, &ref) != 0 || !(s = inflight_resolve(&ref)) ||
        s->state != IF_PUBLISHING) {
        natsMsg_Destroy(c->msg); /* its partition was released meanwhile */
        return;
    }
    if (c->outcome == SINK_STORED || c->outcome == SINK_DUPLICATE) {
        on_stored(r, ref.p, ref.seq, c);
    } else if (c->outcome == SINK_TRANSIENT) {
        on_transient(r, ref.p, ref.seq, c);
    } else {
        char detail[256];
        metrics_add(r->m.err_permanent, 1);
        natsMsg_Destroy(c->msg);
        if (c->status == NATS_NOT_PERMITTED) { /* the NATS user may not publish there */
            to_dlq(r, ref.p, ref.seq, "permission_denied", c->error);
            return;
        }
        snprintf(detail, sizeof(detail), "JetStream rejected the event: %s (code %d)", c->error,
                 c->js_code);
        to_dlq(r, ref.p, ref.seq, "jetstream_rejected", detail);
    }
}

void deliver_drain(router_t *r)
{
    const size_t max = sizeof(r->comp) / sizeof(r->comp[0]);
    size_t n;
    do {
        n = sink_drain(r->sink, r->comp, max);
        for (size_t i = 0; i < n; i++)
            on_completion(r, &r->comp[i]);
    } while (n == max);
}

/*
 * Retries due now whose first publish is older than half the shortest
 * duplicate window: JetStream may hold that first copy (its PubAck was
 * lost) and would no longer recognise its Nats-Msg-Id. Ask the streams
 * first, once per partition (resume.h); the events found are finished.
 */
static void recheck_stale(router_t *r, size_t n)
{
    int64_t now_ms = wall_ms(), now_ns = monotime_ns();
    int failed = 0;
    if (resume_recheck_given_up(r))
        return;
    for (size_t i = 0; i < n; i++) {
        inflight_part_t *p = r->due[i].p;
        int64_t since = 0;
        if (i > 0 && r->due[i - 1].p == p)
            continue; /* due[] is in partition order: this one was rechecked */
        for (size_t j = i; j < n; j++) {
            inflight_slot_t *s = r->due[j].p == p ? inflight_resolve(&r->due[j]) : NULL;
            if (s && s->state == IF_RETRY && !s->core &&
                resume_stale(r, s->first_sent_ms, now_ms) && (!since || s->first_sent_ms < since))
                since = s->first_sent_ms;
        }
        if (!since)
            continue; /* nothing stale */
        reconcile_set_t *found = failed ? NULL : resume_recheck(r, p, since);
        if (!found) {
            /* Not known whether JetStream holds them: they wait (one failed
             * recheck per round: the others would fail the same way). */
            failed = 1;
            for (size_t j = i; j < n && r->due[j].p == p; j++) {
                inflight_slot_t *s = inflight_resolve(&r->due[j]);
                if (s && s->state == IF_RETRY && !s->core &&
                    resume_stale(r, s->first_sent_ms, now_ms))
                    inflight_defer(r->inf, p, r->due[j].seq, now_ns + 1000000000);
            }
            continue;
        }
        unsigned waiting = 0;
        for (size_t j = i; j < n; j++) {
            inflight_slot_t *s = r->due[j].p == p ? inflight_resolve(&r->due[j]) : NULL;
            const char *id = NULL;
            if (!s || s->state != IF_RETRY || s->core || !s->msg ||
                natsMsgHeader_Get(s->msg, "Nats-Msg-Id", &id) != NATS_OK || !id)
                continue;
            if (reconcile_set_has(found, s->offset, id, strlen(id))) {
                metrics_add(r->m.already_stored, 1);
                finish_slot(r, p, r->due[j].seq);
            } else if (resume_stale(r, s->first_sent_ms, now_ms) &&
                       !resume_settled(r, s->sent_ns)) {
                /* Not found, but the stream may still commit it: ask again. */
                inflight_defer(r->inf, p, r->due[j].seq, now_ns + 1000000000);
                waiting++;
            }
        }
        reconcile_set_free(found);
        if (waiting)
            LOG_DEBUG("RTR-0606",
                      "late retries not found wait for JetStream to settle before they are "
                      "published",
                      LKV_S("topic", p->topic), LKV_I("partition", p->partition),
                      LKV_U("waiting", waiting));
    }
}

void deliver_retries(router_t *r)
{
    int64_t now = monotime_ns();
    size_t n = inflight_due(r->inf, now, r->due, DUE_BATCH);
    if (r->cfg->limits.reconcile_timeout_ms)
        recheck_stale(r, n);
    for (size_t i = 0; i < n; i++) {
        inflight_ref_t *ref = &r->due[i];
        inflight_slot_t *s = inflight_resolve(ref);
        if (!s || (s->state != IF_RETRY && s->state != IF_DLQ_RETRY))
            continue;
        if (s->retry_at_ns > now)
            continue; /* put off meanwhile (recheck_stale) */
        if (s->state == IF_DLQ_RETRY)
            dlq_send(r, ref->p, ref->seq);
        else if (!sink_connected(r->sink))
            inflight_defer(r->inf, ref->p, ref->seq, now + 100000000); /* again once NATS is back */
        else if (publish_slot(r, ref->p, ref->seq))
            finish_slot(r, ref->p, ref->seq);
    }
}

/* ---- routed events ---------------------------------------------------------------- */

/* The natsmsg builder's input from the record and its route. The header
 * policy (no Nats-* header from Kafka, ever) lives in natsmsg.c; here the
 * headers left out are counted by reason. */
static natsMsg *build_msg(router_t *r, const source_record_t *m, int jetstream, int has_headers)
{
    natsMsg *nm = NULL;
    uint32_t dropped[NATSMSG_VERDICT__COUNT] = {0};
    natsmsg_input_t in = {0};

    source_message_input(m, has_headers, &in);
    in.subject = r->res.subject;
    in.route = &r->res;
    in.msg_id = jetstream ? r->res.dedup_id : NULL;
    if (natsmsg_build(&nm, &in, dropped) != NATS_OK)
        return NULL;
    for (int v = NATSMSG_COPY + 1; v < NATSMSG_VERDICT__COUNT; v++)
        if (dropped[v])
            metrics_add(r->m.hdr_dropped[v], dropped[v]);
    return nm;
}

/* Act on the rules' decision (r->res) for the event in slot seq. */
void deliver_dispatch(router_t *r, inflight_part_t *p, uint64_t seq, int has_headers)
{
    inflight_slot_t *s = inflight_slot(p, seq);
    const route_result_t *res = &r->res;

    s->route = res->route;
    s->critical = res->critical ? 1 : 0;
    if (res->action == ROUTE_SKIP) {
        rmetrics_skipped(p->user, res->reason);
        finish_slot(r, p, seq);
        return;
    }
    if (res->action == ROUTE_DLQ) {
        to_dlq(r, p, seq, route_reason_name(res->reason), res->detail);
        return;
    }
    s->core = res->action == ROUTE_NATS_CORE;
    if (!s->core && p->found && resume_already_stored(p, s->offset, res->dedup_id)) {
        /* A look-up found it in the stream: stored before, however long ago. */
        metrics_add(r->m.already_stored, 1);
        finish_slot(r, p, seq);
        return;
    }
    s->msg = build_msg(r, s->record, !s->core, has_headers);
    if (!s->msg) {
        LOG_ERROR("RTR-0104", "could not build the NATS message (out of memory?)",
                  LKV_S("topic", p->topic), LKV_I("partition", p->partition),
                  LKV_I("offset", s->offset));
        to_dlq(r, p, seq, "internal_error", "could not build the NATS message");
        return;
    }
    /* ordering: wait for the unfinished event of the same key (released by
     * finish_slot() of that event). */
    if (!inflight_order(r->inf, p, seq, res->order_key)) {
        metrics_add(r->m.order_waits[res->ordering], 1);
        return;
    }
    if (publish_slot(r, p, seq))
        finish_slot(r, p, seq);
}

/* The in-flight table's clear callback: what a slot holds. */
void deliver_clear_slot(void *ctx, inflight_slot_t *s)
{
    (void)ctx;
    source_record_free(s->record);
    natsMsg_Destroy(s->msg);
    rules_unref(s->rules);
}
