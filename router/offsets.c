/* SPDX-License-Identifier: Apache-2.0 */
/*
 * offsets: the per-partition acknowledged watermark.
 *
 * A ring of (offset, done) entries indexed by sequence number. The head
 * advances past done entries as soon as they become contiguous, so the
 * window holds only what is still needed and the committable offset is
 * O(1). Not for: anything with I/O or locks (see offsets.h).
 */
#include <stdlib.h>

#include "offsets.h"

typedef struct entry {
    int64_t offset;
    uint8_t done;
} entry_t;

struct offsets {
    entry_t *ring;
    uint32_t cap;
    uint64_t head; /* seq of the oldest entry kept */
    uint64_t tail; /* seq the next push gets */
    int64_t last;  /* last pushed offset, -1 when none since reset */
    uint32_t pending;
};

offsets_t *offsets_new(uint32_t capacity)
{
    offsets_t *o;

    if (capacity == 0)
        return NULL;
    o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->ring = calloc(capacity, sizeof(*o->ring));
    if (!o->ring) {
        free(o);
        return NULL;
    }
    o->cap = capacity;
    o->last = -1;
    return o;
}

void offsets_destroy(offsets_t *o)
{
    if (!o)
        return;
    free(o->ring);
    free(o);
}

void offsets_reset(offsets_t *o)
{
    /* Sequence numbers keep growing so a stale seq from before the reset
     * can never match a new entry. */
    o->head = o->tail;
    o->last = -1;
    o->pending = 0;
}

static entry_t *slot(const offsets_t *o, uint64_t seq)
{
    return &o->ring[seq % o->cap];
}

/* Drop done entries from the head, keeping the newest one so that
 * committable() can still answer last+1. */
static void advance(offsets_t *o)
{
    while (o->tail - o->head > 1 && slot(o, o->head)->done)
        o->head++;
}

int offsets_push(offsets_t *o, int64_t offset, uint64_t *seq)
{
    if (o->last >= 0 && offset <= o->last)
        return -2;
    /* The kept-done head entry may be overwritten: free it first. */
    if (o->tail - o->head == o->cap) {
        if (!slot(o, o->head)->done)
            return -1;
        o->head++;
    }
    entry_t *e = slot(o, o->tail);
    e->offset = offset;
    e->done = 0;
    *seq = o->tail++;
    o->last = offset;
    o->pending++;
    return 0;
}

int offsets_done(offsets_t *o, uint64_t seq)
{
    if (seq < o->head || seq >= o->tail)
        return -1;
    entry_t *e = slot(o, seq);
    if (e->done)
        return -1;
    e->done = 1;
    o->pending--;
    advance(o);
    return 0;
}

int64_t offsets_offset_of(const offsets_t *o, uint64_t seq)
{
    if (seq < o->head || seq >= o->tail)
        return -1;
    return slot(o, seq)->offset;
}

int64_t offsets_committable(const offsets_t *o)
{
    if (o->tail == o->head)
        return -1;
    const entry_t *h = slot(o, o->head);
    return h->done ? h->offset + 1 : h->offset;
}

uint32_t offsets_inflight(const offsets_t *o)
{
    return o->pending;
}

uint32_t offsets_capacity(const offsets_t *o)
{
    return o->cap;
}

uint64_t offsets_head(const offsets_t *o)
{
    return o->head;
}

uint64_t offsets_tail(const offsets_t *o)
{
    return o->tail;
}

int offsets_pending(const offsets_t *o, uint64_t seq)
{
    return seq >= o->head && seq < o->tail && !slot(o, seq)->done;
}
