/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_log: any bytes become typed pairs (keys and values cut from the
 * input, types chosen by it) and are logged in both formats. Each line must
 * be one line of at most PIPE_BUF bytes; a JSON line must parse (yajl's
 * tree parser, which also rejects invalid UTF-8) into an object that starts
 * with ts, level, id, msg and has no key twice; a logfmt line must read
 * back as well-formed key=value pairs with no key twice. The log writes to
 * a memfd swapped onto stderr only around the call, so libFuzzer's own
 * reports still reach the terminal.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PAIRS 72 /* above log.c's 64, so its cap is exercised too */

static int out_fd = -1, saved_fd = -1;

static size_t capture(log_format_t fmt, const log_kv_t *kvs, size_t n, char *line, size_t cap)
{
    if (out_fd < 0) {
        out_fd = memfd_create("fuzz_log", 0);
        saved_fd = dup(STDERR_FILENO);
        if (out_fd < 0 || saved_fd < 0)
            abort();
    }
    if (ftruncate(out_fd, 0) != 0 || lseek(out_fd, 0, SEEK_SET) != 0)
        abort();
    log_setup(LOG_LVL_DEBUG, fmt);
    dup2(out_fd, STDERR_FILENO);
    log_write(LOG_LVL_WARN, "FUZ-0001", "fuzz", kvs, n);
    dup2(saved_fd, STDERR_FILENO);
    ssize_t got = pread(out_fd, line, cap, 0);
    if (got <= 0)
        abort();
    return (size_t)got;
}

/* Keys of a logfmt line, or abort if it is not well-formed. */
static size_t logfmt_keys(const char *s, size_t n, char keys[][80], size_t max)
{
    size_t i = 0, count = 0;
    while (i < n) {
        size_t k = 0;
        if (count == max)
            abort();
        if (count > 0 && s[i++] != ' ')
            abort();
        while (i < n && s[i] != '=' && k < 79) {
            if ((unsigned char)s[i] <= 0x20 || s[i] == '"' || s[i] == '\\')
                abort();
            keys[count][k++] = s[i++];
        }
        keys[count][k] = '\0';
        if (k == 0 || i >= n || s[i++] != '=')
            abort();
        if (i < n && s[i] == '"') {
            for (i++;; i++) {
                if (i >= n || (unsigned char)s[i] < 0x20 || s[i] == 0x7F)
                    abort();
                if (s[i] == '"')
                    break;
                if (s[i] == '\\' && ++i >= n)
                    abort();
            }
            i++;
        } else {
            if (i >= n || s[i] == ' ')
                abort(); /* empty values are always quoted */
            while (i < n && s[i] != ' ') {
                if ((unsigned char)s[i] < 0x21 || s[i] == 0x7F || s[i] == '=' || s[i] == '"' ||
                    s[i] == '\\')
                    abort();
                i++;
            }
        }
        count++;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char line[PIPE_BUF * 2];
    static char strs[MAX_PAIRS * 2][256];
    static char keys[MAX_PAIRS + 8][80];
    log_kv_t kvs[MAX_PAIRS];
    size_t n = 0, i = 0;

    /* Each pair: type byte, key length byte, key, value length (2 bytes), value. */
    while (n < MAX_PAIRS && i + 4 <= size) {
        uint8_t type = data[i], klen = data[i + 1] % 16;
        size_t vlen = (size_t)data[i + 2] << 8 | data[i + 3];
        i += 4;
        if (klen > size - i)
            klen = (uint8_t)(size - i);
        memcpy(strs[2 * n], data + i, klen);
        strs[2 * n][klen] = '\0'; /* a key is a C string; NULs end it early */
        i += klen;
        if (vlen > size - i)
            vlen = size - i;
        log_kv_t kv = {.key = (type & 0x80) ? NULL : strs[2 * n]};
        uint64_t num = 0;
        memcpy(&num, data + i, vlen < 8 ? vlen : 8);
        switch (type % 7) {
        case 0:
            kv.type = LKV_STR;
            memcpy(strs[2 * n + 1], data + i, vlen < 255 ? vlen : 255);
            strs[2 * n + 1][vlen < 255 ? vlen : 255] = '\0';
            kv.v.s = (type & 0x40) ? NULL : strs[2 * n + 1];
            break;
        case 1:
            kv.type = LKV_I64;
            kv.v.i = (int64_t)num;
            break;
        case 2:
            kv.type = LKV_U64;
            kv.v.u = num;
            break;
        case 3:
            kv.type = LKV_F64;
            memcpy(&kv.v.f, &num, sizeof(kv.v.f)); /* any bit pattern: NaN, inf, subnormal */
            break;
        case 4:
            kv.type = LKV_BOOL;
            kv.v.b = (int)(num & 1);
            break;
        case 5:
            kv.type = LKV_BYTES;
            kv.v.raw.p = data + i;
            kv.v.raw.n = vlen;
            break;
        default:
            kv.type = (log_kv_type_t)(LKV__COUNT + (type & 3)); /* caller bug: unknown type */
            break;
        }
        i += vlen;
        kvs[n++] = kv;
    }

    for (int fmt = 0; fmt < LOG_FMT__COUNT; fmt++) {
        size_t len = capture((log_format_t)fmt, kvs, n, line, sizeof(line) - 1);
        if (len > PIPE_BUF || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
            abort();
        line[len - 1] = '\0';
        if (fmt == LOG_FMT_JSON) {
            char err[128];
            yajl_val v = yajl_tree_parse(line, err, sizeof(err));
            if (!YAJL_IS_OBJECT(v) || v->u.object.len < 4 || strcmp(v->u.object.keys[0], "ts") ||
                strcmp(v->u.object.keys[1], "level") || strcmp(v->u.object.keys[2], "id") ||
                strcmp(v->u.object.keys[3], "msg"))
                abort();
            for (size_t a = 0; a < v->u.object.len; a++)
                for (size_t b = a + 1; b < v->u.object.len; b++)
                    if (!strcmp(v->u.object.keys[a], v->u.object.keys[b]))
                        abort();
            yajl_tree_free(v);
        } else {
            size_t nk = logfmt_keys(line, len - 1, keys, MAX_PAIRS + 8);
            if (nk < 4 || strcmp(keys[0], "ts") || strcmp(keys[1], "level") ||
                strcmp(keys[2], "id") || strcmp(keys[3], "msg"))
                abort();
            for (size_t a = 0; a < nk; a++)
                for (size_t b = a + 1; b < nk; b++)
                    if (!strcmp(keys[a], keys[b]))
                        abort();
        }
    }
    return 0;
}
