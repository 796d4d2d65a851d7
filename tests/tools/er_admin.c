/* SPDX-License-Identifier: Apache-2.0 */
/*
 * er_admin - Kafka admin and offset checks for the demo, tests and benchmark.
 *
 *   er_admin create-topic officer-events --partitions 6 --replication-factor 3 \
 *            --config min.insync.replicas=2
 *   er_admin delete-topic officer-events
 *   er_admin describe-topic officer-events          # leaders, replicas, ISR (JSON)
 *   er_admin end-offsets --topic officer-events     # low/high watermarks (JSON)
 *   er_admin offsets --group event-router --topic officer-events
 *   er_admin wait-offsets --group event-router --topic officer-events --timeout-s 60
 *
 * create-topic is idempotent: an existing topic with the requested partition
 * count is success (it then waits until every partition has a leader, so a
 * producer started next does not race topic creation). delete-topic of a
 * missing topic is success too.
 *
 * offsets reads the group's committed offsets with rd_kafka_committed() on a
 * consumer handle that has the group.id but never subscribes, so it does
 * not join the group or disturb the router's assignment. lag per partition
 * is end - committed (end - low when nothing is committed). wait-offsets
 * exits 0 once lag is 0 on every partition, else 1 at the timeout, printing
 * the last state either way. --topic may repeat (or be comma-separated).
 *
 * Exit: 0 ok, 1 check failed / timeout, 2 usage, 3 broker or API error.
 * Not for: producing or consuming events (see er_produce).
 */
#include "tool_common.h"
#include "tool_kafka.h"

#define MAX_CONFIGS 32
#define MAX_TOPICS  16

typedef struct {
    const char *cmd;
    const char *brokers;
    const char *name; /* positional topic for create/delete/describe */
    const char *topics[MAX_TOPICS];
    int ntopics;
    const char *group;
    int partitions;
    int replication;
    const char *configs[MAX_CONFIGS];
    int nconfigs;
    double timeout_s;
    double interval_s;
    int quiet;
} options;

static void usage(FILE *f)
{
    fprintf(f, "usage: er_admin COMMAND [options]\n"
               "Kafka admin for the event-router tests.\n\n"
               "commands:\n"
               "  create-topic NAME --partitions P --replication-factor R [--config k=v]...\n"
               "  delete-topic NAME\n"
               "  describe-topic NAME\n"
               "  end-offsets --topic T\n"
               "  offsets --group G --topic T\n"
               "  wait-offsets --group G --topic T [--timeout-s S] [--interval-s S]\n\n"
               "options:\n"
               "  --brokers LIST   bootstrap servers (default $ER_KAFKA_BOOTSTRAP)\n"
               "  --topic T        topic; repeatable or comma-separated (offset commands)\n"
               "  --timeout-s S    overall timeout (default 30; wait-offsets: 60)\n"
               "  --quiet          wait-offsets prints only the final state\n"
               "  --help\n"
               "Exit 0 ok, 1 check failed or timed out, 2 usage, 3 broker/API error.\n");
}

static void add_topics(void *ctx, const char *arg)
{
    options *o = ctx;
    char *dup = strdup(arg), *save = NULL;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (o->ntopics == MAX_TOPICS)
            tc_die(TC_EXIT_USAGE, "--topic: at most %d topics", MAX_TOPICS);
        o->topics[o->ntopics++] = strdup(t);
    }
    free(dup);
}

static void add_config(void *ctx, const char *arg)
{
    options *o = ctx;
    tc_append_kv("--config", arg, o->configs, &o->nconfigs, MAX_CONFIGS);
}

