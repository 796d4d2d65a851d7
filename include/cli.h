/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file cli.h
 * \brief The event-router subcommands. Each takes the arguments after the
 *        subcommand name (argv[0] is the subcommand) and returns the process
 *        exit code; only main.c calls exit.
 *
 * Threads: main thread; a subcommand starts and joins any thread it needs
 * (`run` the HTTP server's). Ownership: each subcommand frees what it
 * loaded before it returns.
 */
#ifndef ER_CLI_H
#define ER_CLI_H

int cli_check(int argc, char **argv);   /**< event-router check FILE... */
int cli_explain(int argc, char **argv); /**< event-router explain --rules F --type T ... */
int cli_test(int argc, char **argv);    /**< event-router test FILE */
int cli_run(int argc, char **argv);     /**< event-router run -c router.yaml */
int cli_streams(int argc, char **argv); /**< event-router streams [--dry-run] -c router.yaml */

#endif /* ER_CLI_H */
