/* SPDX-License-Identifier: Apache-2.0 */
/*
 * yamlwalk: a libyaml event walk guided by libcyaml schema tables, for
 * positions libcyaml does not give. See yamlwalk.h for the contract.
 *
 * The walk recurses along the schema, not along the document: a node the
 * schema has no place for (an unknown key's value, a node of the wrong
 * kind, a later document) is skipped with a flat depth counter, so hostile
 * nesting costs no stack. Only a recursive schema could recurse without
 * bound; YAMLWALK_DEPTH_MAX stops that.
 *
 * Not for: wording messages or judging scalar text; the caller does both.
 */
#include "yamlwalk.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#define PATH_MAX_LEN 256 /* longer paths are cut; no schema comes near */

struct yamlwalk_index {
    yamlwalk_pos_t *v;
    size_t n, cap;
    int oom;
};

typedef struct walk {
    const yamlwalk_ops_t *ops;
    yamlwalk_index_t *idx;
    yaml_parser_t parser;
    int oom;
} walk_t;

/* ---- index --------------------------------------------------------------- */

yamlwalk_err_t yamlwalk_index_new(yamlwalk_index_t **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? YAMLWALK_OK : YAMLWALK_ENOMEM;
}

void yamlwalk_index_destroy(yamlwalk_index_t *index)
{
    if (!index)
        return;
    for (size_t i = 0; i < index->n; i++) {
        free((char *)(uintptr_t)index->v[i].path);
        free((char *)(uintptr_t)index->v[i].scalar);
    }
    free(index->v);
    free(index);
}

const yamlwalk_pos_t *yamlwalk_find(const yamlwalk_index_t *index, const char *path)
{
    if (!index)
        return NULL;
    for (size_t i = 0; i < index->n; i++)
        if (!strcmp(index->v[i].path, path))
            return &index->v[i];
    return NULL;
}

size_t yamlwalk_index_count(const yamlwalk_index_t *index)
{
    return index ? index->n : 0;
}

const yamlwalk_pos_t *yamlwalk_index_at(const yamlwalk_index_t *index, size_t i)
{
    return index && i < index->n ? &index->v[i] : NULL;
}

static void record(walk_t *w, const char *path, yaml_mark_t key, const yaml_event_t *val)
{
    yamlwalk_index_t *idx = w->idx;
    yamlwalk_pos_t *e;

    if (!idx || idx->oom)
        return;
    if (idx->n == idx->cap) {
        size_t ncap = idx->cap ? idx->cap * 2 : 64;
        yamlwalk_pos_t *nv = realloc(idx->v, ncap * sizeof(*nv));
        if (!nv) {
            idx->oom = 1;
            return;
        }
        idx->v = nv;
        idx->cap = ncap;
    }
    e = &idx->v[idx->n];
    *e = (yamlwalk_pos_t){
        .path = strdup(path),
        .key_line = (int)key.line + 1,
        .key_col = (int)key.column + 1,
        .val_line = (int)val->start_mark.line + 1,
        .val_col = (int)val->start_mark.column + 1,
    };
    if (val->type == YAML_SCALAR_EVENT)
        e->scalar = strdup((const char *)val->data.scalar.value);
    if (!e->path || (val->type == YAML_SCALAR_EVENT && !e->scalar)) {
        free((char *)(uintptr_t)e->path);
        free((char *)(uintptr_t)e->scalar);
        idx->oom = 1;
        return;
    }
    idx->n++;
}

/* ---- problems ------------------------------------------------------------- */

const char *yamlwalk_node_name(yamlwalk_node_t got)
{
    static const char *const names[YAMLWALK_NODE__COUNT] = {
        [YAMLWALK_NODE_SCALAR] = "a scalar",
        [YAMLWALK_NODE_MAPPING] = "a mapping",
        [YAMLWALK_NODE_SEQUENCE] = "a list",
        [YAMLWALK_NODE_ALIAS] = "an alias",
    };
    return (unsigned)got < YAMLWALK_NODE__COUNT ? names[got] : "nothing";
}

static yamlwalk_node_t node_of(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_MAPPING_START_EVENT:
        return YAMLWALK_NODE_MAPPING;
    case YAML_SEQUENCE_START_EVENT:
        return YAMLWALK_NODE_SEQUENCE;
    case YAML_ALIAS_EVENT:
        return YAMLWALK_NODE_ALIAS;
    case YAML_SCALAR_EVENT:
        return YAMLWALK_NODE_SCALAR;
    default:
        return YAMLWALK_NODE__COUNT;
    }
}

