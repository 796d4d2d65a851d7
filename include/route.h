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

#include "decision.h"
#include "event.h"
#include "rules.h"

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
    route_ordering_t ordering; /**< The route's mode (publishing routes). */
    /** Publishing routes: the chain the event waits in (inflight_order());
     *  0 = not ordered (mode none, or key mode with neither a Kafka key nor
     *  an aggregate ID); 1 = the whole partition; else a hash of the key. */
    uint64_t order_key;
    const char *order_by; /**< "kafka_key", "aggregate_id", "partition" or NULL. */
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

/* route_action_name() and route_reason_name(): decision.h. */

/**
 * \brief For `explain`: the routes whose type matcher takes \p event_type
 *        but whose topic or header conditions do not take the record, one
 *        line each ("route 'x' takes the type, but not the topic ...").
 * \return How many routes take the type (0: no type matcher does). Pure.
 */
size_t route_near_misses(const rules_t *rules, const route_event_t *ev, const char *event_type,
                         char *out, size_t size);

/**
 * \brief For `explain`: the headers of the matched route that were left
 *        out because the event had no value for their template, one line each.
 * \return How many. Pure.
 */
size_t route_headers_left_out(const rules_t *rules, const route_result_t *res, char *out,
                              size_t size);

/** \brief A one-line suggested fix for a reason, or NULL (none needed). Static string. */
const char *route_reason_fix(route_reason_t reason);

#endif /* ER_ROUTE_H */
