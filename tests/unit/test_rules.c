/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for rules.c: every validation error (with its line:col and
 * message), that every error is reported rather than only the first, that a
 * file with any error yields no rule set, the shipped rule files, the hash,
 * accessors and reference counting.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#define ROUTE_OK "routes:\n  - name: ok\n    match: {type: A}\n    action: skip\n"

static const struct {
    const char *what;
    const char *yaml;
    int line, col;    /* of the first diagnostic; 0: not checked */
    const char *text; /* substring of the first diagnostic */
} error_cases[] = {
    {"unknown top-level key, with a suggestion", "domain: [x]\n" ROUTE_OK, 1, 1,
     "unknown key 'domain' (did you mean 'domains'?)"},
    {"unknown key in a route names the route",
     "domains: [officer]\nroutes:\n  - name: officer\n    match:\n      type_suffix: Requested\n"
     "    subjct: 'commands.{domain}.{action}'\n",
     6, 5, "unknown key 'subjct' in route 'officer' (did you mean 'subject'?)"},
    {"unknown key under match", "routes:\n  - name: r\n    match: {typ: A}\n    action: skip\n", 3,
     13, "unknown key 'typ' under 'match' in route 'r' (did you mean 'type'?)"},
    {"wrong type: list for a string",
     "routes:\n  - name: r\n    match: {type: A}\n    subject: [a, b]\n", 4, 14,
     "'subject' must be a string, not a list"},
    {"wrong type: scalar for a list", "routes: nope\n", 1, 9, "'routes' must be a list"},
    {"wrong type: not a boolean", "routes:\n  - name: r\n    action: skip\n    critical: maybe\n",
     4, 15, "'maybe' is not a boolean for 'critical'"},
    {"wrong type: not a number", "limits: {max_json_bytes: lots}\n" ROUTE_OK, 1, 26,
     "'lots' is not a valid non-negative number"},
    {"bad action", "routes:\n  - name: r\n    action: publish\n", 3, 13,
     "invalid value 'publish' for 'action'"},
    {"bad dedup with suggestion", "routes:\n  - name: r\n    subject: a.b\n    dedup: eventid\n", 4,
     12, "did you mean 'event_id'?"},
    {"bad unmatched policy", "unmatched: drop\n" ROUTE_OK, 1, 12, "(one of: skip, dlq)"},
    {"bad file-wide ordering", "ordering: keys\n" ROUTE_OK, 1, 11,
     "invalid value 'keys' for 'ordering'"},
    {"bad route ordering with suggestion",
     "routes:\n  - name: r\n    subject: a.b\n    ordering: partiton\n", 4, 15,
     "did you mean 'partition'?"},
    {"skip route with an ordering", "routes:\n  - name: r\n    action: skip\n    ordering: key\n",
     4, 5, "publishes nothing, so it takes no ordering"},
    {"missing route name", "routes:\n  - action: skip\n", 2, 5, "missing required key 'name'"},
    {"missing routes", "domains: [a]\n", 1, 1, "missing required key 'routes'"},
    {"empty routes", "routes: []\n", 1, 9, "'routes' needs at least 1 entry"},
    {"duplicate key", "routes:\n  - name: r\n    action: skip\n    action: dlq\n", 4, 5,
     "duplicate key 'action'"},
    {"YAML syntax error", "routes:\n  - name: 'r\n", 3, 1, "YAML syntax error"},
    {"empty file", "", 1, 1, "the rule file is empty"},
    {"aliases", "x: &a 1\n" ROUTE_OK, 0, 0, "unknown key 'x'"},
    {"alias value", "routes:\n  - name: &n r\n    action: skip\n  - name: *n\n    action: skip\n",
     4, 11, "aliases are not supported"},
    {"unknown template variable", "routes:\n  - name: r\n    subject: 'events.{evnt}'\n", 3, 14,
     "unknown variable '{evnt}' in template 'events.{evnt}' in route 'r' (did you mean 'event'?)"},
    {"unterminated variable", "routes:\n  - name: r\n    subject: 'events.{event'\n", 3, 14,
     "unterminated variable"},
    {"unbalanced close brace", "routes:\n  - name: r\n    subject: 'events.event}'\n", 3, 14,
     "unbalanced '}'"},
    {"subject without a literal first token",
     "domains: [a]\nroutes:\n  - name: r\n    subject: '{domain}.x'\n", 4, 14,
     "must start with a literal token"},
    {"subject with a wildcard", "routes:\n  - name: r\n    subject: 'events.*'\n", 3, 14,
     "character '*' (0x2a) is not allowed in subject"},
    {"subject with a space", "routes:\n  - name: r\n    subject: 'events.a b'\n", 3, 14,
     "character ' ' (0x20) is not allowed"},
    {"subject with an empty token", "routes:\n  - name: r\n    subject: 'events..{event}'\n", 3, 14,
     "has an empty token"},
    {"subject ending in a dot", "routes:\n  - name: r\n    subject: 'events.{event}.'\n", 3, 14,
     "has an empty token"},
    {"empty header name in a template", "routes:\n  - name: r\n    subject: 'events.{header:}'\n",
     3, 14, "unknown variable"},
    {"bad field path", "routes:\n  - name: r\n    subject: 'events.{field:a..b}'\n", 3, 14,
     "empty segment in JSON path 'a..b'"},
    {"{domain} without domains:",
     "routes:\n  - name: r\n    subject: 'commands.{domain}.{action}'\n", 3, 14,
     "uses {domain} but the file has no 'domains:' list"},
    {"{action} without domains:", "routes:\n  - name: r\n    subject: 'commands.{action}'\n", 3, 14,
     "uses {action} but the file has no 'domains:' list"},
    {"duplicate route names",
     "routes:\n  - name: r\n    match: {type: A}\n    action: skip\n  - name: r\n"
     "    match: {type: B}\n    action: skip\n",
     5, 11, "route 'r' is defined twice (first defined on line 2)"},
    {"route after a catch-all",
     "routes:\n  - name: all\n    action: skip\n  - name: late\n    match: {type: A}\n"
     "    action: dlq\n",
     4, 11, "route 'late' can never match (route 'all' (line 2) has no conditions"},
    {"exact type covered by an earlier suffix route",
     "domains: [officer]\nroutes:\n  - name: cmds\n    match: {type_suffix: Requested}\n"
     "    subject: 'c.{domain}.{action}'\n  - name: reg\n"
     "    match: {type: RegisterOfficerRequested, topic: x}\n    action: skip\n",
     6, 11, "route 'reg' can never match (route 'cmds' (line 3) matches every event"},
    {"exact type covered by an earlier prefix route",
     "routes:\n  - name: t\n    match: {type_prefix: Test}\n    action: dlq\n  - name: x\n"
     "    match: {type: TestThing}\n    action: skip\n",
     5, 11, "route 'x' can never match"},
    {"exact type covered by an earlier glob route",
     "routes:\n  - name: g\n    match: {type_glob: 'Unit*Changed'}\n    action: skip\n"
     "  - name: x\n    match: {type: UnitPositionChanged}\n    action: dlq\n",
     5, 11, "route 'x' can never match"},
    {"longer prefix covered by a shorter one",
     "routes:\n  - name: a\n    match: {type_prefix: Unit}\n    action: skip\n  - name: b\n"
     "    match: {type_prefix: UnitGps}\n    action: dlq\n",
     5, 11, "route 'b' can never match"},
    {"two type matchers in one route",
     "routes:\n  - name: r\n    match: {type: A, type_suffix: B}\n    action: skip\n", 3, 22,
     "only one of type/type_prefix/type_suffix/type_glob"},
    {"empty type", "routes:\n  - name: r\n    match: {type: ''}\n    action: skip\n", 3, 19,
     "empty 'type'"},
    {"skip route with a subject", "routes:\n  - name: r\n    action: skip\n    subject: a.b\n", 4,
     5, "publishes nothing, so it takes no subject"},
    {"publishing route without a subject", "routes:\n  - name: r\n    action: jetstream\n", 2, 5,
     "route 'r' publishes but has no 'subject'"},
    {"domain not kebab-case", "domains: [Officer]\n" ROUTE_OK, 1, 11,
     "domain 'Officer' is not lower-case kebab-case (did you mean 'officer'?)"},
    {"domain listed twice", "domains: [a, a]\n" ROUTE_OK, 1, 14, "domain 'a' is listed twice"},
    {"envelope source with both header and json",
     "envelope:\n  event_type: [{header: a, json: b}]\n" ROUTE_OK, 2, 16,
     "needs exactly one of 'header' or 'json'"},
    {"envelope source with neither", "envelope:\n  event_type: [{}]\n" ROUTE_OK, 2, 16,
     "needs exactly one of 'header' or 'json'"},
    {"envelope field with no sources", "envelope:\n  event_id: []\n" ROUTE_OK, 2, 13,
     "needs at least 1 entry"},
    {"bad JSON path source", "envelope:\n  event_id: [{json: 'a.'}]\n" ROUTE_OK, 2, 14,
     "ends with '.'"},
    {"reserved header",
     "routes:\n  - name: r\n    subject: a.b\n    headers: [{name: Nats-Msg-Id, "
     "value: x}]\n",
     4, 22, "header 'Nats-Msg-Id' is reserved"},
    {"invalid header name",
     "routes:\n  - name: r\n    subject: a.b\n    headers: [{name: 'a b', value: x}]\n", 4, 22,
     "invalid header name 'a b'"},
    {"header value template with an unknown variable",
     "routes:\n  - name: r\n    subject: a.b\n    headers: [{name: X, value: '{nope}'}]\n", 4, 32,
     "unknown variable '{nope}'"},
    {"header without value", "routes:\n  - name: r\n    subject: a.b\n    headers: [{name: X}]\n",
     4, 15, "header 'X' has no 'value'"},
    {"bad route name", "routes:\n  - name: 'a b'\n    action: skip\n", 2, 11,
     "route name 'a b' is not a plain identifier"},
    {"unsupported version", "version: 2\n" ROUTE_OK, 1, 10, "unsupported version 2"},
    {"max_subject out of range", "limits: {max_subject: 1000}\n" ROUTE_OK, 1, 23,
     "max_subject must be"},
    {"max_json_tokens over the hard cap", "limits: {max_json_tokens: 100000}\n" ROUTE_OK, 1, 27,
     "max_json_tokens is at most"},
    {"test expecting an unknown action",
     ROUTE_OK "tests:\n  - name: t\n    event: {type: A}\n    expect: {action: publish}\n", 8, 22,
     "unknown action 'publish' in test 't'"},
    {"test expecting an unknown reason",
     ROUTE_OK "tests:\n  - name: t\n    event: {type: A}\n    expect: {reason: unmached}\n", 8, 22,
     "unknown reason 'unmached' in test 't' (did you mean 'unmatched'?)"},
    {"test expecting an unknown route",
     ROUTE_OK "tests:\n  - name: t\n    event: {type: A}\n    expect: {route: okk}\n", 8, 21,
     "no route named 'okk' in test 't' (did you mean 'ok'?)"},
    {"test without expect", ROUTE_OK "tests:\n  - name: t\n    event: {type: A}\n", 6, 5,
     "missing required key 'expect'"},
    {"tombstone with a value",
     ROUTE_OK "tests:\n  - name: t\n    event: {tombstone: true, value: '{}'}\n    expect: {}\n", 7,
     13, "a tombstone has no value"},
    {"bad strip suffix", "strip_suffixes: ['Re quested']\n" ROUTE_OK, 1, 18,
     "strip suffix 'Re quested' is not a name part"},
    {"two documents", ROUTE_OK "---\n" ROUTE_OK, 5, 1, "one YAML document"},
    /* {field:} and json: sources take dotted keys: JSONPath would pass
     * here and then miss the field in every event. */
    {"JSONPath root in a field variable", "routes:\n  - name: r\n    subject: 'a.{field:$.x}'\n", 3,
     14, "is JSONPath"},
    {"JSONPath subscript in a field variable",
     "routes:\n  - name: r\n    subject: a.b\n    headers: [{name: X, value: '{field:a[0].b}'}]\n",
     4, 32, "is JSONPath"},
    {"JSONPath in an envelope source", "envelope:\n  event_id: [{json: '$.id'}]\n" ROUTE_OK, 2, 14,
     "is JSONPath"},
    {"JSONPath subscript in an envelope source",
     "envelope:\n  event_type: [{json: 'data[0].type'}]\n" ROUTE_OK, 2, 16, "is JSONPath"},
    {"JSONPath wildcard in a field variable",
     "routes:\n  - name: r\n    subject: 'a.{field:items.*}'\n", 3, 14, "is JSONPath"},
    {"field path deeper than 8 levels",
     "routes:\n  - name: r\n    subject: 'a.{field:a.b.c.d.e.f.g.h.i}'\n", 3, 14,
     "has more than 8 segments"},
    {"field path with an empty first segment",
     "routes:\n  - name: r\n    subject: 'a.{field:.x}'\n", 3, 14, "empty segment"},
};

