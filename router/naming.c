/* SPDX-License-Identifier: Apache-2.0 */
/*
 * naming: split event names into words, kebab-case them and find the domain
 * word(s) in them; plus the subject-token safety test. The algorithm is
 * described in include/naming.h and docs/rules.md.
 *
 * Not for: anything that knows about rule files, routes or Kafka. Pure
 * functions over byte spans, no allocation, safe from any thread.
 */
#include "naming.h"

#include <string.h>

enum { C_OTHER, C_UPPER, C_LOWER, C_DIGIT, C_SEP };

static int cls(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return C_UPPER;
    if (c >= 'a' && c <= 'z')
        return C_LOWER;
    if (c >= '0' && c <= '9')
        return C_DIGIT;
    if (c == '_' || c == '-')
        return C_SEP;
    return C_OTHER;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static const char *const naming_errstr[NAMING_E__COUNT] = {
    [NAMING_OK] = "ok",
    [NAMING_E_EMPTY] = "empty name",
    [NAMING_E_CHAR] = "character outside [A-Za-z0-9_-]",
    [NAMING_E_TOO_LONG] = "name too long",
    [NAMING_E_TOO_MANY] = "too many words",
    [NAMING_E_NO_ROOM] = "output buffer too small",
};

const char *naming_strerror(naming_err_t e)
{
    return ((unsigned)e < NAMING_E__COUNT) ? naming_errstr[e] : "unknown naming error";
}

naming_err_t naming_split(const char *s, size_t len, naming_words_t *out)
{
    size_t start = 0;
    int in_word = 0;

    out->n = 0;
    if (len > NAMING_MAX_LEN)
        return NAMING_E_TOO_LONG;
    for (size_t i = 0; i < len; i++) {
        int c = cls((unsigned char)s[i]);
        int boundary = 0;

        if (c == C_OTHER) {
            out->n = 0;
            return NAMING_E_CHAR;
        }
        if (c == C_SEP) {
            if (in_word) {
                if (out->n == NAMING_MAX_WORDS)
                    goto too_many;
                out->w[out->n++] = (naming_word_t){(uint16_t)start, (uint16_t)(i - start)};
                in_word = 0;
            }
            continue;
        }
        if (in_word && c == C_UPPER) {
            int prev = cls((unsigned char)s[i - 1]);
            if (prev == C_LOWER || prev == C_DIGIT)
                boundary = 1;
            else if (prev == C_UPPER && i + 1 < len && cls((unsigned char)s[i + 1]) == C_LOWER)
                boundary = 1; /* "GPSUnit": the U starts "Unit" */
        }
        if (in_word && boundary) {
            if (out->n == NAMING_MAX_WORDS)
                goto too_many;
            out->w[out->n++] = (naming_word_t){(uint16_t)start, (uint16_t)(i - start)};
            start = i;
        } else if (!in_word) {
            start = i;
            in_word = 1;
        }
    }
    if (in_word) {
        if (out->n == NAMING_MAX_WORDS)
            goto too_many;
        out->w[out->n++] = (naming_word_t){(uint16_t)start, (uint16_t)(len - start)};
    }
    return out->n ? NAMING_OK : NAMING_E_EMPTY;
too_many:
    out->n = 0;
    return NAMING_E_TOO_MANY;
}

naming_err_t naming_kebab_words(const char *s, const naming_words_t *w, size_t from, size_t to,
                                size_t skip_at, size_t skip_n, char *buf, size_t size,
                                size_t *out_len)
{
    size_t o = 0;

    if (to > w->n)
        to = w->n;
    for (size_t i = from; i < to; i++) {
        if (skip_n && i >= skip_at && i < skip_at + skip_n)
            continue;
        if (o && o < size)
            buf[o] = '-';
        o += o ? 1 : 0;
        for (size_t k = 0; k < w->w[i].len; k++, o++)
            if (o < size)
                buf[o] = lower(s[w->w[i].off + k]);
    }
    if (out_len)
        *out_len = o;
    if (o >= size) {
        if (size)
            buf[0] = '\0';
        return NAMING_E_NO_ROOM;
    }
    buf[o] = '\0';
    return o ? NAMING_OK : NAMING_E_EMPTY;
}

naming_err_t naming_kebab(const char *s, size_t len, char *buf, size_t size, size_t *out_len)
{
    naming_words_t w;
    naming_err_t e = naming_split(s, len, &w);

    if (e != NAMING_OK) {
        if (out_len)
            *out_len = 0;
        if (size)
            buf[0] = '\0';
        return e;
    }
    return naming_kebab_words(s, &w, 0, w.n, 0, 0, buf, size, out_len);
}

/* Does kebab word sequence k[0..klen) match words w[at..] case-insensitively?
 * Returns the number of words matched, 0 if it does not match. */
static size_t match_at(const char *s, const naming_words_t *w, size_t at, const char *k,
                       size_t klen)
{
    size_t i = at, p = 0;

    while (p < klen) {
        size_t e = p;
        while (e < klen && k[e] != '-')
            e++;
        if (i >= w->n || w->w[i].len != e - p)
            return 0;
        for (size_t c = 0; c < e - p; c++)
            if (lower(s[w->w[i].off + c]) != lower(k[p + c]))
                return 0;
        i++;
        p = e + 1;
    }
    return i - at;
}

int naming_find_domain(const char *s, const naming_words_t *w, const char *const *domains,
                       const size_t *lens, size_t ndomains, size_t *at, size_t *nwords)
{
    for (size_t i = 0; i < w->n; i++) {
        int best = -1;
        size_t best_n = 0;
        for (size_t d = 0; d < ndomains; d++) {
            size_t n = match_at(s, w, i, domains[d], lens[d]);
            if (n > best_n) {
                best_n = n;
                best = (int)d;
            }
        }
        if (best >= 0) {
            *at = i;
            *nwords = best_n;
            return best;
        }
    }
    return -1;
}

int naming_find_words(const char *s, const naming_words_t *w, const char *kebab, size_t klen,
                      size_t *at, size_t *nwords)
{
    if (!klen)
        return 0;
    for (size_t i = 0; i < w->n; i++) {
        size_t n = match_at(s, w, i, kebab, klen);
        if (n) {
            *at = i;
            *nwords = n;
            return 1;
        }
    }
    return 0;
}

int naming_token_safe(const char *s, size_t len)
{
    if (!len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (cls((unsigned char)s[i]) == C_OTHER)
            return 0;
    return 1;
}
