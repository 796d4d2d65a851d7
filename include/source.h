/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file source.h
 * \brief The Kafka edge: a high-level consumer-group member that subscribes
 *        to the configured topics, stores offsets only when told to
 *        (enable.auto.offset.store=false) and wakes the router through a
 *        file descriptor when records or rebalance events are waiting.
 *
 * Not for: routing, or deciding what to commit (router.c owns the watermark).
 *
 * Threads: every function runs on the router's thread. The rebalance
 * callback passed in is served from source_next(), on that same thread.
 */
#ifndef ER_SOURCE_H
#define ER_SOURCE_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "route.h"

typedef struct source source_t;

typedef void(source_rebalance_fn)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t *parts, void *opaque);

/**
 * \brief Create the consumer and subscribe.
 * \param[in] rebalance Called on assignment changes; it must call
 *                      rd_kafka_assign() itself (eager protocol).
 * \return 0, or -1 with \p errstr quoting librdkafka for a bad property.
 */
int source_new(const config_t *cfg, source_rebalance_fn *rebalance, void *opaque, source_t **out,
               char *errstr, size_t errstr_size);

/** \brief The librdkafka handle (pause/resume, offsets_store, commit). */
rd_kafka_t *source_rk(source_t *s);

/** \brief Readable when the consumer queue went from empty to non-empty. */
int source_fd(const source_t *s);

/** \brief Next record or event without blocking, or NULL. Serves rebalances. */
rd_kafka_message_t *source_next(source_t *s);

/**
 * \brief When the consumer queue ran empty after librdkafka had probably
 *        stopped fetching, or 0.
 *
 * librdkafka before 2.2 stops fetching once the prefetched records reach
 * queued.max.messages.kbytes (or queued.min.messages) and looks again only
 * after up to one second (a fixed timer; 2.2 made it fetch.queue.backoff.ms):
 * reading the queue empty does not wake it. A catch-up then reads about the
 * bound per second whatever JetStream could take. "Probably": the records
 * read since the queue was last empty add up to half a bound or more, or a
 * paused partition was resumed (source_resumed()) since. source_refetch()
 * wakes the fetcher.
 */
int64_t source_starved_since(const source_t *s);

/** \brief Partitions were resumed: librdkafka 2.0.2 does not wake its fetcher. */
void source_resumed(source_t *s);

/**
 * \brief Restart fetching: an asynchronous seek of each partition in \p at to
 *        its .offset, which must be the offset after the last record read
 *        from it (so nothing is skipped). Clears source_starved_since().
 * \param[in,out] at librdkafka sets each element's .err.
 * \return 0, or -1 if librdkafka refused (logged at debug).
 */
int source_refetch(source_t *s, rd_kafka_topic_partition_list_t *at);

/**
 * \brief View a record as a route_event_t (borrowing its memory).
 * \param[in]  m       The record.
 * \param[out] ev      Filled.
 * \param[out] hdrs    Storage for up to \p cap headers (extra ones are not
 *                     seen by routing; they are still copied when publishing).
 */
void source_event(const rd_kafka_message_t *m, route_event_t *ev, route_header_t *hdrs, size_t cap);

/**
 * \brief Leave the group (runs the revoke callback) and free. NULL is a no-op.
 * \param[in] timeout_ms Bound on leaving the group: with the brokers gone,
 *            librdkafka's close can wait for a coordinator forever; past
 *            this the handle is destroyed without the group leave (the
 *            broker expires the member after session.timeout.ms).
 */
void source_close(source_t *s, int timeout_ms);

#endif /* ER_SOURCE_H */