START_TEST(validation_error_is_reported_with_position)
{
    rules_diags_t d = {0};
    rules_t *r = (rules_t *)1;
    const char *y = error_cases[_i].yaml;
    char line[1024];
    int rc = rules_load_buffer("t.yaml", y, strlen(y), &r, &d);

    ck_assert_msg(rc == -1, "%s: loaded", error_cases[_i].what);
    ck_assert_ptr_null(r);
    ck_assert_msg(d.count >= 1, "%s: no diagnostic", error_cases[_i].what);
    rules_diag_format(&d.items[0], line, sizeof(line));
    ck_assert_msg(strstr(d.items[0].msg, error_cases[_i].text) != NULL, "%s: got '%s'",
                  error_cases[_i].what, line);
    if (error_cases[_i].line) {
        ck_assert_msg(d.items[0].line == error_cases[_i].line &&
                          d.items[0].col == error_cases[_i].col,
                      "%s: at %d:%d, want %d:%d ('%s')", error_cases[_i].what, d.items[0].line,
                      d.items[0].col, error_cases[_i].line, error_cases[_i].col, line);
    }
    ck_assert_int_eq(d.items[0].warning, 0);
    rules_diags_clear(&d);
}
END_TEST

START_TEST(every_schema_error_is_reported)
{
    const char *y = "domain: [x]\nunmatched: maybe\nroutes:\n  - name: a\n    subjct: x\n"
                    "    critical: 7\n  - nam: b\n";
    rules_diags_t d = {0};
    rules_t *r = NULL;

    ck_assert_int_eq(rules_load_buffer("t.yaml", y, strlen(y), &r, &d), -1);
    /* domain, unmatched, subjct, critical, nam, missing name */
    ck_assert_uint_eq(d.count, 6);
    for (size_t i = 1; i < d.count; i++) /* sorted by position */
        ck_assert_int_ge(d.items[i].line, d.items[i - 1].line);
    rules_diags_clear(&d);
}
END_TEST