static void parse_args(options *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->partitions = -1;
    o->replication = -1;
    o->interval_s = 0.5;
    const tc_option opts[] = {
        TC_OPT_STR("brokers", &o->brokers),
        TC_OPT_CALL("topic", add_topics, o),
        TC_OPT_STR("group", &o->group),
        TC_OPT_INT("partitions", &o->partitions, 1, 100000),
        TC_OPT_INT("replication-factor", &o->replication, 1, 100),
        TC_OPT_CALL("config", add_config, o),
        TC_OPT_DOUBLE("timeout-s", &o->timeout_s, 0.0, 86400),
        TC_OPT_DOUBLE("interval-s", &o->interval_s, 0.01, 3600),
        TC_OPT_TRUE("quiet", &o->quiet),
    };
    o->cmd = tc_take_command(argc, argv, usage);
    tc_parse_options(argc, argv, 2, opts, sizeof(opts) / sizeof(opts[0]), usage, &o->name);
    o->brokers = tc_opt_or_env_required(o->brokers, "ER_KAFKA_BOOTSTRAP", "brokers", "--brokers");
    if (o->timeout_s == 0)
        o->timeout_s = strcmp(o->cmd, "wait-offsets") == 0 ? 60 : 30;
}

static rd_kafka_t *make_client(const options *o, rd_kafka_type_t type, const char *group)
{
    rd_kafka_conf_t *conf = tk_conf_new(o->brokers, "er_admin");
    if (group) {
        tk_conf_set(conf, "group.id", group);
        tk_conf_set(conf, "enable.auto.commit", "false");
    }
    /* Quiet the "connection refused" chatter; we report failures ourselves. */
    char err[512];
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    return tk_new(type, conf, "client"); /* conf is now owned by rk */
}

static int timeout_ms(const options *o)
{
    return (int)(o->timeout_s * 1000);
}

/* Fetch metadata for one topic. \return partition count, 0 if the topic is
 * unknown, -1 on error (message printed). \param[out] leaderless partitions
 * without a leader. */
static int topic_partitions(rd_kafka_t *rk, const char *topic, int tmo_ms, int *leaderless)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, tmo_ms);
    rd_kafka_topic_destroy(rkt);
    if (err) {
        tc_warn("metadata for '%s': %s", topic, rd_kafka_err2str(err));
        return -1;
    }
    int n = 0;
    if (leaderless)
        *leaderless = 0;
    if (md->topic_cnt == 1 && !md->topics[0].err) {
        n = md->topics[0].partition_cnt;
        for (int i = 0; i < n && leaderless; i++)
            if (md->topics[0].partitions[i].leader < 0 || md->topics[0].partitions[i].err)
                (*leaderless)++;
    } else if (md->topic_cnt == 1 && md->topics[0].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
               md->topics[0].err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
        tc_warn("metadata for '%s': %s", topic, rd_kafka_err2str(md->topics[0].err));
        n = -1;
    }
    rd_kafka_metadata_destroy(md);
    return n;
}

/* Run one admin request on its own queue and return the result event. */
static rd_kafka_event_t *wait_result(rd_kafka_queue_t *q, int tmo_ms)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, tmo_ms + 5000);
    if (!ev)
        tc_die(TC_EXIT_ENV, "admin request timed out");
    if (rd_kafka_event_error(ev) && rd_kafka_event_type(ev) != RD_KAFKA_EVENT_CREATETOPICS_RESULT &&
        rd_kafka_event_type(ev) != RD_KAFKA_EVENT_DELETETOPICS_RESULT)
        tc_die(TC_EXIT_ENV, "admin request failed: %s", rd_kafka_event_error_string(ev));
    return ev;
}

/*
 * Send a CreateTopics (nt) or DeleteTopics (dt) request for o->name, with
 * --timeout-s as its operation and request timeouts, and wait for the
 * result. \param harmless the topic error that means the topic is already
 * as asked (exists, absent). \param[out] was_harmless set to 1 if the result
 * had it. \return TC_EXIT_OK, or TC_EXIT_ENV after printing
 * "<command> <topic>: <reason>".
 */
