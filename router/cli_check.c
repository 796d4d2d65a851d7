/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_check: `event-router check`, the offline check a platform team runs
 * before a change reaches a pod. With rule files it checks each; with
 * `-c router.yaml` it checks the whole deployment: the config, the rule
 * file it names, the librdkafka properties (against librdkafka itself),
 * secret references, the dead-letter topic the rules need and the streams
 * the routes publish to. Every problem is reported in one run, each at
 * file:line:col, and nothing is contacted.
 *
 * Not for: loading or validating either file (config.c, rules.c own their
 * own rules); this file only asks them, adds what spans both files, and
 * prints.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "cliopt.h"
#include "config.h"
#include "diag.h"
#include "kprops.h"
#include "rules.h"
#include "secret.h"
#include "source.h"
#include "streams.h"
#include "yamlwalk.h"

#define CHECK_USAGE                                                                                \
    "usage: event-router check [--strict] [--json] [-q] FILE...\n"                                 \
    "       event-router check [--strict] [--json] [-q] -c router.yaml [--rules FILE]\n"           \
    "\n"                                                                                           \
    "Checks offline, contacting no broker, and reports every problem at once as\n"                 \
    "file:line:col: error|warning: message (did you mean ...).\n"                                  \
    "\n"                                                                                           \
    "  FILE...             rule files (a router config given here is checked as with -c)\n"        \
    "  -c, --config FILE   a whole deployment: the router config, the rule file it names,\n"       \
    "                      librdkafka properties (checked by librdkafka), ${env:} and\n"           \
    "                      ${file:} references, dlq.topic where the rules can dead-letter,\n"      \
    "                      routes whose subjects no declared stream covers\n"                      \
    "  --rules FILE        with -c: check this rule file instead of the one the config\n"          \
    "                      names (a path inside a container image, a ConfigMap)\n"                 \
    "  --strict            warnings count as errors (for CI)\n"                                    \
    "  --json              print one JSON object instead of text\n"                                \
    "  -q, --quiet         print only problems\n"                                                  \
    "\n"                                                                                           \
    "Exit status: 0 clean (warnings allowed), 1 errors (or warnings with --strict),\n"             \
    "2 usage.\n"

/* What the command line asked. */
typedef struct check_opts {
    const char *config, *rules;
    int strict, json, quiet;
} check_opts_t;

/* One checked file: its name, kind and what was found in it. */
typedef struct checked {
    char path[1024];
    const char *kind; /* "rules" or "config" */
    char hash[32];    /* the rules' fnv1a64, "" when they did not load */
    size_t routes, tests;
} checked_t;

/* Everything one run found. */
typedef struct check_run {
    diags_t d;
    checked_t files[64];
    size_t nfiles;
} check_run_t;

/* ---- what a YAML file is ----------------------------------------------------- */

enum { FILE_UNKNOWN, FILE_RULES, FILE_CONFIG };

/*
 * A light look at a YAML file's top-level keys: a router config has kafka:
 * or nats:, a rule file routes:, domains:, envelope: or tests:. Also the
 * value of a top-level `rules:` scalar (a config's rule file), so a config
 * that does not load still gets its rule file checked. Anything that does
 * not parse is FILE_UNKNOWN: the real loader reports why.
 */
typedef struct peek_kind_ctx {
    int config, rule;
    char *rules;
    size_t rules_size;
} peek_kind_ctx_t;

static int on_peek_kind(void *ctx, const char *parent, const char *key, const char *value)
{
    peek_kind_ctx_t *c = ctx;
    if (parent)
        return 0;
    c->config |= !strcmp(key, "kafka") || !strcmp(key, "nats");
    c->rule |= !strcmp(key, "routes") || !strcmp(key, "domains") || !strcmp(key, "envelope") ||
               !strcmp(key, "tests");
    if (value && !strcmp(key, "rules"))
        snprintf(c->rules, c->rules_size, "%s", value);
    return 0;
}

static int peek_kind(const char *path, char *rules, size_t rules_size)
{
    peek_kind_ctx_t c = {.rules = rules, .rules_size = rules_size};
    if (rules_size)
        rules[0] = '\0';
    if (yamlwalk_peek(path, on_peek_kind, &c) != 0)
        return FILE_UNKNOWN;
    int config = c.config, rule = c.rule;
    if (config)
        return FILE_CONFIG;
    return rule ? FILE_RULES : FILE_UNKNOWN;
}

