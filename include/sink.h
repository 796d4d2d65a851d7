/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file sink.h
 * \brief The JetStream side: one NATS connection (all cluster URLs, endless
 *        reconnects, a reconnect buffer), asynchronous JetStream publishes
 *        with a dedup ID and a per-message ack timeout, and a queue of
 *        completions the router drains on its own thread.
 *
 * The PubAck handler runs on cnats's async-reply thread. It does no routing
 * and touches no router state: it classifies the outcome, hands the message
 * back through a mutex-protected queue and wakes the router through an
 * eventfd. So every router structure stays single-threaded.
 *
 * Not for: routing, offsets or Kafka.
 */
#ifndef ER_SINK_H
#define ER_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "config.h"

typedef struct sink sink_t;

typedef enum sink_outcome {
    SINK_STORED,    /**< PubAck received. */
    SINK_DUPLICATE, /**< PubAck with duplicate:true (already stored: success). */
    SINK_TRANSIENT, /**< Timeout, no responders, lost connection...: retry. */
    SINK_PERMANENT, /**< Refused for good (e.g. too large; or the server does not
                         allow publishing on the subject: status NATS_NOT_PERMITTED): DLQ. */
    SINK__COUNT
} sink_outcome_t;

/** One finished publish, handed from the cnats thread to the router. */
typedef struct sink_completion {
    natsMsg *msg; /**< Ownership passes to whoever drains the completion. */
    sink_outcome_t outcome;
    int status;          /**< natsStatus */
    int js_code;         /**< JetStream API error code, 0 if none */
    uint64_t seq;        /**< Stream sequence on success */
    int64_t acked_at_ns; /**< Monotonic time the ack arrived */
    char error[160];
} sink_completion_t;

/**
 * \brief Connect (or start retrying to connect: start-up never fails only
 *        because NATS is down) and create the JetStream context.
 * \param[in]  cfg          Config (nats section, limits).
 * \param[out] out          The sink.
 * \param[out] errstr       Reason on failure (bad option, unreadable creds...).
 * \return 0 or -1.
 */
int sink_new(const config_t *cfg, sink_t **out, char *errstr, size_t errstr_size);

/** \brief Close the connection and free everything, including queued completions. */
void sink_destroy(sink_t *s);

/** \brief A file descriptor that is readable while completions are queued. */
int sink_fd(const sink_t *s);

/** \brief Whether the connection is up right now. Any thread. */
int sink_connected(const sink_t *s);

/**
 * \brief Whether cnats closed the connection by itself, for good (it does
 *        so when the server refuses the credentials on reconnect, e.g. a
 *        wrong password or a revoked user): nothing will reconnect. Any thread.
 * \param[out] why cnats's last error, e.g. "Authorization Violation".
 * \return 1 when failed, else 0.
 */
int sink_failed(sink_t *s, char *why, size_t why_size);

/** \brief Reconnects since start. Any thread. */
uint64_t sink_reconnects(const sink_t *s);

/**
 * \brief Publish to JetStream asynchronously. Main thread.
 * \param[in,out] msg    On success the library owns it and *msg is NULL; the
 *                       same pointer comes back in a completion.
 * \param[in]     msg_id Nats-Msg-Id, or NULL when the message already carries the header.
 * \return 0, or a natsStatus: then the caller still owns *msg and should retry later.
 */
int sink_publish(sink_t *s, natsMsg **msg, const char *msg_id);

/**
 * \brief Publish on core NATS (non-durable; success means handed to the
 *        client's buffer). The message stays owned by the caller.
 * \return 0, or a natsStatus.
 */
int sink_publish_core(sink_t *s, natsMsg *msg);

/**
 * \brief Move up to \p max completions into \p out. Main thread.
 * \return How many were moved.
 */
size_t sink_drain(sink_t *s, sink_completion_t *out, size_t max);

/** \brief The JetStream context, for stream provisioning. */
jsCtx *sink_js(sink_t *s);

/** \brief Stable name of an outcome, for metrics. */
const char *sink_outcome_name(sink_outcome_t o);

#endif /* ER_SINK_H */
