/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file resume.h
 * \brief Exactly once past the duplicate window: before the events of
 *        newly assigned partitions are published, look up which of them the
 *        streams already hold, and skip those, however long ago they were
 *        stored. Also before a retry of a publish first sent longer ago
 *        than half the shortest duplicate window.
 *
 * How. Every offset the router commits carries metadata "er1 t=<ms>"
 * (reconcile.h): when the oldest event not finished at that commit was
 * read. Every event at or above the committed offset was published after
 * that. On assignment, the partitions' committed offsets and metadata are
 * asked of the group coordinator, and each stream that holds a publishing
 * route's subjects is scanned once from that time (less RESUME_SKEW_MS for
 * clock skew between the router and the NATS servers), headers only. The
 * `Kafka-Topic`, `Kafka-Partition`, `Kafka-Offset` and `Nats-Msg-Id`
 * headers of each stored message say which events are there. An event is
 * skipped only when its offset and its dedup ID both match.
 *
 * What it does not cover: routes to core NATS subjects (nothing is stored
 * to look up); a commit without the metadata (a new group, another tool,
 * an older router): then the duplicate window is what deduplicates. A
 * look-up that fails or times out (limits.reconcile_timeout_ms) keeps what
 * it found and falls back to the window for the rest (RTR-0602).
 *
 * Threads: the router's thread (it blocks the loop for the look-up).
 */
#ifndef ER_RESUME_H
#define ER_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "inflight.h"

typedef struct router router_t;

/** Margin for clock skew between the router and the NATS servers. */
#define RESUME_SKEW_MS 10000

/** \brief A partition was assigned: look the streams up before its first event. */
void resume_assigned(router_t *r, inflight_part_t *p);

/**
 * \brief Before the first record of a partition whose commit carries no
 *        router metadata (a new group; another tool's commit) is published:
 *        commit its offset with the metadata, synchronously, so that a crash
 *        after the publish still leaves a time to look up from (RTR-0607
 *        when the commit fails).
 */
void resume_mark(router_t *r, inflight_part_t *p, int64_t offset);

/** \brief A partition was released: forget what was found for it. */
void resume_released(inflight_part_t *p);

/** \brief Look up every assigned partition whose look-up is due (one scan
 *         per stream for all of them). No-op when none is due. */
void resume_lookup(router_t *r);

/**
 * \brief Whether the event at \p offset with dedup ID \p msg_id is already
 *        stored (found by the look-up). Frees the partition's findings once
 *        the offsets pass them.
 */
int resume_already_stored(inflight_part_t *p, int64_t offset, const char *msg_id);

/** \brief The commit metadata for \p p's next stored offset. */
void resume_commit_metadata(const inflight_part_t *p, char *buf, size_t size);

/** \brief Learn the streams' duplicate windows at start (no-op when off). */
void resume_start(router_t *r);

/**
 * \brief Before retrying publishes whose first send is older than half the
 *        shortest duplicate window: which of them the streams hold.
 * \param[in] since_ms The oldest first send among them.
 * \return A set (the caller frees it with reconcile_set_free()), or NULL
 *         when the streams could not be read: the caller then waits and
 *         asks again, until resume_recheck_given_up().
 */
struct reconcile_set *resume_recheck(router_t *r, inflight_part_t *p, int64_t since_ms);

/**
 * \brief Whether a recheck that did not find a publish last sent at
 *        \p sent_ns (monotonic) can be trusted, so that it may be retried.
 *
 * A stream leader that lost its quorum keeps the publishes it took and
 * commits them when the quorum returns, so a recheck early in a recovery
 * can miss what is about to be stored. Raft commits in log order: once
 * JetStream has stored a publish sent after \p sent_ns, an earlier copy is
 * either stored already (and a recheck finds it) or never will be. So a
 * recheck is trusted when such a later publish was stored before it ran,
 * or, when nothing else is being published, after rechecks have succeeded
 * for 10 s (reconcile_settled()).
 */
int resume_settled(const router_t *r, int64_t sent_ns);

/** \brief Rechecks have failed for 60 s: retry without them (RTR-0605 said why). */
int resume_recheck_given_up(const router_t *r);

/** \brief Whether a publish first sent at \p first_sent_ms needs resume_recheck(). */
int resume_stale(router_t *r, int64_t first_sent_ms, int64_t now_ms);

#endif /* ER_RESUME_H */
