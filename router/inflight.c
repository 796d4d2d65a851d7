/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inflight: the table of events between "read from Kafka" and "finished".
 * Per partition, a ring of slots indexed by the watermark's sequence
 * numbers (offsets.c); a pointer map from published messages back to their
 * slots; retries found by scanning the windows of partitions that have
 * something waiting, so the schedule needs no list of its own and comes out
 * in offset order. Pure (see inflight.h). Not for: deciding what to do with
 * an event (router.c) or talking to anyone.
 */
#include <stdlib.h>
#include <string.h>

#include "inflight.h"
#include "offsets.h"

#define PART_BUCKETS 256

/* One order key with an unfinished event: the last such slot (the tail of
 * the key's chain). key 0 marks an empty bucket. */
typedef struct inflight_key {
    uint64_t key;
    uint64_t seq;
} inflight_key_t;

typedef struct map_entry {
    const void *key;
    inflight_ref_t ref;
} map_entry_t;

struct inflight {
    inflight_limits_t lim;
    uint32_t win_cap;
    inflight_clear_fn *clear;
    void *ctx;
    inflight_part_t *buckets[PART_BUCKETS];
    inflight_part_t *parts;
    uint32_t total;
    int64_t last_finish_ns; /* when an event last finished, in any partition */
    int64_t next_due_ns;
    map_entry_t *map;
    size_t map_mask, map_count;
};

int inflight_new(const inflight_limits_t *lim, inflight_clear_fn *clear, void *ctx,
                 inflight_t **out)
{
    inflight_t *t = calloc(1, sizeof(*t));
    size_t size = 1024;

    if (!t)
        return -1;
    t->lim = *lim;
    /* Room for the records read past the point where reading stops (a
     * batch already taken from the consumer) plus headroom. */
    t->win_cap = lim->per_partition * 2 + 16;
    t->clear = clear;
    t->ctx = ctx;
    while (size < (size_t)lim->total * 4)
        size *= 2;
    t->map = calloc(size, sizeof(*t->map));
    if (!t->map) {
        free(t);
        return -1;
    }
    t->map_mask = size - 1;
    *out = t;
    return 0;
}

static void slot_clear(inflight_t *t, inflight_slot_t *s)
{
    if (t->clear)
        t->clear(t->ctx, s);
    free(s->dlq_detail);
    memset(s, 0, sizeof(*s));
}

void inflight_destroy(inflight_t *t)
{
    if (!t)
        return;
    while (t->parts) {
        inflight_part_t *p = t->parts;
        t->parts = p->next;
        if (p->assigned)
            inflight_release(t, p);
        offsets_destroy(p->win);
        free(p->slots);
        free(p->keys);
        free(p->topic);
        free(p);
    }
    free(t->map);
    free(t);
}

/* ---- partitions ----------------------------------------------------------- */

static size_t part_bucket(const char *topic, int32_t partition)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *c = topic; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    return (size_t)((h ^ (uint64_t)partition * 0x9E3779B97F4A7C15ULL) % PART_BUCKETS);
}

inflight_part_t *inflight_find(inflight_t *t, const char *topic, int32_t partition)
{
    for (inflight_part_t *p = t->buckets[part_bucket(topic, partition)]; p; p = p->hnext)
        if (p->partition == partition && !strcmp(p->topic, topic))
            return p;
    return NULL;
}

inflight_part_t *inflight_part(inflight_t *t, const char *topic, int32_t partition)
{
    inflight_part_t *p = inflight_find(t, topic, partition);
    if (p)
        return p;
    /* Linear probing at a load of at most 1/2: never more keys than slots. */
    size_t nkeys = 16;
    while (nkeys < (size_t)t->win_cap * 2)
        nkeys *= 2;
    p = calloc(1, sizeof(*p));
    if (!p || !(p->topic = strdup(topic)) || !(p->win = offsets_new(t->win_cap)) ||
        !(p->slots = calloc(t->win_cap, sizeof(*p->slots))) ||
        !(p->keys = calloc(nkeys, sizeof(*p->keys)))) {
        if (p) {
            offsets_destroy(p->win);
            free(p->slots);
            free(p->topic);
            free(p);
        }
        return NULL;
    }
    p->keys_mask = (uint32_t)(nkeys - 1);
    p->partition = partition;
    p->stored = -1;
    p->next_offset = -1;
    size_t b = part_bucket(topic, partition);
    p->hnext = t->buckets[b];
    t->buckets[b] = p;
    p->next = t->parts;
    t->parts = p;
    return p;
}

