/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file glob.h
 * \brief The rule file's glob: '*' is any run of bytes, '?' one byte, every
 *        other byte literal (no classes, no escapes, no '/' rule).
 *
 * Used by the evaluator (route.c: type, topic and header-value patterns) and
 * by the compiler (rules.c: which earlier route shadows a later one), so it
 * sits below both. Pure, reentrant, allocates nothing; any thread.
 */
#ifndef ER_GLOB_H
#define ER_GLOB_H

#include <stddef.h>

/**
 * \brief Glob match. Iterative; O(len(p) * len(s)) worst case, so callers
 *        bound len(s).
 * \param[in] p    Pattern (not NUL-terminated).
 * \param[in] plen Its length.
 * \param[in] s    Subject (any bytes; not NUL-terminated).
 * \param[in] slen Its length.
 * \return 1 on a match, 0 otherwise.
 */
int glob_match(const char *p, size_t plen, const char *s, size_t slen);

#endif /* ER_GLOB_H */
