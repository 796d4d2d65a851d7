/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_rules: the `check`, `explain` and `test` subcommands, the tools a
 * platform team uses to change a rule file safely. They print to stdout
 * (results) and stderr (diagnostics, usage) and return the exit code;
 * main.c exits.
 *
 * Not for: routing logic (route.c), rule compilation (rules.c) or building
 * events (probe.c); this file only parses options and prints.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliopt.h"
#include "natsmsg.h"
#include "probe.h"
#include "route.h"
#include "rules.h"

#define EXPLAIN_MAX_HEADERS PROBE_MAX_HEADERS
#define VALUE_FILE_MAX      (64u << 20)

static void print_diags(const rules_diags_t *d)
{
    char line[1400];

    for (size_t i = 0; i < d->count; i++)
        fprintf(stderr, "%s\n", rules_diag_format(&d->items[i], line, sizeof(line)));
}

/* Load a file, printing every diagnostic. NULL on error. */
static rules_t *load(const char *path)
{
    rules_diags_t d = {0};
    rules_t *r = NULL;

    rules_load_file(path, &r, &d);
    print_diags(&d);
    if (!r)
        fprintf(stderr, "%s: %zu error%s; rules not loaded\n", path, d.count,
                d.count == 1 ? "" : "s");
    rules_diags_clear(&d);
    return r;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!fp)
        return NULL;
    for (;;) {
        size_t got;
        if (n + 1 >= cap) {
            char *nb;
            cap = cap ? cap * 2 : 65536;
            if (cap > VALUE_FILE_MAX || !(nb = realloc(buf, cap))) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (!got)
            break;
    }
    if (buf)
        buf[n] = '\0';
    if (fp != stdin)
        fclose(fp);
    *len = n;
    return buf;
}

#define EXPLAIN_USAGE                                                                              \
    "usage: event-router explain --rules FILE --type EVENT_TYPE [options]\n"                       \
    "Shows what the rules do with one event: route, subject, dedup ID, headers, and why.\n"        \
    "  --rules FILE         the rule file (required)\n"                                            \
    "  --type T             event type\n"                                                          \
    "  --aggregate-type T   aggregate type (placed where the rules read it)\n"                     \
    "  --aggregate-id ID    aggregate ID\n"                                                        \
    "  --event-id ID        event ID\n"                                                            \
    "  --header K=V         a Kafka header (repeatable)\n"                                         \
    "  --topic T            Kafka topic (default 'events')\n"                                      \
    "  --partition N        Kafka partition (0 to 2147483647)\n"                                   \
    "  --offset N           Kafka offset (0 to 9223372036854775807)\n"                             \
    "  --key K              Kafka record key\n"                                                    \
    "  --value FILE|-       the record value (JSON) from a file or stdin\n"                        \
    "  --tombstone          the record has no value\n"                                             \
    "  --json               print one JSON object\n"

/* The Nats-Msg-Id the published message carries: the dedup ID on
 * JetStream routes, none on core NATS (which does not deduplicate). */
static const char *nats_msg_id(const route_result_t *res)
{
    return res->action == ROUTE_JETSTREAM && res->dedup_id[0] ? res->dedup_id : NULL;
}

static int any_cloudevent_header(const rules_test_t *t)
{
    for (size_t i = 0; i < t->header_count; i++)
        if (natsmsg_is_cloudevent_header(t->headers[i].name))
            return 1;
    return 0;
}

/* What the header policy (natsmsg.c) does with the given Kafka header: the
 * NATS name in out, or the reason it is not copied. */
static natsmsg_verdict_t header_fate(const rules_test_t *t, size_t i, char *out, size_t size)
{
    const char *v = t->headers[i].value;
    return natsmsg_header_policy(t->headers[i].name, v, strlen(v), any_cloudevent_header(t), out,
                                 size);
}

static int publishes(const route_result_t *res)
{
    return res->action == ROUTE_JETSTREAM || res->action == ROUTE_NATS_CORE;
}

/* What `explain` adds to the decision: why no route matched, why no
 * header (or not every header) was added, and what would fix the reason. */
