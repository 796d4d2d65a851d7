/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file http.h
 * \brief The admin HTTP endpoint (libmicrohttpd): /metrics, /healthz, /readyz.
 *
 * Binds to loopback unless told otherwise. It knows nothing of Kafka or
 * NATS: liveness and readiness are asked of callbacks the router provides.
 *
 * Threads: libmicrohttpd serves requests on its own internal thread; the
 * probe callbacks run there and must only read state that is safe to read
 * concurrently (atomics, or under the caller's own lock).
 *
 * Limits: 64 connections in all, 8 per client address, and a connection
 * idle for 5 s is closed, so clients holding connections open from one
 * address cannot keep the probes from answering.
 */
#ifndef ER_HTTP_H
#define ER_HTTP_H

#include <stddef.h>

#include <netinet/in.h>

typedef struct http http_t;

/**
 * A probe: return 1 when healthy/ready, 0 otherwise, and write a short
 * reason (one line per problem) into \p why. Runs on the HTTP thread.
 */
typedef int (*http_probe_fn)(void *opaque, char *why, size_t why_size);

/**
 * \brief Start serving.
 * \param[in]  listen   "host:port" ("127.0.0.1:9180"); port 0 picks a free one.
 * \param[in]  live     /healthz probe.
 * \param[in]  ready    /readyz probe.
 * \param[in]  opaque   Passed to both probes.
 * \param[out] out      The server.
 * \param[out] errstr   Error text on failure.
 * \return 0 on success, -1 on failure.
 *
 * IPv4 only: host is a dotted quad or "localhost" (= 127.0.0.1). An empty
 * \p listen is an error: when http.listen is "" the caller does not start
 * the endpoint. A NULL probe always answers 200. Call from the main thread.
 */
int http_start(const char *listen, http_probe_fn live, http_probe_fn ready, void *opaque,
               http_t **out, char *errstr, size_t errstr_size);

/* The listen address rule http_start() applies: listenaddr.h. */

/** \brief The port actually bound (useful when 0 was asked for). */
int http_port(const http_t *h);

/** \brief Stop and free. NULL is a no-op. */
void http_stop(http_t *h);

#endif /* ER_HTTP_H */
