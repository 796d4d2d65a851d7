/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules: load a YAML rule file, check it, and compile it into an immutable
 * rules_t (layout in rules_int.h) that route.c evaluates.
 *
 * Loading runs in three passes over the same bytes:
 *   1. yamlwalk.h walks the document against the libcyaml schema tables
 *      below (the schema is declared once, as data). It records the
 *      line:col of every key and value by path ("routes[3].subject") and
 *      reports every unknown key, wrong type, bad enum value, missing
 *      required key and duplicate key, all of them, each with file:line:col
 *      and a hint. libcyaml itself stops at its first error and gives no
 *      line numbers, which is why this pass exists;
 *   2. libcyaml loads the document into the raw_* structs (only when pass 1
 *      found nothing; if libcyaml still objects, its log lines are reported);
 *   3. compile: templates, matchers, envelope sources, duplicate names,
 *      unreachable routes, tests; every error is collected with the
 *      line:col pass 1 recorded for its path.
 * Any error at all means no rules_t: a half-valid file is never used.
 *
 * Not for: evaluating events (route.c), building test events (probe.c),
 * printing (cli_rules.c). No global state; loading may run on any thread.
 */
#include "rules.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cyaml/cyaml.h>

#include "decision.h"
#include "diag.h"
#include "glob.h"
#include "naming.h"
#include "rules_int.h"
#include "yamlwalk.h"

#define RULES_FILE_MAX       (16u << 20) /* a rule file is never this big */
#define DEFAULT_JSON_BYTES   (1u << 20)
#define DEFAULT_JSON_TOKENS  1024u
#define RULES_JSON_BYTES_MAX (64u << 20)

/* ------------------------------------------------------------------------ */
/* The document as libcyaml loads it.                                       */

typedef struct raw_src {
    char *header;
    char *json;
} raw_src_t;

typedef struct raw_envelope {
    raw_src_t *event_type;
    unsigned event_type_count;
    raw_src_t *event_id;
    unsigned event_id_count;
    raw_src_t *aggregate_type;
    unsigned aggregate_type_count;
    raw_src_t *aggregate_id;
    unsigned aggregate_id_count;
    raw_src_t *correlation_id;
    unsigned correlation_id_count;
    raw_src_t *causation_id;
    unsigned causation_id_count;
    raw_src_t *ce_source;
    unsigned ce_source_count;
    raw_src_t *ce_id;
    unsigned ce_id_count;
} raw_envelope_t;

typedef struct raw_limits {
    uint32_t max_json_bytes;
    uint32_t max_json_tokens;
    uint32_t max_subject;
} raw_limits_t;

typedef struct raw_kv {
    char *name;
    char *value;
} raw_kv_t;

typedef struct raw_match {
    char *type;
    char *type_prefix;
    char *type_suffix;
    char *type_glob;
    char *topic;
    raw_kv_t *headers;
    unsigned headers_count;
} raw_match_t;

typedef enum raw_action { RA_JETSTREAM, RA_NATS, RA_SKIP, RA_DLQ } raw_action_t;
typedef enum raw_dedup { RD_EVENT_ID, RD_CLOUDEVENTS, RD_OFFSET } raw_dedup_t;
typedef enum raw_unmatched { RU_SKIP, RU_DLQ } raw_unmatched_t;
/* RO_UNSET (0, what an absent key leaves): the file's mode, or key. */
typedef enum raw_ordering { RO_UNSET, RO_KEY, RO_PARTITION, RO_NONE } raw_ordering_t;

typedef struct raw_route {
    char *name;
    char *description;
    raw_match_t *match;
    raw_action_t action;
    bool critical;
    raw_ordering_t ordering;
    raw_dedup_t dedup;
    char *subject;
    raw_kv_t *headers;
    unsigned headers_count;
} raw_route_t;

typedef struct raw_test_event {
    char *type;
    char *event_id;
    char *aggregate_type;
    char *aggregate_id;
    char *correlation_id;
    char *causation_id;
    char *ce_source;
    char *ce_id;
    char *topic;
    int32_t partition;
    int64_t offset;
    char *key;
    char *value;
    bool tombstone;
    raw_kv_t *headers;
    unsigned headers_count;
} raw_test_event_t;

typedef struct raw_test_expect {
    char *action;
    char *reason;
    char *route;
    char *subject;
    char *dedup_id;
    bool *critical;
    raw_kv_t *headers;
    unsigned headers_count;
} raw_test_expect_t;

typedef struct raw_test {
    char *name;
    raw_test_event_t *event;
    raw_test_expect_t *expect;
} raw_test_t;

typedef struct raw_rules {
    uint32_t version;
    char *description;
    char **domains;
    unsigned domains_count;
    char **strip_suffixes;
    unsigned strip_suffixes_count;
    raw_unmatched_t unmatched;
    raw_ordering_t ordering;
    raw_envelope_t *envelope;
    raw_limits_t *limits;
    raw_route_t *routes;
    unsigned routes_count;
    raw_test_t *tests;
    unsigned tests_count;
} raw_rules_t;

/* ------------------------------------------------------------------------ */
/* The schema, as libcyaml tables. Pass 1 walks these same tables.          */

#define OPT                        CYAML_FLAG_OPTIONAL
#define STR_PTR(key, flags, st, m) CYAML_FIELD_STRING_PTR(key, flags, st, m, 0, CYAML_UNLIMITED)

static const cyaml_schema_value_t str_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED)};

static const cyaml_schema_field_t src_fields[] = {
    STR_PTR("header", OPT, raw_src_t, header),
    STR_PTR("json", OPT, raw_src_t, json),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t src_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, raw_src_t, src_fields)};

#define SRC_SEQ(key, m)                                                                            \
    CYAML_FIELD_SEQUENCE(key, CYAML_FLAG_POINTER | OPT, raw_envelope_t, m, &src_entry, 1,          \
                         RULES_SRC_MAX)
