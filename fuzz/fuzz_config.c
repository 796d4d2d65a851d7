/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_config: any bytes as router.yaml. Loading must either fail with a
 * "name:..." message or yield a config whose numbers lie in the key table's
 * ranges and that config_dump() can print; never crash, leak or read out
 * of bounds. Not a test of which messages are chosen.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every number key of a loaded config is within its range. */
static void check_ranges(const config_t *c)
{
    size_t count;
    const config_key_t *keys = config_keys(&count);

    for (size_t i = 0; i < count; i++) {
        const config_key_t *k = &keys[i];
        int stream = !strncmp(k->name, "streams[].", 10);
        for (unsigned s = 0; s < (stream ? c->streams_count : 1); s++) {
            const char *base = stream ? (const char *)&c->streams[s] : (const char *)c;
            int64_t v;
            uint32_t u32;
            int32_t i32;
            if (k->type == CONFIG_TYPE_UINT32) {
                memcpy(&u32, base + k->offset, sizeof(u32));
                v = u32;
            } else if (k->type == CONFIG_TYPE_INT32) {
                memcpy(&i32, base + k->offset, sizeof(i32));
                v = i32;
            } else if (k->type == CONFIG_TYPE_INT64) {
                memcpy(&v, base + k->offset, sizeof(v));
            } else {
                continue;
            }
            if (v < k->min || v > k->max)
                abort(); /* a number escaped the table's range */
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    config_t *c = NULL;
    char err[512];
    int rc = config_load_buffer("fuzz/router.yaml", data, size, &c, err, sizeof(err));

    if ((rc == 0) != (c != NULL))
        abort();
    if (rc != 0) {
        if (strncmp(err, "fuzz/router.yaml:", 17))
            abort(); /* an error must always say where */
        return 0;
    }
    check_ranges(c);
    if (!sink)
        sink = fopen("/dev/null", "w");
    if (sink)
        config_dump(c, sink);
    config_free(c);
    return 0;
}
