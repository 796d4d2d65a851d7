/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for natsmsg.c: the header policy against a table of hostile
 * Kafka headers (JetStream control headers in every letter case, CR/LF,
 * NUL, ':' and spaces in names, oversize names and values, CloudEvents
 * renames), and the builder: what a built message carries, in particular
 * that its only Nats-* header is the router's own Nats-Msg-Id.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "natsmsg.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *name;
    const char *value; /* NULL: null value */
    size_t value_len;  /* 0: strlen(value) */
    int is_ce;
    natsmsg_verdict_t want;
    const char *out; /* on NATSMSG_COPY */
} policy_cases[] = {
    /* JetStream control headers: never copied, whatever the case. */
    {"Nats-Expected-Last-Sequence", "999", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-Expected-Stream", "OTHER", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-Expected-Last-Msg-Id", "x", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-Expected-Last-Subject-Sequence", "1", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-Rollup", "all", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-TTL", "1s", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-Schedule", "@every 1s", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-Marker-Reason", "MaxAge", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-Msg-Id", "evt-1", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"nats-msg-id", "evt-1", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"NATS-MSG-ID", "evt-1", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"nAtS-eXpEcTeD-sTrEaM", "OTHER", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-", "", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-Anything-New", "v", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-Rollup", NULL, 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-Rollup", "a\r\nb", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL}, /* reserved wins */
    {"Nats-TTL", "x", 5000, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    {"Nats-Rollup:x", "all", 0, 0, NATSMSG_DROP_RESERVED_NATS, NULL},
    /* The router's own provenance headers: a producer cannot forge them in
     * another letter case (NATS header names are case-sensitive, so
     * "kafka-offset" would ride beside the router's Kafka-Offset). */
    {"Kafka-Offset", "7", 0, 0, NATSMSG_DROP_RESERVED_ROUTER, NULL},
    {"kafka-offset", "7", 0, 0, NATSMSG_DROP_RESERVED_ROUTER, NULL},
    {"KAFKA-TOPIC", "other", 0, 0, NATSMSG_DROP_RESERVED_ROUTER, NULL},
    {"kafka-partition", "0", 0, 0, NATSMSG_DROP_RESERVED_ROUTER, NULL},
    {"Kafka-Timestamp", "0", 0, 0, NATSMSG_DROP_RESERVED_ROUTER, NULL},
    {"kAfKa-KeY", "k", 0, 0, NATSMSG_DROP_RESERVED_ROUTER, NULL},
    {"Kafka-Offset-Extra", "7", 0, 0, NATSMSG_COPY, "Kafka-Offset-Extra"},
    /* Not reserved: only the "Nats-" prefix is JetStream's. */
    {"Nats", "v", 0, 0, NATSMSG_COPY, "Nats"},
    {"NatsRollup", "all", 0, 0, NATSMSG_COPY, "NatsRollup"},
    {"Nats_Rollup", "all", 0, 0, NATSMSG_COPY, "Nats_Rollup"},
    {"X-Nats-Rollup", "all", 0, 0, NATSMSG_COPY, "X-Nats-Rollup"},
    /* Names NATS cannot carry. */
    {"", "v", 0, 0, NATSMSG_DROP_BAD_NAME, NULL},
    {"bad name", "v", 0, 0, NATSMSG_DROP_BAD_NAME, NULL},
    {" Nats-Rollup", "all", 0, 0, NATSMSG_DROP_BAD_NAME, NULL},
    {"a:b", "v", 0, 0, NATSMSG_DROP_BAD_NAME, NULL},
    {"a\r\nNats-Rollup", "all", 0, 0, NATSMSG_DROP_BAD_NAME, NULL},
    {"tab\tname", "v", 0, 0, NATSMSG_DROP_BAD_NAME, NULL},
    {"caf\xc3\xa9", "v", 0, 0, NATSMSG_DROP_BAD_NAME, NULL},
    {"del\x7f", "v", 0, 0, NATSMSG_DROP_BAD_NAME, NULL},
    /* Values NATS cannot carry. */
    {"traceparent", "a\r\nNats-Rollup: all", 0, 0, NATSMSG_DROP_NOT_PRINTABLE, NULL},
    {"x", "a\nb", 0, 0, NATSMSG_DROP_NOT_PRINTABLE, NULL},
    {"x", "a\0b", 3, 0, NATSMSG_DROP_NOT_PRINTABLE, NULL},
    {"x", "a\tb", 0, 0, NATSMSG_DROP_NOT_PRINTABLE, NULL},
    {"x", "a\x7f", 0, 0, NATSMSG_DROP_NOT_PRINTABLE, NULL},
    /* Values that pass. */
    {"x", "caf\xc3\xa9", 0, 0, NATSMSG_COPY, "x"},
    {"x", "", 0, 0, NATSMSG_COPY, "x"},
    {"x", NULL, 0, 0, NATSMSG_COPY, "x"},
    {"traceparent", "00-abc-def-01", 0, 0, NATSMSG_COPY, "traceparent"},
    {"Kafka-Like", "v: w", 0, 0, NATSMSG_COPY, "Kafka-Like"},
    /* Oversize. */
    {"x", "v", NATSMSG_VALUE_MAX + 1, 0, NATSMSG_DROP_TOO_LONG, NULL},
    /* CloudEvents binary mode: the NATS binding's names. */
    {"ce_type", "T", 0, 1, NATSMSG_COPY, "ce-type"},
    {"ce_id", "1", 0, 1, NATSMSG_COPY, "ce-id"},
    {"ce_", "v", 0, 1, NATSMSG_COPY, "ce-"},
    {"content-type", "application/json", 0, 1, NATSMSG_COPY, "ce-datacontenttype"},
    {"Content-Type", "application/json", 0, 1, NATSMSG_COPY, "ce-datacontenttype"},
    {"content-type", "application/json", 0, 0, NATSMSG_COPY, "content-type"},
    {"ce-type", "T", 0, 1, NATSMSG_COPY, "ce-type"},
    {"ce_bad name", "v", 0, 1, NATSMSG_DROP_BAD_NAME, NULL},
    {"ce_type", "a\rb", 0, 1, NATSMSG_DROP_NOT_PRINTABLE, NULL},
};

START_TEST(header_policy_table)
{
    char big[NATSMSG_VALUE_MAX + 2];
    char out[NATSMSG_NAME_MAX + 1] = "unchanged";
    const void *value = policy_cases[_i].value;
    size_t len = policy_cases[_i].value_len;

    if (value && len > 64) { /* an oversize row: fill it */
        memset(big, 'v', sizeof(big));
        value = big;
    } else if (value && !len) {
        len = strlen(value);
    }
    natsmsg_verdict_t got = natsmsg_header_policy(policy_cases[_i].name, value, len,
                                                  policy_cases[_i].is_ce, out, sizeof(out));
    ck_assert_msg(got == policy_cases[_i].want, "row %d '%s': got %s, want %s", _i,
                  policy_cases[_i].name, natsmsg_verdict_name(got),
                  natsmsg_verdict_name(policy_cases[_i].want));
    if (got == NATSMSG_COPY) {
        ck_assert_str_eq(out, policy_cases[_i].out);
        ck_assert_msg(strncasecmp(out, "Nats-", 5), "copied a Nats-* name: %s", out);
    }
}
END_TEST

START_TEST(oversize_name_is_too_long_and_the_limit_passes)
{
    char name[NATSMSG_NAME_MAX + 2], out[NATSMSG_NAME_MAX + 1];

    memset(name, 'a', sizeof(name));
    name[NATSMSG_NAME_MAX] = '\0';
    ck_assert_int_eq(natsmsg_header_policy(name, "v", 1, 0, out, sizeof(out)), NATSMSG_COPY);
    ck_assert_str_eq(out, name);
    name[NATSMSG_NAME_MAX] = 'a';
    name[NATSMSG_NAME_MAX + 1] = '\0';
    ck_assert_int_eq(natsmsg_header_policy(name, "v", 1, 0, out, sizeof(out)),
                     NATSMSG_DROP_TOO_LONG);
    char value[NATSMSG_VALUE_MAX];
    memset(value, 'v', sizeof(value));
    ck_assert_int_eq(natsmsg_header_policy("x", value, sizeof(value), 0, out, sizeof(out)),
                     NATSMSG_COPY);
}
END_TEST

START_TEST(verdict_names_are_stable_labels)
{
    ck_assert_str_eq(natsmsg_verdict_name(NATSMSG_COPY), "copy");
    ck_assert_str_eq(natsmsg_verdict_name(NATSMSG_DROP_RESERVED_NATS), "reserved_nats");
    ck_assert_str_eq(natsmsg_verdict_name(NATSMSG_DROP_RESERVED_ROUTER), "reserved_router");
    ck_assert_str_eq(natsmsg_verdict_name(NATSMSG_DROP_TOO_LONG), "too_long");
    ck_assert_str_eq(natsmsg_verdict_name(NATSMSG_DROP_BAD_NAME), "bad_name");
    ck_assert_str_eq(natsmsg_verdict_name(NATSMSG_DROP_NOT_PRINTABLE), "not_printable");
    ck_assert_str_eq(natsmsg_verdict_name(NATSMSG_VERDICT__COUNT), "unknown");
}
END_TEST

/* ---- the builder ---- */

typedef struct hdrs {
    const route_header_t *h;
    size_t n;
} hdrs_t;

static int array_at(void *ctx, size_t i, route_header_t *out)
{
    const hdrs_t *a = ctx;
    if (i >= a->n)
        return 1;
    *out = a->h[i];
    return 0;
}

#define H(n, v)                                                                                    \
    {                                                                                              \
        n, v, sizeof(v) - 1                                                                        \
    }

static const route_header_t hostile[] = {
    H("Nats-Expected-Last-Sequence", "999"),
    H("Nats-Expected-Stream", "OTHER"),
    H("Nats-Expected-Last-Msg-Id", "x"),
    H("Nats-Expected-Last-Subject-Sequence", "1"),
    H("Nats-Rollup", "all"),
    H("Nats-TTL", "1s"),
    H("Nats-Schedule", "@every 1s"),
    H("Nats-Marker-Reason", "MaxAge"),
    H("nAtS-eXpEcTeD-sTrEaM", "OTHER"),
    H("NATS-MSG-ID", "other-event"),
    H("Nats-Msg-Id", "other-event"),
    H("bad name", "v"),
    H("traceparent", "a\r\nNats-Rollup: all"),
    H("ce_type", "ChangeOfficerStatusRequested"),
    H("content-type", "application/json"),
    H("traceparent", "00-abc-def-01"),
    H("Kafka-Topic", "forged"),
    H("kafka-offset", "1"),
};

static natsMsg *build(const char *msg_id, uint32_t dropped[NATSMSG_VERDICT__COUNT])
{
    static route_result_t res; /* large; zeroed once */
    hdrs_t a = {hostile, NROWS(hostile)};
    natsmsg_input_t in = {
        .subject = "commands.officer.change-status",
        .payload = "{}",
        .payload_len = 2,
        .header_at = array_at,
        .header_ctx = &a,
        .topic = "officer-events",
        .partition = 3,
        .offset = 42,
        .timestamp_ms = 1700000000000,
        .key = "off-7",
        .key_len = 5,
        .route = &res,
        .msg_id = msg_id,
    };
    res.header_count = 1;
    res.headers[0].name = "Correlation-Id";
    res.headers[0].value = "c-1";
    natsMsg *nm = NULL;
    ck_assert_int_eq(natsmsg_build(&nm, &in, dropped), NATS_OK);
    ck_assert_ptr_nonnull(nm);
    return nm;
}

static const char *get(natsMsg *nm, const char *k)
{
    const char *v = NULL;
    return natsMsgHeader_Get(nm, k, &v) == NATS_OK ? v : NULL;
}

/* Every header key of nm whose name starts with Nats- (any case), but Nats-Msg-Id. */
static int foreign_nats_headers(natsMsg *nm)
{
    const char **keys = NULL;
    int n = 0, bad = 0;
    ck_assert_int_eq(natsMsgHeader_Keys(nm, &keys, &n), NATS_OK);
    for (int i = 0; i < n; i++)
        if (!strncasecmp(keys[i], "Nats-", 5) && strcmp(keys[i], "Nats-Msg-Id"))
            bad++;
    free((void *)keys);
    return bad;
}

START_TEST(jetstream_message_has_only_the_routers_nats_msg_id)
{
    uint32_t dropped[NATSMSG_VERDICT__COUNT] = {0};
    natsMsg *nm = build("evt-1", dropped);
    const char **vals = NULL;
    int nvals = 0;

    ck_assert_int_eq(foreign_nats_headers(nm), 0);
    ck_assert_int_eq(natsMsgHeader_Values(nm, "Nats-Msg-Id", &vals, &nvals), NATS_OK);
    ck_assert_int_eq(nvals, 1);
    ck_assert_str_eq(vals[0], "evt-1");
    free((void *)vals);
    ck_assert_int_eq(dropped[NATSMSG_DROP_RESERVED_NATS], 11);
    ck_assert_int_eq(dropped[NATSMSG_DROP_BAD_NAME], 1);
    ck_assert_int_eq(dropped[NATSMSG_DROP_NOT_PRINTABLE], 1);
    ck_assert_int_eq(dropped[NATSMSG_DROP_TOO_LONG], 0);
    ck_assert_int_eq(dropped[NATSMSG_DROP_RESERVED_ROUTER], 2);
    ck_assert_int_eq(dropped[NATSMSG_COPY], 3);
    ck_assert_ptr_null(get(nm, "kafka-offset")); /* no forged twin beside Kafka-Offset */
    ck_assert_str_eq(get(nm, "ce-type"), "ChangeOfficerStatusRequested");
    ck_assert_str_eq(get(nm, "ce-datacontenttype"), "application/json");
    ck_assert_ptr_null(get(nm, "ce_type"));
    ck_assert_str_eq(get(nm, "traceparent"), "00-abc-def-01");
    ck_assert_str_eq(get(nm, "Kafka-Topic"), "officer-events"); /* not the forged one */
    ck_assert_str_eq(get(nm, "Kafka-Partition"), "3");
    ck_assert_str_eq(get(nm, "Kafka-Offset"), "42");
    ck_assert_str_eq(get(nm, "Kafka-Timestamp"), "1700000000000");
    ck_assert_str_eq(get(nm, "Kafka-Key"), "off-7");
    ck_assert_str_eq(get(nm, "Correlation-Id"), "c-1");
    ck_assert_str_eq(natsMsg_GetSubject(nm), "commands.officer.change-status");
    natsMsg_Destroy(nm);
}
END_TEST

START_TEST(core_nats_message_has_no_nats_header_at_all)
{
    uint32_t dropped[NATSMSG_VERDICT__COUNT] = {0};
    natsMsg *nm = build(NULL, dropped);

    ck_assert_int_eq(foreign_nats_headers(nm), 0);
    ck_assert_ptr_null(get(nm, "Nats-Msg-Id"));
    ck_assert_ptr_null(get(nm, "NATS-MSG-ID"));
    natsMsg_Destroy(nm);
}
END_TEST

START_TEST(record_without_headers_gets_provenance_only)
{
    uint32_t dropped[NATSMSG_VERDICT__COUNT] = {0};
    natsmsg_input_t in = {.subject = "s.t",
                          .topic = "t",
                          .offset = 0,
                          .timestamp_ms = -1,
                          .key = "bad\nkey",
                          .key_len = 7,
                          .msg_id = "t-0-0"};
    natsMsg *nm = NULL;

    ck_assert_int_eq(natsmsg_build(&nm, &in, dropped), NATS_OK);
    ck_assert_str_eq(get(nm, "Kafka-Offset"), "0");
    ck_assert_ptr_null(get(nm, "Kafka-Timestamp"));
    ck_assert_ptr_null(get(nm, "Kafka-Key")); /* not printable: left out */
    ck_assert_str_eq(get(nm, "Nats-Msg-Id"), "t-0-0");
    natsMsg_Destroy(nm);
}
END_TEST

/* cnats needs its library state (natsMsg_Destroy hands messages to its
 * collector); opened in each test's process, after Check forks. */
static void open_nats(void)
{
    ck_assert_int_eq(nats_Open(-1), NATS_OK);
}

static Suite *natsmsg_suite(void)
{
    Suite *s = suite_create("natsmsg");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, open_nats, NULL);
    tcase_add_loop_test(tc, header_policy_table, 0, NROWS(policy_cases));
    tcase_add_test(tc, oversize_name_is_too_long_and_the_limit_passes);
    tcase_add_test(tc, verdict_names_are_stable_labels);
    tcase_add_test(tc, jetstream_message_has_only_the_routers_nats_msg_id);
    tcase_add_test(tc, core_nats_message_has_no_nats_header_at_all);
    tcase_add_test(tc, record_without_headers_gets_provenance_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(natsmsg_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