START_TEST(every_semantic_error_is_reported)
{
    const char *y = "routes:\n  - name: a\n    subject: 'x.{nope}'\n  - name: a\n"
                    "    subject: 'x..y'\n  - name: c\n    action: skip\n    subject: q.r\n";
    rules_diags_t d = {0};
    rules_t *r = NULL;

    ck_assert_int_eq(rules_load_buffer("t.yaml", y, strlen(y), &r, &d), -1);
    /* unknown variable; duplicate name; empty token; skip with subject */
    ck_assert_uint_ge(d.count, 4);
    rules_diags_clear(&d);
}
END_TEST

/* critical: on a route that publishes nothing is a warning, not silence. */
START_TEST(critical_on_a_route_that_does_not_publish_is_a_warning)
{
    const char *y = "routes:\n  - name: s\n    match: {type: A}\n    action: skip\n"
                    "    critical: true\n";
    rules_diags_t d = {0};
    rules_t *r = NULL;

    ck_assert_int_eq(rules_load_buffer("t.yaml", y, strlen(y), &r, &d), 0);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(d.count, 1);
    ck_assert_int_eq(d.items[0].warning, 1);
    ck_assert_int_eq(d.items[0].line, 5);
    ck_assert_int_eq(d.items[0].col, 5);
    ck_assert_ptr_nonnull(
        strstr(d.items[0].msg,
               "'critical' means nothing on a route that does not publish (action: skip)"));
    rules_unref(r);
    rules_diags_clear(&d);

    y = "routes:\n  - name: p\n    match: {type: P}\n    action: dlq\n    critical: true\n"
        "  - name: c\n    critical: true\n    subject: c.x\n";
    ck_assert_int_eq(rules_load_buffer("t.yaml", y, strlen(y), &r, &d), 0);
    ck_assert_uint_eq(d.count, 1); /* the publishing route's critical: is fine */
    ck_assert_int_eq(d.items[0].warning, 1);
    ck_assert_ptr_nonnull(strstr(d.items[0].msg, "(action: dlq)"));
    rules_unref(r);
    rules_diags_clear(&d);
}
END_TEST

