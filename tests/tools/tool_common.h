/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_common.h - small header-only helpers shared by the test tools in
 * tests/tools/ (er_produce, er_admin, er_js, er_js_publish).
 *
 * Header-only on purpose: the tests/CMakeLists.txt glob turns every
 * tests/tools/<name>.c into its own executable, so shared code cannot live in a
 * .c file here. Everything is `static inline` so a tool that does not use a
 * helper pays nothing and gets no unused-function warning. tool_nats.h and
 * tool_kafka.h build on it with the NATS and Kafka client setup.
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
#include <getopt.h>
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

/** Print "prog: message" to stderr (tc_warn and tc_die). */
__attribute__((format(printf, 1, 0))) static inline void tc_vwarn(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", tc_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

/** Print "prog: message" to stderr and exit with `code`. */
__attribute__((format(printf, 2, 3), noreturn)) static inline void tc_die(int code, const char *fmt,
                                                                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    tc_vwarn(fmt, ap);
    va_end(ap);
    exit(code);
}

/** Print "prog: message" to stderr. */
__attribute__((format(printf, 1, 2))) static inline void tc_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tc_vwarn(fmt, ap);
    va_end(ap);
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

/**
 * `value` if set, else $env; exits with TC_EXIT_USAGE when neither is
 * ("no brokers: pass --brokers or set ER_KAFKA_BOOTSTRAP").
 * \param what what is missing ("brokers"). \param opt the option naming it.
 */
static inline const char *tc_opt_or_env_required(const char *value, const char *env,
                                                 const char *what, const char *opt)
{
    const char *v = tc_opt_or_env(value, env);
    if (!v)
        tc_die(TC_EXIT_USAGE, "no %s: pass %s or set %s", what, opt, env);
    return v;
}

/* ---- command-line options ----
 * Each tool lists its options in one table (TC_OPT_* entries pointing at the
 * fields they fill) and hands it to tc_parse_options, which runs getopt_long
 * over it. Every tool thus treats --help/-h, rejected options and stray
 * arguments the same way, and spells each option once. */

typedef enum {
    TC_ARG_TRUE,   /* no argument: *flag = 1 */
    TC_ARG_FALSE,  /* no argument: *flag = 0 */
    TC_ARG_STR,    /* *str = the argument (it points into argv) */
    TC_ARG_INT,    /* *i = integer in [min, max] */
    TC_ARG_LONG,   /* *l = integer in [min, max] */
    TC_ARG_LLONG,  /* *ll = integer in [min, max] */
    TC_ARG_DOUBLE, /* *d = number in [dmin, dmax] */
    TC_ARG_CALL,   /* call(ctx, argument) parses and stores it */
} tc_arg_kind;

typedef struct {
    const char *long_name; /* without "--"; NULL for a short-only option */
    char short_name;       /* 0 for a long-only option */
    tc_arg_kind kind;
    union {
        int *flag;
        const char **str;
        int *i;
        long *l;
        long long *ll;
        double *d;
        void *ctx;
    } to;
    long long min, max;
    double dmin, dmax;
    void (*call)(void *ctx, const char *arg);
} tc_option;

/* Table entries; each checks that `p` has the type its kind stores. */
#define TC_OPT_(kind_, name, ...)   ((tc_option){.long_name = (name), .kind = (kind_), __VA_ARGS__})
#define TC_OPT_TRUE(name, p)        TC_OPT_(TC_ARG_TRUE, name, .to.flag = (p))
#define TC_OPT_FALSE(name, p)       TC_OPT_(TC_ARG_FALSE, name, .to.flag = (p))
#define TC_OPT_STR(name, p)         TC_OPT_(TC_ARG_STR, name, .to.str = (p))
#define TC_OPT_INT(name, p, lo, hi) TC_OPT_(TC_ARG_INT, name, .to.i = (p), .min = (lo), .max = (hi))
#define TC_OPT_LONG(name, p, lo, hi)                                                               \
    TC_OPT_(TC_ARG_LONG, name, .to.l = (p), .min = (lo), .max = (hi))
#define TC_OPT_LLONG(name, p, lo, hi)                                                              \
    TC_OPT_(TC_ARG_LLONG, name, .to.ll = (p), .min = (lo), .max = (hi))
#define TC_OPT_DOUBLE(name, p, lo, hi)                                                             \
    TC_OPT_(TC_ARG_DOUBLE, name, .to.d = (p), .dmin = (lo), .dmax = (hi))
#define TC_OPT_CALL(name, fn, c) TC_OPT_(TC_ARG_CALL, name, .to.ctx = (c), .call = (fn))
/* A short-only option (-X) parsed by fn. */
#define TC_OPT_SHORT_CALL(letter, fn, c)                                                           \
    TC_OPT_(TC_ARG_CALL, NULL, .short_name = (letter), .to.ctx = (c), .call = (fn))

/** Store one option's argument where its table entry points. */
static inline void tc_apply_option(const tc_option *opt, const char *arg)
{
    char name[64];
    snprintf(name, sizeof(name), "--%s", opt->long_name ? opt->long_name : "");
    switch (opt->kind) {
    case TC_ARG_TRUE:
        *opt->to.flag = 1;
        break;
    case TC_ARG_FALSE:
        *opt->to.flag = 0;
        break;
    case TC_ARG_STR:
        *opt->to.str = arg;
        break;
    case TC_ARG_INT:
        *opt->to.i = (int)tc_parse_ll(name, arg, opt->min, opt->max);
        break;
    case TC_ARG_LONG:
        *opt->to.l = (long)tc_parse_ll(name, arg, opt->min, opt->max);
        break;
    case TC_ARG_LLONG:
        *opt->to.ll = tc_parse_ll(name, arg, opt->min, opt->max);
        break;
    case TC_ARG_DOUBLE:
        *opt->to.d = tc_parse_double(name, arg, opt->dmin, opt->dmax);
        break;
    case TC_ARG_CALL:
        opt->call(opt->to.ctx, arg);
        break;
    }
}

/**
 * Parse argv[first..] against the `n` options in `opts`, plus --help and -h
 * (usage on stdout, exit 0). An option getopt_long rejects prints its
 * message and the usage on stderr and exits TC_EXIT_USAGE, as does an
 * argument left over.
 * \param[out] operand receives the one non-option argument a command takes
 * (unchanged if there is none); NULL if the tool takes none.
 */
static inline void tc_parse_options(int argc, char **argv, int first, const tc_option *opts,
                                    size_t n, void (*usage)(FILE *), const char **operand)
{
    struct option *longopts = calloc(n + 2, sizeof(*longopts)); /* + help + end */
    char shortopts[32] = "";
    size_t nlong = 0, nshort = 0;
    if (!longopts)
        tc_die(TC_EXIT_ENV, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int has_arg = opts[i].kind == TC_ARG_TRUE || opts[i].kind == TC_ARG_FALSE
                          ? no_argument
                          : required_argument;
        if (opts[i].long_name)
            longopts[nlong++] = (struct option){opts[i].long_name, has_arg, NULL, 256 + (int)i};
        if (opts[i].short_name && nshort + 3 < sizeof(shortopts)) {
            shortopts[nshort++] = opts[i].short_name;
            if (has_arg == required_argument)
                shortopts[nshort++] = ':';
        }
    }
    longopts[nlong] = (struct option){"help", no_argument, NULL, 'h'};
    shortopts[nshort] = 'h';
    optind = first;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const tc_option *opt = c >= 256 ? &opts[c - 256] : NULL;
        for (size_t i = 0; i < n && !opt && c != 'h' && c != '?'; i++)
            if (opts[i].short_name == c)
                opt = &opts[i];
        if (c == 'h') {
            usage(stdout);
            exit(TC_EXIT_OK);
        }
        if (!opt) {
            usage(stderr);
            exit(TC_EXIT_USAGE);
        }
        tc_apply_option(opt, optarg);
    }
    free(longopts);
    if (operand && optind < argc)
        *operand = argv[optind++];
    if (optind < argc)
        tc_die(TC_EXIT_USAGE, "unexpected argument '%s' (see --help)", argv[optind]);
}

