/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file source.h
 * \brief The Kafka edge: a consumer-group member that subscribes to the
 *        configured topics, hands the router one record at a time, tells it
 *        when partitions arrive and leave, and stores and commits only the
 *        offsets the router gives it (enable.auto.offset.store=false).
 *
 * Every librdkafka consumer call of the router is here: subscribe, poll
 * (each partition from its own queue, round-robin), the rebalance
 * protocol, hold, pause and resume, seek, offset store, commit,
 * watermarks, close. The router sees records as opaque handles
 * (source_record_t) plus a route_event_t view of them.
 *
 * Partition lifecycle. The hooks run inside source_next() (and
 * source_close()), on the router's thread:
 *   - assigned(topic, partition): the partition is ours; reading starts at
 *     the committed offset;
 *   - revoking(tps, n, lost): these partitions are leaving. Unless lost, the
 *     hook finishes what it can (bounded) and sets each tps[i].offset to the
 *     offset to commit (-1: nothing); the source commits them synchronously
 *     before giving the partitions up. When lost, another member may own
 *     them already: nothing is committed and the offsets are ignored;
 *   - released(topic, partition, committed): the partition is gone; the
 *     hook drops what it still holds for it.
 * A rebalance error drops the whole assignment as a lost revoke does.
 *
 * Not for: routing, or deciding what to commit (the router owns the
 * watermark, inflight.h computes it).
 *
 * Threads: every function runs on the router's thread.
 * Ownership: a record from source_next() is the caller's until it passes it
 * to source_record_free().
 */
#ifndef ER_SOURCE_H
#define ER_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "natsmsg.h"
#include "event.h"

typedef struct source source_t;

/** A consumed record (a librdkafka message), opaque to the router. */
typedef struct rd_kafka_message_s source_record_t;

#define SOURCE_META_MAX 32 /**< commit metadata, with its NUL */

/** One partition, with an offset (and its commit metadata) where one is needed. */
typedef struct source_tp {
    const char *topic;
    int32_t partition;
    int64_t offset;
    char metadata[SOURCE_META_MAX]; /**< committed with the offset; "" for none */
} source_tp_t;

typedef struct source_hooks {
    void (*assigned)(void *ctx, const char *topic, int32_t partition);
    void (*joined)(void *ctx,
                   int member); /**< 1 after an assignment (even empty), 0 after a revoke */
    void (*revoking)(void *ctx, source_tp_t *tps, size_t n, int lost);
    void (*released)(void *ctx, const char *topic, int32_t partition);
    void *ctx;
} source_hooks_t;

/**
 * \brief Build the consumer's settings exactly as source_new() would: each
 *        property set through librdkafka (unknown names and bad values are
 *        refused there, references resolved). With \p whole, librdkafka then
 *        checks them together too: rd_kafka_new() with no brokers (nothing
 *        is contacted, nothing is logged), for `event-router check`. `run`
 *        passes 0: an extra client created and destroyed before the real
 *        ones makes librdkafka end and restart its process-wide SASL state
 *        (sasl_done()), after which OpenSSL's exit handler crashed in a
 *        process that had also used TLS to NATS (seen under ASan).
 * \return 0, or -1 with \p errstr: the first problem, quoting librdkafka.
 */
int source_check_config(const config_t *cfg, int whole, char *errstr, size_t errstr_size);

/**
 * \brief Create the consumer and subscribe.
 * \return 0, or -1 with \p errstr quoting librdkafka for a bad property.
 */
int source_new(const config_t *cfg, const source_hooks_t *hooks, source_t **out, char *errstr,
               size_t errstr_size);

/** \brief Readable when the consumer queue went from empty to non-empty. */
int source_fd(const source_t *s);

/**
 * \brief Next record without blocking, or NULL. Serves rebalances (the
 *        hooks) and consumer errors (logged; see source_fatal()).
 * \param[out] ev   The record as routing sees it (borrows the record's memory).
 * \param[out] hdrs Storage for up to \p cap headers (extra ones are not
 *                  seen by routing; they are still copied when publishing).
 */