inflight_part_t *inflight_parts(inflight_t *t)
{
    return t->parts;
}

static void keys_reset(inflight_part_t *p)
{
    if (p->keys_count)
        memset(p->keys, 0, ((size_t)p->keys_mask + 1) * sizeof(*p->keys));
    p->keys_count = 0;
    p->held = 0;
}

void inflight_assign(inflight_t *t, inflight_part_t *p, int64_t now_ns)
{
    if (p->assigned)
        inflight_release(t, p);
    offsets_reset(p->win);
    keys_reset(p);
    p->epoch++;
    p->assigned = 1;
    p->paused = p->revoking = p->read_held = 0;
    p->waiting = 0;
    p->stored = -1;
    p->next_offset = -1;
    p->last_progress_ns = now_ns;
}

uint32_t inflight_release(inflight_t *t, inflight_part_t *p)
{
    uint32_t dropped = 0;
    for (uint64_t seq = offsets_head(p->win); seq < offsets_tail(p->win); seq++) {
        if (!offsets_pending(p->win, seq))
            continue;
        /* A message in the publisher's hands is not in the slot: its late
         * ack finds a stale epoch and the caller drops it then. */
        slot_clear(t, inflight_slot(p, seq));
        t->total--;
        dropped++;
    }
    offsets_reset(p->win);
    keys_reset(p);
    p->epoch++;
    p->assigned = p->paused = p->revoking = p->read_held = 0;
    p->waiting = 0;
    p->stored = -1;
    return dropped;
}

/* ---- slots ------------------------------------------------------------------ */

int inflight_push(inflight_t *t, inflight_part_t *p, int64_t offset, int64_t now_ns, uint64_t *seq)
{
    int rc = offsets_push(p->win, offset, seq);
    if (rc != 0)
        return rc;
    if (offsets_inflight(p->win) == 1)
        p->last_progress_ns = now_ns; /* a stall is measured from here */
    p->next_offset = offset + 1;
    t->total++;
    inflight_slot_t *s = inflight_slot(p, *seq);
    memset(s, 0, sizeof(*s));
    s->offset = offset;
    return 0;
}

inflight_slot_t *inflight_slot(inflight_part_t *p, uint64_t seq)
{
    return &p->slots[seq % offsets_capacity(p->win)];
}

inflight_slot_t *inflight_resolve(const inflight_ref_t *ref)
{
    if (ref->epoch != ref->p->epoch || !offsets_pending(ref->p->win, ref->seq))
        return NULL;
    return inflight_slot(ref->p, ref->seq);
}

inflight_ref_t inflight_ref(inflight_part_t *p, uint64_t seq)
{
    return (inflight_ref_t){p, p->epoch, seq};
}

static int is_waiting(uint8_t st)
{
    return st == IF_RETRY || st == IF_DLQ_RETRY;
}

void inflight_set_state(inflight_part_t *p, uint64_t seq, inflight_state_t st)
{
    inflight_slot_t *s = inflight_slot(p, seq);
    p->waiting += (uint32_t)is_waiting((uint8_t)st) - (uint32_t)is_waiting(s->state);
    s->state = (uint8_t)st;
}

/* Backward-shift deletion in linear probing (both tables below): the entry
 * at j, whose home bucket is h, moves into the hole at i unless its home
 * lies in (i, j], cyclically. */
static int fills_hole(size_t i, size_t j, size_t h)
{
    return (j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j));
}

/* ---- per-key order ------------------------------------------------------------ */

/* Linear probing, backward-shift deletion, as the message map below. */
static size_t key_home(uint64_t key, uint32_t mask)
{
    key ^= key >> 31;
    key *= 0x94d049bb133111ebULL;
    key ^= key >> 29;
    return (size_t)(key & mask);
}

static inflight_key_t *key_find(inflight_part_t *p, uint64_t key)
{
    size_t i = key_home(key, p->keys_mask);
    while (p->keys[i].key) {
        if (p->keys[i].key == key)
            return &p->keys[i];
        i = (i + 1) & p->keys_mask;
    }
    return NULL;
}

