/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for diag.c, the one YAML diagnostics reporter of config.c and
 * rules.c: the file:line:col line, the hint in parentheses, warnings, a
 * position-less line, clearing, and the "did you mean" suggester's reach
 * (swapped neighbours cost one edit; short words get one edit, not two).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(line_is_file_line_col_severity_message_hint)
{
    diags_t d = {0};
    char buf[256];

    ck_assert_int_eq(diags_add(&d, "router.yaml", 2, 3, 0, "did you mean 'brokers'?",
                               "unknown key '%s' in '%s'", "brokerz", "kafka"),
                     0);
    ck_assert_int_eq(diags_add(&d, "r.yaml", 14, 5, 1, NULL, "bad"), 0);
    ck_assert_int_eq(diags_add(&d, "r.yaml", 0, 0, 0, "", "cannot open: %s", "No such file"), 0);
    ck_assert_uint_eq(d.count, 3);
    ck_assert_str_eq(diag_format(&d.items[0], buf, sizeof(buf)),
                     "router.yaml:2:3: error: unknown key 'brokerz' in 'kafka' (did you mean "
                     "'brokers'?)");
    ck_assert_str_eq(diag_format(&d.items[1], buf, sizeof(buf)), "r.yaml:14:5: warning: bad");
    ck_assert_str_eq(diag_format(&d.items[2], buf, sizeof(buf)),
                     "r.yaml: error: cannot open: No such file");
    diags_clear(&d);
    ck_assert_uint_eq(d.count, 0);
    ck_assert_ptr_null(d.items);
    diags_clear(&d); /* twice is harmless */
    diags_clear(NULL);
}
END_TEST

START_TEST(format_truncates_to_the_buffer)
{
    diag_t d = {.file = "f", .line = 1, .col = 1, .msg = "a long message"};
    char buf[12];

    ck_assert_str_eq(diag_format(&d, buf, sizeof(buf)), "f:1:1: erro");
}
END_TEST

static const char *const keys[] = {"kafka", "nats",     "rules",  "limits", "max_inflight_total",
                                   "ok",    "event_id", "brokers"};

static const struct {
    const char *got;
    const char *want; /* NULL: no suggestion */
} suggest_cases[] = {
    {"kafak", "kafka"}, /* a swap of neighbours is one slip */
    {"brokerz", "brokers"},
    {"max_inflight_totl", "max_inflight_total"},
    {"eventid", "event_id"},
    {"okk", "ok"},
    {"xy", NULL}, /* two edits from "ok": too far for a short word */
    {"limitz", "limits"},
    {"topics", NULL},
    {"", NULL},
};

START_TEST(suggests_only_close_candidates)
{
    const char *got = diag_suggest(suggest_cases[_i].got, keys, NROWS(keys));

    if (suggest_cases[_i].want)
        ck_assert_msg(got && !strcmp(got, suggest_cases[_i].want), "'%s': got '%s', want '%s'",
                      suggest_cases[_i].got, got ? got : "(none)", suggest_cases[_i].want);
    else
        ck_assert_msg(!got, "'%s': got '%s', want none", suggest_cases[_i].got, got);
}
END_TEST

static size_t rank_b_first(const void *ctx, const char *file)
{
    (void)ctx;
    return strcmp(file, "b.yaml") == 0 ? 0 : 1;
}

START_TEST(sort_orders_by_file_then_line_then_column_and_keeps_ties_in_order)
{
    diags_t d = {0};
    diags_add(&d, "a.yaml", 9, 1, 0, NULL, "a9");
    diags_add(&d, "b.yaml", 3, 5, 0, NULL, "b3:5 first");
    diags_add(&d, "a.yaml", 2, 7, 0, NULL, "a2:7");
    diags_add(&d, "b.yaml", 3, 5, 1, NULL, "b3:5 second");
    diags_add(&d, "a.yaml", 2, 3, 0, NULL, "a2:3");
    diags_add(&d, "b.yaml", 1, 1, 0, NULL, "b1");
    diags_sort(&d, 0, rank_b_first, NULL);
    static const char *const want[] = {"b1", "b3:5 first", "b3:5 second", "a2:3", "a2:7", "a9"};
    ck_assert_uint_eq(d.count, 6);
    for (size_t i = 0; i < d.count; i++)
        ck_assert_str_eq(d.items[i].msg, want[i]);
    /* From an index on, one file: the items before it stay where they are. */
    diags_clear(&d);
    diags_add(&d, "c.yaml", 5, 1, 0, NULL, "kept first");
    diags_add(&d, "c.yaml", 4, 1, 0, NULL, "c4");
    diags_add(&d, "c.yaml", 1, 1, 0, NULL, "c1");
    diags_sort(&d, 1, NULL, NULL);
    ck_assert_str_eq(d.items[0].msg, "kept first");
    ck_assert_str_eq(d.items[1].msg, "c1");
    ck_assert_str_eq(d.items[2].msg, "c4");
    diags_clear(&d);
}
END_TEST

static Suite *diag_suite(void)
{
    Suite *s = suite_create("diag");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, line_is_file_line_col_severity_message_hint);
    tcase_add_test(tc, format_truncates_to_the_buffer);
    tcase_add_test(tc, sort_orders_by_file_then_line_then_column_and_keeps_ties_in_order);
    tcase_add_loop_test(tc, suggests_only_close_candidates, 0, NROWS(suggest_cases));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(diag_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
