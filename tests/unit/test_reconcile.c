/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for reconcile.c: the set finds exactly the pairs added (offset
 * and dedup ID both must match) across growth, the commit metadata reads
 * back only what it wrote, provenance numbers parse only in canonical
 * decimal (a stream's headers are untrusted), and a recheck that did not
 * find an event is trusted only after a later publish was stored or
 * rechecks have worked for 10 s without a pause. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile.h"

static int has(const reconcile_set_t *s, int64_t off, const char *id)
{
    return reconcile_set_has(s, off, id, strlen(id));
}

START_TEST(set_holds_a_pair_only_with_its_offset_and_its_id)
{
    reconcile_set_t *s = reconcile_set_new();
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(reconcile_set_max(s), -1);
    ck_assert_int_eq(reconcile_set_add(s, 42, "evt-1", 5), 0);
    ck_assert(has(s, 42, "evt-1"));
    ck_assert(!has(s, 42, "evt-2"));
    ck_assert(!has(s, 43, "evt-1"));
    ck_assert(!has(s, 42, "evt-"));
    ck_assert_int_eq(reconcile_set_max(s), 42);
    reconcile_set_free(s);
}
END_TEST

START_TEST(set_keeps_every_pair_across_growth_and_ignores_repeats)
{
    enum { N = 20000 };
    reconcile_set_t *s = reconcile_set_new();
    char id[32];
    for (int64_t o = 0; o < N; o++) {
        snprintf(id, sizeof(id), "id-%lld", (long long)o * 7);
        ck_assert_int_eq(reconcile_set_add(s, o * 3, id, strlen(id)), 0);
        ck_assert_int_eq(reconcile_set_add(s, o * 3, id, strlen(id)), 0); /* stored twice */
    }
    ck_assert_uint_eq(reconcile_set_count(s), N);
    ck_assert_int_eq(reconcile_set_max(s), (N - 1) * 3);
    for (int64_t o = 0; o < N; o++) {
        snprintf(id, sizeof(id), "id-%lld", (long long)o * 7);
        ck_assert(has(s, o * 3, id));
        ck_assert(!has(s, o * 3 + 1, id));
    }
    reconcile_set_free(s);
}
END_TEST

START_TEST(two_ids_at_one_offset_are_both_kept)
{
    reconcile_set_t *s = reconcile_set_new();
    ck_assert_int_eq(reconcile_set_add(s, 5, "a", 1), 0);
    ck_assert_int_eq(reconcile_set_add(s, 5, "b", 1), 0);
    ck_assert(has(s, 5, "a") && has(s, 5, "b"));
    ck_assert_uint_eq(reconcile_set_count(s), 2);
    ck_assert_int_eq(reconcile_set_add(s, -1, "x", 1), 0); /* no such offset: ignored */
    ck_assert_uint_eq(reconcile_set_count(s), 2);
    reconcile_set_free(s);
}
END_TEST

START_TEST(metadata_reads_back_what_it_wrote_and_nothing_else)
{
    char buf[RECONCILE_META_MAX];
    int64_t t = 0;
    size_t n = reconcile_meta_format(buf, sizeof(buf), 1764900000123LL);
    ck_assert_str_eq(buf, "er1 t=1764900000123");
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_int_eq(reconcile_meta_parse(buf, n, &t), 0);
    ck_assert_int_eq(t, 1764900000123LL);
    static const char *const bad[] = {"",
                                      "er1 t=",
                                      "er1 t=-5",
                                      "er1 t=01",
                                      "er1 t=12x",
                                      "er2 t=5",
                                      "ER1 t=5",
                                      "er1 t= 5",
                                      "er1 t=1234567890123456789",
                                      "some other tool"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(reconcile_meta_parse(bad[i], strlen(bad[i]), &t) == -1, "accepted '%s'",
                      bad[i]);
    ck_assert_int_eq(reconcile_meta_parse(NULL, 0, &t), -1);
    /* Not NUL-terminated: only len bytes are read. */
    ck_assert_int_eq(reconcile_meta_parse("er1 t=77junk", 8, &t), 0);
    ck_assert_int_eq(t, 77);
}
END_TEST

START_TEST(numbers_parse_only_in_canonical_decimal)
{
    int64_t v = -1;
    ck_assert_int_eq(reconcile_parse_number("0", &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(reconcile_parse_number("123456789012345678", &v), 0);
    ck_assert_int_eq(v, 123456789012345678LL);
    static const char *const bad[] = {"",   "-1",  "+1",   "01", " 1",
                                      "1 ", "1e3", "0x10", "1.", "1234567890123456789"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(reconcile_parse_number(bad[i], &v) == -1, "accepted '%s'", bad[i]);
    ck_assert_int_eq(reconcile_parse_number(NULL, &v), -1);
}
END_TEST

#define S_ 1000000000LL /* one second in ns */

START_TEST(a_miss_is_trusted_only_after_a_later_publish_was_stored)
{
    reconcile_settle_t st = {0};
    reconcile_settle_recheck(&st, 1, 100 * S_, 100 * S_ + 1);
    /* Stored publishes sent before or at the retry's last send prove nothing. */
    reconcile_settle_stored(&st, 40 * S_);
    reconcile_settle_stored(&st, 50 * S_);
    ck_assert_int_eq(reconcile_settled(&st, 50 * S_, 101 * S_), 0);
    /* One sent after it: the raft log has committed every earlier copy. */
    reconcile_settle_stored(&st, 50 * S_ + 1);
    ck_assert_int_eq(reconcile_settled(&st, 50 * S_, 101 * S_), 1);
    /* An older barrier arriving late does not move it back. */
    reconcile_settle_stored(&st, 10 * S_);
    ck_assert_int_eq(reconcile_settled(&st, 50 * S_, 101 * S_), 1);
}
END_TEST

START_TEST(without_a_barrier_a_miss_is_trusted_after_10_s_of_working_rechecks)
{
    reconcile_settle_t st = {0};
    ck_assert_int_eq(reconcile_settled(&st, 1, 5 * S_), 0); /* no recheck yet */
    reconcile_settle_recheck(&st, 0, 10 * S_, 11 * S_);     /* JetStream down */
    ck_assert_int_eq(reconcile_settled(&st, 1, 11 * S_), 0);
    int64_t t = 20 * S_; /* back: a recheck a second, each taking 0.5 s */
    for (; t + S_ / 2 < 30 * S_; t += S_ + S_ / 2) {
        reconcile_settle_recheck(&st, 1, t, t + S_ / 2);
        ck_assert_msg(!reconcile_settled(&st, 1, t + S_ / 2), "trusted %lld ns in",
                      (long long)(t + S_ / 2 - 20 * S_));
    }
    reconcile_settle_recheck(&st, 1, t, t + S_ / 2);
    ck_assert_int_eq(reconcile_settled(&st, 1, t + S_ / 2), 1);
    /* A failure ends the streak; so does a pause longer than 3 s. */
    reconcile_settle_recheck(&st, 0, t + S_, t + 2 * S_);
    reconcile_settle_recheck(&st, 1, t + 3 * S_, t + 3 * S_);
    ck_assert_int_eq(reconcile_settled(&st, 1, t + 3 * S_), 0);
    t += 3 * S_;
    for (int i = 0; i < 11; i++, t += S_)
        reconcile_settle_recheck(&st, 1, t, t);
    ck_assert_int_eq(reconcile_settled(&st, 1, t), 1);
    ck_assert_int_eq(reconcile_settled(&st, 1, t + 4 * S_), 0); /* the streak is stale */
    reconcile_settle_recheck(&st, 1, t + 4 * S_, t + 4 * S_);
    ck_assert_int_eq(reconcile_settled(&st, 1, t + 4 * S_), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reconcile");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, set_holds_a_pair_only_with_its_offset_and_its_id);
    tcase_add_test(tc, set_keeps_every_pair_across_growth_and_ignores_repeats);
    tcase_add_test(tc, two_ids_at_one_offset_are_both_kept);
    tcase_add_test(tc, metadata_reads_back_what_it_wrote_and_nothing_else);
    tcase_add_test(tc, numbers_parse_only_in_canonical_decimal);
    tcase_add_test(tc, a_miss_is_trusted_only_after_a_later_publish_was_stored);
    tcase_add_test(tc, without_a_barrier_a_miss_is_trusted_after_10_s_of_working_rechecks);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
