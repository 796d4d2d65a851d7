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

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: event-router <command> [options]\n"
            "\n"
            "Routes domain events from Kafka to NATS JetStream by declarative YAML rules.\n"
            "\n"
            "commands:\n"
            "  run -c router.yaml          consume, route and publish until SIGTERM/SIGINT\n"
            "  check FILE...               validate rule files; prints every error\n"
            "  explain --rules F --type T  show what the rules do with one event\n"
            "  test FILE                   run the tests: written in a rule file\n"
            "  streams [--dry-run] -c router.yaml\n"
            "                              create or check the JetStream streams in the config\n"
            "  version                     print versions of event-router and its libraries\n"
            "\n"
            "Run 'event-router <command> --help' for a command's options.\n");
}

static int cmd_version(void)
{
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
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version"))
        return cmd_version();
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "event-router: unknown command '%s'; run 'event-router --help'\n", argv[1]);
    return 2;
}
