/* SPDX-License-Identifier: Apache-2.0 */
/*
 * unit_tmp.h - a scratch directory per test and a file writer, for the unit
 * suites that load files (config, kconf secrets). Header-only: each suite
 * is its own executable.
 */
#ifndef ER_UNIT_TMP_H
#define ER_UNIT_TMP_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/* Create /tmp/er-NAME-XXXXXX into dir (at least 64 bytes). */
static inline void unit_tmpdir_make(char *dir, size_t size, const char *name)
{
    snprintf(dir, size, "/tmp/er-%s-XXXXXX", name);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Remove dir and everything in it. */
static inline void unit_tmpdir_remove(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static inline void unit_write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

#endif /* ER_UNIT_TMP_H */
