/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_envelope: any bytes as a record value. The bounded JSON parse, path
 * lookups, unescaping, UTF-8 validation and kebab-casing must never crash,
 * hang or read out of bounds; a found string must lie inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "naming.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"eventType", "eventId", "data.a.b", "metadata.eventType",
                                        "a"};
    envelope_limits_t lim = {.max_bytes = 1u << 20, .max_tokens = 512};
    envelope_json_t j;
    const char *s = (const char *)data;
    char buf[512], err[128];
    size_t n;

    (void)utf8_valid(s, size);
    (void)naming_kebab(s, size, buf, sizeof(buf), &n);
    (void)envelope_unescape(s, size, buf, sizeof(buf), &n);
    if (envelope_json_parse(&j, s, size, &lim) != ENVELOPE_OK)
        return 0;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        envelope_path_t p;
        envelope_str_t v;
        if (envelope_path_compile(paths[i], strlen(paths[i]), &p, err, sizeof(err)))
            abort();
        if (!envelope_json_get(&j, &p, &v))
            continue;
        if (v.s < s || v.s + v.len > s + size)
            abort();
        if (v.escaped)
            (void)envelope_unescape(v.s, v.len, buf, sizeof(buf), &n);
    }
    return 0;
}
