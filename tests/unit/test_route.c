/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for route.c: matching (exact, prefix, suffix, glob, topic,
 * headers, order), templating (every variable), the default convention,
 * dedup IDs, and every safety rejection and hostile input (invalid,
 * truncated, deeply nested and 10 MB values, tombstones, null keys, unsafe
 * and oversized event types, invalid UTF-8), each with its defined outcome.
 * Also: header-typed events never trigger a JSON parse.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "route.h"
#include "rules.h"

static const char fixture[] =
    "domains: [officer, incident, unit, patrol-unit]\n"
    "strip_suffixes: [Requested]\n"
    "limits: {max_json_bytes: 65536, max_json_tokens: 256}\n"
    "routes:\n"
    "  - name: audit\n"
    "    match: {topic: 'audit.*'}\n"
    "    action: skip\n"
    "  - name: poison\n"
    "    match: {type_prefix: Poison}\n"
    "    action: dlq\n"
    "  - name: telemetry\n"
    "    match:\n"
    "      type_glob: 'Unit*Pinged'\n"
    "      headers: [{name: source, value: 'gps-*'}]\n"
    "    action: nats\n"
    "    subject: 'telemetry.{event}'\n"
    "    dedup: offset\n"
    "  - name: ce-commands\n"
    "    match:\n"
    "      type_suffix: Requested\n"
    "      headers: [{name: ce_specversion}]\n"
    "    critical: true\n"
    "    subject: 'ce.{domain}.{action}'\n"
    "    dedup: cloudevents\n"
    "  - name: commands\n"
    "    match: {type_suffix: Requested}\n"
    "    critical: true\n"
    "    subject: 'commands.{domain}.{action}'\n"
    "    headers:\n"
    "      - {name: Correlation-Id, value: '{correlation_id}'}\n"
    "      - {name: Event-Type, value: 'type={event_type}'}\n"
    "  - name: officer-registered\n"
    "    match: {type: OfficerRegistered}\n"
    "    subject: 'events.officer.{aggregate_id}.{header:region}'\n"
    "  - name: by-field\n"
    "    match: {type: IncidentClosed}\n"
    "    subject: 'events.incident.{field:data.severity}'\n"
    "  - name: keyed\n"
    "    match: {type: KeyedThing}\n"
    "    subject: 'keyed.{key}.{partition}.{offset}.{topic}'\n"
    "  - name: exact-cmd\n"
    "    match: {type: CloseIncidentNow}\n"
    "    subject: 'exact.{domain}.{action}.{aggregate_type}.{causation_id}.{event_id}'\n"
    "unmatched: skip\n";

static rules_t *load(const char *y)
{
    rules_diags_t d = {0};
    rules_t *r = NULL;
    char line[1024];

    if (rules_load_buffer("fixture.yaml", y, strlen(y), &r, &d)) {
        for (size_t i = 0; i < d.count; i++)
            fprintf(stderr, "%s\n", rules_diag_format(&d.items[i], line, sizeof(line)));
    }
    rules_diags_clear(&d);
    ck_assert_ptr_nonnull(r);
    return r;
}

#define H(n, v)                                                                                    \
    {                                                                                              \
        n, v                                                                                       \
    }
typedef struct {
    const char *name, *value;
} kv_t;

