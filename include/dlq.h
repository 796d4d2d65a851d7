/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file dlq.h
 * \brief The dead-letter topic: an idempotent acks=all producer that writes
 *        the original key, value and headers plus error headers saying why.
 *
 * A source offset may be committed only after its dead-letter record is
 * acknowledged, so delivery reports come back to the router through a
 * callback served by dlq_poll() on the router's own thread.
 *
 * Error headers (all strings): er-dlq-reason (human text), er-dlq-code
 * (stable snake_case code), er-dlq-route, er-dlq-topic, er-dlq-partition,
 * er-dlq-offset, er-dlq-time (RFC 3339 UTC). A record larger than the DLQ
 * accepts is dead-lettered without its value and with er-dlq-value-omitted
 * saying so: the original stays in the source topic (Kafka is the event
 * store) at the topic/partition/offset the headers name.
 */
#ifndef ER_DLQ_H
#define ER_DLQ_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "config.h"

typedef struct dlq dlq_t;

/**
 * Delivery report. Runs inside dlq_poll(), on the caller's thread.
 * \param err 0 on success, else an rd_kafka_resp_err_t.
 */
typedef void(dlq_delivered_fn)(void *opaque, int err, const char *errstr, void *ctx);

/** Why an event is dead-lettered. */
typedef struct dlq_reason {
    const char *code;   /**< stable code, e.g. "unsafe_token" */
    const char *detail; /**< human text */
    const char *route;  /**< route name or NULL */
    int omit_value;     /**< 1: send no value, only a reference to the original
                             (used when the record is larger than the DLQ accepts) */
} dlq_reason_t;

/** \brief Whether a produce or delivery error means "record too large for the DLQ". */
/** \brief Stable name of a produce error (librdkafka's), for logs. */
const char *dlq_err_name(int err);

int dlq_err_is_too_large(int err);

/**
 * \brief Create the producer. \p cfg->dlq.topic must be set.
 * \param[in] cb  Delivery callback; \p ctx is passed to it.
 * \return 0, or -1 with \p errstr (e.g. a bad dlq.properties entry).
 */
int dlq_new(const config_t *cfg, dlq_delivered_fn *cb, void *ctx, dlq_t **out, char *errstr,
            size_t errstr_size);

/**
 * \brief Queue one dead-letter record for \p orig. Main thread.
 * \param[in] opaque Returned in the delivery callback.
 * \return 0 or an rd_kafka_resp_err_t (e.g. queue full: retry later).
 */
int dlq_produce(dlq_t *d, const rd_kafka_message_t *orig, const dlq_reason_t *why, void *opaque);

/** \brief Serve delivery reports. \return events served. */
int dlq_poll(dlq_t *d, int timeout_ms);

/**
 * \brief Whether the producer hit a fatal error (rd_kafka_fatal_error(),
 *        e.g. its idempotent producer was fenced or its sequence broke):
 *        it will never deliver again; the router stops (DLQ-0901). Main thread.
 * \param[out] why The error's name and librdkafka's text.
 * \return 1 when fatal, else 0.
 */
int dlq_fatal(dlq_t *d, char *why, size_t why_size);

/** \brief The producer handle, for tests (e.g. rd_kafka_test_fatal_error()). */
rd_kafka_t *dlq_handle(dlq_t *d);

/** \brief Records queued and not yet reported. */
int dlq_outq_len(dlq_t *d);

/** \brief Flush (bounded) and destroy. NULL is a no-op. */
void dlq_destroy(dlq_t *d, int flush_timeout_ms);

#endif /* ER_DLQ_H */
