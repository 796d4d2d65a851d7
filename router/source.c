/* SPDX-License-Identifier: Apache-2.0 */
/*
 * source: the Kafka consumer. It owns the librdkafka handle and its wake-up
 * pipe, applies the user's properties unchanged on top of safe defaults and
 * refuses the few settings that would break the router's offset contract.
 *
 * Records are read from each assigned partition's own queue (forwarding to
 * the consumer queue turned off before the partition is assigned), a few at
 * a time, round-robin. A partition the router holds (its window is full) is
 * simply not read: its records wait in its queue, which librdkafka bounds
 * per partition (queued.max.messages.kbytes), while the other partitions'
 * records go past it. With one shared queue a full partition blocks every
 * partition behind its fetched batch, or must be paused, which drops that
 * batch and fetches it again. The consumer queue still serves rebalances
 * and errors.
 *
 * Not for: the watermark, pausing policy or rebalance waiting (router.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kconf.h"
#include "log.h"
#include "monotime.h"
#include "source.h"

struct source {
    rd_kafka_t *rk;
    const config_t *cfg;
    source_hooks_t hooks;
    int defaulted;        /* the consumer protocol was the router's choice, not the user's */
    char protocol[16];    /* "consumer" or "classic", as librdkafka was configured */
    int assigned_ever;    /* some rebalance assigned partitions (the join worked) */
    int force_classic;    /* reopened with the classic protocol (SRC-0011) */
    int64_t rejoin_at_ns; /* consumer dropped: open it again then (SRC-0013), else 0 */
    unsigned rejoins;     /* SRC-0013 attempts so far */
    rd_kafka_queue_t *q;
    int pipefd[2];
    struct part_q *pq; /* the assigned partitions' own queues */
    size_t npq, cap_pq;
    size_t cur;       /* round-robin position in pq */
    unsigned burst;   /* records taken from pq[cur] in a row */
    unsigned cq_skip; /* records read since the consumer queue was last looked at */
};

/* One assigned partition's queue; hold: the router reads it no further. */
typedef struct part_q {
    char *topic;
    int32_t partition;
    rd_kafka_queue_t *q;
    int hold;
} part_q_t;

#define PART_BURST 16 /* records from one partition before the next one's turn */
#define CQ_EVERY   64 /* records read between looks at the consumer queue */

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque);

/* Settings the router's guarantees rest on: the watermark is the only
 * thing ever stored. A user property may not turn them off. */
static int check_forbidden(rd_kafka_conf_t *conf, char *errstr, size_t errstr_size)
{
    char v[64];
    size_t sz = sizeof(v);
    if (rd_kafka_conf_get(conf, "enable.auto.offset.store", v, &sz) == RD_KAFKA_CONF_OK &&
        strcmp(v, "false") != 0) {
        snprintf(errstr, errstr_size,
                 "kafka.properties: enable.auto.offset.store must stay false: the router "
                 "stores only acknowledged offsets; remove that property");
        return -1;
    }
    return 0;
}

/* The value the user's properties give \p key (the last one wins), or NULL. */
static const char *user_value(const config_t *cfg, const char *key)
{
    size_t n = strlen(key);
    const char *v = NULL;
    for (unsigned i = 0; i < cfg->kafka.properties_count; i++)
        if (!strncmp(cfg->kafka.properties[i], key, n) && cfg->kafka.properties[i][n] == '=')
            v = cfg->kafka.properties[i] + n + 1;
    return v;
}

/*
 * The group protocol. KIP-848's "consumer" protocol by default: the broker
 * assigns, and a replica joining or leaving moves only the partitions that
 * change owner while the others keep flowing. The classic protocol when the
 * properties ask for it, or set one of its client-side settings (which the
 * consumer protocol refuses: they are broker settings there); it then
 * defaults to cooperative-sticky, incremental as well. Set before the
 * user's properties, which win.
 */
static int set_protocol(rd_kafka_conf_t *conf, const config_t *cfg, int force_classic,
                        int *defaulted, const char **chosen, char *errstr, size_t errstr_size)
{
    static const char *const classic_only[] = {"session.timeout.ms", "heartbeat.interval.ms",
                                               "partition.assignment.strategy",
                                               "group.protocol.type"};
    const char *asked = user_value(cfg, "group.protocol");
    int classic = force_classic;

    *defaulted = 0;
    if (asked) {
        *chosen = "kafka.properties sets it";
        classic = !strcmp(asked, "classic");
    } else if (!force_classic) {
        for (size_t i = 0; i < sizeof(classic_only) / sizeof(classic_only[0]); i++)
            classic |= user_value(cfg, classic_only[i]) != NULL;
        *chosen = classic ? "kafka.properties sets a classic-protocol setting" : "default";
        *defaulted = !classic;
    } else {
        *chosen = "the brokers do not support the consumer protocol";
    }
    if (!asked && kconf_set(conf, "group.protocol", classic ? "classic" : "consumer", "defaults",
                            errstr, errstr_size))
        return -1;
    /* The classic protocol's incremental assignor, unless the user picks one. */
    if (classic && !user_value(cfg, "partition.assignment.strategy"))
        return kconf_set(conf, "partition.assignment.strategy", "cooperative-sticky", "defaults",
                         errstr, errstr_size);
    return 0;
}

