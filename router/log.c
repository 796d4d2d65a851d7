/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c: one-line structured logs on stderr, logfmt or JSON.
 *
 * A line is built in a stack buffer no larger than PIPE_BUF and handed to
 * the kernel with a single write(2), so lines from librdkafka's, cnats's and
 * our own threads never interleave, even when stderr is a pipe to a log
 * shipper. Callers give the key/value part as a printf format producing
 * logfmt pairs; in JSON mode those pairs are parsed back and re-emitted as
 * object members, so call sites do not care which format is configured.
 * Untrusted values go through log_quote(), which escapes control bytes,
 * invalid UTF-8 and characters that could spoof a terminal or a log viewer.
 *
 * Not for: metrics, or output meant for a user at a terminal (that is stdout
 * in the CLI). This file takes no locks and allocates nothing.
 */
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Lines up to PIPE_BUF bytes are written atomically to pipes; longer lines
 * are cut at a pair boundary and marked truncated=true.
 */
#define LOG_LINE_MAX  PIPE_BUF
#define LOG_KV_MAX    3072
#define LOG_MSG_MAX   256 /* msg is a short constant; bounded so the header always fits */
#define LOG_ID_MAX    64
#define LOG_TAIL_MAX  24 /* room for ,"truncated":true plus } and newline */
#define LOG_MAX_PAIRS 64

volatile log_level_t log_threshold = LOG_LVL_INFO;
static log_format_t log_format = LOG_FMT_LOGFMT;

static const char *const level_names[LOG_LVL__COUNT] = {
    [LOG_LVL_DEBUG] = "debug",
    [LOG_LVL_INFO] = "info",
    [LOG_LVL_WARN] = "warn",
    [LOG_LVL_ERROR] = "error",
};

static const char *const format_names[LOG_FMT__COUNT] = {
    [LOG_FMT_LOGFMT] = "logfmt",
    [LOG_FMT_JSON] = "json",
};

void log_setup(log_level_t level, log_format_t format)
{
    if (level < LOG_LVL__COUNT)
        log_threshold = level;
    if (format < LOG_FMT__COUNT)
        log_format = format;
}

int log_level_parse(const char *name, log_level_t *out)
{
    for (int i = 0; name && i < LOG_LVL__COUNT; i++)
        if (!strcmp(name, level_names[i])) {
            *out = (log_level_t)i;
            return 0;
        }
    return -1;
}

int log_format_parse(const char *name, log_format_t *out)
{
    for (int i = 0; name && i < LOG_FMT__COUNT; i++)
        if (!strcmp(name, format_names[i])) {
            *out = (log_format_t)i;
            return 0;
        }
    return -1;
}

const char *log_level_name(log_level_t level)
{
    return level < LOG_LVL__COUNT ? level_names[level] : "unknown";
}

/* ---- UTF-8 ------------------------------------------------------------ */

/*
 * Length of the valid UTF-8 sequence at p (at most n bytes), or 0 if the
 * bytes there are not one (overlong forms, surrogates and values above
 * U+10FFFF count as invalid). *cp receives the code point.
 */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
    uint32_t c;
    size_t len;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        len = 2;
        c = p[0] & 0x1F;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        len = 3;
        c = p[0] & 0x0F;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        len = 4;
        c = p[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/*
 * Code points that are valid UTF-8 but can rewrite what a reader sees:
 * C1 controls (a terminal treats U+009B as CSI), line/paragraph separators
 * (break lines in some viewers) and bidi overrides ("Trojan Source").
 */
static int codepoint_is_dangerous(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9F) || c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF;
}

/* ---- log_quote ---------------------------------------------------------- */

/*
 * Render one unit of input starting at p into out (at most 16 bytes) and
 * return the number of output bytes; *used receives the input consumed.
 */
static size_t quote_unit(const unsigned char *p, size_t n, char out[16], size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    uint32_t cp;
    size_t len;

    switch (p[0]) {
    case '"':
        *used = 1;
        memcpy(out, "\\\"", 2);
        return 2;
    case '\\':
        *used = 1;
        memcpy(out, "\\\\", 2);
        return 2;
    case '\n':
        *used = 1;
        memcpy(out, "\\n", 2);
        return 2;
    case '\r':
        *used = 1;
        memcpy(out, "\\r", 2);
        return 2;
    case '\t':
        *used = 1;
        memcpy(out, "\\t", 2);
        return 2;
    default:
        break;
    }
    if (p[0] >= 0x20 && p[0] < 0x7F) {
        *used = 1;
        out[0] = (char)p[0];
        return 1;
    }
    len = utf8_seq(p, n, &cp);
    if (len > 1 && !codepoint_is_dangerous(cp)) {
        *used = len;
        memcpy(out, p, len);
        return len;
    }
    /* Control byte, invalid byte, or every byte of a dangerous sequence. */
    if (len == 0)
        len = 1;
    for (size_t i = 0; i < len; i++) {
        out[i * 4 + 0] = '\\';
        out[i * 4 + 1] = 'x';
        out[i * 4 + 2] = hex[p[i] >> 4];
        out[i * 4 + 3] = hex[p[i] & 0xF];
    }
    *used = len;
    return len * 4;
}

