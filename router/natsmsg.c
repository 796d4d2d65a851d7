/* SPDX-License-Identifier: Apache-2.0 */
/*
 * natsmsg: a routed event becomes a NATS message, the header policy
 * included (see natsmsg.h for the policy and why it exists). The policy is
 * a pure function of one header so that a table of hostile cases and a
 * fuzzer can prove it; the builder only applies it and adds what the router
 * itself sets. No I/O, no globals; the router counts what is left out.
 *
 * Not for: routing decisions (route.c), publishing or retries (router.c,
 * sink.c).
 */
#include "natsmsg.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const verdict_names[NATSMSG_VERDICT__COUNT] = {
    [NATSMSG_COPY] = "copy",
    [NATSMSG_DROP_RESERVED_NATS] = "reserved_nats",
    [NATSMSG_DROP_RESERVED_ROUTER] = "reserved_router",
    [NATSMSG_DROP_TOO_LONG] = "too_long",
    [NATSMSG_DROP_BAD_NAME] = "bad_name",
    [NATSMSG_DROP_NOT_PRINTABLE] = "not_printable",
};

const char *natsmsg_verdict_name(natsmsg_verdict_t v)
{
    return (unsigned)v < NATSMSG_VERDICT__COUNT ? verdict_names[v] : "unknown";
}

int natsmsg_is_cloudevent_header(const char *name)
{
    return !strncmp(name, "ce_", 3);
}

/* Control bytes would end the header line (CR, LF) or confuse readers;
 * bytes >= 0x80 pass (UTF-8 text). */
static int printable(const void *v, size_t len)
{
    const unsigned char *c = v;
    for (size_t i = 0; i < len; i++)
        if (c[i] < 0x20 || c[i] == 0x7f)
            return 0;
    return 1;
}

/* A NATS header name: visible ASCII without ':' (the line is "Name: value"). */
static int valid_name(const char *n)
{
    const unsigned char *c = (const unsigned char *)n;
    if (!*c)
        return 0;
    for (; *c; c++)
        if (*c <= ' ' || *c >= 0x7f || *c == ':')
            return 0;
    return 1;
}

/* The provenance headers natsmsg_build() sets; a Kafka header may not
 * carry any letter case of them. */
static const char *const router_headers[] = {"Kafka-Topic", "Kafka-Partition", "Kafka-Offset",
                                             "Kafka-Timestamp", "Kafka-Key"};

static int is_router_header(const char *name)
{
    for (size_t i = 0; i < sizeof(router_headers) / sizeof(router_headers[0]); i++)
        if (!strcasecmp(name, router_headers[i]))
            return 1;
    return 0;
}

natsmsg_verdict_t natsmsg_header_policy(const char *name, const void *value, size_t value_len,
                                        int is_cloudevent, char *out_name, size_t out_name_size)
{
    size_t nlen = strnlen(name, NATSMSG_NAME_MAX + 1);

    if (!value)
        value_len = 0;
    /* First, whatever else is wrong: a JetStream control header is the one
     * a runbook must be able to tell apart (and count) from noise. */
    if (!strncasecmp(name, "Nats-", 5))
        return NATSMSG_DROP_RESERVED_NATS;
    if (is_router_header(name))
        return NATSMSG_DROP_RESERVED_ROUTER;
    if (nlen > NATSMSG_NAME_MAX || value_len > NATSMSG_VALUE_MAX ||
        out_name_size <= NATSMSG_NAME_MAX)
        return NATSMSG_DROP_TOO_LONG;
    if (!valid_name(name))
        return NATSMSG_DROP_BAD_NAME;
    if (!printable(value, value_len))
        return NATSMSG_DROP_NOT_PRINTABLE;
    if (natsmsg_is_cloudevent_header(name))
        snprintf(out_name, out_name_size, "ce-%s", name + 3);
    else if (is_cloudevent && !strcasecmp(name, "content-type"))
        snprintf(out_name, out_name_size, "ce-datacontenttype");
    else
        memcpy(out_name, name, nlen + 1);
    return NATSMSG_COPY;
}

/* Decimal text of v in buf (at least 21 bytes). On the per-event path
 * snprintf was ~5 % of the router's instructions (callgrind). */
static const char *fmt_i64(char *buf, int64_t v)
{
    char *p = buf + 20;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    *p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return p;
}

static natsStatus copy_headers(natsMsg *nm, const natsmsg_input_t *in,
                               uint32_t dropped[NATSMSG_VERDICT__COUNT])
{
    route_header_t h;
    char name[NATSMSG_NAME_MAX + 1], value[NATSMSG_VALUE_MAX + 1];
    int is_ce = 0;
    size_t i;

    for (i = 0; !in->header_at(in->header_ctx, i, &h); i++)
        if (h.name && natsmsg_is_cloudevent_header(h.name))
            is_ce = 1;
    for (i = 0; !in->header_at(in->header_ctx, i, &h); i++) {
        if (!h.name)
            continue;
        natsmsg_verdict_t v =
            natsmsg_header_policy(h.name, h.value, h.value_len, is_ce, name, sizeof(name));
        dropped[v]++;
        if (v != NATSMSG_COPY)
            continue;
        size_t len = h.value ? h.value_len : 0;
        if (len)
            memcpy(value, h.value, len);
        value[len] = '\0';
        natsStatus s = natsMsgHeader_Add(nm, name, value);
        if (s != NATS_OK)
            return s;
    }
    return NATS_OK;
}

natsStatus natsmsg_build(natsMsg **out, const natsmsg_input_t *in,
                         uint32_t dropped[NATSMSG_VERDICT__COUNT])
{
    natsMsg *nm = NULL;
    char num[24];
    natsStatus s;

    *out = NULL;
    if (in->payload_len > INT32_MAX)
        return NATS_MAX_PAYLOAD;
    s = natsMsg_Create(&nm, in->subject, NULL, in->payload, (int)in->payload_len);
    if (s != NATS_OK)
        return s;
    if (in->header_at)
        s = copy_headers(nm, in, dropped);
    /* Set, not Add: a Kafka header of the same name cannot stand beside these. */
    if (s == NATS_OK)
        s = natsMsgHeader_Set(nm, router_headers[0], in->topic);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(nm, router_headers[1], fmt_i64(num, in->partition));
    if (s == NATS_OK)
        s = natsMsgHeader_Set(nm, router_headers[2], fmt_i64(num, in->offset));
    if (s == NATS_OK && in->timestamp_ms >= 0)
        s = natsMsgHeader_Set(nm, router_headers[3], fmt_i64(num, in->timestamp_ms));
    if (s == NATS_OK && in->key && in->key_len > 0 && in->key_len <= NATSMSG_KEY_MAX &&
        printable(in->key, in->key_len)) {
        char kbuf[NATSMSG_KEY_MAX + 1];
        memcpy(kbuf, in->key, in->key_len);
        kbuf[in->key_len] = '\0';
        s = natsMsgHeader_Set(nm, router_headers[4], kbuf);
    }
    for (size_t i = 0; s == NATS_OK && in->route && i < in->route->header_count; i++)
        s = natsMsgHeader_Set(nm, in->route->headers[i].name, in->route->headers[i].value);
    /* Last, and the only Nats-* header a message ever carries. */
    if (s == NATS_OK && in->msg_id)
        s = natsMsgHeader_Set(nm, "Nats-Msg-Id", in->msg_id);
    if (s != NATS_OK) {
        natsMsg_Destroy(nm);
        return s;
    }
    *out = nm;
    return NATS_OK;
}
