/* SPDX-License-Identifier: Apache-2.0 */
/*
 * streams: make the JetStream streams the routes need exist as declared.
 * Creating a missing stream is safe; changing an existing one is not (it may
 * hold data other teams rely on), so differences are only reported.
 * Not for: publishing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "monotime.h"
#include "streams.h"

int streams_filter_covers_prefix(const char *filter, const char *prefix)
{
    const char *f = filter, *p = prefix;
    for (;;) {
        size_t fl = strcspn(f, "."), pl = strcspn(p, ".");
        if (p[pl] != '.') /* last, possibly partial, prefix token: anything may follow */
            return (fl == 1 && (*f == '*' || *f == '>')) || !strncmp(f, p, pl);
        if (fl == 1 && *f == '>')
            return 1;
        if (!(fl == 1 && *f == '*') && (fl != pl || strncmp(f, p, pl)))
            return 0;
        if (f[fl] != '.')
            return 0; /* filter ended, prefix goes on */
        f += fl + 1;
        p += pl + 1;
    }
}

static void describe_diff(const config_stream_t *want, const jsStreamConfig *have, char *buf,
                          size_t size)
{
    size_t w = 0;
    int64_t dup_ns = (int64_t)want->duplicate_window_s * 1000000000;
    jsStorageType st = strcmp(want->storage, "memory") ? js_FileStorage : js_MemoryStorage;

#define DIFF(...)                                                                                  \
    do {                                                                                           \
        if (w < size)                                                                              \
            w += (size_t)snprintf(buf + w, size - w, __VA_ARGS__);                                 \
    } while (0)
    if (have->Replicas != (int64_t)want->replicas)
        DIFF(" replicas is %" PRId64 ", config says %u;", have->Replicas, want->replicas);
    if (have->Storage != st)
        DIFF(" storage differs (config says %s);", want->storage);
    if (have->Duplicates != dup_ns)
        DIFF(" duplicate window is %" PRId64 " s, config says %u s;", have->Duplicates / 1000000000,
             want->duplicate_window_s);
    if (have->MaxAge != want->max_age_s * 1000000000)
        DIFF(" max_age is %" PRId64 " s, config says %" PRId64 " s;", have->MaxAge / 1000000000,
             want->max_age_s);
    if (have->MaxBytes != want->max_bytes)
        DIFF(" max_bytes is %" PRId64 ", config says %" PRId64 ";", have->MaxBytes,
             want->max_bytes);
    if (have->MaxMsgs != want->max_msgs)
        DIFF(" max_msgs is %" PRId64 ", config says %" PRId64 ";", have->MaxMsgs, want->max_msgs);
    for (unsigned i = 0; i < want->subjects_count; i++) {
        int found = 0;
        for (int j = 0; j < have->SubjectsLen; j++)
            found |= !strcmp(have->Subjects[j], want->subjects[i]);
        if (!found)
            DIFF(" subject '%s' is missing;", want->subjects[i]);
    }
#undef DIFF
}

