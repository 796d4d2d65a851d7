/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kconf: librdkafka configuration helpers shared by the consumer and the DLQ
 * producer. Users keep every librdkafka option: properties are handed over
 * as written, like kcat -X, and a bad one is a start-up error quoting
 * librdkafka's own message. Secrets are referenced, not written: a value's
 * ${env:NAME} and ${file:PATH} references are resolved here, at the last
 * moment, and the resolved text goes nowhere but librdkafka (errors that
 * would quote it are redacted). Not for: choosing defaults (the callers do).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kconf.h"
#include "kprops.h"
#include "log.h"
#include "monotime.h"
#include "secret.h"

int kconf_set(rd_kafka_conf_t *conf, const char *key, const char *value, const char *where,
              char *errstr, size_t errstr_size)
{
    char rderr[512];
    if (rd_kafka_conf_set(conf, key, value, rderr, sizeof(rderr)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "%s: %s", where, rderr);
        return -1;
    }
    return 0;
}

void kconf_free_secret(char *s)
{
    secret_free(s);
}

int kconf_resolve(const char *value, char **out, unsigned *refs, char *errstr, size_t errstr_size)
{
    return secret_resolve(value, out, refs, errstr, errstr_size);
}

int kconf_apply(rd_kafka_conf_t *conf, char *const *props, unsigned count, const char *section,
                char *errstr, size_t errstr_size)
{
    return kconf_apply_for(conf, props, count, section, 0, errstr, errstr_size);
}

int kconf_apply_for(rd_kafka_conf_t *conf, char *const *props, unsigned count, const char *section,
                    unsigned client, char *errstr, size_t errstr_size)
{
    for (unsigned i = 0; i < count; i++) {
        char where[128], key[256];
        const char *eq = strchr(props[i], '=');
        unsigned scope = eq ? kprops_scope(props[i], (size_t)(eq - props[i])) : 0;
        /* Another client's property: librdkafka would only warn (CONFWARN). */
        if (client && scope && !(scope & client))
            continue;
        snprintf(where, sizeof(where), "%s[%u]", section, i);
        if (!eq || eq == props[i] || (size_t)(eq - props[i]) >= sizeof(key)) {
            char shown[256];
            snprintf(errstr, errstr_size, "%s: expected key=value, got '%s'", where,
                     secret_redact_property(props[i], shown, sizeof(shown)));
            return -1;
        }
        memcpy(key, props[i], (size_t)(eq - props[i]));
        key[eq - props[i]] = '\0';

        char *val = NULL, rerr[400];
        unsigned refs = 0;
        if (kconf_resolve(eq + 1, &val, &refs, rerr, sizeof(rerr)) != 0) {
            snprintf(errstr, errstr_size, "%s: %s: %s", where, key, rerr);
            return -1;
        }
        if (refs == 0 && secret_property_is_secret(props[i]))
            LOG_WARN("KFK-0003",
                     "secret written in the config file; reference it instead: "
                     "${env:NAME} or ${file:PATH}",
                     LKV_S("property", where), LKV_S("key", key));
        int rc = kconf_set(conf, key, val, where, errstr, errstr_size);
        if (rc != 0 && (refs > 0 || secret_property_is_secret(props[i])))
            secret_scrub(errstr, errstr_size, val); /* librdkafka may quote the value */
        kconf_free_secret(val);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* librdkafka calls these on its internal threads; log.h is thread-safe. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    log_level_t lvl = level <= 3   ? LOG_LVL_ERROR
                      : level <= 4 ? LOG_LVL_WARN
                      : level <= 6 ? LOG_LVL_INFO
                                   : LOG_LVL_DEBUG;
    LOG_AT(lvl, "KFK-0001", "librdkafka", LKV_S("client", rd_kafka_name(rk)),
           LKV_S("facility", fac), LKV_S("text", buf));
}

/* The last authentication failure, written on librdkafka's threads. */
static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;
static char auth_why[KCONF_AUTH_WHY_MAX];
static atomic_int_fast64_t auth_at_ns;

int kconf_auth_failure(int64_t within_ms, char *why, size_t why_size)
{
    int64_t at = atomic_load(&auth_at_ns);
    if (!at || monotime_ns() - at > within_ms * 1000000)
        return 0;
    pthread_mutex_lock(&auth_lock);
    snprintf(why, why_size, "%s", auth_why);
    pthread_mutex_unlock(&auth_lock);
    return 1;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    /* With TLS 1.3 a broker that rejects our client certificate says so
     * only after the handshake, as a transport error carrying the TLS alert. */
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL ||
        err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
        (err == RD_KAFKA_RESP_ERR__TRANSPORT && reason &&
         (strstr(reason, "SSL alert") || strstr(reason, "certificate")))) {
        pthread_mutex_lock(&auth_lock);
        snprintf(auth_why, sizeof(auth_why), "%s", reason ? reason : "");
        pthread_mutex_unlock(&auth_lock);
        atomic_store(&auth_at_ns, monotime_ns());
    }
    /* Transport errors while a broker restarts are expected; librdkafka
     * retries on its own. Fatal errors are picked up by the router. */
    LOG_WARN("KFK-0002", "librdkafka error", LKV_S("client", rd_kafka_name(rk)),
             LKV_S("code", rd_kafka_err2name((rd_kafka_resp_err_t)err)), LKV_S("reason", reason));
}

void kconf_set_logger(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
}
