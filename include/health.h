/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file health.h
 * \brief What the router says about itself: gauges (assigned partitions,
 *        events in flight, lag, NATS up), the readiness reasons behind
 *        /readyz, the liveness of the loop behind /healthz, and the fatal
 *        errors of the edges that stop the router.
 *
 * Threads: health_update() and health_check_fatal() run on the router's
 * thread; health_live() and health_ready() on the HTTP thread (they read
 * atomics and a string under a lock).
 * Ownership: nothing is allocated; the state is the router's (pipeline.h).
 */
#ifndef ER_HEALTH_H
#define ER_HEALTH_H

#include <stddef.h>

typedef struct router router_t;

/** \brief Refresh the gauges and the readiness reasons (about once a second). */
void health_update(router_t *r);

/** \brief Stop the router (exit 1 after the drain) when the consumer, the NATS
 *         connection or the dead-letter producer failed for good. */
void health_check_fatal(router_t *r);

/** \brief /healthz probe: the main loop turned recently. Any thread; \p r is a router_t. */
int health_live(void *r, char *why, size_t why_size);

/** \brief /readyz probe (see docs/operations.md). Any thread; \p r is a router_t. */
int health_ready(void *r, char *why, size_t why_size);

#endif /* ER_HEALTH_H */
