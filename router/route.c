/* SPDX-License-Identifier: Apache-2.0 */
/*
 * route: the routing decision. One Kafka record and a compiled rule set in,
 * one route_result_t out. Pure: no I/O, no allocation, no global state
 * (JSON tokens live in a thread-local array, see envelope.c).
 *
 * Order of work, cheapest first:
 *   1. event type from its declared sources (a header needs no JSON parse);
 *   2. routes tried in order: type matcher, topic glob, header conditions;
 *   3. for the first match: subject template, extra headers, dedup ID.
 * Every other envelope field is resolved lazily, on first use, so the JSON
 * value is parsed only when some needed field is declared to come from it
 * and no earlier header source had it.
 *
 * Not for: publishing, counting, logging or committing offsets (the
 * pipeline does that with the result).
 */
#include "route.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "glob.h"
#include "naming.h"
#include "rules_int.h"
#include "utf8.h"

#define HEADER_GLOB_MAX        4096 /* longer header values never match a glob */
#define ROUTE_HEADER_VALUE_MAX 1024 /* one rendered extra-header value, with its NUL */

/* A resolved envelope field. */
typedef struct fval {
    int state; /* 0 not yet looked up, 1 present, 2 absent */
    const char *s;
    size_t len;
} fval_t;

typedef struct rctx {
    const rules_t *r;
    const route_event_t *ev;
    route_result_t *out;
    envelope_json_t json;
    int json_state; /* 0 not parsed, 1 ok, 2 no value (tombstone), -1 bad */
    fval_t f[RULES_F__COUNT];
    size_t scratch_used;
    const char *type;
    size_t type_len;
    /* derived from the event name for the matched route */
    int derived;
    char domain[NAMING_MAX_LEN + 1];
    size_t domain_len;
    char action[NAMING_MAX_LEN + 1];
    size_t action_len;
    int have_event;
    char event[NAMING_MAX_LEN + 1];
    size_t event_len;
    char num[2][24];
} rctx_t;

/* Status of one step; ROUTE_R_NONE is success. */
typedef route_reason_t st_t;

static st_t fail(rctx_t *c, route_reason_t why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static st_t fail(rctx_t *c, route_reason_t why, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->out->detail, sizeof(c->out->detail), fmt, ap);
    va_end(ap);
    return why;
}

/* A printable, NUL-terminated copy of s for details and logs; "..." marks a cut. */
static const char *printable(const char *s, size_t len, char *buf, size_t size)
{
    size_t max = size - 1, n = len > max ? max : len;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        buf[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    if (len > max && max >= 3)
        memcpy(buf + max - 3, "...", 3);
    buf[n] = '\0';
    return buf;
}

static char *scratch_take(rctx_t *c, size_t n)
{
    char *p;

    if (n > sizeof(c->out->scratch) - c->scratch_used)
        return NULL;
    p = c->out->scratch + c->scratch_used;
    c->scratch_used += n;
    return p;
}

static st_t ensure_json(rctx_t *c)
{
    envelope_status_t st;

    if (c->json_state == 1 || c->json_state == 2)
        return ROUTE_R_NONE;
    if (c->json_state == -1)
        return ROUTE_R_BAD_ENVELOPE;
    st = envelope_json_parse(&c->json, c->ev->value, c->ev->value_len, &c->r->limits);
    if (st == ENVELOPE_OK) {
        c->json_state = 1;
        return ROUTE_R_NONE;
    }
    if (st == ENVELOPE_E_NO_VALUE) {
        c->json_state = 2;
        return ROUTE_R_NONE;
    }
    c->json_state = -1;
    return fail(c, ROUTE_R_BAD_ENVELOPE, "%s (%zu bytes)", envelope_strerror(st), c->ev->value_len);
}

/* Look a JSON path up; decode escapes into scratch. *found = 0 when absent. */
static st_t json_value(rctx_t *c, const envelope_path_t *path, const char *what, const char **s,
                       size_t *len, int *found)
{
    envelope_str_t v;
    st_t st;

    *found = 0;
    if ((st = ensure_json(c)) != ROUTE_R_NONE)
        return st;
    if (c->json_state != 1 || !envelope_json_get(&c->json, path, &v) || !v.len)
        return ROUTE_R_NONE;
    if (v.escaped) {
        size_t room = sizeof(c->out->scratch) - c->scratch_used, n;
        char *dst = c->out->scratch + c->scratch_used;
        if (envelope_unescape(v.s, v.len, dst, room, &n))
            return fail(c, ROUTE_R_BAD_ENVELOPE,
                        "cannot decode the JSON string for %s (bad escape, or over %d bytes)", what,
                        ROUTE_SCRATCH);
        c->scratch_used += n;
        v.s = dst;
        v.len = n;
        if (!n)
            return ROUTE_R_NONE;
    }
    *s = v.s;
    *len = v.len;
    *found = 1;
    return ROUTE_R_NONE;
}

/* Resolve envelope field f from its sources; an empty value counts as absent. */
static st_t field(rctx_t *c, rules_field_t f)
{
    fval_t *fv = &c->f[f];
    const field_srcs_t *fs = &c->r->fields[f];

    if (fv->state)
        return ROUTE_R_NONE;
    fv->state = 2;
    for (size_t i = 0; i < fs->n; i++) {
        const src_t *src = &fs->s[i];
        if (src->kind == RULES_SRC_HEADER) {
            const route_header_t *h = envelope_header(c->ev, src->name, src->name_len);
            if (h && h->value && h->value_len) {
                fv->s = h->value;
                fv->len = h->value_len;
                fv->state = 1;
                return ROUTE_R_NONE;
            }
        } else {
            int found;
            st_t st = json_value(c, &src->path, rules_field_name(f), &fv->s, &fv->len, &found);
            if (st != ROUTE_R_NONE)
                return st;
            if (found) {
                fv->state = 1;
                return ROUTE_R_NONE;
            }
        }
    }
    return ROUTE_R_NONE;
}

/* A value fit for logs and headers: valid UTF-8, no control characters. */
static int text_ok(const char *s, size_t len, int allow_space)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || (!allow_space && ch == ' '))
            return 0;
    }
    return utf8_valid(s, len);
}

