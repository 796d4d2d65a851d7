/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for utf8.c, the one UTF-8 rule: a table of valid and invalid
 * byte runs (overlong, surrogate, > U+10FFFF, cut short, stray bytes) for
 * utf8_valid(), and utf8_decode()'s lengths and code points, which log.c
 * and metrics.c walk text with.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "utf8.h"

static const struct {
    const char *s;
    size_t len;
    int valid;
} valid_cases[] = {
    {"", 0, 1},
    {"ascii", 5, 1},
    {"\xc3\xa9", 2, 1},
    {"\xe2\x82\xac", 3, 1},
    {"\xf0\x9f\x98\x80", 4, 1},
    {"\xf4\x8f\xbf\xbf", 4, 1}, /* U+10FFFF */
    {"\xed\x9f\xbf", 3, 1},     /* U+D7FF, just below the surrogates */
    {"a\0b", 3, 1},             /* NUL is valid UTF-8 (callers reject controls) */
    {"\xc0\x80", 2, 0},         /* overlong */
    {"\xc1\xbf", 2, 0},         /* overlong */
    {"\xe0\x80\x80", 3, 0},     /* overlong */
    {"\xe0\x9f\xbf", 3, 0},     /* overlong */
    {"\xf0\x8f\xbf\xbf", 4, 0}, /* overlong */
    {"\xed\xa0\x80", 3, 0},     /* surrogate */
    {"\xed\xbf\xbf", 3, 0},     /* surrogate */
    {"\xf4\x90\x80\x80", 4, 0}, /* > U+10FFFF */
    {"\xf5\x80\x80\x80", 4, 0},
    {"\xe2\x82", 2, 0}, /* cut short */
    {"\x80", 1, 0},     /* stray continuation */
    {"\xff", 1, 0},
    {"a\xc3", 2, 0},
    {"\xc3\x28", 2, 0}, /* second byte not a continuation */
};

START_TEST(valid_only_when_every_sequence_is)
{
    ck_assert_msg(utf8_valid(valid_cases[_i].s, valid_cases[_i].len) == valid_cases[_i].valid,
                  "row %d", _i);
}
END_TEST

static const struct {
    const char *s;
    size_t n;
    size_t len;
    uint32_t cp;
} decode_cases[] = {
    {"A", 1, 1, 0x41},
    {"\xc3\xa9x", 3, 2, 0xE9},
    {"\xe2\x82\xac", 3, 3, 0x20AC},
    {"\xf0\x9f\x98\x80", 4, 4, 0x1F600},
    {"\xe2\x82\xac", 2, 0, 0}, /* only two bytes given */
    {"\xed\xa0\x80", 3, 0, 0},
    {"\x80", 1, 0, 0},
    {"", 0, 0, 0},
};

START_TEST(decode_gives_length_and_code_point)
{
    uint32_t cp = 0xFFFFFFFF;
    size_t len = utf8_decode(decode_cases[_i].s, decode_cases[_i].n, &cp);
    ck_assert_msg(len == decode_cases[_i].len, "row %d: len %zu", _i, len);
    if (len)
        ck_assert_msg(cp == decode_cases[_i].cp, "row %d: cp %x", _i, (unsigned)cp);
    ck_assert_uint_eq(utf8_decode(decode_cases[_i].s, decode_cases[_i].n, NULL), len);
}
END_TEST

#define NROWS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *utf8_suite(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, valid_only_when_every_sequence_is, 0, NROWS(valid_cases));
    tcase_add_loop_test(tc, decode_gives_length_and_code_point, 0, NROWS(decode_cases));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(utf8_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
