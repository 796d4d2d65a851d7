/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for log.c: the logfmt and JSON line formats, the level gate,
 * log_quote() on hostile bytes, truncation bounds and line atomicity across
 * threads. stderr is redirected to a temporary file while a test logs.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

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

/* Strict JSON object check with jsmn; returns the token count or < 0. */
static int json_tokens(const char *s, size_t n, jsmntok_t *toks, unsigned max)
{
    jsmn_parser p;
    jsmn_init(&p);
    int r = jsmn_parse(&p, s, n, toks, max);
    if (r > 0 && toks[0].type != JSMN_OBJECT)
        return -100;
    return r;
}

/* Value of member "key" in a flat JSON object, as raw token text. */
static int json_member(const char *s, const jsmntok_t *t, int ntok, const char *key, char *out,
                       size_t size)
{
    for (int i = 1; i + 1 < ntok; i += 2) {
        size_t kl = (size_t)(t[i].end - t[i].start);
        if (kl == strlen(key) && !memcmp(s + t[i].start, key, kl)) {
            size_t vl = (size_t)(t[i + 1].end - t[i + 1].start);
            if (vl >= size)
                return -1;
            memcpy(out, s + t[i + 1].start, vl);
            out[vl] = '\0';
            return t[i + 1].type;
        }
    }
    return -1;
}

/* ---- format -------------------------------------------------------------- */

START_TEST(logfmt_line_has_ts_level_id_msg_then_pairs)
{
    char *out;
    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT);
    cap_begin();
    LOG_INFO("SRC-0001", "partition assigned", "topic=%s partition=%d", "orders-events", 3);
    out = cap_end(NULL);
    ck_assert(!strncmp(out, "ts=", 3));
    ck_assert_msg(is_rfc3339_ms_utc(out + 3), "bad timestamp in: %s", out);
    ck_assert_str_eq(out + 3 + 24, " level=info id=SRC-0001 msg=\"partition assigned\" "
                                   "topic=orders-events partition=3\n");
}
END_TEST

START_TEST(logfmt_line_without_pairs_ends_after_msg)
{
    char *out;
    log_setup(LOG_LVL_DEBUG, LOG_FMT_LOGFMT);
    cap_begin();
    log_write(LOG_LVL_ERROR, "CFG-0001", "bad config", NULL);
    out = cap_end(NULL);
    ck_assert_str_eq(out + 3 + 24, " level=error id=CFG-0001 msg=\"bad config\"\n");
}
END_TEST

START_TEST(lines_below_threshold_are_dropped)
{
    size_t n;
    log_setup(LOG_LVL_WARN, LOG_FMT_LOGFMT);
    cap_begin();
    LOG_DEBUG("T-0001", "debug", "a=%d", 1);
    LOG_INFO("T-0002", "info", "a=%d", 1);
    LOG_WARN("T-0003", "warn", "a=%d", 1);
    char *out = cap_end(&n);
    ck_assert_ptr_null(strstr(out, "T-0001"));
    ck_assert_ptr_null(strstr(out, "T-0002"));
    ck_assert_ptr_nonnull(strstr(out, "id=T-0003"));
}
END_TEST

START_TEST(json_line_turns_pairs_into_typed_members)
{
    char q[128], v[256];
    size_t n;
    jsmntok_t t[64];
    log_setup(LOG_LVL_INFO, LOG_FMT_JSON);
    cap_begin();
    LOG_WARN("SNK-0102", "publish failed", "subject=%s attempt=%d ratio=%.2f ok=%s flag err=%s",
             "commands.officer.register", 3, 0.5, "false",
             log_quote(q, sizeof(q), "timeout \"x\"", 11));
    char *out = cap_end(&n);
    ck_assert_int_eq(out[n - 1], '\n');
    ck_assert_ptr_null(memchr(out, '\n', n - 1));
    int nt = json_tokens(out, n - 1, t, 64);
    ck_assert_msg(nt == 21, "not a valid 10-member object (%d): %s", nt, out);
    ck_assert(!strncmp(out, "{\"ts\":\"", 7));
    ck_assert(is_rfc3339_ms_utc(out + 7));
    ck_assert_str_eq(out + 7 + 24,
                     "\",\"level\":\"warn\",\"id\":\"SNK-0102\",\"msg\":\"publish failed\","
                     "\"subject\":\"commands.officer.register\",\"attempt\":3,\"ratio\":0.50,"
                     "\"ok\":false,\"flag\":true,\"err\":\"timeout \\\"x\\\"\"}\n");
    ck_assert_int_eq(json_member(out, t, nt, "attempt", v, sizeof(v)), JSMN_PRIMITIVE);
}
END_TEST

