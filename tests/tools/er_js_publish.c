/* SPDX-License-Identifier: Apache-2.0 */
/*
 * er_js_publish - asynchronous JetStream publisher with Nats-Msg-Id.
 *
 * Two uses:
 *  - the benchmark's raw ceiling: how fast can one connection publish to
 *    the stream with dedup IDs and PubAcks, with no Kafka in the path;
 *  - a stand-in for the router when testing er_js verify: it publishes what
 *    an ids file (er_produce --ids-out) says the router should publish, with
 *    the same headers (Nats-Msg-Id, Kafka-Topic, Kafka-Partition,
 *    Kafka-Offset when the file has those columns).
 *
 *   er_js_publish --nats nats://127.0.0.1:4222 --ids crit.tsv      # subject = column 2
 *   er_js_publish --stream-subject commands.bench.x --count 100000 --size 200 \
 *                 --msg-id-prefix bench1 --ids-out bench1.tsv
 *
 * --stamp-header NAME adds a header with the wall-clock time (ns) of the
 * publish call, so stored time minus it is JetStream's own latency (the
 * benchmark's "JetStream alone" floor).
 *
 * ids file columns: eventId [subject [topic partition offset ...]].
 * --stream-subject overrides the subject column. --skip K / --limit N take a
 * slice of the file (to simulate a router that lost or repeated events).
 *
 * Prints a JSON line: published, acked, duplicates (PubAck said duplicate:
 * the server's dedup window dropped it), failed, elapsed_s, eps.
 * Exit: 0 every message acked, 1 some failed or unacknowledged, 2 usage,
 * 3 connection error, 130 interrupted.
 */
#include "tool_common.h"
#include "tool_nats.h"

#include <stdatomic.h>

typedef struct {
    const char *nats;
    const char *ids;
    const char *ids_out;
    const char *subject;
    const char *prefix;
    long long count;
    long long skip, limit;
    long size;
    long max_pending;
    double rate;
    double ack_wait_s;
    const char *stamp_header;
} options;

/* Written by the PubAck handler on a cnats thread, read by main: atomics. */
static atomic_llong g_acked, g_dupes, g_failed;
static atomic_int g_errs_printed;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: er_js_publish [options]\n"
            "Publish to JetStream asynchronously with Nats-Msg-Id; print eps.\n\n"
            "  --nats URLS           server URLs (default $ER_NATS_URL)\n"
            "  --ids FILE            publish one message per line (eventId[\\tsubject[\\ttopic\\t"
            "partition\\toffset]])\n"
            "  --stream-subject S    subject (required without --ids; overrides column 2)\n"
            "  --count N             messages when generating IDs (default 10000)\n"
            "  --msg-id-prefix P     generated IDs are P-<n> (default: random)\n"
            "  --ids-out FILE        write generated IDs and subjects (input for er_js verify)\n"
            "  --skip K, --limit N   use lines K.. (K+N-1) of --ids\n"
            "  --size BYTES          payload size (default 200)\n"
            "  --max-pending N       async publishes in flight (default 4096)\n"
            "  --rate EPS            paced rate (default 0 = as fast as possible)\n"
            "  --ack-wait-s S        wait for outstanding PubAcks at the end (default 30)\n"
            "  --stamp-header NAME   add header NAME = wall-clock ns of the publish call\n"
            "  --help\n");
}

static void parse_args(options *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->count = 10000;
    o->limit = -1;
    o->size = 200;
    o->max_pending = 4096;
    o->ack_wait_s = 30;
    const tc_option opts[] = {
        TC_OPT_STR("nats", &o->nats),
        TC_OPT_STR("ids", &o->ids),
        TC_OPT_STR("ids-out", &o->ids_out),
        TC_OPT_STR("stream-subject", &o->subject),
        TC_OPT_STR("msg-id-prefix", &o->prefix),
        TC_OPT_LLONG("count", &o->count, 0, INT64_MAX / 2),
        TC_OPT_LLONG("skip", &o->skip, 0, INT64_MAX),
        TC_OPT_LLONG("limit", &o->limit, 0, INT64_MAX),
        TC_OPT_LONG("size", &o->size, 0, 8 << 20),
        TC_OPT_LONG("max-pending", &o->max_pending, 1, 10000000),
        TC_OPT_DOUBLE("rate", &o->rate, 0, 1e8),
        TC_OPT_DOUBLE("ack-wait-s", &o->ack_wait_s, 0.1, 3600),
        TC_OPT_STR("stamp-header", &o->stamp_header),
    };
    tc_parse_options(argc, argv, 1, opts, sizeof(opts) / sizeof(opts[0]), usage, NULL);
    o->nats = tc_opt_or_env_required(o->nats, "ER_NATS_URL", "NATS servers", "--nats");
    if (!o->ids && !o->subject)
        tc_die(TC_EXIT_USAGE, "--stream-subject is required without --ids");
}

/* Runs on a cnats thread for every PubAck or publish error. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)closure;
    if (pae) {
        atomic_fetch_add(&g_failed, 1);
        if (atomic_fetch_add(&g_errs_printed, 1) < 10) {
            const char *id = NULL;
            natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
            tc_warn("publish %s failed: %s (js err %d) %s", id ? id : "?",
                    natsStatus_GetText(pae->Err), (int)pae->ErrCode,
                    pae->ErrText ? pae->ErrText : "");
        }
    } else if (pa && pa->Duplicate) {
        atomic_fetch_add(&g_dupes, 1);
    } else {
        atomic_fetch_add(&g_acked, 1);
    }
    natsMsg_Destroy(msg); /* the handler owns it */
}

