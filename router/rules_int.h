/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules_int.h: the compiled rule set's layout, shared by the compiler
 * (rules.c) and the evaluator (route.c) only. Everything here is built once
 * at load time and never written again, which is what makes a rules_t safe
 * to share between threads.
 *
 * Not a public contract: nothing outside rules.c/route.c may include it.
 */
#ifndef ER_RULES_INT_H
#define ER_RULES_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "decision.h"
#include "envelope.h"
#include "rules.h"

#define RULES_SRC_MAX    8  /**< Sources per envelope field. */
#define RULES_TMPL_MAX   32 /**< Parts in one template. */
#define RULES_HMATCH_MAX 8  /**< Header conditions per route. */
#define RULES_STRIP_MAX  8  /**< Entries in strip_suffixes. */

/** Template variables. V_LIT is literal text. */
typedef enum tvar {
    V_LIT,
    V_DOMAIN,
    V_ACTION,
    V_EVENT,
    V_EVENT_TYPE,
    V_TOPIC,
    V_PARTITION,
    V_OFFSET,
    V_KEY,
    V_AGGREGATE_TYPE,
    V_AGGREGATE_ID,
    V_EVENT_ID,
    V_CORRELATION_ID,
    V_CAUSATION_ID,
    V_HEADER,
    V_FIELD,
    V__COUNT
} tvar_t;

/** How each variable is spelt between braces in a template ("" for V_LIT;
 *  V_HEADER and V_FIELD as their patterns "header:NAME", "field:json.path").
 *  Defined in rules.c; route.c names variables in its errors with it. */
extern const char *const rules_var_names[V__COUNT];

typedef struct tpart {
    tvar_t var;
    const char *s; /**< Literal text, header name, or JSON path text. */
    size_t len;
    envelope_path_t path; /**< V_FIELD only. */
} tpart_t;

typedef struct tmpl {
    tpart_t part[RULES_TMPL_MAX];
    size_t n;
    uint32_t uses;     /**< Bit (1u << tvar) for every variable used. */
    size_t prefix_len; /**< Literal text before the first variable. */
} tmpl_t;

typedef struct src {
    rules_source_kind_t kind;
    const char *name; /**< Header name or JSON path text. */
    size_t name_len;
    envelope_path_t path;
} src_t;

typedef struct field_srcs {
    src_t s[RULES_SRC_MAX];
    size_t n;
    int needs_json; /**< Some source is a JSON path. */
} field_srcs_t;

typedef enum tmatch { TM_ANY, TM_EXACT, TM_PREFIX, TM_SUFFIX, TM_GLOB } tmatch_t;

typedef struct hmatch {
    const char *name;
    size_t name_len;
    const char *value; /**< Glob; NULL: the header only has to be present. */
    size_t value_len;
} hmatch_t;

typedef enum dedup_src { DEDUP_EVENT_ID, DEDUP_CLOUDEVENTS, DEDUP_OFFSET } dedup_src_t;

typedef struct croute {
    const char *name;
    int line, col;                 /**< Where the route's list item is written. */
    const char *subject_text;      /**< The subject template as written; NULL if none. */
    int subject_line, subject_col; /**< Where it is written; 0 when absent. */
    /* match */
    tmatch_t tkind;
    const char *tpat;
    size_t tlen;
    size_t strip_head; /**< Bytes of the type to drop before finding domain/action. */
    size_t strip_tail;
    const char *topic; /**< Glob, or NULL. */
    size_t topic_len;
    hmatch_t hm[RULES_HMATCH_MAX];
    size_t nhm;
    /* action */
    route_action_t action;
    int critical;
    route_ordering_t ordering; /**< The route's own, or the file's. */
    dedup_src_t dedup;
    tmpl_t subject;
    char *subject_prefix; /**< Owned; NULL for routes that do not publish. */
    struct {
        const char *name;
        tmpl_t value;
    } hdr[ROUTE_MAX_HEADERS];
    size_t nhdr;
    uint32_t uses; /**< Union of the templates' variables. */
} croute_t;

struct rules {
    atomic_int refs;
    char *path;
    char hash[17];             /**< FNV-1a 64 of the file bytes, hex. */
    route_action_t unmatched;  /**< ROUTE_SKIP or ROUTE_DLQ. */
    route_ordering_t ordering; /**< File-wide `ordering:` (default key). */
    field_srcs_t fields[RULES_F__COUNT];
    const char **domains; /**< Kebab-case, lower-case. */
    size_t *domain_lens;
    size_t ndomains;
    const char *strip[RULES_STRIP_MAX]; /**< strip_suffixes: for routes without one of their own. */
    size_t strip_len[RULES_STRIP_MAX];
    size_t nstrip;
    envelope_limits_t limits;
    size_t max_subject;
    croute_t *routes;
    size_t nroutes;
    rules_test_t *tests;
    size_t ntests;
    void *raw; /**< The libcyaml document; compiled strings point into it. */
};

#endif /* ER_RULES_INT_H */
