/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cliopt: getopt_long with one set of rules for every subcommand (cliopt.h).
 * getopt's own messages are switched off (opterr = 0) so that every usage
 * error is worded here and followed by the usage.
 */
#include "cliopt.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_fail(const cliopt_t *c, const char *fmt, va_list ap)
{
    fprintf(stderr, "event-router %s: ", c->cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n%s", c->usage);
}

int cliopt_fail(const cliopt_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_fail(c, fmt, ap);
    va_end(ap);
    return CLIOPT_EXIT_USAGE;
}

/* The option getopt stopped at, as written ("--bogus", "-q"). */
static const char *bad_option(int argc, char **argv)
{
    int i = optind - 1;
    return i >= 1 && i < argc ? argv[i] : "?";
}

/* "--opt" of a long option that takes a value, else NULL. */
static const struct option *long_named(const struct option *longopts, const char *arg)
{
    size_t n;

    if (strncmp(arg, "--", 2))
        return NULL;
    arg += 2;
    n = strcspn(arg, "=");
    for (; longopts && longopts->name; longopts++)
        if (strlen(longopts->name) == n && !strncmp(longopts->name, arg, n))
            return longopts;
    return NULL;
}

int cliopt_next(cliopt_t *c, int argc, char **argv, const char *shortopts,
                const struct option *longopts)
{
    static const struct option help = {"help", no_argument, NULL, 'h'};
    struct option all[64];
    char shorts[128];
    size_t n = 0;
    int r;

    if (!c->started) {
        c->started = 1;
        optind = 0; /* glibc: reinitialise fully (a second parse in one process) */
    }
    opterr = 0;
    /* A leading ':' makes a missing value ':' instead of '?'. */
    snprintf(shorts, sizeof(shorts), ":%sh", shortopts ? shortopts : "");
    for (; longopts && longopts[n].name && n + 2 < sizeof(all) / sizeof(all[0]); n++)
        all[n] = longopts[n];
    all[n++] = help;
    all[n] = (struct option){NULL, 0, NULL, 0};

    r = getopt_long(argc, argv, shorts, all, NULL);
    switch (r) {
    case -1:
        return CLIOPT_DONE;
    case 'h':
        fputs(c->usage, stdout);
        return CLIOPT_HELP;
    case ':':
        if (long_named(all, bad_option(argc, argv)))
            cliopt_fail(c, "%s needs a value", bad_option(argc, argv));
        else
            cliopt_fail(c, "-%c needs a value", optopt);
        return CLIOPT_ERROR;
    case '?':
        if (optopt && !long_named(all, bad_option(argc, argv)))
            cliopt_fail(c, "unknown option '-%c'", optopt);
        else if (long_named(all, bad_option(argc, argv)))
            cliopt_fail(c, "option '%s' takes no value", bad_option(argc, argv));
        else
            cliopt_fail(c, "unknown option '%s'", bad_option(argc, argv));
        return CLIOPT_ERROR;
    default:
        return r;
    }
}

int cliopt_num(const cliopt_t *c, const char *opt, const char *v, long long min, long long max,
               long long *out)
{
    char *end = NULL;
    long long n;

    errno = 0;
    n = strtoll(v, &end, 10);
    if (!isdigit((unsigned char)v[v[0] == '-']) || *end || errno == ERANGE || n < min || n > max) {
        cliopt_fail(c, "%s wants a whole number from %lld to %lld, got '%s'", opt, min, max, v);
        return CLIOPT_ERROR;
    }
    *out = n;
    return 0;
}

int cliopt_done(const cliopt_t *c, int r, int argc, char **argv, int min_operands, int max_operands)
{
    int n = argc - optind;

    if (r == CLIOPT_HELP)
        return 0;
    if (r == CLIOPT_ERROR)
        return CLIOPT_EXIT_USAGE;
    if (max_operands >= 0 && n > max_operands)
        return cliopt_fail(c, "unexpected argument '%s'", argv[optind + max_operands]);
    if (n < min_operands)
        return cliopt_fail(c, "missing argument: see the usage");
    return -1;
}

void cliopt_json_str(FILE *fp, const char *s)
{
    if (!s) {
        fputs("null", fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(fp, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(fp, "\\u%04x", ch);
        else
            fputc(ch, fp);
    }
    fputc('"', fp);
}