static int topic_request(rd_kafka_t *rk, const options *o, rd_kafka_NewTopic_t *nt,
                         rd_kafka_DeleteTopic_t *dt, rd_kafka_resp_err_t harmless,
                         int *was_harmless)
{
    char err[512];
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(
        rk, nt ? RD_KAFKA_ADMIN_OP_CREATETOPICS : RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms(o), err, sizeof(err));
    rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms(o), err, sizeof(err));
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (nt)
        rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    else
        rd_kafka_DeleteTopics(rk, &dt, 1, ao, q);
    rd_kafka_event_t *ev = wait_result(q, timeout_ms(o));
    int rc = TC_EXIT_OK;
    *was_harmless = 0;
    if (rd_kafka_event_error(ev)) {
        tc_warn("%s %s: %s", o->cmd, o->name, rd_kafka_event_error_string(ev));
        rc = TC_EXIT_ENV;
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            nt ? rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n)
               : rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
        for (size_t i = 0; i < n; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
            if (e == harmless) {
                *was_harmless = 1;
            } else if (e) {
                tc_warn("%s %s: %s: %s", o->cmd, o->name, rd_kafka_err2name(e),
                        rd_kafka_topic_result_error_string(res[i]));
                rc = TC_EXIT_ENV;
            }
        }
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(ao);
    return rc;
}

static int cmd_create(const options *o)
{
    if (!o->name)
        tc_die(TC_EXIT_USAGE, "create-topic: missing topic NAME");
    if (o->partitions < 1 || o->replication < 1)
        tc_die(TC_EXIT_USAGE, "create-topic: --partitions and --replication-factor are required");
    rd_kafka_t *rk = make_client(o, RD_KAFKA_PRODUCER, NULL);
    char err[512];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(o->name, o->partitions, o->replication, err, sizeof(err));
    if (!nt)
        tc_die(TC_EXIT_USAGE, "create-topic: %s", err);
    for (int i = 0; i < o->nconfigs; i++) {
        const char *value = NULL;
        char *key = tc_kv_key(o->configs[i], &value);
        if (rd_kafka_NewTopic_set_config(nt, key, value))
            tc_die(TC_EXIT_USAGE, "create-topic: bad --config %s", o->configs[i]);
        free(key);
    }
    int exists = 0;
    int rc = topic_request(rk, o, nt, NULL, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, &exists);
    rd_kafka_NewTopic_destroy(nt);
    if (exists) {
        int have = topic_partitions(rk, o->name, timeout_ms(o), NULL);
        if (have != o->partitions) {
            tc_warn("create-topic %s: exists with %d partitions, wanted %d", o->name, have,
                    o->partitions);
            rc = TC_EXIT_FAIL;
        }
    }
    /* Creation returns before every partition has a leader on every broker;
     * wait so the next producer or router does not see UNKNOWN_TOPIC. */
    if (rc == TC_EXIT_OK) {
        int64_t deadline = tc_mono_ns() + (int64_t)(o->timeout_s * 1e9);
        for (;;) {
            int leaderless = 0;
            int n = topic_partitions(rk, o->name, 5000, &leaderless);
            if (n == o->partitions && leaderless == 0)
                break;
            if (tc_mono_ns() > deadline) {
                tc_warn("create-topic %s: partitions not ready after %.0fs (%d seen, %d "
                        "leaderless)",
                        o->name, o->timeout_s, n, leaderless);
                rc = TC_EXIT_FAIL;
                break;
            }
            tc_sleep_ms(200);
        }
    }
    if (rc == TC_EXIT_OK)
        printf("{\"topic\":\"%s\",\"state\":\"%s\",\"partitions\":%d}\n", o->name,
               exists ? "exists" : "created", o->partitions);
    rd_kafka_destroy(rk);
    return rc;
}

static int cmd_delete(const options *o)
{
    if (!o->name)
        tc_die(TC_EXIT_USAGE, "delete-topic: missing topic NAME");
    rd_kafka_t *rk = make_client(o, RD_KAFKA_PRODUCER, NULL);
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(o->name);
    int absent = 0;
    int rc = topic_request(rk, o, NULL, dt, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, &absent);
    rd_kafka_DeleteTopic_destroy(dt);
    if (rc == TC_EXIT_OK)
        printf("{\"topic\":\"%s\",\"state\":\"%s\"}\n", o->name, absent ? "absent" : "deleted");
    rd_kafka_destroy(rk);
    return rc;
}

