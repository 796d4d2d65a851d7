/* SPDX-License-Identifier: Apache-2.0 */
/*
 * source: the Kafka consumer. It owns the librdkafka handle and its wake-up
 * pipe, applies the user's properties unchanged on top of safe defaults and
 * refuses the few settings that would break the router's offset contract.
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
    source_rebalance_fn *rebalance;
    void *opaque;
    rd_kafka_queue_t *q;
    int pipefd[2];

    /* Prefetch starvation (source_starved_since()). */
    uint64_t bound_bytes, bound_msgs; /* queued.max.messages.kbytes, queued.min.messages */
    uint64_t burst_bytes, burst_msgs; /* read since the queue was last empty */
    int64_t starved_since_ns;
    int hinted;
};

static uint64_t conf_u64(rd_kafka_t *rk, const char *name, uint64_t dflt)
{
    char v[32];
    size_t sz = sizeof(v);
    if (rd_kafka_conf_get(rd_kafka_conf(rk), name, v, &sz) != RD_KAFKA_CONF_OK)
        return dflt;
    return strtoull(v, NULL, 10);
}

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
    sz = sizeof(v);
    if (rd_kafka_conf_get(conf, "partition.assignment.strategy", v, &sz) == RD_KAFKA_CONF_OK &&
        strstr(v, "cooperative")) {
        snprintf(errstr, errstr_size,
                 "kafka.properties: partition.assignment.strategy=%s is not supported: "
                 "librdkafka 2.0.2's cooperative-sticky has known rebalance bugs (upstream "
                 "#4783, #4908); use range or roundrobin (see docs/operations.md)",
                 v);
        return -1;
    }
    return 0;
}