typedef struct explain_why {
    char near[2048];     /* lines: routes that take the type but not the record */
    size_t takes;        /* routes whose type matcher takes the type */
    char why[2300];      /* lines: near, or that no type matcher takes it; no headers: */
    char left_out[1024]; /* lines: headers left out, each naming its missing variable */
    const char *fix;
} explain_why_t;

/* The matched route declares headers: (some may have been left out). */
static int route_has_headers(const route_result_t *res, const explain_why_t *w)
{
    return res->header_count || w->left_out[0];
}

static void explain_why(const rules_t *r, const route_event_t *ev, const route_result_t *res,
                        explain_why_t *w)
{
    w->near[0] = w->left_out[0] = w->why[0] = '\0';
    w->takes = 0;
    if (res->reason == ROUTE_R_UNMATCHED) {
        w->takes = route_near_misses(r, ev, res->event_type, w->near, sizeof(w->near));
        if (w->takes)
            snprintf(w->why, sizeof(w->why), "%s", w->near);
        else
            snprintf(w->why, sizeof(w->why),
                     "no route's type matcher (match: type, type_prefix, type_suffix, type_glob) "
                     "takes '%s'\n",
                     res->event_type);
    }
    if (publishes(res)) {
        route_headers_left_out(r, ev, res, w->left_out, sizeof(w->left_out));
        if (!route_has_headers(res, w))
            snprintf(w->why, sizeof(w->why), "route '%s' declares no headers:\n", res->route);
    }
    w->fix = res->action == ROUTE_DLQ || res->reason == ROUTE_R_UNMATCHED
                 ? route_reason_fix(res->reason)
                 : NULL;
}

/* Lines of \p text as a JSON array. */
static void json_lines(const char *text)
{
    int first = 1;

    putchar('[');
    for (const char *l = text, *e; *l; l = e + 1) {
        char one[600];
        if (!(e = strchr(l, '\n')))
            break;
        snprintf(one, sizeof(one), "%.*s", (int)(e - l), l);
        printf("%s", first ? "" : ",");
        cliopt_json_str(stdout, one);
        first = 0;
    }
    putchar(']');
}

/* Lines of \p text, the first after \p head, the others indented under it. */
static void text_lines(const char *head, const char *text)
{
    int first = 1;

    for (const char *l = text, *e; *l; l = e + 1) {
        if (!(e = strchr(l, '\n')))
            break;
        printf("%s%.*s\n", first ? head : "            ", (int)(e - l), l);
        first = 0;
    }
}

static void print_explain_json(const rules_t *r, const rules_test_t *t, const route_result_t *res,
                               const explain_why_t *w)
{
    char out[NATSMSG_NAME_MAX + 1];

    printf("{\"rules\":");
    cliopt_json_str(stdout, rules_path(r));
    printf(",\"rules_hash\":");
    cliopt_json_str(stdout, rules_hash(r));
    printf(",\"event_type\":");
    cliopt_json_str(stdout, res->event_type[0] ? res->event_type : NULL);
    printf(",\"route\":");
    cliopt_json_str(stdout, res->route);
    printf(",\"action\":");
    cliopt_json_str(stdout, route_action_name(res->action));
    printf(",\"critical\":%s", res->critical ? "true" : "false");
    printf(",\"subject\":");
    cliopt_json_str(stdout, res->subject[0] ? res->subject : NULL);
    printf(",\"dedup_id\":");
    cliopt_json_str(stdout, res->dedup_id[0] ? res->dedup_id : NULL);
    printf(",\"ordering\":");
    cliopt_json_str(stdout, publishes(res) ? route_ordering_name(res->ordering) : NULL);
    printf(",\"order_by\":");
    cliopt_json_str(stdout, res->order_by);
    printf(",\"headers\":{");
    for (size_t i = 0; i < res->header_count; i++) {
        if (i)
            putchar(',');
        cliopt_json_str(stdout, res->headers[i].name);
        putchar(':');
        cliopt_json_str(stdout, res->headers[i].value);
    }
    printf("},\"headers_left_out\":");
    json_lines(w->left_out);
    printf(",\"reason\":");
    cliopt_json_str(stdout, route_reason_name(res->reason));
    printf(",\"detail\":");
    cliopt_json_str(stdout, res->detail);
    printf(",\"why\":");
    json_lines(w->why);
    printf(",\"near_misses\":");
    json_lines(w->near);
    printf(",\"fix\":");
    cliopt_json_str(stdout, w->fix);
    printf(",\"nats_msg_id\":");
    cliopt_json_str(stdout, nats_msg_id(res));
    printf(",\"kafka_headers\":[");
    for (size_t i = 0; i < t->header_count; i++) {
        natsmsg_verdict_t v = header_fate(t, i, out, sizeof(out));
        printf("%s{\"name\":", i ? "," : "");
        cliopt_json_str(stdout, t->headers[i].name);
        printf(",%s", v == NATSMSG_COPY ? "\"copied_as\":" : "\"not_copied\":");
        cliopt_json_str(stdout, v == NATSMSG_COPY ? out : natsmsg_verdict_name(v));
        putchar('}');
    }
    printf("]}\n");
}

