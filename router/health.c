/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health: what the router says about itself. The gauges (assigned, in
 * flight, lag, NATS up), the readiness reasons the HTTP thread serves
 * (/readyz), the liveness of the loop (/healthz), and the fatal errors of
 * the edges that stop the router. Runs on the router's thread, except
 * health_live() and health_ready(), which the HTTP thread calls.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kconf.h"
#include "log.h"
#include "monotime.h"
#include "health.h"
#include "pipeline.h"

/* ---- gauges and readiness -----------------------------------------------------------------------
 */

/* After JOIN_HINT_NS without joining and without an authentication
 * error, the likeliest cause with the consumer protocol is a broker older
 * than Kafka 4.0: librdkafka then retries for ever without an error. */
#define JOIN_HINT_NS 30000000000LL
static const char *joining_hint(router_t *r, int64_t now)
{
    char kauth[KCONF_AUTH_WHY_MAX];
    if (source_waiting_for_instance_id(r->src))
        return ": group.instance.id is still held by a member that did not leave; the broker "
               "frees it when that member's session times out (SRC-0013)";
    if (now - r->unjoined_since_ns < JOIN_HINT_NS ||
        strcmp(source_group_protocol(r->src), "consumer") ||
        kconf_auth_failure(60000, kauth, sizeof(kauth)))
        return "";
    return " with the consumer protocol for 30 s: it needs Kafka 4.0+; older brokers need "
           "group.protocol=classic in kafka.properties";
}

/* Why the router is not ready, one reason per line ("" when ready). */
static void not_ready_reasons(router_t *r, char *why, size_t size)
{
    size_t w = 0;
    int64_t now = monotime_ns(), stuck = (int64_t)r->cfg->http.stuck_after_ms * 1000000;
    char kauth[KCONF_AUTH_WHY_MAX];

    why[0] = '\0';
    if (!sink_connected(r->sink))
        w += (size_t)snprintf(why + w, size - w, "NATS is not connected\n");
    if (!r->joined && w < size)
        w += (size_t)snprintf(why + w, size - w,
                              "no partition assignment yet (joining the consumer group%s)\n",
                              joining_hint(r, now));
    if (!r->joined && w < size && kconf_auth_failure(60000, kauth, sizeof(kauth)))
        w += (size_t)snprintf(why + w, size - w, "Kafka authentication failed: %s\n", kauth);
    for (inflight_part_t *p = inflight_parts(r->inf); p && w < size; p = p->next)
        if (p->assigned && inflight_count(p) > 0 && now - p->last_progress_ns > stuck)
            w += (size_t)snprintf(why + w, size - w,
                                  "partition %s[%" PRId32 "] made no progress for %" PRId64
                                  " s with %u events in flight\n",
                                  p->topic, p->partition, (now - p->last_progress_ns) / 1000000000,
                                  inflight_count(p));
}

void health_update(router_t *r)
{
    unsigned assigned = 0;
    char why[READY_WHY_MAX];

    for (inflight_part_t *p = inflight_parts(r->inf); p; p = p->next) {
        int64_t lo, hi;
        if (!p->assigned)
            continue;
        assigned++;
        if (source_watermarks(r->src, p->topic, p->partition, &lo, &hi) == 0 && hi >= 0) {
            int64_t c = inflight_committable(p);
            if (c < 0)
                c = p->stored >= 0 ? p->stored : lo;
            rmetrics_lag(p->user, hi > c ? hi - c : 0);
        }
    }
    metrics_set(r->m.assigned, assigned);
    metrics_set(r->m.inflight, inflight_total(r->inf));
    metrics_set(r->m.held, inflight_held(r->inf));
    metrics_set(r->m.nats_up, sink_connected(r->sink));
    uint64_t rc = sink_reconnects(r->sink);
    if (rc > r->reconnects_seen) {
        metrics_add(r->m.nats_reconnects, rc - r->reconnects_seen);
        r->reconnects_seen = rc;
    }
    not_ready_reasons(r, why, sizeof(why));
    pthread_mutex_lock(&r->why_lock);
    snprintf(r->why, sizeof(r->why), "%s", why);
    pthread_mutex_unlock(&r->why_lock);
    atomic_store(&r->ready, why[0] == '\0');
}

/* A fatal error of an edge stops the router as a signal does (drain what
 * can be drained, commit only what was acknowledged), then exit 1 so that
 * the supervisor restarts it, e.g. after the Secret is fixed. */
void health_check_fatal(router_t *r)
{
    char why[512];
    if (r->fatal)
        return;
    if (source_fatal(r->src, why, sizeof(why))) {
        LOG_ERROR("SRC-0901", "fatal consumer error; stopping", LKV_S("error", why));
        r->fatal = 1;
    } else if (sink_failed(r->sink, why, sizeof(why))) {
        /* cnats gave up on the connection (e.g. refused credentials). */
        LOG_ERROR("RTR-0904",
                  "NATS refused the connection for good; stopping (check nats.user and its "
                  "password, nats.token_env, nats.creds_file, nats.nkey_seed_file and TLS)",
                  LKV_S("error", why));
        r->fatal = 1;
    } else if (r->dlq && dlq_fatal(r->dlq, why, sizeof(why))) {
        /* e.g. the idempotent producer was fenced: dead letters would stall for good */
        LOG_ERROR("DLQ-0901", "fatal dead-letter producer error; stopping", LKV_S("error", why));
        r->fatal = 1;
    }
}

int health_live(void *opaque, char *why, size_t why_size)
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

int health_ready(void *opaque, char *why, size_t why_size)
{
    router_t *r = opaque;
    pthread_mutex_lock(&r->why_lock);
    snprintf(why, why_size, "%s", r->why[0] ? r->why : "ready\n");
    pthread_mutex_unlock(&r->why_lock);
    return atomic_load(&r->ready);
}
