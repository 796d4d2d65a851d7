/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file reconcile.h
 * \brief What JetStream already holds of a partition: the words for it.
 *        Pure: the set of (Kafka offset, dedup ID) pairs a stream scan
 *        found, the commit metadata that says from when to scan, and the
 *        strict parsing of the provenance headers the scan reads.
 *
 * Why: JetStream deduplicates a re-published event only inside the
 * stream's duplicate window. After a crash, a rebalance or a long outage,
 * the router re-reads events that were stored but not yet committed; past
 * the window they would be stored twice. So the router scans the stream
 * for the partition's `Kafka-Offset` headers first (resume.c) and skips
 * the events this set holds.
 *
 * The commit metadata ("er1 t=<ms>") is the wall-clock time at which the
 * first event not yet finished at the commit was read: every event at or
 * above the committed offset was published after it, so the scan starts
 * there (less a margin for clock skew).
 *
 * Everything read from a stream is untrusted: a header that is not a
 * canonical decimal is ignored, never guessed.
 *
 * Allocation: the set grows as pairs are added (reconcile_set_add returns
 * -1 when out of memory). Threads: a set belongs to one thread.
 */
#ifndef ER_RECONCILE_H
#define ER_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

/** Longest commit metadata written: "er1 t=" and 19 digits. */
#define RECONCILE_META_MAX 32

typedef struct reconcile_set reconcile_set_t;

/** \brief An empty set; NULL when out of memory. */
reconcile_set_t *reconcile_set_new(void);

/** \brief Free it. NULL is a no-op. */
void reconcile_set_free(reconcile_set_t *s);

/**
 * \brief Remember that the stream holds the event at \p offset with dedup
 *        ID \p msg_id. A second pair for the same offset keeps both IDs.
 * \return 0, or -1 when out of memory.
 */
int reconcile_set_add(reconcile_set_t *s, int64_t offset, const char *msg_id, size_t len);

/** \brief Whether the stream holds the event at \p offset with this dedup ID. */
int reconcile_set_has(const reconcile_set_t *s, int64_t offset, const char *msg_id, size_t len);

/** \brief Pairs in the set. */
size_t reconcile_set_count(const reconcile_set_t *s);

/** \brief The highest offset in the set; -1 when empty. */
int64_t reconcile_set_max(const reconcile_set_t *s);

/** \brief Write the commit metadata for \p read_ms into \p buf. \return its length. */
size_t reconcile_meta_format(char *buf, size_t size, int64_t read_ms);

/**
 * \brief Read commit metadata written by reconcile_meta_format().
 * \return 0 with \p read_ms, or -1 when it is anything else (another
 *         tool's metadata, an older router, garbage).
 */
int reconcile_meta_parse(const void *meta, size_t len, int64_t *read_ms);

/**
 * \brief A provenance header value as a number: canonical decimal only
 *        (no sign, no leading zero, no space), at most 18 digits.
 * \return 0, or -1.
 */
int reconcile_parse_number(const char *s, int64_t *out);

/** Rechecks must succeed this long before one is trusted without a barrier. */
#define RECONCILE_SETTLE_NS 10000000000LL
/** A recheck that starts longer than this after the last one ended starts a new streak. */
#define RECONCILE_STREAK_GAP_NS 3000000000LL

/**
 * \brief When a recheck that did not find an event can be trusted
 *        (resume.h, resume_settled): what JetStream stored since, and how
 *        long rechecks have worked. Monotonic nanoseconds; zero it to start.
 */
typedef struct reconcile_settle {
    int64_t stored_sent_ns; /**< latest send of a publish JetStream stored */
    int64_t ok_since_ns;    /**< start of the streak of successful rechecks; 0: none */
    int64_t last_ok_ns;     /**< the streak's last successful recheck */
} reconcile_settle_t;

/** \brief JetStream stored a publish sent at \p sent_ns. */
void reconcile_settle_stored(reconcile_settle_t *s, int64_t sent_ns);

/**
 * \brief A recheck ran from \p started_ns to \p ended_ns and succeeded
 *        (\p ok) or failed. A success that starts more than
 *        RECONCILE_STREAK_GAP_NS after the last one ended starts a new streak.
 */
void reconcile_settle_recheck(reconcile_settle_t *s, int ok, int64_t started_ns, int64_t ended_ns);

/**
 * \brief Whether a recheck run at \p now_ns that did not find a publish last
 *        sent at \p sent_ns can be trusted: a publish sent after it was
 *        stored (the raft log commits in order), or a streak of successful
 *        rechecks, the last ended at most RECONCILE_STREAK_GAP_NS ago, has
 *        lasted RECONCILE_SETTLE_NS.
 */
int reconcile_settled(const reconcile_settle_t *s, int64_t sent_ns, int64_t now_ns);

#endif /* ER_RECONCILE_H */
