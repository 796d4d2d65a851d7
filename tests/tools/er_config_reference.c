/* SPDX-License-Identifier: Apache-2.0 */
/*
 * er_config_reference - print docs/config.md, the reference of every
 * router.yaml key, from the key table in router/config.c:
 *
 *   ./build/tools/er_config_reference > docs/config.md
 *
 * The unit test config_reference_matches_docs (tests/unit/test_config.c)
 * fails when the committed file differs from this output.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

int main(void)
{
    config_reference(stdout);
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
