/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file diag.h
 * \brief The one YAML diagnostics reporter: a list of problems, each at
 *        file:line:col, one formatter and one "did you mean" suggester,
 *        shared by the config loader (config.c) and the rule loader (rules.c).
 *
 * Owns: a diags_t and every string in it (file, msg); diags_clear() frees
 * them. Callers pass borrowed strings in and get copies stored.
 *
 * Output format, the same for every YAML file the router reads:
 *
 *     file:line:col: error: message (hint)
 *     file: error: message (hint)          (when no position is known)
 *
 * Where positions come from, and why libcyaml stays: libcyaml 1.3.1 loads
 * a document against static schema tables into typed structs and frees
 * them again, but reports only its first problem, through its log, without
 * a reliable position. yamlwalk.c walks the same bytes once with libyaml,
 * guided by the same schema tables, and gives every problem its line and
 * column; this module words none of it, it only keeps and prints what the
 * loaders say. Replacing libcyaml by one libyaml tree walk that also fills
 * the structs would remove one dependency and the second parse (a few KiB,
 * at start and on reload: no measurable cost), but it means writing and
 * fuzzing a typed loader for ~60 config keys and the rule schema (pointer
 * and optional flags, enums, bounded lists, NULL strings, freeing a half
 * loaded document) that libcyaml already does and is tested for. So the
 * decision is: libcyaml loads, yamlwalk places, diag reports.
 *
 * Threads: no global state; a diags_t belongs to one thread at a time
 * (the loader's: main thread for config and reload, any thread for
 * rules_load_buffer()).
 */
#ifndef ER_DIAG_H
#define ER_DIAG_H

#include <stddef.h>

/** One problem found in a file. */
typedef struct diag {
    char *file;  /**< Path as given to the loader (owned). */
    int line;    /**< 1-based; 0 when unknown. */
    int col;     /**< 1-based; 0 when unknown. */
    int warning; /**< Severity: 0 error, 1 warning (the load still succeeds). */
    char *msg;   /**< Message and " (hint)", without the file:line:col prefix (owned). */
} diag_t;

/** A growable list of diagnostics; zero-initialise before first use. */
typedef struct diags {
    diag_t *items;
    size_t count;
    size_t cap;
} diags_t;

/**
 * \brief Append a diagnostic.
 * \param[in,out] d        The list; NULL is a no-op.
 * \param[in]     file     File name (copied); NULL prints as "?".
 * \param[in]     line     1-based line, 0 when unknown.
 * \param[in]     col      1-based column, 0 when unknown.
 * \param[in]     warning  1 for a warning, 0 for an error.
 * \param[in]     hint     Appended as " (hint)"; NULL or "" for none.
 * \param[in]     fmt      printf format of the message.
 * \return 0, or -1 when memory ran out (the diagnostic is lost).
 */
int diags_add(diags_t *d, const char *file, int line, int col, int warning, const char *hint,
              const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/**
 * \brief Format one diagnostic as "file:line:col: error: msg" (or
 *        "file: error: msg" when line is 0; "warning" for a warning).
 * \param[in]  d     The diagnostic.
 * \param[out] buf   Where to write; truncated to \p size.
 * \param[in]  size  Size of \p buf (> 0).
 * \return \p buf.
 */
const char *diag_format(const diag_t *d, char *buf, size_t size);

/**
 * \brief Free every diagnostic's strings and the array; \p d is left empty
 *        and reusable (the struct itself is the caller's). NULL is a no-op.
 */
void diags_clear(diags_t *d);

/** \brief Whether \p a is later in its file than \p b (1:1 before 1:2 before 2:1). */
int diag_after(const diag_t *a, const diag_t *b);

/**
 * \brief Sort d->items[from..count) by file, then line, then column; stable
 *        (equal places keep the order they were found in).
 * \param[in,out] d     The list.
 * \param[in]     from  The first item to sort.
 * \param[in]     rank  The order of files (lower first); NULL: one file.
 * \param[in]     ctx   Passed to \p rank.
 */
void diags_sort(diags_t *d, size_t from, size_t (*rank)(const void *ctx, const char *file),
                const void *ctx);

/**
 * \brief The candidate closest to \p got, for a "did you mean" hint.
 *
 * Distance is optimal string alignment (insertions, deletions,
 * substitutions and swaps of neighbours each cost 1). A candidate is offered
 * only when it is close for the word's length: 1 edit for words under 4
 * characters, 2 under 12, 3 beyond; words over 64 characters get none.
 * Ties go to the earlier candidate.
 * \param[in] got   The word as written.
 * \param[in] cand  Candidate words; NULL entries are skipped.
 * \param[in] n     How many.
 * \return One of \p cand, or NULL when none is close.
 */
const char *diag_suggest(const char *got, const char *const *cand, size_t n);

#endif /* ER_DIAG_H */
