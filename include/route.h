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
 * \brief For `explain`: why no route took the record. One line per route
 *        whose type matcher takes \p event_type but whose `match.topic` or
 *        `match.headers` does not take the record, e.g. "route 'commands'
 *        takes the type, but not the topic 'other' (match.topic:
 *        'dispatch.*')". Pure; no allocation.
 * \param[in]  rules      Rule set.
 * \param[in]  ev         The record.
 * \param[in]  event_type The event type route_decide() read (its result's event_type).
 * \param[out] out        Lines, each ending in '\n'; "" when none.
 * \param[in]  size       Size of \p out (lines that do not fit are cut).
 * \return How many routes take the type: 0 means no route's type matcher does.
 */
size_t route_near_misses(const rules_t *rules, const route_event_t *ev, const char *event_type,
                         char *out, size_t size);

/**
 * \brief For `explain`: the headers of the matched route's `headers:` that
 *        route_decide() left out because the event has no value for a
 *        variable of their template, one line each, naming the variable:
 *        "Correlation-Id: the event has no value for {correlation_id}
 *        ({correlation_id}: no declared source has a value)". Pure; no
 *        allocation (one route_result_t on the stack).
 * \param[in]  rules Rule set.
 * \param[in]  ev    The record \p res was decided for.
 * \param[in]  res   route_decide()'s result for \p ev.
 * \param[out] out   Lines, each ending in '\n'; "" when none.
 * \param[in]  size  Size of \p out.
 * \return How many headers were left out (0 also when \p res does not publish).
 */
size_t route_headers_left_out(const rules_t *rules, const route_event_t *ev,
                              const route_result_t *res, char *out, size_t size);

/**
 * \brief A one-line suggested fix for a reason an event is dead-lettered
 *        (every reason but none and skip_rule), or for unmatched.
 * \return Static string, or NULL for ROUTE_R_NONE and ROUTE_R_SKIP_RULE.
 */
const char *route_reason_fix(route_reason_t reason);

#endif /* ER_ROUTE_H */
