/* SPDX-License-Identifier: Apache-2.0 */
/*
 * it_clusters_are_real: proves that the local clusters every other
 * integration test relies on behave like the production ones. Kafka takes
 * acks=all idempotent writes to a topic replicated on every broker and
 * gives them back; an R3 JetStream stream keeps acking publishes while one
 * NATS node is SIGKILLed, and the node comes back current. This tests the
 * infrastructure, not event-router. It needs the clusters up and the
 * `deploy/local/cluster env` variables exported; tests/run does both.
 *
 * Against --single clusters (ER_CLUSTER_MODE=single) there is nothing to
 * replicate and no node to kill: the RF3/R3 tests are not run, RF1/R1
 * round trips run in their place, and the program exits 77 when they pass
 * so that ctest reports the test as skipped, not as a proof it did not make.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <librdkafka/rdkafka.h>
#include <nats/nats.h>

#define WAIT_MS 60000

/* State the teardown needs if an assertion leaves a test half way. */
static bool g_nats2_down;
static jsCtx *g_js;
static char g_stream[96];
static char g_topic[96];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *need_env(const char *name)
{
    const char *v = getenv(name);
    ck_assert_msg(v != NULL && *v != '\0',
                  "%s is not set: run through tests/run, or eval \"$(deploy/local/cluster env)\"",
                  name);
    return v;
}

static bool cluster_mode(void)
{
    const char *m = getenv("ER_CLUSTER_MODE");
    return m == NULL || strcmp(m, "single") != 0;
}

/* prefix + pid + wall-clock milliseconds: unique across runs and processes. */
static void unique_name(char *buf, size_t size, const char *prefix)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, size, "%s%ld-%lld", prefix, (long)getpid(),
             (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Runs deploy/local/cluster with ARGS; returns its exit status. */
static int run_cluster(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/deploy/local/cluster' %s", need_env("ER_SOURCE_DIR"), args);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* ---- Kafka ------------------------------------------------------------- */

struct delivery {
    bool done;
    rd_kafka_resp_err_t err;
    int64_t offset;
};

/* Runs on the thread that calls rd_kafka_flush/poll (this one). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct delivery *d = m->_private;
    d->done = true;
    d->err = m->err;
    d->offset = m->offset;
}

/* kv: NULL-terminated key, value, key, value, ... */
static rd_kafka_t *kafka_new(rd_kafka_type_t type, const char *const *kv)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    ck_assert_int_eq(rd_kafka_conf_set(conf, "bootstrap.servers", need_env("ER_KAFKA_BOOTSTRAP"),
                                       errstr, sizeof errstr),
                     RD_KAFKA_CONF_OK);
    for (; kv != NULL && kv[0] != NULL; kv += 2)
        ck_assert_msg(rd_kafka_conf_set(conf, kv[0], kv[1], errstr, sizeof errstr) ==
                          RD_KAFKA_CONF_OK,
                      "%s=%s: %s", kv[0], kv[1], errstr);
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    ck_assert_msg(rk != NULL, "rd_kafka_new: %s", errstr);
    /* conf is now owned by rk */
    return rk;
}

/* Waits for one admin result event of TYPE on Q and checks its own error. */
static rd_kafka_event_t *admin_result(rd_kafka_queue_t *q, rd_kafka_event_type_t type)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, WAIT_MS);
    ck_assert_msg(ev != NULL, "no admin result within %d ms", WAIT_MS);
    ck_assert_int_eq(rd_kafka_event_type(ev), type);
    ck_assert_msg(rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR, "admin request: %s",
                  rd_kafka_event_error_string(ev));
    return ev;
}

static void check_topic_result(const rd_kafka_topic_result_t **res, size_t cnt, const char *what)
{
    ck_assert_uint_eq(cnt, 1);
    ck_assert_msg(rd_kafka_topic_result_error(res[0]) == RD_KAFKA_RESP_ERR_NO_ERROR, "%s %s: %s",
                  what, rd_kafka_topic_result_name(res[0]),
                  rd_kafka_topic_result_error_string(res[0]));
}

