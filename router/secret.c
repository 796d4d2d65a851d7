/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secret: the only code that reads secret values (environment variables,
 * files, references inside property values) and the only redaction rule for
 * log lines and error messages (see secret.h). Every buffer that held a
 * secret is wiped with explicit_bzero() before it is freed, so a core dump
 * or a reused heap block shows less. Not for: passing secrets to clients.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"

#include "fileio.h"

/* ---- redaction ---------------------------------------------------------------- */

int secret_key_is_secret(const char *key, size_t len)
{
    static const char *const names[] = {"password", "secret",     "sasl.oauthbearer", "ssl.key",
                                        "token",    "credential", "private",          NULL};
    for (size_t i = 0; names[i]; i++) {
        size_t nl = strlen(names[i]);
        for (size_t o = 0; o + nl <= len; o++)
            if (!strncasecmp(key + o, names[i], nl))
                return 1;
    }
    return 0;
}

int secret_property_is_secret(const char *prop)
{
    const char *eq = strchr(prop, '=');
    return secret_key_is_secret(prop, eq ? (size_t)(eq - prop) : strlen(prop));
}

/* Bounded appender: output stops at the buffer's end, never overruns. */
typedef struct wbuf {
    char *p;
    size_t size, len;
} wbuf_t;

static void wadd(wbuf_t *w, const char *s, size_t n)
{
    if (w->size == 0)
        return;
    size_t room = w->size - 1 - w->len;
    if (n > room)
        n = room;
    memcpy(w->p + w->len, s, n);
    w->len += n;
    w->p[w->len] = '\0';
}

/* Whether [start, sep) ends with a URL scheme that starts at \p start or
 * right after a comma. */
static int scheme_before(const char *start, const char *sep)
{
    const char *b = sep;
    while (b > start &&
           (isalnum((unsigned char)b[-1]) || b[-1] == '+' || b[-1] == '-' || b[-1] == '.'))
        b--;
    return b < sep && isalpha((unsigned char)*b) && (b == start || b[-1] == ',');
}

const char *secret_redact_url(const char *url, char *buf, size_t size)
{
    wbuf_t w = {buf, size, 0};
    const char *pos = url ? url : "", *at;

    if (size)
        buf[0] = '\0';
    while ((at = strchr(pos, '@'))) {
        /* Where this '@''s userinfo starts: after the last "scheme://"
         * that begins a URL (at the start or after a comma), else after the
         * last comma, else where we are. */
        const char *u = pos;
        for (const char *p = pos; p < at; p++)
            if (!strncmp(p, "://", 3) && scheme_before(pos, p))
                u = p + 3;
        if (u == pos)
            for (const char *p = pos; p < at; p++)
                if (*p == ',')
                    u = p + 1;
        const char *colon = memchr(u, ':', (size_t)(at - u));
        wadd(&w, pos, (size_t)(u - pos));
        if (colon) /* user:password: the user name helps and is no secret */
            wadd(&w, u, (size_t)(colon - u) + 1);
        wadd(&w, SECRET_REDACTED "@", sizeof(SECRET_REDACTED));
        pos = at + 1;
    }
    wadd(&w, pos, strlen(pos));
    return buf;
}

const char *secret_redact_property(const char *prop, char *buf, size_t size)
{
    wbuf_t w = {buf, size, 0};
    const char *p = prop ? prop : "";
    size_t klen = strcspn(p, "=: \t");

    if (size)
        buf[0] = '\0';
    if (!secret_key_is_secret(p, p[klen] == '=' || !p[klen] ? klen : strlen(p))) {
        wadd(&w, p, strlen(p));
        return buf;
    }
    /* Keep the key and its separator ("=", ": ", " "), hide the rest. */
    size_t sep = strspn(p + klen, "=: \t");
    wadd(&w, p, klen + sep);
    wadd(&w, SECRET_REDACTED, sizeof(SECRET_REDACTED) - 1);
    return buf;
}

void secret_scrub(char *msg, size_t size, const char *secret)
{
    size_t sl = secret ? strlen(secret) : 0;
    char out[1024], *hit;
    wbuf_t w = {out, sizeof(out), 0};
    const char *m = msg;

    if (sl == 0 || !msg || size == 0)
        return;
    out[0] = '\0';
    while ((hit = strstr(m, secret))) {
        wadd(&w, m, (size_t)(hit - m));
        wadd(&w, SECRET_REDACTED, sizeof(SECRET_REDACTED) - 1);
        m = hit + sl;
    }
    if (m == msg)
        return;
    wadd(&w, m, strlen(m));
    snprintf(msg, size, "%s", out);
    explicit_bzero(out, sizeof(out));
}

/* ---- reading ------------------------------------------------------------------ */

void secret_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

/* Paths already warned about (SEC-0001 once per file, not per reconnect). */
#define WARNED_MAX 64
static pthread_mutex_t warned_lock = PTHREAD_MUTEX_INITIALIZER;
static char *warned[WARNED_MAX];
static size_t warned_count;

