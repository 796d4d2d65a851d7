/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decision: the stable names of routing actions and reasons (metric labels,
 * `explain` output, the rule file's tests). Tables indexed by the enums, so
 * a new value without a name is a compile-time gap, not a crash.
 */
#include "decision.h"

static const char *const action_names[ROUTE__COUNT] = {
    [ROUTE_SKIP] = "skip",
    [ROUTE_JETSTREAM] = "jetstream",
    [ROUTE_NATS_CORE] = "nats_core",
    [ROUTE_DLQ] = "dlq",
};

static const char *const reason_names[ROUTE_R__COUNT] = {
    [ROUTE_R_NONE] = "none",
    [ROUTE_R_SKIP_RULE] = "skip_rule",
    [ROUTE_R_UNMATCHED] = "unmatched",
    [ROUTE_R_DLQ_RULE] = "dlq_rule",
    [ROUTE_R_BAD_ENVELOPE] = "bad_envelope",
    [ROUTE_R_NO_EVENT_TYPE] = "no_event_type",
    [ROUTE_R_UNSAFE_TOKEN] = "unsafe_token",
    [ROUTE_R_NO_DOMAIN] = "no_domain",
    [ROUTE_R_SUBJECT_TOO_LONG] = "subject_too_long",
    [ROUTE_R_BAD_DEDUP_ID] = "bad_dedup_id",
    [ROUTE_R_MISSING_FIELD] = "missing_field",
};

const char *route_action_name(route_action_t a)
{
    return (unsigned)a < ROUTE__COUNT ? action_names[a] : "unknown";
}

const char *route_reason_name(route_reason_t r)
{
    return (unsigned)r < ROUTE_R__COUNT ? reason_names[r] : "unknown";
}

static const char *const ordering_names[ROUTE_ORDER__COUNT] = {
    [ROUTE_ORDER_KEY] = "key",
    [ROUTE_ORDER_PARTITION] = "partition",
    [ROUTE_ORDER_NONE] = "none",
};

const char *route_ordering_name(route_ordering_t o)
{
    return (unsigned)o < ROUTE_ORDER__COUNT ? ordering_names[o] : "unknown";
}
