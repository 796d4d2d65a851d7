/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file natsmsg.h
 * \brief A routed event becomes a NATS message: its subject and payload, the
 *        Kafka record's headers under the header policy, the Kafka
 *        provenance headers, the route's extra headers and, on JetStream
 *        routes, the dedup ID as Nats-Msg-Id.
 *
 * The header policy is the part that must never be wrong: everything in a
 * Kafka record is written by producers, and a NATS header whose name starts
 * with "Nats-" is a JetStream control header (Nats-Expected-Last-Sequence,
 * Nats-Rollup, Nats-TTL, Nats-Msg-Id, ...). Copied, it lets any producer
 * make JetStream reject events, purge a subject, expire messages, or drop a
 * different event as a duplicate. So no Kafka header whose name starts with
 * "Nats-" in any letter case is ever copied; the only Nats-* header a
 * message carries is the router's own Nats-Msg-Id. Headers NATS cannot
 * carry (bad names, control bytes, oversize) are not copied either, and
 * neither is any letter case of the provenance headers the router sets
 * itself (Kafka-Topic, Kafka-Partition, Kafka-Offset, Kafka-Timestamp,
 * Kafka-Key): NATS header names are case-sensitive, so a producer's
 * "kafka-offset" would otherwise ride beside the router's Kafka-Offset, and
 * readers that look names up without case could take the forged one. Each
 * header left out has a reason, which the router counts.
 *
 * natsmsg_header_policy() is pure (no cnats, no librdkafka): one header in,
 * one verdict out. natsmsg_build() applies it to a natsMsg; it does no I/O.
 *
 * Threads: both are reentrant; the router calls them on its main thread.
 *
 * Not for: routing (route.c) or publishing (sink.c).
 */
#ifndef ER_NATSMSG_H
#define ER_NATSMSG_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "route.h"

#define NATSMSG_NAME_MAX  255  /**< Longest Kafka header name copied. */
#define NATSMSG_VALUE_MAX 4096 /**< Longest Kafka header value copied. */
#define NATSMSG_KEY_MAX   256  /**< Longest Kafka key copied as Kafka-Key. */

/** Why a Kafka header was not copied; NATSMSG_COPY means it was. */
typedef enum natsmsg_verdict {
    NATSMSG_COPY = 0,             /**< Copied, possibly renamed (ce_ -> ce-). */
    NATSMSG_DROP_RESERVED_NATS,   /**< Name starts with "Nats-" (any case): JetStream control. */
    NATSMSG_DROP_RESERVED_ROUTER, /**< Any case of a provenance header the router sets
                                     (Kafka-Offset, ...). */
    NATSMSG_DROP_TOO_LONG,        /**< Name over 255 bytes or value over 4 KiB. */
    NATSMSG_DROP_BAD_NAME,        /**< Empty name, or a byte outside '!'..'~', or ':'. */
    NATSMSG_DROP_NOT_PRINTABLE,   /**< Value with a control byte (CR, LF, NUL, DEL, ...). */
    NATSMSG_VERDICT__COUNT
} natsmsg_verdict_t;

/** Stable name of a verdict ("copy", "reserved_nats", ...): the metric's reason label. */
const char *natsmsg_verdict_name(natsmsg_verdict_t v);

/**
 * Does this header name make the record a CloudEvent in binary mode (ce_*)?
 * \param[in] name  NUL-terminated Kafka header name.
 * \return 1 or 0.
 */
int natsmsg_is_cloudevent_header(const char *name);

/**
 * The header policy: what becomes of one Kafka header.
 *
 * CloudEvents binary-mode headers take the NATS binding's form (ce_type ->
 * ce-type), and on a CloudEvent content-type becomes ce-datacontenttype.
 * Any other header that passes keeps its name.
 *
 * \param[in]  name           NUL-terminated Kafka header name (untrusted).
 * \param[in]  value          value bytes (untrusted), or NULL for a null value.
 * \param[in]  value_len      bytes at value (ignored when value is NULL).
 * \param[in]  is_cloudevent  whether the record has a ce_* header.
 * \param[out] out_name       the NATS header name, set only on NATSMSG_COPY.
 * \param[in]  out_name_size  at least NATSMSG_NAME_MAX + 1.
 * \return NATSMSG_COPY, or why the header must not be copied.
 */
natsmsg_verdict_t natsmsg_header_policy(const char *name, const void *value, size_t value_len,
                                        int is_cloudevent, char *out_name, size_t out_name_size);

/**
 * Header accessor: the i-th Kafka header of the record.
 * \return 0 and fills *out, or non-zero past the last header.
 */
typedef int (*natsmsg_header_at_fn)(void *ctx, size_t i, route_header_t *out);

/** What natsmsg_build() needs; every pointer is borrowed for the call. */
typedef struct natsmsg_input {
    const char *subject;
    const void *payload; /**< may be NULL (tombstone) */
    size_t payload_len;
    natsmsg_header_at_fn header_at; /**< NULL: the record has no headers */
    void *header_ctx;
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /**< < 0: none */
    const void *key;      /**< may be NULL */
    size_t key_len;
    const route_result_t *route; /**< the route's extra headers */
    const char *msg_id;          /**< Nats-Msg-Id (JetStream routes), or NULL */
} natsmsg_input_t;

/**
 * Build the NATS message for a routed event.
 *
 * Order: the Kafka headers that pass the policy; Kafka-Topic,
 * Kafka-Partition, Kafka-Offset, Kafka-Timestamp and Kafka-Key (printable
 * keys up to 256 bytes); the route's extra headers; Nats-Msg-Id last.
 *
 * \param[out] out      the message, owned by the caller; NULL on failure.
 * \param[in]  in       the event.
 * \param[out] dropped  per-verdict counts of headers not copied, added to
 *                      (the caller zeroes it); index NATSMSG_COPY counts copies.
 * \return NATS_OK, or the cnats status that stopped the build.
 */
natsStatus natsmsg_build(natsMsg **out, const natsmsg_input_t *in,
                         uint32_t dropped[NATSMSG_VERDICT__COUNT]);

#endif /* ER_NATSMSG_H */
