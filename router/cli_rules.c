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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int cli_check(int argc, char **argv)
{
    int rc = 0, files = 0;

    for (int i = 1; i < argc; i++) {
        rules_t *r;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: event-router check FILE...\n"
                   "Validate rule files. Prints every error as file:line:col; exits 1 if any "
                   "file has one.\n");
            return 0;
        }
        files++;
        if (!(r = load(argv[i]))) {
            rc = 1;
            continue;
        }
        printf("%s: ok (%zu routes, %zu tests, fnv1a64 %s)\n", argv[i], rules_route_count(r),
               rules_test_count(r), rules_hash(r));
        rules_unref(r);
    }
    if (!files) {
        fprintf(stderr, "usage: event-router check FILE...\n");
        return 2;
    }
    return rc;
}

static void json_str(FILE *fp, const char *s)
{
    if (!s) {
        fputs("null", fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(fp, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(fp, "\\u%04x", ch);
        else
            fputc(ch, fp);
    }
    fputc('"', fp);
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

static void explain_usage(FILE *fp)
{
    fprintf(fp, "usage: event-router explain --rules FILE --type EVENT_TYPE [options]\n"
                "  --aggregate-type T   aggregate type (placed where the rules read it)\n"
                "  --aggregate-id ID    aggregate ID\n"
                "  --event-id ID        event ID\n"
                "  --header K=V         a Kafka header (repeatable)\n"
                "  --topic T            Kafka topic (default 'events')\n"
                "  --partition N, --offset N, --key K\n"
                "  --value FILE|-       the record value (JSON) from a file or stdin\n"
                "  --tombstone          the record has no value\n"
                "  --json               print one JSON object\n");
}

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

static void print_explain_json(const rules_t *r, const rules_test_t *t, const route_result_t *res)
{
    char out[NATSMSG_NAME_MAX + 1];

    printf("{\"rules\":");
    json_str(stdout, rules_path(r));
    printf(",\"rules_hash\":");
    json_str(stdout, rules_hash(r));
    printf(",\"event_type\":");
    json_str(stdout, res->event_type[0] ? res->event_type : NULL);
    printf(",\"route\":");
    json_str(stdout, res->route);
    printf(",\"action\":");
    json_str(stdout, route_action_name(res->action));
    printf(",\"critical\":%s", res->critical ? "true" : "false");
    printf(",\"subject\":");
    json_str(stdout, res->subject[0] ? res->subject : NULL);
    printf(",\"dedup_id\":");
    json_str(stdout, res->dedup_id[0] ? res->dedup_id : NULL);
    printf(",\"ordering\":");
    json_str(stdout, publishes(res) ? route_ordering_name(res->ordering) : NULL);
    printf(",\"order_by\":");
    json_str(stdout, res->order_by);
    printf(",\"headers\":{");
    for (size_t i = 0; i < res->header_count; i++) {
        if (i)
            putchar(',');
        json_str(stdout, res->headers[i].name);
        putchar(':');
        json_str(stdout, res->headers[i].value);
    }
    printf("},\"reason\":");
    json_str(stdout, route_reason_name(res->reason));
    printf(",\"detail\":");
    json_str(stdout, res->detail);
    printf(",\"nats_msg_id\":");
    json_str(stdout, nats_msg_id(res));
    printf(",\"kafka_headers\":[");
    for (size_t i = 0; i < t->header_count; i++) {
        natsmsg_verdict_t v = header_fate(t, i, out, sizeof(out));
        printf("%s{\"name\":", i ? "," : "");
        json_str(stdout, t->headers[i].name);
        printf(",%s", v == NATSMSG_COPY ? "\"copied_as\":" : "\"not_copied\":");
        json_str(stdout, v == NATSMSG_COPY ? out : natsmsg_verdict_name(v));
        putchar('}');
    }
    printf("]}\n");
}

static void print_explain_text(const rules_t *r, const rules_test_t *t, const route_result_t *res)
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
        if (!res->header_count)
            printf("headers:    (none added)\n");
        for (size_t i = 0; i < res->header_count; i++)
            printf("%s%s: %s\n", i ? "            " : "headers:    ", res->headers[i].name,
                   res->headers[i].value);
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

/* One option with a value, \p a = \p v, onto the test event. 0, or 2 to exit. */
static int explain_value_opt(const char *a, char *v, explain_opts_t *o, rules_test_t *t,
                             rules_kv_t *hdrs)
{
    if (!strcmp(a, "--rules"))
        o->rules_file = v;
    else if (!strcmp(a, "--type"))
        t->fields[RULES_F_EVENT_TYPE] = v;
    else if (!strcmp(a, "--aggregate-type"))
        t->fields[RULES_F_AGGREGATE_TYPE] = v;
    else if (!strcmp(a, "--aggregate-id"))
        t->fields[RULES_F_AGGREGATE_ID] = v;
    else if (!strcmp(a, "--event-id"))
        t->fields[RULES_F_EVENT_ID] = v;
    else if (!strcmp(a, "--topic"))
        t->topic = v;
    else if (!strcmp(a, "--partition"))
        t->partition = (int32_t)strtol(v, NULL, 10);
    else if (!strcmp(a, "--offset"))
        t->offset = strtoll(v, NULL, 10);
    else if (!strcmp(a, "--key"))
        t->key = v;
    else if (!strcmp(a, "--value"))
        o->value_file = v;
    else if (!strcmp(a, "--header")) {
        char *eq = strchr(v, '=');
        if (!eq || eq == v || t->header_count == EXPLAIN_MAX_HEADERS) {
            fprintf(stderr, "explain: --header wants K=V (at most %d)\n", EXPLAIN_MAX_HEADERS);
            return 2;
        }
        /* Split in place: argv strings are ours to modify. */
        *eq = '\0';
        hdrs[t->header_count++] = (rules_kv_t){v, eq + 1};
    } else {
        fprintf(stderr, "explain: unknown option '%s'\n", a);
        explain_usage(stderr);
        return 2;
    }
    return 0;
}

/* The command line into \p o and the test event \p t. Returns -1 to go on,
 * else the exit code (0 after --help, 2 on a usage error). */
static int explain_parse(int argc, char **argv, explain_opts_t *o, rules_test_t *t,
                         rules_kv_t *hdrs)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            explain_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            o->as_json = 1;
        } else if (!strcmp(a, "--tombstone")) {
            t->tombstone = 1;
        } else if (!v) {
            fprintf(stderr, "explain: %s needs a value\n", a);
            explain_usage(stderr);
            return 2;
        } else if (explain_value_opt(a, v, o, t, hdrs)) {
            return 2;
        } else {
            i++;
        }
    }
    t->headers = hdrs;
    if (!o->rules_file) {
        fprintf(stderr, "explain: --rules FILE is required\n");
        explain_usage(stderr);
        return 2;
    }
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
    if (o.as_json)
        print_explain_json(r, &t, res);
    else
        print_explain_text(r, &t, res);
    rc = 0;
err:
    free(res);
    probe_fini(&p);
    rules_unref(r);
    free(value);
    return rc;
}

