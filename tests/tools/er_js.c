/* SPDX-License-Identifier: Apache-2.0 */
/*
 * er_js - JetStream admin and end-to-end verifier for the event-router tests.
 *
 *   er_js stream-add COMMANDS --subjects 'commands.>' --replicas 3 --storage file \
 *         --dupe-window-s 120
 *   er_js stream-rm COMMANDS
 *   er_js stream-info COMMANDS            # JSON: messages, bytes, seqs, leader, replicas
 *   er_js dump COMMANDS --max 10          # JSON lines: seq, subject, headers, data_len, time
 *   er_js verify COMMANDS --ids crit.tsv [--check-subjects] [--check-order]
 *                [--check-key-order]
 *   er_js wait-count COMMANDS --count 10000 --timeout-s 60
 *
 * verify reads every stored message's headers and compares the set of
 * Nats-Msg-Id values with the first column of the ids file (er_produce
 * --ids-out writes it; column 2 is the expected subject). It prints
 *   {"expected":E,"stored":S,"missing":M,"duplicates":D,"unexpected":U,...}
 * and exits 0 only if missing == 0, duplicates == 0 and unexpected == 0
 * (unexpected is tolerated with --allow-unexpected; --id-prefix P ignores
 * stored IDs not starting with P, for streams shared between runs).
 * duplicates counts stored messages whose ID was already seen: JetStream's
 * dedup window should make it 0. --check-subjects counts stored messages
 * whose subject differs from column 2; --check-order counts, per
 * (Kafka-Topic, Kafka-Partition) header pair, messages whose Kafka-Offset is
 * not greater than the previous one in stream order; --check-key-order does
 * the same per (Kafka-Topic, Kafka-Partition, Kafka-Key), the order the
 * router's `ordering: key` keeps (messages without Kafka-Key are counted as
 * unkeyed, not checked). Each fails the check.
 *
 * Reading the stream: --method ordered (default) uses an ordered push
 * consumer (ephemeral, no acks, flow-controlled; headers only for verify),
 * which reads ~hundreds of thousands of messages per second; --method get
 * fetches seq = first..last one by one with js_GetMsg (simple, exact, one
 * round trip per message). Both stop at the last sequence seen in stream
 * info when the read began.
 *
 * Exit: 0 ok, 1 check failed / timeout, 2 usage, 3 server/API error.
 * Not for: publishing (see er_js_publish).
 */
#include "tool_common.h"
#include "tool_nats.h"

#define MAX_SUBJECTS 16

typedef struct {
    const char *cmd;
    const char *nats;
    const char *stream;
    const char *subjects[MAX_SUBJECTS];
    int nsubjects;
    char *subjects_buf; /* owns the strings subjects[] points into */
    int replicas;
    int storage; /* js_FileStorage / js_MemoryStorage */
    double dupe_window_s;
    double max_age_s;
    int update;
    long long max;
    const char *ids;
    const char *id_prefix;
    int check_subjects;
    int check_order;
    int check_key_order;
    int allow_unexpected;
    int show_data;
    int use_get;
    long long count;
    double timeout_s;
    double api_timeout_s;
    int quiet;
} options;

static void usage(FILE *f)
{
    fprintf(f, "usage: er_js COMMAND STREAM [options]\n"
               "JetStream admin and verifier for the event-router tests.\n\n"
               "commands:\n"
               "  stream-add STREAM --subjects S[,S] [--replicas R] [--storage file|memory]\n"
               "             [--dupe-window-s S] [--max-age-s S] [--update]\n"
               "  stream-rm STREAM\n"
               "  stream-info STREAM\n"
               "  dump STREAM [--max N] [--data]\n"
               "  verify STREAM --ids FILE [--check-subjects] [--check-order] [--check-key-order]\n"
               "             [--allow-unexpected] [--id-prefix P]\n"
               "  wait-count STREAM --count N [--timeout-s S]\n\n"
               "options:\n"
               "  --nats URLS        comma-separated server URLs (default $ER_NATS_URL)\n"
               "  --method M         ordered (default) or get: how dump/verify read the stream\n"
               "  --api-timeout-s S  JetStream API request timeout (default 10)\n"
               "  --help\n"
               "Exit 0 ok, 1 check failed or timed out, 2 usage, 3 server/API error.\n");
}