/**
 * The COMMAND of a `tool COMMAND ...` command line (argv[1]). Without one the
 * usage goes to stderr (exit TC_EXIT_USAGE); `tool --help` or `tool -h`
 * prints it on stdout (exit 0).
 */
static inline const char *tc_take_command(int argc, char **argv, void (*usage)(FILE *))
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        exit(argc < 2 ? TC_EXIT_USAGE : TC_EXIT_OK);
    }
    return argv[1];
}

/**
 * The index of `s` in the NULL-terminated `words`; exits TC_EXIT_USAGE with
 * "--opt: expected a, b or c, got 's'" if it is not one of them.
 */
static inline int tc_parse_choice(const char *opt, const char *s, const char *const *words)
{
    char expected[256] = "";
    size_t len = 0;
    for (int i = 0; words[i]; i++) {
        if (strcmp(s, words[i]) == 0)
            return i;
        len += (size_t)snprintf(expected + len, sizeof(expected) - len, "%s%s",
                                i == 0         ? ""
                                : words[i + 1] ? ", "
                                               : " or ",
                                words[i]);
        if (len >= sizeof(expected))
            len = sizeof(expected) - 1;
    }
    tc_die(TC_EXIT_USAGE, "%s: expected %s, got '%s'", opt, expected, s);
}