/* One row per case reads better than one field per line. */
/* clang-format off */
static const struct {
    const char *what;
    const char *topic;
    const char *key;
    const char *value; /* NULL: tombstone */
    kv_t hdr[6];
    route_action_t action;
    route_reason_t reason;
    const char *route;
    const char *subject;
    const char *dedup;
    const char *detail; /* substring of out->detail, or NULL */
} cases[] = {
    /* The default convention through headers. */
    {"suffix route, domain from the declared list", "t", NULL, "{}",
     {H("eventType", "RegisterOfficerRequested"), H("eventId", "e-1")}, ROUTE_JETSTREAM,
     ROUTE_R_NONE, "commands", "commands.officer.register", "e-1", NULL},
    {"domain word in the middle", "t", NULL, "{}",
     {H("eventType", "ChangeOfficerStatusRequested"), H("eventId", "e-2")}, ROUTE_JETSTREAM,
     ROUTE_R_NONE, "commands", "commands.officer.change-status", "e-2", NULL},
    {"multi-word domain wins at the same position", "t", NULL, "{}",
     {H("eventType", "AssignPatrolUnitRequested"), H("eventId", "e")}, ROUTE_JETSTREAM,
     ROUTE_R_NONE, "commands", "commands.patrol-unit.assign", "e", NULL},
    {"aggregate type names the domain", "t", NULL,
     "{\"aggregateType\":\"PatrolUnit\",\"eventId\":\"e-3\"}",
     {H("eventType", "ReassignPatrolUnitRequested")}, ROUTE_JETSTREAM, ROUTE_R_NONE, "commands",
     "commands.patrol-unit.reassign", "e-3", NULL},
    {"aggregate type not in the name leaves the name whole", "t", NULL,
     "{\"aggregateType\":\"Case\"}", {H("eventType", "ReportIncidentRequested")},
     ROUTE_JETSTREAM, ROUTE_R_NONE, "commands", "commands.case.report-incident", "t-0-0", NULL},
    {"event type from JSON, with escapes", "t", NULL,
     "{\"eventType\":\"Register\\u004ffficerRequested\",\"eventId\":\"e-4\"}", {{0}},
     ROUTE_JETSTREAM, ROUTE_R_NONE, "commands", "commands.officer.register", "e-4", NULL},
    {"header beats JSON for the event type", "t", NULL,
     "{\"eventType\":\"OfficerUpdated\"}", {H("eventType", "DispatchIncidentRequested")},
     ROUTE_JETSTREAM, ROUTE_R_NONE, "commands", "commands.incident.dispatch", "t-0-0", NULL},
    {"ce_type header", "t", NULL, "{}",
     {H("ce_type", "DispatchIncidentRequested"), H("ce_id", "c1")}, ROUTE_JETSTREAM,
     ROUTE_R_NONE, "commands", "commands.incident.dispatch", "c1", NULL},
    {"empty header falls through to the next source", "t", NULL,
     "{\"eventType\":\"DispatchIncidentRequested\"}", {H("eventType", "")}, ROUTE_JETSTREAM,
     ROUTE_R_NONE, "commands", "commands.incident.dispatch", "t-0-0", NULL},
    {"extra headers are templated", "t", NULL, "{\"correlationId\":\"corr-1\"}",
     {H("eventType", "RegisterOfficerRequested"), H("eventId", "e")}, ROUTE_JETSTREAM,
     ROUTE_R_NONE, "commands", "commands.officer.register", "e", NULL},

    /* Matching. */
    {"topic glob beats everything after it", "audit.officers", NULL, "{}",
     {H("eventType", "RegisterOfficerRequested")}, ROUTE_SKIP, ROUTE_R_SKIP_RULE, "audit", "",
     "", NULL},
    {"prefix route dead-letters", "t", NULL, "{}", {H("eventType", "PoisonPill")}, ROUTE_DLQ,
     ROUTE_R_DLQ_RULE, "poison", "", "", "poison"},
    {"glob and header glob, core NATS, offset dedup", "gps", NULL, "{}",
     {H("eventType", "UnitGPSPinged"), H("source", "gps-north")}, ROUTE_NATS_CORE, ROUTE_R_NONE,
     "telemetry", "telemetry.unit-gps-pinged", "gps-0-0", NULL},
    {"header glob mismatch falls through", "gps", NULL, "{}",
     {H("eventType", "UnitGPSPinged"), H("source", "radio")}, ROUTE_SKIP, ROUTE_R_UNMATCHED, NULL,
     "", "", "no route matches"},
    {"header presence condition, cloudevents dedup", "t", NULL, "{}",
     {H("ce_type", "RegisterOfficerRequested"), H("ce_specversion", "1.0"),
      H("ce_source", "/gw/a"), H("ce_id", "42")},
     ROUTE_JETSTREAM, ROUTE_R_NONE, "ce-commands", "ce.officer.register", "/gw/a/42", NULL},
    {"cloudevents dedup without ce_source", "t", NULL, "{}",
     {H("ce_type", "RegisterOfficerRequested"), H("ce_specversion", "1.0"), H("ce_id", "42")},
     ROUTE_DLQ, ROUTE_R_BAD_DEDUP_ID, "ce-commands", "", "", "ce_source"},
    {"exact type, aggregate id and header in the subject", "t", NULL,
     "{\"aggregateId\":\"off-7\"}", {H("eventType", "OfficerRegistered"), H("region", "north")},
     ROUTE_JETSTREAM, ROUTE_R_NONE, "officer-registered", "events.officer.off-7.north", "t-0-0",
     NULL},
    {"JSON field in the subject", "t", NULL, "{\"data\":{\"severity\":\"high\"}}",
     {H("eventType", "IncidentClosed")}, ROUTE_JETSTREAM, ROUTE_R_NONE, "by-field",
     "events.incident.high", "t-0-0", NULL},
    {"key, partition, offset, topic in the subject", "orders", "k-1", "{}",
     {H("eventType", "KeyedThing")}, ROUTE_JETSTREAM, ROUTE_R_NONE, "keyed",
     "keyed.k-1.0.0.orders", "orders-0-0", NULL},
    {"strip_suffixes does not apply without the suffix; exact route derives", "t", NULL,
     "{\"aggregateType\":\"Incident\",\"causationId\":\"c-1\",\"eventId\":\"id-9\"}",
     {H("eventType", "CloseIncidentNow")}, ROUTE_JETSTREAM, ROUTE_R_NONE, "exact-cmd",
     "exact.incident.close-now.Incident.c-1.id-9", "id-9", NULL},
    {"unmatched is skipped by policy", "t", NULL, "{}", {H("eventType", "OfficerUpdated")},
     ROUTE_SKIP, ROUTE_R_UNMATCHED, NULL, "", "", NULL},
    {"matching is case-sensitive", "t", NULL, "{}", {H("eventType", "RegisterOfficerrequested")},
     ROUTE_SKIP, ROUTE_R_UNMATCHED, NULL, "", "", NULL},
    {"camelCase type", "t", NULL, "{}", {H("eventType", "registerOfficerRequested")},
     ROUTE_JETSTREAM, ROUTE_R_NONE, "commands", "commands.officer.register", "t-0-0", NULL},

    /* The convention's failure modes. */
    {"no domain: DLQ, never guessed", "t", NULL, "{}", {H("eventType", "ApproveLeaveRequested")},
     ROUTE_DLQ, ROUTE_R_NO_DOMAIN, "commands", "", "", "ApproveLeave"},
    {"nothing left for the action", "t", NULL, "{}", {H("eventType", "OfficerRequested")},
     ROUTE_DLQ, ROUTE_R_MISSING_FIELD, "commands", "", "", "{action}"},
    {"missing header variable", "t", NULL, "{\"aggregateId\":\"a\"}",
     {H("eventType", "OfficerRegistered")}, ROUTE_DLQ, ROUTE_R_MISSING_FIELD, "officer-registered",
     "", "", "{header:region}"},
    {"missing JSON field variable", "t", NULL, "{\"data\":{}}", {H("eventType", "IncidentClosed")},
     ROUTE_DLQ, ROUTE_R_MISSING_FIELD, "by-field", "", "", "data.severity"},
    {"null key in the subject", "t", NULL, "{}", {H("eventType", "KeyedThing")}, ROUTE_DLQ,
     ROUTE_R_MISSING_FIELD, "keyed", "", "", "{key}"},

    /* Safety: data-derived tokens. */
    {"type with a dot", "t", NULL, "{}", {H("eventType", "Register.OfficerRequested")}, ROUTE_DLQ,
     ROUTE_R_UNSAFE_TOKEN, "commands", "", "", NULL},
    {"type with a star", "t", NULL, "{}", {H("eventType", "Register*Requested")}, ROUTE_DLQ,
     ROUTE_R_UNSAFE_TOKEN, "commands", "", "", NULL},
    {"type with a greater-than", "t", NULL, "{}", {H("eventType", "Officer>Requested")}, ROUTE_DLQ,
     ROUTE_R_UNSAFE_TOKEN, "commands", "", "", NULL},
    {"type with a space", "t", NULL, "{}", {H("eventType", "Register OfficerRequested")},
     ROUTE_DLQ, ROUTE_R_UNSAFE_TOKEN, NULL, "", "", "whitespace"},
    {"type with a control character", "t", NULL, "{}", {H("eventType", "Register\nOfficerRequested")},
     ROUTE_DLQ, ROUTE_R_UNSAFE_TOKEN, NULL, "", "", NULL},
    {"type with invalid UTF-8", "t", NULL, "{}", {H("eventType", "Register\xff" "OfficerRequested")},
     ROUTE_DLQ, ROUTE_R_UNSAFE_TOKEN, NULL, "", "", NULL},
    {"unsafe aggregate id", "t", NULL, "{\"aggregateId\":\"a.b\"}",
     {H("eventType", "OfficerRegistered"), H("region", "n")}, ROUTE_DLQ, ROUTE_R_UNSAFE_TOKEN,
     "officer-registered", "", "", "{aggregate_id}"},
    {"unsafe header value in the subject", "t", NULL, "{\"aggregateId\":\"a\"}",
     {H("eventType", "OfficerRegistered"), H("region", ">")}, ROUTE_DLQ, ROUTE_R_UNSAFE_TOKEN,
     "officer-registered", "", "", "{header:region}"},
    {"unsafe JSON field", "t", NULL, "{\"data\":{\"severity\":\"hi gh\"}}",
     {H("eventType", "IncidentClosed")}, ROUTE_DLQ, ROUTE_R_UNSAFE_TOKEN, "by-field", "", "",
     NULL},
    {"unsafe JSON field via escape", "t", NULL, "{\"data\":{\"severity\":\"a\\u002eb\"}}",
     {H("eventType", "IncidentClosed")}, ROUTE_DLQ, ROUTE_R_UNSAFE_TOKEN, "by-field", "", "",
     NULL},
    {"unsafe key", "t", "a b", "{}", {H("eventType", "KeyedThing")}, ROUTE_DLQ,
     ROUTE_R_UNSAFE_TOKEN, "keyed", "", "", NULL},
    {"unsafe topic in the subject", "a.b", "k", "{}", {H("eventType", "KeyedThing")}, ROUTE_DLQ,
     ROUTE_R_UNSAFE_TOKEN, "keyed", "", "", "{topic}"},
    {"unsafe aggregate type", "t", NULL, "{\"aggregateType\":\"Patrol.Unit\"}",
     {H("eventType", "AssignPatrolUnitRequested")}, ROUTE_DLQ, ROUTE_R_UNSAFE_TOKEN, "commands",
     "", "", "aggregate type"},
    {"header value with a newline", "t", NULL, "{\"correlationId\":\"a\\nb\"}",
     {H("eventType", "RegisterOfficerRequested"), H("eventId", "e")}, ROUTE_DLQ,
     ROUTE_R_UNSAFE_TOKEN, "commands", "", "", "Correlation-Id"},

    /* Dedup IDs. */
    {"event ID with a space", "t", NULL, "{}",
     {H("eventType", "RegisterOfficerRequested"), H("eventId", "a b")}, ROUTE_DLQ,
     ROUTE_R_BAD_DEDUP_ID, "commands", "", "", NULL},
    {"event ID with a control character", "t", NULL, "{}",
     {H("eventType", "RegisterOfficerRequested"), H("eventId", "a\tb")}, ROUTE_DLQ,
     ROUTE_R_BAD_DEDUP_ID, "commands", "", "", NULL},
    {"missing event ID falls back to topic-partition-offset", "dom", NULL, "{}",
     {H("eventType", "RegisterOfficerRequested")}, ROUTE_JETSTREAM, ROUTE_R_NONE, "commands",
     "commands.officer.register", "dom-0-0", NULL},

    /* Hostile values. */
    {"invalid JSON needed for the type", "t", NULL, "{\"eventType\":", {{0}}, ROUTE_DLQ,
     ROUTE_R_BAD_ENVELOPE, NULL, "", "", "truncated"},
    {"garbage JSON needed for the type", "t", NULL, "\x01\x02garbage", {{0}}, ROUTE_DLQ,
     ROUTE_R_BAD_ENVELOPE, NULL, "", "", "not valid JSON"},
    {"trailing comma is not JSON", "t", NULL, "{\"eventType\":\"X\",}", {{0}}, ROUTE_DLQ,
     ROUTE_R_BAD_ENVELOPE, NULL, "", "", NULL},
    {"JSON array value", "t", NULL, "[1]", {{0}}, ROUTE_DLQ, ROUTE_R_BAD_ENVELOPE, NULL, "", "",
     "not a single object"},
    {"no type anywhere", "t", NULL, "{\"x\":1}", {{0}}, ROUTE_DLQ, ROUTE_R_NO_EVENT_TYPE, NULL, "",
     "", NULL},
    {"type of the wrong JSON kind", "t", NULL, "{\"eventType\":{\"a\":1}}", {{0}}, ROUTE_DLQ,
     ROUTE_R_NO_EVENT_TYPE, NULL, "", "", NULL},
    {"bad escape in the JSON type", "t", NULL, "{\"eventType\":\"a\\ud800\"}", {{0}}, ROUTE_DLQ,
     ROUTE_R_BAD_ENVELOPE, NULL, "", "", "escape"},
    {"tombstone without a type is skipped", "t", NULL, NULL, {{0}}, ROUTE_SKIP,
     ROUTE_R_NO_EVENT_TYPE, NULL, "", "", "tombstone"},
    {"tombstone with a header type is routed", "t", NULL, NULL,
     {H("eventType", "RegisterOfficerRequested"), H("eventId", "e")}, ROUTE_JETSTREAM,
     ROUTE_R_NONE, "commands", "commands.officer.register", "e", NULL},
    {"invalid JSON when a later field needs it", "t", NULL, "{oops",
     {H("eventType", "OfficerRegistered"), H("region", "n")}, ROUTE_DLQ, ROUTE_R_BAD_ENVELOPE,
     "officer-registered", "", "", NULL},
};
/* clang-format on */

