/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file yamlwalk.h
 * \brief Walk a YAML document with libyaml, guided by a libcyaml schema, and
 *        say where it does not fit: file line and column for every problem.
 *
 * libcyaml 1.3.1 loads a document against static schema tables but reports
 * problems only through its log, without positions, and stops at the first.
 * This walk reads the same bytes with libyaml's event parser, follows the
 * same tables, and hands each problem (syntax error, unknown, duplicate or
 * missing key, wrong node type, alias, too few or too many list entries) to
 * a callback as data: a kind, a 1-based line and column, the document path
 * ("kafka.topics[0]", "routes[3].match") and what was found. The caller
 * words the message, decides whether to go on after it, and judges the text
 * of scalars itself (number ranges, enum words) through a second callback.
 * The walk can also fill an index of where every key, list entry and value
 * sits, by path: enough to know which keys are present (to default only the
 * absent ones) and to place later, semantic errors.
 *
 * Not for: loading data (libcyaml does that), wording messages, files (the
 * caller reads the bytes; yamlwalk_peek() alone reads a file, for a look
 * at a file that may not load), anything the schema tables do not describe.
 *
 * Threads: no global state; every function is reentrant. A walk, and an
 * index, belong to one thread at a time; callbacks run on the caller's
 * thread, inside yamlwalk_run().
 */
#ifndef ER_YAMLWALK_H
#define ER_YAMLWALK_H

#include <stddef.h>

#include <cyaml/cyaml.h>

/** Status of yamlwalk_run() and of the index functions. */
typedef enum yamlwalk_err {
    YAMLWALK_OK,     /**< The walk ran; problems, if any, went to the callback. */
    YAMLWALK_ENOMEM, /**< Memory ran out: the walk or the index is incomplete. */
    YAMLWALK_E__COUNT
} yamlwalk_err_t;

/** What kind of node the document has where a problem is found. */
typedef enum yamlwalk_node {
    YAMLWALK_NODE_SCALAR,
    YAMLWALK_NODE_MAPPING,
    YAMLWALK_NODE_SEQUENCE,
    YAMLWALK_NODE_ALIAS,
    YAMLWALK_NODE__COUNT
} yamlwalk_node_t;

/** What is wrong. Each names the fields of yamlwalk_problem_t it sets. */
typedef enum yamlwalk_kind {
    /** libyaml cannot parse on: problem, context (may be NULL). Ends the walk. */
    YAMLWALK_SYNTAX,
    /** The stream holds no document at all (at the end of the stream). */
    YAMLWALK_NO_DOCUMENT,
    /** The document is an empty scalar (a lone "---", say). */
    YAMLWALK_EMPTY_DOCUMENT,
    /** A second (third, ...) document starts here; its content is skipped. */
    YAMLWALK_EXTRA_DOCUMENT,
    /** A mapping key that is not a scalar, at the key; path is the mapping. */
    YAMLWALK_KEY_NOT_SCALAR,
    /** A key the schema does not list: key; schema and path are the mapping's. */
    YAMLWALK_UNKNOWN_KEY,
    /** A key seen before in the same mapping: key; path is the mapping. */
    YAMLWALK_DUPLICATE_KEY,
    /** A required key is absent: key; at the start of the mapping at path. */
    YAMLWALK_MISSING_KEY,
    /** An alias (*name) where a value was expected, at path. */
    YAMLWALK_ALIAS,
    /** A node of the wrong kind: schema (wanted), got, value (for a scalar). */
    YAMLWALK_WRONG_TYPE,
    /** A list with fewer entries than schema->sequence.min: count. */
    YAMLWALK_TOO_FEW,
    /** A list with more entries than schema->sequence.max: count. */
    YAMLWALK_TOO_MANY,
    /** Nesting deeper than YAMLWALK_DEPTH_MAX (a recursive schema). Ends the walk. */
    YAMLWALK_TOO_DEEP,
    YAMLWALK_KIND__COUNT
} yamlwalk_kind_t;

/** How deep the walk follows a schema before it reports YAMLWALK_TOO_DEEP. */
#define YAMLWALK_DEPTH_MAX 32

/** A problem, valid only during the callback. Unset pointers are NULL. */
typedef struct yamlwalk_problem {
    yamlwalk_kind_t kind;
    int line, col;                      /**< 1-based. */
    const char *path;                   /**< "" for the top-level node. */
    const char *key;                    /**< The key concerned, for key problems. */
    const cyaml_schema_value_t *schema; /**< What the schema wants at path. */
    yamlwalk_node_t got;                /**< YAMLWALK_WRONG_TYPE: what is there. */
    const char *value;                  /**< Scalar text, when got is a scalar. */
    unsigned count;                     /**< YAMLWALK_TOO_FEW/MANY: entries found. */
    const char *problem, *context;      /**< YAMLWALK_SYNTAX: libyaml's words. */
} yamlwalk_problem_t;

/** A scalar where the schema wants one (string, number, bool, enum, ...). */
typedef struct yamlwalk_scalar {
    const cyaml_schema_value_t *schema;
    const char *path;
    const char *value; /**< NUL-terminated, as libyaml read it. */
    int line, col;     /**< 1-based. */
} yamlwalk_scalar_t;

/** Where a key (or list entry) and its value sit; from yamlwalk_find(). */
typedef struct yamlwalk_pos {
    const char *path;      /**< "kafka.topics[0]", "streams[1].replicas". */
    int key_line, key_col; /**< Of the key; of the entry for a list item. 1-based. */
    int val_line, val_col; /**< Of the value. 1-based. */
    const char *scalar;    /**< The value's text when it is a scalar, else NULL. */
} yamlwalk_pos_t;

