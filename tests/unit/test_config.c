/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for config.c: a complete file, the shipped local config,
 * defaults for absent keys, every error class with its exact message and
 * line:col, rules path resolution, redaction in config_dump() and
 * config_secret(). Each test writes its YAML into a fresh temporary
 * directory as router.yaml.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "unit_tmp.h"

static char tmpdir[64];
static char cfgpath[128];

static void setup(void)
{
    unit_tmpdir_make(tmpdir, sizeof(tmpdir), "config");
    snprintf(cfgpath, sizeof(cfgpath), "%s/router.yaml", tmpdir);
}

static void teardown(void)
{
    unit_tmpdir_remove(tmpdir);
}

/* Load text; return the config (or NULL) and leave the error in err. */
static config_t *load(const char *text, char *err, size_t size)
{
    config_t *c = NULL;
    unit_write_file(cfgpath, text);
    int rc = config_load_file(cfgpath, &c, err, size);
    ck_assert_int_eq(rc == 0, c != NULL);
    return c;
}

#define MIN_KAFKA "kafka:\n  brokers: b1:9092\n  topics:\n    - orders-events\n"
#define MIN_NATS  "nats:\n  servers:\n    - nats://127.0.0.1:4222\n"
#define MIN_RULES "rules: rules.yaml\n"
#define MINIMAL   MIN_KAFKA MIN_NATS MIN_RULES

static const char full_yaml[] = "kafka:\n"
                                "  brokers: k1:9092,k2:9092\n"
                                "  group_id: grp\n"
                                "  topics: [a-events, b-events]\n"
                                "  properties:\n"
                                "    - fetch.wait.max.ms=10\n"
                                "    - sasl.password=hunter2\n"
                                "  group_instance_id_env: POD_NAME\n"
                                "nats:\n"
                                "  servers: [\"nats://n1:4222\", \"tls://n2:4222\"]\n"
                                "  domain: hub\n"
                                "  api_prefix: $JS.hub.API\n"
                                "  ack_timeout_ms: 250\n"
                                "  max_reconnects: 0\n"
                                "  reconnect_wait_ms: 20\n"
                                "  reconnect_buffer_bytes: 0x100000\n"
                                "  name: er-1\n"
                                "  user: router\n"
                                "  password_env: NATS_PW\n"
                                "  tls_ca_file: /etc/er/ca.pem\n"
                                "  tls_cert_file: /etc/er/cert.pem\n"
                                "  tls_key_file: /etc/er/key.pem\n"
                                "rules: /etc/er/rules.yaml\n"
                                "limits:\n"
                                "  max_inflight_per_partition: 5\n"
                                "  max_inflight_total: 50\n"
                                "  drain_timeout_ms: 1\n"
                                "  commit_interval_ms: 2\n"
                                "  revoke_timeout_ms: 3\n"
                                "retry:\n"
                                "  max_attempts: 4\n"
                                "  backoff_initial_ms: 5\n"
                                "  backoff_max_ms: 6\n"
                                "dlq:\n"
                                "  topic: er.dlq\n"
                                "  properties: [linger.ms=5]\n"
                                "http:\n"
                                "  listen: \"\"\n"
                                "  stuck_after_ms: 7\n"
                                "log:\n"
                                "  level: debug\n"
                                "  format: json\n"
                                "streams:\n"
                                "  - name: COMMANDS\n"
                                "    subjects: [\"commands.>\", \"cmd.*.x\"]\n"
                                "    replicas: 1\n"
                                "    storage: memory\n"
                                "    duplicate_window_s: 30\n"
                                "    max_age_s: 3600\n"
                                "    max_bytes: 1000000\n"
                                "    max_msgs: 5000\n";

START_TEST(complete_file_loads_every_field)
{
    char err[512] = "";
    config_t *c = load(full_yaml, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->path, cfgpath);
    ck_assert_str_eq(c->kafka.brokers, "k1:9092,k2:9092");
    ck_assert_str_eq(c->kafka.group_id, "grp");
    ck_assert_uint_eq(c->kafka.topics_count, 2);
    ck_assert_str_eq(c->kafka.topics[1], "b-events");
    ck_assert_uint_eq(c->kafka.properties_count, 2);
    ck_assert_str_eq(c->kafka.properties[0], "fetch.wait.max.ms=10");
    ck_assert_ptr_null(c->kafka.group_instance_id);
    ck_assert_str_eq(c->kafka.group_instance_id_env, "POD_NAME");
    ck_assert_uint_eq(c->nats.servers_count, 2);
    ck_assert_str_eq(c->nats.servers[1], "tls://n2:4222");
    ck_assert_str_eq(c->nats.domain, "hub");
    ck_assert_str_eq(c->nats.api_prefix, "$JS.hub.API");
    ck_assert_uint_eq(c->nats.ack_timeout_ms, 250);
    ck_assert_int_eq(c->nats.max_reconnects, 0); /* explicit 0 is not "unset" */
    ck_assert_uint_eq(c->nats.reconnect_wait_ms, 20);
    ck_assert_uint_eq(c->nats.reconnect_buffer_bytes, 0x100000);
    ck_assert_str_eq(c->nats.name, "er-1");
    ck_assert_str_eq(c->nats.user, "router");
    ck_assert_str_eq(c->nats.password_env, "NATS_PW");
    ck_assert_ptr_null(c->nats.password_file);
    ck_assert_ptr_null(c->nats.token_env);
    ck_assert_ptr_null(c->nats.creds_file);
    ck_assert_str_eq(c->nats.tls_key_file, "/etc/er/key.pem");
    ck_assert_str_eq(c->rules, "/etc/er/rules.yaml"); /* absolute: unchanged */
    ck_assert_uint_eq(c->limits.max_inflight_per_partition, 5);
    ck_assert_uint_eq(c->limits.max_inflight_total, 50);
    ck_assert_uint_eq(c->limits.drain_timeout_ms, 1);
    ck_assert_uint_eq(c->limits.commit_interval_ms, 2);
    ck_assert_uint_eq(c->limits.revoke_timeout_ms, 3);
    ck_assert_uint_eq(c->retry.max_attempts, 4);
    ck_assert_uint_eq(c->retry.backoff_initial_ms, 5);
    ck_assert_uint_eq(c->retry.backoff_max_ms, 6);
    ck_assert_str_eq(c->dlq.topic, "er.dlq");
    ck_assert_uint_eq(c->dlq.properties_count, 1);
    ck_assert_str_eq(c->http.listen, ""); /* "" disables, not "default" */
    ck_assert_uint_eq(c->http.stuck_after_ms, 7);
    ck_assert_str_eq(c->log.level, "debug");
    ck_assert_str_eq(c->log.format, "json");
    ck_assert_uint_eq(c->streams_count, 1);
    ck_assert_str_eq(c->streams[0].name, "COMMANDS");
    ck_assert_uint_eq(c->streams[0].subjects_count, 2);
    ck_assert_str_eq(c->streams[0].subjects[0], "commands.>");
    ck_assert_uint_eq(c->streams[0].replicas, 1);
    ck_assert_str_eq(c->streams[0].storage, "memory");
    ck_assert_uint_eq(c->streams[0].duplicate_window_s, 30);
    ck_assert_int_eq(c->streams[0].max_age_s, 3600);
    ck_assert_int_eq(c->streams[0].max_bytes, 1000000);
    ck_assert_int_eq(c->streams[0].max_msgs, 5000);
    config_free(c);
}
END_TEST

