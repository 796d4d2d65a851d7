/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for inflight.c: the window refuses when full, the watermark
 * never passes an unfinished event, retries come due in order and on time,
 * a released partition drops its slots exactly once and its old references
 * resolve to nothing, and the message map never loses an entry. Records and
 * messages are fake pointers into arrays owned here; the clear callback
 * counts how often each is released. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "inflight.h"

#define NOW    1000000000LL /* 1 s: retry times must not be 0 (0 means "none") */
#define MS     1000000LL
#define NFAKE  256
#define TOPIC  "events"
#define TOPIC2 "other"

static char fake_records[NFAKE];
static char fake_msgs[NFAKE];

typedef struct clears {
    int calls;       /* clear callback calls, any slot */
    int per[NFAKE];  /* per fake record */
    int msgs[NFAKE]; /* per fake message */
    int with_record; /* calls that found a record */
} clears_t;

static void count_clear(void *ctx, inflight_slot_t *s)
{
    clears_t *c = ctx;
    c->calls++;
    if (s->record) {
        ptrdiff_t i = (char *)s->record - fake_records;
        ck_assert(i >= 0 && i < NFAKE);
        c->per[i]++;
        c->with_record++;
    }
    if (s->msg) {
        ptrdiff_t i = (char *)s->msg - fake_msgs;
        ck_assert(i >= 0 && i < NFAKE);
        c->msgs[i]++;
    }
}

static inflight_t *new_table(uint32_t per_partition, uint32_t total, clears_t *c)
{
    inflight_limits_t lim = {per_partition, total, 100, 1000};
    inflight_t *t = NULL;
    ck_assert_int_eq(inflight_new(&lim, c ? count_clear : NULL, c, &t), 0);
    ck_assert_ptr_nonnull(t);
    return t;
}

static inflight_part_t *assigned(inflight_t *t, const char *topic, int32_t partition)
{
    inflight_part_t *p = inflight_part(t, topic, partition);
    ck_assert_ptr_nonnull(p);
    inflight_assign(t, p, NOW);
    return p;
}

/* Push \p offset and give the slot fake record/msg number \p fake. */
static uint64_t push(inflight_t *t, inflight_part_t *p, int64_t offset, int fake)
{
    uint64_t seq = 0;
    ck_assert_int_eq(inflight_push(t, p, offset, NOW, &seq), 0);
    inflight_slot_t *s = inflight_slot(p, seq);
    ck_assert_int_eq(s->offset, offset);
    if (fake >= 0) {
        s->record = &fake_records[fake];
        s->msg = &fake_msgs[fake];
    }
    return seq;
}

/* ---- the window ------------------------------------------------------------ */

START_TEST(push_refuses_at_partition_capacity_until_the_head_finishes)
{
    clears_t c = {0};
    inflight_t *t = new_table(4, 1000, &c);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    const uint32_t cap = 4 * 2 + 16;
    uint64_t seq[4 * 2 + 16], extra;

    for (uint32_t i = 0; i < cap; i++)
        seq[i] = push(t, p, 10 + i, (int)i);
    ck_assert_int_eq(inflight_push(t, p, 10 + cap, NOW, &extra), -1);
    ck_assert_uint_eq(inflight_count(p), cap);
    ck_assert_uint_eq(inflight_total(t), cap);
    /* A finish behind the head frees no window: the head still pins it. */
    inflight_finish(t, p, seq[5], NOW + 1, NULL);
    ck_assert_int_eq(inflight_push(t, p, 10 + cap, NOW, &extra), -1);
    ck_assert_uint_eq(inflight_total(t), cap - 1);
    inflight_finish(t, p, seq[0], NOW + 2, NULL);
    ck_assert_int_eq(inflight_push(t, p, 10 + cap, NOW, &extra), 0);
    ck_assert_uint_eq(inflight_count(p), cap - 1);
    ck_assert_uint_eq(inflight_total(t), cap - 1);
    ck_assert_int_eq(c.per[0], 1);
    ck_assert_int_eq(c.per[5], 1);
    inflight_destroy(t);
}
END_TEST

