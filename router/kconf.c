/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kconf: librdkafka configuration helpers shared by the consumer and the DLQ
 * producer. Users keep every librdkafka option: properties are handed over
 * as written, like kcat -X, and a bad one is a start-up error quoting
 * librdkafka's own message. Not for: choosing defaults (the callers do).
 */
#include <stdio.h>
#include <string.h>

#include "kconf.h"
#include "log.h"

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

int kconf_apply(rd_kafka_conf_t *conf, char *const *props, unsigned count, const char *section,
                char *errstr, size_t errstr_size)
{
    for (unsigned i = 0; i < count; i++) {
        char where[128], key[256];
        const char *eq = strchr(props[i], '=');
        snprintf(where, sizeof(where), "%s[%u]", section, i);
        if (!eq || eq == props[i] || (size_t)(eq - props[i]) >= sizeof(key)) {
            snprintf(errstr, errstr_size, "%s: expected key=value, got '%s'", where, props[i]);
            return -1;
        }
        memcpy(key, props[i], (size_t)(eq - props[i]));
        key[eq - props[i]] = '\0';
        if (kconf_set(conf, key, eq + 1, where, errstr, errstr_size) != 0)
            return -1;
    }
    return 0;
}

/* librdkafka calls these on its internal threads; log.h is thread-safe. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    char q[512];
    log_level_t lvl = level <= 3 ? LOG_LVL_ERROR
                      : level <= 4 ? LOG_LVL_WARN
                      : level <= 6 ? LOG_LVL_INFO
                                   : LOG_LVL_DEBUG;
    if (!LOG_ENABLED(lvl))
        return;
    log_write(lvl, "KFK-0001", "librdkafka", "client=%s facility=%s text=%s", rd_kafka_name(rk),
              fac, log_quote(q, sizeof(q), buf, strlen(buf)));
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    char q[512];
    (void)opaque;
    /* Transport errors while a broker restarts are expected; librdkafka
     * retries on its own. Fatal errors are picked up by the router. */
    LOG_WARN("KFK-0002", "librdkafka error", "client=%s code=%s reason=%s", rd_kafka_name(rk),
             rd_kafka_err2name((rd_kafka_resp_err_t)err),
             log_quote(q, sizeof(q), reason, strlen(reason)));
}

void kconf_set_logger(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
}
