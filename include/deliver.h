/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file deliver.h
 * \brief What happens to one routed event until it is finished: skip,
 *        dead-letter, or publish; PubAck completions; retries with backoff;
 *        dead-letter delivery reports. The slot is finished (and the
 *        watermark may pass it) only once JetStream or the dead-letter
 *        topic has the event, or the rules skipped it.
 *
 * Threads: the router's thread only (router_run() and the hooks it serves).
 * Ownership: the in-flight table owns the slots; a message handed to the
 * sink is the sink's until its completion comes back here.
 */
#ifndef ER_DELIVER_H
#define ER_DELIVER_H

#include <stdint.h>

#include "inflight.h"

typedef struct router router_t;

/** \brief Act on the rules' decision (r->res) for the event in slot \p seq:
 *         skip, dead-letter, or build the message and publish it. */
void deliver_dispatch(router_t *r, inflight_part_t *p, uint64_t seq, int has_headers);

/** \brief Handle every queued PubAck completion. */
void deliver_drain(router_t *r);

/** \brief Publish again (or dead-letter again) the events whose retry is due. */
void deliver_retries(router_t *r);

/** \brief The in-flight table's clear callback: frees what a slot holds. */
void deliver_clear_slot(void *ctx, inflight_slot_t *s);

/** \brief The dead-letter producer's delivery report (runs inside dlq_poll()). */
void deliver_dlq_report(void *opaque, int err, const char *errstr, void *ctx);

#endif /* ER_DELIVER_H */
