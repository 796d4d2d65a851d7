/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file natsopts.h
 * \brief The one place that turns the config's `nats:` section into cnats
 *        options, so that every command (`run`, `streams`, ...) reaches the
 *        same cluster the same way: servers, connection name, reconnect
 *        settings, authentication (user/password, token, creds file, nkey
 *        seed file) and TLS (CA, client certificate and key), and the
 *        JetStream domain / API prefix.
 *
 * Secrets are read through secret.h just long enough to hand them to cnats
 * and are wiped after. Text that may hold a server URL goes through
 * natsopts_servers_text() / natsopts_scrub() before it is logged.
 *
 * Not for: callbacks or connection state (sink.c owns those).
 *
 * Threads: main thread (reads files and the environment).
 */
#ifndef ER_NATSOPTS_H
#define ER_NATSOPTS_H

#include <stddef.h>

#include <nats/nats.h>

#include "config.h"

/**
 * \brief Create options for \p cfg. The caller adds callbacks, connects and
 *        destroys the options.
 * \param[out] out    New options on success, NULL on error.
 * \param[out] errstr Which setting failed and why (an unset password
 *                    variable, an unreadable creds file, a bad TLS file...);
 *                    never a secret.
 * \return 0 or -1.
 */
int natsopts_new(const config_t *cfg, natsOptions **out, char *errstr, size_t errstr_size);

/**
 * \brief Fill JetStream context options from \p cfg (domain, API prefix, and
 *        the ack timeout as the default wait). Strings stay owned by \p cfg.
 */
void natsopts_js(const config_t *cfg, jsOptions *jo);

/** \brief The configured servers, comma-separated, with userinfo redacted: for logs. */
const char *natsopts_servers_text(const config_t *cfg, char *buf, size_t size);

/**
 * \brief Redact, in place, anything of the configured servers' userinfo (a
 *        password or token written in a URL) from a text cnats produced.
 */
void natsopts_scrub(const config_t *cfg, char *text, size_t size);

#endif /* ER_NATSOPTS_H */
