/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for envelope.c: bounded JSON tokenising (truncated, invalid,
 * too big, too many tokens, deep nesting, not an object), JSON path lookup,
 * string unescaping and header lookup (UTF-8 validation: test_utf8.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

static const envelope_limits_t lim = {.max_bytes = 4096, .max_tokens = 64};

static const struct {
    const char *json;
    envelope_status_t st;
} parse_cases[] = {
    {"{\"eventType\":\"A\"}", ENVELOPE_OK},
    {"  {\"a\":{\"b\":[1,2,{\"c\":null}]}}  ", ENVELOPE_OK},
    {"{}", ENVELOPE_OK},
    {"{\"eventType\":\"A\"", ENVELOPE_E_TRUNCATED},
    {"{\"eventType\":\"A", ENVELOPE_E_TRUNCATED},
    {"{\"a\":}", ENVELOPE_E_SYNTAX},
    {"{\"a\"}", ENVELOPE_E_SYNTAX},
    {"{1:2}", ENVELOPE_E_SYNTAX},
    {"{\"a\":1,}", ENVELOPE_E_SYNTAX},
    {"{,}", ENVELOPE_E_SYNTAX},
    {"{\"a\":1 \"b\":2}", ENVELOPE_E_SYNTAX},
    {"{\"a\":[1,]}", ENVELOPE_E_SYNTAX},
    {"{\"a\":tru}", ENVELOPE_E_SYNTAX},
    /* Numbers follow RFC 8259 exactly. */
    {"{\"a\":-0.5e+3,\"b\":1E-2,\"c\":0,\"d\":-12}", ENVELOPE_OK},
    {"{\"a\":01}", ENVELOPE_E_SYNTAX},
    {"{\"a\":-}", ENVELOPE_E_SYNTAX},
    {"{\"a\":1.}", ENVELOPE_E_SYNTAX},
    {"{\"a\":.5}", ENVELOPE_E_SYNTAX},
    {"{\"a\":1e}", ENVELOPE_E_SYNTAX},
    {"{\"a\":+1}", ENVELOPE_E_SYNTAX},
    {"{\"a\":1]", ENVELOPE_E_SYNTAX},
    {"not json", ENVELOPE_E_SYNTAX},
    {"", ENVELOPE_E_SYNTAX},
    {"   ", ENVELOPE_E_SYNTAX},
    {"[1,2]", ENVELOPE_E_NOT_OBJECT},
    {"\"str\"", ENVELOPE_E_NOT_OBJECT},
    {"{} {}", ENVELOPE_E_NOT_OBJECT},
};

START_TEST(parse_reports_a_defined_status)
{
    envelope_json_t j = {0};
    const char *s = parse_cases[_i].json;
    envelope_status_t st = envelope_json_parse(&j, s, strlen(s), &lim);

    ck_assert_msg(st == parse_cases[_i].st, "'%s': got '%s', want '%s'", s, envelope_strerror(st),
                  envelope_strerror(parse_cases[_i].st));
}
END_TEST

START_TEST(tombstone_has_no_value)
{
    envelope_json_t j = {0};
    ck_assert_int_eq(envelope_json_parse(&j, NULL, 0, &lim), ENVELOPE_E_NO_VALUE);
}
END_TEST

START_TEST(value_over_max_bytes_is_not_parsed)
{
    size_t n = 10u << 20; /* 10 MB */
    char *big = malloc(n);
    envelope_json_t j = {0};
    envelope_limits_t l = {.max_bytes = 1u << 20, .max_tokens = 1024};

    ck_assert_ptr_nonnull(big);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    ck_assert_int_eq(envelope_json_parse(&j, big, n, &l), ENVELOPE_E_TOO_BIG);
    free(big);
}
END_TEST

START_TEST(deep_nesting_is_bounded_by_tokens)
{
    size_t depth = 200000, n = 0;
    char *s = malloc(2 * depth + 16);
    envelope_json_t j = {0};
    envelope_limits_t l = {.max_bytes = 1u << 20, .max_tokens = 1024};

    ck_assert_ptr_nonnull(s);
    memcpy(s, "{\"a\":", 5);
    n = 5;
    for (size_t i = 0; i < depth; i++)
        s[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        s[n++] = ']';
    s[n++] = '}';
    ck_assert_int_eq(envelope_json_parse(&j, s, n, &l), ENVELOPE_E_TOKENS);
    free(s);
}
END_TEST

START_TEST(token_limit_above_hard_max_is_capped)
{
    envelope_json_t j = {0};
    envelope_limits_t l = {.max_bytes = 1u << 20, .max_tokens = 1u << 30};
    const char *s = "{\"a\":1}";

    ck_assert_int_eq(envelope_json_parse(&j, s, strlen(s), &l), ENVELOPE_OK);
}
END_TEST

static const char *const doc =
    "{\"eventId\":\"e-1\",\"eventType\":\"RegisterOfficerRequested\",\"version\":2,"
    "\"metadata\":{\"eventType\":\"Nested\",\"deep\":{\"x\":\"y\"}},\"nul\":null,\"t\":true,"
    "\"obj\":{},\"arr\":[\"eventType\"],\"esc\":\"a\\u00e9\\n\",\"dup\":\"first\","
    "\"data\":{\"eventType\":\"Inner\",\"list\":[{\"a\":1},{\"b\":[2,3]}]},\"dup\":\"last\","
    "\"empty\":\"\"}";

static const struct {
    const char *path;
    int found;
    const char *raw;
    int escaped;
} get_cases[] = {
    {"eventType", 1, "RegisterOfficerRequested", 0},
    {"eventId", 1, "e-1", 0},
    {"version", 1, "2", 0},
    {"metadata.eventType", 1, "Nested", 0},
    {"metadata.deep.x", 1, "y", 0},
    {"data.eventType", 1, "Inner", 0},
    {"esc", 1, "a\\u00e9\\n", 1},
    {"dup", 1, "last", 0}, /* the last duplicate key wins */
    {"empty", 1, "", 0},
    {"nul", 0, NULL, 0},
    {"t", 0, NULL, 0},
    {"obj", 0, NULL, 0},
    {"arr", 0, NULL, 0},
    {"missing", 0, NULL, 0},
    {"eventType.x", 0, NULL, 0},
    {"metadata.missing", 0, NULL, 0},
};

START_TEST(path_lookup_finds_scalars_only)
{
    envelope_json_t j = {0};
    envelope_path_t p;
    envelope_str_t v;
    char err[128];
    envelope_limits_t l = {.max_bytes = 4096, .max_tokens = 256};

    ck_assert_int_eq(envelope_json_parse(&j, doc, strlen(doc), &l), ENVELOPE_OK);
    ck_assert_int_eq(
        envelope_path_compile(get_cases[_i].path, strlen(get_cases[_i].path), &p, err, sizeof(err)),
        0);
    int found = envelope_json_get(&j, &p, &v);
    ck_assert_msg(found == get_cases[_i].found, "path '%s'", get_cases[_i].path);
    if (found) {
        ck_assert_uint_eq(v.len, strlen(get_cases[_i].raw));
        ck_assert(!memcmp(v.s, get_cases[_i].raw, v.len));
        ck_assert_int_eq(v.escaped, get_cases[_i].escaped);
    }
}
END_TEST

START_TEST(lookup_on_failed_parse_finds_nothing)
{
    envelope_json_t j = {0};
    envelope_path_t p;
    envelope_str_t v;
    char err[64];

    envelope_json_parse(&j, "{\"a\":\"b\"", 8, &lim);
    envelope_path_compile("a", 1, &p, err, sizeof(err));
    ck_assert_int_eq(envelope_json_get(&j, &p, &v), 0);
}
END_TEST

static const struct {
    const char *path;
    int ok;
} path_cases[] = {
    {"a", 1},
    {"a.b.c", 1},
    {"", 0},
    {"a..b", 0},
    {".a", 0},
    {"a.", 0},
    {"a.b.c.d.e.f.g.h", 1},
    {"a.b.c.d.e.f.g.h.i", 0},
};

START_TEST(path_compile_rejects_bad_paths)
{
    envelope_path_t p;
    char err[128];
    const char *s = path_cases[_i].path;

    ck_assert_msg((envelope_path_compile(s, strlen(s), &p, err, sizeof(err)) == 0) ==
                      path_cases[_i].ok,
                  "'%s'", s);
}
END_TEST

static const struct {
    const char *in;
    int ok;
    const char *out;
} unescape_cases[] = {
    {"plain", 1, "plain"},
    {"a\\\"b\\\\c\\/d", 1, "a\"b\\c/d"},
    {"\\b\\f\\n\\r\\t", 1, "\b\f\n\r\t"},
    {"\\u0041", 1, "A"},
    {"\\u00e9", 1, "\xc3\xa9"},
    {"\\u20ac", 1, "\xe2\x82\xac"},
    {"\\ud83d\\ude00", 1, "\xf0\x9f\x98\x80"},
    {"\\ud83d", 0, NULL},
    {"\\ude00", 0, NULL},
    {"\\ud83dx", 0, NULL},
    {"\\x", 0, NULL},
    {"\\u12", 0, NULL},
    {"\\u12G4", 0, NULL},
    {"trailing\\", 0, NULL},
};

START_TEST(unescape_decodes_json_strings)
{
    char out[64];
    size_t n = 0;
    const char *in = unescape_cases[_i].in;
    int rc = envelope_unescape(in, strlen(in), out, sizeof(out), &n);

    ck_assert_msg((rc == 0) == unescape_cases[_i].ok, "'%s'", in);
    if (rc == 0) {
        ck_assert_uint_eq(n, strlen(unescape_cases[_i].out));
        ck_assert(!memcmp(out, unescape_cases[_i].out, n));
    }
}
END_TEST

START_TEST(unescape_never_overflows)
{
    char out[3];
    size_t n;

    ck_assert_int_eq(envelope_unescape("abcd", 4, out, sizeof(out), &n), -1);
    ck_assert_int_eq(envelope_unescape("\\u20ac", 6, out, 2, &n), -1);
    ck_assert_int_eq(envelope_unescape("ab\\u00e9", 8, out, sizeof(out), &n), -1);
}
END_TEST

START_TEST(last_header_of_a_name_wins)
{
    route_header_t h[] = {
        {"eventType", "First", 5}, {"other", "x", 1},   {"eventType", "Second", 6},
        {"nullval", NULL, 0},      {NULL, "noname", 6},
    };
    route_event_t ev = {.headers = h, .header_count = 5};
    const route_header_t *got;

    got = envelope_header(&ev, "eventType", 9);
    ck_assert_ptr_eq(got, &h[2]);
    ck_assert_ptr_null(envelope_header(&ev, "event", 5));
    ck_assert_ptr_null(envelope_header(&ev, "missing", 7));
    got = envelope_header(&ev, "nullval", 7);
    ck_assert_ptr_eq(got, &h[3]);
    /* A name given with a length need not be NUL-terminated. */
    ck_assert_ptr_eq(envelope_header(&ev, "otherXYZ", 5), &h[1]);
}
END_TEST

START_TEST(parse_count_counts_parses)
{
    envelope_json_t j = {0};
    unsigned long before = envelope_json_parse_count();

    envelope_json_parse(&j, "{}", 2, &lim);
    envelope_json_parse(&j, "x", 1, &lim);
    ck_assert_uint_eq(envelope_json_parse_count(), before + 2);
}
END_TEST

START_TEST(status_strings_cover_every_code)
{
    for (int e = 0; e < ENVELOPE_E__COUNT; e++)
        ck_assert_ptr_nonnull(envelope_strerror((envelope_status_t)e));
    ck_assert_str_eq(envelope_strerror(ENVELOPE_E__COUNT), "unknown envelope error");
}
END_TEST

#define NROWS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *envelope_suite(void)
{
    Suite *s = suite_create("envelope");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, parse_reports_a_defined_status, 0, NROWS(parse_cases));
    tcase_add_test(tc, tombstone_has_no_value);
    tcase_add_test(tc, value_over_max_bytes_is_not_parsed);
    tcase_add_test(tc, deep_nesting_is_bounded_by_tokens);
    tcase_add_test(tc, token_limit_above_hard_max_is_capped);
    tcase_add_loop_test(tc, path_lookup_finds_scalars_only, 0, NROWS(get_cases));
    tcase_add_test(tc, lookup_on_failed_parse_finds_nothing);
    tcase_add_loop_test(tc, path_compile_rejects_bad_paths, 0, NROWS(path_cases));
    tcase_add_loop_test(tc, unescape_decodes_json_strings, 0, NROWS(unescape_cases));
    tcase_add_test(tc, unescape_never_overflows);
    tcase_add_test(tc, last_header_of_a_name_wins);
    tcase_add_test(tc, parse_count_counts_parses);
    tcase_add_test(tc, status_strings_cover_every_code);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(envelope_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