static int type_matches(const croute_t *rt, const char *t, size_t n)
{
    switch (rt->tkind) {
    case TM_ANY:
        return 1;
    case TM_EXACT:
        return n == rt->tlen && !memcmp(t, rt->tpat, n);
    case TM_PREFIX:
        return n >= rt->tlen && !memcmp(t, rt->tpat, rt->tlen);
    case TM_SUFFIX:
        return n >= rt->tlen && !memcmp(t + n - rt->tlen, rt->tpat, rt->tlen);
    case TM_GLOB:
        return glob_match(rt->tpat, rt->tlen, t, n);
    }
    return 0;
}

static int route_matches(const croute_t *rt, rctx_t *c, size_t topic_len)
{
    if (!type_matches(rt, c->type, c->type_len))
        return 0;
    if (rt->topic &&
        !glob_match(rt->topic, rt->topic_len, c->ev->topic ? c->ev->topic : "", topic_len))
        return 0;
    for (size_t i = 0; i < rt->nhm; i++) {
        const route_header_t *h = envelope_header(c->ev, rt->hm[i].name, rt->hm[i].name_len);
        if (!h)
            return 0;
        if (rt->hm[i].value &&
            (!h->value || h->value_len > HEADER_GLOB_MAX ||
             !glob_match(rt->hm[i].value, rt->hm[i].value_len, h->value, h->value_len)))
            return 0;
    }
    return 1;
}