static const cyaml_schema_field_t envelope_fields[] = {
    SRC_SEQ("event_type", event_type),
    SRC_SEQ("event_id", event_id),
    SRC_SEQ("aggregate_type", aggregate_type),
    SRC_SEQ("aggregate_id", aggregate_id),
    SRC_SEQ("correlation_id", correlation_id),
    SRC_SEQ("causation_id", causation_id),
    SRC_SEQ("ce_source", ce_source),
    SRC_SEQ("ce_id", ce_id),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t limits_fields[] = {
    CYAML_FIELD_UINT("max_json_bytes", OPT, raw_limits_t, max_json_bytes),
    CYAML_FIELD_UINT("max_json_tokens", OPT, raw_limits_t, max_json_tokens),
    CYAML_FIELD_UINT("max_subject", OPT, raw_limits_t, max_subject),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t kv_fields[] = {
    STR_PTR("name", CYAML_FLAG_DEFAULT, raw_kv_t, name),
    STR_PTR("value", OPT, raw_kv_t, value),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t kv_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, raw_kv_t, kv_fields)};

static const cyaml_schema_field_t match_fields[] = {
    STR_PTR("type", OPT, raw_match_t, type),
    STR_PTR("type_prefix", OPT, raw_match_t, type_prefix),
    STR_PTR("type_suffix", OPT, raw_match_t, type_suffix),
    STR_PTR("type_glob", OPT, raw_match_t, type_glob),
    STR_PTR("topic", OPT, raw_match_t, topic),
    CYAML_FIELD_SEQUENCE("headers", CYAML_FLAG_POINTER | OPT, raw_match_t, headers, &kv_entry, 0,
                         RULES_HMATCH_MAX),
    CYAML_FIELD_END,
};

static const cyaml_strval_t action_strings[] = {
    {"jetstream", RA_JETSTREAM},
    {"nats", RA_NATS},
    {"skip", RA_SKIP},
    {"dlq", RA_DLQ},
};
static const cyaml_strval_t dedup_strings[] = {
    {"event_id", RD_EVENT_ID},
    {"cloudevents", RD_CLOUDEVENTS},
    {"offset", RD_OFFSET},
};
static const cyaml_strval_t unmatched_strings[] = {
    {"skip", RU_SKIP},
    {"dlq", RU_DLQ},
};
static const cyaml_strval_t ordering_strings[] = {
    {"key", RO_KEY},
    {"partition", RO_PARTITION},
    {"none", RO_NONE},
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const cyaml_schema_field_t route_fields[] = {
    STR_PTR("name", CYAML_FLAG_DEFAULT, raw_route_t, name),
    STR_PTR("description", OPT, raw_route_t, description),
    CYAML_FIELD_MAPPING_PTR("match", CYAML_FLAG_POINTER | OPT, raw_route_t, match, match_fields),
    CYAML_FIELD_ENUM("action", OPT | CYAML_FLAG_STRICT, raw_route_t, action, action_strings,
                     NELEM(action_strings)),
    CYAML_FIELD_BOOL("critical", OPT, raw_route_t, critical),
    CYAML_FIELD_ENUM("ordering", OPT | CYAML_FLAG_STRICT, raw_route_t, ordering, ordering_strings,
                     NELEM(ordering_strings)),
    CYAML_FIELD_ENUM("dedup", OPT | CYAML_FLAG_STRICT, raw_route_t, dedup, dedup_strings,
                     NELEM(dedup_strings)),
    STR_PTR("subject", OPT, raw_route_t, subject),
    CYAML_FIELD_SEQUENCE("headers", CYAML_FLAG_POINTER | OPT, raw_route_t, headers, &kv_entry, 0,
                         ROUTE_MAX_HEADERS),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t route_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, raw_route_t, route_fields)};

static const cyaml_schema_field_t test_event_fields[] = {
    STR_PTR("type", OPT, raw_test_event_t, type),
    STR_PTR("event_id", OPT, raw_test_event_t, event_id),
    STR_PTR("aggregate_type", OPT, raw_test_event_t, aggregate_type),
    STR_PTR("aggregate_id", OPT, raw_test_event_t, aggregate_id),
    STR_PTR("correlation_id", OPT, raw_test_event_t, correlation_id),
    STR_PTR("causation_id", OPT, raw_test_event_t, causation_id),
    STR_PTR("ce_source", OPT, raw_test_event_t, ce_source),
    STR_PTR("ce_id", OPT, raw_test_event_t, ce_id),
    STR_PTR("topic", OPT, raw_test_event_t, topic),
    CYAML_FIELD_INT("partition", OPT, raw_test_event_t, partition),
    CYAML_FIELD_INT("offset", OPT, raw_test_event_t, offset),
    STR_PTR("key", OPT, raw_test_event_t, key),
    STR_PTR("value", OPT, raw_test_event_t, value),
    CYAML_FIELD_BOOL("tombstone", OPT, raw_test_event_t, tombstone),
    CYAML_FIELD_SEQUENCE("headers", CYAML_FLAG_POINTER | OPT, raw_test_event_t, headers, &kv_entry,
                         0, 64),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t test_expect_fields[] = {
    STR_PTR("action", OPT, raw_test_expect_t, action),
    STR_PTR("reason", OPT, raw_test_expect_t, reason),
    STR_PTR("route", OPT, raw_test_expect_t, route),
    STR_PTR("subject", OPT, raw_test_expect_t, subject),
    STR_PTR("dedup_id", OPT, raw_test_expect_t, dedup_id),
    CYAML_FIELD_BOOL_PTR("critical", CYAML_FLAG_POINTER | OPT, raw_test_expect_t, critical),
    CYAML_FIELD_SEQUENCE("headers", CYAML_FLAG_POINTER | OPT, raw_test_expect_t, headers, &kv_entry,
                         0, ROUTE_MAX_HEADERS),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t test_fields[] = {
    STR_PTR("name", CYAML_FLAG_DEFAULT, raw_test_t, name),
    CYAML_FIELD_MAPPING_PTR("event", CYAML_FLAG_POINTER, raw_test_t, event, test_event_fields),
    CYAML_FIELD_MAPPING_PTR("expect", CYAML_FLAG_POINTER, raw_test_t, expect, test_expect_fields),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t test_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, raw_test_t, test_fields)};

static const cyaml_schema_field_t top_fields[] = {
    CYAML_FIELD_UINT("version", OPT, raw_rules_t, version),
    STR_PTR("description", OPT, raw_rules_t, description),
    CYAML_FIELD_SEQUENCE("domains", CYAML_FLAG_POINTER | OPT, raw_rules_t, domains, &str_entry, 0,
                         CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("strip_suffixes", CYAML_FLAG_POINTER | OPT, raw_rules_t, strip_suffixes,
                         &str_entry, 0, RULES_STRIP_MAX),
    CYAML_FIELD_ENUM("unmatched", OPT | CYAML_FLAG_STRICT, raw_rules_t, unmatched,
                     unmatched_strings, NELEM(unmatched_strings)),
    CYAML_FIELD_ENUM("ordering", OPT | CYAML_FLAG_STRICT, raw_rules_t, ordering, ordering_strings,
                     NELEM(ordering_strings)),
    CYAML_FIELD_MAPPING_PTR("envelope", CYAML_FLAG_POINTER | OPT, raw_rules_t, envelope,
                            envelope_fields),
    CYAML_FIELD_MAPPING_PTR("limits", CYAML_FLAG_POINTER | OPT, raw_rules_t, limits, limits_fields),
    CYAML_FIELD_SEQUENCE("routes", CYAML_FLAG_POINTER, raw_rules_t, routes, &route_entry, 1,
                         CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("tests", CYAML_FLAG_POINTER | OPT, raw_rules_t, tests, &test_entry, 0,
                         CYAML_UNLIMITED),
    CYAML_FIELD_END,
};
static const cyaml_schema_value_t top_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, raw_rules_t, top_fields)};

/* Field i of the envelope in raw_envelope_t, in rules_field_t order. */
static const size_t envelope_offsets[RULES_F__COUNT] = {
    [RULES_F_EVENT_TYPE] = offsetof(raw_envelope_t, event_type),
    [RULES_F_EVENT_ID] = offsetof(raw_envelope_t, event_id),
    [RULES_F_AGGREGATE_TYPE] = offsetof(raw_envelope_t, aggregate_type),
    [RULES_F_AGGREGATE_ID] = offsetof(raw_envelope_t, aggregate_id),
    [RULES_F_CORRELATION_ID] = offsetof(raw_envelope_t, correlation_id),
    [RULES_F_CAUSATION_ID] = offsetof(raw_envelope_t, causation_id),
    [RULES_F_CE_SOURCE] = offsetof(raw_envelope_t, ce_source),
    [RULES_F_CE_ID] = offsetof(raw_envelope_t, ce_id),
};

static const char *const field_names[RULES_F__COUNT] = {
    [RULES_F_EVENT_TYPE] = "event_type",         [RULES_F_EVENT_ID] = "event_id",
    [RULES_F_AGGREGATE_TYPE] = "aggregate_type", [RULES_F_AGGREGATE_ID] = "aggregate_id",
    [RULES_F_CORRELATION_ID] = "correlation_id", [RULES_F_CAUSATION_ID] = "causation_id",
    [RULES_F_CE_SOURCE] = "ce_source",           [RULES_F_CE_ID] = "ce_id",
};

/* The seed's convention, used for any field the file does not declare. */
static const struct {
    rules_source_kind_t kind;
    const char *name;
} default_sources[RULES_F__COUNT][3] = {
    [RULES_F_EVENT_TYPE] = {{RULES_SRC_HEADER, "eventType"},
                            {RULES_SRC_HEADER, "ce_type"},
                            {RULES_SRC_JSON, "eventType"}},
    [RULES_F_EVENT_ID] = {{RULES_SRC_HEADER, "eventId"},
                          {RULES_SRC_HEADER, "ce_id"},
                          {RULES_SRC_JSON, "eventId"}},
    [RULES_F_AGGREGATE_TYPE] = {{RULES_SRC_JSON, "aggregateType"}},
    [RULES_F_AGGREGATE_ID] = {{RULES_SRC_JSON, "aggregateId"}},
    [RULES_F_CORRELATION_ID] = {{RULES_SRC_JSON, "correlationId"}},
    [RULES_F_CAUSATION_ID] = {{RULES_SRC_JSON, "causationId"}},
    [RULES_F_CE_SOURCE] = {{RULES_SRC_HEADER, "ce_source"}, {RULES_SRC_JSON, "source"}},
    [RULES_F_CE_ID] = {{RULES_SRC_HEADER, "ce_id"}, {RULES_SRC_JSON, "id"}},
};

/* ------------------------------------------------------------------------ */
/* Diagnostics collected during a load, each tied to a document path.       */
/* They are staged here until the load ends, because the order (by mark)   */
/* and the " in route 'x'" context are known only then; lctx_finish() then */
/* hands them over as the shared diag_t (diag.h), which words nothing.     */

typedef struct pdiag {
    size_t seq; /* qsort is not stable; this keeps equal marks in order */
    char *path;
    int line, col;
    int warning;
    char *msg;
    char *hint;
} pdiag_t;

typedef struct lctx {
    const char *file;
    yamlwalk_index_t *idx; /* where pass 1 found every key and value */
    pdiag_t *d;
    size_t nd, capd;
    int errors;
    int oom;
    char cyaml_log[1024];
    size_t cyaml_log_len;
} lctx_t;

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Add a diagnostic at an explicit position. */
static void diag_at(lctx_t *c, const char *path, int line, int col, int warning, const char *hint,
                    const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void diag_at(lctx_t *c, const char *path, int line, int col, int warning, const char *hint,
                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->nd == c->capd) {
        size_t cap = c->capd ? c->capd * 2 : 16;
        pdiag_t *n = realloc(c->d, cap * sizeof(*n));
        if (!n) {
            c->oom = 1;
            return;
        }
        c->d = n;
        c->capd = cap;
    }
    c->d[c->nd] = (pdiag_t){c->nd, xstrdup(path), line, col, warning, xstrdup(msg), xstrdup(hint)};
    c->nd++;
    if (!warning)
        c->errors++;
}

/* Add an error at the value (or, with at_key, the key) recorded for path. */
static void diag_path(lctx_t *c, const char *path, int at_key, const char *hint, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
static void diag_path(lctx_t *c, const char *path, int at_key, const char *hint, const char *fmt,
                      ...)
{
    char msg[512];
    const yamlwalk_pos_t *e = yamlwalk_find(c->idx, path);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    diag_at(c, path, e ? (at_key ? e->key_line : e->val_line) : 0,
            e ? (at_key ? e->key_col : e->val_col) : 0, 0, hint, "%s", msg);
}

/* " in route 'name'" / " in test 'name'" for a path under routes[N] / tests[N]. */
static void path_context(const lctx_t *c, const char *path, char *buf, size_t size)
{
    static const char *const kinds[][2] = {{"routes[", "route"}, {"tests[", "test"}};

    buf[0] = '\0';
    if (!path)
        return;
    for (size_t k = 0; k < NELEM(kinds); k++) {
        size_t pl = strlen(kinds[k][0]);
        const char *close;
        char np[96];
        const yamlwalk_pos_t *e;
        if (strncmp(path, kinds[k][0], pl) || !(close = strchr(path, ']')))
            continue;
        snprintf(np, sizeof(np), "%.*s.name", (int)(close - path + 1), path);
        e = yamlwalk_find(c->idx, np);
        if (e && e->scalar && *e->scalar)
            snprintf(buf, size, " in %s '%s'", kinds[k][1], e->scalar);
        else
            snprintf(buf, size, " in %s #%ld", kinds[k][1], strtol(path + pl, NULL, 10) + 1);
        return;
    }
}

/* "did you mean 'x'?" for the closest of candidates (diag_suggest()), or ""
 * when none is close. */
static void suggest(const char *got, const char *const *cand, size_t n, char *buf, size_t size)
{
    const char *best = diag_suggest(got, cand, n);

    if (best)
        snprintf(buf, size, "did you mean '%s'?", best);
    else
        buf[0] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Pass 1: yamlwalk against the schema tables; every problem is collected.  */

static const char *schema_kind(const cyaml_schema_value_t *sv)
{
    switch (sv->type) {
    case CYAML_MAPPING:
        return "a mapping";
    case CYAML_SEQUENCE:
    case CYAML_SEQUENCE_FIXED:
        return "a list";
    case CYAML_BOOL:
        return "true or false";
    case CYAML_INT:
    case CYAML_UINT:
        return "a number";
    case CYAML_ENUM:
        return "one of the listed words";
    default:
        return "a string";
    }
}

static const char *last_seg(const char *path)
{
    const char *d = strrchr(path, '.');
    return d ? d + 1 : path;
}

/* How to name the node at path in a message. */
static const char *node_name(const char *path)
{
    return *path ? last_seg(path) : "the rule file";
}

static int is_bool_word(const char *s)
{
    static const char *const words[] = {"true", "false",  "yes",     "no", "on",
                                        "off",  "enable", "disable", "1",  "0"};
    for (size_t i = 0; i < NELEM(words); i++)
        if (!strcasecmp(s, words[i]))
            return 1;
    return 0;
}

/* yamlwalk scalar callback: booleans, numbers and enum words. */
static int pass1_scalar(void *opaque, const yamlwalk_scalar_t *s)
{
    lctx_t *c = opaque;
    const cyaml_schema_value_t *sv = s->schema;
    const char *v = s->value, *path = s->path;
    int line = s->line, col = s->col;
    char *end;

    switch (sv->type) {
    case CYAML_BOOL:
        if (!is_bool_word(v))
            diag_at(c, path, line, col, 0, "write true or false", "'%s' is not a boolean for '%s'",
                    v, last_seg(path));
        break;
    case CYAML_INT:
    case CYAML_UINT:
        errno = 0;
        end = NULL;
        (void)strtoll(v, &end, 10);
        if (!*v || *end || errno || (sv->type == CYAML_UINT && strchr(v, '-')))
            diag_at(c, path, line, col, 0, NULL, "'%s' is not a valid %s number for '%s'", v,
                    sv->type == CYAML_UINT ? "non-negative" : "whole", last_seg(path));
        break;
    case CYAML_ENUM: {
        const char *names[16];
        char hint[160], list[128];
        size_t n = sv->enumeration.count < 16 ? sv->enumeration.count : 16, o = 0;
        for (size_t i = 0; i < n; i++) {
            names[i] = sv->enumeration.strings[i].str;
            if (!strcmp(v, names[i]))
                return 0;
            o += (size_t)snprintf(list + o, o < sizeof(list) ? sizeof(list) - o : 0, "%s%s",
                                  i ? ", " : "", names[i]);
        }
        suggest(v, names, n, hint, sizeof(hint));
        if (!hint[0])
            snprintf(hint, sizeof(hint), "one of: %s", list);
        diag_at(c, path, line, col, 0, hint, "invalid value '%s' for '%s'", v, last_seg(path));
        break;
    }
    default:
        break;
    }
    return 0;
}

/* yamlwalk problem callback: word it for a rule file, collect it, go on. */
static int pass1_problem(void *opaque, const yamlwalk_problem_t *p)
{
    lctx_t *c = opaque;
    const char *path = p->path;
    int line = p->line, col = p->col;

    switch (p->kind) {
    case YAMLWALK_SYNTAX:
        diag_at(c, NULL, line, col, 0, NULL, "YAML syntax error: %s%s%s",
                p->problem ? p->problem : "unknown", p->context ? " " : "",
                p->context ? p->context : "");
        break;
    case YAMLWALK_NO_DOCUMENT:
    case YAMLWALK_EMPTY_DOCUMENT:
        diag_at(c, NULL, 1, 1, 0, "start with 'routes:'", "the rule file is empty");
        break;
    case YAMLWALK_EXTRA_DOCUMENT:
        diag_at(c, NULL, line, col, 0, NULL, "a rule file holds one YAML document");
        break;
    case YAMLWALK_KEY_NOT_SCALAR:
        diag_at(c, path, line, col, 0, NULL, "mapping keys must be plain words");
        break;
    case YAMLWALK_UNKNOWN_KEY: {
        const cyaml_schema_field_t *fields = p->schema->mapping.fields;
        const char *names[64];
        char hint[160];
        const char *ls = last_seg(path);
        int nested = *ls && ls[strlen(ls) - 1] != ']';
        size_t nf = 0;
        while (nf < 64 && fields[nf].key) {
            names[nf] = fields[nf].key;
            nf++;
        }
        suggest(p->key, names, nf, hint, sizeof(hint));
        /* The route's name may come after the bad key, so the " in route
         * 'x'" context is added when diagnostics are finalised. */
        diag_at(c, path, line, col, 0, hint[0] ? hint : NULL, "unknown key '%s'%s%s%s", p->key,
                nested ? " under '" : "", nested ? ls : "", nested ? "'" : "");
        break;
    }
    case YAMLWALK_DUPLICATE_KEY: {
        char sub[256];
        snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", p->key);
        diag_at(c, sub, line, col, 0, NULL, "duplicate key '%s'", p->key);
        break;
    }
    case YAMLWALK_MISSING_KEY:
        diag_at(c, path, line, col, 0, NULL, "missing required key '%s'", p->key);
        break;
    case YAMLWALK_ALIAS:
        diag_at(c, path, line, col, 0, "write the value out in full",
                "YAML aliases are not supported in rule files");
        break;
    case YAMLWALK_WRONG_TYPE:
        diag_at(c, path, line, col, 0, NULL, "'%s' must be %s, not %s", node_name(path),
                schema_kind(p->schema), yamlwalk_node_name(p->got));
        break;
    case YAMLWALK_TOO_FEW:
        diag_at(c, path, line, col, 0, NULL, "'%s' needs at least %u entr%s", last_seg(path),
                p->schema->sequence.min, p->schema->sequence.min == 1 ? "y" : "ies");
        break;
    case YAMLWALK_TOO_MANY:
        diag_at(c, path, line, col, 0, NULL, "'%s' has %u entries; at most %u allowed",
                last_seg(path), p->count, p->schema->sequence.max);
        break;
    case YAMLWALK_TOO_DEEP:
    default:
        diag_at(c, path, line, col, 0, NULL, "nesting is deeper than any rule file needs");
        break;
    }
    return 0;
}

static void pass1(lctx_t *c, const char *buf, size_t len)
{
    const yamlwalk_ops_t ops = {.problem = pass1_problem, .scalar = pass1_scalar, .opaque = c};

    if (yamlwalk_run(&ops, &top_schema, (const unsigned char *)buf, len, c->idx) != YAMLWALK_OK)
        c->oom = 1;
}

/* ------------------------------------------------------------------------ */
/* Pass 2: libcyaml.                                                        */

static void cyaml_log_collect(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    lctx_t *c = ctx;
    size_t room = sizeof(c->cyaml_log) - c->cyaml_log_len;
    int n;

    if (level < CYAML_LOG_ERROR || room < 2)
        return;
    n = vsnprintf(c->cyaml_log + c->cyaml_log_len, room, fmt, args);
    if (n > 0)
        c->cyaml_log_len += (size_t)n < room ? (size_t)n : room - 1;
}

static const cyaml_config_t *cyaml_cfg(lctx_t *c, cyaml_config_t *cfg)
{
    *cfg = (cyaml_config_t){
        .log_fn = cyaml_log_collect,
        .log_ctx = c,
        .mem_fn = cyaml_mem,
        .log_level = CYAML_LOG_ERROR,
        .flags = CYAML_CFG_NO_ALIAS,
    };
    return cfg;
}

/* libcyaml's messages look like "Load: Unexpected key: subjct\nLoad: Backtrace:\n...";
 * turn the first line into a message and place it at the key it names. */
static void report_cyaml(lctx_t *c, cyaml_err_t err)
{
    char first[256] = "", *nl;
    const char *p = c->cyaml_log, *key;
    int line = 0, col = 0;

    if (!strncmp(p, "Load: ", 6))
        p += 6;
    snprintf(first, sizeof(first), "%.255s", p);
    if ((nl = strchr(first, '\n')))
        *nl = '\0';
    if ((key = strrchr(first, ':')) && key[1] == ' ') {
        for (size_t i = 0; i < yamlwalk_index_count(c->idx); i++) {
            const yamlwalk_pos_t *e = yamlwalk_index_at(c->idx, i);
            if (!strcmp(last_seg(e->path), key + 2)) {
                line = e->key_line;
                col = e->key_col;
                break;
            }
        }
    }
    diag_at(c, NULL, line, col, 0, NULL, "%s (%s)", first[0] ? first : "schema error",
            cyaml_strerror(err));
}

/* ------------------------------------------------------------------------ */
/* Pass 3: compile.                                                         */

const char *const rules_var_names[V__COUNT] = {
    [V_LIT] = "",
    [V_DOMAIN] = "domain",
    [V_ACTION] = "action",
    [V_EVENT] = "event",
    [V_EVENT_TYPE] = "event_type",
    [V_TOPIC] = "topic",
    [V_PARTITION] = "partition",
    [V_OFFSET] = "offset",
    [V_KEY] = "key",
    [V_AGGREGATE_TYPE] = "aggregate_type",
    [V_AGGREGATE_ID] = "aggregate_id",
    [V_EVENT_ID] = "event_id",
    [V_CORRELATION_ID] = "correlation_id",
    [V_CAUSATION_ID] = "causation_id",
    [V_HEADER] = "header:NAME",
    [V_FIELD] = "field:json.path",
};

static int subject_lit_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_' || ch == '-' || ch == '.';
}

/* Header names: RFC 7230 token characters. */
static int header_name_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return 0;
    return 1;
}

/*
 * Parse a template into parts. is_subject selects subject rules for the
 * literal text. Returns 0, or -1 after reporting at path.
 */
/* A template's shape with every variable as 'X' ("commands.X.X"), to find
 * empty subject tokens whatever the variables hold. */
typedef struct skel {
    char s[512];
    size_t n;
} skel_t;

/* The literal text p[0..n) of a template: subject or header-value characters only. */
static int tmpl_literal(lctx_t *c, const char *path, const char *text, int is_subject,
                        const char *p, size_t n, skel_t *sk)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (is_subject ? !subject_lit_char((char)ch) : (ch < 0x20 || ch == 0x7f)) {
            diag_path(c, path, 0,
                      is_subject ? "subject text may use only [A-Za-z0-9_-] and '.' "
                                   "between tokens; no wildcards"
                                 : NULL,
                      "character '%c' (0x%02x) is not allowed in %s '%s'", isprint(ch) ? ch : '?',
                      ch, is_subject ? "subject" : "header value", text);
            return -1;
        }
        if (sk->n < sizeof(sk->s) - 1)
            sk->s[sk->n++] = (char)ch;
    }
    return 0;
}