static void build(route_event_t *ev, route_header_t *h, int i)
{
    size_t n = 0;

    for (; n < 6 && cases[i].hdr[n].name; n++)
        h[n] = (route_header_t){cases[i].hdr[n].name, cases[i].hdr[n].value,
                                strlen(cases[i].hdr[n].value)};
    *ev = (route_event_t){.topic = cases[i].topic,
                          .partition = 0,
                          .offset = 0,
                          .timestamp_ms = -1,
                          .key = cases[i].key,
                          .key_len = cases[i].key ? strlen(cases[i].key) : 0,
                          .value = cases[i].value,
                          .value_len = cases[i].value ? strlen(cases[i].value) : 0,
                          .headers = h,
                          .header_count = n};
}

START_TEST(routing_table)
{
    rules_t *r = load(fixture);
    route_header_t h[6];
    route_event_t ev;
    route_result_t *out = malloc(sizeof(*out));
    const char *w = cases[_i].what;

    build(&ev, h, _i);
    memset(out, 0xAA, sizeof(*out)); /* every field must be written, not inherited */
    ck_assert_int_eq(route_decide(r, &ev, out), out->action);
    ck_assert_msg(out->action == cases[_i].action, "%s: action %s, want %s (%s: %s)", w,
                  route_action_name(out->action), route_action_name(cases[_i].action),
                  route_reason_name(out->reason), out->detail);
    ck_assert_msg(out->reason == cases[_i].reason, "%s: reason %s, want %s (%s)", w,
                  route_reason_name(out->reason), route_reason_name(cases[_i].reason), out->detail);
    if (cases[_i].route)
        ck_assert_msg(out->route && !strcmp(out->route, cases[_i].route), "%s: route %s", w,
                      out->route ? out->route : "(null)");
    else
        ck_assert_msg(out->route == NULL, "%s: route %s", w, out->route);
    ck_assert_msg(!strcmp(out->subject, cases[_i].subject), "%s: subject '%s'", w, out->subject);
    ck_assert_msg(!strcmp(out->dedup_id, cases[_i].dedup), "%s: dedup '%s'", w, out->dedup_id);
    if (cases[_i].detail)
        ck_assert_msg(strstr(out->detail, cases[_i].detail), "%s: detail '%s'", w, out->detail);
    if (out->reason == ROUTE_R_NONE)
        ck_assert_str_eq(out->detail, "");
    else
        ck_assert_msg(out->detail[0] || out->reason == ROUTE_R_SKIP_RULE, "%s: no detail", w);
    ck_assert(memchr(out->event_type, '\0', sizeof(out->event_type)));
    free(out);
    rules_unref(r);
}
END_TEST

