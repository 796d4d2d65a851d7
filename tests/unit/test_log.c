/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for log.c: the logfmt and JSON line formats, the level gate,
 * typed pairs holding hostile values (a value must stay one value in both
 * formats, checked by parsing the line: yajl's tree parser for JSON, a
 * strict logfmt reader below), truncation bounds and line atomicity across
 * threads. stderr is redirected to a temporary file while a test logs.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "log.h"

/* ---- stderr capture ------------------------------------------------------ */

static FILE *cap_file;
static int cap_saved = -1;

static void cap_begin(void)
{
    cap_file = tmpfile();
    ck_assert_ptr_nonnull(cap_file);
    fflush(stderr);
    cap_saved = dup(STDERR_FILENO);
    ck_assert_int_ge(cap_saved, 0);
    ck_assert_int_ge(dup2(fileno(cap_file), STDERR_FILENO), 0);
}

/* Returns the captured text (static buffer, NUL-terminated). */
static char *cap_end(size_t *len_out)
{
    static char text[4 << 20];
    size_t n;

    ck_assert_int_ge(dup2(cap_saved, STDERR_FILENO), 0);
    close(cap_saved);
    rewind(cap_file);
    n = fread(text, 1, sizeof(text) - 1, cap_file);
    text[n] = '\0';
    fclose(cap_file);
    if (len_out)
        *len_out = n;
    return text;
}

/* Check "YYYY-MM-DDTHH:MM:SS.mmmZ" at s. */
static int is_rfc3339_ms_utc(const char *s)
{
    const char *pat = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; pat[i]; i++) {
        if (pat[i] == 'd') {
            if (s[i] < '0' || s[i] > '9')
                return 0;
        } else if (s[i] != pat[i]) {
            return 0;
        }
    }
    return 1;
}

/* ---- readers: JSON via yajl's tree parser, logfmt by a strict reader ---- */

/* Parse one JSON line; fails the test unless it is an object. Free with yajl_tree_free. */
static yajl_val json_parse_line(const char *line)
{
    char err[256];
    yajl_val v = yajl_tree_parse(line, err, sizeof(err));
    ck_assert_msg(YAJL_IS_OBJECT(v), "not one JSON object (%s): %s", err, line);
    return v;
}

/* How many members of object o are named key (duplicates count twice). */
static int json_key_count(yajl_val o, const char *key)
{
    int n = 0;
    for (size_t i = 0; i < o->u.object.len; i++)
        n += !strcmp(o->u.object.keys[i], key);
    return n;
}

/* Member key of object o, or NULL. */
static yajl_val json_get(yajl_val o, const char *key)
{
    for (size_t i = 0; i < o->u.object.len; i++)
        if (!strcmp(o->u.object.keys[i], key))
            return o->u.object.values[i];
    return NULL;
}

/* Keys must be exactly want[] (in order), each once. */
static void json_assert_keys(yajl_val o, const char *const *want, size_t nwant, const char *line)
{
    ck_assert_msg(o->u.object.len == nwant, "%zu members, want %zu: %s", o->u.object.len, nwant,
                  line);
    for (size_t i = 0; i < nwant; i++) {
        ck_assert_msg(!strcmp(o->u.object.keys[i], want[i]), "member %zu is %s, want %s: %s", i,
                      o->u.object.keys[i], want[i], line);
        ck_assert_msg(json_key_count(o, want[i]) == 1, "%s twice: %s", want[i], line);
    }
}

#define LF_MAX_PAIRS 80

typedef struct lf_pair {
    char key[64];
    char val[8192]; /* decoded bytes */
    size_t val_len;
    int quoted;
} lf_pair_t;

static lf_pair_t lf_pairs[LF_MAX_PAIRS];

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * Read one logfmt line the way a log shipper would: key=bare or
 * key="quoted" with \" \\ \n \r \t \xNN escapes, pairs separated by one
 * space. Returns the pair count, or -1 (with the offset in *bad) if the
 * line is not well-formed. Quoted values are decoded to bytes.
 */
