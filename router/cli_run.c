/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_run: `event-router run -c router.yaml`. Loads and validates the config
 * and the rules (a half-valid pair never starts a router), installs signal
 * handlers that only set flags, starts the admin HTTP endpoint and runs the
 * pipeline until SIGTERM/SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <nats/nats.h>

#include "cli.h"
#include "cliopt.h"
#include "config.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "natsopts.h"
#include "router.h"
#include "rules.h"
#include "source.h"
#include "streams.h"
#include "yamlwalk.h"
#include <stdlib.h>

static router_signals_t signals_seen;

static void on_stop_signal(int sig)
{
    (void)sig;
    signals_seen.stop++;
}

static void on_reload_signal(int sig)
{
    (void)sig;
    signals_seen.reload = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_reload_signal;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* One diagnostic's position, as the pairs of its log line. */
#define DIAG_PAIRS(x) LKV_S("file", (x)->file), LKV_I("line", (x)->line), LKV_I("col", (x)->col)

/* Each diagnostic as one log line, the message in msg: RUN-0101 (config;
 * its loader reports errors only) or RUN-0102/RUN-0103 (rule file error /
 * warning). The IDs are written in the LOG_* calls themselves, so that the
 * error catalogue's test sees the level of each. Returns the errors. */
static size_t log_diags(const diags_t *d, int rule_file)
{
    size_t errors = 0;
    for (size_t i = 0; i < d->count; i++) {
        const diag_t *x = &d->items[i];
        if (!rule_file) {
            LOG_ERROR("RUN-0101", x->msg, DIAG_PAIRS(x));
            errors++;
        } else if (x->warning) {
            LOG_WARN("RUN-0103", x->msg, DIAG_PAIRS(x));
        } else {
            LOG_ERROR("RUN-0102", x->msg, DIAG_PAIRS(x));
            errors++;
        }
    }
    return errors;
}

/*
 * log.format as written in a config that did not load (a YAML or type error
 * stops the loader before it can say): a libyaml event scan of the first
 * document for the top-level key `log` and its key `format`. What was read
 * before a syntax error counts; anything else unreadable (no such key, not a
 * regular file, a value that is not logfmt or json) is logfmt.
 */
static int on_peek_log(void *ctx, const char *parent, const char *key, const char *value)
{
    if (!parent || strcmp(parent, "log") != 0 || strcmp(key, "format") != 0)
        return 0;
    if (value)
        (void)log_format_parse(value, ctx);
    return 1;
}

static log_format_t peek_log_format(const char *path)
{
    log_format_t fmt = LOG_FMT_LOGFMT;
    (void)yamlwalk_peek(path, on_peek_log, &fmt);
    return fmt;
}

#define RUN_USAGE                                                                                  \
    "usage: event-router run -c router.yaml [--print-config]\n"                                    \
    "Consumes, routes and publishes until SIGTERM or SIGINT; SIGHUP reloads the rules.\n"          \
    "  -c, --config FILE   router configuration (docs/config.md)\n"                                \
    "  --print-config      print the effective config (secrets redacted) and exit;\n"              \
    "                      to check a deployment before it starts, use 'event-router check -c'\n"

/* The command line: -c FILE and --print-config. Returns -1 to go on, else
 * the exit code (0 after --help, 2 on a usage error). */
static int run_parse_args(int argc, char **argv, const char **path, int *print_only)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"print-config", no_argument, NULL, 'p'},
                                         {NULL, 0, NULL, 0}};
    cliopt_t c = {.cmd = "run", .usage = RUN_USAGE};
    int r;

    while ((r = cliopt_next(&c, argc, argv, "c:", opts)) >= 0) {
        if (r == 'c')
            *path = optarg;
        else
            *print_only = 1;
    }
    if ((r = cliopt_done(&c, r, argc, argv, 0, 0)) >= 0)
        return r;
    if (!*path)
        return cliopt_fail(&c, "missing -c router.yaml");
    return -1;
}

/*
 * Load the config, logging every problem (RUN-0101, then RUN-0100) in the
 * format the config asks for: the loaded log.format when the loader got that
 * far (an unknown key or a bad value still leaves it readable), else what a
 * scan of the file finds (peek_log_format(): a YAML syntax or type error),
 * else logfmt. 0, or -1.
 */
