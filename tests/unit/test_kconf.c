/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for kconf.c: ${env:NAME} and ${file:PATH} references in
 * librdkafka property values (resolution, escapes, every error, the
 * property index in start-up errors, no resolved value in any error), and
 * config_dump() showing references while redacting literal secrets.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "kconf.h"
#include "unit_tmp.h"

static char tmpdir[64];

static void setup(void)
{
    unit_tmpdir_make(tmpdir, sizeof(tmpdir), "kconf");
}

static void teardown(void)
{
    unit_tmpdir_remove(tmpdir);
}

/* ---- resolution ------------------------------------------------------------ */

static const struct {
    const char *value, *want;
    unsigned refs;
} resolve_ok[] = {
    {"plain", "plain", 0},
    {"", "", 0},
    {"cost $5 and $", "cost $5 and $", 0},
    {"${env:ER_T_PW}", "s3cr3t-pw", 1},
    {"pre-${env:ER_T_PW}-post", "pre-s3cr3t-pw-post", 1},
    {"${env:ER_T_PW}${env:ER_T_USER}", "s3cr3t-pwalice", 2},
    {"${env:ER_T_EMPTY}", "", 1},
    {"$${env:ER_T_PW}", "${env:ER_T_PW}", 0}, /* escaped: literal */
    {"${other:x}", "${other:x}", 0},          /* not ours: as written */
};

START_TEST(references_resolve_to_env_values)
{
    char *out = NULL, err[256];
    unsigned refs = 99;
    setenv("ER_T_PW", "s3cr3t-pw", 1);
    setenv("ER_T_USER", "alice", 1);
    setenv("ER_T_EMPTY", "", 1);
    ck_assert_msg(kconf_resolve(resolve_ok[_i].value, &out, &refs, err, sizeof(err)) == 0, "%s: %s",
                  resolve_ok[_i].value, err);
    ck_assert_str_eq(out, resolve_ok[_i].want);
    ck_assert_uint_eq(refs, resolve_ok[_i].refs);
    kconf_free_secret(out);
}
END_TEST