/*
 * A {field:} or json: path: dotted object keys, at most
 * ENVELOPE_PATH_MAX_SEGS of them, each non-empty. JSONPath ('$', '[n]', a
 * '*' wildcard) is refused here, whatever envelope_path_compile() accepts:
 * route.c looks each segment up as a key, so such a path would load and
 * then miss the field in every event (missing_field, or a header left out).
 */
static int field_path_compile(const char *text, size_t len, envelope_path_t *out, char *err,
                              size_t errsize)
{
    for (size_t i = 0; i < len; i++) {
        int star = text[i] == '*' && (i == 0 || text[i - 1] == '.') &&
                   (i + 1 == len || text[i + 1] == '.');
        if (text[i] == '$' || text[i] == '[' || text[i] == ']' || star) {
            snprintf(err, errsize, "JSON path '%.*s' is JSONPath ('%c' at offset %zu)", (int)len,
                     text, text[i], i);
            return -1;
        }
    }
    return envelope_path_compile(text, len, out, err, errsize);
}

#define FIELD_PATH_HINT                                                                            \
    "{field:} takes dotted object keys, e.g. {field:payload.officerId}; JSONPath ($, [n]) is "     \
    "not supported"
#define JSON_SOURCE_HINT                                                                           \
    "json: takes dotted object keys, e.g. {json: metadata.eventType}; JSONPath ($, [n]) is not "   \
    "supported"