static void print_explain_text(const rules_t *r, const rules_test_t *t, const route_result_t *res,
                               const explain_why_t *w)
{
    char out[NATSMSG_NAME_MAX + 1];
    int line = 0;

    for (size_t i = 0; res->route && i < rules_route_count(r); i++)
        if (rules_route_name(r, i) == res->route)
            line = rules_route_line(r, i);
    printf("rules:      %s (fnv1a64 %s)\n", rules_path(r), rules_hash(r));
    printf("event type: %s\n", res->event_type[0] ? res->event_type : "(none)");
    if (res->route)
        printf("route:      %s (%s:%d)\n", res->route, rules_path(r), line);
    else
        printf("route:      (none matched)\n");
    if (res->reason == ROUTE_R_UNMATCHED)
        text_lines("why:        ", w->why);
    printf("critical:   %s\n", res->critical ? "yes" : "no");
    printf("action:     %s\n", route_action_name(res->action));
    if (publishes(res)) {
        printf("subject:    %s\n", res->subject);
        if (nats_msg_id(res))
            printf("dedup id:   %s (sent as Nats-Msg-Id: within the stream's duplicate window,\n"
                   "            any later event with this ID is acknowledged as a duplicate and "
                   "not stored)\n",
                   res->dedup_id);
        else
            printf("dedup id:   none (core NATS: no Nats-Msg-Id, no deduplication)\n");
        printf("ordering:   %s", route_ordering_name(res->ordering));
        if (res->order_by)
            printf(" (by %s: waits for the earlier unfinished event with the same %s)\n",
                   res->order_by, !strcmp(res->order_by, "partition") ? "partition" : "key");
        else if (res->ordering == ROUTE_ORDER_KEY)
            printf(" (neither a Kafka key nor an aggregate ID: not ordered)\n");
        else
            printf(" (pipelined: a retry may land after later events)\n");
        if (!route_has_headers(res, w))
            printf("headers:    (none added: route '%s' declares no headers:)\n", res->route);
        else if (!res->header_count)
            printf("headers:    (none added: each was left out, see below)\n");
        for (size_t i = 0; i < res->header_count; i++)
            printf("%s%s: %s\n", i ? "            " : "headers:    ", res->headers[i].name,
                   res->headers[i].value);
        text_lines("left out:   ", w->left_out);
        for (size_t i = 0; i < t->header_count; i++) {
            natsmsg_verdict_t v = header_fate(t, i, out, sizeof(out));
            printf("%s%s ", i ? "            " : "kafka hdrs: ", t->headers[i].name);
            if (v == NATSMSG_COPY)
                printf("-> copied as %s\n", out);
            else
                printf("-> not copied (%s)\n", natsmsg_verdict_name(v));
        }
    }
    printf("reason:     %s%s%s\n", route_reason_name(res->reason), res->detail[0] ? ": " : "",
           res->detail);
    if (w->fix)
        printf("fix:        %s\n", w->fix);
    if (res->action == ROUTE_SKIP)
        printf("=> skipped: counted and committed, not published\n");
    else if (res->action == ROUTE_DLQ)
        printf("=> dead-lettered with reason '%s'\n", route_reason_name(res->reason));
    else
        printf("=> published to %s\n", res->action == ROUTE_JETSTREAM ? "JetStream (PubAck awaited)"
                                                                      : "core NATS (no ack)");
}

