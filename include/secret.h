/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file secret.h
 * \brief Secrets in one place: reading them (`*_env` / `*_file` config keys,
 *        `${env:NAME}` and `${file:/path}` references in property values),
 *        wiping them, and the one redaction rule that keeps them out of
 *        every log line and error message.
 *
 * Redaction rule (docs/deploy.md, "Secrets"):
 *  - a URL's userinfo: `nats://user:pass@host` shows as
 *    `nats://user:[redacted]@host`, `nats://token@host` as
 *    `nats://[redacted]@host`, for each URL of a comma-separated list;
 *  - a property (`key=value`, or a malformed `key: value`) whose key names a
 *    secret (password, secret, token, credential, private, ssl.key,
 *    sasl.oauthbearer.config, sasl.oauthbearer.extensions; case-insensitive
 *    substring; not sasl.oauthbearer.token.endpoint.url nor
 *    sasl.oauthbearer.client.credentials.client.id) shows as `key=[redacted]`.
 *
 * Secret files: trailing newlines are removed; a file readable by group or
 * others is used but logs SEC-0001 (warn) once per path.
 *
 * Not for: deciding which config keys exist (config.c) or handing secrets to
 * a client library (kconf.c, natsopts.c).
 *
 * Threads: every function may run on any thread; the once-per-file warning
 * memory is mutex-guarded.
 */
#ifndef ER_SECRET_H
#define ER_SECRET_H

#include <stddef.h>

/** What a redacted secret is replaced by. */
#define SECRET_REDACTED "[redacted]"

/** Largest secret file read (a creds file or a PEM key fits easily). */
#define SECRET_MAX_FILE_BYTES (64 * 1024)

/**
 * \brief Whether a property key names a secret (see the rule above).
 * \param[in] key Key text; only its first \p len bytes are looked at.
 * \return 1 or 0. Pure.
 */
int secret_key_is_secret(const char *key, size_t len);

/**
 * \brief Whether a librdkafka "key=value" property holds a secret: its key
 *        (the text before the first '=', or all of it) names one by
 *        secret_key_is_secret(). config_dump() redacts such values unless
 *        they are only ${env:NAME} / ${file:PATH} references; kconf.c warns
 *        about literal ones.
 * \param[in] prop Property text, NUL-terminated.
 * \return 1 or 0. Pure.
 */
int secret_property_is_secret(const char *prop);

/**
 * \brief Copy \p url (one URL or a comma-separated list, possibly malformed)
 *        with the userinfo of every URL redacted. Over-redacts rather than
 *        leak: everything between a scheme's "//" (or a comma) and an '@' is
 *        treated as userinfo.
 * \param[in]  url  NULL is taken as "".
 * \param[out] buf  Result, always NUL-terminated (truncated if short).
 * \return \p buf. Pure.
 */
const char *secret_redact_url(const char *url, char *buf, size_t size);

/**
 * \brief Copy a "key=value" property (or a malformed "key: value" /
 *        "key value") with the value redacted when the key names a secret.
 *        Other properties are copied unchanged.
 * \return \p buf. Pure.
 */
const char *secret_redact_property(const char *prop, char *buf, size_t size);

/**
 * \brief Replace, in place, every occurrence of \p secret in \p msg with
 *        SECRET_REDACTED (for messages of client libraries that might quote
 *        a value). A NULL or empty \p secret is a no-op.
 */
void secret_scrub(char *msg, size_t size, const char *secret);

/**
 * \brief Read a secret file: content without trailing newlines; a NUL byte,
 *        a non-regular file or more than SECRET_MAX_FILE_BYTES is an error.
 *        Logs SEC-0001 once per path when group or others may read it.
 * \param[out] errstr Names the file and the reason, never the content.
 * \return malloc'd text (free with secret_free()), or NULL with \p errstr set.
 */
char *secret_read_file(const char *path, char *errstr, size_t errstr_size);

/**
 * \brief Log SEC-0001 (once per path) when \p path is readable by group or
 *        others. For secret files a client library reads itself (creds,
 *        TLS key). A missing file is left to that library to report.
 * \return 1 when it is too open, else 0.
 */
int secret_check_file_mode(const char *path);

/**
 * \brief A secret from an environment variable or a file: the variable
 *        first, then the file. A variable that is named but unset, with no
 *        file to fall back to, is an error (an operator mistake).
 * \return malloc'd text (free with secret_free()); NULL when neither is
 *         given (\p errstr "") or on error (\p errstr set).
 */
char *secret_from(const char *env_name, const char *file_path, char *errstr, size_t errstr_size);

/**
 * \brief Resolve `${env:NAME}` and `${file:PATH}` references in a value;
 *        `$${` is a literal `${`; other text is copied.
 * \param[out] out    malloc'd result (free with secret_free()); NULL on error.
 * \param[out] refs   How many references were resolved.
 * \param[out] errstr Which reference failed and why; never a value's text
 *                    other than a reference name.
 * \return 0 or -1.
 */
int secret_resolve(const char *value, char **out, unsigned *refs, char *errstr, size_t errstr_size);

/** \brief Wipe a secret string (explicit_bzero) and free it. NULL is a no-op. */
void secret_free(char *s);

#endif /* ER_SECRET_H */