/* The consumer's properties: the router's defaults, then the user's
 * (which win), then what the guarantees need (which nobody overrides). */
static int configure(rd_kafka_conf_t *conf, source_t *s, int force_classic, const char **instance,
                     const char **protocol, char *errstr, size_t errstr_size)
{
    const config_t *cfg = s->cfg;
    char num[32], backoff[32];
    snprintf(num, sizeof(num), "%u", cfg->limits.commit_interval_ms);
    snprintf(backoff, sizeof(backoff), "%u", cfg->kafka.refetch_idle_ms);
    *instance = cfg->kafka.group_instance_id;
    if (!*instance && cfg->kafka.group_instance_id_env)
        *instance = getenv(cfg->kafka.group_instance_id_env);
    if (kconf_set(conf, "bootstrap.servers", cfg->kafka.brokers, "kafka.brokers", errstr,
                  errstr_size) ||
        kconf_set(conf, "group.id", cfg->kafka.group_id, "kafka.group_id", errstr, errstr_size) ||
        kconf_set(conf, "client.id", "event-router", "defaults", errstr, errstr_size) ||
        /* A new group starts at the beginning: events produced before the
         * router's first start are routed too. */
        kconf_set(conf, "auto.offset.reset", "earliest", "defaults", errstr, errstr_size) ||
        kconf_set(conf, "enable.auto.offset.store", "false", "defaults", errstr, errstr_size) ||
        /* Auto-commit only ever commits what the router stored. */
        kconf_set(conf, "enable.auto.commit", "true", "defaults", errstr, errstr_size) ||
        kconf_set(conf, "auto.commit.interval.ms", num, "limits.commit_interval_ms", errstr,
                  errstr_size) ||
        /* Bound prefetch memory, per partition (each has its own queue);
         * raise it with kafka.properties for throughput. */
        kconf_set(conf, "queued.max.messages.kbytes", "1024", "defaults", errstr, errstr_size) ||
        /* Once the prefetch reaches that bound librdkafka stops fetching a
         * partition for fetch.queue.backoff.ms; its 1 s default idles a
         * catch-up for most of each second (docs/benchmarks/README.md). */
        kconf_set(conf, "fetch.queue.backoff.ms", backoff, "kafka.refetch_idle_ms", errstr,
                  errstr_size) ||
        set_protocol(conf, cfg, force_classic, &s->defaulted, protocol, errstr, errstr_size) ||
        kconf_apply(conf, cfg->kafka.properties, cfg->kafka.properties_count, "kafka.properties",
                    errstr, errstr_size))
        return -1;
    if (*instance && **instance &&
        kconf_set(conf, "group.instance.id", *instance, "kafka.group_instance_id", errstr,
                  errstr_size))
        return -1;
    return check_forbidden(conf, errstr, errstr_size);
}