/* What `explain` was asked: the rule file, the value file, the output form. */
typedef struct explain_opts {
    const char *rules_file, *value_file;
    int as_json;
} explain_opts_t;

/* The command line into \p o and the test event \p t. Returns -1 to go on,
 * else the exit code (0 after --help, 2 on a usage error). */
static int explain_parse(int argc, char **argv, explain_opts_t *o, rules_test_t *t,
                         rules_kv_t *hdrs)
{
    enum {
        O_RULES = 256,
        O_TYPE,
        O_AGG_TYPE,
        O_AGG_ID,
        O_EVENT_ID,
        O_TOPIC,
        O_PARTITION,
        O_OFFSET,
        O_KEY,
        O_VALUE,
        O_HEADER,
        O_TOMBSTONE,
        O_JSON
    };
    static const struct option opts[] = {{"rules", required_argument, NULL, O_RULES},
                                         {"type", required_argument, NULL, O_TYPE},
                                         {"aggregate-type", required_argument, NULL, O_AGG_TYPE},
                                         {"aggregate-id", required_argument, NULL, O_AGG_ID},
                                         {"event-id", required_argument, NULL, O_EVENT_ID},
                                         {"topic", required_argument, NULL, O_TOPIC},
                                         {"partition", required_argument, NULL, O_PARTITION},
                                         {"offset", required_argument, NULL, O_OFFSET},
                                         {"key", required_argument, NULL, O_KEY},
                                         {"value", required_argument, NULL, O_VALUE},
                                         {"header", required_argument, NULL, O_HEADER},
                                         {"tombstone", no_argument, NULL, O_TOMBSTONE},
                                         {"json", no_argument, NULL, O_JSON},
                                         {NULL, 0, NULL, 0}};
    cliopt_t c = {.cmd = "explain", .usage = EXPLAIN_USAGE};
    long long n;
    int r;

    while ((r = cliopt_next(&c, argc, argv, "", opts)) >= 0) {
        switch (r) {
        case O_RULES:
            o->rules_file = optarg;
            break;
        case O_TYPE:
            t->fields[RULES_F_EVENT_TYPE] = optarg;
            break;
        case O_AGG_TYPE:
            t->fields[RULES_F_AGGREGATE_TYPE] = optarg;
            break;
        case O_AGG_ID:
            t->fields[RULES_F_AGGREGATE_ID] = optarg;
            break;
        case O_EVENT_ID:
            t->fields[RULES_F_EVENT_ID] = optarg;
            break;
        case O_TOPIC:
            t->topic = optarg;
            break;
        case O_PARTITION:
            if (cliopt_num(&c, "--partition", optarg, 0, INT32_MAX, &n))
                return CLIOPT_EXIT_USAGE;
            t->partition = (int32_t)n;
            break;
        case O_OFFSET:
            if (cliopt_num(&c, "--offset", optarg, 0, INT64_MAX, &n))
                return CLIOPT_EXIT_USAGE;
            t->offset = n;
            break;
        case O_KEY:
            t->key = optarg;
            break;
        case O_VALUE:
            o->value_file = optarg;
            break;
        case O_TOMBSTONE:
            t->tombstone = 1;
            break;
        case O_JSON:
            o->as_json = 1;
            break;
        default: { /* O_HEADER */
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || t->header_count == EXPLAIN_MAX_HEADERS)
                return cliopt_fail(&c, "--header wants K=V (at most %d), got '%s'",
                                   EXPLAIN_MAX_HEADERS, optarg);
            /* Split in place: argv strings are ours to modify. */
            *eq = '\0';
            hdrs[t->header_count++] = (rules_kv_t){optarg, eq + 1};
            break;
        }
        }
    }
    if ((r = cliopt_done(&c, r, argc, argv, 0, 0)) >= 0)
        return r;
    t->headers = hdrs;
    if (!o->rules_file)
        return cliopt_fail(&c, "--rules FILE is required");
    return -1;
}

