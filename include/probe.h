/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file probe.h
 * \brief Build a Kafka record (route_event_t) from a short description of
 *        an event: its type, ID, aggregate, headers, topic, value. Used by
 *        `event-router explain`, `event-router test` and the unit tests.
 *
 * Each described envelope field (type, event_id, aggregate_type, ...) is put
 * where the rule file's FIRST declared source for it says: a header, or a
 * JSON path in a generated value. So the same test case exercises whatever
 * envelope layout the file declares. Explicit headers are added after the
 * generated ones, so they win (the last header of a name wins). A record
 * with neither a value nor JSON-sourced fields gets the value "{}".
 *
 * Not for: the hot path (it allocates).
 *
 * Threads: any; a probe_t belongs to the thread that built it.
 * Ownership: the caller owns the probe_t; probe_build() allocates the
 * record's storage inside it and probe_fini() frees it.
 */
#ifndef ER_PROBE_H
#define ER_PROBE_H

#include <stddef.h>

#include "route.h"
#include "rules.h"

#define PROBE_MAX_HEADERS 64 /**< Explicit headers per probe. */

/** A built record and the storage behind it. */
typedef struct probe {
    route_event_t ev; /**< Points into this struct and into the test description. */
    route_header_t hdr[PROBE_MAX_HEADERS + RULES_F__COUNT];
    char *json; /**< Owned: the generated value, or NULL. */
} probe_t;

/**
 * \brief Build the record described by \p t for rule set \p r.
 * \param[out] p       Record; release with probe_fini() (also after an error).
 * \param[in]  r       Rule set whose envelope sources decide where fields go.
 * \param[in]  t       Description (a `tests:` entry or one made by the CLI);
 *                     its strings must outlive \p p.
 * \param[out] err     Why it cannot be built.
 * \param[in]  errsize Size of \p err.
 * \return 0, or -1 (e.g. a field goes to JSON but an explicit value was given).
 */
int probe_build(probe_t *p, const rules_t *r, const rules_test_t *t, char *err, size_t errsize);

/**
 * \brief Free what probe_build() allocated.
 * \param[in,out] p Probe; may be zeroed or half-built.
 */
void probe_fini(probe_t *p);

#endif /* ER_PROBE_H */
