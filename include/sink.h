/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file sink.h
 * \brief The JetStream side: one NATS connection (all cluster URLs, endless
 *        reconnects, a reconnect buffer), asynchronous JetStream publishes
 *        with a dedup ID and a per-message ack timeout, and a queue of
 *        completions the router drains on its own thread.
 *
 * Threads. Every function here runs on the router's thread unless it says
 * "any thread". cnats runs the rest:
 *   - the PubAck handler (a JetStream answer, or cnats's own timeout after
 *     nats.ack_timeout_ms) on the delivery thread of the async-reply
 *     subscription. It does no routing and touches no router state: it
 *     classifies the outcome, puts it in the completion ring under the
 *     sink's lock and wakes the router through an eventfd. So every router
 *     structure stays single-threaded. It never allocates: the ring is
 *     allocated by sink_new() for RING_PER_WINDOW (2) in-flight windows
 *     (limits.max_inflight_total), and sink_publish() refuses a publish
 *     that would leave more completions outstanding than that, so an ack
 *     is never dropped;
 *   - the connection callbacks (connected, disconnected, reconnected,
 *     closed, async error) on cnats's callback thread; they touch only
 *     atomics, the denied-subject list (own lock) and the failure text.
 * sink_destroy() closes the connection (no handler starts after that),
 * then waits, within its timeout, for the closed callback and for any
 * PubAck handler still running before it frees the ring; past the timeout
 * it leaves the sink allocated rather than free memory a callback writes.
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

/**
 * \brief Close the connection and free everything, including queued
 *        completions. Main thread. NULL is a no-op.
 * \param[in] timeout_ms How long to wait for cnats's last callbacks (the
 *                       closed callback, PubAck handlers still running);
 *                       past it the sink is left allocated (SNK-0006).
 */
void sink_destroy(sink_t *s, int timeout_ms);

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
 * \return 0, or a natsStatus: then the caller still owns *msg and should retry
 *         later. NATS_INSUFFICIENT_BUFFER: the completion ring has no place
 *         left for the ack (publishes abandoned by revokes still pending).
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

/** Called for every message a scan reads (headers only: no payload). */
typedef void(sink_scan_fn)(void *ctx, natsMsg *msg);

/**
 * \brief Read, headers only, every message \p stream holds from \p since_ms
 *        (the server's store time, ms since the epoch) up to its last
 *        sequence when the scan starts, in stream order, with an ordered
 *        consumer (ephemeral, flow-controlled). Blocks; main thread.
 *        The NATS user needs to create consumers on the stream and to
 *        publish to `$JS.FC.>` (flow control replies); docs/deploy.md.
 * \param[in]  timeout_ms Bound on the whole scan.
 * \param[out] read       Messages read (also on failure).
 * \return 0 when everything up to the last sequence was read; -1 with
 *         \p errstr otherwise (timeout, no such stream, not permitted).
 */
int sink_scan(sink_t *s, const char *stream, int64_t since_ms, int64_t timeout_ms, sink_scan_fn *fn,
              void *ctx, uint64_t *read, char *errstr, size_t errstr_size);

/** \brief Stable name of an outcome, for metrics. */
const char *sink_outcome_name(sink_outcome_t o);

/**
 * \brief Test hook: while \p on is nonzero every allocation the sink makes
 *        itself fails (cnats's own allocations are not affected). Any thread.
 */
void sink_test_fail_allocations(int on);

/**
 * \brief Test hook: the PubAck handler sleeps \p ms before it touches the
 *        sink, as a late or slow cnats callback would. 0 turns it off.
 */
void sink_test_delay_acks(int ms);

#endif /* ER_SINK_H */
