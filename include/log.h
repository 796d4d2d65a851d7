/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file log.h
 * \brief One-line structured logs with stable message IDs.
 *
 * Every line carries a time, a level, a stable message ID a runbook can grep
 * for (e.g. "SNK-0102"), a short human message and logfmt key=value pairs.
 * In JSON mode the same pairs become object members. The level is checked
 * before anything is formatted (use the LOG_* macros).
 *
 * Not for: metrics (see metrics.h) or user-facing CLI output (stdout).
 *
 * Threads: every function is safe to call from any thread, including
 * librdkafka's and cnats's callback threads; a line is written with one
 * write(2) so lines from different threads never interleave. Lines are
 * capped at PIPE_BUF (4096) bytes, atomic even on a pipe; pairs that do not
 * fit are dropped whole and the line ends with truncated=true. log_write()
 * preserves errno.
 */
#ifndef ER_LOG_H
#define ER_LOG_H

#include <stddef.h>

typedef enum log_level {
    LOG_LVL_DEBUG,
    LOG_LVL_INFO,
    LOG_LVL_WARN,
    LOG_LVL_ERROR,
    LOG_LVL__COUNT
} log_level_t;

typedef enum log_format { LOG_FMT_LOGFMT, LOG_FMT_JSON, LOG_FMT__COUNT } log_format_t;

/** Current threshold; read without a lock (a stale read only costs one line). */
extern volatile log_level_t log_threshold;

/**
 * \brief Set threshold and format. Call once from main before threads start.
 * \param[in] level  Lines below this level are dropped before formatting.
 * \param[in] format logfmt (default) or JSON.
 */
void log_setup(log_level_t level, log_format_t format);

/**
 * \brief Parse "debug|info|warn|error" and "logfmt|json".
 * \return 0 on success, -1 if the name is unknown.
 */
int log_level_parse(const char *name, log_level_t *out);
int log_format_parse(const char *name, log_format_t *out);

/** \brief "debug", "info", "warn" or "error"; "unknown" out of range. */
const char *log_level_name(log_level_t level);

/**
 * \brief Write one line. Prefer the LOG_* macros, which check the level first.
 * \param[in] level  Severity.
 * \param[in] id     Stable message ID, e.g. "SRC-0001".
 * \param[in] msg    Short constant human message, e.g. "partition assigned".
 * \param[in] kvfmt  printf format producing logfmt pairs: "topic=%s partition=%d".
 *                   May be NULL. Values that may hold spaces or quotes must be
 *                   passed through log_quote() first.
 */
void log_write(log_level_t level, const char *id, const char *msg, const char *kvfmt, ...)
    __attribute__((format(printf, 4, 5)));

/**
 * \brief Render untrusted bytes as a logfmt-safe quoted value: "..." with
 *        \" \\ \n and \xNN escapes, truncated to fit \p size with "...".
 * \param[out] buf   Output buffer, always NUL-terminated.
 * \param[in]  size  Size of \p buf (at least 8).
 * \param[in]  data  Bytes to render (need not be NUL-terminated); NULL -> "".
 * \param[in]  len   Length of \p data.
 * \return \p buf, for use as a printf argument.
 */
const char *log_quote(char *buf, size_t size, const void *data, size_t len);

/**
 * \brief Whether \p s (\p n bytes) is exactly one JSON number, by RFC 8259's
 *        grammar. The JSON log format writes such values unquoted; the
 *        envelope parser checks numbers with it. Pure; any thread.
 */
int log_json_number(const char *s, size_t n);

#define LOG_ENABLED(lvl) ((lvl) >= log_threshold)
#define LOG_DEBUG(id, msg, ...)                                                                    \
    do {                                                                                           \
        if (LOG_ENABLED(LOG_LVL_DEBUG))                                                            \
            log_write(LOG_LVL_DEBUG, id, msg, __VA_ARGS__);                                        \
    } while (0)
#define LOG_INFO(id, msg, ...)                                                                     \
    do {                                                                                           \
        if (LOG_ENABLED(LOG_LVL_INFO))                                                             \
            log_write(LOG_LVL_INFO, id, msg, __VA_ARGS__);                                         \
    } while (0)
#define LOG_WARN(id, msg, ...)                                                                     \
    do {                                                                                           \
        if (LOG_ENABLED(LOG_LVL_WARN))                                                             \
            log_write(LOG_LVL_WARN, id, msg, __VA_ARGS__);                                         \
    } while (0)
#define LOG_ERROR(id, msg, ...)                                                                    \
    do {                                                                                           \
        if (LOG_ENABLED(LOG_LVL_ERROR))                                                            \
            log_write(LOG_LVL_ERROR, id, msg, __VA_ARGS__);                                        \
    } while (0)

#endif /* ER_LOG_H */
