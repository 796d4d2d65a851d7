/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for router.c's failure paths, without clusters: Kafka is
 * librdkafka's mock cluster (rdkafka_mock.h), NATS a fake server that never
 * acknowledges (unit_fake_nats.h), so every routed event stays in flight.
 * Each test runs a whole router on the test's thread; a watchdog thread
 * acts (and stops the router if the behaviour under test never comes).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "config.h"
#include "metrics.h"
#include "monotime.h"
#include "router.h"
#include "rules.h"
#include "unit_fake_nats.h"
#include "unit_tmp.h"

#define EVENTS 40

static char tmpdir[64];
static fake_nats_t fake;
static rd_kafka_t *mock_rk; /* owns the mock cluster */
static rd_kafka_mock_cluster_t *mock;

static void setup(void)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    unit_tmpdir_make(tmpdir, sizeof(tmpdir), "router");
    fake_nats_start(&fake);
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    ck_assert_msg(mock_rk != NULL, "%s", err);
    mock = rd_kafka_mock_cluster_new(mock_rk, 1);
    ck_assert_ptr_nonnull(mock);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mock, "orders-events", 2, 1), 0);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mock, "orders-dlq", 1, 1), 0);
}

static void teardown(void)
{
    rd_kafka_mock_cluster_destroy(mock);
    rd_kafka_destroy(mock_rk);
    fake_nats_stop(&fake);
    unit_tmpdir_remove(tmpdir);
}

/* Commands the default rules route to JetStream. */
static void produce_commands(int n)
{
    char err[256], id[32];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    ck_assert_int_eq(rd_kafka_conf_set(conf, "bootstrap.servers",
                                       rd_kafka_mock_cluster_bootstraps(mock), err, sizeof(err)),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    ck_assert_msg(p != NULL, "%s", err);
    for (int i = 0; i < n; i++) {
        static char v[] = "{\"aggregateType\":\"incident\",\"aggregateId\":\"i-1\"}";
        snprintf(id, sizeof(id), "e-%d", i);
        ck_assert_int_eq(
            rd_kafka_producev(p, RD_KAFKA_V_TOPIC("orders-events"), RD_KAFKA_V_KEY(id, strlen(id)),
                              RD_KAFKA_V_VALUE(v, sizeof(v) - 1),
                              RD_KAFKA_V_HEADER("eventType", "ReportIncidentRequested", -1),
                              RD_KAFKA_V_HEADER("eventId", id, -1),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
            0);
    }
    ck_assert_int_eq(rd_kafka_flush(p, 10000), 0);
    rd_kafka_destroy(p);
}

static router_t *start_router(config_t **cfgp)
{
    char path[128], yaml[2048], err[1024];
    rules_t *rules = NULL;
    rules_diags_t d = {0};
    router_t *r = NULL;

    snprintf(yaml, sizeof(yaml),
             "kafka:\n  brokers: %s\n  group_id: router-unit\n  topics: [orders-events]\n"
             "nats:\n  servers: [\"%s\"]\n  ack_timeout_ms: 2000\n"
             "rules: %s/rules/default.yaml\n"
             "dlq:\n  topic: orders-dlq\n"
             "limits:\n  shutdown_timeout_ms: 4000\n  drain_timeout_ms: 1000\n"
             "  revoke_timeout_ms: 1000\n"
             "http:\n  listen: \"\"\n",
             rd_kafka_mock_cluster_bootstraps(mock), fake.url, ER_SOURCE_DIR);
    snprintf(path, sizeof(path), "%s/router.yaml", tmpdir);
    unit_write_file(path, yaml);
    ck_assert_msg(config_load_file(path, cfgp, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(rules_load_file((*cfgp)->rules, &rules, &d), 0);
    rules_diags_clear(&d);
    ck_assert_msg(router_new(*cfgp, rules, &r, err, sizeof(err)) == 0, "%s", err);
    return r;
}

static double consumed(void)
{
    return metrics_value(
        metrics_counter("er_events_consumed_total", NULL, "topic=\"orders-events\""));
}

typedef struct watch {
    router_signals_t sig;
    router_t *r;
    int fence_dlq; /* make the DLQ producer fail fatally once the events are read */
} watch_t;

/* Waits until every event was read, acts, then (at the latest after 15 s
 * more) stops the router at once (a second signal: no drain). */
static void *watchdog(void *arg)
{
    watch_t *w = arg;
    int64_t until = monotime_ns() + 30000000000LL;
    while (consumed() < EVENTS && monotime_ns() < until)
        usleep(50000);
    usleep(300000);
    if (w->fence_dlq) {
        rd_kafka_t *dlq = router_test_dlq_handle(w->r);
        ck_assert_ptr_nonnull(dlq);
        rd_kafka_test_fatal_error(dlq, RD_KAFKA_RESP_ERR_PRODUCER_FENCED, "fenced by the test");
        until = monotime_ns() + 15000000000LL;
        while (monotime_ns() < until && !w->sig.stop)
            usleep(50000);
    }
    w->sig.stop = 2;
    return NULL;
}

/* A failed rebalance drops the assignment: its events must leave the
 * in-flight count with it, or the window fills up and reading stops for good. */
START_TEST(rebalance_error_releases_the_partitions_in_flight)
{
    config_t *cfg = NULL;
    watch_t w = {0};
    pthread_t t;

    produce_commands(EVENTS);
    w.r = start_router(&cfg);
    ck_assert_int_eq(pthread_create(&t, NULL, watchdog, &w), 0);
    ck_assert_int_eq(router_run(w.r, &w.sig), 130);
    pthread_join(t, NULL);
    ck_assert_int_eq(consumed(), EVENTS);
    ck_assert_uint_eq(router_inflight(w.r), EVENTS); /* no PubAck ever came */
    router_test_rebalance_error(w.r);
    ck_assert_msg(router_inflight(w.r) == 0, "%u events still in flight after the rebalance error",
                  router_inflight(w.r));
    router_destroy(w.r);
    config_free(cfg);
}
END_TEST

/* A fenced (fatal) DLQ producer never delivers again: the router must stop
 * by itself (exit code 1), as for a fatal consumer error. */
START_TEST(fatal_dlq_producer_error_stops_the_router)
{
    config_t *cfg = NULL;
    watch_t w = {.fence_dlq = 1};
    pthread_t t;

    produce_commands(EVENTS);
    w.r = start_router(&cfg);
    ck_assert_int_eq(pthread_create(&t, NULL, watchdog, &w), 0);
    int rc = router_run(w.r, &w.sig);
    w.sig.stop = 1; /* let the watchdog go */
    pthread_join(t, NULL);
    ck_assert_msg(rc == 1, "router_run returned %d: the fatal DLQ error did not stop it", rc);
    int64_t t0 = monotime_ns();
    router_destroy(w.r);
    ck_assert_int_lt((monotime_ns() - t0) / 1000000, 4000 + 1000);
    config_free(cfg);
}
END_TEST

static Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("failure_paths");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, rebalance_error_releases_the_partitions_in_flight);
    tcase_add_test(tc, fatal_dlq_producer_error_stops_the_router);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed;
    SRunner *sr = srunner_create(router_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
