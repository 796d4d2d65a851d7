/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diag: the one diagnostics list, formatter and "did you mean" suggester
 * for YAML files (router.yaml and rule files). See diag.h for the contract
 * and for why libcyaml still loads while yamlwalk places.
 *
 * Not for: finding problems or wording them (config.c and rules.c do), or
 * printing (the CLI and the router decide where a line goes).
 */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIAG_MSG_MAX  1024
#define DIAG_WORD_MAX 64 /* longer words are never misspelt keys */

int diags_add(diags_t *d, const char *file, int line, int col, int warning, const char *hint,
              const char *fmt, ...)
{
    char msg[DIAG_MSG_MAX];
    size_t o;
    va_list ap;
    char *f, *m;

    if (!d)
        return 0;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    o = strlen(msg);
    if (hint && *hint && o < sizeof(msg))
        snprintf(msg + o, sizeof(msg) - o, " (%s)", hint);
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        diag_t *n = realloc(d->items, cap * sizeof(*n));
        if (!n)
            return -1;
        d->items = n;
        d->cap = cap;
    }
    f = file ? strdup(file) : NULL;
    m = strdup(msg);
    if ((file && !f) || !m) {
        free(f);
        free(m);
        return -1;
    }
    d->items[d->count++] = (diag_t){f, line, col, warning != 0, m};
    return 0;
}

const char *diag_format(const diag_t *d, char *buf, size_t size)
{
    const char *sev = d->warning ? "warning" : "error";

    if (d->line > 0)
        snprintf(buf, size, "%s:%d:%d: %s: %s", d->file ? d->file : "?", d->line, d->col, sev,
                 d->msg ? d->msg : "");
    else
        snprintf(buf, size, "%s: %s: %s", d->file ? d->file : "?", sev, d->msg ? d->msg : "");
    return buf;
}

void diags_clear(diags_t *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].file);
        free(d->items[i].msg);
    }
    free(d->items);
    *d = (diags_t){0};
}

int diag_after(const diag_t *a, const diag_t *b)
{
    return a->line > b->line || (a->line == b->line && a->col > b->col);
}

void diags_sort(diags_t *d, size_t from, size_t (*rank)(const void *ctx, const char *file),
                const void *ctx)
{
    for (size_t i = from + 1; i < d->count; i++) { /* insertion: stable, lists are short */
        diag_t x = d->items[i];
        size_t rx = rank ? rank(ctx, x.file) : 0, k = i;
        for (; k > from; k--) {
            const diag_t *y = &d->items[k - 1];
            size_t ry = rank ? rank(ctx, y->file) : 0;
            if (ry < rx || (ry == rx && !diag_after(y, &x)))
                break;
            d->items[k] = d->items[k - 1];
        }
        d->items[k] = x;
    }
}

/* Optimal string alignment distance (Levenshtein + adjacent transposition):
 * "kafak" is one slip from "kafka", not two. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[3][DIAG_WORD_MAX + 1]; /* rows i-2, i-1, i */

    if (la > DIAG_WORD_MAX || lb > DIAG_WORD_MAX)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *cur = d[i % 3], *prev = d[(i - 1) % 3], *pprev = d[(i + 1) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pprev[j - 2] + 1 < v)
                v = pprev[j - 2] + 1;
            cur[j] = v;
        }
    }
    return d[la % 3][lb];
}

const char *diag_suggest(const char *got, const char *const *cand, size_t n)
{
    size_t len = strlen(got), best_d = (size_t)-1;
    size_t limit = len < 4 ? 1 : len < 12 ? 2 : 3;
    const char *best = NULL;

    for (size_t i = 0; i < n; i++) {
        size_t dist;
        if (!cand[i])
            continue;
        dist = edit_distance(got, cand[i]);
        if (dist < best_d) {
            best_d = dist;
            best = cand[i];
        }
    }
    return best_d <= limit ? best : NULL;
}
