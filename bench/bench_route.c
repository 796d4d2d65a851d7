/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_route: how long route_decide() takes over a realistic rule file
 * (rules/examples/large.yaml, 50+ routes), for header-typed events (no JSON
 * parse) and JSON-typed ~1 KB events; and, to choose the JSON parser, how
 * long jsmn and yajl take to pull eventType/eventId/aggregateType/
 * aggregateId out of the same ~1 KB envelope with a nested `data` object.
 *
 * Not a test: it prints ns/op and always exits 0 unless setup fails.
 * Usage: bench_route [RULES_FILE] [ITERATIONS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "envelope.h"
#include "route.h"
#include "rules.h"

#ifdef HAVE_YAJL
#include <yajl/yajl_parse.h>
#endif

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile size_t sink;

#define ROUNDS 7 /* report the best and the median round: the machine may be busy */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct stat2 {
    double best, median;
} stat2_t;

static stat2_t summarise(double *r)
{
    qsort(r, ROUNDS, sizeof(double), cmp_d);
    return (stat2_t){r[0], r[ROUNDS / 2]};
}

/* A ~1 KB envelope in the seed's shape; `data` is nested and comes last. */
static int make_envelope(char *buf, size_t size, const char *type, int n)
{
    return snprintf(
        buf, size,
        "{\"eventId\":\"6f1c2d3e-4b5a-4c7d-9e8f-%012d\",\"eventType\":\"%s\",\"version\":3,"
        "\"timestamp\":\"2024-05-01T12:34:56.789Z\",\"aggregateId\":\"inc-%d\","
        "\"aggregateType\":\"Incident\",\"correlationId\":\"corr-0a1b2c3d4e5f\","
        "\"causationId\":\"cause-9f8e7d6c5b4a\",\"data\":{\"incidentId\":\"inc-%d\","
        "\"reportedBy\":{\"officerId\":\"off-1234\",\"badge\":\"B-5678\",\"name\":\"Jane "
        "Doe\",\"rank\":\"Sergeant\"},\"location\":{\"lat\":52.370216,\"lon\":4.895168,"
        "\"address\":\"Dam 1, 1012 JS Amsterdam\",\"district\":\"Centrum\",\"beat\":\"C-12\"},"
        "\"severity\":\"high\",\"category\":\"burglary\",\"tags\":[\"night\",\"residential\","
        "\"forced-entry\",\"witness\"],\"description\":\"Caller reports a break-in at the "
        "rear of the property; suspect seen leaving on foot towards the canal. No injuries "
        "reported. Neighbours heard glass breaking at approximately 02:10.\",\"units\":"
        "[{\"unitId\":\"u-17\",\"eta\":4},{\"unitId\":\"u-22\",\"eta\":7}],\"flags\":"
        "{\"urgent\":true,\"media\":false,\"followUp\":null},\"history\":[{\"at\":"
        "\"2024-05-01T12:30:00Z\",\"by\":\"dispatch\",\"note\":\"call received\"},{\"at\":"
        "\"2024-05-01T12:31:10Z\",\"by\":\"dispatch\",\"note\":\"units notified\"}]}}",
        n, type, n, n);
}

/* ---- JSON extraction: jsmn (envelope.c) ---------------------------------- */

static double bench_jsmn(const char *doc, size_t len, long iters)
{
    envelope_limits_t lim = {.max_bytes = 1 << 20, .max_tokens = 1024};
    envelope_path_t p[4];
    const char *names[] = {"eventType", "eventId", "aggregateType", "aggregateId"};
    char err[64];
    double t0, t1;

    for (int i = 0; i < 4; i++)
        envelope_path_compile(names[i], strlen(names[i]), &p[i], err, sizeof(err));
    t0 = now_ns();
    for (long it = 0; it < iters; it++) {
        envelope_json_t j;
        envelope_str_t v;
        if (envelope_json_parse(&j, doc, len, &lim) != ENVELOPE_OK)
            abort();
        for (int i = 0; i < 4; i++)
            if (envelope_json_get(&j, &p[i], &v))
                sink += v.len;
    }
    t1 = now_ns();
    return (t1 - t0) / (double)iters;
}

#ifdef HAVE_YAJL
/* ---- JSON extraction: yajl callbacks, allocation-free arena -------------- */

typedef struct arena {
    char buf[16384];
    size_t used;
} arena_t;

static void *ar_malloc(void *ctx, size_t sz)
{
    arena_t *a = ctx;
    size_t *h;
    sz = (sz + 15) & ~(size_t)15;
    if (a->used + sz + 16 > sizeof(a->buf))
        abort(); /* a real implementation would need a fallback: yajl does not check */
    h = (size_t *)(void *)(a->buf + a->used);
    *h = sz;
    a->used += sz + 16;
    return (char *)h + 16;
}
static void *ar_realloc(void *ctx, void *p, size_t sz)
{
    void *n;
    size_t old;
    if (!p)
        return ar_malloc(ctx, sz);
    old = *(size_t *)(void *)((char *)p - 16);
    if (old >= sz)
        return p;
    n = ar_malloc(ctx, sz);
    memcpy(n, p, old);
    return n;
}
static void ar_free(void *ctx, void *p)
{
    (void)ctx;
    (void)p;
}

