/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for config.c: a complete file, the shipped local config,
 * defaults for absent keys, every error class with its exact message and
 * line:col, rules path resolution, redaction in config_dump() and
 * config_secret(). Each test writes its YAML into a fresh temporary
 * directory as router.yaml.
 */
#include <check.h>
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
    ck_assert_uint_eq(c->kafka.properties_count, 2);
    ck_assert_str_eq(c->kafka.properties[1], "partition.assignment.strategy=range,roundrobin");
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
     "8:3: unknown key 'max_inflight_totl' in 'limits' (did you mean 'max_inflight_total'?)"},
    {"two ways to authenticate to NATS",
     MIN_KAFKA "nats:\n  servers: [nats://n:4222]\n  token_env: T\n  creds_file: /c\n" MIN_RULES,
     "8:15: set only one way to authenticate to NATS: 'nats.user' (with a password), "
     "'nats.token_env', 'nats.creds_file' or 'nats.nkey_seed_file'"},
    {"unknown key in kafka", "kafka:\n  brokerz: b\n  topics: [t]\n",
     "2:3: unknown key 'brokerz' in 'kafka' (did you mean 'brokers'?)"},
    {"unknown top-level key, transposed", "kafak:\n  brokers: b\n",
     "1:1: unknown key 'kafak' (did you mean 'kafka'?)"},
    {"unknown key, nothing close", MINIMAL "colour: blue\n", "9:1: unknown key 'colour'"},
    {"unknown key in a stream",
     MINIMAL "streams:\n  - name: S\n    subjects: [a.b]\n    replica: 3\n",
     "12:5: unknown key 'replica' in 'streams[0]' (did you mean 'replicas'?)"},
    {"integer expected", MINIMAL "limits:\n  max_inflight_total: lots\n",
     "10:23: 'limits.max_inflight_total' must be an unsigned integer, got 'lots'"},
    {"negative unsigned", MINIMAL "retry:\n  max_attempts: -1\n",
     "10:17: 'retry.max_attempts' must be an unsigned integer, got '-1'"},
    {"unsigned out of range", MINIMAL "retry:\n  max_attempts: 4294967296\n",
     "10:17: 'retry.max_attempts' is out of range (max 4294967295), got '4294967296'"},
    {"signed out of range",
     MIN_KAFKA "nats:\n  servers: [nats://n:1]\n  max_reconnects: 3000000000\n" MIN_RULES,
     "7:19: 'nats.max_reconnects' is out of range (-2147483648..2147483647), got '3000000000'"},
    {"list given a scalar", "kafka:\n  brokers: b\n  topics: orders-events\n",
     "3:11: 'kafka.topics' must be a list, not a scalar (write: - orders-events)"},
    {"mapping given a list", "kafka: [a, b]\n", "1:8: 'kafka' must be a mapping, not a list"},
    {"string given a mapping", "kafka:\n  brokers: {a: 1}\n",
     "2:12: 'kafka.brokers' must be a string, not a mapping"},
    {"missing required top-level key", MIN_KAFKA MIN_NATS, "1:1: missing required key 'rules'"},
    {"missing required nested key", "kafka:\n  topics: [t]\n" MIN_NATS MIN_RULES,
     "2:3: missing required key 'brokers' in 'kafka'"},
    {"duplicate key", MINIMAL "rules: again.yaml\n", "9:1: duplicate key 'rules'"},
    {"YAML syntax error", "kafka:\n  brokers: b\n   topics: x\n",
     "3:10: YAML syntax error: mapping values are not allowed in this context"},
    {"empty file", "", "1:1: the config file is empty"},
    {"not a mapping", "- a\n", "1:1: the config must be a mapping (kafka:, nats:, rules:, ...)"},
    {"alias", MIN_KAFKA MIN_NATS "rules: &r x\nlog:\n  level: *r\n",
     "10:10: 'log.level': YAML aliases are not supported in the config"},
    {"topics empty", "kafka:\n  brokers: b\n  topics: []\n" MIN_NATS MIN_RULES,
     "3:11: 'kafka.topics' must list at least one topic, or a single '^regex'"},
    {"regex not alone",
     "kafka:\n  brokers: b\n  topics:\n    - a-events\n    - ^b.*$\n" MIN_NATS MIN_RULES,
     "5:7: 'kafka.topics[1]': a '^regex' subscription must be the only entry in 'kafka.topics'"},
    {"bad regex", "kafka:\n  brokers: b\n  topics: [\"^a(\"]\n" MIN_NATS MIN_RULES,
     "3:12: 'kafka.topics[0]': invalid regular expression '^a(': Unmatched ( or \\("},
    {"bad topic name", "kafka:\n  brokers: b\n  topics: [\"a b\"]\n" MIN_NATS MIN_RULES,
     "3:12: 'kafka.topics[0]': 'a b' is not a valid topic name (letters, digits, '.', '_', "
     "'-'; or a '^regex')"},
    {"property without =", MIN_KAFKA "  properties:\n    - fetch.wait.max.ms\n" MIN_NATS MIN_RULES,
     "6:7: 'kafka.properties[0]' must be key=value (a librdkafka property), got "
     "'fetch.wait.max.ms'"},
    {"property owned by a field",
     MIN_KAFKA "  properties: [a=1, bootstrap.servers=x:1]\n" MIN_NATS MIN_RULES,
     "5:21: 'kafka.properties[1]': set kafka.brokers instead of the property "
     "'bootstrap.servers'"},
    {"brokers empty", "kafka:\n  brokers: \"\"\n  topics: [t]\n" MIN_NATS MIN_RULES,
     "2:12: 'kafka.brokers' must not be empty (host:port,host:port)"},
    {"nats servers empty", MIN_KAFKA "nats:\n  servers: []\n" MIN_RULES,
     "6:12: 'nats.servers' must list at least one nats://host:port URL"},
    {"nats server not a URL", MIN_KAFKA "nats:\n  servers: [n1:4222]\n" MIN_RULES,
     "6:13: 'nats.servers[0]': expected nats://host:port or tls://host:port, got 'n1:4222'"},
    {"per-partition above total",
     MINIMAL "limits:\n  max_inflight_per_partition: 100\n  max_inflight_total: 10\n",
     "10:31: 'limits.max_inflight_per_partition' (100) must not exceed "
     "'limits.max_inflight_total' (10)"},
    {"explicit zero limit", MINIMAL "limits:\n  max_inflight_total: 0\n",
     "10:23: 'limits.max_inflight_total' must be > 0"},
    {"backoff inverted", MINIMAL "retry:\n  backoff_initial_ms: 500\n  backoff_max_ms: 100\n",
     "10:23: 'retry.backoff_initial_ms' (500) must not exceed 'retry.backoff_max_ms' (100)"},
    {"bad storage", MINIMAL "streams:\n  - name: S\n    subjects: [a]\n    storage: disk\n",
     "12:14: 'streams[0].storage' must be file or memory, got 'disk'"},
    {"bad replicas", MINIMAL "streams:\n  - name: S\n    subjects: [a]\n    replicas: 0\n",
     "12:15: 'streams[0].replicas' must be 1..5, got 0"},
    {"bad stream name", MINIMAL "streams:\n  - name: a.b\n    subjects: [a]\n",
     "10:11: 'streams[0].name': 'a.b' is not a valid stream name (no spaces, '.', '*', '>', "
     "'/')"},
    {"bad subject", MINIMAL "streams:\n  - name: S\n    subjects: [\"a.>.b\"]\n",
     "11:16: 'streams[0].subjects[0]': 'a.>.b' is not a valid subject"},
    {"stream without subjects", MINIMAL "streams:\n  - name: S\n",
     "10:5: missing required key 'subjects' in 'streams[0]'"},
    {"bad log level", MINIMAL "log:\n  level: verbose\n",
     "10:10: 'log.level' must be debug, info, warn or error, got 'verbose'"},
    {"bad log format", MINIMAL "log:\n  format: xml\n",
     "10:11: 'log.format' must be logfmt or json, got 'xml'"},
    {"bad listen", MINIMAL "http:\n  listen: 9180\n",
     "10:11: 'http.listen' must be \"ipv4-address:port\" (e.g. 127.0.0.1:9180) or \"\" to "
     "disable, got '9180'"},
    {"listen hostname", MINIMAL "http:\n  listen: example.com:80\n",
     "10:11: 'http.listen' must be \"ipv4-address:port\" (e.g. 127.0.0.1:9180) or \"\" to "
     "disable, got 'example.com:80'"},
    {"dlq consumed by the subscription",
     "kafka:\n  brokers: b\n  topics: [\"^.*$\"]\n" MIN_NATS MIN_RULES "dlq:\n  topic: x.dlq\n",
     "9:10: 'dlq.topic' 'x.dlq' matches the subscription '^.*$'; the router would consume "
     "its own dead letters"},
    {"password without user",
     MIN_KAFKA "nats:\n  servers: [nats://n:1]\n  password_env: PW\n" MIN_RULES,
     "5:1: 'nats.user' is required with a password"},
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

START_TEST(missing_file_names_the_path_and_reason)
{
    char err[512] = "";
    config_t *c = (config_t *)1;
    ck_assert_int_eq(config_load_file("/nonexistent/router.yaml", &c, err, sizeof(err)), -1);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err, "/nonexistent/router.yaml: cannot open: No such file or directory");
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

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, complete_file_loads_every_field);
    tcase_add_test(tc, absent_keys_take_the_documented_defaults);
    tcase_add_test(tc, null_optional_strings_load_as_unset);
    tcase_add_test(tc, relative_rules_path_is_resolved_against_the_config_dir);
    tcase_add_test(tc, shipped_local_config_loads);
    tcase_add_test(tc, missing_file_names_the_path_and_reason);
    tcase_add_loop_test(tc, invalid_config_reports_message_at_line_and_column, 0,
                        (int)(sizeof(error_cases) / sizeof(error_cases[0])));
    tcase_add_loop_test(tc, config_errors_never_echo_a_secret, 0,
                        (int)(sizeof(leak_cases) / sizeof(leak_cases[0])));
    tcase_add_test(tc, secret_file_readable_by_others_is_warned_about);
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