/* {domain} and {action} for route rt (see docs/rules.md, "The default convention"). */
static st_t derive(rctx_t *c, const croute_t *rt)
{
    naming_words_t w;
    naming_err_t ne;
    const char *name = c->type + rt->strip_head;
    size_t nlen, at = 0, nw = 0, tail = rt->strip_tail;
    char pb[64];
    st_t st;

    if (c->derived)
        return ROUTE_R_NONE;
    /* A route without a literal suffix of its own drops the first of the
     * file's strip_suffixes that the type ends with. */
    for (size_t i = 0; !tail && i < c->r->nstrip; i++)
        if (c->type_len >= c->r->strip_len[i] &&
            !memcmp(c->type + c->type_len - c->r->strip_len[i], c->r->strip[i], c->r->strip_len[i]))
            tail = c->r->strip_len[i];
    if (rt->strip_head + tail > c->type_len)
        return fail(c, ROUTE_R_MISSING_FIELD, "event type '%s' is all prefix/suffix",
                    printable(c->type, c->type_len, pb, sizeof(pb)));
    nlen = c->type_len - rt->strip_head - tail;
    ne = naming_split(name, nlen, &w);
    if (ne != NAMING_OK)
        return fail(c, ne == NAMING_E_CHAR ? ROUTE_R_UNSAFE_TOKEN : ROUTE_R_MISSING_FIELD,
                    "event name '%s': %s", printable(name, nlen, pb, sizeof(pb)),
                    naming_strerror(ne));
    if ((st = field(c, RULES_F_AGGREGATE_TYPE)) != ROUTE_R_NONE)
        return st;
    if (c->f[RULES_F_AGGREGATE_TYPE].state == 1) {
        const fval_t *a = &c->f[RULES_F_AGGREGATE_TYPE];
        ne = naming_kebab(a->s, a->len, c->domain, sizeof(c->domain), &c->domain_len);
        if (ne != NAMING_OK)
            return fail(c, ROUTE_R_UNSAFE_TOKEN, "aggregate type '%s': %s",
                        printable(a->s, a->len, pb, sizeof(pb)), naming_strerror(ne));
        if (!naming_find_words(name, &w, c->domain, c->domain_len, &at, &nw))
            nw = 0;
    } else {
        int d = naming_find_domain(name, &w, c->r->domains, c->r->domain_lens, c->r->ndomains, &at,
                                   &nw);
        if (d < 0)
            return fail(c, ROUTE_R_NO_DOMAIN,
                        "no word of '%s' is a declared domain and the event has no aggregate "
                        "type",
                        printable(name, nlen, pb, sizeof(pb)));
        memcpy(c->domain, c->r->domains[d], c->r->domain_lens[d] + 1);
        c->domain_len = c->r->domain_lens[d];
    }
    ne = naming_kebab_words(name, &w, 0, w.n, at, nw, c->action, sizeof(c->action), &c->action_len);
    if (ne == NAMING_E_EMPTY)
        return fail(c, ROUTE_R_MISSING_FIELD,
                    "nothing is left of '%s' for {action} once the domain '%s' is removed",
                    printable(name, nlen, pb, sizeof(pb)), c->domain);
    if (ne != NAMING_OK)
        return fail(c, ROUTE_R_MISSING_FIELD, "{action}: %s", naming_strerror(ne));
    c->derived = 1;
    return ROUTE_R_NONE;
}

/* The value of one template variable. *s == NULL with ROUTE_R_MISSING_FIELD when absent. */
/* {event}: the event type in kebab-case, computed once per event. */
static st_t event_var(rctx_t *c, const char **s, size_t *len)
{
    if (!c->have_event) {
        char pb[64];
        naming_err_t ne =
            naming_kebab(c->type, c->type_len, c->event, sizeof(c->event), &c->event_len);
        if (ne != NAMING_OK)
            return fail(c, ROUTE_R_UNSAFE_TOKEN, "{event}: event type '%s': %s",
                        printable(c->type, c->type_len, pb, sizeof(pb)), naming_strerror(ne));
        c->have_event = 1;
    }
    *s = c->event;
    *len = c->event_len;
    return ROUTE_R_NONE;
}

/* {aggregate_type}, {event_id}, ...: the envelope field from its declared sources. */
static st_t envelope_var(rctx_t *c, rules_field_t f, const char **s, size_t *len)
{
    st_t st;

    if ((st = field(c, f)) != ROUTE_R_NONE)
        return st;
    if (c->f[f].state != 1)
        return fail(c, ROUTE_R_MISSING_FIELD, "{%s}: no declared source has a value",
                    rules_field_name(f));
    *s = c->f[f].s;
    *len = c->f[f].len;
    return ROUTE_R_NONE;
}

/* {header:NAME} and {field:json.path}: present and non-empty, or missing. */
static st_t lookup_var(rctx_t *c, const tpart_t *p, const char **s, size_t *len)
{
    if (p->var == V_HEADER) {
        const route_header_t *h = envelope_header(c->ev, p->s, p->len);
        if (!h || !h->value || !h->value_len)
            return fail(c, ROUTE_R_MISSING_FIELD, "{header:%.*s}: no such header", (int)p->len,
                        p->s);
        *s = h->value;
        *len = h->value_len;
        return ROUTE_R_NONE;
    }
    int found;
    st_t st = json_value(c, &p->path, "{field:...}", s, len, &found);
    if (st != ROUTE_R_NONE)
        return st;
    if (!found)
        return fail(c, ROUTE_R_MISSING_FIELD, "{field:%.*s}: not in the value", (int)p->len, p->s);
    return ROUTE_R_NONE;
}