/* ---- collecting -------------------------------------------------------------- */

static void take_diags(check_run_t *run, diags_t *from)
{
    for (size_t i = 0; i < from->count; i++) {
        const diag_t *x = &from->items[i];
        diags_add(&run->d, x->file, x->line, x->col, x->warning, NULL, "%s", x->msg);
    }
    diags_clear(from);
}

static checked_t *add_file(check_run_t *run, const char *path, const char *kind)
{
    checked_t *f;

    if (run->nfiles == sizeof(run->files) / sizeof(run->files[0]))
        return NULL;
    f = &run->files[run->nfiles++];
    memset(f, 0, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "%s", path);
    f->kind = kind;
    return f;
}

/* Load a rule file, keeping its diagnostics; the rules, or NULL. */
static rules_t *check_rules_file(check_run_t *run, const char *path)
{
    rules_diags_t d = {0};
    rules_t *r = NULL;
    checked_t *f = add_file(run, path, "rules");

    rules_load_file(path, &r, &d);
    take_diags(run, &d);
    if (r && f) {
        snprintf(f->hash, sizeof(f->hash), "%s", rules_hash(r));
        f->routes = rules_route_count(r);
        f->tests = rules_test_count(r);
    }
    return r;
}

/* A problem at a config path's position (config_where()). */
static void at_config(check_run_t *run, const config_t *cfg, const char *path, int warning,
                      const char *hint, const char *msg)
{
    int line = 1, col = 1;

    config_where(cfg, path, &line, &col);
    diags_add(&run->d, cfg->path, line, col, warning, hint, "%s", msg);
}

/* ---- librdkafka properties --------------------------------------------------- */

/* Settings the router's guarantees rest on, and which assignors it can use. */
static void check_property_value(check_run_t *run, const config_t *cfg, const char *where,
                                 const char *key, const char *value)
{
    char msg[512];

    if (!strcmp(key, "enable.auto.offset.store") && strcmp(value, "false")) {
        snprintf(msg, sizeof(msg),
                 "'%s': enable.auto.offset.store must stay false: the router stores only "
                 "offsets JetStream has acknowledged; remove the property",
                 where);
        at_config(run, cfg, where, 0, NULL, msg);
    } else if (!strcmp(key, "enable.auto.commit") && strcmp(value, "true")) {
        snprintf(msg, sizeof(msg),
                 "'%s': enable.auto.commit=%s: the router commits what it stored through "
                 "librdkafka's auto-commit; with it off, offsets are committed only at "
                 "rebalance and shutdown, and a crash replays everything since the start",
                 where, value);
        at_config(run, cfg, where, 1, "remove the property", msg);
    } else if (!strcmp(key, "partition.assignment.strategy")) {
        int eager = strstr(value, "range") || strstr(value, "roundrobin");
        int coop = strstr(value, "cooperative-sticky") != NULL;
        if (eager && !coop) {
            snprintf(msg, sizeof(msg),
                     "'%s': '%s' is an eager assignor: every rebalance stops every partition "
                     "of every replica until the group has settled",
                     where, value);
            at_config(run, cfg, where, 1, "use cooperative-sticky, the router's default", msg);
        }
    }
}

/* Each "key=value" of one section: references resolve, librdkafka knows
 * the key for this client and takes the value. */
