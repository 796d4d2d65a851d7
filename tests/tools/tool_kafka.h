/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool_kafka.h - header-only librdkafka client setup for er_produce and
 * er_admin. Include after tool_common.h.
 *
 * Both tools build their client the same way: bootstrap servers (the
 * --brokers option, default $ER_KAFKA_BOOTSTRAP) and client.id first, then
 * their own properties; a property librdkafka refuses is a usage error, a
 * client it cannot create an environment error.
 *
 * Not for: the router's own Kafka configuration (router/kconf.c).
 */
#ifndef ER_TOOL_KAFKA_H
#define ER_TOOL_KAFKA_H

#include <librdkafka/rdkafka.h>

/** Set one property; exits TC_EXIT_USAGE "kafka property k=v: reason" if refused. */
static inline void tk_conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        tc_die(TC_EXIT_USAGE, "kafka property %s=%s: %s", k, v, err);
}

/** Set every `key=value` of `kvs` (checked by tc_append_kv), in order. */
static inline void tk_conf_set_kvs(rd_kafka_conf_t *conf, const char *const *kvs, int n)
{
    for (int i = 0; i < n; i++) {
        const char *value = NULL;
        char *key = tc_kv_key(kvs[i], &value);
        tk_conf_set(conf, key, value);
        free(key);
    }
}

/** A new configuration with bootstrap.servers and client.id set. */
static inline rd_kafka_conf_t *tk_conf_new(const char *brokers, const char *client_id)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    tk_conf_set(conf, "bootstrap.servers", brokers);
    tk_conf_set(conf, "client.id", client_id);
    return conf;
}

/**
 * Create the client; `conf` is owned by it from here on. Exits TC_EXIT_ENV
 * "cannot create <what>: reason" on failure.
 */
static inline rd_kafka_t *tk_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *what)
{
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk)
        tc_die(TC_EXIT_ENV, "cannot create %s: %s", what, err);
    return rk;
}

#endif /* ER_TOOL_KAFKA_H */