static void create_topic(rd_kafka_t *rk, const char *topic, int rf)
{
    char errstr[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, rf, errstr, sizeof errstr);
    ck_assert_msg(nt != NULL, "NewTopic %s: %s", topic, errstr);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 30000, errstr, sizeof errstr);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_event_t *ev = admin_result(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    size_t cnt;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    check_topic_result(res, cnt, "create topic");
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
}

static void delete_topic(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
    rd_kafka_event_t *ev = admin_result(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
    size_t cnt;
    const rd_kafka_topic_result_t **res =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &cnt);
    check_topic_result(res, cnt, "delete topic");
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy(dt);
}

/* Waits until the topic's one partition has a leader, then checks it is
 * really stored on RF brokers, all in sync, and that RF brokers are up. */
static void assert_topic_replicated(rd_kafka_t *rk, const char *topic, int rf)
{
    int64_t deadline = now_ms() + WAIT_MS;
    int replicas = -1, isr = -1, brokers = -1;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    while (now_ms() < deadline) {
        const struct rd_kafka_metadata *md = NULL;
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const struct rd_kafka_metadata_topic *t = &md->topics[0];
            bool ready = md->topic_cnt == 1 && t->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                         t->partition_cnt == 1 && t->partitions[0].leader >= 0;
            if (ready) {
                replicas = t->partitions[0].replica_cnt;
                isr = t->partitions[0].isr_cnt;
                brokers = md->broker_cnt;
            }
            rd_kafka_metadata_destroy(md);
            if (ready && isr == rf)
                break;
        }
        usleep(200 * 1000);
    }
    rd_kafka_topic_destroy(rkt);
    ck_assert_msg(replicas >= 0, "topic %s has no partition leader after %d ms", topic, WAIT_MS);
    ck_assert_int_eq(brokers, rf);
    ck_assert_int_eq(replicas, rf);
    ck_assert_int_eq(isr, rf);
}

/* Exit status ctest reads as "skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt). */
#define EXIT_SKIPPED 77