START_TEST(file_reference_reads_the_file_without_its_trailing_newline)
{
    char path[128], value[160], *out = NULL, err[256];
    unsigned refs = 0;
    snprintf(path, sizeof(path), "%s/kafka-password", tmpdir);
    unit_write_file(path, "from-a-file\r\n");
    snprintf(value, sizeof(value), "${file:%s}", path);
    ck_assert_msg(kconf_resolve(value, &out, &refs, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(out, "from-a-file");
    ck_assert_uint_eq(refs, 1);
    kconf_free_secret(out);
}
END_TEST

static const struct {
    const char *value, *want_err;
} resolve_bad[] = {
    {"${env:ER_T_SURELY_UNSET}",
     "environment variable ER_T_SURELY_UNSET is not set (${env:ER_T_SURELY_UNSET})"},
    {"x${env:ER_T_PW", "unterminated reference '${env:ER_T_PW' (missing '}')"},
    {"${env:}", "empty reference '${env:}'"},
    {"${file:}", "empty reference '${file:}'"},
    {"${file:/nonexistent/er-secret}",
     "${file:/nonexistent/er-secret}: /nonexistent/er-secret: cannot open: No such file or "
     "directory"},
};

START_TEST(bad_references_are_errors_naming_the_reference)
{
    char *out = (char *)1, err[256];
    unsigned refs = 99;
    setenv("ER_T_PW", "s3cr3t-pw", 1);
    unsetenv("ER_T_SURELY_UNSET");
    ck_assert_int_eq(kconf_resolve(resolve_bad[_i].value, &out, &refs, err, sizeof(err)), -1);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(err, resolve_bad[_i].want_err);
    ck_assert_ptr_null(strstr(err, "s3cr3t"));
}
END_TEST

/* ---- applying properties ----------------------------------------------------- */

START_TEST(missing_variable_names_the_property_index_and_the_variable)
{
    char *props[] = {"fetch.wait.max.ms=10", "sasl.password=${env:ER_T_KAFKA_PASSWORD}"};
    char err[512] = "";
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    unsetenv("ER_T_KAFKA_PASSWORD");
    ck_assert_int_eq(kconf_apply(conf, props, 2, "kafka.properties", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "kafka.properties[1]: sasl.password: environment variable "
                          "ER_T_KAFKA_PASSWORD is not set (${env:ER_T_KAFKA_PASSWORD})");
    rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(resolved_value_reaches_librdkafka)
{
    char *props[] = {"sasl.username=${env:ER_T_USER}", "sasl.password=${env:ER_T_PW}"};
    char err[512] = "", got[64];
    size_t sz = sizeof(got);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    setenv("ER_T_USER", "router", 1);
    setenv("ER_T_PW", "s3cr3t-pw", 1);
    ck_assert_msg(kconf_apply(conf, props, 2, "kafka.properties", err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_int_eq(rd_kafka_conf_get(conf, "sasl.username", got, &sz), RD_KAFKA_CONF_OK);
    ck_assert_str_eq(got, "router");
    sz = sizeof(got);
    ck_assert_int_eq(rd_kafka_conf_get(conf, "sasl.password", got, &sz), RD_KAFKA_CONF_OK);
    ck_assert_str_eq(got, "s3cr3t-pw");
    rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(librdkafka_error_never_quotes_a_resolved_value)
{
    /* librdkafka quotes a bad enum value in its message. */
    char *props[] = {"security.protocol=${env:ER_T_BAD}"};
    char err[512] = "";
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    setenv("ER_T_BAD", "not-a-number-s3cr3t", 1);
    ck_assert_int_eq(kconf_apply(conf, props, 1, "dlq.properties", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "s3cr3t") == NULL, "leaked: %s", err);
    ck_assert_msg(!strncmp(err, "dlq.properties[0]: ", 19), "%s", err);
    ck_assert_msg(strstr(err, "[redacted]") != NULL, "%s", err);
    rd_kafka_conf_destroy(conf);
}
END_TEST

/* A malformed secret property, or a bad reference in one, is a start-up
 * error that names the property but never quotes its value. */
START_TEST(malformed_secret_property_error_never_quotes_the_secret)
{
    static char *bad[] = {"sasl.password: hunter2", "sasl.password=${env:ER_T_PW hunter2",
                          "ssl.key.password=${file:/nonexistent hunter2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[512] = "";
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        ck_assert_int_eq(kconf_apply(conf, &bad[i], 1, "kafka.properties", err, sizeof(err)), -1);
        ck_assert_msg(strstr(err, "hunter2") == NULL, "leaked: %s", err);
        ck_assert_msg(!strncmp(err, "kafka.properties[0]: ", 21), "%s", err);
        rd_kafka_conf_destroy(conf);
    }
}
END_TEST

/* The OAUTHBEARER/OIDC properties of docs/deploy.md, "Secured clusters": the
 * linked librdkafka is built with OIDC (curl) and takes them as written,
 * the client secret through a reference. No login is tried: there is no
 * OIDC provider here. */
START_TEST(oidc_properties_reach_librdkafka)
{
    char *props[] = {"security.protocol=SASL_SSL",
                     "sasl.mechanisms=OAUTHBEARER",
                     "sasl.oauthbearer.method=oidc",
                     "sasl.oauthbearer.client.id=event-router",
                     "sasl.oauthbearer.client.secret=${env:ER_T_OIDC_SECRET}",
                     "sasl.oauthbearer.token.endpoint.url=https://idp.example/token",
                     "sasl.oauthbearer.scope=kafka"};
    char err[512] = "", val[512];
    size_t n = sizeof(val);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    setenv("ER_T_OIDC_SECRET", "oidc-s3cr3t", 1);
    ck_assert_int_eq(rd_kafka_conf_get(conf, "builtin.features", val, &n), RD_KAFKA_CONF_OK);
    ck_assert_msg(strstr(val, "oidc") != NULL, "librdkafka built without OIDC: %s", val);
    ck_assert_msg(kconf_apply(conf, props, sizeof(props) / sizeof(props[0]), "kafka.properties",
                              err, sizeof(err)) == 0,
                  "%s", err);
    n = sizeof(val);
    ck_assert_int_eq(rd_kafka_conf_get(conf, "sasl.oauthbearer.method", val, &n), RD_KAFKA_CONF_OK);
    ck_assert_str_eq(val, "oidc");
    n = sizeof(val);
    ck_assert_int_eq(rd_kafka_conf_get(conf, "sasl.oauthbearer.client.secret", val, &n),
                     RD_KAFKA_CONF_OK);
    ck_assert_str_eq(val, "oidc-s3cr3t");
    unsetenv("ER_T_OIDC_SECRET");
    rd_kafka_conf_destroy(conf);
}
END_TEST

/* ---- config_dump ---------------------------------------------------------------- */

START_TEST(dump_shows_references_and_redacts_literal_secrets)
{
    char path[128], err[512] = "", *buf = NULL;
    size_t len = 0;
    config_t *c = NULL;
    snprintf(path, sizeof(path), "%s/router.yaml", tmpdir);
    unit_write_file(path,
                    "kafka:\n  brokers: b\n  topics: [t]\n  properties:\n"
                    "    - sasl.password=${env:ER_KAFKA_PASSWORD}\n"
                    "    - ssl.key.password=${file:/run/secrets/key-pw}\n"
                    "    - sasl.oauthbearer.client.secret=lit${env:X}\n"
                    "nats:\n  servers: [nats://n:4222]\nrules: /r.yaml\n"
                    "dlq:\n  topic: d\n  properties:\n    - sasl.password=${env:ER_DLQ_PW}\n");
    ck_assert_msg(config_load_file(path, &c, err, sizeof(err)) == 0, "%s", err);
    setenv("ER_KAFKA_PASSWORD", "resolved-s3cr3t", 1);
    FILE *mem = open_memstream(&buf, &len);
    config_dump(c, mem);
    fclose(mem);
    ck_assert_ptr_null(strstr(buf, "resolved-s3cr3t"));
    ck_assert_ptr_nonnull(strstr(buf, "    - \"sasl.password=${env:ER_KAFKA_PASSWORD}\"\n"));
    ck_assert_ptr_nonnull(strstr(buf, "    - \"ssl.key.password=${file:/run/secrets/key-pw}\"\n"));
    ck_assert_ptr_nonnull(strstr(buf, "    - \"sasl.oauthbearer.client.secret=[redacted]\"\n"));
    ck_assert_ptr_nonnull(strstr(buf, "    - \"sasl.password=${env:ER_DLQ_PW}\"\n"));
    free(buf);
    config_free(c);
}
END_TEST

static Suite *kconf_suite(void)
{
    Suite *s = suite_create("kconf");
    TCase *tc = tcase_create("resolve");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, references_resolve_to_env_values, 0,
                        sizeof(resolve_ok) / sizeof(resolve_ok[0]));
    tcase_add_test(tc, file_reference_reads_the_file_without_its_trailing_newline);
    tcase_add_loop_test(tc, bad_references_are_errors_naming_the_reference, 0,
                        sizeof(resolve_bad) / sizeof(resolve_bad[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("apply");
    tcase_add_test(tc, missing_variable_names_the_property_index_and_the_variable);
    tcase_add_test(tc, resolved_value_reaches_librdkafka);
    tcase_add_test(tc, librdkafka_error_never_quotes_a_resolved_value);
    tcase_add_test(tc, malformed_secret_property_error_never_quotes_the_secret);
    tcase_add_test(tc, oidc_properties_reach_librdkafka);
    suite_add_tcase(s, tc);
    tc = tcase_create("dump");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, dump_shows_references_and_redacts_literal_secrets);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(kconf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
