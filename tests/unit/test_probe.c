/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for probe.c, which turns a test description into a Kafka
 * record: fields go where the rule file's first source says (header or a
 * nested JSON path), explicit headers win, conflicts are errors.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "rules.h"

static rules_t *load(const char *y)
{
    rules_t *r = NULL;

    ck_assert_int_eq(rules_load_buffer("p.yaml", y, strlen(y), &r, NULL), 0);
    return r;
}

static const char *header(const probe_t *p, const char *name)
{
    const char *v = NULL;

    for (size_t i = 0; i < p->ev.header_count; i++)
        if (!strcmp(p->ev.headers[i].name, name))
            v = p->ev.headers[i].value;
    return v;
}

START_TEST(fields_follow_the_first_declared_source)
{
    rules_t *r = load("envelope:\n  event_type: [{header: t}, {json: eventType}]\n"
                      "  event_id: [{json: meta.id}]\n  aggregate_id: [{json: meta.agg.id}]\n"
                      "  correlation_id: [{json: corr}]\n"
                      "routes:\n  - {name: r, action: skip}\n");
    rules_test_t t = {.expect_critical = -1};
    probe_t p;
    char err[256];

    t.fields[RULES_F_EVENT_TYPE] = "A";
    t.fields[RULES_F_EVENT_ID] = "i\"1";
    t.fields[RULES_F_AGGREGATE_ID] = "g";
    t.fields[RULES_F_CORRELATION_ID] = "c";
    ck_assert_int_eq(probe_build(&p, r, &t, err, sizeof(err)), 0);
    ck_assert_str_eq(header(&p, "t"), "A");
    ck_assert_str_eq((const char *)p.ev.value,
                     "{\"meta\":{\"id\":\"i\\\"1\",\"agg\":{\"id\":\"g\"}},\"corr\":\"c\"}");
    ck_assert_str_eq(p.ev.topic, "events");
    ck_assert_ptr_null(p.ev.key);
    probe_fini(&p);
    rules_unref(r);
}
END_TEST

START_TEST(explicit_headers_win_and_value_defaults_to_an_empty_object)
{
    rules_t *r = load("routes:\n  - {name: r, action: skip}\n");
    rules_kv_t h[] = {{"eventType", "B"}};
    rules_test_t t = {.headers = h, .header_count = 1, .key = "k", .topic = "x"};
    probe_t p;
    char err[256];

    t.fields[RULES_F_EVENT_TYPE] = "A";
    ck_assert_int_eq(probe_build(&p, r, &t, err, sizeof(err)), 0);
    ck_assert_str_eq(header(&p, "eventType"), "B"); /* last one wins */
    ck_assert_str_eq((const char *)p.ev.value, "{}");
    ck_assert_uint_eq(p.ev.key_len, 1);
    probe_fini(&p);
    rules_unref(r);
}
END_TEST

START_TEST(json_field_with_explicit_value_is_an_error)
{
    rules_t *r = load("routes:\n  - {name: r, action: skip}\n");
    rules_test_t t = {.value = "{}"};
    probe_t p;
    char err[256] = "";

    t.fields[RULES_F_AGGREGATE_TYPE] = "Officer"; /* default source: JSON aggregateType */
    ck_assert_int_eq(probe_build(&p, r, &t, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "aggregateType"));
    probe_fini(&p);
    t.value = NULL;
    t.tombstone = 1;
    ck_assert_int_eq(probe_build(&p, r, &t, err, sizeof(err)), -1);
    probe_fini(&p);
    rules_unref(r);
}
END_TEST

START_TEST(overlapping_json_paths_are_an_error)
{
    rules_t *r = load("envelope:\n  event_id: [{json: a}]\n  aggregate_id: [{json: a.b}]\n"
                      "routes:\n  - {name: r, action: skip}\n");
    rules_test_t t = {0};
    probe_t p;
    char err[256] = "";

    t.fields[RULES_F_EVENT_ID] = "x";
    t.fields[RULES_F_AGGREGATE_ID] = "y";
    ck_assert_int_eq(probe_build(&p, r, &t, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "overlap"));
    probe_fini(&p);
    rules_unref(r);
}
END_TEST

START_TEST(tombstone_has_no_value)
{
    rules_t *r = load("routes:\n  - {name: r, action: skip}\n");
    rules_test_t t = {.tombstone = 1};
    probe_t p;
    char err[256];

    t.fields[RULES_F_EVENT_TYPE] = "A";
    ck_assert_int_eq(probe_build(&p, r, &t, err, sizeof(err)), 0);
    ck_assert_ptr_null(p.ev.value);
    probe_fini(&p);
    rules_unref(r);
}
END_TEST

static Suite *probe_suite(void)
{
    Suite *s = suite_create("probe");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, fields_follow_the_first_declared_source);
    tcase_add_test(tc, explicit_headers_win_and_value_defaults_to_an_empty_object);
    tcase_add_test(tc, json_field_with_explicit_value_is_an_error);
    tcase_add_test(tc, overlapping_json_paths_are_an_error);
    tcase_add_test(tc, tombstone_has_no_value);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(probe_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
