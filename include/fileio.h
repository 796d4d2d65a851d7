/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file fileio.h
 * \brief Read a whole regular file into memory, bounded: the one file reader
 *        behind the config loader (config.c) and the secret reader
 *        (secret.c).
 *
 * Not for: anything on the event path (no I/O there), or files that grow
 * while read (a file that shrinks under the reader gives what is there).
 *
 * Threads: reentrant; any thread.
 */
#ifndef ER_FILEIO_H
#define ER_FILEIO_H

#include <stddef.h>

/**
 * \brief Read \p path whole.
 * \param[in]  path        file to read; must be a regular file.
 * \param[in]  max         largest size accepted, in bytes.
 * \param[out] out         malloc'd content with a NUL after it; the caller frees.
 * \param[out] len         bytes read (the NUL not counted).
 * \param[out] errstr      "PATH: reason" (cannot open, not a regular file,
 *                         larger than MAX bytes, out of memory, read error);
 *                         never any of the content.
 * \param[in]  errstr_size size of \p errstr.
 * \return 0, or -1 with \p errstr set. On error nothing is allocated, and
 *         what had been read is wiped first (the file may hold a secret).
 */
int fileio_read(const char *path, size_t max, char **out, size_t *len, char *errstr,
                size_t errstr_size);

#endif /* ER_FILEIO_H */
