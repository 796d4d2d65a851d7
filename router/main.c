/* SPDX-License-Identifier: Apache-2.0 */
/*
 * event-router: the command-line entry point. It only dispatches to the
 * subcommands in cli.h and turns their return value into the exit code;
 * it is the one place that exits the process.
 */
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <nats/nats.h>

#include "cli.h"
#include "cliopt.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: event-router <command> [options]\n"
            "\n"
            "Routes domain events from Kafka to NATS JetStream by declarative YAML rules.\n"
            "\n"
            "commands:\n"
            "  run -c router.yaml          consume, route and publish until SIGTERM/SIGINT\n"
            "  check FILE...               check rule files offline; prints every error\n"
            "  check -c router.yaml        check a whole deployment offline: config, rules,\n"
            "                              librdkafka properties, secrets, DLQ, streams\n"
            "  explain --rules F --type T  show what the rules do with one event\n"
            "  test FILE                   run the tests: written in a rule file\n"
            "  streams [--dry-run] [--json] -c router.yaml\n"
            "                              create or check the JetStream streams in the config\n"
            "  version [--json]            print versions of event-router and its libraries\n"
            "\n"
            "options: -h, --help (this text); -V, --version (as 'version')\n"
            "Run 'event-router <command> --help' for a command's options.\n"
            "Exit status: 0 success, 1 failure (errors found, tests failed), 2 usage.\n");
}

#define VERSION_USAGE                                                                              \
    "usage: event-router version [--json]\n"                                                       \
    "Print the versions of event-router and of the librdkafka and cnats it runs with.\n"           \
    "  --json   one JSON object\n"

static int cmd_version(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    cliopt_t c = {.cmd = "version", .usage = VERSION_USAGE};
    int r, json = 0;

    while ((r = cliopt_next(&c, argc, argv, "", opts)) >= 0)
        json = 1;
    if ((r = cliopt_done(&c, r, argc, argv, 0, 0)) >= 0)
        return r;
    if (json)
        printf("{\"event_router\":\"%s\",\"librdkafka\":\"%s\",\"cnats\":\"%s\"}\n", ER_VERSION,
               rd_kafka_version_str(), nats_GetVersion());
    else
        printf("event-router %s\nlibrdkafka %s\ncnats %s\n", ER_VERSION, rd_kafka_version_str(),
               nats_GetVersion());
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"run", cli_run},   {"check", cli_check},     {"explain", cli_explain},
        {"test", cli_test}, {"streams", cli_streams},
    };

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
        return cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "event-router: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