/* The variable name[0..nlen) between '{' and '}': a known word,
 * header:NAME or field:json.path. Fills *part; -1 after reporting. */
static int tmpl_variable(lctx_t *c, const char *path, const char *text, const char *name,
                         size_t nlen, int have_domains, tpart_t *part)
{
    *part = (tpart_t){.var = V__COUNT, .s = name, .len = nlen};
    if (nlen > 7 && !strncmp(name, "header:", 7)) {
        part->var = V_HEADER;
        part->s = name + 7;
        part->len = nlen - 7;
    } else if (nlen > 6 && !strncmp(name, "field:", 6)) {
        char err[160];
        part->var = V_FIELD;
        part->s = name + 6;
        part->len = nlen - 6;
        if (field_path_compile(part->s, part->len, &part->path, err, sizeof(err))) {
            diag_path(c, path, 0, FIELD_PATH_HINT, "%s in template '%s'", err, text);
            return -1;
        }
    } else {
        for (int v = V_DOMAIN; v < V_HEADER; v++)
            if (strlen(rules_var_names[v]) == nlen && !strncmp(rules_var_names[v], name, nlen))
                part->var = (tvar_t)v;
    }
    if (part->var == V__COUNT) {
        char got[64], hint[320];
        snprintf(got, sizeof(got), "%.*s", (int)(nlen < 63 ? nlen : 63), name);
        suggest(got, rules_var_names + 1, V__COUNT - 1, hint, sizeof(hint));
        if (!hint[0])
            snprintf(hint, sizeof(hint),
                     "known: {domain} {action} {event} {event_type} {topic} {partition} "
                     "{offset} {key} {aggregate_type} {aggregate_id} {event_id} "
                     "{correlation_id} {causation_id} {header:NAME} {field:json.path}");
        diag_path(c, path, 0, hint, "unknown variable '{%s}' in template '%s'", got, text);
        return -1;
    }
    if ((part->var == V_HEADER || part->var == V_FIELD) && !part->len) {
        diag_path(c, path, 0, NULL, "empty name in '{%.*s}'", (int)nlen, name);
        return -1;
    }
    if ((part->var == V_DOMAIN || part->var == V_ACTION) && !have_domains) {
        diag_path(c, path, 0,
                  "add a top-level list, e.g. 'domains: [officer, incident]'; {domain} falls "
                  "back to it when the event has no aggregate type",
                  "template '%s' uses {%s} but the file has no 'domains:' list", text,
                  rules_var_names[part->var]);
        return -1;
    }
    return 0;
}

/* A subject starts with a literal token and has no empty token. */
static int tmpl_check_subject(lctx_t *c, const char *path, const char *text, const tmpl_t *t,
                              const skel_t *sk)
{
    const char *dot = memchr(text, '.', t->prefix_len);

    if (!t->prefix_len || !dot || dot == text) {
        diag_path(c, path, 0, "e.g. 'commands.{domain}.{action}'",
                  "subject '%s' must start with a literal token and a '.'", text);
        return -1;
    }
    if (sk->s[0] == '.' || sk->s[sk->n - 1] == '.' || strstr(sk->s, "..")) {
        diag_path(c, path, 0, "tokens are separated by exactly one '.'",
                  "subject '%s' has an empty token", text);
        return -1;
    }
    return 0;
}

static int tmpl_compile(lctx_t *c, const char *path, const char *text, int is_subject,
                        int have_domains, tmpl_t *t)
{
    const char *p = text;
    skel_t sk = {.n = 0};

    memset(t, 0, sizeof(*t));
    if (!*text) {
        diag_path(c, path, 0, NULL, "empty template");
        return -1;
    }
    while (*p) {
        const char *open = strchr(p, '{'), *close = strchr(p, '}');
        if (close && (!open || close < open)) {
            diag_path(c, path, 0, "variables look like {domain}",
                      "unbalanced '}' at offset %ld in template '%s'", (long)(close - text), text);
            return -1;
        }
        if (t->n + 2 > RULES_TMPL_MAX) {
            diag_path(c, path, 0, NULL, "template '%s' has more than %d parts", text,
                      RULES_TMPL_MAX);
            return -1;
        }
        if (open != p) {
            size_t n = open ? (size_t)(open - p) : strlen(p);
            if (tmpl_literal(c, path, text, is_subject, p, n, &sk))
                return -1;
            t->part[t->n++] = (tpart_t){.var = V_LIT, .s = p, .len = n};
            if (t->n == 1)
                t->prefix_len = n;
            p += n;
            continue;
        }
        /* A variable. */
        const char *end = strchr(p + 1, '}');
        const char *nested = strchr(p + 1, '{');
        if (!end || (nested && nested < end)) {
            diag_path(c, path, 0, "close every '{' with '}'", "unterminated variable in '%s'",
                      text);
            return -1;
        }
        tpart_t part;
        if (tmpl_variable(c, path, text, p + 1, (size_t)(end - p - 1), have_domains, &part))
            return -1;
        t->uses |= 1u << part.var;
        t->part[t->n++] = part;
        if (sk.n < sizeof(sk.s) - 1)
            sk.s[sk.n++] = 'X';
        p = end + 1;
    }
    sk.s[sk.n] = '\0';
    return is_subject ? tmpl_check_subject(c, path, text, t, &sk) : 0;
}