START_TEST(absent_keys_take_the_documented_defaults)
{
    char err[512] = "";
    config_t *c = load(MINIMAL "streams:\n  - name: S\n    subjects: [a.>]\n", err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->kafka.group_id, "event-router");
    ck_assert_uint_eq(c->kafka.properties_count, 0);
    ck_assert_ptr_null(c->nats.domain);
    ck_assert_ptr_null(c->nats.api_prefix);
    ck_assert_uint_eq(c->nats.ack_timeout_ms, 5000);
    ck_assert_int_eq(c->nats.max_reconnects, -1);
    ck_assert_uint_eq(c->nats.reconnect_wait_ms, 500);
    ck_assert_uint_eq(c->nats.reconnect_buffer_bytes, 8u * 1024 * 1024);
    ck_assert_str_eq(c->nats.name, "event-router");
    ck_assert_uint_eq(c->limits.max_inflight_per_partition, 1024);
    ck_assert_uint_eq(c->limits.max_inflight_total, 4096);
    ck_assert_uint_eq(c->limits.drain_timeout_ms, 15000);
    ck_assert_uint_eq(c->limits.commit_interval_ms, 1000);
    ck_assert_uint_eq(c->limits.revoke_timeout_ms, 10000);
    ck_assert_uint_eq(c->retry.max_attempts, 10);
    ck_assert_uint_eq(c->retry.backoff_initial_ms, 100);
    ck_assert_uint_eq(c->retry.backoff_max_ms, 10000);
    ck_assert_ptr_null(c->dlq.topic);
    ck_assert_str_eq(c->http.listen, "127.0.0.1:9180");
    ck_assert_uint_eq(c->http.stuck_after_ms, 60000);
    ck_assert_str_eq(c->log.level, "info");
    ck_assert_str_eq(c->log.format, "logfmt");
    ck_assert_uint_eq(c->streams[0].replicas, 3);
    ck_assert_str_eq(c->streams[0].storage, "file");
    ck_assert_uint_eq(c->streams[0].duplicate_window_s, 120);
    ck_assert_int_eq(c->streams[0].max_age_s, 0);
    ck_assert_int_eq(c->streams[0].max_bytes, -1);
    ck_assert_int_eq(c->streams[0].max_msgs, -1);
    config_free(c);
}
END_TEST

START_TEST(null_optional_strings_load_as_unset)
{
    char err[512] = "";
    config_t *c = load(MINIMAL "log:\n  level: ~\n  format:\n", err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->log.level, "info");
    ck_assert_str_eq(c->log.format, "logfmt");
    config_free(c);
}
END_TEST