static int run_load_config(const char *path, config_t **cfg)
{
    diags_t d = {0};
    log_level_t lvl = LOG_LVL_INFO;
    log_format_t fmt = LOG_FMT_LOGFMT;
    int rc = config_load_file_diags(path, cfg, &d);

    if (*cfg) {
        (void)log_level_parse((*cfg)->log.level, &lvl);
        (void)log_format_parse((*cfg)->log.format, &fmt);
    } else if (rc != 0) {
        fmt = peek_log_format(path);
    }
    log_setup(lvl, fmt);
    if (rc != 0) {
        size_t n = log_diags(&d, 0);
        char check[600];
        snprintf(check, sizeof(check), "event-router check -c %s", path);
        LOG_ERROR("RUN-0100", "the config has errors; not starting", LKV_S("file", path),
                  LKV_U("errors", n), LKV_S("check", check));
        config_free(*cfg);
        *cfg = NULL;
    }
    diags_clear(&d);
    return rc;
}

/* Load the rule file the config names; print its diagnostics (errors, or
 * warnings when it loads). Returns 0, or -1 when the router must not start. */
static int run_load_rules(const config_t *cfg, rules_t **rules, rules_diags_t *diags)
{
    if (rules_load_file(cfg->rules, rules, diags) != 0) {
        size_t n = log_diags(diags, 1);
        LOG_ERROR("RUN-0104", "the rule file has errors; not starting", LKV_S("file", cfg->rules),
                  LKV_U("errors", n));
        return -1;
    }
    log_diags(diags, 1); /* warnings */
    LOG_INFO("RUN-0001", "rules loaded", LKV_S("path", rules_path(*rules)),
             LKV_U("routes", rules_route_count(*rules)), LKV_S("hash", rules_hash(*rules)));
    return 0;
}

/* The admin endpoint, when http.listen is set. Returns 0, or -1 after printing why. */
static int run_start_http(const config_t *cfg, router_t *router, http_t **http)
{
    char errstr[1024];

    if (!cfg->http.listen || !*cfg->http.listen)
        return 0;
    if (http_start(cfg->http.listen, health_live, health_ready, router, http, errstr,
                   sizeof(errstr)) != 0) {
        LOG_ERROR("RUN-0106", "the admin endpoint cannot listen; not starting",
                  LKV_S("listen", cfg->http.listen), LKV_S("why", errstr));
        return -1;
    }
    return 0; /* http.c logs HTTP-0001 */
}

int cli_run(int argc, char **argv)
{
    const char *path = NULL;
    int print_only = 0, rc;
    char errstr[1024];
    config_t *cfg = NULL;
    rules_t *rules = NULL;
    rules_diags_t diags = {0};
    router_t *router = NULL;
    http_t *http = NULL;

    if ((rc = run_parse_args(argc, argv, &path, &print_only)) >= 0)
        return rc;
    rc = 1;
    if (run_load_config(path, &cfg) != 0)
        return 1;
    if (print_only) {
        config_dump(cfg, stdout);
        config_free(cfg);
        return 0;
    }

    if (run_load_rules(cfg, &rules, &diags))
        goto out;
    /* The consumer's settings first: a bad property is refused before any
     * connection is tried (the router itself would try NATS first). */
    if (source_check_config(cfg, 0, errstr, sizeof(errstr)) != 0) {
        LOG_ERROR("RUN-0105", "the router cannot start", LKV_S("why", errstr));
        goto out;
    }
    install_signals();
    if (router_new(cfg, rules, &router, errstr, sizeof(errstr)) != 0) {
        rules = NULL; /* owned (and freed) by router_new */
        LOG_ERROR("RUN-0105", "the router cannot start", LKV_S("why", errstr));
        goto out;
    }
    rules = NULL; /* now owned by the router */
    if (run_start_http(cfg, router, &http))
        goto out;

    rc = router_run(router, &signals_seen);
out:
    http_stop(http);
    if (rc != 130)
        router_destroy(router);
    rules_unref(rules);
    rules_diags_clear(&diags);
    config_free(cfg);
    if (rc != 130) {
        metrics_shutdown();
        nats_Close();
    }
    return rc;
}

