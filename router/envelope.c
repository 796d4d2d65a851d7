/* SPDX-License-Identifier: Apache-2.0 */
/*
 * envelope: header lookup, bounded JSON tokenising (jsmn, strict mode, into
 * a thread-local token array: no allocation), JSON path lookup, JSON string
 * unescaping. See include/envelope.h for the contract (UTF-8: utf8.h).
 *
 * Not for: policy. Which field comes from where, and what happens when it is
 * missing, is decided by route.c from the rule file.
 */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS /* O(depth) bracket closing instead of a backward scan */
#include <jsmn.h>

#include "envelope.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

static _Thread_local jsmntok_t tls_tok[ENVELOPE_TOKENS_HARD_MAX];
static _Thread_local int tls_last[ENVELOPE_TOKENS_HARD_MAX]; /* structure_ok() */
static _Thread_local unsigned long tls_parse_count;

static const char *const envelope_errstr[ENVELOPE_E__COUNT] = {
    [ENVELOPE_OK] = "ok",
    [ENVELOPE_E_NO_VALUE] = "record has no value (tombstone)",
    [ENVELOPE_E_TOO_BIG] = "value larger than limits.max_json_bytes",
    [ENVELOPE_E_SYNTAX] = "value is not valid JSON",
    [ENVELOPE_E_TRUNCATED] = "JSON value is truncated",
    [ENVELOPE_E_TOKENS] = "JSON value has more tokens (or nesting) than limits.max_json_tokens",
    [ENVELOPE_E_NOT_OBJECT] = "JSON value is not a single object",
};

const char *envelope_strerror(envelope_status_t st)
{
    return ((unsigned)st < ENVELOPE_E__COUNT) ? envelope_errstr[st] : "unknown envelope error";
}

unsigned long envelope_json_parse_count(void)
{
    return tls_parse_count;
}

int envelope_path_compile(const char *text, size_t len, envelope_path_t *out, char *err,
                          size_t errsize)
{
    size_t p = 0;

    out->nseg = 0;
    if (!text || !len) {
        snprintf(err, errsize, "empty JSON path");
        return -1;
    }
    for (;;) {
        const char *e = memchr(text + p, '.', len - p);
        size_t n = e ? (size_t)(e - (text + p)) : len - p;
        if (!n || n > UINT16_MAX) {
            snprintf(err, errsize, "empty segment in JSON path '%.*s'", (int)len, text);
            return -1;
        }
        /* JSONPath's root and subscripts look like keys here, and would
         * then never match: every event would miss the field. */
        if (text[p] == '$' || memchr(text + p, '[', n) || memchr(text + p, ']', n)) {
            snprintf(err, errsize,
                     "JSON path '%.*s' is JSONPath; only dotted object keys are supported "
                     "(no '$', no [n])",
                     (int)len, text);
            return -1;
        }
        if (out->nseg == ENVELOPE_PATH_MAX_SEGS) {
            snprintf(err, errsize, "JSON path '%.*s' has more than %d segments", (int)len, text,
                     ENVELOPE_PATH_MAX_SEGS);
            return -1;
        }
        out->seg[out->nseg].s = text + p;
        out->seg[out->nseg].len = (uint16_t)n;
        out->nseg++;
        if (!e)
            return 0;
        p += n + 1;
        if (p == len) {
            snprintf(err, errsize, "JSON path '%.*s' ends with '.'", (int)len, text);
            return -1;
        }
    }
}

static int ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Are bytes [a, b) whitespace around at most one `sep` (exactly one when sep != 0)? */
static int gap_ok(const char *js, int a, int b, char sep)
{
    int seen = 0;

    for (int i = a; i < b; i++) {
        if (ws(js[i]))
            continue;
        if (sep && js[i] == sep && !seen) {
            seen = 1;
            continue;
        }
        return 0;
    }
    return seen == (sep != 0);
}

/* A JSON literal or number (RFC 8259 grammar). */
static int primitive_ok(const char *s, int n)
{
    if ((n == 4 && !memcmp(s, "true", 4)) || (n == 5 && !memcmp(s, "false", 5)) ||
        (n == 4 && !memcmp(s, "null", 4)))
        return 1;
    return log_json_number(s, (size_t)n);
}

static int outer_start(const jsmntok_t *t)
{
    return t->type == JSMN_STRING ? t->start - 1 : t->start;
}

static int outer_end(const jsmntok_t *t)
{
    return t->type == JSMN_STRING ? t->end + 1 : t->end;
}