static void key_insert(inflight_part_t *p, uint64_t key, uint64_t seq)
{
    size_t i = key_home(key, p->keys_mask);
    while (p->keys[i].key)
        i = (i + 1) & p->keys_mask;
    p->keys[i].key = key;
    p->keys[i].seq = seq;
    p->keys_count++;
}

static void key_delete(inflight_part_t *p, inflight_key_t *e)
{
    size_t i = (size_t)(e - p->keys), j = i;
    for (;;) {
        j = (j + 1) & p->keys_mask;
        if (!p->keys[j].key)
            break;
        size_t h = key_home(p->keys[j].key, p->keys_mask);
        if (fills_hole(i, j, h)) {
            p->keys[i] = p->keys[j];
            i = j;
        }
    }
    p->keys[i].key = 0;
    p->keys_count--;
}

int inflight_order(inflight_t *t, inflight_part_t *p, uint64_t seq, uint64_t order_key)
{
    (void)t;
    inflight_slot_t *s = inflight_slot(p, seq);
    s->order_key = order_key;
    if (!order_key)
        return 1;
    inflight_key_t *e = key_find(p, order_key);
    if (!e) {
        key_insert(p, order_key, seq);
        return 1;
    }
    inflight_slot_t *tail = inflight_slot(p, e->seq);
    tail->next_same = seq;
    tail->chained = 1;
    e->seq = seq;
    s->state = IF_HELD;
    p->held++;
    return 0;
}

int inflight_finish(inflight_t *t, inflight_part_t *p, uint64_t seq, int64_t now_ns, uint64_t *next)
{
    if (!offsets_pending(p->win, seq))
        return 0; /* finished already, or released: the slot may hold a newer event */
    inflight_slot_t *s = inflight_slot(p, seq);
    int released = 0;
    if (s->chained) {
        inflight_slot_t *n = inflight_slot(p, s->next_same);
        n->state = IF_FREE;
        p->held--;
        *next = s->next_same;
        released = 1;
    } else if (s->order_key) {
        inflight_key_t *e = key_find(p, s->order_key);
        if (e && e->seq == seq)
            key_delete(p, e);
    }
    inflight_set_state(p, seq, IF_FREE);
    slot_clear(t, s);
    offsets_done(p->win, seq);
    t->total--;
    p->last_progress_ns = t->last_finish_ns = now_ns;
    return released;
}

/* ---- retries ----------------------------------------------------------------- */

int64_t inflight_backoff_ns(const inflight_t *t, unsigned n)
{
    uint64_t ms = t->lim.backoff_initial_ms;
    for (unsigned i = 1; i < n && ms < t->lim.backoff_max_ms; i++)
        ms *= 2;
    if (ms > t->lim.backoff_max_ms)
        ms = t->lim.backoff_max_ms;
    return (int64_t)ms * 1000000;
}

void inflight_defer(inflight_t *t, inflight_part_t *p, uint64_t seq, int64_t at_ns)
{
    inflight_slot(p, seq)->retry_at_ns = at_ns;
    if (!t->next_due_ns || at_ns < t->next_due_ns)
        t->next_due_ns = at_ns;
}

void inflight_schedule(inflight_t *t, inflight_part_t *p, uint64_t seq, inflight_state_t st,
                       int64_t now_ns)
{
    inflight_slot_t *s = inflight_slot(p, seq);
    unsigned tries = (unsigned)s->attempts + s->outage_tries;
    inflight_set_state(p, seq, st);
    inflight_defer(t, p, seq, now_ns + inflight_backoff_ns(t, tries ? tries : 1));
}

int64_t inflight_next_due(const inflight_t *t)
{
    return t->next_due_ns;
}

