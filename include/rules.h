/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file rules.h
 * \brief Load, validate and compile a YAML routing-rule file into an
 *        immutable, reference-counted rule set.
 *
 * The YAML schema is declared as static libcyaml field tables; one
 * validate-and-compile pass turns the loaded document into a rules_t. A file
 * with any error yields no rules_t at all: a half-valid file is never used.
 * Diagnostics carry file:line:col and a hint a platform engineer can act on;
 * they are the shared YAML diagnostics of diag.h, worded here.
 *
 * Ownership: a loader returns a rules_t holding one reference; the last
 * rules_unref() frees it and everything it owns (the loaded document, every
 * string a route or test points at). Diagnostics are appended to the
 * caller's rules_diags_t, which the caller frees with rules_diags_clear().
 *
 * Not for: evaluating rules against events (route.h) or any I/O besides
 * reading the rule file.
 *
 * Threads: loading touches no global state and may run on any thread
 * (the main thread at start and on reload, the CLI, the fuzzer). A compiled
 * rules_t is immutable; any number of threads may read it at once.
 * rules_ref()/rules_unref() use atomics, so the router can swap in a new
 * set (hot reload) while in-flight events still hold the old one.
 */
#ifndef ER_RULES_H
#define ER_RULES_H

#include <stddef.h>

#include "diag.h"

typedef struct rules rules_t;

/** One load/validation error or warning: the shared YAML diagnostic (diag.h). */
typedef diag_t rules_diag_t;

/** The diagnostics of one load; zero-initialise before first use, free with
 *  rules_diags_clear(). Owned by the caller; the loader only appends. */
typedef diags_t rules_diags_t;

/**
 * \brief Load and compile a rule file.
 * \param[in]  path  File to read.
 * \param[out] out   On success a new rules_t with one reference; NULL on error.
 * \param[out] diags Receives every error found (not only the first) and any
 *                   warnings. May be NULL.
 * \return 0 on success, -1 if the file has any error.
 */
int rules_load_file(const char *path, rules_t **out, rules_diags_t *diags);

/**
 * \brief Same as rules_load_file() from memory; \p name is used in diagnostics.
 *        Used by the fuzz target and the unit tests.
 */
int rules_load_buffer(const char *name, const char *buf, size_t len, rules_t **out,
                      rules_diags_t *diags);

/** \brief Format one diagnostic as "file:line:col: error: msg" into \p buf
 *         (diag_format(), kept under the rules_ prefix for its callers). */
const char *rules_diag_format(const rules_diag_t *d, char *buf, size_t size);

/** \brief Free the diagnostics' contents (not the struct itself): diags_clear(). */
void rules_diags_clear(rules_diags_t *diags);

/** \brief Take a reference. Any thread. \return \p rules. */
rules_t *rules_ref(rules_t *rules);

/** \brief Drop a reference; the last one frees the set. Any thread. NULL is a no-op. */
void rules_unref(rules_t *rules);

/** \brief Path the set was loaded from. Valid while a reference is held. */
const char *rules_path(const rules_t *rules);

/** \brief Hex SHA-256 (or similar stable hash) of the file's bytes, for the info metric. */
const char *rules_hash(const rules_t *rules);

/** \brief Number of routes. */
size_t rules_route_count(const rules_t *rules);

/** \brief Name of route \p i (0-based), or NULL when out of range. */
const char *rules_route_name(const rules_t *rules, size_t i);

/**
 * \brief The literal subject prefix of route \p i (the part of its template
 *        before the first variable), or NULL for routes that do not publish.
 *        Used to check at start-up that every route lands in some stream.
 */
const char *rules_route_subject_prefix(const rules_t *rules, size_t i);

/**
 * \brief Route \p i's name and subject prefix in one call, shaped as
 *        streams.h's streams_route_at_fn so the start-up stream check can
 *        walk a rule set without knowing it.
 * \param[in]  rules          The rule set (a const rules_t *).
 * \param[in]  i              Route index, 0-based.
 * \param[out] name           rules_route_name().
 * \param[out] subject_prefix rules_route_subject_prefix() (NULL: does not publish).
 * \return 1 when route \p i exists, 0 past the last one.
 */
int rules_route_at(const void *rules, size_t i, const char **name, const char **subject_prefix);

/* ---- Additions for the CLI (explain/test), probe.c and the tests. ---- */

#include <stdint.h>

/** Envelope fields whose sources the rule file declares (`envelope:`). */
typedef enum rules_field {
    RULES_F_EVENT_TYPE,
    RULES_F_EVENT_ID,
    RULES_F_AGGREGATE_TYPE,
    RULES_F_AGGREGATE_ID,
    RULES_F_CORRELATION_ID,
    RULES_F_CAUSATION_ID,
    RULES_F_CE_SOURCE,
    RULES_F_CE_ID,
    RULES_F__COUNT
} rules_field_t;

/** Where one envelope field may come from. */
typedef enum rules_source_kind {
    RULES_SRC_HEADER, /**< A Kafka header, by name. */
    RULES_SRC_JSON,   /**< A JSON path in the record value. */
} rules_source_kind_t;