/* The wake-up pipe: librdkafka writes it when the queue turns non-empty. */
static int wake_on_records(source_t *s, char *errstr, size_t errstr_size)
{
    if (pipe2(s->pipefd, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(errstr, errstr_size, "pipe: %s", strerror(errno));
        return -1;
    }
    s->q = rd_kafka_queue_get_consumer(s->rk);
    rd_kafka_queue_io_event_enable(s->q, s->pipefd[1], "1", 1);
    return 0;
}

static int subscribe(source_t *s, const config_t *cfg, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *topics =
        rd_kafka_topic_partition_list_new((int)cfg->kafka.topics_count);
    for (unsigned i = 0; i < cfg->kafka.topics_count; i++)
        rd_kafka_topic_partition_list_add(topics, cfg->kafka.topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(s->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        snprintf(errstr, errstr_size, "kafka.topics: subscribe failed: %s", rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

/* ---- per-partition queues ------------------------------------------------------ */

static part_q_t *pq_find(source_t *s, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < s->npq; i++)
        if (s->pq[i].partition == partition && !strcmp(s->pq[i].topic, topic))
            return &s->pq[i];
    return NULL;
}

/* Give a partition about to be assigned its own queue. Must come before
 * the assignment: once its fetch started, records already forwarded to the
 * consumer queue would be read after later ones from its own queue. If
 * this fails the partition's records come through the consumer queue, as
 * with one queue (a full window then pauses it, see router.c). */
static void pq_open(source_t *s, const char *topic, int32_t partition)
{
    if (pq_find(s, topic, partition))
        return;
    if (s->npq == s->cap_pq) {
        size_t cap = s->cap_pq ? s->cap_pq * 2 : 16;
        part_q_t *n = realloc(s->pq, cap * sizeof(*n));
        if (!n)
            return;
        s->pq = n;
        s->cap_pq = cap;
    }
    char *name = strdup(topic);
    rd_kafka_queue_t *q = name ? rd_kafka_queue_get_partition(s->rk, topic, partition) : NULL;
    if (!q) {
        free(name);
        LOG_WARN("SRC-0014", "no queue of its own for a partition; it is read with the others",
                 LKV_S("topic", topic), LKV_I("partition", partition));
        return;
    }
    rd_kafka_queue_forward(q, NULL);
    rd_kafka_queue_io_event_enable(q, s->pipefd[1], "1", 1);
    s->pq[s->npq++] = (part_q_t){name, partition, q, 0};
}

static void pq_close(source_t *s, part_q_t *e)
{
    rd_kafka_queue_io_event_enable(e->q, -1, NULL, 0);
    rd_kafka_queue_destroy(e->q);
    free(e->topic);
    *e = s->pq[--s->npq];
    if (s->cur >= s->npq)
        s->cur = 0;
    s->burst = 0;
}

/* Before the handle is destroyed: a queue still referenced keeps it alive. */
static void pq_close_all(source_t *s)
{
    while (s->npq)
        pq_close(s, &s->pq[s->npq - 1]);
    free(s->pq);
    s->pq = NULL;
    s->cap_pq = 0;
}

int source_hold(source_t *s, const char *topic, int32_t partition, int on)
{
    part_q_t *e = pq_find(s, topic, partition);
    if (!e)
        return 0;
    if (e->hold == !!on)
        return 1;
    e->hold = !!on;
    /* Its queue may already hold records, and librdkafka only writes the
     * pipe when a queue turns non-empty: wake the loop to look. */
    if (!on && write(s->pipefd[1], "1", 1) < 0) {
        /* EAGAIN: the pipe is full, so the loop is woken already. */
    }
    return 1;
}

/* Close what open_consumer() opened, without leaving the group (used when
 * opening failed, or to reopen with the classic protocol before any join). */
static void drop_consumer(source_t *s)
{
    pq_close_all(s);
    if (s->q) {
        rd_kafka_queue_io_event_enable(s->q, -1, NULL, 0);
        rd_kafka_queue_destroy(s->q);
        s->q = NULL;
    }
    if (s->rk)
        rd_kafka_destroy_flags(s->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    s->rk = NULL;
    for (int i = 0; i < 2; i++) {
        if (s->pipefd[i] >= 0)
            close(s->pipefd[i]);
        s->pipefd[i] = -1;
    }
}

/* Create the consumer, its wake-up pipe and the subscription. */
static int open_consumer(source_t *s, int force_classic, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *instance = NULL, *protocol = "";
    char rderr[512];

    kconf_set_logger(conf);
    rd_kafka_conf_set_opaque(conf, s);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    if (configure(conf, s, force_classic, &instance, &protocol, errstr, errstr_size)) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof(rderr));
    if (!s->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "kafka consumer: %s", rderr);
        return -1;
    }
    rd_kafka_poll_set_consumer(s->rk);
    size_t psz = sizeof(s->protocol);
    if (rd_kafka_conf_get(rd_kafka_conf(s->rk), "group.protocol", s->protocol, &psz) !=
        RD_KAFKA_CONF_OK)
        snprintf(s->protocol, sizeof(s->protocol), "classic");
    if (wake_on_records(s, errstr, errstr_size) || subscribe(s, s->cfg, errstr, errstr_size)) {
        drop_consumer(s);
        return -1;
    }
    LOG_INFO("SRC-0001", "subscribed", LKV_S("group", s->cfg->kafka.group_id),
             LKV_U("topics", s->cfg->kafka.topics_count),
             LKV_S("instance", instance && *instance ? instance : "-"),
             LKV_S("group_protocol", s->protocol), LKV_S("why", protocol));
    return 0;
}

int source_check_config(const config_t *cfg, int whole, char *errstr, size_t errstr_size)
{
    source_t s = {.cfg = cfg};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *instance = NULL, *protocol = "";
    char rderr[512];
    rd_kafka_t *rk;

    /* No log callback: librdkafka logs nothing. No brokers: it connects to
     * nothing; rd_kafka_new() still runs its whole check of the settings. */
    rd_kafka_conf_set_log_cb(conf, NULL);
    if (configure(conf, &s, 0, &instance, &protocol, errstr, errstr_size) ||
        kconf_set(conf, "bootstrap.servers", "", "check", errstr, errstr_size)) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    if (!whole) {
        rd_kafka_conf_destroy(conf);
        return 0;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof(rderr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "kafka consumer: %s", rderr);
        return -1;
    }
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return 0;
}

int source_new(const config_t *cfg, const source_hooks_t *hooks, source_t **out, char *errstr,
               size_t errstr_size)
{
    source_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    s->pipefd[0] = s->pipefd[1] = -1;
    s->cfg = cfg;
    s->hooks = *hooks;
    if (open_consumer(s, 0, errstr, errstr_size) != 0) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int source_fd(const source_t *s)
{
    return s->pipefd[0];
}

/* ---- records ------------------------------------------------------------------ */

static void view(const rd_kafka_message_t *m, route_event_t *ev, route_header_t *hdrs, size_t cap)
{
    rd_kafka_headers_t *h = NULL;
    rd_kafka_timestamp_type_t tstype;
    size_t n = 0;

    ev->topic = rd_kafka_topic_name(m->rkt);
    ev->partition = m->partition;
    ev->offset = m->offset;
    ev->timestamp_ms = rd_kafka_message_timestamp(m, &tstype);
    ev->key = m->key;
    ev->key_len = m->key_len;
    ev->value = m->payload;
    ev->value_len = m->len;
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h) {
        const char *name;
        const void *val;
        size_t sz;
        while (n < cap &&
               rd_kafka_header_get_all(h, n, &name, &val, &sz) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            hdrs[n].name = name;
            hdrs[n].value = val;
            hdrs[n].value_len = val ? sz : 0;
            n++;
        }
    }
    ev->headers = hdrs;
    ev->header_count = n;
}

/* A consumer error in place of a record: log it; a fatal one is kept for
 * source_fatal(). Partition EOF is not an error. */
static void consumer_error(rd_kafka_message_t *m)
{
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        LOG_WARN("SRC-0101", "consumer error",
                 LKV_S("topic", m->rkt ? rd_kafka_topic_name(m->rkt) : "-"),
                 LKV_S("error", rd_kafka_message_errstr(m)));
    rd_kafka_message_destroy(m);
}

/* The consumer queue: rebalances (served here, as callbacks), errors, and
 * the records of a partition that has no queue of its own. */
static rd_kafka_message_t *poll_consumer(source_t *s)
{
    rd_kafka_message_t *m;
    s->cq_skip = 0;
    while ((m = rd_kafka_consumer_poll(s->rk, 0)) && m->err)
        consumer_error(m);
    return m;
}

/* The next record of the partitions not held, PART_BURST from one before
 * the next one's turn. */
static rd_kafka_message_t *poll_parts(source_t *s)
{
    for (size_t k = 0; k <= s->npq && s->npq; k++) {
        if (s->burst >= PART_BURST || k > 0) {
            s->cur = (s->cur + 1) % s->npq;
            s->burst = 0;
        }
        part_q_t *e = &s->pq[s->cur];
        if (e->hold)
            continue;
        rd_kafka_message_t *m;
        while ((m = rd_kafka_consume_queue(e->q, 0)) && m->err)
            consumer_error(m);
        if (m) {
            s->burst++;
            return m;
        }
    }
    return NULL;
}

static rd_kafka_message_t *poll_all(source_t *s)
{
    rd_kafka_message_t *m = NULL;
    if (++s->cq_skip >= CQ_EVERY || !s->npq)
        m = poll_consumer(s);
    if (!m)
        m = poll_parts(s);
    if (!m && s->cq_skip)
        m = poll_consumer(s);
    return m;
}

source_record_t *source_next(source_t *s, route_event_t *ev, route_header_t *hdrs, size_t cap)
{
    char buf[64];
    if (!s->rk)
        return NULL;
    rd_kafka_message_t *m = poll_all(s);
    if (!m) {
        /* Empty: drain the wake-up pipe, then look once more. A record
         * queued after that last look writes the pipe again, so the router
         * never sleeps on a non-empty queue; and the pipe costs a read() per
         * empty poll, not one per record. */
        while (read(s->pipefd[0], buf, sizeof(buf)) > 0)
            ;
        m = poll_all(s);
    }
    if (m)
        view(m, ev, hdrs, cap);
    return m;
}

void source_record_free(source_record_t *m)
{
    if (m)
        rd_kafka_message_destroy(m);
}

/* natsmsg's header accessor over a librdkafka header list. */
static int header_at(void *ctx, size_t i, route_header_t *out)
{
    return rd_kafka_header_get_all(ctx, i, &out->name, &out->value, &out->value_len) !=
           RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* has_headers: for a record without headers, rd_kafka_message_headers()
 * still allocates and frees a parse buffer on every call. */
void source_message_input(const source_record_t *m, int has_headers, natsmsg_input_t *in)
{
    rd_kafka_headers_t *h = NULL;
    rd_kafka_timestamp_type_t tstype;

    in->payload = m->payload;
    in->payload_len = m->len;
    in->topic = rd_kafka_topic_name(m->rkt);
    in->partition = m->partition;
    in->offset = m->offset;
    in->timestamp_ms = rd_kafka_message_timestamp(m, &tstype);
    in->key = m->key;
    in->key_len = m->key_len;
    in->header_at = NULL;
    in->header_ctx = NULL;
    if (has_headers && rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h) {
        in->header_at = header_at;
        in->header_ctx = h;
    }
}

/*
 * Brokers older than Kafka 4.0 do not speak the consumer group protocol:
 * the first heartbeat fails for good (UNSUPPORTED_VERSION). When the
 * protocol was the router's default and no partition was ever assigned
 * (so nothing was read or is owed a commit), open the consumer again with
 * the classic protocol and cooperative-sticky instead of stopping.
 */
static int fall_back_to_classic(source_t *s, rd_kafka_resp_err_t err, const char *why)
{
    char errstr[512];
    if (!s->defaulted || s->assigned_ever ||
        (err != RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION &&
         err != RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE))
        return -1;
    LOG_WARN("SRC-0011",
             "the brokers do not support the consumer group protocol (KIP-848, Kafka 4.0+); "
             "joining with the classic protocol and cooperative-sticky instead",
             LKV_S("error", why));
    drop_consumer(s);
    s->force_classic = 1;
    if (open_consumer(s, 1, errstr, sizeof(errstr)) == 0)
        return 0;
    LOG_ERROR("SRC-0012", "reopening the consumer with the classic protocol failed",
              LKV_S("error", errstr));
    return -1;
}

/*
 * A static member (group.instance.id) that died without leaving the group
 * (kill -9, OOM kill, lost node) still holds its instance id until its
 * session times out. With the consumer protocol the broker refuses a new
 * member with that id meanwhile (UNRELEASED_INSTANCE_ID), a fatal error in
 * librdkafka. Before this process was ever assigned anything (nothing
 * read, nothing owed a commit), drop the consumer and join again every
 * REJOIN_NS, instead of exiting into a crash loop whose back-off would
 * outlast the session. A member that had joined and is refused stays fatal.
 */
#define REJOIN_NS 2000000000LL
static int wait_for_instance_id(source_t *s, rd_kafka_resp_err_t err, const char *why)
{
    if (err != RD_KAFKA_RESP_ERR_UNRELEASED_INSTANCE_ID || s->assigned_ever)
        return -1;
    if (s->rejoins++ % 15 == 0) /* the first time, then every 30 s */
        LOG_WARN("SRC-0013",
                 "group.instance.id is still held by a member that did not leave (killed?); "
                 "joining again every 2 s until its session times out",
                 LKV_U("attempt", s->rejoins), LKV_S("error", why));
    drop_consumer(s);
    s->rejoin_at_ns = monotime_ns() + REJOIN_NS;
    return 0;
}

const char *source_group_protocol(const source_t *s)
{
    return s->protocol;
}

int source_waiting_for_instance_id(const source_t *s)
{
    return s->rejoins > 0 && !s->assigned_ever;
}

int source_fatal(source_t *s, char *why, size_t why_size)
{
    if (s->rejoin_at_ns) {
        if (monotime_ns() < s->rejoin_at_ns)
            return 0;
        s->rejoin_at_ns = 0;
        if (open_consumer(s, s->force_classic, why, why_size) == 0)
            return 0;
        LOG_ERROR("SRC-0012", "reopening the consumer failed", LKV_S("error", why));
    }
    if (!s->rk) {
        snprintf(why, why_size, "the consumer could not be reopened (SRC-0012)");
        return 1;
    }
    rd_kafka_resp_err_t err = rd_kafka_fatal_error(s->rk, why, why_size);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    if (wait_for_instance_id(s, err, why) == 0)
        return 0;
    return fall_back_to_classic(s, err, why) == 0 ? 0 : 1;
}

/* ---- partitions --------------------------------------------------------------- */

/* The offset and its metadata (the list frees the copy). */
static void set_offset(rd_kafka_topic_partition_t *e, const source_tp_t *tp)
{
    size_t len = strnlen(tp->metadata, sizeof(tp->metadata));
    e->offset = tp->offset;
    if (len && (e->metadata = malloc(len)) != NULL) {
        memcpy(e->metadata, tp->metadata, len);
        e->metadata_size = len;
    }
}

static rd_kafka_topic_partition_list_t *tp_list(const source_tp_t *tps, size_t n, int offsets)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_topic_partition_t *e =
            rd_kafka_topic_partition_list_add(l, tps[i].topic, tps[i].partition);
        if (offsets)
            set_offset(e, &tps[i]);
    }
    return l;
}

void source_pause(source_t *s, const source_tp_t *tps, size_t n, int on)
{
    if (!s->rk)
        return; /* the reopen failed (SRC-0012): stopping */
    if (!n)
        return;
    rd_kafka_topic_partition_list_t *l = tp_list(tps, n, 0);
    if (on)
        rd_kafka_pause_partitions(s->rk, l);
    else
        rd_kafka_resume_partitions(s->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

void source_pause_all(source_t *s)
{
    if (!s->rk)
        return; /* the reopen failed (SRC-0012): stopping */
    rd_kafka_topic_partition_list_t *all = NULL;
    if (rd_kafka_assignment(s->rk, &all) == RD_KAFKA_RESP_ERR_NO_ERROR && all)
        rd_kafka_pause_partitions(s->rk, all);
    if (all)
        rd_kafka_topic_partition_list_destroy(all);
}

void source_rewind(source_t *s, const char *topic, int32_t partition, int64_t offset)
{
    if (!s->rk)
        return; /* the reopen failed (SRC-0012): stopping */
    source_tp_t tp = {topic, partition, offset, ""};
    rd_kafka_topic_partition_list_t *l = tp_list(&tp, 1, 1);
    rd_kafka_pause_partitions(s->rk, l);
    rd_kafka_error_t *e = rd_kafka_seek_partitions(s->rk, l, 2000);
    if (e) {
        LOG_ERROR("RTR-0103", "seek back after a full window failed",
                  LKV_S("error", rd_kafka_error_string(e)));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

void source_store(source_t *s, const source_tp_t *tps, size_t n)
{
    if (!s->rk)
        return; /* the reopen failed (SRC-0012): stopping */
    if (!n)
        return;
    rd_kafka_topic_partition_list_t *l = tp_list(tps, n, 1);
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(s->rk, l);
    if (err)
        LOG_WARN("OFF-0101", "storing offsets failed (partition no longer assigned?)",
                 LKV_S("error", rd_kafka_err2name(err)));
    rd_kafka_topic_partition_list_destroy(l);
}

int source_committed(source_t *s, const char *topic, int32_t partition, int timeout_ms,
                     int64_t *offset, char *meta, size_t meta_size)
{
    int rc = -1;
    meta[0] = '\0';
    if (!s->rk)
        return -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_add(l, topic, partition);
    if (!rd_kafka_committed(s->rk, l, timeout_ms) && !e->err) {
        *offset = e->offset >= 0 ? e->offset : -1;
        if (e->metadata && e->metadata_size < meta_size) {
            memcpy(meta, e->metadata, e->metadata_size);
            meta[e->metadata_size] = '\0';
        }
        rc = 0;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Commit \p l (NULL: what was stored) and wait at most timeout_ms: a
 * synchronous commit waits as long as librdkafka retries, e.g. with the
 * brokers gone. RD_KAFKA_RESP_ERR__TIMED_OUT when the wait ran out. */
static rd_kafka_resp_err_t commit_wait(source_t *s, const rd_kafka_topic_partition_list_t *l,
                                       int timeout_ms)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(s->rk);
    rd_kafka_resp_err_t cerr = rd_kafka_commit_queue(s->rk, l, q, NULL, NULL);
    if (!cerr) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
        if (!ev) {
            cerr = RD_KAFKA_RESP_ERR__TIMED_OUT;
        } else {
            cerr = rd_kafka_event_error(ev);
            if (!cerr && l) { /* the per-partition results */
                const rd_kafka_topic_partition_list_t *done =
                    rd_kafka_event_topic_partition_list(ev);
                for (int i = 0; done && i < done->cnt && !cerr; i++)
                    cerr = done->elems[i].err;
            }
            rd_kafka_event_destroy(ev);
        }
    }
    rd_kafka_queue_destroy(q);
    return cerr;
}

void source_commit(source_t *s, int timeout_ms)
{
    if (!s->rk)
        return; /* the reopen failed (SRC-0012): stopping */
    rd_kafka_resp_err_t cerr = commit_wait(s, NULL, timeout_ms);
    if (cerr == RD_KAFKA_RESP_ERR__TIMED_OUT)
        LOG_WARN("OFF-0104", "final commit did not finish before the shutdown deadline",
                 LKV_I("waited_ms", timeout_ms));
    else if (cerr && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
        LOG_WARN("OFF-0103", "final commit failed", LKV_S("error", rd_kafka_err2name(cerr)));
}

int source_commit_offsets(source_t *s, const source_tp_t *tps, size_t n, int timeout_ms, char *err,
                          size_t err_size)
{
    if (!s->rk) {
        snprintf(err, err_size, "no consumer");
        return -1;
    }
    rd_kafka_topic_partition_list_t *l = tp_list(tps, n, 1);
    rd_kafka_resp_err_t cerr = commit_wait(s, l, timeout_ms);
    rd_kafka_topic_partition_list_destroy(l);
    if (cerr)
        snprintf(err, err_size, "%s", rd_kafka_err2name(cerr));
    return cerr ? -1 : 0;
}

int source_watermarks(source_t *s, const char *topic, int32_t partition, int64_t *lo, int64_t *hi)
{
    if (!s->rk)
        return -1; /* dropped, rejoining (SRC-0013) */
    return rd_kafka_get_watermark_offsets(s->rk, topic, partition, lo, hi) ==
                   RD_KAFKA_RESP_ERR_NO_ERROR
               ? 0
               : -1;
}

/* ---- rebalance (served from source_next and source_close) ---------------------- */

static source_tp_t *tps_of(const rd_kafka_topic_partition_list_t *parts)
{
    source_tp_t *tps = calloc(parts->cnt ? (size_t)parts->cnt : 1, sizeof(*tps));
    for (int i = 0; tps && i < parts->cnt; i++)
        tps[i] = (source_tp_t){parts->elems[i].topic, parts->elems[i].partition, -1, ""};
    return tps;
}

/* Incremental protocols (KIP-848's consumer protocol, cooperative-sticky)
 * hand over only the partitions that change owner; the eager one takes
 * everything away on every rebalance and gives a whole new assignment. */
static int incremental(source_t *s)
{
    return !strcmp(rd_kafka_rebalance_protocol(s->rk), "COOPERATIVE");
}

/* Add \p parts to the assignment, or take them away. */
static void change_assignment(source_t *s, rd_kafka_topic_partition_list_t *parts, int add)
{
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    const char *why = NULL;

    if (incremental(s))
        e = add ? rd_kafka_incremental_assign(s->rk, parts)
                : rd_kafka_incremental_unassign(s->rk, parts);
    else
        err = rd_kafka_assign(s->rk, add ? parts : NULL);
    if (e)
        why = rd_kafka_error_string(e);
    else if (err)
        why = rd_kafka_err2str(err);
    if (why)
        LOG_ERROR("SRC-0010", "changing the assignment failed", LKV_B("add", add),
                  LKV_I("partitions", parts ? parts->cnt : 0), LKV_S("error", why));
    if (e)
        rd_kafka_error_destroy(e);
}

static void assign(source_t *s, rd_kafka_topic_partition_list_t *parts)
{
    s->assigned_ever |= parts->cnt > 0;
    for (int i = 0; i < parts->cnt; i++) {
        LOG_INFO("SRC-0002", "partition assigned", LKV_S("topic", parts->elems[i].topic),
                 LKV_I("partition", parts->elems[i].partition),
                 LKV_B("incremental", incremental(s)));
        s->hooks.assigned(s->hooks.ctx, parts->elems[i].topic, parts->elems[i].partition);
        pq_open(s, parts->elems[i].topic, parts->elems[i].partition);
    }
    change_assignment(s, parts, 1);
    s->hooks.joined(s->hooks.ctx, 1);
    /* librdkafka keeps a partition's pause flag across reassignment. */
    rd_kafka_resume_partitions(s->rk, parts);
}

/* Commit what the hook says is finished, synchronously: once the partitions
 * are given up, the next owner starts from the committed offset. */
static void commit_revoked(source_t *s, const source_tp_t *tps, size_t n)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        if (tps[i].offset >= 0)
            set_offset(rd_kafka_topic_partition_list_add(l, tps[i].topic, tps[i].partition),
                       &tps[i]);
    if (l->cnt > 0) {
        rd_kafka_offsets_store(s->rk, l);
        rd_kafka_resp_err_t cerr = rd_kafka_commit(s->rk, l, 0);
        if (cerr && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
            LOG_WARN("OFF-0102", "commit on revoke failed",
                     LKV_S("error", rd_kafka_err2name(cerr)));
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Another member may own lost partitions by now. librdkafka's auto-commit
 * would still try to commit what was stored (the broker refuses it); an
 * invalid stored offset is never committed. */
static void forget_stored(source_t *s, const rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *none = rd_kafka_topic_partition_list_copy(parts);
    for (int i = 0; i < none->cnt; i++)
        none->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
    rd_kafka_offsets_store(s->rk, none);
    rd_kafka_topic_partition_list_destroy(none);
}

/* lost: 1 when librdkafka says the assignment was lost, 2 after a
 * rebalance error (logged by the caller). */
static void revoke_parts(source_t *s, rd_kafka_topic_partition_list_t *parts, int lost)
{
    source_tp_t *tps = tps_of(parts);
    size_t n = (size_t)parts->cnt;

    if (lost == 1) {
        LOG_WARN("SRC-0004", "assignment lost (session timed out?); releasing without committing",
                 LKV_I("partitions", parts->cnt));
        forget_stored(s, parts);
    }
    if (tps) {
        s->hooks.revoking(s->hooks.ctx, tps, n, lost);
        if (!lost)
            commit_revoked(s, tps, n);
    } else {
        LOG_ERROR("SRC-0009", "out of memory on revoke; releasing without committing",
                  LKV_I("partitions", parts->cnt));
    }
    for (int i = 0; i < parts->cnt; i++)
        s->hooks.released(s->hooks.ctx, parts->elems[i].topic, parts->elems[i].partition);
    free(tps);
    /* An incremental revoke leaves a member of the group (with what it
     * keeps); an eager one, a lost assignment or an error leaves it
     * waiting for a new assignment. */
    if (lost || !incremental(s))
        s->hooks.joined(s->hooks.ctx, 0);
    change_assignment(s, parts, 0);
    for (int i = 0; i < parts->cnt; i++) {
        part_q_t *e = pq_find(s, parts->elems[i].topic, parts->elems[i].partition);
        if (e)
            pq_close(s, e);
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    source_t *s = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        assign(s, parts);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        revoke_parts(s, parts, rd_kafka_assignment_lost(s->rk));
    } else {
        /* The whole assignment goes, as a lost revoke (no commit: who owns
         * the partitions now is unknown), or their records stay in flight
         * for ever and the window never empties. */
        rd_kafka_topic_partition_list_t *all = NULL;
        if (rd_kafka_assignment(s->rk, &all) != RD_KAFKA_RESP_ERR_NO_ERROR || !all)
            all = rd_kafka_topic_partition_list_copy(parts);
        LOG_ERROR("SRC-0006", "rebalance error; dropping the assignment",
                  LKV_S("error", rd_kafka_err2str(err)), LKV_I("partitions", all->cnt));
        revoke_parts(s, all, 2);
        rd_kafka_topic_partition_list_destroy(all);
    }
}

void source_test_rebalance_error(source_t *s)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (!s->rk || rd_kafka_assignment(s->rk, &l) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    on_rebalance(s->rk, RD_KAFKA_RESP_ERR__FAIL, l, s);
    rd_kafka_topic_partition_list_destroy(l);
}

void source_close(source_t *s, int timeout_ms)
{
    if (!s)
        return;
    if (s->rk) {
        if (s->q) {
            rd_kafka_queue_io_event_enable(s->q, -1, NULL, 0);
            rd_kafka_queue_destroy(s->q);
        }
        /* Asynchronous close so that a lost coordinator cannot hold the
         * process forever; the revoke callback is served from this queue. */
        rd_kafka_queue_t *cq = rd_kafka_queue_new(s->rk);
        rd_kafka_error_t *e = rd_kafka_consumer_close_queue(s->rk, cq);
        int flags = 0;
        if (e) {
            LOG_WARN("SRC-0007", "consumer close failed", LKV_S("error", rd_kafka_error_string(e)));
            rd_kafka_error_destroy(e);
        } else {
            /* Wall time, not poll time: the revoke callback served below
             * waits for acks itself, and all of it counts. */
            int64_t until = monotime_ns() + (int64_t)timeout_ms * 1000000;
            while (!rd_kafka_consumer_closed(s->rk) && monotime_ns() < until) {
                /* Events, not callbacks: this queue may also carry records,
                 * which only the event API can hand back (and drop). */
                int64_t left_ms = (until - monotime_ns()) / 1000000;
                rd_kafka_event_t *ev =
                    rd_kafka_queue_poll(cq, left_ms < 100 ? (int)(left_ms > 0 ? left_ms : 0) : 100);
                if (!ev)
                    continue;
                if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
                    on_rebalance(s->rk, rd_kafka_event_error(ev),
                                 rd_kafka_event_topic_partition_list(ev), s);
                rd_kafka_event_destroy(ev);
            }
            if (!rd_kafka_consumer_closed(s->rk)) {
                LOG_WARN("SRC-0008",
                         "leaving the consumer group timed out (brokers unreachable?); "
                         "exiting without it: the broker expires the member",
                         LKV_I("timeout_ms", timeout_ms));
                flags = RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE;
            }
        }
        rd_kafka_queue_destroy(cq);
        pq_close_all(s);
        rd_kafka_destroy_flags(s->rk, flags);
    }
    if (s->pipefd[0] >= 0)
        close(s->pipefd[0]);
    if (s->pipefd[1] >= 0)
        close(s->pipefd[1]);
    free(s);
}