const char *log_quote(char *buf, size_t size, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t o = 0, i = 0, used, total = 0;
    char unit[16];

    if (!buf || size == 0)
        return "";
    if (size < 8) {
        /* Below the documented minimum: still return something safe. */
        buf[0] = '\0';
        if (size >= 3)
            memcpy(buf, "\"\"", 3);
        return buf;
    }
    if (!p)
        len = 0;
    /* First pass: does the whole rendering fit (2 quotes + NUL)? */
    for (i = 0; i < len && total + 3 <= size; i += used)
        total += quote_unit(p + i, len - i, unit, &used);
    /* Second pass: keep room for "..." when it does not. Units (an escape,
     * a UTF-8 sequence) are never split. */
    size_t limit = (i >= len && total + 3 <= size) ? size - 2 : size - 5;
    buf[o++] = '"';
    for (i = 0; i < len;) {
        size_t ulen = quote_unit(p + i, len - i, unit, &used);
        if (o + ulen > limit)
            break;
        memcpy(buf + o, unit, ulen);
        o += ulen;
        i += used;
    }
    if (i < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

/* ---- line building ------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t cap; /* usable bytes, excluding the NUL and the final newline */
    size_t len;
    int full;
} sbuf_t;

static void sb_putn(sbuf_t *b, const char *s, size_t n)
{
    if (b->full)
        return;
    if (b->len + n > b->cap) {
        b->full = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_puts(sbuf_t *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

/* Copy n bytes, escaping control bytes so that a line stays one line. */
static void sb_put_sanitized(sbuf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F) {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xF]};
            sb_putn(b, esc, 4);
        } else {
            sb_putn(b, s + i, 1);
        }
    }
}

/* JSON string contents (no quotes) from bytes; invalid UTF-8 becomes \xNN text. */
static void sb_put_json_chars(sbuf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        uint32_t cp;
        size_t l;

        switch (c) {
        case '"':
            sb_putn(b, "\\\"", 2);
            i++;
            continue;
        case '\\':
            sb_putn(b, "\\\\", 2);
            i++;
            continue;
        case '\n':
            sb_putn(b, "\\n", 2);
            i++;
            continue;
        case '\r':
            sb_putn(b, "\\r", 2);
            i++;
            continue;
        case '\t':
            sb_putn(b, "\\t", 2);
            i++;
            continue;
        default:
            break;
        }
        if (c < 0x20 || c == 0x7F) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
            sb_putn(b, esc, 6);
            i++;
            continue;
        }
        if (c < 0x80) {
            sb_putn(b, s + i, 1);
            i++;
            continue;
        }
        l = utf8_seq(p + i, n - i, &cp);
        if (l == 0) {
            /* JSON cannot carry raw bytes; keep them visible as text. */
            char esc[5] = {'\\', '\\', 'x', hex[c >> 4], hex[c & 0xF]};
            sb_putn(b, esc, 5);
            i++;
        } else if (codepoint_is_dangerous(cp)) {
            char esc[6] = {'\\',
                           'u',
                           hex[(cp >> 12) & 0xF],
                           hex[(cp >> 8) & 0xF],
                           hex[(cp >> 4) & 0xF],
                           hex[cp & 0xF]};
            sb_putn(b, esc, 6);
            i += l;
        } else {
            sb_putn(b, s + i, l);
            i += l;
        }
    }
}

static void sb_put_json_string(sbuf_t *b, const char *s, size_t n)
{
    sb_putn(b, "\"", 1);
    sb_put_json_chars(b, s, n);
    sb_putn(b, "\"", 1);
}

/*
 * Decode the body of a log_quote()d value (between the quotes) into JSON
 * string characters. \" \\ \n \r \t are decoded; \xNN is kept as the text
 * "\xNN" so that invalid bytes stay visible and the JSON stays valid UTF-8.
 */