START_TEST(relative_rules_path_is_resolved_against_the_config_dir)
{
    char err[512] = "", want[256];
    config_t *c = load(MIN_KAFKA MIN_NATS "rules: ../rules/default.yaml\n", err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    snprintf(want, sizeof(want), "%s/../rules/default.yaml", tmpdir);
    ck_assert_str_eq(c->rules, want);
    config_free(c);
}
END_TEST

START_TEST(shipped_local_config_loads)
{
    char err[512] = "", path[512], want[512];
    const char *src = getenv("ER_SOURCE_DIR");
    config_t *c = NULL;
    snprintf(path, sizeof(path), "%s/deploy/local/router.yaml", src ? src : ER_SOURCE_DIR);
    ck_assert_msg(config_load_file(path, &c, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(c->kafka.brokers, "127.0.0.1:19092,127.0.0.1:29092,127.0.0.1:39092");
    ck_assert_str_eq(c->kafka.group_id, "event-router");
    ck_assert_uint_eq(c->kafka.topics_count, 1);
    ck_assert_str_eq(c->kafka.topics[0], "^[a-z0-9._-]+-events$");
    ck_assert_uint_eq(c->kafka.properties_count, 1);
    ck_assert_str_eq(c->kafka.properties[0], "fetch.wait.max.ms=10");
    ck_assert_uint_eq(c->nats.servers_count, 3);
    ck_assert_str_eq(c->nats.servers[2], "nats://127.0.0.1:4224");
    snprintf(want, sizeof(want), "%s/deploy/local/../../rules/default.yaml",
             src ? src : ER_SOURCE_DIR);
    ck_assert_str_eq(c->rules, want);
    ck_assert_str_eq(c->dlq.topic, "event-router.dlq");
    ck_assert_str_eq(c->http.listen, "127.0.0.1:9180");
    ck_assert_uint_eq(c->streams_count, 1);
    ck_assert_str_eq(c->streams[0].name, "COMMANDS");
    ck_assert_str_eq(c->streams[0].subjects[0], "commands.>");
    ck_assert_uint_eq(c->streams[0].replicas, 3);
    ck_assert_str_eq(c->streams[0].storage, "file");
    ck_assert_uint_eq(c->streams[0].duplicate_window_s, 120);
    config_free(c);
}
END_TEST

/* ---- errors: each with its message and position ----------------------------- */

static const struct {
    const char *name;
    const char *yaml;
    const char *want; /* after "<path>:" */
} error_cases[] = {
    {"unknown key with suggestion",
     "kafka:\n  brokers: b\n  topics: [t]\nnats:\n  servers: [nats://n:4222]\nrules: r\n"
     "limits:\n  max_inflight_totl: 5\n",
     "8:3: error: unknown key 'max_inflight_totl' in 'limits' (did you mean "
     "'max_inflight_total'?)"},
    {"two ways to authenticate to NATS",
     MIN_KAFKA "nats:\n  servers: [nats://n:4222]\n  token_env: T\n  creds_file: /c\n" MIN_RULES,
     "8:15: error: set only one way to authenticate to NATS: 'nats.user' (with a password), "
     "'nats.token_env', 'nats.creds_file' or 'nats.nkey_seed_file'"},
    {"unknown key in kafka", "kafka:\n  brokerz: b\n  topics: [t]\n",
     "2:3: error: unknown key 'brokerz' in 'kafka' (did you mean 'brokers'?)"},
    {"unknown top-level key, transposed", "kafak:\n  brokers: b\n",
     "1:1: error: unknown key 'kafak' (did you mean 'kafka'?)"},
    {"unknown key, nothing close", MINIMAL "colour: blue\n", "9:1: error: unknown key 'colour'"},
    {"unknown key in a stream",
     MINIMAL "streams:\n  - name: S\n    subjects: [a.b]\n    replica: 3\n",
     "12:5: error: unknown key 'replica' in 'streams[0]' (did you mean 'replicas'?)"},
    {"integer expected", MINIMAL "limits:\n  max_inflight_total: lots\n",
     "10:23: error: 'limits.max_inflight_total' must be an unsigned integer, got 'lots'"},
    {"negative unsigned", MINIMAL "retry:\n  max_attempts: -1\n",
     "10:17: error: 'retry.max_attempts' must be between 1 and 65535, got -1"},
    {"unsigned out of range", MINIMAL "retry:\n  max_attempts: 4294967296\n",
     "10:17: error: 'retry.max_attempts' must be between 1 and 65535, got 4294967296"},
    {"signed out of range",
     MIN_KAFKA "nats:\n  servers: [nats://n:1]\n  max_reconnects: 3000000000\n" MIN_RULES,
     "7:19: error: 'nats.max_reconnects' must be between -1 and 2147483647, got 3000000000"},
    {"list given a scalar", "kafka:\n  brokers: b\n  topics: orders-events\n",
     "3:11: error: 'kafka.topics' must be a list, not a scalar (write: - orders-events)"},
    {"mapping given a list", "kafka: [a, b]\n",
     "1:8: error: 'kafka' must be a mapping, not a list"},
    {"string given a mapping", "kafka:\n  brokers: {a: 1}\n",
     "2:12: error: 'kafka.brokers' must be a string, not a mapping"},
    {"missing required top-level key", MIN_KAFKA MIN_NATS,
     "1:1: error: missing required key 'rules'"},
    {"missing required nested key", "kafka:\n  topics: [t]\n" MIN_NATS MIN_RULES,
     "2:3: error: missing required key 'brokers' in 'kafka'"},
    {"duplicate key", MINIMAL "rules: again.yaml\n", "9:1: error: duplicate key 'rules'"},
    {"YAML syntax error", "kafka:\n  brokers: b\n   topics: x\n",
     "3:10: error: YAML syntax error: mapping values are not allowed in this context"},
    {"empty file", "", "1:1: error: the config file is empty"},
    {"not a mapping", "- a\n",
     "1:1: error: the config must be a mapping (kafka:, nats:, rules:, ...)"},
    {"alias", MIN_KAFKA MIN_NATS "rules: &r x\nlog:\n  level: *r\n",
     "10:10: error: 'log.level': YAML aliases are not supported in the config"},
    {"topics empty", "kafka:\n  brokers: b\n  topics: []\n" MIN_NATS MIN_RULES,
     "3:11: error: 'kafka.topics' must list at least one topic, or a single '^regex'"},
    {"regex not alone",
     "kafka:\n  brokers: b\n  topics:\n    - a-events\n    - ^b.*$\n" MIN_NATS MIN_RULES,
     "5:7: error: 'kafka.topics[1]': a '^regex' subscription must be the only entry in "
     "'kafka.topics'"},
    {"bad regex", "kafka:\n  brokers: b\n  topics: [\"^a(\"]\n" MIN_NATS MIN_RULES,
     "3:12: error: 'kafka.topics[0]': invalid regular expression '^a(': Unmatched ( or \\("},
    {"regex repetition count past the longest topic name",
     "kafka:\n  brokers: b\n  topics: [\"^[a-z]{1,250}-events$\"]\n" MIN_NATS MIN_RULES,
     "3:12: error: 'kafka.topics[0]': regular expression '^[a-z]{1,250}-events$' is too complex "
     "(repetitions expand past 4096 elements, or count past 249, the longest topic name)"},
    {"regex nested repetitions expand past the limit",
     "kafka:\n  brokers: b\n  topics: [\"^((a{20}){20}){20}$\"]\n" MIN_NATS MIN_RULES,
     "3:12: error: 'kafka.topics[0]': regular expression '^((a{20}){20}){20}$' is too complex "
     "(repetitions expand past 4096 elements, or count past 249, the longest topic name)"},
    {"regex repeated groups expand past the limit (exponential in glibc regcomp)",
     "kafka:\n  brokers: b\n  topics: [\"^((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)$\"]\n" MIN_NATS
         MIN_RULES,
     "3:12: error: 'kafka.topics[0]': regular expression '^((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)$' "
     "is too complex (repetitions expand past 4096 elements, or count past 249, the longest "
     "topic name)"},
    {"regex stacked repetitions are refused",
     "kafka:\n  brokers: b\n  topics: [\"^(a+)++$\"]\n" MIN_NATS MIN_RULES,
     "3:12: error: 'kafka.topics[0]': regular expression '^(a+)++$' repeats a repetition ('+*', "
     "'?+', ...; undefined in POSIX extended regular expressions): keep one quantifier"},
    {"regex repeating an empty match is refused (regcomp runs for minutes on ^e?++++++)",
     "kafka:\n  brokers: b\n  topics: [\"^(e?)+x$\"]\n" MIN_NATS MIN_RULES,
     "3:12: error: 'kafka.topics[0]': regular expression '^(e?)+x$' repeats something that can "
     "match the empty string ('(a?)+', '(a|)*', '^*'); glibc's regcomp() takes exponential time "
     "on it: make the repeated part match at least one character"},
    {"regex repeating an alternative with an empty branch is refused",
     "kafka:\n  brokers: b\n  topics: [\"^(a|)*-events$\"]\n" MIN_NATS MIN_RULES,
     "3:12: error: 'kafka.topics[0]': regular expression '^(a|)*-events$' repeats something that "
     "can match the empty string ('(a?)+', '(a|)*', '^*'); glibc's regcomp() takes exponential "
     "time on it: make the repeated part match at least one character"},
    {"bad topic name", "kafka:\n  brokers: b\n  topics: [\"a b\"]\n" MIN_NATS MIN_RULES,
     "3:12: error: 'kafka.topics[0]': 'a b' is not a valid topic name (letters, digits, '.', '_', "
     "'-'; or a '^regex')"},
    {"property without =", MIN_KAFKA "  properties:\n    - fetch.wait.max.ms\n" MIN_NATS MIN_RULES,
     "6:7: error: 'kafka.properties[0]' must be key=value (a librdkafka property), got "
     "'fetch.wait.max.ms'"},
    {"property owned by a field",
     MIN_KAFKA "  properties: [a=1, bootstrap.servers=x:1]\n" MIN_NATS MIN_RULES,
     "5:21: error: 'kafka.properties[1]': set kafka.brokers instead of the property "
     "'bootstrap.servers'"},
    {"brokers empty", "kafka:\n  brokers: \"\"\n  topics: [t]\n" MIN_NATS MIN_RULES,
     "2:12: error: 'kafka.brokers' must not be empty (host:port,host:port)"},
    {"nats servers empty", MIN_KAFKA "nats:\n  servers: []\n" MIN_RULES,
     "6:12: error: 'nats.servers' must list at least one nats://host:port URL"},
    {"nats server not a URL", MIN_KAFKA "nats:\n  servers: [n1:4222]\n" MIN_RULES,
     "6:13: error: 'nats.servers[0]': expected nats://host:port or tls://host:port, got 'n1:4222'"},
    {"per-partition above total",
     MINIMAL "limits:\n  max_inflight_per_partition: 100\n  max_inflight_total: 10\n",
     "10:31: error: 'limits.max_inflight_per_partition' (100) must not exceed "
     "'limits.max_inflight_total' (10)"},
    {"explicit zero limit", MINIMAL "limits:\n  max_inflight_total: 0\n",
     "10:23: error: 'limits.max_inflight_total' must be between 1 and 16777216, got 0"},
    {"backoff inverted", MINIMAL "retry:\n  backoff_initial_ms: 500\n  backoff_max_ms: 100\n",
     "10:23: error: 'retry.backoff_initial_ms' (500) must not exceed 'retry.backoff_max_ms' (100)"},
    {"bad storage", MINIMAL "streams:\n  - name: S\n    subjects: [a]\n    storage: disk\n",
     "12:14: error: 'streams[0].storage' must be file or memory, got 'disk'"},
    {"bad replicas", MINIMAL "streams:\n  - name: S\n    subjects: [a]\n    replicas: 0\n",
     "12:15: error: 'streams[0].replicas' must be between 1 and 5, got 0"},
    {"bad stream name", MINIMAL "streams:\n  - name: a.b\n    subjects: [a]\n",
     "10:11: error: 'streams[0].name': 'a.b' is not a valid stream name (no spaces, '.', '*', '>', "
     "'/')"},
    {"bad subject", MINIMAL "streams:\n  - name: S\n    subjects: [\"a.>.b\"]\n",
     "11:16: error: 'streams[0].subjects[0]': 'a.>.b' is not a valid subject"},
    {"stream without subjects", MINIMAL "streams:\n  - name: S\n",
     "10:5: error: missing required key 'subjects' in 'streams[0]'"},
    {"bad log level", MINIMAL "log:\n  level: verbose\n",
     "10:10: error: 'log.level' must be debug, info, warn or error, got 'verbose'"},
    {"bad log format", MINIMAL "log:\n  format: xml\n",
     "10:11: error: 'log.format' must be logfmt or json, got 'xml'"},
    {"bad listen", MINIMAL "http:\n  listen: 9180\n",
     "10:11: error: 'http.listen' must be \"ipv4-address:port\" (e.g. 127.0.0.1:9180) or \"\" to "
     "disable, got '9180'"},
    {"listen hostname", MINIMAL "http:\n  listen: example.com:80\n",
     "10:11: error: 'http.listen' must be \"ipv4-address:port\" (e.g. 127.0.0.1:9180) or \"\" to "
     "disable, got 'example.com:80'"},
    {"dlq consumed by the subscription",
     "kafka:\n  brokers: b\n  topics: [\"^.*$\"]\n" MIN_NATS MIN_RULES "dlq:\n  topic: x.dlq\n",
     "9:10: error: 'dlq.topic' 'x.dlq' matches the subscription '^.*$'; the router would consume "
     "its own dead letters"},
    {"password without user",
     MIN_KAFKA "nats:\n  servers: [nats://n:1]\n  password_env: PW\n" MIN_RULES,
     "5:1: error: 'nats.user' is required with a password"},
};

START_TEST(invalid_config_reports_message_at_line_and_column)
{
    char err[512] = "", want[700];
    config_t *c = load(error_cases[_i].yaml, err, sizeof(err));
    ck_assert_msg(c == NULL, "%s: loaded", error_cases[_i].name);
    snprintf(want, sizeof(want), "%s:%s", cfgpath, error_cases[_i].want);
    ck_assert_msg(!strcmp(err, want), "%s:\n got: %s\nwant: %s", error_cases[_i].name, err, want);
}
END_TEST

START_TEST(ordinary_regex_subscriptions_load)
{
    static const char *const ok[] = {
        "^[a-z0-9._-]+-events$",
        "^(orders|payments|officers)[.]v[0-9]{1,3}-events$",
        "^[[:alnum:]_]{1,249}$",
        "^a{,5}(b|c)*d?$",
        "^(prod|staging)?[.]?orders(-v[0-9]+)?-events$",
        "^((officer|unit)-)+events$",
        "^(a*b)+$",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char yaml[512], err[512] = "";
        snprintf(yaml, sizeof(yaml),
                 "kafka:\n  brokers: b\n  topics: [\"%s\"]\n" MIN_NATS MIN_RULES, ok[i]);
        config_t *c = load(yaml, err, sizeof(err));
        ck_assert_msg(c != NULL, "%s: %s", ok[i], err);
        config_free(c);
    }
}
END_TEST

START_TEST(missing_file_names_the_path_and_reason)
{
    char err[512] = "";
    config_t *c = (config_t *)1;
    ck_assert_int_eq(config_load_file("/nonexistent/router.yaml", &c, err, sizeof(err)), -1);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err, "/nonexistent/router.yaml: cannot open: No such file or directory");
}
END_TEST

/* ---- ranges: the three reported overflows -------------------------------------- */

/*
 * Each file used to load, and the value then overflowed where it is used.
 * The assertion message shows what the consumer would have seen.
 */
static config_t *load_data_file(const char *name, char *path, size_t path_size, char *err,
                                size_t err_size)
{
    const char *src = getenv("ER_SOURCE_DIR");
    config_t *c = NULL;
    snprintf(path, path_size, "%s/tests/data/config/%s", src ? src : ER_SOURCE_DIR, name);
    int rc = config_load_file(path, &c, err, err_size);
    ck_assert_int_eq(rc == 0, c != NULL);
    return c;
}

static void assert_error_at(const char *path, const char *err, const char *want_tail)
{
    char want[700];
    snprintf(want, sizeof(want), "%s:%s", path, want_tail);
    ck_assert_msg(!strcmp(err, want), "\n got: %s\nwant: %s", err, want);
}

START_TEST(retry_max_attempts_above_u16_is_refused_not_wrapped)
{
    char err[512] = "", path[512];
    config_t *c =
        load_data_file("overflow_retry_max_attempts.yaml", path, sizeof(path), err, sizeof(err));
    ck_assert_msg(c == NULL,
                  "loaded: retry.max_attempts=%u, which router.c's uint16_t counter sees as "
                  "at most %u: retries never end",
                  c ? c->retry.max_attempts : 0, (unsigned)UINT16_MAX);
    assert_error_at(path, err,
                    "11:17: error: 'retry.max_attempts' must be between 1 and 65535, got 70000");
}
END_TEST

START_TEST(max_inflight_per_partition_at_2_pow_31_is_refused_not_overflowed)
{
    char err[512] = "", path[512];
    config_t *c = load_data_file("overflow_max_inflight_per_partition.yaml", path, sizeof(path),
                                 err, sizeof(err));
    ck_assert_msg(c == NULL,
                  "loaded: limits.max_inflight_per_partition=%u, window capacity 2*n+16 "
                  "wraps to %u",
                  c ? c->limits.max_inflight_per_partition : 0,
                  c ? c->limits.max_inflight_per_partition * 2u + 16u : 0);
    assert_error_at(path, err,
                    "11:31: error: 'limits.max_inflight_per_partition' must be between 1 and "
                    "1048576, got 2147483648");
}
END_TEST

START_TEST(reconnect_buffer_bytes_above_int_max_is_refused_not_negative)
{
    char err[512] = "", path[512];
    config_t *c = load_data_file("overflow_reconnect_buffer_bytes.yaml", path, sizeof(path), err,
                                 sizeof(err));
    ck_assert_msg(
        c == NULL, "loaded: nats.reconnect_buffer_bytes=%u, handed to cnats as the int %d",
        c ? c->nats.reconnect_buffer_bytes : 0, c ? (int)c->nats.reconnect_buffer_bytes : 0);
    assert_error_at(path, err,
                    "9:27: error: 'nats.reconnect_buffer_bytes' must be between 0 and 2147483647, "
                    "got 3000000000");
}
END_TEST

/* ---- ranges: every number key, from the key table itself ------------------------- */

static int is_number(const config_key_t *k)
{
    return k->type == CONFIG_TYPE_UINT32 || k->type == CONFIG_TYPE_INT32 ||
           k->type == CONFIG_TYPE_INT64;
}

/* A key's value in a config: its field, widened. */
static long long field_value(const config_t *c, const config_key_t *k)
{
    const char *base =
        !strncmp(k->name, "streams[].", 10) ? (const char *)&c->streams[0] : (const char *)c;
    uint32_t u32;
    int32_t i32;
    int64_t i64;
    switch (k->type) {
    case CONFIG_TYPE_UINT32:
        memcpy(&u32, base + k->offset, sizeof(u32));
        return u32;
    case CONFIG_TYPE_INT32:
        memcpy(&i32, base + k->offset, sizeof(i32));
        return i32;
    default:
        memcpy(&i64, base + k->offset, sizeof(i64));
        return i64;
    }
}

typedef struct kv {
    const char *key; /* a table name: "retry.max_attempts", "streams[].replicas" */
    char val[32];
} kv_t;

/*
 * A valid config with \p kv set; \p line and \p col receive where the value
 * of kv[0] sits. kafka, nats, rules and one stream are always there; other
 * sections only when a key needs them.
 */
static void yaml_with(char *out, size_t size, const kv_t *kv, size_t n, int *line, int *col)
{
    static const struct {
        const char *name, *base;
    } sections[] = {
        {"kafka", "kafka:\n  brokers: b1:9092\n  topics: [orders-events]\n"},
        {"nats", "nats:\n  servers: [nats://127.0.0.1:4222]\n"},
        {"limits", NULL},
        {"retry", NULL},
        {"dlq", NULL},
        {"http", NULL},
        {"log", NULL},
        {"streams[]", "streams:\n  - name: S\n    subjects: [a.>]\n"},
    };
    size_t o = (size_t)snprintf(out, size, "rules: rules.yaml\n"), emitted = 0;
    for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
        size_t sl = strlen(sections[s].name);
        int header = 0;
        if (sections[s].base) {
            o += (size_t)snprintf(out + o, size - o, "%s", sections[s].base);
            header = 1;
        }
        for (size_t i = 0; i < n; i++) {
            const char *leaf = kv[i].key + sl + 1;
            int indent = !strcmp(sections[s].name, "streams[]") ? 4 : 2;
            if (strncmp(kv[i].key, sections[s].name, sl) || kv[i].key[sl] != '.')
                continue;
            if (!header) {
                o += (size_t)snprintf(out + o, size - o, "%s:\n", sections[s].name);
                header = 1;
            }
            if (i == 0) {
                *line = 1;
                for (size_t j = 0; j < o; j++)
                    *line += out[j] == '\n';
                *col = indent + (int)strlen(leaf) + 2 + 1;
            }
            o += (size_t)snprintf(out + o, size - o, "%*s%s: %s\n", indent, "", leaf, kv[i].val);
            emitted++;
        }
    }
    ck_assert_uint_lt(o, size);
    ck_assert_msg(emitted == n, "a key of a section yaml_with() does not know: add it");
}

/* Keys whose valid values depend on another's: the other is set so that
 * any in-range value of the first is valid. */
static void add_companion(const char *key, kv_t *kv, size_t *n)
{
    static const struct {
        const char *key, *other;
        int other_max; /* 1: the other at its max, 0: at its min */
    } rel[] = {
        {"limits.max_inflight_per_partition", "limits.max_inflight_total", 1},
        {"limits.max_inflight_total", "limits.max_inflight_per_partition", 0},
        {"retry.backoff_initial_ms", "retry.backoff_max_ms", 1},
        {"retry.backoff_max_ms", "retry.backoff_initial_ms", 0},
    };
    size_t count;
    const config_key_t *keys = config_keys(&count);
    for (size_t r = 0; r < sizeof(rel) / sizeof(rel[0]); r++) {
        if (strcmp(rel[r].key, key))
            continue;
        for (size_t i = 0; i < count; i++)
            if (!strcmp(keys[i].name, rel[r].other)) {
                kv[*n].key = keys[i].name;
                snprintf(kv[*n].val, sizeof(kv[*n].val), "%lld",
                         (long long)(rel[r].other_max ? keys[i].max : keys[i].min));
                ++*n;
            }
    }
}

/* _i = key index * 4 + case: min ok, max ok, min - 1 refused, max + 1 refused. */
START_TEST(every_number_key_accepts_its_range_and_refuses_one_past_each_end)
{
    size_t count, n = 1;
    const config_key_t *k = &config_keys(&count)[_i / 4];
    int which = _i % 4, line = 0, col = 0;
    kv_t kv[3] = {{k->name, ""}};
    char yaml[1024], err[512] = "", want[700], path[64];

    if (!is_number(k))
        return;
    if (which == 0)
        snprintf(kv[0].val, sizeof(kv[0].val), "%lld", (long long)k->min);
    else if (which == 1)
        snprintf(kv[0].val, sizeof(kv[0].val), "%lld", (long long)k->max);
    else if (which == 2)
        snprintf(kv[0].val, sizeof(kv[0].val), "%lld", (long long)k->min - 1);
    else
        snprintf(kv[0].val, sizeof(kv[0].val), "%llu", (unsigned long long)k->max + 1);
    if (which < 2)
        add_companion(k->name, kv, &n);
    yaml_with(yaml, sizeof(yaml), kv, n, &line, &col);
    config_t *c = load(yaml, err, sizeof(err));
    if (which < 2) {
        ck_assert_msg(c != NULL, "%s = %s refused: %s\n%s", k->name, kv[0].val, err, yaml);
        ck_assert_int_eq(field_value(c, k), which == 0 ? k->min : k->max);
        config_free(c);
        return;
    }
    ck_assert_msg(c == NULL, "%s = %s loaded", k->name, kv[0].val);
    if (!strncmp(k->name, "streams[].", 10))
        snprintf(path, sizeof(path), "streams[0].%s", k->name + 10);
    else
        snprintf(path, sizeof(path), "%s", k->name);
    snprintf(want, sizeof(want), "%s:%d:%d: error: '%s' must be between %lld and %lld, got %s",
             cfgpath, line, col, path, (long long)k->min, (long long)k->max, kv[0].val);
    ck_assert_msg(!strcmp(err, want), "\n got: %s\nwant: %s", err, want);
}
END_TEST

START_TEST(every_number_key_defaults_to_the_table_value_within_its_range)
{
    size_t count;
    const config_key_t *keys = config_keys(&count);
    char yaml[1024], err[512] = "";
    int line, col;
    yaml_with(yaml, sizeof(yaml), NULL, 0, &line, &col);
    config_t *c = load(yaml, err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    for (size_t i = 0; i < count; i++) {
        const config_key_t *k = &keys[i];
        long long lo = k->type == CONFIG_TYPE_UINT32  ? 0
                       : k->type == CONFIG_TYPE_INT32 ? INT32_MIN
                                                      : INT64_MIN;
        long long hi = k->type == CONFIG_TYPE_UINT32  ? UINT32_MAX
                       : k->type == CONFIG_TYPE_INT32 ? INT32_MAX
                                                      : INT64_MAX;
        if (!is_number(k))
            continue;
        ck_assert_msg(lo <= k->min && k->min <= k->def && k->def <= k->max && k->max <= hi,
                      "%s: default %lld, range %lld..%lld does not fit", k->name, (long long)k->def,
                      (long long)k->min, (long long)k->max);
        ck_assert_msg(field_value(c, k) == k->def, "%s: loaded %lld, table default %lld", k->name,
                      field_value(c, k), (long long)k->def);
        ck_assert_msg(k->doc && *k->doc, "%s: no doc", k->name);
    }
    config_free(c);
}
END_TEST

/* The table and the libcyaml schema name the same keys: each table key
 * that the base config does not already hold is known to the loader. */
START_TEST(every_table_key_is_a_key_the_loader_knows)
{
    static const char *const in_base[] = {
        "kafka.brokers", "kafka.topics",   "nats.servers",      "rules",
        "streams",       "streams[].name", "streams[].subjects"};
    size_t count;
    const config_key_t *keys = config_keys(&count);
    for (size_t i = 0; i < count; i++) {
        const config_key_t *k = &keys[i];
        kv_t kv[1] = {{k->name, "x"}};
        char yaml[1024], err[512] = "";
        int line, col, skip = 0;
        for (size_t b = 0; b < sizeof(in_base) / sizeof(in_base[0]); b++)
            skip |= !strcmp(in_base[b], k->name);
        if (skip)
            continue;
        if (is_number(k))
            snprintf(kv[0].val, sizeof(kv[0].val), "%lld", (long long)k->def);
        else if (k->type == CONFIG_TYPE_STRINGS)
            snprintf(kv[0].val, sizeof(kv[0].val), "[x]");
        yaml_with(yaml, sizeof(yaml), kv, 1, &line, &col);
        config_t *c = load(yaml, err, sizeof(err));
        ck_assert_msg(c || !strstr(err, "unknown key"), "%s: %s", k->name, err);
        config_free(c);
    }
}
END_TEST

START_TEST(docs_config_md_is_the_generated_reference)
{
    const char *src = getenv("ER_SOURCE_DIR");
    char path[512], *want = NULL, *got = NULL;
    size_t want_len = 0, got_len = 0;
    FILE *fp = open_memstream(&got, &got_len);
    config_reference(fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/docs/config.md", src ? src : ER_SOURCE_DIR);
    fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "%s: cannot open", path);
    want = malloc(got_len + 2);
    want_len = fread(want, 1, got_len + 1, fp);
    fclose(fp);
    ck_assert_msg(want_len == got_len && !memcmp(want, got, got_len),
                  "%s differs from the key table in router/config.c; regenerate it with "
                  "./build/tools/er_config_reference > docs/config.md",
                  path);
    free(want);
    free(got);
}
END_TEST

/* ---- dump ----------------------------------------------------------------------- */

static char *dump_to_string(const config_t *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    config_dump(c, fp);
    fclose(fp);
    return buf;
}

START_TEST(dump_redacts_secrets_but_shows_where_they_live)
{
    char err[512] = "";
    config_t *c = load("kafka:\n  brokers: b\n  topics: [t]\n  properties:\n"
                       "    - sasl.password=hunter2\n    - ssl.key.password=k3y\n"
                       "    - sasl.oauthbearer.client.secret=s3cr3t\n    - SSL.KEY.PEM=pem-body\n"
                       "    - sasl.username=alice\n"
                       "nats:\n  servers: [\"nats://bob:pa55@n1:4222\", \"nats://t0ken@n2:4222\"]\n"
                       "  user: bob\n  password_env: NATS_PW\n"
                       "rules: /r.yaml\n"
                       "dlq:\n  topic: d\n  properties: [sasl.password=dlqpw]\n",
                       err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    setenv("NATS_PW", "envpw", 1);
    char *out = dump_to_string(c);
    static const char *const leaked[] = {"hunter2", "k3y",   "s3cr3t", "pem-body",
                                         "pa55",    "t0ken", "dlqpw",  "envpw"};
    for (size_t i = 0; i < sizeof(leaked) / sizeof(leaked[0]); i++)
        ck_assert_msg(strstr(out, leaked[i]) == NULL, "leaked %s in:\n%s", leaked[i], out);
    ck_assert_ptr_nonnull(strstr(out, "    - \"sasl.password=[redacted]\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "    - \"SSL.KEY.PEM=[redacted]\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "    - \"sasl.username=alice\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "    - \"nats://bob:[redacted]@n1:4222\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "    - \"nats://[redacted]@n2:4222\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "  password_env: \"NATS_PW\"\n"));
    free(out);
    config_free(c);
}
END_TEST

START_TEST(dump_output_loads_back_to_the_same_config)
{
    char err[512] = "", path2[192];
    config_t *c = load(full_yaml, err, sizeof(err)), *c2 = NULL;
    ck_assert_msg(c != NULL, "%s", err);
    char *first = dump_to_string(c);
    snprintf(path2, sizeof(path2), "%s/dumped.yaml", tmpdir);
    unit_write_file(path2, first);
    ck_assert_msg(config_load_file(path2, &c2, err, sizeof(err)) == 0, "%s\n%s", err, first);
    free(c2->path);
    c2->path = strdup(c->path); /* only the header line may differ */
    char *second = dump_to_string(c2);
    ck_assert_str_eq(first, second);
    free(first);
    free(second);
    config_free(c);
    config_free(c2);
}
END_TEST

/* ---- secrets ----------------------------------------------------------------------- */

START_TEST(secret_from_env_wins_over_file)
{
    char err[128], path[192];
    snprintf(path, sizeof(path), "%s/pw", tmpdir);
    unit_write_file(path, "from-file\n");
    setenv("ER_TEST_SECRET", "from-env", 1);
    char *s = config_secret("ER_TEST_SECRET", path, err, sizeof(err));
    ck_assert_str_eq(s, "from-env");
    free(s);
    unsetenv("ER_TEST_SECRET");
    s = config_secret("ER_TEST_SECRET", path, err, sizeof(err)); /* env unset: file */
    ck_assert_str_eq(s, "from-file");                            /* newline trimmed */
    free(s);
}
END_TEST

START_TEST(secret_file_trailing_crlf_is_trimmed)
{
    char err[128], path[192];
    snprintf(path, sizeof(path), "%s/pw", tmpdir);
    unit_write_file(path, "p w\r\n");
    char *s = config_secret(NULL, path, err, sizeof(err));
    ck_assert_str_eq(s, "p w");
    free(s);
}
END_TEST

START_TEST(secret_neither_set_is_null_without_error)
{
    char err[128] = "x";
    ck_assert_ptr_null(config_secret(NULL, NULL, err, sizeof(err)));
    ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(secret_named_but_missing_is_an_error)
{
    char err[128] = "";
    unsetenv("ER_TEST_NOPE");
    ck_assert_ptr_null(config_secret("ER_TEST_NOPE", NULL, err, sizeof(err)));
    ck_assert_str_eq(err, "environment variable ER_TEST_NOPE is not set");
    ck_assert_ptr_null(config_secret(NULL, "/nonexistent/pw", err, sizeof(err)));
    ck_assert_str_eq(err, "/nonexistent/pw: cannot open: No such file or directory");
}
END_TEST

/* ---- no secret in an error (issue 13 item 2) ------------------------------------------ */

static const struct {
    const char *yaml;  /* each holds the secret "hunter2" where it does not belong */
    const char *names; /* what the error must still name */
} leak_cases[] = {
    {MIN_KAFKA "  properties:\n    - \"sasl.password: hunter2\"\n" MIN_NATS MIN_RULES,
     "sasl.password"},
    {MIN_KAFKA "  properties:\n    - \"sasl.password hunter2=x\"\n" MIN_NATS MIN_RULES,
     "sasl.password"},
    {MIN_KAFKA MIN_NATS MIN_RULES "dlq:\n  topic: dlq\n  properties:\n"
                                  "    - \"ssl.key.password hunter2\"\n",
     "ssl.key.password"},
    {MIN_KAFKA "nats:\n  servers:\n    - nats//bob:hunter2@n1:4222\n" MIN_RULES, "bob"},
};

START_TEST(config_errors_never_echo_a_secret)
{
    char err[1024] = "";
    config_t *c = load(leak_cases[_i].yaml, err, sizeof(err));
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "hunter2") == NULL, "secret in the error: %s", err);
    ck_assert_msg(strstr(err, leak_cases[_i].names) != NULL, "%s", err);
}
END_TEST

/* A secret file that group or others may read works but is reported
 * (SEC-0001, warn) once; an owner-only file is not. */
START_TEST(secret_file_readable_by_others_is_warned_about)
{
    char err[128], open_pw[192], closed_pw[192], text[8192] = "";
    snprintf(open_pw, sizeof(open_pw), "%s/open-pw", tmpdir);
    snprintf(closed_pw, sizeof(closed_pw), "%s/closed-pw", tmpdir);
    unit_write_file(open_pw, "pw1\n");
    unit_write_file(closed_pw, "pw2\n");
    ck_assert_int_eq(chmod(open_pw, 0644), 0);
    ck_assert_int_eq(chmod(closed_pw, 0600), 0);

    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT);
    FILE *cap = tmpfile();
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(cap), STDERR_FILENO);
    char *a = config_secret(NULL, open_pw, err, sizeof(err));
    char *b = config_secret(NULL, closed_pw, err, sizeof(err));
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(cap);
    text[fread(text, 1, sizeof(text) - 1, cap)] = '\0';
    fclose(cap);

    ck_assert_str_eq(a, "pw1");
    ck_assert_str_eq(b, "pw2");
    free(a);
    free(b);
    ck_assert_msg(strstr(text, "level=warn id=SEC-0001") != NULL, "no SEC-0001: '%s'", text);
    ck_assert_ptr_nonnull(strstr(text, open_pw));
    ck_assert_msg(strstr(text, closed_pw) == NULL, "%s", text);
}
END_TEST

