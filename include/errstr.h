/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file errstr.h
 * \brief The one writer of the caller's error buffer (errstr, errstr_size),
 *        the project's way of returning a message with a status.
 *
 * Threads: any; nothing is allocated, nothing is shared.
 */
#ifndef ER_ERRSTR_H
#define ER_ERRSTR_H

#include <stddef.h>

/**
 * \brief Format into \p errstr (truncating to \p size). A NULL buffer or a
 *        zero size is allowed: the message is then dropped.
 */
void errstr_set(char *errstr, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* ER_ERRSTR_H */
