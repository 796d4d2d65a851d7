/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.c: load router.yaml into a config_t, fill defaults, validate.
 *
 * The schema is a set of static const libcyaml field tables that mirror
 * config.h one to one; libcyaml does the loading. libcyaml 1.3.1 reports
 * problems only through its log callback, with positions of whatever event
 * it was looking at, so the file is also walked once with yamlwalk.h, guided
 * by the same schema tables: that walk finds unknown keys (with a "did you
 * mean"), wrong types, duplicate and missing keys at their exact line and
 * column (every one is reported; the words are this file's), and
 * records where every key sits so that the validation pass can
 * point at the offending value too, so that defaults are applied only
 * to keys that are absent (an explicit 0 stays 0 and is then judged), and
 * so that config_where() can place a key of a loaded config later (the
 * index stays on the config_t). When the walk's only problems are unknown
 * keys and numbers out of range, libcyaml loads again ignoring unknown keys
 * and the validation runs too, so one run reports every problem.
 * libcyaml's own message (captured by a custom log function) is the
 * fallback when the walk finds nothing to blame. Every problem goes through
 * diag.h, the reporter rule files use too, so both read
 * "file:line:col: error: message (hint)" and share one "did you mean".
 *
 * What each key means is written once, in the key table below the schema:
 * type, default, allowed range, one line of doc. libcyaml has no notion of
 * a default or a range, so the walk checks each number against the table
 * where it knows the value's line and column, apply_defaults() fills absent
 * keys from it, and config_reference() prints docs/config.md from it.
 *
 * Paths: a relative `rules:` path is resolved against the directory of the
 * config file, so `rules: ../../rules/default.yaml` in deploy/local/ works
 * from any working directory. The config file is read once into memory and
 * both passes parse the same bytes.
 *
 * Not for: the rule file (rules.c), connecting anywhere, or reading secret
 * values at load time (config_secret() does that when the caller asks).
 *
 * Threads: the loaders run on the main thread; the returned config
 * is immutable and may then be read from any thread.
 */
#include "errstr.h"
#include "config.h"

#include "fileio.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cyaml/cyaml.h>

#include "diag.h"
#include "listenaddr.h"
#include "log.h"
#include "secret.h"
#include "yamlwalk.h"

#define CONFIG_MAX_BYTES (1u << 20) /* a router.yaml is a few KiB */

/* ---- schema ---------------------------------------------------------------- */

typedef __typeof__(((config_t *)0)->kafka) cfg_kafka_t;
typedef __typeof__(((config_t *)0)->nats) cfg_nats_t;
typedef __typeof__(((config_t *)0)->limits) cfg_limits_t;
typedef __typeof__(((config_t *)0)->retry) cfg_retry_t;
typedef __typeof__(((config_t *)0)->dlq) cfg_dlq_t;
typedef __typeof__(((config_t *)0)->http) cfg_http_t;
typedef __typeof__(((config_t *)0)->log) cfg_log_t;

/* Required strings: plain pointers. Optional strings: "", "~" and "null"
 * load as NULL. http.listen is the exception: "" means "disabled". */
#define STR_REQ CYAML_FLAG_POINTER
#define STR_OPT (CYAML_FLAG_POINTER_NULL_STR | CYAML_FLAG_OPTIONAL)
#define OPT     CYAML_FLAG_OPTIONAL

static const cyaml_schema_value_t string_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t kafka_fields[] = {
    CYAML_FIELD_STRING_PTR("brokers", STR_REQ, cfg_kafka_t, brokers, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("group_id", STR_OPT, cfg_kafka_t, group_id, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("topics", CYAML_FLAG_POINTER, cfg_kafka_t, topics, &string_entry, 0,
                         CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("properties", CYAML_FLAG_POINTER | OPT, cfg_kafka_t, properties,
                         &string_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("group_instance_id", STR_OPT, cfg_kafka_t, group_instance_id, 0,
                           CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("group_instance_id_env", STR_OPT, cfg_kafka_t, group_instance_id_env, 0,
                           CYAML_UNLIMITED),
    CYAML_FIELD_UINT("refetch_idle_ms", OPT, cfg_kafka_t, refetch_idle_ms),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t nats_fields[] = {
    CYAML_FIELD_SEQUENCE("servers", CYAML_FLAG_POINTER, cfg_nats_t, servers, &string_entry, 0,
                         CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("domain", STR_OPT, cfg_nats_t, domain, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("api_prefix", STR_OPT, cfg_nats_t, api_prefix, 0, CYAML_UNLIMITED),
    CYAML_FIELD_UINT("ack_timeout_ms", OPT, cfg_nats_t, ack_timeout_ms),
    CYAML_FIELD_INT("max_reconnects", OPT, cfg_nats_t, max_reconnects),
    CYAML_FIELD_UINT("reconnect_wait_ms", OPT, cfg_nats_t, reconnect_wait_ms),
    CYAML_FIELD_UINT("reconnect_buffer_bytes", OPT, cfg_nats_t, reconnect_buffer_bytes),
    CYAML_FIELD_STRING_PTR("name", STR_OPT, cfg_nats_t, name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("user", STR_OPT, cfg_nats_t, user, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("password_env", STR_OPT, cfg_nats_t, password_env, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("password_file", STR_OPT, cfg_nats_t, password_file, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("token_env", STR_OPT, cfg_nats_t, token_env, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("creds_file", STR_OPT, cfg_nats_t, creds_file, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("nkey_seed_file", STR_OPT, cfg_nats_t, nkey_seed_file, 0,
                           CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("tls_ca_file", STR_OPT, cfg_nats_t, tls_ca_file, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("tls_cert_file", STR_OPT, cfg_nats_t, tls_cert_file, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("tls_key_file", STR_OPT, cfg_nats_t, tls_key_file, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t limits_fields[] = {
    CYAML_FIELD_UINT("max_inflight_per_partition", OPT, cfg_limits_t, max_inflight_per_partition),
    CYAML_FIELD_UINT("max_inflight_total", OPT, cfg_limits_t, max_inflight_total),
    CYAML_FIELD_UINT("drain_timeout_ms", OPT, cfg_limits_t, drain_timeout_ms),
    CYAML_FIELD_UINT("commit_interval_ms", OPT, cfg_limits_t, commit_interval_ms),
    CYAML_FIELD_UINT("revoke_timeout_ms", OPT, cfg_limits_t, revoke_timeout_ms),
    CYAML_FIELD_UINT("reconcile_timeout_ms", OPT, cfg_limits_t, reconcile_timeout_ms),
    CYAML_FIELD_UINT("shutdown_timeout_ms", OPT, cfg_limits_t, shutdown_timeout_ms),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t retry_fields[] = {
    CYAML_FIELD_UINT("max_attempts", OPT, cfg_retry_t, max_attempts),
    CYAML_FIELD_UINT("backoff_initial_ms", OPT, cfg_retry_t, backoff_initial_ms),
    CYAML_FIELD_UINT("backoff_max_ms", OPT, cfg_retry_t, backoff_max_ms),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t dlq_fields[] = {
    CYAML_FIELD_STRING_PTR("topic", STR_OPT, cfg_dlq_t, topic, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("properties", CYAML_FLAG_POINTER | OPT, cfg_dlq_t, properties,
                         &string_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t http_fields[] = {
    CYAML_FIELD_STRING_PTR("listen", CYAML_FLAG_POINTER | OPT, cfg_http_t, listen, 0,
                           CYAML_UNLIMITED),
    CYAML_FIELD_UINT("stuck_after_ms", OPT, cfg_http_t, stuck_after_ms),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t log_fields[] = {
    CYAML_FIELD_STRING_PTR("level", STR_OPT, cfg_log_t, level, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("format", STR_OPT, cfg_log_t, format, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t stream_fields[] = {
    CYAML_FIELD_STRING_PTR("name", STR_REQ, config_stream_t, name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("subjects", CYAML_FLAG_POINTER, config_stream_t, subjects, &string_entry,
                         0, CYAML_UNLIMITED),
    CYAML_FIELD_UINT("replicas", OPT, config_stream_t, replicas),
    CYAML_FIELD_STRING_PTR("storage", STR_OPT, config_stream_t, storage, 0, CYAML_UNLIMITED),
    CYAML_FIELD_UINT("duplicate_window_s", OPT, config_stream_t, duplicate_window_s),
    CYAML_FIELD_INT("max_age_s", OPT, config_stream_t, max_age_s),
    CYAML_FIELD_INT("max_bytes", OPT, config_stream_t, max_bytes),
    CYAML_FIELD_INT("max_msgs", OPT, config_stream_t, max_msgs),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t stream_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, config_stream_t, stream_fields),
};

static const cyaml_schema_field_t config_fields[] = {
    CYAML_FIELD_MAPPING("kafka", CYAML_FLAG_DEFAULT, config_t, kafka, kafka_fields),
    CYAML_FIELD_MAPPING("nats", CYAML_FLAG_DEFAULT, config_t, nats, nats_fields),
    CYAML_FIELD_STRING_PTR("rules", STR_REQ, config_t, rules, 0, CYAML_UNLIMITED),
    CYAML_FIELD_MAPPING("limits", OPT, config_t, limits, limits_fields),
    CYAML_FIELD_MAPPING("retry", OPT, config_t, retry, retry_fields),
    CYAML_FIELD_MAPPING("dlq", OPT, config_t, dlq, dlq_fields),
    CYAML_FIELD_MAPPING("http", OPT, config_t, http, http_fields),
    CYAML_FIELD_MAPPING("log", OPT, config_t, log, log_fields),
    CYAML_FIELD_SEQUENCE("streams", CYAML_FLAG_POINTER | OPT, config_t, streams, &stream_entry, 0,
                         CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t config_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, config_t, config_fields),
};

/* ---- the key table ------------------------------------------------------------ */

/*
 * Every key once: type, default, range, one line of doc. The loader takes
 * defaults (apply_defaults) and ranges (walk_scalar) from here and
 * config_reference() prints docs/config.md from here; the libcyaml tables
 * above only say how to parse. A range is what the code that uses the value
 * can hold: retry.max_attempts meets a uint16_t counter in router.c, the
 * window capacity is 2 * max_inflight_per_partition + 16 in a uint32_t,
 * cnats takes reconnect_buffer_bytes and max_reconnects as int, and
 * seconds become int64 nanoseconds in streams.c.
 */
#define S(f)    offsetof(config_t, f)
#define ST(f)   offsetof(config_stream_t, f)
#define HOUR_MS 3600000
#define DAY_MS  86400000
#define KSTR(n, fl, d, off, doc)                                                                   \
    {                                                                                              \
        n, CONFIG_TYPE_STRING, fl, d, 0, 0, 0, off, doc                                            \
    }
#define KLIST(n, fl, off, doc)                                                                     \
    {                                                                                              \
        n, CONFIG_TYPE_STRINGS, fl, NULL, 0, 0, 0, off, doc                                        \
    }
#define KNUM(n, t, d, lo, hi, off, doc)                                                            \
    {                                                                                              \
        n, t, 0, NULL, d, lo, hi, off, doc                                                         \
    }
#define U32 CONFIG_TYPE_UINT32
#define I32 CONFIG_TYPE_INT32
#define I64 CONFIG_TYPE_INT64
#define REQ CONFIG_KEY_REQUIRED

static const config_key_t config_key_table[] = {
    KSTR("kafka.brokers", REQ, NULL, S(kafka.brokers),
         "Kafka bootstrap servers, host:port,host:port (librdkafka bootstrap.servers)."),
    KSTR("kafka.group_id", 0, "event-router", S(kafka.group_id), "Consumer group id."),
    KLIST("kafka.topics", REQ, S(kafka.topics),
          "Topics to consume, or one entry '^regex' to subscribe by pattern."),
    KLIST("kafka.properties", 0, S(kafka.properties),
          "librdkafka consumer properties, key=value, checked by librdkafka. A "
          "value may be ${env:NAME} or ${file:/path} (secrets; docs/deploy.md)."),
    KSTR("kafka.group_instance_id", 0, NULL, S(kafka.group_instance_id),
         "Static group membership id (group.instance.id)."),
    KSTR("kafka.group_instance_id_env", 0, NULL, S(kafka.group_instance_id_env),
         "Environment variable holding the static membership id, e.g. POD_NAME."),
    KNUM("kafka.refetch_idle_ms", U32, 5, 0, 300000, S(kafka.refetch_idle_ms),
         "Wait before fetching a partition again once the prefetch queue is full "
         "(librdkafka's fetch.queue.backoff.ms, which kafka.properties overrides); 0 = at once."),
    KLIST("nats.servers", REQ, S(nats.servers), "NATS URLs, nats://host:port or tls://host:port."),
    KSTR("nats.domain", 0, NULL, S(nats.domain), "JetStream domain; unset = none."),
    KSTR("nats.api_prefix", 0, NULL, S(nats.api_prefix), "JetStream API prefix; unset = $JS.API."),
    KNUM("nats.ack_timeout_ms", U32, 5000, 1, HOUR_MS, S(nats.ack_timeout_ms),
         "How long one publish waits for its PubAck."),
    KNUM("nats.max_reconnects", I32, -1, -1, INT32_MAX, S(nats.max_reconnects),
         "Reconnect attempts before giving up; -1 = unlimited."),
    KNUM("nats.reconnect_wait_ms", U32, 500, 1, HOUR_MS, S(nats.reconnect_wait_ms),
         "Wait between reconnect attempts to the same server."),
    KNUM("nats.reconnect_buffer_bytes", U32, 8 * 1024 * 1024, 0, INT32_MAX,
         S(nats.reconnect_buffer_bytes),
         "Publishes buffered while reconnecting; 0 = the cnats default (8 MiB)."),
    KSTR("nats.name", 0, "event-router", S(nats.name), "Connection name shown by the server."),
    KSTR("nats.user", 0, NULL, S(nats.user), "User name; needs password_env or password_file."),
    KSTR("nats.password_env", 0, NULL, S(nats.password_env),
         "Environment variable holding the password."),
    KSTR("nats.password_file", 0, NULL, S(nats.password_file), "File holding the password."),
    KSTR("nats.token_env", 0, NULL, S(nats.token_env), "Environment variable holding a token."),
    KSTR("nats.creds_file", 0, NULL, S(nats.creds_file), "NATS credentials (.creds) file."),
    KSTR("nats.nkey_seed_file", 0, NULL, S(nats.nkey_seed_file), "File holding an NKey seed."),
    KSTR("nats.tls_ca_file", 0, NULL, S(nats.tls_ca_file), "CA bundle to verify the server."),
    KSTR("nats.tls_cert_file", 0, NULL, S(nats.tls_cert_file),
         "Client certificate; goes with tls_key_file."),
    KSTR("nats.tls_key_file", 0, NULL, S(nats.tls_key_file),
         "Client private key; goes with tls_cert_file."),
    KSTR("rules", REQ, NULL, S(rules),
         "Rule file; a relative path is taken from the config file's directory."),
    KNUM("limits.max_inflight_per_partition", U32, 1024, 1, 1 << 20,
         S(limits.max_inflight_per_partition),
         "Events read and not finished, per partition; at the limit reading waits for PubAcks."),
    KNUM("limits.max_inflight_total", U32, 4096, 1, 1 << 24, S(limits.max_inflight_total),
         "Events read and not finished in the whole router; at least the per-partition limit."),
    KNUM("limits.drain_timeout_ms", U32, 15000, 1, HOUR_MS, S(limits.drain_timeout_ms),
         "On shutdown, how long to wait for in-flight events."),
    KNUM("limits.commit_interval_ms", U32, 1000, 1, DAY_MS, S(limits.commit_interval_ms),
         "Offset commit interval (librdkafka auto.commit.interval.ms)."),
    KNUM("limits.revoke_timeout_ms", U32, 10000, 1, HOUR_MS, S(limits.revoke_timeout_ms),
         "On a rebalance, how long to wait for a revoked partition's events."),
    KNUM("limits.shutdown_timeout_ms", U32, 25000, 1, HOUR_MS, S(limits.shutdown_timeout_ms),
         "On shutdown, the one deadline for everything: drain, final commit, leaving the group, "
         "DLQ flush and NATS close. Keep it below the pod's termination grace period."),
    KNUM("limits.reconcile_timeout_ms", U32, 20000, 0, 25000, S(limits.reconcile_timeout_ms),
         "Bound on looking up, when partitions are assigned, which of their events the streams "
         "already hold (so none is stored twice past the duplicate window); 0 turns the "
         "look-up off. At most 25000: the loop waits for it, and /healthz fails after 30 s."),
    KNUM("retry.max_attempts", U32, 10, 1, UINT16_MAX, S(retry.max_attempts),
         "Transient failures of one event before it goes to the dead-letter topic."),
    KNUM("retry.backoff_initial_ms", U32, 100, 1, HOUR_MS, S(retry.backoff_initial_ms),
         "First retry delay; doubles per attempt. At most backoff_max_ms."),
    KNUM("retry.backoff_max_ms", U32, 10000, 1, HOUR_MS, S(retry.backoff_max_ms),
         "Largest retry delay."),
    KSTR("dlq.topic", 0, NULL, S(dlq.topic),
         "Dead-letter topic; unset = no DLQ (events that need it stall)."),
    KLIST("dlq.properties", 0, S(dlq.properties),
          "librdkafka producer properties for the DLQ, key=value; ${env:NAME} and "
          "${file:/path} as in kafka.properties."),
    KSTR("http.listen", 0, "127.0.0.1:9180", S(http.listen),
         "Health and metrics endpoint, ipv4-address:port; \"\" disables it."),
    KNUM("http.stuck_after_ms", U32, 60000, 1, DAY_MS, S(http.stuck_after_ms),
         "Readiness fails when a partition makes no progress this long."),
    KSTR("log.level", 0, "info", S(log.level), "debug, info, warn or error."),
    KSTR("log.format", 0, "logfmt", S(log.format), "logfmt or json."),
    {"streams", CONFIG_TYPE_MAPPINGS, 0, NULL, 0, 0, 0, S(streams),
     "JetStream streams the routes need (`event-router streams` creates or checks them)."},
    KSTR("streams[].name", REQ, NULL, ST(name), "Stream name (no spaces, '.', '*', '>', '/')."),
    KLIST("streams[].subjects", REQ, ST(subjects), "Subjects the stream captures."),
    KNUM("streams[].replicas", U32, 3, 1, 5, ST(replicas), "Replicas."),
    KSTR("streams[].storage", 0, "file", ST(storage), "file or memory."),
    KNUM("streams[].duplicate_window_s", U32, 120, 1, 366 * 86400, ST(duplicate_window_s),
         "De-duplication window; the router relies on it. At most max_age_s when that is set."),
    KNUM("streams[].max_age_s", I64, 0, 0, INT64_MAX / 1000000000, ST(max_age_s),
         "Message age limit; 0 = unlimited."),
    KNUM("streams[].max_bytes", I64, -1, -1, INT64_MAX, ST(max_bytes),
         "Stream size limit; -1 = unlimited, 0 is refused."),
    KNUM("streams[].max_msgs", I64, -1, -1, INT64_MAX, ST(max_msgs),
         "Message count limit; -1 = unlimited, 0 is refused."),
};

#undef S
#undef ST
#undef KSTR
#undef KLIST
#undef KNUM
#undef U32
#undef I32
#undef I64
#undef REQ
#undef HOUR_MS
#undef DAY_MS

#define N_KEYS        (sizeof(config_key_table) / sizeof(config_key_table[0]))
#define STREAM_PREFIX "streams[]."

const config_key_t *config_keys(size_t *count)
{
    *count = N_KEYS;
    return config_key_table;
}

/* Markdown table cell text: '|' would end the cell. */
static void md_cell(FILE *fp, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', fp);
        fputc(*s, fp);
    }
}

void config_reference(FILE *fp)
{
    static const char *const type_name[CONFIG_TYPE__COUNT] = {
        [CONFIG_TYPE_STRING] = "string",  [CONFIG_TYPE_STRINGS] = "list of strings",
        [CONFIG_TYPE_UINT32] = "integer", [CONFIG_TYPE_INT32] = "integer",
        [CONFIG_TYPE_INT64] = "integer",  [CONFIG_TYPE_MAPPINGS] = "list of mappings",
    };

    fputs("<!-- Generated from the key table in router/config.c by config_reference();\n"
          "     do not edit. Regenerate: ./build/tools/er_config_reference > docs/config.md -->\n"
          "# router.yaml reference\n"
          "\n"
          "Every key of the router's configuration file, with its type, default and\n"
          "allowed range. A number outside its range, an unknown key or a wrong type\n"
          "stops the router at start with `file:line:col: error: ...`. Keys under\n"
          "`streams[]` belong to each entry of the `streams:` list. See\n"
          "`deploy/local/router.yaml` for a complete example and `event-router run\n"
          "--print-config` for the effective values.\n"
          "\n"
          "| Key | Type | Default | Range | Description |\n"
          "| --- | --- | --- | --- | --- |\n",
          fp);
    for (size_t i = 0; i < N_KEYS; i++) {
        const config_key_t *k = &config_key_table[i];
        int number = k->type >= CONFIG_TYPE_UINT32 && k->type <= CONFIG_TYPE_INT64;
        fprintf(fp, "| `%s` | %s | ", k->name, type_name[k->type]);
        if (k->flags & CONFIG_KEY_REQUIRED)
            fputs("required", fp);
        else if (number)
            fprintf(fp, "%lld", (long long)k->def);
        else if (k->def_str) {
            fputc('`', fp);
            md_cell(fp, *k->def_str ? k->def_str : "\"\"");
            fputc('`', fp);
        } else
            fputs(k->type == CONFIG_TYPE_STRING ? "unset" : "empty", fp);
        fputs(" | ", fp);
        if (number)
            fprintf(fp, "%lld .. %lld", (long long)k->min, (long long)k->max);
        fputs(" | ", fp);
        md_cell(fp, k->doc);
        fputs(" |\n", fp);
    }
}

/* The table entry of a document path: indexes drop out ("streams[2].x" is
 * "streams[].x"). NULL for paths the table does not describe. */
static const config_key_t *key_for_path(const char *path)
{
    char norm[128];
    size_t o = 0;

    for (const char *p = path; *p; p++) {
        if (o + 1 >= sizeof(norm))
            return NULL;
        norm[o++] = *p;
        if (*p == '[')
            while (isdigit((unsigned char)p[1]))
                p++;
    }
    norm[o] = '\0';
    for (size_t i = 0; i < N_KEYS; i++)
        if (!strcmp(config_key_table[i].name, norm))
            return &config_key_table[i];
    return NULL;
}

/* Used by config_free(): no logging, default allocator. */
static const cyaml_config_t cyaml_free_cfg = {
    .log_fn = NULL,
    .mem_fn = cyaml_mem,
    .log_level = CYAML_LOG_ERROR,
    .flags = CYAML_CFG_NO_ALIAS,
};

/* ---- error helpers ---------------------------------------------------------- */

/* Quote a user-supplied string for an error message, bounded. */
static const char *q(char *buf, size_t size, const char *s)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && o + 5 < size; p++) {
        if (*p < 0x20 || *p == 0x7F) {
            snprintf(buf + o, size - o, "\\x%02x", *p);
            o += 4;
        } else {
            buf[o++] = (char)*p;
        }
    }
    if (o + 5 >= size && o >= 3) {
        memcpy(buf + o - 3, "...", 3);
    }
    buf[o] = '\0';
    return buf;
}

/* ---- did you mean ------------------------------------------------------------ */

/* The schema key closest to \p key (diag_suggest()), or NULL. */
static const char *suggest_key(const cyaml_schema_field_t *fields, const char *key)
{
    const char *names[64];
    size_t n = 0;

    while (n < sizeof(names) / sizeof(names[0]) && fields[n].key) {
        names[n] = fields[n].key;
        n++;
    }
    return diag_suggest(key, names, n);
}

/* ---- the schema walk (yamlwalk), in the config's words ------------------------ */

/*
 * yamlwalk and the validation pass report every problem they meet, all of
 * them kept (config_load_*_diags(); config_load_buffer() passes on the
 * first). The list is the shared diag.h one, so a line is worded and
 * formatted like a rule file's.
 *
 * One mistake, one line: a problem already reported at the same place in
 * the same words is not repeated; a misspelt required key is its unknown
 * key, not also a missing one; and the validation says nothing about a
 * value the walk already blamed or a key that is only absent because it
 * was misspelt (its "did you mean"). Past REPORT_MAX problems the rest are
 * one line saying so: that file needs its first problems fixed first.
 */
#define REPORT_MAX 100
#define MEANT_MAX  16

typedef struct creport {
    const char *file;
    diags_t d;
    int failed;   /* set even when the diagnostic itself could not be stored */
    int blocking; /* problems libcyaml cannot be told to tolerate (not unknown keys) */
    int capped;   /* REPORT_MAX reached: problems were left out */
    size_t nwalk; /* how many of d are the walk's (the first ones) */
    /* Paths the unknown keys' "did you mean" named ("kafka.brokers"). */
    char meant[MEANT_MAX][128];
    unsigned nmeant;
} creport_t;

static void report(creport_t *r, int line, int col, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void report(creport_t *r, int line, int col, const char *hint, const char *fmt, ...)
{
    char msg[512], full[700];
    va_list ap;

    r->failed = 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "%s%s%s%s", msg, hint ? " (" : "", hint ? hint : "",
             hint ? ")" : "");
    for (size_t i = 0; i < r->d.count; i++)
        if (r->d.items[i].line == line && r->d.items[i].col == col &&
            !strcmp(r->d.items[i].msg, full))
            return;
    if (r->d.count >= REPORT_MAX) {
        r->capped = 1;
        return;
    }
    diags_add(&r->d, r->file, line, col, 0, hint, "%s", msg);
}

/* Whether \p path is, or lies under, a key an unknown key's hint named. */
static int meant_key(const creport_t *r, const char *path)
{
    for (unsigned i = 0; i < r->nmeant; i++) {
        size_t n = strlen(r->meant[i]);
        if (!strncmp(path, r->meant[i], n) && (path[n] == '\0' || path[n] == '.' || path[n] == '['))
            return 1;
    }
    return 0;
}

static const char *type_want(const cyaml_schema_value_t *s)
{
    switch (s->type) {
    case CYAML_MAPPING:
        return "a mapping";
    case CYAML_SEQUENCE:
        return "a list";
    case CYAML_UINT:
        return "an unsigned integer";
    case CYAML_INT:
        return "an integer";
    default:
        return "a string";
    }
}

/* Context for messages: "in 'kafka'" or "" at the top level. */
static void in_path(char *buf, size_t size, const char *path)
{
    if (*path)
        snprintf(buf, size, " in '%s'", path);
    else
        buf[0] = '\0';
}

/* yamlwalk problem callback: word each problem; the walk skips the node
 * and goes on (a syntax error ends it). */
static int walk_problem(void *opaque, const yamlwalk_problem_t *p)
{
    creport_t *w = opaque;
    int l = p->line, c = p->col;
    char ctx[160], kq[80], vq[80], hq[160], mk[200];
    const char *hint;

    in_path(ctx, sizeof(ctx), p->path);
    /* Only unknown keys can be skipped by libcyaml (and validated past). */
    w->blocking += p->kind != YAMLWALK_UNKNOWN_KEY;
    switch (p->kind) {
    case YAMLWALK_SYNTAX:
        report(w, l, c, NULL, "YAML syntax error: %s%s%s",
               p->problem ? p->problem : "unknown problem", p->context ? " " : "",
               p->context ? p->context : "");
        break;
    case YAMLWALK_NO_DOCUMENT:
        report(w, l, c, NULL, "the config file is empty");
        break;
    case YAMLWALK_KEY_NOT_SCALAR:
        report(w, l, c, NULL, "keys must be plain strings%s", ctx);
        break;
    case YAMLWALK_UNKNOWN_KEY:
        hint = suggest_key(p->schema->mapping.fields, p->key);
        if (hint) {
            snprintf(hq, sizeof(hq), "did you mean '%s'?", hint);
            if (w->nmeant < MEANT_MAX)
                snprintf(w->meant[w->nmeant++], sizeof(w->meant[0]), "%s%s%s", p->path,
                         *p->path ? "." : "", hint);
        }
        report(w, l, c, hint ? hq : NULL, "unknown key '%s'%s", q(kq, sizeof(kq), p->key), ctx);
        break;
    case YAMLWALK_DUPLICATE_KEY:
        report(w, l, c, NULL, "duplicate key '%s'%s", p->key, ctx);
        break;
    case YAMLWALK_MISSING_KEY:
        snprintf(mk, sizeof(mk), "%s%s%s", p->path, *p->path ? "." : "", p->key);
        if (!meant_key(w, mk)) /* else it is the misspelt key, reported above */
            report(w, l, c, NULL, "missing required key '%s'%s", p->key, ctx);
        break;
    case YAMLWALK_EMPTY_DOCUMENT:
    case YAMLWALK_ALIAS:
    case YAMLWALK_WRONG_TYPE:
        if (!*p->path)
            report(w, l, c, NULL, "the config must be a mapping (kafka:, nats:, rules:, ...)");
        else if (p->kind == YAMLWALK_ALIAS)
            report(w, l, c, NULL, "'%s': YAML aliases are not supported in the config", p->path);
        else if (p->schema->type == CYAML_SEQUENCE && p->got == YAMLWALK_NODE_SCALAR)
            report(w, l, c, NULL, "'%s' must be a list, not a scalar (write: - %s)", p->path,
                   q(vq, sizeof(vq), p->value));
        else
            report(w, l, c, NULL, "'%s' must be %s, not %s", p->path, type_want(p->schema),
                   yamlwalk_node_name(p->got));
        break;
    default: /* list bounds, depth, more documents: none in this schema and walk */
        report(w, l, c, NULL, "'%s' does not fit the config schema", p->path);
        break;
    }
    return w->capped; /* enough: stop reading */
}

/* The range of a number at \p path: the table's, or, for a number the table
 * does not describe (none should be), what its field can hold. */
static void key_range(const cyaml_schema_value_t *s, const char *path, long long *min,
                      long long *max)
{
    const config_key_t *k = key_for_path(path);
    int bits = (int)s->data_size * 8;

    if (k && k->type >= CONFIG_TYPE_UINT32 && k->type <= CONFIG_TYPE_INT64) {
        *min = k->min;
        *max = k->max;
    } else if (s->type == CYAML_UINT) {
        *min = 0;
        *max = bits < 64 ? (long long)((1ULL << bits) - 1) : LLONG_MAX;
    } else {
        *max = bits < 64 ? (1LL << (bits - 1)) - 1 : LLONG_MAX;
        *min = -*max - 1;
    }
}

/*
 * yamlwalk scalar callback: a number must parse and lie in its key's range,
 * checked here, where the value's line and column are known. Negative
 * numbers for unsigned keys and numbers past 64 bits are out of range too,
 * so one message names the range for every number that does not fit.
 */
static int walk_scalar(void *opaque, const yamlwalk_scalar_t *sc)
{
    creport_t *w = opaque;
    const cyaml_schema_value_t *s = sc->schema;
    const char *v = sc->value, *path = sc->path;
    char *end = NULL, vq[80];
    long long min, max;
    int in_range;

    if (s->type != CYAML_UINT && s->type != CYAML_INT)
        return 0;
    key_range(s, path, &min, &max);
    while (isspace((unsigned char)*v))
        v++;
    errno = 0;
    if (*v == '-') {
        long long i = strtoll(v, &end, 0);
        in_range = errno != ERANGE && i >= min && i <= max;
    } else {
        unsigned long long u = strtoull(v, &end, 0);
        in_range = errno != ERANGE && u <= (unsigned long long)max && (long long)u >= min;
    }
    if (end == v || *end != '\0' || !isdigit((unsigned char)v[*v == '-' || *v == '+']))
        report(w, sc->line, sc->col, NULL, "'%s' must be %s, got '%s'", path,
               s->type == CYAML_UINT ? "an unsigned integer" : "an integer", q(vq, sizeof(vq), v));
    else if (!in_range)
        report(w, sc->line, sc->col, NULL, "'%s' must be between %lld and %lld, got %s", path, min,
               max, q(vq, sizeof(vq), v));
    /* libcyaml loads what it can hold (the range is this table's); what it
     * cannot parse, it refuses, and then nothing is validated past it. */
    return w->capped;
}
/* ---- libcyaml log capture ---------------------------------------------------- */

typedef struct cyaml_capture {
    char first[256]; /* the first error message, e.g. "Unexpected key: x" */
    int line, col;   /* from the first backtrace entry, 0 if none */
} cyaml_capture_t;

static void cyaml_capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    cyaml_capture_t *c = ctx;
    char msg[256];
    const char *p;
    int l, col;

    if (level < CYAML_LOG_ERROR)
        return;
    vsnprintf(msg, sizeof(msg), fmt, args);
    msg[strcspn(msg, "\n")] = '\0';
    p = msg;
    if (!strncmp(p, "Load: ", 6))
        p += 6;
    if (!c->first[0] && strncmp(p, "Backtrace:", 10)) {
        snprintf(c->first, sizeof(c->first), "%s", p);
        return;
    }
    /* "  in mapping field 'kafka' (line: 3, column: 3)" */
    const char *lp = strstr(p, "(line: ");
    if (c->line == 0 && lp && sscanf(lp, "(line: %d, column: %d)", &l, &col) == 2) {
        c->line = l;
        c->col = col;
    }
}

/* ---- defaults and normalisation ---------------------------------------------- */

/*
 * Give the key \p k of the struct at \p base its default: a string when it
 * is NULL (absent, or "", "~", null), a number only when the key is absent
 * from the document (an explicit 0 stays 0, and was judged by the walk).
 */
static int default_one(const config_key_t *k, void *base, const char *path,
                       const yamlwalk_index_t *idx)
{
    char *field = (char *)base + k->offset;
    uint32_t u32;
    int32_t i32;
    int64_t i64;

    if (k->type == CONFIG_TYPE_STRING) {
        char *str;
        memcpy(&str, field, sizeof(str));
        if (str || !k->def_str)
            return 0;
        str = strdup(k->def_str);
        if (!str)
            return -1;
        memcpy(field, &str, sizeof(str));
        return 0;
    }
    if (yamlwalk_find(idx, path))
        return 0;
    switch (k->type) {
    case CONFIG_TYPE_UINT32:
        u32 = (uint32_t)k->def;
        memcpy(field, &u32, sizeof(u32));
        break;
    case CONFIG_TYPE_INT32:
        i32 = (int32_t)k->def;
        memcpy(field, &i32, sizeof(i32));
        break;
    case CONFIG_TYPE_INT64:
        i64 = k->def;
        memcpy(field, &i64, sizeof(i64));
        break;
    default: /* lists: absent is empty */
        break;
    }
    return 0;
}

static int apply_defaults(config_t *c, const yamlwalk_index_t *idx)
{
    const size_t plen = strlen(STREAM_PREFIX);
    char p[128];

    for (size_t i = 0; i < N_KEYS; i++) {
        const config_key_t *k = &config_key_table[i];
        if (strncmp(k->name, STREAM_PREFIX, plen)) {
            if (default_one(k, c, k->name, idx))
                return -1;
            continue;
        }
        for (unsigned n = 0; n < c->streams_count; n++) {
            snprintf(p, sizeof(p), "streams[%u].%s", n, k->name + plen);
            if (default_one(k, &c->streams[n], p, idx))
                return -1;
        }
    }
    return 0;
}

char *config_rules_path(const char *config_path, const char *rules)
{
    const char *slash = strrchr(config_path, '/');
    if (rules[0] == '/' || !slash)
        return strdup(rules);
    size_t dlen = (size_t)(slash - config_path);
    char *joined = malloc(dlen + 1 + strlen(rules) + 1);
    if (joined) {
        memcpy(joined, config_path, dlen);
        joined[dlen] = '/';
        strcpy(joined + dlen + 1, rules);
    }
    return joined;
}

static int resolve_rules_path(config_t *c)
{
    if (!c->rules || !*c->rules)
        return 0;
    char *joined = config_rules_path(c->path, c->rules);
    if (!joined)
        return -1;
    free(c->rules);
    c->rules = joined;
    return 0;
}

/* ---- validation --------------------------------------------------------------- */

typedef struct vctx {
    const yamlwalk_index_t *idx;
    creport_t *rep; /* the same report the walk used */
} vctx_t;

static void verr(vctx_t *v, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Where \p path is written: its value, or, for an absent key, its nearest
 * present ancestor's key ("kafka.topics" -> "kafka"), or 1:1. Returns 1
 * for the path itself, 0 for an ancestor, -1 for neither.
 */
static int where_in(const yamlwalk_index_t *idx, const char *path, int *line, int *col)
{
    char anc[256];
    const yamlwalk_pos_t *e = NULL;
    int exact;

    *line = *col = 1;
    snprintf(anc, sizeof(anc), "%s", path);
    for (;;) {
        e = idx ? yamlwalk_find(idx, anc) : NULL;
        if (e || !*anc)
            break;
        char *cut = strrchr(anc, '.');
        char *br = strrchr(anc, '[');
        if (br && (!cut || br > cut))
            cut = br;
        if (!cut)
            anc[0] = '\0';
        else
            *cut = '\0';
    }
    if (!e)
        return -1;
    /* The value itself when it is this key, the key when it is an ancestor. */
    exact = !strcmp(anc, path);
    *line = exact ? e->val_line : e->key_line;
    *col = exact ? e->val_col : e->key_col;
    return exact;
}

int config_where(const config_t *cfg, const char *path, int *line, int *col)
{
    return where_in(cfg ? cfg->where : NULL, path, line, col);
}

/* Whether the walk already reported a problem at \p path's value (a number
 * out of range): then the validation's words on it would be a follow-up. */
static int walk_blamed(const vctx_t *v, const char *path)
{
    int line, col;

    if (where_in(v->idx, path, &line, &col) != 1)
        return 0;
    for (size_t i = 0; i < v->rep->nwalk; i++)
        if (v->rep->d.items[i].line == line && v->rep->d.items[i].col == col)
            return 1;
    return 0;
}

/*
 * Report a validation error where \p path is written (where_in()); not
 * when it follows from a problem the walk reported (creport_t).
 */
static void verr(vctx_t *v, const char *path, const char *fmt, ...)
{
    char msg[512];
    int line, col;
    va_list ap;

    if (where_in(v->idx, path, &line, &col) != 1 && meant_key(v->rep, path))
        return; /* absent because misspelt: said at the misspelling */
    if (walk_blamed(v, path))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    report(v->rep, line, col, NULL, "%s", msg);
}

/*
 * glibc's regcomp() expands repetition by copying what it repeats: x+ is
 * compiled as xx*, x{n,m} as n copies and m - n nested optional ones. So
 * "^a+++++++++++++++++++++" needs 700 MB and "((a{99}){99}){99}" far more
 * before a single topic is matched, and librdkafka compiles a classic
 * protocol subscription with the same regcomp(). Repeating what can match the empty
 * string is worse: "^e?++++++" is a few hundred nodes, but regcomp()'s
 * epsilon closure over the nested empty loops runs for minutes (the config
 * fuzzer found both). So a subscription is analysed before regcomp() sees
 * it: a repetition of a repetition ("a+*", "a?+"; undefined in POSIX ERE)
 * and a repetition of an expression that can match the empty string
 * ("(a?)+", "(a|)*", "^*") are refused, and the size of the expanded tree is
 * estimated. A count above the longest topic name (249) or an expansion
 * past REGEX_MAX_NODES serves no subscription and is refused too.
 */
#define REGEX_MAX_NODES 4096
#define REGEX_MAX_COUNT 249
#define REGEX_MAX_DEPTH 32

enum { RX_OK, RX_TOO_BIG, RX_STACKED, RX_EMPTY_REPEATED };

/* The ']' that closes the bracket expression opening at \p open ('['),
 * past [:class:], [.coll.] and [=equiv=]; NULL when it is not closed. */
static const char *bracket_end(const char *open)
{
    const char *b = open + 1;

    if (*b == '^')
        b++;
    if (*b == ']')
        b++;
    while (*b && *b != ']') {
        if (*b == '[' && (b[1] == ':' || b[1] == '.' || b[1] == '=')) {
            const char *end = strchr(b + 2, b[1]);
            while (end && end[1] != ']')
                end = strchr(end + 1, b[1]);
            if (!end)
                return NULL;
            b = end + 2;
        } else {
            b++;
        }
    }
    return *b ? b : NULL;
}

/*
 * The interval "{n}", "{n,}", "{,m}" or "{n,m}" opening at \p open: *n and
 * *m (m >= n), *close at its '}'. Digits saturate past the count limit;
 * glibc reads "{,m}" as "{0,m}", and "{n,}" counts as one more copy.
 * Returns 0, -1 when it is not closed (regcomp() reports it), 1 when a
 * count is past REGEX_MAX_COUNT.
 */
static int interval(const char *open, unsigned long *n, unsigned long *m, const char **close)
{
    const char *e = open + 1;

    *n = 0;
    for (; isdigit((unsigned char)*e); e++)
        if (*n <= REGEX_MAX_COUNT)
            *n = *n * 10 + (unsigned long)(*e - '0');
    *m = *n;
    if (*e == ',') {
        *m = isdigit((unsigned char)e[1]) ? 0 : *n + 1; /* "{n,}": one more, at least */
        for (e++; isdigit((unsigned char)*e); e++)
            if (*m <= REGEX_MAX_COUNT)
                *m = *m * 10 + (unsigned long)(*e - '0');
    }
    if (*e != '}')
        return -1;
    if (*n > REGEX_MAX_COUNT || *m > REGEX_MAX_COUNT)
        return 1;
    if (*m < *n)
        *m = *n;
    *close = e;
    return 0;
}

/* One nesting level of the analysis: a group, or the whole expression. */
typedef struct {
    size_t size;    /* estimated nodes so far */
    size_t last;    /* nodes of the last element (what a quantifier repeats) */
    int have_last;  /* an element since the group or branch opened */
    int last_quant; /* the last token was a quantifier */
    int last_empty; /* the last element can match "" */
    int head_empty; /* the branch before the last element can match "" */
    int any_empty;  /* a finished branch of this group can match "" */
} rx_level_t;

static void rx_element(rx_level_t *l, size_t size, int empty)
{
    if (l->have_last)
        l->head_empty = l->head_empty && l->last_empty;
    l->size += size + 1; /* and the concatenation that joins it */
    l->last = size;
    l->last_empty = empty;
    l->have_last = 1;
    l->last_quant = 0;
}

static int rx_branch_empty(const rx_level_t *l)
{
    return l->head_empty && (!l->have_last || l->last_empty);
}

/* A quantifier repeating the last element \p min to \p max times (max 0:
 * unbounded, counted as min + 1 copies). Returns RX_OK or why it is refused. */
static int rx_repeat(rx_level_t *l, unsigned long min, unsigned long max)
{
    size_t copies = max ? max : min + 1;

    if (!l->have_last)
        return RX_OK; /* a quantifier with nothing before it: regcomp() decides */
    if (l->last_quant)
        return RX_STACKED;
    if (l->last_empty)
        return RX_EMPTY_REPEATED;
    l->size += l->last * (copies - 1) + 2 * copies;
    l->last = l->last * copies + 2 * copies;
    if (min == 0)
        l->last_empty = 1;
    l->last_quant = 1;
    return l->size > REGEX_MAX_NODES ? RX_TOO_BIG : RX_OK;
}

static int regex_check(const char *re)
{
    rx_level_t lv[REGEX_MAX_DEPTH + 1];
    int d = 0, rc;

    memset(&lv[0], 0, sizeof(lv[0]));
    lv[0].head_empty = 1;
    for (const char *p = re; *p; p++) {
        rx_level_t *l = &lv[d];
        switch (*p) {
        case '\\':
            if (!p[1]) {
                rx_element(l, 1, 0);
                break;
            }
            p++; /* a back-reference or a word anchor can match "" */
            rx_element(l, 1, isdigit((unsigned char)*p) || strchr("bB<>`'", *p));
            break;
        case '^':
        case '$':
            rx_element(l, 1, 1);
            break;
        case '[':
            if (!(p = bracket_end(p)))
                return RX_OK; /* regcomp() reports the broken bracket */
            rx_element(l, 1, 0);
            break;
        case '(':
            if (d == REGEX_MAX_DEPTH)
                return RX_TOO_BIG;
            memset(&lv[++d], 0, sizeof(lv[0]));
            lv[d].head_empty = 1;
            break;
        case ')':
            if (d == 0) {
                rx_element(l, 1, 0);
                break;
            }
            d--;
            rx_element(&lv[d], l->size + 1, l->any_empty || rx_branch_empty(l));
            break;
        case '|':
            l->any_empty = l->any_empty || rx_branch_empty(l);
            l->size++;
            l->head_empty = 1;
            l->have_last = 0;
            l->last_quant = 0;
            break;
        case '*':
            if ((rc = rx_repeat(l, 0, 0)) != RX_OK)
                return rc;
            break;
        case '?':
            if ((rc = rx_repeat(l, 0, 1)) != RX_OK)
                return rc;
            break;
        case '+':
            if ((rc = rx_repeat(l, 1, 0)) != RX_OK)
                return rc;
            break;
        case '{': {
            unsigned long n, m;
            const char *close;
            if (!isdigit((unsigned char)p[1]) && p[1] != ',') {
                rx_element(l, 1, 0);
                break;
            }
            if ((rc = interval(p, &n, &m, &close)) != 0)
                return rc > 0 ? RX_TOO_BIG : RX_OK;
            p = close;
            if ((rc = rx_repeat(l, n, m)) != RX_OK)
                return rc;
            break;
        }
        default:
            rx_element(l, 1, 0);
            break;
        }
        if (lv[d].size > REGEX_MAX_NODES)
            return RX_TOO_BIG;
    }
    return RX_OK;
}

static int topic_name_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 249 || !strcmp(t, ".") || !strcmp(t, ".."))
        return 0;
    for (; *t; t++)
        if (!isalnum((unsigned char)*t) && *t != '.' && *t != '_' && *t != '-')
            return 0;
    return 1;
}

static void check_properties(vctx_t *v, const char *path, char **props, unsigned n,
                             const char *const *owned, const char *const *owner)
{
    char p[96], vq[80];
    for (unsigned i = 0; i < n; i++) {
        const char *eq = strchr(props[i], '=');
        snprintf(p, sizeof(p), "%s[%u]", path, i);
        if (!eq || eq == props[i]) {
            char shown[256];
            verr(v, p, "'%s' must be key=value (a librdkafka property), got '%s'", p,
                 q(vq, sizeof(vq), secret_redact_property(props[i], shown, sizeof(shown))));
            continue;
        }
        const char *blank = props[i];
        while (blank < eq && !isspace((unsigned char)*blank))
            blank++;
        if (blank < eq) {
            /* Only up to the blank: what follows may be a secret value. */
            verr(v, p, "'%s': property name '%.*s ...' contains whitespace", p,
                 (int)(blank - props[i]), props[i]);
            continue;
        }
        for (size_t o = 0; owned && owned[o]; o++)
            if (strlen(owned[o]) == (size_t)(eq - props[i]) &&
                !strncmp(props[i], owned[o], (size_t)(eq - props[i])))
                verr(v, p, "'%s': set %s instead of the property '%s'", p, owner[o], owned[o]);
    }
}

static void validate_kafka(vctx_t *v, const config_t *c)
{
    static const char *const owned[] = {"bootstrap.servers", "metadata.broker.list", "group.id",
                                        "group.instance.id", NULL};
    static const char *const owner[] = {"kafka.brokers", "kafka.brokers", "kafka.group_id",
                                        "kafka.group_instance_id", NULL};
    char p[64], vq[80];
    int regex_mixed = 0;

    if (!c->kafka.brokers || !*c->kafka.brokers)
        verr(v, "kafka.brokers", "'kafka.brokers' must not be empty (host:port,host:port)");
    if (!*c->kafka.group_id)
        verr(v, "kafka.group_id", "'kafka.group_id' must not be empty");
    if (c->kafka.topics_count == 0)
        verr(v, "kafka.topics",
             "'kafka.topics' must list at least one topic, or a single '^regex'");
    for (unsigned i = 0; i < c->kafka.topics_count; i++) {
        const char *t = c->kafka.topics[i];
        snprintf(p, sizeof(p), "kafka.topics[%u]", i);
        if (t[0] == '^') {
            regex_t re;
            char rerr[128];
            int rc;
            if (c->kafka.topics_count > 1) {
                /* Said once; which entry stays is the user's call, so no
                 * pattern is judged until then. */
                if (!regex_mixed++)
                    verr(v, p,
                         "'%s': a '^regex' subscription must be the only entry in "
                         "'kafka.topics'",
                         p);
                continue;
            }
            switch (regex_check(t)) {
            case RX_TOO_BIG:
                verr(v, p,
                     "'%s': regular expression '%s' is too complex (repetitions expand past %d "
                     "elements, or count past %d, the longest topic name)",
                     p, q(vq, sizeof(vq), t), REGEX_MAX_NODES, REGEX_MAX_COUNT);
                continue;
            case RX_STACKED:
                verr(v, p,
                     "'%s': regular expression '%s' repeats a repetition ('+*', '?+', ...; "
                     "undefined in POSIX extended regular expressions): keep one quantifier",
                     p, q(vq, sizeof(vq), t));
                continue;
            case RX_EMPTY_REPEATED:
                verr(v, p,
                     "'%s': regular expression '%s' repeats something that can match the empty "
                     "string ('(a?)+', '(a|)*', '^*'); glibc's regcomp() takes exponential time "
                     "on it: make the repeated part match at least one character",
                     p, q(vq, sizeof(vq), t));
                continue;
            default:
                break;
            }
            rc = regcomp(&re, t, REG_EXTENDED | REG_NOSUB);
            if (rc) {
                regerror(rc, &re, rerr, sizeof(rerr));
                verr(v, p, "'%s': invalid regular expression '%s': %s", p, q(vq, sizeof(vq), t),
                     rerr);
                continue;
            }
            /* The router must never consume its own dead letters. */
            if (c->dlq.topic && regexec(&re, c->dlq.topic, 0, NULL, 0) == 0)
                verr(v, "dlq.topic",
                     "'dlq.topic' '%s' matches the subscription '%s'; the "
                     "router would consume its own dead letters",
                     c->dlq.topic, t);
            regfree(&re);
        } else {
            if (!topic_name_valid(t)) {
                verr(v, p,
                     "'%s': '%s' is not a valid topic name (letters, digits, '.', '_', "
                     "'-'; or a '^regex')",
                     p, q(vq, sizeof(vq), t));
                continue;
            }
            if (c->dlq.topic && !strcmp(c->dlq.topic, t))
                verr(v, "dlq.topic",
                     "'dlq.topic' '%s' is also a consumed topic; the router "
                     "would consume its own dead letters",
                     t);
        }
    }
    check_properties(v, "kafka.properties", c->kafka.properties, c->kafka.properties_count, owned,
                     owner);
    if (c->kafka.group_instance_id && c->kafka.group_instance_id_env)
        verr(v, "kafka.group_instance_id_env",
             "set either 'kafka.group_instance_id' or 'kafka.group_instance_id_env', not both");
}

static void validate_nats(vctx_t *v, const config_t *c)
{
    char p[64], vq[80];

    if (c->nats.servers_count == 0)
        verr(v, "nats.servers", "'nats.servers' must list at least one nats://host:port URL");
    for (unsigned i = 0; i < c->nats.servers_count; i++) {
        const char *s = c->nats.servers[i];
        snprintf(p, sizeof(p), "nats.servers[%u]", i);
        if ((strncmp(s, "nats://", 7) && strncmp(s, "tls://", 6)) || !strchr(s + 6, ':')) {
            char shown[256];
            verr(v, p, "'%s': expected nats://host:port or tls://host:port, got '%s'", p,
                 q(vq, sizeof(vq), secret_redact_url(s, shown, sizeof(shown))));
        }
    }
    if (c->nats.password_env && c->nats.password_file)
        verr(v, "nats.password_file",
             "set either 'nats.password_env' or 'nats.password_file', not both");
    if ((c->nats.password_env || c->nats.password_file) && !c->nats.user)
        verr(v, "nats.user", "'nats.user' is required with a password");
    /* cnats keeps only the last of these it is given: refuse the ambiguity. */
    if ((c->nats.user != NULL) + (c->nats.token_env != NULL) + (c->nats.creds_file != NULL) +
            (c->nats.nkey_seed_file != NULL) >
        1)
        verr(v,
             c->nats.nkey_seed_file ? "nats.nkey_seed_file"
             : c->nats.creds_file   ? "nats.creds_file"
                                    : "nats.token_env",
             "set only one way to authenticate to NATS: 'nats.user' (with a password), "
             "'nats.token_env', 'nats.creds_file' or 'nats.nkey_seed_file'");
    if ((c->nats.tls_cert_file != NULL) != (c->nats.tls_key_file != NULL))
        verr(v, c->nats.tls_cert_file ? "nats.tls_cert_file" : "nats.tls_key_file",
             "'nats.tls_cert_file' and 'nats.tls_key_file' go together");
}

/* Whether a relation between the numbers at \p a and \p b can be judged:
 * not when the walk found either out of its own range. */
static int both_in_range(const vctx_t *v, const char *a, const char *b)
{
    return !walk_blamed(v, a) && !walk_blamed(v, b);
}

/* Each number's own range was checked by the walk (the key table); what is
 * left are the relations between numbers. */
static void validate_limits(vctx_t *v, const config_t *c)
{
    if (c->limits.max_inflight_per_partition > c->limits.max_inflight_total &&
        both_in_range(v, "limits.max_inflight_per_partition", "limits.max_inflight_total"))
        verr(v, "limits.max_inflight_per_partition",
             "'limits.max_inflight_per_partition' (%u) must not exceed "
             "'limits.max_inflight_total' (%u)",
             c->limits.max_inflight_per_partition, c->limits.max_inflight_total);
    if (c->retry.backoff_initial_ms > c->retry.backoff_max_ms &&
        both_in_range(v, "retry.backoff_initial_ms", "retry.backoff_max_ms"))
        verr(v, "retry.backoff_initial_ms",
             "'retry.backoff_initial_ms' (%u) must not exceed 'retry.backoff_max_ms' (%u)",
             c->retry.backoff_initial_ms, c->retry.backoff_max_ms);
}

static void validate_misc(vctx_t *v, const config_t *c)
{
    log_level_t lvl;
    log_format_t fmt;
    struct sockaddr_in sa;
    char vq[80];

    if (!c->rules || !*c->rules)
        verr(v, "rules", "'rules' must name the rule file");
    if (c->dlq.topic && !topic_name_valid(c->dlq.topic))
        verr(v, "dlq.topic", "'dlq.topic': '%s' is not a valid topic name",
             q(vq, sizeof(vq), c->dlq.topic));
    check_properties(v, "dlq.properties", c->dlq.properties, c->dlq.properties_count, NULL, NULL);
    if (*c->http.listen && listenaddr_parse(c->http.listen, &sa, NULL, 0))
        verr(v, "http.listen",
             "'http.listen' must be \"ipv4-address:port\" (e.g. 127.0.0.1:9180) or \"\" to "
             "disable, got '%s'",
             q(vq, sizeof(vq), c->http.listen));
    if (log_level_parse(c->log.level, &lvl))
        verr(v, "log.level", "'log.level' must be debug, info, warn or error, got '%s'",
             q(vq, sizeof(vq), c->log.level));
    if (log_format_parse(c->log.format, &fmt))
        verr(v, "log.format", "'log.format' must be logfmt or json, got '%s'",
             q(vq, sizeof(vq), c->log.format));
}

/* JetStream stream names: no whitespace, '.', '*', '>', path separators. */
static int stream_name_valid(const char *s)
{
    if (!*s || strlen(s) > 255)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || strchr(".*>/\\", *s))
            return 0;
    return 1;
}

/* NATS subject: dot-separated non-empty tokens, '>' only as the last token. */
static int subject_valid(const char *s)
{
    const char *tok = s;
    if (!*s)
        return 0;
    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t n = (size_t)(p - tok);
            if (n == 0)
                return 0;
            if (memchr(tok, '>', n) && (n != 1 || *p != '\0'))
                return 0;
            if (memchr(tok, '*', n) && n != 1)
                return 0;
            if (*p == '\0')
                return 1;
            tok = p + 1;
        } else if ((unsigned char)*p <= ' ' || *p == 0x7F) {
            return 0;
        }
    }
}

static void validate_streams(vctx_t *v, const config_t *c)
{
    char p[96], p2[96], vq[80];

    for (unsigned i = 0; i < c->streams_count; i++) {
        const config_stream_t *s = &c->streams[i];
        snprintf(p, sizeof(p), "streams[%u].name", i);
        if (!stream_name_valid(s->name)) {
            verr(v, p,
                 "'%s': '%s' is not a valid stream name (no spaces, '.', '*', '>', "
                 "'/')",
                 p, q(vq, sizeof(vq), s->name));
        } else {
            for (unsigned j = 0; j < i; j++)
                if (!strcmp(c->streams[j].name, s->name)) {
                    verr(v, p, "'%s': stream '%s' is declared twice", p, s->name);
                    break; /* once per stream, not once per earlier one */
                }
        }
        snprintf(p, sizeof(p), "streams[%u].subjects", i);
        if (s->subjects_count == 0)
            verr(v, p, "'%s' must list at least one subject", p);
        for (unsigned j = 0; j < s->subjects_count; j++)
            if (!subject_valid(s->subjects[j])) {
                snprintf(p, sizeof(p), "streams[%u].subjects[%u]", i, j);
                verr(v, p, "'%s': '%s' is not a valid subject", p,
                     q(vq, sizeof(vq), s->subjects[j]));
            }
        snprintf(p, sizeof(p), "streams[%u].storage", i);
        if (strcmp(s->storage, "file") && strcmp(s->storage, "memory"))
            verr(v, p, "'%s' must be file or memory, got '%s'", p, q(vq, sizeof(vq), s->storage));
        snprintf(p, sizeof(p), "streams[%u].max_age_s", i);
        snprintf(p2, sizeof(p2), "streams[%u].duplicate_window_s", i);
        if (s->max_age_s > 0 && s->duplicate_window_s > (uint64_t)s->max_age_s &&
            both_in_range(v, p, p2))
            verr(v, p, "'%s' (%lld) must not be shorter than duplicate_window_s (%u)", p,
                 (long long)s->max_age_s, s->duplicate_window_s);
        snprintf(p, sizeof(p), "streams[%u].max_bytes", i);
        if (s->max_bytes == 0)
            verr(v, p, "'%s' must be -1 (unlimited) or > 0", p);
        snprintf(p, sizeof(p), "streams[%u].max_msgs", i);
        if (s->max_msgs == 0)
            verr(v, p, "'%s' must be -1 (unlimited) or > 0", p);
    }
}

/* ---- load ------------------------------------------------------------------- */

/*
 * Move the report's problems to \p d, by line then column: the walk's are
 * in document order already (a missing key, placed at the start of its
 * mapping, comes after that mapping's other problems, as the walk found
 * it; it never meets a validation problem, which needs a loaded config);
 * the validation's are sorted (diags_sort: stable) and merged in.
 */
static void report_move(creport_t *r, diags_t *d)
{
    diag_t *it = r->d.items;
    size_t n = r->d.count, w = 0, v = r->nwalk;

    if (r->failed && !n)
        diags_add(d, r->file, 0, 0, 0, NULL, "out of memory");
    diags_sort(&r->d, r->nwalk, NULL, NULL);
    while (w < r->nwalk || v < n) {
        const diag_t *x =
            v == n || (w < r->nwalk && !diag_after(&it[w], &it[v])) ? &it[w++] : &it[v++];
        diags_add(d, x->file, x->line, x->col, x->warning, NULL, "%s", x->msg);
    }
    if (r->capped)
        diags_add(d, r->file, 0, 0, 0, NULL, "more problems not shown: fix the %d above first",
                  REPORT_MAX);
    diags_clear(&r->d);
}

int config_load_buffer_diags(const char *name, const void *data, size_t len, config_t **out,
                             diags_t *d)
{
    const unsigned char *text = data;
    config_t *cfg = NULL;
    yamlwalk_index_t *idx = NULL;
    creport_t rep = {.file = name};
    const yamlwalk_ops_t ops = {
        .problem = walk_problem,
        .scalar = walk_scalar,
        .opaque = &rep,
        .flags = YAMLWALK_FIRST_DOCUMENT, /* libcyaml loads no more */
    };
    yamlwalk_err_t werr;
    cyaml_capture_t cap = {{0}, 0, 0};
    cyaml_config_t ycfg = {
        .log_fn = cyaml_capture_log,
        .log_ctx = &cap,
        .mem_fn = cyaml_mem,
        .log_level = CYAML_LOG_WARNING,
        .flags = CYAML_CFG_NO_ALIAS,
    };
    cyaml_err_t cerr;
    vctx_t v = {.rep = &rep};

    *out = NULL;
    if (len > CONFIG_MAX_BYTES) {
        diags_add(d, name, 0, 0, 0, NULL, "larger than %u bytes", CONFIG_MAX_BYTES);
        return -1;
    }

    cerr = cyaml_load_data(text, len, &ycfg, &config_schema, (cyaml_data_t **)&cfg, NULL);
    werr = yamlwalk_index_new(&idx);
    if (werr == YAMLWALK_OK)
        werr = yamlwalk_run(&ops, &config_schema, text, len, idx);
    /* The walk blames the exact key or value; prefer it. Else something only
     * libcyaml objects to: pass its words on. */
    if (!rep.failed && cerr != CYAML_OK) {
        report(&rep, cap.line ? cap.line : 1, cap.col ? cap.col : 1, cyaml_strerror(cerr), "%s",
               cap.first[0] ? cap.first : "invalid config");
        rep.blocking++;
    }
    if (!rep.failed && (!cfg || werr != YAMLWALK_OK)) {
        report(&rep, 1, 1, NULL, "%s",
               werr != YAMLWALK_OK ? "out of memory" : "the config file is empty");
        rep.blocking++;
    }
    /* A walk cut short left keys unread: nothing to validate against. */
    rep.blocking += rep.capped;
    /* Only unknown keys: load past them, so that the rest is validated in
     * the same run and every problem is reported at once. */
    if (rep.failed && !rep.blocking && !cfg && cerr != CYAML_OK) {
        ycfg.flags |= CYAML_CFG_IGNORE_UNKNOWN_KEYS;
        ycfg.log_fn = NULL;
        if (cyaml_load_data(text, len, &ycfg, &config_schema, (cyaml_data_t **)&cfg, NULL) !=
            CYAML_OK)
            cfg = NULL;
    } else if (rep.blocking && cfg) {
        config_free(cfg);
        cfg = NULL;
    }
    rep.nwalk = rep.d.count; /* the validation's follow */
    if (cfg) {
        cfg->path = strdup(name);
        cfg->where = idx;
        idx = NULL;
        v.idx = cfg->where;
        if (!cfg->path || apply_defaults(cfg, v.idx) || resolve_rules_path(cfg)) {
            report(&rep, 0, 0, NULL, "out of memory");
            config_free(cfg);
            cfg = NULL;
        } else {
            validate_kafka(&v, cfg);
            validate_nats(&v, cfg);
            validate_limits(&v, cfg);
            validate_misc(&v, cfg);
            validate_streams(&v, cfg);
        }
    }
    yamlwalk_index_destroy(idx);
    report_move(&rep, d);
    *out = cfg;
    return rep.failed ? -1 : 0;
}

int config_load_buffer(const char *name, const void *data, size_t len, config_t **out, char *errstr,
                       size_t errstr_size)
{
    diags_t d = {0};
    int rc = config_load_buffer_diags(name, data, len, out, &d);

    if (errstr && errstr_size)
        errstr[0] = '\0';
    if (rc != 0) {
        config_free(*out);
        *out = NULL;
        if (d.count)
            diag_format(&d.items[0], errstr, errstr_size);
        else
            errstr_set(errstr, errstr_size, "%s: out of memory", name);
    }
    diags_clear(&d);
    return rc;
}

int config_load_file_diags(const char *path, config_t **out, diags_t *d)
{
    char *text = NULL, err[512];
    size_t len = 0;
    int rc;

    *out = NULL;
    if (fileio_read(path, CONFIG_MAX_BYTES, &text, &len, err, sizeof(err))) {
        diags_add(d, path, 0, 0, 0, NULL, "%s",
                  strncmp(err, path, strlen(path)) || err[strlen(path)] != ':'
                      ? err
                      : err + strlen(path) + 1 + (err[strlen(path) + 1] == ' '));
        return -1;
    }
    rc = config_load_buffer_diags(path, text, len, out, d);
    free(text);
    return rc;
}

int config_load_file(const char *path, config_t **out, char *errstr, size_t errstr_size)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (errstr && errstr_size)
        errstr[0] = '\0';
    *out = NULL;
    if (fileio_read(path, CONFIG_MAX_BYTES, &text, &len, errstr, errstr_size))
        return -1;
    rc = config_load_buffer(path, text, len, out, errstr, errstr_size);
    free(text);
    return rc;
}

void config_free(config_t *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    cfg->path = NULL;
    yamlwalk_index_destroy(cfg->where);
    cfg->where = NULL;
    cyaml_free(&cyaml_free_cfg, &config_schema, cfg, 0);
}

/* ---- dump -------------------------------------------------------------------- */

/* YAML double-quoted scalar, or null. */
static void y_str(FILE *fp, const char *s)
{
    if (!s) {
        fputs("null", fp);
        return;
    }
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", fp);
        else if (*p < 0x20 || *p == 0x7F)
            fprintf(fp, "\\x%02x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

static void y_kv(FILE *fp, int indent, const char *key, const char *val)
{
    fprintf(fp, "%*s%s: ", indent, "", key);
    y_str(fp, val);
    fputc('\n', fp);
}

/* "key=${env:A}" or "key=${file:/p}${env:B}": the value is made of
 * references only, names of where the secret lives, fine to show. A value
 * with any literal text next to its references is redacted whole. */
static int only_references(const char *prop)
{
    const char *v = strchr(prop, '=');
    if (!v || !v[1])
        return 0;
    for (v++; *v;) {
        const char *end = strchr(v, '}');
        if ((strncmp(v, "${env:", 6) && strncmp(v, "${file:", 7)) || !end)
            return 0;
        v = end + 1;
    }
    return 1;
}

static void y_list(FILE *fp, int indent, const char *key, char **items, unsigned n,
                   int redact_props, int redact_userinfo)
{
    if (n == 0) {
        fprintf(fp, "%*s%s: []\n", indent, "", key);
        return;
    }
    fprintf(fp, "%*s%s:\n", indent, "", key);
    for (unsigned i = 0; i < n; i++) {
        const char *it = items[i];
        char buf[512];
        fprintf(fp, "%*s- ", indent + 2, "");
        if (redact_props && secret_property_is_secret(it) && !only_references(it))
            it = secret_redact_property(it, buf, sizeof(buf));
        else if (redact_userinfo)
            it = secret_redact_url(it, buf, sizeof(buf));
        y_str(fp, it);
        fputc('\n', fp);
    }
}

static void dump_kafka(const config_t *c, FILE *fp)
{
    fputs("kafka:\n", fp);
    y_kv(fp, 2, "brokers", c->kafka.brokers);
    y_kv(fp, 2, "group_id", c->kafka.group_id);
    y_list(fp, 2, "topics", c->kafka.topics, c->kafka.topics_count, 0, 0);
    y_list(fp, 2, "properties", c->kafka.properties, c->kafka.properties_count, 1, 0);
    y_kv(fp, 2, "group_instance_id", c->kafka.group_instance_id);
    y_kv(fp, 2, "group_instance_id_env", c->kafka.group_instance_id_env);
    fprintf(fp, "  refetch_idle_ms: %u\n", c->kafka.refetch_idle_ms);
}

static void dump_nats(const config_t *c, FILE *fp)
{
    fputs("nats:\n", fp);
    y_list(fp, 2, "servers", c->nats.servers, c->nats.servers_count, 0, 1);
    y_kv(fp, 2, "domain", c->nats.domain);
    y_kv(fp, 2, "api_prefix", c->nats.api_prefix);
    fprintf(fp, "  ack_timeout_ms: %u\n", c->nats.ack_timeout_ms);
    fprintf(fp, "  max_reconnects: %d\n", c->nats.max_reconnects);
    fprintf(fp, "  reconnect_wait_ms: %u\n", c->nats.reconnect_wait_ms);
    fprintf(fp, "  reconnect_buffer_bytes: %u\n", c->nats.reconnect_buffer_bytes);
    y_kv(fp, 2, "name", c->nats.name);
    y_kv(fp, 2, "user", c->nats.user);
    /* Names of where secrets live are fine to show; values are never read here. */
    y_kv(fp, 2, "password_env", c->nats.password_env);
    y_kv(fp, 2, "password_file", c->nats.password_file);
    y_kv(fp, 2, "token_env", c->nats.token_env);
    y_kv(fp, 2, "creds_file", c->nats.creds_file);
    y_kv(fp, 2, "nkey_seed_file", c->nats.nkey_seed_file);
    y_kv(fp, 2, "tls_ca_file", c->nats.tls_ca_file);
    y_kv(fp, 2, "tls_cert_file", c->nats.tls_cert_file);
    y_kv(fp, 2, "tls_key_file", c->nats.tls_key_file);
}

/* limits, retry, dlq, http and log: the sections of plain values. */
static void dump_sections(const config_t *c, FILE *fp)
{
    fputs("limits:\n", fp);
    fprintf(fp, "  max_inflight_per_partition: %u\n", c->limits.max_inflight_per_partition);
    fprintf(fp, "  max_inflight_total: %u\n", c->limits.max_inflight_total);
    fprintf(fp, "  drain_timeout_ms: %u\n", c->limits.drain_timeout_ms);
    fprintf(fp, "  commit_interval_ms: %u\n", c->limits.commit_interval_ms);
    fprintf(fp, "  revoke_timeout_ms: %u\n", c->limits.revoke_timeout_ms);
    fprintf(fp, "  shutdown_timeout_ms: %u\n", c->limits.shutdown_timeout_ms);
    fprintf(fp, "  reconcile_timeout_ms: %u\n", c->limits.reconcile_timeout_ms);

    fputs("retry:\n", fp);
    fprintf(fp, "  max_attempts: %u\n", c->retry.max_attempts);
    fprintf(fp, "  backoff_initial_ms: %u\n", c->retry.backoff_initial_ms);
    fprintf(fp, "  backoff_max_ms: %u\n", c->retry.backoff_max_ms);

    fputs("dlq:\n", fp);
    y_kv(fp, 2, "topic", c->dlq.topic);
    y_list(fp, 2, "properties", c->dlq.properties, c->dlq.properties_count, 1, 0);

    fputs("http:\n", fp);
    y_kv(fp, 2, "listen", c->http.listen);
    fprintf(fp, "  stuck_after_ms: %u\n", c->http.stuck_after_ms);

    fputs("log:\n", fp);
    y_kv(fp, 2, "level", c->log.level);
    y_kv(fp, 2, "format", c->log.format);
}

static void dump_streams(const config_t *c, FILE *fp)
{
    if (c->streams_count == 0) {
        fputs("streams: []\n", fp);
        return;
    }
    fputs("streams:\n", fp);
    for (unsigned i = 0; i < c->streams_count; i++) {
        const config_stream_t *s = &c->streams[i];
        fputs("  - name: ", fp);
        y_str(fp, s->name);
        fputc('\n', fp);
        y_list(fp, 4, "subjects", s->subjects, s->subjects_count, 0, 0);
        fprintf(fp, "    replicas: %u\n", s->replicas);
        y_kv(fp, 4, "storage", s->storage);
        fprintf(fp, "    duplicate_window_s: %u\n", s->duplicate_window_s);
        fprintf(fp, "    max_age_s: %lld\n", (long long)s->max_age_s);
        fprintf(fp, "    max_bytes: %lld\n", (long long)s->max_bytes);
        fprintf(fp, "    max_msgs: %lld\n", (long long)s->max_msgs);
    }
}

void config_dump(const config_t *c, FILE *fp)
{
    if (!c || !fp)
        return;
    fprintf(fp, "# effective configuration");
    if (c->path) {
        fputs(" of ", fp);
        y_str(fp, c->path);
    }
    fputs(" (defaults filled in, secrets redacted)\n", fp);
    dump_kafka(c, fp);
    dump_nats(c, fp);
    y_kv(fp, 0, "rules", c->rules);
    dump_sections(c, fp);
    dump_streams(c, fp);
}

/* ---- secrets ------------------------------------------------------------------ */

char *config_secret(const char *env_name, const char *file_path, char *errstr, size_t errstr_size)
{
    return secret_from(env_name, file_path, errstr, errstr_size);
}