source_record_t *source_next(source_t *s, route_event_t *ev, route_header_t *hdrs, size_t cap);

/** \brief Free a record. NULL is a no-op. */
void source_record_free(source_record_t *m);

/**
 * \brief Fill a message builder's input from a record: payload, key,
 *        provenance, the Kafka headers (read when \p has_headers).
 *        The caller sets subject, route and msg_id.
 */
void source_message_input(const source_record_t *m, int has_headers, natsmsg_input_t *in);

/** \brief A fatal consumer error happened (e.g. fenced static member). Also
 *         where the consumer is reopened after SRC-0011 (classic fallback)
 *         and SRC-0013 (instance id still held): call it every loop turn.
 *         \return 1 with \p why, else 0. */
int source_fatal(source_t *s, char *why, size_t why_size);

/** \brief The group protocol in use: "consumer" (KIP-848) or "classic". */
const char *source_group_protocol(const source_t *s);

/** \brief 1 from the broker's first refusal of this group.instance.id
 *         (held by a member that did not leave, SRC-0013) until a join
 *         succeeds; source_fatal() meanwhile drops and reopens the consumer. */
int source_waiting_for_instance_id(const source_t *s);

/**
 * \brief Hold (\p on) or release reading one partition. A held partition's
 *        records wait in its own queue (librdkafka bounds it with
 *        queued.max.messages.kbytes) while the other partitions are read.
 *        Unlike a pause, nothing prefetched is dropped and fetched again.
 *        For a full window; the router releases it once there is room.
 * \return 1, or 0 when the partition has no queue of its own (SRC-0014):
 *         it cannot be held, only paused.
 */
int source_hold(source_t *s, const char *topic, int32_t partition, int on);

/** \brief Pause (\p on) or resume fetching these partitions. */
void source_pause(source_t *s, const source_tp_t *tps, size_t n, int on);

/** \brief Pause every assigned partition (stopping). */
void source_pause_all(source_t *s);

/**
 * \brief Pause a partition and seek it back to \p offset so the record at
 *        \p offset is read again after the resume (the window was full).
 */
void source_rewind(source_t *s, const char *topic, int32_t partition, int64_t offset);

/** \brief Hand watermarks to librdkafka; auto-commit commits them. */
void source_store(source_t *s, const source_tp_t *tps, size_t n);

/**
 * \brief The group's committed offset and commit metadata of one
 *        partition, asked of the group coordinator (blocks at most
 *        \p timeout_ms). The metadata is whatever the last committer wrote:
 *        untrusted, copied only when it fits, else "".
 * \return 0 (offset -1: nothing committed), or -1 when the broker did not answer.
 */
int source_committed(source_t *s, const char *topic, int32_t partition, int timeout_ms,
                     int64_t *offset, char *meta, size_t meta_size);

/** \brief Commit what was stored, waiting at most \p timeout_ms. */
void source_commit(source_t *s, int timeout_ms);

/**
 * \brief Commit these offsets (and their metadata) now, waiting at most
 *        \p timeout_ms, whatever was stored.
 * \return 0, or -1 with \p err (librdkafka's error name).
 */
int source_commit_offsets(source_t *s, const source_tp_t *tps, size_t n, int timeout_ms, char *err,
                          size_t err_size);

/** \brief The partition's cached low and high watermarks. \return 0, or -1 when unknown. */
int source_watermarks(source_t *s, const char *topic, int32_t partition, int64_t *lo, int64_t *hi);

/**
 * \brief Leave the group (runs the revoking and released hooks) and free.
 *        NULL is a no-op.
 * \param[in] timeout_ms Bound on leaving the group: with the brokers gone,
 *            librdkafka's close can wait for a coordinator forever; past
 *            this the handle is destroyed without the group leave (the
 *            broker expires the member after session.timeout.ms).
 */
void source_close(source_t *s, int timeout_ms);

/**
 * \brief Test hook: handle a rebalance error on the current assignment, as
 *        librdkafka reports when a rebalance fails.
 */
void source_test_rebalance_error(source_t *s);

#endif /* ER_SOURCE_H */