static void warn_mode_once(const char *path, mode_t mode)
{
    int seen = 0;
    pthread_mutex_lock(&warned_lock);
    for (size_t i = 0; i < warned_count && !seen; i++)
        seen = !strcmp(warned[i], path);
    if (!seen && warned_count < WARNED_MAX)
        warned[warned_count++] = strdup(path);
    pthread_mutex_unlock(&warned_lock);
    if (!seen) {
        char octal[8];
        snprintf(octal, sizeof(octal), "%04o", (unsigned)(mode & 07777));
        LOG_WARN("SEC-0001",
                 "secret file is readable by group or others; make it 0600 or 0400 "
                 "(Kubernetes: defaultMode: 0400)",
                 LKV_S("path", path), LKV_S("mode", octal));
    }
}

int secret_check_file_mode(const char *path)
{
    struct stat st;
    if (!path || stat(path, &st) != 0 || !(st.st_mode & 077))
        return 0;
    warn_mode_once(path, st.st_mode);
    return 1;
}

char *secret_read_file(const char *path, char *errstr, size_t errstr_size)
{
    char *buf = NULL;
    size_t got = 0;

    if (fileio_read(path, SECRET_MAX_FILE_BYTES, &buf, &got, errstr, errstr_size))
        return NULL;
    secret_check_file_mode(path);
    if (memchr(buf, '\0', got)) {
        snprintf(errstr, errstr_size, "%s: secret contains a NUL byte", path);
        explicit_bzero(buf, got);
        free(buf);
        return NULL;
    }
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
        buf[--got] = '\0';
    return buf;
}

char *secret_from(const char *env_name, const char *file_path, char *errstr, size_t errstr_size)
{
    if (errstr && errstr_size)
        errstr[0] = '\0';
    if (env_name && *env_name) {
        const char *val = getenv(env_name);
        if (val) {
            char *s = strdup(val);
            if (!s) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
            }
            size_t len = strlen(s);
            while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
                s[--len] = '\0';
            return s;
        }
        if (!file_path || !*file_path) {
            snprintf(errstr, errstr_size, "environment variable %s is not set", env_name);
            return NULL;
        }
    }
    if (file_path && *file_path)
        return secret_read_file(file_path, errstr, errstr_size);
    return NULL;
}

/* Growable output buffer for secret_resolve(); wiped whenever it moves. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf_t;

static int sbuf_add(sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t ncap = (b->len + n + 1) * 2;
        char *np = malloc(ncap);
        if (!np)
            return -1;
        if (b->p) {
            memcpy(np, b->p, b->len);
            explicit_bzero(b->p, b->cap);
            free(b->p);
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int secret_resolve(const char *value, char **out, unsigned *refs, char *errstr, size_t errstr_size)
{
    sbuf_t b = {0};
    const char *v = value;
    unsigned n = 0;

    *out = NULL;
    *refs = 0;
    if (errstr && errstr_size)
        errstr[0] = '\0';
    while (*v) {
        int is_env = !strncmp(v, "${env:", 6), is_file = !strncmp(v, "${file:", 7);
        if (!strncmp(v, "$${", 3)) { /* escaped: a literal "${" */
            if (sbuf_add(&b, "${", 2))
                goto oom;
            v += 3;
            continue;
        }
        if (!is_env && !is_file) {
            size_t run = strcspn(v + 1, "$") + 1;
            if (sbuf_add(&b, v, run))
                goto oom;
            v += run;
            continue;
        }
        const char *name = v + (is_env ? 6 : 7), *end = strchr(name, '}');
        if (!end) {
            /* Quote the reference name only, not the text after it: that
             * may be a secret (e.g. "${env:PW hunter2"). */
            size_t nl = is_env ? strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789_")
                               : strcspn(name, " \t\r\n$");
            snprintf(errstr, errstr_size, "unterminated reference '%.*s%.*s' (missing '}')",
                     is_env ? 6 : 7, v, (int)(nl > 64 ? 64 : nl), name);
            goto err;
        }
        if (end == name) {
            snprintf(errstr, errstr_size, "empty reference '%.*s'", (int)(end - v + 1), v);
            goto err;
        }
        char *ref = strndup(name, (size_t)(end - name));
        if (!ref)
            goto oom;
        if (is_env) {
            const char *e = getenv(ref);
            if (!e) {
                snprintf(errstr, errstr_size, "environment variable %s is not set (${env:%s})", ref,
                         ref);
                free(ref);
                goto err;
            }
            if (sbuf_add(&b, e, strlen(e))) {
                free(ref);
                goto oom;
            }
        } else {
            char ferr[300];
            char *secret = secret_read_file(ref, ferr, sizeof(ferr));
            if (!secret) {
                snprintf(errstr, errstr_size, "${file:%s}: %s", ref, ferr);
                free(ref);
                goto err;
            }
            int rc = sbuf_add(&b, secret, strlen(secret));
            secret_free(secret);
            if (rc) {
                free(ref);
                goto oom;
            }
        }
        free(ref);
        n++;
        v = end + 1;
    }
    if (!b.p && sbuf_add(&b, "", 0))
        goto oom;
    *out = b.p;
    *refs = n;
    return 0;
oom:
    snprintf(errstr, errstr_size, "out of memory");
err:
    if (b.p)
        explicit_bzero(b.p, b.cap);
    free(b.p);
    return -1;
}