/* Load text with config_load_file_diags(); the return code, the config in
 * *c (the caller frees it) and every diagnostic formatted into out[]. */
static int load_diags(const char *text, config_t **c, char out[][512], size_t max, size_t *n)
{
    diags_t d = {0};
    int rc;

    unit_write_file(cfgpath, text);
    rc = config_load_file_diags(cfgpath, c, &d);
    *n = d.count;
    for (size_t i = 0; i < d.count; i++) {
        char line[512];
        diag_format(&d.items[i], line, sizeof(line));
        fprintf(stderr, "  %s\n", line);
        if (i < max)
            snprintf(out[i], sizeof(out[i]), "%s", line + strlen(cfgpath));
    }
    diags_clear(&d);
    return rc;
}

/* Every problem of a config in one load, by line then column: the schema's
 * (an unknown key, a number out of range) and the validation's (a bad NATS
 * URL, a bad log level), each at its line:col, none twice. */
START_TEST(four_independent_errors_are_all_reported_in_one_load_by_line_and_column)
{
    static const char text[] = "kafka:\n"                      /* 1 */
                               "  brokers: b1:9092\n"          /* 2 */
                               "  topics: [orders-events]\n"   /* 3 */
                               "  grup_id: x\n"                /* 4 */
                               "nats:\n"                       /* 5 */
                               "  servers: [localhost:4222]\n" /* 6 */
                               "rules: rules.yaml\n"           /* 7 */
                               "retry:\n"                      /* 8 */
                               "  max_attempts: 70000\n"       /* 9 */
                               "log:\n"                        /* 10 */
                               "  level: loud\n";              /* 11 */
    static const char *const want[] = {
        ":4:3: error: unknown key 'grup_id' in 'kafka' (did you mean 'group_id'?)",
        (":6:13: error: 'nats.servers[0]': expected nats://host:port or tls://host:port, got "
         "'localhost:4222'"),
        ":9:17: error: 'retry.max_attempts' must be between 1 and 65535, got 70000",
        ":11:10: error: 'log.level' must be debug, info, warn or error, got 'loud'",
    };
    char got[8][512];
    config_t *c = NULL;
    size_t n;

    ck_assert_int_eq(load_diags(text, &c, got, 8, &n), -1);
    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < 4; i++)
        ck_assert_str_eq(got[i], want[i]);
    config_free(c);
}
END_TEST