/* {field:} and json: say what they take: dotted object keys, not JSONPath. */
START_TEST(jsonpath_is_refused_with_a_hint)
{
    static const struct {
        const char *yaml, *hint;
    } cases[] = {
        {"routes:\n  - name: r\n    subject: 'a.{field:$.officerId}'\n",
         "{field:} takes dotted object keys, e.g. {field:payload.officerId}; JSONPath ($, [n]) "
         "is not supported"},
        {"routes:\n  - name: r\n    subject: a.b\n    headers: [{name: X, value: "
         "'{field:payload.ids[0]}'}]\n",
         "{field:} takes dotted object keys, e.g. {field:payload.officerId}; JSONPath ($, [n]) "
         "is not supported"},
        {"envelope:\n  event_id: [{json: '$.id'}]\nroutes:\n  - name: ok\n    action: skip\n",
         "json: takes dotted object keys, e.g. {json: metadata.eventType}; JSONPath ($, [n]) is "
         "not supported"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rules_diags_t d = {0};
        rules_t *r = NULL;
        char line[1024];

        ck_assert_int_eq(rules_load_buffer("t.yaml", cases[i].yaml, strlen(cases[i].yaml), &r, &d),
                         -1);
        ck_assert_uint_eq(d.count, 1);
        rules_diag_format(&d.items[0], line, sizeof(line));
        ck_assert_msg(strstr(d.items[0].msg, cases[i].hint) != NULL, "%zu: %s", i, line);
        ck_assert_msg(strstr(line, "t.yaml:") == line && d.items[0].line > 0 && d.items[0].col > 0,
                      "%zu: %s", i, line);
        rules_diags_clear(&d);
    }
}
END_TEST

/* The deployment check's view of a route. */
START_TEST(route_info_says_where_each_route_is)
{
    const char *y = "routes:\n"
                    "  - name: c\n"                         /* 2 */
                    "    match: {type_suffix: Requested}\n" /* 3 */
                    "    critical: true\n"                  /* 4 */
                    "    subject: 'commands.{event}'\n"     /* 5 */
                    "  - name: fast\n"                      /* 6 */
                    "    action: nats\n"                    /* 7 */
                    "    match: {type: Ping}\n"             /* 8 */
                    "    subject: telemetry.ping\n"         /* 9 */
                    "  -   name: s\n"                       /* 10 */
                    "      action: skip\n";
    rules_diags_t d = {0};
    rules_t *r = NULL;
    rules_route_info_t ri;

    ck_assert_int_eq(rules_load_buffer("t.yaml", y, strlen(y), &r, &d), 0);
    ck_assert_int_eq(rules_route_info(r, 0, &ri), 0);
    ck_assert_str_eq(ri.name, "c");
    ck_assert_str_eq(ri.action, "jetstream");
    ck_assert_str_eq(ri.subject, "commands.{event}");
    ck_assert_int_eq(ri.critical, 1);
    ck_assert_int_eq(ri.line, 2);
    ck_assert_int_eq(ri.col, 5);
    ck_assert_int_eq(ri.subject_line, 5);
    ck_assert_int_eq(ri.subject_col, 14);
    ck_assert_int_eq(rules_route_info(r, 1, &ri), 0);
    ck_assert_str_eq(ri.action, "nats"); /* as the rule file spells it */
    ck_assert_str_eq(ri.subject, "telemetry.ping");
    ck_assert_int_eq(ri.critical, 0);
    ck_assert_int_eq(ri.line, 6);
    ck_assert_int_eq(ri.subject_line, 9);
    ck_assert_int_eq(rules_route_info(r, 2, &ri), 0);
    ck_assert_str_eq(ri.action, "skip");
    ck_assert_ptr_null(ri.subject);
    ck_assert_int_eq(ri.line, 10);
    ck_assert_int_eq(ri.col, 7);
    ck_assert_int_eq(ri.subject_line, 0);
    ck_assert_int_eq(ri.subject_col, 0);
    ri.name = "untouched";
    ck_assert_int_eq(rules_route_info(r, 3, &ri), -1);
    ck_assert_str_eq(ri.name, "untouched");
    rules_unref(r);
    rules_diags_clear(&d);
}
END_TEST

/* Why a rule set can dead-letter: the first reason, in the documented order. */
#define HDR_TYPE "envelope:\n  event_type: [{header: eventType}]\n"
static const struct {
    const char *what, *yaml, *why;
} dead_letter_cases[] = {
    {"a dlq route",
     HDR_TYPE "routes:\n  - name: ok\n    match: {type: A}\n    action: skip\n"
              "  - name: bad\n    match: {type: B}\n    action: dlq\n",
     "route 'bad' (t.yaml:7) has action: dlq"},
    {"unmatched: dlq",
     HDR_TYPE "routes:\n  - name: ok\n    match: {type: A}\n    action: skip\n"
              "unmatched: dlq\n",
     "t.yaml has unmatched: dlq"},
    {"subject tokens from the event, not unmatched when a catch-all comes first",
     HDR_TYPE "domains: [officer]\nroutes:\n  - name: commands\n    match: {type_suffix: "
              "Requested}\n    subject: 'commands.{domain}.{action}'\n  - name: rest\n"
              "    action: skip\nunmatched: dlq\n",
     "route 'commands' (t.yaml:5) takes subject tokens from the event (missing_field, "
     "unsafe_token, no_domain, subject_too_long)"},
    {"the event type read from JSON",
     "routes:\n  - name: fixed\n    match: {type: A}\n    subject: 'fixed.{partition}'\n",
     "the envelope reads JSON (bad_envelope)"},
    {"a publishing route with a fixed subject",
     HDR_TYPE "routes:\n  - name: fixed\n    match: {type: A}\n    subject: fixed.a\n",
     "route 'fixed' (t.yaml:4) publishes: a message JetStream refuses"},
    {"every route skip, no JSON: still the event type itself",
     HDR_TYPE "routes:\n  - name: all\n    action: skip\n",
     "a record without an event type, or with an unusable one, is dead-lettered before any "
     "route is tried (no_event_type, unsafe_token)"},
};

START_TEST(can_dead_letter_names_the_first_reason)
{
    const char *y = dead_letter_cases[_i].yaml;
    rules_diags_t d = {0};
    rules_t *r = NULL;
    char why[512];

    ck_assert_msg(rules_load_buffer("t.yaml", y, strlen(y), &r, &d) == 0, "%s: does not load",
                  dead_letter_cases[_i].what);
    memset(why, 'x', sizeof(why));
    ck_assert_int_eq(rules_can_dead_letter(r, why, sizeof(why)), 1);
    ck_assert_msg(strstr(why, dead_letter_cases[_i].why) == why, "%s: '%s'",
                  dead_letter_cases[_i].what, why);
    rules_unref(r);
    rules_diags_clear(&d);
}
END_TEST

START_TEST(glob_without_wildcard_is_a_warning_only)
{
    const char *y = "routes:\n  - name: g\n    match: {type_glob: Exact}\n    action: skip\n";
    rules_diags_t d = {0};
    rules_t *r = NULL;

    ck_assert_int_eq(rules_load_buffer("t.yaml", y, strlen(y), &r, &d), 0);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(d.count, 1);
    ck_assert_int_eq(d.items[0].warning, 1);
    rules_unref(r);
    rules_diags_clear(&d);
}
END_TEST

static const char *const shipped[] = {"rules/default.yaml", "rules/examples/large.yaml"};

START_TEST(shipped_rule_files_load_cleanly)
{
    char path[1024];
    rules_diags_t d = {0};
    rules_t *r = NULL;

    snprintf(path, sizeof(path), "%s/%s", ER_SOURCE_DIR, shipped[_i]);
    ck_assert_int_eq(rules_load_file(path, &r, &d), 0);
    ck_assert_uint_eq(d.count, 0);
    ck_assert_uint_ge(rules_route_count(r), 1);
    ck_assert_uint_ge(rules_test_count(r), 1);
    rules_unref(r);
}
END_TEST

START_TEST(default_rules_follow_the_seed)
{
    char path[1024];
    rules_t *r = NULL;
    rules_source_kind_t kind;
    const char *name;

    snprintf(path, sizeof(path), "%s/rules/default.yaml", ER_SOURCE_DIR);
    ck_assert_int_eq(rules_load_file(path, &r, NULL), 0);
    ck_assert_str_eq(rules_route_subject_prefix(r, 0), "commands.");
    ck_assert_str_eq(rules_route_name(r, 0), "commands");
    ck_assert_ptr_null(rules_route_name(r, 99));
    ck_assert_int_eq(rules_field_source(r, RULES_F_EVENT_TYPE, 0, &kind, &name), 0);
    ck_assert_int_eq(kind, RULES_SRC_HEADER);
    ck_assert_str_eq(name, "eventType");
    ck_assert_int_eq(rules_field_source(r, RULES_F_EVENT_TYPE, 1, &kind, &name), 0);
    ck_assert_str_eq(name, "ce_type");
    ck_assert_int_eq(rules_field_source(r, RULES_F_EVENT_TYPE, 2, &kind, &name), 0);
    ck_assert_int_eq(kind, RULES_SRC_JSON);
    ck_assert_str_eq(name, "eventType");
    ck_assert_int_eq(rules_field_source(r, RULES_F_EVENT_TYPE, 3, &kind, &name), -1);
    ck_assert_int_eq(rules_field_source(r, RULES_F_EVENT_ID, 0, &kind, &name), 0);
    ck_assert_str_eq(name, "eventId");
    rules_unref(r);
}
END_TEST

START_TEST(missing_file_is_an_error_not_a_crash)
{
    rules_diags_t d = {0};
    rules_t *r = NULL;
    char line[512];

    ck_assert_int_eq(rules_load_file("/nonexistent/rules.yaml", &r, &d), -1);
    ck_assert_ptr_null(r);
    ck_assert_uint_eq(d.count, 1);
    ck_assert_str_eq(rules_diag_format(&d.items[0], line, sizeof(line)),
                     "/nonexistent/rules.yaml: error: cannot open: No such file or directory");
    rules_diags_clear(&d);
}
END_TEST

START_TEST(diagnostic_format_is_file_line_col)
{
    rules_diag_t d = {.file = "r.yaml", .line = 14, .col = 5, .msg = "bad"};
    char buf[64];

    ck_assert_str_eq(rules_diag_format(&d, buf, sizeof(buf)), "r.yaml:14:5: error: bad");
    d.warning = 1;
    ck_assert_str_eq(rules_diag_format(&d, buf, sizeof(buf)), "r.yaml:14:5: warning: bad");
}
END_TEST

START_TEST(hash_is_of_the_file_bytes)
{
    const char *a = ROUTE_OK, *b = ROUTE_OK "# comment\n";
    rules_t *ra, *ra2, *rb;

    ck_assert_int_eq(rules_load_buffer("a", a, strlen(a), &ra, NULL), 0);
    ck_assert_int_eq(rules_load_buffer("a2", a, strlen(a), &ra2, NULL), 0);
    ck_assert_int_eq(rules_load_buffer("b", b, strlen(b), &rb, NULL), 0);
    ck_assert_uint_eq(strlen(rules_hash(ra)), 16);
    ck_assert_str_eq(rules_hash(ra), rules_hash(ra2));
    ck_assert_str_ne(rules_hash(ra), rules_hash(rb));
    /* FNV-1a 64 of "" is cbf29ce484222325; of "a" af63dc4c8601ec8c. */
    rules_unref(ra);
    rules_unref(ra2);
    rules_unref(rb);
}
END_TEST

START_TEST(references_keep_the_set_alive)
{
    rules_t *r = NULL;

    ck_assert_int_eq(rules_load_buffer("x.yaml", ROUTE_OK, strlen(ROUTE_OK), &r, NULL), 0);
    ck_assert_ptr_eq(rules_ref(r), r);
    rules_unref(r);
    ck_assert_str_eq(rules_path(r), "x.yaml"); /* still referenced once */
    rules_unref(r);
    rules_unref(NULL);
}
END_TEST

START_TEST(tests_entries_are_exposed)
{
    const char *y = ROUTE_OK "tests:\n  - name: t1\n    event:\n      type: A\n"
                             "      headers: [{name: h, value: v}]\n      partition: 3\n"
                             "      offset: 99\n    expect: {action: nats, critical: false}\n";
    rules_t *r = NULL;
    const rules_test_t *t;

    ck_assert_int_eq(rules_load_buffer("x.yaml", y, strlen(y), &r, NULL), 0);
    ck_assert_uint_eq(rules_test_count(r), 1);
    t = rules_test_get(r, 0);
    ck_assert_str_eq(t->name, "t1");
    ck_assert_int_eq(t->line, 6);
    ck_assert_str_eq(t->fields[RULES_F_EVENT_TYPE], "A");
    ck_assert_ptr_null(t->fields[RULES_F_EVENT_ID]);
    ck_assert_uint_eq(t->header_count, 1);
    ck_assert_str_eq(t->headers[0].value, "v");
    ck_assert_int_eq(t->partition, 3);
    ck_assert_int_eq(t->offset, 99);
    ck_assert_str_eq(t->expect_action, "nats_core");
    ck_assert_int_eq(t->expect_critical, 0);
    ck_assert_ptr_null(t->expect_subject);
    ck_assert_ptr_null(rules_test_get(r, 1));
    rules_unref(r);
}
END_TEST

#define NROWS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *rules_suite(void)
{
    Suite *s = suite_create("rules");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, validation_error_is_reported_with_position, 0, NROWS(error_cases));
    tcase_add_test(tc, every_schema_error_is_reported);
    tcase_add_test(tc, every_semantic_error_is_reported);
    tcase_add_test(tc, glob_without_wildcard_is_a_warning_only);
    tcase_add_test(tc, critical_on_a_route_that_does_not_publish_is_a_warning);
    tcase_add_test(tc, jsonpath_is_refused_with_a_hint);
    tcase_add_test(tc, route_info_says_where_each_route_is);
    tcase_add_loop_test(tc, can_dead_letter_names_the_first_reason, 0, NROWS(dead_letter_cases));
    tcase_add_loop_test(tc, shipped_rule_files_load_cleanly, 0, NROWS(shipped));
    tcase_add_test(tc, default_rules_follow_the_seed);
    tcase_add_test(tc, missing_file_is_an_error_not_a_crash);
    tcase_add_test(tc, diagnostic_format_is_file_line_col);
    tcase_add_test(tc, hash_is_of_the_file_bytes);
    tcase_add_test(tc, references_keep_the_set_alive);
    tcase_add_test(tc, tests_entries_are_exposed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rules_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
