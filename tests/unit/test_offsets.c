/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for offsets.c: the committable watermark never passes an
 * unacknowledged event, whatever order the acks come in. */
#include <check.h>
#include <stdlib.h>

#include "offsets.h"

START_TEST(empty_window_has_nothing_to_commit)
{
    offsets_t *o = offsets_new(4);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(offsets_committable(o), -1);
    ck_assert_uint_eq(offsets_inflight(o), 0);
    offsets_destroy(o);
}
END_TEST

/* Table: offsets pushed, order in which they are acked (indexes), and the
 * committable offset expected after each ack. */
static const struct {
    const char *name;
    int n;
    int64_t offs[6];
    int ack_order[6];
    int64_t expect[6];
} ack_cases[] = {
    {"in order", 3, {10, 11, 12}, {0, 1, 2}, {11, 12, 13}},
    {"reverse order", 3, {10, 11, 12}, {2, 1, 0}, {10, 10, 13}},
    {"middle first", 4, {5, 6, 7, 8}, {1, 0, 3, 2}, {5, 7, 7, 9}},
    {"gaps in offsets", 3, {100, 104, 110}, {1, 0, 2}, {100, 110, 111}},
};

START_TEST(watermark_never_passes_an_unacked_offset)
{
    offsets_t *o = offsets_new(8);
    uint64_t seq[6];
    int c = _i;

    for (int k = 0; k < ack_cases[c].n; k++)
        ck_assert_int_eq(offsets_push(o, ack_cases[c].offs[k], &seq[k]), 0);
    ck_assert_int_eq(offsets_committable(o), ack_cases[c].offs[0]);
    for (int k = 0; k < ack_cases[c].n; k++) {
        ck_assert_int_eq(offsets_done(o, seq[ack_cases[c].ack_order[k]]), 0);
        ck_assert_msg(offsets_committable(o) == ack_cases[c].expect[k],
                      "%s: after ack %d committable %lld, want %lld", ack_cases[c].name, k,
                      (long long)offsets_committable(o), (long long)ack_cases[c].expect[k]);
    }
    ck_assert_uint_eq(offsets_inflight(o), 0);
    offsets_destroy(o);
}
END_TEST

START_TEST(full_window_refuses_until_head_is_acked)
{
    offsets_t *o = offsets_new(2);
    uint64_t a, b, c;
    ck_assert_int_eq(offsets_push(o, 1, &a), 0);
    ck_assert_int_eq(offsets_push(o, 2, &b), 0);
    ck_assert_int_eq(offsets_push(o, 3, &c), -1);
    ck_assert_int_eq(offsets_done(o, b), 0);
    ck_assert_int_eq(offsets_push(o, 3, &c), -1); /* head (1) still pending */
    ck_assert_int_eq(offsets_done(o, a), 0);
    ck_assert_int_eq(offsets_push(o, 3, &c), 0);
    ck_assert_int_eq(offsets_committable(o), 3);
    ck_assert_int_eq(offsets_done(o, c), 0);
    ck_assert_int_eq(offsets_committable(o), 4);
    offsets_destroy(o);
}
END_TEST

START_TEST(non_increasing_offset_is_rejected)
{
    offsets_t *o = offsets_new(4);
    uint64_t s;
    ck_assert_int_eq(offsets_push(o, 7, &s), 0);
    ck_assert_int_eq(offsets_push(o, 7, &s), -2);
    ck_assert_int_eq(offsets_push(o, 3, &s), -2);
    offsets_destroy(o);
}
END_TEST

START_TEST(stale_or_double_ack_is_refused)
{
    offsets_t *o = offsets_new(4);
    uint64_t a, b;
    ck_assert_int_eq(offsets_push(o, 1, &a), 0);
    ck_assert_int_eq(offsets_done(o, a), 0);
    ck_assert_int_eq(offsets_done(o, a), -1);
    offsets_reset(o);
    ck_assert_int_eq(offsets_committable(o), -1);
    ck_assert_int_eq(offsets_push(o, 50, &b), 0);
    ck_assert_int_eq(offsets_done(o, a), -1); /* seq from before the reset */
    ck_assert_int_eq(offsets_committable(o), 50);
    ck_assert_int_eq(offsets_offset_of(o, b), 50);
    offsets_destroy(o);
}
END_TEST

START_TEST(long_run_with_random_ack_order_matches_a_model)
{
    enum { N = 20000, W = 64 };
    offsets_t *o = offsets_new(W);
    static uint64_t seqs[N];
    static int done[N];
    int pushed = 0, acked = 0;
    srand(42);
    while (acked < N) {
        if (pushed < N && offsets_push(o, pushed * 2, &seqs[pushed]) == 0) {
            pushed++;
            continue;
        }
        int k;
        do
            k = acked + rand() % (pushed - acked);
        while (done[k]);
        ck_assert_int_eq(offsets_done(o, seqs[k]), 0);
        done[k] = 1;
        while (acked < N && done[acked])
            acked++;
        int64_t want = acked < pushed ? (int64_t)acked * 2 : (int64_t)(pushed - 1) * 2 + 1;
        ck_assert_int_eq(offsets_committable(o), want);
    }
    offsets_destroy(o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("offsets");
    TCase *tc = tcase_create("watermark");
    tcase_add_test(tc, empty_window_has_nothing_to_commit);
    tcase_add_loop_test(tc, watermark_never_passes_an_unacked_offset, 0,
                        sizeof(ack_cases) / sizeof(ack_cases[0]));
    tcase_add_test(tc, full_window_refuses_until_head_is_acked);
    tcase_add_test(tc, non_increasing_offset_is_rejected);
    tcase_add_test(tc, stale_or_double_ack_is_refused);
    tcase_add_test(tc, long_run_with_random_ack_order_matches_a_model);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
