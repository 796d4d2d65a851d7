/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe: turn an event description (a rule file's `tests:` entry, or the
 * options of `event-router explain`) into a route_event_t, putting each
 * envelope field where the rule file's first source for it says. See
 * include/probe.h.
 *
 * Not for: the routing hot path; this allocates and is meant for the CLI
 * and tests.
 */
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "envelope.h"

typedef struct jpair {
    envelope_path_t path;
    const char *value;
    const char *path_text;
} jpair_t;

static void sb_str(buf_t *b, const char *s, size_t n)
{
    buf_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            buf_append(b, esc, 2);
        } else if (ch < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", ch);
            buf_append(b, esc, 6);
        } else {
            buf_append(b, (const char *)&s[i], 1);
        }
    }
    buf_append(b, "\"", 1);
}

static int seg_eq(const envelope_path_t *a, const envelope_path_t *b, unsigned d)
{
    return a->seg[d].len == b->seg[d].len && !memcmp(a->seg[d].s, b->seg[d].s, a->seg[d].len);
}

/* Emit the object holding pairs idx[0..n), which share their first `depth` segments. */
static int emit(buf_t *b, const jpair_t *pr, const size_t *idx, size_t n, unsigned depth, char *err,
                size_t errsize)
{
    int first = 1;

    buf_append(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        const jpair_t *a = &pr[idx[i]];
        size_t sub[RULES_F__COUNT], ns = 0;
        int dup = 0, leaf = 0;

        for (size_t k = 0; k < i && !dup; k++)
            dup = seg_eq(&pr[idx[k]].path, &a->path, depth);
        if (dup)
            continue;
        for (size_t k = i; k < n; k++)
            if (seg_eq(&pr[idx[k]].path, &a->path, depth)) {
                sub[ns++] = idx[k];
                leaf |= pr[idx[k]].path.nseg == depth + 1;
            }
        if (leaf && ns > 1) {
            snprintf(err, errsize, "JSON paths '%s' and '%s' overlap", pr[sub[0]].path_text,
                     pr[sub[1]].path_text);
            return -1;
        }
        if (!first)
            buf_append(b, ",", 1);
        first = 0;
        sb_str(b, a->path.seg[depth].s, a->path.seg[depth].len);
        buf_append(b, ":", 1);
        if (leaf)
            sb_str(b, a->value, strlen(a->value));
        else if (emit(b, pr, sub, ns, depth + 1, err, errsize))
            return -1;
    }
    buf_append(b, "}", 1);
    return 0;
}

int probe_build(probe_t *p, const rules_t *r, const rules_test_t *t, char *err, size_t errsize)
{
    jpair_t pairs[RULES_F__COUNT];
    size_t np = 0, nh = 0;

    memset(p, 0, sizeof(*p));
    for (int f = 0; f < RULES_F__COUNT; f++) {
        rules_source_kind_t kind;
        const char *name;
        char perr[128];
        if (!t->fields[f])
            continue;
        if (rules_field_source(r, (rules_field_t)f, 0, &kind, &name)) {
            snprintf(err, errsize, "the rules declare no source for %s",
                     rules_field_name((rules_field_t)f));
            return -1;
        }
        if (kind == RULES_SRC_HEADER) {
            p->hdr[nh++] = (route_header_t){name, t->fields[f], strlen(t->fields[f])};
            continue;
        }
        if (t->value || t->tombstone) {
            snprintf(err, errsize,
                     "%s goes to the JSON value (path '%s'), but the event also sets %s; put it "
                     "in the value instead",
                     rules_field_name((rules_field_t)f), name,
                     t->tombstone ? "tombstone" : "value");
            return -1;
        }
        if (envelope_path_compile(name, strlen(name), &pairs[np].path, perr, sizeof(perr))) {
            snprintf(err, errsize, "%s", perr);
            return -1;
        }
        pairs[np].value = t->fields[f];
        pairs[np].path_text = name;
        np++;
    }
    if (t->header_count > PROBE_MAX_HEADERS) {
        snprintf(err, errsize, "more than %d headers", PROBE_MAX_HEADERS);
        return -1;
    }
    for (size_t i = 0; i < t->header_count; i++)
        p->hdr[nh++] =
            (route_header_t){t->headers[i].name, t->headers[i].value, strlen(t->headers[i].value)};
    if (t->tombstone) {
        p->ev.value = NULL;
    } else if (t->value) {
        p->ev.value = t->value;
        p->ev.value_len = strlen(t->value);
    } else {
        buf_t b = BUF_INIT;
        size_t idx[RULES_F__COUNT];
        for (size_t i = 0; i < np; i++)
            idx[i] = i;
        if (emit(&b, pairs, idx, np, 0, err, errsize) || b.failed) {
            if (b.failed)
                snprintf(err, errsize, "out of memory");
            buf_free(&b);
            return -1;
        }
        p->ev.value_len = b.len;
        p->json = buf_take(&b); /* not failed and not empty ("{...}"): never NULL */
        p->ev.value = p->json;
    }
    p->ev.topic = t->topic ? t->topic : "events";
    p->ev.partition = t->partition;
    p->ev.offset = t->offset;
    p->ev.timestamp_ms = -1;
    p->ev.key = t->key;
    p->ev.key_len = t->key ? strlen(t->key) : 0;
    p->ev.headers = p->hdr;
    p->ev.header_count = nh;
    return 0;
}

void probe_fini(probe_t *p)
{
    free(p->json);
    p->json = NULL;
}
