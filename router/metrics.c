/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c: a process-wide Prometheus registry.
 *
 * Series live in a hash table keyed by (name, labels) and are grouped into
 * families by name (one # HELP / # TYPE per family). Registering takes the
 * registry mutex; updating a series only touches C11 atomics, so the hot
 * path (librdkafka's, cnats's and the router's threads) never blocks.
 * metrics_render() takes the mutex to walk the table and reads the atomics;
 * a scrape racing an update sees either the old or the new value.
 *
 * A removed series stays allocated (its handle must keep working) and is
 * only hidden; registering the same name + labels again revives it, so a
 * partition that is revoked and re-assigned reuses its series and memory is
 * bounded by the number of distinct series ever seen.
 *
 * Misuse that would corrupt the exposition (an invalid metric name, the
 * same name registered as two types or with two bucket layouts) is logged
 * (MET-0001) and answered with a detached series that works but is never
 * rendered, so an instrumentation bug cannot take the router down. A
 * registration that runs out of memory is answered the same way, with a
 * shared no-op series (MET-0002, logged once): alloc.h's policy.
 *
 * Not for: HTTP (http.c serves metrics_render()'s text) or deciding what to
 * measure.
 */
#include "metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "log.h"
#include "utf8.h"

typedef enum metric_type { MT_COUNTER, MT_GAUGE, MT_HISTOGRAM } metric_type_t;

static const char *const type_names[] = {
    [MT_COUNTER] = "counter",
    [MT_GAUGE] = "gauge",
    [MT_HISTOGRAM] = "histogram",
};

typedef struct family {
    char *name;
    char *help;
    metric_type_t type;
    double *bounds; /* histogram upper bounds, without +Inf */
    size_t bound_count;
    struct family *next;
} family_t;

struct metrics_series {
    family_t *fam; /* NULL for a detached series */
    metric_type_t type;
    char *labels;
    atomic_int hidden;
    /* counter: the count; gauge: the bits of a double */
    _Atomic uint64_t value;
    /* histogram: per-bucket (non-cumulative) counts, bound_count + 1 of
     * them (the last is +Inf), and the bits of the sum */
    _Atomic uint64_t *buckets;
    const double *bounds;
    double *own_bounds; /* a detached histogram's private copy */
    size_t bound_count;
    _Atomic uint64_t sum_bits;
    struct metrics_series *hnext;    /* hash chain */
    struct metrics_series *all_next; /* every series, for shutdown */
};

static struct {
    pthread_mutex_t lock;
    metrics_series_t **table;
    size_t table_size;
    size_t count;
    family_t *families;
    metrics_series_t *all; /* includes detached series */
} reg = {.lock = PTHREAD_MUTEX_INITIALIZER};

const double metrics_latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const size_t metrics_latency_bucket_count =
    sizeof(metrics_latency_buckets) / sizeof(metrics_latency_buckets[0]);

/* ---- helpers -------------------------------------------------------------- */

static void *(*reg_calloc)(size_t, size_t) = calloc;

void metrics_set_calloc_for_tests(void *(*fn)(size_t n, size_t size))
{
    reg_calloc = fn ? fn : calloc;
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = reg_calloc(1, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/*
 * The series every registration that cannot allocate gets (alloc.h's
 * policy: a metric is never worth stopping the router for). One per type,
 * shared, never rendered and never freed; updates to it are harmless
 * atomics. Logged once per process (MET-0002) so a starving process does
 * not also flood its log.
 */
static _Atomic uint64_t noop_hist_bucket[1];
static metrics_series_t noop_series[] = {
    [MT_COUNTER] = {.type = MT_COUNTER, .hidden = 1},
    [MT_GAUGE] = {.type = MT_GAUGE, .hidden = 1},
    [MT_HISTOGRAM] = {.type = MT_HISTOGRAM, .hidden = 1, .buckets = noop_hist_bucket},
};
static atomic_int noop_logged;

/* Caller holds reg.lock. */
static metrics_series_t *noop(metric_type_t type, const char *name)
{
    if (!atomic_exchange(&noop_logged, 1))
        LOG_ERROR("MET-0002",
                  "out of memory registering a metric: it and any other that fails the same "
                  "way are not recorded (logged once)",
                  LKV_S("name", name ? name : ""));
    return &noop_series[type];
}

static uint64_t d2u(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static double u2d(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static void atomic_add_double(_Atomic uint64_t *bits, double delta)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(bits, &old, d2u(u2d(old) + delta),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

static uint64_t hash_key(const char *name, const char *labels)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xFF) * 1099511628211ULL; /* separator no name contains */
    for (const char *p = labels; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static int name_is_valid(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++) {
        int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == ':';
        if (!alpha && !(p != s && *p >= '0' && *p <= '9'))
            return 0;
    }
    return 1;
}

/* Caller holds reg.lock. */
static int table_grow(void)
{
    size_t nsize = reg.table_size ? reg.table_size * 2 : 64;
    metrics_series_t **nt = reg_calloc(nsize, sizeof(*nt));
    if (!nt)
        return -1;
    for (size_t i = 0; i < reg.table_size; i++) {
        metrics_series_t *s = reg.table[i], *next;
        for (; s; s = next) {
            next = s->hnext;
            size_t b = hash_key(s->fam->name, s->labels) & (nsize - 1);
            s->hnext = nt[b];
            nt[b] = s;
        }
    }
    free(reg.table);
    reg.table = nt;
    reg.table_size = nsize;
    return 0;
}

/* Caller holds reg.lock. */
static metrics_series_t *table_find(const char *name, const char *labels)
{
    if (!reg.table_size)
        return NULL;
    size_t b = hash_key(name, labels) & (reg.table_size - 1);
    for (metrics_series_t *s = reg.table[b]; s; s = s->hnext)
        if (!strcmp(s->fam->name, name) && !strcmp(s->labels, labels))
            return s;
    return NULL;
}

static family_t *family_find(const char *name)
{
    for (family_t *f = reg.families; f; f = f->next)
        if (!strcmp(f->name, name))
            return f;
    return NULL;
}

static int bounds_equal(const family_t *f, const double *bounds, size_t n)
{
    if (f->bound_count != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (f->bounds[i] != bounds[i])
            return 0;
    return 1;
}

static int bounds_valid(const double *bounds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (isnan(bounds[i]) || isinf(bounds[i]))
            return 0;
        if (i > 0 && !(bounds[i] > bounds[i - 1]))
            return 0;
    }
    return 1;
}

static void series_free(metrics_series_t *s)
{
    free(s->own_bounds);
    free(s->buckets);
    free(s->labels);
    free(s);
}

/* Caller holds reg.lock. The series is owned by reg.all from here on.
 * NULL when memory ran out (nothing is left allocated). */
static metrics_series_t *series_new(family_t *fam, metric_type_t type, const char *labels,
                                    const double *bounds, size_t bound_count)
{
    metrics_series_t *s = reg_calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->fam = fam;
    s->type = type;
    if (!(s->labels = dupstr(labels)))
        goto oom;
    atomic_init(&s->hidden, fam == NULL);
    atomic_init(&s->value, type == MT_GAUGE ? d2u(0.0) : 0);
    atomic_init(&s->sum_bits, d2u(0.0));
    if (type == MT_HISTOGRAM) {
        if (!(s->buckets = reg_calloc(bound_count + 1, sizeof(*s->buckets))))
            goto oom;
        for (size_t i = 0; i <= bound_count; i++)
            atomic_init(&s->buckets[i], 0);
        /* A detached histogram keeps its own copy of the bounds. */
        if (fam) {
            s->bounds = fam->bounds;
        } else if (bound_count) {
            if (!(s->own_bounds = reg_calloc(bound_count, sizeof(*s->own_bounds))))
                goto oom;
            memcpy(s->own_bounds, bounds, bound_count * sizeof(*s->own_bounds));
            s->bounds = s->own_bounds;
        }
        s->bound_count = bound_count;
    }
    s->all_next = reg.all;
    reg.all = s;
    return s;
oom:
    series_free(s);
    return NULL;
}

/* Caller holds reg.lock. NULL when memory ran out (nothing is left allocated). */
static family_t *family_new(const char *name, const char *help, metric_type_t type,
                            const double *bounds, size_t bound_count)
{
    family_t *f = reg_calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->name = dupstr(name);
    f->help = dupstr(help);
    f->type = type;
    if (type == MT_HISTOGRAM && bound_count) {
        if ((f->bounds = reg_calloc(bound_count, sizeof(*f->bounds))) != NULL)
            memcpy(f->bounds, bounds, bound_count * sizeof(*f->bounds));
    }
    if (!f->name || !f->help || (type == MT_HISTOGRAM && bound_count && !f->bounds)) {
        free(f->name);
        free(f->help);
        free(f->bounds);
        free(f);
        return NULL;
    }
    f->bound_count = bound_count;
    f->next = reg.families;
    reg.families = f;
    return f;
}

static metrics_series_t *get_series(const char *name, const char *help, const char *labels,
                                    metric_type_t type, const double *bounds, size_t bound_count)
{
    metrics_series_t *s;
    family_t *f;

    if (!labels)
        labels = "";
    if (!help)
        help = "";
    if (!bounds)
        bound_count = 0;
    pthread_mutex_lock(&reg.lock);
    if (!name_is_valid(name)) {
        LOG_ERROR("MET-0001", "metric rejected", LKV_S("reason", "invalid_name"),
                  LKV_U("labels_len", strlen(labels)));
        if (!(s = series_new(NULL, type, labels, bounds, bound_count)))
            s = noop(type, name);
        goto out;
    }
    f = family_find(name);
    if (f && (f->type != type || (type == MT_HISTOGRAM && !bounds_equal(f, bounds, bound_count)))) {
        LOG_ERROR("MET-0001", "metric rejected", LKV_S("reason", "conflicting_registration"),
                  LKV_S("name", name));
        if (!(s = series_new(NULL, type, labels, bounds, bound_count)))
            s = noop(type, name);
        goto out;
    }
    if (type == MT_HISTOGRAM && !bounds_valid(bounds, bound_count)) {
        LOG_ERROR("MET-0001", "metric rejected", LKV_S("reason", "bad_bounds"),
                  LKV_S("name", name));
        if (!(s = series_new(NULL, type, labels, bounds, bound_count)))
            s = noop(type, name);
        goto out;
    }
    if (f && (s = table_find(name, labels)) != NULL) {
        if (atomic_exchange(&s->hidden, 0) && type == MT_GAUGE)
            atomic_store(&s->value, d2u(0.0)); /* revived: no stale level */
        goto out;
    }
    if (!f && !(f = family_new(name, help, type, bounds, bound_count))) {
        s = noop(type, name);
        goto out;
    }
    /* A family left without series by a failure here renders nothing. */
    if ((reg.count + 1 > reg.table_size * 2 || !reg.table_size) && table_grow()) {
        s = noop(type, name);
        goto out;
    }
    if (!(s = series_new(f, type, labels, bounds, bound_count))) {
        s = noop(type, name);
        goto out;
    }
    size_t b = hash_key(name, labels) & (reg.table_size - 1);
    s->hnext = reg.table[b];
    reg.table[b] = s;
    reg.count++;
out:
    pthread_mutex_unlock(&reg.lock);
    return s;
}

/* ---- public: registration and updates ------------------------------------ */

metrics_series_t *metrics_counter(const char *name, const char *help, const char *labels)
{
    return get_series(name, help, labels, MT_COUNTER, NULL, 0);
}

metrics_series_t *metrics_gauge(const char *name, const char *help, const char *labels)
{
    return get_series(name, help, labels, MT_GAUGE, NULL, 0);
}

metrics_series_t *metrics_histogram(const char *name, const char *help, const char *labels,
                                    const double *bounds, size_t bound_count)
{
    return get_series(name, help, labels, MT_HISTOGRAM, bounds, bound_count);
}

void metrics_add(metrics_series_t *s, uint64_t v)
{
    if (s && s->type == MT_COUNTER)
        atomic_fetch_add_explicit(&s->value, v, memory_order_relaxed);
}

void metrics_set(metrics_series_t *s, double v)
{
    if (s && s->type == MT_GAUGE)
        atomic_store_explicit(&s->value, d2u(v), memory_order_relaxed);
}

void metrics_gauge_add(metrics_series_t *s, double delta)
{
    if (s && s->type == MT_GAUGE)
        atomic_add_double(&s->value, delta);
}

void metrics_observe(metrics_series_t *s, double v)
{
    size_t lo = 0, hi;

    if (!s || s->type != MT_HISTOGRAM || isnan(v))
        return;
    /* First bound >= v (le is inclusive); bound_count means +Inf. */
    hi = s->bound_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->bounds[mid] >= v)
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&s->buckets[lo], 1, memory_order_relaxed);
    atomic_add_double(&s->sum_bits, v);
}

void metrics_remove(const char *name, const char *labels)
{
    metrics_series_t *s;

    if (!name)
        return;
    pthread_mutex_lock(&reg.lock);
    s = table_find(name, labels ? labels : "");
    if (s)
        atomic_store(&s->hidden, 1);
    pthread_mutex_unlock(&reg.lock);
}

static uint64_t histogram_count(const metrics_series_t *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i <= s->bound_count; i++)
        n += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
    return n;
}

double metrics_value(const metrics_series_t *s)
{
    if (!s)
        return 0.0;
    switch (s->type) {
    case MT_COUNTER:
        return (double)atomic_load_explicit(&s->value, memory_order_relaxed);
    case MT_GAUGE:
        return u2d(atomic_load_explicit(&s->value, memory_order_relaxed));
    case MT_HISTOGRAM:
        return (double)histogram_count(s); /* the observation count */
    }
    return 0.0;
}

/* ---- rendering ------------------------------------------------------------ */

/* Prometheus float text: shortest form that reads back to the same value. */
static void fmt_double(char *out, size_t size, double v)
{
    if (isnan(v)) {
        snprintf(out, size, "NaN");
    } else if (isinf(v)) {
        snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
    } else if (v == (double)(int64_t)v && fabs(v) < 9007199254740992.0) {
        /* Whole numbers (offsets, counts) as plain integers: "360", not "3.6e+02". */
        snprintf(out, size, "%" PRId64, (int64_t)v);
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(out, size, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                return;
        }
    }
}

/* HELP text escapes \ and newline. */
static void ob_put_help(buf_t *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_puts(b, "\\\\");
        else if (*s == '\n')
            buf_puts(b, "\\n");
        else
            buf_append(b, s, 1);
    }
}

/* name{labels[,extra]} value\n */
static void ob_sample(buf_t *b, const char *name, const char *suffix, const char *labels,
                      const char *extra, const char *value)
{
    buf_puts(b, name);
    buf_puts(b, suffix);
    if (*labels || extra) {
        buf_puts(b, "{");
        buf_puts(b, labels);
        if (extra) {
            if (*labels)
                buf_puts(b, ",");
            buf_puts(b, extra);
        }
        buf_puts(b, "}");
    }
    buf_puts(b, " ");
    buf_puts(b, value);
    buf_puts(b, "\n");
}

static int cmp_family(const void *a, const void *b)
{
    return strcmp((*(family_t *const *)a)->name, (*(family_t *const *)b)->name);
}

static int cmp_series(const void *a, const void *b)
{
    return strcmp((*(metrics_series_t *const *)a)->labels, (*(metrics_series_t *const *)b)->labels);
}

static void render_series(buf_t *b, const family_t *f, const metrics_series_t *s)
{
    char num[64], le[80];

    switch (f->type) {
    case MT_COUNTER:
        snprintf(num, sizeof(num), "%" PRIu64,
                 atomic_load_explicit(&s->value, memory_order_relaxed));
        ob_sample(b, f->name, "", s->labels, NULL, num);
        break;
    case MT_GAUGE:
        fmt_double(num, sizeof(num), u2d(atomic_load_explicit(&s->value, memory_order_relaxed)));
        ob_sample(b, f->name, "", s->labels, NULL, num);
        break;
    case MT_HISTOGRAM: {
        /* _count is the +Inf bucket, so the two always agree even when an
         * observation lands mid-scrape. */
        uint64_t cum = 0;
        for (size_t i = 0; i <= f->bound_count; i++) {
            cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
            if (i < f->bound_count) {
                fmt_double(num, sizeof(num), f->bounds[i]);
                snprintf(le, sizeof(le), "le=\"%s\"", num);
            } else {
                snprintf(le, sizeof(le), "le=\"+Inf\"");
            }
            snprintf(num, sizeof(num), "%" PRIu64, cum);
            ob_sample(b, f->name, "_bucket", s->labels, le, num);
        }
        fmt_double(num, sizeof(num), u2d(atomic_load_explicit(&s->sum_bits, memory_order_relaxed)));
        ob_sample(b, f->name, "_sum", s->labels, NULL, num);
        snprintf(num, sizeof(num), "%" PRIu64, cum);
        ob_sample(b, f->name, "_count", s->labels, NULL, num);
        break;
    }
    }
}

int metrics_render(char **out, size_t *len)
{
    buf_t b = BUF_INIT;
    family_t **fams = NULL;
    metrics_series_t **series = NULL;
    size_t nfam = 0;

    *out = NULL;
    *len = 0;
    pthread_mutex_lock(&reg.lock);
    for (family_t *f = reg.families; f; f = f->next)
        nfam++;
    fams = calloc(nfam ? nfam : 1, sizeof(*fams));
    series = calloc(reg.count ? reg.count : 1, sizeof(*series));
    if (!fams || !series)
        goto err;
    nfam = 0;
    for (family_t *f = reg.families; f; f = f->next)
        fams[nfam++] = f;
    qsort(fams, nfam, sizeof(*fams), cmp_family);

    buf_append(&b, "", 0); /* an empty registry renders as "" not NULL */
    for (size_t i = 0; i < nfam; i++) {
        family_t *f = fams[i];
        size_t ns = 0;
        /* Families are few and scrapes are rare: a table walk per family
         * keeps the data structure simple. */
        for (size_t t = 0; t < reg.table_size; t++)
            for (metrics_series_t *s = reg.table[t]; s; s = s->hnext)
                if (s->fam == f && !atomic_load(&s->hidden))
                    series[ns++] = s;
        if (ns == 0)
            continue;
        qsort(series, ns, sizeof(*series), cmp_series);
        buf_puts(&b, "# HELP ");
        buf_puts(&b, f->name);
        buf_puts(&b, " ");
        ob_put_help(&b, f->help);
        buf_puts(&b, "\n# TYPE ");
        buf_puts(&b, f->name);
        buf_puts(&b, " ");
        buf_puts(&b, type_names[f->type]);
        buf_puts(&b, "\n");
        for (size_t k = 0; k < ns; k++)
            render_series(&b, f, series[k]);
    }
    if (b.failed)
        goto err;
    pthread_mutex_unlock(&reg.lock);
    free(fams);
    free(series);
    *out = b.p;
    *len = b.len;
    return 0;

err:
    pthread_mutex_unlock(&reg.lock);
    free(fams);
    free(series);
    buf_free(&b);
    return -1;
}

const char *metrics_label_escape(char *buf, size_t size, const char *in, size_t len)
{
    size_t o = 0;

    if (!buf || size == 0)
        return "";
    for (size_t i = 0; in && i < len;) {
        const unsigned char *p = (const unsigned char *)in + i;
        char unit[4];
        size_t ulen, used = 1;

        if (*p == '\\') {
            memcpy(unit, "\\\\", 2);
            ulen = 2;
        } else if (*p == '"') {
            memcpy(unit, "\\\"", 2);
            ulen = 2;
        } else if (*p == '\n') {
            memcpy(unit, "\\n", 2);
            ulen = 2;
        } else if (*p < 0x80) {
            unit[0] = (char)*p;
            ulen = 1;
        } else {
            /* Label values must be UTF-8: keep whole valid sequences,
             * replace each invalid byte with U+FFFD. */
            size_t n = utf8_decode(p, len - i, NULL);
            if (n) {
                memcpy(unit, p, n);
                ulen = used = n;
            } else {
                memcpy(unit, "\xEF\xBF\xBD", 3);
                ulen = 3;
            }
        }
        if (o + ulen + 1 > size)
            break; /* truncate on a whole unit */
        memcpy(buf + o, unit, ulen);
        o += ulen;
        i += used;
    }
    buf[o] = '\0';
    return buf;
}

void metrics_shutdown(void)
{
    pthread_mutex_lock(&reg.lock);
    for (metrics_series_t *s = reg.all, *next; s; s = next) {
        next = s->all_next;
        series_free(s);
    }
    for (family_t *f = reg.families, *next; f; f = next) {
        next = f->next;
        free(f->name);
        free(f->help);
        free(f->bounds);
        free(f);
    }
    free(reg.table);
    reg.table = NULL;
    reg.table_size = 0;
    reg.count = 0;
    reg.families = NULL;
    reg.all = NULL;
    pthread_mutex_unlock(&reg.lock);
}
