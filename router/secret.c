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

#include "buf.h"
#include "fileio.h"

/* ---- redaction ---------------------------------------------------------------- */

int secret_key_is_secret(const char *key, size_t len)
{
    /* OAUTHBEARER's secrets are its config, extensions, client secrets and
     * private keys (caught by "secret" and "private"); its method, client
     * id, scope and token endpoint are not, and redacting them would hide
     * the settings an operator checks first and warn (KFK-0003) about the
     * documented OIDC configuration. These two contain a secret word. */
    static const char *const not_secret[] = {"sasl.oauthbearer.token.endpoint.url",
                                             "sasl.oauthbearer.client.credentials.client.id", NULL};
    static const char *const names[] = {"password",
                                        "secret",
                                        "ssl.key",
                                        "token",
                                        "credential",
                                        "private",
                                        "sasl.oauthbearer.config",
                                        "sasl.oauthbearer.extensions",
                                        NULL};
    for (size_t i = 0; not_secret[i]; i++)
        if (strlen(not_secret[i]) == len && !strncasecmp(key, not_secret[i], len))
            return 0;
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
    buf_t w;
    const char *pos = url ? url : "", *at;

    buf_init_fixed(&w, buf, size, BUF_CUT); /* truncated if short, always NUL-terminated */
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
        buf_append(&w, pos, (size_t)(u - pos));
        if (colon) /* user:password: the user name helps and is no secret */
            buf_append(&w, u, (size_t)(colon - u) + 1);
        buf_append(&w, SECRET_REDACTED "@", sizeof(SECRET_REDACTED));
        pos = at + 1;
    }
    buf_append(&w, pos, strlen(pos));
    return buf;
}

const char *secret_redact_property(const char *prop, char *buf, size_t size)
{
    buf_t w;
    const char *p = prop ? prop : "";
    size_t klen = strcspn(p, "=: \t");

    buf_init_fixed(&w, buf, size, BUF_CUT); /* truncated if short, always NUL-terminated */
    if (!secret_key_is_secret(p, p[klen] == '=' || !p[klen] ? klen : strlen(p))) {
        buf_append(&w, p, strlen(p));
        return buf;
    }
    /* Keep the key and its separator ("=", ": ", " "), hide the rest. */
    size_t sep = strspn(p + klen, "=: \t");
    buf_append(&w, p, klen + sep);
    buf_append(&w, SECRET_REDACTED, sizeof(SECRET_REDACTED) - 1);
    return buf;
}

void secret_scrub(char *msg, size_t size, const char *secret)
{
    size_t sl = secret ? strlen(secret) : 0;
    char out[1024], *hit;
    buf_t w;
    const char *m = msg;

    if (sl == 0 || !msg || size == 0)
        return;
    buf_init_fixed(&w, out, sizeof(out), BUF_CUT);
    while ((hit = strstr(m, secret))) {
        buf_append(&w, m, (size_t)(hit - m));
        buf_append(&w, SECRET_REDACTED, sizeof(SECRET_REDACTED) - 1);
        m = hit + sl;
    }
    if (m == msg)
        return;
    buf_append(&w, m, strlen(m));
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

/* The '}' that closes the reference starting at v, whose name starts at
 * name. Returns it, or NULL with errstr set when it is missing or the name
 * is empty. */
static const char *reference_end(const char *v, const char *name, int is_env, char *errstr,
                                 size_t errstr_size)
{
    const char *end = strchr(name, '}');

    if (!end) {
        /* Quote the reference name only, not the text after it: that
         * may be a secret (e.g. "${env:PW hunter2"). */
        size_t nl = is_env ? strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789_")
                           : strcspn(name, " \t\r\n$");
        snprintf(errstr, errstr_size, "unterminated reference '%.*s%.*s' (missing '}')",
                 is_env ? 6 : 7, v, (int)(nl > 64 ? 64 : nl), name);
        return NULL;
    }
    if (end == name) {
        snprintf(errstr, errstr_size, "empty reference '%.*s'", (int)(end - v + 1), v);
        return NULL;
    }
    return end;
}

/* Append to b the value of ${env:ref} or ${file:ref}. Returns 0, or -1 with
 * errstr set. */
static int append_reference(buf_t *b, int is_env, const char *ref, char *errstr, size_t errstr_size)
{
    if (is_env) {
        const char *e = getenv(ref);
        if (!e) {
            snprintf(errstr, errstr_size, "environment variable %s is not set (${env:%s})", ref,
                     ref);
            return -1;
        }
        if (buf_append(b, e, strlen(e)))
            goto oom;
    } else {
        char ferr[300];
        char *secret = secret_read_file(ref, ferr, sizeof(ferr));
        if (!secret) {
            snprintf(errstr, errstr_size, "${file:%s}: %s", ref, ferr);
            return -1;
        }
        int rc = buf_append(b, secret, strlen(secret));
        secret_free(secret);
        if (rc)
            goto oom;
    }
    return 0;
oom:
    snprintf(errstr, errstr_size, "out of memory");
    return -1;
}

int secret_resolve(const char *value, char **out, unsigned *refs, char *errstr, size_t errstr_size)
{
    buf_t b; /* wiped whenever it moves (BUF_WIPE): it holds secrets */
    const char *v = value;
    unsigned n = 0;

    buf_init(&b, BUF_WIPE);

    *out = NULL;
    *refs = 0;
    if (errstr && errstr_size)
        errstr[0] = '\0';
    while (*v) {
        int is_env = !strncmp(v, "${env:", 6), is_file = !strncmp(v, "${file:", 7);
        if (!strncmp(v, "$${", 3)) { /* escaped: a literal "${" */
            if (buf_append(&b, "${", 2))
                goto oom;
            v += 3;
            continue;
        }
        if (!is_env && !is_file) {
            size_t run = strcspn(v + 1, "$") + 1;
            if (buf_append(&b, v, run))
                goto oom;
            v += run;
            continue;
        }
        const char *name = v + (is_env ? 6 : 7);
        const char *end = reference_end(v, name, is_env, errstr, errstr_size);
        if (!end)
            goto err;
        char *ref = strndup(name, (size_t)(end - name));
        if (!ref)
            goto oom;
        int rc = append_reference(&b, is_env, ref, errstr, errstr_size);
        free(ref);
        if (rc)
            goto err;
        n++;
        v = end + 1;
    }
    if (!(*out = buf_take(&b))) /* "" for an empty value */
        goto oom;
    *refs = n;
    return 0;
oom:
    snprintf(errstr, errstr_size, "out of memory");
err:
    buf_free(&b);
    return -1;
}