static void set_subjects(void *ctx, const char *arg)
{
    options *o = ctx;
    free(o->subjects_buf); /* the last --subjects wins */
    o->subjects_buf = strdup(arg);
    o->nsubjects = 0;
    char *save = NULL;
    for (char *t = strtok_r(o->subjects_buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->nsubjects == MAX_SUBJECTS)
            tc_die(TC_EXIT_USAGE, "--subjects: at most %d", MAX_SUBJECTS);
        o->subjects[o->nsubjects++] = t;
    }
}

static void set_storage(void *ctx, const char *arg)
{
    static const char *const words[] = {"file", "memory", NULL};
    options *o = ctx;
    o->storage = tc_parse_choice("--storage", arg, words) == 0 ? js_FileStorage : js_MemoryStorage;
}

static void set_method(void *ctx, const char *arg)
{
    static const char *const words[] = {"ordered", "get", NULL};
    options *o = ctx;
    o->use_get = tc_parse_choice("--method", arg, words) == 1;
}

static void parse_args(options *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->replicas = 1;
    o->storage = js_FileStorage;
    o->dupe_window_s = 120;
    o->max = -1;
    o->count = -1;
    o->timeout_s = 60;
    o->api_timeout_s = 10;
    const tc_option opts[] = {
        TC_OPT_STR("nats", &o->nats),
        TC_OPT_CALL("subjects", set_subjects, o),
        TC_OPT_INT("replicas", &o->replicas, 1, 5),
        TC_OPT_CALL("storage", set_storage, o),
        TC_OPT_DOUBLE("dupe-window-s", &o->dupe_window_s, 0, 1e7),
        TC_OPT_DOUBLE("max-age-s", &o->max_age_s, 0, 1e9),
        TC_OPT_TRUE("update", &o->update),
        TC_OPT_LLONG("max", &o->max, 0, INT64_MAX),
        TC_OPT_STR("ids", &o->ids),
        TC_OPT_STR("id-prefix", &o->id_prefix),
        TC_OPT_TRUE("check-subjects", &o->check_subjects),
        TC_OPT_TRUE("check-order", &o->check_order),
        TC_OPT_TRUE("check-key-order", &o->check_key_order),
        TC_OPT_TRUE("allow-unexpected", &o->allow_unexpected),
        TC_OPT_TRUE("data", &o->show_data),
        TC_OPT_CALL("method", set_method, o),
        TC_OPT_LLONG("count", &o->count, 0, INT64_MAX),
        TC_OPT_DOUBLE("timeout-s", &o->timeout_s, 0, 86400),
        TC_OPT_DOUBLE("api-timeout-s", &o->api_timeout_s, 0.1, 3600),
        TC_OPT_TRUE("quiet", &o->quiet),
    };
    o->cmd = tc_take_command(argc, argv, usage);
    tc_parse_options(argc, argv, 2, opts, sizeof(opts) / sizeof(opts[0]), usage, &o->stream);
    if (!o->stream)
        tc_die(TC_EXIT_USAGE, "%s: missing STREAM name", o->cmd);
    o->nats = tc_opt_or_env_required(o->nats, "ER_NATS_URL", "NATS servers", "--nats");
}

/* ---- stream info ---- */