static void check_properties(check_run_t *run, const config_t *cfg, const char *section,
                             char **props, unsigned n, unsigned client)
{
    char where[96], msg[1400], hint[320], err[512], key[256];

    for (unsigned i = 0; i < n; i++) {
        const char *eq = strchr(props[i], '=');
        char *value = NULL;
        unsigned refs = 0, scope;
        rd_kafka_conf_t *conf;
        size_t klen;

        snprintf(where, sizeof(where), "%s[%u]", section, i);
        if (!eq)
            continue; /* config.c reported it */
        klen = (size_t)(eq - props[i]);
        snprintf(key, sizeof(key), "%.*s", (int)(klen < sizeof(key) ? klen : sizeof(key) - 1),
                 props[i]);
        scope = kprops_scope(key, strlen(key));
        if (!scope) {
            const char *near = kprops_suggest(key);
            snprintf(msg, sizeof(msg), "'%s': librdkafka has no property '%s'", where, key);
            if (near)
                snprintf(hint, sizeof(hint), "did you mean '%s'?", near);
            at_config(run, cfg, where, 0, near ? hint : NULL, msg);
            continue;
        }
        if (!(scope & client)) {
            snprintf(msg, sizeof(msg), "'%s': '%s' applies to %s only; the %s ignores it", where,
                     key, client == KPROPS_PRODUCER ? "consumers" : "producers",
                     client == KPROPS_PRODUCER ? "dead-letter producer" : "consumer");
            at_config(run, cfg, where, 1, "remove it", msg);
            continue;
        }
        if (secret_resolve(eq + 1, &value, &refs, err, sizeof(err))) {
            snprintf(msg, sizeof(msg), "'%s': %s: %s", where, key, err);
            at_config(run, cfg, where, 0, NULL, msg);
            continue;
        }
        conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, key, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
            /* librdkafka quotes the value: never for a resolved secret. */
            if (refs || secret_key_is_secret(key, strlen(key)))
                snprintf(msg, sizeof(msg), "'%s': librdkafka refuses the value of '%s'", where,
                         key);
            else
                snprintf(msg, sizeof(msg), "'%s': %s", where, err);
            at_config(run, cfg, where, 0, NULL, msg);
        } else if (client == KPROPS_CONSUMER) {
            check_property_value(run, cfg, where, key, value);
        }
        rd_kafka_conf_destroy(conf);
        secret_free(value);
    }
}

/* ---- secrets named by config keys -------------------------------------------- */

static void check_env(check_run_t *run, const config_t *cfg, const char *path, const char *name)
{
    char msg[320];

    if (!name || getenv(name))
        return;
    snprintf(msg, sizeof(msg), "'%s': environment variable %s is not set here", path, name);
    at_config(run, cfg, path, 0, "set it where the router runs, or check it there", msg);
}

static void check_file(check_run_t *run, const config_t *cfg, const char *path, const char *file)
{
    char msg[768];

    if (!file || access(file, R_OK) == 0)
        return;
    snprintf(msg, sizeof(msg), "'%s': cannot read '%s': %s", path, file, strerror(errno));
    at_config(run, cfg, path, 0, NULL, msg);
}

static void check_secrets(check_run_t *run, const config_t *cfg)
{
    /* A password may come from either; only one is ever set (config.c). */
    check_env(run, cfg, "nats.password_env", cfg->nats.password_env);
    check_env(run, cfg, "nats.token_env", cfg->nats.token_env);
    check_file(run, cfg, "nats.password_file", cfg->nats.password_file);
    check_file(run, cfg, "nats.creds_file", cfg->nats.creds_file);
    check_file(run, cfg, "nats.nkey_seed_file", cfg->nats.nkey_seed_file);
    check_file(run, cfg, "nats.tls_ca_file", cfg->nats.tls_ca_file);
    check_file(run, cfg, "nats.tls_cert_file", cfg->nats.tls_cert_file);
    check_file(run, cfg, "nats.tls_key_file", cfg->nats.tls_key_file);
}

/* ---- what spans the config and the rules ------------------------------------ */

static void check_dlq(check_run_t *run, const config_t *cfg, const rules_t *r)
{
    char why[512], msg[768];

    if (cfg->dlq.topic && *cfg->dlq.topic)
        return;
    if (!rules_can_dead_letter(r, why, sizeof(why)))
        return;
    snprintf(msg, sizeof(msg),
             "'dlq.topic' is not set, but the rules can dead-letter events (%s): the first "
             "such event would stop its partition (RTR-0201)",
             why);
    at_config(run, cfg, "dlq.topic", 0, "set dlq.topic, e.g. dlq: {topic: event-router-dlq}", msg);
}