/*
 * jsmn is a tokenizer, not a validator: it lets through trailing commas,
 * "{,}", "{\"a\":}", non-string keys and primitives such as "tru". This pass
 * checks what lies between the tokens (only whitespace and exactly the ','
 * and ':' JSON requires) and every primitive, which makes the accepted
 * language JSON, except that string escapes are checked when decoded.
 * O(tokens + bytes between tokens).
 */
static int structure_ok(const char *js, size_t len, int n)
{
    for (int i = 0; i < n; i++) {
        const jsmntok_t *t = &tls_tok[i];
        int p = t->parent;

        if (t->type == JSMN_OBJECT || t->type == JSMN_ARRAY)
            tls_last[i] = -1;
        if (t->type == JSMN_PRIMITIVE && !primitive_ok(js + t->start, t->end - t->start))
            return 0;
        if (p < 0) {
            if (i != 0)
                return 0; /* a second top-level value */
            continue;
        }
        if (tls_tok[p].type == JSMN_STRING) { /* a value after its key */
            int obj = tls_tok[p].parent;
            if (t->size > 0 && t->type == JSMN_STRING)
                return 0;
            if (!gap_ok(js, outer_end(&tls_tok[p]), outer_start(t), ':'))
                return 0;
            tls_last[obj] = outer_end(t);
            continue;
        }
        if (tls_tok[p].type == JSMN_OBJECT && (t->type != JSMN_STRING || t->size != 1))
            return 0; /* keys are strings with exactly one value */
        if (tls_tok[p].type == JSMN_ARRAY && t->type == JSMN_STRING && t->size)
            return 0;
        if (tls_last[p] < 0) {
            if (!gap_ok(js, tls_tok[p].start + 1, outer_start(t), 0))
                return 0;
        } else if (!gap_ok(js, tls_last[p], outer_start(t), ',')) {
            return 0;
        }
        tls_last[p] = outer_end(t);
    }
    for (int i = 0; i < n; i++) {
        const jsmntok_t *t = &tls_tok[i];
        if (t->type != JSMN_OBJECT && t->type != JSMN_ARRAY)
            continue;
        if (!gap_ok(js, tls_last[i] < 0 ? t->start + 1 : tls_last[i], t->end - 1, 0))
            return 0;
    }
    return gap_ok(js, 0, outer_start(&tls_tok[0]), 0) &&
           gap_ok(js, outer_end(&tls_tok[0]), (int)len, 0);
}

envelope_status_t envelope_json_parse(envelope_json_t *j, const void *value, size_t len,
                                      const envelope_limits_t *lim)
{
    jsmn_parser p;
    unsigned max = lim->max_tokens;
    int n;

    tls_parse_count++;
    j->buf = value;
    j->len = len;
    j->ntok = 0;
    if (!value)
        return j->status = ENVELOPE_E_NO_VALUE;
    if (len > lim->max_bytes)
        return j->status = ENVELOPE_E_TOO_BIG;
    if (max == 0 || max > ENVELOPE_TOKENS_HARD_MAX)
        max = ENVELOPE_TOKENS_HARD_MAX;
    jsmn_init(&p);
    n = jsmn_parse(&p, value, len, tls_tok, max);
    if (n == JSMN_ERROR_NOMEM)
        return j->status = ENVELOPE_E_TOKENS;
    if (n == JSMN_ERROR_PART)
        return j->status = ENVELOPE_E_TRUNCATED;
    if (n < 0)
        return j->status = ENVELOPE_E_SYNTAX;
    if (n == 0)
        return j->status = ENVELOPE_E_SYNTAX; /* empty or whitespace only */
    if (tls_tok[0].type != JSMN_OBJECT)
        return j->status = ENVELOPE_E_NOT_OBJECT;
    /* jsmn accepts several top-level values; an envelope is exactly one. */
    if (tls_tok[n - 1].start >= tls_tok[0].end)
        return j->status = ENVELOPE_E_NOT_OBJECT;
    if (!structure_ok(value, len, n))
        return j->status = ENVELOPE_E_SYNTAX;
    j->ntok = n;
    return j->status = ENVELOPE_OK;
}

/* Index of the token after the subtree rooted at i. */
static int skip(int i, int ntok)
{
    int end = tls_tok[i].end, k = i + 1;

    while (k < ntok && tls_tok[k].start < end)
        k++;
    return k;
}