/** Get stream info. \return NATS_OK, NATS_NOT_FOUND, or an error (printed). */
static natsStatus get_info(jsCtx *js, const char *stream, jsStreamInfo **si)
{
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(si, js, stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
        return NATS_NOT_FOUND;
    if (s != NATS_OK)
        tc_warn("stream info %s: %s (js err %d)", stream, tn_err(s), (int)jerr);
    return s;
}

/**
 * Get the info of a stream that must exist. \return TC_EXIT_OK, TC_EXIT_FAIL
 * if it does not exist, TC_EXIT_ENV on an API error (either printed).
 */
static int require_info(jsCtx *js, const char *stream, jsStreamInfo **si)
{
    natsStatus s = get_info(js, stream, si);
    if (s == NATS_NOT_FOUND) {
        tc_warn("stream '%s' not found", stream);
        return TC_EXIT_FAIL;
    }
    return s == NATS_OK ? TC_EXIT_OK : TC_EXIT_ENV;
}

static void print_info(FILE *f, const jsStreamInfo *si)
{
    const jsStreamConfig *c = si->Config;
    fprintf(f, "{\"name\":");
    tc_json_str(f, c->Name);
    fprintf(f, ",\"subjects\":[");
    for (int i = 0; i < c->SubjectsLen; i++) {
        fputs(i ? "," : "", f);
        tc_json_str(f, c->Subjects[i]);
    }
    fprintf(f,
            "],\"replicas\":%" PRId64 ",\"storage\":\"%s\",\"dupe_window_s\":%.3f,"
            "\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"first_seq\":%" PRIu64
            ",\"last_seq\":%" PRIu64 ",\"first_ts_ns\":%" PRId64 ",\"last_ts_ns\":%" PRId64
            ",\"num_deleted\":%" PRIu64 ",\"consumers\":%" PRId64,
            c->Replicas, c->Storage == js_MemoryStorage ? "memory" : "file",
            (double)c->Duplicates / 1e9, si->State.Msgs, si->State.Bytes, si->State.FirstSeq,
            si->State.LastSeq, si->State.FirstTime, si->State.LastTime, si->State.NumDeleted,
            si->State.Consumers);
    int all_current = 1;
    if (si->Cluster) {
        fprintf(f, ",\"cluster\":{\"name\":");
        tc_json_str(f, si->Cluster->Name);
        fprintf(f, ",\"leader\":");
        tc_json_str(f, si->Cluster->Leader);
        fprintf(f, ",\"replicas\":[");
        for (int i = 0; i < si->Cluster->ReplicasLen; i++) {
            const jsPeerInfo *p = si->Cluster->Replicas[i];
            fprintf(f, "%s{\"name\":", i ? "," : "");
            tc_json_str(f, p->Name);
            fprintf(
                f, ",\"current\":%s,\"offline\":%s,\"lag\":%" PRIu64 ",\"active_ns\":%" PRId64 "}",
                p->Current ? "true" : "false", p->Offline ? "true" : "false", p->Lag, p->Active);
            all_current &= p->Current && !p->Offline;
        }
        fprintf(f, "]}");
        if (!si->Cluster->Leader)
            all_current = 0;
    }
    fprintf(f, ",\"all_current\":%s}", all_current ? "true" : "false");
}

static int cmd_stream_info(jsCtx *js, const options *o)
{
    jsStreamInfo *si = NULL;
    int rc = require_info(js, o->stream, &si);
    if (rc != TC_EXIT_OK)
        return rc;
    print_info(stdout, si);
    fputc('\n', stdout);
    jsStreamInfo_Destroy(si);
    return TC_EXIT_OK;
}

/* ---- stream-add / stream-rm ---- */

static int same_subjects(const jsStreamConfig *c, const options *o)
{
    if (c->SubjectsLen != o->nsubjects)
        return 0;
    for (int i = 0; i < o->nsubjects; i++) {
        int found = 0;
        for (int j = 0; j < c->SubjectsLen; j++)
            found |= strcmp(o->subjects[i], c->Subjects[j]) == 0;
        if (!found)
            return 0;
    }
    return 1;
}

/* The start of stream-add's and stream-rm's answer, left open for more. */
static void print_stream_state(const char *stream, const char *state)
{
    printf("{\"stream\":");
    tc_json_str(stdout, stream);
    printf(",\"state\":\"%s\"", state);
}

static int cmd_stream_add(jsCtx *js, const options *o)
{
    if (o->nsubjects == 0)
        tc_die(TC_EXIT_USAGE, "stream-add: --subjects is required");
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = o->stream;
    const char *subjects[MAX_SUBJECTS];
    memcpy(subjects, o->subjects, sizeof(subjects));
    cfg.Subjects = subjects;
    cfg.SubjectsLen = o->nsubjects;
    cfg.Replicas = o->replicas;
    cfg.Storage = (jsStorageType)o->storage;
    cfg.Duplicates = (int64_t)(o->dupe_window_s * 1e9);
    cfg.MaxAge = (int64_t)(o->max_age_s * 1e9);

    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    const char *state = "created";
    if (s != NATS_OK && jerr == JSStreamNameExistErr) {
        /* Exists with a different config (the server answers "already in
         * use" only then; an identical add succeeds). */
        jsStreamInfo *cur = NULL;
        if (get_info(js, o->stream, &cur) != NATS_OK)
            return TC_EXIT_ENV;
        const jsStreamConfig *c = cur->Config;
        int same = same_subjects(c, o) && c->Replicas == cfg.Replicas &&
                   c->Storage == cfg.Storage && c->Duplicates == cfg.Duplicates;
        if (same) {
            state = "exists";
            si = cur;
            s = NATS_OK;
        } else if (o->update && c->Storage == cfg.Storage) {
            jsStreamInfo_Destroy(cur);
            s = js_UpdateStream(&si, js, &cfg, NULL, &jerr);
            state = "updated";
        } else {
            fprintf(stderr, "er_js: stream-add %s: exists with a different config:\n  current: ",
                    o->stream);
            print_info(stderr, cur);
            fprintf(stderr, "\n  (use --update to change it; storage cannot be changed)\n");
            jsStreamInfo_Destroy(cur);
            return TC_EXIT_FAIL;
        }
    }
    if (s != NATS_OK) {
        tc_warn("stream-add %s: %s (js err %d)", o->stream, tn_err(s), (int)jerr);
        return TC_EXIT_ENV;
    }
    /* An identical add succeeds without telling us it was a no-op. */
    if (strcmp(state, "created") == 0 && tc_wall_ns() - si->Created > 5000000000LL)
        state = "exists";
    print_stream_state(o->stream, state);
    printf(",\"info\":");
    print_info(stdout, si);
    printf("}\n");
    jsStreamInfo_Destroy(si);
    return TC_EXIT_OK;
}

static int cmd_stream_rm(jsCtx *js, const options *o)
{
    jsErrCode jerr = 0;
    natsStatus s = js_DeleteStream(js, o->stream, NULL, &jerr);
    const char *state = "deleted";
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
        state = "absent";
    else if (s != NATS_OK) {
        tc_warn("stream-rm %s: %s (js err %d)", o->stream, tn_err(s), (int)jerr);
        return TC_EXIT_ENV;
    }
    print_stream_state(o->stream, state);
    printf("}\n");
    return TC_EXIT_OK;
}

/* ---- reading every message ---- */

/** Called once per stored message, in stream order, on the main thread.
 * `data_len` is the payload size even for headers-only reads. */
typedef void (*msg_fn)(void *ctx, natsMsg *m, uint64_t seq, int64_t time_ns, int data_len);

typedef struct {
    uint64_t read;
    uint64_t first, last;
    double elapsed_s;
} scan_stats;

static int scan_get(jsCtx *js, const options *o, uint64_t first, uint64_t last, long long max,
                    msg_fn fn, void *ctx, scan_stats *st)
{
    for (uint64_t seq = first; seq && seq <= last; seq++) {
        if (max >= 0 && (long long)st->read >= max)
            break;
        if (tc_stop_requested)
            return TC_EXIT_INTR;
        natsMsg *m = NULL;
        jsErrCode jerr = 0;
        natsStatus s = js_GetMsg(&m, js, o->stream, seq, NULL, &jerr);
        if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
            continue; /* deleted or expired: a gap, not an error */
        if (s != NATS_OK) {
            tc_warn("get seq %" PRIu64 ": %s (js err %d)", seq, tn_err(s), (int)jerr);
            return TC_EXIT_ENV;
        }
        fn(ctx, m, natsMsg_GetSequence(m), natsMsg_GetTime(m), natsMsg_GetDataLength(m));
        st->read++;
        natsMsg_Destroy(m);
    }
    return TC_EXIT_OK;
}

static int scan_ordered(jsCtx *js, const options *o, const char *filter, int headers_only,
                        uint64_t last, uint64_t msgs, long long max, msg_fn fn, void *ctx,
                        scan_stats *st)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = o->stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    so.Config.HeadersOnly = headers_only;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_SubscribeSync(&sub, js, filter, NULL, &so, &jerr);
    if (s != NATS_OK) {
        tc_warn("ordered consumer on %s: %s (js err %d)", o->stream, tn_err(s), (int)jerr);
        return TC_EXIT_ENV;
    }
    natsSubscription_SetPendingLimits(sub, -1, -1);
    int rc = TC_EXIT_OK;
    while (!(max >= 0 && (long long)st->read >= max)) {
        if (tc_stop_requested) {
            rc = TC_EXIT_INTR;
            break;
        }
        natsMsg *m = NULL;
        s = natsSubscription_NextMsg(&m, sub, (int64_t)(o->api_timeout_s * 1000));
        if (s == NATS_TIMEOUT && st->read >= msgs) {
            /* The message at `last` was deleted after the info call (e.g.
             * by limits): everything that existed has been read. */
            break;
        }
        if (s != NATS_OK) {
            tc_warn("reading %s: %s after %" PRIu64 " messages (expected up to seq %" PRIu64 ")",
                    o->stream, tn_err(s), st->read, last);
            rc = TC_EXIT_ENV;
            break;
        }
        jsMsgMetaData *meta = NULL;
        if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
            natsMsg_Destroy(m); /* not a stream message (should not happen) */
            continue;
        }
        uint64_t seq = meta->Sequence.Stream;
        int64_t ts = meta->Timestamp;
        jsMsgMetaData_Destroy(meta);
        int len = natsMsg_GetDataLength(m);
        if (headers_only) {
            const char *sz = NULL;
            if (natsMsgHeader_Get(m, "Nats-Msg-Size", &sz) == NATS_OK && sz)
                len = atoi(sz);
        }
        fn(ctx, m, seq, ts, len);
        st->read++;
        natsMsg_Destroy(m);
        if (seq >= last)
            break;
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    return rc;
}