/* The streams of the config that take in \p subject, best first. */
static streams_cover_t coverage(const config_t *cfg, const char *subject, const char **stream)
{
    streams_cover_t best = STREAMS_COVERS_NONE;

    *stream = NULL;
    for (unsigned s = 0; s < cfg->streams_count; s++)
        for (unsigned k = 0; k < cfg->streams[s].subjects_count; k++) {
            streams_cover_t c =
                streams_filter_covers_template(cfg->streams[s].subjects[k], subject);
            if (c > best) {
                best = c;
                *stream = cfg->streams[s].name;
            }
        }
    return best;
}

static void stream_list(const config_t *cfg, char *buf, size_t size)
{
    size_t w = 0;

    buf[0] = '\0';
    for (unsigned s = 0; s < cfg->streams_count && w < size; s++)
        for (unsigned k = 0; k < cfg->streams[s].subjects_count && w < size; k++)
            w += (size_t)snprintf(buf + w, size - w, "%s%s: %s", w ? ", " : "",
                                  cfg->streams[s].name, cfg->streams[s].subjects[k]);
}

/* Every JetStream route's subjects land in a declared stream. Without a
 * `streams:` section the streams are managed elsewhere: `run` checks them
 * at start (STR-0001); offline there is nothing to compare with. */
static void check_routes(check_run_t *run, const config_t *cfg, const rules_t *r)
{
    char msg[1024], list[512];

    stream_list(cfg, list, sizeof(list));
    for (size_t i = 0; i < rules_route_count(r); i++) {
        rules_route_info_t ri;
        const char *stream;
        streams_cover_t c;
        if (rules_route_info(r, i, &ri) || strcmp(ri.action, "jetstream") || !ri.subject ||
            !cfg->streams_count)
            continue;
        c = coverage(cfg, ri.subject, &stream);
        if (c == STREAMS_COVERS_ALL)
            continue;
        if (c == STREAMS_COVERS_NONE)
            snprintf(msg, sizeof(msg),
                     "route '%s' publishes to '%s', which no stream of %s takes in (%s): every "
                     "event would be retried, then dead-lettered",
                     ri.name, ri.subject, cfg->path, list);
        else
            snprintf(msg, sizeof(msg),
                     "route '%s' publishes to '%s', which stream '%s' of %s takes in only for "
                     "some values of its variables; the others would be dead-lettered",
                     ri.name, ri.subject, stream, cfg->path);
        diags_add(&run->d, rules_path(r), ri.subject_line ? ri.subject_line : ri.line,
                  ri.subject_line ? ri.subject_col : ri.col, c == STREAMS_COVERS_SOME,
                  "add its subjects to a stream in streams:, or change the subject", "%s", msg);
    }
}

/* A hint for a rule file that is not there: a YAML file of the same
 * directory with a close name, or where a relative path is taken from. */
static const char *near_file(const char *path, char *hint, size_t size)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    char dir[1024];
    const char *names[64];
    char *store[64];
    size_t n = 0;
    DIR *dp;
    struct dirent *e;

    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    snprintf(hint, size, "a relative path is taken from the config's directory");
    if (!(dp = opendir(dir)))
        return hint;
    while ((e = readdir(dp)) != NULL && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 5 && (!strcmp(e->d_name + l - 5, ".yaml") || !strcmp(e->d_name + l - 4, ".yml")))
            if ((store[n] = strdup(e->d_name)) != NULL)
                names[n] = store[n], n++;
    }
    closedir(dp);
    {
        const char *near = diag_suggest(base, names, n);
        if (near)
            snprintf(hint, size, "did you mean '%s'?", near);
    }
    for (size_t i = 0; i < n; i++)
        free(store[i]);
    return hint;
}

static size_t errors_in(const check_run_t *run)
{
    size_t n = 0;
    for (size_t i = 0; i < run->d.count; i++)
        n += !run->d.items[i].warning;
    return n;
}

