/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nkey: derive a NATS user nkey's public key from its seed (see nkey.h for
 * the encoding). Every buffer that held seed bytes is wiped before return.
 * Not for: key generation or signing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "nkey.h"
#include "secret.h"

#define PREFIX_SEED  0x90u /* 18 << 3: 'S' */
#define PREFIX_USER  0xA0u /* 20 << 3: 'U' */
#define RAW_SEED_LEN 36    /* 2 prefix bytes + 32 + crc */
#define RAW_PUB_LEN  35    /* 1 prefix byte + 32 + crc */

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static uint16_t crc16(const unsigned char *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

/* Decode base32 without padding; returns bytes written or -1. */
static int b32_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = memchr(b32, s[i], 32);
        if (!c || !s[i])
            return -1;
        acc = (acc << 5) | (uint32_t)(c - b32);
        bits += 5;
        if (bits >= 8) {
            if (o == cap)
                return -1;
            out[o++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return (int)o;
}

static void b32_encode(const unsigned char *p, size_t n, char *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32[(acc << (5 - bits)) & 31];
    out[o] = '\0';
}

int nkey_public_from_seed(const char *seed, char *pub, size_t pub_size, char *errstr,
                          size_t errstr_size)
{
    unsigned char raw[RAW_SEED_LEN + 4], pubraw[RAW_PUB_LEN];
    size_t n, publen = 32;
    EVP_PKEY *pk = NULL;
    int rc = -1, len;

    while (*seed == ' ' || *seed == '\t' || *seed == '\n' || *seed == '\r')
        seed++;
    n = strspn(seed, b32);
    if (pub_size < NKEY_PUBLIC_LEN + 1) {
        snprintf(errstr, errstr_size, "buffer too small");
        return -1;
    }
    len = b32_decode(seed, n, raw, sizeof(raw));
    if (len != RAW_SEED_LEN || seed[0] != 'S') {
        snprintf(errstr, errstr_size,
                 "not an nkey seed (expected 58 base32 characters "
                 "starting with 'SU')");
        goto out;
    }
    if (crc16(raw, RAW_SEED_LEN - 2) != (uint16_t)(raw[34] | raw[35] << 8)) {
        snprintf(errstr, errstr_size, "nkey seed checksum mismatch (truncated or mistyped?)");
        goto out;
    }
    if ((raw[0] & 0xF8u) != PREFIX_SEED ||
        (((raw[0] & 7u) << 5) | ((raw[1] & 0xF8u) >> 3)) != PREFIX_USER) {
        snprintf(errstr, errstr_size,
                 "not a user nkey seed (it starts with '%.2s'; a user seed starts with 'SU')",
                 seed);
        goto out;
    }
    pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 2, 32);
    if (!pk || EVP_PKEY_get_raw_public_key(pk, pubraw + 1, &publen) != 1 || publen != 32) {
        snprintf(errstr, errstr_size, "libcrypto could not derive the Ed25519 public key");
        goto out;
    }
    pubraw[0] = PREFIX_USER;
    uint16_t c = crc16(pubraw, 33);
    pubraw[33] = (unsigned char)(c & 0xFF);
    pubraw[34] = (unsigned char)(c >> 8);
    b32_encode(pubraw, RAW_PUB_LEN, pub);
    rc = 0;
out:
    EVP_PKEY_free(pk);
    explicit_bzero(raw, sizeof(raw));
    return rc;
}

int nkey_public_from_seed_file(const char *path, char *pub, size_t pub_size, char *errstr,
                               size_t errstr_size)
{
    char err[256];
    char *seed = secret_read_file(path, err, sizeof(err));
    if (!seed) {
        snprintf(errstr, errstr_size, "%s", err[0] ? err : "cannot read the seed file");
        return -1;
    }
    int rc = nkey_public_from_seed(seed, pub, pub_size, err, sizeof(err));
    if (rc != 0)
        snprintf(errstr, errstr_size, "%s: %s", path, err);
    secret_free(seed);
    return rc;
}