/**
 * Visit every message stored when the scan starts (up to `max`), in order.
 * \return exit code.
 */
static int scan_stream(jsCtx *js, const options *o, int headers_only, long long max, msg_fn fn,
                       void *ctx, scan_stats *st)
{
    jsStreamInfo *si = NULL;
    int rc = require_info(js, o->stream, &si);
    if (rc != TC_EXIT_OK)
        return rc;
    memset(st, 0, sizeof(*st));
    st->first = si->State.FirstSeq;
    st->last = si->State.LastSeq;
    uint64_t msgs = si->State.Msgs;
    /* cnats needs a subject even when bound to the stream: the stream's own
     * subject when it has one, else ">" (every subject it stores). */
    char filter[256];
    snprintf(filter, sizeof(filter), "%s",
             si->Config->SubjectsLen == 1 ? si->Config->Subjects[0] : ">");
    jsStreamInfo_Destroy(si);
    int64_t t0 = tc_mono_ns();
    if (msgs > 0) {
        rc = o->use_get
                 ? scan_get(js, o, st->first, st->last, max, fn, ctx, st)
                 : scan_ordered(js, o, filter, headers_only, st->last, msgs, max, fn, ctx, st);
    }
    st->elapsed_s = (double)(tc_mono_ns() - t0) / 1e9;
    return rc;
}

