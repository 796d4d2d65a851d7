/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file utf8.h
 * \brief The one UTF-8 rule: what counts as a valid sequence (no overlong
 *        forms, no surrogates, nothing above U+10FFFF, nothing cut short).
 *
 * Two ways to ask, for the two kinds of caller: utf8_valid() for those that
 * reject a value that is not UTF-8 (route.c: tokens and header values from
 * events), utf8_decode() for those that walk text and replace or escape
 * what is invalid (log.c's \\xNN escapes, metrics.c's U+FFFD in label
 * values). Both judge by the same code.
 *
 * Threads: pure and reentrant, any thread; nothing is allocated.
 */
#ifndef ER_UTF8_H
#define ER_UTF8_H

#include <stddef.h>
#include <stdint.h>

/**
 * \brief Decode the one sequence at the start of \p p.
 * \param[in]  p  Bytes (any, untrusted).
 * \param[in]  n  How many there are; 0 is allowed.
 * \param[out] cp The code point; may be NULL.
 * \return Length of the valid sequence (1..4), or 0 when the bytes at \p p
 *         are not one (or \p n is 0).
 */
size_t utf8_decode(const void *p, size_t n, uint32_t *cp);

/**
 * \brief Whether all \p n bytes are valid UTF-8.
 * \param[in] p Bytes.
 * \param[in] n Count.
 * \return 1 if valid (an empty run is), 0 if not.
 */
int utf8_valid(const void *p, size_t n);

#endif /* ER_UTF8_H */