int main(int argc, char **argv)
{
    tc_prog = "er_js_publish";
    options o;
    parse_args(&o, argc, argv);
    tc_install_signals();

    FILE *in = o.ids ? tc_open_input(o.ids) : NULL;
    FILE *out = tc_open_output(o.ids_out);
    char prefix[64];
    if (o.prefix)
        snprintf(prefix, sizeof(prefix), "%s", o.prefix);
    else
        tc_random_tag(prefix, sizeof(prefix), "pub", (uint64_t)tc_wall_ns());

    char *payload = malloc((size_t)o.size + 1);
    for (long i = 0; i < o.size; i++)
        payload[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];

    jsOptions jso;
    jsOptions_Init(&jso);
    jso.PublishAsync.MaxPending = o.max_pending;
    jso.PublishAsync.AckHandler = on_ack;
    jso.PublishAsync.StallWait = 60000; /* stalled = cluster trouble; wait, don't fail */
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    tn_connect(o.nats, "er_js_publish", 10000, &jso, &nc, &js);

    char *line = NULL;
    size_t cap = 0;
    long long published = 0, lineno = 0, publish_errors = 0;
    const int64_t t0 = tc_mono_ns();
    const double interval_ns = o.rate > 0 ? 1e9 / o.rate : 0;
    for (;;) {
        if (tc_stop_requested)
            break;
        char id[256];
        const char *subject = o.subject;
        char *cols[5] = {NULL, NULL, NULL, NULL, NULL};
        int ncols = 0;
        if (in) {
            ncols = tc_next_ids_line(in, &line, &cap, &lineno, cols, 5);
            if (ncols == 0)
                break;
            if (lineno <= o.skip)
                continue;
            if (o.limit >= 0 && published >= o.limit)
                break;
            snprintf(id, sizeof(id), "%s", cols[0]);
            if (!subject) {
                if (ncols < 2 || !cols[1][0] || strcmp(cols[1], "-") == 0)
                    tc_die(TC_EXIT_USAGE, "%s:%lld: no subject column; pass --stream-subject",
                           o.ids, lineno);
                subject = cols[1];
            }
        } else {
            if (published >= o.count)
                break;
            snprintf(id, sizeof(id), "%s-%012lld", prefix, published);
        }
        if (interval_ns > 0)
            tc_sleep_until_ns(t0 + (int64_t)((double)published * interval_ns));

        natsMsg *m = NULL;
        natsStatus s = natsMsg_Create(&m, subject, NULL, payload, (int)o.size);
        if (s == NATS_OK)
            s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
        if (s == NATS_OK && ncols >= 5) {
            s = natsMsgHeader_Set(m, "Kafka-Topic", cols[2]);
            if (s == NATS_OK)
                s = natsMsgHeader_Set(m, "Kafka-Partition", cols[3]);
            if (s == NATS_OK)
                s = natsMsgHeader_Set(m, "Kafka-Offset", cols[4]);
        }
        if (s == NATS_OK && o.stamp_header) {
            char ns[32];
            snprintf(ns, sizeof(ns), "%" PRId64, tc_wall_ns());
            s = natsMsgHeader_Set(m, o.stamp_header, ns);
        }
        if (s == NATS_OK)
            s = js_PublishMsgAsync(js, &m, NULL); /* on success m is now NULL (owned) */
        if (s != NATS_OK) {
            natsMsg_Destroy(m);
            if (publish_errors++ < 10)
                tc_warn("publish %s: %s", id, tn_err(s));
            if (s == NATS_CONNECTION_CLOSED)
                break;
            continue;
        }
        if (out)
            fprintf(out, "%s\t%s\n", id, subject);
        published++;
    }
    const int64_t t_sent = tc_mono_ns();

    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = (int64_t)(o.ack_wait_s * 1000);
    natsStatus s = js_PublishAsyncComplete(js, &po);
    if (s != NATS_OK)
        tc_warn("waiting for PubAcks: %s", tn_err(s));
    const int64_t t_end = tc_mono_ns();

    long long acked = atomic_load(&g_acked), dupes = atomic_load(&g_dupes),
              failed = atomic_load(&g_failed) + publish_errors;
    double elapsed = (double)(t_end - t0) / 1e9;
    printf("{\"published\":%lld,\"acked\":%lld,\"duplicates\":%lld,\"failed\":%lld,"
           "\"unacked\":%lld,\"elapsed_s\":%.3f,\"eps\":%.1f,\"send_s\":%.3f,\"size\":%ld,"
           "\"max_pending\":%ld}\n",
           published, acked, dupes, failed, published - acked - dupes - atomic_load(&g_failed),
           elapsed, elapsed > 0 ? (double)(acked + dupes) / elapsed : 0.0,
           (double)(t_sent - t0) / 1e9, o.size, o.max_pending);
    fflush(stdout);

    int rc = TC_EXIT_OK;
    if (failed || acked + dupes < published)
        rc = TC_EXIT_FAIL;
    else if (tc_stop_requested)
        rc = TC_EXIT_INTR;
    if (out && fclose(out) != 0) {
        tc_warn("%s: %s", o.ids_out, strerror(errno));
        rc = TC_EXIT_ENV;
    }
    if (in)
        tc_close_input(in);
    free(line);
    free(payload);
    tn_close(nc, js);
    return rc;
}
