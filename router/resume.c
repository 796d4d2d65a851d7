/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resume: look up what the streams already hold before publishing the
 * events of newly assigned partitions, and before stale retries (see
 * resume.h). The set logic and the metadata format are reconcile.c's
 * (pure); the scan is sink.c's, the committed offsets source.c's. Runs on
 * the router's thread and blocks it for the look-up, which
 * limits.reconcile_timeout_ms bounds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "monotime.h"
#include "pipeline.h"
#include "reconcile.h"
#include "resume.h"

#define DUPE_RELIST_NS     60000000000LL /* re-read the streams' duplicate windows after 60 s */
#define RECHECK_GIVE_UP_NS 60000000000LL /* rechecks failing this long: publish unchecked */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t left_ms(int64_t deadline_ns)
{
    int64_t left = (deadline_ns - monotime_ns()) / 1000000;
    return left > 0 ? left : 0;
}

void resume_assigned(router_t *r, inflight_part_t *p)
{
    resume_released(p);
    p->lookup_due = r->cfg->limits.reconcile_timeout_ms > 0;
}

void resume_released(inflight_part_t *p)
{
    reconcile_set_free(p->found);
    p->found = NULL;
    p->lookup_due = 0;
    p->mark_due = 0;
}

void resume_commit_metadata(const inflight_part_t *p, char *buf, size_t size)
{
    int64_t t = inflight_oldest_read_ms(p);
    reconcile_meta_format(buf, size, t > 0 ? t : wall_ms());
}

int resume_already_stored(inflight_part_t *p, int64_t offset, const char *msg_id)
{
    reconcile_set_t *s = p->found;
    if (!s)
        return 0;
    if (offset > reconcile_set_max(s)) { /* records come in offset order: done */
        reconcile_set_free(s);
        p->found = NULL;
        return 0;
    }
    return reconcile_set_has(s, offset, msg_id, strlen(msg_id));
}

/* ---- scanning ------------------------------------------------------------------- */

typedef struct scan_ctx {
    router_t *r;
    inflight_part_t *only; /* a recheck: this partition into set; else every looked-up one */
    reconcile_set_t *set;
    int64_t from;
    uint64_t found;
    int oom;
} scan_ctx_t;

static void on_stored_msg(void *ctx, natsMsg *m)
{
    scan_ctx_t *c = ctx;
    const char *topic = NULL, *part = NULL, *off = NULL, *id = NULL;
    int64_t partition, offset;

    if (natsMsgHeader_Get(m, "Kafka-Topic", &topic) != NATS_OK ||
        natsMsgHeader_Get(m, "Kafka-Partition", &part) != NATS_OK ||
        natsMsgHeader_Get(m, "Kafka-Offset", &off) != NATS_OK ||
        natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || !topic || !id ||
        reconcile_parse_number(part, &partition) != 0 || partition > INT32_MAX ||
        reconcile_parse_number(off, &offset) != 0)
        return; /* not an event this router stored */
    inflight_part_t *p = inflight_find(c->r->inf, topic, (int32_t)partition);
    if (!p || (c->only && p != c->only))
        return;
    reconcile_set_t *set = c->only ? c->set : p->found;
    int64_t from = c->only ? c->from : p->lookup_from;
    if (!set || offset < from)
        return;
    if (reconcile_set_add(set, offset, id, strlen(id)) != 0)
        c->oom = 1;
    else
        c->found++;
}

/* Which streams to scan; also refreshes the shortest duplicate window
 * (kept as it was when JetStream does not answer). At most 2 s: a stream
 * listing needs the JetStream meta leader, which an outage can take away. */
static int list_streams(router_t *r, int64_t timeout_ms, char ***names, size_t *count)
{
    int64_t min_dupe = 0;
    int rc = streams_for_routes(sink_js(r->sink), rules_route_at, reload_rules(r->reload),
                                timeout_ms < 2000 ? timeout_ms : 2000, names, count, &min_dupe);
    r->dupe_listed_ns = monotime_ns();
    if (rc == 0 && min_dupe > 0)
        r->min_dupe_ms = min_dupe;
    return rc;
}