/* The deployment a router config describes. */
static void check_deployment(check_run_t *run, const char *path, const char *rules_override)
{
    diags_t d = {0};
    config_t *cfg = NULL;
    rules_t *r = NULL;
    char err[512], peeked[1024];
    size_t before;

    add_file(run, path, "config");
    peek_kind(path, peeked, sizeof(peeked));
    if (config_load_file_diags(path, &cfg, &d) != 0 && !cfg) {
        take_diags(run, &d);
        /* Not loaded at all: still check the rule file it names, if it can
         * be told. */
        char *joined = peeked[0] ? config_rules_path(path, peeked) : NULL;
        if (joined && access(joined, R_OK) == 0)
            rules_unref(check_rules_file(run, joined));
        free(joined);
        return;
    }
    /* Loaded, with or without problems of its own: check the rest too. */
    take_diags(run, &d);
    if (rules_override) {
        char *copy = strdup(rules_override);
        if (copy) {
            free(cfg->rules);
            cfg->rules = copy;
        }
    }
    if (access(cfg->rules, R_OK) != 0) {
        char hint[512];
        snprintf(err, sizeof(err), "'rules': cannot read the rule file '%s': %s", cfg->rules,
                 strerror(errno));
        at_config(run, cfg, "rules", 0, near_file(cfg->rules, hint, sizeof(hint)), err);
    } else {
        r = check_rules_file(run, cfg->rules);
    }
    before = errors_in(run);
    check_properties(run, cfg, "kafka.properties", cfg->kafka.properties,
                     cfg->kafka.properties_count, KPROPS_CONSUMER);
    /* The consumer's settings as `run` builds them, judged by librdkafka
     * as a whole (combinations: e.g. a classic-protocol setting with
     * group.protocol=consumer). Only when each property passed alone. */
    if (errors_in(run) == before && source_check_config(cfg, 1, err, sizeof(err)) != 0)
        at_config(run, cfg, "kafka.properties", 0, NULL, err);
    check_properties(run, cfg, "dlq.properties", cfg->dlq.properties, cfg->dlq.properties_count,
                     KPROPS_PRODUCER);
    check_secrets(run, cfg);
    if (r) {
        check_dlq(run, cfg, r);
        check_routes(run, cfg, r);
        rules_unref(r);
    }
    config_free(cfg);
}

/* ---- printing ---------------------------------------------------------------- */

static void count(const check_run_t *run, size_t *errors, size_t *warnings)
{
    *errors = *warnings = 0;
    for (size_t i = 0; i < run->d.count; i++) {
        if (run->d.items[i].warning)
            (*warnings)++;
        else
            (*errors)++;
    }
}

static size_t count_in(const check_run_t *run, const char *path, int warning)
{
    size_t n = 0;
    for (size_t i = 0; i < run->d.count; i++)
        n += !strcmp(run->d.items[i].file, path) && run->d.items[i].warning == warning;
    return n;
}

static size_t file_rank(const void *ctx, const char *file)
{
    const check_run_t *run = ctx;
    for (size_t i = 0; i < run->nfiles; i++)
        if (!strcmp(run->files[i].path, file))
            return i;
    return run->nfiles;
}

static void print_json(const check_run_t *run, int strict, int ok)
{
    size_t errors, warnings;

    count(run, &errors, &warnings);
    printf("{\"ok\":%s,\"strict\":%s,\"errors\":%zu,\"warnings\":%zu,\"files\":[",
           ok ? "true" : "false", strict ? "true" : "false", errors, warnings);
    for (size_t i = 0; i < run->nfiles; i++) {
        const checked_t *f = &run->files[i];
        printf("%s{\"path\":", i ? "," : "");
        cliopt_json_str(stdout, f->path);
        printf(",\"kind\":\"%s\",\"errors\":%zu,\"warnings\":%zu", f->kind,
               count_in(run, f->path, 0), count_in(run, f->path, 1));
        if (f->hash[0]) {
            printf(",\"routes\":%zu,\"tests\":%zu,\"hash\":", f->routes, f->tests);
            cliopt_json_str(stdout, f->hash);
        }
        putchar('}');
    }
    printf("],\"diagnostics\":[");
    for (size_t i = 0; i < run->d.count; i++) {
        const diag_t *x = &run->d.items[i];
        printf("%s{\"file\":", i ? "," : "");
        cliopt_json_str(stdout, x->file);
        printf(",\"line\":%d,\"col\":%d,\"severity\":\"%s\",\"message\":", x->line, x->col,
               x->warning ? "warning" : "error");
        cliopt_json_str(stdout, x->msg);
        putchar('}');
    }
    printf("]}\n");
}

