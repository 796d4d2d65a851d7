/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file event.h
 * \brief The Kafka record as routing sees it: topic, partition, offset,
 *        timestamp, key, value and headers, all borrowed.
 *
 * Only types, no functions: the source (source.c) fills one per polled
 * record, envelope.c reads fields out of it, route.c decides on it and
 * natsmsg.c copies its headers. It lives below all of them so that none has
 * to include another's header just for the record's shape.
 *
 * Ownership: every pointer is borrowed from the librdkafka message (or the
 * caller's test data) for the duration of one call; nothing here is freed
 * by whoever receives an event. Threads: plain data, any thread.
 */
#ifndef ER_EVENT_H
#define ER_EVENT_H

#include <stddef.h>
#include <stdint.h>

/** A Kafka header as librdkafka hands it over: value may hold any bytes, or be NULL. */
typedef struct route_header {
    const char *name;
    const void *value;
    size_t value_len;
} route_header_t;

/** The Kafka record to route. All pointers are borrowed for the call only. */
typedef struct route_event {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /**< Kafka record timestamp; -1 if none. */
    const void *key;      /**< NULL for a null key. */
    size_t key_len;
    const void *value; /**< NULL for a tombstone. */
    size_t value_len;
    const route_header_t *headers;
    size_t header_count;
} route_event_t;

#endif /* ER_EVENT_H */