static void sb_put_json_from_quoted(sbuf_t *b, const char *s, size_t n)
{
    size_t i = 0, run = 0;

    while (i < n) {
        if (s[i] != '\\' || i + 1 >= n) {
            i++;
            run++;
            continue;
        }
        sb_put_json_chars(b, s + i - run, run);
        run = 0;
        switch (s[i + 1]) {
        case 'n':
            sb_putn(b, "\\n", 2);
            break;
        case 'r':
            sb_putn(b, "\\r", 2);
            break;
        case 't':
            sb_putn(b, "\\t", 2);
            break;
        case '"':
            sb_putn(b, "\\\"", 2);
            break;
        case '\\':
            sb_putn(b, "\\\\", 2);
            break;
        default: /* \xNN and anything unknown: keep the backslash as text */
            sb_putn(b, "\\\\", 2);
            i += 1;
            continue;
        }
        i += 2;
    }
    sb_put_json_chars(b, s + i - run, run);
}

/* ---- logfmt pair parsing -------------------------------------------------- */

typedef struct kv_pair {
    const char *key;
    size_t key_len;
    const char *val; /* for quoted values: the body between the quotes */
    size_t val_len;
    int quoted;
    int has_val;
    size_t end; /* offset just past the pair in the source */
} kv_pair_t;

/*
 * Split logfmt text into pairs. A pair is key, key=bare or key="quoted"
 * where the quoted body uses backslash escapes. A quoted value missing its
 * closing quote (the text was cut) ends the parse.
 */
static size_t kv_parse(const char *s, size_t n, kv_pair_t *pairs, size_t max)
{
    size_t i = 0, count = 0;

    while (i < n && count < max) {
        kv_pair_t *kv = &pairs[count];
        while (i < n && s[i] == ' ')
            i++;
        if (i >= n)
            break;
        memset(kv, 0, sizeof(*kv));
        kv->key = s + i;
        while (i < n && s[i] != '=' && s[i] != ' ')
            i++;
        kv->key_len = (size_t)(s + i - kv->key);
        if (i < n && s[i] == '=') {
            i++;
            kv->has_val = 1;
            if (i < n && s[i] == '"') {
                size_t start = ++i;
                while (i < n && s[i] != '"') {
                    if (s[i] == '\\' && i + 1 < n)
                        i++;
                    i++;
                }
                if (i >= n) /* unterminated: drop it */
                    break;
                kv->quoted = 1;
                kv->val = s + start;
                kv->val_len = i - start;
                i++; /* closing quote */
            } else {
                kv->val = s + i;
                while (i < n && s[i] != ' ')
                    i++;
                kv->val_len = (size_t)(s + i - kv->val);
            }
        }
        kv->end = i;
        if (kv->key_len == 0)
            continue; /* "=value" junk: skip */
        count++;
    }
    return count;
}

/* Strict JSON number grammar, so bare numeric values stay numbers. */
int log_json_number(const char *s, size_t n)
{
    size_t i = 0;

    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return 0;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return 0;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return i == n;
}

static int key_is_reserved(const char *k, size_t n)
{
    static const char *const reserved[] = {"ts", "level", "id", "msg"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strlen(reserved[i]) == n && !memcmp(reserved[i], k, n))
            return 1;
    return 0;
}

static void emit_json_pair(sbuf_t *b, const kv_pair_t *kv)
{
    sb_putn(b, ",\"", 2);
    /* A pair may not overwrite the fixed members; prefix a clash with "_". */
    if (key_is_reserved(kv->key, kv->key_len))
        sb_putn(b, "_", 1);
    sb_put_json_chars(b, kv->key, kv->key_len);
    sb_putn(b, "\":", 2);
    if (!kv->has_val) {
        sb_puts(b, "true");
    } else if (kv->quoted) {
        sb_putn(b, "\"", 1);
        sb_put_json_from_quoted(b, kv->val, kv->val_len);
        sb_putn(b, "\"", 1);
    } else if (log_json_number(kv->val, kv->val_len) ||
               (kv->val_len == 4 && !memcmp(kv->val, "true", 4)) ||
               (kv->val_len == 5 && !memcmp(kv->val, "false", 5))) {
        sb_putn(b, kv->val, kv->val_len);
    } else {
        sb_put_json_string(b, kv->val, kv->val_len);
    }
}

static void emit_logfmt_pair(sbuf_t *b, const kv_pair_t *kv)
{
    sb_putn(b, " ", 1);
    sb_put_sanitized(b, kv->key, kv->key_len);
    if (!kv->has_val)
        return;
    sb_putn(b, "=", 1);
    if (kv->quoted)
        sb_putn(b, "\"", 1);
    sb_put_sanitized(b, kv->val, kv->val_len);
    if (kv->quoted)
        sb_putn(b, "\"", 1);
}