static int lf_parse(const char *s, size_t n, size_t *bad)
{
    size_t i = 0;
    int count = 0;

    while (i < n) {
        lf_pair_t *p = &lf_pairs[count];
        size_t k = 0;
        if (count >= LF_MAX_PAIRS)
            return *bad = i, -1;
        if (count > 0) {
            if (s[i] != ' ')
                return *bad = i, -1;
            i++;
        }
        while (i < n && s[i] != '=' && s[i] != ' ' && s[i] != '"' && k < sizeof(p->key) - 1)
            p->key[k++] = s[i++];
        p->key[k] = '\0';
        if (k == 0 || i >= n || s[i] != '=')
            return *bad = i, -1;
        i++;
        p->val_len = 0;
        p->quoted = i < n && s[i] == '"';
        if (!p->quoted) {
            while (i < n && s[i] != ' ') {
                if (s[i] == '=' || s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x21)
                    return *bad = i, -1;
                p->val[p->val_len++] = s[i++];
            }
        } else {
            for (i++;; i++) {
                if (i >= n || (unsigned char)s[i] < 0x20)
                    return *bad = i, -1;
                if (s[i] == '"')
                    break;
                if (s[i] != '\\') {
                    p->val[p->val_len++] = s[i];
                    continue;
                }
                if (++i >= n)
                    return *bad = i, -1;
                switch (s[i]) {
                case '"':
                case '\\':
                    p->val[p->val_len++] = s[i];
                    break;
                case 'n':
                    p->val[p->val_len++] = '\n';
                    break;
                case 'r':
                    p->val[p->val_len++] = '\r';
                    break;
                case 't':
                    p->val[p->val_len++] = '\t';
                    break;
                case 'x':
                    if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
                        return *bad = i, -1;
                    p->val[p->val_len++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
                    i += 2;
                    break;
                default:
                    return *bad = i, -1;
                }
            }
            i++; /* closing quote */
        }
        count++;
    }
    return count;
}

/* Parse a captured logfmt line (with its newline); keys must be exactly want[]. */
static int lf_assert_line(const char *out, size_t n, const char *const *want, size_t nwant)
{
    size_t bad = 0;
    ck_assert_msg(n > 0 && out[n - 1] == '\n', "no newline: %s", out);
    ck_assert_msg(memchr(out, '\n', n - 1) == NULL, "two lines: %s", out);
    int np = lf_parse(out, n - 1, &bad);
    ck_assert_msg(np >= 0, "malformed logfmt at byte %zu: %s", bad, out);
    ck_assert_msg((size_t)np == nwant, "%d pairs, want %zu: %s", np, nwant, out);
    for (size_t i = 0; i < nwant; i++) {
        int seen = 0;
        for (int j = 0; j < np; j++)
            seen += !strcmp(lf_pairs[j].key, want[i]);
        ck_assert_msg(!strcmp(lf_pairs[i].key, want[i]) && seen == 1,
                      "pair %zu is %s (want %s once): %s", i, lf_pairs[i].key, want[i], out);
    }
    return np;
}

static const lf_pair_t *lf_get(int np, const char *key)
{
    for (int i = 0; i < np; i++)
        if (!strcmp(lf_pairs[i].key, key))
            return &lf_pairs[i];
    return NULL;
}

/* ---- format -------------------------------------------------------------- */

START_TEST(logfmt_line_has_ts_level_id_msg_then_pairs)
{
    char *out;
    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT);
    cap_begin();
    LOG_INFO("SRC-0001", "partition assigned", LKV_S("topic", "orders-events"),
             LKV_I("partition", 3));
    out = cap_end(NULL);
    ck_assert(!strncmp(out, "ts=", 3));
    ck_assert_msg(is_rfc3339_ms_utc(out + 3), "bad timestamp in: %s", out);
    ck_assert_str_eq(out + 3 + 24, " level=info id=SRC-0001 msg=\"partition assigned\" "
                                   "topic=orders-events partition=3\n");
}
END_TEST