int cli_explain(int argc, char **argv)
{
    rules_test_t t = {0};
    rules_kv_t hdrs[EXPLAIN_MAX_HEADERS];
    explain_opts_t o = {0};
    char *value = NULL, err[300];
    int rc;
    rules_t *r = NULL;
    probe_t p = {0};
    route_result_t *res = NULL;
    explain_why_t why;

    t.expect_critical = -1;
    if ((rc = explain_parse(argc, argv, &o, &t, hdrs)) >= 0)
        return rc;
    rc = 2;
    if (o.value_file) {
        size_t len;
        if (!(value = read_all(o.value_file, &len))) {
            fprintf(stderr, "explain: cannot read value from '%s'\n", o.value_file);
            return 2;
        }
        if (strlen(value) != len) {
            fprintf(stderr, "explain: the value has NUL bytes; not supported here\n");
            goto err;
        }
        t.value = value;
    }
    if (!(r = load(o.rules_file))) {
        rc = 1;
        goto err;
    }
    if (probe_build(&p, r, &t, err, sizeof(err))) {
        fprintf(stderr, "explain: %s\n", err);
        goto err;
    }
    if (!(res = malloc(sizeof(*res)))) {
        fprintf(stderr, "explain: out of memory\n");
        goto err;
    }
    route_decide(r, &p.ev, res);
    explain_why(r, &p.ev, res, &why);
    if (o.as_json)
        print_explain_json(r, &t, res, &why);
    else
        print_explain_text(r, &t, res, &why);
    rc = 0;
err:
    free(res);
    probe_fini(&p);
    rules_unref(r);
    free(value);
    return rc;
}

/* What one test found: its mismatches, one per line. */
typedef struct test_outcome {
    char why[2048];
    size_t len;
} test_outcome_t;