static int glob_literal_head(const char *g)
{
    return (int)strcspn(g, "*?");
}

static int glob_literal_tail(const char *g)
{
    size_t n = strlen(g), k = 0;
    while (k < n && g[n - 1 - k] != '*' && g[n - 1 - k] != '?')
        k++;
    return k == n ? 0 : (int)k;
}

/* Does route a match every event that route b matches? Sound, not complete. */
static int covers(const croute_t *a, const croute_t *b)
{
    int type_ok = 0;

    if (a->tkind == TM_ANY)
        type_ok = 1;
    else if (b->tkind == TM_EXACT) {
        switch (a->tkind) {
        case TM_EXACT:
            type_ok = a->tlen == b->tlen && !memcmp(a->tpat, b->tpat, a->tlen);
            break;
        case TM_PREFIX:
            type_ok = b->tlen >= a->tlen && !memcmp(b->tpat, a->tpat, a->tlen);
            break;
        case TM_SUFFIX:
            type_ok = b->tlen >= a->tlen && !memcmp(b->tpat + b->tlen - a->tlen, a->tpat, a->tlen);
            break;
        case TM_GLOB:
            type_ok = glob_match(a->tpat, a->tlen, b->tpat, b->tlen);
            break;
        default:
            break;
        }
    } else if (a->tkind == b->tkind) {
        if (a->tkind == TM_PREFIX)
            type_ok = b->tlen >= a->tlen && !memcmp(b->tpat, a->tpat, a->tlen);
        else if (a->tkind == TM_SUFFIX)
            type_ok = b->tlen >= a->tlen && !memcmp(b->tpat + b->tlen - a->tlen, a->tpat, a->tlen);
        else
            type_ok = a->tlen == b->tlen && !memcmp(a->tpat, b->tpat, a->tlen);
    }
    if (!type_ok)
        return 0;
    if (a->topic && !(b->topic && !strcmp(a->topic, b->topic)))
        return 0;
    for (size_t i = 0; i < a->nhm; i++) {
        int found = 0;
        for (size_t j = 0; j < b->nhm && !found; j++)
            found = !strcmp(a->hm[i].name, b->hm[j].name) &&
                    ((!a->hm[i].value && !b->hm[j].value) ||
                     (a->hm[i].value && b->hm[j].value && !strcmp(a->hm[i].value, b->hm[j].value)));
        if (!found)
            return 0;
    }
    return 1;
}

static int is_kebab(const char *s)
{
    int prev_dash = 1;

    if (!*s)
        return 0;
    for (; *s; s++) {
        if (*s == '-') {
            if (prev_dash)
                return 0;
            prev_dash = 1;
        } else if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')) {
            prev_dash = 0;
        } else {
            return 0;
        }
    }
    return !prev_dash;
}

static void compile_envelope(lctx_t *c, const raw_rules_t *raw, rules_t *r)
{
    for (int f = 0; f < RULES_F__COUNT; f++) {
        field_srcs_t *fs = &r->fields[f];
        const raw_src_t *list = NULL;
        unsigned n = 0;

        if (raw->envelope) {
            const char *base = (const char *)raw->envelope + envelope_offsets[f];
            list = *(raw_src_t *const *)base;
            n = *(const unsigned *)(base + sizeof(raw_src_t *));
        }
        if (!list) {
            for (size_t i = 0; i < 3 && default_sources[f][i].name; i++) {
                src_t *s = &fs->s[fs->n++];
                char err[128];
                s->kind = default_sources[f][i].kind;
                s->name = default_sources[f][i].name;
                s->name_len = strlen(s->name);
                if (s->kind == RULES_SRC_JSON) {
                    (void)envelope_path_compile(s->name, s->name_len, &s->path, err, sizeof(err));
                    fs->needs_json = 1;
                }
            }
            continue;
        }
        for (unsigned i = 0; i < n && i < RULES_SRC_MAX; i++) {
            char path[128], err[160];
            src_t *s = &fs->s[fs->n];
            snprintf(path, sizeof(path), "envelope.%s[%u]", field_names[f], i);
            if (!!list[i].header == !!list[i].json) {
                diag_path(c, path, 0, "e.g. '- header: eventType' or '- json: metadata.eventType'",
                          "each source of envelope.%s needs exactly one of 'header' or 'json'",
                          field_names[f]);
                continue;
            }
            if (list[i].header) {
                s->kind = RULES_SRC_HEADER;
                s->name = list[i].header;
                s->name_len = strlen(s->name);
                if (!s->name_len) {
                    diag_path(c, path, 0, NULL, "empty header name in envelope.%s", field_names[f]);
                    continue;
                }
            } else {
                s->kind = RULES_SRC_JSON;
                s->name = list[i].json;
                s->name_len = strlen(s->name);
                if (field_path_compile(s->name, s->name_len, &s->path, err, sizeof(err))) {
                    diag_path(c, path, 0, JSON_SOURCE_HINT, "%s in envelope.%s", err,
                              field_names[f]);
                    continue;
                }
                fs->needs_json = 1;
            }
            fs->n++;
        }
    }
}

static void compile_domains(lctx_t *c, const raw_rules_t *raw, rules_t *r)
{
    if (!raw->domains_count)
        return;
    r->domains = calloc(raw->domains_count, sizeof(*r->domains));
    r->domain_lens = calloc(raw->domains_count, sizeof(*r->domain_lens));
    if (!r->domains || !r->domain_lens) {
        c->oom = 1;
        return;
    }
    for (unsigned i = 0; i < raw->domains_count; i++) {
        char path[64];
        const char *d = raw->domains[i];
        snprintf(path, sizeof(path), "domains[%u]", i);
        if (!is_kebab(d)) {
            char kebab[NAMING_MAX_LEN + 1], hint[300];
            if (naming_kebab(d, strlen(d), kebab, sizeof(kebab), NULL) == NAMING_OK)
                snprintf(hint, sizeof(hint), "did you mean '%s'?", kebab);
            else
                snprintf(hint, sizeof(hint), "write domains in kebab-case, e.g. 'patrol-unit'");
            diag_path(c, path, 0, hint, "domain '%s' is not lower-case kebab-case", d);
            continue;
        }
        for (size_t k = 0; k < r->ndomains; k++)
            if (!strcmp(r->domains[k], d)) {
                diag_path(c, path, 0, NULL, "domain '%s' is listed twice", d);
                d = NULL;
                break;
            }
        if (!d)
            continue;
        r->domains[r->ndomains] = d;
        r->domain_lens[r->ndomains++] = strlen(d);
    }
}

static int route_name_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return 0;
    return 1;
}

/* The route's name: a plain identifier, not used by an earlier route. */
static void check_route_name(lctx_t *c, const raw_route_t *rr, unsigned idx, const rules_t *r,
                             const char *base)
{
    char path[128];

    snprintf(path, sizeof(path), "%s.name", base);
    if (!route_name_ok(rr->name))
        diag_path(c, path, 0, "use letters, digits, '-', '_' and '.'",
                  "route name '%s' is not a plain identifier", rr->name);
    for (unsigned k = 0; k < idx; k++)
        if (r->routes[k].name && !strcmp(r->routes[k].name, rr->name)) {
            char hint[96];
            snprintf(hint, sizeof(hint), "first defined on line %d", r->routes[k].line);
            diag_path(c, path, 0, hint, "route '%s' is defined twice", rr->name);
            break;
        }
}

/* match.type / type_prefix / type_suffix / type_glob: at most one, not empty;
 * sets the matcher and what of the type it strips before naming. */