int source_new(const config_t *cfg, source_rebalance_fn *rebalance, void *opaque, source_t **out,
               char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    source_t *s = calloc(1, sizeof(*s));
    rd_kafka_topic_partition_list_t *topics = NULL;
    char rderr[512], num[32];
    const char *instance = cfg->kafka.group_instance_id;
    rd_kafka_resp_err_t err;

    if (!s)
        goto err;
    s->pipefd[0] = s->pipefd[1] = -1;
    s->rebalance = rebalance;
    s->opaque = opaque;
    kconf_set_logger(conf);
    rd_kafka_conf_set_opaque(conf, opaque);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance);
    snprintf(num, sizeof(num), "%u", cfg->limits.commit_interval_ms);
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
        /* Bound prefetch memory; raise it with kafka.properties for throughput. */
        kconf_set(conf, "queued.max.messages.kbytes", "8192", "defaults", errstr, errstr_size) ||
        kconf_apply(conf, cfg->kafka.properties, cfg->kafka.properties_count, "kafka.properties",
                    errstr, errstr_size))
        goto err;
    if (!instance && cfg->kafka.group_instance_id_env)
        instance = getenv(cfg->kafka.group_instance_id_env);
    if (instance && *instance &&
        kconf_set(conf, "group.instance.id", instance, "kafka.group_instance_id", errstr,
                  errstr_size))
        goto err;
    if (check_forbidden(conf, errstr, errstr_size))
        goto err;
    kconf_check_scram(conf);

    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof(rderr));
    if (!s->rk) {
        snprintf(errstr, errstr_size, "kafka consumer: %s", rderr);
        goto err;
    }
    conf = NULL; /* now owned by s->rk */
    rd_kafka_poll_set_consumer(s->rk);
    s->bound_bytes = conf_u64(s->rk, "queued.max.messages.kbytes", 65536) * 1024;
    s->bound_msgs = conf_u64(s->rk, "queued.min.messages", 100000);

    if (pipe2(s->pipefd, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(errstr, errstr_size, "pipe: %s", strerror(errno));
        goto err;
    }
    s->q = rd_kafka_queue_get_consumer(s->rk);
    rd_kafka_queue_io_event_enable(s->q, s->pipefd[1], "1", 1);

    topics = rd_kafka_topic_partition_list_new((int)cfg->kafka.topics_count);
    for (unsigned i = 0; i < cfg->kafka.topics_count; i++)
        rd_kafka_topic_partition_list_add(topics, cfg->kafka.topics[i], RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(s->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        snprintf(errstr, errstr_size, "kafka.topics: subscribe failed: %s", rd_kafka_err2str(err));
        goto err;
    }
    LOG_INFO("SRC-0001", "subscribed", LKV_S("group", cfg->kafka.group_id),
             LKV_U("topics", cfg->kafka.topics_count),
             LKV_S("instance", instance && *instance ? instance : "-"));
    *out = s;
    return 0;
err:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (s && !s->rk) {
        free(s);
        s = NULL;
    }
    source_close(s, 0);
    return -1;
}

rd_kafka_t *source_rk(source_t *s)
{
    return s->rk;
}

int source_fd(const source_t *s)
{
    return s->pipefd[0];
}

static rd_kafka_message_t *counted(source_t *s, rd_kafka_message_t *m)
{
    s->burst_bytes += m->len + m->key_len;
    s->burst_msgs++;
    s->starved_since_ns = 0;
    return m;
}

rd_kafka_message_t *source_next(source_t *s)
{
    char buf[64];
    rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, 0);
    if (m)
        return counted(s, m);
    /* Empty: drain the wake-up pipe, then look once more. A record queued
     * after that last look writes the pipe again, so the router never sleeps
     * on a non-empty queue; and the pipe costs a read() per empty poll, not
     * one per record. */
    while (read(s->pipefd[0], buf, sizeof(buf)) > 0)
        ;
    if ((m = rd_kafka_consumer_poll(s->rk, 0)))
        return counted(s, m);
    /* A burst of half the prefetch bound means the queue reached the bound
     * (librdkafka fetches in bursts of up to fetch.max.bytes), so librdkafka
     * stopped fetching; see source_starved_since(). */
    if ((s->burst_bytes && s->burst_bytes >= s->bound_bytes / 2) ||
        (s->burst_msgs && s->burst_msgs >= s->bound_msgs / 2) || s->hinted) {
        if (!s->starved_since_ns)
            s->starved_since_ns = monotime_ns();
    }
    s->burst_bytes = s->burst_msgs = 0;
    s->hinted = 0;
    return NULL;
}

int64_t source_starved_since(const source_t *s)
{
    return s->starved_since_ns;
}

void source_resumed(source_t *s)
{
    s->hinted = 1;
}

int source_refetch(source_t *s, rd_kafka_topic_partition_list_t *at)
{
    s->starved_since_ns = 0;
    if (!at || at->cnt == 0)
        return 0;
    /* Asynchronous (timeout 0). The seek bumps the partition's fetch version
     * and wakes its broker thread, which then finds the queue empty and
     * fetches for every partition it leads. Records of the old version still
     * in flight are dropped by librdkafka; the router ignores any it already
     * read (offsets at or below its last are skipped). */
    rd_kafka_error_t *e = rd_kafka_seek_partitions(s->rk, at, 0);
    int rc = 0;
    if (e) {
        LOG_DEBUG("SRC-0104", "restarting the fetch failed",
                  LKV_S("error", rd_kafka_error_string(e)));
        rd_kafka_error_destroy(e);
        rc = -1;
    }
    return rc;
}

void source_event(const rd_kafka_message_t *m, route_event_t *ev, route_header_t *hdrs, size_t cap)
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
                    s->rebalance(s->rk, rd_kafka_event_error(ev),
                                 rd_kafka_event_topic_partition_list(ev), s->opaque);
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
        rd_kafka_destroy_flags(s->rk, flags);
    }
    if (s->pipefd[0] >= 0)
        close(s->pipefd[0]);
    if (s->pipefd[1] >= 0)
        close(s->pipefd[1]);
    free(s);
}
