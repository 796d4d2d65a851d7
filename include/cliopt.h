/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file cliopt.h
 * \brief The one command-line parser of every subcommand: getopt_long with
 *        the project's rules, so every subcommand fails the same way.
 *
 * Rules:
 *  - `-h` / `--help` prints the subcommand's usage on stdout: exit 0;
 *  - an unknown option, a missing value or a value that does not parse
 *    prints "event-router CMD: <what>" and the usage on stderr: exit 2;
 *  - numbers are whole decimal numbers within their range, nothing else
 *    ("abc", "12x", "" and out-of-range values are usage errors);
 *  - options and operands may be mixed (GNU order); `--` ends options.
 *
 * Not for: what a subcommand does with its options (cli_*.c).
 *
 * Threads: main thread only (getopt's globals).
 */
#ifndef ER_CLIOPT_H
#define ER_CLIOPT_H

#include <getopt.h>
#include <stdio.h>

/** cliopt_next(): no more options; operands start at optind. */
#define CLIOPT_DONE (-1)
/** cliopt_next(): usage printed on stdout after --help; exit 0. */
#define CLIOPT_HELP (-2)
/** cliopt_next() / cliopt_num() / cliopt_fail(): a usage error was printed; exit 2. */
#define CLIOPT_ERROR (-3)

/** Exit code of a usage error. */
#define CLIOPT_EXIT_USAGE 2

/** One subcommand's parser. Initialise with the two names, the rest zero. */
typedef struct cliopt {
    const char *cmd;   /**< "check": how messages name the subcommand. */
    const char *usage; /**< The whole usage text, ending in a newline. */
    int started;       /**< Set by the first cliopt_next() (getopt reset). */
} cliopt_t;

/**
 * \brief The next option, like getopt_long(), with the rules above.
 *        `h` / `--help` are handled here: do not list them.
 * \param[in] shortopts getopt's short options, e.g. "c:qj" (no leading ':').
 * \param[in] longopts  getopt's table, {NULL, 0, NULL, 0}-terminated.
 * \return The option's value (optarg set as getopt sets it), CLIOPT_DONE,
 *         CLIOPT_HELP or CLIOPT_ERROR.
 */
int cliopt_next(cliopt_t *c, int argc, char **argv, const char *shortopts,
                const struct option *longopts);

/**
 * \brief After the cliopt_next() loop: turn its last result and the operands
 *        left into the subcommand's next step.
 * \param[in] r    cliopt_next()'s last return value.
 * \param[in] min_operands, max_operands How many operands (arguments after
 *                 the options) the subcommand takes; -1 for no upper bound.
 * \return -1 to go on (operands are argv[optind..argc-1]), or the exit code:
 *         0 after --help, 2 after a usage error (printed here).
 */
int cliopt_done(const cliopt_t *c, int r, int argc, char **argv, int min_operands,
                int max_operands);

/** \brief Write \p s as a JSON string (quotes, escapes); NULL writes null. For --json. */
void cliopt_json_str(FILE *fp, const char *s);

/**
 * \brief Parse an option's value as a whole decimal number in [min, max].
 * \param[in]  opt  The option as the user wrote it, for the message ("--partition").
 * \param[in]  v    The value (optarg).
 * \param[out] out  The number, set only on success.
 * \return 0, or CLIOPT_ERROR after printing why and the usage.
 */
int cliopt_num(const cliopt_t *c, const char *opt, const char *v, long long min, long long max,
               long long *out);

/**
 * \brief Print "event-router CMD: <message>" and the usage on stderr.
 * \return CLIOPT_EXIT_USAGE, to return from the subcommand.
 */
int cliopt_fail(const cliopt_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* ER_CLIOPT_H */