/* An acks=all idempotent write to a topic of replication factor \p rf, read back. */
static void kafka_acks_all_roundtrip(int rf)
{
    char topic[96], payload[160], group[96];
    unique_name(topic, sizeof topic, "er-it-clusters-");
    unique_name(group, sizeof group, "er-it-clusters-group-");
    snprintf(payload, sizeof payload,
             "{\"eventType\":\"RegisterOfficerRequested\",\"topic\":\"%s\"}", topic);
    char key[] = "officer-42";

    static const char *const producer_conf[] = {
        "acks", "all", "enable.idempotence", "true", "message.timeout.ms", "30000", NULL};
    rd_kafka_t *producer = kafka_new(RD_KAFKA_PRODUCER, producer_conf);
    char acks[16];
    size_t acks_size = sizeof acks;
    ck_assert_int_eq(rd_kafka_conf_get(rd_kafka_conf(producer), "acks", acks, &acks_size),
                     RD_KAFKA_CONF_OK);
    ck_assert_msg(strcmp(acks, "-1") == 0 || strcmp(acks, "all") == 0, "acks is %s", acks);

    create_topic(producer, topic, rf);
    snprintf(g_topic, sizeof g_topic, "%s", topic);
    assert_topic_replicated(producer, topic, rf);

    struct delivery dr = {.done = false, .offset = -1};
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(payload, strlen(payload)),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&dr), RD_KAFKA_V_END);
    ck_assert_msg(err == RD_KAFKA_RESP_ERR_NO_ERROR, "producev: %s", rd_kafka_err2str(err));
    ck_assert_int_eq(rd_kafka_flush(producer, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_msg(dr.done, "no delivery report after flush");
    ck_assert_msg(dr.err == RD_KAFKA_RESP_ERR_NO_ERROR, "delivery: %s", rd_kafka_err2str(dr.err));
    ck_assert_int_ge(dr.offset, 0);

    const char *consumer_conf[] = {"group.id", group, "enable.auto.commit", "false", NULL};
    rd_kafka_t *consumer = kafka_new(RD_KAFKA_CONSUMER, consumer_conf);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = dr.offset;
    ck_assert_int_eq(rd_kafka_assign(consumer, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);

    bool got = false;
    int64_t deadline = now_ms() + WAIT_MS;
    while (!got && now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 500);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            ck_assert_int_eq(m->offset, dr.offset);
            ck_assert_uint_eq(m->key_len, strlen(key));
            ck_assert_int_eq(memcmp(m->key, key, m->key_len), 0);
            ck_assert_uint_eq(m->len, strlen(payload));
            ck_assert_int_eq(memcmp(m->payload, payload, m->len), 0);
            got = true;
        } else {
            fprintf(stderr, "consumer: %s\n", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    ck_assert_msg(got, "message at offset %lld not consumed within %d ms", (long long)dr.offset,
                  WAIT_MS);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);

    delete_topic(producer, topic);
    g_topic[0] = '\0';
    rd_kafka_destroy(producer);
}
END_TEST

/* ---- NATS JetStream ---------------------------------------------------- */

/* Port of the Nth (0-based) URL in a comma-separated list, or DEF. */
static int nth_url_port(const char *list, int n, int def)
{
    if (list == NULL)
        return def;
    const char *p = list;
    for (int i = 0; i < n && p != NULL; i++) {
        p = strchr(p, ',');
        if (p != NULL)
            p++;
    }
    if (p == NULL)
        return def;
    const char *end = strchr(p, ',');
    size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
    char url[128];
    if (len >= sizeof url)
        return def;
    memcpy(url, p, len);
    url[len] = '\0';
    const char *colon = strrchr(url, ':');
    return colon != NULL ? atoi(colon + 1) : def;
}

/* GET http://127.0.0.1:PORT/PATH; true on a 200 answer. */
static bool http_ok(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char buf[256];
    bool ok = false;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        int n = snprintf(buf, sizeof buf, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
        if (write(fd, buf, (size_t)n) == n) {
            ssize_t got = read(fd, buf, sizeof buf - 1);
            if (got > 0) {
                buf[got] = '\0';
                ok = strncmp(buf, "HTTP/1.", 7) == 0 && strncmp(buf + 8, " 200", 4) == 0;
            }
        }
    }
    close(fd);
    return ok;
}

static natsConnection *nats_connect_all(void)
{
    char urls[512];
    snprintf(urls, sizeof urls, "%s", need_env("ER_NATS_URL"));
    const char *servers[8];
    int n = 0;
    for (char *save = NULL, *u = strtok_r(urls, ",", &save); u != NULL && n < 8;
         u = strtok_r(NULL, ",", &save))
        servers[n++] = u;

    natsOptions *opts = NULL;
    ck_assert_int_eq(natsOptions_Create(&opts), NATS_OK);
    ck_assert_int_eq(natsOptions_SetServers(opts, servers, n), NATS_OK);
    ck_assert_int_eq(natsOptions_SetMaxReconnect(opts, -1), NATS_OK);
    ck_assert_int_eq(natsOptions_SetReconnectWait(opts, 200), NATS_OK);
    ck_assert_int_eq(natsOptions_SetTimeout(opts, 5000), NATS_OK);
    natsConnection *nc = NULL;
    natsStatus s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    ck_assert_msg(s == NATS_OK, "connect %s: %s", need_env("ER_NATS_URL"), nats_GetLastError(NULL));
    return nc;
}

/* Publishes with a message id (so a retry cannot store twice), retrying
 * until acked or WAIT_MS; returns the stream sequence of the ack. */
static uint64_t publish_acked(jsCtx *js, const char *stream, const char *subj, const char *id,
                              const char *data)
{
    int64_t deadline = now_ms() + WAIT_MS;
    natsStatus s = NATS_ERR;
    jsErrCode jerr = 0;
    int attempts = 0;
    while (now_ms() < deadline) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = id;
        po.MaxWait = 5000;
        jsPubAck *pa = NULL;
        attempts++;
        s = js_Publish(&pa, js, subj, data, (int)strlen(data), &po, &jerr);
        if (s == NATS_OK) {
            ck_assert_str_eq(pa->Stream, stream);
            uint64_t seq = pa->Sequence;
            jsPubAck_Destroy(pa);
            if (attempts > 1)
                printf("note: %s acked after %d attempts\n", id, attempts);
            return seq;
        }
        nats_Sleep(250);
    }
    ck_abort_msg("publish %s to %s not acked within %d ms: %s (jerr %d)", id, subj, WAIT_MS,
                 natsStatus_GetText(s), (int)jerr);
    return 0;
}

/* Waits until the stream has a leader and PEERS current, online replicas
 * (and, if NAME is given, NAME is the leader or one of them). */
static void wait_stream_current(jsCtx *js, const char *stream, int peers, const char *name)
{
    int64_t deadline = now_ms() + WAIT_MS;
    char last[256] = "no stream info";
    while (now_ms() < deadline) {
        jsStreamInfo *si = NULL;
        jsErrCode jerr = 0;
        natsStatus s = js_GetStreamInfo(&si, js, stream, NULL, &jerr);
        bool ok = false;
        if (s != NATS_OK) {
            snprintf(last, sizeof last, "stream info: %s (jerr %d)", natsStatus_GetText(s),
                     (int)jerr);
        } else if (si->Cluster == NULL || si->Cluster->Leader == NULL) {
            snprintf(last, sizeof last, "no stream leader");
        } else {
            int current = 0;
            bool seen = name == NULL || strcmp(si->Cluster->Leader, name) == 0;
            for (int i = 0; i < si->Cluster->ReplicasLen; i++) {
                jsPeerInfo *p = si->Cluster->Replicas[i];
                if (p->Current && !p->Offline)
                    current++;
                if (name != NULL && strcmp(p->Name, name) == 0 && p->Current && !p->Offline)
                    seen = true;
            }
            snprintf(last, sizeof last, "leader %s, %d of %d replicas current%s",
                     si->Cluster->Leader, current, peers,
                     seen           ? ""
                     : name != NULL ? ", restarted node not current"
                                    : "");
            ok = current == peers && si->Cluster->ReplicasLen == peers && seen;
        }
        jsStreamInfo_Destroy(si);
        if (ok)
            return;
        nats_Sleep(250);
    }
    ck_abort_msg("stream %s not current within %d ms: %s", stream, WAIT_MS, last);
}

static uint64_t stream_msgs(jsCtx *js, const char *stream)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, js, stream, NULL, &jerr);
    ck_assert_msg(s == NATS_OK, "stream info %s: %s", stream, natsStatus_GetText(s));
    uint64_t n = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return n;
}

