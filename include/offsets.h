/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file offsets.h
 * \brief One partition's window of in-flight events and its contiguous
 *        acknowledged watermark: the only offset the router ever commits.
 *
 * Events enter in consumption order (offsets strictly increasing, gaps
 * allowed: compaction and transaction markers leave holes). Each entry gets
 * a sequence number; acks may arrive in any order. The committable offset is
 * the offset of the oldest entry not yet done, or last+1 when all are done:
 * committing it never skips an unacknowledged event.
 *
 * Not for: talking to Kafka (the router stores/commits what this returns).
 *
 * Pure and single-threaded: the router's main thread owns every offsets_t.
 */
#ifndef ER_OFFSETS_H
#define ER_OFFSETS_H

#include <stdint.h>

typedef struct offsets offsets_t;

/**
 * \brief New empty window.
 * \param[in] capacity Most entries in flight at once (> 0).
 * \return The window, or NULL on OOM.
 */
offsets_t *offsets_new(uint32_t capacity);

/** \brief Free. NULL is a no-op. */
void offsets_destroy(offsets_t *o);

/** \brief Forget every entry (new assignment); sequence numbers keep growing. */
void offsets_reset(offsets_t *o);

/**
 * \brief Track a newly consumed offset.
 * \param[in]  o      Window.
 * \param[in]  offset Must be greater than the last pushed offset.
 * \param[out] seq    The entry's sequence number, for offsets_done().
 * \return 0; -1 when the window is full; -2 when \p offset is not increasing.
 */
int offsets_push(offsets_t *o, int64_t offset, uint64_t *seq);

/**
 * \brief Mark an entry done (acknowledged, skipped or dead-lettered).
 * \return 0; -1 if \p seq is not in the window (stale) or already done.
 */
int offsets_done(offsets_t *o, uint64_t seq);

/** \brief Offset of entry \p seq, or -1 if not in the window. */
int64_t offsets_offset_of(const offsets_t *o, uint64_t seq);

/**
 * \brief The offset to commit: everything below it is done.
 * \return -1 when nothing was ever pushed since the last reset.
 */
int64_t offsets_committable(const offsets_t *o);

/** \brief Entries pushed and not yet done. */
uint32_t offsets_inflight(const offsets_t *o);

/** \brief Sequence numbers in the window are [offsets_head(), offsets_tail()). */
uint64_t offsets_head(const offsets_t *o);
uint64_t offsets_tail(const offsets_t *o);

/** \brief Whether entry \p seq is still pending (in the window and not done). */
int offsets_pending(const offsets_t *o, uint64_t seq);

/** \brief Window capacity. */
uint32_t offsets_capacity(const offsets_t *o);

#endif /* ER_OFFSETS_H */