START_TEST(line_without_pairs_ends_after_msg)
{
    char *out;
    log_setup(LOG_LVL_DEBUG, LOG_FMT_LOGFMT);
    cap_begin();
    LOG_ERROR("CFG-0001", "bad config");
    log_write(LOG_LVL_WARN, "CFG-0002", "direct", NULL, 0);
    out = cap_end(NULL);
    ck_assert(!strncmp(out + 3 + 24, " level=error id=CFG-0001 msg=\"bad config\"\nts=", 45));
    out = strchr(out, '\n') + 1;
    ck_assert_str_eq(out + 3 + 24, " level=warn id=CFG-0002 msg=\"direct\"\n");
    log_setup(LOG_LVL_DEBUG, LOG_FMT_JSON);
    cap_begin();
    LOG_ERROR("CFG-0001", "bad config");
    out = cap_end(NULL);
    ck_assert_str_eq(out + 7 + 24,
                     "\",\"level\":\"error\",\"id\":\"CFG-0001\",\"msg\":\"bad config\"}\n");
}
END_TEST

static int evaluated;

static int count_evaluation(void)
{
    return ++evaluated;
}

START_TEST(lines_below_threshold_are_dropped_unevaluated)
{
    size_t n;
    log_setup(LOG_LVL_WARN, LOG_FMT_LOGFMT);
    evaluated = 0;
    cap_begin();
    LOG_DEBUG("T-0001", "debug", LKV_I("a", count_evaluation()));
    LOG_INFO("T-0002", "info", LKV_I("a", count_evaluation()));
    LOG_WARN("T-0003", "warn", LKV_I("a", count_evaluation()));
    LOG_AT(LOG_LVL_DEBUG, "T-0004", "dynamic level", LKV_I("a", count_evaluation()));
    LOG_AT(LOG_LVL_ERROR, "T-0005", "dynamic level", LKV_I("a", count_evaluation()));
    char *out = cap_end(&n);
    ck_assert_ptr_null(strstr(out, "T-0001"));
    ck_assert_ptr_null(strstr(out, "T-0002"));
    ck_assert_ptr_null(strstr(out, "T-0004"));
    ck_assert_ptr_nonnull(strstr(out, "id=T-0003 msg=\"warn\" a=1\n"));
    ck_assert_ptr_nonnull(strstr(out, "id=T-0005 msg=\"dynamic level\" a=2\n"));
    ck_assert_int_eq(evaluated, 2); /* arguments of dropped lines never ran */
}
END_TEST

START_TEST(json_line_has_typed_members)
{
    size_t n;
    log_setup(LOG_LVL_INFO, LOG_FMT_JSON);
    cap_begin();
    LOG_WARN("SNK-0102", "publish failed", LKV_S("subject", "commands.officer.register"),
             LKV_I("attempt", 3), LKV_F("ratio", 0.5), LKV_B("ok", 0), LKV_B("flag", 7),
             LKV_S("err", "timeout \"x\""), LKV_S("none", NULL), LKV_U("big", UINT64_MAX),
             LKV_I("neg", INT64_MIN));
    char *out = cap_end(&n);
    ck_assert_int_eq(out[n - 1], '\n');
    ck_assert(!strncmp(out, "{\"ts\":\"", 7));
    ck_assert(is_rfc3339_ms_utc(out + 7));
    ck_assert_str_eq(out + 7 + 24,
                     "\",\"level\":\"warn\",\"id\":\"SNK-0102\",\"msg\":\"publish failed\","
                     "\"subject\":\"commands.officer.register\",\"attempt\":3,\"ratio\":0.5,"
                     "\"ok\":false,\"flag\":true,\"err\":\"timeout \\\"x\\\"\",\"none\":null,"
                     "\"big\":18446744073709551615,\"neg\":-9223372036854775808}\n");
    yajl_val v = json_parse_line(out);
    ck_assert(YAJL_IS_INTEGER(json_get(v, "attempt")));
    ck_assert(YAJL_IS_DOUBLE(json_get(v, "ratio")));
    ck_assert(YAJL_IS_NUMBER(json_get(v, "big")));
    ck_assert(YAJL_IS_NULL(json_get(v, "none")));
    yajl_tree_free(v);
}
END_TEST