/* Hand a problem to the caller at mark m. Returns -1 when the walk must end. */
static int report_full(walk_t *w, yamlwalk_problem_t *p, yaml_mark_t m)
{
    p->line = (int)m.line + 1;
    p->col = (int)m.column + 1;
    if (!p->path)
        p->path = "";
    if (w->ops->problem(w->ops->opaque, p))
        return -1;
    return p->kind == YAMLWALK_SYNTAX || p->kind == YAMLWALK_TOO_DEEP ? -1 : 0;
}

/* The common case: a kind, a path, a key and the schema there. */
static int report(walk_t *w, yamlwalk_kind_t kind, yaml_mark_t m, const char *path, const char *key,
                  const cyaml_schema_value_t *s)
{
    yamlwalk_problem_t p = {.kind = kind, .path = path, .key = key, .schema = s};
    return report_full(w, &p, m);
}

static int next(walk_t *w, yaml_event_t *ev)
{
    if (yaml_parser_parse(&w->parser, ev))
        return 0;
    yamlwalk_problem_t p = {
        .kind = YAMLWALK_SYNTAX, .problem = w->parser.problem, .context = w->parser.context};

    report_full(w, &p, w->parser.problem_mark);
    return -1;
}

/* Read past the rest of the node whose first event, first, is already read. */
static int skip(walk_t *w, const yaml_event_t *first)
{
    yaml_event_t ev;
    int depth;

    if (first->type != YAML_MAPPING_START_EVENT && first->type != YAML_SEQUENCE_START_EVENT)
        return 0;
    for (depth = 1; depth;) {
        if (next(w, &ev))
            return -1;
        if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT)
            depth++;
        else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT)
            depth--;
        else if (ev.type == YAML_STREAM_END_EVENT)
            depth = 0;
        yaml_event_delete(&ev);
    }
    return 0;
}

/* ---- the walk --------------------------------------------------------------- */

static int walk_node(walk_t *w, const cyaml_schema_value_t *s, const char *path, yaml_event_t *ev,
                     int depth);

/* A mapping key that is not a scalar, *k: report it, skip it and its value. */
static int skip_bad_key(walk_t *w, const cyaml_schema_value_t *s, const char *path, yaml_event_t *k)
{
    yaml_event_t v;
    int stop = report(w, YAMLWALK_KEY_NOT_SCALAR, k->start_mark, path, NULL, s);

    if (stop || skip(w, k) || next(w, &v)) {
        yaml_event_delete(k);
        return -1;
    }
    yaml_event_delete(k);
    stop = skip(w, &v);
    yaml_event_delete(&v);
    return stop ? -1 : 0;
}

/* The schema field named \p key, or nf when the schema has none; reports
 * an unknown or a repeated key. Returns -1 when the walk must end. */
static int find_field(walk_t *w, const cyaml_schema_value_t *s, const char *path,
                      const yaml_event_t *k, unsigned char *seen, size_t nf, size_t *fi)
{
    const cyaml_schema_field_t *fields = s->mapping.fields;
    const char *key = (const char *)k->data.scalar.value;

    for (*fi = 0; *fi < nf; (*fi)++)
        if (!strcmp(fields[*fi].key, key))
            break;
    if (*fi == nf)
        return report(w, YAMLWALK_UNKNOWN_KEY, k->start_mark, path, key, s) ? -1 : 0;
    if (seen && seen[*fi])
        return report(w, YAMLWALK_DUPLICATE_KEY, k->start_mark, path, key, s) ? -1 : 0;
    if (seen)
        seen[*fi] = 1;
    return 0;
}

/*
 * One key and its value of the mapping at \p path. Returns 1 at the end of
 * the mapping, 0 to go on, -1 when the walk must end.
 */
