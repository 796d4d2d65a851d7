/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file streams.h
 * \brief JetStream stream provisioning from the config's `streams:` section,
 *        and the start-up check that every publishing route lands in a stream.
 *
 * A missing stream is created. An existing one is compared with its
 * declaration and every difference is reported; nothing is ever changed
 * silently. Main thread only (it makes blocking JetStream API requests).
 */
#ifndef ER_STREAMS_H
#define ER_STREAMS_H

#include <stdio.h>

#include <nats/nats.h>

#include "config.h"

/** What streams_ensure() found of one declared stream. */
typedef enum streams_state {
    STREAMS_OK,      /**< exists as declared */
    STREAMS_DIFFERS, /**< exists, differs (left as it is) */
    STREAMS_MISSING, /**< does not exist; a dry run would create it */
    STREAMS_CREATED, /**< did not exist; created as declared */
} streams_state_t;

/** \brief "ok", "differs", "missing", "created". */
const char *streams_state_name(streams_state_t st);

/**
 * \brief Called by streams_ensure() once per declared stream.
 * \param[in] differences  For STREAMS_DIFFERS, what differs ("replicas is
 *                         1, config says 3; ..."); else "".
 */
typedef void (*streams_report_fn)(void *ctx, const config_stream_t *decl, streams_state_t st,
                                  const char *differences);

/**
 * \brief One line of text for a stream_ensure() report:
 *        "stream COMMANDS: created (3 replicas, file, 120 s dedup)".
 */
const char *streams_report_text(char *buf, size_t size, const config_stream_t *decl,
                                streams_state_t st, const char *differences);

/**
 * \brief Create missing streams (unless \p dry_run) and report each one.
 * \param[in] report  Called once per declared stream, in config order.
 * \return 0 when every stream exists (or would be created) as declared;
 *         1 when some stream differs; -1 when JetStream could not be asked
 *         (\p errstr says why; the streams before it were reported).
 */
int streams_ensure(jsCtx *js, const config_t *cfg, int dry_run, streams_report_fn report, void *ctx,
                   char *errstr, size_t errstr_size);

/**
 * \brief Whether a subject filter (may hold * and >) can match subjects that
 *        start with the literal \p prefix (pure).
 */
int streams_filter_covers_prefix(const char *filter, const char *prefix);

/**
 * \brief One route as streams_check_routes() needs it: its name and the
 *        literal subject prefix it publishes under. rules_route_at() of
 *        rules.h has this shape, so a rule set can be passed as \p ctx
 *        without this module knowing rules.
 * \param[in]  ctx            Caller's data (e.g. a const rules_t *).
 * \param[in]  i              Route index, 0-based.
 * \param[out] name           Route name (borrowed from \p ctx).
 * \param[out] subject_prefix Literal prefix, or NULL for a route that does
 *                            not publish (borrowed from \p ctx).
 * \return 1 when route \p i exists, 0 past the last one.
 */
typedef int (*streams_route_at_fn)(const void *ctx, size_t i, const char **name,
                                   const char **subject_prefix);

/**
 * \brief Log a warning for each publishing route whose subject prefix no
 *        declared (or, without declarations, existing) stream covers.
 * \param[in] js       JetStream context (used only when \p cfg declares no stream).
 * \param[in] cfg      Config with the `streams:` declarations.
 * \param[in] route_at Enumerates the routes, see streams_route_at_fn.
 * \param[in] ctx      Passed to \p route_at.
 * \return Number of uncovered routes, or -1 when streams could not be listed.
 */
int streams_check_routes(jsCtx *js, const config_t *cfg, streams_route_at_fn route_at,
                         const void *ctx);

/**
 * \brief The streams that hold some publishing route's subjects (the ones a
 *        look-up must scan: resume.h), and the shortest duplicate window
 *        among them. One JetStream API request, bounded by \p timeout_ms.
 * \param[out] names      Stream names; free with streams_names_free().
 * \param[out] count      How many.
 * \param[out] min_dupe_ms Shortest duplicate window of those streams (ms);
 *                        0 when none.
 * \return 0, or -1 when JetStream could not be asked.
 */
int streams_for_routes(jsCtx *js, streams_route_at_fn route_at, const void *ctx, int64_t timeout_ms,
                       char ***names, size_t *count, int64_t *min_dupe_ms);

/** \brief Free what streams_for_routes() returned. */
void streams_names_free(char **names, size_t count);

/** The subject filters of every stream JetStream has, as last listed. */
typedef struct streams_filters {
    char **filters;
    size_t count;
    int known;         /**< 1 when the last listing succeeded */
    int64_t listed_ns; /**< CLOCK_MONOTONIC time of the last attempt */
} streams_filters_t;

/**
 * \brief List the subject filters of all streams (one JetStream API request,
 *        bounded by \p timeout_ms). On failure the previous list is kept but
 *        marked unknown. Main thread.
 */
void streams_filters_refresh(jsCtx *js, streams_filters_t *f, int64_t timeout_ms);

/** \brief Free the list's contents. */
void streams_filters_clear(streams_filters_t *f);

/**
 * \brief Whether some stream filter matches \p subject (wildcards * and >).
 * \return 1 covered, 0 not covered, -1 unknown (no successful listing).
 */
int streams_filters_cover(const streams_filters_t *f, const char *subject);

/** How much of a route's subjects a stream filter takes in. */
typedef enum streams_cover {
    STREAMS_COVERS_NONE, /**< no subject the template can produce */
    STREAMS_COVERS_SOME, /**< only some values of its variables */
    STREAMS_COVERS_ALL,  /**< every subject it can produce */
} streams_cover_t;

/**
 * \brief How a subject filter (may hold * and >) covers the subjects a route's
 *        subject template can produce (pure). A template token holding a
 *        `{variable}` stands for any one token (rules.h: a variable's value
 *        is always exactly one token); dots inside braces (`{field:a.b}`)
 *        do not split tokens.
 */
streams_cover_t streams_filter_covers_template(const char *filter, const char *tmpl);

/** \brief Whether a subject filter matches a concrete subject (pure). */
int streams_filter_matches(const char *filter, const char *subject);

#endif /* ER_STREAMS_H */