START_TEST(numbers_render_exactly_in_both_formats)
{
    size_t n;
    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT);
    cap_begin();
    LOG_INFO("T-0001", "n", LKV_F("tenth", 0.1), LKV_F("huge", 1e300), LKV_F("nan", NAN),
             LKV_F("ninf", -INFINITY), LKV_U("u", 42), LKV_I("i", -7), LKV_B("b", 1),
             LKV_S("none", NULL));
    char *out = cap_end(&n);
    ck_assert_msg(strstr(out, " tenth=0.1 huge=1e+300 nan=NaN ninf=-Infinity u=42 i=-7 b=true "
                              "none=\"\"\n") != NULL,
                  "%s", out);
    log_setup(LOG_LVL_INFO, LOG_FMT_JSON);
    cap_begin();
    LOG_INFO("T-0001", "n", LKV_F("tenth", 0.1), LKV_F("huge", 1e300), LKV_F("nan", NAN),
             LKV_F("ninf", -INFINITY));
    out = cap_end(&n);
    ck_assert_msg(strstr(out, ",\"tenth\":0.1,\"huge\":1e+300,\"nan\":\"NaN\","
                              "\"ninf\":\"-Infinity\"}\n") != NULL,
                  "%s", out);
    yajl_tree_free(json_parse_line(out));
}
END_TEST

/*
 * Hostile values. Each is logged as the only variable pair between two
 * fixed ones; in both formats the line must parse into exactly the keys
 * ts, level, id, msg, topic, v, after, each once, and v must decode back.
 * json_want is what JSON carries when it cannot carry the bytes themselves
 * (invalid UTF-8 and look-alike code points become visible \xNN text);
 * NULL means the bytes themselves. logfmt always decodes to the bytes.
 */
static const struct {
    const char *name;
    const char *in;
    size_t len;
    const char *json_want;
} hostile[] = {
#define H(name, lit, json)                                                                         \
    {                                                                                              \
        name, lit, sizeof(lit) - 1, json                                                           \
    }
    H("forged pair after a space", "Broker: Offset out of range level=error", NULL),
    H("bare key=value", "level=error", NULL),
    H("forged line after newline", "x\nts=2020-01-01T00:00:00.000Z level=error id=FAKE msg=\"x\"",
      NULL),
    H("carriage return", "a\rlevel=error", NULL),
    H("quotes closing the value", "say \"hi\" id=\"FAKE\"", NULL),
    H("JSON breakout", "\"},\"level\":\"error\",\"x\":{\"", NULL),
    H("backslashes", "C:\\path\\ and \\\" and \\", NULL),
    H("trailing backslash", "abc\\", NULL),
    H("NUL inside", "a\0level=error", NULL),
    H("tab and controls", "a\tb\x01\x1b[31mred\x7f", "a\tb\x01\x1b[31mred\\x7f"),
    H("invalid UTF-8", "\xff\xfe level=x \xc3(", "\\xff\\xfe level=x \\xc3("),
    H("overlong and surrogate", "\xc0\xaf\xed\xa0\x80", "\\xc0\\xaf\\xed\\xa0\\x80"),
    H("bidi override and C1 CSI", "\xe2\x80\xae\xc2\x9b", "\\xe2\\x80\\xae\\xc2\\x9b"),
    H("line separator", "a\xe2\x80\xa8level=error", "a\\xe2\\x80\\xa8level=error"),
    H("valid UTF-8 kept", "M\xc3\xbcller \xe2\x82\xac =", NULL),
    H("empty", "", NULL),
    H("only spaces", "   ", NULL),
#undef H
};