typedef struct yx {
    int depth;
    int want; /* index of the wanted top-level key just seen, or -1 */
    int found;
    int stop_early;
    const unsigned char *val[4];
    size_t len[4];
} yx_t;

static const char *const ykeys[4] = {"eventType", "eventId", "aggregateType", "aggregateId"};

static int y_start_map(void *c)
{
    yx_t *x = c;
    x->want = -1;
    return ++x->depth < 64;
}
static int y_end_map(void *c)
{
    ((yx_t *)c)->depth--;
    return 1;
}
static int y_start_arr(void *c)
{
    yx_t *x = c;
    x->want = -1;
    return ++x->depth < 64;
}
static int y_end_arr(void *c)
{
    ((yx_t *)c)->depth--;
    return 1;
}
static int y_key(void *c, const unsigned char *k, size_t n)
{
    yx_t *x = c;
    x->want = -1;
    if (x->depth != 1)
        return 1;
    for (int i = 0; i < 4; i++)
        if (strlen(ykeys[i]) == n && !memcmp(k, ykeys[i], n))
            x->want = i;
    return 1;
}
static int y_string(void *c, const unsigned char *s, size_t n)
{
    yx_t *x = c;
    if (x->want >= 0 && !x->val[x->want]) {
        x->val[x->want] = s; /* valid only during the callback; length is enough here */
        x->len[x->want] = n;
        if (++x->found == 4 && x->stop_early)
            return 0;
    }
    x->want = -1;
    return 1;
}
static int y_scalar(void *c)
{
    ((yx_t *)c)->want = -1;
    return 1;
}
static int y_bool(void *c, int b)
{
    (void)b;
    return y_scalar(c);
}
static int y_number(void *c, const char *s, size_t n)
{
    (void)s;
    (void)n;
    return y_scalar(c);
}

static const yajl_callbacks ycb = {
    .yajl_null = y_scalar,
    .yajl_boolean = y_bool,
    .yajl_number = y_number,
    .yajl_string = y_string,
    .yajl_start_map = y_start_map,
    .yajl_map_key = y_key,
    .yajl_end_map = y_end_map,
    .yajl_start_array = y_start_arr,
    .yajl_end_array = y_end_arr,
};

static double bench_yajl(const char *doc, size_t len, long iters, int stop_early)
{
    double t0, t1;
    arena_t *a = malloc(sizeof(*a));
    yajl_alloc_funcs af = {ar_malloc, ar_realloc, ar_free, a};

    t0 = now_ns();
    for (long it = 0; it < iters; it++) {
        yx_t x = {.want = -1, .stop_early = stop_early};
        yajl_handle h;
        yajl_status st;
        a->used = 0;
        h = yajl_alloc(&ycb, &af, &x);
        st = yajl_parse(h, (const unsigned char *)doc, len);
        if (st == yajl_status_ok)
            st = yajl_complete_parse(h);
        if (st == yajl_status_error || x.found != 4)
            abort();
        sink += x.len[0];
        yajl_free(h);
    }
    t1 = now_ns();
    free(a);
    return (t1 - t0) / (double)iters;
}
#endif

/* ---- route_decide over the rule file ------------------------------------- */

/* Event types spread over the file: early, middle and late routes, skips,
 * and unmatched ones (which walk every route). */
