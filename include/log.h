/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file log.h
 * \brief One-line structured logs with stable message IDs.
 *
 * Every line carries a time, a level, a stable message ID a runbook can grep
 * for (e.g. "SNK-0102"), a short human message and typed key/value pairs:
 *
 *     LOG_INFO("SRC-0002", "partition assigned", LKV_S("topic", topic),
 *              LKV_I("partition", partition));
 *     LOG_WARN("SNK-0002", "disconnected from NATS");          (no pairs)
 *
 * The pairs are data, never format text: a value can hold spaces, '=',
 * quotes, newlines, NUL bytes or invalid UTF-8 and still stays one value
 * (logfmt quotes and escapes it; JSON mode builds the object with yajl_gen).
 * So untrusted text (broker error strings, record bytes) goes straight in,
 * with LKV_S for C strings and LKV_RAW for bytes with a length. The level is
 * checked before anything is formatted or even evaluated (use the LOG_*
 * macros).
 *
 * Not for: metrics (see metrics.h) or user-facing CLI output (stdout).
 *
 * Threads: every function is safe to call from any thread, including
 * librdkafka's and cnats's callback threads; a line is written with one
 * write(2) so lines from different threads never interleave. Lines are
 * capped at PIPE_BUF (4096) bytes, atomic even on a pipe. A value longer
 * than LOG_VALUE_MAX output bytes is cut and ends in "..."; pairs that do
 * not fit are dropped whole; either way the line ends with truncated=true.
 * log_write() preserves errno, takes no lock and does not allocate.
 */
#ifndef ER_LOG_H
#define ER_LOG_H

#include <stddef.h>
#include <stdint.h>

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

/** Rendered size cap of one value (before "..."), so later pairs still fit. */
#define LOG_VALUE_MAX 1024

/** What a log_kv_t holds. */
typedef enum log_kv_type {
    LKV_STR,   /**< NUL-terminated text (any bytes; NULL logs as null/""). */
    LKV_I64,   /**< signed integer */
    LKV_U64,   /**< unsigned integer */
    LKV_F64,   /**< double; NaN and infinities are logged as strings */
    LKV_BOOL,  /**< true/false */
    LKV_BYTES, /**< untrusted bytes with a length (may hold NUL) */
    LKV__COUNT
} log_kv_type_t;

/**
 * One typed key/value pair. Build it with the LKV_* macros, not by hand.
 * The key is a constant from code: [A-Za-z0-9_.-] only (other bytes are
 * replaced by '_'); "ts", "level", "id", "msg" and "truncated" are written
 * with a leading '_'; a key repeated in one line is kept only once.
 * The pointers are borrowed for the duration of the call.
 */
typedef struct log_kv {
    const char *key;
    log_kv_type_t type;
    union {
        const char *s;
        int64_t i;
        uint64_t u;
        double f;
        int b;
        struct {
            const void *p;
            size_t n;
        } raw;
    } v;
} log_kv_t;

/*
 * Pair constructors. Brace initialisers (not compound literals), so they
 * also work in arrays: log_kv_t kvs[] = {LKV_S("topic", t), LKV_I("n", 2)}.
 * The value is type-checked: a pointer given to LKV_I, or an int to LKV_S,
 * is a compile error under -Werror.
 *
 * Converting an old printf-style call (those no longer compile, so none
 * slips through): "k=%s" -> LKV_S("k", v); "k=%d", PRId32, PRId64 ->
 * LKV_I; "k=%u", "%zu", PRIu64 -> LKV_U; "k=%.2f" -> LKV_F; a bare flag
 * "k" -> LKV_B("k", 1); log_quote(q, sizeof(q), p, n) -> LKV_RAW("k", p, n)
 * (or LKV_S when p is a C string); a constant "reason=bad_bounds" ->
 * LKV_S("reason", "bad_bounds"); a NULL format -> no pairs at all.
 */
/* clang-format off */
#define LKV_S(k, str)      {.key = (k), .type = LKV_STR, .v = {.s = (str)}}
#define LKV_I(k, num)      {.key = (k), .type = LKV_I64, .v = {.i = (num)}}
#define LKV_U(k, num)      {.key = (k), .type = LKV_U64, .v = {.u = (num)}}
#define LKV_F(k, num)      {.key = (k), .type = LKV_F64, .v = {.f = (num)}}
#define LKV_B(k, flag)     {.key = (k), .type = LKV_BOOL, .v = {.b = !!(flag)}}
#define LKV_RAW(k, p, len) {.key = (k), .type = LKV_BYTES, .v = {.raw = {(p), (len)}}}
#define LOG_KV_END_        {.key = NULL}
/* clang-format on */

/**
 * \brief Write one line. Prefer the LOG_* macros, which check the level
 *        first and count the pairs for you.
 * \param[in] level  Severity.
 * \param[in] id     Stable message ID, e.g. "SRC-0001".
 * \param[in] msg    Short constant human message, e.g. "partition assigned".
 * \param[in] kvs    \p n typed pairs, written in order; may be NULL if \p n is 0.
 * \param[in] n      Number of pairs.
 */
void log_write(log_level_t level, const char *id, const char *msg, const log_kv_t *kvs, size_t n);

/**
 * \brief Whether \p s (\p n bytes) is exactly one JSON number, by RFC 8259's
 *        grammar. The envelope parser checks numbers with it. Pure; any thread.
 */
int log_json_number(const char *s, size_t n);

#define LOG_ENABLED(lvl) ((lvl) >= log_threshold)

/*
 * LOG_AT(level, id, msg, pairs...) with zero or more LKV_* pairs. The macro
 * takes (...) and appends a terminator pair so that a call without pairs
 * still passes a non-empty variadic list: valid ISO C11, no ##__VA_ARGS__.
 * Arguments are evaluated only when the level is enabled.
 */
#define LOG_AT_(lvl, id, msg, ...)                                                                 \
    do {                                                                                           \
        if (LOG_ENABLED(lvl))                                                                      \
            log_write(lvl, id, msg, (const log_kv_t[]){__VA_ARGS__},                               \
                      sizeof((const log_kv_t[]){__VA_ARGS__}) / sizeof(log_kv_t) - 1);             \
    } while (0)
#define LOG_AT(lvl, ...) LOG_AT_((lvl), __VA_ARGS__, LOG_KV_END_)
#define LOG_DEBUG(...)   LOG_AT(LOG_LVL_DEBUG, __VA_ARGS__)
#define LOG_INFO(...)    LOG_AT(LOG_LVL_INFO, __VA_ARGS__)
#define LOG_WARN(...)    LOG_AT(LOG_LVL_WARN, __VA_ARGS__)
#define LOG_ERROR(...)   LOG_AT(LOG_LVL_ERROR, __VA_ARGS__)

#endif /* ER_LOG_H */