void resume_start(router_t *r)
{
    char **names = NULL;
    size_t count = 0;
    if (r->cfg->limits.reconcile_timeout_ms && list_streams(r, 2000, &names, &count) == 0)
        streams_names_free(names, count);
}

/* Scan every stream from since_ms; returns messages read, -1 on the first failure. */
static int64_t scan_all(router_t *r, scan_ctx_t *c, int64_t since_ms, int64_t deadline_ns,
                        char *err, size_t err_size)
{
    char **names = NULL;
    size_t count = 0;
    uint64_t total = 0, read;

    if (list_streams(r, left_ms(deadline_ns), &names, &count) != 0) {
        snprintf(err, err_size, "JetStream did not list its streams");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        int rc = sink_scan(r->sink, names[i], since_ms, left_ms(deadline_ns), on_stored_msg, c,
                           &read, err, err_size);
        total += read;
        if (rc != 0) {
            streams_names_free(names, count);
            metrics_add(r->m.lookup_scanned, total);
            return -1;
        }
    }
    streams_names_free(names, count);
    metrics_add(r->m.lookup_scanned, total);
    return (int64_t)total;
}

void resume_lookup(router_t *r)
{
    int64_t t0 = monotime_ns();
    int64_t deadline = t0 + (int64_t)r->cfg->limits.reconcile_timeout_ms * 1000000;
    int64_t since = INT64_MAX;
    unsigned targets = 0, unknown = 0;
    char meta[SOURCE_META_MAX], err[256];

    for (inflight_part_t *p = inflight_parts(r->inf); p; p = p->next) {
        int64_t committed, read_ms;
        if (!p->assigned || !p->lookup_due)
            continue;
        p->lookup_due = 0;
        if (!sink_connected(r->sink) ||
            source_committed(r->src, p->topic, p->partition, (int)left_ms(deadline), &committed,
                             meta, sizeof(meta)) != 0) {
            LOG_WARN("RTR-0602",
                     "could not ask what was committed; its events are deduplicated by the "
                     "duplicate window only",
                     LKV_S("topic", p->topic), LKV_I("partition", p->partition));
            continue;
        }
        if (committed < 0 || reconcile_meta_parse(meta, strlen(meta), &read_ms) != 0) {
            unknown++; /* a new group, or committed by something else */
            p->mark_due = 1;
            continue;
        }
        if (!(p->found = reconcile_set_new()))
            continue;
        p->lookup_from = committed;
        if (read_ms - RESUME_SKEW_MS < since)
            since = read_ms - RESUME_SKEW_MS;
        targets++;
    }
    if (unknown)
        LOG_INFO("RTR-0603",
                 "no router commit metadata: nothing to look up for these partitions; each is "
                 "committed at its first record before that record is published",
                 LKV_U("partitions", unknown));
    if (!targets)
        return;
    scan_ctx_t c = {.r = r};
    int64_t read = scan_all(r, &c, since, deadline, err, sizeof(err));
    int64_t ms = (monotime_ns() - t0) / 1000000;
    if (read < 0 || c.oom)
        LOG_WARN("RTR-0602",
                 "look-up incomplete; events it did not find are deduplicated by the duplicate "
                 "window only",
                 LKV_U("partitions", targets), LKV_S("error", c.oom ? "out of memory" : err),
                 LKV_I("ms", ms));
    else
        LOG_INFO("RTR-0601", "looked up what the streams hold of the assigned partitions",
                 LKV_U("partitions", targets), LKV_I("scanned", read), LKV_U("found", c.found),
                 LKV_I("since_ms", since), LKV_I("ms", ms));
    for (inflight_part_t *p = inflight_parts(r->inf); p; p = p->next)
        if (p->found && reconcile_set_count(p->found) == 0) {
            reconcile_set_free(p->found);
            p->found = NULL;
        }
}