static void format_ts(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, size - n, ".%03dZ", (int)(ts.tv_nsec / 1000000L) % 1000);
}

/* An ID is written bare when it is a plain token, else quoted. */
static int token_is_bare(const char *s)
{
    if (!*s || strnlen(s, LOG_ID_MAX) >= LOG_ID_MAX)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7F || c == '"' || c == '=' || c == '\\')
            return 0;
    }
    return 1;
}

void log_write(log_level_t level, const char *id, const char *msg, const char *kvfmt, ...)
{
    char line[LOG_LINE_MAX + 1];
    char kvtext[LOG_KV_MAX];
    char ts[40];
    char qmsg[LOG_MSG_MAX];
    char qid[LOG_ID_MAX];
    kv_pair_t pairs[LOG_MAX_PAIRS];
    size_t npairs = 0, kvlen = 0;
    int kv_cut = 0;
    int saved_errno = errno; /* callers may log and then look at errno */
    sbuf_t b = {.p = line, .cap = LOG_LINE_MAX - LOG_TAIL_MAX};
    const char *lvl = log_level_name(level);
    size_t pos;

    if (!id)
        id = "";
    if (!msg)
        msg = "";
    format_ts(ts, sizeof(ts));

    if (kvfmt && *kvfmt) {
        va_list ap;
        int n;
        va_start(ap, kvfmt);
        n = vsnprintf(kvtext, sizeof(kvtext), kvfmt, ap);
        va_end(ap);
        if (n < 0) {
            kvlen = 0;
        } else if ((size_t)n >= sizeof(kvtext)) {
            kvlen = sizeof(kvtext) - 1;
            kv_cut = 1;
        } else {
            kvlen = (size_t)n;
        }
        npairs = kv_parse(kvtext, kvlen, pairs, LOG_MAX_PAIRS);
        if (npairs == LOG_MAX_PAIRS && pairs[npairs - 1].end < kvlen)
            kv_cut = 1;
        /* A cut text may end inside a bare value: drop the last pair. */
        if (kv_cut && npairs > 0 && pairs[npairs - 1].end >= kvlen)
            npairs--;
    }

    if (log_format == LOG_FMT_JSON) {
        sb_puts(&b, "{\"ts\":\"");
        sb_puts(&b, ts);
        sb_puts(&b, "\",\"level\":\"");
        sb_puts(&b, lvl);
        sb_puts(&b, "\",\"id\":");
        sb_put_json_string(&b, id, strnlen(id, LOG_ID_MAX));
        sb_puts(&b, ",\"msg\":");
        sb_put_json_string(&b, msg, strnlen(msg, LOG_MSG_MAX));
    } else {
        sb_puts(&b, "ts=");
        sb_puts(&b, ts);
        sb_puts(&b, " level=");
        sb_puts(&b, lvl);
        sb_puts(&b, " id=");
        sb_puts(&b,
                token_is_bare(id) ? id : log_quote(qid, sizeof(qid), id, strnlen(id, LOG_ID_MAX)));
        sb_puts(&b, " msg=");
        sb_puts(&b, log_quote(qmsg, sizeof(qmsg), msg, strnlen(msg, LOG_MSG_MAX)));
    }

    /* Pairs: each one goes in whole or, once the line is full, not at all. */
    for (size_t i = 0; i < npairs; i++) {
        size_t mark = b.len;
        if (log_format == LOG_FMT_JSON)
            emit_json_pair(&b, &pairs[i]);
        else
            emit_logfmt_pair(&b, &pairs[i]);
        if (b.full) {
            b.len = mark;
            kv_cut = 1;
            break;
        }
    }

    /* cap kept LOG_TAIL_MAX bytes free for the marker and the terminator. */
    pos = b.len;
    if (kv_cut) {
        const char *marker = log_format == LOG_FMT_JSON ? ",\"truncated\":true" : " truncated=true";
        memcpy(line + pos, marker, strlen(marker));
        pos += strlen(marker);
    }
    if (log_format == LOG_FMT_JSON)
        line[pos++] = '}';
    line[pos++] = '\n';

    for (size_t off = 0; off < pos;) {
        ssize_t w = write(STDERR_FILENO, line + off, pos - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break; /* nowhere left to report it */
        }
        off += (size_t)w;
    }
    errno = saved_errno;
}
