/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the pure parts of streams.c: subject filter matching, used
 * to tell "no stream listens here" from a JetStream outage, and prefix
 * coverage, used to warn about routes no stream covers. */
#include <check.h>
#include <stdlib.h>

#include "streams.h"

static const struct {
    const char *filter, *subject;
    int want;
} match_cases[] = {
    {"commands.>", "commands.officer.register", 1},
    {"commands.>", "commands", 0},
    {"commands.*.register", "commands.officer.register", 1},
    {"commands.*.register", "commands.officer.report", 0},
    {"commands.*", "commands.officer.register", 0},
    {"commands.officer.register", "commands.officer.register", 1},
    {"commands.officer", "commands.officer.register", 0},
    {"commands.officer.register", "commands.officer", 0},
    {">", "anything.at.all", 1},
    {"*", "one", 1},
    {"*", "one.two", 0},
    {"audit.>", "commands.officer.register", 0},
    {"comm.>", "commands.x", 0},
};

START_TEST(filter_matches_subject_like_nats_does)
{
    int i = _i;
    ck_assert_msg(streams_filter_matches(match_cases[i].filter, match_cases[i].subject) ==
                      match_cases[i].want,
                  "%s vs %s: want %d", match_cases[i].filter, match_cases[i].subject,
                  match_cases[i].want);
}
END_TEST

static const struct {
    const char *filter, *prefix;
    int want;
} prefix_cases[] = {
    {"commands.>", "commands.", 1},
    {"commands.>", "commands", 1},
    {"commands.*.x", "commands.", 1},
    {"audit.>", "commands.", 0},
    {"commands.officer.>", "commands.incident.", 0},
    {"commands", "commands.", 0},
    {"*.>", "it123.commands.", 1},
};

START_TEST(filter_covers_route_prefix)
{
    int i = _i;
    ck_assert_msg(streams_filter_covers_prefix(prefix_cases[i].filter, prefix_cases[i].prefix) ==
                      prefix_cases[i].want,
                  "%s covers %s: want %d", prefix_cases[i].filter, prefix_cases[i].prefix,
                  prefix_cases[i].want);
}
END_TEST

static const struct {
    const char *filter, *tmpl;
    streams_cover_t want;
} template_cases[] = {
    {"commands.>", "commands.{domain}.{action}", STREAMS_COVERS_ALL},
    {"commands.*.*", "commands.{domain}.{action}", STREAMS_COVERS_ALL},
    {"commands.officer.>", "commands.{domain}.{action}", STREAMS_COVERS_SOME},
    {"commands.*", "commands.{domain}.{action}", STREAMS_COVERS_NONE},
    {"commands.*.*.*", "commands.{domain}.{action}", STREAMS_COVERS_NONE},
    {"commands.>", "events.hr.officer-promoted", STREAMS_COVERS_NONE},
    {"events.hr.officer-promoted", "events.hr.officer-promoted", STREAMS_COVERS_ALL},
    {"events.hr.>", "events.hr", STREAMS_COVERS_NONE},
    /* A dot inside braces does not split a token. */
    {"orders.*", "orders.{field:payload.id}", STREAMS_COVERS_ALL},
    {"orders.*.*", "orders.{field:payload.id}", STREAMS_COVERS_NONE},
    {">", "a.{event}", STREAMS_COVERS_ALL},
};

START_TEST(filter_covers_route_template_all_some_or_none)
{
    int i = _i;
    ck_assert_msg(streams_filter_covers_template(template_cases[i].filter,
                                                 template_cases[i].tmpl) == template_cases[i].want,
                  "%s covers %s: want %d", template_cases[i].filter, template_cases[i].tmpl,
                  (int)template_cases[i].want);
}
END_TEST

START_TEST(unknown_listing_is_never_taken_for_no_stream)
{
    streams_filters_t f = {0};
    ck_assert_int_eq(streams_filters_cover(&f, "commands.x"), -1);
    char *one[] = {"commands.>"};
    f.filters = one;
    f.count = 1;
    f.known = 1;
    ck_assert_int_eq(streams_filters_cover(&f, "commands.x"), 1);
    ck_assert_int_eq(streams_filters_cover(&f, "audit.x"), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("streams");
    TCase *tc = tcase_create("filters");
    tcase_add_loop_test(tc, filter_matches_subject_like_nats_does, 0,
                        sizeof(match_cases) / sizeof(match_cases[0]));
    tcase_add_loop_test(tc, filter_covers_route_prefix, 0,
                        sizeof(prefix_cases) / sizeof(prefix_cases[0]));
    tcase_add_loop_test(tc, filter_covers_route_template_all_some_or_none, 0,
                        sizeof(template_cases) / sizeof(template_cases[0]));
    tcase_add_test(tc, unknown_listing_is_never_taken_for_no_stream);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