/* The legacy loader still says the first of them, and returns no config. */
START_TEST(legacy_loader_reports_the_first_of_several_errors)
{
    char err[512];
    config_t *c = load(MIN_KAFKA "  grup_id: x\n"
                                 "nats:\n  servers: [localhost:4222]\n" MIN_RULES,
                       err, sizeof(err));

    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, ":5:3: error: unknown key 'grup_id' in 'kafka'") != NULL, "%s", err);
}
END_TEST

/* A syntax error is one problem, not a cascade. */
START_TEST(a_syntax_error_is_one_diagnostic)
{
    char got[8][512];
    config_t *c = NULL;
    size_t n;

    ck_assert_int_eq(
        load_diags(MIN_KAFKA "nats:\n  servers: [nats://a:1\n" MIN_RULES, &c, got, 8, &n), -1);
    ck_assert_ptr_null(c);
    ck_assert_uint_eq(n, 1);
    ck_assert_msg(strstr(got[0], "error: YAML syntax error") != NULL, "%s", got[0]);
}
END_TEST

/* A misspelt required key is its unknown key, not also a missing one. */
START_TEST(a_misspelt_required_key_is_one_diagnostic_not_also_missing)
{
    char got[8][512];
    config_t *c = NULL;
    size_t n;

    ck_assert_int_eq(
        load_diags("kafka:\n  brokrs: b\n  topics: [t]\n" MIN_NATS MIN_RULES, &c, got, 8, &n), -1);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(got[0], ":2:3: error: unknown key 'brokrs' in 'kafka' (did you mean "
                             "'brokers'?)");
    config_free(c);
}
END_TEST