void resume_mark(router_t *r, inflight_part_t *p, int64_t offset)
{
    source_tp_t tp = {p->topic, p->partition, offset, ""};
    char err[128];
    int timeout = r->cfg->limits.reconcile_timeout_ms;

    p->mark_due = 0;
    reconcile_meta_format(tp.metadata, sizeof(tp.metadata), wall_ms());
    if (source_commit_offsets(r->src, &tp, 1, timeout, err, sizeof(err)) != 0) {
        LOG_WARN("RTR-0607",
                 "could not commit the first record's offset before publishing it; until the "
                 "partition's first commit, a restart deduplicates its events by the duplicate "
                 "window only",
                 LKV_S("topic", p->topic), LKV_I("partition", p->partition),
                 LKV_I("offset", offset), LKV_S("error", err));
        return;
    }
    if (offset > p->stored)
        p->stored = offset;
}

int resume_stale(router_t *r, int64_t first_sent_ms, int64_t now_ms)
{
    if (!r->cfg->limits.reconcile_timeout_ms || first_sent_ms <= 0)
        return 0;
    /* Re-read the windows every 60 s; every 5 s while none is known. */
    int64_t relist = r->min_dupe_ms > 0 ? DUPE_RELIST_NS : DUPE_RELIST_NS / 12;
    if (!r->dupe_listed_ns || monotime_ns() - r->dupe_listed_ns > relist) {
        char **names = NULL;
        size_t count = 0;
        if (list_streams(r, 1000, &names, &count) == 0)
            streams_names_free(names, count);
    }
    /* Never listed (NATS down since the start): 60 s, below any sensible window. */
    int64_t half = r->min_dupe_ms > 0 ? r->min_dupe_ms / 2 : 60000;
    return now_ms - first_sent_ms > half;
}

reconcile_set_t *resume_recheck(router_t *r, inflight_part_t *p, int64_t since_ms)
{
    int64_t t0 = monotime_ns();
    int64_t deadline = t0 + (int64_t)r->cfg->limits.reconcile_timeout_ms * 1000000;
    char err[256];
    scan_ctx_t c = {.r = r, .only = p, .from = inflight_committable(p)};

    if (!(c.set = reconcile_set_new()))
        return NULL;
    int64_t read = scan_all(r, &c, since_ms - RESUME_SKEW_MS, deadline, err, sizeof(err));
    if (read < 0 || c.oom) {
        if (!r->recheck_failing_ns)
            r->recheck_failing_ns = monotime_ns();
        reconcile_settle_recheck(&r->settle, 0, t0, monotime_ns());
        LOG_WARN("RTR-0605",
                 "recheck before a late retry failed; those retries wait (JetStream is likely "
                 "unavailable), and are published unchecked after 60 s of failures",
                 LKV_S("topic", p->topic), LKV_I("partition", p->partition),
                 LKV_S("error", c.oom ? "out of memory" : err));
        reconcile_set_free(c.set);
        return NULL;
    }
    r->recheck_failing_ns = 0;
    reconcile_settle_recheck(&r->settle, 1, t0, monotime_ns());
    LOG_INFO("RTR-0604",
             "rechecked the streams before retrying publishes older than half the duplicate "
             "window",
             LKV_S("topic", p->topic), LKV_I("partition", p->partition), LKV_I("scanned", read),
             LKV_U("found", c.found), LKV_I("ms", (monotime_ns() - t0) / 1000000));
    return c.set;
}

int resume_settled(const router_t *r, int64_t sent_ns)
{
    return reconcile_settled(&r->settle, sent_ns, monotime_ns());
}

int resume_recheck_given_up(const router_t *r)
{
    return r->recheck_failing_ns && monotime_ns() - r->recheck_failing_ns > RECHECK_GIVE_UP_NS;
}