START_TEST(json_keeps_invalid_bytes_visible_and_escapes_controls)
{
    char q[128];
    size_t n;
    jsmntok_t t[32];
    static const char hostile[] = "a\x01"
                                  "b\xff"
                                  "c\"d\\e\nf\x1b[31m";
    log_setup(LOG_LVL_INFO, LOG_FMT_JSON);
    cap_begin();
    LOG_INFO("T-0001", "hostile", "v=%s", log_quote(q, sizeof(q), hostile, sizeof(hostile) - 1));
    char *out = cap_end(&n);
    int nt = json_tokens(out, n - 1, t, 32);
    ck_assert_msg(nt == 11, "invalid JSON (%d): %s", nt, out);
    ck_assert_ptr_nonnull(strstr(out, ",\"v\":\"a\\\\x01b\\\\xffc\\\"d\\\\e\\nf\\\\x1b[31m\"}\n"));
}
END_TEST

START_TEST(json_escapes_raw_bytes_a_caller_forgot_to_quote)
{
    size_t n;
    jsmntok_t t[32];
    log_setup(LOG_LVL_INFO, LOG_FMT_JSON);
    cap_begin();
    /* Misuse: raw untrusted value with a newline, a quote and a bad byte. */
    LOG_INFO("T-0001", "misuse", "v=%s", "x\"\n\xc3(");
    char *out = cap_end(&n);
    ck_assert_ptr_null(memchr(out, '\n', n - 1));
    int nt = json_tokens(out, n - 1, t, 32);
    ck_assert_msg(nt > 0, "invalid JSON (%d): %s", nt, out);
}
END_TEST

START_TEST(logfmt_escapes_raw_control_bytes_a_caller_forgot_to_quote)
{
    size_t n;
    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT);
    cap_begin();
    LOG_INFO("T-0001", "misuse", "v=%s w=1", "x\ny\rz");
    char *out = cap_end(&n);
    ck_assert_ptr_null(memchr(out, '\n', n - 1));
    ck_assert_ptr_nonnull(strstr(out, " v=x\\x0ay\\x0dz w=1\n"));
}
END_TEST

START_TEST(json_pair_named_like_a_fixed_member_is_prefixed)
{
    size_t n;
    log_setup(LOG_LVL_INFO, LOG_FMT_JSON);
    cap_begin();
    LOG_INFO("T-0001", "m", "msg=%s level=%d", "spoof", 9);
    char *out = cap_end(&n);
    ck_assert_ptr_nonnull(strstr(out, "\"msg\":\"m\",\"_msg\":\"spoof\",\"_level\":9}"));
}
END_TEST

START_TEST(long_lines_are_cut_at_a_pair_and_fit_pipe_buf)
{
    static char big[10000];
    char q[PIPE_BUF];
    size_t n;
    memset(big, 'A', sizeof(big) - 1);
    for (int fmt = 0; fmt < LOG_FMT__COUNT; fmt++) {
        log_setup(LOG_LVL_INFO, (log_format_t)fmt);
        cap_begin();
        LOG_INFO("T-0001", "big", "a=1 b=%s c=%s d=2", log_quote(q, 2000, big, strlen(big)),
                 log_quote(q + 2000, 2000, big, strlen(big)));
        char *out = cap_end(&n);
        ck_assert_uint_le(n, PIPE_BUF);
        ck_assert_int_eq(out[n - 1], '\n');
        ck_assert_ptr_null(memchr(out, '\n', n - 1));
        ck_assert_msg(strstr(out, "truncated") != NULL, "no marker: %.80s", out);
        if (fmt == LOG_FMT_JSON) {
            jsmntok_t t[32];
            ck_assert_int_gt(json_tokens(out, n - 1, t, 32), 0);
            ck_assert_ptr_null(strstr(out, "\"d\":2"));
        }
    }
}
END_TEST

START_TEST(log_write_preserves_errno)
{
    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT);
    cap_begin();
    errno = ECONNREFUSED;
    LOG_INFO("T-0001", "x", "a=%d", 1);
    cap_end(NULL);
    ck_assert_int_eq(errno, ECONNREFUSED);
}
END_TEST

/* ---- log_quote ----------------------------------------------------------- */