static int cmd_describe(const options *o)
{
    const char *topic = o->name ? o->name : (o->ntopics ? o->topics[0] : NULL);
    if (!topic)
        tc_die(TC_EXIT_USAGE, "describe-topic: missing topic NAME");
    rd_kafka_t *rk = make_client(o, RD_KAFKA_PRODUCER, NULL);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms(o));
    rd_kafka_topic_destroy(rkt);
    if (err)
        tc_die(TC_EXIT_ENV, "metadata: %s", rd_kafka_err2str(err));
    int rc = TC_EXIT_OK;
    const struct rd_kafka_metadata_topic *t = &md->topics[0];
    if (md->topic_cnt != 1 || t->err) {
        tc_warn("describe-topic %s: %s", topic,
                md->topic_cnt ? rd_kafka_err2str(t->err) : "not found");
        rc = TC_EXIT_FAIL;
    } else {
        int under = 0;
        printf("{\"topic\":\"%s\",\"partitions\":[", topic);
        for (int i = 0; i < t->partition_cnt; i++) {
            const struct rd_kafka_metadata_partition *p = &t->partitions[i];
            printf("%s{\"partition\":%d,\"leader\":%d,\"replicas\":[", i ? "," : "", p->id,
                   p->leader);
            for (int r = 0; r < p->replica_cnt; r++)
                printf("%s%d", r ? "," : "", p->replicas[r]);
            printf("],\"isr\":[");
            for (int r = 0; r < p->isr_cnt; r++)
                printf("%s%d", r ? "," : "", p->isrs[r]);
            printf("]}");
            under += p->isr_cnt < p->replica_cnt;
        }
        printf("],\"under_replicated\":%d,\"brokers\":%d}\n", under, md->broker_cnt);
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return rc;
}

/* One snapshot of committed/end offsets over all requested topics. */
typedef struct {
    int64_t committed_total, end_total, lag_total;
    int partitions;
    int ok; /* 1 when every query succeeded */
} snapshot;

/**
 * Query and print (to `out`, one JSON line) the state for o->topics.
 * \param rk consumer handle with group.id (NULL for end-offsets only).
 */
static snapshot take_snapshot(const options *o, rd_kafka_t *rk, FILE *out)
{
    snapshot s = {0, 0, 0, 0, 1};
    int tmo = timeout_ms(o) < 10000 ? timeout_ms(o) : 10000;
    if (o->group)
        fprintf(out, "{\"group\":\"%s\",\"topics\":[", o->group);
    else
        fprintf(out, "{\"topics\":[");
    for (int ti = 0; ti < o->ntopics; ti++) {
        const char *topic = o->topics[ti];
        int np = topic_partitions(rk, topic, tmo, NULL);
        fprintf(out, "%s{\"topic\":\"%s\",\"partitions\":[", ti ? "," : "", topic);
        if (np <= 0) {
            if (np == 0)
                tc_warn("topic '%s' not found", topic);
            s.ok = 0;
            fprintf(out, "]}");
            continue;
        }
        rd_kafka_topic_partition_list_t *pl = rd_kafka_topic_partition_list_new(np);
        for (int p = 0; p < np; p++)
            rd_kafka_topic_partition_list_add(pl, topic, p);
        if (o->group) {
            rd_kafka_resp_err_t err = rd_kafka_committed(rk, pl, tmo);
            /* The group's coordinator can move or still be loading (a
             * broker just started, a group just created): ask again. */
            for (int retry = 0;
                 retry < 20 && (err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
                                err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
                                err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
                 retry++) {
                usleep(250000);
                err = rd_kafka_committed(rk, pl, tmo);
            }
            if (err) {
                tc_warn("committed offsets for group %s: %s", o->group, rd_kafka_err2str(err));
                s.ok = 0;
            }
        }
        for (int p = 0; p < np; p++) {
            int64_t lo = -1, hi = -1;
            rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, tmo);
            if (err) {
                tc_warn("watermarks %s [%d]: %s", topic, p, rd_kafka_err2str(err));
                s.ok = 0;
            }
            fprintf(out, "%s{\"partition\":%d,\"low\":%" PRId64 ",\"end\":%" PRId64, p ? "," : "",
                    p, lo, hi);
            if (o->group) {
                const rd_kafka_topic_partition_t *tp = &pl->elems[p];
                int64_t c = tp->offset;
                int64_t lag;
                if (tp->err) {
                    tc_warn("committed %s [%d]: %s", topic, p, rd_kafka_err2str(tp->err));
                    s.ok = 0;
                }
                if (c >= 0) {
                    fprintf(out, ",\"committed\":%" PRId64, c);
                    lag = hi - c;
                    s.committed_total += c;
                } else {
                    fprintf(out, ",\"committed\":null");
                    lag = hi - lo;
                }
                fprintf(out, ",\"lag\":%" PRId64, lag);
                s.lag_total += lag;
            }
            fputc('}', out);
            s.end_total += hi > 0 ? hi : 0;
            s.partitions++;
        }
        fprintf(out, "]}");
        rd_kafka_topic_partition_list_destroy(pl);
    }
    fprintf(out, "],\"partitions\":%d,\"end_total\":%" PRId64, s.partitions, s.end_total);
    if (o->group)
        fprintf(out, ",\"committed_total\":%" PRId64 ",\"lag\":%" PRId64, s.committed_total,
                s.lag_total);
    fprintf(out, "}\n");
    fflush(out);
    return s;
}

