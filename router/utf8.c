/* SPDX-License-Identifier: Apache-2.0 */
/*
 * utf8: one validator for envelope values, log text and metric labels, so
 * that what one part of the router calls valid UTF-8 the others do too.
 * Lead bytes C0, C1 and F5..FF are never valid; E0, ED, F0 and F4 limit
 * the second byte (overlong, surrogate and > U+10FFFF forms), checked here
 * on the decoded value.
 */
#include "utf8.h"

size_t utf8_decode(const void *p, size_t n, uint32_t *cp)
{
    const unsigned char *s = p;
    uint32_t c;
    size_t len;

    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        if (cp)
            *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        c = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        c = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0; /* cut short */
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    if (cp)
        *cp = c;
    return len;
}

int utf8_valid(const void *p, size_t n)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < n;) {
        size_t len = s[i] < 0x80 ? 1 : utf8_decode(s + i, n - i, NULL);
        if (!len)
            return 0;
        i += len;
    }
    return 1;
}
