/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file decision.h
 * \brief The words of a routing decision: the actions a route can take, the
 *        reasons an event is skipped or dead-lettered, their stable names,
 *        and the size limits of what a decision carries.
 *
 * Shared by the rule compiler (rules.c: a route declares its action; the
 * rule file's tests name actions and reasons) and the evaluator (route.c:
 * route_decide() returns them), so neither has to call the other. The names
 * are stable: they are metric labels and appear in `explain` output.
 *
 * Threads: constants and pure functions, any thread. Nothing is allocated.
 */
#ifndef ER_DECISION_H
#define ER_DECISION_H

#define ROUTE_SUBJECT_MAX    255 /**< Longest subject we ever build. */
#define ROUTE_DEDUP_MAX      255 /**< Longest Nats-Msg-Id we ever build. */
#define ROUTE_MAX_HEADERS    16  /**< Extra headers a route may add. */
#define ROUTE_SCRATCH        4096
#define ROUTE_REASON_MAX     255
#define ROUTE_EVENT_TYPE_MAX 127 /**< Copy kept for logs/metrics (truncated). */

typedef enum route_action {
    ROUTE_SKIP,      /**< Count and commit; publish nothing. */
    ROUTE_JETSTREAM, /**< Durable publish, PubAck required. */
    ROUTE_NATS_CORE, /**< Core NATS publish (non-durable), for routes that choose it. */
    ROUTE_DLQ,       /**< Dead-letter with reason. */
    ROUTE__COUNT
} route_action_t;

/**
 * What a route keeps in order when publishing (`ordering:`). Stable: used as
 * a metric label and in `explain` output.
 */
typedef enum route_ordering {
    ROUTE_ORDER_KEY,       /**< One publish at a time per Kafka key (or aggregate ID). */
    ROUTE_ORDER_PARTITION, /**< One publish at a time per partition. */
    ROUTE_ORDER_NONE,      /**< Pipelined; a retry may land after later events. */
    ROUTE_ORDER__COUNT
} route_ordering_t;

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

/**
 * \brief Stable snake_case name of an action ("jetstream", "skip", ...).
 * \param[in] a Action.
 * \return Static string; "unknown" when out of range.
 */
const char *route_action_name(route_action_t a);

/**
 * \brief Stable snake_case name of a reason ("unmatched", "unsafe_token", ...).
 * \param[in] r Reason.
 * \return Static string; "unknown" when out of range.
 */
const char *route_reason_name(route_reason_t r);

/**
 * \brief Stable name of an ordering mode ("key", "partition", "none").
 * \param[in] o Mode.
 * \return Static string; "unknown" when out of range.
 */
const char *route_ordering_name(route_ordering_t o);

#endif /* ER_DECISION_H */