START_TEST(hostile_value_stays_one_value_in_json)
{
    static const char *const keys[] = {"ts", "level", "id", "msg", "topic", "v", "after"};
    size_t n;
    log_setup(LOG_LVL_INFO, LOG_FMT_JSON);
    cap_begin();
    LOG_WARN("SRC-0101", "consumer error", LKV_S("topic", "orders"),
             LKV_RAW("v", hostile[_i].in, hostile[_i].len), LKV_I("after", 7));
    char *out = cap_end(&n);
    ck_assert_msg(memchr(out, '\n', n - 1) == NULL, "%s: two lines: %s", hostile[_i].name, out);
    yajl_val v = json_parse_line(out);
    json_assert_keys(v, keys, 7, out);
    ck_assert_str_eq(YAJL_GET_STRING(json_get(v, "level")), "warn");
    ck_assert_str_eq(YAJL_GET_STRING(json_get(v, "id")), "SRC-0101");
    const char *want = hostile[_i].json_want;
    size_t want_len = want ? strlen(want) : hostile[_i].len;
    const char *got = YAJL_GET_STRING(json_get(v, "v"));
    ck_assert_ptr_nonnull(got);
    /* yajl's tree gives a C string: a NUL inside ends it early, so compare
     * up to the first NUL and check the raw line carries \u0000. */
    size_t got_len = strlen(got);
    if (memchr(hostile[_i].in, '\0', hostile[_i].len)) {
        ck_assert_ptr_nonnull(strstr(out, "\"v\":\"a\\u0000level=error\""));
        want_len = strlen(hostile[_i].in);
    }
    ck_assert_msg(got_len == want_len && !memcmp(got, want ? want : hostile[_i].in, want_len),
                  "%s: v decodes to [%s]: %s", hostile[_i].name, got, out);
    ck_assert(YAJL_IS_INTEGER(json_get(v, "after")));
    yajl_tree_free(v);
}
END_TEST

START_TEST(hostile_value_stays_one_value_in_logfmt)
{
    static const char *const keys[] = {"ts", "level", "id", "msg", "topic", "v", "after"};
    size_t n;
    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT);
    cap_begin();
    LOG_WARN("SRC-0101", "consumer error", LKV_S("topic", "orders"),
             LKV_RAW("v", hostile[_i].in, hostile[_i].len), LKV_I("after", 7));
    char *out = cap_end(&n);
    int np = lf_assert_line(out, n, keys, 7);
    const lf_pair_t *lvl = lf_get(np, "level"), *v = lf_get(np, "v");
    ck_assert(lvl->val_len == 4 && !memcmp(lvl->val, "warn", 4));
    ck_assert_msg(v->val_len == hostile[_i].len && !memcmp(v->val, hostile[_i].in, v->val_len),
                  "%s: v does not decode back: %s", hostile[_i].name, out);
    /* Bytes a terminal or viewer acts on never appear raw. */
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned char c = (unsigned char)out[i];
        ck_assert_msg(c >= 0x20 && c != 0x7F, "%s: raw byte 0x%02x: %s", hostile[_i].name, c, out);
    }
    ck_assert_ptr_null(strstr(out, "\xe2\x80\xae"));
    ck_assert_ptr_null(strstr(out, "\xc2\x9b"));
}
END_TEST

/* Exact logfmt renderings (the escapes a reader decodes). */
static const struct {
    const char *name;
    const char *in;
    size_t len;
    const char *want;
} logfmt_cases[] = {
    {"plain stays bare", "abc", 3, " v=abc "},
    {"empty is quoted", "", 0, " v=\"\" "},
    {"space quotes", "a b", 3, " v=\"a b\" "},
    {"equals quotes", "a=b", 3, " v=\"a=b\" "},
    {"quote and backslash", "a\"b\\c", 5, " v=\"a\\\"b\\\\c\" "},
    {"newline tab cr", "a\nb\tc\rd", 7, " v=\"a\\nb\\tc\\rd\" "},
    {"control and DEL", "\x01\x1b\x7f", 3, " v=\"\\x01\\x1b\\x7f\" "},
    {"embedded NUL", "a\0b", 3, " v=\"a\\x00b\" "},
    {"valid UTF-8 kept", "M\xc3\xbcller", 7, " v=\"M\xc3\xbcller\" "},
    {"invalid byte", "a\xff", 2, " v=\"a\\xff\" "},
    {"truncated sequence", "a\xe2\x82", 3, " v=\"a\\xe2\\x82\" "},
    {"bidi override", "\xe2\x80\xae", 3, " v=\"\\xe2\\x80\\xae\" "},
};