/* A mapping of the wrong type is one problem: its contents are not judged. */
START_TEST(a_wrong_type_mapping_is_one_diagnostic_not_its_contents)
{
    char got[8][512];
    config_t *c = NULL;
    size_t n;

    ck_assert_int_eq(
        load_diags("kafka: [brokers, x]\n" MIN_NATS MIN_RULES "log: [levl]\n", &c, got, 8, &n), -1);
    ck_assert_ptr_null(c);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(got[0], ":1:8: error: 'kafka' must be a mapping, not a list");
    ck_assert_str_eq(got[1], ":6:6: error: 'log' must be a mapping, not a list");
}
END_TEST

/* A number out of its range is not judged again against another number. */
START_TEST(an_out_of_range_number_is_not_judged_again_against_another)
{
    char got[8][512];
    config_t *c = NULL;
    size_t n;

    ck_assert_int_eq(load_diags(MINIMAL "limits:\n  max_inflight_total: 0\n"
                                        "retry:\n  backoff_max_ms: 0\n",
                                &c, got, 8, &n),
                     -1);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(got[0],
                     ":10:23: error: 'limits.max_inflight_total' must be between 1 and 16777216, "
                     "got 0");
    ck_assert_str_eq(got[1],
                     ":12:19: error: 'retry.backoff_max_ms' must be between 1 and 3600000, got 0");
    config_free(c);
}
END_TEST