/**
 * \brief The YAML key of an envelope field ("event_type", "aggregate_id", ...).
 * \param[in] f Field.
 * \return Static string; "?" when out of range.
 */
const char *rules_field_name(rules_field_t f);

/**
 * \brief Source \p i (0-based, in the order they are tried) of field \p f.
 * \param[in]  rules Rule set.
 * \param[in]  f     Field.
 * \param[in]  i     Index.
 * \param[out] kind  Header or JSON.
 * \param[out] name  Header name or JSON path; valid while \p rules is.
 * \return 0, or -1 when \p i is out of range.
 */
int rules_field_source(const rules_t *rules, rules_field_t f, size_t i, rules_source_kind_t *kind,
                       const char **name);

/** A name/value pair from the rule file's tests. */
typedef struct rules_kv {
    const char *name;
    const char *value;
} rules_kv_t;

/**
 * One `tests:` entry. Input strings are NULL when not given. Expected
 * strings are NULL (and expect_critical is -1) when not checked. All
 * pointers are valid while the rule set is.
 */
typedef struct rules_test {
    const char *name;
    int line;                           /**< Line of the entry in the file. */
    const char *fields[RULES_F__COUNT]; /**< type, event_id, aggregate_type, ... */
    const char *topic;
    int32_t partition;
    int64_t offset;
    const char *key;   /**< NULL: null key. */
    const char *value; /**< Record value; NULL: built from the fields (JSON). */
    int tombstone;     /**< 1: the record has no value at all. */
    const rules_kv_t *headers;
    size_t header_count;
    const char *expect_action;
    const char *expect_reason;
    const char *expect_route;
    const char *expect_subject;
    const char *expect_dedup_id;
    int expect_critical;
    const rules_kv_t *expect_headers;
    size_t expect_header_count;
} rules_test_t;

/** \brief Number of `tests:` entries. \param[in] rules Rule set. \return Count. */
size_t rules_test_count(const rules_t *rules);

/**
 * \brief Test entry \p i.
 * \param[in] rules Rule set.
 * \param[in] i     0-based index.
 * \return The entry, or NULL when out of range.
 */
const rules_test_t *rules_test_get(const rules_t *rules, size_t i);

/**
 * \brief Line in the rule file where route \p i starts (for `explain`).
 * \param[in] rules Rule set.
 * \param[in] i     0-based index.
 * \return 1-based line, 0 when out of range.
 */
int rules_route_line(const rules_t *rules, size_t i);

/**
 * One route as the deployment check (`event-router check -c`, cli_check.c)
 * sees it. Strings are borrowed from the rule set: valid while it is.
 */
typedef struct rules_route_info {
    const char *name;
    const char *action;  /**< As the rule file spells it: "jetstream", "nats", "skip" or "dlq" */
    const char *subject; /**< The subject template as written; NULL when none. */
    int critical;        /**< critical: true */
    int line, col;       /**< Where the route (its list item) is written, 1-based. */
    int subject_line, subject_col; /**< Where subject: is written; 0 when absent. */
} rules_route_info_t;

/**
 * \brief Route \p i's name, action, subject template, critical flag and
 *        positions in the rule file.
 * \param[in]  rules Rule set.
 * \param[in]  i     0-based route index.
 * \param[out] out   Filled on success; strings borrowed from \p rules.
 * \return 0, or -1 when \p i is out of range (\p out untouched).
 */
int rules_route_info(const rules_t *rules, size_t i, rules_route_info_t *out);

/**
 * \brief Whether events can be dead-lettered under these rules (so that the
 *        router needs `dlq.topic`), with the first reason found, in this
 *        order:
 *        - a route with `action: dlq`:
 *          "route 'bad' (x.yaml:3) has action: dlq";
 *        - `unmatched: dlq` when some event can go unmatched;
 *        - a publishing route whose subject takes tokens from the event:
 *          "route 'commands' (rules/default.yaml:12) takes subject tokens
 *          from the event (missing_field, unsafe_token, no_domain,
 *          subject_too_long)";
 *        - the event type read from JSON: "the envelope reads JSON
 *          (bad_envelope) ...";
 *        - any publishing route (a publish JetStream or NATS refuses, or
 *          that keeps failing, is dead-lettered);
 *        - else the event type itself: route.c dead-letters a record (not a
 *          tombstone) without an event type (no_event_type) or with an
 *          unusable one (unsafe_token) before any route is tried.
 *        Because of the last, no rule set is free of dead letters today,
 *        not even one whose every route is `skip` and that reads no JSON:
 *        the function returns 1 for every rule set, and what differs is why.
 * \param[in]  rules    Rule set.
 * \param[out] why      One sentence naming the route and file:line where
 *                      there is one; always written (when \p why_size > 0).
 * \param[in]  why_size Size of \p why.
 * \return 1 when events can be dead-lettered, 0 when none can.
 */
int rules_can_dead_letter(const rules_t *rules, char *why, size_t why_size);

#endif /* ER_RULES_H */