/* ---- dump ---- */

static void dump_one(void *ctx, natsMsg *m, uint64_t seq, int64_t time_ns, int data_len)
{
    const options *o = ctx;
    FILE *f = stdout;
    char ts[40];
    tc_iso8601(time_ns, ts, sizeof(ts));
    fprintf(f, "{\"seq\":%" PRIu64 ",\"subject\":", seq);
    tc_json_str(f, natsMsg_GetSubject(m));
    fprintf(f, ",\"headers\":{");
    const char **keys = NULL;
    int nkeys = 0;
    if (natsMsgHeader_Keys(m, &keys, &nkeys) == NATS_OK) {
        for (int i = 0; i < nkeys; i++) {
            const char **vals = NULL;
            int nvals = 0;
            fputs(i ? "," : "", f);
            tc_json_str(f, keys[i]);
            fputc(':', f);
            if (natsMsgHeader_Values(m, keys[i], &vals, &nvals) == NATS_OK && nvals == 1) {
                tc_json_str(f, vals[0]);
            } else {
                fputc('[', f);
                for (int v = 0; v < nvals; v++) {
                    fputs(v ? "," : "", f);
                    tc_json_str(f, vals[v]);
                }
                fputc(']', f);
            }
            free((void *)(uintptr_t)vals);
        }
        free((void *)(uintptr_t)keys);
    }
    fprintf(f, "},\"data_len\":%d,\"time\":\"%s\",\"time_ns\":%" PRId64, data_len, ts, time_ns);
    if (o->show_data) {
        fprintf(f, ",\"data\":");
        tc_json_str_n(f, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
    }
    fputs("}\n", f);
}

static int cmd_dump(jsCtx *js, const options *o)
{
    scan_stats st;
    int rc = scan_stream(js, o, 0, o->max, dump_one, (void *)(uintptr_t)o, &st);
    fflush(stdout);
    if (!o->quiet)
        fprintf(stderr,
                "er_js: dumped %" PRIu64 " messages (seq %" PRIu64 "..%" PRIu64 ") in %.3fs\n",
                st.read, st.first, st.last, st.elapsed_s);
    return rc;
}

/* ---- verify ---- */

typedef struct {
    const options *o;
    tc_map expected;
    tc_map order;     /* "topic\x1fpartition" -> last Kafka-Offset in num */
    tc_map key_order; /* "topic\x1fpartition\x1fkey" -> last Kafka-Offset in num */
    tc_map unexpected_ids;
    uint64_t stored, no_id, duplicates, unexpected, subject_mismatch, order_violations,
        order_checked, order_missing_headers, ignored, key_order_checked, key_order_violations,
        unkeyed;
    int printed_dupes, printed_unexp, printed_subj, printed_order;
} verify_ctx;

/* One message of the sequence \p name (a partition, or a key in a
 * partition): its offset must be above the last one seen. */
static void order_check(verify_ctx *v, tc_map *map, const char *name, int64_t offset, uint64_t seq,
                        uint64_t *checked, uint64_t *violations)
{
    int existed = 0;
    tc_entry *k = tc_map_put(map, name, &existed);
    (*checked)++;
    if (existed && offset <= k->num) {
        (*violations)++;
        if (v->printed_order++ < 5)
            tc_warn("order: %s offset %" PRId64 " after %" PRId64 " (seq %" PRIu64 ")", name,
                    offset, k->num, seq);
    }
    if (!existed || offset > k->num)
        k->num = offset;
}

static void verify_one(void *ctx, natsMsg *m, uint64_t seq, int64_t time_ns, int data_len)
{
    (void)time_ns;
    (void)data_len;
    verify_ctx *v = ctx;
    const char *id = NULL;
    if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || !id) {
        v->no_id++;
        v->stored++;
        return;
    }
    if (v->o->id_prefix && strncmp(id, v->o->id_prefix, strlen(v->o->id_prefix)) != 0) {
        v->ignored++;
        return;
    }
    v->stored++;
    tc_entry *e = tc_map_get(&v->expected, id);
    if (!e) {
        int existed = 0;
        tc_entry *u = tc_map_put(&v->unexpected_ids, id, &existed);
        if (existed) {
            v->duplicates++;
        } else {
            v->unexpected++;
            if (v->printed_unexp++ < 5)
                tc_warn("unexpected id %s at seq %" PRIu64 " (%s)", id, seq, natsMsg_GetSubject(m));
        }
        u->seen++;
    } else {
        if (e->seen++ > 0) {
            v->duplicates++;
            if (v->printed_dupes++ < 5)
                tc_warn("duplicate id %s at seq %" PRIu64, id, seq);
        }
        if (v->o->check_subjects && e->aux && strcmp(e->aux, natsMsg_GetSubject(m)) != 0) {
            v->subject_mismatch++;
            if (v->printed_subj++ < 5)
                tc_warn("id %s: subject %s, expected %s", id, natsMsg_GetSubject(m), e->aux);
        }
    }
    if (v->o->check_order || v->o->check_key_order) {
        const char *topic = NULL, *part = NULL, *off = NULL, *key = NULL;
        if (natsMsgHeader_Get(m, "Kafka-Topic", &topic) != NATS_OK ||
            natsMsgHeader_Get(m, "Kafka-Partition", &part) != NATS_OK ||
            natsMsgHeader_Get(m, "Kafka-Offset", &off) != NATS_OK) {
            v->order_missing_headers++;
            return;
        }
        int64_t offset = strtoll(off, NULL, 10);
        char name[1024];
        if (v->o->check_order) {
            snprintf(name, sizeof(name), "%s\x1f%s", topic, part);
            order_check(v, &v->order, name, offset, seq, &v->order_checked, &v->order_violations);
        }
        if (v->o->check_key_order) {
            if (natsMsgHeader_Get(m, "Kafka-Key", &key) != NATS_OK || !key) {
                v->unkeyed++;
                return;
            }
            snprintf(name, sizeof(name), "%s\x1f%s\x1f%s", topic, part, key);
            order_check(v, &v->key_order, name, offset, seq, &v->key_order_checked,
                        &v->key_order_violations);
        }
    }
}

