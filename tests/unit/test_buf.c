/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for buf.c: growable appends (bytes, strings, printf, long
 * printf), the fixed mode's all-or-nothing rule and limit, BUF_CUT's
 * "truncated if short", rewind after a failed append, take/free ownership,
 * and the one failure rule: a failed append keeps the content, sticks, and
 * never aborts.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

START_TEST(growable_appends_bytes_strings_and_printf)
{
    buf_t b = BUF_INIT;
    ck_assert_int_eq(buf_append(&b, "ab\0c", 4), 0);
    ck_assert_int_eq(buf_puts(&b, "de"), 0);
    ck_assert_int_eq(buf_printf(&b, "-%d-%s", 42, "x"), 0);
    ck_assert_uint_eq(b.len, 11);
    ck_assert_mem_eq(b.p, "ab\0cde-42-x", 12); /* NUL-terminated */
    ck_assert_int_eq(b.failed, 0);
    buf_free(&b);
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(growable_grows_past_many_doublings)
{
    buf_t b;
    char big[1000];
    buf_init(&b, 0);
    memset(big, 'z', sizeof(big));
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(buf_append(&b, big, sizeof(big)), 0);
    ck_assert_int_eq(buf_printf(&b, "%.*s|", 5000, ""), 0);
    ck_assert_int_eq(buf_printf(&b, "%0600d", 7), 0); /* longer than printf's stack copy */
    ck_assert_uint_eq(b.len, 100000 + 1 + 600);
    ck_assert_int_eq(b.p[100000], '|');
    ck_assert_int_eq(b.p[b.len - 1], '7');
    ck_assert_int_eq(b.p[b.len], '\0');
    buf_free(&b);
}
END_TEST

START_TEST(growable_failure_keeps_content_and_sticks)
{
    buf_t b = BUF_INIT;
    ck_assert_int_eq(buf_puts(&b, "kept"), 0);
    /* An allocation that cannot be made (size overflow counts as one). */
    ck_assert_int_eq(buf_append(&b, "x", SIZE_MAX / 2 + 1), -1);
    ck_assert_int_eq(b.failed, 1);
    ck_assert_str_eq(b.p, "kept");
    ck_assert_int_eq(buf_puts(&b, "more"), -1); /* sticky */
    ck_assert_int_eq(buf_printf(&b, "%d", 1), -1);
    ck_assert_str_eq(b.p, "kept");
    ck_assert_ptr_null(buf_take(&b)); /* failed: nothing handed over, memory freed */
    ck_assert_ptr_null(b.p);
}
END_TEST

START_TEST(take_hands_over_content_and_empty_is_an_empty_string)
{
    buf_t b = BUF_INIT;
    char *s = buf_take(&b);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "");
    free(s);
    buf_init(&b, BUF_WIPE);
    buf_puts(&b, "secret");
    s = buf_take(&b);
    ck_assert_str_eq(s, "secret");
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.flags, BUF_WIPE); /* still a wiping buffer */
    free(s);
}
END_TEST

START_TEST(fixed_append_is_all_or_nothing)
{
    char mem[8];
    buf_t b;
    buf_init_fixed(&b, mem, sizeof(mem), 0);
    ck_assert_str_eq(mem, "");
    ck_assert_int_eq(buf_puts(&b, "abcd"), 0);
    ck_assert_int_eq(buf_puts(&b, "efgh"), -1); /* 8 > 7 left for content */
    ck_assert_str_eq(mem, "abcd");
    ck_assert_int_eq(b.failed, 1);
    ck_assert_int_eq(buf_puts(&b, "e"), -1); /* sticky, even if it would fit */
    ck_assert_str_eq(mem, "abcd");
    buf_rewind(&b, 2);
    ck_assert_int_eq(b.failed, 0);
    ck_assert_int_eq(buf_puts(&b, "XYZWV"), 0); /* exactly 7 */
    ck_assert_str_eq(mem, "abXYZWV");
    ck_assert_ptr_null(buf_take(&b)); /* never hands over memory it does not own */
}
END_TEST

START_TEST(fixed_limit_keeps_room_for_a_tail)
{
    char mem[16];
    buf_t b;
    buf_init_fixed(&b, mem, sizeof(mem), 0);
    buf_set_limit(&b, 4);
    ck_assert_int_eq(buf_puts(&b, "abcde"), -1);
    buf_rewind(&b, 0);
    ck_assert_int_eq(buf_puts(&b, "abcd"), 0);
    buf_set_limit(&b, 100); /* clamped to size - 1 */
    ck_assert_uint_eq(b.limit, 15);
    ck_assert_int_eq(buf_puts(&b, "efghijklmno"), 0);
    ck_assert_str_eq(mem, "abcdefghijklmno");
    ck_assert_int_eq(buf_puts(&b, "p"), -1);
}
END_TEST

START_TEST(fixed_cut_keeps_what_fits)
{
    char mem[6];
    buf_t b;
    buf_init_fixed(&b, mem, sizeof(mem), BUF_CUT);
    ck_assert_int_eq(buf_puts(&b, "abc"), 0);
    ck_assert_int_eq(buf_puts(&b, "defg"), -1);
    ck_assert_str_eq(mem, "abcde");
    ck_assert_int_eq(buf_printf(&b, "x"), -1);
    ck_assert_str_eq(mem, "abcde");
}
END_TEST

START_TEST(fixed_zero_size_accepts_nothing_and_writes_nothing)
{
    char mem[1] = {'q'};
    buf_t b;
    buf_init_fixed(&b, mem, 0, BUF_CUT);
    ck_assert_int_eq(buf_append(&b, "", 0), 0);
    ck_assert_int_eq(buf_puts(&b, "a"), -1);
    ck_assert_int_eq(mem[0], 'q');
}
END_TEST

static Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, growable_appends_bytes_strings_and_printf);
    tcase_add_test(tc, growable_grows_past_many_doublings);
    tcase_add_test(tc, growable_failure_keeps_content_and_sticks);
    tcase_add_test(tc, take_hands_over_content_and_empty_is_an_empty_string);
    tcase_add_test(tc, fixed_append_is_all_or_nothing);
    tcase_add_test(tc, fixed_limit_keeps_room_for_a_tail);
    tcase_add_test(tc, fixed_cut_keeps_what_fits);
    tcase_add_test(tc, fixed_zero_size_accepts_nothing_and_writes_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(buf_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