START_TEST(extra_headers_are_rendered_and_missing_ones_left_out)
{
    rules_t *r = load(fixture);
    route_result_t out;
    route_header_t h[] = {{"eventType", "RegisterOfficerRequested", 24}, {"eventId", "e", 1}};
    route_event_t ev = {
        .topic = "t", .value = "{\"correlationId\":\"corr-1\"}", .headers = h, .header_count = 2};

    ev.value_len = strlen(ev.value);
    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_JETSTREAM);
    ck_assert_uint_eq(out.header_count, 2);
    ck_assert_str_eq(out.headers[0].name, "Correlation-Id");
    ck_assert_str_eq(out.headers[0].value, "corr-1");
    ck_assert_str_eq(out.headers[1].name, "Event-Type");
    ck_assert_str_eq(out.headers[1].value, "type=RegisterOfficerRequested");
    ck_assert_int_eq(out.critical, 1);

    ev.value = "{}";
    ev.value_len = 2;
    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_JETSTREAM);
    ck_assert_uint_eq(out.header_count, 1); /* no correlation ID: header left out */
    ck_assert_str_eq(out.headers[0].name, "Event-Type");
    rules_unref(r);
}
END_TEST

START_TEST(header_typed_events_never_parse_json)
{
    rules_t *r = load(fixture);
    route_result_t out;
    /* Value is not JSON: any parse would turn the decision into bad_envelope. */
    route_header_t h[] = {{"eventType", "KeyedThing", 10}, {"eventId", "e-1", 3}};
    route_header_t h2[] = {{"eventType", "OfficerUpdated", 14}};
    route_header_t h3[] = {{"eventType", "PoisonPill", 10}};
    route_event_t ev = {.topic = "t",
                        .key = "k",
                        .key_len = 1,
                        .value = "not json {",
                        .value_len = 10,
                        .headers = h,
                        .header_count = 2};
    unsigned long before = envelope_json_parse_count();

    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_JETSTREAM);
    ck_assert_str_eq(out.dedup_id, "e-1");
    ev.headers = h2;
    ev.header_count = 1;
    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_SKIP);
    ck_assert_int_eq(out.reason, ROUTE_R_UNMATCHED);
    ev.headers = h3;
    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_DLQ);
    ck_assert_int_eq(out.reason, ROUTE_R_DLQ_RULE);
    ck_assert_uint_eq(envelope_json_parse_count(), before);
    rules_unref(r);
}
END_TEST