static void load_ids(verify_ctx *v, const char *path)
{
    FILE *f = tc_open_input(path);
    char *line = NULL, *cols[3] = {NULL, NULL, NULL};
    size_t cap = 0;
    long long lineno = 0;
    uint64_t file_dupes = 0;
    int n;
    while ((n = tc_next_ids_line(f, &line, &cap, &lineno, cols, 3)) > 0) {
        int existed = 0;
        tc_entry *e = tc_map_put(&v->expected, cols[0], &existed);
        if (existed) {
            if (file_dupes++ < 5)
                tc_warn("%s:%lld: id %s listed twice", path, lineno, cols[0]);
            continue;
        }
        if (n >= 2 && cols[1][0] && strcmp(cols[1], "-") != 0)
            e->aux = strdup(cols[1]);
    }
    free(line);
    tc_close_input(f);
    if (file_dupes)
        tc_warn("%s: %" PRIu64 " ids listed more than once (counted once)", path, file_dupes);
}

static int cmd_verify(jsCtx *js, const options *o)
{
    if (!o->ids)
        tc_die(TC_EXIT_USAGE, "verify: --ids FILE is required");
    verify_ctx v;
    memset(&v, 0, sizeof(v));
    v.o = o;
    int64_t t0 = tc_mono_ns();
    tc_map_init(&v.expected, 1 << 16);
    tc_map_init(&v.order, 64);
    tc_map_init(&v.key_order, 1024);
    tc_map_init(&v.unexpected_ids, 64);
    load_ids(&v, o->ids);
    double load_s = (double)(tc_mono_ns() - t0) / 1e9;

    scan_stats st;
    int rc = scan_stream(js, o, 1, -1, verify_one, &v, &st);
    if (rc != TC_EXIT_OK && rc != TC_EXIT_FAIL) {
        tc_warn("verify: stream read incomplete; no verdict");
        return rc;
    }
    uint64_t missing = 0, printed = 0;
    for (size_t i = 0; i < v.expected.cap; i++) {
        const tc_entry *e = &v.expected.slots[i];
        if (e->key && e->seen == 0) {
            missing++;
            if (printed++ < 10)
                tc_warn("missing id %s%s%s", e->key, e->aux ? " " : "", e->aux ? e->aux : "");
        }
    }
    int pass = missing == 0 && v.duplicates == 0 && (o->allow_unexpected || v.unexpected == 0) &&
               v.subject_mismatch == 0 && v.order_violations == 0 && v.key_order_violations == 0 &&
               (!(o->check_order || o->check_key_order) || v.order_missing_headers == 0) &&
               rc == TC_EXIT_OK;
    printf("{\"expected\":%zu,\"stored\":%" PRIu64 ",\"missing\":%" PRIu64
           ",\"duplicates\":%" PRIu64 ",\"unexpected\":%" PRIu64 ",\"no_id\":%" PRIu64,
           v.expected.len, v.stored, missing, v.duplicates, v.unexpected, v.no_id);
    if (o->id_prefix)
        printf(",\"ignored_other_prefix\":%" PRIu64, v.ignored);
    if (o->check_subjects)
        printf(",\"subject_mismatch\":%" PRIu64, v.subject_mismatch);
    if (o->check_order)
        printf(",\"order_checked\":%" PRIu64 ",\"order_violations\":%" PRIu64
               ",\"order_missing_headers\":%" PRIu64 ",\"partitions_seen\":%zu",
               v.order_checked, v.order_violations, v.order_missing_headers, v.order.len);
    if (o->check_key_order)
        printf(",\"key_order_checked\":%" PRIu64 ",\"key_order_violations\":%" PRIu64
               ",\"keys_seen\":%zu,\"unkeyed\":%" PRIu64,
               v.key_order_checked, v.key_order_violations, v.key_order.len, v.unkeyed);
    if (o->check_key_order && !o->check_order)
        printf(",\"order_missing_headers\":%" PRIu64, v.order_missing_headers);
    printf(",\"first_seq\":%" PRIu64 ",\"last_seq\":%" PRIu64 ",\"read\":%" PRIu64
           ",\"load_s\":%.3f,\"scan_s\":%.3f,\"method\":\"%s\",\"pass\":%s}\n",
           st.first, st.last, st.read, load_s, st.elapsed_s, o->use_get ? "get" : "ordered",
           pass ? "true" : "false");
    fflush(stdout);
    tc_map_free(&v.expected);
    tc_map_free(&v.order);
    tc_map_free(&v.key_order);
    tc_map_free(&v.unexpected_ids);
    return pass ? TC_EXIT_OK : TC_EXIT_FAIL;
}

