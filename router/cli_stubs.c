/* SPDX-License-Identifier: Apache-2.0 */
/* TEMPORARY: placeholders replaced by cli_rules.c and cli_run.c. */
#include <stdio.h>
#include "cli.h"
#define STUB(fn) int fn(int argc, char **argv) { (void)argc; fprintf(stderr, "%s: not built yet\n", argv[0]); return 2; }
STUB(cli_run)
STUB(cli_streams)