START_TEST(json_is_parsed_at_most_once_per_event)
{
    rules_t *r = load(fixture);
    route_result_t out;
    const char *v = "{\"eventType\":\"CloseIncidentNow\",\"aggregateType\":\"Incident\","
                    "\"causationId\":\"c\",\"eventId\":\"e\"}";
    route_event_t ev = {.topic = "t", .value = v, .value_len = strlen(v)};
    unsigned long before = envelope_json_parse_count();

    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_JETSTREAM);
    ck_assert_uint_eq(envelope_json_parse_count(), before + 1);
    rules_unref(r);
}
END_TEST

START_TEST(same_event_same_decision)
{
    rules_t *r = load(fixture);
    route_result_t a, b;
    route_header_t h[] = {{"eventType", "RegisterOfficerRequested", 24}};
    route_event_t ev = {.topic = "dom",
                        .partition = 4,
                        .offset = 77,
                        .value = "{}",
                        .value_len = 2,
                        .headers = h,
                        .header_count = 1};

    route_decide(r, &ev, &a);
    route_decide(r, &ev, &b);
    ck_assert_str_eq(a.dedup_id, "dom-4-77");
    ck_assert_str_eq(a.dedup_id, b.dedup_id);
    ck_assert_str_eq(a.subject, b.subject);
    rules_unref(r);
}
END_TEST

static route_action_t decide_with_type(rules_t *r, const char *type, size_t len,
                                       route_result_t *out)
{
    route_header_t h[] = {{"eventType", type, len}};
    route_event_t ev = {
        .topic = "t", .value = "{}", .value_len = 2, .headers = h, .header_count = 1};
    return route_decide(r, &ev, out);
}

START_TEST(ten_kilobyte_event_type_is_dead_lettered)
{
    rules_t *r = load(fixture);
    route_result_t out;
    size_t n = 10 * 1024;
    char *t = malloc(n);

    memset(t, 'A', n);
    memcpy(t + n - 9, "Requested", 9);
    ck_assert_int_eq(decide_with_type(r, t, n, &out), ROUTE_DLQ);
    ck_assert_int_eq(out.reason, ROUTE_R_UNSAFE_TOKEN);
    ck_assert_ptr_nonnull(strstr(out.detail, "10240 bytes"));
    ck_assert_uint_eq(strlen(out.event_type), ROUTE_EVENT_TYPE_MAX); /* truncated copy */
    free(t);
    rules_unref(r);
}
END_TEST

START_TEST(header_value_with_nul_is_rejected)
{
    rules_t *r = load(fixture);
    route_result_t out;

    ck_assert_int_eq(decide_with_type(r, "Register\0OfficerRequested", 25, &out), ROUTE_DLQ);
    ck_assert_int_eq(out.reason, ROUTE_R_UNSAFE_TOKEN);
    rules_unref(r);
}
END_TEST

