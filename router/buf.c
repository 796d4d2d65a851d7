/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf: one appendable byte buffer for log lines (fixed, on the stack), the
 * metrics page and probe JSON (growable), and the secret helpers (fixed and
 * cut, or growable and wiped). One failure rule for all: see buf.h.
 *
 * Growth doubles from BUF_MIN_GROW, so n appends cost O(n) copies; a size
 * that would overflow size_t is a failure like any allocation failure.
 */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define BUF_MIN_GROW 256

void buf_init(buf_t *b, unsigned flags)
{
    memset(b, 0, sizeof(*b));
    b->flags = flags & BUF_WIPE;
}

void buf_init_fixed(buf_t *b, char *mem, size_t size, unsigned flags)
{
    memset(b, 0, sizeof(*b));
    b->flags = BUF_FIXED | (flags & BUF_CUT);
    b->p = mem;
    b->size = size;
    b->limit = size ? size - 1 : 0;
    if (size)
        mem[0] = '\0';
}

void buf_set_limit(buf_t *b, size_t limit)
{
    if (!(b->flags & BUF_FIXED))
        return;
    b->limit = b->size && limit > b->size - 1 ? b->size - 1 : limit;
}

/* Make room for `need` content bytes plus the NUL. 0 or -1. */
static int grow(buf_t *b, size_t need)
{
    size_t ncap = b->size ? b->size : BUF_MIN_GROW;
    char *np;

    if (need >= SIZE_MAX / 2)
        return -1;
    while (ncap < need + 1)
        ncap *= 2;
    if (b->flags & BUF_WIPE) {
        /* realloc() could leave a copy behind; move by hand and wipe. */
        if (!(np = malloc(ncap)))
            return -1;
        if (b->p) {
            memcpy(np, b->p, b->len + 1);
            explicit_bzero(b->p, b->size);
            free(b->p);
        }
    } else if (!(np = realloc(b->p, ncap))) {
        return -1;
    }
    b->p = np;
    b->size = ncap;
    return 0;
}

int buf_append(buf_t *b, const void *s, size_t n)
{
    if (b->failed)
        return -1;
    if (b->flags & BUF_FIXED) {
        if (n > b->limit - (b->len < b->limit ? b->len : b->limit)) {
            if (b->flags & BUF_CUT && b->len < b->limit) {
                memcpy(b->p + b->len, s, b->limit - b->len);
                b->len = b->limit;
                b->p[b->len] = '\0';
            }
            b->failed = 1;
            return -1;
        }
    } else if (b->len + n + 1 > b->size || !b->p) {
        if (n > SIZE_MAX / 2 || grow(b, b->len + n)) {
            b->failed = 1;
            return -1;
        }
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    if (b->size)
        b->p[b->len] = '\0';
    return 0;
}

int buf_puts(buf_t *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list ap2;
    int n;

    if (b->failed)
        return -1;
    va_copy(ap2, ap);
    n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->failed = 1;
        return -1;
    }
    if ((size_t)n < sizeof(small))
        return buf_append(b, small, (size_t)n);
    /* Long output: make room, then print in place. */
    char *tmp = malloc((size_t)n + 1);
    if (!tmp) {
        b->failed = 1;
        return -1;
    }
    vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    int rc = buf_append(b, tmp, (size_t)n);
    if (b->flags & BUF_WIPE)
        explicit_bzero(tmp, (size_t)n + 1);
    free(tmp);
    return rc;
}

int buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void buf_rewind(buf_t *b, size_t len)
{
    if (len < b->len)
        b->len = len;
    if (b->p && b->size)
        b->p[b->len] = '\0';
    b->failed = 0;
}

char *buf_take(buf_t *b)
{
    char *p;

    if (b->flags & BUF_FIXED || b->failed) {
        if (!(b->flags & BUF_FIXED))
            buf_free(b);
        return NULL;
    }
    if (!b->p && grow(b, 0)) {
        buf_free(b);
        return NULL;
    }
    b->p[b->len] = '\0';
    p = b->p;
    buf_init(b, b->flags);
    return p;
}

void buf_free(buf_t *b)
{
    if (!b)
        return;
    if (b->flags & BUF_FIXED) {
        buf_rewind(b, 0);
        return;
    }
    if (b->p && b->flags & BUF_WIPE)
        explicit_bzero(b->p, b->size);
    free(b->p);
    buf_init(b, b->flags);
}
