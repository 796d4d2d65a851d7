/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file buf.h
 * \brief The one byte buffer every module appends text to: growable on the
 *        heap, or fixed over memory the caller owns (a stack line).
 *
 * Content is always NUL-terminated once the buffer holds memory, so
 * buf.p can be handed to anything that wants a C string; buf.len does not
 * count the NUL.
 *
 * What happens when an append cannot be done in full is the one rule of
 * this module, the same in every mode: the buffer keeps what it had,
 * becomes failed (buf.failed = 1, sticky), ignores every later append, and
 * the append returns -1. Nothing here exits, aborts or logs. The caller
 * looks once, at the end (buf.failed, or any append's return), and treats
 * a failed growable buffer as an allocation failure to return to its own
 * caller (the policy of alloc.h); for a fixed buffer "failed" means "did
 * not fit", which the caller may undo with buf_rewind() (log.c drops a
 * pair that does not fit and goes on). One exception, asked for at init:
 * a fixed buffer made with BUF_CUT keeps the part of an append that fits
 * (the redaction helpers' "truncated if short" contract), and is failed
 * too.
 *
 * BUF_WIPE (growable only) is for secrets: memory the buffer leaves behind
 * when it moves, and its memory on buf_free(), is wiped first.
 *
 * Ownership: a growable buffer owns buf.p until buf_take() hands it to the
 * caller or buf_free() releases it; a fixed buffer never owns its memory.
 * Threads: a buf_t is used by one thread at a time; no global state.
 */
#ifndef ER_BUF_H
#define ER_BUF_H

#include <stdarg.h>
#include <stddef.h>

#define BUF_FIXED 1u /**< Memory given by the caller; never grows. */
#define BUF_CUT   2u /**< Fixed only: keep what fits of an append that does not. */
#define BUF_WIPE  4u /**< Growable only: wipe memory before it is moved or freed. */

typedef struct buf {
    char *p;        /**< Content; NULL only for a growable buffer not yet used. */
    size_t len;     /**< Content bytes, without the NUL. */
    size_t size;    /**< Bytes at \p p. */
    size_t limit;   /**< Fixed only: most content bytes accepted (<= size - 1). */
    unsigned flags; /**< BUF_* */
    int failed;     /**< 1 once an append did not fit or could not allocate. */
} buf_t;

/** An empty growable buffer: `buf_t b = BUF_INIT;` (no allocation yet). */
#define BUF_INIT                                                                                   \
    {                                                                                              \
        0                                                                                          \
    }

/**
 * \brief Start an empty growable buffer.
 * \param[out] b     Buffer.
 * \param[in]  flags 0 or BUF_WIPE.
 */
void buf_init(buf_t *b, unsigned flags);

/**
 * \brief Start an empty fixed buffer over \p mem (which the caller keeps
 *        owning). \p mem[0] becomes NUL when \p size > 0; a zero \p size
 *        makes every non-empty append fail.
 * \param[out] b     Buffer.
 * \param[in]  mem   Memory of \p size bytes, room for the NUL included.
 * \param[in]  size  Its size.
 * \param[in]  flags 0 or BUF_CUT.
 */
void buf_init_fixed(buf_t *b, char *mem, size_t size, unsigned flags);

/**
 * \brief Fixed buffers: accept at most \p limit content bytes from now on
 *        (clamped to size - 1). Lets a caller keep room for a tail it
 *        appends last. No effect on a growable buffer.
 * \param[in,out] b     Buffer.
 * \param[in]     limit Content bytes.
 */
void buf_set_limit(buf_t *b, size_t limit);

/**
 * \brief Append \p n bytes (any bytes, NULs included).
 * \param[in,out] b Buffer.
 * \param[in]     s Bytes; may be NULL when \p n is 0.
 * \param[in]     n Count.
 * \return 0, or -1 when the buffer is (now) failed.
 */
int buf_append(buf_t *b, const void *s, size_t n);

/** \brief buf_append() of a C string. \return 0 or -1, as buf_append(). */
int buf_puts(buf_t *b, const char *s);

/** \brief Append printf-formatted text. \return 0 or -1, as buf_append(). */
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** \brief buf_printf() with a va_list. \return 0 or -1, as buf_append(). */
int buf_vprintf(buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/**
 * \brief Cut the content back to \p len bytes (no-op if already shorter) and
 *        clear the failed mark: "undo what I appended since I noted len".
 * \param[in,out] b   Buffer.
 * \param[in]     len Length to keep.
 */
void buf_rewind(buf_t *b, size_t len);

/**
 * \brief Hand a growable buffer's content to the caller and reset \p b to
 *        empty. An empty buffer that never allocated yields a malloc'd "".
 * \param[in,out] b Buffer (growable, not failed).
 * \return The NUL-terminated content, the caller frees it (with
 *         explicit_bzero first for a BUF_WIPE buffer); NULL when the buffer
 *         is failed, fixed, or "" could not be allocated (then \p b is
 *         freed).
 */
char *buf_take(buf_t *b);

/**
 * \brief Release a growable buffer's memory (wiped first with BUF_WIPE)
 *        and reset it to empty; a fixed buffer is only emptied. NULL is a
 *        no-op.
 * \param[in,out] b Buffer.
 */
void buf_free(buf_t *b);

#endif /* ER_BUF_H */
