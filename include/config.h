/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file config.h
 * \brief The router's YAML configuration (router.yaml), loaded with libcyaml
 *        from static schema tables, then validated in one pass.
 *
 * Unknown keys and wrong types are errors with file:line:col. Defaults are
 * filled in by config_load_file() so the rest of the program never checks
 * for "unset". librdkafka properties are plain "key=value" strings handed
 * to librdkafka unchanged (as kcat -X does), so every librdkafka option is
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

/** A JetStream stream the routes need (optional `streams:` section). */
typedef struct config_stream {
    char *name;
    char **subjects;
    unsigned subjects_count;
    uint32_t replicas;           /**< default 3 */
    char *storage;               /**< "file" (default) or "memory" */
    uint32_t duplicate_window_s; /**< default 120 */
    int64_t max_age_s;           /**< 0 = unlimited */
    int64_t max_bytes;           /**< -1 = unlimited (default) */
    int64_t max_msgs;            /**< -1 = unlimited (default) */
} config_stream_t;

typedef struct config {
    char *path; /**< File the config came from (not part of the schema). */

    struct {
        char *brokers;  /**< bootstrap.servers, required */
        char *group_id; /**< default "event-router" */
        char **topics;  /**< names, or one "^regex" entry; required */
        unsigned topics_count;
        char **properties; /**< "key=value" passed to librdkafka as is */
        unsigned properties_count;
        char *group_instance_id;     /**< static membership; may be NULL */
        char *group_instance_id_env; /**< env var holding it, e.g. POD_NAME */
        uint32_t refetch_idle_ms;    /**< restart a stalled prefetch; 0 = off, default 20 */
    } kafka;

    struct {
        char **servers; /**< nats://host:port URLs; required */
        unsigned servers_count;
        char *domain;                    /**< JetStream domain; NULL = none */
        char *api_prefix;                /**< JetStream API prefix; NULL = $JS.API */
        uint32_t ack_timeout_ms;         /**< per-publish PubAck wait, default 5000 */
        int32_t max_reconnects;          /**< -1 = unlimited (default) */
        uint32_t reconnect_wait_ms;      /**< default 500 */
        uint32_t reconnect_buffer_bytes; /**< default 8 MiB */
        char *name;                      /**< connection name, default "event-router" */
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
        uint32_t max_inflight_per_partition; /**< default 10000 */
        uint32_t max_inflight_total;         /**< default 50000 */
        uint32_t drain_timeout_ms;           /**< default 15000 */
        uint32_t commit_interval_ms;         /**< default 1000 */
        uint32_t revoke_timeout_ms;          /**< default 10000 */
        uint32_t shutdown_timeout_ms;        /**< default 25000: bounds the whole graceful
                                                  stop (drain, final commit, leaving the group,
                                                  DLQ flush, NATS close) */
    } limits;

    struct {
        uint32_t max_attempts;       /**< transient failures before DLQ, default 10 */
        uint32_t backoff_initial_ms; /**< default 100 */
        uint32_t backoff_max_ms;     /**< default 10000 */
    } retry;

    struct {
        char *topic;       /**< dead-letter topic; NULL disables DLQ (then DLQ decisions stall) */
        char **properties; /**< extra producer "key=value" */
        unsigned properties_count;
    } dlq;

    struct {
        char *listen;            /**< "127.0.0.1:9180" default; "" disables */
        uint32_t stuck_after_ms; /**< readiness: max time without progress, default 60000 */
    } http;

    struct {
        char *level;  /**< debug|info|warn|error, default info */
        char *format; /**< logfmt|json, default logfmt */
    } log;

    config_stream_t *streams;
    unsigned streams_count;
} config_t;

/**
 * \brief Load, default and validate a config file.
 * \param[in]  path        YAML file.
 * \param[out] out         New config on success, NULL on error.
 * \param[out] errstr      "path:line:col: message" on error.
 * \param[in]  errstr_size Size of \p errstr.
 * \return 0 on success, -1 on error.
 */
int config_load_file(const char *path, config_t **out, char *errstr, size_t errstr_size);

/** \brief Free a config from config_load_file(). NULL is a no-op. */
void config_free(config_t *cfg);

/** \brief Write the effective config as YAML with every secret redacted. */
void config_dump(const config_t *cfg, FILE *fp);

/**
 * \brief Whether a librdkafka "key=value" property holds a secret (its key
 *        names a password, secret, token, credential or private key: the
 *        rule of secret_key_is_secret() in secret.h).
 *        config_dump() redacts such values unless they are only
 *        ${env:NAME} / ${file:PATH} references (see kconf.h).
 */
int config_property_is_secret(const char *prop);

/**
 * \brief Resolve a secret from an env var name or a file path (first set
 *        wins): secret_from() of secret.h, which also warns (SEC-0001) about
 *        a file readable by group or others. Free with secret_free().
 * \return malloc'd string the caller frees, or NULL when neither is set.
 *         On a read error, NULL and \p errstr filled.
 */
char *config_secret(const char *env_name, const char *file_path, char *errstr, size_t errstr_size);

#endif /* ER_CONFIG_H */