static int walk_entry(walk_t *w, const cyaml_schema_value_t *s, const char *path,
                      unsigned char *seen, size_t nf, int depth)
{
    yaml_event_t k, v;
    char sub[PATH_MAX_LEN];
    size_t fi;

    if (next(w, &k))
        return -1;
    if (k.type == YAML_MAPPING_END_EVENT) {
        yaml_event_delete(&k);
        return 1;
    }
    if (k.type != YAML_SCALAR_EVENT)
        return skip_bad_key(w, s, path, &k);
    if (find_field(w, s, path, &k, seen, nf, &fi)) {
        yaml_event_delete(&k);
        return -1;
    }
    snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", (const char *)k.data.scalar.value);
    if (next(w, &v)) {
        yaml_event_delete(&k);
        return -1;
    }
    record(w, sub, k.start_mark, &v);
    yaml_event_delete(&k);
    if (fi == nf) {
        int stop = skip(w, &v);
        yaml_event_delete(&v);
        return stop ? -1 : 0;
    }
    return walk_node(w, &s->mapping.fields[fi].value, sub, &v, depth + 1) ? -1 : 0;
}

static int walk_mapping(walk_t *w, const cyaml_schema_value_t *s, const char *path,
                        const yaml_event_t *start, int depth)
{
    const cyaml_schema_field_t *fields = s->mapping.fields;
    unsigned char seen_small[64] = {0}, *seen = seen_small;
    size_t nf = 0;
    int rc;

    while (fields[nf].key)
        nf++;
    if (nf > sizeof(seen_small) && !(seen = calloc(nf, 1))) {
        /* No room to tell duplicates apart: still walk, and say so. */
        w->oom = 1;
        seen = NULL;
    }
    while ((rc = walk_entry(w, s, path, seen, nf, depth)) == 0)
        ;
    if (rc > 0) {
        rc = 0;
        for (size_t fi = 0; seen && fi < nf && !rc; fi++)
            if (!seen[fi] && !(fields[fi].value.flags & CYAML_FLAG_OPTIONAL) &&
                report(w, YAMLWALK_MISSING_KEY, start->start_mark, path, fields[fi].key, s))
                rc = -1;
    }
    if (seen != seen_small)
        free(seen);
    return rc;
}

static int walk_sequence(walk_t *w, const cyaml_schema_value_t *s, const char *path,
                         const yaml_event_t *start, int depth)
{
    yamlwalk_problem_t p = {.path = path, .schema = s};
    unsigned n = 0;

    for (;;) {
        yaml_event_t item;
        char sub[PATH_MAX_LEN];

        if (next(w, &item))
            return -1;
        if (item.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&item);
            break;
        }
        snprintf(sub, sizeof(sub), "%s[%u]", path, n++);
        record(w, sub, item.start_mark, &item);
        if (walk_node(w, s->sequence.entry, sub, &item, depth + 1))
            return -1;
    }
    if (n >= s->sequence.min && n <= s->sequence.max)
        return 0;
    p.kind = n < s->sequence.min ? YAMLWALK_TOO_FEW : YAMLWALK_TOO_MANY;
    p.count = n;
    return report_full(w, &p, start->start_mark);
}

/* Walk the node whose first event is *ev; consumes *ev. Returns -1 to end the walk. */
static int walk_node(walk_t *w, const cyaml_schema_value_t *s, const char *path, yaml_event_t *ev,
                     int depth)
{
    int want_map = s->type == CYAML_MAPPING;
    int want_seq = s->type == CYAML_SEQUENCE || s->type == CYAML_SEQUENCE_FIXED;
    yaml_event_type_t want = want_map   ? YAML_MAPPING_START_EVENT
                             : want_seq ? YAML_SEQUENCE_START_EVENT
                                        : YAML_SCALAR_EVENT;
    int rc;

    if (depth > YAMLWALK_DEPTH_MAX) {
        rc = report(w, YAMLWALK_TOO_DEEP, ev->start_mark, path, NULL, s);
    } else if (ev->type == YAML_ALIAS_EVENT) {
        rc = report(w, YAMLWALK_ALIAS, ev->start_mark, path, NULL, s);
    } else if (ev->type != want) {
        yamlwalk_problem_t p = {.kind = YAMLWALK_WRONG_TYPE, .path = path, .schema = s};
        p.got = node_of(ev);
        if (ev->type == YAML_SCALAR_EVENT)
            p.value = (const char *)ev->data.scalar.value;
        rc = report_full(w, &p, ev->start_mark);
        if (!rc)
            rc = skip(w, ev);
    } else if (want_map) {
        rc = walk_mapping(w, s, path, ev, depth);
    } else if (want_seq) {
        rc = walk_sequence(w, s, path, ev, depth);
    } else {
        yamlwalk_scalar_t sc = {
            .schema = s,
            .path = path,
            .value = (const char *)ev->data.scalar.value,
            .line = (int)ev->start_mark.line + 1,
            .col = (int)ev->start_mark.column + 1,
        };
        rc = w->ops->scalar && w->ops->scalar(w->ops->opaque, &sc) ? -1 : 0;
    }
    yaml_event_delete(ev);
    return rc;
}

