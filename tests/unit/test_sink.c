/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for sink.c that need no NATS server: the PubAck completion
 * queue. The sink talks to a fake server (unit_fake_nats.h) that completes the
 * NATS handshake and answers PINGs but never acknowledges a JetStream
 * publish, so cnats fails every asynchronous publish with a timeout after
 * nats.ack_timeout_ms; each of those failures must come back to the router
 * as a completion, even when memory runs out meanwhile.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monotime.h"
#include "sink.h"
#include "unit_fake_nats.h"

#define WINDOW 64

static fake_nats_t fake;
static char *servers[] = {fake.url};

static void offline_config(config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->nats.servers = servers;
    cfg->nats.servers_count = 1;
    cfg->nats.ack_timeout_ms = 200;
    cfg->nats.max_reconnects = -1;
    cfg->nats.reconnect_wait_ms = 100;
    cfg->nats.reconnect_buffer_bytes = 8 << 20;
    cfg->limits.max_inflight_per_partition = WINDOW;
    cfg->limits.max_inflight_total = WINDOW;
}

/* Fill the in-flight window, make every allocation of the sink fail, and
 * expect one completion per publish: a dropped one leaves its event
 * "publishing" for ever and its pointer stale in the router's map. */
START_TEST(every_completion_of_a_full_window_is_delivered_without_memory)
{
    config_t cfg;
    sink_t *s = NULL;
    char err[512];
    natsMsg *sent[WINDOW];
    int seen[WINDOW] = {0};
    size_t got = 0;

    fake_nats_start(&fake);
    offline_config(&cfg);
    ck_assert_msg(sink_new(&cfg, &s, err, sizeof(err)) == 0, "%s", err);
    for (int i = 0; i < WINDOW; i++) {
        char id[32];
        natsMsg *m = NULL;
        snprintf(id, sizeof(id), "id-%d", i);
        ck_assert_int_eq(natsMsg_Create(&m, "events.test", NULL, "x", 1), NATS_OK);
        sent[i] = m;
        ck_assert_int_eq(sink_publish(s, &m, id), 0);
    }
    sink_test_fail_allocations(1);
    int64_t deadline = monotime_ns() + 20000000000LL;
    while (got < WINDOW && monotime_ns() < deadline) {
        sink_completion_t c[16];
        struct pollfd pfd = {.fd = sink_fd(s), .events = POLLIN};
        poll(&pfd, 1, 100);
        size_t n = sink_drain(s, c, 16);
        for (size_t i = 0; i < n; i++) {
            int k = 0;
            while (k < WINDOW && sent[k] != c[i].msg)
                k++;
            ck_assert_msg(k < WINDOW, "completion for a message never sent");
            ck_assert_msg(!seen[k], "message %d completed twice", k);
            ck_assert_int_eq(c[i].outcome, SINK_TRANSIENT);
            seen[k] = 1;
            natsMsg_Destroy(c[i].msg);
        }
        got += n;
    }
    sink_test_fail_allocations(0);
    ck_assert_msg(got == WINDOW, "%zu of %d completions delivered", got, WINDOW);
    sink_destroy(s, 5000);
    fake_nats_stop(&fake);
}
END_TEST

/* A PubAck handler still running when sink_destroy() is called must not
 * find the sink freed under it (ASan reports the use after free; without
 * ASan the late write lands in freed memory). */
START_TEST(destroy_waits_for_a_pub_ack_handler_still_running)
{
    config_t cfg;
    sink_t *s = NULL;
    char err[512];
    natsMsg *m = NULL;

    fake_nats_start(&fake);
    offline_config(&cfg);
    cfg.nats.ack_timeout_ms = 100;
    ck_assert_msg(sink_new(&cfg, &s, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(natsMsg_Create(&m, "events.test", NULL, "x", 1), NATS_OK);
    ck_assert_int_eq(sink_publish(s, &m, "id-late"), 0);
    sink_test_delay_acks(1500);
    usleep(400000); /* the timeout fired: the handler sleeps inside cnats's thread */
    int64_t t0 = monotime_ns();
    sink_destroy(s, 5000);
    int64_t waited_ms = (monotime_ns() - t0) / 1000000;
    /* The handler started sleeping at about 100 ms and wakes at about
     * 1600 ms: a destroy that waited for it took about 1.2 s; one that did
     * not returned in milliseconds. */
    ck_assert_msg(waited_ms >= 500, "sink_destroy returned after %lld ms, before the handler",
                  (long long)waited_ms);
    usleep(2000000); /* let a handler that outlived the sink run */
    sink_test_delay_acks(0);
    fake_nats_stop(&fake);
}
END_TEST

static Suite *sink_suite(void)
{
    Suite *s = suite_create("sink");
    TCase *tc = tcase_create("completions");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_completion_of_a_full_window_is_delivered_without_memory);
    tcase_add_test(tc, destroy_waits_for_a_pub_ack_handler_still_running);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed;
    SRunner *sr = srunner_create(sink_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
