/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for metrics.c: exact text exposition for a small registry,
 * idempotent registration, removal and revival, misuse answered with
 * detached series, allocation failures answered with a no-op series (no
 * abort, logged once), label escaping, and lock-free updates from two
 * threads.
 * Each test starts from an empty registry (metrics_shutdown in teardown).
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

static void teardown(void)
{
    metrics_shutdown();
}

static char *render(void)
{
    char *out = NULL;
    size_t len = 0;
    ck_assert_int_eq(metrics_render(&out, &len), 0);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(strlen(out), len);
    return out;
}

START_TEST(render_small_registry_exactly)
{
    static const double b[] = {0.1, 0.5, 1};
    metrics_series_t *c1 =
        metrics_counter("er_events_total", "Events consumed.", "topic=\"b-events\"");
    metrics_series_t *c2 =
        metrics_counter("er_events_total", "Events consumed.", "topic=\"a-events\"");
    metrics_series_t *g = metrics_gauge("er_inflight", "Messages in flight.\nSecond \\ line", "");
    metrics_series_t *h =
        metrics_histogram("er_publish_seconds", "Publish latency.", "stream=\"COMMANDS\"", b, 3);
    metrics_add(c1, 5);
    metrics_add(c2, 2);
    metrics_add(c2, 1);
    metrics_set(g, 7);
    metrics_gauge_add(g, -2.5);
    metrics_observe(h, 0.05);
    metrics_observe(h, 0.1); /* le is inclusive */
    metrics_observe(h, 0.7);
    metrics_observe(h, 3);
    char *out = render();
    ck_assert_str_eq(out, "# HELP er_events_total Events consumed.\n"
                          "# TYPE er_events_total counter\n"
                          "er_events_total{topic=\"a-events\"} 3\n"
                          "er_events_total{topic=\"b-events\"} 5\n"
                          "# HELP er_inflight Messages in flight.\\nSecond \\\\ line\n"
                          "# TYPE er_inflight gauge\n"
                          "er_inflight 4.5\n"
                          "# HELP er_publish_seconds Publish latency.\n"
                          "# TYPE er_publish_seconds histogram\n"
                          "er_publish_seconds_bucket{stream=\"COMMANDS\",le=\"0.1\"} 2\n"
                          "er_publish_seconds_bucket{stream=\"COMMANDS\",le=\"0.5\"} 2\n"
                          "er_publish_seconds_bucket{stream=\"COMMANDS\",le=\"1\"} 3\n"
                          "er_publish_seconds_bucket{stream=\"COMMANDS\",le=\"+Inf\"} 4\n"
                          "er_publish_seconds_sum{stream=\"COMMANDS\"} 3.85\n"
                          "er_publish_seconds_count{stream=\"COMMANDS\"} 4\n");
    free(out);
}
END_TEST

START_TEST(histogram_without_labels_renders_le_only)
{
    static const double b[] = {1};
    metrics_series_t *h = metrics_histogram("h", NULL, NULL, b, 1);
    metrics_observe(h, 2);
    char *out = render();
    ck_assert_str_eq(out, "# HELP h \n# TYPE h histogram\n"
                          "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 1\nh_sum 2\nh_count 1\n");
    free(out);
}
END_TEST

START_TEST(gauge_renders_special_values)
{
    metrics_series_t *g = metrics_gauge("g", "x", "k=\"nan\"");
    metrics_series_t *p = metrics_gauge("g", "x", "k=\"pinf\"");
    metrics_series_t *m = metrics_gauge("g", "x", "k=\"small\"");
    metrics_set(g, NAN);
    metrics_set(p, INFINITY);
    metrics_set(m, 1e-9);
    char *out = render();
    ck_assert_str_eq(out, "# HELP g x\n# TYPE g gauge\n"
                          "g{k=\"nan\"} NaN\ng{k=\"pinf\"} +Inf\ng{k=\"small\"} 1e-09\n");
    free(out);
}
END_TEST

START_TEST(empty_registry_renders_empty_text)
{
    char *out = render();
    ck_assert_str_eq(out, "");
    free(out);
}
END_TEST

START_TEST(registration_is_idempotent)
{
    metrics_series_t *a = metrics_counter("c_total", "h", "x=\"1\"");
    metrics_series_t *b = metrics_counter("c_total", "other help", "x=\"1\"");
    metrics_series_t *c = metrics_counter("c_total", "h", "x=\"2\"");
    ck_assert_ptr_eq(a, b);
    ck_assert_ptr_ne(a, c);
    metrics_add(a, 1);
    metrics_add(b, 1);
    ck_assert_double_eq(metrics_value(a), 2);
}
END_TEST