yamlwalk_err_t yamlwalk_run(const yamlwalk_ops_t *ops, const cyaml_schema_value_t *schema,
                            const unsigned char *text, size_t len, yamlwalk_index_t *index)
{
    walk_t w = {.ops = ops, .idx = index};
    int first_only = (ops->flags & YAMLWALK_FIRST_DOCUMENT) != 0;
    int docs = 0;
    yaml_event_t ev;

    if (!yaml_parser_initialize(&w.parser))
        return YAMLWALK_ENOMEM;
    yaml_parser_set_input_string(&w.parser, text, len);
    for (;;) {
        if (next(&w, &ev))
            break;
        if (ev.type == YAML_STREAM_END_EVENT) {
            if (!docs)
                report(&w, YAMLWALK_NO_DOCUMENT, ev.start_mark, NULL, NULL, schema);
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_START_EVENT ||
            ev.type == YAML_DOCUMENT_END_EVENT) {
            int stop = ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1 &&
                       report(&w, YAMLWALK_EXTRA_DOCUMENT, ev.start_mark, NULL, NULL, schema);
            yaml_event_delete(&ev);
            if (stop)
                break;
            continue;
        }
        if (docs > 1) {
            int stop = skip(&w, &ev);
            yaml_event_delete(&ev);
            if (stop)
                break;
            continue;
        }
        if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length == 0) {
            int stop = report(&w, YAMLWALK_EMPTY_DOCUMENT, ev.start_mark, NULL, NULL, schema);
            yaml_event_delete(&ev);
            if (stop || first_only)
                break;
            continue;
        }
        if (walk_node(&w, schema, "", &ev, 0) || first_only)
            break;
    }
    yaml_parser_delete(&w.parser);
    return w.oom || (index && index->oom) ? YAMLWALK_ENOMEM : YAMLWALK_OK;
}

/* ---- peek ------------------------------------------------------------------------ */

#define PEEK_DEPTH 32
#define PEEK_KEY   128 /* longer keys are kept cut: no key the callers look for is */

typedef struct peek_level {
    int is_map, want_key;
    char key[PEEK_KEY]; /* the key whose value comes next (a mapping) */
} peek_level_t;

int yamlwalk_peek(const char *path, yamlwalk_peek_fn fn, void *ctx)
{
    peek_level_t st[PEEK_DEPTH];
    struct stat sb;
    yaml_parser_t p;
    yaml_event_t ev;
    int depth = 0, done = 0;
    FILE *f;

    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || !(f = fopen(path, "rb")))
        return -1;
    if (!yaml_parser_initialize(&p)) {
        fclose(f);
        return -1;
    }
    memset(&st[0], 0, sizeof(st[0]));
    yaml_parser_set_input_file(&p, f);
    while (!done && yaml_parser_parse(&p, &ev)) {
        peek_level_t *l = &st[depth];
        /* A value of a key at the levels looked at: depth 1 (top) and 2
         * (a mapping under a top-level key). */
        int is_value = depth >= 1 && depth <= 2 && l->is_map && !l->want_key &&
                       (depth == 1 || (st[1].is_map && !st[1].want_key));
        const char *parent = depth == 2 ? st[1].key : NULL;
        switch (ev.type) {
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
            if (l->is_map && l->want_key && ev.type == YAML_SCALAR_EVENT)
                snprintf(l->key, sizeof(l->key), "%s", (const char *)ev.data.scalar.value);
            else if (is_value)
                done = fn(ctx, parent, l->key,
                          ev.type == YAML_SCALAR_EVENT ? (const char *)ev.data.scalar.value : NULL);
            if (l->is_map)
                l->want_key = !l->want_key;
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (is_value)
                done = fn(ctx, parent, l->key, NULL);
            if (depth + 1 >= PEEK_DEPTH) {
                done = 1;
                break;
            }
            depth++;
            st[depth].is_map = ev.type == YAML_MAPPING_START_EVENT;
            st[depth].want_key = 1;
            st[depth].key[0] = '\0';
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            depth--;
            if (depth > 0 && st[depth].is_map)
                st[depth].want_key = !st[depth].want_key;
            break;
        case YAML_DOCUMENT_END_EVENT:
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    fclose(f);
    return 0;
}