/* Compare one expectation; print it when it fails. Returns 1 on a mismatch. */
static int expect_str(const char *what, const char *want, const char *got, const char *note)
{
    if (!want || !strcmp(want, got))
        return 0;
    printf("      %-9s expected '%s', got '%s'%s%s\n", what, want, got, note ? " -- " : "",
           note ? note : "");
    return 1;
}

static int run_test(const rules_t *r, const rules_test_t *t, route_result_t *res, int verbose)
{
    probe_t p;
    char err[300];
    int bad = 0;

    if (probe_build(&p, r, t, err, sizeof(err))) {
        printf("FAIL  %s (%s:%d)\n      cannot build the event: %s\n", t->name, rules_path(r),
               t->line, err);
        probe_fini(&p);
        return 1;
    }
    route_decide(r, &p.ev, res);
    probe_fini(&p);
    /* Print the header line first, then the mismatches under it. */
    {
        int fails =
            (t->expect_action && strcmp(t->expect_action, route_action_name(res->action))) ||
            (t->expect_reason && strcmp(t->expect_reason, route_reason_name(res->reason))) ||
            (t->expect_route && strcmp(t->expect_route, res->route ? res->route : "")) ||
            (t->expect_subject && strcmp(t->expect_subject, res->subject)) ||
            (t->expect_dedup_id && strcmp(t->expect_dedup_id, res->dedup_id)) ||
            (t->expect_critical >= 0 && t->expect_critical != !!res->critical);
        for (size_t i = 0; i < t->expect_header_count && !fails; i++) {
            int found = 0;
            for (size_t k = 0; k < res->header_count; k++)
                found |= !strcmp(res->headers[k].name, t->expect_headers[i].name) &&
                         !strcmp(res->headers[k].value, t->expect_headers[i].value);
            fails = !found;
        }
        if (!fails) {
            if (verbose)
                printf("PASS  %s\n", t->name);
            return 0;
        }
    }
    printf("FAIL  %s (%s:%d)\n", t->name, rules_path(r), t->line);
    bad |= expect_str("action:", t->expect_action, route_action_name(res->action),
                      res->detail[0] ? res->detail : NULL);
    bad |= expect_str("reason:", t->expect_reason, route_reason_name(res->reason),
                      res->detail[0] ? res->detail : NULL);
    bad |= expect_str("route:", t->expect_route, res->route ? res->route : "", NULL);
    bad |= expect_str("subject:", t->expect_subject, res->subject, NULL);
    bad |= expect_str("dedup_id:", t->expect_dedup_id, res->dedup_id, NULL);
    if (t->expect_critical >= 0 && t->expect_critical != !!res->critical) {
        printf("      %-9s expected %s, got %s\n",
               "critical:", t->expect_critical ? "true" : "false",
               res->critical ? "true" : "false");
        bad = 1;
    }
    for (size_t i = 0; i < t->expect_header_count; i++) {
        const char *got = NULL;
        for (size_t k = 0; k < res->header_count; k++)
            if (!strcmp(res->headers[k].name, t->expect_headers[i].name))
                got = res->headers[k].value;
        if (!got || strcmp(got, t->expect_headers[i].value)) {
            printf("      header %s: expected '%s', got %s%s%s\n", t->expect_headers[i].name,
                   t->expect_headers[i].value, got ? "'" : "(absent)", got ? got : "",
                   got ? "'" : "");
            bad = 1;
        }
    }
    return bad;
}