/* Every bad entry of a list is its own problem, and one bad entry does not
 * hide the checks after its list. */
START_TEST(every_bad_list_entry_is_reported)
{
    char got[8][512];
    config_t *c = NULL;
    size_t n;

    ck_assert_int_eq(load_diags(MIN_KAFKA "  properties: [x, a=1, bootstrap.servers=y]\n"
                                          "  group_instance_id: i\n  group_instance_id_env: E\n"
                                          "nats:\n  servers: [a:1, nats://ok:1, b:2]\n" MIN_RULES
                                          "streams:\n  - name: a.b\n    subjects: [x.>.y, \"\"]\n",
                                &c, got, 8, &n),
                     -1);
    ck_assert_uint_eq(n, 8);
    ck_assert_str_eq(got[0], ":5:16: error: 'kafka.properties[0]' must be key=value (a librdkafka "
                             "property), got 'x'");
    ck_assert_str_eq(got[1], ":5:24: error: 'kafka.properties[2]': set kafka.brokers instead of "
                             "the property 'bootstrap.servers'");
    ck_assert_str_eq(got[2], ":7:26: error: set either 'kafka.group_instance_id' or "
                             "'kafka.group_instance_id_env', not both");
    ck_assert_str_eq(got[3], ":9:13: error: 'nats.servers[0]': expected nats://host:port or "
                             "tls://host:port, got 'a:1'");
    ck_assert_str_eq(got[4], ":9:31: error: 'nats.servers[2]': expected nats://host:port or "
                             "tls://host:port, got 'b:2'");
    ck_assert_str_eq(got[5], ":12:11: error: 'streams[0].name': 'a.b' is not a valid stream name "
                             "(no spaces, '.', '*', '>', '/')");
    ck_assert_str_eq(got[6], ":13:16: error: 'streams[0].subjects[0]': 'x.>.y' is not a valid "
                             "subject");
    ck_assert_str_eq(got[7], ":13:23: error: 'streams[0].subjects[1]': '' is not a valid subject");
    config_free(c);
}
END_TEST