static int cmd_offsets(const options *o, int wait)
{
    options oo = *o;
    if (oo.ntopics == 0 && oo.name)
        add_topics(&oo, oo.name);
    if (oo.ntopics == 0)
        tc_die(TC_EXIT_USAGE, "%s: --topic is required", o->cmd);
    int need_group = strcmp(o->cmd, "end-offsets") != 0;
    if (need_group && !o->group)
        tc_die(TC_EXIT_USAGE, "%s: --group is required", o->cmd);
    if (!need_group)
        oo.group = NULL;
    /* A consumer handle with the group.id, never subscribed: committed()
     * only sends OffsetFetch and does not join the group. */
    rd_kafka_t *rk = make_client(&oo, RD_KAFKA_CONSUMER, oo.group);
    int rc;
    if (!wait) {
        snapshot s = take_snapshot(&oo, rk, stdout);
        rc = s.ok ? TC_EXIT_OK : TC_EXIT_ENV;
    } else {
        tc_install_signals();
        int64_t deadline = tc_mono_ns() + (int64_t)(o->timeout_s * 1e9);
        for (;;) {
            /* Snapshots go to a buffer so that only the last one is printed
             * with --quiet and every one is printed otherwise. */
            char *buf = NULL;
            size_t len = 0;
            FILE *mem = open_memstream(&buf, &len);
            snapshot s = take_snapshot(&oo, rk, mem);
            fclose(mem);
            int done = s.ok && s.lag_total == 0;
            int last = done || tc_mono_ns() > deadline || tc_stop_requested;
            if (!o->quiet || last)
                fputs(buf, stdout);
            fflush(stdout);
            free(buf);
            if (done) {
                rc = TC_EXIT_OK;
                break;
            }
            if (last) {
                tc_warn("wait-offsets: group %s still lagging after %.1fs", o->group, o->timeout_s);
                rc = tc_stop_requested ? TC_EXIT_INTR : TC_EXIT_FAIL;
                break;
            }
            tc_sleep_ms((int64_t)(o->interval_s * 1000));
        }
    }
    rd_kafka_destroy(rk);
    for (int i = o->ntopics; i < oo.ntopics; i++)
        free((void *)(uintptr_t)oo.topics[i]);
    return rc;
}

int main(int argc, char **argv)
{
    tc_prog = "er_admin";
    options o;
    parse_args(&o, argc, argv);
    int rc;
    if (strcmp(o.cmd, "create-topic") == 0)
        rc = cmd_create(&o);
    else if (strcmp(o.cmd, "delete-topic") == 0)
        rc = cmd_delete(&o);
    else if (strcmp(o.cmd, "describe-topic") == 0)
        rc = cmd_describe(&o);
    else if (strcmp(o.cmd, "end-offsets") == 0 || strcmp(o.cmd, "offsets") == 0)
        rc = cmd_offsets(&o, 0);
    else if (strcmp(o.cmd, "wait-offsets") == 0)
        rc = cmd_offsets(&o, 1);
    else
        tc_die(TC_EXIT_USAGE, "unknown command '%s' (see --help)", o.cmd);
    for (int i = 0; i < o.ntopics; i++)
        free((void *)(uintptr_t)o.topics[i]);
    return rc;
}