/* Publishes to a stream of \p replicas; with \p cluster, SIGKILLs nats-2 between
 * the two publishes and waits for it to come back current. */
static void jetstream_publish_across_kill(bool cluster, int replicas)
{
    char stream[96], subj_all[128], subj[128];
    unique_name(stream, sizeof stream, "ER_IT_CLUSTERS_");
    for (char *c = stream; *c; c++)
        if (*c == '-')
            *c = '_';
    snprintf(subj_all, sizeof subj_all, "it.%s.>", stream);
    snprintf(subj, sizeof subj, "it.%s.commands.officer.register", stream);

    natsConnection *nc = nats_connect_all();
    jsCtx *js = NULL;
    ck_assert_int_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);

    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[] = {subj_all};
    cfg.Name = stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = replicas;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    ck_assert_msg(s == NATS_OK, "add stream %s R%d: %s (jerr %d) %s", stream, replicas,
                  natsStatus_GetText(s), (int)jerr, nats_GetLastError(NULL));
    g_js = js;
    snprintf(g_stream, sizeof g_stream, "%s", stream);
    ck_assert_int_eq(si->Config->Replicas, replicas);
    jsStreamInfo_Destroy(si);
    wait_stream_current(js, stream, replicas - 1, NULL);

    ck_assert_uint_eq(publish_acked(js, stream, subj, "m1", "before kill"), 1);

    const int mon2 = nth_url_port(getenv("ER_NATS_MONITOR_URL"), 1, 8223);
    if (cluster) {
        ck_assert_msg(http_ok(mon2, "/healthz"), "nats-2 (monitor port %d) not healthy before kill",
                      mon2);
        ck_assert_int_eq(run_cluster("kill nats-2"), 0);
        g_nats2_down = true;
        ck_assert_msg(!http_ok(mon2, "/healthz"), "nats-2 still answers after kill");
    }

    /* Acked only once a quorum (2 of 3) stored it, with nats-2 gone. */
    ck_assert_uint_eq(publish_acked(js, stream, subj, "m2", "during kill"), 2);

    if (cluster) {
        ck_assert_int_eq(run_cluster("start nats-2"), 0);
        g_nats2_down = false;
        int64_t deadline = now_ms() + WAIT_MS;
        while (!http_ok(mon2, "/healthz") && now_ms() < deadline)
            nats_Sleep(250);
        ck_assert_msg(http_ok(mon2, "/healthz"), "nats-2 not healthy %d ms after restart", WAIT_MS);
        wait_stream_current(js, stream, replicas - 1, "nats-2");
    }

    ck_assert_uint_eq(stream_msgs(js, stream), 2);
    natsMsg *msg = NULL;
    s = js_GetMsg(&msg, js, stream, 2, NULL, &jerr);
    ck_assert_msg(s == NATS_OK, "get msg 2: %s", natsStatus_GetText(s));
    ck_assert_int_eq(natsMsg_GetDataLength(msg), (int)strlen("during kill"));
    ck_assert_int_eq(memcmp(natsMsg_GetData(msg), "during kill", strlen("during kill")), 0);
    natsMsg_Destroy(msg);

    s = js_DeleteStream(js, stream, NULL, &jerr);
    ck_assert_msg(s == NATS_OK, "delete stream %s: %s", stream, natsStatus_GetText(s));
    g_stream[0] = '\0';
    g_js = NULL;
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