START_TEST(ten_megabyte_value_is_dead_lettered_without_parsing)
{
    rules_t *r = load(fixture);
    route_result_t out;
    size_t n = 10u << 20;
    char *v = malloc(n);
    route_event_t ev = {.topic = "t", .value = v, .value_len = n};

    memset(v, ' ', n);
    memcpy(v, "{\"eventType\":\"RegisterOfficerRequested\",\"x\":\"", 45);
    memset(v + 45, 'x', n - 47);
    memcpy(v + n - 2, "\"}", 2);
    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_DLQ);
    ck_assert_int_eq(out.reason, ROUTE_R_BAD_ENVELOPE);
    ck_assert_ptr_nonnull(strstr(out.detail, "max_json_bytes"));
    free(v);
    rules_unref(r);
}
END_TEST

START_TEST(deep_nesting_is_dead_lettered)
{
    rules_t *r = load(fixture);
    route_result_t out;
    size_t depth = 20000, n = 0; /* 40 KB: under max_json_bytes, far over the tokens */
    char *v = malloc(2 * depth + 64);
    route_event_t ev = {.topic = "t"};

    n += (size_t)sprintf(v, "{\"eventType\":\"X\",\"d\":");
    for (size_t i = 0; i < depth; i++)
        v[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        v[n++] = ']';
    v[n++] = '}';
    ev.value = v;
    ev.value_len = n;
    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_DLQ);
    ck_assert_msg(out.reason == ROUTE_R_BAD_ENVELOPE, "%s", out.detail);
    ck_assert_msg(strstr(out.detail, "max_json_tokens") != NULL, "%s", out.detail);
    free(v);
    rules_unref(r);
}
END_TEST

START_TEST(overlong_event_id_is_a_bad_dedup_id)
{
    rules_t *r = load(fixture);
    route_result_t out;
    char id[ROUTE_DEDUP_MAX + 2];
    route_header_t h[] = {{"eventType", "RegisterOfficerRequested", 24}, {"eventId", id, 0}};
    route_event_t ev = {
        .topic = "t", .value = "{}", .value_len = 2, .headers = h, .header_count = 2};

    memset(id, 'i', sizeof(id));
    h[1].value_len = ROUTE_DEDUP_MAX;
    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_JETSTREAM);
    ck_assert_uint_eq(strlen(out.dedup_id), ROUTE_DEDUP_MAX);
    h[1].value_len = ROUTE_DEDUP_MAX + 1;
    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_DLQ);
    ck_assert_int_eq(out.reason, ROUTE_R_BAD_DEDUP_ID);
    rules_unref(r);
}
END_TEST

START_TEST(subject_never_exceeds_the_limit)
{
    const char *y = "limits: {max_subject: 20}\nroutes:\n  - name: r\n"
                    "    subject: 'events.{aggregate_id}'\n";
    rules_t *r = load(y);
    route_result_t out;
    route_header_t h[] = {{"eventType", "A", 1}};
    char v[128];
    route_event_t ev = {.topic = "t", .value = v, .headers = h, .header_count = 1};

    ev.value_len = (size_t)snprintf(v, sizeof(v), "{\"aggregateId\":\"%s\"}", "abcdefghijklm");
    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_JETSTREAM);
    ck_assert_str_eq(out.subject, "events.abcdefghijklm"); /* exactly 20 */
    ev.value_len = (size_t)snprintf(v, sizeof(v), "{\"aggregateId\":\"%s\"}", "abcdefghijklmn");
    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_DLQ);
    ck_assert_int_eq(out.reason, ROUTE_R_SUBJECT_TOO_LONG);
    ck_assert_str_eq(out.subject, "");
    rules_unref(r);
}
END_TEST

START_TEST(unmatched_policy_dlq)
{
    const char *y = "unmatched: dlq\nroutes:\n  - name: r\n    match: {type: A}\n"
                    "    action: skip\n";
    rules_t *r = load(y);
    route_result_t out;

    ck_assert_int_eq(decide_with_type(r, "B", 1, &out), ROUTE_DLQ);
    ck_assert_int_eq(out.reason, ROUTE_R_UNMATCHED);
    ck_assert_int_eq(decide_with_type(r, "A", 1, &out), ROUTE_SKIP);
    ck_assert_int_eq(out.reason, ROUTE_R_SKIP_RULE);
    ck_assert_str_eq(out.route, "r");
    rules_unref(r);
}
END_TEST

START_TEST(declared_json_path_sources_are_used)
{
    const char *y = "envelope:\n  event_type: [{json: metadata.type}]\n"
                    "  event_id: [{json: metadata.id}]\n"
                    "routes:\n  - name: r\n    match: {type_glob: 'Officer*'}\n"
                    "    subject: 'events.{event}'\n";
    rules_t *r = load(y);
    route_result_t out;
    const char *v =
        "{\"metadata\":{\"type\":\"OfficerHired\",\"id\":\"m-1\"},\"eventType\":\"No\"}";
    route_header_t h[] = {{"eventType", "Ignored", 7}};
    route_event_t ev = {
        .topic = "t", .value = v, .value_len = strlen(v), .headers = h, .header_count = 1};

    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_JETSTREAM);
    ck_assert_str_eq(out.subject, "events.officer-hired");
    ck_assert_str_eq(out.dedup_id, "m-1");
    rules_unref(r);
}
END_TEST

/* ordering: which chain an event waits in. */
static const char ordering_rules[] =
    "envelope:\n  event_type: [{header: eventType}]\n  aggregate_id: [{json: aggregateId}]\n"
    "routes:\n"
    "  - {name: strict, match: {type: S}, subject: s.x, ordering: partition}\n"
    "  - {name: loose, match: {type: L}, subject: l.x, ordering: none}\n"
    "  - {name: keyed, match: {type: K}, subject: k.x, dedup: offset}\n";

