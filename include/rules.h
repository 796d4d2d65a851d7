/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file rules.h
 * \brief Load, validate and compile a YAML routing-rule file into an
 *        immutable, reference-counted rule set.
 *
 * The YAML schema is declared as static libcyaml field tables; one
 * validate-and-compile pass turns the loaded document into a rules_t. A file
 * with any error yields no rules_t at all: a half-valid file is never used.
 * Diagnostics carry file:line:col and a hint a platform engineer can act on.
 *
 * Not for: evaluating rules against events (route.h) or any I/O besides
 * reading the rule file.
 *
 * Threads: a compiled rules_t is immutable; any number of threads may read it
 * at once. rules_ref()/rules_unref() use atomics, so the router can swap in a
 * new set (hot reload) while in-flight events still hold the old one.
 */
#ifndef ER_RULES_H
#define ER_RULES_H

#include <stddef.h>

typedef struct rules rules_t;

/** One load/validation error or warning. */
typedef struct rules_diag {
    char *file;  /**< Path as given to the loader. */
    int line;    /**< 1-based; 0 when unknown. */
    int col;     /**< 1-based; 0 when unknown. */
    int warning; /**< 1 for a warning (load still succeeds). */
    char *msg;   /**< Message with hint, without the file:line:col prefix. */
} rules_diag_t;

/** A growable list of diagnostics; zero-initialise before first use. */
typedef struct rules_diags {
    rules_diag_t *items;
    size_t count;
    size_t cap;
} rules_diags_t;

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

/** \brief Format one diagnostic as "file:line:col: error: msg" into \p buf. */
const char *rules_diag_format(const rules_diag_t *d, char *buf, size_t size);

/** \brief Free the diagnostics' contents (not the struct itself). */
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

#endif /* ER_RULES_H */