/**
 * Append a `key=value` option argument (-X, --config) to `list` of at most
 * `max`; exits TC_EXIT_USAGE "opt: expected key=value" if it has no '=' or
 * the list is full.
 */
static inline void tc_append_kv(const char *opt, const char *arg, const char **list, int *n,
                                int max)
{
    if (!strchr(arg, '=') || *n == max)
        tc_die(TC_EXIT_USAGE, "%s: expected key=value, got '%s'", opt, arg);
    list[(*n)++] = arg;
}

/**
 * Split a `key=value` that tc_append_kv accepted. \return the key, which the
 * caller frees. \param[out] value points into `kv`, after the first '='.
 */
static inline char *tc_kv_key(const char *kv, const char **value)
{
    const char *eq = strchr(kv, '=');
    char *key = strndup(kv, (size_t)(eq - kv));
    if (!key)
        tc_die(TC_EXIT_ENV, "out of memory");
    *value = eq + 1;
    return key;
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

/**
 * Write `s` (length `len`) as a JSON string literal, quotes included.
 * Quote, backslash, newline, CR and tab get their two-character escape, the
 * other control characters a six-character unicode escape.
 */
static inline void tc_json_str_n(FILE *f, const char *s, size_t len)
{
    static const char plain[] = "\"\\\n\r\t", escaped[] = "\"\\nrt";
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *hit = c ? strchr(plain, c) : NULL;
        if (hit) {
            fputc('\\', f);
            fputc(escaped[hit - plain], f);
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
        } else {
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

/* ---- ids files (er_produce --ids-out writes them, er_js verify and
 * er_js_publish --ids read them) ---- */

/** Open `path` for reading, "-" meaning stdin; exits TC_EXIT_ENV on error. */
static inline FILE *tc_open_input(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        tc_die(TC_EXIT_ENV, "%s: %s", path, strerror(errno));
    return f;
}

/** Close what tc_open_input opened (stdin stays open). */
static inline void tc_close_input(FILE *f)
{
    if (f != stdin)
        fclose(f);
}

/**
 * Create or truncate `path` for writing; exits TC_EXIT_ENV on error.
 * \return NULL if `path` is NULL (the file was not asked for).
 */
static inline FILE *tc_open_output(const char *path)
{
    FILE *f = path ? fopen(path, "w") : NULL;
    if (path && !f)
        tc_die(TC_EXIT_ENV, "%s: %s", path, strerror(errno));
    return f;
}

/**
 * Read the next line of an ids file that is neither blank nor a comment
 * ('#') and split it at tabs (tc_split_tabs).
 * \param[in,out] line, cap the getline buffer. \param[in,out] lineno counts
 * every line read, skipped ones included. \param[out] cols at most `max`.
 * \return the number of columns, 0 at the end of the file.
 */
static inline int tc_next_ids_line(FILE *f, char **line, size_t *cap, long long *lineno,
                                   char **cols, int max)
{
    while (getline(line, cap, f) > 0) {
        ++*lineno;
        int n = tc_split_tabs(*line, cols, max);
        if (cols[0][0] && cols[0][0] != '#')
            return n;
    }
    return 0;
}

/**
 * `prefix` followed by 8 hex digits drawn from `seed` (an ID prefix that
 * differs from run to run when seeded from the clock).
 */
static inline void tc_random_tag(char *buf, size_t size, const char *prefix, uint64_t seed)
{
    snprintf(buf, size, "%s%08" PRIx64, prefix, tc_splitmix64(&seed) & 0xffffffffu);
}

#endif /* ER_TOOL_COMMON_H */
