/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file config.h
 * \brief The router's YAML configuration (router.yaml), loaded with libcyaml
 *        from static schema tables, then validated in one pass.
 *
 * Unknown keys, wrong types and numbers out of range are errors with
 * file:line:col. Defaults are filled in by the loader so the rest of the
 * program never checks for "unset". Every key's type, default, range and
 * meaning is written once, in the key table in config.c (config_keys());
 * docs/config.md is generated from it (config_reference()), so this header
 * deliberately repeats no default: look there.
 *
 * librdkafka properties are plain "key=value" strings (a value may be a
 * ${env:NAME} or ${file:/path} reference, resolved by secret.c) handed
 * to librdkafka otherwise unchanged (as kcat -X does), so every option is
 * available without this file knowing it.
 *
 * Secrets (passwords, tokens) are never required in the file: each has an
 * *_env or *_file alternative, and config_dump() redacts them.
 *
 * Not for: rules (rules.h) or anything that connects to a broker.
 *
 * Threads: load on the main thread; the resulting config_t is read-only.
 */
#ifndef ER_CONFIG_H
#define ER_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "diag.h"

/** A JetStream stream the routes need (optional `streams:` section). */
typedef struct config_stream {
    char *name;
    char **subjects;
    unsigned subjects_count;
    uint32_t replicas;
    char *storage; /**< "file" or "memory" */
    uint32_t duplicate_window_s;
    int64_t max_age_s; /**< 0 = unlimited */
    int64_t max_bytes; /**< -1 = unlimited */
    int64_t max_msgs;  /**< -1 = unlimited */
} config_stream_t;

typedef struct config {
    char *path;  /**< File the config came from (not part of the schema). */
    void *where; /**< Where each key is written (config_where()); not part of the schema. */

    struct {
        char *brokers; /**< bootstrap.servers, required */
        char *group_id;
        char **topics; /**< names, or one "^regex" entry; required */
        unsigned topics_count;
        char **properties; /**< "key=value" passed to librdkafka as is */
        unsigned properties_count;
        char *group_instance_id;     /**< static membership; may be NULL */
        char *group_instance_id_env; /**< env var holding it, e.g. POD_NAME */
        uint32_t refetch_idle_ms;    /**< fetch.queue.backoff.ms; 0 = fetch at once */
    } kafka;

    struct {
        char **servers; /**< nats://host:port URLs; required */
        unsigned servers_count;
        char *domain;            /**< JetStream domain; NULL = none */
        char *api_prefix;        /**< JetStream API prefix; NULL = $JS.API */
        uint32_t ack_timeout_ms; /**< per-publish PubAck wait */
        int32_t max_reconnects;  /**< -1 = unlimited */
        uint32_t reconnect_wait_ms;
        uint32_t reconnect_buffer_bytes; /**< at most INT_MAX (cnats takes an int) */
        char *name;                      /**< connection name */
        char *user;
        char *password_env; /**< env var holding the password */
        char *password_file;
        char *token_env;
        char *creds_file;
        char *nkey_seed_file;
        char *tls_ca_file;
        char *tls_cert_file;
        char *tls_key_file;
    } nats;

    char *rules; /**< path of the rule file; required. A relative path is resolved
                      against the config file's directory by config_load_file(). */

    struct {
        uint32_t max_inflight_per_partition;
        uint32_t max_inflight_total;
        uint32_t drain_timeout_ms;
        uint32_t commit_interval_ms;
        uint32_t revoke_timeout_ms;
        uint32_t shutdown_timeout_ms;  /**< bounds the whole graceful stop (drain, final
                                            commit, leaving the group, DLQ flush, NATS close) */
        uint32_t reconcile_timeout_ms; /**< bounds a look-up of what the streams hold; 0 off */
    } limits;

    struct {
        uint32_t max_attempts; /**< transient failures before DLQ; at most UINT16_MAX */
        uint32_t backoff_initial_ms;
        uint32_t backoff_max_ms;
    } retry;

    struct {
        char *topic;       /**< dead-letter topic; NULL disables DLQ (then DLQ decisions stall) */
        char **properties; /**< extra producer "key=value" */
        unsigned properties_count;
    } dlq;

    struct {
        char *listen;            /**< "ipv4:port"; "" disables */
        uint32_t stuck_after_ms; /**< readiness: max time without progress */
    } http;

    struct {
        char *level;  /**< debug|info|warn|error */
        char *format; /**< logfmt|json */
    } log;

    config_stream_t *streams;
    unsigned streams_count;
} config_t;

/** The type of a config key's value. */
typedef enum config_type {
    CONFIG_TYPE_STRING,   /**< char * */
    CONFIG_TYPE_STRINGS,  /**< char ** with a count */
    CONFIG_TYPE_UINT32,   /**< uint32_t */
    CONFIG_TYPE_INT32,    /**< int32_t */
    CONFIG_TYPE_INT64,    /**< int64_t */
    CONFIG_TYPE_MAPPINGS, /**< a list of mappings (streams) */
    CONFIG_TYPE__COUNT
} config_type_t;

/** A key that must be present. */
#define CONFIG_KEY_REQUIRED 0x1u

/**
 * One key of router.yaml, as the key table in config.c describes it: the
 * loader takes defaults and ranges from it and docs/config.md is printed
 * from it, so each fact is written once.
 */
