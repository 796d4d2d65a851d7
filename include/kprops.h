/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file kprops.h
 * \brief librdkafka's own table of configuration properties, read from the
 *        linked librdkafka (rd_kafka_conf_properties_show()), so that the
 *        router knows which names exist and which client each applies to
 *        without keeping a list of its own that would go stale.
 *
 * Used by `event-router check` (unknown names, with a "did you mean") and
 * by the dead-letter producer (which takes only the producer's share of
 * kafka.properties, so consumer-only keys cause no CONFWARN there).
 *
 * Threads: any; the table is read once (pthread_once) and then read-only.
 */
#ifndef ER_KPROPS_H
#define ER_KPROPS_H

#include <stddef.h>

/** The property applies to consumers. */
#define KPROPS_CONSUMER 0x1u
/** The property applies to producers. */
#define KPROPS_PRODUCER 0x2u

/**
 * \brief Which clients a property applies to.
 * \param[in] name Property name; only its first \p len bytes are looked at.
 * \return KPROPS_CONSUMER | KPROPS_PRODUCER bits; 0 when librdkafka has no
 *         property of that name (or its table could not be read).
 */
unsigned kprops_scope(const char *name, size_t len);

/**
 * \brief Whether a "key=value" property applies to producers (or its key is
 *        unknown, which the caller's librdkafka call will then report).
 * \return 1 or 0.
 */
int kprops_for_producer(const char *prop);

/**
 * \brief The known property name closest to \p name (diag_suggest()), for
 *        "did you mean"; NULL when none is close.
 * \return A string of the table, valid for the life of the process.
 */
const char *kprops_suggest(const char *name);

/** \brief How many properties the table holds (0: it could not be read). */
size_t kprops_count(void);

#endif /* ER_KPROPS_H */