static void print_text(const check_run_t *run, int strict, int quiet)
{
    char line[2048];
    size_t errors, warnings;

    for (size_t i = 0; i < run->d.count; i++)
        fprintf(stderr, "%s\n", diag_format(&run->d.items[i], line, sizeof(line)));
    for (size_t i = 0; i < run->nfiles && !quiet; i++) {
        const checked_t *f = &run->files[i];
        size_t e = count_in(run, f->path, 0), w = count_in(run, f->path, 1);
        if (e || (w && strict))
            continue;
        printf("%s: ok", f->path);
        if (f->hash[0])
            printf(" (%zu route%s, %zu test%s, fnv1a64 %s)", f->routes, f->routes == 1 ? "" : "s",
                   f->tests, f->tests == 1 ? "" : "s", f->hash);
        if (w)
            printf(", %zu warning%s", w, w == 1 ? "" : "s");
        putchar('\n');
    }
    count(run, &errors, &warnings);
    if (errors || (warnings && strict))
        fprintf(stderr, "%zu error%s, %zu warning%s%s\n", errors, errors == 1 ? "" : "s", warnings,
                warnings == 1 ? "" : "s", strict && warnings ? " (--strict)" : "");
}

/* ---- the command ------------------------------------------------------------- */

static int check_parse(int argc, char **argv, check_opts_t *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"rules", required_argument, NULL, 'r'},
        {"strict", no_argument, NULL, 's'},       {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},        {NULL, 0, NULL, 0}};
    cliopt_t c = {.cmd = "check", .usage = CHECK_USAGE};
    int r;

    while ((r = cliopt_next(&c, argc, argv, "c:q", opts)) >= 0) {
        if (r == 'c')
            o->config = optarg;
        else if (r == 'r')
            o->rules = optarg;
        else if (r == 's')
            o->strict = 1;
        else if (r == 'j')
            o->json = 1;
        else
            o->quiet = 1;
    }
    if ((r = cliopt_done(&c, r, argc, argv, 0, -1)) >= 0)
        return r;
    if (!o->config && optind >= argc)
        return cliopt_fail(&c, "name rule files, or a router config with -c");
    if (o->rules && !o->config)
        return cliopt_fail(&c, "--rules goes with -c");
    if (o->config && optind < argc)
        return cliopt_fail(&c, "-c checks one deployment; check rule files in a separate run");
    return -1;
}

/* One file named on the command line: a rule file or, recognised by its
 * keys, a router config; -c names a config, or says it got a rule file. */
static void check_one(check_run_t *run, const char *path, int as_config, const char *rules,
                      int quiet)
{
    char ignored[8];
    int kind = peek_kind(path, ignored, sizeof(ignored));

    if (as_config && kind == FILE_RULES) {
        if (!quiet)
            fprintf(stderr,
                    "%s: note: this is a rule file, not a router config (-c); checking it as "
                    "a rule file\n",
                    path);
        as_config = 0;
    } else if (!as_config && kind == FILE_CONFIG) {
        if (!quiet)
            fprintf(stderr,
                    "%s: note: this is a router config; checking the deployment it describes "
                    "(as -c does)\n",
                    path);
        as_config = 1;
    }
    if (as_config) {
        check_deployment(run, path, rules);
    } else {
        rules_t *r = check_rules_file(run, path);
        rules_unref(r);
    }
}

int cli_check(int argc, char **argv)
{
    check_opts_t o = {0};
    check_run_t *run;
    size_t errors, warnings;
    int rc = check_parse(argc, argv, &o), ok;

    if (rc >= 0)
        return rc;
    if (!(run = calloc(1, sizeof(*run)))) {
        fprintf(stderr, "event-router check: out of memory\n");
        return 1;
    }
    if (o.config)
        check_one(run, o.config, 1, o.rules, o.quiet || o.json);
    for (int i = optind; i < argc; i++)
        check_one(run, argv[i], 0, NULL, o.quiet || o.json);
    /* By file (in the order they were checked: the config before the rule
     * file it names), then line and column. */
    diags_sort(&run->d, 0, file_rank, run);
    count(run, &errors, &warnings);
    ok = !errors && !(o.strict && warnings);
    if (o.json)
        print_json(run, o.strict, ok);
    else
        print_text(run, o.strict, o.quiet);
    diags_clear(&run->d);
    free(run);
    return ok ? 0 : 1;
}