typedef struct config_key {
    const char *name;    /**< "retry.max_attempts"; "streams[].replicas" for each stream's */
    config_type_t type;  /**< What the value is. */
    unsigned flags;      /**< CONFIG_KEY_REQUIRED, or 0. */
    const char *def_str; /**< Default of a string key; NULL: none (unset). */
    int64_t def;         /**< Default of a number key (used when the key is absent). */
    int64_t min, max;    /**< Inclusive range of a number key. */
    size_t offset;       /**< Of the field in config_t, or config_stream_t for streams[]. */
    const char *doc;     /**< One line for the reference. */
} config_key_t;

/**
 * \brief The key table.
 * \param[out] count Number of entries.
 * \return The entries, in the order docs/config.md lists them; static.
 */
const config_key_t *config_keys(size_t *count);

/**
 * \brief Print the Markdown reference of every key (docs/config.md).
 * \param[in] fp Where to write.
 */
void config_reference(FILE *fp);

/**
 * \brief Load, default and validate a config file.
 * \param[in]  path        YAML file.
 * \param[out] out         New config on success, NULL on error.
 * \param[out] errstr      "path:line:col: error: message" on error (a file that
 *                         cannot be read: "path: reason").
 * \param[in]  errstr_size Size of \p errstr.
 * \return 0 on success, -1 on error.
 */
int config_load_file(const char *path, config_t **out, char *errstr, size_t errstr_size);

/**
 * \brief Load, default and validate a config held in memory (what
 *        config_load_file() does after reading the file).
 * \param[in]  name        Name for messages, and the path a relative `rules:`
 *                         is resolved against (its directory part).
 * \param[in]  data        The YAML bytes; need not be NUL-terminated.
 * \param[in]  len         Their length; more than 1 MiB is refused.
 * \param[out] out         New config on success, NULL on error.
 * \param[out] errstr      "name:line:col: error: message" on error.
 * \param[in]  errstr_size Size of \p errstr.
 * \return 0 on success, -1 on error.
 */
int config_load_buffer(const char *name, const void *data, size_t len, config_t **out, char *errstr,
                       size_t errstr_size);

/**
 * \brief Load, default and validate a config file, reporting every problem.
 * \param[in]  path YAML file.
 * \param[out] out  The config; on success always set. On failure, the config
 *                  as far as it could be loaded (problems only the validation
 *                  found, unknown keys, numbers out of range: such a number
 *                  is kept as written), so a checker can go on with its
 *                  other checks; NULL when it could not be loaded at all.
 *                  Never start a router with a config that failed. Either
 *                  way the caller frees it with config_free().
 * \param[out] d    Every problem is appended, each with file:line:col and a
 *                  "did you mean" where one is close, by line then column
 *                  (a missing key, placed at the start of its mapping, comes
 *                  after that mapping's other problems; a file that cannot
 *                  be read: one diagnostic without position, "path: reason").
 *                  One mistake gives one diagnostic: a YAML syntax error
 *                  ends the report; a node of the wrong type is not looked
 *                  into; a misspelt key is not also missing; a number out
 *                  of range is not compared with others; the same message
 *                  at the same place is said once. Past 100 problems, one
 *                  last line without position says more were left out.
 *                  When the schema's only problems are unknown keys and
 *                  numbers out of range, the validation runs too; else
 *                  only the schema's problems are reported.
 * \return 0 when there was no error (\p d may hold warnings), else -1.
 */
int config_load_file_diags(const char *path, config_t **out, diags_t *d);

/** \brief config_load_file_diags() for a config held in memory (see config_load_buffer()). */
int config_load_buffer_diags(const char *name, const void *data, size_t len, config_t **out,
                             diags_t *d);

/**
 * \brief Where a config path is written in the file it was loaded from.
 * \param[in]  path A key path: "dlq.topic", "kafka.properties[2]",
 *                  "streams[1].subjects[0]".
 * \param[out] line,col Its value's position; for an absent key, the key
 *                  position of its nearest present ancestor; else 1:1.
 * \return 1 for the path itself, 0 for an ancestor, -1 for neither.
 */
int config_where(const config_t *cfg, const char *path, int *line, int *col);

/**
 * \brief The rule file a config at \p config_path names as \p rules: a
 *        relative path is taken relative to the config file's directory.
 * \return A new string (free() it), or NULL when out of memory.
 */
char *config_rules_path(const char *config_path, const char *rules);

/** \brief Free a config from config_load_file(). NULL is a no-op. */
void config_free(config_t *cfg);

/** \brief Write the effective config as YAML with every secret redacted. */
void config_dump(const config_t *cfg, FILE *fp);

/* Which kafka.properties hold a secret: secret_property_is_secret() in secret.h. */

/**
 * \brief Resolve a secret from an env var name or a file path (first set
 *        wins): secret_from() of secret.h, which also warns (SEC-0001) about
 *        a file readable by group or others. Free with secret_free().
 * \return malloc'd string the caller frees, or NULL when neither is set.
 *         On a read error, NULL and \p errstr filled.
 */
char *config_secret(const char *env_name, const char *file_path, char *errstr, size_t errstr_size);

#endif /* ER_CONFIG_H */