START_TEST(logfmt_renders_values_exactly)
{
    size_t n;
    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT);
    cap_begin();
    LOG_INFO("T-0001", "x", LKV_RAW("v", logfmt_cases[_i].in, logfmt_cases[_i].len), LKV_I("z", 1));
    char *out = cap_end(&n);
    ck_assert_msg(strstr(out, logfmt_cases[_i].want) != NULL, "%s: want %s in %s",
                  logfmt_cases[_i].name, logfmt_cases[_i].want, out);
}
END_TEST

START_TEST(odd_keys_cannot_forge_or_repeat_members)
{
    static const char *const want[] = {"ts",     "level", "id", "msg", "a_b", "x_y",
                                       "_level", "_ts",   "_",  "k_",  "dup", "_truncated"};
    size_t n;
    for (int fmt = 0; fmt < LOG_FMT__COUNT; fmt++) {
        log_setup(LOG_LVL_INFO, (log_format_t)fmt);
        cap_begin();
        LOG_INFO("T-0001", "keys", LKV_I("a b", 1), LKV_I("x=y", 2), LKV_S("level", "error"),
                 LKV_I("ts", 3), LKV_I("", 4), LKV_I(NULL, 5), LKV_I("k\"", 6), LKV_I("dup", 7),
                 LKV_I("dup", 8), LKV_B("truncated", 1));
        char *out = cap_end(&n);
        if (fmt == LOG_FMT_JSON) {
            yajl_val v = json_parse_line(out);
            json_assert_keys(v, want, sizeof(want) / sizeof(want[0]), out);
            ck_assert_int_eq(YAJL_GET_INTEGER(json_get(v, "dup")), 7);
            yajl_tree_free(v);
        } else {
            lf_assert_line(out, n, want, sizeof(want) / sizeof(want[0]));
        }
    }
}
END_TEST

START_TEST(long_value_is_cut_and_later_pairs_survive)
{
    static char big[10 * 1024];
    size_t n;
    memset(big, 'A', sizeof(big));
    big[100] = ' '; /* needs quoting */
    for (int fmt = 0; fmt < LOG_FMT__COUNT; fmt++) {
        log_setup(LOG_LVL_INFO, (log_format_t)fmt);
        cap_begin();
        LOG_INFO("T-0001", "big", LKV_RAW("v", big, sizeof(big)), LKV_I("after", 1));
        char *out = cap_end(&n);
        ck_assert_uint_le(n, PIPE_BUF);
        if (fmt == LOG_FMT_JSON) {
            static const char *const keys[] = {"ts", "level", "id",       "msg",
                                               "v",  "after", "truncated"};
            yajl_val v = json_parse_line(out);
            json_assert_keys(v, keys, 7, out);
            const char *s = YAJL_GET_STRING(json_get(v, "v"));
            ck_assert_uint_le(strlen(s), LOG_VALUE_MAX);
            ck_assert_str_eq(s + strlen(s) - 3, "...");
            ck_assert(YAJL_IS_TRUE(json_get(v, "truncated")));
            yajl_tree_free(v);
        } else {
            static const char *const keys[] = {"ts", "level", "id",       "msg",
                                               "v",  "after", "truncated"};
            int np = lf_assert_line(out, n, keys, 7);
            const lf_pair_t *v = lf_get(np, "v");
            ck_assert_uint_le(v->val_len, LOG_VALUE_MAX);
            ck_assert(!memcmp(v->val + v->val_len - 3, "...", 3));
        }
    }
}
END_TEST

