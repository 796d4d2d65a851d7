/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file listenaddr.h
 * \brief Parse the admin endpoint's listen address ("a.b.c.d:port" or
 *        "localhost:port") into a sockaddr_in.
 *
 * One rule for two callers: config.c refuses at load time what http.c's
 * http_start() would refuse later, without config depending on the HTTP
 * server. IPv4 only; "localhost" is taken as 127.0.0.1.
 *
 * Threads: pure and reentrant, any thread. Nothing is allocated.
 */
#ifndef ER_LISTENADDR_H
#define ER_LISTENADDR_H

#include <stddef.h>

#include <netinet/in.h>

/**
 * \brief Parse a listen address.
 * \param[in]  listen      "a.b.c.d:port" or "localhost:port" (= 127.0.0.1), port 0..65535.
 * \param[out] sa          The IPv4 address and port.
 * \param[out] errstr      Why not, on failure ("http: listen ..."); may be NULL.
 * \param[in]  errstr_size Size of \p errstr.
 * \return 0 on success, -1 when \p listen is not such an address.
 */
int listenaddr_parse(const char *listen, struct sockaddr_in *sa, char *errstr, size_t errstr_size);

#endif /* ER_LISTENADDR_H */