static const char *const types[] = {
    "DispatchIncidentRequested",
    "RegisterOfficerRequested",
    "OpenRadioChannelRequested",
    "ApproveLeaveRequested",
    "IncidentClosed",
    "UnitGPSPositionChanged",
    "OfficerStatusUpdated",
    "SomethingNobodyRoutes",
    "ShiftEnded",
    "CallAnswered",
    "ReportIncidentRequested",
    "EvidenceTransferFailed",
    "UnitHeartbeat",
    "MetricSampled",
    "VehicleReserved",
    "IdentifySuspectRequested",
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

int main(int argc, char **argv)
{
    const char *file = argc > 1 ? argv[1] : ER_SOURCE_DIR "/rules/examples/large.yaml";
    long iters = argc > 2 ? atol(argv[2]) : 300000; /* per round */
    rules_diags_t d = {0};
    rules_t *r = NULL;
    route_result_t *res = malloc(sizeof(*res));
    static char docs[NTYPES][2048];
    size_t doclen[NTYPES];
    route_header_t hh[NTYPES][5];
    route_event_t hev[NTYPES], jev[NTYPES];
    long counts[ROUTE__COUNT] = {0};
    double t0, t1, hdr_r[ROUNDS], json_r[ROUNDS], jr[ROUNDS];
    stat2_t hdr, json, st;
    unsigned long parses;

    if (rules_load_file(file, &r, &d)) {
        char line[1024];
        for (size_t i = 0; i < d.count; i++)
            fprintf(stderr, "%s\n", rules_diag_format(&d.items[i], line, sizeof(line)));
        return 1;
    }
    rules_diags_clear(&d);
    for (size_t i = 0; i < NTYPES; i++) {
        doclen[i] = (size_t)make_envelope(docs[i], sizeof(docs[i]), types[i], (int)i);
        hh[i][0] = (route_header_t){"eventType", types[i], strlen(types[i])};
        hh[i][1] = (route_header_t){"eventId", "6f1c2d3e-4b5a-4c7d-9e8f-0123456789ab", 36};
        hh[i][2] = (route_header_t){"aggregateType", "Incident", 8};
        hh[i][3] = (route_header_t){"aggregateId", "inc-1", 5};
        hh[i][4] = (route_header_t){"correlationId", "corr-1", 6};
        /* Header-typed: every field the routes need is in a header, and the
         * value is deliberately not JSON, so a parse would show up as a DLQ. */
        hev[i] = (route_event_t){.topic = "dispatch.main",
                                 .partition = 1,
                                 .offset = 42,
                                 .value = "\x00\x01binary",
                                 .value_len = 8,
                                 .headers = hh[i],
                                 .header_count = 5};
        jev[i] = (route_event_t){.topic = "dispatch.main",
                                 .partition = 1,
                                 .offset = 42,
                                 .value = docs[i],
                                 .value_len = doclen[i]};
    }
    printf("rules: %s (%zu routes)\nenvelope: %zu bytes\niterations: %ld\n\n", file,
           rules_route_count(r), doclen[0], iters);

    /* Warm up, and check nothing is dead-lettered by accident. */
    for (size_t i = 0; i < NTYPES; i++) {
        route_decide(r, &hev[i], res);
        if (res->reason == ROUTE_R_BAD_ENVELOPE) {
            fprintf(stderr, "header-typed event %s needed a JSON parse\n", types[i]);
            return 1;
        }
    }
    parses = envelope_json_parse_count();
    for (int round = 0; round < ROUNDS; round++) {
        t0 = now_ns();
        for (long it = 0; it < iters; it++)
            counts[route_decide(r, &hev[(size_t)it % NTYPES], res)]++;
        t1 = now_ns();
        hdr_r[round] = (t1 - t0) / (double)iters;
    }
    if (envelope_json_parse_count() != parses) {
        fprintf(stderr, "header-typed events triggered JSON parses\n");
        return 1;
    }
    for (int round = 0; round < ROUNDS; round++) {
        t0 = now_ns();
        for (long it = 0; it < iters; it++)
            counts[route_decide(r, &jev[(size_t)it % NTYPES], res)]++;
        t1 = now_ns();
        json_r[round] = (t1 - t0) / (double)iters;
    }
    hdr = summarise(hdr_r);
    json = summarise(json_r);
    printf("                                  best      median (of %d rounds)\n", ROUNDS);
    printf("route_decide, header-typed:      %7.1f  %7.1f ns/event\n", hdr.best, hdr.median);
    printf("route_decide, JSON-typed ~1 KB:  %7.1f  %7.1f ns/event\n", json.best, json.median);
    printf("  (decisions: jetstream %ld, nats %ld, skip %ld, dlq %ld)\n\n", counts[ROUTE_JETSTREAM],
           counts[ROUTE_NATS_CORE], counts[ROUTE_SKIP], counts[ROUTE_DLQ]);

    printf("JSON extraction of 4 top-level fields from the %zu-byte envelope:\n", doclen[0]);
    printf("                                                         best   median\n");
    for (int round = 0; round < ROUNDS; round++)
        jr[round] = bench_jsmn(docs[0], doclen[0], iters / ROUNDS);
    st = summarise(jr);
    printf("  jsmn + structural check, full parse, 4 lookups:    %7.1f  %7.1f ns\n", st.best,
           st.median);
#ifdef HAVE_YAJL
    for (int round = 0; round < ROUNDS; round++)
        jr[round] = bench_yajl(docs[0], doclen[0], iters / ROUNDS, 0);
    st = summarise(jr);
    printf("  yajl callbacks, full validating parse:             %7.1f  %7.1f ns\n", st.best,
           st.median);
    for (int round = 0; round < ROUNDS; round++)
        jr[round] = bench_yajl(docs[0], doclen[0], iters / ROUNDS, 1);
    st = summarise(jr);
    printf("  yajl callbacks, stop after the 4 fields:           %7.1f  %7.1f ns\n", st.best,
           st.median);
#else
    printf("  yajl: not built (libyajl-dev missing)\n");
#endif
    free(res);
    rules_unref(r);
    return 0;
}
