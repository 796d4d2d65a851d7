/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file kconf.h
 * \brief librdkafka configuration shared by the consumer (source.c) and the
 *        dead-letter producer (dlq.c): "key=value" properties passed through
 *        unchanged, and librdkafka's own logs and errors routed to log.h.
 */
#ifndef ER_KCONF_H
#define ER_KCONF_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

/**
 * \brief Set one property, with an error that names where it came from.
 * \param[in] where Config location for messages, e.g. "kafka.properties[2]".
 * \return 0, or -1 with \p errstr = "<where>: <librdkafka's message>".
 */
int kconf_set(rd_kafka_conf_t *conf, const char *key, const char *value, const char *where,
              char *errstr, size_t errstr_size);

/**
 * \brief Apply "key=value" strings in order.
 * \param[in] section For messages, e.g. "kafka.properties".
 * \return 0 or -1 (first bad property, quoting librdkafka's message).
 */
int kconf_apply(rd_kafka_conf_t *conf, char *const *props, unsigned count, const char *section,
                char *errstr, size_t errstr_size);

/** \brief Route librdkafka's log and error callbacks through log.h. */
void kconf_set_logger(rd_kafka_conf_t *conf);

#endif /* ER_KCONF_H */
