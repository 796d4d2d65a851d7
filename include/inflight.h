/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file inflight.h
 * \brief The in-flight table: every event consumed and not yet finished, by
 *        partition, with its state, its retry schedule, the map from a
 *        published message back to its event, and each partition's
 *        committable watermark.
 *
 * Each assigned partition has a window of slots indexed by a sequence
 * number (offsets.h keeps the watermark). An event enters when it is read
 * (inflight_push), moves between states while it is published, retried or
 * dead-lettered, and leaves when it is finished (inflight_finish): stored
 * in JetStream, skipped by the rules or acknowledged by the dead-letter
 * topic. Only then can the watermark pass it.
 *
 * Per-key order: inflight_order() chains an event behind the unfinished
 * event of the same order key in its partition (IF_HELD); finishing that
 * event releases the next one (inflight_finish() returns it). So at most
 * one event per key is ever published or retried at a time, while other
 * keys go past a held or retried one. Order key 0 means "not ordered".
 *
 * References (inflight_ref_t) name a slot by partition, assignment epoch and
 * sequence number. A partition released while publishes are in flight gets
 * a new epoch, so a late acknowledgement resolves to NULL and is dropped.
 *
 * Pure: no I/O, no clock (the caller passes the time), no locks, no
 * allocation after inflight_part() created a partition. What the slots hold
 * (the Kafka record, the NATS message, the rule set) is opaque here; the
 * clear callback given to inflight_new() frees it whenever a slot is
 * finished or released. A slot's dlq_detail is owned by the table.
 *
 * Allocation failure: inflight_new() and inflight_part() return an error;
 * nothing else allocates.
 *
 * Threads: one thread (the router's) owns a table and everything in it.
 */
#ifndef ER_INFLIGHT_H
#define ER_INFLIGHT_H

#include <stddef.h>
#include <stdint.h>

typedef struct inflight inflight_t;
typedef struct offsets offsets_t;

/** Where an event is in its life. */
typedef enum inflight_state {
    IF_FREE,       /**< read, being routed (or between two steps) */
    IF_PUBLISHING, /**< JetStream publish in flight */
    IF_RETRY,      /**< waiting to be published again */
    IF_DLQ,        /**< dead-letter produce in flight */
    IF_DLQ_RETRY,  /**< waiting to produce the dead letter again */
    IF_HELD,       /**< ready, waiting for the earlier event of its order key */
} inflight_state_t;

/** One event in flight. The table owns dlq_detail; the rest is the caller's
 *  and is freed by the clear callback. */
typedef struct inflight_slot {
    void *record;         /**< the Kafka record, kept until finished (retry, DLQ) */
    void *msg;            /**< the built message while nobody else holds it */
    void *rules;          /**< the rule set that routed it (hot reload) */
    const char *route;    /**< route name, inside rules */
    const char *dlq_code; /**< static string */
    char *dlq_detail;     /**< owned by the table */
    int64_t offset;
    int64_t timestamp_ms;  /**< the record's timestamp, for end-to-end latency */
    int64_t read_ms;       /**< wall clock when it was read (commit metadata) */
    int64_t first_sent_ms; /**< wall clock of its first publish; 0 before */
    int64_t retry_at_ns;
    int64_t sent_ns;
    uint64_t order_key;    /**< 0: not ordered; else chained by inflight_order() */
    uint64_t next_same;    /**< the held event of the same key after this one (if chained) */
    uint8_t chained;       /**< next_same is set */
    uint16_t attempts;     /**< failures counted toward retry.max_attempts */
    uint16_t outage_tries; /**< failures during an outage: they only back off */
    uint8_t state;         /**< inflight_state_t; change it with inflight_set_state() */
    uint8_t core;          /**< core NATS publish, not JetStream */
    uint8_t critical;      /**< its route is critical: (metrics label) */
    uint8_t dlq_omit;      /**< dead-letter without the value */
} inflight_slot_t;

/**
 * One partition. The table owns it (and topic) until inflight_destroy();
 * a released partition keeps its entry for the next assignment.
 * The router reads every field and writes the ones marked "caller".
 */
typedef struct inflight_part {
    char *topic;
    int32_t partition;
    uint32_t epoch; /**< bumped on every assign and release */
    int assigned;
    int revoking;             /**< caller: being taken away, read no more */
    int paused;               /**< caller: paused at the consumer */
    int read_held;            /**< caller: not read for now (source_hold()): its window is full */
    int64_t stored;           /**< caller: last watermark handed to Kafka, -1 none */
    int64_t next_offset;      /**< after the last record pushed; -1 before the first */
    int64_t last_progress_ns; /**< when an event last finished (or the window started) */
    uint32_t waiting;         /**< slots in IF_RETRY or IF_DLQ_RETRY */
    uint32_t held;            /**< slots in IF_HELD */
    void *user;               /**< caller: its per-partition extras (not freed here) */
    void *found;              /**< caller: what the stream already holds (not freed here) */
    int lookup_due;           /**< caller: look the stream up before the next record */
    int64_t lookup_from;      /**< caller: the committed offset the look-up started at */
    int mark_due;             /**< caller: commit the first record's offset before publishing it */
    /* private */
    offsets_t *win;
    inflight_slot_t *slots;
    struct inflight_key *keys; /* order key -> last unfinished slot of that key */
    uint32_t keys_mask, keys_count;
    struct inflight_part *hnext, *next;
} inflight_part_t;

/** A reference to one slot that survives the partition being released. */
typedef struct inflight_ref {
    inflight_part_t *p;
    uint32_t epoch;
    uint64_t seq;
} inflight_ref_t;

typedef struct inflight_limits {
    uint32_t per_partition;      /**< limits.max_inflight_per_partition */
    uint32_t total;              /**< limits.max_inflight_total */
    uint32_t backoff_initial_ms; /**< retry.backoff_initial_ms */
    uint32_t backoff_max_ms;     /**< retry.backoff_max_ms */
} inflight_limits_t;

/** Frees what a slot holds (record, msg, rules); called before the slot is wiped. */
typedef void(inflight_clear_fn)(void *ctx, inflight_slot_t *s);

/**
 * \brief New empty table.
 * \param[in] clear Called for every slot finished or released; may be NULL.
 * \return 0, or -1 when out of memory.
 */
int inflight_new(const inflight_limits_t *lim, inflight_clear_fn *clear, void *ctx,
                 inflight_t **out);

/** \brief Free the table, clearing every slot still held. NULL is a no-op. */
void inflight_destroy(inflight_t *t);

/** \brief The partition, or NULL if never seen. */
inflight_part_t *inflight_find(inflight_t *t, const char *topic, int32_t partition);

/** \brief The partition, created (unassigned) on first use; NULL when out of memory. */
inflight_part_t *inflight_part(inflight_t *t, const char *topic, int32_t partition);

/** \brief Every partition ever seen, in a list linked by ->next. */
inflight_part_t *inflight_parts(inflight_t *t);

/** \brief Start a fresh window for a new assignment (new epoch, nothing in flight). */
void inflight_assign(inflight_t *t, inflight_part_t *p, int64_t now_ns);

/**
 * \brief Drop everything the partition has in flight (clear callback for
 *        each), bump the epoch so late acks resolve to nothing, and mark it
 *        unassigned. Nothing is committed here: the caller committed what
 *        it could before.
 * \return How many events were dropped unfinished.
 */
uint32_t inflight_release(inflight_t *t, inflight_part_t *p);

/**
 * \brief Track a newly read record of an assigned partition.
 * \param[out] seq Its sequence number.
 * \return 0; -1 when the partition's window is full; -2 when \p offset is
 *         not above the last one pushed (a record read twice).
 */
int inflight_push(inflight_t *t, inflight_part_t *p, int64_t offset, int64_t now_ns, uint64_t *seq);

/** \brief The slot of sequence number \p seq (must be in the window). */
inflight_slot_t *inflight_slot(inflight_part_t *p, uint64_t seq);

/** \brief The slot a reference names, or NULL when it was finished or its partition released. */
inflight_slot_t *inflight_resolve(const inflight_ref_t *ref);

/** \brief A reference to \p seq in \p p, for the map or a delivery report. */
inflight_ref_t inflight_ref(inflight_part_t *p, uint64_t seq);

/** \brief Set a slot's state, keeping the partition's waiting count right. */
void inflight_set_state(inflight_part_t *p, uint64_t seq, inflight_state_t st);

/**
 * \brief Order slot \p seq behind the unfinished events of \p order_key in
 *        its partition. With no such event (or key 0) the slot may be
 *        published now; otherwise it is put in IF_HELD and chained behind
 *        the last one, to be released by inflight_finish(). Call it once per
 *        event, when it is ready to publish. Never fails: the key index has
 *        room for every slot of the window.
 * \return 1 publish now, 0 held.
 */
int inflight_order(inflight_t *t, inflight_part_t *p, uint64_t seq, uint64_t order_key);

/**
 * \brief The event is done: clear the slot; the watermark may move past it.
 *        A slot is finished once; a held slot is never finished directly.
 * \param[out] next When the event had a held successor of the same order
 *                  key, its sequence number: it is now IF_FREE, and the
 *                  caller publishes it. May be NULL only for unordered slots.
 * \return 1 when \p next was released, else 0.
 */
int inflight_finish(inflight_t *t, inflight_part_t *p, uint64_t seq, int64_t now_ns,
                    uint64_t *next);

/**
 * \brief Capped exponential backoff for the \p n th retry:
 *        initial × 2^(n-1), at most backoff_max_ms (n 0 counts as 1).
 */
int64_t inflight_backoff_ns(const inflight_t *t, unsigned n);

/**
 * \brief Put the slot in \p st (IF_RETRY or IF_DLQ_RETRY), due after the
 *        backoff for attempts + outage_tries.
 */
void inflight_schedule(inflight_t *t, inflight_part_t *p, uint64_t seq, inflight_state_t st,
                       int64_t now_ns);

/** \brief Put a waiting slot off until \p at_ns (e.g. the connection is down). */
void inflight_defer(inflight_t *t, inflight_part_t *p, uint64_t seq, int64_t at_ns);

/** \brief When the earliest retry is due, or 0 when none is scheduled. */
int64_t inflight_next_due(const inflight_t *t);

/**
 * \brief Collect up to \p max waiting slots whose time has come, in
 *        partition and offset order. Their state is left as it is: the
 *        caller acts on each (publish, dead-letter, defer).
 * \return How many were written to \p out.
 */
size_t inflight_due(inflight_t *t, int64_t now_ns, inflight_ref_t *out, size_t max);

/**
 * \brief Remember which slot a published message belongs to. The map has
 *        room for twice limits.max_inflight_total entries.
 * \return 0, or -1 when it is full (the caller retries the publish later).
 */
int inflight_map_put(inflight_t *t, const void *key, inflight_ref_t ref);

/** \brief Forget a message; \p out (may be NULL) gets its reference.
 *  \return 0, or -1 if unknown. */
int inflight_map_take(inflight_t *t, const void *key, inflight_ref_t *out);

/** \brief The offset to commit for \p p: everything below it is finished; -1 when none. */
int64_t inflight_committable(const inflight_part_t *p);

/** \brief read_ms of the oldest unfinished event of \p p; -1 when none. */
int64_t inflight_oldest_read_ms(const inflight_part_t *p);

/** \brief Events of \p p in flight. */
uint32_t inflight_count(const inflight_part_t *p);

/** \brief Events held behind an earlier event of their key, over every partition. */
uint32_t inflight_held(const inflight_t *t);

/** \brief Events in flight over every partition. */
uint32_t inflight_total(const inflight_t *t);

/** \brief When an event last finished in any partition (inflight_finish()'s
 *         now_ns); 0 before the first. A full window whose events keep
 *         finishing is moving, not stalled. */
int64_t inflight_last_finish(const inflight_t *t);

/** \brief Events in flight in assigned partitions (only those being revoked, if asked). */
uint32_t inflight_pending(const inflight_t *t, int only_revoking);

/**
 * \brief Whether reading must wait: the total window is full, or the
 *        window of an assigned partition that is read (neither paused nor
 *        read_held) is.
 */
int inflight_full(const inflight_t *t);

/**
 * \brief Whether \p p can take no more records: max_inflight_per_partition
 *        events unfinished, or its ring full from the oldest unfinished
 *        event (a slow event, a key's long chain, holds the ring's head).
 */
int inflight_part_full(const inflight_t *t, const inflight_part_t *p);

/** \brief Whether \p p has room for a quarter window again, by both measures
 *         of inflight_part_full(): where a held partition is read again. */
int inflight_part_has_room(const inflight_t *t, const inflight_part_t *p);

/** \brief The limits the table was made with. */
const inflight_limits_t *inflight_limits(const inflight_t *t);

#endif /* ER_INFLIGHT_H */
