/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for rmetrics.c: the published and duplicate counters carry
 * the route's critical: flag as a label, one series per route.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "rmetrics.h"

START_TEST(published_events_carry_the_routes_critical_label)
{
    rmetrics_part_t *pm = rmetrics_part_new("officer-events");
    char *text = NULL;
    size_t len = 0;

    ck_assert_ptr_nonnull(pm);
    rmetrics_published(pm, "commands", 1, 0);
    rmetrics_published(pm, "commands", 1, 0);
    rmetrics_published(pm, "commands", 1, 1);
    rmetrics_published(pm, "audit", 0, 0);
    ck_assert_int_eq(metrics_render(&text, &len), 0);
    ck_assert_msg(strstr(text,
                         "er_events_published_total{topic=\"officer-events\",route=\"commands\","
                         "critical=\"true\"} 2\n") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text,
                         "er_events_duplicate_total{topic=\"officer-events\",route=\"commands\","
                         "critical=\"true\"} 1\n") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, "er_events_published_total{topic=\"officer-events\",route=\"audit\","
                               "critical=\"false\"} 1\n") != NULL,
                  "%s", text);
    free(text);
    rmetrics_part_free(pm);
    metrics_shutdown();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rmetrics");
    TCase *tc = tcase_create("labels");
    tcase_add_test(tc, published_events_carry_the_routes_critical_label);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