#define STREAMS_USAGE                                                                              \
    "usage: event-router streams [--dry-run] [--json] -c router.yaml\n"                            \
    "Creates the JetStream streams the config declares (streams:) and reports each one\n"          \
    "that differs from its declaration. Connects to NATS, with the config's credentials.\n"        \
    "  -c, --config FILE   router configuration\n"                                                 \
    "  -n, --dry-run       compare with the server and print what would change; connects\n"        \
    "                      to NATS, creates nothing (check -c needs no server)\n"                  \
    "  --json              print one JSON object: {\"ok\", \"dry_run\", \"streams\": "             \
    "[{\"name\",\n"                                                                                \
    "                      \"state\": ok|differs|missing|created, \"differences\"}]}\n"

typedef struct streams_out {
    int json;
    unsigned n;
} streams_out_t;

static void print_stream(void *ctx, const config_stream_t *d, streams_state_t st, const char *diff)
{
    streams_out_t *o = ctx;
    char line[1024];
    if (!o->json) {
        puts(streams_report_text(line, sizeof(line), d, st, diff));
        return;
    }
    printf("%s{\"name\":", o->n++ ? "," : "");
    cliopt_json_str(stdout, d->name);
    printf(",\"state\":\"%s\",\"replicas\":%u,\"storage\":", streams_state_name(st), d->replicas);
    cliopt_json_str(stdout, d->storage);
    printf(",\"duplicate_window_s\":%u,\"differences\":", d->duplicate_window_s);
    cliopt_json_str(stdout, diff);
    putchar('}');
}

/* `event-router streams [--dry-run] [--json] -c router.yaml`: create the
 * declared streams or show what would be created; report differences. */
int cli_streams(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {NULL, 0, NULL, 0}};
    cliopt_t co = {.cmd = "streams", .usage = STREAMS_USAGE};
    const char *path = NULL;
    int dry = 0, c, rc = 1;
    char errstr[1024];
    config_t *cfg = NULL;
    natsConnection *nc = NULL;
    natsOptions *no = NULL;
    jsCtx *js = NULL;
    jsOptions jo;

    streams_out_t out = {0};
    while ((c = cliopt_next(&co, argc, argv, "c:n", opts)) >= 0) {
        if (c == 'c')
            path = optarg;
        else if (c == 'j')
            out.json = 1;
        else
            dry = 1;
    }
    if ((c = cliopt_done(&co, c, argc, argv, 0, 0)) >= 0)
        return c;
    if (!path)
        return cliopt_fail(&co, "missing -c router.yaml");
    if (run_load_config(path, &cfg) != 0)
        return 1;
    if (!cfg->streams_count) {
        if (out.json)
            printf("{\"ok\":true,\"dry_run\":%s,\"streams\":[]}\n", dry ? "true" : "false");
        else
            printf("%s declares no streams: nothing to do\n", path);
        config_free(cfg);
        return 0;
    }
    /* The same options as `run` (natsopts.h): auth and TLS included. */
    natsopts_js(cfg, &jo);
    if (natsopts_new(cfg, &no, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "event-router streams: %s\n", errstr);
        goto out;
    }
    if (natsConnection_Connect(&nc, no) != NATS_OK ||
        natsConnection_JetStream(&js, nc, &jo) != NATS_OK) {
        char shown[512];
        snprintf(errstr, sizeof(errstr), "%s",
                 nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
        natsopts_scrub(cfg, errstr, sizeof(errstr));
        fprintf(stderr, "event-router streams: cannot reach NATS at %s: %s\n",
                natsopts_servers_text(cfg, shown, sizeof(shown)), errstr);
        goto out;
    }
    if (out.json)
        printf("{\"dry_run\":%s,\"streams\":[", dry ? "true" : "false");
    rc = streams_ensure(js, cfg, dry, print_stream, &out, errstr, sizeof(errstr));
    if (out.json) {
        printf("],\"ok\":%s", rc == 0 ? "true" : "false");
        if (rc < 0) {
            printf(",\"error\":");
            cliopt_json_str(stdout, errstr);
        }
        puts("}");
    }
    if (rc < 0) {
        fprintf(stderr, "event-router streams: %s\n", errstr);
        rc = 1;
    }
out:
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(no);
    config_free(cfg);
    nats_Close();
    return rc;
}
