/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file router.h
 * \brief The pipeline: source -> route -> sink -> offsets.
 *
 * One thread (the caller of router_run) owns every piece of pipeline state:
 * it polls the consumer, routes, publishes, drains PubAck completions,
 * retries, dead-letters, pauses and resumes partitions and stores the
 * per-partition watermark that auto-commit then commits. Callbacks from
 * cnats and librdkafka threads only queue work for it (see sink.h).
 *
 * Guarantee: an offset is stored (and so committed) only when every event
 * before it in that partition was stored in JetStream (PubAck, duplicate or
 * not), skipped by the rules, or acknowledged by the dead-letter topic.
 */
#ifndef ER_ROUTER_H
#define ER_ROUTER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "rules.h"

typedef struct router router_t;

/** Flags set by signal handlers; the loop acts on them. */
typedef struct router_signals {
    volatile sig_atomic_t stop;   /**< count of SIGTERM/SIGINT received */
    volatile sig_atomic_t reload; /**< SIGHUP received */
} router_signals_t;

/**
 * \brief Build the pipeline: consumer, NATS connection, DLQ producer.
 * \param[in]  cfg   Config; must outlive the router.
 * \param[in]  rules Compiled rules; the router takes this reference.
 * \return 0, or -1 with \p errstr.
 */
int router_new(const config_t *cfg, rules_t *rules, router_t **out, char *errstr,
               size_t errstr_size);

/**
 * \brief Run until a stop signal, then drain (bounded), commit, leave the group.
 * \return 0 after a clean drain; 1 when the drain timed out or a fatal error
 *         stopped the loop; 130 on a second signal (immediate exit).
 */
int router_run(router_t *r, router_signals_t *sig);

/** \brief Free. Call after router_run returned. NULL is a no-op. */
void router_destroy(router_t *r);

/** \brief Events consumed and not yet finished. Router thread, or after router_run returned. */
uint32_t router_inflight(const router_t *r);

/**
 * \brief Test hook: run the rebalance callback's error branch on the current
 *        assignment, as librdkafka does when a rebalance fails. Router thread.
 */
void router_test_rebalance_error(router_t *r);

/** \brief Test hook: the dead-letter producer's handle (NULL without dlq.topic). Any thread. */
rd_kafka_t *router_test_dlq_handle(router_t *r);

#endif /* ER_ROUTER_H */
