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
#include <getopt.h>

#include <nats/nats.h>

#include "cli.h"
#include "config.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "natsopts.h"
#include "router.h"
#include "rules.h"
#include "streams.h"
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

/* Print every rules diagnostic; returns the number of errors. */
static size_t print_rules_diags(const rules_diags_t *d)
{
    char buf[1024];
    size_t errors = 0;
    for (size_t i = 0; i < d->count; i++) {
        fprintf(stderr, "%s\n", rules_diag_format(&d->items[i], buf, sizeof(buf)));
        errors += !d->items[i].warning;
    }
    return errors;
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: event-router run -c router.yaml [--print-config]\n"
                "\n"
                "  -c, --config FILE   router configuration (see README, 'Configuration')\n"
                "  --print-config      print the effective config (secrets redacted) and exit\n");
}

/* The command line: -c FILE and --print-config. Returns -1 to go on, else
 * the exit code (0 after --help, 2 on a usage error). */
static int run_parse_args(int argc, char **argv, const char **path, int *print_only)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"print-config", no_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            *path = optarg;
            break;
        case 'p':
            *print_only = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!*path) {
        fprintf(stderr, "event-router run: missing -c router.yaml\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Load the rule file the config names; print its diagnostics (errors, or
 * warnings when it loads). Returns 0, or -1 when the router must not start. */
static int run_load_rules(const config_t *cfg, rules_t **rules, rules_diags_t *diags)
{
    if (rules_load_file(cfg->rules, rules, diags) != 0) {
        size_t n = print_rules_diags(diags);
        fprintf(stderr, "event-router: %zu error(s) in %s; not starting\n", n, cfg->rules);
        return -1;
    }
    print_rules_diags(diags); /* warnings */
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
        fprintf(stderr, "event-router: http.listen %s: %s\n", cfg->http.listen, errstr);
        return -1;
    }
    LOG_INFO("RUN-0002", "admin endpoint listening", LKV_S("listen", cfg->http.listen));
    return 0;
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
    log_level_t lvl;
    log_format_t fmt;

    if ((rc = run_parse_args(argc, argv, &path, &print_only)) >= 0)
        return rc;
    rc = 1;
    if (config_load_file(path, &cfg, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "event-router: %s\n", errstr);
        return 1;
    }
    if (print_only) {
        config_dump(cfg, stdout);
        config_free(cfg);
        return 0;
    }
    log_level_parse(cfg->log.level, &lvl);
    log_format_parse(cfg->log.format, &fmt);
    log_setup(lvl, fmt);

    if (run_load_rules(cfg, &rules, &diags))
        goto out;
    install_signals();
    if (router_new(cfg, rules, &router, errstr, sizeof(errstr)) != 0) {
        rules = NULL; /* owned (and freed) by router_new */
        fprintf(stderr, "event-router: %s\n", errstr);
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

/* `event-router streams [--dry-run] -c router.yaml`: create the declared
 * streams or show what would be created; report differences. */
int cli_streams(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int dry = 0, c, rc = 1;
    char errstr[1024];
    config_t *cfg = NULL;
    natsConnection *nc = NULL;
    natsOptions *no = NULL;
    jsCtx *js = NULL;
    jsOptions jo;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:nh", opts, NULL)) != -1) {
        if (c == 'c')
            path = optarg;
        else if (c == 'n')
            dry = 1;
        else {
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: event-router streams [--dry-run] -c router.yaml\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!path) {
        fprintf(stderr, "event-router streams: missing -c router.yaml\n");
        return 2;
    }
    if (config_load_file(path, &cfg, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "event-router: %s\n", errstr);
        return 1;
    }
    if (!cfg->streams_count) {
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
    rc = streams_ensure(js, cfg, dry, stdout, errstr, sizeof(errstr));
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