static void note(test_outcome_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(test_outcome_t *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->len >= sizeof(o->why) - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->why + o->len, sizeof(o->why) - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = o->len + (size_t)n < sizeof(o->why) ? o->len + (size_t)n : sizeof(o->why) - 1;
}

/* Compare one expectation; note it when it fails. Returns 1 on a mismatch. */
static int expect_str(test_outcome_t *o, const char *what, const char *want, const char *got,
                      const char *detail)
{
    if (!want || !strcmp(want, got))
        return 0;
    note(o, "%s expected '%s', got '%s'%s%s\n", what, want, got, detail ? " -- " : "",
         detail ? detail : "");
    return 1;
}

/* Run one test: 0 when it passes, else 1 with its mismatches in \p o. */
static int run_test(const rules_t *r, const rules_test_t *t, route_result_t *res, test_outcome_t *o)
{
    probe_t p;
    char err[300];
    const char *detail;
    int bad = 0;

    o->len = 0;
    o->why[0] = '\0';
    if (probe_build(&p, r, t, err, sizeof(err))) {
        note(o, "cannot build the event: %s\n", err);
        probe_fini(&p);
        return 1;
    }
    route_decide(r, &p.ev, res);
    probe_fini(&p);
    detail = res->detail[0] ? res->detail : NULL;
    bad |= expect_str(o, "action:", t->expect_action, route_action_name(res->action), detail);
    bad |= expect_str(o, "reason:", t->expect_reason, route_reason_name(res->reason), detail);
    bad |= expect_str(o, "route:", t->expect_route, res->route ? res->route : "", NULL);
    bad |= expect_str(o, "subject:", t->expect_subject, res->subject, NULL);
    bad |= expect_str(o, "dedup_id:", t->expect_dedup_id, res->dedup_id, NULL);
    if (t->expect_critical >= 0 && t->expect_critical != !!res->critical) {
        note(o, "critical: expected %s, got %s\n", t->expect_critical ? "true" : "false",
             res->critical ? "true" : "false");
        bad = 1;
    }
    for (size_t i = 0; i < t->expect_header_count; i++) {
        const char *got = NULL;
        for (size_t k = 0; k < res->header_count; k++)
            if (!strcmp(res->headers[k].name, t->expect_headers[i].name))
                got = res->headers[k].value;
        if (!got || strcmp(got, t->expect_headers[i].value)) {
            note(o, "header %s: expected '%s', got %s%s%s\n", t->expect_headers[i].name,
                 t->expect_headers[i].value, got ? "'" : "(absent)", got ? got : "",
                 got ? "'" : "");
            bad = 1;
        }
    }
    return bad;
}

#define TEST_USAGE                                                                                 \
    "usage: event-router test [-v] [--json] FILE...\n"                                             \
    "Runs the tests: entries of rule files; exits 1 on any failure.\n"                             \
    "  -v, --verbose   list passing tests too\n"                                                   \
    "  --json          print one JSON object: passed, failed and each test's result\n"

/* One test's result, as text or as a JSON array element. */
static void print_test(const rules_t *r, const rules_test_t *t, int failed, const test_outcome_t *o,
                       int verbose, int as_json, int first)
{
    if (as_json) {
        printf("%s{\"name\":", first ? "" : ",");
        cliopt_json_str(stdout, t->name);
        printf(",\"file\":");
        cliopt_json_str(stdout, rules_path(r));
        printf(",\"line\":%d,\"result\":\"%s\",\"mismatches\":", t->line, failed ? "fail" : "pass");
        json_lines(failed ? o->why : "");
        putchar('}');
        return;
    }
    if (!failed) {
        if (verbose)
            printf("PASS  %s\n", t->name);
        return;
    }
    printf("FAIL  %s (%s:%d)\n", t->name, rules_path(r), t->line);
    for (const char *l = o->why, *e; *l; l = e + 1) {
        e = strchr(l, '\n');
        if (!e)
            break;
        printf("      %.*s\n", (int)(e - l), l);
    }
}

int cli_test(int argc, char **argv)
{
    static const struct option opts[] = {
        {"verbose", no_argument, NULL, 'v'}, {"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    cliopt_t c = {.cmd = "test", .usage = TEST_USAGE};
    size_t passed = 0, failed = 0;
    int load_failed = 0, verbose = 0, as_json = 0, opt;
    route_result_t *res;
    test_outcome_t *o;

    while ((opt = cliopt_next(&c, argc, argv, "v", opts)) >= 0) {
        if (opt == 'v')
            verbose = 1;
        else
            as_json = 1;
    }
    if ((opt = cliopt_done(&c, opt, argc, argv, 1, -1)) >= 0)
        return opt;
    res = malloc(sizeof(*res));
    o = malloc(sizeof(*o));
    if (!res || !o) {
        fprintf(stderr, "event-router test: out of memory\n");
        free(res);
        free(o);
        return 1;
    }
    if (as_json)
        printf("{\"tests\":[");
    for (int i = optind; i < argc; i++) {
        rules_t *r;
        if (!(r = load(argv[i]))) {
            load_failed = 1;
            continue;
        }
        if (!rules_test_count(r))
            fprintf(stderr, "%s: warning: no tests: entries\n", argv[i]);
        for (size_t k = 0; k < rules_test_count(r); k++) {
            int bad = run_test(r, rules_test_get(r, k), res, o);
            print_test(r, rules_test_get(r, k), bad, o, verbose, as_json, !passed && !failed);
            if (bad)
                failed++;
            else
                passed++;
        }
        rules_unref(r);
    }
    free(res);
    free(o);
    if (as_json)
        printf("],\"passed\":%zu,\"failed\":%zu,\"load_failed\":%s}\n", passed, failed,
               load_failed ? "true" : "false");
    else
        printf("%zu passed, %zu failed%s\n", passed, failed,
               load_failed ? " (and a rule file failed to load)" : "");
    return (failed || load_failed) ? 1 : 0;
}
