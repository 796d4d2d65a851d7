/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file naming.h
 * \brief Event-name arithmetic: split a PascalCase/camelCase event type into
 *        words, kebab-case them, find the domain word(s), check that a token
 *        is safe to put in a NATS subject.
 *
 * The word-split algorithm (documented in docs/rules.md, tested in
 * tests/unit/test_naming.c) looks only at ASCII character classes:
 *   - '_' and '-' separate words and are dropped;
 *   - an upper-case letter starts a new word after a lower-case letter or a
 *     digit ("registerOfficer" -> register|Officer, "Assign2Units" ->
 *     Assign2|Units);
 *   - in a run of capitals, the last capital starts a new word when a
 *     lower-case letter follows it ("AssignGPSUnit" -> Assign|GPS|Unit);
 *   - digits never start a word: they stay with the word before them
 *     ("Ipv6Address" -> Ipv6|Address, "V2" -> V2);
 *   - any other byte (including '.', '*', '>', space, non-ASCII) is an error.
 * Words are then lower-cased and joined with '-'.
 *
 * Not for: deciding which event types are critical or what the subject looks
 * like (rules.h / route.h). No allocation; every function is pure and
 * reentrant.
 */
#ifndef ER_NAMING_H
#define ER_NAMING_H

#include <stddef.h>
#include <stdint.h>

#define NAMING_MAX_WORDS 32  /**< More words than this is an error. */
#define NAMING_MAX_LEN   255 /**< Longest name accepted, in bytes. */

/** One word: a span of the original name (original case). */
typedef struct naming_word {
    uint16_t off;
    uint16_t len;
} naming_word_t;

/** The words of one name, in order. */
typedef struct naming_words {
    naming_word_t w[NAMING_MAX_WORDS];
    size_t n;
} naming_words_t;

typedef enum naming_err {
    NAMING_OK,
    NAMING_E_EMPTY,    /**< No word at all ("", "_", "--"). */
    NAMING_E_CHAR,     /**< A byte outside [A-Za-z0-9_-]. */
    NAMING_E_TOO_LONG, /**< Longer than NAMING_MAX_LEN. */
    NAMING_E_TOO_MANY, /**< More than NAMING_MAX_WORDS words. */
    NAMING_E_NO_ROOM,  /**< Output buffer too small. */
    NAMING_E__COUNT
} naming_err_t;

/**
 * \brief Human-readable text for an error code.
 * \param[in] e Code.
 * \return Static string; never NULL.
 */
const char *naming_strerror(naming_err_t e);

/**
 * \brief Split \p s into words (see the file comment for the rules).
 * \param[in]  s   Name bytes (need not be NUL-terminated).
 * \param[in]  len Length of \p s.
 * \param[out] out Words found; out->n is 0 on error.
 * \return NAMING_OK, or why the name cannot be split.
 */
naming_err_t naming_split(const char *s, size_t len, naming_words_t *out);

/**
 * \brief Write words [\p from, \p to) of \p s, except the \p skip_n words
 *        starting at \p skip_at, lower-cased and joined with '-'.
 * \param[in]  s       The name the words refer to.
 * \param[in]  w       Its words.
 * \param[in]  from    First word to write.
 * \param[in]  to      One past the last word to write.
 * \param[in]  skip_at First word to leave out (ignored when \p skip_n is 0).
 * \param[in]  skip_n  How many words to leave out.
 * \param[out] buf     Output, NUL-terminated on success.
 * \param[in]  size    Size of \p buf.
 * \param[out] out_len Bytes written, without the NUL.
 * \return NAMING_OK, NAMING_E_EMPTY when nothing was written, or
 *         NAMING_E_NO_ROOM.
 */
naming_err_t naming_kebab_words(const char *s, const naming_words_t *w, size_t from, size_t to,
                                size_t skip_at, size_t skip_n, char *buf, size_t size,
                                size_t *out_len);

/**
 * \brief Kebab-case a whole name ("ChangeOfficerStatus" -> "change-officer-status").
 * \param[in]  s       Name bytes.
 * \param[in]  len     Length of \p s.
 * \param[out] buf     Output, NUL-terminated on success.
 * \param[in]  size    Size of \p buf.
 * \param[out] out_len Bytes written, without the NUL. May be NULL.
 * \return NAMING_OK or an error code.
 */
naming_err_t naming_kebab(const char *s, size_t len, char *buf, size_t size, size_t *out_len);

/**
 * \brief Find the first position in \p w where one of \p ndomains kebab-case
 *        domains (each possibly several words, "patrol-unit") matches,
 *        comparing case-insensitively. At the same position the domain with
 *        more words wins.
 * \param[in]  s        The name \p w refers to.
 * \param[in]  w        Its words.
 * \param[in]  domains  Kebab-case domain names (lower-case, '-' between words).
 * \param[in]  lens     Their lengths.
 * \param[in]  ndomains How many.
 * \param[out] at       First word of the match.
 * \param[out] nwords   Number of words matched.
 * \return Index of the domain found, or -1 when none matches.
 */
int naming_find_domain(const char *s, const naming_words_t *w, const char *const *domains,
                       const size_t *lens, size_t ndomains, size_t *at, size_t *nwords);

/**
 * \brief Find the words of kebab-case \p kebab (e.g. an aggregate type already
 *        kebab-cased) as a run of words in \p w.
 * \param[in]  s      The name \p w refers to.
 * \param[in]  w      Its words.
 * \param[in]  kebab  Lower-case words joined with '-'.
 * \param[in]  klen   Length of \p kebab.
 * \param[out] at     First word of the match.
 * \param[out] nwords Number of words matched.
 * \return 1 when found, 0 otherwise.
 */
int naming_find_words(const char *s, const naming_words_t *w, const char *kebab, size_t klen,
                      size_t *at, size_t *nwords);

/**
 * \brief Is \p s a non-empty token of only [A-Za-z0-9_-]? This is the one
 *        test every data-derived subject token must pass.
 * \param[in] s   Bytes.
 * \param[in] len Length.
 * \return 1 if safe, 0 otherwise.
 */
int naming_token_safe(const char *s, size_t len);

#endif /* ER_NAMING_H */