size_t inflight_due(inflight_t *t, int64_t now_ns, inflight_ref_t *out, size_t max)
{
    size_t n = 0;
    int64_t next = 0;

    if (!t->next_due_ns || now_ns < t->next_due_ns)
        return 0;
    for (inflight_part_t *p = t->parts; p; p = p->next) {
        if (!p->assigned || !p->waiting)
            continue;
        for (uint64_t seq = offsets_head(p->win); seq < offsets_tail(p->win); seq++) {
            inflight_slot_t *s = inflight_slot(p, seq);
            if (!offsets_pending(p->win, seq) || !is_waiting(s->state))
                continue;
            if (s->retry_at_ns <= now_ns && n < max)
                out[n++] = inflight_ref(p, seq);
            else if (!next || s->retry_at_ns < next)
                next = s->retry_at_ns; /* not due yet, or no room: look again then */
        }
    }
    t->next_due_ns = next;
    return n;
}

/* ---- message -> slot map ----------------------------------------------------- */

/* Linear probing at a load under 1/2, backward-shift deletion (no tombstones). */
static size_t map_hash(const void *k, size_t mask)
{
    uint64_t x = (uint64_t)(uintptr_t)k;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x & mask;
}

int inflight_map_put(inflight_t *t, const void *key, inflight_ref_t ref)
{
    if (!key || t->map_count * 2 > t->map_mask)
        return -1;
    size_t i = map_hash(key, t->map_mask);
    while (t->map[i].key)
        i = (i + 1) & t->map_mask;
    t->map[i].key = key;
    t->map[i].ref = ref;
    t->map_count++;
    return 0;
}

int inflight_map_take(inflight_t *t, const void *key, inflight_ref_t *out)
{
    if (!key)
        return -1; /* NULL marks an empty bucket */
    size_t i = map_hash(key, t->map_mask);
    while (t->map[i].key != key) {
        if (!t->map[i].key)
            return -1;
        i = (i + 1) & t->map_mask;
    }
    if (out)
        *out = t->map[i].ref;
    size_t j = i;
    for (;;) {
        j = (j + 1) & t->map_mask;
        if (!t->map[j].key)
            break;
        size_t h = map_hash(t->map[j].key, t->map_mask);
        if (fills_hole(i, j, h)) {
            t->map[i] = t->map[j];
            i = j;
        }
    }
    t->map[i].key = NULL;
    t->map_count--;
    return 0;
}

/* ---- totals ------------------------------------------------------------------- */

int64_t inflight_committable(const inflight_part_t *p)
{
    return offsets_committable(p->win);
}

int64_t inflight_oldest_read_ms(const inflight_part_t *p)
{
    for (uint64_t seq = offsets_head(p->win); seq < offsets_tail(p->win); seq++)
        if (offsets_pending(p->win, seq))
            return p->slots[seq % offsets_capacity(p->win)].read_ms;
    return -1;
}

uint32_t inflight_count(const inflight_part_t *p)
{
    return offsets_inflight(p->win);
}

uint32_t inflight_held(const inflight_t *t)
{
    uint32_t n = 0;
    for (const inflight_part_t *p = t->parts; p; p = p->next)
        if (p->assigned)
            n += p->held;
    return n;
}

uint32_t inflight_total(const inflight_t *t)
{
    return t->total;
}

int64_t inflight_last_finish(const inflight_t *t)
{
    return t->last_finish_ns;
}

uint32_t inflight_pending(const inflight_t *t, int only_revoking)
{
    uint32_t n = 0;
    for (const inflight_part_t *p = t->parts; p; p = p->next)
        if (p->assigned && (!only_revoking || p->revoking))
            n += offsets_inflight(p->win);
    return n;
}

int inflight_part_full(const inflight_t *t, const inflight_part_t *p)
{
    return offsets_inflight(p->win) >= t->lim.per_partition ||
           offsets_tail(p->win) - offsets_head(p->win) >= offsets_capacity(p->win);
}

int inflight_part_has_room(const inflight_t *t, const inflight_part_t *p)
{
    uint32_t quarter = t->lim.per_partition / 4;
    return offsets_inflight(p->win) + quarter <= t->lim.per_partition &&
           offsets_tail(p->win) - offsets_head(p->win) + quarter <= offsets_capacity(p->win);
}

int inflight_full(const inflight_t *t)
{
    if (t->total >= t->lim.total)
        return 1;
    for (const inflight_part_t *p = t->parts; p; p = p->next)
        if (p->assigned && !p->paused && !p->read_held && inflight_part_full(t, p))
            return 1;
    return 0;
}

const inflight_limits_t *inflight_limits(const inflight_t *t)
{
    return &t->lim;
}