static route_action_t decide_keyed(rules_t *r, const char *type, const char *key, const char *value,
                                   route_result_t *out)
{
    route_header_t h[] = {{"eventType", type, strlen(type)}};
    route_event_t ev = {.topic = "t",
                        .key = key,
                        .key_len = key ? strlen(key) : 0,
                        .value = value,
                        .value_len = value ? strlen(value) : 0,
                        .headers = h,
                        .header_count = 1};
    return route_decide(r, &ev, out);
}

START_TEST(key_ordering_is_the_default_and_uses_the_kafka_key)
{
    rules_t *r = load(ordering_rules);
    route_result_t a, b, c;

    ck_assert_int_eq(decide_keyed(r, "K", "off-1", "{}", &a), ROUTE_JETSTREAM);
    ck_assert_int_eq(a.ordering, ROUTE_ORDER_KEY);
    ck_assert_str_eq(a.order_by, "kafka_key");
    ck_assert_uint_gt(a.order_key, 1);
    decide_keyed(r, "K", "off-1", "{\"aggregateId\":\"zzz\"}", &b);
    ck_assert_uint_eq(b.order_key, a.order_key); /* the key wins over the aggregate */
    decide_keyed(r, "K", "off-2", "{}", &c);
    ck_assert_uint_ne(c.order_key, a.order_key);
    rules_unref(r);
}
END_TEST

START_TEST(key_ordering_falls_back_to_the_aggregate_id_then_to_none)
{
    rules_t *r = load(ordering_rules);
    route_result_t a, b, c, d;

    decide_keyed(r, "K", NULL, "{\"aggregateId\":\"off-1\"}", &a);
    ck_assert_str_eq(a.order_by, "aggregate_id");
    decide_keyed(r, "K", "off-1", "{}", &b);
    ck_assert_uint_eq(a.order_key, b.order_key); /* same text, same chain */
    ck_assert_int_eq(decide_keyed(r, "K", NULL, "{}", &c), ROUTE_JETSTREAM);
    ck_assert_uint_eq(c.order_key, 0);
    ck_assert_ptr_null(c.order_by);
    /* A value that does not parse: still published (the type is a header), unordered. */
    ck_assert_int_eq(decide_keyed(r, "K", NULL, "{not json", &d), ROUTE_JETSTREAM);
    ck_assert_uint_eq(d.order_key, 0);
    ck_assert_str_eq(d.detail, "");
    rules_unref(r);
}
END_TEST

START_TEST(partition_ordering_puts_every_event_in_one_chain_and_none_in_none)
{
    rules_t *r = load(ordering_rules);
    route_result_t a, b;

    decide_keyed(r, "S", "off-1", "{}", &a);
    ck_assert_int_eq(a.ordering, ROUTE_ORDER_PARTITION);
    ck_assert_uint_eq(a.order_key, 1);
    decide_keyed(r, "L", "off-1", "{}", &b);
    ck_assert_int_eq(b.ordering, ROUTE_ORDER_NONE);
    ck_assert_uint_eq(b.order_key, 0);
    rules_unref(r);
}
END_TEST

START_TEST(file_wide_ordering_is_inherited_by_routes_without_their_own)
{
    rules_t *r = load("ordering: none\nenvelope:\n  event_type: [{header: eventType}]\n"
                      "routes:\n  - {name: a, match: {type: A}, subject: a.x}\n"
                      "  - {name: b, match: {type: B}, subject: b.x, ordering: key}\n");
    route_result_t a, b;

    decide_keyed(r, "A", "k", NULL, &a);
    ck_assert_int_eq(a.ordering, ROUTE_ORDER_NONE);
    ck_assert_uint_eq(a.order_key, 0);
    decide_keyed(r, "B", "k", NULL, &b);
    ck_assert_int_eq(b.ordering, ROUTE_ORDER_KEY);
    ck_assert_uint_gt(b.order_key, 1);
    rules_unref(r);
}
END_TEST

START_TEST(names_cover_every_value)
{
    for (int a = 0; a < ROUTE__COUNT; a++)
        ck_assert_str_ne(route_action_name((route_action_t)a), "unknown");
    for (int x = 0; x < ROUTE_R__COUNT; x++)
        ck_assert_str_ne(route_reason_name((route_reason_t)x), "unknown");
    ck_assert_str_eq(route_action_name(ROUTE__COUNT), "unknown");
    ck_assert_str_eq(route_reason_name(ROUTE_R__COUNT), "unknown");
    ck_assert_str_eq(route_reason_name(ROUTE_R_NO_DOMAIN), "no_domain");
    for (int o = 0; o < ROUTE_ORDER__COUNT; o++)
        ck_assert_str_ne(route_ordering_name((route_ordering_t)o), "unknown");
    ck_assert_str_eq(route_ordering_name(ROUTE_ORDER__COUNT), "unknown");
}
END_TEST