static st_t var_value(rctx_t *c, const croute_t *rt, const tpart_t *p, const char **s, size_t *len)
{
    static const rules_field_t vf[V__COUNT] = {
        [V_AGGREGATE_TYPE] = RULES_F_AGGREGATE_TYPE,
        [V_AGGREGATE_ID] = RULES_F_AGGREGATE_ID,
        [V_EVENT_ID] = RULES_F_EVENT_ID,
        [V_CORRELATION_ID] = RULES_F_CORRELATION_ID,
        [V_CAUSATION_ID] = RULES_F_CAUSATION_ID,
    };
    const route_event_t *ev = c->ev;
    st_t st;

    *s = NULL;
    switch (p->var) {
    case V_LIT:
        *s = p->s;
        *len = p->len;
        return ROUTE_R_NONE;
    case V_DOMAIN:
    case V_ACTION:
        if ((st = derive(c, rt)) != ROUTE_R_NONE)
            return st;
        *s = p->var == V_DOMAIN ? c->domain : c->action;
        *len = p->var == V_DOMAIN ? c->domain_len : c->action_len;
        return ROUTE_R_NONE;
    case V_EVENT:
        return event_var(c, s, len);
    case V_EVENT_TYPE:
        *s = c->type;
        *len = c->type_len;
        return ROUTE_R_NONE;
    case V_TOPIC:
        if (!ev->topic)
            return fail(c, ROUTE_R_MISSING_FIELD, "{topic}: record has no topic");
        *s = ev->topic;
        *len = strlen(ev->topic);
        return ROUTE_R_NONE;
    case V_PARTITION:
        *len = (size_t)snprintf(c->num[0], sizeof(c->num[0]), "%" PRId32, ev->partition);
        *s = c->num[0];
        return ROUTE_R_NONE;
    case V_OFFSET:
        *len = (size_t)snprintf(c->num[1], sizeof(c->num[1]), "%" PRId64, ev->offset);
        *s = c->num[1];
        return ROUTE_R_NONE;
    case V_KEY:
        if (!ev->key || !ev->key_len)
            return fail(c, ROUTE_R_MISSING_FIELD, "{key}: record has a null or empty key");
        *s = ev->key;
        *len = ev->key_len;
        return ROUTE_R_NONE;
    case V_AGGREGATE_TYPE:
    case V_AGGREGATE_ID:
    case V_EVENT_ID:
    case V_CORRELATION_ID:
    case V_CAUSATION_ID:
        return envelope_var(c, vf[p->var], s, len);
    case V_HEADER:
    case V_FIELD:
        return lookup_var(c, p, s, len);
    default:
        break;
    }
    return fail(c, ROUTE_R_MISSING_FIELD, "unknown variable");
}

static const char *var_label(const tpart_t *p, char *buf, size_t size)
{
    const char *name = rules_var_names[p->var];

    if (p->var == V_HEADER || p->var == V_FIELD)
        snprintf(buf, size, "%s:%.*s", p->var == V_HEADER ? "header" : "field", (int)p->len, p->s);
    else
        snprintf(buf, size, "%s", name && *name ? name : "?");
    return buf;
}

static st_t render_subject(rctx_t *c, const croute_t *rt)
{
    char *o = c->out->subject;
    size_t n = 0, max = c->r->max_subject;

    for (size_t i = 0; i < rt->subject.n; i++) {
        const tpart_t *p = &rt->subject.part[i];
        const char *s;
        size_t len;
        st_t st = var_value(c, rt, p, &s, &len);
        if (st != ROUTE_R_NONE) {
            o[0] = '\0';
            return st;
        }
        if (p->var != V_LIT && !naming_token_safe(s, len)) {
            char pb[64], lb[80];
            o[0] = '\0';
            return fail(c, ROUTE_R_UNSAFE_TOKEN,
                        "{%s} = '%s' is not a safe subject token (only [A-Za-z0-9_-])",
                        var_label(p, lb, sizeof(lb)), printable(s, len, pb, sizeof(pb)));
        }
        if (n + len > max) {
            o[0] = '\0';
            return fail(c, ROUTE_R_SUBJECT_TOO_LONG, "subject would exceed %zu bytes", max);
        }
        memcpy(o + n, s, len);
        n += len;
    }
    o[n] = '\0';
    return ROUTE_R_NONE;
}