/** Index of positions by path (opaque). */
typedef struct yamlwalk_index yamlwalk_index_t;

/** Walk only the first document and read nothing after its top-level node
 *  (what libcyaml loads); without it, further documents are reported as
 *  YAMLWALK_EXTRA_DOCUMENT and their content is skipped. */
#define YAMLWALK_FIRST_DOCUMENT 0x1u

/** The caller's side of a walk. */
typedef struct yamlwalk_ops {
    /**
     * \brief Called for each problem, in document order.
     * \param[in] opaque  yamlwalk_ops_t.opaque.
     * \param[in] p       The problem; valid only during the call.
     * \return 0 to go on, nonzero to end the walk at once (nothing more is read).
     */
    int (*problem)(void *opaque, const yamlwalk_problem_t *p);
    /**
     * \brief Called for each scalar that stands where the schema wants a
     *        scalar, for the caller to judge its text. May be NULL.
     * \param[in] opaque  yamlwalk_ops_t.opaque.
     * \param[in] s       The scalar; valid only during the call.
     * \return 0 to go on, nonzero to end the walk at once.
     */
    int (*scalar)(void *opaque, const yamlwalk_scalar_t *s);
    void *opaque;   /**< Passed to both callbacks. */
    unsigned flags; /**< YAMLWALK_FIRST_DOCUMENT, or 0. */
} yamlwalk_ops_t;

/**
 * \brief Walk \p text against \p schema.
 * \param[in]     ops     Callbacks (problem is required) and flags.
 * \param[in]     schema  The top-level schema value, as given to libcyaml.
 * \param[in]     text    The document's bytes; need not be NUL-terminated.
 * \param[in]     len     Its length.
 * \param[in,out] index   Filled with the position of every key and list
 *                        entry met, unknown and duplicate keys included (a
 *                        lookup finds the first); NULL to keep none.
 * \return YAMLWALK_OK when the walk ran, whatever it found (the callbacks saw
 *         every problem); YAMLWALK_ENOMEM when memory ran out, in which case
 *         the walk may have been cut short or the index be incomplete.
 *
 * Problems come in document order: a mapping's key problems at each key,
 * its missing keys after its last key. After a problem in a node the walk
 * skips that node and goes on, unless the callback says stop, or the kind
 * ends the walk (YAMLWALK_SYNTAX, YAMLWALK_TOO_DEEP).
 */
yamlwalk_err_t yamlwalk_run(const yamlwalk_ops_t *ops, const cyaml_schema_value_t *schema,
                            const unsigned char *text, size_t len, yamlwalk_index_t *index);

/**
 * \brief A new, empty index.
 * \param[out] out  The index; free it with yamlwalk_index_destroy().
 * \return YAMLWALK_OK, or YAMLWALK_ENOMEM (then *out is NULL).
 */
yamlwalk_err_t yamlwalk_index_new(yamlwalk_index_t **out);

/**
 * \brief Free an index and every string it holds.
 * \param[in] index  The index; NULL is a no-op.
 */
void yamlwalk_index_destroy(yamlwalk_index_t *index);

/**
 * \brief Where the node at \p path sits.
 * \param[in] index  The index; NULL finds nothing.
 * \param[in] path   A path as the walk spells it: "a.b[2].c", top-level keys bare.
 * \return The first entry recorded for \p path, or NULL when the document
 *         has no such key (or the walk never reached it). Valid until the
 *         index is destroyed.
 */
const yamlwalk_pos_t *yamlwalk_find(const yamlwalk_index_t *index, const char *path);

/**
 * \brief How many entries the index holds.
 * \param[in] index  The index; NULL holds none.
 * \return The count; entries are numbered in document order.
 */
size_t yamlwalk_index_count(const yamlwalk_index_t *index);

/**
 * \brief Entry \p i, in document order.
 * \param[in] index  The index.
 * \param[in] i      0 .. yamlwalk_index_count() - 1.
 * \return The entry, or NULL when \p i is out of range.
 */
const yamlwalk_pos_t *yamlwalk_index_at(const yamlwalk_index_t *index, size_t i);

/**
 * \brief A node kind in words, for messages.
 * \param[in] got  The kind.
 * \return "a scalar", "a mapping", "a list", "an alias"; "nothing" when
 *         out of range. Static storage.
 */
const char *yamlwalk_node_name(yamlwalk_node_t got);

/**
 * \brief Called by yamlwalk_peek() for a key.
 * \param[in] ctx     The caller's pointer.
 * \param[in] parent  The top-level key it sits under; NULL for a top-level key.
 * \param[in] key     The key.
 * \param[in] value   Its value when that is a scalar; NULL for a mapping,
 *                    a list or an alias.
 * \return 0 to go on, nonzero to stop the peek.
 */
typedef int (*yamlwalk_peek_fn)(void *ctx, const char *parent, const char *key, const char *value);

/**
 * \brief A light look at a YAML file that may not load, without a schema:
 *        the keys of the first document's top-level mapping and of the
 *        mappings directly under it, in document order. For what must be
 *        known before (or although) the real loader fails: which kind of
 *        file this is, its rule file, its log format. What was read before
 *        a syntax error counts; nothing is reported.
 * \param[in] path  The file (it reads it itself: no bytes in memory).
 * \param[in] fn    Called per key.
 * \param[in] ctx   Passed to \p fn.
 * \return 0, or -1 when \p path is not a readable regular file.
 */
int yamlwalk_peek(const char *path, yamlwalk_peek_fn fn, void *ctx);

#endif /* ER_YAMLWALK_H */
