/* SPDX-License-Identifier: Apache-2.0 */
/**
 * \file nkey.h
 * \brief The public key of a NATS user nkey, derived from its seed file, so
 *        that `nats.nkey_seed_file` is the only thing a user configures
 *        (cnats 3.4.1's natsOptions_SetNKeyFromSeed() wants both).
 *
 * An nkey seed ("SU...") is base32 (RFC 4648, no padding) of two prefix
 * bytes, the 32-byte Ed25519 seed and a CRC-16 (XMODEM) in little endian;
 * the public key ("U...") is base32 of the user prefix byte, the 32-byte
 * Ed25519 public key and its CRC-16. OpenSSL's libcrypto (already a
 * dependency of cnats) computes the public key.
 *
 * Not for: signing (cnats reads the seed file and signs the server's nonce).
 *
 * Threads: any; no shared state.
 */
#ifndef ER_NKEY_H
#define ER_NKEY_H

#include <stddef.h>

#define NKEY_PUBLIC_LEN 56 /**< characters of an encoded public key */

/**
 * \brief Derive the user public key from a seed string.
 * \param[in]  seed        "SU..." (surrounding whitespace allowed).
 * \param[out] pub         At least NKEY_PUBLIC_LEN + 1 bytes.
 * \param[out] errstr      Why the seed is not a user seed (never the seed itself).
 * \return 0 or -1.
 */
int nkey_public_from_seed(const char *seed, char *pub, size_t pub_size, char *errstr,
                          size_t errstr_size);

/**
 * \brief nkey_public_from_seed() on the content of a seed file (as written by
 *        `nk -gen user` or er-natsauth); the seed is wiped from memory after.
 * \return 0 or -1 with \p errstr naming the file.
 */
int nkey_public_from_seed_file(const char *path, char *pub, size_t pub_size, char *errstr,
                               size_t errstr_size);

#endif /* ER_NKEY_H */