START_TEST(value_is_cut_on_a_character_boundary)
{
    static char big[3000];
    size_t n;
    for (size_t i = 0; i + 1 < sizeof(big); i += 2)
        memcpy(big + i, "\xc3\xbc", 2); /* u-umlaut */
    for (int fmt = 0; fmt < LOG_FMT__COUNT; fmt++) {
        log_setup(LOG_LVL_INFO, (log_format_t)fmt);
        for (size_t off = 0; off < 3; off++) {
            cap_begin();
            LOG_INFO("T-0001", "utf8", LKV_RAW("v", big + off, sizeof(big) - 4));
            char *out = cap_end(&n);
            if (fmt == LOG_FMT_JSON) {
                yajl_tree_free(json_parse_line(out)); /* yajl rejects broken UTF-8 */
            } else {
                ck_assert_ptr_nonnull(strstr(out, "\xc3\xbc...\" truncated=true\n"));
            }
        }
    }
}
END_TEST

START_TEST(many_pairs_are_dropped_whole_and_fit_pipe_buf)
{
    static char val[500];
    log_kv_t kvs[30];
    char keys[30][8];
    size_t n;
    memset(val, 'a', sizeof(val));
    for (int i = 0; i < 30; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        kvs[i] = (log_kv_t)LKV_RAW(keys[i], val, sizeof(val));
    }
    for (int fmt = 0; fmt < LOG_FMT__COUNT; fmt++) {
        log_setup(LOG_LVL_INFO, (log_format_t)fmt);
        cap_begin();
        log_write(LOG_LVL_INFO, "T-0001", "many", kvs, 30);
        char *out = cap_end(&n);
        ck_assert_uint_le(n, PIPE_BUF);
        ck_assert_uint_gt(n, PIPE_BUF - 600); /* filled, not given up early */
        if (fmt == LOG_FMT_JSON) {
            yajl_val v = json_parse_line(out);
            size_t m = v->u.object.len;
            ck_assert_str_eq(v->u.object.keys[m - 1], "truncated");
            for (size_t i = 4; i + 1 < m; i++) {
                const char *got = YAJL_GET_STRING(v->u.object.values[i]);
                ck_assert_ptr_nonnull(got);
                ck_assert_uint_eq(strlen(got), sizeof(val));
            }
            yajl_tree_free(v);
        } else {
            size_t bad;
            int np = lf_parse(out, n - 1, &bad);
            ck_assert_int_gt(np, 5);
            ck_assert_str_eq(lf_pairs[np - 1].key, "truncated");
            for (int i = 4; i + 1 < np; i++)
                ck_assert_uint_eq(lf_pairs[i].val_len, sizeof(val));
        }
    }
}
END_TEST

START_TEST(log_write_preserves_errno)
{
    for (int fmt = 0; fmt < LOG_FMT__COUNT; fmt++) {
        log_setup(LOG_LVL_INFO, (log_format_t)fmt);
        cap_begin();
        errno = ECONNREFUSED;
        LOG_INFO("T-0001", "x", LKV_I("a", 1), LKV_S("b", "c d"));
        cap_end(NULL);
        ck_assert_int_eq(errno, ECONNREFUSED);
    }
}
END_TEST

static const struct {
    const char *in;
    int want;
} number_cases[] = {
    {"0", 1},   {"-0", 1},  {"12", 1}, {"1.5e-3", 1},   {"1E+9", 1}, {"01", 0},
    {"1.", 0},  {".5", 0},  {"+1", 0}, {"1e", 0},       {"-", 0},    {"", 0},
    {"NaN", 0}, {"0x1", 0}, {"1 ", 0}, {"Infinity", 0},
};

START_TEST(log_json_number_follows_rfc_8259)
{
    ck_assert_msg(log_json_number(number_cases[_i].in, strlen(number_cases[_i].in)) ==
                      number_cases[_i].want,
                  "%s", number_cases[_i].in);
}
END_TEST