const char *streams_state_name(streams_state_t st)
{
    static const char *const names[] = {"ok", "differs", "missing", "created"};
    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

const char *streams_report_text(char *buf, size_t size, const config_stream_t *d,
                                streams_state_t st, const char *differences)
{
    switch (st) {
    case STREAMS_DIFFERS:
        snprintf(buf, size,
                 "stream %s: differs from the config: %s not changed (edit the stream with "
                 "natscli, or the config)",
                 d->name, differences);
        break;
    case STREAMS_MISSING:
    case STREAMS_CREATED:
        snprintf(buf, size, "stream %s: %s (%u replicas, %s, %u s dedup)", d->name,
                 st == STREAMS_MISSING ? "missing; would create it" : "created", d->replicas,
                 d->storage, d->duplicate_window_s);
        break;
    default:
        snprintf(buf, size, "stream %s: ok", d->name);
    }
    return buf;
}

int streams_ensure(jsCtx *js, const config_t *cfg, int dry_run, streams_report_fn report, void *ctx,
                   char *errstr, size_t errstr_size)
{
    int rc = 0;
    for (unsigned i = 0; i < cfg->streams_count; i++) {
        const config_stream_t *d = &cfg->streams[i];
        jsStreamInfo *si = NULL;
        jsErrCode jerr = 0;
        natsStatus s = js_GetStreamInfo(&si, js, d->name, NULL, &jerr);

        if (s == NATS_OK) {
            char diff[512] = "";
            describe_diff(d, si->Config, diff, sizeof(diff));
            report(ctx, d, diff[0] ? STREAMS_DIFFERS : STREAMS_OK, diff[0] ? diff + 1 : "");
            if (diff[0])
                rc = 1;
            jsStreamInfo_Destroy(si);
            continue;
        }
        if (jerr != JSStreamNotFoundErr) {
            snprintf(errstr, errstr_size, "stream %s: cannot ask JetStream: %s", d->name,
                     nats_GetLastError(NULL));
            return -1;
        }
        if (dry_run) {
            report(ctx, d, STREAMS_MISSING, "");
            continue;
        }
        jsStreamConfig sc;
        jsStreamConfig_Init(&sc);
        sc.Name = d->name;
        sc.Subjects = (const char **)malloc(d->subjects_count * sizeof(char *));
        if (!sc.Subjects) {
            snprintf(errstr, errstr_size, "out of memory");
            return -1;
        }
        for (unsigned k = 0; k < d->subjects_count; k++)
            sc.Subjects[k] = d->subjects[k];
        sc.SubjectsLen = (int)d->subjects_count;
        sc.Storage = strcmp(d->storage, "memory") ? js_FileStorage : js_MemoryStorage;
        sc.Replicas = d->replicas;
        sc.Duplicates = (int64_t)d->duplicate_window_s * 1000000000;
        sc.MaxAge = d->max_age_s * 1000000000;
        sc.MaxBytes = d->max_bytes;
        sc.MaxMsgs = d->max_msgs;
        s = js_AddStream(&si, js, &sc, NULL, &jerr);
        free((void *)sc.Subjects);
        if (s != NATS_OK) {
            snprintf(errstr, errstr_size, "stream %s: create failed: %s (JetStream code %d)",
                     d->name, nats_GetLastError(NULL), (int)jerr);
            return -1;
        }
        jsStreamInfo_Destroy(si);
        report(ctx, d, STREAMS_CREATED, "");
    }
    return rc;
}

int streams_check_routes(jsCtx *js, const config_t *cfg, streams_route_at_fn route_at,
                         const void *ctx)
{
    const char *name, *prefix;
    jsStreamInfoList *list = NULL;
    int uncovered = 0;

    if (!cfg->streams_count) {
        jsErrCode jerr = 0;
        natsStatus st = js_Streams(&list, js, NULL, &jerr);
        if (st == NATS_NOT_FOUND) /* no stream at all */
            list = NULL;
        else if (st != NATS_OK)
            return -1;
    }
    for (size_t i = 0; route_at(ctx, i, &name, &prefix); i++) {
        int covered = 0;
        if (!prefix)
            continue;
        for (unsigned s = 0; s < cfg->streams_count && !covered; s++)
            for (unsigned k = 0; k < cfg->streams[s].subjects_count && !covered; k++)
                covered = streams_filter_covers_prefix(cfg->streams[s].subjects[k], prefix);
        for (int s = 0; list && s < list->Count && !covered; s++)
            for (int k = 0; k < list->List[s]->Config->SubjectsLen && !covered; k++)
                covered = streams_filter_covers_prefix(list->List[s]->Config->Subjects[k], prefix);
        if (!covered) {
            uncovered++;
            LOG_WARN("STR-0001",
                     "route publishes where no stream listens: its JetStream publishes will "
                     "fail with no responders and end in the DLQ; declare a stream for it",
                     LKV_S("route", name), LKV_S("subject_prefix", prefix));
        }
    }
    jsStreamInfoList_Destroy(list);
    return uncovered;
}

int streams_for_routes(jsCtx *js, streams_route_at_fn route_at, const void *ctx, int64_t timeout_ms,
                       char ***names, size_t *count, int64_t *min_dupe_ms)
{
    jsStreamInfoList *list = NULL;
    jsErrCode jerr = 0;
    jsOptions o;
    const char *name, *prefix;

    *names = NULL;
    *count = 0;
    *min_dupe_ms = 0;
    jsOptions_Init(&o);
    o.Wait = timeout_ms;
    natsStatus st = js_Streams(&list, js, &o, &jerr);
    if (st == NATS_NOT_FOUND)
        return 0;
    if (st != NATS_OK)
        return -1;
    *names = calloc(list->Count ? (size_t)list->Count : 1, sizeof(char *));
    for (int s = 0; *names && s < list->Count; s++) {
        const jsStreamConfig *c = list->List[s]->Config;
        int covers = 0;
        for (size_t i = 0; !covers && route_at(ctx, i, &name, &prefix); i++)
            for (int k = 0; prefix && !covers && k < c->SubjectsLen; k++)
                covers = streams_filter_covers_prefix(c->Subjects[k], prefix);
        if (!covers || !((*names)[*count] = strdup(c->Name)))
            continue;
        (*count)++;
        int64_t w = c->Duplicates / 1000000;
        if (w > 0 && (!*min_dupe_ms || w < *min_dupe_ms))
            *min_dupe_ms = w;
    }
    jsStreamInfoList_Destroy(list);
    return *names ? 0 : -1;
}

void streams_names_free(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

/* The length of the template token at \p t (up to a '.' outside braces),
 * and whether it holds a variable. */
static size_t template_token(const char *t, int *variable)
{
    size_t n = 0;
    int depth = 0;

    *variable = 0;
    for (; t[n] && (depth || t[n] != '.'); n++) {
        if (t[n] == '{') {
            depth++;
            *variable = 1;
        } else if (t[n] == '}' && depth) {
            depth--;
        }
    }
    return n;
}

streams_cover_t streams_filter_covers_template(const char *filter, const char *tmpl)
{
    const char *f = filter, *t = tmpl;
    streams_cover_t got = STREAMS_COVERS_ALL;

    for (;;) {
        int var;
        size_t fl = strcspn(f, "."), tl = template_token(t, &var);
        if (fl == 1 && *f == '>')
            return tl > 0 ? got : STREAMS_COVERS_NONE;
        if (!(fl == 1 && *f == '*')) {
            if (var)
                got = STREAMS_COVERS_SOME; /* only when the variable has that value */
            else if (fl != tl || strncmp(f, t, fl))
                return STREAMS_COVERS_NONE;
        }
        if (f[fl] != '.' || t[tl] != '.')
            return f[fl] == t[tl] ? got : STREAMS_COVERS_NONE;
        f += fl + 1;
        t += tl + 1;
    }
}

int streams_filter_matches(const char *filter, const char *subject)
{
    const char *f = filter, *t = subject;
    for (;;) {
        size_t fl = strcspn(f, "."), tl = strcspn(t, ".");
        if (fl == 1 && *f == '>')
            return tl > 0;
        if (!(fl == 1 && *f == '*') && (fl != tl || strncmp(f, t, fl)))
            return 0;
        if (f[fl] != '.' || t[tl] != '.')
            return f[fl] == t[tl]; /* both ended */
        f += fl + 1;
        t += tl + 1;
    }
}

void streams_filters_clear(streams_filters_t *f)
{
    for (size_t i = 0; i < f->count; i++)
        free(f->filters[i]);
    free(f->filters);
    f->filters = NULL;
    f->count = 0;
    f->known = 0;
}

void streams_filters_refresh(jsCtx *js, streams_filters_t *f, int64_t timeout_ms)
{
    jsStreamInfoList *list = NULL;
    jsErrCode jerr = 0;
    jsOptions o;

    f->listed_ns = monotime_ns();
    jsOptions_Init(&o);
    o.Wait = timeout_ms;
    natsStatus st = js_Streams(&list, js, &o, &jerr);
    if (st != NATS_OK && st != NATS_NOT_FOUND) {
        f->known = 0; /* JetStream did not answer: keep nothing we cannot trust */
        return;
    }
    streams_filters_clear(f);
    size_t n = 0;
    for (int i = 0; list && i < list->Count; i++)
        n += (size_t)list->List[i]->Config->SubjectsLen;
    f->filters = calloc(n ? n : 1, sizeof(char *));
    for (int i = 0; f->filters && list && i < list->Count; i++)
        for (int k = 0; k < list->List[i]->Config->SubjectsLen; k++)
            if ((f->filters[f->count] = strdup(list->List[i]->Config->Subjects[k])))
                f->count++;
    f->known = f->filters != NULL;
    jsStreamInfoList_Destroy(list);
}

int streams_filters_cover(const streams_filters_t *f, const char *subject)
{
    if (!f->known)
        return -1;
    for (size_t i = 0; i < f->count; i++)
        if (streams_filter_matches(f->filters[i], subject))
            return 1;
    return 0;
}
