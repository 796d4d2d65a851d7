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
#include "rules.h"

/**
 * \brief Create missing streams (unless \p dry_run) and report differences.
 * \param[in] report One line per stream ("create", "ok", "differs: ...") goes here.
 * \return 0 when every stream exists (or would be created) as declared;
 *         1 when some stream differs; -1 when JetStream could not be asked
 *         (\p errstr says why).
 */
int streams_ensure(jsCtx *js, const config_t *cfg, int dry_run, FILE *report, char *errstr,
                   size_t errstr_size);

/**
 * \brief Whether a subject filter (may hold * and >) can match subjects that
 *        start with the literal \p prefix (pure).
 */
int streams_filter_covers_prefix(const char *filter, const char *prefix);

/**
 * \brief Log a warning for each publishing route whose subject prefix no
 *        declared (or, without declarations, existing) stream covers.
 * \return Number of uncovered routes, or -1 when streams could not be listed.
 */
int streams_check_routes(jsCtx *js, const config_t *cfg, const rules_t *rules);

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

/** \brief Whether a subject filter matches a concrete subject (pure). */
int streams_filter_matches(const char *filter, const char *subject);

#endif /* ER_STREAMS_H */