/* ---- wait-count ---- */

static int cmd_wait_count(jsCtx *js, const options *o)
{
    if (o->count < 0)
        tc_die(TC_EXIT_USAGE, "wait-count: --count N is required");
    int64_t deadline = tc_mono_ns() + (int64_t)(o->timeout_s * 1e9);
    uint64_t msgs = 0;
    int errors = 0;
    for (;;) {
        jsStreamInfo *si = NULL;
        natsStatus s = get_info(js, o->stream, &si);
        if (s == NATS_OK) {
            msgs = si->State.Msgs;
            jsStreamInfo_Destroy(si);
            if ((long long)msgs >= o->count)
                break;
        } else if (s != NATS_NOT_FOUND && ++errors > 50) {
            return TC_EXIT_ENV; /* transient errors (leader election) are retried */
        }
        if (tc_mono_ns() > deadline || tc_stop_requested) {
            printf("{\"stream\":\"%s\",\"messages\":%" PRIu64
                   ",\"wanted\":%lld,\"reached\":false}\n",
                   o->stream, msgs, o->count);
            tc_warn("wait-count: %s has %" PRIu64 " of %lld messages after %.1fs", o->stream, msgs,
                    o->count, o->timeout_s);
            return tc_stop_requested ? TC_EXIT_INTR : TC_EXIT_FAIL;
        }
        tc_sleep_ms(200);
    }
    printf("{\"stream\":\"%s\",\"messages\":%" PRIu64 ",\"wanted\":%lld,\"reached\":true}\n",
           o->stream, msgs, o->count);
    return TC_EXIT_OK;
}

