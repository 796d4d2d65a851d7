/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile: the set of (offset, dedup ID) pairs a stream scan found, the
 * commit metadata, strict number parsing. Pure (see reconcile.h). The set
 * is an open-addressing table keyed by offset, holding a 64-bit hash of the
 * dedup ID: a hash collision between two IDs at the same offset of the
 * same partition could only make the router skip an event whose offset the
 * stream holds under another ID, which needs a topic recreated with other
 * events at the same offsets and a 2^-64 chance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile.h"

typedef struct pair {
    int64_t offset; /* -1: empty bucket */
    uint64_t id;
} pair_t;

struct reconcile_set {
    pair_t *b;
    size_t mask, count;
    int64_t max;
};

static uint64_t id_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static size_t home(int64_t offset, size_t mask)
{
    uint64_t x = (uint64_t)offset * 0x9E3779B97F4A7C15ULL;
    return (size_t)(x >> 17) & mask;
}

static int alloc_buckets(reconcile_set_t *s, size_t n)
{
    pair_t *b = malloc(n * sizeof(*b));
    if (!b)
        return -1;
    for (size_t i = 0; i < n; i++)
        b[i].offset = -1;
    s->b = b;
    s->mask = n - 1;
    return 0;
}

reconcile_set_t *reconcile_set_new(void)
{
    reconcile_set_t *s = calloc(1, sizeof(*s));
    if (!s || alloc_buckets(s, 64) != 0) {
        free(s);
        return NULL;
    }
    s->max = -1;
    return s;
}

void reconcile_set_free(reconcile_set_t *s)
{
    if (!s)
        return;
    free(s->b);
    free(s);
}

static void put(reconcile_set_t *s, int64_t offset, uint64_t id)
{
    size_t i = home(offset, s->mask);
    while (s->b[i].offset >= 0)
        i = (i + 1) & s->mask;
    s->b[i].offset = offset;
    s->b[i].id = id;
    s->count++;
}

int reconcile_set_add(reconcile_set_t *s, int64_t offset, const char *msg_id, size_t len)
{
    uint64_t id = id_hash(msg_id, len);
    if (offset < 0)
        return 0;
    if (reconcile_set_has(s, offset, msg_id, len))
        return 0;
    if ((s->count + 1) * 2 > s->mask + 1) { /* keep the load under 1/2 */
        pair_t *old = s->b;
        size_t n = s->mask + 1;
        if (alloc_buckets(s, n * 2) != 0) {
            s->b = old;
            return -1;
        }
        s->count = 0;
        for (size_t i = 0; i < n; i++)
            if (old[i].offset >= 0)
                put(s, old[i].offset, old[i].id);
        free(old);
    }
    put(s, offset, id);
    if (offset > s->max)
        s->max = offset;
    return 0;
}

int reconcile_set_has(const reconcile_set_t *s, int64_t offset, const char *msg_id, size_t len)
{
    uint64_t id = id_hash(msg_id, len);
    for (size_t i = home(offset, s->mask); s->b[i].offset >= 0; i = (i + 1) & s->mask)
        if (s->b[i].offset == offset && s->b[i].id == id)
            return 1;
    return 0;
}

size_t reconcile_set_count(const reconcile_set_t *s)
{
    return s->count;
}

int64_t reconcile_set_max(const reconcile_set_t *s)
{
    return s->max;
}

/* ---- commit metadata and headers ---------------------------------------------- */

#define META_PREFIX "er1 t="

size_t reconcile_meta_format(char *buf, size_t size, int64_t read_ms)
{
    int n = snprintf(buf, size, META_PREFIX "%lld", (long long)(read_ms < 0 ? 0 : read_ms));
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

static int parse_digits(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    if (len == 0 || len > 18 || (s[0] == '0' && len > 1))
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int reconcile_meta_parse(const void *meta, size_t len, int64_t *read_ms)
{
    const char *m = meta;
    size_t pl = sizeof(META_PREFIX) - 1;
    if (!m || len <= pl || memcmp(m, META_PREFIX, pl) != 0)
        return -1;
    return parse_digits(m + pl, len - pl, read_ms);
}

int reconcile_parse_number(const char *s, int64_t *out)
{
    return s ? parse_digits(s, strlen(s), out) : -1;
}

void reconcile_settle_stored(reconcile_settle_t *s, int64_t sent_ns)
{
    if (sent_ns > s->stored_sent_ns)
        s->stored_sent_ns = sent_ns;
}

void reconcile_settle_recheck(reconcile_settle_t *s, int ok, int64_t started_ns, int64_t ended_ns)
{
    if (!ok) {
        s->ok_since_ns = 0;
        return;
    }
    if (!s->ok_since_ns || started_ns - s->last_ok_ns > RECONCILE_STREAK_GAP_NS)
        s->ok_since_ns = started_ns;
    s->last_ok_ns = ended_ns;
}

int reconcile_settled(const reconcile_settle_t *s, int64_t sent_ns, int64_t now_ns)
{
    if (s->stored_sent_ns > sent_ns)
        return 1;
    return s->ok_since_ns && now_ns - s->last_ok_ns <= RECONCILE_STREAK_GAP_NS &&
           now_ns - s->ok_since_ns >= RECONCILE_SETTLE_NS;
}