int envelope_json_get(const envelope_json_t *j, const envelope_path_t *path, envelope_str_t *out)
{
    int cur = 0;

    if (j->status != ENVELOPE_OK || j->ntok <= 0)
        return 0;
    for (unsigned s = 0; s < path->nseg; s++) {
        int k, found = -1, nkeys;

        if (tls_tok[cur].type != JSMN_OBJECT)
            return 0;
        nkeys = tls_tok[cur].size;
        k = cur + 1;
        for (int i = 0; i < nkeys && k < j->ntok; i++) {
            const jsmntok_t *key = &tls_tok[k];
            size_t klen = (size_t)(key->end - key->start);
            if (k + 1 >= j->ntok)
                return 0;
            if (key->type == JSMN_STRING && klen == path->seg[s].len &&
                !memcmp(j->buf + key->start, path->seg[s].s, klen))
                found = k + 1; /* keep scanning: the last duplicate key wins */
            k = skip(k + 1, j->ntok);
        }
        if (found < 0)
            return 0;
        cur = found;
    }
    if (tls_tok[cur].type == JSMN_STRING) {
        out->s = j->buf + tls_tok[cur].start;
        out->len = (size_t)(tls_tok[cur].end - tls_tok[cur].start);
        out->escaped = memchr(out->s, '\\', out->len) != NULL;
        return 1;
    }
    if (tls_tok[cur].type == JSMN_PRIMITIVE) {
        char c = j->buf[tls_tok[cur].start];
        if (c == 'n' || c == 't' || c == 'f')
            return 0; /* null / true / false */
        out->s = j->buf + tls_tok[cur].start;
        out->len = (size_t)(tls_tok[cur].end - tls_tok[cur].start);
        out->escaped = 0;
        return 1;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static long hex4(const char *s, size_t len, size_t i)
{
    long v = 0;

    if (i + 4 > len)
        return -1;
    for (size_t k = 0; k < 4; k++) {
        int h = hexval(s[i + k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* The \uXXXX escape whose 'u' is at s[*i], a surrogate pair joined into
 * one code point; leaves *i on the last hex digit read. Returns the code
 * point, or -1 for bad hex or a surrogate without its partner. */
static long unescape_u(const char *s, size_t len, size_t *i)
{
    long hi = hex4(s, len, *i + 1), lo;

    if (hi < 0)
        return -1;
    *i += 4;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return -1; /* lone low surrogate */
    if (hi < 0xD800 || hi > 0xDBFF)
        return hi;
    if (*i + 2 >= len || s[*i + 1] != '\\' || s[*i + 2] != 'u')
        return -1;
    lo = hex4(s, len, *i + 3);
    if (lo < 0xDC00 || lo > 0xDFFF)
        return -1;
    *i += 6;
    return (long)(0x10000UL + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00));
}

/* The escape whose letter is at s[*i] (just after its backslash); leaves *i
 * on its last character. Returns the code point, or -1 for an escape JSON
 * does not have. */
static long unescape_one(const char *s, size_t len, size_t *i)
{
    switch (s[*i]) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '/':
        return '/';
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'u':
        return unescape_u(s, len, i);
    default:
        return -1;
    }
}

/* Append cp as UTF-8 at out[*o], advancing *o. Returns 0, or -1 when the
 * encoding does not fit in size bytes. */
static int put_utf8(char *out, size_t size, size_t *o, unsigned long cp)
{
    if (cp < 0x80) {
        if (*o + 1 > size)
            return -1;
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        if (*o + 2 > size)
            return -1;
        out[(*o)++] = (char)(0xC0 | (cp >> 6));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        if (*o + 3 > size)
            return -1;
        out[(*o)++] = (char)(0xE0 | (cp >> 12));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        if (*o + 4 > size)
            return -1;
        out[(*o)++] = (char)(0xF0 | (cp >> 18));
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    }
    return 0;
}

int envelope_unescape(const char *s, size_t len, char *out, size_t size, size_t *out_len)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        long cp;

        if (s[i] != '\\') {
            if (o >= size)
                return -1;
            out[o++] = s[i];
            continue;
        }
        if (++i >= len)
            return -1;
        cp = unescape_one(s, len, &i);
        if (cp < 0 || put_utf8(out, size, &o, (unsigned long)cp))
            return -1;
    }
    *out_len = o;
    return 0;
}

const route_header_t *envelope_header(const route_event_t *ev, const char *name, size_t name_len)
{
    const route_header_t *found = NULL;

    for (size_t i = 0; i < ev->header_count; i++) {
        const char *n = ev->headers[i].name;
        if (n && !strncmp(n, name, name_len) && n[name_len] == '\0')
            found = &ev->headers[i];
    }
    return found;
}
