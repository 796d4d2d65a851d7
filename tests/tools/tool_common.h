/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_common.h - small header-only helpers shared by the test tools in
 * tests/tools/ (er_produce, er_admin, er_js, er_js_publish).
 *
 * Header-only on purpose: the tests/CMakeLists.txt glob turns every
 * tests/tools/<name>.c into its own executable, so shared code cannot live in a
 * .c file here. Everything is `static inline` so a tool that does not use a
 * helper pays nothing and gets no unused-function warning.
 *
 * Not for: anything the router itself needs. These are test drivers; they
 * may exit() (the router's modules may not).
 *
 * Exit codes used by every tool (scripts rely on them):
 *   0  success / check passed
 *   1  check failed (verification mismatch, delivery failure, timeout)
 *   2  usage error (bad option or argument)
 *   3  environment error (cannot connect, broker/server API error, I/O)
 *   130 interrupted by SIGINT/SIGTERM (after draining what it could)
 */
#ifndef ER_TOOL_COMMON_H
#define ER_TOOL_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    TC_EXIT_OK = 0,
    TC_EXIT_FAIL = 1,
    TC_EXIT_USAGE = 2,
    TC_EXIT_ENV = 3,
    TC_EXIT_INTR = 130,
};

/* Set by the signal handler only; main loops poll it (STYLE habit 5). */
static volatile sig_atomic_t tc_stop_requested;

static void tc_on_signal(int sig)
{
    (void)sig;
    tc_stop_requested = 1;
}

/** Install SIGINT/SIGTERM handlers that only set tc_stop_requested. */
static inline void tc_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = tc_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/** Program name for messages; set once from argv[0] by each tool. */
static const char *tc_prog = "tool";

/** Print "prog: message" to stderr and exit with `code`. */
__attribute__((format(printf, 2, 3), noreturn)) static inline void tc_die(int code, const char *fmt,
                                                                          ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", tc_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

/** Print "prog: message" to stderr. */
__attribute__((format(printf, 1, 2))) static inline void tc_warn(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", tc_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/** Monotonic clock in nanoseconds (for intervals and pacing). */
static inline int64_t tc_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/** Wall clock (UTC) in nanoseconds since the epoch. */
static inline int64_t tc_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/** Sleep until the monotonic deadline `ns` (absolute); EINTR-safe. */
static inline void tc_sleep_until_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        if (tc_stop_requested)
            return;
    }
}

static inline void tc_sleep_ms(int64_t ms)
{
    tc_sleep_until_ns(tc_mono_ns() + ms * 1000000LL);
}

/**
 * Format a wall-clock time as ISO-8601 UTC with milliseconds
 * (2024-05-01T12:00:00.123Z). \param[out] buf at least 32 bytes.
 */
static inline void tc_iso8601(int64_t wall_ns, char *buf, size_t size)
{
    time_t secs = (time_t)(wall_ns / 1000000000LL);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03dZ", (int)((wall_ns / 1000000LL) % 1000));
}

/**
 * Parse a non-negative integer option value; exits with TC_EXIT_USAGE and a
 * message naming the option on error.
 */
static inline long long tc_parse_ll(const char *opt, const char *s, long long min, long long max)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        tc_die(TC_EXIT_USAGE, "%s: expected an integer in [%lld, %lld], got '%s'", opt, min, max,
               s);
    return v;
}

static inline double tc_parse_double(const char *opt, const char *s, double min, double max)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !(v >= min && v <= max))
        tc_die(TC_EXIT_USAGE, "%s: expected a number in [%g, %g], got '%s'", opt, min, max, s);
    return v;
}

/** `value` if non-NULL and non-empty, else getenv(env), else NULL. */
static inline const char *tc_opt_or_env(const char *value, const char *env)
{
    if (value && *value)
        return value;
    const char *e = getenv(env);
    return (e && *e) ? e : NULL;
}

/* ---- deterministic PRNG (splitmix64 seeding xoshiro256**) ---- */

