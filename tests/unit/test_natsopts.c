/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for natsopts.c: options build for every auth kind without a
 * server, a missing secret is an error that names the setting and never a
 * value, and server lists shown in logs or scrubbed from cnats messages
 * carry no userinfo secret.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "natsopts.h"
#include "unit_tmp.h"

static char tmpdir[64];
static char *servers[] = {"nats://bob:hunter2@n1:4222", "tls://t0ken-s3cr3t@n2:4222",
                          "nats://n3:4222"};

static void setup(void)
{
    unit_tmpdir_make(tmpdir, sizeof(tmpdir), "natsopts");
}

static void teardown(void)
{
    unit_tmpdir_remove(tmpdir);
}

static config_t base(void)
{
    config_t c;
    memset(&c, 0, sizeof(c));
    c.nats.servers = servers;
    c.nats.servers_count = 3;
    c.nats.name = "event-router";
    c.nats.max_reconnects = -1;
    c.nats.reconnect_wait_ms = 500;
    c.nats.reconnect_buffer_bytes = 1 << 20;
    c.nats.ack_timeout_ms = 5000;
    return c;
}

START_TEST(servers_text_redacts_every_userinfo)
{
    config_t c = base();
    char buf[256];
    ck_assert_str_eq(natsopts_servers_text(&c, buf, sizeof(buf)),
                     "nats://bob:[redacted]@n1:4222,tls://[redacted]@n2:4222,nats://n3:4222");
}
END_TEST

START_TEST(scrub_removes_url_secrets_from_client_messages)
{
    config_t c = base();
    char msg[256] = "connect to nats://bob:hunter2@n1:4222 failed; token t0ken-s3cr3t refused";
    natsopts_scrub(&c, msg, sizeof(msg));
    ck_assert_msg(!strstr(msg, "hunter2") && !strstr(msg, "t0ken-s3cr3t"), "%s", msg);
}
END_TEST

START_TEST(password_file_and_token_env_build_options)
{
    config_t c = base();
    natsOptions *o = NULL;
    char err[256], path[128];
    snprintf(path, sizeof(path), "%s/pw", tmpdir);
    unit_write_file(path, "pw\n");
    chmod(path, 0600);
    c.nats.user = "router";
    c.nats.password_file = path;
    ck_assert_msg(natsopts_new(&c, &o, err, sizeof(err)) == 0, "%s", err);
    ck_assert_ptr_nonnull(o);
    natsOptions_Destroy(o);

    c = base();
    c.nats.token_env = "ER_T_NATS_TOKEN";
    setenv("ER_T_NATS_TOKEN", "tok", 1);
    ck_assert_msg(natsopts_new(&c, &o, err, sizeof(err)) == 0, "%s", err);
    natsOptions_Destroy(o);
}
END_TEST

START_TEST(missing_secrets_are_errors_naming_the_setting)
{
    config_t c = base();
    natsOptions *o = (natsOptions *)&c; /* must be reset to NULL */
    char err[256];
    c.nats.token_env = "ER_T_UNSET_TOKEN";
    unsetenv("ER_T_UNSET_TOKEN");
    ck_assert_int_eq(natsopts_new(&c, &o, err, sizeof(err)), -1);
    ck_assert_ptr_null(o);
    ck_assert_ptr_nonnull(strstr(err, "ER_T_UNSET_TOKEN"));

    c = base();
    c.nats.user = "router";
    c.nats.password_file = "/nonexistent/pw";
    ck_assert_int_eq(natsopts_new(&c, &o, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/pw"));

    c = base();
    c.nats.nkey_seed_file = "/nonexistent/seed";
    ck_assert_int_eq(natsopts_new(&c, &o, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "nats.nkey_seed_file"));

    c = base();
    c.nats.tls_ca_file = "/nonexistent/ca.pem";
    ck_assert_int_eq(natsopts_new(&c, &o, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "nats.tls_ca_file"));
    ck_assert_msg(!strstr(err, "hunter2") && !strstr(err, "t0ken-s3cr3t"), "%s", err);
}
END_TEST

START_TEST(js_options_take_domain_prefix_and_wait)
{
    config_t c = base();
    jsOptions jo;
    c.nats.domain = "hub";
    c.nats.api_prefix = "$JS.X.API";
    natsopts_js(&c, &jo);
    ck_assert_str_eq(jo.Domain, "hub");
    ck_assert_str_eq(jo.Prefix, "$JS.X.API");
    ck_assert_int_eq(jo.Wait, 5000);
}
END_TEST

static Suite *natsopts_suite(void)
{
    Suite *s = suite_create("natsopts");
    TCase *tc = tcase_create("build");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, servers_text_redacts_every_userinfo);
    tcase_add_test(tc, scrub_removes_url_secrets_from_client_messages);
    tcase_add_test(tc, password_file_and_token_env_build_options);
    tcase_add_test(tc, missing_secrets_are_errors_naming_the_setting);
    tcase_add_test(tc, js_options_take_domain_prefix_and_wait);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(natsopts_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nats_Close();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
