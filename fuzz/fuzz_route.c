/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_route: hostile Kafka records against a fixed rule set that uses
 * every template variable. Besides the sanitizers, it checks the safety
 * promises: a published subject starts with the route's literal prefix,
 * fits the limit, and has only [A-Za-z0-9_-] tokens separated by single
 * dots; dedup IDs fit and have no whitespace or control characters.
 *
 * Input: byte 0 = flags (1: tombstone, 2: null key, 4: no type header,
 * 8: CloudEvents headers); then fields separated by 0xFF: event type, event
 * ID, topic, key, header value, value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules_yaml[] =
    "domains: [officer, incident, unit, patrol-unit]\n"
    "strip_suffixes: [Requested]\n"
    "limits: {max_json_bytes: 65536, max_json_tokens: 512}\n"
    "routes:\n"
    "  - {name: poison, match: {type_prefix: Poison}, action: dlq}\n"
    "  - name: ce\n"
    "    match: {type_suffix: Requested, headers: [{name: ce_specversion}]}\n"
    "    subject: 'ce.{domain}.{action}'\n"
    "    dedup: cloudevents\n"
    "  - name: commands\n"
    "    match: {type_suffix: Requested}\n"
    "    critical: true\n"
    "    subject: 'commands.{domain}.{action}'\n"
    "    headers: [{name: C, value: '{correlation_id}/{causation_id}'}, {name: T, value: "
    "'{event_type}'}]\n"
    "  - name: glob\n"
    "    match: {type_glob: 'Unit*?d', headers: [{name: x, value: 'a*b?'}]}\n"
    "    action: nats\n"
    "    subject: 'g.{event}.{key}.{topic}.{partition}.{offset}'\n"
    "    dedup: offset\n"
    "  - name: fields\n"
    "    match: {type_glob: '*'}\n"
    "    subject: 'f.{aggregate_type}.{aggregate_id}.{event_id}.{header:x}.{field:data.a.b}'\n"
    "unmatched: dlq\n";

static rules_t *rules;

static int subject_ok(const char *s, const char *prefix)
{
    size_t n = strlen(s);
    int prev_dot = 1;

    if (strncmp(s, prefix, strlen(prefix)) || n > ROUTE_SUBJECT_MAX || !n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (prev_dot)
                return 0;
            prev_dot = 1;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_') {
            prev_dot = 0;
        } else {
            return 0;
        }
    }
    return !prev_dot;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static route_result_t out;
    const char *f[6] = {"", "", "", "", "", ""};
    size_t len[6] = {0};
    route_header_t h[8];
    size_t nh = 0, k = 0, start = 1;
    uint8_t flags;
    route_event_t ev;

    if (!rules && rules_load_buffer("fuzz.yaml", rules_yaml, sizeof(rules_yaml) - 1, &rules, NULL))
        abort();
    if (size < 1)
        return 0;
    flags = data[0];
    for (size_t i = 1; i <= size && k < 6; i++) {
        if (i == size || (data[i] == 0xFF && k < 5)) {
            f[k] = (const char *)data + start;
            len[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    if (!(flags & 4))
        h[nh++] = (route_header_t){"eventType", f[0], len[0]};
    h[nh++] = (route_header_t){"eventId", f[1], len[1]};
    h[nh++] = (route_header_t){"x", f[4], len[4]};
    if (flags & 8) {
        h[nh++] = (route_header_t){"ce_specversion", "1.0", 3};
        h[nh++] = (route_header_t){"ce_source", f[2], len[2]};
        h[nh++] = (route_header_t){"ce_id", f[1], len[1]};
    }
    /* The topic must be a C string: copy it. */
    char topic[256];
    size_t tl = len[2] < sizeof(topic) - 1 ? len[2] : sizeof(topic) - 1;
    memcpy(topic, f[2], tl);
    topic[tl] = '\0';
    ev = (route_event_t){.topic = topic,
                         .partition = (int32_t)flags,
                         .offset = (int64_t)size,
                         .timestamp_ms = -1,
                         .key = (flags & 2) ? NULL : f[3],
                         .key_len = (flags & 2) ? 0 : len[3],
                         .value = (flags & 1) ? NULL : f[5],
                         .value_len = (flags & 1) ? 0 : len[5],
                         .headers = h,
                         .header_count = nh};
    route_action_t a = route_decide(rules, &ev, &out);
    if (a != out.action || (unsigned)a >= ROUTE__COUNT || (unsigned)out.reason >= ROUTE_R__COUNT)
        abort();
    if (a == ROUTE_JETSTREAM || a == ROUTE_NATS_CORE) {
        const char *prefix = NULL;
        for (size_t i = 0; i < rules_route_count(rules); i++)
            if (rules_route_name(rules, i) == out.route)
                prefix = rules_route_subject_prefix(rules, i);
        if (!prefix || !subject_ok(out.subject, prefix) || out.reason != ROUTE_R_NONE)
            abort();
        size_t dl = strlen(out.dedup_id);
        if (!dl || dl > ROUTE_DEDUP_MAX)
            abort();
        for (size_t i = 0; i < dl; i++)
            if ((unsigned char)out.dedup_id[i] <= 0x20 || out.dedup_id[i] == 0x7f)
                abort();
        for (size_t i = 0; i < out.header_count; i++)
            for (const char *p = out.headers[i].value; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                    abort();
    } else if (out.subject[0] || out.header_count) {
        abort();
    }
    return 0;
}