static void compile_type_match(lctx_t *c, const raw_match_t *m, const char *base, croute_t *cr)
{
    static const char *const keys[] = {"type", "type_prefix", "type_suffix", "type_glob"};
    static const tmatch_t kinds[] = {TM_EXACT, TM_PREFIX, TM_SUFFIX, TM_GLOB};
    const char *vals[] = {m->type, m->type_prefix, m->type_suffix, m->type_glob};
    char path[128];
    int which = -1;

    for (int k = 0; k < 4; k++) {
        if (!vals[k])
            continue;
        snprintf(path, sizeof(path), "%s.match.%s", base, keys[k]);
        if (which >= 0) {
            diag_path(c, path, 1, "split it into two routes",
                      "a match may have only one of type/type_prefix/type_suffix/type_glob "
                      "('%s' and '%s' given)",
                      keys[which], keys[k]);
            continue;
        }
        if (!*vals[k]) {
            diag_path(c, path, 0, "leave the key out to match every type", "empty '%s'", keys[k]);
            continue;
        }
        which = k;
    }
    if (which < 0)
        return;
    cr->tkind = kinds[which];
    cr->tpat = vals[which];
    cr->tlen = strlen(cr->tpat);
    if (cr->tkind == TM_PREFIX)
        cr->strip_head = cr->tlen;
    else if (cr->tkind == TM_SUFFIX)
        cr->strip_tail = cr->tlen;
    else if (cr->tkind == TM_GLOB) {
        cr->strip_head = (size_t)glob_literal_head(cr->tpat);
        cr->strip_tail = (size_t)glob_literal_tail(cr->tpat);
        if (cr->strip_head == cr->tlen) {
            cr->strip_head = 0;
            snprintf(path, sizeof(path), "%s.match.type_glob", base);
            diag_at(c, path, 0, 0, 1, NULL, "type_glob '%s' has no wildcard", cr->tpat);
        }
    }
}

/* The whole match: type, topic and header matchers. */
static void compile_match(lctx_t *c, const raw_match_t *m, const char *base, croute_t *cr)
{
    char path[128];

    compile_type_match(c, m, base, cr);
    if (m->topic) {
        snprintf(path, sizeof(path), "%s.match.topic", base);
        if (!*m->topic)
            diag_path(c, path, 0, "leave the key out to match every topic", "empty topic");
        cr->topic = m->topic;
        cr->topic_len = strlen(m->topic);
    }
    for (unsigned h = 0; h < m->headers_count && h < RULES_HMATCH_MAX; h++) {
        snprintf(path, sizeof(path), "%s.match.headers[%u].name", base, h);
        if (!*m->headers[h].name)
            diag_path(c, path, 0, NULL, "empty header name");
        cr->hm[cr->nhm++] =
            (hmatch_t){m->headers[h].name, strlen(m->headers[h].name), m->headers[h].value,
                       m->headers[h].value ? strlen(m->headers[h].value) : 0};
    }
}

/* The headers a publishing route sets: valid, not Nats-*, each a template. */
static void compile_route_headers(lctx_t *c, const raw_route_t *rr, const char *base,
                                  int have_domains, croute_t *cr)
{
    char path[128];

    for (unsigned h = 0; h < rr->headers_count && h < ROUTE_MAX_HEADERS; h++) {
        const raw_kv_t *kv = &rr->headers[h];
        snprintf(path, sizeof(path), "%s.headers[%u].name", base, h);
        if (!header_name_ok(kv->name)) {
            diag_path(c, path, 0, "header names are letters, digits and !#$%&'*+-.^_`|~",
                      "invalid header name '%s'", kv->name);
            continue;
        }
        if (!strncasecmp(kv->name, "Nats-", 5)) {
            diag_path(c, path, 0, "the router sets Nats-Msg-Id from 'dedup:'",
                      "header '%s' is reserved for NATS", kv->name);
            continue;
        }
        snprintf(path, sizeof(path), "%s.headers[%u].value", base, h);
        if (!kv->value) {
            snprintf(path, sizeof(path), "%s.headers[%u]", base, h);
            diag_path(c, path, 0, NULL, "header '%s' has no 'value'", kv->name);
            continue;
        }
        cr->hdr[cr->nhdr].name = kv->name;
        if (!tmpl_compile(c, path, kv->value, 0, have_domains, &cr->hdr[cr->nhdr].value)) {
            cr->uses |= cr->hdr[cr->nhdr].value.uses;
            cr->nhdr++;
        }
    }
}

static route_ordering_t ordering_of(raw_ordering_t o, route_ordering_t inherited)
{
    return o == RO_KEY         ? ROUTE_ORDER_KEY
           : o == RO_PARTITION ? ROUTE_ORDER_PARTITION
           : o == RO_NONE      ? ROUTE_ORDER_NONE
                               : inherited;
}

static void compile_route(lctx_t *c, const raw_route_t *rr, unsigned idx, rules_t *r)
{
    static const route_action_t actions[] = {[RA_JETSTREAM] = ROUTE_JETSTREAM,
                                             [RA_NATS] = ROUTE_NATS_CORE,
                                             [RA_SKIP] = ROUTE_SKIP,
                                             [RA_DLQ] = ROUTE_DLQ};
    croute_t *cr = &r->routes[idx];
    char base[64], path[128];
    const yamlwalk_pos_t *e;
    int have_domains = r->ndomains > 0;

    snprintf(base, sizeof(base), "routes[%u]", idx);
    e = yamlwalk_find(c->idx, base);
    cr->line = e ? e->val_line : 0;
    cr->col = e ? e->val_col : 0;
    cr->name = rr->name;
    snprintf(path, sizeof(path), "%s.subject", base);
    e = yamlwalk_find(c->idx, path);
    cr->subject_text = rr->subject;
    cr->subject_line = e ? e->val_line : 0;
    cr->subject_col = e ? e->val_col : 0;
    check_route_name(c, rr, idx, r, base);
    cr->tkind = TM_ANY;
    if (rr->match)
        compile_match(c, rr->match, base, cr);

    cr->action = actions[rr->action];
    cr->critical = rr->critical;
    cr->ordering = ordering_of(rr->ordering, r->ordering);
    cr->dedup = rr->dedup == RD_CLOUDEVENTS ? DEDUP_CLOUDEVENTS
                : rr->dedup == RD_OFFSET    ? DEDUP_OFFSET
                                            : DEDUP_EVENT_ID;
    int publishes = cr->action == ROUTE_JETSTREAM || cr->action == ROUTE_NATS_CORE;
    if (!publishes) {
        snprintf(path, sizeof(path), "%s.subject", base);
        if (rr->subject)
            diag_path(c, path, 1, "remove it, or use action: jetstream",
                      "a route with action '%s' publishes nothing, so it takes no subject",
                      route_action_name(cr->action));
        snprintf(path, sizeof(path), "%s.headers", base);
        if (rr->headers_count)
            diag_path(c, path, 1, NULL,
                      "a route with action '%s' publishes nothing, so it takes no headers",
                      route_action_name(cr->action));
        snprintf(path, sizeof(path), "%s.critical", base);
        e = yamlwalk_find(c->idx, path);
        if (rr->critical)
            diag_at(c, path, e ? e->key_line : 0, e ? e->key_col : 0, 1,
                    "remove it; it only marks routes that publish",
                    "'critical' means nothing on a route that does not publish (action: %s)",
                    route_action_name(cr->action));
        snprintf(path, sizeof(path), "%s.ordering", base);
        if (rr->ordering != RO_UNSET)
            diag_path(c, path, 1, "remove it: only publishing routes keep an order",
                      "a route with action '%s' publishes nothing, so it takes no ordering",
                      route_action_name(cr->action));
        return;
    }
    snprintf(path, sizeof(path), "%s.subject", base);
    if (!rr->subject) {
        snprintf(path, sizeof(path), "%s", base);
        diag_path(c, path, 0, "e.g. subject: 'commands.{domain}.{action}'",
                  "route '%s' publishes but has no 'subject'", rr->name);
        return;
    }
    if (!tmpl_compile(c, path, rr->subject, 1, have_domains, &cr->subject)) {
        cr->uses |= cr->subject.uses;
        cr->subject_prefix = strndup(rr->subject, cr->subject.prefix_len);
        if (!cr->subject_prefix)
            c->oom = 1;
    }
    compile_route_headers(c, rr, base, have_domains, cr);
}

static int name_in(const char *s, const char *(*fn)(int), int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, fn(i)))
            return 1;
    return 0;
}

static const char *action_name_i(int i)
{
    return route_action_name((route_action_t)i);
}

static const char *reason_name_i(int i)
{
    return route_reason_name((route_reason_t)i);
}

static rules_kv_t *copy_kv(lctx_t *c, const raw_kv_t *kv, unsigned n)
{
    rules_kv_t *out;

    if (!n)
        return NULL;
    out = calloc(n, sizeof(*out));
    if (!out) {
        c->oom = 1;
        return NULL;
    }
    for (unsigned i = 0; i < n; i++)
        out[i] = (rules_kv_t){kv[i].name, kv[i].value ? kv[i].value : ""};
    return out;
}

/* The test's event, as the YAML wrote it, onto the compiled test. */
static void copy_test_event(lctx_t *c, const raw_test_event_t *ev, rules_test_t *t)
{
    t->fields[RULES_F_EVENT_TYPE] = ev->type;
    t->fields[RULES_F_EVENT_ID] = ev->event_id;
    t->fields[RULES_F_AGGREGATE_TYPE] = ev->aggregate_type;
    t->fields[RULES_F_AGGREGATE_ID] = ev->aggregate_id;
    t->fields[RULES_F_CORRELATION_ID] = ev->correlation_id;
    t->fields[RULES_F_CAUSATION_ID] = ev->causation_id;
    t->fields[RULES_F_CE_SOURCE] = ev->ce_source;
    t->fields[RULES_F_CE_ID] = ev->ce_id;
    t->topic = ev->topic;
    t->partition = ev->partition;
    t->offset = ev->offset;
    t->key = ev->key;
    t->value = ev->value;
    t->tombstone = ev->tombstone;
    t->headers = copy_kv(c, ev->headers, ev->headers_count);
    t->header_count = ev->headers_count;
}