/* ---- parsing ------------------------------------------------------------- */

START_TEST(level_and_format_names_parse)
{
    log_level_t l;
    log_format_t f;
    ck_assert_int_eq(log_level_parse("debug", &l), 0);
    ck_assert_int_eq(l, LOG_LVL_DEBUG);
    ck_assert_int_eq(log_level_parse("error", &l), 0);
    ck_assert_int_eq(l, LOG_LVL_ERROR);
    ck_assert_int_eq(log_level_parse("verbose", &l), -1);
    ck_assert_int_eq(log_level_parse(NULL, &l), -1);
    ck_assert_int_eq(log_format_parse("json", &f), 0);
    ck_assert_int_eq(f, LOG_FMT_JSON);
    ck_assert_int_eq(log_format_parse("logfmt", &f), 0);
    ck_assert_int_eq(f, LOG_FMT_LOGFMT);
    ck_assert_int_eq(log_format_parse("xml", &f), -1);
    ck_assert_str_eq(log_level_name(LOG_LVL_WARN), "warn");
}
END_TEST

/* ---- threads ------------------------------------------------------------- */

#define THREADS 4
#define LINES   500

static void *writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char pad[600];
    memset(pad, 'a' + id, sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    for (int i = 0; i < LINES; i++)
        LOG_INFO("T-0001", "concurrent", LKV_I("thread", id), LKV_I("seq", i), LKV_S("pad", pad),
                 LKV_I("end", 1));
    return NULL;
}

START_TEST(lines_from_threads_never_interleave)
{
    pthread_t th[THREADS];
    size_t n, lines = 0;
    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT);
    cap_begin();
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    char *out = cap_end(&n);
    for (char *p = out, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        *nl = '\0';
        ck_assert_msg(!strncmp(p, "ts=", 3) && strstr(p, " end=1") == nl - 6 &&
                          strstr(p + 3, "ts=") == NULL,
                      "mangled line: %.120s", p);
        int t = p[strstr(p, "thread=") - p + 7] - '0';
        char *pad = strstr(p, "pad=") + 4;
        for (int i = 0; i < 599; i++)
            ck_assert_int_eq(pad[i], 'a' + t);
        lines++;
    }
    ck_assert_uint_eq(lines, THREADS * LINES);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, logfmt_line_has_ts_level_id_msg_then_pairs);
    tcase_add_test(tc, line_without_pairs_ends_after_msg);
    tcase_add_test(tc, lines_below_threshold_are_dropped_unevaluated);
    tcase_add_test(tc, json_line_has_typed_members);
    tcase_add_test(tc, numbers_render_exactly_in_both_formats);
    tcase_add_loop_test(tc, logfmt_renders_values_exactly, 0,
                        (int)(sizeof(logfmt_cases) / sizeof(logfmt_cases[0])));
    tcase_add_test(tc, log_write_preserves_errno);
    tcase_add_test(tc, level_and_format_names_parse);
    tcase_add_loop_test(tc, log_json_number_follows_rfc_8259, 0,
                        (int)(sizeof(number_cases) / sizeof(number_cases[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("hostile");
    tcase_add_loop_test(tc, hostile_value_stays_one_value_in_json, 0,
                        (int)(sizeof(hostile) / sizeof(hostile[0])));
    tcase_add_loop_test(tc, hostile_value_stays_one_value_in_logfmt, 0,
                        (int)(sizeof(hostile) / sizeof(hostile[0])));
    tcase_add_test(tc, odd_keys_cannot_forge_or_repeat_members);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncation");
    tcase_add_test(tc, long_value_is_cut_and_later_pairs_survive);
    tcase_add_test(tc, value_is_cut_on_a_character_boundary);
    tcase_add_test(tc, many_pairs_are_dropped_whole_and_fit_pipe_buf);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_add_test(tc, lines_from_threads_never_interleave);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(log_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