/* The same problem at the same place is said once (the DLQ topic is
 * consumed, whichever entry consumes it). */
START_TEST(the_same_problem_at_the_same_place_is_reported_once)
{
    char got[8][512];
    config_t *c = NULL;
    size_t n;

    ck_assert_int_eq(load_diags("kafka:\n  brokers: b\n  topics: [a, a]\n" MIN_NATS MIN_RULES
                                "dlq:\n  topic: a\n",
                                &c, got, 8, &n),
                     -1);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(got[0], ":9:10: error: 'dlq.topic' 'a' is also a consumed topic; the router "
                             "would consume its own dead letters");
    config_free(c);
}
END_TEST

/* Past 100 problems the rest is one line, and the walk stops reading. */
START_TEST(past_a_hundred_problems_the_rest_is_one_line)
{
    char text[4096], got[128][512];
    config_t *c = NULL;
    size_t n, o = 0;

    o += (size_t)snprintf(text + o, sizeof(text) - o, "%s", MINIMAL);
    for (int i = 0; i < 150; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, "x%d: 1\n", i);
    ck_assert_int_eq(load_diags(text, &c, got, 128, &n), -1);
    ck_assert_ptr_null(c);
    ck_assert_uint_eq(n, 101);
    ck_assert_str_eq(got[0], ":9:1: error: unknown key 'x0'");
    ck_assert_str_eq(got[99], ":108:1: error: unknown key 'x99'");
    ck_assert_msg(strstr(got[100], "more problems not shown") != NULL, "%s", got[100]);
}
END_TEST

/* A config whose only problems libcyaml can load past is still returned
 * (for `check -c` to go on with), and placed. */
START_TEST(a_config_with_tolerable_errors_is_still_returned_for_checking)
{
    char got[8][512];
    config_t *c = NULL;
    size_t n;
    int line, col;

    ck_assert_int_eq(load_diags(MINIMAL "log:\n  levl: debug\n", &c, got, 8, &n), -1);
    ck_assert_uint_eq(n, 1);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(config_where(c, "rules", &line, &col), 1);
    ck_assert_int_eq(line, 8);
    ck_assert_int_eq(col, 8);
    config_free(c);
}
END_TEST

/* config_where() places a key of a loaded config, or its nearest ancestor. */
START_TEST(config_where_places_a_key_or_its_nearest_ancestor)
{
    config_t *c;
    char err[512];
    int line, col;

    c = load(MIN_KAFKA "  properties:\n    - a.b=1\n    - fetch.wait.max.ms=10\n" MIN_NATS
                       "rules: r.yaml\n"
                       "streams:\n  - name: A\n    subjects: [a.x]\n"
                       "  - name: B\n    subjects: [b.x, b.y]\n",
             err, sizeof(err));
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(config_where(c, "kafka.properties[1]", &line, &col), 1);
    ck_assert_int_eq(line, 7);
    ck_assert_int_eq(col, 7);
    ck_assert_int_eq(config_where(c, "nats.servers", &line, &col), 1);
    ck_assert_int_eq(line, 10); /* the list's first entry */
    ck_assert_int_eq(col, 5);
    ck_assert_int_eq(config_where(c, "streams[1].subjects[0]", &line, &col), 1);
    ck_assert_int_eq(line, 16);
    ck_assert_int_eq(col, 16);
    ck_assert_int_eq(config_where(c, "kafka.group_id", &line, &col), 0);
    ck_assert_int_eq(line, 1); /* kafka: */
    ck_assert_int_eq(col, 1);
    ck_assert_int_eq(config_where(c, "streams[1].replicas", &line, &col), 0);
    ck_assert_int_eq(line, 15); /* the entry: "- name: B" */
    ck_assert_int_eq(col, 5);
    ck_assert_int_eq(config_where(c, "dlq.topic", &line, &col), -1);
    ck_assert_int_eq(line, 1);
    ck_assert_int_eq(col, 1);
    config_free(c);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    size_t n_keys;
    (void)config_keys(&n_keys);
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, complete_file_loads_every_field);
    tcase_add_test(tc, absent_keys_take_the_documented_defaults);
    tcase_add_test(tc, null_optional_strings_load_as_unset);
    tcase_add_test(tc, relative_rules_path_is_resolved_against_the_config_dir);
    tcase_add_test(tc, shipped_local_config_loads);
    tcase_add_test(tc, missing_file_names_the_path_and_reason);
    tcase_add_test(tc, ordinary_regex_subscriptions_load);
    tcase_add_loop_test(tc, invalid_config_reports_message_at_line_and_column, 0,
                        (int)(sizeof(error_cases) / sizeof(error_cases[0])));
    tcase_add_loop_test(tc, config_errors_never_echo_a_secret, 0,
                        (int)(sizeof(leak_cases) / sizeof(leak_cases[0])));
    tcase_add_test(tc, secret_file_readable_by_others_is_warned_about);
    tcase_add_test(tc, four_independent_errors_are_all_reported_in_one_load_by_line_and_column);
    tcase_add_test(tc, legacy_loader_reports_the_first_of_several_errors);
    tcase_add_test(tc, a_syntax_error_is_one_diagnostic);
    tcase_add_test(tc, a_misspelt_required_key_is_one_diagnostic_not_also_missing);
    tcase_add_test(tc, a_wrong_type_mapping_is_one_diagnostic_not_its_contents);
    tcase_add_test(tc, an_out_of_range_number_is_not_judged_again_against_another);
    tcase_add_test(tc, every_bad_list_entry_is_reported);
    tcase_add_test(tc, the_same_problem_at_the_same_place_is_reported_once);
    tcase_add_test(tc, past_a_hundred_problems_the_rest_is_one_line);
    tcase_add_test(tc, a_config_with_tolerable_errors_is_still_returned_for_checking);
    tcase_add_test(tc, config_where_places_a_key_or_its_nearest_ancestor);
    suite_add_tcase(s, tc);
    tc = tcase_create("ranges");
    tcase_add_test(tc, retry_max_attempts_above_u16_is_refused_not_wrapped);
    tcase_add_test(tc, max_inflight_per_partition_at_2_pow_31_is_refused_not_overflowed);
    tcase_add_test(tc, reconnect_buffer_bytes_above_int_max_is_refused_not_negative);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, every_number_key_accepts_its_range_and_refuses_one_past_each_end, 0,
                        (int)(n_keys * 4));
    tcase_add_test(tc, every_number_key_defaults_to_the_table_value_within_its_range);
    tcase_add_test(tc, every_table_key_is_a_key_the_loader_knows);
    tcase_add_test(tc, docs_config_md_is_the_generated_reference);
    suite_add_tcase(s, tc);
    tc = tcase_create("dump");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, dump_redacts_secrets_but_shows_where_they_live);
    tcase_add_test(tc, dump_output_loads_back_to_the_same_config);
    suite_add_tcase(s, tc);
    tc = tcase_create("secret");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, secret_from_env_wins_over_file);
    tcase_add_test(tc, secret_file_trailing_crlf_is_trimmed);
    tcase_add_test(tc, secret_neither_set_is_null_without_error);
    tcase_add_test(tc, secret_named_but_missing_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