/* The test's expectation onto the compiled test. */
static void copy_test_expect(lctx_t *c, const raw_test_expect_t *ex, rules_test_t *t)
{
    t->expect_action = ex->action;
    t->expect_reason = ex->reason;
    t->expect_route = ex->route;
    t->expect_subject = ex->subject;
    t->expect_dedup_id = ex->dedup_id;
    t->expect_critical = ex->critical ? (int)*ex->critical : -1;
    t->expect_headers = copy_kv(c, ex->headers, ex->headers_count);
    t->expect_header_count = ex->headers_count;
}

/* expect.action, expect.reason and expect.route must name what exists. */
static void check_test_expect(lctx_t *c, const raw_test_expect_t *ex, const rules_t *r,
                              const char *base, rules_test_t *t)
{
    char path[128];

    if (ex->action && !strcmp(ex->action, "nats"))
        t->expect_action = "nats_core"; /* the YAML action name, as an alias */
    else if (ex->action && !name_in(ex->action, action_name_i, ROUTE__COUNT)) {
        snprintf(path, sizeof(path), "%s.expect.action", base);
        diag_path(c, path, 0, "one of: skip, jetstream, nats (or nats_core), dlq",
                  "unknown action '%s'", ex->action);
    }
    if (ex->reason && !name_in(ex->reason, reason_name_i, ROUTE_R__COUNT)) {
        const char *names[ROUTE_R__COUNT];
        char hint[128];
        for (int k = 0; k < ROUTE_R__COUNT; k++)
            names[k] = route_reason_name((route_reason_t)k);
        suggest(ex->reason, names, ROUTE_R__COUNT, hint, sizeof(hint));
        snprintf(path, sizeof(path), "%s.expect.reason", base);
        diag_path(c, path, 0, hint[0] ? hint : "see docs/rules.md for the reasons",
                  "unknown reason '%s'", ex->reason);
    }
    if (ex->route) {
        const char *names[256];
        size_t n = 0;
        int found = 0;
        for (size_t k = 0; k < r->nroutes; k++) {
            if (r->routes[k].name && !strcmp(r->routes[k].name, ex->route))
                found = 1;
            if (n < 256 && r->routes[k].name)
                names[n++] = r->routes[k].name;
        }
        if (!found) {
            char hint[128];
            suggest(ex->route, names, n, hint, sizeof(hint));
            snprintf(path, sizeof(path), "%s.expect.route", base);
            diag_path(c, path, 0, hint[0] ? hint : NULL, "no route named '%s'", ex->route);
        }
    }
}

static void compile_tests(lctx_t *c, const raw_rules_t *raw, rules_t *r)
{
    if (!raw->tests_count)
        return;
    r->tests = calloc(raw->tests_count, sizeof(*r->tests));
    if (!r->tests) {
        c->oom = 1;
        return;
    }
    for (unsigned i = 0; i < raw->tests_count; i++) {
        const raw_test_t *rt = &raw->tests[i];
        rules_test_t *t = &r->tests[r->ntests++];
        char base[64], path[128];
        const yamlwalk_pos_t *e;

        snprintf(base, sizeof(base), "tests[%u]", i);
        e = yamlwalk_find(c->idx, base);
        t->name = rt->name;
        t->line = e ? e->val_line : 0;
        copy_test_event(c, rt->event, t);
        copy_test_expect(c, rt->expect, t);
        if (rt->event->tombstone && rt->event->value) {
            snprintf(path, sizeof(path), "%s.event.tombstone", base);
            diag_path(c, path, 1, NULL, "a tombstone has no value; remove 'value' or 'tombstone'");
        }
        check_test_expect(c, rt->expect, r, base, t);
    }
}

static void compile(lctx_t *c, raw_rules_t *raw, rules_t *r)
{
    if (raw->version && raw->version != 1)
        diag_path(c, "version", 0, "this router reads version 1", "unsupported version %u",
                  raw->version);
    r->unmatched = raw->unmatched == RU_DLQ ? ROUTE_DLQ : ROUTE_SKIP;
    r->ordering = ordering_of(raw->ordering, ROUTE_ORDER_KEY);
    r->limits.max_bytes = DEFAULT_JSON_BYTES;
    r->limits.max_tokens = DEFAULT_JSON_TOKENS;
    r->max_subject = ROUTE_SUBJECT_MAX;
    if (raw->limits) {
        if (raw->limits->max_json_bytes) {
            r->limits.max_bytes = raw->limits->max_json_bytes;
            if (r->limits.max_bytes > RULES_JSON_BYTES_MAX) /* jsmn offsets are ints */
                diag_path(c, "limits.max_json_bytes", 0, NULL, "max_json_bytes is at most %u",
                          RULES_JSON_BYTES_MAX);
        }
        if (raw->limits->max_json_tokens) {
            r->limits.max_tokens = raw->limits->max_json_tokens;
            if (r->limits.max_tokens > ENVELOPE_TOKENS_HARD_MAX)
                diag_path(c, "limits.max_json_tokens", 0, NULL, "max_json_tokens is at most %d",
                          ENVELOPE_TOKENS_HARD_MAX);
        }
        if (raw->limits->max_subject) {
            r->max_subject = raw->limits->max_subject;
            if (r->max_subject > ROUTE_SUBJECT_MAX || r->max_subject < 8)
                diag_path(c, "limits.max_subject", 0, NULL, "max_subject must be 8..%d",
                          ROUTE_SUBJECT_MAX);
        }
    }
    compile_envelope(c, raw, r);
    compile_domains(c, raw, r);
    for (unsigned i = 0; i < raw->strip_suffixes_count && i < RULES_STRIP_MAX; i++) {
        char path[64];
        snprintf(path, sizeof(path), "strip_suffixes[%u]", i);
        if (!naming_token_safe(raw->strip_suffixes[i], strlen(raw->strip_suffixes[i]))) {
            diag_path(c, path, 0, "e.g. 'Requested'", "strip suffix '%s' is not a name part",
                      raw->strip_suffixes[i]);
            continue;
        }
        r->strip[r->nstrip] = raw->strip_suffixes[i];
        r->strip_len[r->nstrip++] = strlen(raw->strip_suffixes[i]);
    }
    r->routes = calloc(raw->routes_count ? raw->routes_count : 1, sizeof(*r->routes));
    if (!r->routes) {
        c->oom = 1;
        return;
    }
    for (unsigned i = 0; i < raw->routes_count; i++) {
        compile_route(c, &raw->routes[i], i, r);
        r->nroutes++;
    }
    /* Unreachable routes: report the first earlier route that covers each. */
    for (size_t j = 1; j < r->nroutes; j++) {
        for (size_t i = 0; i < j; i++) {
            const croute_t *a = &r->routes[i], *b = &r->routes[j];
            char path[64], hint[200];
            if (!covers(a, b))
                continue;
            snprintf(path, sizeof(path), "routes[%zu].name", j);
            if (a->tkind == TM_ANY && !a->topic && !a->nhm)
                snprintf(hint, sizeof(hint),
                         "route '%s' (line %d) has no conditions and matches every event; move "
                         "it last",
                         a->name, a->line);
            else
                snprintf(hint, sizeof(hint),
                         "route '%s' (line %d) matches every event this one would; move this "
                         "route above it",
                         a->name, a->line);
            diag_path(c, path, 0, hint, "route '%s' can never match", b->name);
            break;
        }
    }
    compile_tests(c, raw, r);
}

/* ------------------------------------------------------------------------ */
/* Public API.                                                              */