START_TEST(removed_series_is_hidden_but_handle_works_and_revives)
{
    metrics_series_t *lag = metrics_gauge("er_lag", "Lag.", "partition=\"0\"");
    metrics_series_t *other = metrics_gauge("er_lag", "Lag.", "partition=\"1\"");
    metrics_set(lag, 10);
    metrics_set(other, 1);
    metrics_remove("er_lag", "partition=\"0\"");
    metrics_set(lag, 11); /* must not crash, must not show */
    ck_assert_double_eq(metrics_value(lag), 11);
    char *out = render();
    ck_assert_str_eq(out, "# HELP er_lag Lag.\n# TYPE er_lag gauge\ner_lag{partition=\"1\"} 1\n");
    free(out);

    metrics_remove("er_lag", "partition=\"1\"");
    out = render();
    ck_assert_str_eq(out, ""); /* no HELP/TYPE for a family with nothing to show */
    free(out);

    /* Re-assigned partition: same handle, visible again, gauge restarts at 0. */
    ck_assert_ptr_eq(metrics_gauge("er_lag", "Lag.", "partition=\"0\""), lag);
    out = render();
    ck_assert_str_eq(out, "# HELP er_lag Lag.\n# TYPE er_lag gauge\ner_lag{partition=\"0\"} 0\n");
    free(out);
}
END_TEST

START_TEST(conflicting_or_invalid_registration_is_detached)
{
    metrics_series_t *c = metrics_counter("dup", "h", "");
    metrics_series_t *g = metrics_gauge("dup", "h", ""); /* type clash */
    metrics_series_t *bad = metrics_counter("9bad name", "h", "");
    static const double b1[] = {1, 2}, b2[] = {1, 3}, unsorted[] = {2, 1};
    metrics_series_t *h1 = metrics_histogram("hist", "h", "a=\"1\"", b1, 2);
    metrics_series_t *h2 = metrics_histogram("hist", "h", "a=\"2\"", b2, 2); /* bounds clash */
    metrics_series_t *h3 = metrics_histogram("hist2", "h", "", unsorted, 2);
    ck_assert_ptr_ne(c, g);
    metrics_set(g, 5);      /* usable */
    metrics_add(bad, 1);    /* usable */
    metrics_observe(h2, 1); /* usable */
    metrics_observe(h3, 1); /* usable */
    ck_assert_double_eq(metrics_value(g), 5);
    ck_assert_double_eq(metrics_value(h2), 1);
    metrics_add(c, 1);
    metrics_observe(h1, 1.5);
    char *out = render();
    ck_assert_str_eq(out, "# HELP dup h\n# TYPE dup counter\ndup 1\n"
                          "# HELP hist h\n# TYPE hist histogram\n"
                          "hist_bucket{a=\"1\",le=\"1\"} 0\nhist_bucket{a=\"1\",le=\"2\"} 1\n"
                          "hist_bucket{a=\"1\",le=\"+Inf\"} 1\nhist_sum{a=\"1\"} 1.5\n"
                          "hist_count{a=\"1\"} 1\n");
    free(out);
}
END_TEST

/* Fails the fail_at-th allocation (0-based) of the registry, counting all. */
static long alloc_calls, fail_at = -1;

static void *failing_calloc(size_t n, size_t size)
{
    if (alloc_calls++ == fail_at)
        return NULL;
    return calloc(n, size);
}

START_TEST(failed_allocation_gives_a_working_noop_series_and_is_logged_once)
{
    static const double b[] = {1, 2};
    char path[] = "/tmp/er_test_metrics_XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    long k;

    ck_assert_int_ge(fd, 0);
    unlink(path);
    dup2(fd, STDERR_FILENO); /* log.c writes here */
    metrics_set_calloc_for_tests(failing_calloc);
    for (k = 0;; k++) {
        alloc_calls = 0;
        fail_at = k;
        metrics_series_t *c = metrics_counter("a_total", "h", "x=\"1\"");
        metrics_series_t *g = metrics_gauge("g", "h", "");
        metrics_series_t *h = metrics_histogram("h", "h", "", b, 2);
        long calls = alloc_calls; /* calls <= k: nothing failed this round */
        ck_assert_ptr_nonnull(c);
        ck_assert_ptr_nonnull(g);
        ck_assert_ptr_nonnull(h);
        metrics_add(c, 1);
        metrics_set(g, 2);
        metrics_gauge_add(g, 1);
        metrics_observe(h, 1.5);
        metrics_observe(h, 99);
        metrics_remove("a_total", "x=\"1\"");
        char *out = NULL;
        size_t len;
        fail_at = -1;
        ck_assert_int_eq(metrics_render(&out, &len), 0);
        free(out);
        metrics_shutdown();
        if (calls <= k)
            break; /* every allocation has failed once, in turn */
        ck_assert_int_lt(k, 1000);
    }
    metrics_set_calloc_for_tests(NULL);
    /* The registry works again once memory is back. */
    metrics_add(metrics_counter("after_total", "h", ""), 3);
    char *out = render();
    ck_assert_str_eq(out, "# HELP after_total h\n# TYPE after_total counter\nafter_total 3\n");
    free(out);

    dup2(saved, STDERR_FILENO);
    char logbuf[65536];
    ssize_t n = pread(fd, logbuf, sizeof(logbuf) - 1, 0);
    ck_assert_int_ge(n, 0);
    logbuf[n] = '\0';
    close(fd);
    close(saved);
    char *first = strstr(logbuf, "MET-0002");
    ck_assert_msg(first != NULL, "no MET-0002 in: %s", logbuf);
    ck_assert_msg(strstr(first + 1, "MET-0002") == NULL, "MET-0002 twice: %s", logbuf);
}
END_TEST