START_TEST(full_at_per_partition_limit_of_an_unpaused_partition_only)
{
    inflight_t *t = new_table(4, 100, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    inflight_part_t *q = assigned(t, TOPIC, 1);
    uint64_t s[4];

    for (int i = 0; i < 3; i++)
        s[i] = push(t, p, i, -1);
    push(t, q, 0, -1);
    ck_assert_int_eq(inflight_full(t), 0);
    s[3] = push(t, p, 3, -1);
    ck_assert_int_eq(inflight_full(t), 1);
    p->paused = 1; /* the consumer no longer reads it: others may go on */
    ck_assert_int_eq(inflight_full(t), 0);
    p->paused = 0;
    ck_assert_int_eq(inflight_full(t), 1);
    p->read_held = 1; /* the source no longer reads its queue: the same */
    ck_assert_int_eq(inflight_full(t), 0);
    p->read_held = 0;
    ck_assert_int_eq(inflight_full(t), 1);
    inflight_finish(t, p, s[2], NOW, NULL);
    ck_assert_int_eq(inflight_full(t), 0);
    inflight_destroy(t);
}
END_TEST

START_TEST(full_at_total_limit_even_when_partitions_are_paused)
{
    inflight_t *t = new_table(4, 6, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    inflight_part_t *q = assigned(t, TOPIC2, 0);
    uint64_t s;

    for (int i = 0; i < 3; i++) {
        push(t, p, i, -1);
        s = push(t, q, i, -1);
    }
    ck_assert_uint_eq(inflight_total(t), 6);
    ck_assert_int_eq(inflight_full(t), 1);
    p->paused = q->paused = 1;
    ck_assert_int_eq(inflight_full(t), 1);
    inflight_finish(t, q, s, NOW, NULL);
    ck_assert_uint_eq(inflight_total(t), 5);
    ck_assert_int_eq(inflight_full(t), 0);
    inflight_destroy(t);
}
END_TEST

/* ---- the watermark ----------------------------------------------------------- */

/* Offsets pushed, the order they finish in (indexes) and the committable
 * offset expected after each finish. */
static const struct {
    const char *name;
    int n;
    int64_t offs[6];
    int order[6];
    int64_t expect[6];
} finish_cases[] = {
    {"in order", 3, {10, 11, 12}, {0, 1, 2}, {11, 12, 13}},
    {"reverse order", 4, {10, 11, 12, 13}, {3, 2, 1, 0}, {10, 10, 10, 14}},
    {"middle first", 5, {5, 6, 7, 8, 9}, {2, 1, 4, 0, 3}, {5, 5, 5, 8, 10}},
    {"gaps in offsets", 4, {100, 104, 110, 200}, {1, 3, 0, 2}, {100, 100, 110, 201}},
    {"head last, gaps", 6, {0, 3, 9, 27, 81, 243}, {5, 4, 3, 2, 1, 0}, {0, 0, 0, 0, 0, 244}},
};

START_TEST(watermark_never_passes_an_unfinished_event)
{
    clears_t c = {0};
    inflight_t *t = new_table(8, 100, &c);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    inflight_part_t *q = assigned(t, TOPIC, 1);
    uint64_t seq[6];
    int k = _i;
    int n = finish_cases[k].n;

    push(t, q, 1, 100); /* another partition's event: counted apart */
    for (int i = 0; i < n; i++)
        seq[i] = push(t, p, finish_cases[k].offs[i], i);
    ck_assert_int_eq(inflight_committable(p), finish_cases[k].offs[0]);
    ck_assert_uint_eq(inflight_total(t), (uint32_t)n + 1);
    for (int i = 0; i < n; i++) {
        int j = finish_cases[k].order[i];
        inflight_finish(t, p, seq[j], NOW + i, NULL);
        ck_assert_msg(inflight_committable(p) == finish_cases[k].expect[i],
                      "%s: after finish %d committable %lld, want %lld", finish_cases[k].name, i,
                      (long long)inflight_committable(p), (long long)finish_cases[k].expect[i]);
        ck_assert_uint_eq(inflight_count(p), (uint32_t)(n - i - 1));
        ck_assert_uint_eq(inflight_total(t), (uint32_t)(n - i));
        ck_assert_uint_eq(inflight_pending(t, 0), (uint32_t)(n - i));
        ck_assert_int_eq(c.per[j], 1);
        ck_assert_ptr_null(inflight_resolve(&(inflight_ref_t){p, p->epoch, seq[j]}));
    }
    ck_assert_uint_eq(inflight_count(q), 1);
    ck_assert_int_eq(inflight_committable(q), 1);
    ck_assert_int_eq(c.with_record, n);
    inflight_destroy(t);
}
END_TEST

START_TEST(record_at_or_below_the_last_pushed_offset_is_refused)
{
    inflight_t *t = new_table(8, 100, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t s, bad = 12345;

    s = push(t, p, 7, -1);
    ck_assert_int_eq(inflight_push(t, p, 7, NOW, &bad), -2);
    ck_assert_int_eq(inflight_push(t, p, 3, NOW, &bad), -2);
    ck_assert_uint_eq(inflight_count(p), 1);
    ck_assert_uint_eq(inflight_total(t), 1);
    ck_assert_int_eq(p->next_offset, 8);
    /* Still refused once the event finished: the offset was read before. */
    inflight_finish(t, p, s, NOW, NULL);
    ck_assert_int_eq(inflight_push(t, p, 7, NOW, &bad), -2);
    ck_assert_uint_eq(inflight_total(t), 0);
    push(t, p, 8, -1);
    inflight_destroy(t);
}
END_TEST

START_TEST(committable_is_none_before_a_push_and_last_plus_one_when_all_done)
{
    inflight_t *t = new_table(8, 100, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t a, b;

    ck_assert_int_eq(inflight_committable(p), -1);
    ck_assert_int_eq(p->next_offset, -1);
    a = push(t, p, 40, -1);
    b = push(t, p, 42, -1);
    ck_assert_int_eq(inflight_committable(p), 40);
    inflight_finish(t, p, a, NOW, NULL);
    ck_assert_int_eq(inflight_committable(p), 42);
    inflight_finish(t, p, b, NOW, NULL);
    ck_assert_int_eq(inflight_committable(p), 43);
    ck_assert_uint_eq(inflight_count(p), 0);
    inflight_destroy(t);
}
END_TEST

START_TEST(watermark_starts_over_after_release_and_reassign)
{
    inflight_t *t = new_table(8, 100, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t a;

    a = push(t, p, 500, -1);
    inflight_finish(t, p, a, NOW, NULL);
    push(t, p, 501, -1);
    ck_assert_int_eq(inflight_committable(p), 501);
    ck_assert_uint_eq(inflight_release(t, p), 1);
    ck_assert_int_eq(inflight_committable(p), -1);
    inflight_assign(t, p, NOW + 1);
    ck_assert_int_eq(inflight_committable(p), -1);
    ck_assert_int_eq(p->next_offset, -1);
    ck_assert_int_eq(p->stored, -1);
    /* The new owner may start below where we were (the group's commit). */
    a = push(t, p, 300, -1);
    ck_assert_int_eq(inflight_committable(p), 300);
    inflight_finish(t, p, a, NOW + 2, NULL);
    ck_assert_int_eq(inflight_committable(p), 301);
    inflight_destroy(t);
}
END_TEST

/* ---- retries ------------------------------------------------------------------ */

START_TEST(backoff_doubles_from_initial_and_caps_at_max)
{
    inflight_t *t = new_table(8, 100, NULL); /* 100 ms initial, 1000 ms max */
    const int64_t want[] = {100, 100, 200, 400, 800, 1000, 1000};

    for (unsigned n = 0; n < sizeof(want) / sizeof(want[0]); n++)
        ck_assert_msg(inflight_backoff_ns(t, n) == want[n] * MS, "n=%u: %lld ns, want %lld ms", n,
                      (long long)inflight_backoff_ns(t, n), (long long)want[n]);
    ck_assert_int_eq(inflight_backoff_ns(t, 64), 1000 * MS);
    ck_assert_int_eq(inflight_backoff_ns(t, 65535 + 65535), 1000 * MS);
    inflight_destroy(t);

    inflight_limits_t lim = {8, 100, 2000, 500}; /* initial above max: max wins */
    ck_assert_int_eq(inflight_new(&lim, NULL, NULL, &t), 0);
    ck_assert_int_eq(inflight_backoff_ns(t, 1), 500 * MS);
    inflight_destroy(t);
}
END_TEST

START_TEST(schedule_sets_the_retry_state_waiting_count_and_due_time)
{
    inflight_t *t = new_table(8, 100, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t a = push(t, p, 1, -1), b = push(t, p, 2, -1);

    inflight_set_state(p, a, IF_PUBLISHING);
    ck_assert_uint_eq(p->waiting, 0);
    inflight_schedule(t, p, a, IF_RETRY, NOW); /* no failures counted yet: first backoff */
    ck_assert_int_eq(inflight_slot(p, a)->state, IF_RETRY);
    ck_assert_int_eq(inflight_slot(p, a)->retry_at_ns, NOW + 100 * MS);
    ck_assert_uint_eq(p->waiting, 1);
    inflight_slot(p, b)->attempts = 2;
    inflight_slot(p, b)->outage_tries = 1; /* 3 tries: 400 ms */
    inflight_schedule(t, p, b, IF_DLQ_RETRY, NOW);
    ck_assert_int_eq(inflight_slot(p, b)->state, IF_DLQ_RETRY);
    ck_assert_int_eq(inflight_slot(p, b)->retry_at_ns, NOW + 400 * MS);
    ck_assert_uint_eq(p->waiting, 2);
    /* Rescheduling a waiting slot does not count it twice. */
    inflight_schedule(t, p, a, IF_DLQ_RETRY, NOW);
    ck_assert_uint_eq(p->waiting, 2);
    inflight_set_state(p, a, IF_PUBLISHING);
    ck_assert_uint_eq(p->waiting, 1);
    inflight_set_state(p, b, IF_DLQ);
    ck_assert_uint_eq(p->waiting, 0);
    inflight_destroy(t);
}
END_TEST

START_TEST(finishing_a_waiting_slot_drops_it_from_the_waiting_count)
{
    inflight_t *t = new_table(8, 100, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t a = push(t, p, 1, -1);
    inflight_ref_t out[4];

    inflight_schedule(t, p, a, IF_RETRY, NOW);
    ck_assert_uint_eq(p->waiting, 1);
    inflight_finish(t, p, a, NOW, NULL);
    ck_assert_uint_eq(p->waiting, 0);
    ck_assert_uint_eq(inflight_due(t, NOW + 10000 * MS, out, 4), 0);
    inflight_destroy(t);
}
END_TEST

START_TEST(due_returns_nothing_before_its_time_then_due_slots_in_offset_order)
{
    inflight_t *t = new_table(8, 100, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t s[6];
    inflight_ref_t out[8];

    for (int i = 0; i < 6; i++)
        s[i] = push(t, p, 10 * i, -1);
    /* Scheduled out of offset order, with different backoffs. */
    inflight_slot(p, s[1])->attempts = 2; /* 200 ms */
    inflight_schedule(t, p, s[4], IF_RETRY, NOW);
    inflight_schedule(t, p, s[1], IF_DLQ_RETRY, NOW);
    inflight_schedule(t, p, s[3], IF_RETRY, NOW);
    inflight_set_state(p, s[2], IF_PUBLISHING); /* not waiting: never due */
    ck_assert_int_eq(inflight_next_due(t), NOW + 100 * MS);

    ck_assert_uint_eq(inflight_due(t, NOW, out, 8), 0);
    ck_assert_uint_eq(inflight_due(t, NOW + 100 * MS - 1, out, 8), 0);
    ck_assert_uint_eq(inflight_due(t, NOW + 100 * MS, out, 8), 2);
    ck_assert_uint_eq(out[0].seq, s[3]);
    ck_assert_uint_eq(out[1].seq, s[4]);
    ck_assert_ptr_eq(inflight_resolve(&out[0]), inflight_slot(p, s[3]));
    ck_assert_int_eq(inflight_slot(p, s[3])->state, IF_RETRY); /* left to the caller */
    ck_assert_int_eq(inflight_next_due(t), NOW + 200 * MS);
    inflight_set_state(p, s[3], IF_PUBLISHING);
    inflight_set_state(p, s[4], IF_PUBLISHING);
    ck_assert_uint_eq(inflight_due(t, NOW + 150 * MS, out, 8), 0);
    ck_assert_uint_eq(inflight_due(t, NOW + 200 * MS, out, 8), 1);
    ck_assert_uint_eq(out[0].seq, s[1]);
    inflight_destroy(t);
}
END_TEST

START_TEST(due_honours_max_and_returns_the_rest_on_the_next_call)
{
    inflight_t *t = new_table(16, 100, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t s[7];
    inflight_ref_t out[8];

    for (int i = 0; i < 7; i++) {
        s[i] = push(t, p, 3 * i + 1, -1);
        inflight_schedule(t, p, s[i], IF_RETRY, NOW + (7 - i) * MS);
    }
    ck_assert_int_eq(inflight_next_due(t), NOW + 101 * MS);
    int64_t now = NOW + 200 * MS;
    ck_assert_uint_eq(inflight_due(t, now, out, 3), 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(out[i].seq, s[i]);
        inflight_set_state(p, out[i].seq, IF_PUBLISHING);
    }
    ck_assert_int_ne(inflight_next_due(t), 0);
    ck_assert_int_le(inflight_next_due(t), now);
    ck_assert_uint_eq(inflight_due(t, now, out, 3), 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(out[i].seq, s[3 + i]);
        inflight_set_state(p, out[i].seq, IF_PUBLISHING);
    }
    ck_assert_uint_eq(inflight_due(t, now, out, 3), 1);
    ck_assert_uint_eq(out[0].seq, s[6]);
    inflight_set_state(p, out[0].seq, IF_PUBLISHING);
    ck_assert_uint_eq(p->waiting, 0);
    ck_assert_uint_eq(inflight_due(t, now, out, 3), 0);
    ck_assert_int_eq(inflight_next_due(t), 0);
    inflight_destroy(t);
}
END_TEST

START_TEST(next_due_is_the_earliest_retry_over_every_partition)
{
    inflight_t *t = new_table(8, 100, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    inflight_part_t *q = assigned(t, TOPIC2, 3);
    uint64_t a = push(t, p, 1, -1), b = push(t, q, 1, -1), c = push(t, q, 2, -1);
    inflight_ref_t out[4];

    ck_assert_int_eq(inflight_next_due(t), 0);
    inflight_schedule(t, p, a, IF_RETRY, NOW + 50 * MS); /* due NOW+150 */
    ck_assert_int_eq(inflight_next_due(t), NOW + 150 * MS);
    inflight_schedule(t, q, c, IF_RETRY, NOW); /* due NOW+100 */
    ck_assert_int_eq(inflight_next_due(t), NOW + 100 * MS);
    inflight_slot(q, b)->attempts = 4;
    inflight_schedule(t, q, b, IF_DLQ_RETRY, NOW); /* due NOW+800 */
    ck_assert_int_eq(inflight_next_due(t), NOW + 100 * MS);
    ck_assert_uint_eq(inflight_due(t, NOW + 100 * MS, out, 4), 1);
    ck_assert_uint_eq(out[0].seq, c);
    ck_assert_ptr_eq(out[0].p, q);
    inflight_set_state(q, c, IF_PUBLISHING);
    ck_assert_int_eq(inflight_next_due(t), NOW + 150 * MS);
    ck_assert_uint_eq(inflight_due(t, NOW + 150 * MS, out, 4), 1);
    ck_assert_ptr_eq(out[0].p, p);
    inflight_set_state(p, a, IF_PUBLISHING);
    ck_assert_int_eq(inflight_next_due(t), NOW + 800 * MS);
    inflight_destroy(t);
}
END_TEST

START_TEST(defer_postpones_a_waiting_slot)
{
    inflight_t *t = new_table(8, 100, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t a = push(t, p, 1, -1);
    inflight_ref_t out[4];

    inflight_schedule(t, p, a, IF_RETRY, NOW);
    inflight_defer(t, p, a, NOW + 5000 * MS); /* the connection is down */
    ck_assert_int_eq(inflight_slot(p, a)->retry_at_ns, NOW + 5000 * MS);
    ck_assert_uint_eq(inflight_due(t, NOW + 100 * MS, out, 4), 0);
    ck_assert_int_eq(inflight_next_due(t), NOW + 5000 * MS);
    ck_assert_uint_eq(inflight_due(t, NOW + 4999 * MS, out, 4), 0);
    ck_assert_uint_eq(inflight_due(t, NOW + 5000 * MS, out, 4), 1);
    ck_assert_uint_eq(out[0].seq, a);
    /* Deferring the due slot again (instead of acting) keeps it scheduled. */
    inflight_defer(t, p, a, NOW + 6000 * MS);
    ck_assert_int_eq(inflight_next_due(t), NOW + 6000 * MS);
    ck_assert_int_eq(inflight_slot(p, a)->state, IF_RETRY);
    inflight_destroy(t);
}
END_TEST

/* ---- release mid-flight -------------------------------------------------------- */

START_TEST(release_clears_each_pending_slot_once_and_kills_old_refs)
{
    clears_t c = {0};
    inflight_t *t = new_table(8, 100, &c);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    inflight_part_t *q = assigned(t, TOPIC, 1);
    uint64_t s[6];
    inflight_ref_t ref[6];

    for (int i = 0; i < 6; i++) {
        s[i] = push(t, p, 100 + 2 * i, i);
        ref[i] = inflight_ref(p, s[i]);
    }
    push(t, q, 7, 50);
    inflight_finish(t, p, s[1], NOW, NULL); /* already finished: not cleared again */
    inflight_finish(t, p, s[4], NOW, NULL);
    inflight_schedule(t, p, s[2], IF_RETRY, NOW);
    inflight_set_state(p, s[3], IF_PUBLISHING);
    ck_assert_int_eq(c.calls, 2);
    ck_assert_ptr_nonnull(inflight_resolve(&ref[0]));
    uint32_t epoch = p->epoch;

    ck_assert_uint_eq(inflight_release(t, p), 4);
    ck_assert_int_eq(c.calls, 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_msg(c.per[i] == 1, "record %d cleared %d times", i, c.per[i]);
        ck_assert_msg(c.msgs[i] == 1, "msg %d cleared %d times", i, c.msgs[i]);
        ck_assert_ptr_null(inflight_resolve(&ref[i]));
    }
    ck_assert_int_eq(c.per[50], 0);
    ck_assert_uint_ne(p->epoch, epoch);
    ck_assert_int_eq(p->assigned, 0);
    ck_assert_uint_eq(p->waiting, 0);
    ck_assert_uint_eq(inflight_count(p), 0);
    ck_assert_uint_eq(inflight_total(t), 1);
    ck_assert_uint_eq(inflight_pending(t, 0), 1);
    ck_assert_uint_eq(inflight_count(q), 1);
    /* Releasing again drops nothing more. */
    ck_assert_uint_eq(inflight_release(t, p), 0);
    ck_assert_int_eq(c.calls, 6);
    inflight_destroy(t);
    ck_assert_int_eq(c.per[50], 1);
}
END_TEST

START_TEST(map_entry_taken_after_release_gives_the_old_ref_which_resolves_to_null)
{
    clears_t c = {0};
    inflight_t *t = new_table(8, 100, &c);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t a = push(t, p, 1, 0);
    inflight_ref_t ref = inflight_ref(p, a), got;

    /* The publisher took the message: the map knows it, the slot does not. */
    inflight_slot(p, a)->msg = NULL;
    ck_assert_int_eq(inflight_map_put(t, &fake_msgs[0], ref), 0);
    ck_assert_uint_eq(inflight_release(t, p), 1);
    ck_assert_int_eq(c.per[0], 1);
    ck_assert_int_eq(c.msgs[0], 0);
    ck_assert_int_eq(inflight_map_take(t, &fake_msgs[0], &got), 0);
    ck_assert_ptr_eq(got.p, p);
    ck_assert_uint_eq(got.epoch, ref.epoch);
    ck_assert_uint_eq(got.seq, a);
    ck_assert_ptr_null(inflight_resolve(&got));
    ck_assert_int_eq(inflight_map_take(t, &fake_msgs[0], &got), -1);
    inflight_destroy(t);
}
END_TEST

START_TEST(reassigned_partition_starts_a_fresh_window_and_old_refs_stay_dead)
{
    clears_t c = {0};
    inflight_t *t = new_table(4, 100, &c);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    inflight_ref_t old[24];
    const int cap = 4 * 2 + 16;

    for (int i = 0; i < cap; i++)
        old[i] = inflight_ref(p, push(t, p, 1000 + i, i));
    ck_assert_uint_eq(inflight_release(t, p), (uint32_t)cap);
    inflight_assign(t, p, NOW + 1);
    ck_assert_ptr_eq(inflight_find(t, TOPIC, 0), p);
    ck_assert_int_eq(p->assigned, 1);
    ck_assert_uint_eq(inflight_count(p), 0);
    ck_assert_int_eq(inflight_committable(p), -1);
    /* A whole new window, reusing every ring slot the old refs pointed at. */
    for (int i = 0; i < cap; i++)
        push(t, p, 900 + i, 100 + i);
    for (int i = 0; i < cap; i++)
        ck_assert_msg(inflight_resolve(&old[i]) == NULL, "old ref %d resolves after reassign", i);
    ck_assert_uint_eq(inflight_total(t), (uint32_t)cap);
    /* Assigning an assigned partition releases it first. */
    inflight_assign(t, p, NOW + 2);
    ck_assert_uint_eq(inflight_total(t), 0);
    ck_assert_int_eq(c.with_record, 2 * cap);
    inflight_destroy(t);
    ck_assert_int_eq(c.with_record, 2 * cap);
}
END_TEST

START_TEST(due_ignores_released_partitions)
{
    inflight_t *t = new_table(8, 100, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    inflight_part_t *q = assigned(t, TOPIC, 1);
    uint64_t a = push(t, p, 1, -1), b = push(t, q, 1, -1);
    inflight_ref_t out[4];

    inflight_schedule(t, p, a, IF_RETRY, NOW);
    inflight_schedule(t, q, b, IF_RETRY, NOW);
    inflight_release(t, p);
    ck_assert_uint_eq(inflight_due(t, NOW + 1000 * MS, out, 4), 1);
    ck_assert_ptr_eq(out[0].p, q);
    inflight_set_state(q, b, IF_PUBLISHING);
    inflight_release(t, q);
    inflight_assign(t, p, NOW);
    inflight_assign(t, q, NOW);
    ck_assert_uint_eq(inflight_due(t, NOW + 1000 * MS, out, 4), 0);
    inflight_destroy(t);
}
END_TEST

/* ---- the message map ------------------------------------------------------------ */

/* What the map holds for limits.total: size is the power of two at least
 * max(1024, 4 × total), and it takes entries while count × 2 <= size - 1. */
static size_t map_capacity(uint32_t total)
{
    size_t size = 1024;
    while (size < (size_t)total * 4)
        size *= 2;
    return (size - 1) / 2 + 1;
}

START_TEST(map_put_take_round_trip_and_unknown_key)
{
    inflight_t *t = new_table(8, 100, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    inflight_ref_t r1 = inflight_ref(p, push(t, p, 1, -1));
    inflight_ref_t r2 = inflight_ref(p, push(t, p, 2, -1));
    inflight_ref_t got;

    ck_assert_int_eq(inflight_map_take(t, &fake_msgs[0], &got), -1);
    ck_assert_int_eq(inflight_map_put(t, &fake_msgs[0], r1), 0);
    ck_assert_int_eq(inflight_map_put(t, &fake_msgs[1], r2), 0);
    ck_assert_int_eq(inflight_map_take(t, &fake_msgs[2], &got), -1);
    ck_assert_int_eq(inflight_map_take(t, &fake_msgs[1], &got), 0);
    ck_assert_ptr_eq(got.p, p);
    ck_assert_uint_eq(got.seq, r2.seq);
    ck_assert_uint_eq(got.epoch, r2.epoch);
    ck_assert_ptr_eq(inflight_resolve(&got), inflight_slot(p, r2.seq));
    ck_assert_int_eq(inflight_map_take(t, &fake_msgs[1], &got), -1);
    ck_assert_int_eq(inflight_map_take(t, &fake_msgs[0], NULL), 0);
    ck_assert_int_eq(inflight_map_take(t, &fake_msgs[0], NULL), -1);
    inflight_destroy(t);
}
END_TEST

static const uint32_t map_totals[] = {1, 100, 256, 257, 1000, 3000};

START_TEST(map_refuses_when_full_and_accepts_again_after_a_take)
{
    uint32_t total = map_totals[_i];
    size_t cap = map_capacity(total);
    inflight_limits_t lim = {1, total, 100, 1000};
    inflight_t *t;
    static char keys[16384 + 2];
    inflight_ref_t r = {NULL, 0, 0}, got;

    ck_assert_uint_ge(cap, (size_t)total * 2); /* the header's promise */
    ck_assert_uint_lt(cap, sizeof(keys));
    ck_assert_int_eq(inflight_new(&lim, NULL, NULL, &t), 0);
    for (size_t i = 0; i < cap; i++) {
        r.seq = i;
        ck_assert_msg(inflight_map_put(t, &keys[i], r) == 0, "total %u: put %zu of %zu refused",
                      total, i, cap);
    }
    r.seq = cap;
    ck_assert_int_eq(inflight_map_put(t, &keys[cap], r), -1);
    ck_assert_int_eq(inflight_map_take(t, &keys[cap], NULL), -1);
    ck_assert_int_eq(inflight_map_take(t, &keys[cap / 2], &got), 0);
    ck_assert_uint_eq(got.seq, cap / 2);
    ck_assert_int_eq(inflight_map_put(t, &keys[cap], r), 0);
    ck_assert_int_eq(inflight_map_put(t, &keys[cap + 1], r), -1);
    /* Every entry is still there after filling to the limit. */
    for (size_t i = 0; i <= cap; i++) {
        if (i == cap / 2)
            continue;
        ck_assert_int_eq(inflight_map_take(t, &keys[i], &got), 0);
        ck_assert_uint_eq(got.seq, i);
    }
    ck_assert_int_eq(inflight_map_put(t, &keys[0], r), 0);
    inflight_destroy(t);
}
END_TEST

/* The map hashes key addresses, which move from run to run (PIE, ASLR), so
 * which clusters wrap past the table's end is luck: 100,000 operations at
 * half load make a deletion in a wrapped cluster certain in practice (a
 * planted bug in that branch was caught in 40 runs out of 40; 10,000
 * operations missed it in some runs). */
START_TEST(map_never_loses_an_entry_over_random_puts_and_takes)
{
    enum { KEYS = 1500, OPS = 100000 };
    static char keys[KEYS];
    static int in[KEYS];
    inflight_limits_t lim = {1, 100, 100, 1000}; /* 1024 buckets, 512 entries */
    size_t cap = map_capacity(100), count = 0;
    inflight_t *t;
    inflight_ref_t r = {NULL, 0, 0}, got;
    unsigned seed = 7;

    memset(in, 0, sizeof(in));
    ck_assert_int_eq(inflight_new(&lim, NULL, NULL, &t), 0);
    for (int op = 0; op < OPS; op++) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 8) % KEYS);
        if (in[k]) {
            ck_assert_msg(inflight_map_take(t, &keys[k], &got) == 0, "op %d: key %d lost", op, k);
            ck_assert_msg(got.seq == (uint64_t)k, "op %d: key %d gave %llu", op, k,
                          (unsigned long long)got.seq);
            in[k] = 0;
            count--;
        } else if (count < cap) {
            r.seq = (uint64_t)k;
            ck_assert_int_eq(inflight_map_put(t, &keys[k], r), 0);
            in[k] = 1;
            count++;
        } else {
            ck_assert_int_eq(inflight_map_take(t, &keys[k], NULL), -1);
            r.seq = (uint64_t)k;
            ck_assert_int_eq(inflight_map_put(t, &keys[k], r), -1);
        }
        if (op % 1000 == 999) /* every key absent is unknown to the map */
            for (int j = 0; j < KEYS; j++)
                if (!in[j])
                    ck_assert_msg(inflight_map_take(t, &keys[j], NULL) == -1,
                                  "op %d: taken key %d still found", op, j);
    }
    ck_assert_uint_gt(count, 0);
    for (int k = 0; k < KEYS; k++) {
        if (!in[k])
            continue;
        ck_assert_msg(inflight_map_take(t, &keys[k], &got) == 0, "key %d lost at the end", k);
        ck_assert_uint_eq(got.seq, (uint64_t)k);
    }
    for (size_t i = 0; i < cap; i++) /* empty again: full capacity */
        ck_assert_int_eq(inflight_map_put(t, &keys[i], r), 0);
    inflight_destroy(t);
}
END_TEST

/* ---- ownership ---------------------------------------------------------------------- */

START_TEST(destroy_clears_every_slot_still_held)
{
    clears_t c = {0};
    inflight_t *t = new_table(8, 100, &c);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    inflight_part_t *q = assigned(t, TOPIC2, 5);
    inflight_part_t *r = assigned(t, TOPIC, 9);
    uint64_t a = push(t, p, 1, 0);

    push(t, p, 2, 1);
    push(t, q, 1, 2);
    push(t, r, 1, 3);
    inflight_slot(p, a)->dlq_detail = strdup("held at destroy");
    inflight_release(t, r); /* released before: not cleared twice */
    ck_assert_int_eq(c.calls, 1);
    inflight_destroy(t);
    ck_assert_int_eq(c.calls, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(c.per[i] == 1, "record %d cleared %d times", i, c.per[i]);
    inflight_destroy(NULL);
}
END_TEST

START_TEST(dlq_detail_is_freed_by_finish_and_release)
{
    clears_t c = {0};
    inflight_t *t = new_table(8, 100, &c);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t a = push(t, p, 1, 0), b = push(t, p, 2, 1);

    inflight_slot(p, a)->dlq_detail = strdup("finished with a detail");
    inflight_slot(p, b)->dlq_detail = strdup("released with a detail");
    inflight_slot(p, b)->dlq_code = "schema";
    inflight_finish(t, p, a, NOW, NULL);
    ck_assert_ptr_null(inflight_slot(p, a)->dlq_detail);
    ck_assert_uint_eq(inflight_release(t, p), 1);
    ck_assert_ptr_null(inflight_slot(p, b)->dlq_detail);
    ck_assert_ptr_null(inflight_slot(p, b)->dlq_code);
    ck_assert_int_eq(c.calls, 2);
    /* A slot reused after a finish starts empty. */
    inflight_assign(t, p, NOW);
    uint64_t d = push(t, p, 3, -1);
    ck_assert_ptr_null(inflight_slot(p, d)->dlq_detail);
    ck_assert_ptr_null(inflight_slot(p, d)->record);
    inflight_destroy(t);
}
END_TEST

/* ---- per-key order ------------------------------------------------------------ */

START_TEST(second_event_of_a_key_is_held_until_the_first_finishes)
{
    inflight_t *t = new_table(16, 64, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t a = push(t, p, 0, -1), b = push(t, p, 1, -1), c = push(t, p, 2, -1), next = 0;

    ck_assert_int_eq(inflight_order(t, p, a, 7), 1);
    ck_assert_int_eq(inflight_order(t, p, b, 7), 0);
    ck_assert_int_eq(inflight_order(t, p, c, 7), 0);
    ck_assert_int_eq(inflight_slot(p, b)->state, IF_HELD);
    ck_assert_uint_eq(p->held, 2);
    ck_assert_uint_eq(inflight_held(t), 2);

    ck_assert_int_eq(inflight_finish(t, p, a, NOW, &next), 1);
    ck_assert_uint_eq(next, b);
    ck_assert_int_eq(inflight_slot(p, b)->state, IF_FREE);
    ck_assert_int_eq(inflight_slot(p, c)->state, IF_HELD);
    ck_assert_uint_eq(p->held, 1);
    ck_assert_int_eq(inflight_finish(t, p, b, NOW, &next), 1);
    ck_assert_uint_eq(next, c);
    ck_assert_uint_eq(p->held, 0);
    next = 99;
    ck_assert_int_eq(inflight_finish(t, p, c, NOW, &next), 0);
    ck_assert_uint_eq(next, 99);
    ck_assert_int_eq(inflight_committable(p), 3);
    inflight_destroy(t);
}
END_TEST

START_TEST(other_keys_and_unordered_events_go_past_a_held_key)
{
    inflight_t *t = new_table(16, 64, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t s[5];
    for (int i = 0; i < 5; i++)
        s[i] = push(t, p, i, -1);

    ck_assert_int_eq(inflight_order(t, p, s[0], 7), 1);
    ck_assert_int_eq(inflight_order(t, p, s[1], 7), 0);
    ck_assert_int_eq(inflight_order(t, p, s[2], 8), 1);
    ck_assert_int_eq(inflight_order(t, p, s[3], 0), 1);
    ck_assert_int_eq(inflight_order(t, p, s[4], 0), 1);
    ck_assert_uint_eq(p->held, 1);
    inflight_destroy(t);
}
END_TEST

START_TEST(same_key_in_another_partition_is_not_held)
{
    inflight_t *t = new_table(16, 64, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0), *q = assigned(t, TOPIC, 1);
    uint64_t a = push(t, p, 0, -1), b = push(t, q, 0, -1);

    ck_assert_int_eq(inflight_order(t, p, a, 7), 1);
    ck_assert_int_eq(inflight_order(t, q, b, 7), 1);
    inflight_destroy(t);
}
END_TEST

START_TEST(key_is_free_again_once_its_last_event_finishes)
{
    inflight_t *t = new_table(16, 64, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t a = push(t, p, 0, -1), next;

    ck_assert_int_eq(inflight_order(t, p, a, 7), 1);
    ck_assert_int_eq(inflight_finish(t, p, a, NOW, &next), 0);
    uint64_t b = push(t, p, 1, -1);
    ck_assert_int_eq(inflight_order(t, p, b, 7), 1);
    inflight_destroy(t);
}
END_TEST

START_TEST(retried_event_keeps_its_key_blocked_and_watermark_waits)
{
    inflight_t *t = new_table(16, 64, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t a = push(t, p, 0, -1), b = push(t, p, 1, -1), c = push(t, p, 2, -1), next;

    ck_assert_int_eq(inflight_order(t, p, a, 7), 1);
    ck_assert_int_eq(inflight_order(t, p, b, 7), 0);
    ck_assert_int_eq(inflight_order(t, p, c, 9), 1);
    inflight_schedule(t, p, a, IF_RETRY, NOW);
    ck_assert_int_eq(inflight_finish(t, p, c, NOW, &next), 0);
    ck_assert_int_eq(inflight_committable(p), 0);
    ck_assert_int_eq(inflight_slot(p, b)->state, IF_HELD);
    /* Held slots are never due: only their predecessor releases them. */
    inflight_ref_t due[4];
    ck_assert_uint_eq(inflight_due(t, NOW + 10 * 1000 * MS, due, 4), 1);
    ck_assert_uint_eq(due[0].seq, a);
    ck_assert_int_eq(inflight_finish(t, p, a, NOW, &next), 1);
    ck_assert_uint_eq(next, b);
    ck_assert_int_eq(inflight_committable(p), 1);
    inflight_destroy(t);
}
END_TEST

START_TEST(release_forgets_every_key_and_every_hold)
{
    clears_t c = {0};
    inflight_t *t = new_table(16, 64, &c);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t a = push(t, p, 0, 0), b = push(t, p, 1, 1);

    ck_assert_int_eq(inflight_order(t, p, a, 7), 1);
    ck_assert_int_eq(inflight_order(t, p, b, 7), 0);
    ck_assert_uint_eq(inflight_release(t, p), 2);
    ck_assert_uint_eq(p->held, 0);
    ck_assert_int_eq(c.per[1], 1); /* the held event's record is freed too */
    inflight_assign(t, p, NOW);
    uint64_t d = push(t, p, 0, -1);
    ck_assert_int_eq(inflight_order(t, p, d, 7), 1);
    inflight_destroy(t);
}
END_TEST

/*
 * A model check over random keys and a random finishing order: at every
 * step, each key has exactly one event that is not held (the oldest
 * unfinished one), and events of one key are released in offset order.
 */
START_TEST(random_keys_release_each_key_in_offset_order_one_at_a_time)
{
    enum { N = 4000, KEYS = 13, WIN = 64 };
    inflight_t *t = new_table(WIN, WIN, NULL);
    inflight_part_t *p = assigned(t, TOPIC, 0);
    uint64_t seqs[N], keys[N];
    int state[N]; /* 0 not pushed, 1 ready, 2 held, 3 done */
    int64_t last_released[KEYS + 1];
    unsigned rng = 12345u + (unsigned)_i;
    int pushed = 0, done = 0;

    memset(state, 0, sizeof(state));
    for (int k = 0; k <= KEYS; k++)
        last_released[k] = -1;
    while (done < N) {
        rng = rng * 1103515245u + 12345u;
        if (pushed < N && inflight_count(p) < WIN && (rng >> 16) % 3 != 0 &&
            inflight_push(t, p, pushed, NOW, &seqs[pushed]) == 0) {
            int i = pushed++; /* (the ring refuses when the oldest is too far back) */
            keys[i] = (rng >> 8) % (KEYS + 1); /* 0: not ordered */
            state[i] = inflight_order(t, p, seqs[i], keys[i]) ? 1 : 2;
            if (state[i] == 1 && keys[i]) {
                ck_assert_int_gt(i, last_released[keys[i]]);
                last_released[keys[i]] = i;
            }
            continue;
        }
        /* Finish a random ready event. */
        int ready[WIN * 2], nr = 0;
        for (int i = 0; i < pushed; i++)
            if (state[i] == 1)
                ready[nr++] = i;
        if (!nr)
            continue;
        int i = ready[(rng >> 4) % (unsigned)nr];
        uint64_t next;
        int rel = inflight_finish(t, p, seqs[i], NOW, &next);
        state[i] = 3;
        done++;
        if (rel) {
            int j = (int)(next - seqs[0]);
            ck_assert_int_eq(state[j], 2);
            ck_assert_uint_eq(keys[j], keys[i]);
            ck_assert_int_gt(j, last_released[keys[j]]);
            last_released[keys[j]] = j;
            state[j] = 1;
        }
        /* Invariant: per key, the oldest unfinished event is the only one ready. */
        for (uint64_t k = 1; k <= KEYS; k++) {
            int first = 1;
            for (int x = 0; x < pushed; x++) {
                if (keys[x] != k || state[x] == 3)
                    continue;
                ck_assert_int_eq(state[x], first ? 1 : 2);
                first = 0;
            }
        }
    }
    ck_assert_uint_eq(p->held, 0);
    ck_assert_int_eq(inflight_committable(p), N);
    inflight_destroy(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("inflight");
    TCase *tc = tcase_create("window");
    tcase_add_test(tc, push_refuses_at_partition_capacity_until_the_head_finishes);
    tcase_add_test(tc, full_at_per_partition_limit_of_an_unpaused_partition_only);
    tcase_add_test(tc, full_at_total_limit_even_when_partitions_are_paused);
    tcase_add_loop_test(tc, watermark_never_passes_an_unfinished_event, 0,
                        sizeof(finish_cases) / sizeof(finish_cases[0]));
    tcase_add_test(tc, record_at_or_below_the_last_pushed_offset_is_refused);
    tcase_add_test(tc, committable_is_none_before_a_push_and_last_plus_one_when_all_done);
    tcase_add_test(tc, watermark_starts_over_after_release_and_reassign);
    suite_add_tcase(s, tc);

    tc = tcase_create("retries");
    tcase_add_test(tc, backoff_doubles_from_initial_and_caps_at_max);
    tcase_add_test(tc, schedule_sets_the_retry_state_waiting_count_and_due_time);
    tcase_add_test(tc, finishing_a_waiting_slot_drops_it_from_the_waiting_count);
    tcase_add_test(tc, due_returns_nothing_before_its_time_then_due_slots_in_offset_order);
    tcase_add_test(tc, due_honours_max_and_returns_the_rest_on_the_next_call);
    tcase_add_test(tc, next_due_is_the_earliest_retry_over_every_partition);
    tcase_add_test(tc, defer_postpones_a_waiting_slot);
    suite_add_tcase(s, tc);

    tc = tcase_create("release");
    tcase_add_test(tc, release_clears_each_pending_slot_once_and_kills_old_refs);
    tcase_add_test(tc, map_entry_taken_after_release_gives_the_old_ref_which_resolves_to_null);
    tcase_add_test(tc, reassigned_partition_starts_a_fresh_window_and_old_refs_stay_dead);
    tcase_add_test(tc, due_ignores_released_partitions);
    suite_add_tcase(s, tc);

    tc = tcase_create("map");
    tcase_add_test(tc, map_put_take_round_trip_and_unknown_key);
    tcase_add_loop_test(tc, map_refuses_when_full_and_accepts_again_after_a_take, 0,
                        sizeof(map_totals) / sizeof(map_totals[0]));
    tcase_add_test(tc, map_never_loses_an_entry_over_random_puts_and_takes);
    suite_add_tcase(s, tc);

    tc = tcase_create("order");
    tcase_add_test(tc, second_event_of_a_key_is_held_until_the_first_finishes);
    tcase_add_test(tc, other_keys_and_unordered_events_go_past_a_held_key);
    tcase_add_test(tc, same_key_in_another_partition_is_not_held);
    tcase_add_test(tc, key_is_free_again_once_its_last_event_finishes);
    tcase_add_test(tc, retried_event_keeps_its_key_blocked_and_watermark_waits);
    tcase_add_test(tc, release_forgets_every_key_and_every_hold);
    tcase_add_loop_test(tc, random_keys_release_each_key_in_offset_order_one_at_a_time, 0, 4);
    suite_add_tcase(s, tc);

    tc = tcase_create("ownership");
    tcase_add_test(tc, destroy_clears_every_slot_still_held);
    tcase_add_test(tc, dlq_detail_is_freed_by_finish_and_release);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
