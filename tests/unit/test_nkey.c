/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for nkey.c: the public key derived from a user seed equals the
 * one the NATS tooling (nkeys v0.4.16, via deploy/local/natsauth) printed
 * for it, and seeds that are not user seeds are refused without echoing
 * them. The seeds below are throwaway test keys, used nowhere else.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nkey.h"

static const struct {
    const char *seed, *pub;
} good[] = {
    {"SUAL46NCQWWY7V3QJIABYSWKGMKRUHBMRRR7JBCY6VXXPUY7WXSWF3WVUU",
     "UCBFHAGXRX3NTKOJ6MJPFSEOS6JLC27LC3KYBK7PGATMM7QZU2ZHN2KV"},
    {"  SUAL46NCQWWY7V3QJIABYSWKGMKRUHBMRRR7JBCY6VXXPUY7WXSWF3WVUU\n",
     "UCBFHAGXRX3NTKOJ6MJPFSEOS6JLC27LC3KYBK7PGATMM7QZU2ZHN2KV"},
};

START_TEST(user_seed_gives_the_public_key_nats_tooling_printed)
{
    char pub[NKEY_PUBLIC_LEN + 1], err[256] = "";
    ck_assert_msg(nkey_public_from_seed(good[_i].seed, pub, sizeof(pub), err, sizeof(err)) == 0,
                  "%s", err);
    ck_assert_str_eq(pub, good[_i].pub);
}
END_TEST

static const struct {
    const char *seed, *want;
} bad[] = {
    /* one character changed: the checksum catches it */
    {"SUAL46NCQWWY7V3QJIABYSWKGMKRUHBMRRR7JBCY6VXXPUY7WXSWF3WVUA", "checksum mismatch"},
    {"SUAL46NCQWWY7V3QJIABYSWKGMKRUHBMRRR7", "not an nkey seed"},
    {"UCBFHAGXRX3NTKOJ6MJPFSEOS6JLC27LC3KYBK7PGATMM7QZU2ZHN2KV", "not an nkey seed"},
    {"", "not an nkey seed"},
    {"-----BEGIN NATS USER JWT-----", "not an nkey seed"},
};

START_TEST(non_user_seeds_are_refused_without_echoing_them)
{
    char pub[NKEY_PUBLIC_LEN + 1], err[256] = "";
    ck_assert_int_eq(nkey_public_from_seed(bad[_i].seed, pub, sizeof(pub), err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, bad[_i].want) != NULL, "%s", err);
    if (strlen(bad[_i].seed) > 8)
        ck_assert_msg(strstr(err, bad[_i].seed + 4) == NULL, "seed echoed: %s", err);
}
END_TEST

START_TEST(account_seed_is_not_a_user_seed)
{
    /* An account seed ("SA..."): a valid nkey, the wrong kind. Built from the
     * user seed's raw bytes with the account prefix and a fresh checksum. */
    char pub[NKEY_PUBLIC_LEN + 1], err[256] = "";
    ck_assert_int_eq(
        nkey_public_from_seed("SAAL46NCQWWY7V3QJIABYSWKGMKRUHBMRRR7JBCY6VXXPUY7WXSWF3RGNE", pub,
                              sizeof(pub), err, sizeof(err)),
        -1);
    ck_assert_msg(strstr(err, "not a user nkey seed (it starts with 'SA'") != NULL, "%s", err);
}
END_TEST

START_TEST(seed_file_is_read_and_a_missing_one_named)
{
    char dir[] = "/tmp/er-nkey-XXXXXX", path[64], pub[NKEY_PUBLIC_LEN + 1], err[256] = "";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/router.nk", dir);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "%s\n", good[0].seed);
    fclose(fp);
    ck_assert_msg(nkey_public_from_seed_file(path, pub, sizeof(pub), err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_str_eq(pub, good[0].pub);
    unlink(path);
    ck_assert_int_eq(nkey_public_from_seed_file(path, pub, sizeof(pub), err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, path) && strstr(err, "cannot open"), "%s", err);
    rmdir(dir);
}
END_TEST

static Suite *nkey_suite(void)
{
    Suite *s = suite_create("nkey");
    TCase *tc = tcase_create("derive");
    tcase_add_loop_test(tc, user_seed_gives_the_public_key_nats_tooling_printed, 0,
                        sizeof(good) / sizeof(good[0]));
    tcase_add_loop_test(tc, non_user_seeds_are_refused_without_echoing_them, 0,
                        sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, account_seed_is_not_a_user_seed);
    tcase_add_test(tc, seed_file_is_read_and_a_missing_one_named);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(nkey_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
