/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for secret.c: the redaction rule (URLs with user:password,
 * tokens, lists, IPv6, malformed ones; secret property keys), scrubbing a
 * known value out of a message, resolving environment variables, files and
 * ${env:}/${file:} references with every error, and the SEC-0001 warning
 * for secret files that group or others can read (once per file).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"
#include "unit_tmp.h"

static char tmpdir[64];

static void setup(void)
{
    unit_tmpdir_make(tmpdir, sizeof(tmpdir), "secret");
}

static void teardown(void)
{
    unit_tmpdir_remove(tmpdir);
}

/* ---- stderr capture (log lines) ---------------------------------------------------- */

static FILE *cap_file;
static int cap_saved = -1;

static void cap_begin(void)
{
    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT);
    cap_file = tmpfile();
    ck_assert_ptr_nonnull(cap_file);
    fflush(stderr);
    cap_saved = dup(STDERR_FILENO);
    ck_assert_int_ge(cap_saved, 0);
    ck_assert_int_ge(dup2(fileno(cap_file), STDERR_FILENO), 0);
}

static char *cap_end(void)
{
    static char text[16384];
    fflush(stderr);
    ck_assert_int_ge(dup2(cap_saved, STDERR_FILENO), 0);
    close(cap_saved);
    rewind(cap_file);
    size_t n = fread(text, 1, sizeof(text) - 1, cap_file);
    text[n] = '\0';
    fclose(cap_file);
    return text;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* ---- URL redaction ---------------------------------------------------------------- */

static const struct {
    const char *url, *want;
} url_cases[] = {
    {"nats://bob:hunter2@n1:4222", "nats://bob:[redacted]@n1:4222"},
    {"tls://s3cr3t-token@n2:4222", "tls://[redacted]@n2:4222"},
    {"nats://n1:4222", "nats://n1:4222"},
    {"nats://[::1]:4222", "nats://[::1]:4222"},
    {"nats://bob:hunter2@[::1]:4222", "nats://bob:[redacted]@[::1]:4222"},
    {"nats://a:pw1@h1:4222,nats://tok2@h2:4222,nats://h3:4222",
     "nats://a:[redacted]@h1:4222,nats://[redacted]@h2:4222,nats://h3:4222"},
    {"nats://h1:4222,nats://b:pw2@h2:4222", "nats://h1:4222,nats://b:[redacted]@h2:4222"},
    {"bob:hunter2@n1:4222", "bob:[redacted]@n1:4222"}, /* no scheme */
    {"h1:4222,bob:hunter2@n1:4222", "h1:4222,bob:[redacted]@n1:4222"},
    {"nats://bob:hunter2@", "nats://bob:[redacted]@"},                           /* no host */
    {"nats://bob:hun@ter2@n1:4222", "nats://bob:[redacted]@[redacted]@n1:4222"}, /* raw @ */
    {"nats://bob:pa,ss@n1:4222", "nats://bob:[redacted]@n1:4222"},               /* comma */
    {"nats://bob:p://x@n1:4222", "nats://bob:[redacted]@n1:4222"},               /* :// */
    {"nats//bob:hunter2@n1:4222", "nats//bob:[redacted]@n1:4222"}, /* malformed scheme */
    {"", ""},
    {"@", "[redacted]@"},
};

START_TEST(url_userinfo_is_redacted)
{
    char buf[256];
    const char *got = secret_redact_url(url_cases[_i].url, buf, sizeof(buf));
    ck_assert_ptr_eq(got, buf);
    ck_assert_str_eq(got, url_cases[_i].want);
}
END_TEST

START_TEST(url_redaction_truncates_and_never_overruns)
{
    char buf[12];
    memset(buf, 'x', sizeof(buf));
    secret_redact_url("nats://bob:hunter2@n1:4222", buf, sizeof(buf));
    ck_assert_str_eq(buf, "nats://bob:");
    ck_assert_str_eq(secret_redact_url(NULL, buf, sizeof(buf)), "");
}
END_TEST

/* ---- property redaction ---------------------------------------------------------- */

static const struct {
    const char *prop, *want;
} prop_cases[] = {
    {"sasl.password=hunter2", "sasl.password=[redacted]"},
    {"sasl.password: hunter2", "sasl.password: [redacted]"}, /* YAML habit, not key=value */
    {"sasl.password hunter2", "sasl.password [redacted]"},
    {"SSL.KEY.PEM=-----BEGIN", "SSL.KEY.PEM=[redacted]"},
    {"ssl.key.password=x", "ssl.key.password=[redacted]"},
    {"sasl.oauthbearer.config=principal=a secret=b", "sasl.oauthbearer.config=[redacted]"},
    {"sasl.oauthbearer.client.secret=b", "sasl.oauthbearer.client.secret=[redacted]"},
    /* OAUTHBEARER/OIDC: the secret keys are redacted; the method, client id,
     * endpoint and scope are not (written literally, they log no KFK-0003). */
    {"SASL.OAUTHBEARER.CONFIG=x", "SASL.OAUTHBEARER.CONFIG=[redacted]"},
    {"sasl.oauthbearer.extensions=k=v", "sasl.oauthbearer.extensions=[redacted]"},
    {"sasl.oauthbearer.client.credentials.client.secret=b",
     "sasl.oauthbearer.client.credentials.client.secret=[redacted]"},
    {"sasl.oauthbearer.assertion.private.key.passphrase=b",
     "sasl.oauthbearer.assertion.private.key.passphrase=[redacted]"},
    {"sasl.oauthbearer.assertion.private.key.pem=b",
     "sasl.oauthbearer.assertion.private.key.pem=[redacted]"},
    {"sasl.oauthbearer.method=oidc", "sasl.oauthbearer.method=oidc"},
    {"sasl.oauthbearer.client.id=event-router", "sasl.oauthbearer.client.id=event-router"},
    {"sasl.oauthbearer.token.endpoint.url=https://idp.example/token",
     "sasl.oauthbearer.token.endpoint.url=https://idp.example/token"},
    {"sasl.oauthbearer.scope=kafka", "sasl.oauthbearer.scope=kafka"},
    {"sasl.oauthbearer.client.credentials.client.id=er",
     "sasl.oauthbearer.client.credentials.client.id=er"},
    {"sasl.oauthbearer.token.endpoint.url.x=y", "sasl.oauthbearer.token.endpoint.url.x=[redacted]"},
    {"my.token=abc", "my.token=[redacted]"},
    {"sasl.password", "sasl.password[redacted]"},
    {"sasl.username=router", "sasl.username=router"},
    {"linger.ms=5", "linger.ms=5"},
    {"client.id=password-reset", "client.id=password-reset"}, /* only the key decides */
    {"", ""},
};

START_TEST(secret_property_values_are_redacted)
{
    char buf[256];
    ck_assert_str_eq(secret_redact_property(prop_cases[_i].prop, buf, sizeof(buf)),
                     prop_cases[_i].want);
}
END_TEST

START_TEST(scrub_replaces_every_occurrence)
{
    char msg[128] = "bad value 'hunter2' (hunter2 is wrong)";
    secret_scrub(msg, sizeof(msg), "hunter2");
    ck_assert_str_eq(msg, "bad value '[redacted]' ([redacted] is wrong)");
    secret_scrub(msg, sizeof(msg), "");
    secret_scrub(msg, sizeof(msg), NULL);
    ck_assert_str_eq(msg, "bad value '[redacted]' ([redacted] is wrong)");
}
END_TEST

/* ---- resolution ------------------------------------------------------------------ */

START_TEST(env_and_file_resolution)
{
    char err[256], path[128];
    char *s;
    snprintf(path, sizeof(path), "%s/pw", tmpdir);
    unit_write_file(path, "from-file\r\n");
    chmod(path, 0600);
    setenv("ER_T_SECRET", "from-env\n", 1);
    s = secret_from("ER_T_SECRET", path, err, sizeof(err));
    ck_assert_str_eq(s, "from-env");
    secret_free(s);
    unsetenv("ER_T_SECRET");
    s = secret_from("ER_T_SECRET", path, err, sizeof(err));
    ck_assert_str_eq(s, "from-file");
    secret_free(s);
    ck_assert_ptr_null(secret_from("ER_T_SECRET", NULL, err, sizeof(err)));
    ck_assert_str_eq(err, "environment variable ER_T_SECRET is not set");
    ck_assert_ptr_null(secret_from(NULL, NULL, err, sizeof(err)));
    ck_assert_str_eq(err, "");
    secret_free(NULL);
}
END_TEST

START_TEST(unreadable_files_are_errors_naming_the_file)
{
    char err[256], path[128];
    ck_assert_ptr_null(secret_read_file("/nonexistent/pw", err, sizeof(err)));
    ck_assert_str_eq(err, "/nonexistent/pw: cannot open: No such file or directory");
    ck_assert_ptr_null(secret_read_file(tmpdir, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
    snprintf(path, sizeof(path), "%s/nul", tmpdir);
    FILE *fp = fopen(path, "w");
    fwrite("ab\0cd", 1, 5, fp);
    fclose(fp);
    chmod(path, 0600);
    ck_assert_ptr_null(secret_read_file(path, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "NUL byte"));
}
END_TEST

START_TEST(references_resolve_and_errors_never_quote_a_value)
{
    char err[256], path[128], val[256], *out = NULL;
    unsigned refs;
    snprintf(path, sizeof(path), "%s/f", tmpdir);
    unit_write_file(path, "file-part\n");
    chmod(path, 0600);
    setenv("ER_T_A", "env-part", 1);
    snprintf(val, sizeof(val), "x${env:ER_T_A}-${file:%s}-$${lit}", path);
    ck_assert_int_eq(secret_resolve(val, &out, &refs, err, sizeof(err)), 0);
    ck_assert_str_eq(out, "xenv-part-file-part-${lit}");
    ck_assert_uint_eq(refs, 2);
    secret_free(out);

    unsetenv("ER_T_UNSET");
    ck_assert_int_eq(secret_resolve("${env:ER_T_UNSET}", &out, &refs, err, sizeof(err)), -1);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(err, "environment variable ER_T_UNSET is not set (${env:ER_T_UNSET})");
    ck_assert_int_eq(secret_resolve("${file:/nonexistent/x}", &out, &refs, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "${file:/nonexistent/x}: "));
    /* an unterminated reference followed by the secret itself */
    ck_assert_int_eq(secret_resolve("${env:PW hunter2", &out, &refs, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "unterminated reference '${env:PW' (missing '}')");
    ck_assert_int_eq(secret_resolve("${env:}", &out, &refs, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "empty reference"));
}
END_TEST

/* ---- file permissions (SEC-0001) ------------------------------------------------- */

START_TEST(group_or_world_readable_secret_file_warns_once)
{
    char err[256], path[128];
    snprintf(path, sizeof(path), "%s/open-pw", tmpdir);
    unit_write_file(path, "pw\n");
    ck_assert_int_eq(chmod(path, 0644), 0);
    cap_begin();
    char *a = secret_read_file(path, err, sizeof(err));
    char *b = secret_read_file(path, err, sizeof(err)); /* a reconnect reads it again */
    const char *text = cap_end();
    ck_assert_str_eq(a, "pw");
    ck_assert_str_eq(b, "pw");
    secret_free(a);
    secret_free(b);
    ck_assert_int_eq(count(text, "id=SEC-0001"), 1);
    ck_assert_ptr_nonnull(strstr(text, "level=warn"));
    ck_assert_ptr_nonnull(strstr(text, "mode=0644"));
    ck_assert_ptr_nonnull(strstr(text, path));
    ck_assert_ptr_null(strstr(text, "pw\""));
}
END_TEST

START_TEST(owner_only_secret_file_does_not_warn)
{
    char err[256], path[128];
    snprintf(path, sizeof(path), "%s/closed-pw", tmpdir);
    unit_write_file(path, "pw\n");
    ck_assert_int_eq(chmod(path, 0600), 0);
    cap_begin();
    char *a = secret_read_file(path, err, sizeof(err));
    int open_mode = secret_check_file_mode(path);
    const char *text = cap_end();
    secret_free(a);
    ck_assert_int_eq(open_mode, 0);
    ck_assert_msg(strstr(text, "SEC-0001") == NULL, "%s", text);
}
END_TEST

START_TEST(check_file_mode_warns_for_files_a_library_reads)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/client.key", tmpdir);
    unit_write_file(path, "-----BEGIN PRIVATE KEY-----\n");
    ck_assert_int_eq(chmod(path, 0640), 0);
    cap_begin();
    int open_mode = secret_check_file_mode(path);
    const char *text = cap_end();
    ck_assert_int_eq(open_mode, 1);
    ck_assert_int_eq(count(text, "id=SEC-0001"), 1);
    ck_assert_int_eq(secret_check_file_mode("/nonexistent/key"), 0);
}
END_TEST

static Suite *secret_suite(void)
{
    Suite *s = suite_create("secret");
    TCase *tc = tcase_create("redact");
    tcase_add_loop_test(tc, url_userinfo_is_redacted, 0,
                        (int)(sizeof(url_cases) / sizeof(url_cases[0])));
    tcase_add_test(tc, url_redaction_truncates_and_never_overruns);
    tcase_add_loop_test(tc, secret_property_values_are_redacted, 0,
                        (int)(sizeof(prop_cases) / sizeof(prop_cases[0])));
    tcase_add_test(tc, scrub_replaces_every_occurrence);
    suite_add_tcase(s, tc);
    tc = tcase_create("read");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, env_and_file_resolution);
    tcase_add_test(tc, unreadable_files_are_errors_naming_the_file);
    tcase_add_test(tc, references_resolve_and_errors_never_quote_a_value);
    tcase_add_test(tc, group_or_world_readable_secret_file_warns_once);
    tcase_add_test(tc, owner_only_secret_file_does_not_warn);
    tcase_add_test(tc, check_file_mode_warns_for_files_a_library_reads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(secret_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