/* Render one header value into scratch. MISSING_FIELD means: leave the header out. */
static st_t render_header(rctx_t *c, const croute_t *rt, const char *name, const tmpl_t *t,
                          const char **val)
{
    char tmp[ROUTE_HEADER_VALUE_MAX];
    size_t n = 0;
    char *dst;

    for (size_t i = 0; i < t->n; i++) {
        const tpart_t *p = &t->part[i];
        const char *s;
        size_t len;
        char lb[80];
        st_t st = var_value(c, rt, p, &s, &len);
        if (st != ROUTE_R_NONE)
            return st;
        if (p->var != V_LIT && !text_ok(s, len, 1))
            return fail(c, ROUTE_R_UNSAFE_TOKEN,
                        "header %s: {%s} has control characters or invalid UTF-8", name,
                        var_label(p, lb, sizeof(lb)));
        if (n + len >= sizeof(tmp))
            return fail(c, ROUTE_R_UNSAFE_TOKEN, "header %s: value longer than %d bytes", name,
                        ROUTE_HEADER_VALUE_MAX - 1);
        memcpy(tmp + n, s, len);
        n += len;
    }
    if (!(dst = scratch_take(c, n + 1)))
        return fail(c, ROUTE_R_UNSAFE_TOKEN, "header values exceed %d bytes", ROUTE_SCRATCH);
    memcpy(dst, tmp, n);
    dst[n] = '\0';
    *val = dst;
    return ROUTE_R_NONE;
}

static int dedup_ok(const char *s, size_t len)
{
    return len > 0 && len <= ROUTE_DEDUP_MAX && text_ok(s, len, 0);
}

static st_t dedup(rctx_t *c, const croute_t *rt)
{
    char *o = c->out->dedup_id;
    const char *topic = c->ev->topic ? c->ev->topic : "";
    st_t st;
    int n;

    if (rt->dedup == DEDUP_EVENT_ID) {
        if ((st = field(c, RULES_F_EVENT_ID)) != ROUTE_R_NONE)
            return st;
        if (c->f[RULES_F_EVENT_ID].state == 1) {
            const fval_t *f = &c->f[RULES_F_EVENT_ID];
            if (!dedup_ok(f->s, f->len))
                return fail(c, ROUTE_R_BAD_DEDUP_ID,
                            "event ID (%zu bytes) is empty, longer than %d bytes, or has "
                            "whitespace, control characters or invalid UTF-8",
                            f->len, ROUTE_DEDUP_MAX);
            memcpy(o, f->s, f->len);
            o[f->len] = '\0';
            return ROUTE_R_NONE;
        }
        /* No event ID: fall through to the record's position, which is stable. */
    } else if (rt->dedup == DEDUP_CLOUDEVENTS) {
        const fval_t *src = &c->f[RULES_F_CE_SOURCE], *id = &c->f[RULES_F_CE_ID];
        if ((st = field(c, RULES_F_CE_SOURCE)) != ROUTE_R_NONE ||
            (st = field(c, RULES_F_CE_ID)) != ROUTE_R_NONE)
            return st;
        if (src->state != 1 || id->state != 1)
            return fail(c, ROUTE_R_BAD_DEDUP_ID, "dedup: cloudevents needs ce_source and ce_id");
        if (src->len + 1 + id->len > ROUTE_DEDUP_MAX || !dedup_ok(src->s, src->len) ||
            !dedup_ok(id->s, id->len))
            return fail(c, ROUTE_R_BAD_DEDUP_ID,
                        "ce_source/ce_id is longer than %d bytes, or has whitespace, control "
                        "characters or invalid UTF-8",
                        ROUTE_DEDUP_MAX);
        memcpy(o, src->s, src->len);
        o[src->len] = '/';
        memcpy(o + src->len + 1, id->s, id->len);
        o[src->len + 1 + id->len] = '\0';
        return ROUTE_R_NONE;
    }
    n = snprintf(o, ROUTE_DEDUP_MAX + 1, "%s-%" PRId32 "-%" PRId64, topic, c->ev->partition,
                 c->ev->offset);
    if (n < 0 || n > ROUTE_DEDUP_MAX || !text_ok(o, (size_t)n, 0)) {
        o[0] = '\0';
        return fail(c, ROUTE_R_BAD_DEDUP_ID, "topic-partition-offset is not a usable ID");
    }
    return ROUTE_R_NONE;
}

static route_action_t finish(route_result_t *out, route_action_t a, route_reason_t r)
{
    out->action = a;
    out->reason = r;
    if (a == ROUTE_SKIP || a == ROUTE_DLQ) {
        out->subject[0] = '\0';
        out->dedup_id[0] = '\0';
        out->header_count = 0;
    }
    return a;
}