int main(int argc, char **argv)
{
    tc_prog = "er_js";
    options o;
    parse_args(&o, argc, argv);
    static const char *const cmds[] = {"stream-add", "stream-rm", "stream-info",
                                       "dump",       "verify",    "wait-count"};
    int known = 0;
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        known |= strcmp(o.cmd, cmds[i]) == 0;
    if (!known)
        tc_die(TC_EXIT_USAGE, "unknown command '%s' (see --help)", o.cmd);
    tc_install_signals();
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    tn_connect(o.nats, "er_js", (int64_t)(o.api_timeout_s * 1000), NULL, &nc, &js);
    int rc;
    if (strcmp(o.cmd, "stream-add") == 0)
        rc = cmd_stream_add(js, &o);
    else if (strcmp(o.cmd, "stream-rm") == 0)
        rc = cmd_stream_rm(js, &o);
    else if (strcmp(o.cmd, "stream-info") == 0)
        rc = cmd_stream_info(js, &o);
    else if (strcmp(o.cmd, "dump") == 0)
        rc = cmd_dump(js, &o);
    else if (strcmp(o.cmd, "verify") == 0)
        rc = cmd_verify(js, &o);
    else
        rc = cmd_wait_count(js, &o);
    tn_close(nc, js);
    free(o.subjects_buf);
    return rc;
}
