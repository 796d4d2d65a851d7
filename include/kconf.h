/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file kconf.h
 * \brief librdkafka configuration shared by the consumer (source.c) and the
 *        dead-letter producer (dlq.c): "key=value" properties passed through
 *        unchanged, and librdkafka's own logs and errors routed to log.h.
 *
 * Secrets stay out of router.yaml: a property value may contain references,
 * `${env:NAME}` (an environment variable) and `${file:/path}` (a file's
 * content, trailing newlines removed), resolved only here, just before the
 * value is handed to librdkafka. The resolved value is never logged and
 * never quoted in an error; config_dump() prints the reference as written.
 * `$${` stands for a literal `${`. Any other `${...}` is left as written.
 */
#ifndef ER_KCONF_H
#define ER_KCONF_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

/** Room for kconf_auth_failure()'s text: librdkafka's reason. */
#define KCONF_AUTH_WHY_MAX 768

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

/**
 * \brief kconf_apply() for one client: a property librdkafka knows, but only
 *        for the other client (kprops.h), is left out instead of being set
 *        and warned about (CONFWARN) by librdkafka. Unknown names are set,
 *        so librdkafka refuses them as usual.
 * \param[in] client KPROPS_CONSUMER or KPROPS_PRODUCER (kprops.h); 0: all.
 */
int kconf_apply_for(rd_kafka_conf_t *conf, char *const *props, unsigned count, const char *section,
                    unsigned client, char *errstr, size_t errstr_size);

/**
 * \brief Resolve the `${env:NAME}` and `${file:PATH}` references in a value.
 * \param[in]  value       Property value as written in the config.
 * \param[out] out         malloc'd resolved value (the caller wipes and frees it
 *                         with kconf_free_secret()); NULL on error.
 * \param[out] refs        Number of references resolved (0: \p out equals \p value).
 * \param[out] errstr      On error: which reference failed and why (an unset
 *                         variable, an unreadable file, an unterminated or
 *                         empty reference); never a resolved value.
 * \return 0 or -1.
 *
 * Pure apart from getenv() and reading the named files; any thread.
 * Implemented once, as secret_resolve() (secret.h).
 */
int kconf_resolve(const char *value, char **out, unsigned *refs, char *errstr, size_t errstr_size);

/** \brief Overwrite a string from kconf_resolve() with zeros, then free it. NULL is a no-op. */
void kconf_free_secret(char *s);

/** \brief Route librdkafka's log and error callbacks through log.h. */
void kconf_set_logger(rd_kafka_conf_t *conf);

/**
 * \brief The last Kafka authentication failure (SASL or TLS handshake) that a
 *        client set up by kconf_set_logger() reported, if it came within the
 *        last \p within_ms milliseconds. librdkafka treats these as
 *        transient and keeps retrying; the router shows this in its
 *        readiness reason so an operator sees why nothing is consumed.
 *        Process-wide (the error callback runs on librdkafka's threads and
 *        has no router to write to). Any thread.
 * \param[out] why  librdkafka's reason, e.g. "SASL authentication error: ...".
 * \return 1 when such a failure is recent, else 0.
 */
int kconf_auth_failure(int64_t within_ms, char *why, size_t why_size);

#endif /* ER_KCONF_H */