/* A fresh context for one event; resets what the result reports. */
static void rctx_init(rctx_t *c, const rules_t *rules, const route_event_t *ev, route_result_t *out)
{
    /* Not memset: the result is ~5 KB and most of it is only written when used. */
    out->route = NULL;
    out->critical = 0;
    out->ordering = rules->ordering;
    out->order_key = 0;
    out->order_by = NULL;
    out->subject[0] = out->dedup_id[0] = out->detail[0] = out->event_type[0] = '\0';
    out->header_count = 0;
    c->r = rules;
    c->ev = ev;
    c->out = out;
    c->json_state = 0;
    memset(c->f, 0, sizeof(c->f));
    c->scratch_used = 0;
    c->derived = 0;
    c->have_event = 0;
}

/*
 * Step 1: the event type, found, short enough and printable. Returns
 * ROUTE_R_NONE, or the reason with *act set to what becomes of the event
 * (a tombstone without a type is skipped, anything else dead-lettered).
 */
static st_t read_event_type(rctx_t *c, route_action_t *act)
{
    route_result_t *out = c->out;
    char pb[64];
    st_t st;

    *act = ROUTE_DLQ;
    if ((st = field(c, RULES_F_EVENT_TYPE)) != ROUTE_R_NONE)
        return st;
    if (c->f[RULES_F_EVENT_TYPE].state != 1) {
        if (!c->ev->value) {
            snprintf(out->detail, sizeof(out->detail), "tombstone without an event type");
            *act = ROUTE_SKIP;
            return ROUTE_R_NO_EVENT_TYPE;
        }
        snprintf(out->detail, sizeof(out->detail), "no declared source has an event type");
        return ROUTE_R_NO_EVENT_TYPE;
    }
    c->type = c->f[RULES_F_EVENT_TYPE].s;
    c->type_len = c->f[RULES_F_EVENT_TYPE].len;
    printable(c->type, c->type_len, out->event_type, sizeof(out->event_type));
    if (c->type_len > NAMING_MAX_LEN)
        return fail(c, ROUTE_R_UNSAFE_TOKEN, "event type is %zu bytes; the limit is %d",
                    c->type_len, NAMING_MAX_LEN);
    if (!text_ok(c->type, c->type_len, 0))
        return fail(c, ROUTE_R_UNSAFE_TOKEN,
                    "event type '%s' has whitespace, control characters or invalid UTF-8",
                    printable(c->type, c->type_len, pb, sizeof(pb)));
    return ROUTE_R_NONE;
}

/* Step 3b: the route's headers; one whose value is missing is left out. */
static st_t render_headers(rctx_t *c, const croute_t *rt)
{
    route_result_t *out = c->out;

    for (size_t h = 0; h < rt->nhdr; h++) {
        const char *val = NULL;
        st_t st = render_header(c, rt, rt->hdr[h].name, &rt->hdr[h].value, &val);
        if (st == ROUTE_R_MISSING_FIELD) {
            out->detail[0] = '\0'; /* optional: a header without a value is left out */
            continue;
        }
        if (st != ROUTE_R_NONE)
            return st;
        out->headers[out->header_count].name = rt->hdr[h].name;
        out->headers[out->header_count].value = val;
        out->header_count++;
    }
    return ROUTE_R_NONE;
}

/* FNV-1a 64 and a final mix; 0 and 1 are taken ("not ordered", "partition"). */
static uint64_t key_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h < 2 ? h + 2 : h;
}

/*
 * Step 4: which events this one must not overtake (ordering:). key mode
 * uses the Kafka key, else the aggregate ID (the same hash, so a key and an
 * equal aggregate ID share a chain); an event with neither is not ordered.
 * Equal hashes of different keys only wait for each other: never reordered.
 */
static void order_key(rctx_t *c, const croute_t *rt)
{
    route_result_t *out = c->out;
    const fval_t *agg = &c->f[RULES_F_AGGREGATE_ID];

    out->ordering = rt->ordering;
    if (rt->ordering == ROUTE_ORDER_NONE)
        return;
    if (rt->ordering == ROUTE_ORDER_PARTITION) {
        out->order_key = 1;
        out->order_by = "partition";
        return;
    }
    if (c->ev->key && c->ev->key_len) {
        out->order_key = key_hash((const char *)c->ev->key, c->ev->key_len);
        out->order_by = "kafka_key";
        return;
    }
    /* A value that does not parse only means there is no aggregate ID to
     * order by: the event itself was routable without it. */
    if (field(c, RULES_F_AGGREGATE_ID) != ROUTE_R_NONE) {
        out->detail[0] = '\0';
        return;
    }
    if (agg->state == 1) {
        out->order_key = key_hash(agg->s, agg->len);
        out->order_by = "aggregate_id";
    }
}