START_TEST(kafka_rf3_acks_all_roundtrip)
{
    kafka_acks_all_roundtrip(3);
}
END_TEST

START_TEST(jetstream_r3_survives_one_node_kill)
{
    jetstream_publish_across_kill(true, 3);
}
END_TEST

/* Single mode: what one broker and one NATS node can show. */
START_TEST(kafka_rf1_acks_all_roundtrip_on_one_broker)
{
    kafka_acks_all_roundtrip(1);
}
END_TEST

START_TEST(jetstream_r1_publish_roundtrip_on_one_node)
{
    jetstream_publish_across_kill(false, 1);
}
END_TEST

/* After a failed assertion: bring nats-2 back and drop the stream and the
 * topic, so the shared clusters are left as they were found. */
static void teardown(void)
{
    if (g_topic[0] != '\0') {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "'%s/deploy/local/kafka' topics --delete --topic '%s'",
                 need_env("ER_SOURCE_DIR"), g_topic);
        if (system(cmd) != 0)
            fprintf(stderr, "teardown: could not delete topic %s\n", g_topic);
        g_topic[0] = '\0';
    }
    if (g_nats2_down) {
        fprintf(stderr, "teardown: restarting nats-2\n");
        if (run_cluster("start nats-2") != 0)
            fprintf(stderr, "teardown: 'deploy/local/cluster start nats-2' failed\n");
        g_nats2_down = false;
    }
    if (g_js != NULL && g_stream[0] != '\0') {
        jsErrCode jerr = 0;
        js_DeleteStream(g_js, g_stream, NULL, &jerr);
        g_stream[0] = '\0';
    }
}

static Suite *clusters_suite(void)
{
    Suite *s = suite_create("clusters_are_real");
    TCase *tc = tcase_create("clusters");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, NULL, teardown);
    if (cluster_mode()) {
        tcase_add_test(tc, kafka_rf3_acks_all_roundtrip);
        tcase_add_test(tc, jetstream_r3_survives_one_node_kill);
    } else {
        tcase_add_test(tc, kafka_rf1_acks_all_roundtrip_on_one_broker);
        tcase_add_test(tc, jetstream_r1_publish_roundtrip_on_one_node);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    SRunner *sr = srunner_create(clusters_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nats_Close();
    if (failed)
        return EXIT_FAILURE;
    if (!cluster_mode()) {
        printf("SKIP: kafka_rf3_acks_all_roundtrip, jetstream_r3_survives_one_node_kill: "
               "need the 3+3 node clusters (ER_CLUSTER_MODE=single); only the RF1/R1 round "
               "trips ran\n");
        return EXIT_SKIPPED;
    }
    return EXIT_SUCCESS;
}