int cli_test(int argc, char **argv)
{
    size_t passed = 0, failed = 0;
    int files = 0, load_failed = 0, verbose = 0;
    route_result_t *res = malloc(sizeof(*res));

    if (!res) {
        fprintf(stderr, "test: out of memory\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
            verbose = 1;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: event-router test [-v] FILE...\n"
                   "Run the tests: entries of rule files; exits 1 on any failure.\n");
            free(res);
            return 0;
        }
    }
    for (int i = 1; i < argc; i++) {
        rules_t *r;
        if (argv[i][0] == '-' && argv[i][1])
            continue;
        files++;
        if (!(r = load(argv[i]))) {
            load_failed = 1;
            continue;
        }
        if (!rules_test_count(r))
            fprintf(stderr, "%s: warning: no tests: entries\n", argv[i]);
        for (size_t k = 0; k < rules_test_count(r); k++) {
            if (run_test(r, rules_test_get(r, k), res, verbose))
                failed++;
            else
                passed++;
        }
        rules_unref(r);
    }
    free(res);
    if (!files) {
        fprintf(stderr, "usage: event-router test [-v] FILE...\n");
        return 2;
    }
    printf("%zu passed, %zu failed%s\n", passed, failed,
           load_failed ? " (and a rule file failed to load)" : "");
    return (failed || load_failed) ? 1 : 0;
}