/* explain: each header left out names the variable the event lacks. */
START_TEST(headers_left_out_name_the_missing_variable)
{
    rules_t *r = load(fixture);
    route_result_t out;
    route_header_t h[] = {{"eventType", "RegisterOfficerRequested", 24}, {"eventId", "e", 1}};
    route_event_t ev = {
        .topic = "t", .value = "{}", .value_len = 2, .headers = h, .header_count = 2};
    char why[512];

    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_JETSTREAM);
    ck_assert_uint_eq(route_headers_left_out(r, &ev, &out, why, sizeof(why)), 1);
    ck_assert_str_eq(why, "Correlation-Id: the event has no value for {correlation_id} (no "
                          "declared source has a value)\n");
    /* With the value, nothing is left out. */
    ev.value = "{\"correlationId\":\"c-1\"}";
    ev.value_len = strlen(ev.value);
    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_JETSTREAM);
    ck_assert_uint_eq(route_headers_left_out(r, &ev, &out, why, sizeof(why)), 0);
    ck_assert_str_eq(why, "");
    rules_unref(r);
}
END_TEST

/* explain: the routes that took the type but not the topic or a header. */
START_TEST(near_misses_name_the_topic_and_header_conditions)
{
    rules_t *r = load("domains: [officer]\n"
                      "routes:\n"
                      "  - name: dispatch\n"
                      "    match: {type_suffix: Requested, topic: 'dispatch.*'}\n"
                      "    subject: 'commands.{domain}.{action}'\n"
                      "  - name: regional\n"
                      "    match: {type_suffix: Requested, headers: [{name: region, value: "
                      "'north-*'}]}\n"
                      "    subject: 'regional.{domain}.{action}'\n"
                      "  - name: other\n"
                      "    match: {type: Other}\n"
                      "    action: skip\n");
    route_result_t out;
    route_header_t h[] = {{"eventType", "RegisterOfficerRequested", 24}, {"region", "south", 5}};
    route_event_t ev = {
        .topic = "other", .value = "{}", .value_len = 2, .headers = h, .header_count = 2};
    char why[1024];

    ck_assert_int_eq(route_decide(r, &ev, &out), ROUTE_SKIP);
    ck_assert_int_eq(out.reason, ROUTE_R_UNMATCHED);
    ck_assert_uint_eq(route_near_misses(r, &ev, out.event_type, why, sizeof(why)), 2);
    ck_assert_msg(strstr(why, "route 'dispatch' takes the type, but not the topic 'other' "
                              "(match.topic: 'dispatch.*')\n"),
                  "%s", why);
    ck_assert_msg(strstr(why, "route 'regional' takes the type, but header 'region' is 'south', "
                              "not 'north-*'"),
                  "%s", why);
    ev.header_count = 1; /* no region header at all */
    route_near_misses(r, &ev, out.event_type, why, sizeof(why));
    ck_assert_msg(strstr(why, "route 'regional' takes the type, but the record has no header "
                              "'region'"),
                  "%s", why);
    /* No type matcher takes it: 0, and no lines. */
    ck_assert_uint_eq(route_near_misses(r, &ev, "Nothing", why, sizeof(why)), 0);
    ck_assert_str_eq(why, "");
    rules_unref(r);
}
END_TEST

/* explain: a one-line fix for every reason that dead-letters, and unmatched. */
START_TEST(every_dead_letter_reason_has_a_fix)
{
    for (int x = 0; x < ROUTE_R__COUNT; x++) {
        const char *fix = route_reason_fix((route_reason_t)x);
        if (x == ROUTE_R_NONE || x == ROUTE_R_SKIP_RULE) {
            ck_assert_ptr_null(fix);
            continue;
        }
        ck_assert_msg(fix && *fix && !strchr(fix, '\n'), "%s: no one-line fix",
                      route_reason_name((route_reason_t)x));
    }
    ck_assert_msg(strstr(route_reason_fix(ROUTE_R_NO_DOMAIN), "'domains:'") != NULL, "no_domain");
    ck_assert_ptr_null(route_reason_fix(ROUTE_R__COUNT));
}
END_TEST

#define NROWS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *route_suite(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, routing_table, 0, NROWS(cases));
    tcase_add_test(tc, extra_headers_are_rendered_and_missing_ones_left_out);
    tcase_add_test(tc, header_typed_events_never_parse_json);
    tcase_add_test(tc, json_is_parsed_at_most_once_per_event);
    tcase_add_test(tc, same_event_same_decision);
    tcase_add_test(tc, ten_kilobyte_event_type_is_dead_lettered);
    tcase_add_test(tc, header_value_with_nul_is_rejected);
    tcase_add_test(tc, ten_megabyte_value_is_dead_lettered_without_parsing);
    tcase_add_test(tc, deep_nesting_is_dead_lettered);
    tcase_add_test(tc, overlong_event_id_is_a_bad_dedup_id);
    tcase_add_test(tc, subject_never_exceeds_the_limit);
    tcase_add_test(tc, unmatched_policy_dlq);
    tcase_add_test(tc, declared_json_path_sources_are_used);
    tcase_add_test(tc, names_cover_every_value);
    tcase_add_test(tc, headers_left_out_name_the_missing_variable);
    tcase_add_test(tc, near_misses_name_the_topic_and_header_conditions);
    tcase_add_test(tc, every_dead_letter_reason_has_a_fix);
    tcase_add_test(tc, key_ordering_is_the_default_and_uses_the_kafka_key);
    tcase_add_test(tc, key_ordering_falls_back_to_the_aggregate_id_then_to_none);
    tcase_add_test(tc, partition_ordering_puts_every_event_in_one_chain_and_none_in_none);
    tcase_add_test(tc, file_wide_ordering_is_inherited_by_routes_without_their_own);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(route_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
