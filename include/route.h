/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file route.h
 * \brief Pure routing: one Kafka record plus a compiled rule set in, one
 *        decision out (publish where, with which dedup ID and headers; or
 *        skip; or dead-letter, with the reason).
 *
 * No I/O, no allocation on the hot path, no global state. The envelope
 * fields (event type, ID, aggregate, ...) are extracted here as the rule
 * file declares: headers first where declared, the JSON value only when a
 * declared source needs it (header-typed events never pay for a JSON parse).
 *
 * Safety: every token built from event data is checked; a value with '.',
 * '*', '>', whitespace, control characters, invalid UTF-8, or an empty one
 * never reaches a subject: the decision becomes ROUTE_DLQ with a reason.
 *
 * Threads: route_decide() is reentrant; call it from any thread with its own
 * result struct.
 */
#ifndef ER_ROUTE_H
#define ER_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"

#define ROUTE_SUBJECT_MAX    255 /**< Longest subject we ever build. */
#define ROUTE_DEDUP_MAX      255 /**< Longest Nats-Msg-Id we ever build. */
#define ROUTE_MAX_HEADERS    16  /**< Extra headers a route may add. */
#define ROUTE_SCRATCH        4096
#define ROUTE_REASON_MAX     255
#define ROUTE_EVENT_TYPE_MAX 127 /**< Copy kept for logs/metrics (truncated). */

/** A Kafka header as librdkafka hands it over: value may hold any bytes, or be NULL. */
typedef struct route_header {
    const char *name;
    const void *value;
    size_t value_len;
} route_header_t;

/** The Kafka record to route. All pointers are borrowed for the call only. */
typedef struct route_event {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /**< Kafka record timestamp; -1 if none. */
    const void *key;      /**< NULL for a null key. */
    size_t key_len;
    const void *value; /**< NULL for a tombstone. */
    size_t value_len;
    const route_header_t *headers;
    size_t header_count;
} route_event_t;

typedef enum route_action {
    ROUTE_SKIP,      /**< Count and commit; publish nothing. */
    ROUTE_JETSTREAM, /**< Durable publish, PubAck required. */
    ROUTE_NATS_CORE, /**< Core NATS publish (non-durable), for routes that choose it. */
    ROUTE_DLQ,       /**< Dead-letter with reason. */
    ROUTE__COUNT
} route_action_t;

/** Why an event was skipped or dead-lettered. Stable: used as a metric label. */
typedef enum route_reason {
    ROUTE_R_NONE,          /**< Matched a publishing route. */
    ROUTE_R_SKIP_RULE,     /**< A route with action skip matched. */
    ROUTE_R_UNMATCHED,     /**< No route matched (policy decides skip or dlq). */
    ROUTE_R_DLQ_RULE,      /**< A route with action dlq matched. */
    ROUTE_R_BAD_ENVELOPE,  /**< Value not parseable where a field was needed. */
    ROUTE_R_NO_EVENT_TYPE, /**< No declared source yielded an event type. */
    ROUTE_R_UNSAFE_TOKEN,  /**< A data-derived token is unsafe for a subject. */
    ROUTE_R_NO_DOMAIN,     /**< Critical event whose domain cannot be found. */
    ROUTE_R_SUBJECT_TOO_LONG,
    ROUTE_R_BAD_DEDUP_ID,  /**< Event ID unusable as Nats-Msg-Id. */
    ROUTE_R_MISSING_FIELD, /**< A template variable had no value. */
    ROUTE_R__COUNT
} route_reason_t;

/** An extra header to add to the published message. */
typedef struct route_kv {
    const char *name;  /**< Borrowed from the rule set or from scratch. */
    const char *value; /**< Borrowed from the rule set or from scratch. */
} route_kv_t;

/**
 * The decision. Strings point either into the rule set (valid while the
 * caller holds a reference to it) or into this struct's own buffers.
 */
typedef struct route_result {
    route_action_t action;
    route_reason_t reason;
    const char *route; /**< Route name, or NULL when none matched. */
    int critical;
    char subject[ROUTE_SUBJECT_MAX + 1];
    char dedup_id[ROUTE_DEDUP_MAX + 1];
    char detail[ROUTE_REASON_MAX + 1];         /**< Human reason for skip/DLQ, "" otherwise. */
    char event_type[ROUTE_EVENT_TYPE_MAX + 1]; /**< Printable, truncated; for logs. */
    route_kv_t headers[ROUTE_MAX_HEADERS];
    size_t header_count;
    char scratch[ROUTE_SCRATCH]; /**< Backing store for header values. */
} route_result_t;

/**
 * \brief Route one event.
 * \param[in]  rules Compiled rule set (caller holds a reference).
 * \param[in]  ev    The record.
 * \param[out] out   The decision; always filled, even on DLQ.
 * \return \p out->action.
 */
route_action_t route_decide(const rules_t *rules, const route_event_t *ev, route_result_t *out);

/** \brief Stable snake_case name of an action ("jetstream", "skip", ...). */
const char *route_action_name(route_action_t a);

/** \brief Stable snake_case name of a reason ("unmatched", "unsafe_token", ...). */
const char *route_reason_name(route_reason_t r);

#endif /* ER_ROUTE_H */
