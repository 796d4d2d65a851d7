/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file envelope.h
 * \brief Read envelope fields out of a Kafka record: a header by name, or a
 *        value at a JSON path ("eventType", "metadata.eventType") in the
 *        record value. Bounded work on hostile input.
 *
 * JSON is tokenised with jsmn (chosen by measurement against yajl; numbers
 * in docs/rules.md) into a thread-local token array, so a parse allocates
 * nothing. The work is bounded by two limits: the value's size
 * (max_json_bytes) and the number of tokens (max_json_tokens, capped at
 * ENVELOPE_TOKENS_HARD_MAX). Deep nesting costs one token per level, so the
 * token limit bounds it too; jsmn does not recurse. A value that is not one
 * complete JSON object within those limits is reported as an
 * envelope_status_t, never a crash.
 *
 * Not for: deciding what a field means or which source to try first (the
 * rule file declares that; route.c walks the list). Not a JSON validator:
 * jsmn (strict mode) rejects truncated and most malformed documents but
 * accepts a few oddities (e.g. invalid escapes inside strings are only
 * caught when that string is decoded).
 *
 * Threads: reentrant; the token array is thread-local, so an envelope_json_t
 * is valid only on the thread that parsed it, until that thread parses again.
 */
#ifndef ER_ENVELOPE_H
#define ER_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define ENVELOPE_TOKENS_HARD_MAX 4096 /**< Upper bound for limits.max_json_tokens. */
#define ENVELOPE_PATH_MAX_SEGS   8    /**< Segments in a JSON path. */

typedef enum envelope_status {
    ENVELOPE_OK,
    ENVELOPE_E_NO_VALUE,   /**< Tombstone: the record has no value. */
    ENVELOPE_E_TOO_BIG,    /**< Value longer than max_json_bytes. */
    ENVELOPE_E_SYNTAX,     /**< Not JSON. */
    ENVELOPE_E_TRUNCATED,  /**< JSON ends too early. */
    ENVELOPE_E_TOKENS,     /**< More than max_json_tokens tokens (or too deep). */
    ENVELOPE_E_NOT_OBJECT, /**< Valid JSON, but not one object. */
    ENVELOPE_E__COUNT
} envelope_status_t;

/** Limits on the work one JSON parse may do. */
typedef struct envelope_limits {
    size_t max_bytes;
    unsigned max_tokens;
} envelope_limits_t;

/** A compiled JSON path: object keys only, compared byte for byte. */
typedef struct envelope_path {
    unsigned nseg;
    struct {
        const char *s; /**< Borrowed from the path text given to compile. */
        uint16_t len;
    } seg[ENVELOPE_PATH_MAX_SEGS];
} envelope_path_t;

/** A lazily parsed JSON value. Zero-initialise, then envelope_json_parse(). */
typedef struct envelope_json {
    const char *buf;
    size_t len;
    int ntok;
    envelope_status_t status;
} envelope_json_t;

/** A string found in the JSON: raw bytes, escapes not yet decoded. */
typedef struct envelope_str {
    const char *s;
    size_t len;
    int escaped; /**< 1 when \p s contains backslash escapes (decode it). */
} envelope_str_t;

/**
 * \brief Text for a status.
 * \param[in] st Status.
 * \return Static string; never NULL.
 */
const char *envelope_strerror(envelope_status_t st);

/**
 * \brief Compile "a.b.c" into segments.
 * \param[in]  text    Path; must stay valid as long as \p out is used.
 * \param[in]  len     Length of \p text.
 * \param[out] out     Compiled path.
 * \param[out] err     Why it is invalid.
 * \param[in]  errsize Size of \p err.
 * \return 0 on success, -1 for an empty path, an empty segment or too many.
 */
int envelope_path_compile(const char *text, size_t len, envelope_path_t *out, char *err,
                          size_t errsize);

/**
 * \brief Tokenise \p value. Counts towards envelope_json_parse_count().
 * \param[out] j     Parsed document (tokens are thread-local).
 * \param[in]  value Record value, NULL for a tombstone.
 * \param[in]  len   Its length.
 * \param[in]  lim   Limits (max_tokens is capped at ENVELOPE_TOKENS_HARD_MAX).
 * \return ENVELOPE_OK or why the value is not a usable JSON object.
 */
envelope_status_t envelope_json_parse(envelope_json_t *j, const void *value, size_t len,
                                      const envelope_limits_t *lim);

/**
 * \brief Look \p path up in a parsed document. Strings and numbers count as
 *        values; null, booleans, objects and arrays count as absent.
 * \param[in]  j    Document parsed with ENVELOPE_OK on this thread.
 * \param[in]  path Path.
 * \param[out] out  The value's raw bytes.
 * \return 1 when found, 0 otherwise.
 */
int envelope_json_get(const envelope_json_t *j, const envelope_path_t *path, envelope_str_t *out);

/**
 * \brief Decode JSON string escapes (\\n, \\uXXXX with surrogate pairs, ...)
 *        into UTF-8.
 * \param[in]  s       Raw string bytes, without the quotes.
 * \param[in]  len     Length.
 * \param[out] out     Output (not NUL-terminated).
 * \param[in]  size    Size of \p out.
 * \param[out] out_len Bytes written.
 * \return 0 on success, -1 for a bad escape, a lone surrogate or no room.
 */
int envelope_unescape(const char *s, size_t len, char *out, size_t size, size_t *out_len);

/**
 * \brief The last header named \p name (Kafka allows repeats; the last one
 *        wins, as with rd_kafka_header_get_last()).
 * \param[in] ev       Record.
 * \param[in] name     Header name.
 * \param[in] name_len Its length.
 * \return The header, or NULL. A header with a NULL value is returned too.
 */
const route_header_t *envelope_header(const route_event_t *ev, const char *name, size_t name_len);

/**
 * \brief How many JSON parses this thread has run. Lets tests prove that
 *        header-typed events never pay for one.
 * \return Counter value.
 */
unsigned long envelope_json_parse_count(void);

#endif /* ER_ENVELOPE_H */