route_action_t route_decide(const rules_t *rules, const route_event_t *ev, route_result_t *out)
{
    rctx_t c;
    const croute_t *rt = NULL;
    route_action_t act;
    size_t topic_len;
    st_t st;

    rctx_init(&c, rules, ev, out);

    /* 1. The event type. */
    if ((st = read_event_type(&c, &act)) != ROUTE_R_NONE)
        return finish(out, act, st);

    /* 2. The first route that matches. */
    topic_len = ev->topic ? strlen(ev->topic) : 0;
    for (size_t i = 0; i < rules->nroutes; i++)
        if (route_matches(&rules->routes[i], &c, topic_len)) {
            rt = &rules->routes[i];
            break;
        }
    if (!rt) {
        snprintf(out->detail, sizeof(out->detail), "no route matches event type '%s'",
                 out->event_type);
        return finish(out, rules->unmatched, ROUTE_R_UNMATCHED);
    }
    out->route = rt->name;
    out->critical = rt->critical;
    if (rt->action == ROUTE_SKIP)
        return finish(out, ROUTE_SKIP, ROUTE_R_SKIP_RULE);
    if (rt->action == ROUTE_DLQ) {
        snprintf(out->detail, sizeof(out->detail), "route '%s' sends it to the DLQ", rt->name);
        return finish(out, ROUTE_DLQ, ROUTE_R_DLQ_RULE);
    }

    /* 3. Subject, headers, dedup ID. */
    if ((st = render_subject(&c, rt)) != ROUTE_R_NONE ||
        (st = render_headers(&c, rt)) != ROUTE_R_NONE || (st = dedup(&c, rt)) != ROUTE_R_NONE)
        return finish(out, ROUTE_DLQ, st);
    order_key(&c, rt);
    return finish(out, rt->action, ROUTE_R_NONE);
}

/* ---- why (for explain) ---------------------------------------------------------- */

