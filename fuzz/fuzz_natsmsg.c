/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_natsmsg: hostile Kafka headers through the header policy and the
 * message builder. Besides the sanitizers, it checks the promises of
 * natsmsg.h, and aborts when one breaks:
 *   - no header whose name starts with "Nats-" (any case) is ever copied;
 *     a built message's only Nats-* header is the router's Nats-Msg-Id,
 *     with exactly the dedup ID, and only when one was given;
 *   - every header name is visible ASCII without ':' and at most 255
 *     bytes, every value has no control byte and is at most 4 KiB;
 *   - every Kafka header is either copied or counted with one reason.
 *
 * Input: byte 0 = flags (1: JetStream route, the message gets Nats-Msg-Id);
 * then headers separated by 0xFE, each "name 0xFF value" (no 0xFF: a null
 * value). A name ends at its first NUL, as librdkafka hands it over.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "natsmsg.h"

#define MAX_FUZZ_HEADERS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct hdrs {
    route_header_t h[MAX_FUZZ_HEADERS];
    size_t n;
} hdrs_t;

static int array_at(void *ctx, size_t i, route_header_t *out)
{
    const hdrs_t *a = ctx;
    if (i >= a->n)
        return 1;
    *out = a->h[i];
    return 0;
}

static void check(int ok)
{
    if (!ok)
        abort();
}

static int name_ok(const char *n)
{
    size_t len = strlen(n);
    if (!len || len > NATSMSG_NAME_MAX)
        return 0;
    for (const unsigned char *c = (const unsigned char *)n; *c; c++)
        if (*c <= ' ' || *c >= 0x7f || *c == ':')
            return 0;
    return 1;
}

static int value_ok(const char *v)
{
    size_t len = strlen(v);
    if (len > NATSMSG_VALUE_MAX)
        return 0;
    for (const unsigned char *c = (const unsigned char *)v; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return 0;
    return 1;
}

static void check_message(natsMsg *nm, const char *msg_id)
{
    const char **keys = NULL, **vals = NULL;
    int nkeys = 0, nvals = 0, saw_id = 0;

    check(natsMsgHeader_Keys(nm, &keys, &nkeys) == NATS_OK);
    for (int i = 0; i < nkeys; i++) {
        check(name_ok(keys[i]));
        if (!strncasecmp(keys[i], "Nats-", 5)) {
            check(msg_id && !strcmp(keys[i], "Nats-Msg-Id"));
            saw_id = 1;
        }
        check(natsMsgHeader_Values(nm, keys[i], &vals, &nvals) == NATS_OK);
        for (int v = 0; v < nvals; v++)
            check(value_ok(vals[v]));
        if (!strcmp(keys[i], "Nats-Msg-Id"))
            check(nvals == 1 && !strcmp(vals[0], msg_id));
        free((void *)vals);
    }
    check(saw_id == (msg_id != NULL));
    free((void *)keys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int opened;
    static char names[MAX_FUZZ_HEADERS][NATSMSG_NAME_MAX + 64];
    static route_result_t res;
    hdrs_t a = {.n = 0};
    uint32_t dropped[NATSMSG_VERDICT__COUNT] = {0};
    size_t i = 1;

    if (!opened)
        opened = nats_Open(-1) == NATS_OK;
    if (!size)
        return 0;
    while (i <= size && a.n < MAX_FUZZ_HEADERS) {
        const uint8_t *rec = data + i, *end = memchr(rec, 0xFE, size - i);
        size_t rlen = end ? (size_t)(end - rec) : size - i;
        const uint8_t *sep = memchr(rec, 0xFF, rlen);
        size_t nlen = sep ? (size_t)(sep - rec) : rlen;
        if (nlen >= sizeof(names[0]))
            nlen = sizeof(names[0]) - 1;
        memcpy(names[a.n], rec, nlen);
        names[a.n][nlen] = '\0';
        a.h[a.n].name = names[a.n];
        a.h[a.n].value = sep ? sep + 1 : NULL;
        a.h[a.n].value_len = sep ? (size_t)(rec + rlen - (sep + 1)) : 0;
        a.n++;
        i += rlen + 1;
    }

    /* The policy, one header at a time. */
    for (size_t k = 0; k < a.n; k++) {
        char out[NATSMSG_NAME_MAX + 1];
        natsmsg_verdict_t v = natsmsg_header_policy(a.h[k].name, a.h[k].value, a.h[k].value_len,
                                                    k & 1, out, sizeof(out));
        check((unsigned)v < NATSMSG_VERDICT__COUNT);
        if (!strncasecmp(a.h[k].name, "Nats-", 5))
            check(v == NATSMSG_DROP_RESERVED_NATS);
        if (v == NATSMSG_COPY) {
            check(name_ok(out) && strncasecmp(out, "Nats-", 5));
            check(a.h[k].value_len <= NATSMSG_VALUE_MAX);
            for (size_t b = 0; a.h[k].value && b < a.h[k].value_len; b++)
                check(((const uint8_t *)a.h[k].value)[b] >= 0x20 &&
                      ((const uint8_t *)a.h[k].value)[b] != 0x7f);
        }
    }

    /* The builder. */
    const char *msg_id = (data[0] & 1) ? "evt-1" : NULL;
    natsmsg_input_t in = {
        .subject = "commands.officer.change-status",
        .payload = data,
        .payload_len = size,
        .header_at = array_at,
        .header_ctx = &a,
        .topic = "officer-events",
        .partition = 0,
        .offset = (int64_t)size,
        .timestamp_ms = -1,
        .key = data,
        .key_len = size < 300 ? size : 300,
        .route = &res,
        .msg_id = msg_id,
    };
    natsMsg *nm = NULL;
    if (natsmsg_build(&nm, &in, dropped) != NATS_OK)
        return 0; /* out of memory is not a finding */
    uint64_t total = 0;
    for (int v = 0; v < NATSMSG_VERDICT__COUNT; v++)
        total += dropped[v];
    check(total == a.n);
    check_message(nm, msg_id);
    natsMsg_Destroy(nm);
    return 0;
}
