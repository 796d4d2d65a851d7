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
#include <strings.h>
#include <time.h>

#include "kconf.h"
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
    for (unsigned i = 0; i < count; i++) {
        char where[128], key[256];
        const char *eq = strchr(props[i], '=');
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

int kconf_scram_hint(int version, const char *protocol, const char *mechanism, char *hint,
                     size_t hint_size)
{
    int major = (version >> 24) & 0xff, minor = (version >> 16) & 0xff, rev = (version >> 8) & 0xff;

    if (hint_size)
        hint[0] = '\0';
    if (!protocol || strncasecmp(protocol, "sasl_", 5) != 0 || !mechanism ||
        strncasecmp(mechanism, "SCRAM-SHA-", 10) != 0)
        return 0;
    if (((unsigned)version >> 8) >= 0x020601u) /* 2.6.1: librdkafka#4895 merged */
        return 0;
    snprintf(hint, hint_size,
             "librdkafka %d.%d.%d cannot SCRAM-authenticate to Kafka 4.0+ brokers "
             "(librdkafka#4895, fixed in 2.6.1): they refuse its login as invalid credentials "
             "even when the password is right; with a Kafka 4.0+ broker use SASL/PLAIN over TLS "
             "(sasl.mechanisms=PLAIN), mTLS (security.protocol=SSL), a Kafka <= 3.9 broker, or "
             "an event-router built with librdkafka >= 2.6.1",
             major, minor, rev);
    return 1;
}

int kconf_scram_hint_conf(const rd_kafka_conf_t *conf, char *hint, size_t hint_size)
{
    char proto[32], mech[64];
    size_t psz = sizeof(proto), msz = sizeof(mech);

    if (rd_kafka_conf_get(conf, "security.protocol", proto, &psz) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_get(conf, "sasl.mechanisms", mech, &msz) != RD_KAFKA_CONF_OK) {
        if (hint_size)
            hint[0] = '\0';
        return 0;
    }
    return kconf_scram_hint(rd_kafka_version(), proto, mech, hint, hint_size);
}

void kconf_check_scram(const rd_kafka_conf_t *conf)
{
    static atomic_int warned;
    char hint[KCONF_HINT_MAX], mech[64] = "";
    size_t msz = sizeof(mech);

    if (!kconf_scram_hint_conf(conf, hint, sizeof(hint)) || atomic_exchange(&warned, 1))
        return;
    rd_kafka_conf_get(conf, "sasl.mechanisms", mech, &msz);
    LOG_WARN("KFK-0004", "this librdkafka cannot SCRAM-authenticate to Kafka 4.0+ brokers",
             LKV_S("librdkafka", rd_kafka_version_str()), LKV_S("mechanism", mech),
             LKV_S("hint", hint));
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
    char hint[KCONF_HINT_MAX] = "";
    (void)opaque;
    /* With TLS 1.3 a broker that rejects our client certificate says so
     * only after the handshake, as a transport error carrying the TLS alert. */
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL ||
        err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
        (err == RD_KAFKA_RESP_ERR__TRANSPORT && reason &&
         (strstr(reason, "SSL alert") || strstr(reason, "certificate")))) {
        /* A refused SCRAM login looks the same whether the password is
         * wrong or librdkafka#4895 hit: say which versions are affected. */
        if (reason && strstr(reason, "SASL"))
            kconf_scram_hint_conf(rd_kafka_conf(rk), hint, sizeof(hint));
        pthread_mutex_lock(&auth_lock);
        snprintf(auth_why, sizeof(auth_why), "%s%s%s", reason, hint[0] ? "; " : "", hint);
        pthread_mutex_unlock(&auth_lock);
        atomic_store(&auth_at_ns, monotime_ns());
    }
    /* Transport errors while a broker restarts are expected; librdkafka
     * retries on its own. Fatal errors are picked up by the router. */
    if (hint[0])
        LOG_WARN("KFK-0002", "librdkafka error", LKV_S("client", rd_kafka_name(rk)),
                 LKV_S("code", rd_kafka_err2name((rd_kafka_resp_err_t)err)),
                 LKV_S("reason", reason), LKV_S("hint", hint));
    else
        LOG_WARN("KFK-0002", "librdkafka error", LKV_S("client", rd_kafka_name(rk)),
                 LKV_S("code", rd_kafka_err2name((rd_kafka_resp_err_t)err)),
                 LKV_S("reason", reason));
}

void kconf_set_logger(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
}
