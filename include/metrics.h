/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file metrics.h
 * \brief A small in-process Prometheus registry: counters, gauges and
 *        histograms with label sets, rendered in the text exposition format.
 *
 * Callers get a series handle once (registration is idempotent: the same
 * name + labels returns the same handle) and then update it with atomics,
 * so the hot path takes no lock. Label strings are pre-rendered Prometheus
 * label sets without braces: `topic="officer-events",route="commands"`;
 * metrics_label_escape() makes untrusted values safe for them.
 *
 * Not for: HTTP (http.h) or deciding what to measure (the modules do).
 *
 * Threads: every function may be called from any thread. Handles stay valid
 * until metrics_shutdown(); a removed series' handle keeps working but is no
 * longer rendered.
 */
#ifndef ER_METRICS_H
#define ER_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct metrics_series metrics_series_t;

/**
 * \brief Counter series; \p help and \p labels may be NULL/"". Never NULL:
 *        misuse (MET-0001) or an allocation failure (MET-0002, logged once)
 *        yields a working series that is never rendered (alloc.h).
 */
metrics_series_t *metrics_counter(const char *name, const char *help, const char *labels);
/** \brief Gauge series. */
metrics_series_t *metrics_gauge(const char *name, const char *help, const char *labels);
/**
 * \brief Histogram series with ascending upper bounds (without +Inf).
 *        All series of one name must use the same bounds.
 */
metrics_series_t *metrics_histogram(const char *name, const char *help, const char *labels,
                                    const double *bounds, size_t bound_count);

void metrics_add(metrics_series_t *s, uint64_t v); /**< counter += v */
void metrics_set(metrics_series_t *s, double v);   /**< gauge = v */
void metrics_gauge_add(metrics_series_t *s, double delta);
void metrics_observe(metrics_series_t *s, double v); /**< histogram */

/** \brief Stop rendering a series (e.g. a revoked partition's lag). */
void metrics_remove(const char *name, const char *labels);

/** \brief Read back a counter or gauge value (tests, readiness logic). */
double metrics_value(const metrics_series_t *s);

/**
 * \brief Render every series in the Prometheus text format 0.0.4.
 * \param[out] out malloc'd text the caller frees.
 * \param[out] len Its length.
 * \return 0, or -1 on OOM.
 */
int metrics_render(char **out, size_t *len);

/** \brief Escape \p in (len bytes) for use inside a label value's quotes. */
const char *metrics_label_escape(char *buf, size_t size, const char *in, size_t len);

/** \brief Free everything. Only after all threads that update metrics have stopped. */
void metrics_shutdown(void);

/**
 * \brief Tests only: the allocator the registry uses (NULL restores
 *        calloc), so a test can fail every allocation in turn. Not
 *        thread-safe; set it while no other thread registers metrics.
 * \param[in] fn calloc-compatible function, or NULL.
 */
void metrics_set_calloc_for_tests(void *(*fn)(size_t n, size_t size));

/** Common latency buckets in seconds: 0.0005 .. 10. */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_bucket_count;

#endif /* ER_METRICS_H */