static size_t add_line(char *out, size_t size, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t add_line(char *out, size_t size, size_t at, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (at >= size)
        return at;
    va_start(ap, fmt);
    n = vsnprintf(out + at, size - at, fmt, ap);
    va_end(ap);
    if (n < 0)
        return at;
    at = at + (size_t)n < size ? at + (size_t)n : size - 1;
    if (at + 1 < size) {
        out[at++] = '\n';
        out[at] = '\0';
    }
    return at;
}

size_t route_near_misses(const rules_t *rules, const route_event_t *ev, const char *event_type,
                         char *out, size_t size)
{
    size_t n = 0, at = 0, tlen = strlen(event_type), topic_len;
    const char *topic = ev->topic ? ev->topic : "";
    char shown[HEADER_GLOB_MAX + 1];

    if (size)
        out[0] = '\0';
    topic_len = strlen(topic);
    for (size_t i = 0; i < rules->nroutes; i++) {
        const croute_t *rt = &rules->routes[i];
        if (!type_matches(rt, event_type, tlen))
            continue;
        n++;
        if (rt->topic && !glob_match(rt->topic, rt->topic_len, topic, topic_len)) {
            at = add_line(out, size, at,
                          "route '%s' takes the type, but not the topic '%s' (match.topic: '%.*s')",
                          rt->name, topic, (int)rt->topic_len, rt->topic);
            continue;
        }
        for (size_t h = 0; h < rt->nhm; h++) {
            const route_header_t *hd = envelope_header(ev, rt->hm[h].name, rt->hm[h].name_len);
            if (!hd) {
                at = add_line(out, size, at,
                              "route '%s' takes the type, but the record has no header '%.*s' "
                              "(match.headers)",
                              rt->name, (int)rt->hm[h].name_len, rt->hm[h].name);
                break;
            }
            if (rt->hm[h].value &&
                (!hd->value || hd->value_len > HEADER_GLOB_MAX ||
                 !glob_match(rt->hm[h].value, rt->hm[h].value_len, hd->value, hd->value_len))) {
                printable(hd->value ? hd->value : "", hd->value ? hd->value_len : 0, shown,
                          sizeof(shown));
                at = add_line(out, size, at,
                              "route '%s' takes the type, but header '%.*s' is '%s', not '%.*s' "
                              "(match.headers)",
                              rt->name, (int)rt->hm[h].name_len, rt->hm[h].name, shown,
                              (int)rt->hm[h].value_len, rt->hm[h].value);
                break;
            }
        }
    }
    return n;
}

size_t route_headers_left_out(const rules_t *rules, const route_event_t *ev,
                              const route_result_t *res, char *out, size_t size)
{
    const croute_t *rt = NULL;
    route_result_t tmp; /* ~5 KB of stack: explain only, never the hot path */
    route_action_t act;
    rctx_t c;
    size_t n = 0, at = 0;
    char lb[80];

    if (size)
        out[0] = '\0';
    for (size_t i = 0; res->route && i < rules->nroutes && !rt; i++)
        if (rules->routes[i].name == res->route)
            rt = &rules->routes[i];
    if (!rt || !rt->nhdr || (res->action != ROUTE_JETSTREAM && res->action != ROUTE_NATS_CORE))
        return 0;
    /* Render again, on a result of our own, to see which variable of each
     * left-out header had no value (render_headers() forgets it). */
    rctx_init(&c, rules, ev, &tmp);
    if (read_event_type(&c, &act) != ROUTE_R_NONE)
        return 0;
    for (size_t h = 0; h < rt->nhdr; h++) {
        int added = 0;
        for (size_t k = 0; k < res->header_count && !added; k++)
            added = !strcmp(res->headers[k].name, rt->hdr[h].name);
        if (added)
            continue;
        for (size_t i = 0; i < rt->hdr[h].value.n; i++) {
            const tpart_t *p = &rt->hdr[h].value.part[i];
            const char *v, *why, *cut;
            size_t len;
            if (var_value(&c, rt, p, &v, &len) != ROUTE_R_MISSING_FIELD)
                continue;
            /* The detail starts "{var}: " when it names the variable itself. */
            why = tmp.detail;
            if (why[0] == '{' && (cut = strstr(why, "}: ")))
                why = cut + 3;
            n++;
            at = add_line(out, size, at, "%s: the event has no value for {%s} (%s)",
                          rt->hdr[h].name, var_label(p, lb, sizeof(lb)), why);
            break;
        }
    }
    return n;
}

const char *route_reason_fix(route_reason_t reason)
{
    switch (reason) {
    case ROUTE_R_NO_DOMAIN:
        return "add the event's domain to 'domains:' in the rule file, e.g. 'domains: [officer, "
               "incident, leave]' for ApproveLeaveRequested (the first listed word of the event "
               "name becomes {domain}), or send an aggregate type where envelope.aggregate_type "
               "reads it";
    case ROUTE_R_MISSING_FIELD:
        return "the subject needs a value the event lacks (the detail names it): have the "
               "producer send it where the envelope reads it, add that place to the field's "
               "envelope sources, or take the variable out of the route's subject";
    case ROUTE_R_UNSAFE_TOKEN:
        return "a value from the event is not a safe subject token (only [A-Za-z0-9_-]; no '.', "
               "'*', '>', spaces): fix the producer, or build the subject from another variable "
               "({event} is the kebab-cased type)";
    case ROUTE_R_SUBJECT_TOO_LONG:
        return "shorten the subject template or the values it takes, or raise "
               "limits.max_subject (at most 255)";
    case ROUTE_R_BAD_ENVELOPE:
        return "the value must be one complete JSON object within limits.max_json_bytes and "
               "limits.max_json_tokens: fix the producer, raise the limit, or read the fields "
               "from headers instead";
    case ROUTE_R_NO_EVENT_TYPE:
        return "send the event type where envelope.event_type reads it (a header such as "
               "eventType, or a JSON field), or add the producer's header or field to "
               "envelope.event_type";
    case ROUTE_R_BAD_DEDUP_ID:
        return "the event ID must be 1-255 bytes without whitespace or control characters: fix "
               "the producer, or set dedup: offset on the route";
    case ROUTE_R_DLQ_RULE:
        return "the route says action: dlq; change its action (or its match:) if these events "
               "should be published";
    case ROUTE_R_UNMATCHED:
        return "add a route whose match: takes this event, or change 'unmatched:' (skip or dlq)";
    case ROUTE_R_NONE:
    case ROUTE_R_SKIP_RULE:
    case ROUTE_R__COUNT:
        break;
    }
    return NULL;
}