typedef struct {
    uint64_t s[4];
} tc_rng;

static inline uint64_t tc_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void tc_rng_seed(tc_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = tc_splitmix64(&seed);
}

static inline uint64_t tc_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t tc_rng_next(tc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = tc_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = tc_rotl(s[3], 45);
    return result;
}

/** Uniform in [0, n). */
static inline uint64_t tc_rng_below(tc_rng *r, uint64_t n)
{
    return n ? tc_rng_next(r) % n : 0;
}

/** Uniform in [0, 1). */
static inline double tc_rng_unit(tc_rng *r)
{
    return (double)(tc_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- JSON output ---- */

/** Write `s` (length `len`) as a JSON string literal, quotes included. */
static inline void tc_json_str_n(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (c < 0x20)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

static inline void tc_json_str(FILE *f, const char *s)
{
    if (!s)
        fputs("null", f);
    else
        tc_json_str_n(f, s, strlen(s));
}

/* ---- string -> record hash table (open addressing, grows at 50%) ----
 * Used by the verifiers to hold every expected event ID. Keys are copied.
 * Not thread-safe: callers use it from one thread. */

typedef struct {
    char *key;     /* owned; NULL = empty slot */
    char *aux;     /* owned; optional second column (expected subject) */
    uint32_t seen; /* how many times seen among stored messages */
    uint32_t flags;
    int64_t num; /* free for the caller (e.g. last offset seen) */
} tc_entry;

typedef struct {
    tc_entry *slots;
    size_t cap; /* power of two */
    size_t len;
} tc_map;

static inline uint64_t tc_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static inline void tc_map_init(tc_map *m, size_t hint)
{
    size_t cap = 1024;
    while (cap < hint * 2)
        cap <<= 1;
    m->slots = calloc(cap, sizeof(*m->slots));
    if (!m->slots)
        tc_die(TC_EXIT_ENV, "out of memory");
    m->cap = cap;
    m->len = 0;
}

static inline tc_entry *tc_map_slot(const tc_map *m, const char *key)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)tc_hash(key) & mask;
    while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0)
        i = (i + 1) & mask;
    return &m->slots[i];
}

static inline tc_entry *tc_map_get(const tc_map *m, const char *key)
{
    tc_entry *e = tc_map_slot(m, key);
    return e->key ? e : NULL;
}

/**
 * Insert `key` (copied) unless present. \param[out] existed set to 1 if the
 * key was already there. \return the entry.
 */
static inline tc_entry *tc_map_put(tc_map *m, const char *key, int *existed)
{
    if ((m->len + 1) * 2 > m->cap) {
        tc_map old = *m;
        tc_map_init(m, old.cap); /* doubles: cap >= 2*hint */
        for (size_t i = 0; i < old.cap; i++) {
            if (old.slots[i].key)
                *tc_map_slot(m, old.slots[i].key) = old.slots[i];
        }
        m->len = old.len;
        free(old.slots);
    }
    tc_entry *e = tc_map_slot(m, key);
    if (e->key) {
        if (existed)
            *existed = 1;
        return e;
    }
    if (existed)
        *existed = 0;
    e->key = strdup(key);
    if (!e->key)
        tc_die(TC_EXIT_ENV, "out of memory");
    m->len++;
    return e;
}

static inline void tc_map_free(tc_map *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->slots[i].key);
        free(m->slots[i].aux);
    }
    free(m->slots);
    m->slots = NULL;
    m->cap = m->len = 0;
}

/**
 * Split a tab-separated line in place. \param[out] cols pointers into
 * `line`. \return number of columns (at most `max`). Strips the newline.
 */
static inline int tc_split_tabs(char *line, char **cols, int max)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    int c = 0;
    char *p = line;
    while (c < max) {
        cols[c++] = p;
        char *t = strchr(p, '\t');
        if (!t)
            break;
        *t = '\0';
        p = t + 1;
    }
    return c;
}

#endif /* ER_TOOL_COMMON_H */