static const struct {
    const char *name;
    const char *in;
    size_t len;
    const char *want;
} quote_cases[] = {
    {"plain", "abc", 3, "\"abc\""},
    {"empty", "", 0, "\"\""},
    {"quote and backslash", "a\"b\\c", 5, "\"a\\\"b\\\\c\""},
    {"newline tab cr", "a\nb\tc\rd", 7, "\"a\\nb\\tc\\rd\""},
    {"control and DEL", "\x01\x1b\x7f", 3, "\"\\x01\\x1b\\x7f\""},
    {"embedded NUL", "a\0b", 3, "\"a\\x00b\""},
    {"valid UTF-8 kept", "M\xc3\xbcller \xe2\x82\xac", 11, "\"M\xc3\xbcller \xe2\x82\xac\""},
    {"invalid byte", "a\xff", 2, "\"a\\xff\""},
    {"truncated sequence", "a\xe2\x82", 3, "\"a\\xe2\\x82\""},
    {"overlong slash", "\xc0\xaf", 2, "\"\\xc0\\xaf\""},
    {"surrogate", "\xed\xa0\x80", 3, "\"\\xed\\xa0\\x80\""},
    {"C1 CSI", "\xc2\x9b", 2, "\"\\xc2\\x9b\""},
    {"bidi override", "\xe2\x80\xae", 3, "\"\\xe2\\x80\\xae\""},
    {"line separator", "\xe2\x80\xa8", 3, "\"\\xe2\\x80\\xa8\""},
};

START_TEST(log_quote_escapes_hostile_bytes)
{
    char buf[128];
    log_quote(buf, sizeof(buf), quote_cases[_i].in, quote_cases[_i].len);
    ck_assert_msg(!strcmp(buf, quote_cases[_i].want), "%s: got %s want %s", quote_cases[_i].name,
                  buf, quote_cases[_i].want);
}
END_TEST

START_TEST(log_quote_null_data_is_empty_string)
{
    char buf[8];
    ck_assert_str_eq(log_quote(buf, sizeof(buf), NULL, 5), "\"\"");
}
END_TEST

START_TEST(log_quote_truncates_whole_units_and_marks_it)
{
    static const char in[] = "ab\x01\xc3\xbc\"cdefghijklmnopqrstuvwxyz";
    char full[256];
    log_quote(full, sizeof(full), in, sizeof(in) - 1);
    size_t full_len = strlen(full);
    for (size_t size = 8; size < full_len + 2; size++) {
        char buf[256];
        memset(buf, 'Z', sizeof(buf));
        log_quote(buf, size, in, sizeof(in) - 1);
        size_t len = strlen(buf);
        ck_assert_uint_lt(len, size);
        ck_assert_int_eq(buf[0], '"');
        ck_assert_int_eq(buf[len - 1], '"');
        if (size > full_len) {
            ck_assert_str_eq(buf, full);
            continue;
        }
        ck_assert_msg(len >= 5 && !memcmp(buf + len - 4, "...\"", 4), "size %zu: %s", size, buf);
        /* What precedes the marker is a prefix of the full rendering that
         * ends on a unit boundary: never half an escape or UTF-8 sequence. */
        size_t body = len - 4;
        ck_assert(!memcmp(buf, full, body));
        static const size_t edges[] = {1, 2, 3, 7, 9, 11, 12, 13};
        int ok = 0;
        for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++)
            ok |= body == edges[e];
        ok |= body >= 13;
        ck_assert_msg(ok, "size %zu cut inside a unit: %s", size, buf);
    }
}
END_TEST

START_TEST(log_quote_never_overflows_small_buffers)
{
    char buf[16];
    for (size_t size = 0; size < 8; size++) {
        memset(buf, 'Z', sizeof(buf));
        log_quote(buf, size, "abcdef", 6);
        for (size_t i = size; i < sizeof(buf); i++)
            ck_assert_int_eq(buf[i], 'Z');
    }
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
        LOG_INFO("T-0001", "concurrent", "thread=%d seq=%d pad=%s end=1", id, i, pad);
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
    tcase_add_test(tc, logfmt_line_without_pairs_ends_after_msg);
    tcase_add_test(tc, lines_below_threshold_are_dropped);
    tcase_add_test(tc, json_line_turns_pairs_into_typed_members);
    tcase_add_test(tc, json_keeps_invalid_bytes_visible_and_escapes_controls);
    tcase_add_test(tc, json_escapes_raw_bytes_a_caller_forgot_to_quote);
    tcase_add_test(tc, logfmt_escapes_raw_control_bytes_a_caller_forgot_to_quote);
    tcase_add_test(tc, json_pair_named_like_a_fixed_member_is_prefixed);
    tcase_add_test(tc, long_lines_are_cut_at_a_pair_and_fit_pipe_buf);
    tcase_add_test(tc, log_write_preserves_errno);
    tcase_add_test(tc, level_and_format_names_parse);
    suite_add_tcase(s, tc);
    tc = tcase_create("quote");
    tcase_add_loop_test(tc, log_quote_escapes_hostile_bytes, 0,
                        (int)(sizeof(quote_cases) / sizeof(quote_cases[0])));
    tcase_add_test(tc, log_quote_null_data_is_empty_string);
    tcase_add_test(tc, log_quote_truncates_whole_units_and_marks_it);
    tcase_add_test(tc, log_quote_never_overflows_small_buffers);
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