START_TEST(updates_of_the_wrong_kind_are_ignored)
{
    metrics_series_t *c = metrics_counter("c_total", "h", "");
    metrics_set(c, 100);
    metrics_gauge_add(c, 1);
    metrics_observe(c, 1);
    metrics_add(NULL, 1);
    ck_assert_double_eq(metrics_value(c), 0);
}
END_TEST

static const struct {
    const char *in;
    size_t len;
    size_t size;
    const char *want;
} esc_cases[] = {
    {"plain", 5, 64, "plain"},
    {"a\\b\"c\nd", 7, 64, "a\\\\b\\\"c\\nd"},
    {"M\xc3\xbcller", 7, 64, "M\xc3\xbcller"},
    {"x\xff"
     "y",
     3, 64, "x\xef\xbf\xbdy"},
    {"\"\"\"", 3, 6, "\\\"\\\""},           /* truncation keeps escapes whole */
    {"\xc3\xbc\xc3\xbc", 4, 4, "\xc3\xbc"}, /* and UTF-8 sequences whole */
    {"abc", 3, 1, ""},
};

START_TEST(label_escape_escapes_and_truncates_on_whole_units)
{
    char buf[64];
    memset(buf, 'Z', sizeof(buf));
    metrics_label_escape(buf, esc_cases[_i].size, esc_cases[_i].in, esc_cases[_i].len);
    ck_assert_str_eq(buf, esc_cases[_i].want);
}
END_TEST

#define ROUNDS 200000

static void *hammer(void *arg)
{
    metrics_series_t **s = arg;
    for (int i = 0; i < ROUNDS; i++) {
        metrics_add(s[0], 1);
        metrics_gauge_add(s[1], 0.5);
        metrics_observe(s[2], (i % 3) * 1.0);
        if ((i & 0x3FFF) == 0) {
            /* Registration and scrapes race with updates too. */
            metrics_counter("er_other_total", "x", "t=\"y\"");
            char *out;
            size_t len;
            if (metrics_render(&out, &len) == 0)
                free(out);
        }
    }
    return NULL;
}

START_TEST(two_threads_incrementing_lose_no_updates)
{
    static const double b[] = {0.5, 1.5};
    metrics_series_t *s[3] = {
        metrics_counter("er_hits_total", "h", ""),
        metrics_gauge("er_level", "h", ""),
        metrics_histogram("er_h", "h", "", b, 2),
    };
    pthread_t t1, t2;
    pthread_create(&t1, NULL, hammer, s);
    pthread_create(&t2, NULL, hammer, s);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    ck_assert_double_eq(metrics_value(s[0]), 2.0 * ROUNDS);
    ck_assert_double_eq(metrics_value(s[1]), ROUNDS); /* 2 * ROUNDS * 0.5, exact in binary */
    ck_assert_double_eq(metrics_value(s[2]), 2.0 * ROUNDS);
}
END_TEST

START_TEST(many_series_survive_table_growth)
{
    char labels[32];
    metrics_series_t *first = metrics_counter("m_total", "h", "i=\"0\"");
    for (int i = 0; i < 1000; i++) {
        snprintf(labels, sizeof(labels), "i=\"%d\"", i);
        metrics_add(metrics_counter("m_total", "h", labels), (uint64_t)i);
    }
    ck_assert_ptr_eq(metrics_counter("m_total", "h", "i=\"0\""), first);
    snprintf(labels, sizeof(labels), "i=\"%d\"", 999);
    ck_assert_double_eq(metrics_value(metrics_counter("m_total", "h", labels)), 999);
    char *out = render();
    ck_assert_ptr_nonnull(strstr(out, "m_total{i=\"500\"} 500\n"));
    free(out);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("registry");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, render_small_registry_exactly);
    tcase_add_test(tc, histogram_without_labels_renders_le_only);
    tcase_add_test(tc, gauge_renders_special_values);
    tcase_add_test(tc, empty_registry_renders_empty_text);
    tcase_add_test(tc, registration_is_idempotent);
    tcase_add_test(tc, removed_series_is_hidden_but_handle_works_and_revives);
    tcase_add_test(tc, conflicting_or_invalid_registration_is_detached);
    tcase_add_test(tc, failed_allocation_gives_a_working_noop_series_and_is_logged_once);
    tcase_add_test(tc, updates_of_the_wrong_kind_are_ignored);
    tcase_add_test(tc, many_series_survive_table_growth);
    tcase_add_loop_test(tc, label_escape_escapes_and_truncates_on_whole_units, 0,
                        (int)(sizeof(esc_cases) / sizeof(esc_cases[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, two_threads_incrementing_lose_no_updates);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