static void fnv1a64_hex(const void *buf, size_t len, char out[17])
{
    const unsigned char *p = buf;
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static void rules_free(rules_t *r)
{
    cyaml_config_t cfg;
    lctx_t dummy = {0};

    if (!r)
        return;
    for (size_t i = 0; i < r->nroutes; i++)
        free(r->routes[i].subject_prefix);
    free(r->routes);
    for (size_t i = 0; i < r->ntests; i++) {
        free((void *)(uintptr_t)r->tests[i].headers);
        free((void *)(uintptr_t)r->tests[i].expect_headers);
    }
    free(r->tests);
    free(r->domains);
    free(r->domain_lens);
    if (r->raw)
        cyaml_free(cyaml_cfg(&dummy, &cfg), &top_schema, r->raw, 0);
    free(r->path);
    free(r);
}

static int pdiag_cmp(const void *a, const void *b)
{
    const pdiag_t *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void lctx_finish(lctx_t *c, rules_diags_t *out)
{
    if (c->oom)
        diag_at(c, NULL, 0, 0, 0, NULL, "out of memory while loading");
    if (c->nd)
        qsort(c->d, c->nd, sizeof(*c->d), pdiag_cmp);
    for (size_t i = 0; i < c->nd; i++) {
        char ctx[200];
        path_context(c, c->d[i].path, ctx, sizeof(ctx));
        if (ctx[0] && c->d[i].msg && strstr(c->d[i].msg, ctx + 4))
            ctx[0] = '\0'; /* the message already names the route or test */
        diags_add(out, c->file, c->d[i].line, c->d[i].col, c->d[i].warning, c->d[i].hint, "%s%s",
                  c->d[i].msg ? c->d[i].msg : "?", ctx);
        free(c->d[i].path);
        free(c->d[i].msg);
        free(c->d[i].hint);
    }
    free(c->d);
    yamlwalk_index_destroy(c->idx);
    c->idx = NULL;
}

int rules_load_buffer(const char *name, const char *buf, size_t len, rules_t **out,
                      rules_diags_t *diags)
{
    lctx_t c = {.file = name ? name : "<rules>"};
    cyaml_config_t cfg;
    raw_rules_t *raw = NULL;
    rules_t *r = NULL;
    cyaml_err_t err;

    *out = NULL;
    if (yamlwalk_index_new(&c.idx) != YAMLWALK_OK)
        c.oom = 1;
    else
        pass1(&c, buf, len);
    if (c.errors || c.oom)
        goto err;
    err = cyaml_load_data((const uint8_t *)buf, len, cyaml_cfg(&c, &cfg), &top_schema,
                          (cyaml_data_t **)&raw, NULL);
    if (err != CYAML_OK) {
        report_cyaml(&c, err);
        goto err;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        c.oom = 1;
        cyaml_free(&cfg, &top_schema, raw, 0);
        goto err;
    }
    atomic_init(&r->refs, 1);
    r->raw = raw; /* now owned by r */
    r->path = xstrdup(c.file);
    fnv1a64_hex(buf, len, r->hash);
    compile(&c, raw, r);
    if (c.errors || c.oom)
        goto err;
    lctx_finish(&c, diags);
    *out = r;
    return 0;
err:
    rules_free(r);
    lctx_finish(&c, diags);
    return -1;
}

int rules_load_file(const char *path, rules_t **out, rules_diags_t *diags)
{
    FILE *fp;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;

    *out = NULL;
    fp = fopen(path, "rb");
    if (!fp) {
        diags_add(diags, path, 0, 0, 0, NULL, "cannot open: %s", strerror(errno));
        return -1;
    }
    for (;;) {
        size_t n;
        if (len == cap) {
            char *nb;
            cap = cap ? cap * 2 : 16384;
            if (cap > RULES_FILE_MAX + 1 || !(nb = realloc(buf, cap))) {
                diags_add(diags, path, 0, 0, 0, NULL,
                          "file is larger than %u bytes or out of memory", RULES_FILE_MAX);
                free(buf);
                fclose(fp);
                return -1;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(fp)) {
        diags_add(diags, path, 0, 0, 0, NULL, "read error: %s", strerror(errno));
        free(buf);
        fclose(fp);
        return -1;
    }
    fclose(fp);
    rc = rules_load_buffer(path, buf, len, out, diags);
    free(buf);
    return rc;
}

const char *rules_diag_format(const rules_diag_t *d, char *buf, size_t size)
{
    return diag_format(d, buf, size);
}

void rules_diags_clear(rules_diags_t *diags)
{
    diags_clear(diags);
}

rules_t *rules_ref(rules_t *rules)
{
    if (rules)
        atomic_fetch_add_explicit(&rules->refs, 1, memory_order_relaxed);
    return rules;
}

void rules_unref(rules_t *rules)
{
    if (rules && atomic_fetch_sub_explicit(&rules->refs, 1, memory_order_acq_rel) == 1)
        rules_free(rules);
}

const char *rules_path(const rules_t *rules)
{
    return rules->path;
}

const char *rules_hash(const rules_t *rules)
{
    return rules->hash;
}

size_t rules_route_count(const rules_t *rules)
{
    return rules->nroutes;
}

const char *rules_route_name(const rules_t *rules, size_t i)
{
    return i < rules->nroutes ? rules->routes[i].name : NULL;
}

const char *rules_route_subject_prefix(const rules_t *rules, size_t i)
{
    return i < rules->nroutes ? rules->routes[i].subject_prefix : NULL;
}

int rules_route_at(const void *rules, size_t i, const char **name, const char **subject_prefix)
{
    const rules_t *r = rules;
    if (i >= rules_route_count(r))
        return 0;
    *name = rules_route_name(r, i);
    *subject_prefix = rules_route_subject_prefix(r, i);
    return 1;
}

int rules_route_line(const rules_t *rules, size_t i)
{
    return i < rules->nroutes ? rules->routes[i].line : 0;
}

int rules_route_info(const rules_t *rules, size_t i, rules_route_info_t *out)
{
    const croute_t *cr;

    if (i >= rules->nroutes)
        return -1;
    cr = &rules->routes[i];
    *out = (rules_route_info_t){
        .name = cr->name,
        /* The rule file's word ("nats"), not the decision's ("nats_core"). */
        .action = cr->action == ROUTE_NATS_CORE ? "nats" : route_action_name(cr->action),
        .subject = cr->subject_text,
        .critical = cr->critical,
        .line = cr->line,
        .col = cr->col,
        .subject_line = cr->subject_line,
        .subject_col = cr->subject_col,
    };
    return 0;
}

/* Does template t take a value from the event that may be missing, empty,
 * unsafe or long? {partition} and {offset} are numbers: always safe. */
static int tmpl_takes_event_data(const tmpl_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->part[i].var != V_LIT && t->part[i].var != V_PARTITION && t->part[i].var != V_OFFSET)
            return 1;
    return 0;
}

/* The first publishing route whose subject takes tokens from the event. */
static const croute_t *route_with_event_tokens(const rules_t *rules)
{
    for (size_t i = 0; i < rules->nroutes; i++) {
        const croute_t *cr = &rules->routes[i];
        if ((cr->action == ROUTE_JETSTREAM || cr->action == ROUTE_NATS_CORE) &&
            tmpl_takes_event_data(&cr->subject))
            return cr;
    }
    return NULL;
}

/* Can an event reach `unmatched:`? Not when a route without conditions
 * comes first (every event matches it or an earlier route). */
static int can_be_unmatched(const rules_t *rules)
{
    for (size_t i = 0; i < rules->nroutes; i++)
        if (rules->routes[i].tkind == TM_ANY && !rules->routes[i].topic && !rules->routes[i].nhm)
            return 0;
    return 1;
}

int rules_can_dead_letter(const rules_t *rules, char *why, size_t why_size)
{
    const croute_t *cr, *pub = NULL;
    uint32_t u;

    /* The plainest reasons first: what the rules say outright. */
    for (size_t i = 0; i < rules->nroutes; i++) {
        cr = &rules->routes[i];
        if (cr->action == ROUTE_DLQ) {
            snprintf(why, why_size, "route '%s' (%s:%d) has action: dlq", cr->name, rules->path,
                     cr->line);
            return 1;
        }
        if (!pub && (cr->action == ROUTE_JETSTREAM || cr->action == ROUTE_NATS_CORE))
            pub = cr;
    }
    if (rules->unmatched == ROUTE_DLQ && can_be_unmatched(rules)) {
        snprintf(why, why_size, "%s has unmatched: dlq (an event no route matches)", rules->path);
        return 1;
    }
    /* Then what a publishing route builds from the event (route.c). */
    if ((cr = route_with_event_tokens(rules))) {
        u = cr->subject.uses;
        snprintf(why, why_size,
                 "route '%s' (%s:%d) takes subject tokens from the event (missing_field, "
                 "unsafe_token%s, subject_too_long)",
                 cr->name, rules->path, cr->line,
                 u & ((1u << V_DOMAIN) | (1u << V_ACTION)) ? ", no_domain" : "");
        return 1;
    }
    if (rules->fields[RULES_F_EVENT_TYPE].needs_json) {
        snprintf(why, why_size,
                 "the envelope reads JSON (bad_envelope): envelope.event_type has a json: source");
        return 1;
    }
    if (pub) {
        snprintf(why, why_size,
                 "route '%s' (%s:%d) publishes: a message %s refuses, or whose publish keeps "
                 "failing, is dead-lettered (bad_dedup_id, jetstream_rejected, publish_failed, "
                 "too_large)",
                 pub->name, rules->path, pub->line,
                 pub->action == ROUTE_JETSTREAM ? "JetStream" : "NATS");
        return 1;
    }
    /*
     * Whatever the routes: route.c reads the event type before any route,
     * and dead-letters a record (not a tombstone) that has none, or one
     * with whitespace, control characters or over 255 bytes. So no rule set
     * is free of dead letters, not even one whose every route is skip.
     */
    snprintf(why, why_size,
             "a record without an event type, or with an unusable one, is dead-lettered before "
             "any route is tried (no_event_type, unsafe_token)");
    return 1;
}

const char *rules_field_name(rules_field_t f)
{
    return (unsigned)f < RULES_F__COUNT ? field_names[f] : "?";
}

int rules_field_source(const rules_t *rules, rules_field_t f, size_t i, rules_source_kind_t *kind,
                       const char **name)
{
    if ((unsigned)f >= RULES_F__COUNT || i >= rules->fields[f].n)
        return -1;
    *kind = rules->fields[f].s[i].kind;
    *name = rules->fields[f].s[i].name;
    return 0;
}

size_t rules_test_count(const rules_t *rules)
{
    return rules->ntests;
}

const rules_test_t *rules_test_get(const rules_t *rules, size_t i)
{
    return i < rules->ntests ? &rules->tests[i] : NULL;
}
